//! [`SalesStore`] on SQLite: tables `daily_sales` and `distributor_purchases` (migration
//! `0006_sales.sql`).
//!
//! An import holds the writer connection for its whole transaction (SQLite has one writer at a
//! time anyway): other writes wait until it commits or rolls back.

use async_trait::async_trait;
use rusqlite::{Transaction, TransactionBehavior, params};

use super::SqliteStorage;
use super::events::insert_events;
use crate::error::{Error, Result};
use crate::storage::{DailySale, DistributorPurchase, ImportEvents, RowBatch, RowBatches, SalesStore, UpsertCounts};

#[async_trait]
impl SalesStore for SqliteStorage {
    async fn daily_sales_since(&self, tenant_id: i64, first_day: &str) -> Result<Vec<DailySale>> {
        let first_day = first_day.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT store_id, sku, day, units, amount_cents FROM daily_sales
                 WHERE tenant_id = ?1 AND day >= ?2 ORDER BY store_id, sku, day",
            )?;
            let rows = stmt.query_map(params![tenant_id, first_day], |r| {
                Ok(DailySale {
                    store_id: r.get(0)?,
                    sku: r.get(1)?,
                    day: r.get(2)?,
                    units: r.get(3)?,
                    amount_cents: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn purchases_since(&self, tenant_id: i64, first_day: &str) -> Result<Vec<DistributorPurchase>> {
        let first_day = first_day.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT day, distributor, region, sku, units, amount_cents FROM distributor_purchases
                 WHERE tenant_id = ?1 AND day >= ?2 ORDER BY day, distributor, region, sku",
            )?;
            let rows = stmt.query_map(params![tenant_id, first_day], |r| {
                Ok(DistributorPurchase {
                    day: r.get(0)?,
                    distributor: r.get(1)?,
                    region: r.get(2)?,
                    sku: r.get(3)?,
                    units: r.get(4)?,
                    amount_cents: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn upsert_daily_sales(
        &self,
        tenant_id: i64,
        batches: RowBatches<DailySale>,
        now: i64,
        events: ImportEvents,
    ) -> Result<UpsertCounts> {
        self.write(move |conn| {
            let count = "SELECT COUNT(*) FROM daily_sales WHERE tenant_id = ?1";
            in_one_transaction(conn, tenant_id, count, batches, events, now, |tx, sale: &DailySale| {
                // Writes (and counts as changed) only a new row or one whose figures differ.
                Ok(tx
                    .prepare_cached(
                        "INSERT INTO daily_sales (tenant_id, day, store_id, sku, units, amount_cents, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (tenant_id, day, store_id, sku) DO UPDATE
                         SET units = excluded.units, amount_cents = excluded.amount_cents,
                             updated_at = excluded.updated_at
                         WHERE units <> excluded.units OR amount_cents <> excluded.amount_cents",
                    )?
                    .execute(params![
                        tenant_id,
                        sale.day,
                        sale.store_id,
                        sale.sku,
                        sale.units,
                        sale.amount_cents,
                        now
                    ])?
                    > 0)
            })
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
        self.write(move |conn| {
            let count = "SELECT COUNT(*) FROM distributor_purchases WHERE tenant_id = ?1";
            in_one_transaction(conn, tenant_id, count, batches, events, now, |tx, p: &DistributorPurchase| {
                Ok(tx
                    .prepare_cached(
                        "INSERT INTO distributor_purchases
                         (tenant_id, day, distributor, region, sku, units, amount_cents, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT (tenant_id, day, distributor, region, sku) DO UPDATE
                         SET units = excluded.units, amount_cents = excluded.amount_cents,
                             updated_at = excluded.updated_at
                         WHERE units <> excluded.units OR amount_cents <> excluded.amount_cents",
                    )?
                    .execute(params![tenant_id, p.day, p.distributor, p.region, p.sku, p.units, p.amount_cents, now])?
                    > 0)
            })
        })
        .await
    }
}

/// Applies `upsert` (which returns whether it wrote the row) to every row of every batch in one
/// transaction, with the import's `events` (given the counts), committed on [`RowBatch::Commit`];
/// dropped (rolled back) when the channel closes
/// first or a write fails. Rows created are the growth of the tenant's row count (`count_sql`),
/// since the keys of one import are distinct; rows written but not created were updated. Runs on
/// the blocking pool, so it may block on the channel.
fn in_one_transaction<T>(
    conn: &mut rusqlite::Connection,
    tenant_id: i64,
    count_sql: &str,
    mut batches: RowBatches<T>,
    events: ImportEvents,
    now: i64,
    upsert: impl Fn(&Transaction<'_>, &T) -> Result<bool>,
) -> Result<UpsertCounts> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let count = |tx: &Transaction<'_>| -> Result<u64> {
        let n: i64 = tx.query_row(count_sql, params![tenant_id], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    };
    let before = count(&tx)?;
    let (mut rows, mut written) = (0u64, 0u64);
    loop {
        match batches.blocking_recv() {
            Some(RowBatch::Rows(batch)) => {
                for row in &batch {
                    rows += 1;
                    if upsert(&tx, row)? {
                        written += 1;
                    }
                }
            }
            Some(RowBatch::Commit) => {
                let created = count(&tx)?.saturating_sub(before);
                let updated = written.saturating_sub(created);
                let counts = UpsertCounts { created, updated, unchanged: rows - written };
                insert_events(&tx, tenant_id, &events(counts), now)?;
                tx.commit()?;
                return Ok(counts);
            }
            None => return Err(Error::Storage("the import stopped before it committed; nothing was written".into())),
        }
    }
}
