//! Stock in a region: which inventory document covers a region ([`region_inventory`]), the
//! units each order reserves there ([`edit_reservations`]), and the totals the document shows the
//! phones ([`publish_reserved`]).
//!
//! - **Levels** (`on_hand`, `safety`) are the inventory document's: imports write them. A review
//!   reads only the levels its orders touch, entry by entry, with the loaded document kept
//!   between reviews ([`Kept`]).
//! - **Reservations** are the relay's own record ([`crate::storage::ReservationStore`]): what
//!   each order holds and each SKU's total, changed only at the version they were read at, so two
//!   reviews (on one node or two) never promise the same units. An order's reservation is a
//!   "set", so a review that runs twice reserves nothing twice.
//! - **Publishing.** Each level's `reserved` in the document is the total as last published: a
//!   change of the reservations queues [`PUBLISH_KIND`] for the next whole second, so a rush of
//!   reviews writes the document at most once a second, not once per batch. Documents written
//!   before the record existed kept a `reservations` map of every order ever reserved, synced to
//!   every phone of the region; the first reservation in such a document moves the map into the
//!   record (`import_legacy`) and the next publish deletes it from the document.

use std::collections::{BTreeMap, HashMap};

use automerge::iter::DocItem;
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, Value, ValueRef};
use fieldsync_core::doc::{self, DocKind, Inventory, StockLevel};
use fieldsync_core::{DocumentId, Role};

use crate::documents::{self, Kept};
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::services::Caches;
use crate::services::queue::doc_payload;
use crate::storage::{DocMeta, DocWrite, NewJob, ReservationChange, Storage, Units, WriteOutcome};

/// The job kind that writes an inventory's reserved totals into its document
/// ([`publish_reserved`]).
pub const PUBLISH_KIND: &str = "publish-reserved-stock";

/// At most one publish per inventory in this many milliseconds.
pub const PUBLISH_EVERY_MS: i64 = 1_000;

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

/// The part of an inventory a reservation edit works on: the levels of the SKUs its orders touch
/// (`reserved` being the relay's totals, not the published ones) and what each order holds.
#[derive(Debug, Clone)]
pub struct Reservations {
    /// The touched levels, with the warehouse findings name.
    pub inventory: Inventory,
    /// What each order of the edit holds (an order that holds nothing is absent).
    held: BTreeMap<String, Units>,
}

impl Reservations {
    /// The units `order_id` holds, by SKU.
    pub fn held_by(&self, order_id: &str) -> Units {
        self.held.get(order_id).cloned().unwrap_or_default()
    }

    /// Sets the units `order_id` holds to `units` (empty releases them), adjusting each level's
    /// `reserved` by the difference; a SKU the inventory does not stock is never reserved.
    /// Setting the same units twice changes nothing.
    pub fn set(&mut self, order_id: &str, units: &Units) {
        let previous = self.held.remove(order_id).unwrap_or_default();
        for (sku, qty) in &previous {
            if let Some(level) = self.inventory.levels.get_mut(sku) {
                level.reserved = (level.reserved - qty).max(0);
            }
        }
        let mut kept = Units::new();
        for (sku, qty) in units.iter().filter(|(_, qty)| **qty > 0) {
            if let Some(level) = self.inventory.levels.get_mut(sku) {
                level.reserved += qty;
                kept.insert(sku.clone(), *qty);
            }
        }
        if !kept.is_empty() {
            self.held.insert(order_id.to_owned(), kept);
        }
    }
}

/// Sets the reservation of `order_id` in an inventory to what `decide` returns: one order's
/// [`edit_reservations`].
pub async fn edit_reservation<R>(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    inventory_id: &DocumentId,
    order_id: &str,
    skus: &Units,
    decide: impl Fn(&Reservations) -> (Units, R),
) -> Result<R> {
    let orders = [(order_id.to_owned(), skus.clone())];
    let mut results =
        edit_reservations(storage, caches, tenant_id, inventory_id, &orders, |_, stock| decide(stock)).await?;
    results.pop().ok_or_else(|| Error::Storage("a reservation edit returned no result".into()))
}

