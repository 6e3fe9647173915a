//! `POST /v1/sync`: one batched sync round trip.

use axum::body::Bytes;
use axum::extract::State;

use crate::http::error::ApiError;
use crate::state::AppState;

/// One sync round trip; binary body in the sync wire format.
pub async fn sync(State(state): State<AppState>, body: Bytes) -> Result<Vec<u8>, ApiError> {
    let _ = (state, body);
    Err(crate::Error::Storage("sync is being built".into()).into())
}
