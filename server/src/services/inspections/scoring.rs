//! Scoring an inspection (run by the `score-inspection` job): once an inspection is checked out and all its photos have
//! arrived, score it with core's rules ([`fieldsync_core::scoring`]) and write the
//! `inspection-score` document, which syncs back to the supervisor's phone.
//!
//! - **Photos first.** A photo whose upload is not complete fails the job with a retry (the
//!   queue backs off); when a photo upload completes, [`on_photo_stored`] queues the scoring of
//!   every checked-out inspection it completes, so a late upload is scored within a second.
//! - **Bounded work.** Each photo is decoded and measured on tokio's blocking pool behind a
//!   semaphore with one permit per core, under decode limits ([`scoring_limits`]) and a time cap
//!   ([`PHOTO_TIME_LIMIT`]). The permit travels with the blocking task, so a photo that overruns
//!   its time still holds its core until it ends and the pool never oversubscribes. A corrupt,
//!   oversized or slow photo fails that photo alone, with a reason; never the job, never the relay.
//! - **Idempotent.** The score document's id is derived from the inspection's id
//!   ([`score_id`]), and a run whose inspection heads and rules version equal the stored
//!   score's writes nothing.
//! - **Reuse detection.** The relay computes each photo's perceptual hash itself (a phone's own
//!   claim is not trusted) and records it ([`crate::storage::DocStore::record_photo_hashes`]);
//!   later visits are compared with every recorded photo of the tenant's other visits.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use fieldsync_core::DocumentId;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{DocKind, Inspection, InspectionScore, InspectionStatus, RetailStore, Template};
use fieldsync_core::photo::{self, PhotoLimits};
use fieldsync_core::scoring::{self, EarlierPhoto, Location, PhotoPixels, SCORING_VERSION, ScoringInput};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::blobs::BlobFolder;
use crate::documents;
use crate::error::{Error, Result};
use crate::services::queue::{self, JobSignal};
use crate::storage::{DocMeta, Storage};

/// The job kind.
pub const KIND: &str = "score-inspection";
/// Longest one photo may take to decode and measure (a 12 MP photo takes about 0.15 s).
pub const PHOTO_TIME_LIMIT: Duration = Duration::from_secs(20);
/// Most memory one photo's decoder may allocate (a 50 MP photo needs 150 MB as RGB).
pub const PHOTO_ALLOC_LIMIT: u64 = 256 * 1024 * 1024;

/// Whether a stored document calls for scoring: a checked-out inspection.
pub fn wants(meta: &DocMeta) -> bool {
    meta.kind == DocKind::Inspection && meta.status.as_deref() == Some(InspectionStatus::CheckedOut.as_str())
}

/// The id of an inspection's score document, derived from the inspection's id so every relay
/// node writes the same document, and reserved for scores ([`DocumentId::derived`]). A score
/// stored before keeps its [`legacy_score_id`]: find it with [`find_score`].
pub fn score_id(inspection_id: &DocumentId) -> DocumentId {
    DocumentId::derived(DocKind::InspectionScore, &[inspection_id.as_bytes()])
}

/// The id of an inspection's score before derived ids were bound to their kind.
pub fn legacy_score_id(inspection_id: &DocumentId) -> DocumentId {
    let digest =
        Sha256::new().chain_update(b"fieldsync inspection-score").chain_update(inspection_id.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    DocumentId::from_bytes(bytes)
}

/// The inspection's score document, loaded if stored: under [`score_id`], or the legacy id of a
/// score stored before derived ids were bound to their kind.
pub async fn find_score(
    storage: &dyn Storage,
    tenant_id: i64,
    inspection_id: &DocumentId,
) -> Result<documents::Derived> {
    crate::documents::resolve_derived(
        storage,
        tenant_id,
        DocKind::InspectionScore,
        score_id(inspection_id),
        legacy_score_id(inspection_id),
    )
    .await
}

/// Decode limits for scoring: the upload limits, with the decoder's memory capped at
/// [`PHOTO_ALLOC_LIMIT`].
pub fn scoring_limits() -> PhotoLimits {
    PhotoLimits { max_alloc_bytes: PHOTO_ALLOC_LIMIT, ..PhotoLimits::default() }
}

/// The scoring pool: one permit per core.
fn pool() -> Arc<Semaphore> {
    static POOL: OnceLock<Arc<Semaphore>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Arc::new(Semaphore::new(cores))
    })
    .clone()
}

