//! Documents and the per-tenant change feed.

use async_trait::async_trait;
use fieldsync_core::scoring::EarlierPhoto;
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocKind, DocumentId};

use crate::error::Result;
use crate::scope::Scope;

/// The columns of a document that scope and lists are computed from, kept beside its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocMeta {
    /// Its kind.
    pub kind: DocKind,
    /// The owning or addressed user: an order's rep, an inspection's supervisor, a store's rep,
    /// a review's or score's owner, a decision's approver, an inbox's user.
    pub owner: Option<String>,
    /// The store it is about.
    pub store_id: Option<String>,
    /// The region it belongs to.
    pub region: Option<String>,
    /// The document it is about (a review's order, a score's inspection).
    pub subject_id: Option<String>,
    /// Kind-specific status, for lists.
    pub status: Option<String>,
}

/// A document as stored.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    /// Its id.
    pub id: DocumentId,
    /// Scope columns.
    pub meta: DocMeta,
    /// The whole document, saved.
    pub snapshot: Vec<u8>,
    /// Its heads.
    pub heads: Vec<Head>,
    /// Feed position of its first change.
    pub created_seq: u64,
    /// Feed position of its last change.
    pub updated_seq: u64,
}

/// One accepted change to one document, to be stored atomically.
#[derive(Debug, Clone)]
pub struct DocWrite {
    /// The document.
    pub id: DocumentId,
    /// Scope columns after the change.
    pub meta: DocMeta,
    /// The heads the document had when the change was computed (empty for a new document).
    /// The write fails with a conflict when the stored heads differ, so no write is lost.
    pub expected_heads: Vec<Head>,
    /// The whole document after the change.
    pub snapshot: Vec<u8>,
    /// Its heads after the change.
    pub heads: Vec<Head>,
    /// Only the new changes (the change-feed entry).
    pub changes: Vec<u8>,
    /// The device that sent them; `None` for the relay's own writes.
    pub origin_device: Option<String>,
    /// Actor ids first seen in these changes, to bind to `origin_device`.
    pub new_actors: Vec<Vec<u8>>,
    /// SHA-256 ids of the photos the document references.
    pub blobs: Vec<String>,
    /// Work the write calls for ([`crate::jobs::job_for`]), queued in the same transaction so a
    /// stored change never misses its job; skipped when a job of the same tenant, kind and key
    /// exists (as [`crate::storage::JobStore::enqueue_job`]).
    pub job: Option<NewJob>,
}

/// A job to queue together with a [`DocWrite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What to do (`review-order`, …).
    pub kind: String,
    /// What it works on; unique per tenant and kind.
    pub key: String,
    /// Job-specific input, JSON.
    pub payload: String,
    /// Not before this time, ms since the Unix epoch.
    pub run_after: i64,
}

/// What a write reported back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Stored at this feed position.
    Stored(u64),
    /// The stored heads moved since the change was computed: merge again and retry.
    Conflict,
}

/// Changes in a scope since a feed position.
#[derive(Debug, Clone, Default)]
pub struct FeedPage {
    /// Per document: its id and the bytes to send (a whole document or the new changes).
    pub updates: Vec<(DocumentId, Vec<u8>)>,
    /// The position the device reaches with these updates.
    pub cursor: u64,
    /// The page was cut at the byte budget; more follows.
    pub more: bool,
}

/// One stored write, announced to live connections (of every relay node sharing the storage).
#[derive(Debug, Clone)]
pub struct Announcement {
    /// The tenant.
    pub tenant_id: i64,
    /// The feed position of the write.
    pub seq: u64,
    /// The document's scope columns.
    pub meta: DocMeta,
    /// The device that sent the change; `None` for the relay's own writes.
    pub origin_device: Option<String>,
}

/// Documents and the change feed.
#[async_trait]
pub trait DocStore {
    /// Listens to every stored write from now on.
    fn announcements(&self) -> tokio::sync::broadcast::Receiver<Announcement>;

    /// One document, if it exists in the tenant.
    async fn load_doc(&self, tenant_id: i64, id: &DocumentId) -> Result<Option<StoredDoc>>;

    /// Stores one accepted write: the new snapshot and columns, a change-feed entry with the next
    /// position, actor bindings and photo references, in one transaction.
    async fn write_doc(&self, tenant_id: i64, write: DocWrite) -> Result<WriteOutcome>;

    /// The device each of these actors is bound to, for the actors that are bound.
    async fn actor_devices(&self, tenant_id: i64, actors: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, String)>>;

    /// Changes to documents in `scope` after `cursor`, leaving out what `device` sent itself:
    /// a whole document when it was created after `cursor` by someone else, otherwise the feed
    /// entries since `cursor`. Stops after about `budget` bytes.
    async fn feed(&self, tenant_id: i64, scope: &Scope, cursor: u64, device: &str, budget: usize) -> Result<FeedPage>;

    /// Every document in `scope` with its heads, leaving out `excluded`.
    async fn manifest(
        &self,
        tenant_id: i64,
        scope: &Scope,
        excluded: &[DocumentId],
    ) -> Result<Vec<(DocumentId, Vec<Head>)>>;

    /// The tenant's last feed position.
    async fn feed_position(&self, tenant_id: i64) -> Result<u64>;

    /// Documents of a kind in `scope`, newest first, at most `limit`.
    async fn list_docs(&self, tenant_id: i64, scope: &Scope, kind: DocKind, limit: u32) -> Result<Vec<StoredDoc>>;

    /// Whether a document in `scope` references the photo `sha256`.
    async fn blob_visible(&self, tenant_id: i64, scope: &Scope, sha256: &str) -> Result<bool>;

    // Inspection scoring (`jobs::score_inspection`): the three methods below are all it needs
    // beyond documents and blobs.

    /// Checked-out inspections that reference the photo `sha256`, so that its arrival can
    /// trigger their scoring.
    async fn inspections_with_photo(&self, tenant_id: i64, sha256: &str) -> Result<Vec<DocumentId>>;

    /// Perceptual hashes the relay computed for photos of the tenant's scored inspections,
    /// leaving out those of `except_inspection` (reuse is about *other* visits).
    async fn photo_hashes(&self, tenant_id: i64, except_inspection: &DocumentId) -> Result<Vec<EarlierPhoto>>;

    /// Replaces the recorded photo hashes of one inspection (each scoring run records its own).
    async fn record_photo_hashes(
        &self,
        tenant_id: i64,
        inspection_id: &DocumentId,
        photos: Vec<EarlierPhoto>,
    ) -> Result<()>;
}
