#![no_main]

use regis::testing::fuzz;

// regis catches serde_dhall's panics (an evaluator failure, not a crash): see
// `fuzz::allow_caught_panics`.
libfuzzer_sys::fuzz_target!(init: fuzz::allow_caught_panics(), |data: &[u8]| {
    fuzz::abort_on_escaping_panic(fuzz::manifest_dhall, data)
});
