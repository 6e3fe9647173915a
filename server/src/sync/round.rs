//! One sync round trip, the same over `POST /v1/sync` and the live channel: the device's pushes
//! are admitted ([`super::admit`]), then the response carries what changed in its scope since
//! its cursor (the change feed) and, once it is caught up, a manifest when the digests differ.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use fieldsync_core::DocumentId;
use fieldsync_core::sync::protocol::{
    ANSWER_BUDGET_HEADER, DocMessage, MIN_ANSWER_BUDGET, Rejection, SyncRequest, SyncResponse, Update,
};
use fieldsync_core::sync::scope_digest;
use futures_util::StreamExt;

use super::admit::{Incoming, Verdict, admit};
use crate::error::{Error, Result};
use crate::services::accounts::Caller;
use crate::state::AppState;

/// Most documents one request may push, ask for or repair.
pub const MAX_DOCS_PER_REQUEST: usize = fieldsync_core::sync::protocol::MAX_DOCS_PER_REQUEST;
/// Largest changes for one document in one request.
pub const MAX_CHANGES_BYTES: usize = 2 * 1024 * 1024;
/// Bytes of updates after which a response is cut (`more` tells the device to ask again),
/// unless the device asks for smaller answers.
pub const RESPONSE_BUDGET: usize = fieldsync_core::sync::protocol::MAX_ANSWER_BUDGET;
/// Pushes of one request admitted at the same time.
const PUSHES_IN_FLIGHT: usize = 16;
/// Time one round trip may take before the relay stops starting new work for it and answers
/// with `more`: pushes not yet started are neither accepted nor refused (the device sends them
/// again), wanted documents not yet loaded come in a later round. A hostile request therefore
/// holds the relay for about this long, not for as long as it likes.
pub const ROUND_TIME_BUDGET: Duration = Duration::from_secs(2);

/// Serves one round trip for `caller`, cutting the updates after about `budget` bytes
/// ([`answer_budget`]), and records how many documents the device still holds unsynced: those
/// it pushed or left out of its digest as changed locally (its outbox and quarantine) that this
/// round did not accept. That is what HQ's devices page shows as unsynced work.
pub async fn round(state: &AppState, caller: &Caller, request: SyncRequest, budget: usize) -> Result<SyncResponse> {
    let held_back: HashSet<DocumentId> =
        request.excluded.iter().chain(request.pushes.iter().map(|push| &push.doc)).cloned().collect();
    let response = respond(state, caller, request, budget).await?;
    let accepted: HashSet<&DocumentId> = response.accepted.iter().collect();
    let unsynced = i64::try_from(held_back.iter().filter(|id| !accepted.contains(id)).count()).unwrap_or(i64::MAX);
    if caller.device_unsynced_docs != Some(unsynced)
        && let Err(error) = state
            .storage
            .record_unsynced(caller.tenant_id, &caller.device_id, unsynced, fieldsync_core::clock::now_ms())
            .await
    {
        // Bookkeeping only: the round itself is done.
        tracing::warn!(%error, device = %caller.device_id, "cannot record the device's unsynced documents");
    }
    Ok(response)
}

