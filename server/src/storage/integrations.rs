//! What integrations leave behind: API keys (stored hashed, with the record of their use), the
//! answered JSON import batches, by idempotency key, and the CSV import runs HQ started by hand
//! (with their progress while they run).
//!
//! The store persists plain records; what a key may do and how a batch is checked live in the
//! accounts service and the imports above it.

use async_trait::async_trait;

use crate::error::{Error, ImportRefusal, Result};

/// An API key as stored: never its secret, only the SHA-256 of the whole key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Random id (16 random bytes as lowercase hex); the CLI and the API revoke by it.
    pub id: String,
    /// The tenant the key acts in.
    pub tenant_id: i64,
    /// HQ's name for it (`erp`, `bi-nightly`), unique among the tenant's live keys.
    pub name: String,
    /// The key's first characters, shown so HQ can recognise it (`fsk_3q9Zx`).
    pub prefix: String,
    /// Its scopes, space-separated (`events:read imports:write`).
    pub scopes: String,
    /// Who created it: a user id, or `cli` for the command line.
    pub created_by: String,
    /// Creation time, ms since the Unix epoch.
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// When it was last accepted.
    pub last_used_at: Option<i64>,
    /// How many requests it authenticated.
    pub use_count: i64,
}

/// A new key to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// Random id.
    pub id: String,
    /// The tenant.
    pub tenant_id: i64,
    /// Name, already validated.
    pub name: String,
    /// Its first characters.
    pub prefix: String,
    /// SHA-256 of the whole key, lowercase hex.
    pub secret_hash: String,
    /// Scopes, space-separated, already validated.
    pub scopes: String,
    /// A user id, or `cli`.
    pub created_by: String,
    /// Creation time, ms since the Unix epoch.
    pub created_at: i64,
}

/// A JSON import batch under its idempotency key: claimed while it is imported, then kept with its
/// answer so that a retry with the same key answers the same result without importing again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportBatchRecord {
    /// The tenant.
    pub tenant_id: i64,
    /// The client's idempotency key.
    pub idempotency_key: String,
    /// The dataset imported.
    pub dataset: String,
    /// SHA-256 of the request body, lowercase hex.
    pub body_sha256: String,
    /// The answer given, as JSON text; `None` while the batch is being imported.
    pub response: Option<String>,
    /// Who sent it (a user id or `api-key:<id>`).
    pub created_by: String,
    /// When it was applied, ms since the Unix epoch.
    pub created_at: i64,
}

/// One CSV import run by hand (the dashboard's imports page, `POST /v1/import/{dataset}`), for
/// its history and its run page: recorded as `running` when it starts, its progress updated while
/// it runs, its outcome set when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRun {
    /// Its id, unique across tenants.
    pub id: i64,
    /// Who ran it (a username).
    pub actor: String,
    /// The dataset.
    pub dataset: String,
    /// The uploaded file's name, as the browser gave it (may be empty).
    pub file_name: String,
    /// Data rows in the file (0 until it is applied).
    pub rows: i64,
    /// `running`, `applied`, `refused` or `failed`.
    pub outcome: String,
    /// What came of it: the counts, or why it was refused (empty while running).
    pub detail: String,
    /// When it started, ms since the Unix epoch.
    pub at: i64,
    /// When its row was last written (its progress or its end), ms since the Unix epoch.
    pub updated_at: i64,
    /// How far it got.
    pub progress: ImportProgress,
    /// What an applied run created, updated and left unchanged (`None` for other outcomes and
    /// for runs recorded before the counts were kept).
    pub counts: Option<ImportCounts>,
    /// The bad lines of a refused run (`None` for other outcomes and for runs recorded before
    /// the lines were kept).
    pub refusal: Option<ImportRefusal>,
}

/// How far an import run got, as its last progress report said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportProgress {
    /// `checking` (the first pass), `writing` (the second), or empty before the first report.
    pub phase: String,
    /// Bytes of the file read in the current pass.
    pub bytes_read: i64,
    /// The file's size.
    pub bytes_total: i64,
    /// Rows checked so far.
    pub rows_checked: i64,
    /// Items written so far (documents, or rows of sales and purchases).
    pub written: i64,
    /// Items to write.
    pub write_total: i64,
}

/// What an applied import did, in the items its dataset counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Items created.
    pub created: i64,
    /// Existing items changed.
    pub updated: i64,
    /// Existing items left as they were.
    pub unchanged: i64,
}

/// A run about to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImportRun {
    /// Who runs it (a username).
    pub actor: String,
    /// The dataset.
    pub dataset: String,
    /// The uploaded file's name (may be empty).
    pub file_name: String,
    /// When it starts, ms since the Unix epoch.
    pub at: i64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRunEnd {
    /// `applied`, `refused` or `failed`.
    pub outcome: String,
    /// Data rows in the file (0 when it was not applied).
    pub rows: i64,
    /// What came of it: the counts, or why it was refused.
    pub detail: String,
    /// Its last progress.
    pub progress: ImportProgress,
    /// What an applied run did.
    pub counts: Option<ImportCounts>,
    /// The bad lines of a refused run.
    pub refusal: Option<ImportRefusal>,
    /// When it ended, ms since the Unix epoch.
    pub at: i64,
}

