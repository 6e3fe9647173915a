//! API keys for integrations (an ERP, a BI tool): created and revoked by HQ, shown once, stored
//! as the SHA-256 of the key, limited to their scopes, rate-limited, and every use recorded.
//!
//! A key is `fsk_` followed by 32 random bytes in base64url: with 256 random bits a plain SHA-256
//! is as safe to store as a slow password hash, and costs nothing per request. The prefix tells a
//! key from a session token in the same `Authorization: Bearer` header. A key stands for an
//! integration [`Caller`] of its tenant ([`KeyGrant`] says which scopes it holds); it is never a
//! person and has no password. Each request reads the key from storage and records its use in
//! the same statement, so a revoked key is refused on every relay node at its next request.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::i18n::Message;

use super::{Caller, LoginFailureStore, hash_token, validate_name};
use crate::config::KeyRate;
use crate::error::{Error, Result};
use crate::messages;
use crate::storage::{ApiKeyRecord, NewApiKey, Storage, random_id};

/// What every API key starts with.
pub const KEY_PREFIX: &str = "fsk_";
/// Characters of a key kept in clear (with [`KEY_PREFIX`]) so HQ can recognise it.
const SHOWN_CHARS: usize = 8;

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyScope {
    /// Read the event feed (`GET /v1/events`).
    EventsRead,
    /// Send JSON import batches (`POST /v1/import/{dataset}/batch`).
    ImportsWrite,
}

/// Every scope, in the order the docs list them.
pub const KEY_SCOPES: &[KeyScope] = &[KeyScope::EventsRead, KeyScope::ImportsWrite];

impl KeyScope {
    /// The scope's name: `events:read`, `imports:write`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::EventsRead => "events:read",
            KeyScope::ImportsWrite => "imports:write",
        }
    }
}

impl std::fmt::Display for KeyScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for KeyScope {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        KEY_SCOPES.iter().copied().find(|s| s.as_str() == name).ok_or_else(|| {
            let names: Vec<&str> = KEY_SCOPES.iter().map(|s| s.as_str()).collect();
            let message = Message::new("refusal-unknown-scope").arg("scope", format!("{name:?}"));
            Error::invalid("invalid-scope", message.arg("scopes", names.join(", ")))
        })
    }
}

/// What an API key caller holds: the key and its scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    /// The key's id.
    pub key_id: String,
    /// The key's name.
    pub name: String,
    /// Its scopes.
    pub scopes: Vec<KeyScope>,
}

/// The scopes of a stored key (names this relay does not know are skipped).
pub fn scopes_of(record: &ApiKeyRecord) -> Vec<KeyScope> {
    record.scopes.split_whitespace().filter_map(|s| s.parse().ok()).collect()
}

/// Whether a bearer token is an API key rather than a session token.
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

impl Caller {
    /// Whether this caller may act with `scope`: an API key holding it, or an HQ session (HQ may
    /// do everything an integration may). Otherwise a forbidden refusal naming what is missing.
    pub fn require(&self, scope: KeyScope) -> Result<()> {
        match &self.key {
            Some(grant) if grant.scopes.contains(&scope) => Ok(()),
            Some(grant) => Err(Error::forbidden(
                Message::new("refusal-key-lacks-scope").arg("key", format!("{:?}", grant.name)).arg("scope", scope),
            )),
            None if self.role == Role::Hq => Ok(()),
            None => Err(Error::forbidden(
                Message::new("refusal-scope-needs-hq").arg("scope", scope).part("role", messages::role(self.role)),
            )),
        }
    }

    /// Whether this caller is a person signed in as HQ (not an API key): only they manage keys.
    /// `action` is the message id of what they would do (`refusal-action-manage-api-keys`), which
    /// the refusal names.
    pub fn require_hq_person(&self, action: &'static str) -> Result<()> {
        if let Some(grant) = &self.key {
            let message = Message::new("refusal-key-cannot").arg("key", format!("{:?}", grant.name));
            return Err(Error::forbidden(message.part("action", Message::new(action))));
        }
        if self.role != Role::Hq {
            return Err(Error::forbidden(hq_only(action, self.role)));
        }
        Ok(())
    }
}

/// "Only HQ may `action`, not a `role`": `action` is the message id of what was asked.
pub fn hq_only(action: &'static str, role: Role) -> Message {
    Message::new("refusal-hq-only").part("action", Message::new(action)).part("role", messages::role(role))
}

/// Checks a key name: 1 to 64 of `a-z 0-9 - _ .`, starting with a letter or digit.
pub fn validate_key_name(name: &str) -> Result<()> {
    validate_name("refusal-field-api-key-name", name, 64)
}

