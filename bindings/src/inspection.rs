//! Store inspections: checklists, check in, answers, photos with a quality preview, check out,
//! and the relay's score report.

use fieldsync_core::doc::{
    Answer as CoreAnswer, AnswerValue as CoreAnswerValue, GeoFix as CoreFix, Inspection as CoreInspection,
    InspectionScore as CoreScore, InspectionStatus as CoreStatus, PhotoRef as CorePhotoRef, Template as CoreTemplate,
    Trust as CoreTrust, Visit as CoreVisit,
};
use fieldsync_core::i18n::{Language, Message, core_catalog};
use fieldsync_core::local_store::{
    AddedPhoto, CheckIn, InspectionFilter as CoreFilter, InspectionSummary as CoreSummary, PhotoCapture,
};
use fieldsync_core::photo::QualityProblem as CoreProblem;

use crate::error::FieldSyncError;
use crate::phone::{FieldSyncPhone, document_id};

/// A GPS fix as the phone reported it.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct GeoFix {
    /// Latitude in degrees, -90..=90.
    pub latitude: f64,
    /// Longitude in degrees, -180..=180.
    pub longitude: f64,
    /// Horizontal accuracy in metres.
    pub accuracy_m: f64,
}

/// A check-in or check-out: when and where.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct Visit {
    /// When, ms since the Unix epoch.
    pub at: i64,
    /// Where the phone was.
    pub position: GeoFix,
}

/// Where an inspection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum InspectionStatus {
    /// Checked in, being filled.
    Open,
    /// Checked out: read-only, scored once its photos have arrived.
    CheckedOut,
}

/// An answer to a checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AnswerValue {
    /// Compliant.
    Yes,
    /// Not compliant.
    No,
    /// Does not apply to this store.
    NotApplicable,
}

/// The supervisor's answer to one item.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Answer {
    /// The checklist item.
    pub item_id: String,
    /// Yes, no or not applicable.
    pub value: AnswerValue,
    /// An optional count (facings, units on the shelf).
    pub count: Option<i64>,
    /// Free text.
    pub note: String,
    /// When answered, ms since the Unix epoch.
    pub answered_at: i64,
}

/// A photo of an inspection (its bytes are on the phone and, once uploaded, on the relay).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhotoRef {
    /// Lowercase hex SHA-256 of the stored JPEG: the photo's id.
    pub sha256: String,
    /// The checklist item it is evidence for.
    pub item_id: String,
    /// Size of the stored JPEG in bytes.
    pub byte_size: u64,
    /// Width of the stored JPEG.
    pub width: u32,
    /// Height of the stored JPEG.
    pub height: u32,
    /// When it was taken, ms since the Unix epoch.
    pub captured_at: i64,
    /// Where the phone was, when it had a fix.
    pub position: Option<GeoFix>,
}

/// Something about a photo that makes it worth retaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
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

/// A photo just added, with the phone's quality preview, to ask for a retake while still in
/// the store.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhotoPreview {
    /// What the inspection now holds.
    pub photo: PhotoRef,
    /// True when no problem was found.
    pub acceptable: bool,
    /// Problems found, in a fixed order.
    pub problems: Vec<QualityProblem>,
    /// Figures within a threshold's band: acceptable, but the relay will mark the photo
    /// `review`; retaking it is advised if possible.
    pub borderline: Vec<QualityProblem>,
    /// One line for the capture screen, in the phone's language (`set_language`): `ok`,
    /// `ok, but close to blurry: retake if you can`, or e.g. `too dark, low contrast: retake`.
    pub summary: String,
    /// The line's code: `quality-ok`, `quality-retake-if-you-can` or `quality-retake`.
    pub summary_code: String,
    /// Sharpness (variance of the Laplacian at a fixed scale); higher is sharper.
    pub sharpness: f64,
    /// Mean brightness, 0-255.
    pub mean_luminance: f64,
    /// Contrast (95th minus 5th percentile of brightness), 0-255.
    pub contrast: f64,
}

