//! Photo quality, 0–100, from the measured [`QualityMetrics`].
//!
//! Four parts, each 0–1, weighted into the score: sharpness 40, exposure 30, contrast 15,
//! resolution 15. Sharpness is read on a log scale because the variance of the Laplacian spans
//! two orders of magnitude between a shaken photo and a crisp one. The hard failures use the very
//! thresholds of the capture-screen preview ([`crate::photo::quality`]), with the same
//! hysteresis bands, so a photo the phone called fine is never failed by the relay for a reason
//! the supervisor was not shown: a figure within a band is `borderline` (the photo counts
//! provisionally and a person looks), never a silent flip. A photo with a hard failure is not
//! usable as evidence and scores at most [`FAILED_PHOTO_CAP`].

use crate::i18n::Message;
use crate::photo::quality::{
    BLURRY_BELOW, CLIPPED_SHARE_BAND, LOW_CONTRAST_BELOW, MEAN_LUMA_BAND, OVEREXPOSED_CLIPPED_ABOVE,
    OVEREXPOSED_MEAN_ABOVE, SHARPNESS_BAND, TOO_DARK_CLIPPED_ABOVE, TOO_DARK_MEAN_BELOW, TOO_SMALL_LONG_SIDE_BELOW,
};
use crate::photo::{QualityMetrics, QualityPreview, QualityProblem};

/// Weight of sharpness in the 0–100 score.
pub const SHARPNESS_WEIGHT: f64 = 40.0;
/// Weight of exposure in the 0–100 score.
pub const EXPOSURE_WEIGHT: f64 = 30.0;
/// Weight of contrast in the 0–100 score.
pub const CONTRAST_WEIGHT: f64 = 15.0;
/// Weight of resolution in the 0–100 score.
pub const RESOLUTION_WEIGHT: f64 = 15.0;
/// Highest score of a photo with a hard failure.
pub const FAILED_PHOTO_CAP: f64 = 40.0;

/// Sharpness (variance of the Laplacian) that earns nothing: the real motion-blurred sample
/// measures 24.
const SHARPNESS_FLOOR: f64 = 25.0;
/// Sharpness that earns the full part: sharp sample photos measure 176 to 5295.
const SHARPNESS_FULL: f64 = 400.0;
/// Mean luma band that earns the full exposure part.
const EXPOSURE_BAND: (f64, f64) = (80.0, 180.0);
/// Mean luma at which the exposure part reaches 0, below and above the band.
const EXPOSURE_ZERO: (f64, f64) = (30.0, 235.0);
/// Combined clipped share (black plus white) at which the exposure part reaches 0.
const CLIPPED_ZERO: f64 = 0.5;
/// Percentile spread that earns nothing, and the full part.
const CONTRAST_RANGE: (f64, f64) = (20.0, 100.0);
/// Long side (px) that earns nothing, and the full part (stored photos are at most 1600 px).
const RESOLUTION_RANGE: (f64, f64) = (320.0, 1200.0);

/// The quality of one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoQuality {
    /// 0–100, one decimal.
    pub score: f64,
    /// Sharpness part, 0–1.
    pub sharpness: f64,
    /// Exposure part, 0–1.
    pub exposure: f64,
    /// Contrast part, 0–1.
    pub contrast: f64,
    /// Resolution part, 0–1.
    pub resolution: f64,
    /// Hard failures (blurry, too dark, overexposed, too small), in that order.
    pub failures: Vec<QualityProblem>,
    /// Hard checks whose figure lies within the threshold's hysteresis band: the photo counts
    /// provisionally and needs a person's look.
    pub borderline: Vec<QualityProblem>,
    /// Why, as messages (`quality-…`): each failure, then soft problems.
    pub reasons: Vec<Message>,
}

impl PhotoQuality {
    /// True when the photo has no hard failure and can count as evidence.
    pub fn usable(&self) -> bool {
        self.failures.is_empty()
    }

    /// True when the photo is usable but a figure is too close to a threshold to be sure.
    pub fn borderline(&self) -> bool {
        self.failures.is_empty() && !self.borderline.is_empty()
    }
}

