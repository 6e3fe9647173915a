//! `inventory`: stock levels of one warehouse or region, written only by the relay.
//!
//! One writer (the relay's import and stock-publishing jobs, serialised by its job queue), so
//! every level is a last-writer-wins register: stock counts come from imports as absolute values,
//! and a counter would double-count a re-applied import. What each order reserves is the relay's
//! own record; the document carries only each level's total. (Documents written before kept a
//! `reservations` map too; the relay moves it out the first time it reserves in the document.)

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};

/// Stock of one SKU in one place.
#[derive(Debug, Clone, PartialEq, Eq, Hydrate, Reconcile)]
pub struct StockLevel {
    /// Units on hand.
    pub on_hand: i64,
    /// Units reserved by approved or pending orders, as the relay last published them (it keeps
    /// each order's reservation in its own tables and writes the totals here at most once a
    /// second).
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