/// A supervisor's store visit.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Inspection {
    /// The inspection's id.
    pub id: String,
    /// The supervisor who owns it.
    pub owner: String,
    /// The store inspected.
    pub store_id: String,
    /// The checklist template's id.
    pub template_id: String,
    /// Open or checked out.
    pub status: InspectionStatus,
    /// Check-in time and place.
    pub check_in: Visit,
    /// Check-out time and place, once checked out.
    pub check_out: Option<Visit>,
    /// Answers, by item id.
    pub answers: Vec<Answer>,
    /// Photos, by SHA-256.
    pub photos: Vec<PhotoRef>,
    /// Last edited, ms since the Unix epoch.
    pub updated_at: i64,
}

/// Which inspections to list; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct InspectionFilter {
    /// Only inspections in this state.
    #[uniffi(default)]
    pub status: Option<InspectionStatus>,
    /// Only inspections of this store.
    #[uniffi(default)]
    pub store_id: Option<String>,
    /// At most this many, most recently edited first.
    #[uniffi(default)]
    pub limit: Option<u32>,
}

/// One row of an inspection list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InspectionSummary {
    /// The inspection's id.
    pub id: String,
    /// Open or checked out.
    pub status: InspectionStatus,
    /// The store.
    pub store_id: String,
    /// The supervisor.
    pub owner: String,
    /// Check-in time, ms since the Unix epoch.
    pub checked_in_at: i64,
    /// Last edited, ms since the Unix epoch.
    pub updated_at: i64,
    /// Number of photos.
    pub photo_count: i64,
}

/// A checklist item.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TemplateItem {
    /// The item's id (for `answer` and `add_photo`).
    pub item_id: String,
    /// The question.
    pub text: String,
    /// Weight in the audit score.
    pub weight: f64,
    /// Whether a usable photo is required for the item to score.
    pub requires_photo: bool,
}

/// An inspection checklist.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Template {
    /// The template's id (for `check_in`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Version, bumped by HQ on each change.
    pub version: u64,
    /// Items in display order.
    pub items: Vec<TemplateItem>,
}

/// How far a photo can be trusted as evidence of the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Trust {
    /// Taken during the visit, at the store, and new.
    Pass,
    /// Something is off; a person should look.
    Review,
    /// Not evidence of this visit.
    Rejected,
}

/// The score of one checklist item.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ItemScore {
    /// The item's id.
    pub item_id: String,
    /// Its weight.
    pub weight: f64,
    /// Points earned, 0..=weight.
    pub earned: f64,
    /// Why, in the phone's language (`set_language`).
    pub reasons: Vec<String>,
    /// The code of each reason (`reason-answered-yes`, …), in the same order; empty for a
    /// report scored before reasons had codes.
    pub reason_codes: Vec<String>,
}

/// The relay's assessment of one photo.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhotoAssessment {
    /// The photo's SHA-256.
    pub sha256: String,
    /// Quality 0-100.
    pub quality: f64,
    /// Evidence trust.
    pub trust: Trust,
    /// Why, in the phone's language (`set_language`).
    pub reasons: Vec<String>,
    /// The code of each reason (`quality-blurry`, `reason-taken-during-visit`, …), in the same
    /// order; empty for a report scored before reasons had codes.
    pub reason_codes: Vec<String>,
}

/// The score report of an inspection: the relay's, or the phone's preview with the same rules.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ScoreReport {
    /// The inspection's id.
    pub inspection_id: String,
    /// Audit score 0-100: points of items backed by evidence that counts.
    pub score: f64,
    /// The visit's verdict: pass, review (a person should look) or rejected (not evidence of a
    /// visit to the store); why is in `reasons`.
    pub verdict: Trust,
    /// The version of the scoring rules.
    pub scoring_version: u64,
    /// Per item.
    pub items: Vec<ItemScore>,
    /// Per photo.
    pub photos: Vec<PhotoAssessment>,
    /// Visit-level findings, in the phone's language (`set_language`).
    pub reasons: Vec<String>,
    /// The code of each visit-level finding (`reason-verdict`, …), in the same order; empty for
    /// a report scored before reasons had codes.
    pub reason_codes: Vec<String>,
    /// When scored, ms since the Unix epoch.
    pub scored_at: i64,
}

