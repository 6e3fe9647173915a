//! `GET /v1/ws`: live sync over WebSocket.

use axum::extract::State;
use axum::response::Response;

use crate::http::error::ApiError;
use crate::state::AppState;

/// Upgrades to the live channel.
pub async fn ws(State(state): State<AppState>) -> Result<Response, ApiError> {
    let _ = state;
    Err(crate::Error::Storage("live sync is being built".into()).into())
}