/// Decodes and measures one photo in the scoring pool, under the time cap. Never fails: a
/// photo that cannot be read becomes [`PhotoPixels::Unreadable`] with the reason.
pub async fn analyze_photo(bytes: Vec<u8>) -> PhotoPixels {
    let unreadable = |reason: String| PhotoPixels::Unreadable { reason };
    let Ok(permit) = pool().acquire_owned().await else {
        return unreadable("the scoring pool is closed".to_owned());
    };
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit; // held until the work ends, even past the time cap
        photo::analyze(&bytes, &scoring_limits())
    });
    match tokio::time::timeout(PHOTO_TIME_LIMIT, task).await {
        Ok(Ok(Ok(analysis))) => PhotoPixels::from(analysis),
        Ok(Ok(Err(error))) => unreadable(error.to_string()),
        Ok(Err(join_error)) => {
            tracing::error!(%join_error, "photo analysis panicked");
            unreadable("the photo could not be analysed (internal error)".to_owned())
        }
        Err(_) => unreadable(format!("the photo took longer than {} s to analyse", PHOTO_TIME_LIMIT.as_secs())),
    }
}

/// Scores the inspection `id` as it is stored now, if it is checked out and its score is not
/// current (see the module docs). A photo that has not arrived yet is an [`Error::Conflict`], so
/// the queue retries.
pub async fn score(storage: &dyn Storage, blobs: &BlobFolder, tenant_id: i64, id: &DocumentId) -> Result<()> {
    score_with(storage, blobs, tenant_id, id, false).await
}

/// Scores the inspection `id` again even though its score is current: a person's decision on
/// one of its photos changed what the score should be ([`super::review`]).
pub async fn rescore(storage: &dyn Storage, blobs: &BlobFolder, tenant_id: i64, id: &DocumentId) -> Result<()> {
    score_with(storage, blobs, tenant_id, id, true).await
}

/// The decisions on an inspection's photos, as scoring reads them (reviewers by username).
pub async fn reviews_of(
    storage: &dyn Storage,
    tenant_id: i64,
    id: &DocumentId,
) -> Result<BTreeMap<String, scoring::PhotoReview>> {
    let records = storage.photo_reviews(tenant_id, id.as_str()).await?;
    let mut reviews = BTreeMap::new();
    for record in records {
        let reviewer = match storage.find_user(tenant_id, &record.reviewer).await? {
            Some(user) => user.username,
            None => record.reviewer.clone(),
        };
        reviews
            .insert(record.sha256, scoring::PhotoReview { accepted: record.accepted, reviewer, reason: record.reason });
    }
    Ok(reviews)
}

async fn score_with(
    storage: &dyn Storage,
    blobs: &BlobFolder,
    tenant_id: i64,
    id: &DocumentId,
    force: bool,
) -> Result<()> {
    let id = id.clone();
    let Some(stored) = storage.load_doc(tenant_id, &id).await? else { return Ok(()) };
    let inspection: Inspection = fieldsync_core::doc::read(&id, &documents::load(&stored)?)?;
    if inspection.status != InspectionStatus::CheckedOut {
        return Ok(());
    }
    let heads = crate::services::orders::review::heads_hex(&stored.heads);

    let documents::Derived { id: score_id, stored: score } = find_score(storage, tenant_id, &id).await?;
    let existing = match score {
        Some(doc) => Some(fieldsync_core::doc::read::<InspectionScore>(&score_id, &documents::load(&doc)?)?),
        None => None,
    };
    if !force && existing.as_ref().is_some_and(|s| s.scored_heads == heads && s.scoring_version == SCORING_VERSION) {
        return Ok(());
    }

    let mut missing = Vec::new();
    for sha256 in inspection.photos.keys() {
        if !storage.get_blob(tenant_id, sha256).await?.is_some_and(|meta| meta.complete) {
            missing.push(sha256.get(..12).unwrap_or(sha256).to_owned());
        }
    }
    if !missing.is_empty() {
        return Err(Error::Conflict(format!(
            "inspection {id} waits for {} photo(s) to arrive: {}",
            missing.len(),
            missing.join(", ")
        )));
    }

    let template: Template = documents::read(storage, tenant_id, &inspection.template_id.parse()?).await?;
    let store: RetailStore = documents::read(storage, tenant_id, &inspection.store_id.parse()?).await?;
    let pixels = analyze_photos(blobs, tenant_id, &inspection).await?;
    let earlier = storage.photo_hashes(tenant_id, &id).await?;
    let reviews = reviews_of(storage, tenant_id, &id).await?;

    let recorded = inspection
        .photos
        .values()
        .map(|photo| EarlierPhoto {
            sha256: photo.sha256.clone(),
            phash: match pixels.get(&photo.sha256) {
                Some(PhotoPixels::Measured { phash, .. }) => phash.clone(),
                _ => String::new(),
            },
            inspection_id: id.to_string(),
            store_id: inspection.store_id.clone(),
            captured_at: photo.captured_at,
        })
        .collect();
    let inspection_id = id.to_string();
    let score = tokio::task::spawn_blocking(move || {
        scoring::score_inspection(&ScoringInput {
            inspection_id: &inspection_id,
            inspection: &inspection,
            template: &template,
            store: Location { latitude: store.latitude, longitude: store.longitude },
            store_geofence_m: store.geofence_m,
            pixels: &pixels,
            earlier: &earlier,
            reviews: &reviews,
            scored_heads: &heads,
            scored_at: now_ms(),
        })
    })
    .await
    .map_err(|e| Error::Storage(format!("scoring task failed: {e}")))?;

    // Hashes first: a crash after the score is written must not leave them unrecorded, since the
    // rerun would find the score current and stop early.
    storage.record_photo_hashes(tenant_id, &id, recorded).await?;
    write_score(storage, tenant_id, &score_id, existing.is_some(), score).await?;
    tracing::info!(tenant = tenant_id, inspection = %id, score = %score_id, "inspection scored");
    Ok(())
}

