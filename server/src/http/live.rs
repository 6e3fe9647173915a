//! `GET /v1/ws`: live sync over WebSocket (authenticated like every other route).

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;

use crate::auth::Caller;
use crate::http::SYNC_BODY_LIMIT;
use crate::state::AppState;

/// Upgrades to the live channel.
pub async fn ws(State(state): State<AppState>, caller: Caller, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(SYNC_BODY_LIMIT)
        .on_upgrade(move |socket| crate::sync::live::session(state, caller, socket))
}
