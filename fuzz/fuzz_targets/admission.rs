//! Fuzz target `admission`: see `fieldsync_tests::fuzzing::admission`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fieldsync_tests::fuzzing::admission(data));