#[uniffi::export]
impl FieldSyncPhone {
    /// The checklist templates on the phone.
    pub fn templates(&self) -> Result<Vec<Template>, FieldSyncError> {
        Ok(self.store.templates()?.into_iter().map(|(id, t)| Template::new(id.to_string(), &t)).collect())
    }

    /// Checks in at a store with a checklist; returns the new inspection's id.
    pub fn check_in(
        &self,
        store_id: String,
        template_id: String,
        at: i64,
        position: GeoFix,
    ) -> Result<String, FieldSyncError> {
        let check_in = CheckIn { store_id, template_id, at, position: position.into() };
        Ok(self.store.check_in(check_in)?.to_string())
    }

    /// Answers a checklist item of an open inspection (a new answer replaces the old one).
    pub fn answer(
        &self,
        inspection_id: String,
        item_id: String,
        value: AnswerValue,
        count: Option<i64>,
        note: String,
    ) -> Result<(), FieldSyncError> {
        Ok(self.store.answer(&document_id(&inspection_id)?, &item_id, value.into(), count, &note)?)
    }

    /// Adds a photo (JPEG or PNG bytes from the camera) as evidence for an item of an open
    /// inspection and returns its quality preview. The photo is stored and queued for upload;
    /// a blurry one is kept too, so the supervisor decides whether to retake it.
    pub fn add_photo(
        &self,
        inspection_id: String,
        item_id: String,
        photo: Vec<u8>,
        captured_at: i64,
        position: Option<GeoFix>,
    ) -> Result<PhotoPreview, FieldSyncError> {
        let capture = PhotoCapture { captured_at, position: position.map(CoreFix::from) };
        let added = self.store.add_photo(&document_id(&inspection_id)?, &item_id, &photo, capture)?;
        Ok(PhotoPreview::new(added, self.current_language()))
    }

    /// Removes photo `sha256` from item `item_id` of an open inspection (allowed until check-out);
    /// its upload is cancelled unless another inspection on this phone holds it.
    pub fn remove_photo(&self, inspection_id: String, item_id: String, sha256: String) -> Result<(), FieldSyncError> {
        Ok(self.store.remove_photo(&document_id(&inspection_id)?, &item_id, &sha256)?)
    }

    /// What the relay will most likely say, computed now on the phone with the relay's rules and
    /// the photos stored here: score, verdict, per item and per photo, with reasons. Reuse is
    /// checked against this phone's visits only, which the reasons say.
    pub fn preview_score(&self, inspection_id: String) -> Result<ScoreReport, FieldSyncError> {
        Ok(ScoreReport::new(
            self.store.preview_inspection_score(&document_id(&inspection_id)?)?,
            self.current_language(),
        ))
    }

    /// Checks out of an open inspection; it is then read-only and ready to be scored.
    pub fn check_out(&self, inspection_id: String, at: i64, position: GeoFix) -> Result<(), FieldSyncError> {
        Ok(self.store.check_out(&document_id(&inspection_id)?, at, position.into())?)
    }

    /// Records, during an open visit, that catalog promotion `promotion_id` runs in the inspected
    /// store (seen at `at`, ms since the Unix epoch); once synced, the relay closes the store's
    /// "promotion not started" alert. Confirming again keeps the first time.
    pub fn confirm_promotion_started(
        &self,
        inspection_id: String,
        promotion_id: String,
        at: i64,
    ) -> Result<(), FieldSyncError> {
        Ok(self.store.confirm_promotion_started(&document_id(&inspection_id)?, &promotion_id, at)?)
    }

    /// One inspection with its answers and photos.
    pub fn inspection(&self, inspection_id: String) -> Result<Inspection, FieldSyncError> {
        let inspection = self.store.inspection(&document_id(&inspection_id)?)?;
        Ok(Inspection::new(inspection_id, inspection))
    }

