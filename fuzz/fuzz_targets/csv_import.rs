//! Fuzz target `csv_import`: see `fieldsync_tests::fuzzing::csv_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fieldsync_tests::fuzzing::csv_import(data));
