//! [`ReservationStore`] on PostgreSQL.

use async_trait::async_trait;
use tokio_postgres::IsolationLevel;

use super::PostgresStorage;
use crate::error::Result;
use crate::storage::{ReservationChange, ReservationStore, ReservationsAt, Units};

#[async_trait]
impl ReservationStore for PostgresStorage {
    async fn reservations(
        &self,
        tenant_id: i64,
        inventory_id: &str,
        orders: &[String],
        skus: &[String],
    ) -> Result<ReservationsAt> {
        let mut client = self.client().await?;
        // One snapshot for the version and what it versions.
        let tx =
            client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
        let mut read = ReservationsAt { version: version(&tx, tenant_id, inventory_id).await?, ..Default::default() };
        let held = tx
            .query(
                "SELECT order_id, sku, units FROM stock_reservations
                 WHERE tenant_id = $1 AND inventory_id = $2 AND order_id = ANY($3)",
                &[&tenant_id, &inventory_id, &orders],
            )
            .await?;
        for row in held {
            read.orders.entry(row.try_get(0)?).or_default().insert(row.try_get(1)?, row.try_get(2)?);
        }
        let held_skus: Vec<&str> = read.orders.values().flat_map(|units| units.keys().map(String::as_str)).collect();
        let totals = tx
            .query(
                "SELECT sku, units FROM stock_reserved
                 WHERE tenant_id = $1 AND inventory_id = $2 AND (sku = ANY($3) OR sku = ANY($4))",
                &[&tenant_id, &inventory_id, &skus, &held_skus],
            )
            .await?;
        for row in totals {
            read.totals.insert(row.try_get(0)?, row.try_get(1)?);
        }
        tx.commit().await?;
        Ok(read)
    }

    async fn set_reservations(&self, tenant_id: i64, inventory_id: &str, change: &ReservationChange) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The version row is the inventory's lock: a writer on another node that read the same
        // version waits here, then finds the version moved and writes nothing.
        let moved = if change.expected_version == 0 {
            tx.execute(
                "INSERT INTO stock_reservation_versions (tenant_id, inventory_id, version) VALUES ($1, $2, 1)
                 ON CONFLICT (tenant_id, inventory_id) DO NOTHING",
                &[&tenant_id, &inventory_id],
            )
            .await?
        } else {
            tx.execute(
                "UPDATE stock_reservation_versions SET version = version + 1
                 WHERE tenant_id = $1 AND inventory_id = $2 AND version = $3",
                &[&tenant_id, &inventory_id, &change.expected_version],
            )
            .await?
        };
        if moved != 1 {
            return Ok(false);
        }
        // An order given twice: the last one counts, as on SQLite.
        let changed: std::collections::BTreeMap<&str, &Units> =
            change.orders.iter().map(|(order_id, units)| (order_id.as_str(), units)).collect();
        let orders: Vec<&str> = changed.keys().copied().collect();
        tx.execute(
            "DELETE FROM stock_reservations WHERE tenant_id = $1 AND inventory_id = $2 AND order_id = ANY($3)",
            &[&tenant_id, &inventory_id, &orders],
        )
        .await?;
        let (mut held_orders, mut held_skus, mut held_units) = (Vec::new(), Vec::new(), Vec::new());
        for (order_id, units) in &changed {
            for (sku, units) in units.iter().filter(|(_, units)| **units > 0) {
                held_orders.push(*order_id);
                held_skus.push(sku.as_str());
                held_units.push(*units);
            }
        }
        tx.execute(
            "INSERT INTO stock_reservations (tenant_id, inventory_id, order_id, sku, units)
             SELECT $1, $2, unnest($3::text[]), unnest($4::text[]), unnest($5::bigint[])",
            &[&tenant_id, &inventory_id, &held_orders, &held_skus, &held_units],
        )
        .await?;
        let (set, cleared): (Vec<_>, Vec<_>) = change.totals.iter().partition(|(_, units)| *units > 0);
        let set_skus: Vec<&str> = set.iter().map(|(sku, _)| sku.as_str()).collect();
        let set_units: Vec<i64> = set.iter().map(|(_, units)| *units).collect();
        tx.execute(
            "INSERT INTO stock_reserved (tenant_id, inventory_id, sku, units)
             SELECT $1, $2, unnest($3::text[]), unnest($4::bigint[])
             ON CONFLICT (tenant_id, inventory_id, sku) DO UPDATE SET units = EXCLUDED.units",
            &[&tenant_id, &inventory_id, &set_skus, &set_units],
        )
        .await?;
        let cleared: Vec<&str> = cleared.iter().map(|(sku, _)| sku.as_str()).collect();
        tx.execute(
            "DELETE FROM stock_reserved WHERE tenant_id = $1 AND inventory_id = $2 AND sku = ANY($3)",
            &[&tenant_id, &inventory_id, &cleared],
        )
        .await?;
        if let Some(job) = &change.job {
            tx.execute(
                "INSERT INTO jobs (tenant_id, kind, key, payload, run_after, created_at)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (tenant_id, kind, key) DO NOTHING",
                &[&tenant_id, &job.kind, &job.key, &job.payload, &job.run_after],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn reserved_totals(&self, tenant_id: i64, inventory_id: &str) -> Result<(i64, Units)> {
        let mut client = self.client().await?;
        let tx =
            client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
        let version = version(&tx, tenant_id, inventory_id).await?;
        let rows = tx
            .query(
                "SELECT sku, units FROM stock_reserved WHERE tenant_id = $1 AND inventory_id = $2 ORDER BY sku",
                &[&tenant_id, &inventory_id],
            )
            .await?;
        let mut totals = Units::new();
        for row in rows {
            totals.insert(row.try_get(0)?, row.try_get(1)?);
        }
        tx.commit().await?;
        Ok((version, totals))
    }
}

/// An inventory's reservation version (0 before its first change).
async fn version(tx: &tokio_postgres::Transaction<'_>, tenant_id: i64, inventory_id: &str) -> Result<i64> {
    let row = tx
        .query_opt(
            "SELECT version FROM stock_reservation_versions WHERE tenant_id = $1 AND inventory_id = $2",
            &[&tenant_id, &inventory_id],
        )
        .await?;
    Ok(match row {
        Some(row) => row.try_get(0)?,
        None => 0,
    })
}
