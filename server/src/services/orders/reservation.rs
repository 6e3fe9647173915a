//! An order's stock reservation follows its review: the units it reviewed while the outcome is
//! not rejected, nothing once it is.

use std::collections::BTreeMap;

use automerge::ChangeHash;
use fieldsync_core::DocumentId;
use fieldsync_core::doc::{self, Order, OrderReview, ReviewOutcome};

use crate::documents;
use crate::error::{Error, Result};
use crate::services::Caches;
use crate::services::catalog::{edit_reservation, region_inventory};
use crate::storage::Storage;

/// Units by SKU of an order as it was at `heads` (hex change hashes): what its review reserved.
pub async fn units_at(
    storage: &dyn Storage,
    tenant_id: i64,
    order_id: &DocumentId,
    heads: &[String],
) -> Result<BTreeMap<String, i64>> {
    let stored =
        storage.load_doc(tenant_id, order_id).await?.ok_or_else(|| Error::not_found(format!("order {order_id}")))?;
    let am = documents::load(&stored)?;
    let heads: Vec<ChangeHash> = heads
        .iter()
        .map(|h| h.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| Error::CorruptDocument { id: order_id.clone(), reason: format!("bad reviewed head: {e}") })?;
    let at = am.fork_at(&heads).map_err(|e| Error::CorruptDocument { id: order_id.clone(), reason: e.to_string() })?;
    Ok(doc::read::<Order>(order_id, &at)?.units_by_sku())
}

/// Makes the region's reservation for an order match its review: the units it reviewed while the
/// outcome is not rejected, nothing once it is.
pub async fn sync_reservation(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    review: &OrderReview,
) -> Result<()> {
    let Some(region) = documents::store_region(storage, tenant_id, &review.store_id).await? else { return Ok(()) };
    let Some(inventory_id) = region_inventory(storage, tenant_id, &region).await? else { return Ok(()) };
    let units = if review.outcome == ReviewOutcome::Rejected {
        BTreeMap::new()
    } else {
        units_at(storage, tenant_id, &review.order_id.parse()?, &review.reviewed_heads).await?
    };
    // The totals' publish evaluates the alerts once the document shows them.
    edit_reservation(storage, caches, tenant_id, &inventory_id, &review.order_id, &units, |_| (units.clone(), ())).await
}
