//! [`EventStore`] on PostgreSQL, and the outbox part of a document write.
//!
//! Positions are drawn under the tenant's `event_positions` row lock, held until commit: event
//! writers of one tenant take turns across nodes, so positions become visible in order and a
//! reader's cursor never skips an event that commits later.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{Params, PostgresStorage, to_i64, to_u64};
use crate::error::Result;
use crate::storage::{DeadLetter, EventStore, NewEvent, StoredEvent, Subscription};

/// Stores `events` inside the caller's transaction, each at the tenant's next position; an event
/// whose id is stored already is skipped (the same change derived again).
pub(super) async fn insert_events(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant_id: i64,
    events: &[NewEvent],
    now: i64,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let lock = tx
        .prepare_cached(
            "INSERT INTO event_positions (tenant_id, last_seq) VALUES ($1, 0)
             ON CONFLICT (tenant_id) DO UPDATE SET last_seq = event_positions.last_seq
             RETURNING last_seq",
        )
        .await?;
    let mut last: i64 = tx.query_one(&lock, &[&tenant_id]).await?.try_get(0)?;
    let start = last;
    let known = tx.prepare_cached("SELECT 1 FROM events WHERE tenant_id = $1 AND id = $2").await?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO events (tenant_id, seq, id, type, subject, occurred_at, recorded_at, version, payload)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .await?;
    for event in events {
        if tx.query_opt(&known, &[&tenant_id, &event.id]).await?.is_some() {
            continue;
        }
        last += 1;
        tx.execute(
            &insert,
            &[
                &tenant_id,
                &last,
                &event.id,
                &event.event_type,
                &event.subject,
                &event.occurred_at,
                &now,
                &event.version,
                &event.payload,
            ],
        )
        .await?;
    }
    if last != start {
        tx.execute("UPDATE event_positions SET last_seq = $2 WHERE tenant_id = $1", &[&tenant_id, &last]).await?;
    }
    Ok(())
}

const EVENT_COLUMNS: &str = "tenant_id, seq, id, type, subject, occurred_at, version, payload, recorded_at";

fn stored_event(row: &Row) -> Result<StoredEvent> {
    Ok(StoredEvent {
        tenant_id: row.try_get(0)?,
        seq: to_u64(row.try_get(1)?),
        event: NewEvent {
            id: row.try_get(2)?,
            event_type: row.try_get(3)?,
            subject: row.try_get(4)?,
            occurred_at: row.try_get(5)?,
            version: row.try_get(6)?,
            payload: row.try_get(7)?,
        },
        recorded_at: row.try_get(8)?,
    })
}

