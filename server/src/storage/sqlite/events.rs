//! [`EventStore`] on SQLite, and the outbox part of a document write.

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

use super::SqliteStorage;
use crate::error::Result;
use crate::storage::{DeadLetter, EventStore, NewEvent, StoredEvent, Subscription};

/// Stores `events` inside the caller's transaction, each at the tenant's next position; an event
/// whose id is stored already is skipped (the same change derived again).
pub(super) fn insert_events(tx: &Connection, tenant_id: i64, events: &[NewEvent], now: i64) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut last: i64 = tx
        .prepare_cached("SELECT last_seq FROM event_positions WHERE tenant_id = ?1")?
        .query_row([tenant_id], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let start = last;
    for event in events {
        let known = tx
            .prepare_cached("SELECT 1 FROM events WHERE tenant_id = ?1 AND id = ?2")?
            .exists(params![tenant_id, event.id])?;
        if known {
            continue;
        }
        last += 1;
        tx.prepare_cached(
            "INSERT INTO events (tenant_id, seq, id, type, subject, occurred_at, recorded_at, version, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            tenant_id,
            last,
            event.id,
            event.event_type,
            event.subject,
            event.occurred_at,
            now,
            event.version,
            event.payload
        ])?;
    }
    if last != start {
        tx.prepare_cached(
            "INSERT INTO event_positions (tenant_id, last_seq) VALUES (?1, ?2)
             ON CONFLICT(tenant_id) DO UPDATE SET last_seq = excluded.last_seq",
        )?
        .execute(params![tenant_id, last])?;
    }
    Ok(())
}

const EVENT_COLUMNS: &str = "tenant_id, seq, id, type, subject, occurred_at, version, payload, recorded_at";

fn stored_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        tenant_id: row.get(0)?,
        seq: row.get::<_, i64>(1)?.max(0) as u64,
        event: NewEvent {
            id: row.get(2)?,
            event_type: row.get(3)?,
            subject: row.get(4)?,
            occurred_at: row.get(5)?,
            version: row.get(6)?,
            payload: row.get(7)?,
        },
        recorded_at: row.get(8)?,
    })
}

