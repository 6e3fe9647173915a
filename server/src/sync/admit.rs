//! Admission of a device's changes to one document: decode, check every rule, store — or refuse
//! the whole message for that document and store nothing.
//!
//! The changes are applied to a copy of the stored document first; the copy is checked (its kind,
//! owner, store and actors) and only then written, conditional on the stored heads not having
//! moved meanwhile. A refusal concerns one document: the rest of the request goes on.

use std::collections::BTreeSet;

use automerge::sync::{self, SyncDoc};
use automerge::{ActorId, Automerge, LoadOptions, OnPartialLoad, ReadDoc};
use fieldsync_core::DocumentId;
use fieldsync_core::doc::limits::{self, LimitError, Limits};
use fieldsync_core::doc::{self, AnyDoc, DocKind, WriterRole};

use crate::documents::{self, heads_of, relay_actor};
use crate::error::{Error, Result};
use crate::services::accounts::Caller;
use crate::state::AppState;
use crate::storage::{DocMeta, DocWrite, StoredDoc, WriteOutcome};

/// How often admission retries when another writer moved the document meanwhile.
const ATTEMPTS: usize = 8;

/// What the device sent for one document.
pub enum Incoming<'a> {
    /// automerge changes (`save_after` output or a whole saved document).
    Changes(&'a [u8]),
    /// An encoded automerge sync message.
    SyncMessage(&'a [u8]),
}

/// The verdict on one document's incoming changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Stored (or nothing new). For a sync message: the reply to send, if any.
    Accepted {
        /// The relay's reply to a sync message.
        reply: Option<Vec<u8>>,
    },
    /// Refused; nothing was stored.
    Rejected {
        /// `forbidden`, `invalid`, `actor-taken`.
        code: &'static str,
        /// Why, for the app to show.
        reason: String,
    },
    /// The changes build on changes the relay lacks: repair with sync messages.
    Resync,
}

fn reject(code: &'static str, reason: impl Into<String>) -> Verdict {
    Verdict::Rejected { code, reason: reason.into() }
}

