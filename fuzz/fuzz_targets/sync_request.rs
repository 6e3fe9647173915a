//! Fuzz target `sync_request`: see `fieldsync_tests::fuzzing::sync_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fieldsync_tests::fuzzing::sync_request(data));
