//! [`AlertTriageStore`] on SQLite.

use async_trait::async_trait;
use rusqlite::params;

use super::SqliteStorage;
use super::events::insert_events;
use crate::error::Result;
use crate::storage::{AlertTriageStore, NewEvent, TriageAction, TriageRecord};

/// Keys whose alerts are gone from every inbox and whose last action is older than `?2`.
const STALE_KEYS: &str = "SELECT t.alert_key FROM alert_triage t WHERE t.tenant_id = ?1 AND t.updated_at < ?2
     AND NOT EXISTS (SELECT 1 FROM alert_rows al WHERE al.tenant_id = t.tenant_id AND al.alert_id = t.alert_key)";

#[async_trait]
impl AlertTriageStore for SqliteStorage {
    async fn record_triage(&self, tenant_id: i64, record: &TriageRecord, events: &[NewEvent]) -> Result<()> {
        let r = record.clone();
        let events = events.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let (note, until, assignee) = match &r.action {
                TriageAction::Acknowledge { note } => (Some(note.clone()), None, None),
                TriageAction::Snooze { until } => (None, Some(*until), None),
                TriageAction::Reassign { assignee } => (None, None, Some(assignee.clone())),
            };
            tx.prepare_cached(
                "INSERT INTO alert_actions (tenant_id, alert_key, action, actor, at, note, snoozed_until, assignee)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                tenant_id,
                r.alert_key,
                r.action.name(),
                r.actor,
                r.at,
                note,
                until,
                assignee
            ])?;
            tx.execute(
                "INSERT INTO alert_triage (tenant_id, alert_key, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant_id, alert_key) DO UPDATE SET updated_at = ?3",
                params![tenant_id, r.alert_key, r.at],
            )?;
            match &r.action {
                TriageAction::Acknowledge { note } => tx.execute(
                    "UPDATE alert_triage SET acknowledged_by = ?3, acknowledged_at = ?4, acknowledged_note = ?5
                     WHERE tenant_id = ?1 AND alert_key = ?2",
                    params![tenant_id, r.alert_key, r.actor, r.at, note],
                )?,
                TriageAction::Snooze { until } => tx.execute(
                    "UPDATE alert_triage SET snoozed_by = ?3, snoozed_at = ?4, snoozed_until = ?5
                     WHERE tenant_id = ?1 AND alert_key = ?2",
                    params![tenant_id, r.alert_key, r.actor, r.at, until],
                )?,
                TriageAction::Reassign { assignee } => tx.execute(
                    "UPDATE alert_triage SET assigned_by = ?3, assigned_at = ?4, assignee = ?5
                     WHERE tenant_id = ?1 AND alert_key = ?2",
                    params![tenant_id, r.alert_key, r.actor, r.at, assignee],
                )?,
            };
            insert_events(&tx, tenant_id, &events, r.at)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn prune_triage(&self, tenant_id: i64, before: i64) -> Result<u64> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let keys: Vec<String> = {
                let mut statement = tx.prepare_cached(STALE_KEYS)?;
                let rows = statement.query_map(params![tenant_id, before], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<Vec<String>>>()?
            };
            for key in &keys {
                tx.execute(
                    "DELETE FROM alert_actions WHERE tenant_id = ?1 AND alert_key = ?2",
                    params![tenant_id, key],
                )?;
                tx.execute(
                    "DELETE FROM alert_triage WHERE tenant_id = ?1 AND alert_key = ?2",
                    params![tenant_id, key],
                )?;
            }
            tx.commit()?;
            Ok(keys.len() as u64)
        })
        .await
    }
}
