//! Inspection scoring, shared by the phone's preview and the relay's verdict.
//!
//! Pure functions over plain inputs: the [`Inspection`], its [`Template`], the store's location,
//! what the photos' pixels showed ([`PhotoPixels`], from [`crate::photo::analyze`]) and the
//! tenant's photos of other visits ([`EarlierPhoto`]). [`score_inspection`] puts together:
//!
//! - per photo, a quality score 0–100 with hard-fail reasons ([`photo_quality`]);
//! - per photo, the evidence trust with its reasons ([`evidence`]): capture time and place as the
//!   app claimed them, the original file's EXIF, and reuse (mirrored and turned copies too);
//! - per item, weighted checklist compliance, where only photos that count as evidence earn a
//!   photo item's points (rejected photos never; photos to review provisionally) ([`audit`]);
//! - for the visit, its place (check-in and check-out against the store's geofence), and one
//!   verdict, pass / review / rejected, with its reasons. A rejected visit's score is capped at
//!   [`REJECTED_VISIT_CAP`].
//!
//! The rules are described, with a worked example, in `docs/scoring.md`. The result is the
//! [`InspectionScore`] document the relay writes. [`SCORING_VERSION`] is
//! stored with it: bump it whenever a rule or threshold changes what a score would be, so a
//! report always says which rules produced it.

pub mod audit;
pub mod evidence;
pub mod photo_quality;

use std::collections::BTreeMap;

pub use audit::{Audit, PhotoUse, Standing, audit};
pub use evidence::{EarlierPhoto, Finding, Location, TrustThresholds, distance_m, worst};
pub use photo_quality::{PhotoQuality, score_photo};

use crate::doc::{Inspection, InspectionScore, PhotoAssessment, PhotoRef, Template, Trust};
use crate::i18n::{Message, english_texts};
use crate::photo::{PhotoAnalysis, QualityMetrics};

impl From<PhotoAnalysis> for PhotoPixels {
    fn from(analysis: PhotoAnalysis) -> Self {
        PhotoPixels::Measured {
            metrics: analysis.metrics,
            phash: analysis.phash,
            transformed_phashes: analysis.transformed_phashes,
        }
    }
}

/// The version of the scoring rules; stored in every [`InspectionScore`]. 2: evidence trust
/// enters the points, the visit's place and the original's EXIF are checked, reuse covers
/// flips and turns, quality has hysteresis bands, and the report carries a verdict.
pub const SCORING_VERSION: u64 = 2;

/// Highest score of a visit whose verdict is `rejected` (checked in or out far from the store):
/// the answers may be right, but nothing shows the supervisor was there to give them.
pub const REJECTED_VISIT_CAP: f64 = 50.0;

