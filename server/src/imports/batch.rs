//! JSON import batches: the datasets of the CSV imports, sent by an integration as
//! `{"rows": [{column: value, …}, …]}` with a client-chosen idempotency key.
//!
//! A batch is checked and written by the CSV path itself: its rows become a CSV file (the header
//! in the dataset's column order, one line per row), which [`super::import_file`] validates and
//! imports all or nothing. Errors therefore read as a file's would, naming lines: `rows[i]` is
//! line `i + 2` (the header is line 1). What only JSON can get wrong (a row that is not an object,
//! an unknown or missing column, a value that is an array, a line break inside a value, which
//! would move the lines after it) is refused here first, in the same form.
//!
//! A batch claims its key before it is imported ([`crate::storage::IntegrationStore`]), so of
//! two requests under one key, on any relay node, only one imports; the other is
//! [`Error::Conflict`] until the first is answered. Once applied, the same key with the same body
//! answers the kept result and imports nothing; the same key with another body is
//! [`Error::Conflict`]. A refused batch releases its key, so it can be corrected and sent again
//! under it; a claim left by a relay that died mid-import is released after 15 minutes.

use std::io::Write as _;
use std::path::Path;

use fieldsync_core::clock::now_ms;
use fieldsync_core::i18n::Message;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::check::{Errors, on_line};
use super::{Dataset, ImportReport, MAX_REPORTED_ERRORS, import_file, invalid, no_progress};
use crate::error::{Error, Result};
use crate::services::Caches;
use crate::storage::{ImportBatchRecord, Storage};

/// Most rows in one batch; send more in several batches.
pub const MAX_BATCH_ROWS: usize = 10_000;
/// Longest idempotency key, in bytes.
pub const MAX_KEY_BYTES: usize = 200;
/// A key claimed this long ago without an answer was left by a relay that died mid-import.
const STALE_CLAIM_MS: i64 = 15 * 60 * 1000;

/// What an import did, as the JSON answer of both import routes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportSummary {
    /// The dataset imported.
    pub dataset: String,
    /// Data rows in the file or batch.
    pub rows: usize,
    /// What the three counts count: `documents`, `products`, `prices` or `rows`.
    pub counted: String,
    /// Items created.
    pub created: usize,
    /// Existing items changed.
    pub updated: usize,
    /// Existing items left as they were (already equal).
    pub unchanged: usize,
}

impl From<&ImportReport> for ImportSummary {
    fn from(report: &ImportReport) -> Self {
        ImportSummary {
            dataset: report.dataset.as_str().to_owned(),
            rows: report.rows,
            counted: report.dataset.counted().as_str().to_owned(),
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
        }
    }
}

/// The body of a batch.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// The rows: objects with exactly the dataset's columns (`docs/imports.md`); values are
    /// strings, numbers, booleans or null (empty).
    pub rows: Vec<serde_json::Map<String, Value>>,
}

/// What answering a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// The batch was imported now.
    Applied(ImportSummary),
    /// The key was answered before with this body: the kept result, nothing imported.
    Replayed(ImportSummary),
}

/// Checks an idempotency key: 1 to [`MAX_KEY_BYTES`] visible ASCII characters.
pub fn validate_idempotency_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::bad_request(
            "invalid-idempotency-key",
            format!("idempotency key {key:?} must be 1 to {MAX_KEY_BYTES} visible ASCII characters"),
        ));
    }
    Ok(())
}

/// One batch as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct BatchRequest<'a> {
    /// The tenant it goes to.
    pub tenant_id: i64,
    /// Who sent it (a user id, or `api-key:<id>`).
    pub sent_by: &'a str,
    /// What the rows hold.
    pub dataset: Dataset,
    /// The client's name for the batch.
    pub idempotency_key: &'a str,
    /// The request body as sent: its hash tells a retry from another batch under the same key.
    pub body: &'a [u8],
}

