//! Writes the seed corpora of the fuzz targets (`fuzz/corpus/<target>/`), made with the real
//! encoders by `fieldsync_tests::fuzzing::seeds`. Run after changing an encoder or the fuzz
//! relay: `cargo run -p fieldsync-tests --bin fuzz_seeds`.

use std::path::Path;

use fieldsync_tests::fuzzing::{TARGETS, seeds};

fn main() -> std::io::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for target in TARGETS {
        let dir = corpus.join(target.name);
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in seeds::seeds(target.name) {
            std::fs::write(dir.join(name), &bytes)?;
            println!("{}/{name}: {} bytes", target.name, bytes.len());
        }
    }
    Ok(())
}
