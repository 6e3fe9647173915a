//! One live connection (`GET /v1/ws`): sync round trips as binary frames, and a `Changed` notice
//! whenever a change lands in the device's scope, so the device syncs right away.
//!
//! Changes to shared reference data ([`held_back`]: a region's stock, the catalog, stores,
//! templates) are told after a pause (`Config::reference_notice_delay`) that gathers every such
//! change of the pause into one notice; any other notice in between carries them along at once.
//! A region's stock moves with every order reviewed, and is in every rep's scope there: told of
//! each move, a fleet of phones would spend the relay on syncing stock while their own verdicts
//! wait behind it.

use axum::extract::ws::{Message, WebSocket};
use fieldsync_core::doc::DocKind;
use fieldsync_core::sync::protocol::{self, LiveFrame};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::services::accounts::Caller;
use crate::state::AppState;

/// Serves a live connection until the device closes it or the relay shuts down.
pub async fn session(state: AppState, caller: Caller, mut socket: WebSocket) {
    state.metrics.live_connections(1);
    let mut announcements = state.storage.announcements();
    let scope = caller.scope();
    let delay = state.config.reference_notice_delay;
    // The highest position of a held-back change not told yet, and when it will be.
    let mut held: Option<(u64, Instant)> = None;
    loop {
        let release = held.map(|(_, at)| at);
        let frame = tokio::select! {
            () = state.shutdown.wait() => break,
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Binary(bytes))) => Some(answer(&state, &caller, &bytes).await),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => None,
            },
            () = tokio::time::sleep_until(release.unwrap_or_else(Instant::now)), if release.is_some() => {
                held.take().map(|(seq, _)| LiveFrame::Changed(seq))
            }
            notice = announcements.recv() => match notice {
                Ok(a) if a.tenant_id == caller.tenant_id
                    && a.origin_device.as_deref() != Some(caller.device_id.as_str())
                    && scope.contains(&a.meta) =>
                {
                    if held_back(a.meta.kind) && !delay.is_zero() {
                        let at = held.map_or_else(|| Instant::now() + delay, |(_, at)| at);
                        held = Some((held.map_or(a.seq, |(seq, _)| seq.max(a.seq)), at));
                        None
                    } else {
                        let seq = held.take().map_or(a.seq, |(seq, _)| seq.max(a.seq));
                        Some(LiveFrame::Changed(seq))
                    }
                }
                Ok(_) => None,
                // Missed some notices: tell the device to sync; the feed has everything.
                Err(RecvError::Lagged(_)) => {
                    held = None;
                    Some(LiveFrame::Changed(0))
                }
                Err(RecvError::Closed) => break,
            },
        };
        if let Some(frame) = frame
            && socket.send(Message::Binary(protocol::encode(&frame).into())).await.is_err()
        {
            break;
        }
    }
    state.metrics.live_connections(-1);
}

/// Kinds whose changes a live connection tells after a pause: reference data shared by many
/// devices, which a phone needs fresh within seconds, not at once.
fn held_back(kind: DocKind) -> bool {
    matches!(kind, DocKind::Inventory | DocKind::Catalog | DocKind::Store | DocKind::Template)
}

async fn answer(state: &AppState, caller: &Caller, bytes: &[u8]) -> LiveFrame {
    let request = match protocol::decode::<LiveFrame>(bytes) {
        Ok(LiveFrame::Request(request)) => request,
        Ok(_) => return LiveFrame::Error("a device sends only requests on the live channel".to_owned()),
        Err(error) => return LiveFrame::Error(error.to_string()),
    };
    let started = std::time::Instant::now();
    // The live channel carries small rounds (a notice's catch-up); its answers use the default
    // budget.
    match crate::sync::round(state, caller, request, crate::sync::round::RESPONSE_BUDGET).await {
        Ok(response) => {
            state.metrics.sync_round("live", bytes.len() as u64, 0, started.elapsed());
            LiveFrame::Response(response)
        }
        Err(error) => LiveFrame::Error(error.to_string()),
    }
}