/// Imports one JSON batch into a tenant, once per idempotency key. `dir` is where the batch
/// waits as a CSV file while it is imported.
pub async fn import_batch_once(
    storage: &dyn Storage,
    caches: &Caches,
    request: BatchRequest<'_>,
    dir: &Path,
) -> Result<BatchOutcome> {
    let BatchRequest { tenant_id, sent_by, dataset, idempotency_key, body } = request;
    validate_idempotency_key(idempotency_key)?;
    let body_sha256 =
        hex::encode(Sha256::new().chain_update(dataset.as_str()).chain_update([0]).chain_update(body).finalize());
    // A claim left by a relay that died mid-import no longer holds its key.
    let stale_before = now_ms().saturating_sub(STALE_CLAIM_MS);
    storage.release_import_batch(tenant_id, idempotency_key, stale_before).await?;
    if let Some(kept) = storage.import_batch(tenant_id, idempotency_key).await? {
        return replay(kept, &body_sha256, idempotency_key).map(BatchOutcome::Replayed);
    }
    let batch: BatchBody = serde_json::from_slice(body)
        .map_err(|e| Error::bad_request("invalid-json", format!("the batch is not a JSON object with rows: {e}")))?;
    if batch.rows.len() > MAX_BATCH_ROWS {
        return Err(Error::bad_request(
            "too-many-rows",
            format!("a batch holds at most {MAX_BATCH_ROWS} rows, this one {}: send several", batch.rows.len()),
        ));
    }
    // Claim the key before importing: of two requests under one key, on any node, one imports.
    let claim = ImportBatchRecord {
        tenant_id,
        idempotency_key: idempotency_key.to_owned(),
        dataset: dataset.as_str().to_owned(),
        body_sha256: body_sha256.clone(),
        response: None,
        created_by: sent_by.to_owned(),
        created_at: now_ms(),
    };
    let kept = storage.claim_import_batch(claim.clone()).await?;
    if kept != claim {
        return replay(kept, &body_sha256, idempotency_key).map(BatchOutcome::Replayed);
    }
    let report = match import_rows(storage, caches, tenant_id, dataset, &batch.rows, dir).await {
        Ok(report) => report,
        Err(error) => {
            // Nothing was imported: the key is free for a corrected batch.
            storage.release_import_batch(tenant_id, idempotency_key, i64::MAX).await?;
            return Err(error);
        }
    };
    let summary = ImportSummary::from(&report);
    let response =
        serde_json::to_string(&summary).map_err(|e| Error::Storage(format!("cannot encode an import summary: {e}")))?;
    storage.finish_import_batch(tenant_id, idempotency_key, &response).await?;
    Ok(BatchOutcome::Applied(summary))
}

/// The kept answer of a key, for a request with this body hash: another body is a conflict, and so
/// is a batch still being imported under the key.
fn replay(kept: ImportBatchRecord, body_sha256: &str, key: &str) -> Result<ImportSummary> {
    if kept.body_sha256 != body_sha256 {
        return Err(Error::Conflict(format!(
            "idempotency key {key:?} was used for another {} batch: use a new key for new rows",
            kept.dataset
        )));
    }
    let Some(response) = kept.response else {
        return Err(Error::Conflict(format!(
            "the batch of idempotency key {key:?} is being imported: ask again in a moment for its answer"
        )));
    };
    serde_json::from_str(&response)
        .map_err(|e| Error::Storage(format!("kept answer of idempotency key {key:?} is unreadable: {e}")))
}

/// Imports rows (objects of the dataset's columns) through the CSV path, all or nothing.
pub async fn import_rows(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    dataset: Dataset,
    rows: &[serde_json::Map<String, Value>],
    dir: &Path,
) -> Result<ImportReport> {
    let csv = to_csv(dataset, rows)?;
    tokio::fs::create_dir_all(dir).await?;
    // Removed from disk when dropped, whatever the outcome.
    let mut file = tempfile::Builder::new().prefix("batch-").suffix(".csv").tempfile_in(dir)?;
    file.write_all(&csv)?;
    file.flush()?;
    import_file(storage, caches, tenant_id, dataset, file.path(), no_progress()).await
}

