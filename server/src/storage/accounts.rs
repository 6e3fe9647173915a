//! Tenants, users, devices and sessions.
//!
//! The store only persists and returns plain records ([`SessionRecord`] for a token); the rules
//! (password checks, token lifetimes, what a revoked device means for its sessions, who a session
//! stands for) live in the accounts service above it.

use async_trait::async_trait;
use fieldsync_core::Role;

use crate::error::Result;

/// A fresh random id for a user or a device: 16 random bytes as lowercase hex.
pub fn random_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// A tenant: one customer company, fully isolated from the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Numeric id, used as the key of everything the tenant owns.
    pub id: i64,
    /// Unique name, typed at login.
    pub name: String,
    /// IANA time zone in which its days are counted (validated by the locale foundation, `Locale::new`).
    pub time_zone: String,
    /// ISO 4217 code of the currency of its amounts.
    pub currency: String,
    /// Creation time, ms since the Unix epoch.
    pub created_at: i64,
}

/// A user of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Random id; documents name it as their owner.
    pub id: String,
    /// The tenant.
    pub tenant_id: i64,
    /// Login name, unique in the tenant.
    pub username: String,
    /// The name people see (empty when none was given: show the username).
    pub display_name: String,
    /// Argon2id hash in PHC string form.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Region, for the roles that have one.
    pub region: Option<String>,
    /// When the user was disabled (no login, every session refused), ms since the Unix epoch.
    pub disabled_at: Option<i64>,
    /// Creation time, ms since the Unix epoch.
    pub created_at: i64,
}

/// What is needed to create a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Login name, already validated.
    pub username: String,
    /// The name people see, already validated (may be empty).
    pub display_name: String,
    /// Argon2id hash in PHC string form.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Region, if the role has one.
    pub region: Option<String>,
}

/// What HQ may change of a user beside the password and whether they are enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    /// The new role.
    pub role: Role,
    /// The new region (none for HQ).
    pub region: Option<String>,
    /// The new display name.
    pub display_name: String,
}

/// A device (a phone, or an integration) a user logged in from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Random id.
    pub id: String,
    /// The tenant.
    pub tenant_id: i64,
    /// The user who logged in.
    pub user_id: String,
    /// Name given at login ("Pixel 7 of Anna").
    pub name: String,
    /// Registration time, ms since the Unix epoch.
    pub created_at: i64,
    /// Last authenticated request, ms since the Unix epoch (updated at most once a minute).
    pub last_seen_at: Option<i64>,
    /// When the device was revoked, ms since the Unix epoch.
    pub revoked_at: Option<i64>,
    /// Documents changed on the device that the relay had not accepted at the end of its last
    /// sync (its outbox and quarantine), as the device reported them; `None` before its first.
    pub unsynced_docs: Option<i64>,
    /// When the device last reported them, ms since the Unix epoch.
    pub unsynced_at: Option<i64>,
}

/// A session to store: a token (only its hash) issued to a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Hex SHA-256 of the bearer token.
    pub token_hash: String,
    /// The tenant.
    pub tenant_id: i64,
    /// The user.
    pub user_id: String,
    /// The device.
    pub device_id: String,
    /// Issue time, ms since the Unix epoch.
    pub created_at: i64,
    /// Expiry, ms since the Unix epoch.
    pub expires_at: i64,
}

/// The languages chosen for a user's pages, as stored BCP 47 tags (`None`: not chosen). The
/// accounts service decides which one applies (`services::accounts::viewer_language`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanguageSettings {
    /// The user's own choice.
    pub user: Option<String>,
    /// The tenant's default.
    pub tenant: Option<String>,
}

/// A stored session joined with its user, device and tenant: everything needed to decide
/// whether the token is still good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The tenant's id.
    pub tenant_id: i64,
    /// The tenant's name.
    pub tenant: String,
    /// The user's id.
    pub user_id: String,
    /// The user's login name.
    pub username: String,
    /// The user's role.
    pub role: Role,
    /// The user's region.
    pub region: Option<String>,
    /// The device's id.
    pub device_id: String,
    /// Expiry, ms since the Unix epoch.
    pub expires_at: i64,
    /// When the session was revoked.
    pub revoked_at: Option<i64>,
    /// When the user was disabled.
    pub user_disabled_at: Option<i64>,
    /// When the device was revoked.
    pub device_revoked_at: Option<i64>,
    /// The device's last authenticated request.
    pub device_last_seen_at: Option<i64>,
    /// The device's unsynced documents at its last sync ([`Device::unsynced_docs`]).
    pub device_unsynced_docs: Option<i64>,
}

/// Tenants, users, devices and sessions.
#[async_trait]
pub trait AccountStore {
    /// A cheap round trip to the database, for health checks.
    async fn ping(&self) -> Result<()>;

    /// Creates a tenant with its time zone and currency (already validated); a conflict
    /// ([`crate::error::Error::conflict`], `refusal-tenant-exists`) if the name is taken.
    async fn create_tenant(&self, name: &str, time_zone: &str, currency: &str, now_ms: i64) -> Result<Tenant>;

