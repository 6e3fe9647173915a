//! Photo ingest cost: `cargo bench -p fieldsync-core --bench ingest`.
//!
//! 1. `add_photo` of a 12 MP JPEG on a phone store (vet, decode, orient, downscale, encode, the
//!    quality and hash analysis of the stored JPEG, the SQLite write) beside a plain decode of the
//!    same file, interleaved in the same run; target <= 2x the decode. The same bytes added again
//!    (returned at once) are timed too.
//! 2. Peak resident memory while ingesting a 50 MP JPEG: the process's `VmHWM` from
//!    `/proc/self/status`, reset just before (`/proc/self/clear_refs`) when the kernel allows,
//!    minus the resident size then.
//!
//! Relay scoring throughput is `--bench scoring`. Figures, not assertions: machines are shared.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::io::Cursor;
use std::time::{Duration, Instant};

use support::{median, time};

use fieldsync_core::local_store::{CheckIn, PhotoCapture};
use fieldsync_core::photo::{self, PhotoLimits};

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let f = common::fixture_at(&dir.path().join("bench.db"), common::SUPERVISOR, fieldsync_core::Role::Supervisor);
    let shop = common::shop("Bench Market");
    let here = fieldsync_core::doc::GeoFix { latitude: shop.latitude, longitude: shop.longitude, accuracy_m: 5.0 };
    let now = fieldsync_core::clock::now_ms();
    let id = f
        .store
        .check_in(CheckIn {
            store_id: f.shop_id.to_string(),
            template_id: f.template_id.to_string(),
            at: now,
            position: here,
        })
        .unwrap();

    let jpeg = support::twelve_megapixel_jpeg();
    println!("12 MP JPEG: {} KB", jpeg.len() / 1024);
    let runs = 15;
    let (mut decode, mut add, mut again) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=runs {
        // A different file each run (a comment segment naming the run after SOI), so each
        // add_photo does the whole work instead of finding the photo already there.
        let comment = format!("run {run}");
        let mut bytes = jpeg[..2].to_vec();
        bytes.extend_from_slice(&[0xFF, 0xFE]);
        bytes.extend_from_slice(&u16::try_from(comment.len() + 2).unwrap().to_be_bytes());
        bytes.extend_from_slice(comment.as_bytes());
        bytes.extend_from_slice(&jpeg[2..]);
        let d = time(|| {
            let image = image::ImageReader::with_format(Cursor::new(&bytes), image::ImageFormat::Jpeg).decode();
            std::hint::black_box(image.unwrap());
        });
        let capture = PhotoCapture { captured_at: now + 1000, position: Some(here) };
        let a = time(|| {
            std::hint::black_box(f.store.add_photo(&id, "facings", &bytes, capture).unwrap());
        });
        let b = time(|| {
            std::hint::black_box(f.store.add_photo(&id, "facings", &bytes, capture).unwrap());
        });
        if run > 0 {
            // The first run warms caches up.
            decode.push(d);
            add.push(a);
            again.push(b);
        }
    }
    let (d, a, b) = (median(&mut decode), median(&mut add), median(&mut again));
    report("12 MP JPEG: plain decode", d);
    report("12 MP JPEG: add_photo (ingest + analysis + SQLite write)", a);
    println!("{:<62} {:>8.2}x   target <= 2.00x", "add_photo / plain decode", a.as_secs_f64() / d.as_secs_f64());
    report("12 MP JPEG: add_photo of the same bytes again", b);

    drop(f);
    let big = fifty_megapixel_jpeg();
    let reset = reset_peak_memory();
    let before = memory_kib("VmRSS:").unwrap_or(0);
    let started = Instant::now();
    let ingested = photo::ingest(&big, &PhotoLimits::default()).unwrap();
    let took = started.elapsed();
    let peak = memory_kib("VmHWM:").unwrap_or(0);
    println!(
        "50 MP JPEG ({} KB, 8160x6120): ingest {:.0} ms; peak resident {:.1} MiB, {:.1} MiB above the {:.1} MiB \
         before{} (decoded RGB alone is {:.1} MiB)",
        big.len() / 1024,
        took.as_secs_f64() * 1e3,
        peak as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / 1024.0,
        before as f64 / 1024.0,
        if reset { "" } else { "; the kernel refused to reset the peak, so it may be an earlier one" },
        8160.0 * 6120.0 * 3.0 / 1024.0 / 1024.0
    );
    std::hint::black_box(ingested);
}

/// A `/proc/self/status` figure (`VmRSS:`, `VmHWM:`), in KiB.
fn memory_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets `VmHWM` to the current resident size; whether the kernel allowed it.
fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn fifty_megapixel_jpeg() -> Vec<u8> {
    let image = image::RgbImage::from_fn(8160, 6120, |x, y| {
        let shelf = if (y / 300) % 2 == 0 { 60 } else { 0 };
        let product = if (x / 180 + y / 300) % 3 == 0 { 90 } else { 20 };
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 32;
        image::Rgb([
            (x * 200 / 8160 + shelf + noise).min(255) as u8,
            (y * 180 / 6120 + product + noise).min(255) as u8,
            (((x + y) / 80) % 120 + 30 + noise) as u8,
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&image).unwrap();
    out
}

fn report(what: &str, d: Duration) {
    println!("{what:<62} median {:>9.1} ms", d.as_secs_f64() * 1e3);
}
