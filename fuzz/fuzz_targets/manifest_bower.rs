#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| regis::testing::fuzz::manifest_bower(data));
