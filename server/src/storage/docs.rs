//! Documents and the per-tenant change feed.

use async_trait::async_trait;
use fieldsync_core::scoring::EarlierPhoto;
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocKind, DocumentId};

use crate::error::Result;
pub use crate::scope::DocMeta;
use crate::scope::Scope;

/// Most feed entries one page walks before it is cut, whatever their size.
pub(crate) const FEED_PAGE_ENTRIES: i64 = 5_000;

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

/// A stored document's id, scope columns and heads, without its bytes: enough to tell whether a
/// copy held in memory is still the stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocHeads {
    /// Its id.
    pub id: DocumentId,
    /// Scope columns.
    pub meta: DocMeta,
    /// Its heads.
    pub heads: Vec<Head>,
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
    /// Work the write calls for (decided above storage, by the queue vocabulary), queued in the same transaction so a
    /// stored change never misses its job; skipped when a job of the same tenant, kind and key
    /// exists (as [`crate::storage::JobStore::enqueue_job`]).
    pub job: Option<NewJob>,
    /// What the document contributes to the read model after the change
    /// ([`crate::read_model::project`]), written in the same transaction so that lists never
    /// disagree with the documents.
    pub read_model: Vec<crate::storage::RowChange>,
    /// The business events the change makes ([`crate::events::derive`]), stored in the outbox
    /// in the same transaction, so that none is lost and none is announced for a write that
    /// did not commit.
    pub events: Vec<crate::storage::NewEvent>,
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

/// The SQL condition, over a `doc_blobs` row's document `d` and photo `p`, that the document was
/// written by someone allowed to take the photo: its uploader, or an HQ user. Shared by every
/// backend (the same text is valid SQLite and PostgreSQL), so the rule is written once.
pub const BLOB_CITED_BY_TAKER: &str = "(d.owner = p.uploaded_by_user OR EXISTS (SELECT 1 FROM users u \
     WHERE u.tenant_id = d.tenant_id AND u.id = d.owner AND u.role = 'hq'))";

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

    /// [`DocStore::list_docs`] without the documents' bytes: which documents there are and at
    /// which heads, for a caller that keeps them loaded (a catalog, an inventory).
    async fn list_doc_heads(&self, tenant_id: i64, scope: &Scope, kind: DocKind, limit: u32) -> Result<Vec<DocHeads>>;

    /// One document's [`DocHeads`], if it exists in the tenant.
    async fn doc_heads(&self, tenant_id: i64, id: &DocumentId) -> Result<Option<DocHeads>>;

    /// Whether `scope` may read the photo `sha256`: a document in `scope` references it and was
    /// written by someone allowed to take it, its uploader or an HQ user
    /// ([`BLOB_CITED_BY_TAKER`]). Citing a photo's hash in one's own document grants nothing.
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

    // Quarantine (`documents::check_stored`): documents that break the limits leave service.

    /// Ids of the tenant's documents after `after` in id order, at most `limit`.
    async fn doc_ids_after(&self, tenant_id: i64, after: Option<&DocumentId>, limit: u32) -> Result<Vec<DocumentId>>;

    /// Moves a document out of service into the quarantine, with `reason`: it leaves the
    /// documents, the change feed, the photo references and the read-model rows it is the
    /// parent of in one transaction, so no reader
    /// loads it again. False when no such document exists.
    async fn quarantine_doc(&self, tenant_id: i64, id: &DocumentId, reason: &str, now_ms: i64) -> Result<bool>;
}

/// Heads are stored sorted and concatenated, 32 bytes each, on every backend.
pub(crate) fn heads_to_blob(heads: &[Head]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort_unstable();
    sorted.concat()
}

/// The heads of a stored heads column.
pub(crate) fn heads_from_blob(blob: &[u8]) -> Vec<Head> {
    blob.chunks_exact(32).filter_map(|chunk| chunk.try_into().ok()).collect()
}

// The change feed's shared part: both backends fetch entries with [`feed_query`], decide with
// [`plan_feed`] and fill the page with [`FeedPlan::into_page`]; only fetching bytes differs.

/// SQL spelling that differs between the backends.
pub(crate) struct Dialect {
    /// The `n`th parameter (from 1).
    pub placeholder: fn(usize) -> String,
    /// The function giving a blob's length in bytes.
    pub length: &'static str,
}

