//! Scoring benchmark: `cargo bench -p fieldsync-core --bench scoring`.
//!
//! Scores a 12 MP JPEG (decode under limits, luma reduction, sharpness/exposure/contrast,
//! perceptual hash, the 0–100 quality score and the evidence checks) beside a plain decode of
//! the same file in the same run; the target is scoring <= 1.3x the decode. Then photos scored
//! per second with one thread per core. Figures, not assertions: the machines are shared.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::io::Cursor;
use std::time::{Duration, Instant};

use support::{median, time};

use fieldsync_core::doc::GeoFix;
use fieldsync_core::photo::{self, PhotoLimits};
use fieldsync_core::scoring::{self, EarlierPhoto, Location, TrustThresholds, evidence};

fn main() {
    let jpeg = support::twelve_megapixel_jpeg();
    let stored = photo::ingest(&jpeg, &PhotoLimits::default()).unwrap().jpeg;
    let earlier = earlier_photos(10_000);
    println!("12 MP JPEG: {} KB; stored 1600 px copy: {} KB", jpeg.len() / 1024, stored.len() / 1024);

    for (what, bytes, runs) in [("12 MP JPEG", &jpeg, 21), ("stored 1600 px JPEG", &stored, 61)] {
        // Interleaved, so both see the same machine state.
        let mut decode = Vec::new();
        let mut score = Vec::new();
        for _ in 0..runs {
            decode.push(time(|| plain_decode(bytes)));
            score.push(time(|| score_one(bytes, &earlier)));
        }
        let (d, s) = (median(&mut decode), median(&mut score));
        report(&format!("{what}: plain decode"), d, "");
        report(&format!("{what}: full scoring"), s, "");
        println!(
            "{:<58} {:>6.2}x   target <= 1.30x",
            format!("{what}: scoring / decode"),
            s.as_secs_f64() / d.as_secs_f64()
        );
    }

    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    for (what, bytes, per_thread) in [("12 MP JPEG", &jpeg, 12), ("stored 1600 px JPEG", &stored, 60)] {
        let start = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..cores {
                scope.spawn(|| {
                    for _ in 0..per_thread {
                        score_one(bytes, &earlier);
                    }
                });
            }
        });
        let rate = (cores * per_thread) as f64 / start.elapsed().as_secs_f64();
        println!("{:<58} {rate:>8.1} photos/s on {cores} threads", format!("{what}: throughput"));
    }
}

fn plain_decode(bytes: &[u8]) {
    let image = image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Jpeg).decode().unwrap();
    std::hint::black_box(image);
}

/// What the relay does per photo: analyse the pixels, score quality, check evidence against the
/// tenant's earlier photos.
fn score_one(bytes: &[u8], earlier: &[EarlierPhoto]) {
    let analysis = photo::analyze(bytes, &PhotoLimits::default()).unwrap();
    let quality = scoring::score_photo(&analysis.metrics);
    let t = TrustThresholds::default();
    let store = Location { latitude: 52.37, longitude: 4.89 };
    let fix = GeoFix { latitude: 52.3701, longitude: 4.89, accuracy_m: 8.0 };
    let window = evidence::check_capture_time(1_000, 0, Some(2_000), &t);
    let place = evidence::check_position(Some(fix), store, &t);
    let reuse = evidence::check_reuse(
        "sha",
        Some(&analysis.phash),
        &analysis.transformed_phashes,
        "today",
        "store",
        earlier,
        &t,
    );
    std::hint::black_box((quality, window, place, reuse));
}

/// `n` recorded photos of other visits with pseudo-random hashes.
fn earlier_photos(n: usize) -> Vec<EarlierPhoto> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            EarlierPhoto {
                sha256: format!("{i:064x}"),
                phash: format!("{state:016x}"),
                inspection_id: format!("visit-{}", i / 6),
                store_id: format!("store-{}", i % 60),
                captured_at: 1_700_000_000_000 + i as i64,
            }
        })
        .collect()
}

fn report(what: &str, median: Duration, note: &str) {
    println!("{what:<58} median {:>9.2} ms {note}", median.as_secs_f64() * 1e3);
}
