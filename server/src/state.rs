//! What every request handler shares.

use std::sync::Arc;

use crate::accounts::LoginLimiter;
use crate::blobs::BlobFolder;
use crate::config::Config;
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
}