    /// Lists inspections, most recently edited first.
    pub fn list_inspections(&self, filter: InspectionFilter) -> Result<Vec<InspectionSummary>, FieldSyncError> {
        let filter =
            CoreFilter { status: filter.status.map(CoreStatus::from), store_id: filter.store_id, limit: filter.limit };
        self.store.list_inspections(&filter)?.into_iter().map(InspectionSummary::try_from).collect()
    }

    /// The relay's score report of an inspection, or nothing until it has synced to the phone.
    pub fn inspection_score(&self, inspection_id: String) -> Result<Option<ScoreReport>, FieldSyncError> {
        Ok(self
            .store
            .inspection_score(&document_id(&inspection_id)?)?
            .map(|(_, score)| ScoreReport::new(score, self.current_language())))
    }

    /// The thumbnail JPEG of a photo taken on this phone.
    pub fn photo_thumbnail(&self, sha256: String) -> Result<Vec<u8>, FieldSyncError> {
        Ok(self.store.photo_thumbnail(&sha256)?)
    }
}

impl Template {
    fn new(id: String, t: &CoreTemplate) -> Self {
        let items = t
            .items_in_order()
            .into_iter()
            .map(|(item_id, item)| TemplateItem {
                item_id: item_id.clone(),
                text: item.text.clone(),
                weight: item.weight,
                requires_photo: item.requires_photo,
            })
            .collect();
        Template { id, name: t.name.clone(), version: t.version, items }
    }
}

impl Inspection {
    fn new(id: String, i: CoreInspection) -> Self {
        Inspection {
            id,
            owner: i.owner,
            store_id: i.store_id,
            template_id: i.template_id,
            status: i.status.into(),
            check_in: i.check_in.into(),
            check_out: i.check_out.map(Visit::from),
            answers: i.answers.into_iter().map(|(item_id, answer)| Answer::new(item_id, answer)).collect(),
            photos: i.photos.into_values().map(PhotoRef::from).collect(),
            updated_at: i.updated_at,
        }
    }
}

impl Answer {
    fn new(item_id: String, a: CoreAnswer) -> Self {
        Answer { item_id, value: a.value.into(), count: a.count, note: a.note, answered_at: a.answered_at }
    }
}

impl PhotoPreview {
    fn new(added: AddedPhoto, language: Language) -> Self {
        let preview = added.preview;
        let summary = preview.summary_message();
        PhotoPreview {
            photo: added.reference.into(),
            acceptable: preview.is_acceptable(),
            summary: core_catalog().text(language, &summary),
            summary_code: summary.code,
            problems: preview.problems.iter().copied().map(QualityProblem::from).collect(),
            borderline: preview.borderline.iter().copied().map(QualityProblem::from).collect(),
            sharpness: preview.metrics.sharpness,
            mean_luminance: preview.metrics.mean_luminance,
            contrast: preview.metrics.contrast,
        }
    }
}

impl From<CorePhotoRef> for PhotoRef {
    fn from(p: CorePhotoRef) -> Self {
        PhotoRef {
            sha256: p.sha256,
            item_id: p.item_id,
            byte_size: p.byte_size,
            width: p.width,
            height: p.height,
            captured_at: p.captured_at,
            position: p.position.map(GeoFix::from),
        }
    }
}

/// The codes of reasons, beside their texts.
fn codes(messages: &[Message]) -> Vec<String> {
    messages.iter().map(|m| m.code.clone()).collect()
}