    /// The tenant with this name.
    async fn find_tenant(&self, name: &str) -> Result<Option<Tenant>>;

    /// The tenant with this id.
    async fn find_tenant_by_id(&self, tenant_id: i64) -> Result<Option<Tenant>>;

    /// Sets a tenant's time zone and currency (already validated); [`Error::NotFound`](crate::error::Error::NotFound) if there
    /// is no such tenant.
    async fn set_tenant_locale(&self, tenant_id: i64, time_zone: &str, currency: &str) -> Result<()>;

    /// The user's and their tenant's chosen languages (both `None` for an unknown user).
    async fn language_settings(&self, tenant_id: i64, user_id: &str) -> Result<LanguageSettings>;

    /// Sets a tenant's default language (an already validated tag; `None` clears it);
    /// [`Error::NotFound`](crate::error::Error::NotFound) if there is no such tenant.
    async fn set_tenant_language(&self, tenant_id: i64, language: Option<&str>) -> Result<()>;

    /// Sets a user's language (an already validated tag; `None` clears it);
    /// [`Error::NotFound`](crate::error::Error::NotFound) if there is no such user.
    async fn set_user_language(&self, tenant_id: i64, user_id: &str, language: Option<&str>) -> Result<()>;

    /// Creates a user with a fresh random id; a conflict ([`crate::error::Error::conflict`],
    /// `refusal-user-exists`) if the username is taken in the tenant.
    async fn create_user(&self, tenant_id: i64, user: NewUser, now_ms: i64) -> Result<User>;

    /// The user with this login name in the tenant.
    async fn find_user_by_username(&self, tenant_id: i64, username: &str) -> Result<Option<User>>;

    /// The user with this id in the tenant.
    async fn find_user(&self, tenant_id: i64, user_id: &str) -> Result<Option<User>>;

    /// Every user of the tenant, by username.
    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>>;

    /// Replaces a user's password hash; [`Error::NotFound`](crate::error::Error::NotFound) if there is no such user.
    async fn set_password_hash(&self, tenant_id: i64, user_id: &str, password_hash: &str) -> Result<()>;

    /// Disables a user and revokes all their sessions, in one transaction; [`Error::NotFound`](crate::error::Error::NotFound) if
    /// there is no such user. Disabling twice keeps the first time.
    async fn disable_user(&self, tenant_id: i64, user_id: &str, now_ms: i64) -> Result<()>;

    /// Enables a disabled user again (their old sessions stay revoked: they sign in anew);
    /// [`Error::NotFound`](crate::error::Error::NotFound) if there is no such user.
    async fn enable_user(&self, tenant_id: i64, user_id: &str) -> Result<()>;

    /// Sets a user's role, region and display name, already validated together;
    /// [`Error::NotFound`](crate::error::Error::NotFound) if there is no such user.
    async fn update_user(&self, tenant_id: i64, user_id: &str, change: UserChange) -> Result<()>;

    /// Registers a device for a user (at login) with a fresh random id.
    async fn register_device(&self, tenant_id: i64, user_id: &str, name: &str, now_ms: i64) -> Result<Device>;

    /// Revokes a device and all its sessions, in one transaction; [`Error::NotFound`](crate::error::Error::NotFound) if there is
    /// no such device in the tenant.
    async fn revoke_device(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<()>;

    /// Records that the device made an authenticated request.
    async fn touch_device(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<()>;

    /// Records how many documents the device still held unsynced at the end of a sync.
    async fn record_unsynced(&self, tenant_id: i64, device_id: &str, unsynced_docs: i64, now_ms: i64) -> Result<()>;

    /// A user's devices, newest first.
    async fn list_devices(&self, tenant_id: i64, user_id: &str) -> Result<Vec<Device>>;

    /// Stores a session.
    async fn create_session(&self, session: NewSession) -> Result<()>;

    /// The session with this token hash, joined with its user, device and tenant.
    async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRecord>>;

    /// Revokes one session; whether a live session was revoked.
    async fn revoke_session(&self, token_hash: &str, now_ms: i64) -> Result<bool>;

    /// Revokes every live session of a user; how many.
    async fn revoke_user_sessions(&self, tenant_id: i64, user_id: &str, now_ms: i64) -> Result<u64>;

    /// Revokes every live session of a device; how many.
    async fn revoke_device_sessions(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<u64>;
}

/// Failed logins kept in storage, so that every relay node sharing it counts the same failures
/// (the accounts service's `LoginLimiter` reads and writes them). Keys are opaque (`pair:…`,
/// `address:…`); times are ms since the Unix epoch.
#[async_trait]
pub trait LoginFailureStore: Send + Sync {
    /// Records one failure of each key at `now_ms`, and forgets every failure before
    /// `forget_before_ms` (they no longer count anywhere).
    async fn record_login_failure(&self, keys: &[String], now_ms: i64, forget_before_ms: i64) -> Result<()>;

    /// Times of the failures of `key` at or after `since_ms`, oldest first.
    async fn login_failures_since(&self, key: &str, since_ms: i64) -> Result<Vec<i64>>;

    /// Forgets every failure of `key`.
    async fn clear_login_failures(&self, key: &str) -> Result<()>;
}
