//! [`EventStore`] on PostgreSQL, and the outbox part of a document write.
//!
//! Positions are drawn under the tenant's `event_positions` row lock, held until commit: event
//! writers of one tenant take turns across nodes, so positions become visible in order and a
//! reader's cursor never skips an event that commits later.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::{Params, PostgresStorage, to_i64, to_u64};
use crate::error::Result;
use crate::storage::{EventStore, NewEvent, StoredEvent};

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
}
