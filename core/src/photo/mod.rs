//! Photo ingest: vet an upload, decode it safely, normalise it and preview its quality.
//!
//! Supervisors photograph shelves; the phone keeps one normalised JPEG per photo, addressed by
//! its SHA-256, plus a thumbnail, a perceptual hash (to spot the same shelf shot twice) and a
//! quality preview (to ask for a retake while still in the store).
//!
//! [`ingest`] runs, in order:
//! 1. size and signature checks (only JPEG and PNG, recognised from the bytes);
//! 2. header dimensions against [`PhotoLimits`], before any pixel is decoded;
//! 3. decoding under explicit [`image::Limits`];
//! 4. EXIF orientation applied to the pixels, and a fast area-average downscale to
//!    [`PhotoLimits::output_long_side`] (the two commute; the cheaper order is used);
//! 5. re-encoding as a JPEG without metadata (no GPS leaves the phone inside the photo); the
//!    EXIF capture facts (time, offset, GPS) are read from the original bytes before that, and
//!    travel beside the photo in its reference instead;
//! 6. thumbnail, and the quality metrics and perceptual hash measured by [`analyze`] on the
//!    stored JPEG itself: the very bytes, and the very code, the relay scores, so the phone's
//!    verdict and the relay's are one.
//!
//! ```no_run
//! use fieldsync_core::photo::{ingest, PhotoLimits};
//! # fn run(bytes: &[u8]) -> Result<(), fieldsync_core::photo::PhotoError> {
//! let photo = ingest(bytes, &PhotoLimits::default())?;
//! if !photo.quality.is_acceptable() {
//!     println!("{}", photo.quality.summary()); // e.g. "blurry: retake"
//! }
//! # Ok(()) }
//! ```

mod analysis;
mod decode;
mod downscale;
mod error;
mod metadata;
pub mod quality;

use std::fmt;

use image::DynamicImage;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image_hasher::{HashAlg, HasherConfig};
use sha2::{Digest, Sha256};

pub use analysis::{PhotoAnalysis, analyze};
pub use error::PhotoError;
pub use metadata::{ExifFacts, GpsPosition, parse_offset};
pub use quality::{QualityMetrics, QualityPreview, QualityProblem, Standing, measure};

/// Limits applied before and during decoding, and the sizes of what ingest produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoLimits {
    /// Largest accepted upload, in bytes.
    pub max_input_bytes: usize,
    /// Largest accepted width x height, from the header.
    pub max_pixels: u64,
    /// Longest accepted side, from the header.
    pub max_side: u32,
    /// Largest accepted decoded size, width x height x bytes per pixel from the header, checked
    /// before any pixel is decoded.
    pub max_decoded_bytes: u64,
    /// Most the decoder may allocate at once.
    pub max_alloc_bytes: u64,
    /// Long side of the stored JPEG (smaller photos are not enlarged).
    pub output_long_side: u32,
    /// Long side of the thumbnail.
    pub thumbnail_long_side: u32,
    /// JPEG quality (1-100) of the stored photo and thumbnail.
    pub jpeg_quality: u8,
}

impl Default for PhotoLimits {
    /// 15 MiB, 50 MP, 8192 px sides, 160 MiB decoded (a 50 MP 8-bit RGB photo is 150 MB),
    /// 512 MiB decoder memory; output 1600 px, thumbnail 256 px, quality 85.
    fn default() -> Self {
        Self {
            max_input_bytes: 15 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_side: 8192,
            max_decoded_bytes: 160 * 1024 * 1024,
            max_alloc_bytes: 512 * 1024 * 1024,
            output_long_side: 1600,
            thumbnail_long_side: 256,
            jpeg_quality: 85,
        }
    }
}

/// The accepted upload formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhotoFormat {
    /// JPEG (JFIF or EXIF).
    Jpeg,
    /// PNG.
    Png,
}

impl fmt::Display for PhotoFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
        })
    }
}

