//! The tenant's catalog and its regions' stock, as the relay's own work reads and writes them:
//! the hydrated catalog cached per tenant ([`tenant_catalog`]), and the stock orders reserve in a
//! region, with the totals its inventory document shows ([`stock`]). Reviews, decisions,
//! imports and alerts all go through here.

pub mod stock;

use std::sync::Arc;

use fieldsync_core::doc::{self, Catalog, DocKind};
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocumentId, Role};

use crate::documents;
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::services::Caches;
use crate::storage::Storage;

pub use stock::{edit_reservation, edit_reservations, region_inventory};

/// Hydrated catalogs by tenant, with the id and heads they were read at (a `moka` cache held in
/// [`crate::services::Caches`]). Hydrating a 2,000-product catalog takes about half a second, and
/// the catalog changes rarely, so a review reads it again only when its heads moved.
#[derive(Clone)]
pub struct CatalogCache(moka::sync::Cache<i64, (DocumentId, Vec<Head>, Arc<Catalog>)>);

impl Default for CatalogCache {
    fn default() -> Self {
        Self::holding(crate::config::CACHED_CATALOGS)
    }
}

impl CatalogCache {
    /// A cache of at most `tenants` hydrated catalogs.
    pub fn holding(tenants: u64) -> Self {
        Self(moka::sync::Cache::new(tenants))
    }
}

/// The tenant's catalog (the one with the smallest id, should there be several). Reads the
/// catalogs' ids and heads only; the document's bytes only when its heads moved.
pub async fn tenant_catalog(storage: &dyn Storage, caches: &Caches, tenant_id: i64) -> Result<Arc<Catalog>> {
    let everything = Scope { role: Role::Hq, user_id: String::new(), region: None };
    let catalogs = storage.list_doc_heads(tenant_id, &everything, DocKind::Catalog, 16).await?;
    let first = catalogs
        .iter()
        .min_by(|a, b| a.id.as_str().cmp(b.id.as_str()))
        .ok_or_else(|| Error::not_found(format!("catalog of tenant {tenant_id}")))?;
    let cache = &caches.catalogs.0;
    if let Some((id, heads, catalog)) = cache.get(&tenant_id)
        && id == first.id
        && heads == first.heads
    {
        return Ok(catalog);
    }
    let stored = storage
        .load_doc(tenant_id, &first.id)
        .await?
        .ok_or_else(|| Error::not_found(format!("catalog of tenant {tenant_id}")))?;
    let catalog: Arc<Catalog> = Arc::new(doc::read(&stored.id, &documents::load(&stored)?)?);
    cache.insert(tenant_id, (stored.id.clone(), stored.heads.clone(), catalog.clone()));
    Ok(catalog)
}
