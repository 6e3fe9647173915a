//! `POST /v1/import/{dataset}`: HQ imports a CSV file of stock levels or stores
//! ([`crate::imports`]; formats in `docs/imports.md`).
//!
//! The body is the CSV text (at most [`IMPORT_BODY_LIMIT`] bytes). Anyone but HQ gets 403. A file
//! with any bad row writes nothing and answers 400 `invalid-import`, naming the lines; otherwise
//! the answer counts the documents created, updated and left unchanged.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use fieldsync_core::Role;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::Error;
use crate::http::error::{ApiError, body_error};
use crate::imports::{self, Dataset};
use crate::state::AppState;

/// Largest CSV body.
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Imports one CSV file into the caller's tenant.
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(dataset): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    if caller.role != Role::Hq {
        return Err(Error::Forbidden(format!("only HQ may import data, not a {}", caller.role.as_str())).into());
    }
    let dataset: Dataset = dataset.parse()?;
    let body = body.map_err(|rejection| body_error(&rejection, &headers, IMPORT_BODY_LIMIT))?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| Error::bad_request("invalid-import", format!("the file is not UTF-8 text: {e}")))?;
    let report = imports::import(state.storage.as_ref(), caller.tenant_id, dataset, text, &mut |_| {}).await?;
    tracing::info!(tenant = %caller.tenant, user = %caller.username, %report, "import done");
    Ok(Json(json!({
        "dataset": report.dataset.as_str(),
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    })))
}
