//! What the core benchmarks share (each bench target uses some of it).
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// A 4000x3000 JPEG with photo-like content: gradients, edges and noise, so that neither the
/// decoder nor the encoder gets an easy flat image.
pub fn twelve_megapixel_jpeg() -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let image = image::RgbImage::from_fn(4000, 3000, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state & 0x1f) as u32;
        let shelf = if (y / 150) % 2 == 0 { 60 } else { 0 };
        let product = if (x / 90 + y / 150) % 3 == 0 { 90 } else { 20 };
        let px = |base: u32| (base + noise).min(255) as u8;
        image::Rgb([px(x * 200 / 4000 + shelf), px(y * 180 / 3000 + product), px(((x + y) / 40) % 120 + 30)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&image).expect("encode");
    out
}

/// `runs` timings of `op` after one warm-up run, sorted.
pub fn measure(runs: usize, mut op: impl FnMut()) -> Vec<Duration> {
    op(); // warm-up
    let mut times: Vec<Duration> = (0..runs).map(|_| time(&mut op)).collect();
    times.sort();
    times
}

/// How long one run of `op` took.
pub fn time(op: impl FnOnce()) -> Duration {
    let start = Instant::now();
    op();
    start.elapsed()
}

/// The median of `times` (sorts them).
pub fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}