/// The messages of score reasons (`reason-…`) and the arguments core gives each: checked
/// against the catalogs by the tests of [`crate::i18n`]. Quality reasons are in
/// [`crate::photo::quality::MESSAGES`].
pub const MESSAGES: [(&str, &[&str]); 55] = [
    ("reason-verdict", &["verdict"]),
    ("reason-preview-local", &[]),
    ("reason-audit-score", &["score", "earned", "possible"]),
    ("reason-score-capped", &["cap", "score", "earned", "possible"]),
    ("reason-provisional-items", &["count", "items"]),
    ("reason-photos-rejected", &["count"]),
    ("reason-evidence-none", &[]),
    ("reason-evidence", &["pass", "review", "rejected"]),
    ("reason-list", &["first", "rest"]),
    ("reason-invalid-weight", &["weight"]),
    ("reason-not-answered", &[]),
    ("reason-not-applicable", &[]),
    ("reason-answered-no", &[]),
    ("reason-answered-yes", &[]),
    ("reason-yes-trusted", &["trusted", "review", "not-counted"]),
    ("reason-yes-provisional", &["review", "not-counted"]),
    ("reason-yes-no-photo", &[]),
    ("reason-yes-no-usable-photo", &["photos"]),
    ("reason-photo-to-review", &["photo", "why"]),
    ("reason-photo-not-counted", &["photo", "why"]),
    ("reason-needs-a-look", &[]),
    ("reason-not-usable", &[]),
    ("reason-unusable", &["reason"]),
    ("reason-not-arrived", &[]),
    ("reason-good-quality", &[]),
    ("reason-item-not-on-checklist", &["item"]),
    ("reason-photo-accepted", &["reviewer", "reason"]),
    ("reason-photo-rejected", &["reviewer", "reason"]),
    ("reason-same-gps-as-the-visit", &[]),
    ("reason-same-gps", &[]),
    ("reason-identical-gps", &["count", "latitude", "longitude"]),
    ("reason-taken-before-check-in", &["before", "at", "slack"]),
    ("reason-taken-after-check-out", &["after", "at", "slack"]),
    ("reason-taken-during-visit", &[]),
    ("reason-no-check-out", &[]),
    ("reason-store-without-location", &[]),
    ("reason-photo-without-gps", &[]),
    ("reason-position-invalid", &["done"]),
    ("reason-place-at-store", &["done", "distance", "allowed"]),
    ("reason-place-near-store", &["done", "distance", "allowed"]),
    ("reason-place-far-from-store", &["done", "distance", "limit"]),
    ("reason-gps-too-coarse", &["done", "accuracy"]),
    ("reason-check-in-and-out-apart", &["apart", "limit"]),
    ("reason-exif-no-time", &[]),
    ("reason-exif-time-unreadable", &["time"]),
    ("reason-exif-time-in-zone", &["time", "offset"]),
    ("reason-exif-time-camera-clock", &["time"]),
    ("reason-exif-before-check-in", &["taken", "before"]),
    ("reason-exif-after-check-out", &["taken", "after"]),
    ("reason-exif-during-visit", &["taken"]),
    ("reason-exif-consistent-with-visit", &["taken"]),
    ("reason-exif-gps-uncomparable", &[]),
    ("reason-exif-gps", &["distance", "verdict"]),
    ("reason-reused-file", &["place", "taken"]),
    ("reason-reused-copy", &["place", "taken", "bits", "how"]),
];

/// What reading one photo's pixels gave.
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoPixels {
    /// Decoded and measured.
    Measured {
        /// Sharpness, exposure, contrast, size.
        metrics: QualityMetrics,
        /// Perceptual hash computed from the pixels (16 hex digits).
        phash: String,
        /// Hashes of the photo's flips and quarter turns
        /// ([`crate::photo::PhotoAnalysis::transformed_phashes`]).
        transformed_phashes: Vec<String>,
    },
    /// The bytes could not be used (corrupt, a pixel bomb, too slow, missing).
    Unreadable {
        /// Why, in words a supervisor understands.
        reason: String,
    },
}

/// A person's decision on a photo the scorer put at review (a supervisor's manager or HQ
/// looked at it): accepted photos count as trusted evidence, rejected ones earn nothing. It
/// overrides every automatic finding about that photo, and its reason joins the photo's reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoReview {
    /// Accepted (`true`) or rejected.
    pub accepted: bool,
    /// Who decided (a username).
    pub reviewer: String,
    /// Why.
    pub reason: String,
}

impl PhotoReview {
    /// The trust the decision gives.
    pub fn trust(&self) -> Trust {
        if self.accepted { Trust::Pass } else { Trust::Rejected }
    }

    /// The decision as a photo's reason, in English: `accepted by hugo: display is in place`.
    pub fn reason_text(&self) -> String {
        self.reason_message().english()
    }

    /// The decision as a photo's reason (`reason-photo-accepted`, `reason-photo-rejected`); the
    /// reviewer's own words stay as they wrote them.
    pub fn reason_message(&self) -> Message {
        let code = if self.accepted { "reason-photo-accepted" } else { "reason-photo-rejected" };
        Message::new(code).arg("reviewer", &self.reviewer).arg("reason", &self.reason)
    }
}

/// No decisions: what a scoring run that nobody reviewed reads.
pub static NO_REVIEWS: BTreeMap<String, PhotoReview> = BTreeMap::new();

