//! What the sync engine needs from the local store: the feed cursor, the heads the relay holds,
//! push payloads, the digest over held documents, quarantine and purge, the photo queue.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ChangeHash, ReadDoc};
use rusqlite::{OptionalExtension, params};

use super::{ChangeOrigin, DocChange, LocalStore, heads_text};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::id::DocumentId;
use crate::sync::protocol::Head;

/// A document the relay refused, kept aside on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// The document.
    pub id: DocumentId,
    /// The relay's code (`forbidden`, `invalid`, `actor-taken`).
    pub code: String,
    /// The relay's reason.
    pub reason: String,
    /// When it was refused, ms since the Unix epoch.
    pub at: i64,
}

/// What became of one update from the relay.
#[derive(Debug)]
pub enum Received {
    /// Stored.
    Applied,
    /// The device already had all of it.
    Unchanged,
    /// It builds on a document this device never received: ask the relay for it whole.
    Missing,
    /// It did not decode; nothing was stored.
    Broken(Error),
}

/// A photo waiting for upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPhoto {
    /// Its SHA-256.
    pub sha256: String,
    /// Its size.
    pub byte_size: u64,
    /// Bytes the relay is known to hold.
    pub uploaded_bytes: u64,
}

impl LocalStore {
    /// The last change-feed position applied (0: none).
    pub fn sync_cursor(&self) -> Result<u64> {
        let inner = self.lock();
        let value: Option<String> =
            inner.conn.query_row("SELECT value FROM meta WHERE key = 'sync_cursor'", [], |r| r.get(0)).optional()?;
        Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Records the change-feed position reached.
    pub fn set_sync_cursor(&self, cursor: u64) -> Result<()> {
        let inner = self.lock();
        inner.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('sync_cursor', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [cursor.to_string()],
        )?;
        Ok(())
    }

    /// Every document held with its heads, leaving out `excluded`: the input of the scope digest
    /// and of the comparison with the relay's manifest.
    pub fn held_heads(&self, excluded: &HashSet<DocumentId>) -> Result<Vec<(DocumentId, Vec<Head>)>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached("SELECT id, heads FROM documents")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut held = Vec::new();
        for row in rows {
            let (id, heads) = row?;
            let id: DocumentId = id.parse()?;
            if !excluded.contains(&id) {
                held.push((id, parse_heads(&heads)?.iter().map(|h| h.0).collect()));
            }
        }
        Ok(held)
    }

    /// The changes of a document the relay does not hold yet, and the heads they lead to.
    pub fn push_payload(&self, id: &DocumentId) -> Result<(Vec<u8>, Vec<ChangeHash>)> {
        let mut inner = self.lock();
        let synced: Option<String> = inner
            .conn
            .prepare_cached("SELECT heads FROM synced_heads WHERE doc_id = ?1")?
            .query_row([id.as_str()], |r| r.get(0))
            .optional()?;
        let synced = synced.map(|s| parse_heads(&s)).transpose()?.unwrap_or_default();
        let doc = inner.load_any(id)?;
        // Heads the relay acknowledged are always in the local document; if one is not (a
        // restored database), send the whole document: always correct, only larger.
        let known = synced.iter().all(|h| doc.get_change_by_hash(h).is_some());
        let changes = if synced.is_empty() || !known { doc.save() } else { doc.save_after(&synced) };
        Ok((changes, doc.get_heads()))
    }

