//! Photo quality metrics and the quick "retake?" preview shown right after capture.
//!
//! All metrics are measured on luma downscaled to [`MEASURE_LONG_SIDE`], so the numbers mean
//! the same thing for a 12 MP phone photo and for its 1600-pixel re-encoding. The full 0-100
//! scoring reuses [`QualityMetrics`]; the thresholds here only decide the preview.

use std::fmt;

use autosurgeon::{Hydrate, Reconcile};
use image::{DynamicImage, GenericImageView, GrayImage};

use crate::i18n::Message;

/// Long side (pixels) that images are area-averaged down to before measuring. Smaller images are
/// measured as they are (upscaling would invent blur).
pub const MEASURE_LONG_SIDE: u32 = 512;

/// Below this variance of the Laplacian the photo is [`QualityProblem::Blurry`].
///
/// Calibrated on scikit-image's sample photos at the measuring scale: sharp originals score
/// 176 (brick) to 5295 (grass), their Gaussian-blurred copies (sigma 1.5 px at 512 px, about
/// 12 px on a 12 MP original) 56 or less, and the real motion-blurred clock 24. The variance
/// also grows with contrast, so a very flat scene (the moon sample, 65) reads as blurry too.
pub const BLURRY_BELOW: f64 = 100.0;
/// Below this mean luma (0-255) the photo is [`QualityProblem::TooDark`]. Samples: 61 (a night
/// launch, fine) to 146; copies at 0.3x exposure 18 to 44.
pub const TOO_DARK_MEAN_BELOW: f64 = 50.0;
/// Above this share of near-black pixels the photo is [`QualityProblem::TooDark`] whatever its mean.
pub const TOO_DARK_CLIPPED_ABOVE: f64 = 0.40;
/// Above this mean luma the photo is [`QualityProblem::Overexposed`].
pub const OVEREXPOSED_MEAN_ABOVE: f64 = 215.0;
/// Above this share of blown-out pixels the photo is [`QualityProblem::Overexposed`]. Samples:
/// at most 0.011; copies at 2.5x exposure 0.28 (coffee, measured on its stored JPEG) to 0.77.
/// 0.20 keeps the whole band (±[`CLIPPED_SHARE_BAND`]) below the lowest blown-out copy.
pub const OVEREXPOSED_CLIPPED_ABOVE: f64 = 0.20;
/// Below this p95 - p5 luma spread the photo is [`QualityProblem::LowContrast`]. Samples: 70 to
/// 216, the hazy moon 27.
pub const LOW_CONTRAST_BELOW: f64 = 40.0;
/// Below this long side (pixels) the photo is [`QualityProblem::TooSmall`]. A floor for the
/// preview only: phone photos are far larger, and the stored copy is at most 1600 px anyway.
pub const TOO_SMALL_LONG_SIDE_BELOW: u32 = 400;
/// Half-width of the hysteresis band around [`BLURRY_BELOW`], as a share of it: sharpness
/// within ±10% of the threshold is [`Standing::Borderline`], never a silent pass or fail. The
/// phone and the relay measure the same stored bytes with the same code, so their figures agree;
/// the band absorbs what floating point may still do differently on another CPU.
pub const SHARPNESS_BAND: f64 = 0.10;
/// Half-width of the band around the mean-luma thresholds, in luma levels.
pub const MEAN_LUMA_BAND: f64 = 5.0;
/// Half-width of the band around the clipped-share thresholds.
pub const CLIPPED_SHARE_BAND: f64 = 0.04;
/// Half-width of the band around [`LOW_CONTRAST_BELOW`], in luma levels.
pub const CONTRAST_BAND: f64 = 4.0;
/// Luma at or below which a pixel counts as crushed to black.
pub const DARK_CLIP_LUMA: u8 = 8;
/// Luma at or above which a pixel counts as blown out to white.
pub const BRIGHT_CLIP_LUMA: u8 = 247;

/// Raw measurements of one photo. The phone records its own in the photo reference
/// ([`crate::doc::PhotoRef::measured`]) so the relay can show both when they disagree.
#[derive(Debug, Clone, Copy, PartialEq, Hydrate, Reconcile)]
pub struct QualityMetrics {
    /// Variance of the 4-neighbour Laplacian of luma at [`MEASURE_LONG_SIDE`]; higher is sharper.
    pub sharpness: f64,
    /// Mean luma, 0-255.
    pub mean_luminance: f64,
    /// Share (0-1) of pixels with luma <= [`DARK_CLIP_LUMA`].
    pub dark_clipped_share: f64,
    /// Share (0-1) of pixels with luma >= [`BRIGHT_CLIP_LUMA`].
    pub bright_clipped_share: f64,
    /// 95th minus 5th percentile of luma, 0-255.
    pub contrast: f64,
    /// Width of the measured image (before the internal downscale).
    pub width: u32,
    /// Height of the measured image (before the internal downscale).
    pub height: u32,
}

