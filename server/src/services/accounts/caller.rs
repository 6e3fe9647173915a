//! Who is calling: the identity a live session stands for (tenant, user, role, device), and the
//! rule that decides whether a stored session still stands for anyone ([`check_session`]).
//!
//! Storage returns the plain [`SessionRecord`]; this service turns it into a [`Caller`]. The
//! HTTP extractor that reads the token from a request is an edge (`http/caller.rs`).

use fieldsync_core::Role;

use super::KeyGrant;
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::storage::SessionRecord;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The tenant's numeric id.
    pub tenant_id: i64,
    /// The tenant's name.
    pub tenant: String,
    /// The user's id.
    pub user_id: String,
    /// The user's login name.
    pub username: String,
    /// The user's role.
    pub role: Role,
    /// The user's region, if any.
    pub region: Option<String>,
    /// The device the token was issued to.
    pub device_id: String,
    /// The documents the device held unsynced at the end of its last sync, as stored (the sync
    /// round records a new count only when it differs).
    pub device_unsynced_docs: Option<i64>,
    /// For an integration's API key: the key and its scopes (the only things it may do). `None`
    /// for a person's session.
    pub key: Option<KeyGrant>,
}

impl Caller {
    /// What this caller may read.
    pub fn scope(&self) -> Scope {
        Scope { role: self.role, user_id: self.user_id.clone(), region: self.region.clone() }
    }
}

/// The caller a stored session stands for, if it is still valid at `now_ms`; otherwise an
/// [`Error::Unauthenticated`] saying why, or [`Error::Revoked`] for a disabled user or a revoked
/// device (the phone then erases its data).
pub fn check_session(record: SessionRecord, now_ms: i64) -> Result<Caller> {
    // The most specific reason first: disabling a user also revokes their sessions.
    if record.user_disabled_at.is_some() {
        return Err(Error::Revoked(format!("user {} is disabled", record.username)));
    }
    if record.device_revoked_at.is_some() {
        return Err(Error::Revoked(format!("device {} was revoked", record.device_id)));
    }
    if record.revoked_at.is_some() {
        return Err(Error::Unauthenticated("token was revoked: log in again".into()));
    }
    if record.expires_at <= now_ms {
        return Err(Error::Unauthenticated("token expired: log in again".into()));
    }
    Ok(Caller {
        tenant_id: record.tenant_id,
        tenant: record.tenant,
        user_id: record.user_id,
        username: record.username,
        role: record.role,
        region: record.region,
        device_id: record.device_id,
        device_unsynced_docs: record.device_unsynced_docs,
        key: None,
    })
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
            device_unsynced_docs: None,
        }
    }

    #[test]
    fn a_live_session_is_its_caller() {
        let caller = check_session(record(), 999).unwrap();
        assert_eq!(caller.username, "anna");
        assert_eq!(caller.device_id, "d1");
    }

    #[test]
    fn expired_and_revoked_tokens_are_refused_with_a_reason() {
        let reason = |r: SessionRecord| match check_session(r, 999) {
            Err(Error::Unauthenticated(reason)) => reason,
            other => panic!("expected unauthenticated, got {other:?}"),
        };
        assert!(reason(SessionRecord { expires_at: 999, ..record() }).contains("expired"));
        assert!(reason(SessionRecord { revoked_at: Some(5), ..record() }).contains("revoked"));
    }

    #[test]
    fn a_disabled_user_or_a_revoked_device_is_refused_as_revoked_even_when_its_token_is_too() {
        let reason = |r: SessionRecord| match check_session(r, 999) {
            Err(Error::Revoked(reason)) => reason,
            other => panic!("expected revoked, got {other:?}"),
        };
        let disabled = SessionRecord { user_disabled_at: Some(5), revoked_at: Some(5), ..record() };
        assert!(reason(disabled).contains("anna is disabled"));
        let revoked = SessionRecord { device_revoked_at: Some(5), revoked_at: Some(5), ..record() };
        assert!(reason(revoked).contains("device d1"));
    }
}