/// Parses and checks a list of scope names: at least one, each known; duplicates collapse.
pub fn parse_scopes<S: AsRef<str>>(names: &[S]) -> Result<Vec<KeyScope>> {
    let mut scopes = names.iter().map(|n| n.as_ref().trim().parse()).collect::<Result<Vec<KeyScope>>>()?;
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        let names: Vec<&str> = KEY_SCOPES.iter().map(|s| s.as_str()).collect();
        return Err(Error::invalid(
            "invalid-scope",
            Message::new("refusal-scope-needed").arg("scopes", names.join(", ")),
        ));
    }
    Ok(scopes)
}

/// A key just created: its record and, this once, the key itself.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// The stored record.
    pub record: ApiKeyRecord,
    /// The whole key; never stored, never shown again.
    pub key: String,
}

/// Creates a key in a tenant. `created_by` is the creating user's id, or `cli`.
pub async fn create_api_key(
    storage: &dyn Storage,
    tenant_id: i64,
    name: &str,
    scopes: &[KeyScope],
    created_by: &str,
) -> Result<CreatedKey> {
    validate_key_name(name)?;
    let scopes = parse_scopes(&scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>())?;
    let key = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let prefix: String = key.chars().take(KEY_PREFIX.len() + SHOWN_CHARS).collect();
    let record = storage
        .create_api_key(NewApiKey {
            id: random_id(),
            tenant_id,
            name: name.to_owned(),
            prefix,
            secret_hash: hash_token(&key),
            scopes: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
            created_by: created_by.to_owned(),
            created_at: now_ms(),
        })
        .await?;
    tracing::info!(tenant = tenant_id, key = %record.id, name = %record.name, scopes = %record.scopes, %created_by, "api key created");
    Ok(CreatedKey { record, key })
}

/// The tenant's keys, revoked ones included, newest first.
pub async fn list_api_keys(storage: &dyn Storage, tenant_id: i64) -> Result<Vec<ApiKeyRecord>> {
    storage.api_keys(tenant_id).await
}

/// Revokes a key of the tenant by id; revoking it again keeps the first time.
pub async fn revoke_api_key(storage: &dyn Storage, tenant_id: i64, id: &str) -> Result<ApiKeyRecord> {
    let record = storage
        .revoke_api_key(tenant_id, id, now_ms())
        .await?
        .ok_or_else(|| Error::not_found(format!("api key {id}")))?;
    tracing::info!(tenant = tenant_id, key = %record.id, name = %record.name, "api key revoked");
    Ok(record)
}

/// The integration caller an API key stands for, after checking it is known, live and within its
/// rate; the use is recorded.
pub async fn authenticate_key(storage: &dyn Storage, limiter: &KeyLimiter, key: &str) -> Result<Caller> {
    if key.len() > 512 {
        return Err(Error::Unauthenticated("malformed api key".into()));
    }
    let record = storage
        .use_api_key(&hash_token(key), now_ms())
        .await?
        .ok_or_else(|| Error::Unauthenticated("unknown api key".into()))?;
    if record.revoked_at.is_some() {
        return Err(Error::Unauthenticated(format!("api key {:?} was revoked", record.name)));
    }
    limiter.take(&record.id, &record.name).await?;
    let tenant = storage
        .find_tenant_by_id(record.tenant_id)
        .await?
        .ok_or_else(|| Error::Unauthenticated(format!("api key {:?} names no tenant", record.name)))?;
    let scopes = scopes_of(&record);
    Ok(Caller {
        tenant_id: tenant.id,
        tenant: tenant.name,
        user_id: format!("api-key:{}", record.id),
        username: format!("api-key:{}", record.name),
        // A key reads the whole tenant, like HQ; what it may do is [`KeyGrant::scopes`], checked
        // by [`Caller::require`], and the HTTP edge lets keys reach only the routes of a scope.
        role: Role::Hq,
        region: None,
        device_id: format!("api-key:{}", record.id),
        device_unsynced_docs: None,
        key: Some(KeyGrant { key_id: record.id, name: record.name, scopes }),
    })
}

/// Each key's request budget: at most [`KeyRate::per_minute`] requests in any sliding minute.
/// Counted in memory for a single SQLite relay; in the login limiter's shared store
/// ([`LoginFailureStore`], one row per request under the key `api-key:<id>`) when several
/// PostgreSQL nodes share the database, so the budget holds across nodes, with the login
/// limiter's arithmetic ([`super::wait_for_ms`]).
pub struct KeyLimiter {
    rate: KeyRate,
    uses: Mutex<HashMap<String, VecDeque<Instant>>>,
    shared: Option<(Arc<dyn LoginFailureStore>, Duration)>,
}

impl std::fmt::Debug for KeyLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLimiter").field("rate", &self.rate).field("shared", &self.shared.is_some()).finish()
    }
}

/// The window of [`KeyRate::per_minute`].
const MINUTE: Duration = Duration::from_secs(60);

impl KeyLimiter {
    /// A limiter at this rate, counting in memory (one relay process).
    pub fn new(rate: KeyRate) -> Self {
        Self { rate, uses: Mutex::new(HashMap::new()), shared: None }
    }