/// Something about a photo that makes it worth retaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QualityProblem {
    /// Out of focus or shaken.
    Blurry,
    /// Underexposed.
    TooDark,
    /// Blown out.
    Overexposed,
    /// Flat, washed out (fog, glare, a dirty lens).
    LowContrast,
    /// Too few pixels to read a shelf.
    TooSmall,
}

impl fmt::Display for QualityProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Blurry => "blurry",
            Self::TooDark => "too dark",
            Self::Overexposed => "overexposed",
            Self::LowContrast => "low contrast",
            Self::TooSmall => "too small",
        })
    }
}

/// Where a measurement stands against one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Clearly on the good side.
    Clear,
    /// Within the hysteresis band around the threshold: a person should look.
    Borderline,
    /// Clearly on the bad side.
    Failed,
}

impl Standing {
    /// `value` against a threshold that fails values below `threshold`, with a band of `band`.
    fn below(value: f64, threshold: f64, band: f64) -> Self {
        if value < threshold - band {
            Self::Failed
        } else if value < threshold + band {
            Self::Borderline
        } else {
            Self::Clear
        }
    }

    /// `value` against a threshold that fails values above `threshold`, with a band of `band`.
    fn above(value: f64, threshold: f64, band: f64) -> Self {
        if value > threshold + band {
            Self::Failed
        } else if value > threshold - band {
            Self::Borderline
        } else {
            Self::Clear
        }
    }

    /// The worse of two standings.
    fn or(self, other: Self) -> Self {
        let rank = |s: Self| match s {
            Self::Clear => 0,
            Self::Borderline => 1,
            Self::Failed => 2,
        };
        if rank(other) > rank(self) { other } else { self }
    }
}

/// The metrics of a photo and the problems they reveal.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityPreview {
    /// The measurements.
    pub metrics: QualityMetrics,
    /// Problems found, clearly past their threshold, in a fixed order (blurry, too dark,
    /// overexposed, low contrast, too small).
    pub problems: Vec<QualityProblem>,
    /// Problems within the hysteresis band of their threshold, in the same order: not a reason
    /// to refuse the photo, but a person should look (the relay marks it `review`).
    pub borderline: Vec<QualityProblem>,
}

impl QualityPreview {
    /// Judges the metrics against the thresholds and their bands.
    ///
    /// Sharpness is not judged on a photo whose exposure clearly fails: the variance of the
    /// Laplacian shrinks with brightness, so a dark photo would read as blurry too, and the
    /// retake advice must name the one thing to fix (more light), not two.
    pub fn from_metrics(metrics: QualityMetrics) -> Self {
        let mut problems = Vec::new();
        let mut borderline = Vec::new();
        for (problem, standing) in standings(&metrics) {
            match standing {
                Standing::Failed => problems.push(problem),
                Standing::Borderline => borderline.push(problem),
                Standing::Clear => {}
            }
        }
        Self { metrics, problems, borderline }
    }

    /// Measures an image and judges it.
    pub fn of(image: &DynamicImage) -> Self {
        Self::from_metrics(measure(image))
    }

    /// True when no problem was found.
    pub fn is_acceptable(&self) -> bool {
        self.problems.is_empty()
    }

    /// One line for the capture screen, in English: `ok`; `ok, but close to blurry: retake if
    /// you can` when a figure is within a threshold's band; or the problems followed by
    /// `: retake` (e.g. `too dark, low contrast: retake`). [`Self::summary_message`] is the same
    /// line as a code with arguments, for the phone's language.
    pub fn summary(&self) -> String {
        self.summary_message().english()
    }

    /// The capture screen's line as a message: `quality-ok`, `quality-retake` (the problems) or
    /// `quality-retake-if-you-can` (the figures close to a threshold).
    pub fn summary_message(&self) -> Message {
        if !self.problems.is_empty() {
            return Message::new("quality-retake").part("problems", problem_list(&self.problems, "quality-list"));
        }
        if !self.borderline.is_empty() {
            let close = problem_list(&self.borderline, "quality-list-and");
            return Message::new("quality-retake-if-you-can").part("problems", close);
        }
        Message::new("quality-ok")
    }
}

