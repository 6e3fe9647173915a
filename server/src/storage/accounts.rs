//! Tenants, users, devices and sessions.
//!
//! The store only persists; the rules (password checks, token lifetimes, what a revoked device
//! means for its sessions) live in [`crate::accounts`], except [`AccountStore::resolve_session`],
//! which every backend shares as a provided method so the answer to "who is this token?" cannot
//! differ between SQLite and PostgreSQL.

use async_trait::async_trait;
use fieldsync_core::Role;

use crate::auth::Caller;
use crate::error::{Error, Result};

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
    /// IANA time zone in which its days are counted (validated by [`crate::locale::Locale`]).
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
    /// Argon2id hash in PHC string form.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Region, if the role has one.
    pub region: Option<String>,
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
}

impl SessionRecord {
    /// The caller this session stands for, if it is still valid at `now_ms`; otherwise an
    /// [`Error::Unauthenticated`] saying why.
    pub fn check(self, now_ms: i64) -> Result<Caller> {
        // The most specific reason first: disabling a user also revokes their sessions.
        if self.user_disabled_at.is_some() {
            return Err(Error::Unauthenticated(format!("user {} is disabled", self.username)));
        }
        if self.device_revoked_at.is_some() {
            return Err(Error::Unauthenticated(format!("device {} was revoked: log in again", self.device_id)));
        }
        if self.revoked_at.is_some() {
            return Err(Error::Unauthenticated("token was revoked: log in again".into()));
        }
        if self.expires_at <= now_ms {
            return Err(Error::Unauthenticated("token expired: log in again".into()));
        }
        Ok(Caller {
            tenant_id: self.tenant_id,
            tenant: self.tenant,
            user_id: self.user_id,
            username: self.username,
            role: self.role,
            region: self.region,
            device_id: self.device_id,
        })
    }
}

/// Tenants, users, devices and sessions.
#[async_trait]
pub trait AccountStore {
    /// A cheap round trip to the database, for health checks.
    async fn ping(&self) -> Result<()>;

    /// Creates a tenant with its time zone and currency (already validated); [`Error::Conflict`]
    /// if the name is taken.
    async fn create_tenant(&self, name: &str, time_zone: &str, currency: &str, now_ms: i64) -> Result<Tenant>;

    /// The tenant with this name.
    async fn find_tenant(&self, name: &str) -> Result<Option<Tenant>>;

    /// The tenant with this id.
    async fn find_tenant_by_id(&self, tenant_id: i64) -> Result<Option<Tenant>>;

    /// Sets a tenant's time zone and currency (already validated); [`Error::NotFound`] if there
    /// is no such tenant.
    async fn set_tenant_locale(&self, tenant_id: i64, time_zone: &str, currency: &str) -> Result<()>;

    /// Creates a user with a fresh random id; [`Error::Conflict`] if the username is taken in the
    /// tenant.
    async fn create_user(&self, tenant_id: i64, user: NewUser, now_ms: i64) -> Result<User>;

    /// The user with this login name in the tenant.
    async fn find_user_by_username(&self, tenant_id: i64, username: &str) -> Result<Option<User>>;

    /// The user with this id in the tenant.
    async fn find_user(&self, tenant_id: i64, user_id: &str) -> Result<Option<User>>;

    /// Every user of the tenant, by username.
    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>>;

    /// Replaces a user's password hash; [`Error::NotFound`] if there is no such user.
    async fn set_password_hash(&self, tenant_id: i64, user_id: &str, password_hash: &str) -> Result<()>;

    /// Disables a user and revokes all their sessions, in one transaction; [`Error::NotFound`] if
    /// there is no such user. Disabling twice keeps the first time.
    async fn disable_user(&self, tenant_id: i64, user_id: &str, now_ms: i64) -> Result<()>;

    /// Registers a device for a user (at login) with a fresh random id.
    async fn register_device(&self, tenant_id: i64, user_id: &str, name: &str, now_ms: i64) -> Result<Device>;

    /// Revokes a device and all its sessions, in one transaction; [`Error::NotFound`] if there is
    /// no such device in the tenant.
    async fn revoke_device(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<()>;

    /// Records that the device made an authenticated request.
    async fn touch_device(&self, tenant_id: i64, device_id: &str, now_ms: i64) -> Result<()>;

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

    /// The caller a token hash stands for at `now_ms`: unknown, expired or revoked tokens, disabled
    /// users and revoked devices are [`Error::Unauthenticated`] with the reason.
    async fn resolve_session(&self, token_hash: &str, now_ms: i64) -> Result<Caller> {
        match self.find_session(token_hash).await? {
            Some(record) => record.check(now_ms),
            None => Err(Error::Unauthenticated("unknown token: log in again".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record() -> SessionRecord {
        SessionRecord {
            tenant_id: 1,
            tenant: "acme".into(),
            user_id: "u1".into(),
            username: "anna".into(),
            role: Role::Rep,
            region: Some("north".into()),
            device_id: "d1".into(),
            expires_at: 1_000,
            revoked_at: None,
            user_disabled_at: None,
            device_revoked_at: None,
            device_last_seen_at: None,
        }
    }

    #[test]
    fn a_live_session_is_its_caller() {
        let caller = record().check(999).unwrap();
        assert_eq!(caller.username, "anna");
        assert_eq!(caller.device_id, "d1");
    }

    #[test]
    fn expired_revoked_disabled_and_device_revoked_sessions_are_refused_with_a_reason() {
        let reason = |r: SessionRecord| match r.check(999) {
            Err(Error::Unauthenticated(reason)) => reason,
            other => panic!("expected unauthenticated, got {other:?}"),
        };
        assert!(reason(SessionRecord { expires_at: 999, ..record() }).contains("expired"));
        assert!(reason(SessionRecord { revoked_at: Some(5), ..record() }).contains("revoked"));
        assert!(reason(SessionRecord { user_disabled_at: Some(5), ..record() }).contains("anna is disabled"));
        assert!(reason(SessionRecord { device_revoked_at: Some(5), ..record() }).contains("device d1"));
    }
}