/// The change-feed entries in `scope` after a position: parameter 1 is the tenant, 2 the
/// position, the scope's values follow (returned). Columns: seq, doc id, origin device, length of
/// the changes, the document's created seq, creator device and snapshot length; ordered by seq,
/// at most [`FEED_PAGE_ENTRIES`]. `None` when the scope reaches no document at all.
///
/// One branch per [`crate::scope::Lookup`], each an index range over the documents of the scope
/// changed after the position (`(tenant_id, kind, owner|region, updated_seq)`) joined to their
/// entries (`change_log_by_doc`): the cost follows what changed in the scope, not what the whole
/// tenant wrote since the device last synced. `CROSS JOIN` keeps SQLite to that order (left to
/// itself it walks the change log in feed order to spare the sort); to PostgreSQL it is a plain
/// join.
pub(crate) fn feed_query(scope: &Scope, dialect: &Dialect) -> Option<(String, Vec<String>)> {
    let p = dialect.placeholder;
    let mut values = Vec::new();
    let branches: Vec<String> = scope
        .lookups()
        .into_iter()
        .map(|lookup| {
            let column = match lookup.column {
                None => String::new(),
                Some((column, value)) => {
                    values.push(value);
                    format!(" AND d.{column} = {}", p(values.len() + 2))
                }
            };
            format!(
                "SELECT c.seq, c.doc_id, c.origin_device, {length}(c.changes), d.created_seq, d.creator_device,
                        {length}(d.snapshot)
                 FROM documents d CROSS JOIN change_log c
                 WHERE d.tenant_id = {tenant} AND d.kind = '{kind}'{column} AND d.updated_seq > {cursor}
                   AND c.tenant_id = d.tenant_id AND c.doc_id = d.id AND c.seq > {cursor}",
                length = dialect.length,
                cursor = p(2),
                tenant = p(1),
                kind = lookup.kind.as_str(),
            )
        })
        .collect();
    if branches.is_empty() {
        return None;
    }
    Some((format!("{} ORDER BY 1 LIMIT {FEED_PAGE_ENTRIES}", branches.join(" UNION ALL ")), values))
}

/// One change-feed entry, with what [`plan_feed`] needs to decide how to send its document.
#[derive(Debug, Clone)]
pub(crate) struct FeedEntry {
    /// Its feed position.
    pub seq: u64,
    /// The document.
    pub doc: String,
    /// The device that sent the change; `None` for the relay's own writes.
    pub origin: Option<String>,
    /// Bytes of the change.
    pub len: usize,
    /// The feed position of the document's first change.
    pub created_seq: u64,
    /// The device that created the document.
    pub creator: Option<String>,
    /// Bytes of the whole saved document.
    pub snapshot_len: usize,
}

/// How a page sends one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendAs {
    /// The whole saved document: the device has never seen it.
    Whole,
    /// The changes at these feed positions, in order (possibly none: all its own).
    Changes(Vec<u64>),
}

/// What one page of the feed sends, per document in order of first appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FeedPlan {
    /// Documents and how each is sent.
    pub docs: Vec<(String, SendAs)>,
    /// The last position the page covers.
    pub reached: u64,
    /// The page stops before the end of the feed: the device must ask again from `reached`.
    pub more: bool,
}

/// Decides a page from the entries after `cursor` (in feed order, as [`feed_query`] gives them):
/// a document created after `cursor` by another device goes whole, others as their entries
/// since `cursor`, leaving out what `device` sent itself. The page is always a prefix of the
/// feed: it stops once `budget` bytes are planned, and after [`FEED_PAGE_ENTRIES`] entries.
pub(crate) fn plan_feed(entries: Vec<FeedEntry>, cursor: u64, device: &str, budget: usize) -> FeedPlan {
    let walked_all = (entries.len() as i64) < FEED_PAGE_ENTRIES;
    let mut docs: Vec<(String, SendAs)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let (mut bytes, mut reached, mut cut) = (0usize, cursor, false);
    for entry in entries {
        if bytes >= budget && reached > cursor {
            cut = true;
            break;
        }
        reached = entry.seq;
        let slot = match index.get(&entry.doc) {
            Some(slot) => *slot,
            None => {
                let someone_else_created = entry.creator.as_deref() != Some(device);
                let send_as = if entry.created_seq > cursor && someone_else_created {
                    bytes += entry.snapshot_len;
                    SendAs::Whole
                } else {
                    SendAs::Changes(Vec::new())
                };
                index.insert(entry.doc.clone(), docs.len());
                docs.push((entry.doc, send_as));
                docs.len() - 1
            }
        };
        if let SendAs::Changes(seqs) = &mut docs[slot].1
            && entry.origin.as_deref() != Some(device)
        {
            seqs.push(entry.seq);
            bytes += entry.len;
        }
    }
    FeedPlan { docs, reached, more: cut || !walked_all }
}

