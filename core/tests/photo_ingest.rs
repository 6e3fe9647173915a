//! Behaviour of photo ingest on real photos, degraded copies of them and hostile inputs.
//!
//! Fixtures are in `tests/fixtures/photos/` (see the README there for sources and licences).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use fieldsync_core::photo::{self, ImageHeader, IngestedPhoto, PhotoError, PhotoFormat, PhotoLimits, QualityProblem};
use image::{DynamicImage, GenericImageView, ImageFormat};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Sharp, well-exposed photos of ordinary scenes (scikit-image samples, CC0 / public domain).
const SHARP: [&str; 4] = ["astronaut.jpg", "camera.png", "chelsea.jpg", "coffee.jpg"];

fn ingest(bytes: &[u8]) -> IngestedPhoto {
    photo::ingest(bytes, &PhotoLimits::default()).expect("ingest")
}

fn distance(a: &IngestedPhoto, b: &IngestedPhoto) -> u32 {
    photo::phash_distance(&a.phash, &b.phash).expect("valid hashes")
}

/// Offset of the first segment with `marker` in a JPEG, walking the segment lengths.
fn jpeg_segment(jpeg: &[u8], marker: u8) -> Option<usize> {
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        if jpeg[pos + 1] == marker {
            return Some(pos);
        }
        if jpeg[pos + 1] == 0xDA {
            return None;
        }
        pos += 2 + usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
    }
    None
}

/// A small real JPEG whose SOF header is rewritten to claim `width` x `height`.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = common::encode(&DynamicImage::new_rgb8(16, 16), ImageFormat::Jpeg);
    let sof = jpeg_segment(&jpeg, 0xC0).expect("baseline SOF0");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

