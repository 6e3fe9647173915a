//! [`TenantSettingsStore`] on PostgreSQL: one `tenant_settings` row per tenant, created on first
//! use (migration `0007_settings.sql`).

use async_trait::async_trait;

use super::PostgresStorage;
use crate::error::Result;
use crate::storage::{Delegation, TenantSettingsStore, WebhookSettings};

#[async_trait]
impl TenantSettingsStore for PostgresStorage {
    async fn set_delegation(&self, tenant_id: i64, delegation: &Delegation, now: i64) -> Result<()> {
        let d = delegation;
        self.client()
            .await?
            .execute(
                "INSERT INTO delegations (tenant_id, user_id, delegate_id, starts_at, ends_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant_id, user_id) DO UPDATE
                 SET delegate_id = $3, starts_at = $4, ends_at = $5, updated_at = $6",
                &[&tenant_id, &d.user_id, &d.delegate_id, &d.starts_at, &d.ends_at, &now],
            )
            .await?;
        Ok(())
    }

    async fn clear_delegation(&self, tenant_id: i64, user_id: &str) -> Result<bool> {
        let removed = self
            .client()
            .await?
            .execute("DELETE FROM delegations WHERE tenant_id = $1 AND user_id = $2", &[&tenant_id, &user_id])
            .await?;
        Ok(removed > 0)
    }

    async fn delegations(&self, tenant_id: i64) -> Result<Vec<Delegation>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT user_id, delegate_id, starts_at, ends_at FROM delegations WHERE tenant_id = $1 ORDER BY user_id",
                &[&tenant_id],
            )
            .await?;
        let mut delegations = Vec::with_capacity(rows.len());
        for row in rows {
            delegations.push(Delegation {
                user_id: row.try_get(0)?,
                delegate_id: row.try_get(1)?,
                starts_at: row.try_get(2)?,
                ends_at: row.try_get(3)?,
            });
        }
        Ok(delegations)
    }

    async fn webhook(&self, tenant_id: i64) -> Result<Option<WebhookSettings>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT webhook_tenant, webhook_url, webhook_secret FROM tenant_settings WHERE tenant_id = $1",
            )
            .await?;
        let Some(row) = client.query_opt(&statement, &[&tenant_id]).await? else { return Ok(None) };
        let values: (Option<String>, Option<String>, Option<String>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        Ok(match values {
            (Some(tenant), Some(url), Some(secret)) => Some(WebhookSettings { tenant, url, secret }),
            _ => None,
        })
    }

    async fn set_webhook(&self, tenant_id: i64, webhook: Option<WebhookSettings>, now: i64) -> Result<()> {
        let (tenant, url, secret) = match webhook {
            Some(w) => (Some(w.tenant), Some(w.url), Some(w.secret)),
            None => (None, None, None),
        };
        self.client()
            .await?
            .execute(
                "INSERT INTO tenant_settings (tenant_id, webhook_tenant, webhook_url, webhook_secret, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant_id) DO UPDATE
                 SET webhook_tenant = $2, webhook_url = $3, webhook_secret = $4, updated_at = $5",
                &[&tenant_id, &tenant, &url, &secret, &now],
            )
            .await?;
        Ok(())
    }

    async fn alert_round(&self, tenant_id: i64) -> Result<i64> {
        let client = self.client().await?;
        let statement = client.prepare_cached("SELECT alert_round FROM tenant_settings WHERE tenant_id = $1").await?;
        match client.query_opt(&statement, &[&tenant_id]).await? {
            Some(row) => Ok(row.try_get(0)?),
            None => Ok(0),
        }
    }

    async fn advance_alert_round(&self, tenant_id: i64, round: i64) -> Result<()> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO tenant_settings (tenant_id, alert_round, updated_at) VALUES ($1, $2::bigint + 1, 0)
                 ON CONFLICT (tenant_id) DO UPDATE
                 SET alert_round = GREATEST(tenant_settings.alert_round, excluded.alert_round)",
            )
            .await?;
        client.execute(&statement, &[&tenant_id, &round]).await?;
        Ok(())
    }

    async fn next_order_numbers(&self, tenant_id: i64, count: u64) -> Result<u64> {
        let count = i64::try_from(count.max(1)).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO order_numbers (tenant_id, last) VALUES ($1, $2)
                 ON CONFLICT (tenant_id) DO UPDATE SET last = order_numbers.last + $2 RETURNING last",
            )
            .await?;
        let last: i64 = client.query_one(&statement, &[&tenant_id, &count]).await?.try_get(0)?;
        Ok(u64::try_from(last - count + 1).unwrap_or_default())
    }

    async fn tenants_with_documents(&self) -> Result<Vec<i64>> {
        let rows =
            self.client().await?.query("SELECT DISTINCT tenant_id FROM documents ORDER BY tenant_id", &[]).await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }
}
