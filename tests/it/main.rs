//! The integration tests, one binary (`cargo test --test it`) with a module per area. Each
//! drives regis through its public API or the `regis` binary and asserts the output and
//! the side effects. The helpers they share with the unit tests and the benches are in
//! `regis::testing`; their insta snapshots are in `snapshots/`, the Dhall inputs they read
//! in `tests/dhall/`.

mod alias;
mod architecture;
mod atoms;
mod authenticated;
mod bounds;
mod browser;
mod check;
mod cli;
mod concurrency;
mod crash;
mod formats;
mod fuzz_regressions;
mod gc;
mod github;
mod hooks;
mod hostile;
mod issue;
mod json;
mod keys;
mod locations;
mod mirrors;
mod object_storage;
mod owners;
mod package_set;
mod pending;
mod process_issue;
mod publish;
mod refusals;
mod replays;
mod sandbox;
mod server;
mod server_alias;
mod server_load;
mod server_real;
mod sign;
mod site;
mod site_client;
mod solve;
mod sources;
mod templates;
mod transferrer;
mod tuf;
mod tuf_fixture;
mod tuf_refusals;
mod untrusted_output;
mod yank;