/// Sets the reservations of several orders (`(order id, the SKUs it orders)`) in an inventory,
/// in one change: for each order in turn, what `decide(index, stock)` returns, given the part of
/// the inventory that matters — the levels of the orders' SKUs and of what they hold — with the
/// orders before it already set ([`Reservations::set`]), so an order never takes units an
/// earlier order of the batch took.
///
/// The levels come from the inventory document's index, read in one pass and kept with the
/// loaded document between edits (`StockIndex`); the reservations from the relay's record. The
/// change is stored only at the version it was decided at, and decided again otherwise (so
/// `decide` must be repeatable); it queues the publishing of the totals to the document.
pub async fn edit_reservations<R>(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    inventory_id: &DocumentId,
    orders: &[(String, Units)],
    decide: impl Fn(usize, &Reservations) -> (Units, R),
) -> Result<Vec<R>> {
    // Editors of one inventory on this node take turns, so they do not decide on a version only
    // one of them can store; nodes that share a database find out from the version.
    let mut slot = caches.documents.lock(tenant_id, inventory_id).await;
    let order_ids: Vec<String> = orders.iter().map(|(order_id, _)| order_id.clone()).collect();
    let mut skus: Vec<String> = orders.iter().flat_map(|(_, units)| units.keys().cloned()).collect();
    skus.sort();
    skus.dedup();
    for _ in 0..8 {
        let (kept, mut index, _) = kept_inventory(storage, &mut slot, tenant_id, inventory_id).await?;
        let read = storage.reservations(tenant_id, inventory_id.as_str(), &order_ids, &skus).await?;
        if read.version == 0 {
            import_legacy(storage, tenant_id, inventory_id, &kept.doc, &mut index).await?;
            *slot = Some(kept.with_memo(index));
            continue;
        }
        let mut stock = Reservations {
            inventory: Inventory {
                warehouse: index.warehouse.clone(),
                region: String::new(),
                levels: BTreeMap::new(),
                as_of: 0,
            },
            held: read.orders,
        };
        let held_skus = stock.held.values().flat_map(|units| units.keys());
        for sku in skus.iter().chain(held_skus) {
            if !stock.inventory.levels.contains_key(sku)
                && let Some(level) = index.level(sku)
            {
                let reserved = read.totals.get(sku).copied().unwrap_or(0);
                stock.inventory.levels.insert(sku.clone(), StockLevel { reserved, ..level.clone() });
            }
        }
        *slot = Some(kept.with_memo(index));
        let before = stock.clone();
        let mut results = Vec::with_capacity(orders.len());
        for (position, (order_id, _)) in orders.iter().enumerate() {
            let (units, result) = decide(position, &stock);
            stock.set(order_id, &units);
            results.push(result);
        }
        // An order may come twice in one batch (two submissions of it queued together): both
        // entries carry what the last decision left it (storage keeps the last).
        let change = ReservationChange {
            expected_version: read.version,
            orders: order_ids
                .iter()
                .map(|order_id| (order_id.clone(), stock.held_by(order_id)))
                .filter(|(order_id, after)| *after != before.held_by(order_id))
                .collect(),
            totals: stock
                .inventory
                .levels
                .iter()
                .filter(|(sku, level)| {
                    before.inventory.levels.get(*sku).map(|level| level.reserved) != Some(level.reserved)
                })
                .map(|(sku, level)| (sku.clone(), level.reserved))
                .collect(),
            job: Some(publish_job(inventory_id, fieldsync_core::clock::now_ms())),
        };
        if change.orders.is_empty() && change.totals.is_empty() {
            return Ok(results);
        }
        if storage.set_reservations(tenant_id, inventory_id.as_str(), &change).await? {
            return Ok(results);
        }
    }
    Err(Error::Conflict(format!("the reservations of inventory {inventory_id} kept changing; try again")))
}

/// The publishing of an inventory's totals that a change at `now` calls for: at the start of the
/// next whole second, keyed by that second, so the changes of one second share one job.
fn publish_job(inventory_id: &DocumentId, now: i64) -> NewJob {
    let due = (now.div_euclid(PUBLISH_EVERY_MS) + 1) * PUBLISH_EVERY_MS;
    NewJob {
        kind: PUBLISH_KIND.to_owned(),
        key: format!("{inventory_id}@{due}"),
        payload: doc_payload(inventory_id),
        run_after: due,
    }
}