/// Scores measured metrics; see the module docs.
pub fn score_photo(metrics: &QualityMetrics) -> PhotoQuality {
    let m = sanitized(metrics);
    let long_side = f64::from(m.width.max(m.height));
    let sharpness = if m.sharpness <= SHARPNESS_FLOOR {
        0.0
    } else {
        ((m.sharpness / SHARPNESS_FLOOR).ln() / (SHARPNESS_FULL / SHARPNESS_FLOOR).ln()).clamp(0.0, 1.0)
    };
    let mean_part = if m.mean_luminance < EXPOSURE_BAND.0 {
        ramp(m.mean_luminance, EXPOSURE_ZERO.0, EXPOSURE_BAND.0)
    } else if m.mean_luminance > EXPOSURE_BAND.1 {
        1.0 - ramp(m.mean_luminance, EXPOSURE_BAND.1, EXPOSURE_ZERO.1)
    } else {
        1.0
    };
    let clipped = m.dark_clipped_share + m.bright_clipped_share;
    let exposure = mean_part * (1.0 - clipped / CLIPPED_ZERO).clamp(0.0, 1.0);
    let contrast = ramp(m.contrast, CONTRAST_RANGE.0, CONTRAST_RANGE.1);
    let resolution = ramp(long_side, RESOLUTION_RANGE.0, RESOLUTION_RANGE.1);
    let raw = SHARPNESS_WEIGHT * sharpness
        + EXPOSURE_WEIGHT * exposure
        + CONTRAST_WEIGHT * contrast
        + RESOLUTION_WEIGHT * resolution;

    let preview = QualityPreview::from_metrics(m);
    let hard = |p: &&QualityProblem| **p != QualityProblem::LowContrast;
    let failures: Vec<QualityProblem> = preview.problems.iter().filter(hard).copied().collect();
    let borderline: Vec<QualityProblem> = preview.borderline.iter().filter(hard).copied().collect();
    let score = if failures.is_empty() { raw } else { raw.min(FAILED_PHOTO_CAP) };
    let mut reasons: Vec<Message> = preview.problems.iter().map(|problem| reason(*problem, &m)).collect();
    if failures.is_empty() {
        reasons.extend(borderline.iter().map(|problem| borderline_reason(*problem, &m)));
    }
    PhotoQuality { score: round1(score), sharpness, exposure, contrast, resolution, failures, borderline, reasons }
}

/// A whole figure as shown (`{:.0}`).
fn whole(value: f64) -> String {
    format!("{value:.0}")
}

/// The reason for one problem, naming the measured value and the threshold.
fn reason(problem: QualityProblem, m: &QualityMetrics) -> Message {
    match problem {
        QualityProblem::Blurry => {
            Message::new("quality-blurry").arg("sharpness", whole(m.sharpness)).arg("needed", whole(BLURRY_BELOW))
        }
        QualityProblem::TooDark if m.dark_clipped_share > TOO_DARK_CLIPPED_ABOVE => {
            Message::new("quality-too-dark-clipped")
                .arg("share", whole(m.dark_clipped_share * 100.0))
                .arg("allowed", whole(TOO_DARK_CLIPPED_ABOVE * 100.0))
        }
        QualityProblem::TooDark => Message::new("quality-too-dark-mean")
            .arg("brightness", whole(m.mean_luminance))
            .arg("needed", whole(TOO_DARK_MEAN_BELOW)),
        QualityProblem::Overexposed if m.bright_clipped_share > OVEREXPOSED_CLIPPED_ABOVE => {
            Message::new("quality-overexposed-clipped")
                .arg("share", whole(m.bright_clipped_share * 100.0))
                .arg("allowed", whole(OVEREXPOSED_CLIPPED_ABOVE * 100.0))
        }
        QualityProblem::Overexposed => Message::new("quality-overexposed-mean")
            .arg("brightness", whole(m.mean_luminance))
            .arg("allowed", whole(OVEREXPOSED_MEAN_ABOVE)),
        QualityProblem::LowContrast => Message::new("quality-low-contrast")
            .arg("spread", whole(m.contrast))
            .arg("needed", whole(LOW_CONTRAST_BELOW)),
        QualityProblem::TooSmall => Message::new("quality-too-small")
            .arg("width", m.width)
            .arg("height", m.height)
            .arg("needed", TOO_SMALL_LONG_SIDE_BELOW),
    }
}