/// Everything one scoring run reads.
#[derive(Debug, Clone, Copy)]
pub struct ScoringInput<'a> {
    /// The inspection's document id.
    pub inspection_id: &'a str,
    /// The inspection.
    pub inspection: &'a Inspection,
    /// Its checklist template.
    pub template: &'a Template,
    /// The inspected store's location.
    pub store: Location,
    /// The store's own geofence radius in metres ([`crate::doc::RetailStore::geofence_m`]): when
    /// above 0 it is the smallest pass radius instead of the checklist's.
    pub store_geofence_m: f64,
    /// Per photo SHA-256, what its pixels showed; a photo missing here counts as unreadable.
    pub pixels: &'a BTreeMap<String, PhotoPixels>,
    /// The tenant's photos of other visits (photos of this inspection are ignored).
    pub earlier: &'a [EarlierPhoto],
    /// People's decisions on photos to review, by SHA-256 ([`PhotoReview`]).
    pub reviews: &'a BTreeMap<String, PhotoReview>,
    /// The inspection heads being scored (hex).
    pub scored_heads: &'a [String],
    /// When, ms since the Unix epoch.
    pub scored_at: i64,
}

/// The evidence thresholds of one scoring run: the checklist's (or the defaults), with the
/// store's own geofence radius as the smallest pass radius when it has one.
pub fn thresholds(input: &ScoringInput<'_>) -> TrustThresholds {
    let mut thresholds = input.template.trust.unwrap_or_default();
    if input.store_geofence_m > 0.0 {
        thresholds.geofence_min_m = input.store_geofence_m;
    }
    thresholds
}

