//! Stock in a region's inventory document: which inventory covers a region, and the reservation
//! an order holds in it, read and written entry by entry.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, Value};
use fieldsync_core::doc::{self, DocKind, Inventory, StockLevel};
use fieldsync_core::{DocumentId, Role};

use crate::documents;
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::services::Caches;
use crate::storage::{DocWrite, Storage, WriteOutcome};

/// The inventory document of a region (the one with the smallest id, as the phone picks).
pub async fn region_inventory(storage: &dyn Storage, tenant_id: i64, region: &str) -> Result<Option<DocumentId>> {
    let scope = Scope { role: Role::Manager, user_id: String::new(), region: Some(region.to_owned()) };
    let inventories = storage.list_docs(tenant_id, &scope, DocKind::Inventory, 1000).await?;
    Ok(inventories
        .into_iter()
        .filter(|stored| stored.meta.region.as_deref() == Some(region))
        .map(|stored| stored.id)
        .min_by(|a, b| a.as_str().cmp(b.as_str())))
}

/// Sets the reservation of `order_id` in an inventory document to what `decide` returns: one
/// order's [`edit_reservations`].
pub async fn edit_reservation<R>(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    inventory_id: &DocumentId,
    order_id: &str,
    skus: &BTreeMap<String, i64>,
    decide: impl Fn(&Inventory) -> (BTreeMap<String, i64>, R),
) -> Result<R> {
    let orders = [(order_id.to_owned(), skus.clone())];
    let mut results =
        edit_reservations(storage, caches, tenant_id, inventory_id, &orders, |_, inventory| decide(inventory)).await?;
    results.pop().ok_or_else(|| Error::Storage("a reservation edit returned no result".into()))
}

