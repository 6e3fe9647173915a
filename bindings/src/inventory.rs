//! Stock lookup: what the warehouses serving the user's region hold, and as of when.

use crate::error::FieldSyncError;
use crate::phone::FieldSyncPhone;

/// Stock of one SKU in one warehouse, as last synced.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StockLevel {
    /// The warehouse code.
    pub warehouse: String,
    /// The region it serves.
    pub region: String,
    /// The product.
    pub sku: String,
    /// Units on hand.
    pub on_hand: i64,
    /// Units reserved by approved or pending orders.
    pub reserved: i64,
    /// Units that can still be promised (on hand minus reserved).
    pub available: i64,
    /// The level below which an alert is raised.
    pub safety: i64,
    /// When these figures were true, ms since the Unix epoch: show it, stock on a phone ages.
    pub as_of: i64,
}

#[uniffi::export]
impl FieldSyncPhone {
    /// The stock of `sku` in every warehouse on the phone (empty when none lists it).
    pub fn stock(&self, sku: String) -> Result<Vec<StockLevel>, FieldSyncError> {
        Ok(self
            .store
            .inventories()?
            .into_iter()
            .filter_map(|(_, inventory)| {
                inventory.levels.get(&sku).map(|level| StockLevel {
                    warehouse: inventory.warehouse.clone(),
                    region: inventory.region.clone(),
                    sku: sku.clone(),
                    on_hand: level.on_hand,
                    reserved: level.reserved,
                    available: level.available(),
                    safety: level.safety,
                    as_of: inventory.as_of,
                })
            })
            .collect())
    }
}