    /// A limiter at this rate, counting in `store`, shared by every relay node using it.
    /// `login_memory` is the longest the login limiter keeps a failure in the same store: rows
    /// older than it (and than a minute) are forgotten when a use is recorded.
    pub fn shared(rate: KeyRate, store: Arc<dyn LoginFailureStore>, login_memory: Duration) -> Self {
        Self { rate, uses: Mutex::new(HashMap::new()), shared: Some((store, login_memory.max(MINUTE))) }
    }

    fn limit(&self) -> usize {
        usize::try_from(self.rate.per_minute.max(1)).unwrap_or(usize::MAX)
    }

    /// Takes one request of key `id`, or [`Error::KeyRateLimited`] with the wait.
    pub async fn take(&self, id: &str, name: &str) -> Result<()> {
        let Some((store, keep)) = &self.shared else { return self.take_at(id, name, Instant::now()) };
        let now = now_ms();
        let key = format!("api-key:{id}");
        let window = super::ms(MINUTE);
        let times = store.login_failures_since(&key, now.saturating_sub(window).saturating_add(1)).await?;
        if let Some(retry_after_secs) = super::wait_for_ms(&times, self.limit(), now, window) {
            return Err(Error::KeyRateLimited { key: name.to_owned(), retry_after_secs });
        }
        store.record_login_failure(&[key], now, now.saturating_sub(super::ms(*keep))).await
    }

    /// [`KeyLimiter::take`] in memory at a given instant.
    pub fn take_at(&self, id: &str, name: &str, now: Instant) -> Result<()> {
        let mut uses = self.uses.lock().unwrap_or_else(|p| p.into_inner());
        if uses.len() > 10_000 {
            uses.retain(|_, times| times.back().is_some_and(|t| now.saturating_duration_since(*t) < MINUTE));
        }
        let times = uses.entry(id.to_owned()).or_default();
        while times.front().is_some_and(|t| now.saturating_duration_since(*t) >= MINUTE) {
            times.pop_front();
        }
        let relative: Vec<i64> = times.iter().map(|t| -super::ms(now.saturating_duration_since(*t))).collect();
        if let Some(retry_after_secs) = super::wait_for_ms(&relative, self.limit(), 0, super::ms(MINUTE)) {
            return Err(Error::KeyRateLimited { key: name.to_owned(), retry_after_secs });
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;

    #[test]
    fn scopes_parse_by_name_collapse_duplicates_and_refuse_unknown_names() {
        assert_eq!(
            parse_scopes(&["imports:write", "events:read", "imports:write"]).unwrap(),
            vec![KeyScope::EventsRead, KeyScope::ImportsWrite]
        );
        let error = parse_scopes(&["orders:write"]).unwrap_err().to_string();
        assert!(error.contains("\"orders:write\"") && error.contains("events:read"), "{error}");
        assert!(parse_scopes::<&str>(&[]).unwrap_err().to_string().contains("needs a scope"));
    }

    #[test]
    fn a_key_makes_its_rate_in_any_minute_and_waits_until_its_oldest_request_leaves_it() {
        let limiter = KeyLimiter::new(KeyRate { per_minute: 3 });
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        for s in [0, 10, 20] {
            limiter.take_at("k1", "erp", at(s)).unwrap();
        }
        match limiter.take_at("k1", "erp", at(30)) {
            Err(Error::KeyRateLimited { key, retry_after_secs }) => {
                assert_eq!((key.as_str(), retry_after_secs), ("erp", 30));
            }
            other => panic!("expected rate limited, got {other:?}"),
        }
        limiter.take_at("k2", "bi", at(30)).unwrap();
        limiter.take_at("k1", "erp", at(60)).unwrap();
        assert!(limiter.take_at("k1", "erp", at(61)).is_err());
    }

    fn caller(role: Role, key: Option<KeyGrant>) -> Caller {
        Caller {
            tenant_id: 1,
            tenant: "acme".into(),
            user_id: "u".into(),
            username: "u".into(),
            role,
            region: None,
            device_id: "d".into(),
            device_unsynced_docs: None,
            key,
        }
    }

    #[test]
    fn a_key_may_act_only_with_its_scopes_and_a_session_only_as_hq() {
        let grant = KeyGrant { key_id: "k".into(), name: "erp".into(), scopes: vec![KeyScope::EventsRead] };
        let key = caller(Role::Hq, Some(grant));
        assert!(key.require(KeyScope::EventsRead).is_ok());
        let refused = key.require(KeyScope::ImportsWrite).unwrap_err().to_string();
        assert!(refused.contains("\"erp\" lacks the scope imports:write"), "{refused}");
        assert!(key.require_hq_person("refusal-action-manage-api-keys").is_err());
        assert!(caller(Role::Hq, None).require(KeyScope::ImportsWrite).is_ok());
        assert!(caller(Role::Manager, None).require(KeyScope::ImportsWrite).is_err());
        assert!(caller(Role::Hq, None).require_hq_person("refusal-action-manage-api-keys").is_ok());
    }
}
