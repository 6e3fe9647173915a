//! Fuzz target `photo`: see `fieldsync_tests::fuzzing::photo`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fieldsync_tests::fuzzing::photo(data));
