//! The scale-out storage: one PostgreSQL database shared by every relay node.
//!
//! - A connection pool ([`deadpool_postgres`]) serves every call; a write is one transaction.
//! - Versioned migrations ([`migrations`]) run at start under an advisory lock, so nodes starting
//!   together migrate once.
//! - Each stored write is announced on this node at once and, through `NOTIFY` in the write's own
//!   transaction, to every other node: one `LISTEN` connection per node ([`notify`]) feeds
//!   [`DocStore::announcements`](crate::storage::DocStore::announcements) and reconnects (replaying
//!   what it missed from the change feed) when it drops.
//! - Jobs are claimed with `FOR UPDATE SKIP LOCKED`, so each runs on one node.
//! - Failed logins are counted in a table ([`PostgresStorage`] implements
//!   [`LoginFailureStore`](crate::storage::LoginFailureStore)), so rate limits hold across nodes.
//!
//! Photo bytes are not in the database: every node mounts the same blob folder
//! (`docs/deployment.md`).
//!
//! The behaviour mirrors [`SqliteStorage`](crate::storage::sqlite::SqliteStorage) exactly; the
//! storage contract tests (`server/tests/storage_contract.rs`) run the same checks on both.

mod accounts;
pub mod admin;
mod alert_triage;
mod blobs;
mod docs;
mod events;
mod integrations;
mod jobs;
mod login_failures;
mod migrations;
mod notify;
mod photo_reviews;
mod read_model;
mod reservations;
mod sales;
mod settings;

use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use crate::error::{Error, Result};
use crate::storage::Announcement;

pub use migrations::LATEST as SCHEMA_VERSION;

/// Connections in the pool of one node.
const POOL_SIZE: usize = 16;

/// PostgreSQL storage; cheap to clone.
#[derive(Clone)]
pub struct PostgresStorage {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// This node's id, carried in its notifications so that it skips its own.
    node: String,
    announcements: tokio::sync::broadcast::Sender<Announcement>,
    /// Stops the listener when the last handle is dropped.
    _listener: notify::ListenerGuard,
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage").field("node", &self.inner.node).finish()
    }
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), brings its schema to
    /// [`SCHEMA_VERSION`] and starts listening to the other nodes' writes. Must run inside a
    /// tokio runtime.
    pub async fn connect(url: &str) -> Result<Self> {
        let config = parse_url(url)?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| Error::Storage(format!("cannot build the PostgreSQL pool: {e}")))?;
        {
            let mut client = pool.get().await.map_err(pool_error)?;
            migrations::migrate(&mut client).await?;
        }
        let node = crate::storage::random_id();
        let (announcements, _) = tokio::sync::broadcast::channel(4096);
        let listener = notify::spawn(config, pool.clone(), node.clone(), announcements.clone()).await?;
        let inner = Inner { pool, node, announcements, _listener: listener };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.inner.pool.get().await.map_err(pool_error)
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Parses a database URL, naming what is wrong (the password is never shown).
pub(crate) fn parse_url(url: &str) -> Result<tokio_postgres::Config> {
    if !is_postgres_url(url) {
        return Err(Error::bad_request(
            "invalid-input",
            format!("unsupported database URL {:?}: expected postgres://…", redact(url)),
        ));
    }
    url.parse::<tokio_postgres::Config>()
        .map_err(|e| Error::bad_request("invalid-input", format!("invalid database URL {:?}: {e}", redact(url))))
}

pub use crate::config::redact;

impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Self {
        // The server's own message (with its detail) says more than the client's summary.
        match error.as_db_error() {
            Some(db) => Error::Storage(format!("postgres: {}{}", db.message(), detail(db.detail()))),
            None => Error::Storage(format!("postgres: {error}")),
        }
    }
}

fn detail(detail: Option<&str>) -> String {
    detail.map(|d| format!(" ({d})")).unwrap_or_default()
}

fn pool_error(error: deadpool_postgres::PoolError) -> Error {
    Error::Storage(format!("no PostgreSQL connection: {error}"))
}

/// Whether the error is a unique-constraint violation.
pub(crate) fn is_unique_violation(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// Owned query parameters of mixed types, for queries assembled at run time (scope conditions).
#[derive(Default)]
pub(crate) struct Params(Vec<Box<dyn ToSql + Sync + Send>>);

impl Params {
    /// Appends a parameter; its number is the new length.
    pub(crate) fn push(&mut self, value: impl ToSql + Sync + Send + 'static) -> &mut Self {
        self.0.push(Box::new(value));
        self
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Borrowed, as the client takes them.
    pub(crate) fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect()
    }
}

/// Feed positions and sizes are `BIGINT`; they never come near the limit.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A `BIGINT` that is never negative, back to `u64`.
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_messages() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/fieldsync"), "postgres://app:***@db:5432/fieldsync");
        assert_eq!(redact("postgres://app@db/fieldsync"), "postgres://app@db/fieldsync");
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
        let error = parse_url("mysql://app:s3cret@db/x").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("unsupported") && !error.contains("s3cret"), "{error}");
    }
}
