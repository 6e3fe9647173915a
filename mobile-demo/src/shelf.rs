//! Procedural shelf photos: what a supervisor photographs in a store audit.
//!
//! A photo is a gondola of shelves seen slightly off-axis: rows of packs in product colours with
//! label stripes, small price tags on the shelf edges, a drinks cooler with a glass door at one
//! side, the wall above and the floor below, uneven light and sensor noise. Everything comes from
//! the seed, so a seed always gives the same picture, and two seeds give different layouts
//! (shelf count, cooler side and width, products, light), not only different noise: the relay's
//! reuse check compares perceptual hashes, and different photos must not look alike to it.

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

/// Width of a generated photo, pixels (a 1.2 MP phone photo).
pub const WIDTH: u32 = 1280;
/// Height of a generated photo, pixels.
pub const HEIGHT: u32 = 960;
/// JPEG quality of a generated photo.
pub const JPEG_QUALITY: u8 = 85;

/// What the shelves show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stock {
    /// Every facing is filled.
    Full,
    /// One row has an empty gap behind its price tag (the "not fully stocked" case).
    Gap,
}

/// Product colours: pack body and label stripe.
const PRODUCTS: [([u8; 3], [u8; 3]); 14] = [
    ([200, 30, 40], [250, 240, 220]),
    ([20, 70, 160], [240, 240, 245]),
    ([245, 190, 20], [120, 40, 20]),
    ([30, 130, 60], [245, 230, 120]),
    ([240, 120, 20], [255, 255, 255]),
    ([120, 30, 110], [230, 200, 60]),
    ([240, 240, 235], [30, 90, 170]),
    ([40, 40, 45], [220, 170, 40]),
    ([110, 190, 220], [20, 50, 110]),
    ([160, 90, 40], [250, 230, 190]),
    ([230, 90, 150], [255, 255, 255]),
    ([90, 160, 40], [40, 40, 40]),
    ([250, 220, 170], [190, 30, 30]),
    ([60, 60, 150], [250, 200, 30]),
];

/// A small deterministic generator (SplitMix64): the demo needs repeatable pictures, not
/// cryptographic randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `low..high`.
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low).max(1) as u64) as i64
    }

    /// A number in `low..high`.
    fn float(&mut self, low: f64, high: f64) -> f64 {
        low + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (high - low)
    }
}

/// A flat (unwarped) picture being painted.
struct Canvas {
    image: RgbImage,
}

impl Canvas {
    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, colour: [u8; 3]) {
        let (w, h) = (i64::from(self.image.width()), i64::from(self.image.height()));
        for y in y0.clamp(0, h)..y1.clamp(0, h) {
            for x in x0.clamp(0, w)..x1.clamp(0, w) {
                self.image.put_pixel(x as u32, y as u32, Rgb(colour));
            }
        }
    }
}

fn shade(colour: [u8; 3], factor: f64) -> [u8; 3] {
    colour.map(|c| (f64::from(c) * factor).clamp(0.0, 255.0) as u8)
}

/// The JPEG of the shelf photo for `seed` (see the module docs).
pub fn shelf_photo(seed: u64, stock: Stock) -> Vec<u8> {
    encode(&shelf_image(seed, stock))
}

/// The shelf photo for `seed` taken with a shaking hand: smeared by camera motion, too blurry
/// to count as evidence.
pub fn shaky_shelf_photo(seed: u64) -> Vec<u8> {
    let sharp = shelf_image(seed, Stock::Full);
    encode(&image::imageops::fast_blur(&sharp, 9.0))
}

fn encode(image: &RgbImage) -> Vec<u8> {
    let mut jpeg = Vec::new();
    // Encoding into memory fails only on an invalid image, which the painter never makes.
    if JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY).encode_image(image).is_err() {
        jpeg.clear();
    }
    jpeg
}

