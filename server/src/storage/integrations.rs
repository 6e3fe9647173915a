//! What integrations leave behind: API keys (stored hashed, with the record of their use) and the
//! answered JSON import batches, by idempotency key.
//!
//! The store persists plain records; what a key may do and how a batch is checked live in the
//! accounts service and the imports above it.

use async_trait::async_trait;

use crate::error::Result;

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

/// One CSV import run from the dashboard, for its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRun {
    /// Who ran it (a username).
    pub actor: String,
    /// The dataset.
    pub dataset: String,
    /// The uploaded file's name, as the browser gave it (may be empty).
    pub file_name: String,
    /// Data rows in the file.
    pub rows: i64,
    /// `applied` or `refused`.
    pub outcome: String,
    /// What came of it: the counts, or why it was refused.
    pub detail: String,
    /// When, ms since the Unix epoch.
    pub at: i64,
}

/// API keys, import batches and the history of dashboard imports.
#[async_trait]
pub trait IntegrationStore {
    /// Records a dashboard import run.
    async fn record_import_run(&self, tenant_id: i64, run: ImportRun) -> Result<()>;

    /// The tenant's latest `limit` import runs, newest first.
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
