//! Imports HQ runs by hand (the dashboard's imports page, `POST /v1/import/{dataset}`): a
//! preview that checks a file and writes nothing, the import itself, and the history of runs
//! (who, when, which dataset, how many rows, what came of it). The checks and the writes are
//! those of [`super::check_file`] and [`super::import_file`], which the command line calls too.

use std::path::Path;

use super::{Dataset, ImportReport, check_file, import_file, no_progress};
use crate::error::{Error, Result};
use crate::services::Caches;
use crate::services::accounts::Caller;
use crate::storage::{ImportRun, Storage};

/// Runs the history page shows.
pub const HISTORY_LIMIT: u32 = 50;

/// What the caller asks of an import run.
#[derive(Debug, Clone, Copy)]
pub struct RunRequest<'a> {
    /// The dataset the file holds.
    pub dataset: Dataset,
    /// The file, already on disk.
    pub path: &'a Path,
    /// Its name as the person gave it (may be empty).
    pub file_name: &'a str,
}

/// Checks a file for the caller's tenant (HQ only) and writes nothing: the rows it holds, or an
/// [`Error::InvalidImport`] naming the bad lines.
pub async fn preview_as(
    storage: &dyn Storage,
    caches: &Caches,
    caller: &Caller,
    request: RunRequest<'_>,
) -> Result<ImportReport> {
    caller.require_hq_person("refusal-action-import-data")?;
    check_file(storage, caches, caller.tenant_id, request.dataset, request.path).await
}

/// Imports a file into the caller's tenant (HQ only) and records the run, applied or refused.
pub async fn apply_as(
    storage: &dyn Storage,
    caches: &Caches,
    caller: &Caller,
    request: RunRequest<'_>,
) -> Result<ImportReport> {
    caller.require_hq_person("refusal-action-import-data")?;
    let outcome = import_file(storage, caches, caller.tenant_id, request.dataset, request.path, no_progress()).await;
    record(storage, caller.tenant_id, &caller.username, request, &outcome).await?;
    outcome
}

/// Records one run of `request` by `actor` with its outcome.
pub async fn record(
    storage: &dyn Storage,
    tenant_id: i64,
    actor: &str,
    request: RunRequest<'_>,
    outcome: &Result<ImportReport>,
) -> Result<()> {
    let (rows, outcome, detail) = match outcome {
        Ok(report) => (report.rows, "applied", report.to_string()),
        Err(Error::InvalidImport(refusal)) => (0, "refused", refusal.to_string()),
        Err(error) => (0, "failed", format!("import failed: {}", summary(error))),
    };
    let run = ImportRun {
        actor: actor.to_owned(),
        dataset: request.dataset.to_string(),
        file_name: request.file_name.chars().take(200).collect(),
        rows: i64::try_from(rows).unwrap_or(i64::MAX),
        outcome: outcome.to_owned(),
        detail: detail.chars().take(2_000).collect(),
        at: fieldsync_core::clock::now_ms(),
    };
    storage.record_import_run(tenant_id, run).await
}

/// What a failed run's history says: the reason of an error the person can act on, never an
/// internal one (those are in the relay's log).
fn summary(error: &Error) -> String {
    match error {
        Error::BadRequest { reason, .. } | Error::Conflict(reason) => reason.clone(),
        Error::Refused(refusal) => refusal.to_string(),
        Error::NotFound { .. } | Error::TooLarge { .. } => error.to_string(),
        _ => "internal error; the relay log has the details".to_owned(),
    }
}

/// The latest runs of the caller's tenant, newest first (HQ only).
pub async fn history_as(storage: &dyn Storage, caller: &Caller) -> Result<Vec<ImportRun>> {
    caller.require_hq_person("refusal-action-see-import-history")?;
    storage.import_runs(caller.tenant_id, HISTORY_LIMIT).await
}