async fn respond(state: &AppState, caller: &Caller, request: SyncRequest, budget: usize) -> Result<SyncResponse> {
    validate(&request)?;
    let deadline = Instant::now() + ROUND_TIME_BUDGET;
    let mut response = SyncResponse::default();
    let scope = caller.scope();

    let mut seen = HashSet::new();
    for push in &request.pushes {
        if !seen.insert(&push.doc) {
            return Err(Error::bad_request("malformed-sync", format!("document {} is pushed twice", push.doc)));
        }
    }
    // The pushes concern distinct documents, so they are admitted side by side: their writes
    // land in the same group commit instead of paying one commit each. Verdicts keep the
    // request's order.
    // (Built as a list first: a closure inside the stream would not be `Send` for every lifetime.)
    let admissions: Vec<_> = request
        .pushes
        .iter()
        .map(|push| async move {
            if Instant::now() > deadline {
                return Ok(None);
            }
            admit(state, caller, &push.doc, Incoming::Changes(&push.changes)).await.map(Some)
        })
        .collect();
    let verdicts: Vec<Result<Option<Verdict>>> =
        futures_util::stream::iter(admissions).buffered(PUSHES_IN_FLIGHT).collect().await;
    for (push, verdict) in request.pushes.iter().zip(verdicts) {
        let Some(verdict) = verdict? else {
            // Out of time: not started, so neither stored nor refused. The device sends it again.
            response.more = true;
            continue;
        };
        match verdict {
            Verdict::Accepted { .. } => response.accepted.push(push.doc.clone()),
            Verdict::Rejected { code, reason } => {
                tracing::info!(doc = %push.doc, user = %caller.username, code, %reason, "push refused");
                response.rejected.push(Rejection { doc: push.doc.clone(), code: code.to_owned(), reason });
            }
            Verdict::Resync => response.resync.push(push.doc.clone()),
        }
    }
    for message in &request.sync {
        if Instant::now() > deadline {
            response.more = true;
            break;
        }
        match admit(state, caller, &message.doc, Incoming::SyncMessage(&message.message)).await? {
            Verdict::Accepted { reply: Some(reply) } => {
                response.sync.push(DocMessage { doc: message.doc.clone(), message: reply });
            }
            Verdict::Accepted { reply: None } | Verdict::Resync => {}
            Verdict::Rejected { code, reason } => {
                response.rejected.push(Rejection { doc: message.doc.clone(), code: code.to_owned(), reason });
            }
        }
    }
    state.metrics.docs_accepted(response.accepted.len() as u64);
    state.metrics.docs_rejected(response.rejected.len() as u64);

    // Wanted documents count in the response's byte budget like the feed's: once it is spent
    // (or the round's time is), the rest waits for a later round (`more`), and the device finds
    // what it still lacks through the manifest. Each document is sent once, however often asked.
    let mut budget = budget.clamp(MIN_ANSWER_BUDGET, RESPONSE_BUDGET);
    let mut wanted = HashSet::new();
    for id in request.want.iter().filter(|id| wanted.insert(*id)) {
        if budget == 0 || Instant::now() > deadline {
            response.more = true;
            break;
        }
        // A document out of scope (or of another tenant) is simply not sent; the manifest tells
        // the device what it may hold.
        if let Some(stored) = state.storage.load_doc(caller.tenant_id, id).await?
            && scope.contains(&stored.meta)
        {
            if stored.snapshot.len() > budget && !response.updates.is_empty() {
                response.more = true;
                break;
            }
            budget = budget.saturating_sub(stored.snapshot.len());
            response.updates.push(Update { doc: id.clone(), changes: stored.snapshot });
        }
    }
    if response.more {
        // The feed waits too: the device comes back for it.
        response.cursor = request.cursor;
        return Ok(response);
    }

    if let Some(first) = first_sync(state, caller, &request, budget).await? {
        response.cursor = first.cursor;
        response.updates.extend(first.updates);
        return Ok(response);
    }
    let page = state.storage.feed(caller.tenant_id, &scope, request.cursor, &caller.device_id, budget).await?;
    response.cursor = page.cursor;
    response.more = page.more;
    response.updates.extend(page.updates.into_iter().map(|(doc, changes)| Update { doc, changes }));

    // The digest is compared only once the device is caught up: before that the two sides
    // legitimately differ by the updates on their way.
    if response.updates.is_empty() && !response.more && response.sync.is_empty() {
        let mut excluded = request.excluded.clone();
        excluded.extend(request.pushes.iter().map(|p| p.doc.clone()));
        excluded.extend(request.sync.iter().map(|m| m.doc.clone()));
        let manifest = state.storage.manifest(caller.tenant_id, &scope, &excluded).await?;
        let digest = scope_digest(manifest.iter().map(|(id, heads)| (id, heads.as_slice())));
        if digest != request.digest {
            response.manifest = Some(
                manifest
                    .into_iter()
                    .map(|(doc, heads)| fieldsync_core::sync::protocol::ManifestEntry { doc, heads })
                    .collect(),
            );
        }
    }
    Ok(response)
}

