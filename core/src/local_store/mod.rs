//! The phone's local store: every document the device holds, in one SQLite file.
//!
//! Layout (see [`migrations`]): a document is a snapshot plus the incremental chunks appended
//! since; `doc_index` holds the columns list screens filter on; `doc_outbox` and `photo_outbox`
//! are the two upload queues; `blobs` holds photo bytes by SHA-256.
//!
//! Every mutation is one SQLite transaction that appends the change as an incremental chunk,
//! updates the index row and queues the document for upload, so a crash at any moment leaves
//! either all of it or none. When a document's chunks outgrow its snapshot they are compacted
//! into a new snapshot in the same transaction.
//!
//! [`LocalStore`] is `Send + Sync`: methods take `&self` and lock internally, so the app's UI
//! thread and the sync engine share one instance.

mod cache;
mod decisions;
mod encryption;
mod feed;
mod inspections;
pub mod migrations;
mod orders;
mod pricing;
mod reference;
mod score_preview;
mod sync_state;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use automerge::{ActorId, Automerge, ChangeHash};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::doc::{self, DocKind, DocumentModel, IndexFields};
use crate::error::{Error, Result};
use crate::id::DocumentId;
use crate::identity::{Identity, Role};

use cache::DocCache;
pub use encryption::StoreKey;
pub use feed::{ChangeOrigin, DocChange};
pub use inspections::{AddedPhoto, CheckIn, InspectionFilter, InspectionSummary, PhotoCapture};
pub use orders::{LineInput, NewOrder, OrderFilter, OrderSummary};
pub use sync_state::{PendingPhoto, Quarantined, Received};

/// How many documents stay loaded in memory; the rest are read from SQLite on demand.
const DEFAULT_CACHE_CAPACITY: usize = 256;

/// Options for [`LocalStore::open_with`].
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long to wait for another process's lock before failing with [`Error::Locked`].
    pub busy_timeout: Duration,
    /// How many documents to keep loaded.
    pub cache_capacity: usize,
    /// The key of an encrypted store ([`encryption`](StoreKey)); `None` for a plain file.
    pub key: Option<StoreKey>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self { busy_timeout: Duration::from_secs(5), cache_capacity: DEFAULT_CACHE_CAPACITY, key: None }
    }
}

/// The phone's local database of documents and photos.
pub struct LocalStore {
    path: PathBuf,
    /// The options it was opened with, less the key; [`LocalStore::wipe`] reopens with them.
    options: OpenOptions,
    inner: Mutex<Inner>,
    feed: feed::Feed,
}

struct Inner {
    conn: Connection,
    actor: ActorId,
    cache: DocCache,
    identity: Option<Identity>,
    /// The key the file is encrypted with now (`rekey` changes it).
    key: Option<StoreKey>,
}

/// Storage figures of one document, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageStats {
    /// Bytes of the last snapshot.
    pub snapshot_len: u64,
    /// Bytes of chunks appended since.
    pub chunks_len: u64,
    /// Number of chunks appended since.
    pub chunk_count: u64,
}

