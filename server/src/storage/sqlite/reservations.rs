//! [`ReservationStore`] on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStorage;
use super::jobs::insert_job;
use crate::error::Result;
use crate::storage::{ReservationChange, ReservationStore, ReservationsAt, Units};

#[async_trait]
impl ReservationStore for SqliteStorage {
    async fn reservations(
        &self,
        tenant_id: i64,
        inventory_id: &str,
        orders: &[String],
        skus: &[String],
    ) -> Result<ReservationsAt> {
        let inventory_id = inventory_id.to_owned();
        let orders = orders.to_vec();
        let skus = skus.to_vec();
        self.read(move |conn| {
            // One snapshot for the version and what it versions.
            let tx = conn.unchecked_transaction()?;
            let mut read = ReservationsAt { version: version(&tx, tenant_id, &inventory_id)?, ..Default::default() };
            let mut held = tx.prepare_cached(
                "SELECT sku, units FROM stock_reservations WHERE tenant_id = ?1 AND inventory_id = ?2 AND order_id = ?3",
            )?;
            let mut skus: std::collections::BTreeSet<String> = skus.into_iter().collect();
            for order_id in orders {
                let units = held
                    .query_map(params![tenant_id, inventory_id, order_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<Units>>()?;
                if !units.is_empty() {
                    skus.extend(units.keys().cloned());
                    read.orders.insert(order_id, units);
                }
            }
            let mut total = tx.prepare_cached(
                "SELECT units FROM stock_reserved WHERE tenant_id = ?1 AND inventory_id = ?2 AND sku = ?3",
            )?;
            for sku in skus {
                if let Some(units) = total.query_row(params![tenant_id, inventory_id, sku], |r| r.get(0)).optional()? {
                    read.totals.insert(sku, units);
                }
            }
            drop((held, total));
            tx.commit()?;
            Ok(read)
        })
        .await
    }

    async fn set_reservations(&self, tenant_id: i64, inventory_id: &str, change: &ReservationChange) -> Result<bool> {
        let inventory_id = inventory_id.to_owned();
        let change = change.clone();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let moved = if change.expected_version == 0 {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO stock_reservation_versions (tenant_id, inventory_id, version)
                     VALUES (?1, ?2, 1)",
                )?
                .execute(params![tenant_id, inventory_id])?
            } else {
                tx.prepare_cached(
                    "UPDATE stock_reservation_versions SET version = version + 1
                     WHERE tenant_id = ?1 AND inventory_id = ?2 AND version = ?3",
                )?
                .execute(params![tenant_id, inventory_id, change.expected_version])?
            };
            if moved != 1 {
                return Ok(false);
            }
            {
                let mut release = tx.prepare_cached(
                    "DELETE FROM stock_reservations WHERE tenant_id = ?1 AND inventory_id = ?2 AND order_id = ?3",
                )?;
                let mut hold = tx.prepare_cached(
                    "INSERT INTO stock_reservations (tenant_id, inventory_id, order_id, sku, units)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for (order_id, units) in &change.orders {
                    release.execute(params![tenant_id, inventory_id, order_id])?;
                    for (sku, units) in units.iter().filter(|(_, units)| **units > 0) {
                        hold.execute(params![tenant_id, inventory_id, order_id, sku, units])?;
                    }
                }
                let mut set_total = tx.prepare_cached(
                    "INSERT INTO stock_reserved (tenant_id, inventory_id, sku, units) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant_id, inventory_id, sku) DO UPDATE SET units = ?4",
                )?;
                let mut clear_total = tx.prepare_cached(
                    "DELETE FROM stock_reserved WHERE tenant_id = ?1 AND inventory_id = ?2 AND sku = ?3",
                )?;
                for (sku, units) in &change.totals {
                    if *units > 0 {
                        set_total.execute(params![tenant_id, inventory_id, sku, units])?;
                    } else {
                        clear_total.execute(params![tenant_id, inventory_id, sku])?;
                    }
                }
            }
            if let Some(job) = &change.job {
                insert_job(&tx, tenant_id, &job.kind, &job.key, &job.payload, job.run_after)?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn reserved_totals(&self, tenant_id: i64, inventory_id: &str) -> Result<(i64, Units)> {
        let inventory_id = inventory_id.to_owned();
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let version = version(&tx, tenant_id, &inventory_id)?;
            let totals = tx
                .prepare_cached(
                    "SELECT sku, units FROM stock_reserved WHERE tenant_id = ?1 AND inventory_id = ?2 ORDER BY sku",
                )?
                .query_map(params![tenant_id, inventory_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Units>>()?;
            tx.commit()?;
            Ok((version, totals))
        })
        .await
    }
}

/// An inventory's reservation version (0 before its first change).
fn version(conn: &Connection, tenant_id: i64, inventory_id: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT version FROM stock_reservation_versions WHERE tenant_id = ?1 AND inventory_id = ?2")?
        .query_row(params![tenant_id, inventory_id], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}