/// Scores an inspection; see the module docs. Deterministic: the same input gives the same
/// document.
pub fn score_inspection(input: &ScoringInput<'_>) -> InspectionScore {
    let inspection = input.inspection;
    let thresholds = thresholds(input);
    let photos = ordered_photos(inspection, input.template);
    let check_out_at = inspection.check_out.map(|v| v.at);

    let mut assessments = Vec::new();
    let mut notes: Vec<PhotoNotes> = Vec::new();
    for photo in &photos {
        let (quality, mut reasons, phash, transformed) = match input.pixels.get(&photo.sha256) {
            Some(PhotoPixels::Measured { metrics, phash, transformed_phashes }) => {
                let mut quality = score_photo(metrics);
                let mut reasons = quality.reasons.clone();
                if let Some(note) = phone_disagreement(&mut quality, metrics, photo.measured.as_ref()) {
                    reasons.push(note);
                }
                (Some(quality), reasons, Some(phash.as_str()), transformed_phashes.as_slice())
            }
            Some(PhotoPixels::Unreadable { reason }) => {
                (None, vec![Message::new("reason-unusable").arg("reason", reason)], None, &[][..])
            }
            None => (None, vec![Message::new("reason-not-arrived")], None, &[][..]),
        };
        let usable = quality.as_ref().is_some_and(PhotoQuality::usable);
        let borderline = quality.as_ref().is_some_and(PhotoQuality::borderline);
        if usable && reasons.is_empty() {
            reasons.push(Message::new("reason-good-quality"));
        }
        if input.template.item(&photo.item_id).is_none() {
            reasons.push(Message::new("reason-item-not-on-checklist").arg("item", format!("{:?}", photo.item_id)));
        }

        let mut findings =
            vec![evidence::check_capture_time(photo.captured_at, inspection.check_in.at, check_out_at, &thresholds)];
        findings.extend(evidence::check_position(photo.position, input.store, &thresholds));
        findings.extend(evidence::check_original(
            photo.original.as_ref(),
            inspection.check_in.at,
            check_out_at,
            input.store,
            &thresholds,
        ));
        // The relay's own hash when the pixels were read; the phone's only when they were not.
        let phash = phash.or(Some(photo.phash.as_str()).filter(|h| !h.is_empty()));
        findings.extend(evidence::check_reuse(
            &photo.sha256,
            phash,
            transformed,
            input.inspection_id,
            &inspection.store_id,
            input.earlier,
            &thresholds,
        ));
        let review = input.reviews.get(&photo.sha256);
        let trust = match review {
            Some(review) => review.trust(),
            None => findings.iter().fold(Trust::Pass, |acc, f| worst(acc, f.trust)),
        };
        let first = |level: Trust| findings.iter().find(|f| f.trust == level).map(|f| f.reason.clone());
        let quality_note = match &quality {
            Some(q) if !q.usable() => reasons.first().cloned(),
            Some(q) if q.borderline() => reasons.iter().find(|r| photo_quality::is_near(r)).cloned(),
            None => reasons.first().cloned(),
            Some(_) => None,
        };
        notes.push(PhotoNotes {
            usable,
            borderline,
            quality: quality_note,
            rejected: first(Trust::Rejected),
            review: first(Trust::Review),
        });
        reasons.extend(findings.into_iter().map(|f| f.reason));
        if let Some(review) = review {
            reasons.push(review.reason_message());
        }
        assessments.push(PhotoAssessment {
            sha256: photo.sha256.clone(),
            quality: quality.map_or(0.0, |q| q.score),
            trust,
            reasons: english_texts(&reasons),
            reason_messages: reasons,
        });
    }

    let mut verdict = Trust::Pass;
    let mut visit_reasons = Vec::new();
    let positions: Vec<_> = photos.iter().map(|p| p.position).collect();
    if let Some(finding) = evidence::check_identical_gps(&positions, &thresholds) {
        // A person's decision stands over the automatic finding.
        for assessment in assessments.iter_mut().filter(|a| !input.reviews.contains_key(&a.sha256)) {
            assessment.trust = worst(assessment.trust, finding.trust);
            let same = Message::new("reason-same-gps-as-the-visit");
            assessment.reasons.push(same.english());
            assessment.reason_messages.push(same);
        }
        verdict = worst(verdict, finding.trust);
        visit_reasons.push(finding.reason);
    }
    for finding in
        evidence::check_visit_place(&inspection.check_in, inspection.check_out.as_ref(), input.store, &thresholds)
    {
        verdict = worst(verdict, finding.trust);
        visit_reasons.push(finding.reason);
    }

    let mut uses: BTreeMap<String, Vec<PhotoUse>> = BTreeMap::new();
    for ((photo, assessment), note) in photos.iter().zip(&assessments).zip(&notes) {
        let standing = match (note.usable, assessment.trust) {
            (false, _) | (_, Trust::Rejected) => Standing::NotCounted,
            (true, Trust::Review) => Standing::Provisional,
            (true, Trust::Pass) if note.borderline => Standing::Provisional,
            (true, Trust::Pass) => Standing::Counts,
        };
        let why_not = match standing {
            Standing::Counts => None,
            Standing::NotCounted if !note.usable => note.quality.clone(),
            // Trust is rejected only through a finding; the last reason is a fallback.
            Standing::NotCounted => note.rejected.clone().or_else(|| assessment.reason_messages.last().cloned()),
            Standing::Provisional => note
                .quality
                .clone()
                .or_else(|| note.review.clone())
                .or_else(|| assessment.trust.eq(&Trust::Review).then(|| Message::new("reason-same-gps"))),
        };
        uses.entry(photo.item_id.clone()).or_default().push(PhotoUse {
            sha256: photo.sha256.clone(),
            standing,
            why_not,
        });
    }

    let audit = audit(input.template, inspection, &uses);
    if !audit.provisional_items.is_empty() {
        verdict = worst(verdict, Trust::Review);
        visit_reasons.push(
            Message::new("reason-provisional-items")
                .arg("count", audit.provisional_items.len())
                .arg("items", audit.provisional_items.join(", ")),
        );
    }
    let rejected = assessments.iter().filter(|a| a.trust == Trust::Rejected).count();
    if rejected > 0 {
        verdict = worst(verdict, Trust::Review);
        visit_reasons.push(Message::new("reason-photos-rejected").arg("count", rejected));
    }
    let mut score = audit.score;
    let mut headline = Message::new("reason-audit-score")
        .arg("score", format!("{:.1}", audit.score))
        .arg("earned", trim(audit.earned))
        .arg("possible", trim(audit.possible));
    if verdict == Trust::Rejected && score > REJECTED_VISIT_CAP {
        score = REJECTED_VISIT_CAP;
        headline = Message::new("reason-score-capped")
            .arg("cap", format!("{REJECTED_VISIT_CAP:.0}"))
            .arg("score", format!("{:.1}", audit.score))
            .arg("earned", trim(audit.earned))
            .arg("possible", trim(audit.possible));
    }
    visit_reasons.insert(0, Message::new("reason-verdict").arg("verdict", verdict.as_str()));
    visit_reasons.insert(1, headline);
    visit_reasons.push(evidence_summary(&assessments));

    InspectionScore {
        inspection_id: input.inspection_id.to_owned(),
        owner: inspection.owner.clone(),
        store_id: inspection.store_id.clone(),
        scored_heads: input.scored_heads.to_vec(),
        scoring_version: SCORING_VERSION,
        score,
        verdict,
        items: audit.items,
        photos: assessments,
        reasons: english_texts(&visit_reasons),
        reason_messages: visit_reasons,
        scored_at: input.scored_at,
    }
}

