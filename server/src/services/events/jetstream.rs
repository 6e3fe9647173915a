//! The push of the outbox to NATS JetStream (`serve --nats URL`).
//!
//! Each event goes to the subject `fieldsync.<tenant>.<type>` of the stream [`STREAM`] (created
//! if missing, capturing `fieldsync.>`), with the event's id as the `Nats-Msg-Id` header. The
//! destination's cursor per tenant ([`crate::storage::EventStore::advance_event_cursor`]) moves
//! only past events whose publish JetStream acknowledged, so after a relay crash or a NATS
//! restart delivery resumes at the first unacknowledged event; an event published again after
//! a crash between the acknowledgment and the cursor's write is dropped by JetStream's
//! de-duplication on the message id (within [`DUPLICATE_WINDOW`]). On PostgreSQL every node
//! runs a publisher: two nodes may publish the same event, which de-duplication makes harmless,
//! so no lease is needed.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, Context, stream};

use crate::error::{Error, Result};
use crate::services::events::envelope;
use crate::storage::{Storage, StoredEvent};

/// The destination's name in the cursor table.
pub const DESTINATION: &str = "nats";
/// The stream the relay publishes to.
pub const STREAM: &str = "FIELDSYNC";
/// How long JetStream remembers a message id to drop a second publish of it: longer than a
/// relay restart or a NATS outage is expected to last.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(3_600);
/// Events published (and acknowledged) per round.
pub const BATCH: u32 = 256;

/// The subject an event of `event_type` of the tenant named `tenant` goes to. Characters a NATS
/// subject token cannot hold in a tenant's name become `_`.
pub fn subject(tenant: &str, event_type: &str) -> String {
    let token: String =
        tenant.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("fieldsync.{token}.{event_type}")
}

/// Connects to the server at `url` and makes sure [`STREAM`] exists.
pub async fn connect(url: &str) -> Result<Context> {
    let client = async_nats::ConnectOptions::new()
        .name("fieldsync-relay")
        .connect(url)
        .await
        .map_err(|e| Error::Delivery(format!("cannot connect to NATS at {url}: {e}")))?;
    let mut context = jetstream::new(client);
    context.set_timeout(Duration::from_secs(5));
    context
        .get_or_create_stream(stream::Config {
            name: STREAM.to_owned(),
            subjects: vec!["fieldsync.>".to_owned()],
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        })
        .await
        .map_err(|e| Error::Delivery(format!("cannot create the JetStream stream {STREAM}: {e}")))?;
    Ok(context)
}

/// Tenant names by id, looked up once.
#[derive(Debug, Default)]
pub struct TenantNames(HashMap<i64, String>);

impl TenantNames {
    async fn name(&mut self, storage: &dyn Storage, tenant_id: i64) -> Result<String> {
        if let Some(name) = self.0.get(&tenant_id) {
            return Ok(name.clone());
        }
        let tenant = storage
            .find_tenant_by_id(tenant_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("tenant {tenant_id}")))?;
        self.0.insert(tenant_id, tenant.name.clone());
        Ok(tenant.name)
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Events JetStream acknowledged.
    pub published: usize,
    /// Of those, the ones it had already (dropped as duplicates).
    pub duplicates: usize,
}

/// Publishes one batch of undelivered events and moves the cursors past those acknowledged.
/// The publishes are pipelined and their acknowledgments awaited in order; the first failure
/// stops the round after the cursors moved past what came before it, and is returned.
pub async fn publish_round(storage: &dyn Storage, context: &Context, names: &mut TenantNames) -> Result<Round> {
    let events = storage.undelivered_events(DESTINATION, BATCH).await?;
    let mut pending = Vec::with_capacity(events.len());
    let mut failure = None;
    for event in &events {
        match publish(storage, context, names, event).await {
            Ok(ack) => pending.push((event, ack)),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let mut round = Round::default();
    let mut reached: HashMap<i64, u64> = HashMap::new();
    for (event, ack) in pending {
        match ack.await {
            Ok(ack) => {
                round.published += 1;
                round.duplicates += usize::from(ack.duplicate);
                reached.insert(event.tenant_id, event.seq);
            }
            Err(error) => {
                failure =
                    Some(Error::Delivery(format!("JetStream did not acknowledge event {}: {error}", event.event.id)));
                break;
            }
        }
    }
    for (tenant_id, seq) in reached {
        storage.advance_event_cursor(DESTINATION, tenant_id, seq).await?;
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(round),
    }
}

async fn publish(
    storage: &dyn Storage,
    context: &Context,
    names: &mut TenantNames,
    event: &StoredEvent,
) -> Result<jetstream::context::PublishAckFuture> {
    let tenant = names.name(storage, event.tenant_id).await?;
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", event.event.id.as_str());
    let body = envelope(event, &tenant).to_string();
    context
        .publish_with_headers(subject(&tenant, &event.event.event_type), headers, body.into())
        .await
        .map_err(|e| Error::Delivery(format!("cannot publish event {} to NATS: {e}", event.event.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_names_the_tenant_and_the_type_with_unsafe_characters_replaced() {
        assert_eq!(subject("acme", "order.approved"), "fieldsync.acme.order.approved");
        assert_eq!(subject("acme corp.eu*", "alert.opened"), "fieldsync.acme_corp_eu_.alert.opened");
    }
}
