//! The event outbox: business events ([`crate::events`]) stored in the transaction of the change
//! that causes them, each with a per-tenant position that only grows, and the positions each
//! destination (NATS JetStream, …) has delivered up to.
//!
//! Positions are drawn under the tenant's `event_positions` row (a row lock on PostgreSQL, the
//! single writer on SQLite), so they commit in order: a reader that saw position `n` never later
//! sees a new event below `n`, and a cursor is safe to resume from.

use async_trait::async_trait;

use crate::error::Result;

/// An event to store with the change that causes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Stable id, derived from what the event is about; storage keeps one event per id.
    pub id: String,
    /// Its type (`order.approved`, …).
    pub event_type: String,
    /// What it is about (an order's id, an alert's key, …).
    pub subject: String,
    /// When it happened, ms since the Unix epoch.
    pub occurred_at: i64,
    /// The payload's version.
    pub version: i64,
    /// The payload, JSON.
    pub payload: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The tenant.
    pub tenant_id: i64,
    /// Its position in the tenant's outbox (the cursor).
    pub seq: u64,
    /// The event.
    pub event: NewEvent,
    /// When it was stored, ms since the Unix epoch.
    pub recorded_at: i64,
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The tenant.
    pub tenant_id: i64,
    /// Its id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The HMAC-SHA256 signing secret.
    pub secret: String,
    /// The types it receives (all when empty).
    pub types: Vec<String>,
    /// When HQ created it, ms since the Unix epoch.
    pub created_at: i64,
}

/// An event a subscription's receiver refused through every retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The tenant.
    pub tenant_id: i64,
    /// The subscription.
    pub subscription_id: String,
    /// The event's position.
    pub seq: u64,
    /// The event's id.
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// Attempts made.
    pub attempts: i64,
    /// What the last attempt got.
    pub last_error: String,
    /// When it was given up, ms since the Unix epoch.
    pub failed_at: i64,
}

/// The outbox.
#[async_trait]
pub trait EventStore {
    /// Stores events caused by something not written through a document (an import), in their
    /// own transaction; events whose id is stored already are skipped.
    async fn append_events(&self, tenant_id: i64, events: Vec<NewEvent>) -> Result<()>;

    /// The tenant's events after position `after`, in order, of `types` only when it is not
    /// empty, at most `limit`.
    async fn events_after(&self, tenant_id: i64, after: u64, types: &[String], limit: u32) -> Result<Vec<StoredEvent>>;

    /// Events of every tenant past `destination`'s cursor for that tenant, by tenant and
    /// position, at most `limit`.
    async fn undelivered_events(&self, destination: &str, limit: u32) -> Result<Vec<StoredEvent>>;

    /// Records that `destination` has every event of the tenant up to `seq` (never moves back).
    async fn advance_event_cursor(&self, destination: &str, tenant_id: i64, seq: u64) -> Result<()>;

    /// Where `destination` stands for the tenant (0: nothing delivered).
    async fn event_cursor(&self, destination: &str, tenant_id: i64) -> Result<u64>;

    /// The tenant's last event position (0: no event yet).
    async fn last_event_seq(&self, tenant_id: i64) -> Result<u64>;

    /// Puts `destination` at `seq`, back or forward (a replay).
    async fn set_event_cursor(&self, destination: &str, tenant_id: i64, seq: u64) -> Result<()>;

    /// Stores a new subscription.
    async fn create_subscription(&self, subscription: Subscription) -> Result<()>;

    /// Subscriptions of one tenant, or of every tenant, by tenant and id.
    async fn subscriptions(&self, tenant_id: Option<i64>) -> Result<Vec<Subscription>>;

    /// Deletes a subscription, its cursor and its dead letters; false when there was none.
    async fn delete_subscription(&self, tenant_id: i64, id: &str) -> Result<bool>;

    /// Records an event given up for a subscription.
    async fn record_dead_letter(&self, letter: DeadLetter) -> Result<()>;

    /// A subscription's dead letters, in event order.
    async fn dead_letters(&self, tenant_id: i64, subscription_id: &str) -> Result<Vec<DeadLetter>>;
}