/// What one photo's checks said, for the audit's per-item texts.
struct PhotoNotes {
    usable: bool,
    borderline: bool,
    /// The quality failure, or the borderline figure.
    quality: Option<Message>,
    /// The first evidence finding that rejects the photo.
    rejected: Option<Message>,
    /// The first evidence finding that needs review.
    review: Option<Message>,
}

/// When the relay's figures fail a photo that the phone's own figures (recorded in the photo
/// reference, measured on the same stored bytes) did not, the photo is not failed but made
/// borderline, with both figures shown: the supervisor left the store told it was fine.
fn phone_disagreement(
    quality: &mut PhotoQuality,
    relay: &QualityMetrics,
    phone: Option<&QualityMetrics>,
) -> Option<Message> {
    let phone = phone?;
    if quality.usable() || !score_photo(phone).usable() {
        return None;
    }
    let failed = crate::photo::quality::problem_list(&quality.failures, "quality-list");
    quality.borderline.append(&mut quality.failures);
    Some(
        Message::new("quality-phone-disagrees")
            .part("problems", failed)
            .arg("phone-sharpness", format!("{:.1}", phone.sharpness))
            .arg("phone-brightness", format!("{:.0}", phone.mean_luminance))
            .arg("relay-sharpness", format!("{:.1}", relay.sharpness))
            .arg("relay-brightness", format!("{:.0}", relay.mean_luminance)),
    )
}

/// Photos in checklist order (by item position), then by capture time, then by SHA-256.
fn ordered_photos<'a>(inspection: &'a Inspection, template: &Template) -> Vec<&'a PhotoRef> {
    let mut photos: Vec<&PhotoRef> = inspection.photos.values().collect();
    photos.sort_by_key(|p| {
        let position = template.item(&p.item_id).map_or(i64::MAX, |i| i.position);
        (position, p.item_id.clone(), p.captured_at, p.sha256.clone())
    });
    photos
}

fn evidence_summary(assessments: &[PhotoAssessment]) -> Message {
    if assessments.is_empty() {
        return Message::new("reason-evidence-none");
    }
    let count = |trust: Trust| assessments.iter().filter(|a| a.trust == trust).count();
    Message::new("reason-evidence")
        .arg("pass", count(Trust::Pass))
        .arg("review", count(Trust::Review))
        .arg("rejected", count(Trust::Rejected))
}

