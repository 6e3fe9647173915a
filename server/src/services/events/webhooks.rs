//! Signed webhooks per subscription: HQ subscribes a URL to some event types (all by default),
//! and each event of those types is POSTed to it, in order, as the envelope of
//! [`super::envelope`], signed like the alert webhook (`X-FieldSync-Signature: sha256=<hex
//! HMAC-SHA256(secret, "{timestamp}.{body}")>`, `X-FieldSync-Timestamp`), with the event's
//! type and id in `X-FieldSync-Event` and `X-FieldSync-Event-Id`.
//!
//! A failed attempt (unreachable, timeout, any non-2xx answer) is tried again after a pause
//! that doubles ([`RetryPolicy`]); after the last attempt the event becomes a **dead letter**
//! (listed for HQ) and the subscription moves on. A subscription's position is its cursor
//! (destination `webhook:<id>`), moved past an event only once it was delivered or given up,
//! so a relay restart resumes where it stood; HQ can **replay** from any cursor. Delivery is at
//! least once: a receiver recognises a repeat by the event id. On PostgreSQL with several
//! nodes, each node delivers, so a receiver may get an event once per node and must de-duplicate
//! by that id.

use std::time::Duration;

use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::i18n::Message;

use crate::error::{Error, Result};
use crate::events::EventType;
use crate::services::accounts::Caller;
use crate::services::alerts::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, validate};
use crate::services::events::envelope;
use crate::storage::{DeadLetter, Storage, StoredEvent, Subscription};

/// Header with the event's type.
pub const EVENT_HEADER: &str = "X-FieldSync-Event";
/// Header with the event's id.
pub const EVENT_ID_HEADER: &str = "X-FieldSync-Event-Id";
/// Events one subscription is sent per round.
const BATCH: u32 = 100;

/// How a failed delivery is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The pause after the first failure; it doubles after each further one.
    pub first_pause: Duration,
    /// Attempts in all before the event is a dead letter.
    pub attempts: u32,
    /// How long one attempt may take.
    pub timeout: Duration,
}

/// The cursor destination of a subscription.
pub fn destination(subscription_id: &str) -> String {
    format!("webhook:{subscription_id}")
}

/// Whether `caller` may manage the tenant's subscriptions: HQ only.
pub fn authorize(caller: &Caller) -> Result<()> {
    // An API key is told as HQ inside the tenant, but subscriptions are a person's to manage.
    if let Some(grant) = &caller.key {
        let message = Message::new("refusal-subscriptions-key").arg("key", format!("{:?}", grant.name));
        return Err(Error::forbidden(message));
    }
    if caller.role == Role::Hq {
        Ok(())
    } else {
        Err(Error::forbidden(Message::new("refusal-subscriptions-user").arg("username", &caller.username)))
    }
}

/// Event types from a comma-separated list (empty: all), or a 400 naming the unknown one.
pub fn parse_types(list: &str) -> Result<Vec<String>> {
    let mut types = Vec::new();
    for name in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let event_type = EventType::parse(name).ok_or_else(|| {
            Error::invalid("invalid-event-type", Message::new("refusal-event-type").arg("type", format!("{name:?}")))
        })?;
        if !types.iter().any(|t| t == event_type.as_str()) {
            types.push(event_type.as_str().to_owned());
        }
    }
    Ok(types)
}

/// Subscribes `url` to the tenant's events of `types` (comma-separated; empty: all), from the
/// next event on. Bad input is a 400 and stores nothing.
pub async fn subscribe(
    storage: &dyn Storage,
    tenant_id: i64,
    url: &str,
    secret: &str,
    types: &str,
) -> Result<Subscription> {
    validate(url, secret)?;
    let types = parse_types(types)?;
    let subscription = Subscription {
        tenant_id,
        id: crate::storage::random_id(),
        url: url.to_owned(),
        secret: secret.to_owned(),
        types,
        created_at: now_ms(),
    };
    // From now on: what happened before is there to replay, not sent unasked.
    let now = storage.last_event_seq(tenant_id).await?;
    storage.set_event_cursor(&destination(&subscription.id), tenant_id, now).await?;
    storage.create_subscription(subscription.clone()).await?;
    Ok(subscription)
}

/// A subscription as HQ sees it.
#[derive(Debug, Clone)]
pub struct SubscriptionState {
    /// The subscription.
    pub subscription: Subscription,
    /// The last event position delivered or given up.
    pub cursor: u64,
    /// Events given up.
    pub dead_letters: Vec<DeadLetter>,
}

/// The tenant's subscriptions with their positions and dead letters.
pub async fn list(storage: &dyn Storage, tenant_id: i64) -> Result<Vec<SubscriptionState>> {
    let mut states = Vec::new();
    for subscription in storage.subscriptions(Some(tenant_id)).await? {
        let cursor = storage.event_cursor(&destination(&subscription.id), tenant_id).await?;
        let dead_letters = storage.dead_letters(tenant_id, &subscription.id).await?;
        states.push(SubscriptionState { subscription, cursor, dead_letters });
    }
    Ok(states)
}