/// The rows as a CSV file of the dataset, one line per row, or the refusal naming each row that
/// cannot be one.
fn to_csv(dataset: Dataset, rows: &[serde_json::Map<String, Value>]) -> Result<Vec<u8>> {
    let columns = dataset.columns();
    let mut errors = Errors::new(MAX_REPORTED_ERRORS);
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let written = |e: csv::Error| Error::Storage(format!("cannot write a batch as CSV: {e}"));
    writer.write_record(columns).map_err(written)?;
    let mut fields = Vec::with_capacity(columns.len());
    for (index, row) in rows.iter().enumerate() {
        let line = index + 2;
        let mut fail = |id: &str, column: String| {
            errors.push(line, on_line(line, Message::new(id).arg("column", column)));
        };
        fields.clear();
        for name in row.keys().filter(|name| !columns.contains(&name.as_str())) {
            fail("refusal-batch-unknown-column", format!("{name:?}"));
        }
        for column in columns {
            let text = match row.get(*column) {
                None => {
                    fail("refusal-batch-missing-column", format!("{column:?}"));
                    continue;
                }
                Some(Value::Null) => String::new(),
                Some(Value::String(text)) => text.clone(),
                Some(Value::Bool(flag)) => flag.to_string(),
                Some(Value::Number(number)) => number.to_string(),
                Some(Value::Array(_) | Value::Object(_)) => {
                    fail("refusal-batch-not-a-value", (*column).to_owned());
                    continue;
                }
            };
            if text.contains(['\n', '\r']) {
                fail("refusal-batch-line-break", (*column).to_owned());
                continue;
            }
            fields.push(text);
        }
        if fields.len() == columns.len() {
            writer.write_record(&fields).map_err(written)?;
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    writer.into_inner().map_err(|e| Error::Storage(format!("cannot write a batch as CSV: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    fn rows(value: Value) -> Vec<serde_json::Map<String, Value>> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn rows_become_the_csv_file_of_the_dataset_one_line_each() {
        let csv = to_csv(
            Dataset::Stock,
            &rows(json!([
                {"sku": "SKU-1", "warehouse": "WH, North", "region": "north", "on_hand": 12, "safety": "3"},
                {"warehouse": "WH-S", "region": "south", "sku": "SKU-2", "on_hand": 0, "safety": null},
            ])),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "warehouse,region,sku,on_hand,safety\n\"WH, North\",north,SKU-1,12,3\nWH-S,south,SKU-2,0,\n"
        );
    }

    #[test]
    fn rows_that_cannot_be_csv_lines_are_refused_naming_their_lines() {
        let error = to_csv(
            Dataset::Stock,
            &rows(json!([
                {"warehouse": "W", "region": "north", "sku": "S", "on_hand": 1, "safety": 1},
                {"warehouse": "W", "region": "north", "sku": "S", "on_hand": 1, "colour": "red"},
                {"warehouse": "W\nX", "region": ["north"], "sku": "S", "on_hand": 1, "safety": 1},
            ])),
        )
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("4 error(s), nothing imported: "), "{error}");
        for part in [
            "line 3: unknown column \"colour\"",
            "line 3: missing column \"safety\"",
            "line 4: warehouse holds a line break",
            "line 4: region must be a string, a number, true, false or null",
        ] {
            assert!(error.contains(part), "{part} in {error}");
        }
    }

    #[test]
    fn idempotency_keys_are_short_visible_ascii() {
        assert!(validate_idempotency_key("erp-2026-12-07-0001").is_ok());
        for bad in ["", "with space", "é", &"k".repeat(201)] {
            assert!(validate_idempotency_key(bad).unwrap_err().to_string().contains("idempotency key"), "{bad}");
        }
    }
}
