//! `store`: one retail store (a customer location), written only by HQ.
//!
//! Every field is a last-writer-wins register: store master data has one owner, HQ.

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};

/// One retail store.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct RetailStore {
    /// Display name.
    pub name: String,
    /// A short code people use beside the name (`N-014`), unique in the tenant; empty in stores
    /// written before codes existed.
    #[autosurgeon(missing = "Default::default")]
    pub code: String,
    /// Street address.
    pub address: String,
    /// The customer account that orders for this store.
    pub customer_id: String,
    /// Sales region.
    pub region: String,
    /// Customer tier (A, B, C), used by pricing and approval rules.
    pub tier: String,
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// The store's own geofence radius in metres; 0 (and stores written before it existed) means
    /// the scoring's default.
    #[autosurgeon(missing = "Default::default")]
    pub geofence_m: f64,
    /// The assigned rep's user id.
    pub rep: String,
    /// The assigned supervisor's user id.
    pub supervisor: String,
    /// Whether the store is still served.
    pub active: bool,
}

impl DocumentModel for RetailStore {
    const KIND: DocKind = DocKind::Store;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            status: Some(self.region.clone()),
            owner: Some(self.rep.clone()),
            subject_id: Some(self.name.clone()),
            ..IndexFields::default()
        }
    }
}

#[cfg(test)]
impl RetailStore {
    /// A store of region `north` for tests.
    pub(crate) fn sample(name: &str) -> RetailStore {
        RetailStore {
            name: name.into(),
            code: String::new(),
            address: "1 Main St".into(),
            customer_id: "C-1".into(),
            region: "north".into(),
            tier: "B".into(),
            latitude: 52.1,
            longitude: 4.3,
            geofence_m: 0.0,
            rep: "rep-1".into(),
            supervisor: "sup-1".into(),
            active: true,
        }
    }
}
