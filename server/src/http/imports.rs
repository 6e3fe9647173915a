//! `POST /v1/import/{dataset}`: HQ imports a CSV file ([`crate::imports`]; formats in
//! `docs/imports.md`).
//!
//! The body is the CSV text. It is streamed to a temporary file in the data directory's
//! [`UPLOAD_DIR`] (never held in memory), then imported by [`imports::import_file`], the code the
//! command line runs; the file is removed when the request ends, whatever the outcome. Bodies are
//! limited to [`IMPORT_BODY_LIMIT`] bytes for master data and [`TABLE_IMPORT_BODY_LIMIT`] for
//! sales and purchases (413 `too-large` above). Anyone but HQ gets 403. A file with any bad row
//! writes nothing and answers 400 `invalid-import`, naming the lines; otherwise the answer counts
//! what was created, updated and left unchanged.

use std::path::{Path as FsPath, PathBuf};
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use fieldsync_core::Role;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::error::Error;
use crate::http::error::ApiError;
use crate::imports::{self, Dataset};
use crate::services::accounts::Caller;
use crate::state::AppState;

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
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(dataset): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
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

    let report = imports::import_file(
        state.storage.as_ref(),
        &state.caches,
        caller.tenant_id,
        dataset,
        upload.path(),
        imports::no_progress(),
    )
    .await?;
    tracing::info!(tenant = %caller.tenant, user = %caller.username, bytes = size, %report, "import done");
    Ok(Json(json!({
        "dataset": report.dataset.as_str(),
        "rows": report.rows,
        "counted": report.dataset.counted().as_str(),
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    })))
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
        if stale && entry.file_name().to_string_lossy().starts_with("upload-") {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
}