impl ScoreReport {
    fn new(s: CoreScore, language: Language) -> Self {
        ScoreReport {
            inspection_id: s.inspection_id.clone(),
            score: s.score,
            verdict: s.verdict.into(),
            scoring_version: s.scoring_version,
            items: s
                .items
                .iter()
                .map(|i| ItemScore {
                    item_id: i.item_id.clone(),
                    weight: i.weight,
                    earned: i.earned,
                    reasons: i.reasons_in(language),
                    reason_codes: codes(&i.reason_messages),
                })
                .collect(),
            photos: s
                .photos
                .iter()
                .map(|p| PhotoAssessment {
                    sha256: p.sha256.clone(),
                    quality: p.quality,
                    trust: p.trust.into(),
                    reasons: p.reasons_in(language),
                    reason_codes: codes(&p.reason_messages),
                })
                .collect(),
            reasons: s.reasons_in(language),
            reason_codes: codes(&s.reason_messages),
            scored_at: s.scored_at,
        }
    }
}

impl From<CoreTrust> for Trust {
    fn from(trust: CoreTrust) -> Self {
        match trust {
            CoreTrust::Pass => Trust::Pass,
            CoreTrust::Review => Trust::Review,
            CoreTrust::Rejected => Trust::Rejected,
        }
    }
}

impl TryFrom<CoreSummary> for InspectionSummary {
    type Error = FieldSyncError;

    fn try_from(s: CoreSummary) -> Result<Self, FieldSyncError> {
        let status = match s.status.as_str() {
            "open" => InspectionStatus::Open,
            "checked-out" => InspectionStatus::CheckedOut,
            other => {
                return Err(FieldSyncError::UpdateRequired {
                    reason: format!("inspection {} has status {other:?}", s.id),
                });
            }
        };
        Ok(InspectionSummary {
            id: s.id.to_string(),
            status,
            store_id: s.store_id,
            owner: s.owner,
            checked_in_at: s.checked_in_at,
            updated_at: s.updated_at,
            photo_count: s.photo_count,
        })
    }
}

impl From<GeoFix> for CoreFix {
    fn from(f: GeoFix) -> Self {
        CoreFix { latitude: f.latitude, longitude: f.longitude, accuracy_m: f.accuracy_m }
    }
}

impl From<CoreFix> for GeoFix {
    fn from(f: CoreFix) -> Self {
        GeoFix { latitude: f.latitude, longitude: f.longitude, accuracy_m: f.accuracy_m }
    }
}

impl From<CoreVisit> for Visit {
    fn from(v: CoreVisit) -> Self {
        Visit { at: v.at, position: v.position.into() }
    }
}

impl From<CoreStatus> for InspectionStatus {
    fn from(status: CoreStatus) -> Self {
        match status {
            CoreStatus::Open => InspectionStatus::Open,
            CoreStatus::CheckedOut => InspectionStatus::CheckedOut,
        }
    }
}

impl From<InspectionStatus> for CoreStatus {
    fn from(status: InspectionStatus) -> Self {
        match status {
            InspectionStatus::Open => CoreStatus::Open,
            InspectionStatus::CheckedOut => CoreStatus::CheckedOut,
        }
    }
}

impl From<AnswerValue> for CoreAnswerValue {
    fn from(value: AnswerValue) -> Self {
        match value {
            AnswerValue::Yes => CoreAnswerValue::Yes,
            AnswerValue::No => CoreAnswerValue::No,
            AnswerValue::NotApplicable => CoreAnswerValue::NotApplicable,
        }
    }
}

impl From<CoreAnswerValue> for AnswerValue {
    fn from(value: CoreAnswerValue) -> Self {
        match value {
            CoreAnswerValue::Yes => AnswerValue::Yes,
            CoreAnswerValue::No => AnswerValue::No,
            CoreAnswerValue::NotApplicable => AnswerValue::NotApplicable,
        }
    }
}

impl From<CoreProblem> for QualityProblem {
    fn from(problem: CoreProblem) -> Self {
        match problem {
            CoreProblem::Blurry => QualityProblem::Blurry,
            CoreProblem::TooDark => QualityProblem::TooDark,
            CoreProblem::Overexposed => QualityProblem::Overexposed,
            CoreProblem::LowContrast => QualityProblem::LowContrast,
            CoreProblem::TooSmall => QualityProblem::TooSmall,
        }
    }
}
