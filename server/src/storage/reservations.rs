//! Stock reservations: the units each pending or approved order holds in a region's inventory,
//! and each SKU's total, kept per inventory document with a version that every change moves.
//!
//! The order review reads what its orders and SKUs hold at a version, decides, and sets the new
//! reservations only if the inventory is still at that version; a reservation is a "set", so a
//! review that runs twice reserves nothing twice. The inventory document shows the totals to the
//! phones as its levels' `reserved`, published from here at most once a second
//! (`services::catalog::stock`).

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::error::Result;
use crate::storage::NewJob;

/// Units by SKU.
pub type Units = BTreeMap<String, i64>;

/// What an inventory's reservations hold for some orders and SKUs, read at one version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReservationsAt {
    /// The inventory's reservation version: 0 before its first change.
    pub version: i64,
    /// The units each asked order holds (an order that holds none is absent).
    pub orders: BTreeMap<String, Units>,
    /// The units reserved in all of each asked SKU and of each SKU an asked order holds (a SKU
    /// none of is reserved is absent).
    pub totals: Units,
}

/// A change of an inventory's reservations, made only at the version it was decided at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReservationChange {
    /// The version the change was decided at ([`ReservationsAt::version`]).
    pub expected_version: i64,
    /// The new reservation of each changed order, replacing its earlier one (empty: released);
    /// of an order given twice, the last.
    pub orders: Vec<(String, Units)>,
    /// The new total of each changed SKU (0: none reserved).
    pub totals: Vec<(String, i64)>,
    /// Work the change calls for (publishing the totals to the document), queued with it.
    pub job: Option<NewJob>,
}

/// The stock reservations of inventory documents.
#[async_trait]
pub trait ReservationStore {
    /// What `orders` hold in the inventory `inventory_id` and how much of each of `skus`, and of
    /// each SKU those orders hold, is reserved there, with the version all were read at.
    async fn reservations(
        &self,
        tenant_id: i64,
        inventory_id: &str,
        orders: &[String],
        skus: &[String],
    ) -> Result<ReservationsAt>;

    /// Applies `change` in one transaction if the inventory's version is still
    /// `change.expected_version`, moving it by one; answers whether it was applied (`false`:
    /// another writer changed the reservations meanwhile, and nothing was written).
    async fn set_reservations(&self, tenant_id: i64, inventory_id: &str, change: &ReservationChange) -> Result<bool>;

    /// Every SKU of the inventory with units reserved, and the version they were read at.
    async fn reserved_totals(&self, tenant_id: i64, inventory_id: &str) -> Result<(i64, Units)>;
}
