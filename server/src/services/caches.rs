//! The relay's in-memory caches, which services take as an argument rather than reaching for
//! the whole shared state.

use crate::documents::KeptDocuments;
use crate::services::catalog::CatalogCache;
use crate::services::orders::submitted::SubmittedOrders;

/// The relay's in-memory caches (`moka`), shared by its handlers and jobs; cheap to clone. Each
/// is bounded, and each entry is checked against what storage holds before it is used, so a
/// cache only saves work. Code without the relay's shared state (the command line, benchmarks) makes its
/// own with `Caches::default()`.
#[derive(Clone, Default)]
pub struct Caches {
    /// Documents the relay edits over and over, kept loaded between edits.
    pub documents: KeptDocuments,
    /// Hydrated catalogs by tenant.
    pub catalogs: CatalogCache,
    /// Submitted orders as admission read them, for their review.
    pub submitted_orders: SubmittedOrders,
}

impl Caches {
    /// Caches of the sizes a configuration names (`Config::kept_documents`,
    /// `Config::cached_catalogs`, `Config::kept_submissions`).
    pub fn sized(config: &crate::config::Config) -> Self {
        Self {
            documents: KeptDocuments::holding(config.kept_documents),
            catalogs: CatalogCache::holding(config.cached_catalogs),
            submitted_orders: SubmittedOrders::holding(config.kept_submissions),
        }
    }
}