/// The reason for a figure within a threshold's band.
fn borderline_reason(problem: QualityProblem, m: &QualityMetrics) -> Message {
    match problem {
        QualityProblem::Blurry => Message::new("quality-near-blurry")
            .arg("sharpness", whole(m.sharpness))
            .arg("needed", whole(BLURRY_BELOW))
            .arg("low", whole(BLURRY_BELOW * (1.0 - SHARPNESS_BAND)))
            .arg("high", whole(BLURRY_BELOW * (1.0 + SHARPNESS_BAND))),
        QualityProblem::TooDark if (m.dark_clipped_share - TOO_DARK_CLIPPED_ABOVE).abs() < CLIPPED_SHARE_BAND => {
            Message::new("quality-near-too-dark-clipped")
                .arg("share", whole(m.dark_clipped_share * 100.0))
                .arg("allowed", whole(TOO_DARK_CLIPPED_ABOVE * 100.0))
                .arg("points", whole(CLIPPED_SHARE_BAND * 100.0))
        }
        QualityProblem::TooDark => Message::new("quality-near-too-dark-mean")
            .arg("brightness", whole(m.mean_luminance))
            .arg("needed", whole(TOO_DARK_MEAN_BELOW))
            .arg("band", whole(MEAN_LUMA_BAND)),
        QualityProblem::Overexposed
            if (m.bright_clipped_share - OVEREXPOSED_CLIPPED_ABOVE).abs() < CLIPPED_SHARE_BAND =>
        {
            Message::new("quality-near-overexposed-clipped")
                .arg("share", whole(m.bright_clipped_share * 100.0))
                .arg("allowed", whole(OVEREXPOSED_CLIPPED_ABOVE * 100.0))
                .arg("points", whole(CLIPPED_SHARE_BAND * 100.0))
        }
        QualityProblem::Overexposed => Message::new("quality-near-overexposed-mean")
            .arg("brightness", whole(m.mean_luminance))
            .arg("allowed", whole(OVEREXPOSED_MEAN_ABOVE))
            .arg("band", whole(MEAN_LUMA_BAND)),
        QualityProblem::LowContrast | QualityProblem::TooSmall => {
            Message::new("quality-near").part("problem", problem.message())
        }
    }
}

/// Whether a quality reason says a figure is close to its threshold (the photo counts
/// provisionally).
pub fn is_near(reason: &Message) -> bool {
    reason.code.starts_with("quality-near") || reason.code == "quality-phone-disagrees"
}

/// Non-finite measurements (never produced by [`crate::photo::measure`], but these are inputs)
/// count as the worst value.
fn sanitized(metrics: &QualityMetrics) -> QualityMetrics {
    let finite = |v: f64, worst: f64| if v.is_finite() { v } else { worst };
    QualityMetrics {
        sharpness: finite(metrics.sharpness, 0.0).max(0.0),
        mean_luminance: finite(metrics.mean_luminance, 0.0).clamp(0.0, 255.0),
        dark_clipped_share: finite(metrics.dark_clipped_share, 1.0).clamp(0.0, 1.0),
        bright_clipped_share: finite(metrics.bright_clipped_share, 1.0).clamp(0.0, 1.0),
        contrast: finite(metrics.contrast, 0.0).clamp(0.0, 255.0),
        width: metrics.width,
        height: metrics.height,
    }
}

/// 0 at or below `zero`, 1 at or above `full`, linear between.
fn ramp(value: f64, zero: f64, full: f64) -> f64 {
    ((value - zero) / (full - zero)).clamp(0.0, 1.0)
}

