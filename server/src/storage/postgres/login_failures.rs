//! [`LoginFailureStore`] on PostgreSQL: failed logins in a table every node counts from, so a
//! rate limit reached through one node holds on the others.

use async_trait::async_trait;

use super::PostgresStorage;
use crate::error::Result;
use crate::storage::LoginFailureStore;

#[async_trait]
impl LoginFailureStore for PostgresStorage {
    async fn record_login_failure(&self, keys: &[String], now_ms: i64, forget_before_ms: i64) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let insert =
            tx.prepare_cached("INSERT INTO login_failures (key, at) SELECT unnest($1::text[]), $2::bigint").await?;
        tx.execute(&insert, &[&keys, &now_ms]).await?;
        // Keeps the table as small as the window: old failures no longer count anywhere.
        let forget = tx.prepare_cached("DELETE FROM login_failures WHERE at < $1").await?;
        tx.execute(&forget, &[&forget_before_ms]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn login_failures_since(&self, key: &str, since_ms: i64) -> Result<Vec<i64>> {
        let client = self.client().await?;
        let statement =
            client.prepare_cached("SELECT at FROM login_failures WHERE key = $1 AND at >= $2 ORDER BY at").await?;
        let rows = client.query(&statement, &[&key, &since_ms]).await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        self.client().await?.execute("DELETE FROM login_failures WHERE key = $1", &[&key]).await?;
        Ok(())
    }
}