/// The answer budget a device asked for in the [`ANSWER_BUDGET_HEADER`] value (`None`: the
/// header is absent, and answers go up to [`RESPONSE_BUDGET`]). Within
/// [`MIN_ANSWER_BUDGET`]..=[`RESPONSE_BUDGET`] whatever was asked; a value that is not a number
/// of bytes is refused.
pub fn answer_budget(value: Option<&[u8]>) -> Result<usize> {
    let Some(value) = value else { return Ok(RESPONSE_BUDGET) };
    let bytes = std::str::from_utf8(value)
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()))
        // Digits beyond u64 are simply a very large budget.
        .map(|v| v.parse::<u64>().unwrap_or(u64::MAX))
        .ok_or_else(|| {
            Error::bad_request(
                "invalid-answer-budget",
                format!(
                    "{ANSWER_BUDGET_HEADER} {:?} is not a number of bytes",
                    String::from_utf8_lossy(&value[..value.len().min(40)])
                ),
            )
        })?;
    Ok(usize::try_from(bytes).unwrap_or(usize::MAX).clamp(MIN_ANSWER_BUDGET, RESPONSE_BUDGET))
}

/// The answer to a new device's first sync, when it fits in one response.
struct FirstSync {
    /// Every document of the scope, whole.
    updates: Vec<Update>,
    /// The feed position the device reaches.
    cursor: u64,
}

/// A device that has seen nothing of the feed (cursor 0) and pushes nothing gets its whole scope
/// as saved documents, found through the scope's index lookups ([`crate::storage::DocStore::manifest`]),
/// instead of a walk of the tenant's whole change log, whose cost grows with everything the
/// tenant ever wrote rather than with what the device may hold. `None` when the scope does not
/// fit in `budget` (the paged feed walk serves it) or the request is not a first sync.
async fn first_sync(
    state: &AppState,
    caller: &Caller,
    request: &SyncRequest,
    budget: usize,
) -> Result<Option<FirstSync>> {
    if request.cursor != 0 || !request.pushes.is_empty() || !request.sync.is_empty() {
        return Ok(None);
    }
    // The position is read first: every change up to it is in the documents loaded after it,
    // and anything written meanwhile comes again with the feed after it (merging is idempotent).
    let cursor = state.storage.feed_position(caller.tenant_id).await?;
    let mut excluded = request.excluded.clone();
    excluded.extend(request.want.iter().cloned());
    let scope = caller.scope();
    let manifest = state.storage.manifest(caller.tenant_id, &scope, &excluded).await?;
    let mut updates = Vec::with_capacity(manifest.len());
    let mut bytes = 0usize;
    for (id, _) in manifest {
        let Some(stored) = state.storage.load_doc(caller.tenant_id, &id).await? else { continue };
        bytes += stored.snapshot.len();
        if bytes > budget {
            return Ok(None);
        }
        updates.push(Update { doc: id, changes: stored.snapshot });
    }
    Ok(Some(FirstSync { updates, cursor }))
}

fn validate(request: &SyncRequest) -> Result<()> {
    let too_many = |what: &str, n: usize| {
        Error::bad_request("too-many-documents", format!("{n} {what} in one request; at most {MAX_DOCS_PER_REQUEST}"))
    };
    for (what, n) in [
        ("pushes", request.pushes.len()),
        ("wanted documents", request.want.len()),
        ("sync messages", request.sync.len()),
    ] {
        if n > MAX_DOCS_PER_REQUEST {
            return Err(too_many(what, n));
        }
    }
    if request.excluded.len() > 10 * MAX_DOCS_PER_REQUEST {
        return Err(too_many("excluded documents", request.excluded.len()));
    }
    let sizes = request.pushes.iter().map(|p| (&p.doc, p.changes.len()));
    for (doc, size) in sizes.chain(request.sync.iter().map(|m| (&m.doc, m.message.len()))) {
        if size > MAX_CHANGES_BYTES {
            return Err(Error::bad_request(
                "too-large",
                format!("changes to document {doc} are {size} bytes; at most {MAX_CHANGES_BYTES}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_answer_budget_is_a_number_of_bytes_kept_within_the_relays_bounds() {
        assert_eq!(answer_budget(None).unwrap(), RESPONSE_BUDGET);
        assert_eq!(answer_budget(Some(b"65536")).unwrap(), 65_536);
        assert_eq!(answer_budget(Some(b" 20000 ")).unwrap(), 20_000);
        assert_eq!(answer_budget(Some(b"1")).unwrap(), MIN_ANSWER_BUDGET);
        assert_eq!(answer_budget(Some(b"99999999999999999999")).unwrap(), RESPONSE_BUDGET);
        for bad in [&b""[..], b"-5", b"1e6", b"64k", b"\xff\xfe", b"123456789012345678901"] {
            let error = answer_budget(Some(bad)).unwrap_err().to_string();
            assert!(error.contains("not a number of bytes"), "{error}");
        }
    }
}