/// Rounds to one decimal, so a stored score does not churn in its last bits.
pub(crate) fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(sharpness: f64, mean: f64, dark: f64, bright: f64, contrast: f64, long: u32) -> QualityMetrics {
        QualityMetrics {
            sharpness,
            mean_luminance: mean,
            dark_clipped_share: dark,
            bright_clipped_share: bright,
            contrast,
            width: long,
            height: long * 3 / 4,
        }
    }

    #[test]
    fn an_ideal_photo_scores_100_and_is_usable() {
        let q = score_photo(&metrics(5000.0, 120.0, 0.0, 0.0, 180.0, 1600));
        assert_eq!(q.score, 100.0);
        assert!(q.usable());
        assert!(q.reasons.is_empty());
    }

    #[test]
    fn each_hard_failure_is_named_and_caps_the_score() {
        let cases = [
            (metrics(50.0, 120.0, 0.0, 0.0, 180.0, 1600), QualityProblem::Blurry, "blurry"),
            (metrics(5000.0, 30.0, 0.1, 0.0, 180.0, 1600), QualityProblem::TooDark, "too dark"),
            (metrics(5000.0, 120.0, 0.5, 0.0, 180.0, 1600), QualityProblem::TooDark, "too dark"),
            (metrics(5000.0, 230.0, 0.0, 0.1, 180.0, 1600), QualityProblem::Overexposed, "overexposed"),
            (metrics(5000.0, 150.0, 0.0, 0.3, 180.0, 1600), QualityProblem::Overexposed, "overexposed"),
            (metrics(5000.0, 120.0, 0.0, 0.0, 180.0, 300), QualityProblem::TooSmall, "too small"),
        ];
        for (m, problem, word) in cases {
            let q = score_photo(&m);
            assert_eq!(q.failures, vec![problem], "{m:?}");
            assert!(!q.usable());
            assert!(q.score <= FAILED_PHOTO_CAP, "{m:?}: {}", q.score);
            assert!(q.reasons[0].english().starts_with(word), "{:?}", q.reasons);
        }
    }

    #[test]
    fn a_figure_in_the_band_is_borderline_not_failed_and_says_so() {
        let q = score_photo(&metrics(104.6, 120.0, 0.0, 0.0, 180.0, 1600));
        assert!(q.usable() && q.borderline(), "{q:?}");
        assert!(q.reasons[0].english().starts_with("close to blurry: sharpness 105"), "{:?}", q.reasons);
        let failed = score_photo(&metrics(85.0, 120.0, 0.0, 0.0, 180.0, 1600));
        assert!(!failed.usable() && !failed.borderline());
    }

    #[test]
    fn low_contrast_lowers_the_score_without_failing_the_photo() {
        let crisp = score_photo(&metrics(800.0, 120.0, 0.0, 0.0, 150.0, 1600));
        let flat = score_photo(&metrics(800.0, 120.0, 0.0, 0.0, 30.0, 1600));
        assert!(flat.usable());
        assert!(flat.score < crisp.score);
        assert!(flat.reasons[0].english().starts_with("low contrast"));
    }

    #[test]
    fn each_part_is_monotonic() {
        let base = || metrics(200.0, 120.0, 0.0, 0.0, 80.0, 800);
        let score = |m: QualityMetrics| score_photo(&m).score;
        let mut sharper = base();
        sharper.sharpness = 300.0;
        assert!(score(sharper) > score(base()));
        let mut darker = base();
        darker.mean_luminance = 60.0;
        assert!(score(darker) < score(base()));
        let mut clipped = base();
        clipped.bright_clipped_share = 0.1;
        assert!(score(clipped) < score(base()));
        let mut bigger = base();
        bigger.width = 1200;
        assert!(score(bigger) > score(base()));
    }

    #[test]
    fn non_finite_metrics_score_as_the_worst_photo_instead_of_nan() {
        let q = score_photo(&metrics(f64::NAN, f64::INFINITY, f64::NAN, 0.0, f64::NAN, 1600));
        assert!(q.score.is_finite());
        assert!(!q.usable());
    }
}