/// Admits what the device sent for document `id`.
pub async fn admit(state: &AppState, caller: &Caller, id: &DocumentId, incoming: Incoming<'_>) -> Result<Verdict> {
    // A derived id (a review's, a score's, an inbox's, a decision's) is reserved for its kind:
    // the relay's own kinds are never a device's to write, whatever the document claims to be.
    if let Some(reserved) = id.reserved_for()
        && !reserved.writable_by(caller.role)
    {
        return Ok(reject("reserved-id", format!("document id {id} is reserved for a {reserved}")));
    }
    // Decoded once, before anything is applied: the limits are checked on the encoded changes.
    let (message, changes) = match incoming {
        Incoming::Changes(bytes) => (None, std::borrow::Cow::Borrowed(bytes)),
        Incoming::SyncMessage(bytes) => match sync::Message::decode(bytes) {
            Ok(message) => {
                let changes = message.changes.iter().flatten().copied().collect::<Vec<u8>>();
                (Some(message), std::borrow::Cow::Owned(changes))
            }
            Err(error) => {
                return Ok(reject("invalid", format!("sync message for document {id} does not decode: {error}")));
            }
        },
    };
    for _ in 0..ATTEMPTS {
        let stored = state.storage.load_doc(caller.tenant_id, id).await?;
        if let Some(stored) = &stored
            && !caller.scope().contains(&stored.meta)
        {
            // Indistinguishable from a document that does not exist, as for reads.
            return Ok(reject("forbidden", format!("document {id} is not in your scope")));
        }
        if let Err(verdict) = check_cost(caller, id, stored.as_ref(), &changes) {
            return Ok(verdict);
        }
        let base = match &stored {
            Some(stored) => documents::load(stored)?,
            None => Automerge::new(),
        };
        let before = base.get_heads();
        let mut candidate = base.clone();
        let mut sync_state = sync::State::new();
        let applied = match &message {
            Some(message) => {
                candidate.receive_sync_message(&mut sync_state, message.clone()).map_err(|e| e.to_string())
            }
            None => candidate.load_incremental(&changes).map(|_| ()).map_err(|e| e.to_string()),
        };
        if let Err(reason) = applied {
            return Ok(reject("invalid", format!("changes to document {id} do not decode: {reason}")));
        }
        let reply = |doc: &Automerge, sync_state: &mut sync::State| match incoming {
            Incoming::SyncMessage(_) => doc.generate_sync_message(sync_state).map(sync::Message::encode),
            Incoming::Changes(_) => None,
        };
        // Before the "nothing new" check: changes whose dependencies the relay lacks are queued
        // by automerge without moving the heads, and must not be acknowledged as stored.
        if !candidate.get_missing_deps(&[]).is_empty() {
            return Ok(match incoming {
                Incoming::Changes(_) => Verdict::Resync,
                // Mid-conversation: the next message brings the missing changes.
                Incoming::SyncMessage(_) => Verdict::Accepted { reply: reply(&base, &mut sync_state) },
            });
        }
        if candidate.get_heads() == before {
            // Nothing new: a retry of changes the relay holds — or bytes automerge skipped
            // because they are not changes at all. Only the first may be acknowledged.
            if let Incoming::Changes(bytes) = incoming
                && !bytes.is_empty()
                && !known_changes(&base, bytes)
            {
                return Ok(reject("invalid", format!("changes to document {id} are not whole automerge changes")));
            }
            return Ok(Verdict::Accepted { reply: reply(&base, &mut sync_state) });
        }
        if let Err(verdict) = check_shape(id, &candidate) {
            return Ok(verdict);
        }
        let new_actors = match check_actors(state, caller, &candidate, &before).await? {
            Ok(new_actors) => new_actors,
            Err(verdict) => return Ok(verdict),
        };
        let (meta, typed) = match check_content(state, caller, id, stored.as_ref(), &candidate).await? {
            Ok(checked) => checked,
            Err(verdict) => return Ok(verdict),
        };
        // The state the write is conditional on, read as its kind when what the change means
        // depends on it (its events; the promotions an inspection confirms).
        let base_typed =
            stored.as_ref().filter(|_| crate::events::announces(meta.kind)).and_then(|_| AnyDoc::read(id, &base).ok());
        let heads = heads_of(&candidate);
        let write = DocWrite {
            id: id.clone(),
            expected_heads: stored.as_ref().map(|s| s.heads.clone()).unwrap_or_default(),
            snapshot: candidate.save(),
            changes: candidate.save_after(&before),
            origin_device: Some(caller.device_id.clone()),
            new_actors,
            blobs: documents::photos_of(&typed),
            // Queued in the write's own transaction: one commit, and no stored change without
            // its job even if the relay dies right after the commit.
            job: crate::services::queue::job_for(id, &meta, &heads),
            // The document's rows in the read model, stored with it.
            read_model: crate::read_model::project_doc(id, &meta, &typed).into_row_changes(),
            // Its business events, against the state the write is conditional on.
            events: crate::events::derive(id, base_typed.as_ref(), &typed),
            meta,
            heads,
        };
        let queues_job = write.job.is_some();
        let confirms_promotions = crate::services::alerts::confirms_promotions(base_typed.as_ref(), &typed);
        let confirmed = crate::services::alerts::new_confirmations(base_typed.as_ref(), &typed);
        let stored_heads = write.heads.clone();
        match state.storage.write_doc(caller.tenant_id, write).await {
            Ok(WriteOutcome::Stored(_)) => {
                if let AnyDoc::Order(order) = typed {
                    // Its review, queued with the write, reads it from here rather than again.
                    state.caches.submitted_orders.keep(caller.tenant_id, id, &stored_heads, order);
                }
                if queues_job {
                    state.jobs.wake();
                }
                if let Some((store_id, promotions)) = confirmed {
                    // Closed before the phone hears back; the evaluation below agrees a moment later.
                    let closing = crate::services::alerts::close_confirmed(
                        state.storage.as_ref(),
                        Some(&state.jobs),
                        caller.tenant_id,
                        &store_id,
                        &promotions,
                        state.clock.now(),
                    );
                    if let Err(error) = closing.await {
                        tracing::warn!(%error, "cannot close the confirmed promotions' alerts");
                    }
                }
                if confirms_promotions {
                    // Not in the write's transaction: if this fails, the periodic evaluation catches up.
                    let queued = crate::services::alerts::queue_evaluation(
                        state.storage.as_ref(),
                        Some(&state.jobs),
                        caller.tenant_id,
                        "promotion confirmed",
                    );
                    if let Err(error) = queued.await {
                        tracing::warn!(%error, "cannot queue an alert evaluation");
                    }
                }
                return Ok(Verdict::Accepted { reply: reply(&candidate, &mut sync_state) });
            }
            Ok(WriteOutcome::Conflict) => continue,
            Err(Error::Forbidden(reason)) => return Ok(reject("actor-taken", reason)),
            Err(error) => return Err(error),
        }
    }
    Err(Error::Conflict(format!("document {id} kept changing; try again")))
}