/// Sets the reservations of several orders in an inventory document, in one write: for each
/// order in turn, what `decide(index, inventory)` returns, given the part of the inventory that
/// matters — the levels of the orders' SKUs and of their current reservations, with the
/// reservations of the orders before it already set ([`Inventory::set_reservation`] semantics),
/// so an order never takes units an earlier order of the batch took.
///
/// It reads and writes only those entries, with automerge operations, instead of hydrating and
/// reconciling the whole document: a region's inventory holds thousands of SKUs, and a whole-
/// document round trip costs about 200 ms at 2,000 SKUs where this costs about 1 ms. One write
/// for a batch of orders means one change, one stored snapshot and one notice to the region's
/// phones, not one per order. Retried when another writer moved the document meanwhile (so
/// `decide` must be repeatable).
pub async fn edit_reservations<R>(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    inventory_id: &DocumentId,
    orders: &[(String, BTreeMap<String, i64>)],
    decide: impl Fn(usize, &Inventory) -> (BTreeMap<String, i64>, R),
) -> Result<Vec<R>> {
    for _ in 0..8 {
        let stored = storage
            .load_doc(tenant_id, inventory_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("inventory {inventory_id}")))?;
        let mut am = caches.documents.take(tenant_id, &stored)?;
        am.set_actor(documents::relay_actor(tenant_id));
        let corrupt = |reason: String| Error::CorruptDocument { id: inventory_id.clone(), reason };
        doc::check_header::<Inventory>(inventory_id, &am)?;
        let levels_obj = match am.get(ROOT, "levels").map_err(|e| corrupt(e.to_string()))? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(corrupt("inventory has no levels".to_owned())),
        };
        let reservations_obj = match am.get(ROOT, "reservations").map_err(|e| corrupt(e.to_string()))? {
            Some((Value::Object(ObjType::Map), obj)) => Some(obj),
            _ => None,
        };
        let present = |obj: &automerge::ObjId, key: &str| am.get(obj, key).map(|v| v.is_some());
        // Only the levels these orders touch are read; the warehouse names it in findings.
        let warehouse: String =
            autosurgeon::hydrate_prop(&am, &ROOT, "warehouse").map_err(|e| corrupt(e.to_string()))?;
        let mut partial = Inventory {
            warehouse,
            region: String::new(),
            levels: BTreeMap::new(),
            as_of: 0,
            reservations: BTreeMap::new(),
        };
        for (order_id, skus) in orders {
            let previous: BTreeMap<String, i64> = match &reservations_obj {
                Some(obj) if present(obj, order_id).map_err(|e| corrupt(e.to_string()))? => {
                    autosurgeon::hydrate_prop(&am, obj, order_id.as_str()).map_err(|e| corrupt(e.to_string()))?
                }
                _ => BTreeMap::new(),
            };
            for sku in skus.keys().chain(previous.keys()) {
                if !partial.levels.contains_key(sku) && present(&levels_obj, sku).map_err(|e| corrupt(e.to_string()))? {
                    let level: StockLevel = autosurgeon::hydrate_prop(&am, &levels_obj, sku.as_str())
                        .map_err(|e| corrupt(e.to_string()))?;
                    partial.levels.insert(sku.clone(), level);
                }
            }
            if !previous.is_empty() {
                partial.reservations.insert(order_id.clone(), previous);
            }
        }
        let before_levels = partial.levels.clone();
        let before: Vec<BTreeMap<String, i64>> =
            orders.iter().map(|(order_id, _)| partial.reservation_of(order_id)).collect();
        let mut results = Vec::with_capacity(orders.len());
        for (index, (order_id, _)) in orders.iter().enumerate() {
            let (units, result) = decide(index, &partial);
            partial.set_reservation(order_id, &units);
            results.push(result);
        }
        let after: Vec<BTreeMap<String, i64>> =
            orders.iter().map(|(order_id, _)| partial.reservation_of(order_id)).collect();
        if partial.levels == before_levels && after == before {
            caches.documents.keep(tenant_id, inventory_id, am);
            return Ok(results);
        }
        let heads_before = am.get_heads();
        am.transact(|tx| {
            for (sku, level) in partial.levels.iter().filter(|(sku, level)| before_levels.get(*sku) != Some(level)) {
                if let Some((Value::Object(_), level_obj)) = tx.get(&levels_obj, sku.as_str())? {
                    tx.put(&level_obj, "reserved", level.reserved)?;
                }
            }
            let reservations = match &reservations_obj {
                Some(obj) => obj.clone(),
                None => tx.put_object(ROOT, "reservations", ObjType::Map)?,
            };
            for (((order_id, _), before), after) in orders.iter().zip(&before).zip(&after) {
                if after == before {
                    continue;
                }
                if after.is_empty() {
                    tx.delete(&reservations, order_id.as_str())?;
                } else {
                    let entry = tx.put_object(&reservations, order_id.as_str(), ObjType::Map)?;
                    for (sku, qty) in after {
                        tx.put(&entry, sku.as_str(), *qty)?;
                    }
                }
            }
            Ok::<_, automerge::AutomergeError>(())
        })
        .map_err(|failure| corrupt(failure.error.to_string()))?;
        let write = DocWrite {
            id: inventory_id.clone(),
            meta: stored.meta.clone(),
            expected_heads: stored.heads.clone(),
            snapshot: am.save(),
            heads: documents::heads_of(&am),
            changes: am.save_after(&heads_before),
            origin_device: None,
            new_actors: Vec::new(),
            blobs: Vec::new(),
            job: None,
            read_model: crate::read_model::row_changes(inventory_id, &stored.meta, &am),
            // Stock levels are not business events (`crate::events::derive` makes none for inventories).
            events: Vec::new(),
        };
        if let WriteOutcome::Stored(_) = storage.write_doc(tenant_id, write).await? {
            caches.documents.keep(tenant_id, inventory_id, am);
            return Ok(results);
        }
    }
    Err(Error::Conflict(format!("inventory {inventory_id} kept changing; try again")))
}
