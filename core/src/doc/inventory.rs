//! `inventory`: stock levels of one warehouse or region, written only by the relay.
//!
//! One writer (the relay's review and import jobs, serialised by its job queue), so every level
//! is a last-writer-wins register: stock counts come from imports as absolute values, and a
//! counter would double-count a re-applied import.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};

/// Stock of one SKU in one place.
#[derive(Debug, Clone, PartialEq, Eq, Hydrate, Reconcile)]
pub struct StockLevel {
    /// Units on hand.
    pub on_hand: i64,
    /// Units reserved by approved or pending orders.
    pub reserved: i64,
    /// The level below which an alert is raised.
    pub safety: i64,
}

impl StockLevel {
    /// Units that can still be promised.
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// Stock levels of one warehouse serving a region.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Inventory {
    /// The warehouse code.
    pub warehouse: String,
    /// The region it serves.
    pub region: String,
    /// Levels by SKU.
    pub levels: BTreeMap<String, StockLevel>,
    /// The time the levels were true, ms since the Unix epoch (the phone shows it).
    pub as_of: i64,
    /// Units the relay's order review reserved, by order id then SKU. They are included in each
    /// level's `reserved`; keeping them per order makes reserving and releasing an idempotent
    /// "set this order's reservation", so a review job that runs twice never reserves twice.
    #[autosurgeon(missing = "Default::default")]
    pub reservations: BTreeMap<String, BTreeMap<String, i64>>,
}

impl Inventory {
    /// Sets the units reserved for `order_id` to `units` (SKU → quantity; empty releases it),
    /// adjusting each level's `reserved` by the difference. Running it twice changes nothing.
    pub fn set_reservation(&mut self, order_id: &str, units: &BTreeMap<String, i64>) {
        let previous = self.reservations.remove(order_id).unwrap_or_default();
        for (sku, qty) in &previous {
            if let Some(level) = self.levels.get_mut(sku) {
                level.reserved = (level.reserved - qty).max(0);
            }
        }
        let mut kept = BTreeMap::new();
        for (sku, qty) in units.iter().filter(|(_, qty)| **qty > 0) {
            if let Some(level) = self.levels.get_mut(sku) {
                level.reserved += qty;
                kept.insert(sku.clone(), *qty);
            }
        }
        if !kept.is_empty() {
            self.reservations.insert(order_id.to_owned(), kept);
        }
    }

    /// Units reserved for one order, by SKU.
    pub fn reservation_of(&self, order_id: &str) -> BTreeMap<String, i64> {
        self.reservations.get(order_id).cloned().unwrap_or_default()
    }
}

impl DocumentModel for Inventory {
    const KIND: DocKind = DocKind::Inventory;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            status: Some(self.region.clone()),
            subject_id: Some(self.warehouse.clone()),
            updated_at: Some(self.as_of),
            item_count: i64::try_from(self.levels.len()).ok(),
            ..IndexFields::default()
        }
    }
}