/// The pixels of the shelf photo for `seed`.
pub fn shelf_image(seed: u64, stock: Stock) -> RgbImage {
    let mut rng = Rng(seed ^ 0x5EED_5E1F_0000_0000);
    let (w, h) = (i64::from(WIDTH), i64::from(HEIGHT));
    let mut canvas = Canvas { image: RgbImage::new(WIDTH, HEIGHT) };

    // The wall and the floor; where the gondola stands in the frame varies with the framing.
    let wall = [rng.range(150, 235) as u8, rng.range(150, 230) as u8, rng.range(140, 225) as u8];
    let floor = shade([rng.range(120, 190) as u8, rng.range(115, 180) as u8, rng.range(100, 170) as u8], 0.9);
    let top = rng.range(20, 200);
    let bottom = h - rng.range(40, 200);
    canvas.rect(0, 0, w, bottom, wall);
    canvas.rect(0, bottom, w, h, floor);

    // The cooler stands left or right of the shelves, or is only partly in the frame.
    let cooler_width = rng.range(220, 480);
    // Consecutive seeds (the photos of one visit) put the cooler and the light on opposite
    // sides, so that their pictures differ in layout, not only in detail.
    let cooler_left = seed.is_multiple_of(2);
    let (cooler_x0, shelves_x0, shelves_x1) = if cooler_left {
        (rng.range(-120, 40), 0, w)
    } else {
        let x0 = w - cooler_width + rng.range(-40, 120);
        (x0, 0, w)
    };
    let cooler_x1 = cooler_x0 + cooler_width;
    let (shelves_x0, shelves_x1) =
        if cooler_left { (cooler_x1 + 12, shelves_x1) } else { (shelves_x0, cooler_x0 - 12) };

    // The gondola: a back panel, shelf boards, packs.
    let back = shade([rng.range(60, 140) as u8, rng.range(60, 140) as u8, rng.range(60, 140) as u8], 0.6);
    canvas.rect(shelves_x0, top, shelves_x1, bottom, back);
    let rows = rng.range(3, 6);
    let row_height = (bottom - top) / rows;
    let mut palette: Vec<usize> = (0..PRODUCTS.len()).collect();
    for i in (1..palette.len()).rev() {
        palette.swap(i, rng.range(0, i as i64 + 1) as usize);
    }
    let products = &palette[..rng.range(4, 8) as usize];
    let gap_row = rng.range(0, rows);
    for row in 0..rows {
        let board_y = top + (row + 1) * row_height - 22;
        let floor_y = board_y;
        let mut x = shelves_x0 + rng.range(0, 20);
        let gap = (stock == Stock::Gap && row == gap_row).then(|| {
            let start = shelves_x0 + rng.range(60, ((shelves_x1 - shelves_x0) / 2).max(61));
            (start, start + rng.range(180, 320))
        });
        while x < shelves_x1 {
            let (body, label) = PRODUCTS[products[rng.range(0, products.len() as i64) as usize]];
            let pack_width = rng.range(38, 95);
            let pack_height = row_height * rng.range(55, 88) / 100;
            let facings = rng.range(2, 6);
            let tag_x = x + 6;
            for _ in 0..facings {
                if x >= shelves_x1 {
                    break;
                }
                let empty = gap.is_some_and(|(g0, g1)| x + pack_width > g0 && x < g1);
                if !empty {
                    paint_pack(&mut canvas, x, floor_y - pack_height, pack_width, pack_height, body, label, &mut rng);
                }
                x += pack_width + rng.range(2, 7);
            }
            // The price tag on the shelf edge under the product's first facing.
            paint_board_tag(&mut canvas, tag_x, board_y, rng.next().is_multiple_of(4));
            x += rng.range(4, 16);
        }
        let board = shade([235, 235, 230], rng.float(0.8, 1.0));
        canvas.rect(shelves_x0, board_y, shelves_x1, board_y + 22, board);
        canvas.rect(shelves_x0, board_y + 18, shelves_x1, board_y + 22, shade(board, 0.55));
        // Tags were painted before the board: paint them again on top.
        let mut tag_rng = Rng(seed.wrapping_add(row as u64));
        let mut tx = shelves_x0 + 10;
        while tx < shelves_x1 - 40 {
            paint_board_tag(&mut canvas, tx, board_y, tag_rng.next().is_multiple_of(5));
            tx += tag_rng.range(120, 260);
        }
    }
    paint_cooler(&mut canvas, cooler_x0, top.min(rng.range(10, 80)), cooler_x1, bottom + 10, &mut rng);

    warp_light_and_noise(&canvas.image, seed, &mut rng)
}