/// Header facts read without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    /// Format recognised from the bytes.
    pub format: PhotoFormat,
    /// Width as stored (before EXIF orientation).
    pub width: u32,
    /// Height as stored (before EXIF orientation).
    pub height: u32,
    /// Bytes per decoded pixel (1 grey to 8 for 16-bit RGBA).
    pub bytes_per_pixel: u8,
}

/// Reads and vets an upload's header without decoding pixels: size, signature and dimensions
/// against `limits`. The relay uses this to refuse uploads cheaply.
pub fn read_header(input: &[u8], limits: &PhotoLimits) -> Result<ImageHeader, PhotoError> {
    decode::read_header(input, limits)
}

/// A photo ready to store and sync.
#[derive(Debug, Clone)]
pub struct IngestedPhoto {
    /// Lowercase hex SHA-256 of [`Self::jpeg`]: the photo's content address.
    pub sha256: String,
    /// Lowercase hex SHA-256 of the bytes given to [`ingest`] (the camera's original).
    pub original_sha256: String,
    /// Re-encoded JPEG, orientation applied, long side at most
    /// [`PhotoLimits::output_long_side`], no metadata.
    pub jpeg: Vec<u8>,
    /// Thumbnail JPEG, long side at most [`PhotoLimits::thumbnail_long_side`].
    pub thumbnail_jpeg: Vec<u8>,
    /// Width of [`Self::jpeg`].
    pub width: u32,
    /// Height of [`Self::jpeg`].
    pub height: u32,
    /// Perceptual hash of the oriented photo as 16 lowercase hex digits (64 bits); compare with
    /// [`phash_distance`].
    pub phash: String,
    /// EXIF facts found in the upload, read before re-encoding drops them.
    pub exif: ExifFacts,
    /// Quality preview of the stored JPEG, measured as the relay measures it.
    pub quality: QualityPreview,
    /// The upload's header (format and stored dimensions).
    pub source: ImageHeader,
}

/// Vets, decodes, orients, downsizes and re-encodes an upload; see the module docs.
pub fn ingest(input: &[u8], limits: &PhotoLimits) -> Result<IngestedPhoto, PhotoError> {
    ingest_hashed(input, sha256_hex(input), limits)
}

