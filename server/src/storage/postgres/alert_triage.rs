//! [`AlertTriageStore`] on PostgreSQL (migration `0020_alert_triage_and_photo_reviews.sql`).

use async_trait::async_trait;

use super::PostgresStorage;
use super::events::insert_events;
use crate::error::Result;
use crate::storage::{AlertTriageStore, NewEvent, TriageAction, TriageRecord};

#[async_trait]
impl AlertTriageStore for PostgresStorage {
    async fn record_triage(&self, tenant_id: i64, record: &TriageRecord, events: &[NewEvent]) -> Result<()> {
        let r = record;
        let (note, until, assignee) = match &r.action {
            TriageAction::Acknowledge { note } => (Some(note.clone()), None, None),
            TriageAction::Snooze { until } => (None, Some(*until), None),
            TriageAction::Reassign { assignee } => (None, None, Some(assignee.clone())),
        };
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO alert_actions (tenant_id, alert_key, action, actor, at, note, snoozed_until, assignee)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&tenant_id, &r.alert_key, &r.action.name(), &r.actor, &r.at, &note, &until, &assignee],
        )
        .await?;
        tx.execute(
            "INSERT INTO alert_triage (tenant_id, alert_key, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, alert_key) DO UPDATE SET updated_at = $3",
            &[&tenant_id, &r.alert_key, &r.at],
        )
        .await?;
        let (statement, value): (&str, &(dyn tokio_postgres::types::ToSql + Sync)) = match &r.action {
            TriageAction::Acknowledge { note } => (
                "UPDATE alert_triage SET acknowledged_by = $3, acknowledged_at = $4, acknowledged_note = $5
                 WHERE tenant_id = $1 AND alert_key = $2",
                note,
            ),
            TriageAction::Snooze { until } => (
                "UPDATE alert_triage SET snoozed_by = $3, snoozed_at = $4, snoozed_until = $5
                 WHERE tenant_id = $1 AND alert_key = $2",
                until,
            ),
            TriageAction::Reassign { assignee } => (
                "UPDATE alert_triage SET assigned_by = $3, assigned_at = $4, assignee = $5
                 WHERE tenant_id = $1 AND alert_key = $2",
                assignee,
            ),
        };
        tx.execute(statement, &[&tenant_id, &r.alert_key, &r.actor, &r.at, value]).await?;
        insert_events(&tx, tenant_id, events, r.at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn prune_triage(&self, tenant_id: i64, before: i64) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query(
                "DELETE FROM alert_triage t WHERE t.tenant_id = $1 AND t.updated_at < $2
                 AND NOT EXISTS (SELECT 1 FROM alert_rows al WHERE al.tenant_id = t.tenant_id AND al.alert_id = t.alert_key)
                 RETURNING t.alert_key",
                &[&tenant_id, &before],
            )
            .await?;
        let keys: Vec<String> = rows.iter().map(|r| r.try_get(0)).collect::<std::result::Result<_, _>>()?;
        tx.execute("DELETE FROM alert_actions WHERE tenant_id = $1 AND alert_key = ANY($2)", &[&tenant_id, &keys])
            .await?;
        tx.commit().await?;
        Ok(keys.len() as u64)
    }
}
