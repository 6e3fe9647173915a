//! Photo analysis for scoring: the quality metrics and the perceptual hash of an uploaded or
//! stored photo, without producing a re-encoded copy.
//!
//! This is what the relay runs on every photo of an inspection (and the phone on its own photos
//! for the score preview), so it is built to cost little more than decoding: the decoded photo is
//! reduced once to luma at [`MEASURE_LONG_SIDE`](super::quality::MEASURE_LONG_SIDE), and both the
//! metrics and the hash are computed from that small image. The EXIF orientation is applied to
//! the reduced image (area averaging commutes with it), so the hash matches that of the oriented
//! photo.
//!
//! Besides the hash of the photo as it is, the hashes of its seven other flips and quarter turns
//! are kept ([`PhotoAnalysis::transformed_phashes`]): a mirrored or rotated copy of an earlier
//! photo has, among them, the earlier photo's own hash (to within a few bits), so the reuse check
//! compares them all ([`crate::scoring::evidence::check_reuse`]).

use image::imageops::{flip_horizontal, rotate90, rotate180, rotate270};
use image::metadata::Orientation;
use image::{DynamicImage, GenericImageView, GrayImage};

use super::quality::{self, MEASURE_LONG_SIDE, QualityMetrics};
use super::{ImageHeader, PhotoError, PhotoLimits, decode, downscale, metadata, perceptual_hash};

/// What scoring needs to know about one photo's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoAnalysis {
    /// Sharpness, exposure, contrast and the oriented size.
    pub metrics: QualityMetrics,
    /// Perceptual hash of the oriented photo (16 lowercase hex digits); compare with
    /// [`phash_distance`](super::phash_distance).
    pub phash: String,
    /// Perceptual hashes of the photo mirrored, turned a quarter, half and three quarters, and
    /// mirrored then turned, in that order (7 hashes, each 16 hex digits).
    pub transformed_phashes: Vec<String>,
    /// The photo's header (format and stored size).
    pub header: ImageHeader,
}

/// Vets, decodes (under `limits`) and measures a photo; see the module docs.
pub fn analyze(input: &[u8], limits: &PhotoLimits) -> Result<PhotoAnalysis, PhotoError> {
    let header = decode::read_header(input, limits)?;
    let orientation = metadata::read_exif(input).orientation.and_then(Orientation::from_exif);
    let decoded = decode::decode(input, &header, limits)?;
    let (mut width, mut height) = decoded.dimensions();
    // Colour first, luma second: averaging interleaved RGB samples vectorises well, while a
    // full-size `to_luma8` alone takes about 40 ms on a 12 MP photo. Luma is linear, so the order
    // changes each value by at most its rounding.
    let small = match decoded {
        DynamicImage::ImageLuma8(luma) => downscale::fit_luma_within(luma, MEASURE_LONG_SIDE),
        other => luma_of(downscale::fit_within(other, MEASURE_LONG_SIDE)),
    };
    let mut oriented = DynamicImage::ImageLuma8(small);
    if let Some(orientation) = orientation {
        oriented.apply_orientation(orientation);
        if matches!(
            orientation,
            Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
        ) {
            std::mem::swap(&mut width, &mut height);
        }
    }
    let phash = perceptual_hash(&oriented);
    let luma = match oriented {
        DynamicImage::ImageLuma8(luma) => luma,
        other => other.to_luma8(),
    };
    let transformed_phashes = transformed_hashes(&luma);
    Ok(PhotoAnalysis { metrics: quality::measure_reduced(&luma, width, height), phash, transformed_phashes, header })
}

/// Long side the luma is area-averaged down to before hashing its flips and turns: the hash
/// reads a 16x16 reduction anyway, and hashing seven 512 px images cost more than decoding the
/// stored photo.
const TRANSFORM_LONG_SIDE: u32 = 64;

/// The hashes of the seven other members of the photo's dihedral group (see the module docs).
fn transformed_hashes(luma: &GrayImage) -> Vec<String> {
    let luma = &downscale::fit_luma_within(luma.clone(), TRANSFORM_LONG_SIDE);
    let mirrored = flip_horizontal(luma);
    [rotate90(luma), rotate180(luma), rotate270(luma), rotate90(&mirrored), rotate180(&mirrored), rotate270(&mirrored)]
        .into_iter()
        .fold(vec![perceptual_hash(&DynamicImage::ImageLuma8(mirrored.clone()))], |mut hashes, image| {
            hashes.push(perceptual_hash(&DynamicImage::ImageLuma8(image)));
            hashes
        })
}

/// Luma of a decoded photo, taking the buffer over when it already is 8-bit grey.
fn luma_of(image: DynamicImage) -> GrayImage {
    match image {
        DynamicImage::ImageLuma8(luma) => luma,
        other => other.to_luma8(),
    }
}
