//! [`TenantSettingsStore`] on SQLite: one `tenant_settings` row per tenant, created on first use.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStorage;
use crate::error::Result;
use crate::storage::{TenantSettingsStore, WebhookSettings};

#[async_trait]
impl TenantSettingsStore for SqliteStorage {
    async fn webhook(&self, tenant_id: i64) -> Result<Option<WebhookSettings>> {
        self.read(move |conn| {
            let row: Option<(Option<String>, Option<String>, Option<String>)> = conn
                .prepare_cached(
                    "SELECT webhook_tenant, webhook_url, webhook_secret FROM tenant_settings WHERE tenant_id = ?1",
                )?
                .query_row([tenant_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            Ok(match row {
                Some((Some(tenant), Some(url), Some(secret))) => Some(WebhookSettings { tenant, url, secret }),
                _ => None,
            })
        })
        .await
    }

    async fn set_webhook(&self, tenant_id: i64, webhook: Option<WebhookSettings>, now: i64) -> Result<()> {
        self.write(move |conn| {
            let (tenant, url, secret) = match webhook {
                Some(w) => (Some(w.tenant), Some(w.url), Some(w.secret)),
                None => (None, None, None),
            };
            conn.prepare_cached(
                "INSERT INTO tenant_settings (tenant_id, webhook_tenant, webhook_url, webhook_secret, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant_id) DO UPDATE
                 SET webhook_tenant = ?2, webhook_url = ?3, webhook_secret = ?4, updated_at = ?5",
            )?
            .execute(params![tenant_id, tenant, url, secret, now])?;
            Ok(())
        })
        .await
    }

    async fn alert_round(&self, tenant_id: i64) -> Result<i64> {
        self.read(move |conn| {
            let round: Option<i64> = conn
                .prepare_cached("SELECT alert_round FROM tenant_settings WHERE tenant_id = ?1")?
                .query_row([tenant_id], |r| r.get(0))
                .optional()?;
            Ok(round.unwrap_or(0))
        })
        .await
    }

    async fn advance_alert_round(&self, tenant_id: i64, round: i64) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO tenant_settings (tenant_id, alert_round, updated_at) VALUES (?1, ?2 + 1, 0)
                 ON CONFLICT (tenant_id) DO UPDATE SET alert_round = MAX(alert_round, ?2 + 1)",
            )?
            .execute(params![tenant_id, round])?;
            Ok(())
        })
        .await
    }

    async fn next_order_number(&self, tenant_id: i64) -> Result<u64> {
        self.write(move |conn| {
            let last: i64 = conn
                .prepare_cached(
                    "INSERT INTO order_numbers (tenant_id, last) VALUES (?1, 1)
                     ON CONFLICT (tenant_id) DO UPDATE SET last = last + 1 RETURNING last",
                )?
                .query_row(params![tenant_id], |row| row.get(0))?;
            Ok(u64::try_from(last).unwrap_or_default())
        })
        .await
    }

    async fn tenants_with_documents(&self) -> Result<Vec<i64>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT DISTINCT tenant_id FROM documents ORDER BY tenant_id")?;
            let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
            Ok(ids)
        })
        .await
    }
}