async fn analyze_photos(
    blobs: &BlobFolder,
    tenant_id: i64,
    inspection: &Inspection,
) -> Result<BTreeMap<String, PhotoPixels>> {
    let mut tasks = tokio::task::JoinSet::new();
    for sha256 in inspection.photos.keys() {
        let bytes = blobs.read(tenant_id, sha256).await?;
        let sha256 = sha256.clone();
        tasks.spawn(async move {
            let pixels = match bytes {
                Some(bytes) => analyze_photo(bytes).await,
                None => PhotoPixels::Unreadable { reason: "the photo file is missing on the relay".to_owned() },
            };
            (sha256, pixels)
        });
    }
    let mut pixels = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (sha256, result) = done.map_err(|e| Error::Storage(format!("photo task failed: {e}")))?;
        pixels.insert(sha256, result);
    }
    Ok(pixels)
}

async fn write_score(
    storage: &dyn Storage,
    tenant_id: i64,
    score_id: &DocumentId,
    exists: bool,
    score: InspectionScore,
) -> Result<()> {
    if !exists {
        match documents::create_as_relay_with_id(storage, tenant_id, score_id, &score).await {
            // Another relay node created it meanwhile: fall through to an edit.
            Err(Error::Conflict(_)) => {}
            other => return other,
        }
    }
    documents::edit_as_relay(storage, tenant_id, score_id, |current: &mut InspectionScore| {
        *current = score.clone();
        Ok(())
    })
    .await
}

/// Called when a photo upload completes: queues the scoring of each checked-out inspection that
/// references the photo and now has all its photos. Failures are logged, never returned: the
/// upload itself succeeded, and the queue's own retries still cover the inspection.
pub async fn on_photo_stored(storage: &dyn Storage, jobs: &JobSignal, tenant_id: i64, sha256: &str) {
    if let Err(error) = queue_completed(storage, jobs, tenant_id, sha256).await {
        tracing::warn!(tenant = tenant_id, sha256, %error, "cannot queue scoring after a photo arrived");
    }
}

async fn queue_completed(storage: &dyn Storage, jobs: &JobSignal, tenant_id: i64, sha256: &str) -> Result<()> {
    for id in storage.inspections_with_photo(tenant_id, sha256).await? {
        let Some(stored) = storage.load_doc(tenant_id, &id).await? else { continue };
        let refs = documents::photo_refs(&id, &documents::load(&stored)?);
        let mut complete = true;
        for photo in &refs {
            complete &= storage.get_blob(tenant_id, photo).await?.is_some_and(|meta| meta.complete);
        }
        if !complete {
            continue;
        }
        // A key of its own: the job keyed by the heads alone may have given up waiting.
        let key = format!("{}#photos-arrived", queue::key_for(&id, &stored.heads));
        if storage.enqueue_job(tenant_id, KIND, &key, &queue::doc_payload(&id), now_ms()).await? {
            jobs.wake();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_score_id_is_stable_and_differs_per_inspection() {
        let a = DocumentId::random();
        let b = DocumentId::random();
        assert_eq!(score_id(&a), score_id(&a));
        assert_ne!(score_id(&a), score_id(&b));
        assert_ne!(score_id(&a), a);
    }

    #[tokio::test]
    async fn a_corrupt_or_bomb_photo_is_unreadable_with_a_reason() {
        let junk = analyze_photo(b"\xFF\xD8\xFF\xE0 not really a jpeg".to_vec()).await;
        assert!(matches!(&junk, PhotoPixels::Unreadable { reason } if reason.contains("corrupt")), "{junk:?}");
        let text = analyze_photo(b"hello".to_vec()).await;
        assert!(matches!(&text, PhotoPixels::Unreadable { reason } if reason.contains("not an image")), "{text:?}");
    }
}