impl QualityProblem {
    /// Its name as a message (`quality-problem-too-dark`).
    pub fn message(self) -> Message {
        Message::new(match self {
            Self::Blurry => "quality-problem-blurry",
            Self::TooDark => "quality-problem-too-dark",
            Self::Overexposed => "quality-problem-overexposed",
            Self::LowContrast => "quality-problem-low-contrast",
            Self::TooSmall => "quality-problem-too-small",
        })
    }
}

/// Problems as one message: `list` (`quality-list`: `a, b`; `quality-list-and`: `a and b`)
/// joining their names.
pub fn problem_list(problems: &[QualityProblem], list: &str) -> Message {
    let mut names = problems.iter().rev().map(|p| p.message());
    let last = names.next().unwrap_or_else(|| Message::new("quality-ok"));
    names.fold(last, |rest, first| Message::new(list).part("first", first).part("rest", rest))
}

/// The messages of photo quality (`quality-…`) and the arguments core gives each: checked
/// against the catalogs by the tests of [`crate::i18n`].
pub const MESSAGES: [(&str, &[&str]); 24] = [
    ("quality-ok", &[]),
    ("quality-retake", &["problems"]),
    ("quality-retake-if-you-can", &["problems"]),
    ("quality-list", &["first", "rest"]),
    ("quality-list-and", &["first", "rest"]),
    ("quality-problem-blurry", &[]),
    ("quality-problem-too-dark", &[]),
    ("quality-problem-overexposed", &[]),
    ("quality-problem-low-contrast", &[]),
    ("quality-problem-too-small", &[]),
    ("quality-blurry", &["sharpness", "needed"]),
    ("quality-too-dark-clipped", &["share", "allowed"]),
    ("quality-too-dark-mean", &["brightness", "needed"]),
    ("quality-overexposed-clipped", &["share", "allowed"]),
    ("quality-overexposed-mean", &["brightness", "allowed"]),
    ("quality-low-contrast", &["spread", "needed"]),
    ("quality-too-small", &["width", "height", "needed"]),
    ("quality-near-blurry", &["sharpness", "needed", "low", "high"]),
    ("quality-near-too-dark-clipped", &["share", "allowed", "points"]),
    ("quality-near-too-dark-mean", &["brightness", "needed", "band"]),
    ("quality-near-overexposed-clipped", &["share", "allowed", "points"]),
    ("quality-near-overexposed-mean", &["brightness", "allowed", "band"]),
    ("quality-near", &["problem"]),
    (
        "quality-phone-disagrees",
        &["problems", "phone-sharpness", "phone-brightness", "relay-sharpness", "relay-brightness"],
    ),
];

/// Each check's standing, in the fixed order of [`QualityPreview::problems`].
pub fn standings(m: &QualityMetrics) -> [(QualityProblem, Standing); 5] {
    let dark = Standing::below(m.mean_luminance, TOO_DARK_MEAN_BELOW, MEAN_LUMA_BAND).or(Standing::above(
        m.dark_clipped_share,
        TOO_DARK_CLIPPED_ABOVE,
        CLIPPED_SHARE_BAND,
    ));
    let bright = Standing::above(m.mean_luminance, OVEREXPOSED_MEAN_ABOVE, MEAN_LUMA_BAND).or(Standing::above(
        m.bright_clipped_share,
        OVEREXPOSED_CLIPPED_ABOVE,
        CLIPPED_SHARE_BAND,
    ));
    let exposure_fails = dark == Standing::Failed || bright == Standing::Failed;
    let blurry = if exposure_fails {
        Standing::Clear
    } else {
        Standing::below(m.sharpness, BLURRY_BELOW, BLURRY_BELOW * SHARPNESS_BAND)
    };
    // The size is read from the header, exactly, on both sides: no band.
    let small = if m.width.max(m.height) < TOO_SMALL_LONG_SIDE_BELOW { Standing::Failed } else { Standing::Clear };
    [
        (QualityProblem::Blurry, blurry),
        (QualityProblem::TooDark, dark),
        (QualityProblem::Overexposed, bright),
        (QualityProblem::LowContrast, Standing::below(m.contrast, LOW_CONTRAST_BELOW, CONTRAST_BAND)),
        (QualityProblem::TooSmall, small),
    ]
}