fn seq_value(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

#[async_trait]
impl EventStore for SqliteStorage {
    async fn append_events(&self, tenant_id: i64, events: Vec<NewEvent>) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            insert_events(&tx, tenant_id, &events, fieldsync_core::clock::now_ms())?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn events_after(&self, tenant_id: i64, after: u64, types: &[String], limit: u32) -> Result<Vec<StoredEvent>> {
        let types = types.to_vec();
        self.read(move |conn| {
            let mut args = vec![Value::Integer(tenant_id), Value::Integer(seq_value(after))];
            let filter = if types.is_empty() {
                String::new()
            } else {
                let marks = (0..types.len()).map(|i| format!("?{}", i + 4)).collect::<Vec<_>>().join(", ");
                format!("AND type IN ({marks})")
            };
            args.push(Value::Integer(i64::from(limit)));
            args.extend(types.into_iter().map(Value::Text));
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE tenant_id = ?1 AND seq > ?2 {filter} ORDER BY seq LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let events = stmt.query_map(params_from_iter(args), stored_event)?.collect::<Result<_, _>>()?;
            Ok(events)
        })
        .await
    }

    async fn undelivered_events(&self, destination: &str, limit: u32) -> Result<Vec<StoredEvent>> {
        let destination = destination.to_owned();
        self.read(move |conn| {
            // Per tenant: one index range past that tenant's cursor.
            let mut tenants = conn.prepare_cached(
                "SELECT p.tenant_id, COALESCE(c.last_seq, 0) FROM event_positions p
                 LEFT JOIN event_cursors c ON c.destination = ?1 AND c.tenant_id = p.tenant_id
                 WHERE p.last_seq > COALESCE(c.last_seq, 0) ORDER BY p.tenant_id",
            )?;
            let behind: Vec<(i64, i64)> =
                tenants.query_map([&destination], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
            let mut events = Vec::new();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE tenant_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ))?;
            for (tenant_id, cursor) in behind {
                let room = i64::from(limit) - events.len() as i64;
                if room <= 0 {
                    break;
                }
                let page = stmt.query_map(params![tenant_id, cursor, room], stored_event)?;
                for event in page {
                    events.push(event?);
                }
            }
            Ok(events)
        })
        .await
    }

    async fn advance_event_cursor(&self, destination: &str, tenant_id: i64, seq: u64) -> Result<()> {
        let destination = destination.to_owned();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO event_cursors (destination, tenant_id, last_seq, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(destination, tenant_id) DO UPDATE
                 SET last_seq = MAX(last_seq, excluded.last_seq), updated_at = excluded.updated_at",
            )?
            .execute(params![destination, tenant_id, seq_value(seq), fieldsync_core::clock::now_ms()])?;
            Ok(())
        })
        .await
    }

    async fn event_cursor(&self, destination: &str, tenant_id: i64) -> Result<u64> {
        let destination = destination.to_owned();
        self.read(move |conn| {
            let seq: Option<i64> = conn
                .prepare_cached("SELECT last_seq FROM event_cursors WHERE destination = ?1 AND tenant_id = ?2")?
                .query_row(params![destination, tenant_id], |r| r.get(0))
                .optional()?;
            Ok(seq.unwrap_or(0).max(0) as u64)
        })
        .await
    }

    async fn last_event_seq(&self, tenant_id: i64) -> Result<u64> {
        self.read(move |conn| {
            let seq: Option<i64> = conn
                .prepare_cached("SELECT last_seq FROM event_positions WHERE tenant_id = ?1")?
                .query_row([tenant_id], |r| r.get(0))
                .optional()?;
            Ok(seq.unwrap_or(0).max(0) as u64)
        })
        .await
    }

    async fn set_event_cursor(&self, destination: &str, tenant_id: i64, seq: u64) -> Result<()> {
        let destination = destination.to_owned();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO event_cursors (destination, tenant_id, last_seq, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(destination, tenant_id) DO UPDATE
                 SET last_seq = excluded.last_seq, updated_at = excluded.updated_at",
            )?
            .execute(params![destination, tenant_id, seq_value(seq), fieldsync_core::clock::now_ms()])?;
            Ok(())
        })
        .await
    }

    async fn create_subscription(&self, subscription: Subscription) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO event_subscriptions (tenant_id, id, url, secret, types, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                subscription.tenant_id,
                subscription.id,
                subscription.url,
                subscription.secret,
                subscription.types.join(","),
                subscription.created_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn subscriptions(&self, tenant_id: Option<i64>) -> Result<Vec<Subscription>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT tenant_id, id, url, secret, types, created_at FROM event_subscriptions
                 WHERE ?1 IS NULL OR tenant_id = ?1 ORDER BY tenant_id, id",
            )?;
            let rows = stmt
                .query_map([tenant_id], |r| {
                    let types: String = r.get(4)?;
                    Ok(Subscription {
                        tenant_id: r.get(0)?,
                        id: r.get(1)?,
                        url: r.get(2)?,
                        secret: r.get(3)?,
                        types: types.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
                        created_at: r.get(5)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn delete_subscription(&self, tenant_id: i64, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let deleted =
                tx.execute("DELETE FROM event_subscriptions WHERE tenant_id = ?1 AND id = ?2", params![tenant_id, id])?;
            tx.execute(
                "DELETE FROM event_dead_letters WHERE tenant_id = ?1 AND subscription_id = ?2",
                params![tenant_id, id],
            )?;
            tx.execute(
                "DELETE FROM event_cursors WHERE tenant_id = ?1 AND destination = ?2",
                params![tenant_id, format!("webhook:{id}")],
            )?;
            tx.commit()?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn record_dead_letter(&self, letter: DeadLetter) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO event_dead_letters
                     (tenant_id, subscription_id, seq, event_id, event_type, attempts, last_error, failed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                letter.tenant_id,
                letter.subscription_id,
                seq_value(letter.seq),
                letter.event_id,
                letter.event_type,
                letter.attempts,
                letter.last_error,
                letter.failed_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn dead_letters(&self, tenant_id: i64, subscription_id: &str) -> Result<Vec<DeadLetter>> {
        let subscription_id = subscription_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT tenant_id, subscription_id, seq, event_id, event_type, attempts, last_error, failed_at
                 FROM event_dead_letters WHERE tenant_id = ?1 AND subscription_id = ?2 ORDER BY seq",
            )?;
            let rows = stmt
                .query_map(params![tenant_id, subscription_id], |r| {
                    Ok(DeadLetter {
                        tenant_id: r.get(0)?,
                        subscription_id: r.get(1)?,
                        seq: r.get::<_, i64>(2)?.max(0) as u64,
                        event_id: r.get(3)?,
                        event_type: r.get(4)?,
                        attempts: r.get(5)?,
                        last_error: r.get(6)?,
                        failed_at: r.get(7)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }
}
