#![no_main]

use regis::testing::fuzz;

// regis catches node-semver's panics (a refused range, not a crash): see
// `fuzz::allow_caught_panics`.
libfuzzer_sys::fuzz_target!(init: fuzz::allow_caught_panics(), |data: &[u8]| {
    fuzz::abort_on_escaping_panic(fuzz::schema, data)
});