/// Builds a big-endian EXIF APP1 segment with Orientation, DateTimeOriginal and a GPS position
/// (33 deg 51' 54" S, 151 deg 12' 36" E), as a camera writes them, and puts it after SOI.
fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&value);
    }
    const ASCII: u16 = 2;
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    // Layout (offsets from the TIFF header): IFD0 at 8 (3 entries, 42 bytes), Exif IFD at 50
    // (1 entry, 18 bytes), its date at 68 (20 bytes), GPS IFD at 88 (4 entries, 54 bytes),
    // latitude at 142 and longitude at 166 (3 rationals each).
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&3u16.to_be_bytes());
    let o = orientation.to_be_bytes();
    entry(&mut tiff, 0x0112, SHORT, 1, [o[0], o[1], 0, 0]);
    entry(&mut tiff, 0x8769, LONG, 1, 50u32.to_be_bytes());
    entry(&mut tiff, 0x8825, LONG, 1, 88u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 50);
    tiff.extend_from_slice(&1u16.to_be_bytes());
    entry(&mut tiff, 0x9003, ASCII, 20, 68u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(b"2024:03:09 14:25:07\0");
    assert_eq!(tiff.len(), 88);
    tiff.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut tiff, 0x0001, ASCII, 2, *b"S\0\0\0");
    entry(&mut tiff, 0x0002, RATIONAL, 3, 142u32.to_be_bytes());
    entry(&mut tiff, 0x0003, ASCII, 2, *b"E\0\0\0");
    entry(&mut tiff, 0x0004, RATIONAL, 3, 166u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 142);
    for (num, den) in [(33u32, 1u32), (51, 1), (5400, 100), (151, 1), (12, 1), (36, 1)] {
        tiff.extend_from_slice(&num.to_be_bytes());
        tiff.extend_from_slice(&den.to_be_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

// ---------------------------------------------------------------------------------------------
// Output

#[test]
fn sharp_well_exposed_photos_are_acceptable() {
    for name in SHARP {
        let photo = ingest(&common::fixture(name));
        assert!(photo.quality.is_acceptable(), "{name}: {} {:?}", photo.quality.summary(), photo.quality.metrics);
        assert_eq!(photo.quality.summary(), "ok");
    }
}

#[test]
fn the_stored_jpeg_is_addressed_by_its_sha256_and_ingest_is_deterministic() {
    use sha2::{Digest, Sha256};
    let bytes = common::fixture("chelsea.jpg");
    let first = ingest(&bytes);
    let again = ingest(&bytes);
    let expected: String = Sha256::digest(&first.jpeg).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(first.sha256, expected);
    assert_eq!(first.sha256, again.sha256);
    assert_eq!(first.phash, again.phash);
    assert_eq!(first.phash.len(), 16);
}

#[test]
fn a_large_photo_is_downscaled_to_the_output_size_and_thumbnailed() {
    let big =
        common::decode(&common::fixture("coffee.jpg")).resize_exact(2000, 1000, image::imageops::FilterType::Triangle);
    let photo = ingest(&common::encode(&big, ImageFormat::Jpeg));
    assert_eq!(photo.source, ImageHeader { format: PhotoFormat::Jpeg, width: 2000, height: 1000, bytes_per_pixel: 3 });
    assert_eq!((photo.width, photo.height), (1600, 800));
    assert_eq!(common::decode(&photo.jpeg).dimensions(), (1600, 800));
    assert_eq!(common::decode(&photo.thumbnail_jpeg).dimensions(), (256, 128));
}

#[test]
fn a_small_photo_is_not_enlarged() {
    let photo = ingest(&common::fixture("chelsea.jpg"));
    assert_eq!((photo.width, photo.height), (451, 300));
    assert_eq!(common::decode(&photo.thumbnail_jpeg).dimensions(), (256, 170));
}

#[test]
fn png_uploads_are_re_encoded_as_jpeg() {
    let photo = ingest(&common::fixture("camera.png"));
    assert_eq!(photo.source.format, PhotoFormat::Png);
    assert_eq!(image::guess_format(&photo.jpeg).unwrap(), ImageFormat::Jpeg);
}

#[test]
fn camera_exif_is_read_but_not_copied_into_the_stored_jpeg() {
    let original = common::fixture("exif.jpg");
    assert!(jpeg_segment(&original, 0xE1).is_some());
    let photo = ingest(&original);
    assert_eq!(photo.exif.orientation, None);
    assert!(jpeg_segment(&photo.jpeg, 0xE1).is_none(), "no APP1 in the output");
    assert!(!photo.jpeg.windows(6).any(|w| w == b"Exif\0\0"));
}

// ---------------------------------------------------------------------------------------------
// Orientation

#[test]
fn every_exif_orientation_is_applied_before_hashing() {
    // Pillow's hopper_orientation_N.jpg files store the same portrait transformed N ways, each
    // with the EXIF orientation that undoes it.
    let upright = ingest(&common::fixture("hopper.jpg"));
    for n in 2..=8u8 {
        let bytes = common::fixture(&format!("hopper_orientation_{n}.jpg"));
        let photo = ingest(&bytes);
        assert_eq!(photo.exif.orientation, Some(n));
        let oriented = distance(&upright, &photo);
        let stored_pixels = photo::perceptual_hash(&common::decode(&bytes));
        let unoriented = photo::phash_distance(&upright.phash, &stored_pixels).unwrap();
        assert!(oriented <= 6, "orientation {n}: {oriented} bits from upright");
        assert!(unoriented >= 16, "orientation {n}: raw pixels only {unoriented} bits away");
    }
}

#[test]
fn a_camera_orientation_tag_turns_a_landscape_photo_portrait_and_its_facts_are_kept() {
    let plain = common::fixture("chelsea.jpg");
    let photo = ingest(&with_exif(&plain, 6));
    assert_eq!((photo.source.width, photo.source.height), (451, 300));
    assert_eq!((photo.width, photo.height), (300, 451));
    assert_eq!(photo.exif.orientation, Some(6));
    assert_eq!(photo.exif.date_time_original.as_deref(), Some("2024:03:09 14:25:07"));
    let gps = photo.exif.gps.expect("gps");
    assert!((gps.latitude - -33.865).abs() < 1e-9, "{gps:?}");
    assert!((gps.longitude - 151.21).abs() < 1e-9, "{gps:?}");

    // Orientation 6 means "rotate 90 degrees clockwise to view".
    let turned = photo::perceptual_hash(&common::decode(&plain).rotate90());
    assert!(photo::phash_distance(&photo.phash, &turned).unwrap() <= 4);
    assert!(photo::phash_distance(&photo.phash, &ingest(&plain).phash).unwrap() >= 16);
    assert!(!photo.jpeg.windows(6).any(|w| w == b"Exif\0\0"), "gps must not leak");
}

// ---------------------------------------------------------------------------------------------
// Quality

#[test]
fn sharp_photos_score_higher_than_their_blurred_copies_and_the_copies_are_flagged_blurry() {
    for name in SHARP {
        let original = common::decode(&common::fixture(name));
        let sharp = ingest(&common::fixture(name)).quality;
        let blurred = ingest(&common::encode(&original.blur(2.0), ImageFormat::Png)).quality;
        assert!(
            blurred.metrics.sharpness * 4.0 < sharp.metrics.sharpness,
            "{name}: {} vs {}",
            blurred.metrics.sharpness,
            sharp.metrics.sharpness
        );
        assert!(blurred.problems.contains(&QualityProblem::Blurry), "{name}");
        assert!(blurred.summary().starts_with("blurry"), "{}", blurred.summary());
    }
}

#[test]
fn a_real_motion_blurred_photo_is_flagged_blurry() {
    let clock = ingest(&common::fixture("clock_motion.png")).quality;
    assert_eq!(clock.problems, vec![QualityProblem::Blurry], "{:?}", clock.metrics);
    assert_eq!(clock.summary(), "blurry: retake");
    for name in SHARP {
        let sharp = ingest(&common::fixture(name)).quality.metrics.sharpness;
        assert!(clock.metrics.sharpness * 4.0 < sharp, "{name}");
    }
}

#[test]
fn darkened_copies_are_flagged_too_dark() {
    for name in SHARP {
        let dark = common::exposure(&common::decode(&common::fixture(name)), 0.3);
        let quality = ingest(&common::encode(&dark, ImageFormat::Png)).quality;
        assert!(quality.problems.contains(&QualityProblem::TooDark), "{name}: {:?}", quality.metrics);
        assert!(!quality.problems.contains(&QualityProblem::Overexposed));
    }
}

#[test]
fn overexposed_copies_are_flagged_overexposed() {
    for name in SHARP {
        let blown = common::exposure(&common::decode(&common::fixture(name)), 2.5);
        let quality = ingest(&common::encode(&blown, ImageFormat::Png)).quality;
        assert!(quality.problems.contains(&QualityProblem::Overexposed), "{name}: {:?}", quality.metrics);
        assert!(!quality.problems.contains(&QualityProblem::TooDark));
    }
}

#[test]
fn a_tiny_photo_is_flagged_too_small() {
    let tiny = common::decode(&common::fixture("coffee.jpg")).thumbnail(300, 300);
    let quality = ingest(&common::encode(&tiny, ImageFormat::Png)).quality;
    assert!(quality.problems.contains(&QualityProblem::TooSmall));
}

// ---------------------------------------------------------------------------------------------
// Perceptual hash

#[test]
fn re_encoding_resizing_or_brightening_changes_the_phash_by_only_a_few_bits() {
    for name in SHARP {
        let original = ingest(&common::fixture(name));
        let image = common::decode(&common::fixture(name));
        let (w, h) = image.dimensions();
        let copies = [
            common::encode(&image, ImageFormat::Jpeg),
            common::encode(&image.resize(w / 2, h / 2, image::imageops::FilterType::Triangle), ImageFormat::Png),
            common::encode(&common::exposure(&image, 1.2), ImageFormat::Png),
        ];
        for copy in copies {
            let d = distance(&original, &ingest(&copy));
            assert!(d <= 6, "{name}: {d} bits");
        }
    }
}

#[test]
fn different_photos_differ_by_at_least_16_phash_bits() {
    let mut names: Vec<&str> = SHARP.to_vec();
    names.extend(["clock_motion.png", "hopper.jpg"]);
    let photos: Vec<IngestedPhoto> = names.iter().map(|n| ingest(&common::fixture(n))).collect();
    for (i, a) in photos.iter().enumerate() {
        for (j, b) in photos.iter().enumerate().skip(i + 1) {
            let d = distance(a, b);
            assert!(d >= 16, "{} vs {}: {d} bits", names[i], names[j]);
        }
    }
}

#[test]
fn phash_distance_rejects_strings_that_are_not_hashes() {
    let good = ingest(&common::fixture("chelsea.jpg")).phash;
    for bad in ["", "xyz!", "abc", "00ff"] {
        assert!(matches!(photo::phash_distance(&good, bad), Err(PhotoError::InvalidHash { .. })), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile and broken inputs

#[test]
fn empty_input_is_rejected_as_empty() {
    let err = photo::ingest(&[], &PhotoLimits::default()).unwrap_err();
    assert!(matches!(err, PhotoError::Empty));
    assert_eq!(err.to_string(), "image is empty (0 bytes)");
}

#[test]
fn a_text_file_is_not_an_image() {
    let text = b"order_id,qty\n42,7\n";
    assert!(matches!(photo::ingest(text, &PhotoLimits::default()), Err(PhotoError::NotAnImage)));
    assert!(matches!(photo::read_header(text, &PhotoLimits::default()), Err(PhotoError::NotAnImage)));
}

#[test]
fn a_gif_is_an_unsupported_format() {
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    let err = photo::ingest(gif, &PhotoLimits::default()).unwrap_err();
    assert!(matches!(&err, PhotoError::UnsupportedFormat { format } if format == "gif"), "{err:?}");
    assert_eq!(err.to_string(), "gif images are not accepted; only jpeg and png are");
}

#[test]
fn a_jpeg_signature_followed_by_junk_is_corrupt() {
    let mut junk = vec![0xFF, 0xD8, 0xFF, 0xE0];
    junk.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let err = photo::ingest(&junk, &PhotoLimits::default()).unwrap_err();
    assert!(matches!(err, PhotoError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_truncated_jpeg_is_corrupt_even_though_the_decoder_would_fill_it_with_grey() {
    let full = common::fixture("chelsea.jpg");
    let cut = &full[..full.len() * 2 / 3];
    // The header is intact, so vetting passes; only decoding can tell.
    assert!(photo::read_header(cut, &PhotoLimits::default()).is_ok());
    let err = photo::ingest(cut, &PhotoLimits::default()).unwrap_err();
    assert!(matches!(&err, PhotoError::Corrupt { reason } if reason.contains("truncated")), "{err:?}");
}

#[test]
fn a_truncated_jpeg_is_corrupt_even_when_its_exif_thumbnail_is_complete() {
    // exif.jpg carries a whole JPEG thumbnail (with its own end marker) inside APP1.
    let full = common::fixture("exif.jpg");
    let err = photo::ingest(&full[..full.len() - 40], &PhotoLimits::default()).unwrap_err();
    assert!(matches!(err, PhotoError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_truncated_png_is_corrupt() {
    let full = common::fixture("camera.png");
    let err = photo::ingest(&full[..full.len() / 2], &PhotoLimits::default()).unwrap_err();
    assert!(matches!(err, PhotoError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_jpeg_pixel_bomb_is_rejected_before_decoding() {
    let bomb = jpeg_claiming(9000, 9000);
    assert!(bomb.len() < 2048, "{} bytes", bomb.len());
    for err in [
        photo::read_header(&bomb, &PhotoLimits::default()).unwrap_err(),
        photo::ingest(&bomb, &PhotoLimits::default()).unwrap_err(),
    ] {
        assert!(matches!(err, PhotoError::TooManyPixels { width: 9000, height: 9000, limit: 50_000_000 }), "{err:?}");
        assert_eq!(err.to_string(), "image is 9000x9000 pixels, more than the 50000000-pixel limit");
    }
}

#[test]
fn a_png_pixel_bomb_is_rejected_before_decoding() {
    let bomb = common::png_claiming(9000, 9000);
    let err = photo::ingest(&bomb, &PhotoLimits::default()).unwrap_err();
    assert!(matches!(err, PhotoError::TooManyPixels { width: 9000, height: 9000, .. }), "{err:?}");
}

#[test]
fn the_decoder_memory_limit_holds_even_when_the_pixel_limits_are_raised() {
    let limits = PhotoLimits {
        max_pixels: u64::MAX,
        max_side: 100_000,
        max_decoded_bytes: u64::MAX,
        max_alloc_bytes: 16 * 1024 * 1024,
        ..PhotoLimits::default()
    };
    let err = photo::ingest(&common::png_claiming(9000, 9000), &limits).unwrap_err();
    assert!(matches!(err, PhotoError::AllocLimit { limit: 16_777_216, .. }), "{err:?}");
}

#[test]
fn a_declared_decoded_size_over_the_memory_budget_is_refused_before_decoding() {
    let limits = PhotoLimits { max_decoded_bytes: 10_000_000, ..PhotoLimits::default() };
    let err = photo::read_header(&jpeg_claiming(4000, 3000), &limits).unwrap_err();
    assert!(
        matches!(err, PhotoError::DecodedTooLarge { width: 4000, height: 3000, bytes: 36_000_000, limit: 10_000_000 }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "image is 4000x3000 pixels, 36000000 bytes once decoded, more than the 10000000-byte budget"
    );
}

#[test]
fn a_tiny_jpeg_declaring_8000x6000_pixels_is_refused_at_once_instead_of_decoded_to_grey() {
    let bomb = jpeg_claiming(8000, 6000);
    assert!(bomb.len() < 2048, "{} bytes", bomb.len());
    let started = std::time::Instant::now();
    let err = photo::ingest(&bomb, &PhotoLimits::default()).unwrap_err();
    // Refused from the header: no decoding, so no time to speak of even in a debug build.
    assert!(started.elapsed() < std::time::Duration::from_millis(200), "{:?}", started.elapsed());
    match err {
        PhotoError::Corrupt { reason } => {
            assert!(reason.contains("declares 8000x6000 pixels") && reason.contains("at least 93750 bytes"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // A real photo of that size holds far more than the floor.
    let real = common::fixture("coffee.jpg");
    assert!(photo::read_header(&real, &PhotoLimits::default()).is_ok());
}

#[test]
fn a_side_longer_than_the_limit_is_rejected() {
    let strip = jpeg_claiming(20_000, 10);
    let err = photo::read_header(&strip, &PhotoLimits::default()).unwrap_err();
    assert!(matches!(err, PhotoError::SideTooLong { width: 20_000, height: 10, limit: 8192 }), "{err:?}");
    assert_eq!(err.to_string(), "image is 20000x10 pixels, a side longer than the 8192-pixel limit");
}

#[test]
fn an_upload_over_the_byte_limit_is_rejected_without_parsing() {
    let limits = PhotoLimits { max_input_bytes: 1000, ..PhotoLimits::default() };
    let bytes = common::fixture("chelsea.jpg");
    let err = photo::ingest(&bytes, &limits).unwrap_err();
    assert!(matches!(err, PhotoError::TooLarge { limit: 1000, .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("image is {} bytes, more than the 1000-byte limit", bytes.len()));
}

#[test]
fn read_header_reports_format_and_stored_size_without_decoding() {
    let header = photo::read_header(&common::fixture("chelsea.jpg"), &PhotoLimits::default()).unwrap();
    assert_eq!(header, ImageHeader { format: PhotoFormat::Jpeg, width: 451, height: 300, bytes_per_pixel: 3 });
    let header = photo::read_header(&common::fixture("camera.png"), &PhotoLimits::default()).unwrap();
    assert_eq!(header, ImageHeader { format: PhotoFormat::Png, width: 512, height: 512, bytes_per_pixel: 1 });
}

#[test]
fn every_truncation_of_a_jpeg_is_an_error_not_a_panic_or_a_grey_photo() {
    let full = common::fixture("hopper.jpg");
    for len in (0..full.len() - 1).step_by(61) {
        assert!(photo::ingest(&full[..len], &PhotoLimits::default()).is_err(), "{len} bytes");
    }
}

#[test]
fn corrupted_photos_give_errors_or_photos_but_never_panic() {
    // Seeded byte flips in a real JPEG (with EXIF) and a real PNG; deterministic, so a failure
    // reproduces. The decoder may accept some mutants (a flipped pixel is still a photo).
    let small_png = common::encode(&common::decode(&common::fixture("camera.png")).thumbnail(64, 64), ImageFormat::Png);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for original in [common::fixture("hopper_orientation_6.jpg"), small_png] {
        for _ in 0..150 {
            let mut mutant = original.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % mutant.len() as u64) as usize;
                mutant[at] = next() as u8;
            }
            let _ = photo::read_header(&mutant, &PhotoLimits::default());
            let _ = photo::ingest(&mutant, &PhotoLimits::default());
        }
    }
}