/// The limits on what the changes add, measured on their encoding before anything is applied
/// ([`limits::measure`]): operations in this push, and in the document once it is applied.
fn check_cost(caller: &Caller, id: &DocumentId, stored: Option<&StoredDoc>, incoming: &[u8]) -> Result<(), Verdict> {
    let refuse = |error: LimitError| reject(error.code(), format!("changes to document {id} are refused: {error}"));
    let (max_push, max_doc) = match stored {
        Some(stored) => {
            let limits = Limits::for_kind(stored.meta.kind);
            (limits.max_ops_per_push, limits.max_ops_per_doc)
        }
        None => {
            let max = Limits::max_ops_per_push_for(caller.role);
            (max, max)
        }
    };
    let pushed = limits::measure(incoming, max_push).map_err(refuse)?.ops;
    if let Some(stored) = stored
        && max_doc != u64::MAX
    {
        let held = limits::measure(&stored.snapshot, u64::MAX).map_err(refuse)?.ops;
        if held.saturating_add(pushed) > max_doc {
            return Err(refuse(LimitError::TooManyOps { what: "the document", max: max_doc }));
        }
    }
    Ok(())
}

/// The limits on the document the changes build: nesting, entries, text; and, for a document
/// the device creates, the kind's own limit on operations and that a reserved id is used only
/// for its kind.
fn check_shape(id: &DocumentId, candidate: &Automerge) -> Result<(), Verdict> {
    let refuse = |error: LimitError| reject(error.code(), format!("document {id} is refused: {error}"));
    let kind = doc::header(id, candidate).ok().and_then(|header| header.known_kind());
    if let Some(reserved) = id.reserved_for()
        && kind != Some(reserved)
    {
        return Err(reject("reserved-id", format!("document id {id} is reserved for a {reserved}")));
    }
    // An unknown kind is refused by the content check; its shape is held to the strictest limits.
    let limits = Limits::for_kind(kind.unwrap_or(DocKind::Decision));
    limits::check_shape(candidate, &limits).map_err(refuse)
}

/// Whether `bytes` are well-formed automerge data that `base` already contains: loading the
/// document followed by them, refusing anything that does not parse, gives the same heads.
fn known_changes(base: &Automerge, bytes: &[u8]) -> bool {
    let mut data = base.save();
    data.extend_from_slice(bytes);
    let options = LoadOptions::new().on_partial_load(OnPartialLoad::Error);
    matches!(Automerge::load_with_options(&data, options), Ok(loaded) if loaded.get_heads() == base.get_heads())
}

