//! Per-tenant settings the relay keeps beside the documents: the optional alert webhook
//! (`fieldsync-server admin set-webhook`) and the alert-evaluation round that lets
//! the alerts service coalesce requests.

use async_trait::async_trait;

use crate::error::Result;

/// Where a tenant's alert events are posted, and the secret that signs them.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The tenant's name, as events carry it.
    pub tenant: String,
    /// An `http://` or `https://` URL (validated by the alerts service before it is stored).
    pub url: String,
    /// The HMAC-SHA256 key of the `X-FieldSync-Signature` header.
    pub secret: String,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("tenant", &self.tenant)
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// An approver's out-of-office delegation: while `starts_at <= now < ends_at`, approval steps
/// routed to `user_id` go to `delegate_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// Who is away.
    pub user_id: String,
    /// Who decides for them.
    pub delegate_id: String,
    /// From, ms since the Unix epoch.
    pub starts_at: i64,
    /// Until (excluded), ms since the Unix epoch.
    pub ends_at: i64,
}

impl Delegation {
    /// Whether it holds at `now`.
    pub fn holds_at(&self, now: i64) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// Whether its period and `[starts_at, ends_at)` share a moment.
    pub fn overlaps(&self, starts_at: i64, ends_at: i64) -> bool {
        self.starts_at < ends_at && starts_at < self.ends_at
    }
}

/// Per-tenant settings.
#[async_trait]
pub trait TenantSettingsStore {
    /// The tenant's webhook, if one is set.
    async fn webhook(&self, tenant_id: i64) -> Result<Option<WebhookSettings>>;

    /// Sets (`Some`) or clears (`None`) the tenant's webhook.
    async fn set_webhook(&self, tenant_id: i64, webhook: Option<WebhookSettings>, now: i64) -> Result<()>;

    /// The tenant's current alert-evaluation round (0 until the first evaluation ran). A request
    /// for an evaluation queues the job of the current round; an evaluation that starts moves
    /// the round on, so requests made while it runs queue the next one.
    async fn alert_round(&self, tenant_id: i64) -> Result<i64>;

    /// Moves the tenant's round past `round` (to `round + 1`, never backwards).
    async fn advance_alert_round(&self, tenant_id: i64, round: i64) -> Result<()>;

    /// The ids of tenants that hold at least one document (the periodic evaluation visits them).
    async fn tenants_with_documents(&self) -> Result<Vec<i64>>;

    /// Sets `delegation` as its user's one delegation (replacing theirs, if any).
    async fn set_delegation(&self, tenant_id: i64, delegation: &Delegation, now: i64) -> Result<()>;

    /// Removes `user_id`'s delegation; returns whether there was one.
    async fn clear_delegation(&self, tenant_id: i64, user_id: &str) -> Result<bool>;

    /// Every delegation of the tenant, by user id.
    async fn delegations(&self, tenant_id: i64) -> Result<Vec<Delegation>>;

    /// The tenant's next readable order number (1, 2, 3, …), taken atomically: every number is
    /// handed out once, on every node.
    async fn next_order_number(&self, tenant_id: i64) -> Result<u64> {
        self.next_order_numbers(tenant_id, 1).await
    }

    /// The first of the tenant's next `count` readable order numbers, taken together in one
    /// write (a batch of reviews): `first..first + count` are handed out to the caller alone.
    async fn next_order_numbers(&self, tenant_id: i64, count: u64) -> Result<u64>;
}