    /// The relay acknowledged `heads` of a document: later pushes start there, and the document
    /// leaves the outbox unless it changed again meanwhile.
    pub fn mark_pushed(&self, id: &DocumentId, heads: &[ChangeHash]) -> Result<()> {
        let mut inner = self.lock();
        let current = inner.load_any(id)?.get_heads();
        let tx = inner.conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO synced_heads (doc_id, heads) VALUES (?1, ?2)
             ON CONFLICT(doc_id) DO UPDATE SET heads = excluded.heads",
        )?
        .execute(params![id.as_str(), heads_text(heads)])?;
        if current == heads {
            tx.prepare_cached("DELETE FROM doc_outbox WHERE doc_id = ?1")?.execute([id.as_str()])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Applies the relay's updates — whole documents or feed entries — and records that the
    /// relay holds each document as it now is (unless it has local changes waiting), all in one
    /// durable transaction: a first sync of thousands of documents pays for one disk sync, not
    /// thousands.
    ///
    /// Returns one outcome per update, in order. A broken update or one that builds on a document
    /// this device never received changes nothing and does not stop the others.
    pub fn receive_from_relay(&self, updates: &[(DocumentId, &[u8])]) -> Result<Vec<Received>> {
        let mut inner = self.lock();
        let mut outcomes = Vec::with_capacity(updates.len());
        // Documents are changed in memory first; `staged` holds each changed document once.
        let mut staged: Vec<(DocumentId, Automerge, Vec<ChangeHash>)> = Vec::new();
        let mut unchanged: Vec<(DocumentId, Vec<ChangeHash>)> = Vec::new();
        for (id, changes) in updates {
            if let Some((_, doc, _)) = staged.iter_mut().find(|(staged_id, _, _)| staged_id == id) {
                match doc.load_incremental(changes) {
                    Ok(_) => outcomes.push(Received::Applied),
                    Err(source) => {
                        outcomes.push(Received::Broken(Error::Automerge { id: id.clone(), source: Box::new(source) }))
                    }
                }
                continue;
            }
            let exists = inner.exists(id)?;
            let mut doc = if exists { inner.take(id)? } else { Automerge::new() };
            let before = doc.get_heads();
            if let Err(source) = doc.load_incremental(changes) {
                // `doc` is dropped, not cached: the next read reloads what is durable.
                outcomes.push(Received::Broken(Error::Automerge { id: id.clone(), source: Box::new(source) }));
                continue;
            }
            if doc.get_heads() == before {
                if exists {
                    unchanged.push((id.clone(), before));
                    inner.cache.put(id.clone(), doc);
                    outcomes.push(Received::Unchanged);
                } else {
                    outcomes.push(Received::Missing);
                }
                continue;
            }
            staged.push((id.clone(), doc, before));
            outcomes.push(Received::Applied);
        }
        if staged.is_empty() && unchanged.is_empty() {
            return Ok(outcomes);
        }
        let tx = inner.conn.transaction()?;
        let mut kinds = Vec::with_capacity(staged.len());
        // Documents first: the synced heads refer to them.
        for (id, doc, before) in &staged {
            kinds.push(super::stage(&tx, id, doc, before, ChangeOrigin::Remote)?);
        }
        let held = staged.iter().map(|(id, doc, _)| (id, doc.get_heads()));
        for (id, heads) in held.chain(unchanged.iter().map(|(id, heads)| (id, heads.clone()))) {
            let pending = tx.prepare_cached("SELECT 1 FROM doc_outbox WHERE doc_id = ?1")?.exists([id.as_str()])?;
            if !pending {
                tx.prepare_cached(
                    "INSERT INTO synced_heads (doc_id, heads) VALUES (?1, ?2)
                     ON CONFLICT(doc_id) DO UPDATE SET heads = excluded.heads",
                )?
                .execute(params![id.as_str(), heads_text(&heads)])?;
            }
        }
        tx.commit()?;
        let mut changes = Vec::new();
        for ((id, doc, _), kind) in staged.into_iter().zip(kinds) {
            if let Some(kind) = kind {
                changes.push(DocChange { id: id.clone(), kind, origin: ChangeOrigin::Remote });
            }
            inner.cache.put(id, doc);
        }
        drop(inner);
        for change in changes {
            self.feed.publish(change);
        }
        Ok(outcomes)
    }

    /// Sets a refused document aside: it leaves the outbox (so it never blocks or loops) and is
    /// reported until the app deals with it.
    pub fn quarantine(&self, id: &DocumentId, code: &str, reason: &str) -> Result<()> {
        let inner = self.lock();
        let tx = inner.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO quarantine (doc_id, code, reason, quarantined_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(doc_id) DO UPDATE SET code = excluded.code, reason = excluded.reason,
                 quarantined_at = excluded.quarantined_at",
            params![id.as_str(), code, reason, now_ms()],
        )?;
        tx.execute("DELETE FROM doc_outbox WHERE doc_id = ?1", [id.as_str()])?;
        tx.commit()?;
        Ok(())
    }

    /// Documents the relay refused.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT doc_id, code, reason, quarantined_at FROM quarantine ORDER BY quarantined_at, doc_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
        })?;
        rows.map(|row| {
            let (id, code, reason, at) = row?;
            Ok(Quarantined { id: id.parse()?, code, reason, at })
        })
        .collect()
    }

    /// Deletes a document the device may no longer hold (it left the user's scope).
    pub fn purge(&self, id: &DocumentId) -> Result<()> {
        let mut inner = self.lock();
        inner.cache.take(id);
        let tx = inner.conn.transaction()?;
        // Child rows go with the document (foreign keys with ON DELETE CASCADE).
        tx.execute("DELETE FROM documents WHERE id = ?1", [id.as_str()])?;
        tx.commit()?;
        Ok(())
    }

    /// The next message of an automerge sync conversation about one document (repair).
    pub fn generate_sync_message(&self, id: &DocumentId, state: &mut sync::State) -> Result<Option<Vec<u8>>> {
        let mut inner = self.lock();
        let doc = match inner.load_any(id) {
            Ok(doc) => doc,
            Err(Error::NotFound { .. }) => {
                // A document the device lacks: an empty one asks for everything.
                return Ok(Automerge::new().generate_sync_message(state).map(sync::Message::encode));
            }
            Err(error) => return Err(error),
        };
        Ok(doc.generate_sync_message(state).map(sync::Message::encode))
    }

    /// Applies a sync message from the relay to one document (repair).
    pub fn receive_sync_message(&self, id: &DocumentId, state: &mut sync::State, message: &[u8]) -> Result<()> {
        let message = sync::Message::decode(message).map_err(|e| Error::InvalidInput {
            field: "sync message",
            reason: format!("sync message for document {id} does not decode: {e}"),
        })?;
        let mut inner = self.lock();
        let exists = inner.exists(id)?;
        let mut doc = if exists { inner.take(id)? } else { Automerge::new() };
        let before = doc.get_heads();
        doc.receive_sync_message(state, message)
            .map_err(|source| Error::Automerge { id: id.clone(), source: Box::new(source) })?;
        if doc.get_heads() == before {
            if exists {
                inner.cache.put(id.clone(), doc);
            }
            return Ok(());
        }
        let kind = inner.commit(id, doc, &before, ChangeOrigin::Remote, |_| Ok(()))?;
        drop(inner);
        if let Some(kind) = kind {
            self.feed.publish(DocChange { id: id.clone(), kind, origin: ChangeOrigin::Remote });
        }
        Ok(())
    }

    /// Photos waiting for upload, oldest first.
    pub fn pending_photo_uploads(&self) -> Result<Vec<PendingPhoto>> {
        let inner = self.lock();
        let mut stmt = inner
            .conn
            .prepare_cached("SELECT sha256, byte_size, uploaded_bytes FROM photo_outbox ORDER BY queued_at, sha256")?;
        let rows = stmt.query_map([], |r| {
            Ok(PendingPhoto {
                sha256: r.get(0)?,
                byte_size: r.get::<_, i64>(1)?.max(0) as u64,
                uploaded_bytes: r.get::<_, i64>(2)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records how many bytes of a photo the relay holds; a complete photo leaves the queue.
    pub fn photo_progress(&self, sha256: &str, uploaded_bytes: u64) -> Result<()> {
        let inner = self.lock();
        let size: Option<i64> = inner
            .conn
            .query_row("SELECT byte_size FROM photo_outbox WHERE sha256 = ?1", [sha256], |r| r.get(0))
            .optional()?;
        match size {
            Some(size) if uploaded_bytes >= size.max(0) as u64 => {
                inner.conn.execute("DELETE FROM photo_outbox WHERE sha256 = ?1", [sha256])?;
            }
            Some(_) => {
                inner.conn.execute(
                    "UPDATE photo_outbox SET uploaded_bytes = ?2 WHERE sha256 = ?1",
                    params![sha256, uploaded_bytes as i64],
                )?;
            }
            None => {}
        }
        Ok(())
    }

    /// Heads of every document changed locally and not yet acknowledged, by id.
    pub fn pending_heads(&self) -> Result<HashMap<DocumentId, Vec<ChangeHash>>> {
        self.pending_documents()?.into_iter().map(|id| Ok((id.clone(), self.heads(&id)?))).collect()
    }
}

fn parse_heads(text: &str) -> Result<Vec<ChangeHash>> {
    text.split(',')
        .filter(|h| !h.is_empty())
        .map(|h| {
            ChangeHash::from_str(h)
                .map_err(|_| Error::InvalidInput { field: "heads", reason: format!("stored head {h} is not a hash") })
        })
        .collect()
}