/// Every actor of the new changes must be this device's or new; the relay's actor is never a
/// device's. Returns the actors to bind to this device.
async fn check_actors(
    state: &AppState,
    caller: &Caller,
    candidate: &Automerge,
    before: &[automerge::ChangeHash],
) -> Result<Result<Vec<Vec<u8>>, Verdict>> {
    let actors: BTreeSet<ActorId> = candidate.get_changes(before).iter().map(|c| c.actor_id().clone()).collect();
    if actors.contains(&relay_actor(caller.tenant_id)) {
        return Ok(Err(reject("forbidden", "changes carry the relay's own actor id")));
    }
    let actors: Vec<Vec<u8>> = actors.into_iter().map(|a| a.to_bytes().to_vec()).collect();
    let bound = state.storage.actor_devices(caller.tenant_id, actors.clone()).await?;
    if let Some((actor, _)) = bound.iter().find(|(_, device)| *device != caller.device_id) {
        return Ok(Err(reject("actor-taken", format!("actor {} belongs to another device", hex::encode(actor)))));
    }
    Ok(Ok(actors.into_iter().filter(|a| !bound.iter().any(|(b, _)| b == a)).collect()))
}

/// The one-writer-role rule and the shape of the document after the change. Returns the
/// document's scope columns and the document read as its kind.
async fn check_content(
    state: &AppState,
    caller: &Caller,
    id: &DocumentId,
    stored: Option<&StoredDoc>,
    candidate: &Automerge,
) -> Result<Result<(DocMeta, AnyDoc), Verdict>> {
    let invalid = |reason: String| Ok(Err(reject("invalid", reason)));
    let forbidden = |reason: String| Ok(Err(reject("forbidden", reason)));
    // A typed read of every kind: malformed documents and unknown or newer schemas stop here.
    let typed = match AnyDoc::read_known(id, candidate) {
        Ok(Some(typed)) => typed,
        Ok(None) => return invalid(format!("document {id} has a kind or schema version this relay does not know")),
        Err(error) => return invalid(error.to_string()),
    };
    let mut meta = documents::scope_columns(id, &typed);
    // The store a document is about, loaded once: it gives the document its region and must be
    // one of the caller's stores.
    let store = match &meta.store_id {
        Some(store_id) if meta.kind != DocKind::Store => match store_id.parse::<DocumentId>() {
            Ok(store_id) => state.storage.load_doc(caller.tenant_id, &store_id).await?,
            Err(_) => None,
        }
        .filter(|store| store.meta.kind == DocKind::Store),
        _ => None,
    };
    if meta.region.is_none()
        && let Some(store) = &store
    {
        meta.region = store.meta.region.clone();
    }
    if let Some(stored) = stored {
        if stored.meta.kind != meta.kind {
            return forbidden(format!("document {id} is a {}; it cannot become a {}", stored.meta.kind, meta.kind));
        }
        if stored.meta.owner != meta.owner && meta.kind.writer() != WriterRole::Hq {
            return forbidden(format!("the owner of {} {id} cannot change", meta.kind));
        }
    }
    let kind = meta.kind;
    let is_mine = meta.owner.as_deref() == Some(caller.user_id.as_str());
    let allowed = match kind.writer() {
        WriterRole::Server => return forbidden(format!("{kind} documents are written by the relay only")),
        WriterRole::Hq => kind.writable_by(caller.role),
        WriterRole::Approver | WriterRole::Owner => kind.writable_by(caller.role) && is_mine,
    };
    if !allowed {
        return forbidden(format!("a {} may not write {kind} {id}", caller.role));
    }
    if let Some(store_id) = &meta.store_id
        && kind != DocKind::Store
    {
        match &store {
            Some(store) if caller.scope().contains(&store.meta) => {}
            _ => return forbidden(format!("store {store_id} is not one of yours")),
        }
    }
    if !caller.scope().contains(&meta) {
        return forbidden(format!("{kind} {id} would be outside your scope"));
    }
    Ok(Ok((meta, typed)))
}
