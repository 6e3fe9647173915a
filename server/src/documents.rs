//! Documents as the relay sees them: the scope columns of any document ([`meta_of`],
//! [`scope_columns`]), and the relay's own writes — master data it seeds or imports, and the
//! kinds only it may write (reviews, scores, inventory, inboxes).
//!
//! Documents are loaded from storage for each call and dropped when done, so the relay holds
//! only the documents of requests in flight — with one exception: [`KeptDocuments`] keeps a
//! few documents the relay itself edits over and over (a region's
//! inventory takes a reservation per order review) loaded between edits.

use std::sync::Arc;

use automerge::{ActorId, Automerge};
use fieldsync_core::doc::{self, AnyDoc, DocKind, DocumentModel};
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocumentId, Error as CoreError};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::storage::{DocMeta, DocWrite, NewEvent, Storage, StoredDoc, WriteOutcome};

/// How often a relay write is retried when another writer moved the document meanwhile.
const WRITE_ATTEMPTS: usize = 8;

/// The actor the relay writes a tenant's documents with. It is derived, so every relay node
/// agrees on it, and it is never bound to a device: a device presenting it is refused.
pub fn relay_actor(tenant_id: i64) -> ActorId {
    let digest = Sha256::new().chain_update(b"fieldsync relay actor").chain_update(tenant_id.to_be_bytes()).finalize();
    ActorId::from(&digest[..16])
}

/// The heads of a document in wire form.
pub fn heads_of(doc: &Automerge) -> Vec<Head> {
    doc.get_heads().iter().map(|h| h.0).collect()
}

/// Loads a stored document's bytes.
pub fn load(stored: &StoredDoc) -> Result<Automerge> {
    Automerge::load(&stored.snapshot)
        .map_err(|e| Error::CorruptDocument { id: stored.id.clone(), reason: e.to_string() })
}

/// Documents kept loaded between the relay's own edits, by tenant and id (a `moka` cache held in
/// [`crate::services::Caches`]). At most `Config::kept_documents`, least recently used out first. Each entry is
/// a slot its taker empties, so a document is never shared by two editors, even while the cache
/// still holds the entry it just handed out.
#[derive(Clone)]
pub struct KeptDocuments(moka::sync::Cache<(i64, DocumentId), KeptSlot>);

/// One kept document's slot. Its editor holds the lock from reading the stored heads to storing
/// its write, so two editors of one document (two review batches of a region) take turns
/// instead of each loading a copy and one of them losing its write to the other.
pub type KeptSlot = Arc<tokio::sync::Mutex<Option<Kept>>>;

/// A document kept loaded ([`KeptDocuments`]), with the bytes stored for it and what its editor
/// read from it so far.
pub struct Kept {
    /// The document, at the heads it was stored with.
    pub doc: Automerge,
    /// The bytes stored for it (a saved document, possibly followed by changes), so that the next
    /// write can append its change instead of saving the whole document again; empty when not
    /// known.
    pub snapshot: Vec<u8>,
    /// Length of the saved-document part of `snapshot`; the rest are appended changes.
    pub saved_len: usize,
    /// What the editor read from the document, valid as long as the document is only edited by
    /// that editor (a stock index for an inventory); dropped with the document.
    pub memo: Option<Box<dyn std::any::Any + Send>>,
}

impl Kept {
    /// This kept document if it is at exactly `heads` (the stored heads).
    pub fn at(self, heads: &[Head]) -> Option<Self> {
        same_heads(&heads_of(&self.doc), heads).then_some(self)
    }

    /// This kept document with `memo` kept beside it.
    pub fn with_memo(mut self, memo: impl std::any::Any + Send) -> Self {
        self.memo = Some(Box::new(memo));
        self
    }

    /// Records that the document's new change `changes` was made: the stored bytes grow by the
    /// change alone, and once the appended changes outweigh the saved document, the document is
    /// saved whole again (loading many changes costs more than one saved document).
    pub fn append_or_save(&mut self, changes: &[u8]) {
        if self.saved_len > 0 && self.snapshot.len() + changes.len() <= 2 * self.saved_len {
            self.snapshot.extend_from_slice(changes);
        } else {
            self.snapshot = self.doc.save();
            self.saved_len = self.snapshot.len();
        }
    }
}

impl Default for KeptDocuments {
    fn default() -> Self {
        Self::holding(crate::config::KEPT_DOCUMENTS)
    }
}