#[allow(clippy::too_many_arguments)]
fn paint_pack(
    canvas: &mut Canvas,
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    body: [u8; 3],
    label: [u8; 3],
    rng: &mut Rng,
) {
    canvas.rect(x, y, x + width, y + height, body);
    // Rounded light on a pack: darker edges, a highlight.
    canvas.rect(x, y, x + 4, y + height, shade(body, 0.7));
    canvas.rect(x + width - 4, y, x + width, y + height, shade(body, 0.6));
    canvas.rect(x + width / 3, y + 4, x + width / 3 + 3, y + height - 4, shade(body, 1.25));
    let stripe = y + height * rng.range(25, 55) / 100;
    canvas.rect(x + 4, stripe, x + width - 4, stripe + height / 6, label);
    // The brand mark and the small print.
    canvas.rect(x + width / 4, y + height / 10, x + width * 3 / 4, y + height / 10 + 8, shade(label, 0.8));
    for line in 0..3 {
        let ly = stripe + height / 6 + 10 + line * 7;
        canvas.rect(x + 8, ly, x + width - 8 - line * 5, ly + 3, shade(body, 0.5));
    }
}

fn paint_board_tag(canvas: &mut Canvas, x: i64, board_y: i64, promotion: bool) {
    let paper = if promotion { [250, 215, 40] } else { [250, 250, 245] };
    canvas.rect(x, board_y + 2, x + 46, board_y + 18, paper);
    // The price, as bold digits, and a bar code.
    canvas.rect(x + 4, board_y + 5, x + 26, board_y + 13, [25, 25, 30]);
    for bar in 0..6 {
        canvas.rect(x + 30 + bar * 2, board_y + 5, x + 31 + bar * 2, board_y + 15, [40, 40, 40]);
    }
}

fn paint_cooler(canvas: &mut Canvas, x0: i64, y0: i64, x1: i64, y1: i64, rng: &mut Rng) {
    let frame = shade([rng.range(30, 200) as u8, rng.range(30, 60) as u8, rng.range(30, 60) as u8], 1.0);
    canvas.rect(x0, y0, x1, y1, frame);
    // The lit header with the brand.
    canvas.rect(x0 + 10, y0 + 8, x1 - 10, y0 + 60, [245, 245, 250]);
    canvas.rect(x0 + 40, y0 + 20, x1 - 40, y0 + 48, shade(frame, 1.3));
    let (gx0, gy0, gx1, gy1) = (x0 + 18, y0 + 72, x1 - 18, y1 - 30);
    canvas.rect(gx0, gy0, gx1, gy1, [185, 215, 230]);
    let rows = rng.range(4, 6);
    let row_height = (gy1 - gy0) / rows;
    for row in 0..rows {
        let base = gy0 + (row + 1) * row_height - 8;
        canvas.rect(gx0, base, gx1, base + 8, [150, 160, 170]);
        let (body, cap) = PRODUCTS[rng.range(0, PRODUCTS.len() as i64) as usize];
        let bottle_width = rng.range(22, 36);
        let mut x = gx0 + 6;
        while x + bottle_width < gx1 {
            let height = row_height * 8 / 10;
            canvas.rect(x, base - height, x + bottle_width, base, body);
            canvas.rect(x + bottle_width / 3, base - height - 10, x + bottle_width * 2 / 3, base - height, cap);
            canvas.rect(x + 3, base - height * 6 / 10, x + bottle_width - 3, base - height * 4 / 10, cap);
            x += bottle_width + rng.range(3, 8);
        }
    }
    // The door handle.
    let handle_x = if rng.next().is_multiple_of(2) { gx0 + 12 } else { gx1 - 22 };
    canvas.rect(handle_x, gy0 + 120, handle_x + 10, gy1 - 120, [200, 200, 205]);
}

