//! `inspection-score`: the relay's score report for one inspection, written only by the relay.
//!
//! Rewritten whole for each scored set of inspection heads; one writer, so last-writer-wins
//! everywhere. The audit score and the evidence trust are kept apart on purpose: a well-kept
//! shelf photographed from the car park is a trust problem, not a compliance one.

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};
use crate::i18n::{Language, Message, core_catalog};

/// Reasons in `language`: rendered from their messages, or the stored English texts of a report
/// scored before reasons had codes (when the two lists do not match, the texts win).
pub fn reasons_in(language: Language, texts: &[String], messages: &[Message]) -> Vec<String> {
    if messages.is_empty() || messages.len() != texts.len() {
        return texts.to_vec();
    }
    messages.iter().map(|m| core_catalog().text(language, m)).collect()
}

/// How far a photo can be trusted as evidence of this visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hydrate, Reconcile)]
pub enum Trust {
    /// Taken during the visit, at the store, and new.
    Pass,
    /// Something is off; a person should look.
    Review,
    /// Not evidence of this visit (reused, far away, out of the visit window).
    Rejected,
}

impl Trust {
    /// The verdict of a report scored before verdicts existed: nobody has judged it.
    pub fn unknown() -> Self {
        Trust::Review
    }

    /// `pass`, `review` or `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trust::Pass => "pass",
            Trust::Review => "review",
            Trust::Rejected => "rejected",
        }
    }
}

/// The score of one checklist item.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct ItemScore {
    /// The template item id.
    pub item_id: String,
    /// The item's weight in the template.
    pub weight: f64,
    /// Points earned, 0..=weight.
    pub earned: f64,
    /// Why, in English (what readers that predate codes show).
    pub reasons: Vec<String>,
    /// Why, as codes with arguments (`reason-…`), one per entry of [`Self::reasons`]; empty in
    /// reports scored before reasons had codes.
    #[autosurgeon(missing = "Default::default")]
    pub reason_messages: Vec<Message>,
}

impl ItemScore {
    /// Its reasons in `language`.
    pub fn reasons_in(&self, language: Language) -> Vec<String> {
        reasons_in(language, &self.reasons, &self.reason_messages)
    }
}

/// The assessment of one photo.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct PhotoAssessment {
    /// The photo's SHA-256.
    pub sha256: String,
    /// Quality 0–100.
    pub quality: f64,
    /// Evidence trust.
    pub trust: Trust,
    /// Why, in English (what readers that predate codes show).
    pub reasons: Vec<String>,
    /// Why, as codes with arguments (`quality-…`, `reason-…`), one per entry of
    /// [`Self::reasons`]; empty in reports scored before reasons had codes.
    #[autosurgeon(missing = "Default::default")]
    pub reason_messages: Vec<Message>,
}

impl PhotoAssessment {
    /// Its reasons in `language`.
    pub fn reasons_in(&self, language: Language) -> Vec<String> {
        reasons_in(language, &self.reasons, &self.reason_messages)
    }
}

/// The score report of one inspection.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct InspectionScore {
    /// The inspection's document id.
    pub inspection_id: String,
    /// The inspection's owner (so the report reaches the supervisor).
    pub owner: String,
    /// The store inspected.
    pub store_id: String,
    /// The inspection heads that were scored (hex change hashes).
    pub scored_heads: Vec<String>,
    /// The version of the scoring rules used.
    pub scoring_version: u64,
    /// Audit score 0–100: the points of items backed by evidence that counts (see
    /// [`crate::scoring`]), capped when the visit itself is rejected.
    pub score: f64,
    /// The visit-level trust verdict: `pass`, `review` (a person should look before relying on
    /// the score) or `rejected` (the visit is not evidence of a visit to the store); why is in
    /// [`Self::reasons`]. Reports scored before verdicts existed read as `review`.
    #[autosurgeon(missing = "Trust::unknown")]
    pub verdict: Trust,
    /// Per item.
    pub items: Vec<ItemScore>,
    /// Per photo.
    pub photos: Vec<PhotoAssessment>,
    /// Visit-level findings, in English (what readers that predate codes show).
    pub reasons: Vec<String>,
    /// Visit-level findings as codes with arguments (`reason-…`), one per entry of
    /// [`Self::reasons`]; empty in reports scored before reasons had codes.
    #[autosurgeon(missing = "Default::default")]
    pub reason_messages: Vec<Message>,
    /// When scored, ms since the Unix epoch.
    pub scored_at: i64,
}

impl InspectionScore {
    /// Its visit-level reasons in `language`.
    pub fn reasons_in(&self, language: Language) -> Vec<String> {
        reasons_in(language, &self.reasons, &self.reason_messages)
    }
}

impl DocumentModel for InspectionScore {
    const KIND: DocKind = DocKind::InspectionScore;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            status: Some("scored".to_owned()),
            store_id: Some(self.store_id.clone()),
            owner: Some(self.owner.clone()),
            subject_id: Some(self.inspection_id.clone()),
            created_at: Some(self.scored_at),
            updated_at: Some(self.scored_at),
            // The score in hundredths, so lists can sort by it without loading the report.
            amount_cents: Some((self.score * 100.0).round() as i64),
            item_count: i64::try_from(self.photos.len()).ok(),
        }
    }
}