impl LocalStore {
    /// Opens (creating if needed) the plain store at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, OpenOptions::default())
    }

    /// Opens (creating if needed) the store at `path`, encrypted with `key`. A plain store found
    /// there is converted to an encrypted one first, keeping every document and photo.
    ///
    /// Fails with [`Error::WrongKey`], changing nothing, when `key` does not open the file.
    pub fn open_encrypted(path: impl AsRef<Path>, key: StoreKey) -> Result<Self> {
        Self::open_with(path, OpenOptions { key: Some(key), ..OpenOptions::default() })
    }

    /// Opens (creating if needed) the store at `path`.
    ///
    /// Fails with [`Error::Corrupt`] for a file that is not a FieldSync database, with
    /// [`Error::WrongKey`] when [`OpenOptions::key`] does not open it, with
    /// [`Error::NewerDatabase`] for one written by newer code, and with [`Error::Locked`] when
    /// another process holds it past the busy timeout. None of these changes the file.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = connect(&path, &options, options.key.as_ref())?;
        let identity = read_identity(&conn).map_err(|e| with_path(e, &path))?;
        Ok(Self {
            path,
            inner: Mutex::new(Inner {
                conn,
                actor: ActorId::random(),
                cache: DocCache::new(options.cache_capacity),
                identity,
                key: options.key.clone(),
            }),
            // The current key lives in `Inner` only (`rekey` changes it).
            options: OpenOptions { key: None, ..options },
            feed: feed::Feed::default(),
        })
    }

    /// Whether the file is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.lock().key.is_some()
    }

    /// Re-encrypts the store with `new_key` (key rotation). The old key no longer opens it.
    /// Fails with [`Error::Encryption`] on a plain store (open it with a key to encrypt it).
    pub fn rekey(&self, new_key: StoreKey) -> Result<()> {
        let mut inner = self.lock();
        if inner.key.is_none() {
            return Err(Error::Encryption { path: self.path.display().to_string(), state: "plain", action: "rekey" });
        }
        // SQLCipher re-encrypts page by page; in WAL mode the new pages would land in the WAL
        // under the new key while the main file keeps the old one, so rekey in rollback mode.
        inner.conn.pragma_update(None, "journal_mode", "DELETE")?;
        let result = encryption::rekey(&inner.conn, &new_key);
        inner.conn.pragma_update(None, "journal_mode", "WAL")?;
        result?;
        inner.key = Some(new_key);
        Ok(())
    }

    /// Erases everything the store holds: documents, photos and thumbnails, both upload queues,
    /// the sync state and the signed-in user. The database file and its WAL and shared-memory
    /// files are closed and deleted, and a new empty store (with the same key, if any) takes
    /// their place, so the app's handle stays usable and shows a phone nobody signed in on.
    ///
    /// The remote wipe ([`crate::sync::SyncEngine`] on a revoked device) calls this; deleted
    /// files are no longer readable through the file system, and for an encrypted store the
    /// app also deletes the key, so what the flash still holds is ciphertext without a key.
    pub fn wipe(&self) -> Result<()> {
        let mut inner = self.lock();
        // Close the file before deleting it: an open handle would keep its bytes alive.
        let old = std::mem::replace(&mut inner.conn, Connection::open_in_memory()?);
        if let Err((old, error)) = old.close() {
            // Still open: keep using it, and let the next contact try the wipe again.
            inner.conn = old;
            return Err(error.into());
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = PathBuf::from(format!("{}{suffix}", self.path.display()));
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(Error::Io { path: file.display().to_string(), reason: error.to_string() });
                }
            }
        }
        inner.conn = connect(&self.path, &self.options, inner.key.as_ref())?;
        inner.cache = DocCache::new(self.options.cache_capacity);
        inner.identity = None;
        inner.actor = ActorId::random();
        tracing::warn!(path = %self.path.display(), "local store wiped");
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The automerge actor id this open store writes with (fresh at every open, so a crash can
    /// never make two changes with one actor and sequence number).
    pub fn actor(&self) -> ActorId {
        self.lock().actor.clone()
    }

    /// The user signed in on this device, if any.
    pub fn identity(&self) -> Option<Identity> {
        self.lock().identity.clone()
    }

    /// Records the user signed in on this device; new orders and inspections belong to them.
    pub fn set_identity(&self, identity: &Identity) -> Result<()> {
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        for (key, value) in [
            ("tenant", identity.tenant.as_str()),
            ("user_id", identity.user_id.as_str()),
            ("role", identity.role.as_str()),
        ] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
        }
        tx.commit()?;
        inner.identity = Some(identity.clone());
        Ok(())
    }

    /// Subscribes to changes of documents of the given kinds (all kinds when empty). Each commit
    /// sends one [`DocChange`] after it is durable; dropping the receiver unsubscribes.
    pub fn subscribe(&self, kinds: &[DocKind]) -> std::sync::mpsc::Receiver<DocChange> {
        self.feed.subscribe(kinds)
    }

    /// Reads a typed document.
    pub fn get<T: DocumentModel>(&self, id: &DocumentId) -> Result<T> {
        let mut inner = self.lock();
        let doc = inner.load(id, T::KIND)?;
        doc::read(id, doc)
    }

    /// The ids of every document of a kind.
    pub fn ids_of_kind(&self, kind: DocKind) -> Result<Vec<DocumentId>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached("SELECT id FROM doc_index WHERE kind = ?1 ORDER BY id")?;
        let ids = stmt.query_map([kind.as_str()], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        ids.iter().map(|id| id.parse()).collect()
    }

    /// Saves a whole document (for sync and diagnostics).
    pub fn document_bytes(&self, id: &DocumentId) -> Result<Vec<u8>> {
        let mut inner = self.lock();
        let doc = inner.load_any(id)?;
        Ok(doc.save())
    }

    /// The current heads of a document.
    pub fn heads(&self, id: &DocumentId) -> Result<Vec<ChangeHash>> {
        let mut inner = self.lock();
        Ok(inner.load_any(id)?.get_heads())
    }

    /// Applies changes received from elsewhere (the relay, another replica), in automerge's
    /// saved or incremental format. Returns whether the document changed. On error nothing is
    /// stored.
    pub fn receive_changes(&self, id: &DocumentId, changes: &[u8]) -> Result<bool> {
        let mut inner = self.lock();
        let exists = inner.exists(id)?;
        let mut doc = if exists { inner.take(id)? } else { Automerge::new() };
        let before = doc.get_heads();
        if let Err(source) = doc.load_incremental(changes) {
            return Err(Error::Automerge { id: id.clone(), source: Box::new(source) });
        }
        if doc.get_heads() == before {
            if exists {
                inner.cache.put(id.clone(), doc);
            }
            return Ok(false);
        }
        let kind = inner.commit(id, doc, &before, ChangeOrigin::Remote, |_| Ok(()))?;
        drop(inner);
        if let Some(kind) = kind {
            self.feed.publish(DocChange { id: id.clone(), kind, origin: ChangeOrigin::Remote });
        }
        Ok(true)
    }

    /// Documents changed on this device and not yet acknowledged by the relay, oldest first.
    pub fn pending_documents(&self) -> Result<Vec<DocumentId>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached("SELECT doc_id FROM doc_outbox ORDER BY changed_at, doc_id")?;
        let ids = stmt.query_map([], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        ids.iter().map(|id| id.parse()).collect()
    }

    /// Storage figures of a document.
    pub fn storage_stats(&self, id: &DocumentId) -> Result<StorageStats> {
        let inner = self.lock();
        inner
            .conn
            .query_row(
                "SELECT d.snapshot_len, d.chunks_len, (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id)
                 FROM documents d WHERE d.id = ?1",
                [id.as_str()],
                |row| {
                    let figure = |i| row.get::<_, i64>(i).map(|v| v.max(0) as u64);
                    Ok(StorageStats { snapshot_len: figure(0)?, chunks_len: figure(1)?, chunk_count: figure(2)? })
                },
            )
            .optional()?
            .ok_or_else(|| Error::NotFound { kind: None, id: id.to_string() })
    }

    /// Runs SQLite's `PRAGMA integrity_check`; `Ok(())` when the file is sound.
    pub fn integrity_check(&self) -> Result<()> {
        let inner = self.lock();
        let verdict: String = inner.conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(Error::Corrupt { path: Some(self.path.display().to_string()), reason: verdict })
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave SQLite half-written (its transaction rolls
        // back), and the cache is only ever filled with committed documents, so the state behind
        // a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The signed-in user, or [`Error::NotSignedIn`].
    fn require_identity(&self) -> Result<Identity> {
        self.identity().ok_or(Error::NotSignedIn)
    }

    /// Creates a document owned by this device's writer, in one transaction with `extra`.
    fn create_doc<T: DocumentModel>(
        &self,
        value: &T,
        extra: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<DocumentId> {
        let id = DocumentId::random();
        let mut inner = self.lock();
        let doc = doc::create(&id, inner.actor.clone(), value)?;
        inner.commit(&id, doc, &[], ChangeOrigin::Local, extra)?;
        drop(inner);
        self.feed.publish(DocChange { id: id.clone(), kind: T::KIND, origin: ChangeOrigin::Local });
        Ok(id)
    }

    /// Reads `T`, lets `edit` change it, and commits what changed in one transaction together
    /// with `extra`. Returns `edit`'s result. Nothing is written when `edit` fails.
    ///
    /// `edit` and `extra` run under the store's lock: they must not call back into the store.
    fn edit_doc<T: DocumentModel, R>(
        &self,
        id: &DocumentId,
        edit: impl FnOnce(&mut T) -> Result<R>,
        extra: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<R> {
        let mut inner = self.lock();
        let mut doc = inner.take(id)?;
        // On any error below `doc` is dropped, not cached: the next read reloads what is durable.
        let mut value: T = doc::read(id, &doc)?;
        let result = edit(&mut value)?;
        let before = doc.get_heads();
        let changed = doc::update(id, &mut doc, &value)?;
        if !changed {
            inner.cache.put(id.clone(), doc);
            return Ok(result);
        }
        inner.commit(id, doc, &before, ChangeOrigin::Local, extra)?;
        drop(inner);
        self.feed.publish(DocChange { id: id.clone(), kind: T::KIND, origin: ChangeOrigin::Local });
        Ok(result)
    }
}

impl Inner {
    fn exists(&self, id: &DocumentId) -> Result<bool> {
        if self.cache.contains(id) {
            return Ok(true);
        }
        Ok(self.conn.prepare_cached("SELECT 1 FROM documents WHERE id = ?1")?.exists([id.as_str()])?)
    }

    /// Loads a document of any kind into the cache and returns it.
    fn load_any(&mut self, id: &DocumentId) -> Result<&Automerge> {
        self.load(id, None)
    }

    /// Loads a document into the cache and returns it; `kind` is what a not-found error names.
    fn load(&mut self, id: &DocumentId, kind: impl Into<Option<DocKind>>) -> Result<&Automerge> {
        let kind: Option<DocKind> = kind.into();
        let not_found = || Error::NotFound { kind, id: id.to_string() };
        if !self.cache.contains(id) {
            let doc = self.read_from_disk(id)?.ok_or_else(not_found)?;
            self.cache.put(id.clone(), doc);
        }
        self.cache.get(id).ok_or_else(not_found)
    }

    /// Removes a document from the cache (loading it if needed) for editing. The caller puts it
    /// back by committing it or with `cache.put`; on an error path it is simply dropped, and the
    /// next read reloads what is durable.
    fn take(&mut self, id: &DocumentId) -> Result<Automerge> {
        if let Some(doc) = self.cache.take(id) {
            return Ok(doc);
        }
        self.read_from_disk(id)?.ok_or_else(|| Error::NotFound { kind: None, id: id.to_string() })
    }

    fn read_from_disk(&self, id: &DocumentId) -> Result<Option<Automerge>> {
        let snapshot: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT snapshot FROM documents WHERE id = ?1")?
            .query_row([id.as_str()], |row| row.get(0))
            .optional()?;
        let Some(snapshot) = snapshot else { return Ok(None) };
        let corrupt = |source| Error::Automerge { id: id.clone(), source: Box::new(source) };
        let mut doc = Automerge::load(&snapshot).map_err(corrupt)?;
        let mut stmt = self.conn.prepare_cached("SELECT data FROM chunks WHERE doc_id = ?1 ORDER BY seq")?;
        let mut rows = stmt.query([id.as_str()])?;
        while let Some(row) = rows.next()? {
            let chunk: Vec<u8> = row.get(0)?;
            doc.load_incremental(&chunk).map_err(corrupt)?;
        }
        doc.set_actor(self.actor.clone());
        Ok(Some(doc))
    }

    /// Durably stores what changed in `doc` since `before`, updates its index row, queues it for
    /// upload when the change is local, runs `extra` in the same transaction, and caches `doc`.
    /// Returns the document's kind when this code knows it.
    fn commit(
        &mut self,
        id: &DocumentId,
        doc: Automerge,
        before: &[ChangeHash],
        origin: ChangeOrigin,
        extra: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<Option<DocKind>> {
        let tx = self.conn.transaction()?;
        let kind = stage(&tx, id, &doc, before, origin)?;
        extra(&tx)?;
        tx.commit()?;
        self.cache.put(id.clone(), doc);
        Ok(kind)
    }
}

/// The limits the relay holds a device's change to ([`doc::limits`]), checked before the
/// change is kept: a change the relay would refuse never leaves the phone, and the app tells
/// its user at once instead of after the next sync.
fn check_limits(id: &DocumentId, kind: DocKind, doc: &Automerge, change: &[u8]) -> Result<()> {
    let over = |limit| Error::OverLimit { id: id.clone(), kind, limit };
    if let Some(reserved) = id.reserved_for()
        && reserved != kind
    {
        return Err(Error::ReservedId { id: id.clone(), reserved });
    }
    let limits = doc::limits::Limits::for_kind(kind);
    doc::limits::measure(change, limits.max_ops_per_push).map_err(over)?;
    doc::limits::check_shape(doc, &limits).map_err(over)
}

/// Writes what changed in `doc` since `before` inside `tx`: the incremental chunk (or a new
/// snapshot when the chunks outgrow the last one), the index row, and the outbox entry for a local
/// change. Returns the document's kind when this code knows it.
fn stage(
    tx: &Transaction<'_>,
    id: &DocumentId,
    doc: &Automerge,
    before: &[ChangeHash],
    origin: ChangeOrigin,
) -> Result<Option<DocKind>> {
    let indexed = match doc::index_fields_of(id, doc) {
        Ok(indexed) => indexed,
        // A remote document may arrive in pieces; keep what arrived and index it later.
        Err(Error::Malformed { .. }) if origin == ChangeOrigin::Remote => None,
        Err(error) => return Err(error),
    };
    let kind_text = match &indexed {
        Some((kind, _)) => kind.as_str().to_owned(),
        None => doc::header(id, doc).map(|h| h.kind).unwrap_or_default(),
    };
    let heads = heads_text(&doc.get_heads());
    let now = crate::clock::now_ms();

    let existing: Option<(i64, i64)> = tx
        .prepare_cached("SELECT snapshot_len, chunks_len FROM documents WHERE id = ?1")?
        .query_row([id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    // What this change adds: the whole document when it is new, else the incremental chunk.
    let written = if existing.is_none() { doc.save() } else { doc.save_after(before) };
    if origin == ChangeOrigin::Local
        && let Some((kind, _)) = &indexed
    {
        check_limits(id, *kind, doc, &written)?;
    }
    match existing {
        None => {
            let snapshot = written;
            tx.prepare_cached(
                "INSERT INTO documents (id, kind, snapshot, snapshot_len, chunks_len, heads)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5)",
            )?
            .execute(params![id.as_str(), kind_text, snapshot, snapshot.len() as i64, heads])?;
        }
        Some((snapshot_len, chunks_len)) => {
            let chunk = written;
            let chunks_len = chunks_len + chunk.len() as i64;
            if chunks_len > snapshot_len {
                let snapshot = doc.save();
                tx.prepare_cached("DELETE FROM chunks WHERE doc_id = ?1")?.execute([id.as_str()])?;
                tx.prepare_cached(
                    "UPDATE documents SET kind = ?2, snapshot = ?3, snapshot_len = ?4, chunks_len = 0, heads = ?5
                     WHERE id = ?1",
                )?
                .execute(params![id.as_str(), kind_text, snapshot, snapshot.len() as i64, heads])?;
            } else {
                tx.prepare_cached("INSERT INTO chunks (doc_id, data) VALUES (?1, ?2)")?
                    .execute(params![id.as_str(), chunk])?;
                tx.prepare_cached("UPDATE documents SET kind = ?2, chunks_len = ?3, heads = ?4 WHERE id = ?1")?
                    .execute(params![id.as_str(), kind_text, chunks_len, heads])?;
            }
        }
    }
    match &indexed {
        Some((kind, fields)) => write_index(tx, id, *kind, fields)?,
        None => {
            tx.prepare_cached("DELETE FROM doc_index WHERE id = ?1")?.execute([id.as_str()])?;
        }
    }
    if origin == ChangeOrigin::Local {
        tx.prepare_cached(
            "INSERT INTO doc_outbox (doc_id, changed_at) VALUES (?1, ?2)
             ON CONFLICT(doc_id) DO UPDATE SET changed_at = excluded.changed_at",
        )?
        .execute(params![id.as_str(), now])?;
    }
    Ok(indexed.map(|(kind, _)| kind))
}

fn write_index(tx: &Transaction<'_>, id: &DocumentId, kind: DocKind, f: &IndexFields) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO doc_index (id, kind, status, store_id, owner, subject_id, created_at, updated_at, amount_cents, item_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, status = excluded.status, store_id = excluded.store_id,
             owner = excluded.owner, subject_id = excluded.subject_id, created_at = excluded.created_at,
             updated_at = excluded.updated_at, amount_cents = excluded.amount_cents, item_count = excluded.item_count",
    )?
    .execute(params![
        id.as_str(),
        kind.as_str(),
        f.status,
        f.store_id,
        f.owner,
        f.subject_id,
        f.created_at,
        f.updated_at,
        f.amount_cents,
        f.item_count
    ])?;
    Ok(())
}

fn heads_text(heads: &[ChangeHash]) -> String {
    heads.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(",")
}

/// Opens and keys a connection to `path`, checks its version and brings its schema up to date.
fn connect(path: &Path, options: &OpenOptions, key: Option<&StoreKey>) -> Result<Connection> {
    if let Some(key) = key
        && encryption::is_plain_file(path)?
    {
        // A newer plain database is refused as it is, not converted first.
        let found = migrations::version(&Connection::open(path).map_err(|e| with_path(e.into(), path))?)
            .map_err(|e| with_path(e, path))?;
        if found > migrations::LATEST {
            return Err(Error::NewerDatabase { found, supported: migrations::LATEST });
        }
        encryption::encrypt_plain_file(path, key).map_err(|e| with_path(e, path))?;
    }
    let mut conn = Connection::open(path).map_err(|e| with_path(e.into(), path))?;
    let setup = |conn: &mut Connection| -> Result<()> {
        if let Some(key) = key {
            encryption::apply_key(conn, key)?;
            // Sorts and temporary indexes stay in memory, never in a temporary file.
            conn.pragma_update(None, "temp_store", "MEMORY")?;
        }
        conn.busy_timeout(options.busy_timeout)?;
        // Reading the version first turns "not a database", "wrong key" and "newer than this
        // code" into clear errors before any write (switching to WAL rewrites the file header).
        let found = migrations::version(conn).map_err(|error| match (error, key) {
            (Error::Corrupt { .. }, Some(_)) => Error::WrongKey { path: path.display().to_string() },
            (Error::Corrupt { path, reason }, None) => {
                Error::Corrupt { path, reason: format!("{reason} (an encrypted store needs its key)") }
            }
            (other, _) => other,
        })?;
        if found > migrations::LATEST {
            return Err(Error::NewerDatabase { found, supported: migrations::LATEST });
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(conn)
    };
    setup(&mut conn).map_err(|e| with_path(e, path))?;
    Ok(conn)
}

/// Names the file in a [`Error::Corrupt`] raised while opening it.
fn with_path(error: Error, path: &Path) -> Error {
    match error {
        Error::Corrupt { reason, .. } => Error::Corrupt { path: Some(path.display().to_string()), reason },
        other => other,
    }
}

fn read_identity(conn: &Connection) -> Result<Option<Identity>> {
    let get = |key: &str| -> Result<Option<String>> {
        Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0)).optional()?)
    };
    let (Some(tenant), Some(user_id), Some(role)) = (get("tenant")?, get("user_id")?, get("role")?) else {
        return Ok(None);
    };
    let role: Role = role.parse()?;
    Ok(Some(Identity { tenant, user_id, role }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use automerge::ActorId;

    use super::*;
    use crate::doc::{RetailStore, limits::LimitError};

    fn store_doc(id: &DocumentId, name: &str) -> Automerge {
        let store = RetailStore::sample(name);
        doc::create(id, ActorId::random(), &store).unwrap()
    }

    #[test]
    fn a_local_change_under_an_id_reserved_for_another_kind_or_past_a_limit_is_refused() {
        let reserved = DocumentId::derived(DocKind::OrderReview, &[b"order-1"]);
        let doc = store_doc(&reserved, "Corner Market");
        assert!(matches!(check_limits(&reserved, DocKind::Store, &doc, &doc.save()), Err(Error::ReservedId { .. })));

        let id = DocumentId::random();
        let doc = store_doc(&id, "Corner Market");
        assert!(check_limits(&id, DocKind::Store, &doc, &doc.save()).is_ok());
        let long = "n".repeat(doc::limits::Limits::for_kind(DocKind::Store).max_text_chars + 1);
        let doc = store_doc(&id, &long);
        match check_limits(&id, DocKind::Store, &doc, &doc.save()) {
            Err(Error::OverLimit { limit: LimitError::TextTooLong { .. }, .. }) => {}
            other => panic!("expected text-too-long, got {other:?}"),
        }
    }
}
