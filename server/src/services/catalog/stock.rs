//! Stock in a region's inventory document: which inventory covers a region, and the reservation
//! an order holds in it, read and written entry by entry.

use std::collections::{BTreeMap, HashMap};

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, Value, hydrate};
use fieldsync_core::doc::{self, DocKind, Inventory, StockLevel};
use fieldsync_core::{DocumentId, Role};

use crate::documents::{self, Kept};
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::services::Caches;
use crate::storage::{DocWrite, Storage, WriteOutcome};

/// The inventory document of a region (the one with the smallest id, as the phone picks). Reads
/// ids and heads only, never the documents' bytes.
pub async fn region_inventory(storage: &dyn Storage, tenant_id: i64, region: &str) -> Result<Option<DocumentId>> {
    let scope = Scope { role: Role::Manager, user_id: String::new(), region: Some(region.to_owned()) };
    let inventories = storage.list_doc_heads(tenant_id, &scope, DocKind::Inventory, 1000).await?;
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
    let corrupt = |reason: String| Error::CorruptDocument { id: inventory_id.clone(), reason };
    // Editors of one inventory take turns: each finds the document the one before it stored.
    let mut slot = caches.documents.lock(tenant_id, inventory_id).await;
    for _ in 0..8 {
        let head = storage
            .doc_heads(tenant_id, inventory_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("inventory {inventory_id}")))?;
        let mut kept = match slot.take().and_then(|kept| kept.at(&head.heads)) {
            Some(kept) => kept,
            None => {
                let stored = storage
                    .load_doc(tenant_id, inventory_id)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("inventory {inventory_id}")))?;
                let doc = documents::load(&stored)?;
                Kept { doc, snapshot: stored.snapshot, saved_len: 0, memo: None }
            }
        };
        let am = &mut kept.doc;
        am.set_actor(documents::relay_actor(tenant_id));
        let expected_heads = documents::heads_of(am);
        let mut index = match kept.memo.take().map(|memo| memo.downcast::<StockIndex>()) {
            Some(Ok(index)) => *index,
            _ => StockIndex::read(inventory_id, am)?,
        };
        // Only the levels these orders touch are read; the warehouse names it in findings.
        let mut partial = Inventory {
            warehouse: index.warehouse.clone(),
            region: String::new(),
            levels: BTreeMap::new(),
            as_of: 0,
            reservations: BTreeMap::new(),
        };
        for (order_id, skus) in orders {
            let previous = index.reservation(am, order_id).map_err(corrupt)?.clone();
            for sku in skus.keys().chain(previous.keys()) {
                if !partial.levels.contains_key(sku)
                    && let Some(level) = index.level(am, sku).map_err(corrupt)?
                {
                    partial.levels.insert(sku.clone(), level.clone());
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
            kept.memo = Some(Box::new(index));
            *slot = Some(kept);
            return Ok(results);
        }
        let changed_levels: Vec<(&String, &StockLevel)> =
            partial.levels.iter().filter(|(sku, level)| before_levels.get(*sku) != Some(level)).collect();
        let heads_before = am.get_heads();
        let reservations_obj = am
            .transact(|tx| {
                for (sku, level) in &changed_levels {
                    if let Some(level_obj) = index.level_obj(sku) {
                        tx.put(level_obj, "reserved", level.reserved)?;
                    }
                }
                let reservations = match &index.reservations_obj {
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
                        // The entry as one object tree: two splices of the operation set, not one
                        // per SKU.
                        let entry: HashMap<&str, hydrate::Value> =
                            after.iter().map(|(sku, qty)| (sku.as_str(), hydrate::Value::from(*qty))).collect();
                        tx.batch_create_object(&reservations, order_id.as_str(), &entry.into(), false)?;
                    }
                }
                Ok::<_, automerge::AutomergeError>(reservations)
            })
            .map_err(|failure| corrupt(failure.error.to_string()))?
            .result;
        let changes = am.save_after(&heads_before);
        // The stored bytes grow by the change alone; once the appended changes outweigh the saved
        // document, the document is saved whole again (loading many changes costs more than one
        // saved document).
        if kept.saved_len > 0 && kept.snapshot.len() + changes.len() <= 2 * kept.saved_len {
            kept.snapshot.extend_from_slice(&changes);
        } else {
            kept.snapshot = am.save();
            kept.saved_len = kept.snapshot.len();
        }
        let write = DocWrite {
            id: inventory_id.clone(),
            meta: head.meta.clone(),
            expected_heads,
            snapshot: kept.snapshot.clone(),
            heads: documents::heads_of(am),
            changes,
            origin_device: None,
            new_actors: Vec::new(),
            blobs: Vec::new(),
            job: None,
            read_model: crate::read_model::row_changes(inventory_id, &head.meta, am),
            // Stock levels are not business events (`crate::events::derive` makes none for inventories).
            events: Vec::new(),
        };
        if let WriteOutcome::Stored(_) = storage.write_doc(tenant_id, write).await? {
            for (sku, level) in changed_levels {
                index.set_level(sku, level.clone());
            }
            for ((order_id, _), after) in orders.iter().zip(after) {
                index.reservations.insert(order_id.clone(), after);
            }
            index.reservations_obj = Some(reservations_obj);
            kept.memo = Some(Box::new(index));
            *slot = Some(kept);
            return Ok(results);
        }
    }
    Err(Error::Conflict(format!("inventory {inventory_id} kept changing; try again")))
}