/// Measures sharpness, exposure and contrast of an image.
pub fn measure(image: &DynamicImage) -> QualityMetrics {
    let (width, height) = image.dimensions();
    measure_reduced(&measuring_luma(image), width, height)
}

/// Measures luma already reduced to the measuring scale; `width` and `height` are the size of the
/// image it was reduced from.
pub(crate) fn measure_reduced(luma: &GrayImage, width: u32, height: u32) -> QualityMetrics {
    let histogram = histogram(luma);
    let count: u64 = histogram.iter().sum();
    let share = |range: std::ops::RangeInclusive<u8>| -> f64 {
        if count == 0 {
            return 0.0;
        }
        let n: u64 = histogram[usize::from(*range.start())..=usize::from(*range.end())].iter().sum();
        n as f64 / count as f64
    };
    let mean_luminance = if count == 0 {
        0.0
    } else {
        histogram.iter().enumerate().map(|(v, &n)| v as f64 * n as f64).sum::<f64>() / count as f64
    };
    QualityMetrics {
        sharpness: laplacian_variance(luma),
        mean_luminance,
        dark_clipped_share: share(0..=DARK_CLIP_LUMA),
        bright_clipped_share: share(BRIGHT_CLIP_LUMA..=255),
        contrast: f64::from(percentile(&histogram, 0.95)) - f64::from(percentile(&histogram, 0.05)),
        width,
        height,
    }
}

/// Luma at the fixed measuring scale (area-averaged, which keeps that scale's own detail).
fn measuring_luma(image: &DynamicImage) -> GrayImage {
    super::downscale::fit_luma_within(image.to_luma8(), MEASURE_LONG_SIDE)
}

fn histogram(luma: &GrayImage) -> [u64; 256] {
    let mut histogram = [0u64; 256];
    for &v in luma.as_raw() {
        histogram[usize::from(v)] += 1;
    }
    histogram
}