impl KeptDocuments {
    /// A cache of at most `documents` loaded documents.
    pub fn holding(documents: u64) -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(documents)
                // Least recently used out: the document just stored is the one to keep.
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
        )
    }

    /// A stored document ready to edit: the one [`KeptDocuments::keep`] kept, when it is at
    /// exactly the stored heads, otherwise loaded from its bytes. Loading costs more as a
    /// document's history grows (a region's inventory after thousands of reservations); a kept
    /// document costs nothing. Heads are hashes of the whole history, so equal heads mean the same
    /// document, whichever node or process wrote it last. The entry is taken out: two editors
    /// never share one.
    pub fn take(&self, tenant_id: i64, stored: &StoredDoc) -> Result<Automerge> {
        match self.take_at(tenant_id, &stored.id, &stored.heads) {
            Some(kept) => Ok(kept.doc),
            None => load(stored),
        }
    }

    /// The kept document `id` with what was kept with it, if it is at exactly `heads` (the
    /// stored heads, read without the stored bytes); taken out, like [`KeptDocuments::take`].
    pub fn take_at(&self, tenant_id: i64, id: &DocumentId, heads: &[Head]) -> Option<Kept> {
        self.0
            .remove(&(tenant_id, id.clone()))
            .and_then(|slot| slot.try_lock().ok().and_then(|mut kept| kept.take()))
            .filter(|kept| same_heads(&heads_of(&kept.doc), heads))
    }

    /// The slot of document `id`, locked for one edit: what it holds is the kept document, if any
    /// ([`Kept::at`] tells whether it is still the stored one); the editor leaves in it what it
    /// stored. Waits while another editor holds it.
    pub async fn lock(&self, tenant_id: i64, id: &DocumentId) -> tokio::sync::OwnedMutexGuard<Option<Kept>> {
        let slot = self.0.get_with((tenant_id, id.clone()), KeptSlot::default);
        slot.lock_owned().await
    }

    /// Keeps `doc`, just stored, for the next [`KeptDocuments::take`] of it (without its stored
    /// bytes: the next write saves it whole).
    pub fn keep(&self, tenant_id: i64, id: &DocumentId, doc: Automerge) {
        self.keep_with(tenant_id, id, Kept { doc, snapshot: Vec::new(), saved_len: 0, memo: None });
    }

    /// Keeps a document just stored, with the bytes stored for it and its editor's memo.
    pub fn keep_with(&self, tenant_id: i64, id: &DocumentId, kept: Kept) {
        self.0.insert((tenant_id, id.clone()), Arc::new(tokio::sync::Mutex::new(Some(kept))));
    }

    /// How many documents are kept (after pending evictions ran).
    pub fn len(&self) -> u64 {
        self.0.run_pending_tasks();
        self.0.entry_count()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn same_heads(a: &[Head], b: &[Head]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// The scope columns of a document, from its typed read. Documents about a store take the
/// store's region.
pub async fn meta_of(storage: &dyn Storage, tenant_id: i64, id: &DocumentId, value: &AnyDoc) -> Result<DocMeta> {
    let mut meta = scope_columns(id, value);
    if meta.region.is_none()
        && let Some(store_id) = &meta.store_id
    {
        meta.region = store_region(storage, tenant_id, store_id).await?;
    }
    Ok(meta)
}

/// The scope columns a document's own content gives, from its typed read. A document about a
/// store (an order, an inspection, …) has no region of its own: [`meta_of`] takes it from the
/// store, or the caller does when it holds the store already.
pub fn scope_columns(id: &DocumentId, value: &AnyDoc) -> DocMeta {
    let mut meta =
        DocMeta { kind: value.kind(), owner: None, store_id: None, region: None, subject_id: None, status: None };
    match value {
        AnyDoc::Order(order) => {
            meta.status = Some(order.status.as_str().to_owned());
            meta.subject_id = Some(order.customer_id.clone());
            meta.owner = Some(order.owner.clone());
            meta.store_id = Some(order.store_id.clone());
        }
        AnyDoc::OrderReview(review) => {
            meta.status = Some(review.outcome.as_str().to_owned());
            meta.owner = Some(review.owner.clone());
            meta.store_id = Some(review.store_id.clone());
            meta.subject_id = Some(review.order_id.clone());
        }
        AnyDoc::Decision(decision) => {
            meta.owner = Some(decision.approver.clone());
            meta.subject_id = Some(decision.order_id.clone());
        }
        AnyDoc::Inspection(inspection) => {
            meta.status = Some(inspection.status.as_str().to_owned());
            meta.owner = Some(inspection.owner.clone());
            meta.store_id = Some(inspection.store_id.clone());
            meta.subject_id = Some(inspection.template_id.clone());
        }
        AnyDoc::InspectionScore(score) => {
            meta.owner = Some(score.owner.clone());
            meta.store_id = Some(score.store_id.clone());
            meta.subject_id = Some(score.inspection_id.clone());
        }
        AnyDoc::Inventory(inventory) => {
            meta.region = Some(inventory.region.clone());
            meta.subject_id = Some(inventory.warehouse.clone());
        }
        AnyDoc::Store(store) => {
            meta.owner = Some(store.rep.clone());
            meta.region = Some(store.region.clone());
            meta.store_id = Some(id.to_string());
        }
        AnyDoc::Inbox(inbox) => {
            meta.owner = Some(inbox.owner.clone());
        }
        AnyDoc::Catalog(_) | AnyDoc::Template(_) => {}
    }
    meta
}

/// A derived document (an order's review, an inspection's score): its id, and the document when
/// it is stored, loaded once for the caller.
pub struct Derived {
    /// The id the document has, or will have once written.
    pub id: DocumentId,
    /// The document, if it is stored.
    pub stored: Option<StoredDoc>,
}

/// The derived document of `kind`: under `current`, unless only a document of `kind` is stored
/// under its `legacy` id — derived ids written before they were bound to their kind keep
/// working. Anything else at the legacy id (a device's document squatting it) is ignored.
pub async fn resolve_derived(
    storage: &dyn Storage,
    tenant_id: i64,
    kind: DocKind,
    current: DocumentId,
    legacy: DocumentId,
) -> Result<Derived> {
    if let Some(stored) = storage.load_doc(tenant_id, &current).await? {
        return Ok(Derived { id: current, stored: Some(stored) });
    }
    match storage.load_doc(tenant_id, &legacy).await? {
        Some(stored) if stored.meta.kind == kind => Ok(Derived { id: legacy, stored: Some(stored) }),
        _ => Ok(Derived { id: current, stored: None }),
    }
}

/// The region of a store document, if the store exists.
pub async fn store_region(storage: &dyn Storage, tenant_id: i64, store_id: &str) -> Result<Option<String>> {
    let Ok(store_id) = store_id.parse::<DocumentId>() else { return Ok(None) };
    Ok(storage
        .load_doc(tenant_id, &store_id)
        .await?
        .filter(|stored| stored.meta.kind == DocKind::Store)
        .and_then(|stored| stored.meta.region))
}

/// Creates a document written by the relay; returns its id.
pub async fn create_as_relay<T: DocumentModel + Sync>(
    storage: &dyn Storage,
    tenant_id: i64,
    value: &T,
) -> Result<DocumentId> {
    create_as_relay_announcing(storage, tenant_id, value, Vec::new()).await
}

/// Creates a document written by the relay and stores `events` (besides the ones the document
/// itself makes) in the outbox in the same transaction; returns its id. An import announces
/// itself with its last write this way.
pub async fn create_as_relay_announcing<T: DocumentModel + Sync>(
    storage: &dyn Storage,
    tenant_id: i64,
    value: &T,
    events: Vec<NewEvent>,
) -> Result<DocumentId> {
    let id = DocumentId::random();
    create(storage, tenant_id, &id, value, events).await?;
    Ok(id)
}

/// Creates a document written by the relay under a chosen id (one derived from what it is
/// about, so that relay nodes agree on it); a [`Error::Conflict`] if it already exists.
pub async fn create_as_relay_with_id<T: DocumentModel + Sync>(
    storage: &dyn Storage,
    tenant_id: i64,
    id: &DocumentId,
    value: &T,
) -> Result<()> {
    create(storage, tenant_id, id, value, Vec::new()).await
}

async fn create<T: DocumentModel + Sync>(
    storage: &dyn Storage,
    tenant_id: i64,
    id: &DocumentId,
    value: &T,
    events: Vec<NewEvent>,
) -> Result<()> {
    let am = doc::create(id, relay_actor(tenant_id), value)?;
    let typed: AnyDoc = value.clone().into();
    let meta = meta_of(storage, tenant_id, id, &typed).await?;
    let mut write = relay_write(id.clone(), meta, Vec::new(), None, &am, &typed, &[]);
    write.events.extend(events);
    match storage.write_doc(tenant_id, write).await? {
        WriteOutcome::Stored(_) => Ok(()),
        WriteOutcome::Conflict => Err(Error::Conflict(format!("document {id} already exists"))),
    }
}

/// [`create_as_relay_with_id`] for a document about a store whose region the caller already
/// holds (a review, written while the store is at hand): the store is not read again.
pub async fn create_as_relay_in_region<T: DocumentModel + Sync>(
    storage: &dyn Storage,
    tenant_id: i64,
    id: &DocumentId,
    value: &T,
    region: &str,
) -> Result<()> {
    let am = doc::create(id, relay_actor(tenant_id), value)?;
    let typed: AnyDoc = value.clone().into();
    let mut meta = scope_columns(id, &typed);
    if meta.region.is_none() {
        meta.region = Some(region.to_owned());
    }
    let write = relay_write(id.clone(), meta, Vec::new(), None, &am, &typed, &[]);
    match storage.write_doc(tenant_id, write).await? {
        WriteOutcome::Stored(_) => Ok(()),
        WriteOutcome::Conflict => Err(Error::Conflict(format!("document {id} already exists"))),
    }
}

/// Edits a document as the relay and returns `edit`'s result. When another writer moved the
/// document meanwhile, the edit runs again on the new state (so `edit` must be repeatable).
pub async fn edit_as_relay<T, R, F>(storage: &dyn Storage, tenant_id: i64, id: &DocumentId, edit: F) -> Result<R>
where
    T: DocumentModel + Send + Sync,
    R: Send,
    F: Fn(&mut T) -> Result<R> + Send + Sync,
{
    let (result, _) = edit_as_relay_announcing(storage, tenant_id, id, edit, |_| Vec::new()).await?;
    Ok(result)
}

/// [`edit_as_relay`] that also stores `events(&result)` (besides the ones the document itself
/// makes) in the outbox, in the write's transaction; returns the edit's result and whether
/// anything was written (an edit that changes nothing writes nothing and announces nothing).
pub async fn edit_as_relay_announcing<T, R, F, E>(
    storage: &dyn Storage,
    tenant_id: i64,
    id: &DocumentId,
    edit: F,
    events: E,
) -> Result<(R, bool)>
where
    T: DocumentModel + Send + Sync,
    R: Send,
    F: Fn(&mut T) -> Result<R> + Send + Sync,
    E: Fn(&R) -> Vec<NewEvent> + Send + Sync,
{
    for _ in 0..WRITE_ATTEMPTS {
        let stored =
            storage.load_doc(tenant_id, id).await?.ok_or_else(|| Error::not_found(format!("document {id}")))?;
        let mut am = load(&stored)?;
        am.set_actor(relay_actor(tenant_id));
        let mut value: T = doc::read(id, &am)?;
        // The state the write is conditional on, to tell what the edit means (its events).
        let base: AnyDoc = value.clone().into();
        let result = edit(&mut value)?;
        let before = am.get_heads();
        if !doc::update(id, &mut am, &value)? {
            return Ok((result, false));
        }
        let typed: AnyDoc = value.into();
        let meta = meta_of(storage, tenant_id, id, &typed).await?;
        let mut write = relay_write(id.clone(), meta, stored.heads.clone(), Some(&base), &am, &typed, &before);
        write.events.extend(events(&result));
        if let WriteOutcome::Stored(_) = storage.write_doc(tenant_id, write).await? {
            return Ok((result, true));
        }
    }
    Err(Error::Conflict(format!("document {id} kept changing; gave up after {WRITE_ATTEMPTS} attempts")))
}

/// Reads a typed document of the tenant.
pub async fn read<T: DocumentModel>(storage: &dyn Storage, tenant_id: i64, id: &DocumentId) -> Result<T> {
    let stored = storage
        .load_doc(tenant_id, id)
        .await?
        .ok_or_else(|| Error::Core(CoreError::NotFound { kind: Some(T::KIND), id: id.to_string() }))?;
    Ok(doc::read(id, &load(&stored)?)?)
}

/// Largest new document the relay stores as its change bytes rather than saved ([`relay_write`]):
/// an order review is about 700 bytes.
const SMALL_DOCUMENT_BYTES: usize = 2048;

/// A relay write of `am`, whose typed value is `typed` (the state before it: `base`, when the
/// document was stored).
fn relay_write(
    id: DocumentId,
    meta: DocMeta,
    expected_heads: Vec<Head>,
    base: Option<&AnyDoc>,
    am: &Automerge,
    typed: &AnyDoc,
    before: &[automerge::ChangeHash],
) -> DocWrite {
    let blobs = photos_of(typed);
    let read_model = crate::read_model::project_doc(&id, &meta, typed).into_row_changes();
    let events = crate::events::derive(&id, base, typed);
    let changes = am.save_after(before);
    // A small new document's changes are its whole document (automerge loads a sequence of
    // changes as it loads a saved one): storing them as its bytes spares encoding it a second
    // time, whose column compression was over a quarter of an order review's cost, for about a
    // tenth more bytes. A large one is saved, compressed: it is what phones download first.
    let snapshot = if before.is_empty() && changes.len() <= SMALL_DOCUMENT_BYTES { changes.clone() } else { am.save() };
    DocWrite {
        id,
        meta,
        expected_heads,
        snapshot,
        heads: heads_of(am),
        changes,
        origin_device: None,
        new_actors: Vec::new(),
        blobs,
        job: None,
        read_model,
        events,
    }
}

/// The photos a document references (only inspections reference photos).
pub fn photo_refs(id: &DocumentId, am: &Automerge) -> Vec<String> {
    match doc::read::<doc::Inspection>(id, am) {
        Ok(inspection) => inspection.photos.into_keys().collect(),
        Err(_) => Vec::new(),
    }
}

/// [`photo_refs`] of a document already read.
pub fn photos_of(value: &AnyDoc) -> Vec<String> {
    match value {
        AnyDoc::Inspection(inspection) => inspection.photos.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use automerge::transaction::Transactable;

    use super::*;

    #[test]
    fn a_new_documents_changes_load_as_the_saved_document_on_the_relay_and_on_a_phone() {
        let id = DocumentId::random();
        let inventory = doc::Inventory {
            warehouse: "WH-N".into(),
            region: "north".into(),
            levels: (0..50)
                .map(|n| (format!("SKU-{n}"), doc::StockLevel { on_hand: n, reserved: 0, safety: 1 }))
                .collect(),
            as_of: 1,
        };
        let am = doc::create(&id, relay_actor(7), &inventory).unwrap();
        let changes = am.save_after(&[]);
        let loaded = Automerge::load(&changes).unwrap();
        assert_eq!(loaded.hydrate(None), am.hydrate(None));
        assert_eq!(loaded.get_heads(), am.get_heads());
        let mut phone = Automerge::new();
        phone.load_incremental(&changes).unwrap();
        assert_eq!(phone.get_heads(), am.get_heads());
        assert_eq!(doc::read::<doc::Inventory>(&id, &phone).unwrap(), inventory);
    }

    fn stored(id: &DocumentId, am: &Automerge) -> StoredDoc {
        StoredDoc {
            id: id.clone(),
            meta: DocMeta {
                kind: DocKind::Inventory,
                owner: None,
                store_id: None,
                region: None,
                subject_id: None,
                status: None,
            },
            snapshot: am.save(),
            heads: heads_of(am),
            created_seq: 1,
            updated_seq: 1,
        }
    }

    fn edited(am: &Automerge, value: i64) -> Automerge {
        let mut next = am.clone();
        next.transact(|tx| tx.put(automerge::ROOT, "n", value)).unwrap();
        next
    }

    #[test]
    fn a_kept_document_serves_only_its_exact_heads_and_only_once() {
        let kept_documents = KeptDocuments::default();
        let tenant = 1;
        let id = DocumentId::random();
        let first = edited(&Automerge::new(), 1);
        let at_first = stored(&id, &first);

        // Kept at other heads (another node wrote since): the stored bytes win.
        kept_documents.keep(tenant, &id, edited(&first, 2));
        let taken = kept_documents.take(tenant, &at_first).unwrap();
        assert_eq!(heads_of(&taken), at_first.heads);

        // Kept at the stored heads: that very document comes back, with its actor.
        let mut kept = edited(&first, 3);
        kept.set_actor(ActorId::from(&[7u8; 16][..]));
        let at_kept = stored(&id, &kept);
        kept_documents.keep(tenant, &id, kept);
        let taken = kept_documents.take(tenant, &at_kept).unwrap();
        assert_eq!(heads_of(&taken), at_kept.heads);
        assert_eq!(taken.get_actor(), &ActorId::from(&[7u8; 16][..]));
        // Taken out: the next editor loads from the bytes (a fresh actor).
        let again = kept_documents.take(tenant, &at_kept).unwrap();
        assert_eq!(heads_of(&again), at_kept.heads);
        assert_ne!(again.get_actor(), &ActorId::from(&[7u8; 16][..]));
    }

    #[test]
    fn at_most_32_documents_are_kept_and_the_newest_stays() {
        let kept_documents = KeptDocuments::default();
        let doc = edited(&Automerge::new(), 1);
        let ids: Vec<DocumentId> = (0..40).map(|_| DocumentId::random()).collect();
        for id in &ids {
            kept_documents.keep(1, id, doc.clone());
        }
        assert_eq!(kept_documents.len(), 32);
        let mut newest = doc.clone();
        newest.set_actor(ActorId::from(&[9u8; 16][..]));
        let last = ids.last().unwrap();
        kept_documents.keep(1, last, newest);
        assert_eq!(kept_documents.take(1, &stored(last, &doc)).unwrap().get_actor(), &ActorId::from(&[9u8; 16][..]));
    }
}
