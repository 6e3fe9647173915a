//! What every request handler shares, and its assembly: the composition root. Opening the storage
//! a [`Config`] names (`Config::open`, `Config::open_state`) lives here rather than in `config.rs`,
//! so that the settings stay a foundation that imports nothing above it.

use std::sync::Arc;

use crate::blobs::BlobFolder;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
pub use crate::services::Caches;
use crate::services::accounts::{KeyLimiter, LoginLimiter};
use crate::storage::Storage;
use crate::storage::postgres::{self, PostgresStorage};
use crate::storage::sqlite::SqliteStorage;

/// The relay's shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Where everything is persisted.
    pub storage: Arc<dyn Storage>,
    /// Photo bytes by SHA-256.
    pub blobs: BlobFolder,
    /// Prometheus counters.
    pub metrics: Arc<Metrics>,
    /// Login rate limiting.
    pub login_limiter: Arc<LoginLimiter>,
    /// The request budget of each integration API key.
    pub key_limiter: Arc<KeyLimiter>,
    /// Settings.
    pub config: Arc<Config>,
    /// Tells long-lived connections (the live channel) that the relay is stopping.
    pub shutdown: Shutdown,
    /// Wakes the job runner when work is queued.
    pub jobs: crate::services::queue::JobSignal,
    /// In-memory caches of derived data.
    pub caches: Caches,
    /// The relay's clock (wall-clock time, moved forward by tests and the demo).
    pub clock: crate::clock::Clock,
    /// The CSV imports this relay is applying, with their latest progress.
    pub import_runs: crate::imports::runs::LiveRuns,
}

/// A one-way "the relay is stopping" signal.
#[derive(Clone)]
pub struct Shutdown(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::watch::channel(false).0))
    }
}

impl Shutdown {
    /// Signals every waiter.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// Resolves once [`Shutdown::trigger`] was called.
    pub async fn wait(&self) {
        let mut receiver = self.0.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }
}

/// Opening a configuration's storage and assembling the relay's shared state from it.
impl Config {
    /// Opens the embedded storage in the data directory (creating the directory, the database and
    /// the blob folder as needed) and assembles the relay's shared state. With a
    /// [`Config::database_url`], use [`Config::open`].
    pub fn open_state(self) -> Result<AppState> {
        if let Some(url) = &self.database_url {
            return Err(Error::Storage(format!(
                "{} is a PostgreSQL database: open it with Config::open",
                postgres::redact(url)
            )));
        }
        self.create_data_dir()?;
        let storage = SqliteStorage::open(self.database_path())?;
        let limiter = LoginLimiter::new(self.login_limits);
        let keys = KeyLimiter::new(self.key_rate);
        self.assemble(Arc::new(storage), limiter, keys)
    }

    /// Opens the configured storage — PostgreSQL when [`Config::database_url`] is set (migrating
    /// it and joining the other nodes' notifications), else the embedded SQLite file — and
    /// assembles the relay's shared state. Must run inside a tokio runtime.
    pub async fn open(self) -> Result<AppState> {
        let Some(url) = self.database_url.clone() else { return self.open_state() };
        self.create_data_dir()?;
        let storage = Arc::new(PostgresStorage::connect(&url).await?);
        // Failed logins are counted in the database, so limits hold across nodes.
        let limiter = LoginLimiter::shared(self.login_limits, storage.clone());
        // API key uses are counted in the same store, so a key's rate holds across nodes too.
        let memory = self.login_limits.failure_memory.max(self.login_limits.window);
        let keys = KeyLimiter::shared(self.key_rate, storage.clone(), memory);
        self.assemble(storage, limiter, keys)
    }

    fn create_data_dir(&self) -> Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .map_err(|e| Error::Storage(format!("cannot create data directory {}: {e}", self.data_dir.display())))
    }

    fn assemble(self, storage: Arc<dyn Storage>, limiter: LoginLimiter, keys: KeyLimiter) -> Result<AppState> {
        let blobs = BlobFolder::open(self.blob_dir())?;
        let caches = Caches::sized(&self);
        Ok(AppState {
            storage,
            blobs,
            metrics: Arc::new(Metrics::default()),
            login_limiter: Arc::new(limiter),
            key_limiter: Arc::new(keys),
            config: Arc::new(self),
            shutdown: Default::default(),
            jobs: Default::default(),
            caches,
            clock: Default::default(),
            import_runs: Default::default(),
        })
    }
}
