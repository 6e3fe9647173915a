//! One live connection (`GET /v1/ws`): sync round trips as binary frames, and a `Changed` notice
//! whenever a change lands in the device's scope, so the device syncs right away.

use axum::extract::ws::{Message, WebSocket};
use fieldsync_core::sync::protocol::{self, LiveFrame};
use tokio::sync::broadcast::error::RecvError;

use crate::services::accounts::Caller;
use crate::state::AppState;

/// Serves a live connection until the device closes it or the relay shuts down.
pub async fn session(state: AppState, caller: Caller, mut socket: WebSocket) {
    state.metrics.live_connections(1);
    let mut announcements = state.storage.announcements();
    let scope = caller.scope();
    loop {
        let frame = tokio::select! {
            () = state.shutdown.wait() => break,
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Binary(bytes))) => Some(answer(&state, &caller, &bytes).await),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => None,
            },
            notice = announcements.recv() => match notice {
                Ok(a) if a.tenant_id == caller.tenant_id
                    && a.origin_device.as_deref() != Some(caller.device_id.as_str())
                    && scope.contains(&a.meta) => Some(LiveFrame::Changed(a.seq)),
                Ok(_) => None,
                // Missed some notices: tell the device to sync; the feed has everything.
                Err(RecvError::Lagged(_)) => Some(LiveFrame::Changed(0)),
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
