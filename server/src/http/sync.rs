//! `POST /v1/sync`: one batched sync round trip (binary body, see `docs/protocol.md`), its
//! answer cut at the budget the device names in [`ANSWER_BUDGET_HEADER`].

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use fieldsync_core::sync::protocol::{self, ANSWER_BUDGET_HEADER, SyncRequest};

use crate::error::Error;
use crate::http::SYNC_BODY_LIMIT;
use crate::http::error::ErrorBody;
use crate::http::error::{ApiError, body_error};
use crate::http::openapi::Binary;
use crate::services::accounts::Caller;
use crate::state::AppState;

/// The media type of sync bodies.
pub const SYNC_MEDIA_TYPE: &str = "application/x-fieldsync-sync";

/// One sync round trip.
#[utoipa::path(
    post, path = "/v1/sync", tag = "sync",
    request_body(content = Binary, content_type = "application/x-fieldsync-sync", description = "a sync request (docs/protocol.md)"),
    responses(
        (status = 200, description = "the sync answer (docs/protocol.md)", content_type = "application/x-fieldsync-sync", body = Binary),
        (status = 400, description = "malformed sync message", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 413, description = "body above 8 MiB", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body.map_err(|rejection| body_error(&rejection, &headers, SYNC_BODY_LIMIT))?;
    let started = std::time::Instant::now();
    let request: SyncRequest =
        protocol::decode(&body).map_err(|e| Error::bad_request("malformed-sync", e.to_string()))?;
    let budget = crate::sync::answer_budget(headers.get(ANSWER_BUDGET_HEADER).map(|v| v.as_bytes()))?;
    let response = crate::sync::round(&state, &caller, request, budget).await?;
    let bytes = protocol::encode(&response);
    state.metrics.sync_round("http", body.len() as u64, bytes.len() as u64, started.elapsed());
    Ok(([(header::CONTENT_TYPE, SYNC_MEDIA_TYPE)], bytes))
}