/// The inventory document as stored now, with its index: the one kept in `slot` when it is still
/// at the stored heads, loaded again otherwise.
async fn kept_inventory(
    storage: &dyn Storage,
    slot: &mut Option<Kept>,
    tenant_id: i64,
    inventory_id: &DocumentId,
) -> Result<(Kept, StockIndex, DocMeta)> {
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
    let index = match kept.memo.take().map(|memo| memo.downcast::<StockIndex>()) {
        Some(Ok(index)) => *index,
        _ => StockIndex::read(inventory_id, &kept.doc)?,
    };
    Ok((kept, index, head.meta))
}

/// Moves what a document written before the relay kept its own record holds into the record, the
/// first time the relay reserves in it: each order's entry of its `reservations` map, and each
/// level's `reserved` as the SKU's total (it counted those entries, and any units reserved
/// before entries were kept). Sets the inventory's version to 1, also when there was nothing to
/// move; the document keeps its map until the next publish deletes it.
async fn import_legacy(
    storage: &dyn Storage,
    tenant_id: i64,
    inventory_id: &DocumentId,
    am: &Automerge,
    index: &mut StockIndex,
) -> Result<()> {
    let corrupt = |reason: String| Error::CorruptDocument { id: inventory_id.clone(), reason };
    let orders: BTreeMap<String, Units> = match &index.legacy_reservations {
        Some(_) => autosurgeon::hydrate_prop(am, &ROOT, "reservations").map_err(|e| corrupt(e.to_string()))?,
        None => BTreeMap::new(),
    };
    let totals = index.published();
    let change = ReservationChange {
        expected_version: 0,
        orders: orders.into_iter().collect(),
        totals: totals.into_iter().collect(),
        job: Some(publish_job(inventory_id, fieldsync_core::clock::now_ms())),
    };
    if storage.set_reservations(tenant_id, inventory_id.as_str(), &change).await? {
        tracing::info!(
            tenant = tenant_id,
            inventory = %inventory_id,
            orders = change.orders.len(),
            skus = change.totals.len(),
            "moved the inventory document's reservations into the relay's record"
        );
    }
    Ok(())
}

/// Writes an inventory's reserved totals, as the relay's record holds them now, into its
/// document's levels (only those that differ), and deletes the `reservations` map a document
/// written before the record existed still holds; one change, or none when nothing differs.
/// Queues an alert evaluation when a level moved (available stock moved with it). Run by the
/// [`PUBLISH_KIND`] job.
pub async fn publish_reserved(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    inventory_id: &DocumentId,
) -> Result<bool> {
    let corrupt = |reason: String| Error::CorruptDocument { id: inventory_id.clone(), reason };
    let mut slot = caches.documents.lock(tenant_id, inventory_id).await;
    for _ in 0..8 {
        let (mut kept, mut index, meta) = kept_inventory(storage, &mut slot, tenant_id, inventory_id).await?;
        let (version, totals) = storage.reserved_totals(tenant_id, inventory_id.as_str()).await?;
        if version == 0 {
            // Nothing was ever reserved through the record: the document's totals stand.
            *slot = Some(kept.with_memo(index));
            return Ok(false);
        }
        let published = index.published();
        let mut moved: Vec<(String, i64)> = totals
            .iter()
            .filter(|(sku, units)| published.get(*sku) != Some(units))
            .map(|(sku, units)| (sku.clone(), *units))
            .collect();
        moved.extend(published.keys().filter(|sku| !totals.contains_key(*sku)).map(|sku| (sku.clone(), 0)));
        // Only stocked SKUs are ever reserved; should a level have gone since, there is nothing to show.
        moved.retain(|(sku, _)| index.level_obj(sku).is_some());
        let legacy = index.legacy_reservations.clone();
        if moved.is_empty() && legacy.is_none() {
            *slot = Some(kept.with_memo(index));
            return Ok(false);
        }
        let objects: Vec<ObjId> = moved.iter().filter_map(|(sku, _)| index.level_obj(sku).cloned()).collect();
        let am = &mut kept.doc;
        am.set_actor(documents::relay_actor(tenant_id));
        let expected_heads = documents::heads_of(am);
        let heads_before = am.get_heads();
        am.transact(|tx| {
            for ((_, units), object) in moved.iter().zip(&objects) {
                tx.put(object, "reserved", *units)?;
            }
            if legacy.is_some() {
                tx.delete(ROOT, "reservations")?;
            }
            Ok::<_, automerge::AutomergeError>(())
        })
        .map_err(|failure| corrupt(failure.error.to_string()))?;
        let changes = am.save_after(&heads_before);
        kept.append_or_save(&changes);
        let am = &kept.doc;
        let write = DocWrite {
            id: inventory_id.clone(),
            meta: meta.clone(),
            expected_heads,
            snapshot: kept.snapshot.clone(),
            heads: documents::heads_of(am),
            changes,
            origin_device: None,
            new_actors: Vec::new(),
            blobs: Vec::new(),
            job: None,
            read_model: crate::read_model::row_changes(inventory_id, &meta, am),
            // Stock levels are not business events (`crate::events::derive` makes none for inventories).
            events: Vec::new(),
        };
        if let WriteOutcome::Stored(_) = storage.write_doc(tenant_id, write).await? {
            for (sku, units) in &moved {
                index.set_reserved(sku, *units);
            }
            index.legacy_reservations = None;
            *slot = Some(kept.with_memo(index));
            // Available stock moved: low-stock alerts may open or close.
            crate::services::alerts::queue_evaluation(storage, None, tenant_id, "stock reserved").await?;
            return Ok(true);
        }
    }
    Err(Error::Conflict(format!("inventory {inventory_id} kept changing; try again")))
}

