//! Store coverage: which of the stores a user looks after were visited (an inspection check-in)
//! in a period, per region and in total, from the read model.

use std::collections::BTreeMap;

use fieldsync_core::DocKind;
use serde::Serialize;

use crate::error::Result;
use crate::scope::Scope;
use crate::services::listing;
use crate::storage::Storage;
use crate::storage::queries::{self, StoreVisitRow};

/// Stores and visited stores of one region (or of all, in the total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Active stores.
    pub stores: u64,
    /// Of them, visited in the period.
    pub visited: u64,
}

impl Coverage {
    /// Visited stores as a whole percentage (0 without stores).
    pub fn percent(&self) -> u64 {
        (self.visited * 100).checked_div(self.stores).unwrap_or(0)
    }
}

/// The stores a user looks after with their visits, and coverage per region and in total.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreCoverage {
    /// The stores, by region then name.
    pub stores: Vec<StoreVisitRow>,
    /// Coverage per region.
    pub regions: BTreeMap<String, Coverage>,
    /// Coverage of all of them.
    pub total: Coverage,
}

/// Coverage since `since` of the stores `scope` looks after, counting the visits it can see.
pub async fn since(storage: &dyn Storage, tenant_id: i64, scope: &Scope, since: i64) -> Result<StoreCoverage> {
    let stores = queries::store_visits(
        storage,
        tenant_id,
        &listing::stores_looked_after(scope),
        &listing::reach(scope, DocKind::Inspection),
        since,
    )
    .await?;
    let mut regions: BTreeMap<String, Coverage> = BTreeMap::new();
    let mut total = Coverage::default();
    for store in &stores {
        let visited = u64::from(store.visits_in_period > 0);
        for coverage in [regions.entry(store.region.clone()).or_default(), &mut total] {
            coverage.stores += 1;
            coverage.visited += visited;
        }
    }
    Ok(StoreCoverage { stores, regions, total })
}
