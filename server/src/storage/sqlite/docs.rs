//! [`DocStore`] on SQLite.
//!
//! Writes are group-committed: concurrent [`DocStore::write_doc`] calls queue up and one
//! flusher commits them together, each in its own savepoint, so a busy relay pays one
//! transaction and one fsync for many documents ([`WriteQueue`]).

use std::sync::Mutex;

use async_trait::async_trait;
use fieldsync_core::scoring::EarlierPhoto;
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocKind, DocumentId};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};
use tokio::sync::oneshot;

use super::SqliteStorage;
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::storage::docs::{Dialect, FeedEntry, SendAs, feed_query, heads_from_blob, heads_to_blob, plan_feed};
use crate::storage::read_model::{TABLES, delete_sql};
use crate::storage::{
    Announcement, BLOB_CITED_BY_TAKER, DocHeads, DocMeta, DocStore, DocWrite, FeedPage, StoredDoc, WriteOutcome,
};

/// How the shared queries ([`crate::storage::feed_query`]) are spelled here.
const SQLITE: Dialect = Dialect { placeholder: numbered, length: "length" };

fn numbered(n: usize) -> String {
    format!("?{n}")
}

#[async_trait]
impl DocStore for SqliteStorage {
    async fn load_doc(&self, tenant_id: i64, id: &DocumentId) -> Result<Option<StoredDoc>> {
        let id = id.clone();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT id, kind, owner, store_id, region, subject_id, status, snapshot, heads, created_seq, updated_seq
                 FROM documents d WHERE tenant_id = ?1 AND id = ?2",
            )?
            .query_row(params![tenant_id, id.as_str()], stored_doc)
            .optional()?
            .transpose()
        })
        .await
    }

    fn announcements(&self) -> tokio::sync::broadcast::Receiver<Announcement> {
        self.inner.announcements.subscribe()
    }

    async fn write_doc(&self, tenant_id: i64, write: DocWrite) -> Result<WriteOutcome> {
        let (answer, outcome) = tokio::sync::oneshot::channel();
        let lead = {
            let mut queue = lock(&self.inner.write_queue.state);
            queue.pending.push(PendingWrite { tenant_id, write, answer });
            !std::mem::replace(&mut queue.flushing, true)
        };
        if lead {
            // Detached, so that a request that goes away never leaves writes without a flusher.
            tokio::spawn(self.clone().flush_writes());
        }
        outcome.await.map_err(|_| Error::Storage("the write was dropped before it was committed".into()))?
    }

    async fn actor_devices(&self, tenant_id: i64, actors: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, String)>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT device_id FROM actors WHERE tenant_id = ?1 AND actor = ?2")?;
            let mut bound = Vec::new();
            for actor in actors {
                if let Some(device) = stmt.query_row(params![tenant_id, actor], |row| row.get(0)).optional()? {
                    bound.push((actor, device));
                }
            }
            Ok(bound)
        })
        .await
    }

    async fn feed(&self, tenant_id: i64, scope: &Scope, cursor: u64, device: &str, budget: usize) -> Result<FeedPage> {
        let query = feed_query(scope, &SQLITE);
        let device = device.to_owned();
        // Planned once for every cursor ([`SqliteStorage::read_stable`]).
        self.read_stable(move |conn| {
            // One read transaction: the page and the position it reaches come from one snapshot.
            let tx = conn.unchecked_transaction()?;
            let last_seq = feed_position(&tx, tenant_id)?;
            let Some((sql, values)) = query else {
                return Ok(FeedPage { cursor: last_seq, ..FeedPage::default() });
            };
            let mut args: Vec<Value> = vec![Value::Integer(tenant_id), Value::Integer(seq_value(cursor))];
            args.extend(values.into_iter().map(Value::Text));
            let entries: Vec<FeedEntry> = tx
                .prepare_cached(&sql)?
                .query_map(params_from_iter(args), |r| {
                    Ok(FeedEntry {
                        seq: r.get::<_, i64>(0)?.max(0) as u64,
                        doc: r.get(1)?,
                        origin: r.get(2)?,
                        len: r.get::<_, i64>(3)?.max(0) as usize,
                        created_seq: r.get::<_, i64>(4)?.max(0) as u64,
                        creator: r.get(5)?,
                        snapshot_len: r.get::<_, i64>(6)?.max(0) as usize,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let plan = plan_feed(entries, cursor, &device, budget);
            let mut snapshot_stmt =
                tx.prepare_cached("SELECT snapshot FROM documents WHERE tenant_id = ?1 AND id = ?2")?;
            let mut entry_stmt =
                tx.prepare_cached("SELECT changes FROM change_log WHERE tenant_id = ?1 AND seq = ?2")?;
            plan.into_page(last_seq, |doc, send| match send {
                SendAs::Whole => Ok(snapshot_stmt.query_row(params![tenant_id, doc], |r| r.get(0))?),
                SendAs::Changes(seqs) => {
                    let mut all = Vec::new();
                    for seq in seqs {
                        let changes: Vec<u8> =
                            entry_stmt.query_row(params![tenant_id, seq_value(*seq)], |r| r.get(0))?;
                        all.extend_from_slice(&changes);
                    }
                    Ok(all)
                }
            })
        })
        .await
    }

    async fn manifest(
        &self,
        tenant_id: i64,
        scope: &Scope,
        excluded: &[DocumentId],
    ) -> Result<Vec<(DocumentId, Vec<Head>)>> {
        let excluded: std::collections::HashSet<String> = excluded.iter().map(|id| id.to_string()).collect();
        // One index lookup per kind the scope covers: SQLite does not split
        // `tenant_id = ? AND (a OR b OR …)` into index lookups, and would walk every document of
        // the tenant on each caught-up round trip.
        let lookups = scope.lookups();
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let mut entries = Vec::new();
            for lookup in lookups {
                let mut stmt;
                let mut rows = match &lookup.column {
                    None => {
                        stmt =
                            tx.prepare_cached("SELECT id, heads FROM documents WHERE tenant_id = ?1 AND kind = ?2")?;
                        stmt.query(params![tenant_id, lookup.kind.as_str()])?
                    }
                    Some((column, value)) => {
                        stmt = tx.prepare_cached(&format!(
                            "SELECT id, heads FROM documents WHERE tenant_id = ?1 AND kind = ?2 AND {column} = ?3"
                        ))?;
                        stmt.query(params![tenant_id, lookup.kind.as_str(), value])?
                    }
                };
                while let Some(row) = rows.next()? {
                    let id: String = row.get(0)?;
                    if excluded.contains(&id) {
                        continue;
                    }
                    entries.push((id.parse()?, heads_from_blob(&row.get::<_, Vec<u8>>(1)?)));
                }
            }
            Ok(entries)
        })
        .await
    }

    async fn feed_position(&self, tenant_id: i64) -> Result<u64> {
        self.read(move |conn| feed_position(conn, tenant_id)).await
    }

    async fn list_docs(&self, tenant_id: i64, scope: &Scope, kind: DocKind, limit: u32) -> Result<Vec<StoredDoc>> {
        let columns =
            "id, kind, owner, store_id, region, subject_id, status, snapshot, heads, created_seq, updated_seq";
        self.list_rows(tenant_id, scope, kind, limit, columns, stored_doc).await
    }

    async fn list_doc_heads(&self, tenant_id: i64, scope: &Scope, kind: DocKind, limit: u32) -> Result<Vec<DocHeads>> {
        let columns = "id, kind, owner, store_id, region, subject_id, status, heads";
        self.list_rows(tenant_id, scope, kind, limit, columns, doc_heads).await
    }

    async fn doc_heads(&self, tenant_id: i64, id: &DocumentId) -> Result<Option<DocHeads>> {
        let id = id.clone();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT id, kind, owner, store_id, region, subject_id, status, heads
                 FROM documents d WHERE tenant_id = ?1 AND id = ?2",
            )?
            .query_row(params![tenant_id, id.as_str()], doc_heads)
            .optional()?
            .transpose()
        })
        .await
    }

    async fn blob_visible(&self, tenant_id: i64, scope: &Scope, sha256: &str) -> Result<bool> {
        let (condition, scope_params) = scope.sql_condition();
        let sha256 = sha256.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT 1 FROM doc_blobs b JOIN documents d ON d.tenant_id = b.tenant_id AND d.id = b.doc_id
                 JOIN blobs p ON p.tenant_id = b.tenant_id AND p.sha256 = b.sha256
                 WHERE b.tenant_id = ? AND b.sha256 = ? AND {condition} AND {BLOB_CITED_BY_TAKER} LIMIT 1"
            );
            let mut args: Vec<Value> = vec![Value::Integer(tenant_id), Value::Text(sha256)];
            args.extend(scope_params.into_iter().map(Value::Text));
            Ok(conn.prepare_cached(&sql)?.exists(params_from_iter(args))?)
        })
        .await
    }

    async fn inspections_with_photo(&self, tenant_id: i64, sha256: &str) -> Result<Vec<DocumentId>> {
        let sha256 = sha256.to_owned();
        self.read(move |conn| {
            let ids: Vec<String> = conn
                .prepare_cached(
                    "SELECT d.id FROM doc_blobs b JOIN documents d ON d.tenant_id = b.tenant_id AND d.id = b.doc_id
                     WHERE b.tenant_id = ?1 AND b.sha256 = ?2 AND d.kind = 'inspection' AND d.status = 'checked-out'
                     ORDER BY d.id",
                )?
                .query_map(params![tenant_id, sha256], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            ids.iter().map(|id| Ok(id.parse()?)).collect()
        })
        .await
    }

    async fn photo_hashes(&self, tenant_id: i64, except_inspection: &DocumentId) -> Result<Vec<EarlierPhoto>> {
        let except = except_inspection.to_string();
        self.read(move |conn| {
            let rows = conn
                .prepare_cached(
                    "SELECT sha256, phash, inspection_id, store_id, captured_at FROM photo_hashes
                     WHERE tenant_id = ?1 AND inspection_id != ?2 ORDER BY captured_at, inspection_id, sha256",
                )?
                .query_map(params![tenant_id, except], |r| {
                    Ok(EarlierPhoto {
                        sha256: r.get(0)?,
                        phash: r.get(1)?,
                        inspection_id: r.get(2)?,
                        store_id: r.get(3)?,
                        captured_at: r.get(4)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn record_photo_hashes(
        &self,
        tenant_id: i64,
        inspection_id: &DocumentId,
        photos: Vec<EarlierPhoto>,
    ) -> Result<()> {
        let inspection_id = inspection_id.to_string();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.prepare_cached("DELETE FROM photo_hashes WHERE tenant_id = ?1 AND inspection_id = ?2")?
                .execute(params![tenant_id, inspection_id])?;
            for photo in &photos {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO photo_hashes (tenant_id, inspection_id, sha256, phash, store_id, captured_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![tenant_id, inspection_id, photo.sha256, photo.phash, photo.store_id, photo.captured_at])?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn doc_ids_after(&self, tenant_id: i64, after: Option<&DocumentId>, limit: u32) -> Result<Vec<DocumentId>> {
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        self.read(move |conn| {
            let ids: Vec<String> = conn
                .prepare_cached("SELECT id FROM documents WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3")?
                .query_map(params![tenant_id, after, limit], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            ids.iter().map(|id| Ok(id.parse()?)).collect()
        })
        .await
    }

    async fn quarantine_doc(&self, tenant_id: i64, id: &DocumentId, reason: &str, now_ms: i64) -> Result<bool> {
        let (id, reason) = (id.to_string(), reason.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let moved = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO quarantined_documents
                         (tenant_id, id, kind, owner, snapshot, reason, quarantined_at)
                     SELECT tenant_id, id, kind, owner, snapshot, ?3, ?4 FROM documents WHERE tenant_id = ?1 AND id = ?2",
                )?
                .execute(params![tenant_id, id, reason, now_ms])?;
            for sql in [
                "DELETE FROM documents WHERE tenant_id = ?1 AND id = ?2",
                "DELETE FROM change_log WHERE tenant_id = ?1 AND doc_id = ?2",
                "DELETE FROM doc_blobs WHERE tenant_id = ?1 AND doc_id = ?2",
            ] {
                tx.prepare_cached(sql)?.execute(params![tenant_id, id])?;
            }
            // The read-model rows the document is the parent of leave with it.
            for table in TABLES {
                tx.prepare_cached(&delete_sql(table.name, table.key[0], numbered))?.execute(params![tenant_id, id])?;
            }
            tx.commit()?;
            Ok(moved > 0)
        })
        .await
    }
}

/// Most writes committed in one transaction.
const MAX_GROUP: usize = 256;

/// Document writes waiting for the next group commit.
#[derive(Default)]
pub(super) struct WriteQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    pending: Vec<PendingWrite>,
    /// A flusher is running and will take what is pending.
    flushing: bool,
}

struct PendingWrite {
    tenant_id: i64,
    write: DocWrite,
    answer: oneshot::Sender<Result<WriteOutcome>>,
}

impl SqliteStorage {
    /// Commits what is queued, group by group, until the queue is empty. Writes that arrive while
    /// a group is being committed wait for the next group: under load, many writes share one
    /// transaction and one fsync; alone, a write is committed at once.
    async fn flush_writes(self) {
        loop {
            let queue = self.clone();
            let committed = self
                .write(move |conn| {
                    let group: Vec<PendingWrite> = {
                        let mut state = lock(&queue.inner.write_queue.state);
                        if state.pending.is_empty() {
                            state.flushing = false;
                            return Ok(false);
                        }
                        let n = state.pending.len().min(MAX_GROUP);
                        state.pending.drain(..n).collect()
                    };
                    queue.commit_group(conn, group);
                    Ok(true)
                })
                .await;
            match committed {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => {
                    // The blocking pool refused the work (the runtime is stopping): answer
                    // everyone still waiting rather than spinning.
                    let mut state = lock(&self.inner.write_queue.state);
                    state.flushing = false;
                    for pending in state.pending.drain(..) {
                        let _ = pending.answer.send(Err(Error::Storage(format!("write not committed: {error}"))));
                    }
                    return;
                }
            }
        }
    }

    /// One transaction for a group of writes, each in its own savepoint: a write that conflicts
    /// or is refused changes nothing and the others go on. Nobody hears "stored" before the
    /// commit is durable; if the commit fails, every write of the group reports the failure.
    fn commit_group(&self, conn: &mut Connection, group: Vec<PendingWrite>) {
        let mut outcomes: Vec<Result<WriteOutcome>> = Vec::with_capacity(group.len());
        let committed = (|| -> Result<()> {
            let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for pending in &group {
                let outcome = (|| {
                    let savepoint = tx.savepoint()?;
                    let outcome = apply_write(&savepoint, pending.tenant_id, &pending.write)?;
                    if let WriteOutcome::Stored(_) = outcome {
                        savepoint.commit()?;
                    }
                    // Otherwise the savepoint rolls back as it is dropped.
                    Ok(outcome)
                })();
                outcomes.push(outcome);
                if tx.is_autocommit() {
                    // SQLite abandoned the transaction (disk full, I/O error): stop here.
                    return Err(Error::Storage("the write transaction was rolled back".into()));
                }
            }
            tx.commit()?;
            Ok(())
        })();
        match committed {
            Ok(()) => {
                for (pending, outcome) in group.into_iter().zip(outcomes) {
                    if let Ok(WriteOutcome::Stored(seq)) = outcome {
                        let PendingWrite { tenant_id, write, .. } = &pending;
                        let announcement = Announcement {
                            tenant_id: *tenant_id,
                            seq,
                            meta: write.meta.clone(),
                            origin_device: write.origin_device.clone(),
                        };
                        // Nobody listening is fine.
                        let _ = self.inner.announcements.send(announcement);
                    }
                    // The requester may have gone away; the write stands.
                    let _ = pending.answer.send(outcome);
                }
            }
            Err(error) => {
                let reason = error.to_string();
                for pending in group {
                    let _ = pending.answer.send(Err(Error::Storage(format!("write not committed: {reason}"))));
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Applies one write inside the caller's transaction (a savepoint of the group commit).
fn apply_write(tx: &Connection, tenant_id: i64, write: &DocWrite) -> Result<WriteOutcome> {
    let id = write.id.as_str();
    let current: Option<Vec<u8>> = tx
        .prepare_cached("SELECT heads FROM documents WHERE tenant_id = ?1 AND id = ?2")?
        .query_row(params![tenant_id, id], |r| r.get(0))
        .optional()?;
    let expected = heads_to_blob(&write.expected_heads);
    let matches = match &current {
        Some(heads) => !write.expected_heads.is_empty() && *heads == expected,
        None => write.expected_heads.is_empty(),
    };
    if !matches {
        return Ok(WriteOutcome::Conflict);
    }
    let seq = feed_position(tx, tenant_id)? + 1;
    let seq_db = seq_value(seq);
    tx.prepare_cached(
        "INSERT INTO feed_positions (tenant_id, last_seq) VALUES (?1, ?2)
         ON CONFLICT(tenant_id) DO UPDATE SET last_seq = excluded.last_seq",
    )?
    .execute(params![tenant_id, seq_db])?;
    let m = &write.meta;
    let now = fieldsync_core::clock::now_ms();
    tx.prepare_cached(
        "INSERT INTO documents (tenant_id, id, kind, owner, store_id, region, subject_id, status, snapshot, heads,
                                created_seq, updated_seq, creator_device, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13)
         ON CONFLICT(tenant_id, id) DO UPDATE SET kind = excluded.kind, owner = excluded.owner,
             store_id = excluded.store_id, region = excluded.region, subject_id = excluded.subject_id,
             status = excluded.status, snapshot = excluded.snapshot, heads = excluded.heads,
             updated_seq = excluded.updated_seq, updated_at = excluded.updated_at",
    )?
    .execute(params![
        tenant_id,
        id,
        m.kind.as_str(),
        m.owner,
        m.store_id,
        m.region,
        m.subject_id,
        m.status,
        write.snapshot,
        heads_to_blob(&write.heads),
        seq_db,
        write.origin_device,
        now
    ])?;
    tx.prepare_cached(
        "INSERT INTO change_log (tenant_id, seq, doc_id, origin_device, changes) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![tenant_id, seq_db, id, write.origin_device, write.changes])?;
    if let Some(device) = &write.origin_device {
        for actor in &write.new_actors {
            let bound: Option<String> = tx
                .prepare_cached("SELECT device_id FROM actors WHERE tenant_id = ?1 AND actor = ?2")?
                .query_row(params![tenant_id, actor], |r| r.get(0))
                .optional()?;
            match bound {
                None => {
                    tx.prepare_cached("INSERT INTO actors (tenant_id, actor, device_id) VALUES (?1, ?2, ?3)")?
                        .execute(params![tenant_id, actor, device])?;
                }
                Some(owner) if owner == *device => {}
                Some(_) => {
                    return Err(Error::Forbidden(format!("actor {} belongs to another device", hex::encode(actor))));
                }
            }
        }
    }
    tx.prepare_cached("DELETE FROM doc_blobs WHERE tenant_id = ?1 AND doc_id = ?2")?.execute(params![tenant_id, id])?;
    for sha in &write.blobs {
        tx.prepare_cached("INSERT OR IGNORE INTO doc_blobs (tenant_id, doc_id, sha256) VALUES (?1, ?2, ?3)")?
            .execute(params![tenant_id, id, sha])?;
    }
    if let Some(job) = &write.job {
        super::jobs::insert_job(tx, tenant_id, &job.kind, &job.key, &job.payload, job.run_after)?;
    }
    super::read_model::apply_changes(tx, tenant_id, &write.read_model)?;
    super::events::insert_events(tx, tenant_id, &write.events, now)?;
    Ok(WriteOutcome::Stored(seq))
}

fn feed_position(conn: &Connection, tenant_id: i64) -> Result<u64> {
    let last: Option<i64> = conn
        .prepare_cached("SELECT last_seq FROM feed_positions WHERE tenant_id = ?1")?
        .query_row([tenant_id], |r| r.get(0))
        .optional()?;
    Ok(last.unwrap_or(0).max(0) as u64)
}

/// Feed positions are stored as SQLite integers (i64); they never come near the limit.
fn seq_value(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

impl SqliteStorage {
    /// The `kind` documents in `scope`, most recently changed first, as `columns` read by `row`.
    async fn list_rows<T: Send + 'static>(
        &self,
        tenant_id: i64,
        scope: &Scope,
        kind: DocKind,
        limit: u32,
        columns: &'static str,
        row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<Result<T>>,
    ) -> Result<Vec<T>> {
        let (condition, scope_params) = scope.sql_condition();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {columns} FROM documents d WHERE d.tenant_id = ? AND d.kind = ? AND {condition}
                 ORDER BY d.updated_seq DESC LIMIT ?"
            );
            let mut args: Vec<Value> = vec![Value::Integer(tenant_id), Value::Text(kind.as_str().to_owned())];
            args.extend(scope_params.into_iter().map(Value::Text));
            args.push(Value::Integer(i64::from(limit)));
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(args), row)?.collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().collect()
        })
        .await
    }
}

/// A row of `id, kind, owner, store_id, region, subject_id, status, heads`.
fn doc_heads(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<DocHeads>> {
    let identity = id_and_meta(row)?;
    let heads: Vec<u8> = row.get(7)?;
    Ok(identity.map(|(id, meta)| DocHeads { id, meta, heads: heads_from_blob(&heads) }))
}

/// The id and scope columns every document row starts with (`id, kind, owner, store_id, region,
/// subject_id, status`); the inner result fails on a value that does not parse.
fn id_and_meta(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<(DocumentId, DocMeta)>> {
    let id: String = row.get(0)?;
    let kind: String = row.get(1)?;
    let (owner, store_id, region, subject_id, status) =
        (row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?);
    Ok((|| Ok((id.parse()?, DocMeta { kind: kind.parse()?, owner, store_id, region, subject_id, status })))())
}

fn stored_doc(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StoredDoc>> {
    let identity = id_and_meta(row)?;
    let snapshot: Vec<u8> = row.get(7)?;
    let heads: Vec<u8> = row.get(8)?;
    let created_seq: i64 = row.get(9)?;
    let updated_seq: i64 = row.get(10)?;
    Ok(identity.map(|(id, meta)| StoredDoc {
        id,
        meta,
        snapshot,
        heads: heads_from_blob(&heads),
        created_seq: created_seq.max(0) as u64,
        updated_seq: updated_seq.max(0) as u64,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use fieldsync_core::Role;
    use rusqlite::StatementStatus;

    use super::*;
    use crate::scope::Scope;

    /// Runs a rep's feed query at three cursors on one connection, as sync rounds do, with
    /// another query between them (as the feed's page reads the feed position); answers how many
    /// times SQLite prepared it again.
    fn reprepares(open: fn(&std::path::Path) -> Result<Connection>) -> i32 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.db");
        SqliteStorage::open(&path).unwrap();
        let conn = open(&path).unwrap();
        let scope = Scope { role: Role::Rep, user_id: "rep-1".into(), region: Some("north".into()) };
        let (sql, values) = feed_query(&scope, &SQLITE).unwrap();
        let mut reprepared = 0;
        for cursor in [10, 11, 12] {
            feed_position(&conn, 1).unwrap();
            let mut stmt = conn.prepare_cached(&sql).unwrap();
            let mut args = vec![Value::Integer(1), Value::Integer(cursor)];
            args.extend(values.iter().cloned().map(Value::Text));
            stmt.query_map(params_from_iter(args), |_| Ok(())).unwrap().for_each(drop);
            reprepared = stmt.get_status(StatementStatus::RePrepare);
        }
        reprepared
    }

    #[test]
    fn the_feed_query_is_prepared_once_whatever_the_cursor() {
        // Should SQLite stop preparing the join again for new values, the stable readers can go.
        assert!(reprepares(super::super::connect) >= 2, "SQLite prepares the feed's join again for every new cursor");
        assert_eq!(reprepares(super::super::connect_stable), 0);
    }
}