/// An inventory document's levels, read in one pass over the document's operations and kept
/// with the loaded document ([`Kept::memo`]): looking a SKU up by key in automerge is a search of
/// the operation set (tens of microseconds in a document of thousands of levels), and a batch of
/// reviews looks up hundreds. Valid for the document it was read from as [`publish_reserved`]
/// edits it (it updates the index with what it stored); a document another writer moved is loaded
/// again, with a new index.
struct StockIndex {
    /// The `reservations` map of a document written before the relay kept its own record.
    legacy_reservations: Option<ObjId>,
    warehouse: String,
    /// Every level by SKU, with its object.
    levels: HashMap<String, (ObjId, StockLevel)>,
}

impl StockIndex {
    /// The index of an inventory document: its levels in one pass over the operations of the
    /// `levels` map and its children (parents come before their children in that walk).
    fn read(id: &DocumentId, am: &Automerge) -> Result<Self> {
        let corrupt = |reason: String| Error::CorruptDocument { id: id.clone(), reason };
        doc::check_header::<Inventory>(id, am)?;
        let levels_obj = match am.get(ROOT, "levels").map_err(|e| corrupt(e.to_string()))? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(corrupt("inventory has no levels".to_owned())),
        };
        let legacy_reservations = match am.get(ROOT, "reservations").map_err(|e| corrupt(e.to_string()))? {
            Some((Value::Object(ObjType::Map), obj)) => Some(obj),
            _ => None,
        };
        let warehouse: String =
            autosurgeon::hydrate_prop(am, &ROOT, "warehouse").map_err(|e| corrupt(e.to_string()))?;
        // Each level's SKU by its object, and the fields seen so far (a bit per field).
        let mut skus: HashMap<ObjId, (String, u8)> = HashMap::new();
        let mut levels = HashMap::new();
        for entry in am.iter_at(&levels_obj, None) {
            let DocItem::Map(item) = entry.item else { continue };
            if *entry.obj == levels_obj {
                if !matches!(item.value, ValueRef::Object(ObjType::Map)) {
                    return Err(corrupt(format!("level {} is not a map", item.key)));
                }
                let level = item.id();
                skus.insert(level.clone(), (item.key.to_string(), 0));
                levels.insert(item.key.into_owned(), (level, StockLevel { on_hand: 0, reserved: 0, safety: 0 }));
            } else if let Some((sku, seen)) = skus.get_mut(&*entry.obj)
                && let Some((_, level)) = levels.get_mut(sku.as_str())
            {
                let ValueRef::Scalar(value) = item.value else { continue };
                let (field, bit) = match item.key.as_ref() {
                    "on_hand" => (&mut level.on_hand, 1),
                    "reserved" => (&mut level.reserved, 2),
                    "safety" => (&mut level.safety, 4),
                    _ => continue,
                };
                *field = value.as_i64();
                *seen |= bit;
            }
        }
        if let Some((sku, _)) = skus.values().find(|(_, seen)| *seen != 7) {
            return Err(corrupt(format!("level {sku} lacks on_hand, reserved or safety")));
        }
        Ok(Self { legacy_reservations, warehouse, levels })
    }

    /// The level of `sku`, if the inventory stocks it.
    fn level(&self, sku: &str) -> Option<&StockLevel> {
        self.levels.get(sku).map(|(_, level)| level)
    }

    /// The object of the level of `sku`.
    fn level_obj(&self, sku: &str) -> Option<&ObjId> {
        self.levels.get(sku).map(|(obj, _)| obj)
    }

    /// Records the `reserved` stored for a level.
    fn set_reserved(&mut self, sku: &str, units: i64) {
        if let Some((_, level)) = self.levels.get_mut(sku) {
            level.reserved = units;
        }
    }

    /// Every level's `reserved` that is not 0, as the document holds them.
    fn published(&self) -> Units {
        let reserved = self.levels.iter().filter(|(_, (_, level))| level.reserved != 0);
        reserved.map(|(sku, (_, level))| (sku.clone(), level.reserved)).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use automerge::ActorId;
    use automerge::transaction::Transactable;

    use super::*;

    #[test]
    fn the_one_pass_index_holds_the_levels_a_hydrate_reads_after_many_edits() {
        let id = DocumentId::random();
        let level = |n: i64| StockLevel { on_hand: 100 + n, reserved: n % 7, safety: n % 3 };
        let inventory = Inventory {
            warehouse: "WH-N".into(),
            region: "north".into(),
            levels: (0..300).map(|n| (format!("SKU-{n:03}"), level(n))).collect(),
            as_of: 1,
        };
        let mut am = doc::create(&id, ActorId::random(), &inventory).unwrap();
        // Levels overwritten again and again, one removed, one added: the index reads the values
        // that won, not the history.
        for round in 0..5_i64 {
            am.transact::<_, _, automerge::AutomergeError>(|tx| {
                let (_, levels) = tx.get(ROOT, "levels")?.unwrap();
                for n in (0..300).step_by(7) {
                    let (_, level) = tx.get(&levels, format!("SKU-{n:03}"))?.unwrap();
                    tx.put(&level, "reserved", round * 10 + n)?;
                }
                if round == 2 {
                    tx.delete(&levels, "SKU-005")?;
                    let added = tx.put_object(&levels, "NEW-1", ObjType::Map)?;
                    for field in ["on_hand", "reserved", "safety"] {
                        tx.put(&added, field, 9_i64)?;
                    }
                }
                Ok(())
            })
            .unwrap();
        }
        let index = StockIndex::read(&id, &am).unwrap();
        let hydrated: Inventory = doc::read(&id, &am).unwrap();
        let indexed: BTreeMap<String, StockLevel> =
            index.levels.iter().map(|(sku, (_, level))| (sku.clone(), level.clone())).collect();
        assert_eq!(indexed, hydrated.levels);
        assert_eq!(index.level("SKU-007").unwrap().reserved, 47);
        assert!(index.level("SKU-005").is_none());
        assert_eq!(index.warehouse, "WH-N");
        let (_, levels) = am.get(ROOT, "levels").unwrap().unwrap();
        assert_eq!(index.level_obj("NEW-1"), am.get(&levels, "NEW-1").unwrap().map(|(_, obj)| obj).as_ref());
    }

    #[test]
    fn a_reservation_is_a_set_that_moves_the_level_by_the_difference() {
        let mut stock = Reservations {
            inventory: Inventory {
                warehouse: "WH-N".into(),
                region: "north".into(),
                levels: BTreeMap::from([("DAI-1".into(), StockLevel { on_hand: 50, reserved: 7, safety: 5 })]),
                as_of: 0,
            },
            held: BTreeMap::new(),
        };
        let units = BTreeMap::from([("DAI-1".to_owned(), 10), ("GONE".to_owned(), 3)]);
        stock.set("o", &units);
        stock.set("o", &units);
        assert_eq!(stock.inventory.levels["DAI-1"].reserved, 17);
        assert_eq!(stock.held_by("o"), BTreeMap::from([("DAI-1".to_owned(), 10)]), "no SKU it does not stock");
        stock.set("o", &BTreeMap::from([("DAI-1".to_owned(), 4)]));
        assert_eq!(stock.inventory.levels["DAI-1"].reserved, 11);
        stock.set("o", &BTreeMap::new());
        assert_eq!(stock.inventory.levels["DAI-1"].reserved, 7);
        assert!(stock.held.is_empty());
    }
}