/// Smallest luma value at or below which at least `fraction` of the pixels lie.
fn percentile(histogram: &[u64; 256], fraction: f64) -> u8 {
    let count: u64 = histogram.iter().sum();
    let target = (fraction * count as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (value, &n) in (0u8..=255).zip(histogram.iter()) {
        seen += n;
        if seen >= target {
            return value;
        }
    }
    255
}

/// Variance of the 4-neighbour Laplacian `[0 1 0; 1 -4 1; 0 1 0]` over interior pixels.
///
/// Computed by hand in i32: `image`'s `filter3x3` clamps results to the pixel range, which
/// throws away the negative half of every edge response.
pub fn laplacian_variance(luma: &GrayImage) -> f64 {
    let (width, height) = luma.dimensions();
    if width < 3 || height < 3 {
        return 0.0;
    }
    let w = width as usize;
    let px = luma.as_raw();
    let mut sum = 0.0f64;
    let mut sum_sq = 0.0f64;
    for y in 1..height as usize - 1 {
        let row = y * w;
        for x in 1..w - 1 {
            let i = row + x;
            // `as` rather than `From`: this loop runs per pixel in debug test builds too.
            let l =
                (px[i - w] as i32 + px[i + w] as i32 + px[i - 1] as i32 + px[i + 1] as i32 - 4 * px[i] as i32) as f64;
            sum += l;
            sum_sq += l * l;
        }
    }
    let n = ((w - 2) * (height as usize - 2)) as f64;
    let mean = sum / n;
    (sum_sq / n - mean * mean).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn metrics(sharpness: f64, mean: f64, dark: f64, bright: f64, contrast: f64) -> QualityMetrics {
        QualityMetrics {
            sharpness,
            mean_luminance: mean,
            dark_clipped_share: dark,
            bright_clipped_share: bright,
            contrast,
            width: 1600,
            height: 1200,
        }
    }

    #[test]
    fn laplacian_of_a_flat_or_linear_ramp_is_zero() {
        let flat = GrayImage::from_pixel(10, 10, Luma([77]));
        assert_eq!(laplacian_variance(&flat), 0.0);
        let ramp = GrayImage::from_fn(10, 10, |x, y| Luma([(10 * x + 3 * y) as u8]));
        assert_eq!(laplacian_variance(&ramp), 0.0);
    }

    #[test]
    fn laplacian_keeps_negative_responses() {
        // A checkerboard of 0/100: the Laplacian is +400 on dark cells and -400 on bright ones,
        // mean 0, so the variance is exactly 160000. Clipping negatives would halve the signal.
        let board = GrayImage::from_fn(8, 8, |x, y| Luma([if (x + y) % 2 == 0 { 0 } else { 100 }]));
        assert_eq!(laplacian_variance(&board), 160_000.0);
    }

    #[test]
    fn laplacian_of_a_single_bright_pixel_matches_the_hand_sum() {
        // 5x5 zeros with one 10 in the centre: interior 3x3 responses are -40 at the centre and
        // +10 at its four neighbours. Mean 0, mean square (1600 + 4*100)/9.
        let mut img = GrayImage::new(5, 5);
        img.put_pixel(2, 2, Luma([10]));
        let expected = 2000.0 / 9.0;
        assert!((laplacian_variance(&img) - expected).abs() < 1e-9);
    }

    #[test]
    fn tiny_images_have_zero_sharpness_instead_of_panicking() {
        assert_eq!(laplacian_variance(&GrayImage::new(2, 9)), 0.0);
        let m = measure(&DynamicImage::new_luma8(1, 1));
        assert_eq!(m.sharpness, 0.0);
    }

    #[test]
    fn percentiles_and_clipped_shares_come_from_the_histogram() {
        // 100 pixels: 10 at 0, 80 at 128, 10 at 255.
        let img = GrayImage::from_fn(10, 10, |_, y| {
            Luma([match y {
                0 => 0,
                9 => 255,
                _ => 128,
            }])
        });
        let m = measure(&DynamicImage::ImageLuma8(img));
        assert_eq!(m.dark_clipped_share, 0.1);
        assert_eq!(m.bright_clipped_share, 0.1);
        assert_eq!(m.contrast, 255.0);
        assert!((m.mean_luminance - (80.0 * 128.0 + 10.0 * 255.0) / 100.0).abs() < 1e-9);
    }

    #[test]
    fn problems_are_listed_in_order_and_summarised() {
        let good = QualityPreview::from_metrics(metrics(500.0, 120.0, 0.01, 0.01, 150.0));
        assert!(good.is_acceptable());
        assert_eq!(good.summary(), "ok");

        let bad = QualityPreview::from_metrics(metrics(10.0, 120.0, 0.0, 0.0, 20.0));
        assert_eq!(bad.problems, vec![QualityProblem::Blurry, QualityProblem::LowContrast]);
        assert_eq!(bad.summary(), "blurry, low contrast: retake");
    }

    #[test]
    fn a_dark_photo_is_called_too_dark_not_blurry() {
        let dark = QualityPreview::from_metrics(metrics(10.0, 30.0, 0.5, 0.0, 150.0));
        assert_eq!(dark.problems, vec![QualityProblem::TooDark]);
        assert_eq!(dark.summary(), "too dark: retake");
        let glare = QualityPreview::from_metrics(metrics(10.0, 240.0, 0.0, 0.6, 150.0));
        assert_eq!(glare.problems, vec![QualityProblem::Overexposed]);
    }

    #[test]
    fn figures_near_a_threshold_are_borderline_on_both_sides_of_it() {
        // (sharpness, expected): failed below 90, borderline 90..110, clear from 110.
        for (sharpness, problems, borderline) in [
            (89.9, vec![QualityProblem::Blurry], vec![]),
            (90.0, vec![], vec![QualityProblem::Blurry]),
            (99.0, vec![], vec![QualityProblem::Blurry]),
            (104.6, vec![], vec![QualityProblem::Blurry]),
            (110.0, vec![], vec![]),
        ] {
            let p = QualityPreview::from_metrics(metrics(sharpness, 120.0, 0.0, 0.0, 150.0));
            assert_eq!((p.problems.clone(), p.borderline.clone()), (problems, borderline), "{sharpness}");
        }
        let near_dark = QualityPreview::from_metrics(metrics(500.0, 52.0, 0.0, 0.0, 150.0));
        assert_eq!(near_dark.borderline, vec![QualityProblem::TooDark]);
        assert!(near_dark.is_acceptable());
        assert_eq!(near_dark.summary(), "ok, but close to too dark: retake if you can");
    }

    #[test]
    fn small_images_are_flagged_too_small() {
        let mut m = metrics(500.0, 120.0, 0.0, 0.0, 150.0);
        m.width = 320;
        m.height = 240;
        assert_eq!(QualityPreview::from_metrics(m).problems, vec![QualityProblem::TooSmall]);
    }
}