impl FeedPlan {
    /// Ids of the documents sent whole.
    pub fn whole_docs(&self) -> Vec<&str> {
        self.docs.iter().filter(|(_, send)| *send == SendAs::Whole).map(|(doc, _)| doc.as_str()).collect()
    }

    /// Feed positions of the changes sent.
    pub fn change_seqs(&self) -> Vec<u64> {
        self.docs
            .iter()
            .filter_map(|(_, send)| match send {
                SendAs::Changes(seqs) => Some(seqs.iter().copied()),
                SendAs::Whole => None,
            })
            .flatten()
            .collect()
    }

    /// The page: each document's bytes from `bytes` (its saved document, or its changes
    /// concatenated), documents with nothing to send left out. `last_seq` is the feed's position
    /// when the entries were read, which the device reaches when nothing more follows.
    pub fn into_page(self, last_seq: u64, mut bytes: impl FnMut(&str, &SendAs) -> Result<Vec<u8>>) -> Result<FeedPage> {
        let mut page = FeedPage {
            more: self.more,
            cursor: if self.more { self.reached } else { last_seq },
            ..FeedPage::default()
        };
        for (doc, send) in &self.docs {
            let data = bytes(doc, send)?;
            if !data.is_empty() {
                page.updates.push((doc.parse()?, data));
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn entry(seq: u64, doc: &str, origin: &str, created_seq: u64, creator: &str) -> FeedEntry {
        FeedEntry {
            seq,
            doc: doc.to_owned(),
            origin: Some(origin.to_owned()),
            len: 10,
            created_seq,
            creator: Some(creator.to_owned()),
            snapshot_len: 100,
        }
    }

    #[test]
    fn a_new_document_goes_whole_and_a_known_one_as_its_changes_without_the_devices_own() {
        let entries = vec![
            entry(11, "new", "other", 11, "other"),
            entry(12, "known", "other", 3, "other"),
            entry(13, "new", "other", 11, "other"),
            entry(14, "known", "me", 3, "other"),
            entry(15, "mine", "me", 15, "me"),
            entry(16, "known", "other", 3, "other"),
        ];
        let plan = plan_feed(entries, 10, "me", 1 << 20);
        assert_eq!(
            plan.docs,
            vec![
                ("new".to_owned(), SendAs::Whole),
                ("known".to_owned(), SendAs::Changes(vec![12, 16])),
                ("mine".to_owned(), SendAs::Changes(vec![])),
            ]
        );
        assert_eq!((plan.reached, plan.more), (16, false));
        assert_eq!(plan.whole_docs(), vec!["new"]);
        assert_eq!(plan.change_seqs(), vec![12, 16]);
    }

    #[test]
    fn a_page_stops_at_the_budget_as_a_prefix_of_the_feed() {
        let entries = (1..=10).map(|seq| entry(seq, &format!("d{seq}"), "other", seq, "other")).collect();
        let plan = plan_feed(entries, 0, "me", 250);
        // Three whole documents reach the budget; the fourth entry starts the next page.
        assert_eq!(plan.docs.len(), 3);
        assert_eq!((plan.reached, plan.more), (3, true));
        // The device continues from the page's last position, not the feed's.
        let page = plan.into_page(10, |_, _| Ok(Vec::new())).unwrap();
        assert_eq!((page.cursor, page.more), (3, true));
    }

    #[test]
    fn one_document_larger_than_the_budget_still_moves_the_device_on() {
        let mut big = entry(5, "big", "other", 5, "other");
        big.snapshot_len = 10_000;
        let plan = plan_feed(vec![big, entry(6, "next", "other", 6, "other")], 4, "me", 100);
        assert_eq!(plan.docs.len(), 1);
        assert_eq!((plan.reached, plan.more), (5, true));
    }

    #[test]
    fn a_full_walk_cuts_the_page_at_its_last_entry() {
        let entries: Vec<FeedEntry> =
            (1..=FEED_PAGE_ENTRIES as u64).map(|seq| entry(seq, "d", "other", 0, "other")).collect();
        let plan = plan_feed(entries, 0, "me", usize::MAX);
        assert_eq!((plan.reached, plan.more), (FEED_PAGE_ENTRIES as u64, true));
    }

    #[test]
    fn a_finished_walk_reaches_the_feeds_position_and_leaves_out_empty_documents() {
        let plan = plan_feed(vec![entry(7, "mine", "me", 2, "me")], 6, "me", 1 << 20);
        let page = plan.into_page(9, |_, _| Ok(Vec::new())).unwrap();
        assert!(page.updates.is_empty());
        assert_eq!((page.cursor, page.more), (9, false));
    }
}
