//! `POST /v1/import/{dataset}`: HQ imports a CSV file ([`crate::imports`]; formats in
//! `docs/imports.md`).
//!
//! The body is the CSV text. It is streamed to a temporary file in the data directory's
//! [`UPLOAD_DIR`] (never held in memory), then imported by [`imports::import_file`], the code the
//! command line runs; the file is removed when the request ends, whatever the outcome. Bodies are
//! limited to [`IMPORT_BODY_LIMIT`] bytes for master data and [`TABLE_IMPORT_BODY_LIMIT`] for
//! sales and purchases (413 `too-large` above). Anyone but HQ gets 403. A file with any bad row
//! writes nothing and answers 400 `invalid-import`, naming the lines; otherwise the answer counts
//! what was created, updated and left unchanged. Each import is recorded in the history the
//! dashboard's imports page shows ([`imports::runs`]): from its start, with its progress, to its
//! outcome.
//!
//! `POST /v1/import/{dataset}/batch` takes the same datasets as JSON rows from an integration
//! ([`imports::batch`]): an API key with the scope `imports:write`, or HQ. The `Idempotency-Key`
//! header is required; a retry with the same key and body answers the kept result (with
//! `Idempotent-Replayed: true`) and imports nothing, another body under the key is 409.

use std::path::{Path as FsPath, PathBuf};
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fieldsync_core::Role;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::error::Error;
use crate::http::caller::{ImportsWrite, Scoped};
use crate::http::error::{ApiError, ErrorBody, body_error};
use crate::http::openapi::DatasetName;
use crate::imports::batch::{self, BatchBody, BatchOutcome, BatchRequest, ImportSummary};
use crate::imports::{self, Dataset};
use crate::services::accounts::Caller;
use crate::state::AppState;

/// Largest JSON batch body.
pub const BATCH_BODY_LIMIT: usize = 8 * 1024 * 1024;
/// The header that names a batch for retries.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The answer's header when it repeats a kept result.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Largest CSV body of master data (stock, stores, products, prices).
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Largest CSV body of sales and purchases.
pub const TABLE_IMPORT_BODY_LIMIT: usize = 512 * 1024 * 1024;
/// Folder of the data directory where uploads wait while they are imported.
pub const UPLOAD_DIR: &str = "imports";
/// Uploads older than this in [`UPLOAD_DIR`] were left by a relay that died; they are removed.
const STALE_UPLOAD: Duration = Duration::from_secs(24 * 60 * 60);

/// The body limit of a dataset.
pub fn body_limit(dataset: Dataset) -> usize {
    if dataset.is_table() { TABLE_IMPORT_BODY_LIMIT } else { IMPORT_BODY_LIMIT }
}

/// Where uploads wait: `UPLOAD_DIR` in the data directory.
pub fn upload_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join(UPLOAD_DIR)
}

/// Imports one CSV file into the caller's tenant.
#[utoipa::path(
    post, path = "/v1/import/{dataset}", tag = "imports",
    params(("dataset" = DatasetName, Path, description = "what the rows hold (docs/imports.md)")),
    request_body(content = String, content_type = "text/csv", description = "the CSV file, with its header line"),
    responses(
        (status = 200, description = "what the import did", body = ImportSummary),
        (status = 400, description = "unknown dataset, or bad rows (`invalid-import`, naming the lines): nothing imported", body = ErrorBody),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not HQ", body = ErrorBody),
        (status = 413, description = "body above the dataset's limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(dataset): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportSummary>, ApiError> {
    if caller.role != Role::Hq {
        return Err(Error::Forbidden(format!("only HQ may import data, not a {}", caller.role.as_str())).into());
    }
    let dataset: Dataset = dataset.parse()?;
    let limit = body_limit(dataset) as u64;
    let claimed = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(size) = claimed.filter(|size| *size > limit) {
        return Err(Error::TooLarge { size, limit }.into());
    }

    let dir = upload_dir(&state);
    tokio::fs::create_dir_all(&dir).await?;
    remove_stale_uploads(&dir).await;
    // Removed from disk when dropped, on every path out of this function.
    let upload = tempfile::Builder::new().prefix("upload-").suffix(".csv").tempfile_in(&dir)?;
    let mut file = tokio::fs::File::from_std(upload.as_file().try_clone()?);
    let mut stream = body.into_data_stream();
    let mut size: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::bad_request("unreadable-body", format!("cannot read the body: {e}")))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(Error::TooLarge { size, limit }.into());
        }
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    drop(file);

    // Recorded in the import history beside the dashboard's runs.
    let run = imports::runs::RunRequest { dataset, path: upload.path(), file_name: "" };
    let report =
        imports::runs::apply_as(state.storage.as_ref(), &state.caches, &state.import_runs, &caller, run).await?;
    tracing::info!(tenant = %caller.tenant, user = %caller.username, bytes = size, %report, "import done");
    Ok(Json(ImportSummary::from(&report)))
}