/// `7.5` stays `7.5`, `10.0` shows as `10`.
fn trim(value: f64) -> String {
    let text = format!("{:.2}", photo_quality::round1(value * 10.0) / 10.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A duration as `2 h 5 min`, `12 min`, `40 s` or `3 d 4 h`.
pub fn format_duration(ms: i64) -> String {
    let secs = ms.unsigned_abs() / 1000;
    let (days, hours, mins) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DD HH:MM UTC` (the evidence texts stay the same
/// wherever they are read; pages show times in their tenant's zone).
pub fn format_utc(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(at) => at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => format!("{ms} ms after 1970-01-01 UTC"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Answer, AnswerValue, GeoFix, InspectionStatus, TemplateItem, Visit};

    #[test]
    fn times_and_durations_read_naturally() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_709_294_400_000), "2024-03-01 12:00 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_duration(40_000), "40 s");
        assert_eq!(format_duration(12 * 60_000), "12 min");
        assert_eq!(format_duration(125 * 60_000), "2 h 5 min");
        assert_eq!(format_duration(3 * 86_400_000 + 4 * 3_600_000), "3 d 4 h");
    }

    const AT: i64 = 1_750_000_000_000;

    fn fix(lat: f64) -> GeoFix {
        GeoFix { latitude: lat, longitude: 4.89, accuracy_m: 8.0 }
    }

    fn fixture() -> (Inspection, Template, BTreeMap<String, PhotoPixels>) {
        let template = Template {
            name: "Shelf".into(),
            version: 1,
            items: [("shelf", 2.0, true), ("labels", 1.0, false)]
                .into_iter()
                .zip(0..)
                .map(|((id, weight, requires_photo), position)| {
                    (id.to_owned(), TemplateItem { text: id.into(), weight, requires_photo, position })
                })
                .collect(),
            trust: None,
        };
        let photo = |sha: &str, lat: f64, at: i64| PhotoRef {
            sha256: sha.into(),
            item_id: "shelf".into(),
            byte_size: 1,
            width: 1600,
            height: 1200,
            captured_at: at,
            position: Some(fix(lat)),
            phash: String::new(),
            original: None,
            measured: None,
        };
        let answer = |value| Answer { id: "x".into(), value, count: None, note: String::new(), answered_at: AT };
        let inspection = Inspection {
            owner: "sup".into(),
            store_id: "store-1".into(),
            template_id: "tpl".into(),
            status: InspectionStatus::CheckedOut,
            check_in: Visit { at: AT, position: fix(52.37) },
            check_out: Some(Visit { at: AT + 3_600_000, position: fix(52.37) }),
            answers: [("shelf".to_owned(), answer(AnswerValue::Yes)), ("labels".to_owned(), answer(AnswerValue::Yes))]
                .into_iter()
                .collect(),
            photos: [
                ("good".to_owned(), photo("good", 52.3701, AT + 60_000)),
                ("late".to_owned(), photo("late", 52.3702, AT + 5 * 3_600_000)),
                ("far".to_owned(), photo("far", 52.40, AT + 120_000)),
            ]
            .into_iter()
            .collect(),
            updated_at: AT,
            promotions_started: Default::default(),
        };
        let sharp = QualityMetrics {
            sharpness: 900.0,
            mean_luminance: 120.0,
            dark_clipped_share: 0.0,
            bright_clipped_share: 0.0,
            contrast: 150.0,
            width: 1600,
            height: 1200,
        };
        let pixels = ["good", "late", "far"]
            .into_iter()
            .zip(["0000000000000000", "ffffffffffffffff", "00000000ffffffff"])
            .map(|(sha, phash)| {
                (
                    sha.to_owned(),
                    PhotoPixels::Measured { metrics: sharp, phash: phash.into(), transformed_phashes: Vec::new() },
                )
            })
            .collect();
        (inspection, template, pixels)
    }

    fn input<'a>(
        inspection: &'a Inspection,
        template: &'a Template,
        pixels: &'a BTreeMap<String, PhotoPixels>,
        earlier: &'a [EarlierPhoto],
    ) -> ScoringInput<'a> {
        ScoringInput {
            inspection_id: "insp-1",
            inspection,
            template,
            store: Location { latitude: 52.37, longitude: 4.89 },
            store_geofence_m: 0.0,
            pixels,
            earlier,
            reviews: &NO_REVIEWS,
            scored_heads: &[],
            scored_at: AT,
        }
    }

    #[test]
    fn trust_is_reported_per_photo_and_kept_out_of_the_audit_score() {
        let (inspection, template, pixels) = fixture();
        let score = score_inspection(&input(&inspection, &template, &pixels, &[]));
        assert_eq!(score.score, 100.0, "{:?}", score.reasons);
        assert_eq!(score.scoring_version, SCORING_VERSION);
        let trust: BTreeMap<&str, Trust> = score.photos.iter().map(|p| (p.sha256.as_str(), p.trust)).collect();
        assert_eq!(trust["good"], Trust::Pass);
        assert_eq!(trust["late"], Trust::Rejected);
        assert_eq!(trust["far"], Trust::Rejected);
        let far = score.photos.iter().find(|p| p.sha256 == "far").unwrap_or_else(|| panic!("far"));
        assert!(far.reasons.iter().any(|r| r.contains("km from the store")), "{:?}", far.reasons);
        assert!(score.reasons.iter().any(|r| r.contains("1 photo(s) trusted, 0 to review, 2 rejected")));
    }

    #[test]
    fn a_persons_review_overrides_the_findings_and_a_rejected_photo_earns_nothing() {
        let (mut inspection, template, pixels) = fixture();
        inspection.photos.retain(|sha, _| sha == "good");
        let decide = |accepted: bool| {
            BTreeMap::from([(
                "good".to_owned(),
                PhotoReview { accepted, reviewer: "hugo".into(), reason: "not this store's shelf".into() },
            )])
        };
        let unreviewed = score_inspection(&input(&inspection, &template, &pixels, &[]));
        assert_eq!(unreviewed.score, 100.0);
        let rejected = decide(false);
        let score =
            score_inspection(&ScoringInput { reviews: &rejected, ..input(&inspection, &template, &pixels, &[]) });
        assert_eq!(score.photos[0].trust, Trust::Rejected);
        assert!(score.photos[0].reasons.contains(&"rejected by hugo: not this store's shelf".to_owned()));
        assert_eq!(score.score, 33.3, "the photo item loses its points");
        assert!(score.items[0].reasons.iter().any(|r| r.contains("rejected by hugo")), "{:?}", score.items[0]);

        // The late photo is rejected by its capture time; a person may still accept it.
        let (mut inspection, template, pixels) = fixture();
        inspection.photos.retain(|sha, _| sha == "late");
        let accepted = BTreeMap::from([(
            "late".to_owned(),
            PhotoReview { accepted: true, reviewer: "hq".into(), reason: "clock of the phone was wrong".into() },
        )]);
        let before = score_inspection(&input(&inspection, &template, &pixels, &[]));
        let after =
            score_inspection(&ScoringInput { reviews: &accepted, ..input(&inspection, &template, &pixels, &[]) });
        assert_eq!(after.photos[0].trust, Trust::Pass);
        assert!(after.score > before.score, "{} > {}", after.score, before.score);
    }

    #[test]
    fn an_unreadable_photo_fails_alone_and_the_item_needs_another() {
        let (mut inspection, template, mut pixels) = fixture();
        inspection.photos.retain(|sha, _| sha == "good");
        pixels.insert("good".into(), PhotoPixels::Unreadable { reason: "image is corrupt: junk".into() });
        let score = score_inspection(&input(&inspection, &template, &pixels, &[]));
        assert_eq!(score.photos[0].quality, 0.0);
        assert!(score.photos[0].reasons[0].contains("corrupt"));
        assert_eq!(score.score, 33.3);
    }

    #[test]
    fn scoring_is_deterministic_and_catches_reuse_from_earlier_visits() {
        let (inspection, template, pixels) = fixture();
        let earlier = [EarlierPhoto {
            sha256: "elsewhere".into(),
            phash: "0000000000000001".into(),
            inspection_id: "insp-0".into(),
            store_id: "store-2".into(),
            captured_at: AT - 86_400_000,
        }];
        let a = score_inspection(&input(&inspection, &template, &pixels, &earlier));
        let b = score_inspection(&input(&inspection, &template, &pixels, &earlier));
        assert_eq!(a, b);
        let good = a.photos.iter().find(|p| p.sha256 == "good").unwrap_or_else(|| panic!("good"));
        assert_eq!(good.trust, Trust::Rejected);
        assert!(good.reasons.iter().any(|r| r.starts_with("reused") && r.contains("another store")));
    }

    #[test]
    fn a_stores_own_geofence_radius_is_the_smallest_pass_radius_and_zero_keeps_the_checklists() {
        let (inspection, template, pixels) = fixture();
        let base = input(&inspection, &template, &pixels, &[]);
        let default = TrustThresholds::default();
        assert_eq!(thresholds(&base).geofence_min_m, default.geofence_min_m);
        let own = ScoringInput { store_geofence_m: 400.0, ..base };
        assert_eq!(thresholds(&own).geofence_min_m, 400.0);
        assert_eq!(thresholds(&own).review_within_m, default.review_within_m);
    }
}