/// Views the flat picture through a slightly turned phone (keystone and tilt), lights it
/// unevenly and adds sensor noise.
fn warp_light_and_noise(flat: &RgbImage, seed: u64, rng: &mut Rng) -> RgbImage {
    let (w, h) = (f64::from(WIDTH), f64::from(HEIGHT));
    let keystone = rng.float(-0.08, 0.08);
    let tilt = rng.float(-0.03, 0.03);
    let zoom = rng.float(0.92, 0.98);
    let light_x = rng.float(0.15, 0.45) * if (seed / 2).is_multiple_of(2) { 1.0 } else { -1.0 };
    let light_y = rng.float(-0.25, 0.25);
    let brightness = rng.float(0.9, 1.1);
    let mut noise = Rng(rng.next());
    let mut out = RgbImage::new(WIDTH, HEIGHT);
    let (cx, cy) = (w / 2.0, h / 2.0);
    for (x, y, pixel) in out.enumerate_pixels_mut() {
        let (dx, dy) = (f64::from(x) - cx, f64::from(y) - cy);
        // Farther side of the shelf looks shorter: scale rows by the horizontal position.
        let scale = zoom * (1.0 + keystone * dx / w);
        let sx = cx + (dx + tilt * dy) / zoom;
        let sy = cy + (dy - tilt * dx) / scale;
        let light = brightness
            * (1.0 + light_x * dx / w + light_y * dy / h)
            * (1.0 - 0.25 * (dx * dx + dy * dy) / (cx * cx + cy * cy));
        let sample = bilinear(flat, sx, sy);
        let grain = (noise.next() % 13) as f64 - 6.0;
        *pixel = Rgb(sample.map(|c| (c * light + grain).clamp(0.0, 255.0) as u8));
    }
    out
}

fn bilinear(image: &RgbImage, x: f64, y: f64) -> [f64; 3] {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let (x, y) = (x.clamp(0.0, (w - 1) as f64), y.clamp(0.0, (h - 1) as f64));
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let at = |px: i64, py: i64| image.get_pixel(px as u32, py as u32).0.map(f64::from);
    let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
    std::array::from_fn(|i| (a[i] * (1.0 - fx) + b[i] * fx) * (1.0 - fy) + (c[i] * (1.0 - fx) + d[i] * fx) * fy)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use fieldsync_core::photo::{self, PhotoLimits, phash_distance};

    fn ingest(seed: u64, stock: Stock) -> photo::IngestedPhoto {
        photo::ingest(&shelf_photo(seed, stock), &PhotoLimits::default()).unwrap()
    }

    #[test]
    fn a_seed_always_gives_the_same_photo() {
        assert_eq!(shelf_photo(7, Stock::Full), shelf_photo(7, Stock::Full));
        assert_ne!(shelf_photo(7, Stock::Full), shelf_photo(7, Stock::Gap));
    }

    #[test]
    fn a_shaky_photo_is_too_blurry_for_the_quality_check() {
        let shaky = photo::ingest(&shaky_shelf_photo(7), &PhotoLimits::default()).unwrap();
        assert!(shaky.quality.problems.contains(&photo::QualityProblem::Blurry), "{}", shaky.quality.summary());
    }

    #[test]
    fn photos_of_different_seeds_are_different_pictures_of_good_quality() {
        let photos: Vec<photo::IngestedPhoto> =
            (0..8).map(|seed| ingest(1_000 + seed, if seed % 3 == 2 { Stock::Gap } else { Stock::Full })).collect();
        let (mut closest, mut closest_consecutive) = (u32::MAX, u32::MAX);
        for (i, a) in photos.iter().enumerate() {
            assert!(a.quality.is_acceptable(), "seed {}: {}", 1_000 + i, a.quality.summary());
            assert!(a.jpeg.len() > 50_000, "a realistic photo size: {} bytes", a.jpeg.len());
            for (j, b) in photos.iter().enumerate().skip(i + 1) {
                let bits = phash_distance(&a.phash, &b.phash).unwrap();
                closest = closest.min(bits);
                if j == i + 1 {
                    closest_consecutive = closest_consecutive.min(bits);
                }
            }
        }
        // The reuse check calls 8 bits or fewer "the same picture"; different photos sit far above.
        assert!(closest > 16, "two different seeds gave pictures only {closest} bits apart");
        assert!(closest_consecutive > 24, "consecutive seeds gave pictures only {closest_consecutive} bits apart");
    }
}