#[async_trait]
impl EventStore for PostgresStorage {
    async fn append_events(&self, tenant_id: i64, events: Vec<NewEvent>) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        insert_events(&tx, tenant_id, &events, fieldsync_core::clock::now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn events_after(&self, tenant_id: i64, after: u64, types: &[String], limit: u32) -> Result<Vec<StoredEvent>> {
        let client = self.client().await?;
        let mut params = Params::default();
        params.push(tenant_id).push(to_i64(after)).push(i64::from(limit));
        let filter = if types.is_empty() {
            ""
        } else {
            params.push(types.to_vec());
            "AND type = ANY($4)"
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE tenant_id = $1 AND seq > $2 {filter} ORDER BY seq LIMIT $3"
        );
        let statement = client.prepare_cached(&sql).await?;
        client.query(&statement, &params.refs()).await?.iter().map(stored_event).collect()
    }

    async fn undelivered_events(&self, destination: &str, limit: u32) -> Result<Vec<StoredEvent>> {
        let client = self.client().await?;
        let behind = client
            .prepare_cached(
                "SELECT p.tenant_id, COALESCE(c.last_seq, 0) FROM event_positions p
                 LEFT JOIN event_cursors c ON c.destination = $1 AND c.tenant_id = p.tenant_id
                 WHERE p.last_seq > COALESCE(c.last_seq, 0) ORDER BY p.tenant_id",
            )
            .await?;
        let page = client
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ))
            .await?;
        let mut events = Vec::new();
        for row in client.query(&behind, &[&destination]).await? {
            let room = i64::from(limit) - events.len() as i64;
            if room <= 0 {
                break;
            }
            let (tenant_id, cursor): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            for row in client.query(&page, &[&tenant_id, &cursor, &room]).await? {
                events.push(stored_event(&row)?);
            }
        }
        Ok(events)
    }

    async fn advance_event_cursor(&self, destination: &str, tenant_id: i64, seq: u64) -> Result<()> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO event_cursors (destination, tenant_id, last_seq, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (destination, tenant_id) DO UPDATE
                 SET last_seq = GREATEST(event_cursors.last_seq, excluded.last_seq), updated_at = excluded.updated_at",
            )
            .await?;
        client.execute(&statement, &[&destination, &tenant_id, &to_i64(seq), &fieldsync_core::clock::now_ms()]).await?;
        Ok(())
    }

    async fn event_cursor(&self, destination: &str, tenant_id: i64) -> Result<u64> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT last_seq FROM event_cursors WHERE destination = $1 AND tenant_id = $2")
            .await?;
        let row = client.query_opt(&statement, &[&destination, &tenant_id]).await?;
        Ok(row.map(|r| r.try_get::<_, i64>(0)).transpose()?.map(to_u64).unwrap_or(0))
    }

    async fn last_event_seq(&self, tenant_id: i64) -> Result<u64> {
        let client = self.client().await?;
        let row = client.query_opt("SELECT last_seq FROM event_positions WHERE tenant_id = $1", &[&tenant_id]).await?;
        Ok(row.map(|r| r.try_get::<_, i64>(0)).transpose()?.map(to_u64).unwrap_or(0))
    }

    async fn set_event_cursor(&self, destination: &str, tenant_id: i64, seq: u64) -> Result<()> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO event_cursors (destination, tenant_id, last_seq, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (destination, tenant_id) DO UPDATE
                 SET last_seq = excluded.last_seq, updated_at = excluded.updated_at",
            )
            .await?;
        client.execute(&statement, &[&destination, &tenant_id, &to_i64(seq), &fieldsync_core::clock::now_ms()]).await?;
        Ok(())
    }

    async fn create_subscription(&self, subscription: Subscription) -> Result<()> {
        let client = self.client().await?;
        let types = subscription.types.join(",");
        client
            .execute(
                "INSERT INTO event_subscriptions (tenant_id, id, url, secret, types, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &subscription.tenant_id,
                    &subscription.id,
                    &subscription.url,
                    &subscription.secret,
                    &types,
                    &subscription.created_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn subscriptions(&self, tenant_id: Option<i64>) -> Result<Vec<Subscription>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT tenant_id, id, url, secret, types, created_at FROM event_subscriptions
                 WHERE $1::BIGINT IS NULL OR tenant_id = $1 ORDER BY tenant_id, id",
                &[&tenant_id],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let types: String = r.try_get(4)?;
                Ok(Subscription {
                    tenant_id: r.try_get(0)?,
                    id: r.try_get(1)?,
                    url: r.try_get(2)?,
                    secret: r.try_get(3)?,
                    types: types.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
                    created_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    async fn delete_subscription(&self, tenant_id: i64, id: &str) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let deleted =
            tx.execute("DELETE FROM event_subscriptions WHERE tenant_id = $1 AND id = $2", &[&tenant_id, &id]).await?;
        tx.execute("DELETE FROM event_dead_letters WHERE tenant_id = $1 AND subscription_id = $2", &[&tenant_id, &id])
            .await?;
        let destination = format!("webhook:{id}");
        tx.execute("DELETE FROM event_cursors WHERE tenant_id = $1 AND destination = $2", &[&tenant_id, &destination])
            .await?;
        tx.commit().await?;
        Ok(deleted > 0)
    }

    async fn record_dead_letter(&self, letter: DeadLetter) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO event_dead_letters
                     (tenant_id, subscription_id, seq, event_id, event_type, attempts, last_error, failed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (tenant_id, subscription_id, seq) DO UPDATE SET attempts = excluded.attempts,
                     last_error = excluded.last_error, failed_at = excluded.failed_at",
                &[
                    &letter.tenant_id,
                    &letter.subscription_id,
                    &to_i64(letter.seq),
                    &letter.event_id,
                    &letter.event_type,
                    &letter.attempts,
                    &letter.last_error,
                    &letter.failed_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn dead_letters(&self, tenant_id: i64, subscription_id: &str) -> Result<Vec<DeadLetter>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT tenant_id, subscription_id, seq, event_id, event_type, attempts, last_error, failed_at
                 FROM event_dead_letters WHERE tenant_id = $1 AND subscription_id = $2 ORDER BY seq",
                &[&tenant_id, &subscription_id],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DeadLetter {
                    tenant_id: r.try_get(0)?,
                    subscription_id: r.try_get(1)?,
                    seq: to_u64(r.try_get(2)?),
                    event_id: r.try_get(3)?,
                    event_type: r.try_get(4)?,
                    attempts: r.try_get(5)?,
                    last_error: r.try_get(6)?,
                    failed_at: r.try_get(7)?,
                })
            })
            .collect()
    }
}