/// API keys, import batches and the history of dashboard imports.
#[async_trait]
pub trait IntegrationStore {
    /// Records an import run as it starts (outcome `running`, no progress yet); its id.
    async fn start_import_run(&self, tenant_id: i64, run: NewImportRun) -> Result<i64>;

    /// Stores a running run's progress at `at` (its `updated_at`). `false`, and nothing written,
    /// when the tenant has no such run or the run has ended.
    async fn update_import_run(&self, tenant_id: i64, id: i64, progress: ImportProgress, at: i64) -> Result<bool>;

    /// Sets a running run's outcome. `false`, and nothing written, when the tenant has no such
    /// run or the run has already ended.
    async fn finish_import_run(&self, tenant_id: i64, id: i64, end: ImportRunEnd) -> Result<bool>;

    /// One import run of the tenant.
    async fn import_run(&self, tenant_id: i64, id: i64) -> Result<Option<ImportRun>>;

    /// The tenant's latest `limit` import runs (running ones too), newest first.
    async fn import_runs(&self, tenant_id: i64, limit: u32) -> Result<Vec<ImportRun>>;

    /// Stores a new key. A live key of the same name in the tenant is a conflict
    /// ([`crate::error::Error::conflict`], `refusal-api-key-live`).
    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord>;

    /// The tenant's keys, revoked ones included, newest first.
    async fn api_keys(&self, tenant_id: i64) -> Result<Vec<ApiKeyRecord>>;

    /// Marks a key revoked at `now` (a key revoked before keeps its time). `None` if the tenant
    /// has no key with this id.
    async fn revoke_api_key(&self, tenant_id: i64, id: &str, now: i64) -> Result<Option<ApiKeyRecord>>;

    /// The key whose secret hashes to `secret_hash`, as it is now; when it is live, its use at
    /// `now` is recorded first (`last_used_at`, `use_count`) in the same statement, so no cache
    /// stands between a revocation and the next request on any node.
    async fn use_api_key(&self, secret_hash: &str, now: i64) -> Result<Option<ApiKeyRecord>>;

    /// The batch stored under a tenant's idempotency key.
    async fn import_batch(&self, tenant_id: i64, idempotency_key: &str) -> Result<Option<ImportBatchRecord>>;

    /// Claims a key for a batch about to be imported (its `response` is `None`) unless the key is
    /// already taken; returns the batch stored under the key (this one, or the one that got there
    /// first).
    async fn claim_import_batch(&self, batch: ImportBatchRecord) -> Result<ImportBatchRecord>;

    /// Keeps the answer of a claimed batch that was applied.
    async fn finish_import_batch(&self, tenant_id: i64, idempotency_key: &str, response: &str) -> Result<()>;

    /// Removes a claim whose batch was not applied (refused, failed, or left by a relay that died
    /// before `stale_before`, ms since the Unix epoch); a kept answer is never removed.
    async fn release_import_batch(&self, tenant_id: i64, idempotency_key: &str, stale_before: i64) -> Result<()>;
}

/// The columns of `import_runs` both backends read, in [`ImportRun`]'s order.
pub(super) const IMPORT_RUN_COLUMNS: &str = "id, actor, dataset, file_name, row_count, outcome, detail, at, updated_at, \
     phase, bytes_read, bytes_total, rows_checked, written, write_total, \
     created_count, updated_count, unchanged_count, refused_count, refused_lines";

/// A refusal's bad lines as stored: a JSON array of `[line, message]`, each message a code with
/// its arguments (`{"code": …, "args": {…}}`), so the run's page shows it in the reader's language.
pub(super) fn refused_lines_text(refusal: &ImportRefusal) -> Result<String> {
    serde_json::to_string(&refusal.lines).map_err(|e| Error::Storage(format!("cannot encode refused lines: {e}")))
}

/// A stored refusal from its count and lines; `None` when the run kept none.
pub(super) fn stored_refusal(count: Option<i64>, lines: Option<String>) -> Result<Option<ImportRefusal>> {
    let (Some(count), Some(lines)) = (count, lines) else { return Ok(None) };
    let lines: Vec<(usize, fieldsync_core::i18n::Message)> =
        serde_json::from_str(&lines).map_err(|e| Error::Storage(format!("unreadable refused lines: {e}")))?;
    Ok(Some(ImportRefusal { count: usize::try_from(count).unwrap_or(0), lines }))
}

/// Stored counts; `None` when the run kept none.
pub(super) fn stored_counts(
    created: Option<i64>,
    updated: Option<i64>,
    unchanged: Option<i64>,
) -> Option<ImportCounts> {
    match (created, updated, unchanged) {
        (Some(created), Some(updated), Some(unchanged)) => Some(ImportCounts { created, updated, unchanged }),
        _ => None,
    }
}
