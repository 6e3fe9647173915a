//! [`TenantSettingsStore`] on SQLite: one `tenant_settings` row per tenant, created on first use.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStorage;
use crate::error::Result;
use crate::storage::{Delegation, TenantSettingsStore, WebhookSettings};

#[async_trait]
impl TenantSettingsStore for SqliteStorage {
    async fn set_delegation(&self, tenant_id: i64, delegation: &Delegation, now: i64) -> Result<()> {
        let d = delegation.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO delegations (tenant_id, user_id, delegate_id, starts_at, ends_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (tenant_id, user_id) DO UPDATE
                 SET delegate_id = ?3, starts_at = ?4, ends_at = ?5, updated_at = ?6",
            )?
            .execute(params![tenant_id, d.user_id, d.delegate_id, d.starts_at, d.ends_at, now])?;
            Ok(())
        })
        .await
    }

    async fn clear_delegation(&self, tenant_id: i64, user_id: &str) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let removed = conn
                .prepare_cached("DELETE FROM delegations WHERE tenant_id = ?1 AND user_id = ?2")?
                .execute(params![tenant_id, user_id])?;
            Ok(removed > 0)
        })
        .await
    }

    async fn delegations(&self, tenant_id: i64) -> Result<Vec<Delegation>> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT user_id, delegate_id, starts_at, ends_at FROM delegations WHERE tenant_id = ?1 ORDER BY user_id",
            )?;
            let rows = statement.query_map([tenant_id], |r| {
                Ok(Delegation { user_id: r.get(0)?, delegate_id: r.get(1)?, starts_at: r.get(2)?, ends_at: r.get(3)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

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

    async fn next_order_numbers(&self, tenant_id: i64, count: u64) -> Result<u64> {
        let count = i64::try_from(count.max(1)).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let last: i64 = conn
                .prepare_cached(
                    "INSERT INTO order_numbers (tenant_id, last) VALUES (?1, ?2)
                     ON CONFLICT (tenant_id) DO UPDATE SET last = last + ?2 RETURNING last",
                )?
                .query_row(params![tenant_id, count], |row| row.get(0))?;
            Ok(u64::try_from(last - count + 1).unwrap_or_default())
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