/// [`ingest`] of an input whose SHA-256 the caller has already computed (the phone looks the
/// original up before ingesting it).
pub(crate) fn ingest_hashed(
    input: &[u8],
    original_sha256: String,
    limits: &PhotoLimits,
) -> Result<IngestedPhoto, PhotoError> {
    let source = read_header(input, limits)?;
    let exif = metadata::read_exif(input);
    let decoded = decode::decode(input, &source, limits)?;
    let orientation = exif.orientation.and_then(Orientation::from_exif);
    let image = downscale::orient_and_fit(decoded, orientation, limits.output_long_side);
    let thumbnail = downscale::orient_and_fit(image.clone(), None, limits.thumbnail_long_side);
    let jpeg = encode_jpeg(&image, limits.jpeg_quality)?;
    drop(image);
    let thumbnail_jpeg = encode_jpeg(&thumbnail, limits.jpeg_quality)?;
    let stored = analyze(&jpeg, limits)?;
    Ok(IngestedPhoto {
        sha256: sha256_hex(&jpeg),
        original_sha256,
        width: stored.header.width,
        height: stored.header.height,
        jpeg,
        thumbnail_jpeg,
        phash: stored.phash,
        exif,
        quality: QualityPreview::from_metrics(stored.metrics),
        source,
    })
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Hamming distance, in bits, between two perceptual hashes from [`IngestedPhoto::phash`].
///
/// 0-4 bits: the same photo (re-encoded, resized, brightened); 16 or more: different photos.
pub fn phash_distance(a: &str, b: &str) -> Result<u32, PhotoError> {
    let a_bytes = parse_hash(a)?;
    let b_bytes = parse_hash(b)?;
    if a_bytes.len() != b_bytes.len() {
        return Err(PhotoError::InvalidHash {
            hash: b.to_string(),
            reason: format!("it has {} bits and {a:?} has {}", b_bytes.len() * 8, a_bytes.len() * 8),
        });
    }
    Ok(a_bytes.iter().zip(&b_bytes).map(|(x, y)| (x ^ y).count_ones()).sum())
}

/// Perceptual hash: DCT of a 16x16 luma reduction, 64 low-frequency coefficients compared with
/// their median (pHash), as lowercase hex.
///
/// The median, not the mean: the DC coefficient dwarfs the others, so comparing with the mean
/// sets nearly every bit alike and different photos collided (0 bits apart) on the sample set.
pub fn perceptual_hash(image: &DynamicImage) -> String {
    let hasher = HasherConfig::new()
        .hash_size(8, 8)
        .hash_alg(HashAlg::Median)
        .preproc_dct()
        .resize_filter(FilterType::Triangle)
        .to_hasher();
    hex(hasher.hash_image(image).as_bytes())
}

fn parse_hash(hash: &str) -> Result<Vec<u8>, PhotoError> {
    let invalid =
        |reason: &str| PhotoError::InvalidHash { hash: hash.chars().take(80).collect(), reason: reason.to_string() };
    if hash.is_empty() {
        return Err(invalid("it is empty"));
    }
    if !hash.len().is_multiple_of(2) {
        return Err(invalid("it has an odd number of hex digits"));
    }
    hash.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: &u8| (*c as char).to_digit(16);
            match pair {
                [hi, lo] => match (digit(hi), digit(lo)) {
                    (Some(hi), Some(lo)) => Ok((hi * 16 + lo) as u8),
                    _ => Err(invalid("it is not hexadecimal")),
                },
                _ => Err(invalid("it has an odd number of hex digits")),
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    // Alpha is dropped and 16-bit samples are reduced: the stored photo is plain 8-bit RGB.
    let converted;
    let rgb = match image {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => {
            converted = other.to_rgb8();
            &converted
        }
    };
    let side = |value: u32| {
        u16::try_from(value).map_err(|_| PhotoError::Encode {
            reason: format!("a {}x{} photo is too large for jpeg", rgb.width(), rgb.height()),
        })
    };
    let (width, height) = (side(rgb.width())?, side(rgb.height())?);
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100))
        .encode(rgb.as_raw(), width, height, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| PhotoError::Encode { reason: e.to_string() })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_differing_bits() {
        assert_eq!(phash_distance("00ff", "00ff").ok(), Some(0));
        assert_eq!(phash_distance("00ff", "01fe").ok(), Some(2));
        assert_eq!(phash_distance("ffffffffffffffff", "0000000000000000").ok(), Some(64));
        assert_eq!(phash_distance("ABCD", "abcd").ok(), Some(0));
    }

    #[test]
    fn malformed_hashes_are_rejected_with_the_value() {
        for bad in ["", "abc", "zz", "é1"] {
            match phash_distance(bad, "00") {
                Err(PhotoError::InvalidHash { hash, .. }) => assert_eq!(hash, bad),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        assert!(matches!(phash_distance("00", "0000"), Err(PhotoError::InvalidHash { .. })));
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[0x00, 0x0a, 0xff]), "000aff");
    }

    #[test]
    fn default_limits_match_the_documented_values() {
        let l = PhotoLimits::default();
        assert_eq!(l.max_input_bytes, 15 * 1024 * 1024);
        assert_eq!(l.max_pixels, 50_000_000);
        assert_eq!(l.max_side, 8192);
        assert_eq!(l.max_decoded_bytes, 160 * 1024 * 1024);
        assert_eq!(l.max_alloc_bytes, 512 * 1024 * 1024);
        assert_eq!((l.output_long_side, l.thumbnail_long_side, l.jpeg_quality), (1600, 256, 85));
    }
}
