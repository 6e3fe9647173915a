//! Photo review: a supervisor's manager (or HQ) looks at a photo the scorer put at `review` and
//! accepts or rejects it with a reason. The decision is stored with who and when
//! ([`crate::storage::PhotoReviewStore`]), the inspection is scored again at once with it
//! ([`super::scoring::rescore`]; every later scoring reads it too), and the new score document
//! reaches the supervisor's phone at its next sync like any score. The dashboard's inspection
//! page and `POST /v1/inspections/{id}/photos/{sha256}/review` call [`review_photo`].

use fieldsync_core::DocumentId;
use fieldsync_core::Role;
use fieldsync_core::doc::{Inspection, InspectionScore, Trust};
use fieldsync_core::i18n::Message;

use super::scoring;
use crate::blobs::BlobFolder;
use crate::documents;
use crate::error::{Error, Result};
use crate::messages;
use crate::services::accounts::Caller;
use crate::storage::{PhotoReviewRecord, Storage};

/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Whether `role` may review photos at all (in its scope): a manager for their region's
/// supervisors, HQ for everyone.
pub fn may_review(role: Role) -> bool {
    matches!(role, Role::Manager | Role::Hq)
}

/// What a reviewer decided about one photo, as a form or a request gives it.
#[derive(Debug, Clone, Copy)]
pub struct PhotoDecision<'a> {
    /// The inspection's document id.
    pub inspection_id: &'a str,
    /// The photo's SHA-256.
    pub sha256: &'a str,
    /// `accepted` or `rejected`.
    pub decision: &'a str,
    /// Why.
    pub reason: &'a str,
}

/// Accepts (`decision` = `accepted`) or rejects (`rejected`) the photo `sha256` of the
/// inspection `inspection_id`, with `reason`, and scores the inspection again; returns the new
/// score. Only a photo the current score puts at `review`, or one already decided (a decision
/// may be changed), can be reviewed. Bad input is refused before anything is stored.
pub async fn review_photo(
    storage: &dyn Storage,
    blobs: &BlobFolder,
    caller: &Caller,
    decided: PhotoDecision<'_>,
    now: i64,
) -> Result<InspectionScore> {
    let PhotoDecision { inspection_id, sha256, decision, reason } = decided;
    let accepted = match decision.trim() {
        "accepted" => true,
        "rejected" => false,
        other => {
            let message = Message::new("refusal-photo-decision").arg("decision", format!("{other:?}"));
            return Err(Error::invalid("invalid-decision", message));
        }
    };
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid("invalid-reason", Message::new("refusal-reason-missing")));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        let message = Message::new("refusal-reason-too-long").arg("length", reason.chars().count());
        return Err(Error::invalid("invalid-reason", message.arg("max", MAX_REASON_CHARS)));
    }
    let not_found = || Error::not_found(format!("inspection {inspection_id}"));
    let id: DocumentId = inspection_id.parse().map_err(|_| not_found())?;
    let stored = storage.load_doc(caller.tenant_id, &id).await?.ok_or_else(not_found)?;
    if !caller.scope().contains(&stored.meta) {
        return Err(not_found());
    }
    if !may_review(caller.role) {
        return Err(Error::forbidden(Message::new("refusal-photo-reviewer").part("role", messages::role(caller.role))));
    }
    let inspection: Inspection = fieldsync_core::doc::read(&id, &documents::load(&stored)?)?;
    if !inspection.photos.contains_key(sha256) {
        return Err(Error::not_found(format!("photo {sha256} of inspection {inspection_id}")));
    }
    let current = current_score(storage, caller.tenant_id, &id).await?.ok_or_else(|| {
        Error::conflict(Message::new("refusal-inspection-not-scored").arg("inspection", inspection_id))
    })?;
    let reviewed = storage.photo_reviews(caller.tenant_id, id.as_str()).await?.iter().any(|r| r.sha256 == sha256);
    let trust = current.photos.iter().find(|p| p.sha256 == sha256).map(|p| p.trust);
    if trust != Some(Trust::Review) && !reviewed {
        let state = match trust {
            None => Message::new("refusal-photo-not-scored"),
            Some(Trust::Pass) => Message::new("refusal-photo-pass"),
            Some(Trust::Review) => Message::new("refusal-photo-review"),
            Some(Trust::Rejected) => Message::new("refusal-photo-rejected"),
        };
        return Err(Error::conflict(
            Message::new("refusal-photo-not-to-review").arg("photo", sha256).part("state", state),
        ));
    }
    let record = PhotoReviewRecord {
        inspection_id: id.to_string(),
        sha256: sha256.to_owned(),
        accepted,
        reason: reason.to_owned(),
        reviewer: caller.user_id.clone(),
        decided_at: now,
    };
    let event = crate::events::photo_reviewed_by_person(
        &record.inspection_id,
        &record.sha256,
        record.accepted,
        &record.reason,
        &record.reviewer,
        now,
    );
    storage.record_photo_review(caller.tenant_id, &record, &[event]).await?;
    scoring::rescore(storage, blobs, caller.tenant_id, &id).await?;
    current_score(storage, caller.tenant_id, &id)
        .await?
        .ok_or_else(|| Error::Storage("the new score is missing".into()))
}

/// The inspection's stored score, if it has one.
pub async fn current_score(storage: &dyn Storage, tenant_id: i64, id: &DocumentId) -> Result<Option<InspectionScore>> {
    let found = scoring::find_score(storage, tenant_id, id).await?;
    match found.stored {
        Some(doc) => Ok(Some(fieldsync_core::doc::read::<InspectionScore>(&found.id, &documents::load(&doc)?)?)),
        None => Ok(None),
    }
}