async fn find(storage: &dyn Storage, tenant_id: i64, id: &str) -> Result<Subscription> {
    storage
        .subscriptions(Some(tenant_id))
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| Error::not_found(format!("subscription {id}")))
}

/// Sends the subscription's events again from after position `after`.
/// A cursor past the feed's end is a 400: it would skip the events still to come.
pub async fn replay(storage: &dyn Storage, tenant_id: i64, id: &str, after: u64) -> Result<()> {
    find(storage, tenant_id, id).await?;
    if after > storage.last_event_seq(tenant_id).await? {
        return Err(Error::invalid("invalid-cursor", Message::new("refusal-cursor-past-end").arg("cursor", after)));
    }
    storage.set_event_cursor(&destination(id), tenant_id, after).await
}

/// Deletes a subscription.
pub async fn unsubscribe(storage: &dyn Storage, tenant_id: i64, id: &str) -> Result<()> {
    if storage.delete_subscription(tenant_id, id).await? {
        Ok(())
    } else {
        Err(Error::not_found(format!("subscription {id}")))
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Events delivered.
    pub delivered: usize,
    /// Events given up.
    pub dead: usize,
}

/// Sends every subscription the events beyond its cursor (a batch each), retrying each as the
/// policy says; moves each cursor past what was delivered or given up.
pub async fn deliver_round(storage: &dyn Storage, policy: RetryPolicy) -> Result<Round> {
    let mut round = Round::default();
    for subscription in storage.subscriptions(None).await? {
        let tenant_id = subscription.tenant_id;
        let destination = destination(&subscription.id);
        let cursor = storage.event_cursor(&destination, tenant_id).await?;
        let events = storage.events_after(tenant_id, cursor, &subscription.types, BATCH).await?;
        if events.is_empty() {
            continue;
        }
        let tenant = storage
            .find_tenant_by_id(tenant_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("tenant {tenant_id}")))?;
        for event in &events {
            match deliver(&subscription, event, &tenant.name, policy).await {
                Ok(()) => round.delivered += 1,
                Err((attempts, last_error)) => {
                    tracing::warn!(subscription = %subscription.id, event = %event.event.id, %last_error, "event given up");
                    storage
                        .record_dead_letter(DeadLetter {
                            tenant_id,
                            subscription_id: subscription.id.clone(),
                            seq: event.seq,
                            event_id: event.event.id.clone(),
                            event_type: event.event.event_type.clone(),
                            attempts: i64::from(attempts),
                            last_error,
                            failed_at: now_ms(),
                        })
                        .await?;
                    round.dead += 1;
                }
            }
            storage.advance_event_cursor(&destination, tenant_id, event.seq).await?;
        }
    }
    Ok(round)
}

/// One event to one subscription, with its retries: the attempts made and the last failure
/// when every attempt failed.
async fn deliver(
    subscription: &Subscription,
    event: &StoredEvent,
    tenant: &str,
    policy: RetryPolicy,
) -> std::result::Result<(), (u32, String)> {
    let body = envelope(event, tenant).to_string();
    let mut pause = policy.first_pause;
    let mut last_error = String::new();
    let attempts = policy.attempts.max(1);
    for attempt in 1..=attempts {
        let timestamp = now_ms() / 1000;
        let signed = signature(&subscription.secret, timestamp, &body).map_err(|e| (attempt, e.to_string()))?;
        let request = Request {
            url: subscription.url.clone(),
            event_type: event.event.event_type.clone(),
            event_id: event.event.id.clone(),
            timestamp,
            signature: signed,
            body: body.clone(),
        };
        let timeout = policy.timeout;
        let answer = tokio::task::spawn_blocking(move || post(request, timeout))
            .await
            .unwrap_or_else(|e| Err(format!("delivery task failed: {e}")));
        match answer {
            Ok(status) if (200..300).contains(&status) => return Ok(()),
            Ok(status) => last_error = format!("{} answered http status {status}", subscription.url),
            Err(reason) => last_error = format!("{} unreachable: {reason}", subscription.url),
        }
        if attempt < attempts {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    Err((attempts, last_error))
}

struct Request {
    url: String,
    event_type: String,
    event_id: String,
    timestamp: i64,
    signature: String,
    body: String,
}

fn post(request: Request, timeout: Duration) -> std::result::Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let response = agent
        .post(&request.url)
        .header("Content-Type", "application/json")
        .header(EVENT_HEADER, &request.event_type)
        .header(EVENT_ID_HEADER, &request.event_id)
        .header(TIMESTAMP_HEADER, request.timestamp.to_string())
        .header(SIGNATURE_HEADER, &request.signature)
        .send(request.body)
        .map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_checked_and_deduplicated() {
        assert_eq!(
            parse_types("order.approved, order.approved,alert.opened").ok(),
            Some(vec!["order.approved".to_owned(), "alert.opened".to_owned()])
        );
        assert_eq!(parse_types("").ok(), Some(Vec::new()));
        match parse_types("order.approved,order.shipped") {
            Err(Error::Refused(refusal)) => {
                assert_eq!(refusal.code, "invalid-event-type");
                let reason = refusal.to_string();
                assert!(reason.contains("order.shipped"), "{reason}");
            }
            other => panic!("expected a bad request, got {other:?}"),
        }
    }
}
