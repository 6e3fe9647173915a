//! What every request handler shares.

use std::sync::Arc;

use crate::accounts::LoginLimiter;
use crate::blobs::BlobFolder;
use crate::config::Config;
use crate::documents::KeptDocuments;
use crate::jobs::review_order::CatalogCache;
use crate::metrics::Metrics;
use crate::storage::Storage;

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
    /// Settings.
    pub config: Arc<Config>,
    /// Tells long-lived connections (the live channel) that the relay is stopping.
    pub shutdown: Shutdown,
    /// Wakes the job runner when work is queued.
    pub jobs: crate::jobs::JobSignal,
    /// In-memory caches of derived data.
    pub caches: Caches,
}

/// The relay's in-memory caches (`moka`), shared by its handlers and jobs; cheap to clone. Each
/// is bounded, and each entry is checked against what storage holds before it is used, so a
/// cache only saves work. Code without an [`AppState`] (the command line, benchmarks) makes its
/// own with `Caches::default()`.
#[derive(Clone, Default)]
pub struct Caches {
    /// Documents the relay edits over and over, kept loaded between edits.
    pub documents: KeptDocuments,
    /// Hydrated catalogs by tenant.
    pub catalogs: CatalogCache,
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
