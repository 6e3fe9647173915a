//! Imported sales figures: POS daily sales per store and SKU (sell-out) and distributor purchases
//! (sell-in). They live in relay tables, not in CRDT documents: phones never hold them; the relay
//! reads them for alerts and the dashboard.
//!
//! Writes are upserts keyed by (tenant, day, store, SKU) for sales and (tenant, day, distributor,
//! region, SKU) for purchases. A whole import is one transaction: the importer sends its rows in
//! [`RowBatch`]es over a bounded channel and ends with [`RowBatch::Commit`]; a channel that closes
//! before `Commit` (the importer failed or gave up) rolls everything back. Rows equal to what is
//! stored are left alone and counted as unchanged, so importing the same file twice changes nothing.

use async_trait::async_trait;

use crate::error::Result;
use crate::storage::NewEvent;

/// One store's sales of one SKU on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailySale {
    /// The store DOCUMENT id (resolved from the store's customer id at import).
    pub store_id: String,
    /// The product.
    pub sku: String,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// Units sold (≥ 0).
    pub units: i64,
    /// Sales value, in cents (≥ 0).
    pub amount_cents: i64,
}

/// What one distributor bought of one SKU for one region on one day (sell-in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributorPurchase {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The distributor's code.
    pub distributor: String,
    /// The region the goods are for.
    pub region: String,
    /// The product.
    pub sku: String,
    /// Units bought (≥ 0).
    pub units: i64,
    /// Purchase value, in cents (≥ 0).
    pub amount_cents: i64,
}

/// One message of an import's row stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowBatch<T> {
    /// Rows to upsert (in the import's transaction).
    Rows(Vec<T>),
    /// The last message: commit the transaction.
    Commit,
}

/// The receiving end of an import's row stream. Closing it without [`RowBatch::Commit`] aborts the
/// import.
pub type RowBatches<T> = tokio::sync::mpsc::Receiver<RowBatch<T>>;

/// The events an import stores in its own transaction once its counts are known (its
/// `import.applied`, none when nothing changed).
pub type ImportEvents = Box<dyn FnOnce(UpsertCounts) -> Vec<NewEvent> + Send>;

/// What an upsert did, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// Rows that did not exist.
    pub created: u64,
    /// Rows that existed with other figures.
    pub updated: u64,
    /// Rows that existed with the same figures (not written).
    pub unchanged: u64,
}

/// Imported sales and purchases.
#[async_trait]
pub trait SalesStore {
    /// The tenant's daily sales on `first_day` (YYYY-MM-DD) and after, ordered by store, sku, day.
    async fn daily_sales_since(&self, tenant_id: i64, first_day: &str) -> Result<Vec<DailySale>>;

    /// The tenant's distributor purchases on `first_day` (YYYY-MM-DD) and after, ordered by day,
    /// distributor, region, sku.
    async fn purchases_since(&self, tenant_id: i64, first_day: &str) -> Result<Vec<DistributorPurchase>>;

    /// Upserts every row received from `batches` in one transaction, committed when
    /// [`RowBatch::Commit`] arrives. If the channel closes before it, or a write fails, nothing is
    /// written and an error is returned. A row's key is (tenant, day, store, sku); `now` (ms) is
    /// recorded on rows created or changed. The rows of one import have distinct keys. `events`
    /// are stored in the outbox in the same transaction.
    async fn upsert_daily_sales(
        &self,
        tenant_id: i64,
        batches: RowBatches<DailySale>,
        now: i64,
        events: ImportEvents,
    ) -> Result<UpsertCounts>;

    /// Like [`SalesStore::upsert_daily_sales`], for purchases keyed by (tenant, day, distributor,
    /// region, sku).
    async fn upsert_purchases(
        &self,
        tenant_id: i64,
        batches: RowBatches<DistributorPurchase>,
        now: i64,
        events: ImportEvents,
    ) -> Result<UpsertCounts>;
}
