#![allow(clippy::unwrap_used, missing_docs)]
use std::io::Cursor;
use std::time::Instant;
fn main() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let image = image::RgbImage::from_fn(4000, 3000, |x, y| {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        let noise = (state & 0x1f) as u32;
        let shelf = if (y / 150) % 2 == 0 { 60 } else { 0 };
        let product = if (x / 90 + y / 150) % 3 == 0 { 90 } else { 20 };
        let px = |base: u32| (base + noise).min(255) as u8;
        image::Rgb([px(x * 200 / 4000 + shelf), px(y * 180 / 3000 + product), px(((x + y) / 40) % 120 + 30)])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&image).unwrap();
    let img = image::ImageReader::with_format(Cursor::new(&jpeg), image::ImageFormat::Jpeg).decode().unwrap().to_rgb8();
    let (mut a, mut b, mut c) = (vec![], vec![], vec![]);
    for _ in 0..15 {
        let t = Instant::now(); std::hint::black_box(fieldsync_core::photo::tmp_reduce_a(&img)); a.push(t.elapsed());
        let t = Instant::now(); std::hint::black_box(fieldsync_core::photo::tmp_reduce_b(&img)); b.push(t.elapsed());
        let copy = img.clone();
        let t = Instant::now(); std::hint::black_box(fieldsync_core::photo::tmp_reduce_c(copy)); c.push(t.elapsed());
    }
    a.sort(); b.sort(); c.sort();
    println!("min a {:?} b(with clone) {:?} c {:?}", a[0], b[0], c[0]);
}
