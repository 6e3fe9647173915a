//! Every seed and every past crash of the fuzz targets (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) runs through the same function the fuzzer runs
//! (`fieldsync_tests::fuzzing`), on stable, in every test run. A panic here is a bug that the
//! fuzzer found once, back again.

#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

use fieldsync_tests::fuzzing::{TARGETS, Target, seeds};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<folder>/<target>/`, sorted (none when the folder does not exist).
fn files(folder: &str, target: &Target) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(folder).join(target.name);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.expect("directory entry").path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn replay(folder: &str) -> usize {
    let mut count = 0;
    for target in TARGETS {
        for path in files(folder, target) {
            let bytes = std::fs::read(&path).expect("read a corpus file");
            eprintln!("{}: {} ({} bytes)", target.name, path.display(), bytes.len());
            (target.run)(&bytes);
            count += 1;
        }
    }
    count
}

#[test]
fn every_seed_of_every_fuzz_target_runs_without_a_panic() {
    let count = replay("corpus");
    for target in TARGETS {
        assert!(!files("corpus", target).is_empty(), "fuzz/corpus/{} has seeds", target.name);
    }
    assert!(count >= 4 * 5, "only {count} seeds");
}

#[test]
fn every_past_crash_of_every_fuzz_target_runs_without_a_panic() {
    replay("regressions");
}

#[test]
fn the_checked_in_seeds_are_what_the_encoders_make_now() {
    for target in TARGETS {
        for (name, bytes) in seeds::seeds(target.name) {
            let path = fuzz_dir().join("corpus").join(target.name).join(name);
            let stored = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            assert!(
                stored == bytes,
                "{} differs from what the encoders make: run `cargo run -p fieldsync-tests --bin fuzz_seeds`",
                path.display()
            );
        }
    }
}
