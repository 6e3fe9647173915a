//! [`SalesStore`] on PostgreSQL: tables `daily_sales` and `distributor_purchases` (migration
//! `0006_sales.sql`).
//!
//! An import is one transaction on one pooled connection, fed batch by batch; other writes go on
//! meanwhile (only rows with the import's keys wait for it).

use async_trait::async_trait;
use tokio_postgres::Statement;
use tokio_postgres::types::ToSql;

use super::PostgresStorage;
use super::events::insert_events;
use crate::error::{Error, Result};
use crate::storage::{DailySale, DistributorPurchase, ImportEvents, RowBatch, RowBatches, SalesStore, UpsertCounts};

/// Upserts that write only when the figures differ, and say whether they inserted: no row back
/// means unchanged, `true` created, `false` updated.
const UPSERT_SALE: &str = "INSERT INTO daily_sales (tenant_id, day, store_id, sku, units, amount_cents, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, day, store_id, sku) DO UPDATE
     SET units = excluded.units, amount_cents = excluded.amount_cents, updated_at = excluded.updated_at
     WHERE (daily_sales.units, daily_sales.amount_cents) IS DISTINCT FROM (excluded.units, excluded.amount_cents)
     RETURNING (xmax = 0)";

const UPSERT_PURCHASE: &str = "INSERT INTO distributor_purchases
         (tenant_id, day, distributor, region, sku, units, amount_cents, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant_id, day, distributor, region, sku) DO UPDATE
     SET units = excluded.units, amount_cents = excluded.amount_cents, updated_at = excluded.updated_at
     WHERE (distributor_purchases.units, distributor_purchases.amount_cents)
           IS DISTINCT FROM (excluded.units, excluded.amount_cents)
     RETURNING (xmax = 0)";

#[async_trait]
impl SalesStore for PostgresStorage {
    async fn daily_sales_since(&self, tenant_id: i64, first_day: &str) -> Result<Vec<DailySale>> {
        let client = self.client().await?;
        // `COLLATE "C"`: byte order, as SQLite sorts text.
        let rows = client
            .query(
                "SELECT store_id, sku, day, units, amount_cents FROM daily_sales
                 WHERE tenant_id = $1 AND day >= $2
                 ORDER BY store_id COLLATE \"C\", sku COLLATE \"C\", day COLLATE \"C\"",
                &[&tenant_id, &first_day],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DailySale {
                    store_id: r.try_get(0)?,
                    sku: r.try_get(1)?,
                    day: r.try_get(2)?,
                    units: r.try_get(3)?,
                    amount_cents: r.try_get(4)?,
                })
            })
            .collect()
    }

    async fn purchases_since(&self, tenant_id: i64, first_day: &str) -> Result<Vec<DistributorPurchase>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT day, distributor, region, sku, units, amount_cents FROM distributor_purchases
                 WHERE tenant_id = $1 AND day >= $2
                 ORDER BY day COLLATE \"C\", distributor COLLATE \"C\", region COLLATE \"C\", sku COLLATE \"C\"",
                &[&tenant_id, &first_day],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DistributorPurchase {
                    day: r.try_get(0)?,
                    distributor: r.try_get(1)?,
                    region: r.try_get(2)?,
                    sku: r.try_get(3)?,
                    units: r.try_get(4)?,
                    amount_cents: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn upsert_daily_sales(
        &self,
        tenant_id: i64,
        batches: RowBatches<DailySale>,
        now: i64,
        events: ImportEvents,
    ) -> Result<UpsertCounts> {
        let outbox = Outbox { tenant_id, events, now };
        self.in_one_transaction(UPSERT_SALE, batches, outbox, |s: &DailySale| {
            vec![
                Box::new(tenant_id),
                Box::new(s.day.clone()),
                Box::new(s.store_id.clone()),
                Box::new(s.sku.clone()),
                Box::new(s.units),
                Box::new(s.amount_cents),
                Box::new(now),
            ]
        })
        .await
    }

    async fn upsert_purchases(
        &self,
        tenant_id: i64,
        batches: RowBatches<DistributorPurchase>,
        now: i64,
        events: ImportEvents,
    ) -> Result<UpsertCounts> {
        let outbox = Outbox { tenant_id, events, now };
        self.in_one_transaction(UPSERT_PURCHASE, batches, outbox, |p: &DistributorPurchase| {
            vec![
                Box::new(tenant_id),
                Box::new(p.day.clone()),
                Box::new(p.distributor.clone()),
                Box::new(p.region.clone()),
                Box::new(p.sku.clone()),
                Box::new(p.units),
                Box::new(p.amount_cents),
                Box::new(now),
            ]
        })
        .await
    }
}

type Values = Vec<Box<dyn ToSql + Sync + Send>>;

/// An import's events, stored with its rows.
struct Outbox {
    tenant_id: i64,
    events: ImportEvents,
    now: i64,
}

impl PostgresStorage {
    /// Runs `upsert` with the values of every row of every batch in one transaction, with the
    /// import's events (given the counts), committed on [`RowBatch::Commit`]; rolled back when
    /// the channel closes first or a write fails.
    async fn in_one_transaction<T: Send>(
        &self,
        upsert: &str,
        mut batches: RowBatches<T>,
        outbox: Outbox,
        values: impl Fn(&T) -> Values + Send + Sync,
    ) -> Result<UpsertCounts> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let statement: Statement = tx.prepare_cached(upsert).await?;
        let mut counts = UpsertCounts::default();
        loop {
            match batches.recv().await {
                Some(RowBatch::Rows(rows)) => {
                    for row in &rows {
                        let owned = values(row);
                        let refs: Vec<&(dyn ToSql + Sync)> =
                            owned.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
                        match tx.query_opt(&statement, &refs).await? {
                            None => counts.unchanged += 1,
                            Some(r) if r.try_get::<_, bool>(0)? => counts.created += 1,
                            Some(_) => counts.updated += 1,
                        }
                    }
                }
                Some(RowBatch::Commit) => {
                    insert_events(&tx, outbox.tenant_id, &(outbox.events)(counts), outbox.now).await?;
                    tx.commit().await?;
                    return Ok(counts);
                }
                // Dropping the transaction rolls it back.
                None => {
                    return Err(Error::Storage("the import stopped before it committed; nothing was written".into()));
                }
            }
        }
    }
}