/// Imports one JSON batch into the caller's tenant, once per idempotency key.
#[utoipa::path(
    post, path = "/v1/import/{dataset}/batch", tag = "imports",
    params(
        ("dataset" = DatasetName, Path, description = "what the rows hold (docs/imports.md)"),
        ("Idempotency-Key" = String, Header, description = "the client's name for this batch (1 to 200 visible ASCII characters)"),
    ),
    request_body = BatchBody,
    responses(
        (status = 200, description = "what the batch did; with `Idempotent-Replayed: true` when it repeats a kept answer", body = ImportSummary),
        (status = 400, description = "unknown dataset, bad JSON, a missing key, or bad rows (`invalid-import`, naming the lines): nothing imported", body = ErrorBody),
        (status = 401, description = "no valid session or api key", body = ErrorBody),
        (status = 403, description = "neither HQ nor an api key with the scope imports:write", body = ErrorBody),
        (status = 409, description = "the key was used for another body", body = ErrorBody),
        (status = 413, description = "body above 8 MiB", body = ErrorBody),
        (status = 429, description = "the api key is over its request rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn import_batch(
    State(state): State<AppState>,
    Scoped(caller, _): Scoped<ImportsWrite>,
    Path(dataset): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let dataset: Dataset = dataset.parse()?;
    let key = headers
        .get(&IDEMPOTENCY_KEY)
        .ok_or_else(|| Error::bad_request("invalid-idempotency-key", "missing Idempotency-Key header: name the batch"))?
        .to_str()
        .map_err(|_| Error::bad_request("invalid-idempotency-key", "Idempotency-Key must be visible ASCII"))?;
    let body = body.map_err(|rejection| body_error(&rejection, &headers, BATCH_BODY_LIMIT))?;
    let outcome = batch::import_batch_once(
        state.storage.as_ref(),
        &state.caches,
        BatchRequest {
            tenant_id: caller.tenant_id,
            sent_by: &caller.user_id,
            dataset,
            idempotency_key: key,
            body: &body,
        },
        &upload_dir(&state),
    )
    .await?;
    Ok(match outcome {
        BatchOutcome::Applied(summary) => {
            tracing::info!(tenant = %caller.tenant, user = %caller.username, %key, ?summary, "import batch done");
            Json(summary).into_response()
        }
        BatchOutcome::Replayed(summary) => {
            ([(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"))], Json(summary)).into_response()
        }
    })
}

/// Best effort: removes uploads a relay that died mid-import left behind.
async fn remove_stale_uploads(dir: &FsPath) {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else { return };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let stale = entry
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())
            .is_some_and(|age| age > STALE_UPLOAD);
        let name = entry.file_name().to_string_lossy().into_owned();
        // `upload-`: this route's; `dashboard-`: the imports page's, kept while they are applied.
        if stale && (name.starts_with("upload-") || name.starts_with("dashboard-")) {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
}