/// What reservations look up in one inventory document, read from automerge once per entry and
/// kept with the loaded document ([`Kept::memo`]), so that a SKU or an order looked up again is
/// a map read, not a search of the document's operations. Valid for the document it was read
/// from as [`edit_reservations`] edits it (it updates the index with what it stored); a document
/// another writer moved is loaded again, with a new index.
struct StockIndex {
    levels_obj: ObjId,
    reservations_obj: Option<ObjId>,
    warehouse: String,
    /// Levels read so far by SKU: the level's object and value, `None` for a SKU not stocked.
    levels: HashMap<String, Option<(ObjId, StockLevel)>>,
    /// Reservations read so far by order (empty: none).
    reservations: HashMap<String, BTreeMap<String, i64>>,
}

impl StockIndex {
    /// The index of an inventory document, with no entry read yet.
    fn read(id: &DocumentId, am: &Automerge) -> Result<Self> {
        let corrupt = |reason: String| Error::CorruptDocument { id: id.clone(), reason };
        doc::check_header::<Inventory>(id, am)?;
        let levels_obj = match am.get(ROOT, "levels").map_err(|e| corrupt(e.to_string()))? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(corrupt("inventory has no levels".to_owned())),
        };
        let reservations_obj = match am.get(ROOT, "reservations").map_err(|e| corrupt(e.to_string()))? {
            Some((Value::Object(ObjType::Map), obj)) => Some(obj),
            _ => None,
        };
        let warehouse: String =
            autosurgeon::hydrate_prop(am, &ROOT, "warehouse").map_err(|e| corrupt(e.to_string()))?;
        Ok(Self { levels_obj, reservations_obj, warehouse, levels: HashMap::new(), reservations: HashMap::new() })
    }

    /// The level of `sku`, if the inventory stocks it.
    fn level(&mut self, am: &Automerge, sku: &str) -> std::result::Result<Option<&StockLevel>, String> {
        if !self.levels.contains_key(sku) {
            let level = match am.get(&self.levels_obj, sku).map_err(|e| e.to_string())? {
                Some((_, obj)) => {
                    let level: StockLevel =
                        autosurgeon::hydrate_prop(am, &self.levels_obj, sku).map_err(|e| e.to_string())?;
                    Some((obj, level))
                }
                None => None,
            };
            self.levels.insert(sku.to_owned(), level);
        }
        Ok(self.levels.get(sku).and_then(|level| level.as_ref().map(|(_, level)| level)))
    }

    /// The object of a level read before.
    fn level_obj(&self, sku: &str) -> Option<&ObjId> {
        self.levels.get(sku).and_then(|level| level.as_ref().map(|(obj, _)| obj))
    }

    /// Records the value stored for a level read before.
    fn set_level(&mut self, sku: &str, value: StockLevel) {
        if let Some(Some((_, level))) = self.levels.get_mut(sku) {
            *level = value;
        }
    }

    /// The reservation `order_id` holds (empty: none).
    fn reservation(&mut self, am: &Automerge, order_id: &str) -> std::result::Result<&BTreeMap<String, i64>, String> {
        if !self.reservations.contains_key(order_id) {
            let held = match &self.reservations_obj {
                Some(obj) if am.get(obj, order_id).map_err(|e| e.to_string())?.is_some() => {
                    autosurgeon::hydrate_prop(am, obj, order_id).map_err(|e| e.to_string())?
                }
                _ => BTreeMap::new(),
            };
            self.reservations.insert(order_id.to_owned(), held);
        }
        Ok(self.reservations.get(order_id).map_or(&EMPTY, |held| held))
    }
}

static EMPTY: BTreeMap<String, i64> = BTreeMap::new();
