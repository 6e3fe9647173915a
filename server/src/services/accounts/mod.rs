//! Accounts: passwords, tokens, logins and the administration of tenants and users.
//!
//! - Passwords are hashed with argon2id (PHC strings, so the cost travels with each hash and can
//!   be raised later without breaking old hashes).
//! - A token is 32 random bytes, base64url; only its SHA-256 is stored, so a copy of the database
//!   holds no usable token. Tokens expire ([`Config::token_ttl`]) and can be revoked one by one,
//!   per device or per user.
//! - Failed logins slow down further attempts per account and client address, with growing
//!   delays, and are limited per client address ([`LoginLimiter`]); an account is never locked
//!   for everyone. Counted in memory for a single SQLite relay, in the database
//!   ([`LoginFailureStore`]) when several PostgreSQL nodes share it, so a limit reached on one
//!   node holds on all. A wrong tenant, username or
//!   password all answer the same [`Error::BadCredentials`], after the same amount of hashing work.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::i18n::Message;
use sha2::{Digest, Sha256};

use crate::config::{Config, LoginLimits, PasswordCost};
use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::messages;
use crate::storage::{NewSession, NewUser, Storage, Tenant, User};

mod admin;
mod api_keys;
mod caller;
mod language;
mod revocation;
mod tenant_settings;

pub use crate::storage::LoginFailureStore;
pub use admin::{
    UserUpdate, create_user_as, enable_user, enable_user_as, reset_password_as, update_user, update_user_as,
};
pub use api_keys::{
    CreatedKey, KEY_PREFIX, KEY_SCOPES, KeyGrant, KeyLimiter, KeyScope, authenticate_key, create_api_key, hq_only,
    is_api_key, list_api_keys, parse_scopes, revoke_api_key, scopes_of, validate_key_name,
};
pub use caller::{Caller, check_session};
pub use language::{parse_language, resolve_language, set_own_language, set_tenant_language, viewer_language};
pub use revocation::{disable_user_as, revoke_device_as};
pub use tenant_settings::{SettingsChange, TenantSettings, set_tenant_settings_as, tenant_settings_as};

/// Longest accepted password, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 256;
/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// A device's `last_seen_at` is written at most this often.
const TOUCH_INTERVAL_MS: i64 = 60_000;

// ---------------------------------------------------------------------------------------------
// Validation

fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
}

/// Checks a name of `a-z 0-9 - _ .`; `field` is the message id of what it names
/// (`refusal-field-username`).
fn validate_name(field: &'static str, value: &str, max: usize) -> Result<()> {
    let invalid = |id: &str| {
        let message = Message::new(id).part("field", Message::new(field)).arg("value", format!("{value:?}"));
        Error::invalid("invalid-input", message.arg("max", max))
    };
    if value.is_empty() || value.len() > max {
        return Err(invalid("refusal-name-length"));
    }
    if !value.chars().all(is_name_char) {
        return Err(invalid("refusal-name-chars"));
    }
    if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(invalid("refusal-name-start"));
    }
    Ok(())
}

/// Checks a tenant name: 1 to 64 of `a-z 0-9 - _ .`, starting with a letter or digit.
pub fn validate_tenant_name(name: &str) -> Result<()> {
    validate_name("refusal-field-tenant-name", name, 64)
}

/// Checks a username: 1 to 64 of `a-z 0-9 - _ .`, starting with a letter or digit.
pub fn validate_username(username: &str) -> Result<()> {
    validate_name("refusal-field-username", username, 64)
}

/// Checks a region name: 1 to 64 of `a-z 0-9 - _ .`, starting with a letter or digit.
pub fn validate_region(region: &str) -> Result<()> {
    validate_name("refusal-field-region", region, 64)
}

/// Checks a display name: at most 100 characters, no control characters (empty is allowed: the
/// username is shown).
pub fn validate_display_name(name: &str) -> Result<()> {
    if name.trim().chars().count() > 100 || name.chars().any(char::is_control) {
        let message = Message::new("refusal-display-name").arg("name", format!("{name:?}"));
        return Err(Error::invalid("invalid-input", message));
    }
    Ok(())
}

/// Checks a new password: at least 8 characters, at most 256 bytes, no control characters.
pub fn validate_password(password: &str) -> Result<()> {
    let invalid = |id: &str| Error::invalid("invalid-input", Message::new(id));
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(invalid("refusal-password-short"));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(invalid("refusal-password-long"));
    }
    if password.chars().any(char::is_control) {
        return Err(invalid("refusal-password-control"));
    }
    Ok(())
}

/// Checks a device name given at login: 1 to 100 characters, no control characters.
pub fn validate_device_name(name: &str) -> Result<()> {
    let count = name.chars().count();
    if name.trim().is_empty() || count > 100 || name.chars().any(char::is_control) {
        return Err(Error::bad_request(
            "invalid-input",
            format!("invalid device_name {name:?}: must be 1 to 100 characters without control characters"),
        ));
    }
    Ok(())
}

/// Parses a role name (`rep`, `supervisor`, `manager`, `hq`).
pub fn parse_role(role: &str) -> Result<Role> {
    role.parse::<Role>().map_err(|_| {
        Error::invalid("invalid-input", Message::new("refusal-unknown-role").arg("role", format!("{role:?}")))
    })
}

/// Checks that a role and a region go together: reps, supervisors and managers work in a
/// region (their scope is computed from it); HQ sees the whole tenant and has none.
pub fn validate_role_region(role: Role, region: Option<&str>) -> Result<()> {
    match (role, region) {
        (Role::Hq, Some(region)) => Err(Error::invalid(
            "invalid-input",
            Message::new("refusal-hq-no-region").arg("region", format!("{region:?}")),
        )),
        (Role::Hq, None) => Ok(()),
        (_, Some(region)) => validate_region(region),
        (role, None) => Err(Error::invalid(
            "invalid-input",
            Message::new("refusal-region-needed").part("role", messages::role(role)),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Passwords and tokens

fn argon2(cost: PasswordCost) -> Result<Argon2<'static>> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| Error::Storage(format!("invalid argon2 parameters {cost:?}: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id and a fresh random salt; returns the PHC string.
pub fn hash_password(password: &str, cost: PasswordCost) -> Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| Error::Storage(format!("cannot encode password salt: {e}")))?;
    let hash = argon2(cost)?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Storage(format!("cannot hash password: {e}")))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `hash` (the cost is read from the hash).
pub fn verify_password(password: &str, hash: &str) -> Result<bool> {
    let parsed =
        PasswordHash::new(hash).map_err(|e| Error::Storage(format!("stored password hash is unreadable: {e}")))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(Error::Storage(format!("cannot verify password: {e}"))),
    }
}

/// Threads that compute password hashes, relay-wide.
const HASHING_THREADS: usize = 2;

type HashingJob = Box<dyn FnOnce() + Send>;

/// The queue of the password-hashing threads. Each argon2 hash takes its whole memory cost
/// (19 MiB by default) from the allocator of the thread that computes it, and the allocator
/// keeps it for that thread afterwards: hashed on tokio's blocking pool (hundreds of threads), a
/// burst of logins left hundreds of MB behind. A few dedicated threads reuse the same memory,
/// and a burst of logins queues here (more hashes at once than cores finish no sooner).
fn hashing_queue() -> Result<&'static Mutex<std::sync::mpsc::Sender<HashingJob>>> {
    static QUEUE: std::sync::OnceLock<Option<Mutex<std::sync::mpsc::Sender<HashingJob>>>> = std::sync::OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (sender, receiver) = std::sync::mpsc::channel::<HashingJob>();
            let receiver = std::sync::Arc::new(Mutex::new(receiver));
            let mut started = 0;
            for n in 0..HASHING_THREADS {
                let receiver = receiver.clone();
                let spawned = std::thread::Builder::new().name(format!("password-hashing-{n}")).spawn(move || {
                    loop {
                        let job = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
                started += usize::from(spawned.is_ok());
            }
            (started > 0).then(|| Mutex::new(sender))
        })
        .as_ref()
        .ok_or_else(|| Error::Storage("cannot start the password hashing threads".into()))
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    let (answer, outcome) = tokio::sync::oneshot::channel();
    let job: HashingJob = Box::new(move || {
        // The requester may have gone away.
        let _ = answer.send(f());
    });
    hashing_queue()?
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(job)
        .map_err(|_| Error::Storage("the password hashing threads stopped".into()))?;
    outcome.await.map_err(|_| Error::Storage("password hashing task failed".into()))?
}

/// A new bearer token: 32 random bytes, base64url without padding (43 characters), never one
/// that starts like an API key ([`KEY_PREFIX`]).
pub fn new_token() -> String {
    loop {
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        if !is_api_key(&token) {
            return token;
        }
    }
}

/// What is stored for a token: its SHA-256 as lowercase hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

/// Login throttling that slows a guesser without locking out the account's owner.
///
/// - Per account and client address: the first [`LoginLimits::free_failures`] failures cost
///   nothing; after that each attempt from that address for that account must wait, starting at
///   [`LoginLimits::first_delay`] and doubling with each further failure up to
///   [`LoginLimits::max_delay`]. Failures count for [`LoginLimits::failure_memory`]. The same
///   account from another address is not slowed, so someone guessing a user's password from one
///   place never keeps the user out.
/// - Per client address, whatever the account: at most [`LoginLimits::per_address`] failures in
///   the sliding [`LoginLimits::window`], so one address cannot spray guesses over many accounts.
///
/// A successful login clears its account and address (not the address's own count: one good
/// password must not reopen a guessing spree from the same address). Attempts refused while
/// waiting cost no hashing and are not counted.
///
/// Counted in memory ([`LoginLimiter::new`]; memory stays bounded: entries whose failures all
/// expired are dropped as the maps grow), or in storage shared by every relay node
/// ([`LoginLimiter::shared`]), with the same rules.
pub struct LoginLimiter {
    limits: LoginLimits,
    failures: Mutex<Failures>,
    shared: Option<Arc<dyn LoginFailureStore>>,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter").field("limits", &self.limits).field("shared", &self.shared.is_some()).finish()
    }
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn whole_seconds(left_ms: i64) -> u64 {
    u64::try_from(left_ms.saturating_add(999) / 1000).unwrap_or(u64::MAX).max(1)
}

/// Seconds until the failure count drops below `limit`, from failure times in ms (oldest first,
/// all inside the window ending at `now_ms`).
fn wait_for_ms(times: &[i64], limit: usize, now_ms: i64, window_ms: i64) -> Option<u64> {
    if limit == 0 || times.len() < limit {
        return None;
    }
    let freeing = times.get(times.len() - limit)?;
    let left_ms = window_ms.saturating_sub(now_ms.saturating_sub(*freeing));
    (left_ms > 0).then(|| whole_seconds(left_ms))
}

/// The wait after `failures` failures of one account from one address: none for the free ones,
/// then `first_delay` doubling per further failure, at most `max_delay`.
fn backoff_ms(failures: usize, limits: &LoginLimits) -> i64 {
    let Some(excess) = failures.checked_sub(limits.free_failures) else { return 0 };
    let doublings = u32::try_from(excess).unwrap_or(u32::MAX).min(40);
    ms(limits.first_delay).saturating_mul(1_i64 << doublings).min(ms(limits.max_delay))
}

/// Seconds an account must wait at an address, from its failure times there in ms (oldest
/// first, all within the failure memory ending at `now_ms`).
fn backoff_wait_ms(times: &[i64], limits: &LoginLimits, now_ms: i64) -> Option<u64> {
    let last = times.last()?;
    let left_ms = last.saturating_add(backoff_ms(times.len(), limits)).saturating_sub(now_ms);
    (left_ms > 0).then(|| whole_seconds(left_ms))
}

/// The shared store's key of an account at an address: hashed, so any tenant or username (even
/// one with a NUL) makes a valid key of fixed length.
fn shared_pair_key(account: &str, address: Option<IpAddr>) -> String {
    let address = address.map_or_else(|| "-".to_owned(), |a| a.to_string());
    let digest = Sha256::new().chain_update(account.as_bytes()).chain_update([0]).chain_update(address).finalize();
    format!("pair:{}", hex::encode(digest))
}

fn shared_address_key(address: IpAddr) -> String {
    format!("address:{address}")
}

#[derive(Debug, Default)]
struct Failures {
    pairs: HashMap<(String, Option<IpAddr>), VecDeque<Instant>>,
    addresses: HashMap<IpAddr, VecDeque<Instant>>,
}

const PRUNE_ABOVE: usize = 10_000;

fn expire(times: &mut VecDeque<Instant>, now: Instant, memory: Duration) {
    while times.front().is_some_and(|t| now.saturating_duration_since(*t) >= memory) {
        times.pop_front();
    }
}

fn prune<K: Eq + std::hash::Hash>(map: &mut HashMap<K, VecDeque<Instant>>, now: Instant, memory: Duration) {
    if map.len() > PRUNE_ABOVE {
        map.retain(|_, times| {
            expire(times, now, memory);
            !times.is_empty()
        });
    }
}

/// In-memory failure times still within `memory`, as ms relative to `now` (which is 0), oldest
/// first: the shape the shared store answers in, so both use the same arithmetic.
fn relative_ms(times: Option<&VecDeque<Instant>>, now: Instant, memory: Duration) -> Vec<i64> {
    times
        .into_iter()
        .flatten()
        .map(|t| now.saturating_duration_since(*t))
        .filter(|age| *age < memory)
        .map(|age| -ms(age))
        .collect()
}

impl LoginLimiter {
    /// A limiter with these limits, counting in memory (one relay process).
    pub fn new(limits: LoginLimits) -> Self {
        Self { limits, failures: Mutex::new(Failures::default()), shared: None }
    }

    /// A limiter with these limits, counting in `store`, shared by every relay node using it.
    pub fn shared(limits: LoginLimits, store: Arc<dyn LoginFailureStore>) -> Self {
        Self { limits, failures: Mutex::new(Failures::default()), shared: Some(store) }
    }

    /// The key of an account in the limiter.
    pub fn account_key(tenant: &str, username: &str) -> String {
        format!("{tenant}\u{0}{username}")
    }

    fn refuse(&self, by_pair: Option<u64>, by_address: Option<u64>) -> Result<()> {
        match by_pair.into_iter().chain(by_address).max() {
            Some(retry_after_secs) => Err(Error::RateLimited { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// [`Error::RateLimited`] if the account must still wait at this address, or the address
    /// used up its failures in the window.
    pub async fn check(&self, account: &str, address: Option<IpAddr>) -> Result<()> {
        let Some(store) = &self.shared else { return self.check_at(account, address, Instant::now()) };
        let now = now_ms();
        let since = |memory: Duration| now.saturating_sub(ms(memory)).saturating_add(1);
        let pair = shared_pair_key(account, address);
        let times = store.login_failures_since(&pair, since(self.limits.failure_memory)).await?;
        let by_pair = backoff_wait_ms(&times, &self.limits, now);
        let by_address = match address {
            Some(address) => {
                let times = store.login_failures_since(&shared_address_key(address), since(self.limits.window)).await?;
                wait_for_ms(&times, self.limits.per_address, now, ms(self.limits.window))
            }
            None => None,
        };
        self.refuse(by_pair, by_address)
    }

    /// [`LoginLimiter::check`] at a given instant.
    pub fn check_at(&self, account: &str, address: Option<IpAddr>, now: Instant) -> Result<()> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let limits = &self.limits;
        let pair = relative_ms(failures.pairs.get(&(account.to_owned(), address)), now, limits.failure_memory);
        let by_pair = backoff_wait_ms(&pair, limits, 0);
        let by_address = address.and_then(|a| {
            let times = relative_ms(failures.addresses.get(&a), now, limits.window);
            wait_for_ms(&times, limits.per_address, 0, ms(limits.window))
        });
        self.refuse(by_pair, by_address)
    }

    /// Records a failed attempt.
    pub async fn record_failure(&self, account: &str, address: Option<IpAddr>) -> Result<()> {
        let Some(store) = &self.shared else {
            self.record_failure_at(account, address, Instant::now());
            return Ok(());
        };
        let mut keys = vec![shared_pair_key(account, address)];
        keys.extend(address.map(shared_address_key));
        let now = now_ms();
        let longest = self.limits.failure_memory.max(self.limits.window);
        store.record_login_failure(&keys, now, now.saturating_sub(ms(longest))).await
    }

    /// [`LoginLimiter::record_failure`] at a given instant.
    pub fn record_failure_at(&self, account: &str, address: Option<IpAddr>, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (memory, window) = (self.limits.failure_memory, self.limits.window);
        let Failures { pairs, addresses } = &mut *failures;
        prune(pairs, now, memory);
        prune(addresses, now, window);
        let times = pairs.entry((account.to_owned(), address)).or_default();
        expire(times, now, memory);
        times.push_back(now);
        if let Some(address) = address {
            let times = addresses.entry(address).or_default();
            expire(times, now, window);
            times.push_back(now);
        }
    }

    /// Clears the failures of an account at an address after a successful login there.
    pub async fn record_success(&self, account: &str, address: Option<IpAddr>) -> Result<()> {
        match &self.shared {
            Some(store) => store.clear_login_failures(&shared_pair_key(account, address)).await,
            None => {
                let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
                failures.pairs.remove(&(account.to_owned(), address));
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Login, logout, authentication

/// The login contract (`POST /v1/auth/login` body and answer) is defined once, in core, and shared
/// by the phone and the relay.
pub use fieldsync_core::sync::{LoginRequest, Session as LoginResponse};

/// Logs a user in: checks the rate limits, the credentials, registers the device and issues a
/// token. Wrong tenant, username or password all answer [`Error::BadCredentials`] and count as a
/// failure; a disabled user cannot log in.
pub async fn login(
    storage: &dyn Storage,
    limiter: &LoginLimiter,
    config: &Config,
    request: &LoginRequest,
    client: Option<IpAddr>,
) -> Result<LoginResponse> {
    validate_device_name(&request.device_name)?;
    let account = LoginLimiter::account_key(&request.tenant, &request.username);
    limiter.check(&account, client).await?;

    let user = match storage.find_tenant(&request.tenant).await? {
        Some(tenant) => storage.find_user_by_username(tenant.id, &request.username).await?,
        None => None,
    };
    let password = request.password.clone();
    let cost = config.password_cost;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = blocking(move || match stored_hash {
        Some(hash) if password.len() <= MAX_PASSWORD_BYTES => verify_password(&password, &hash),
        // Same work as a real check, so timing does not tell which usernames exist.
        _ => hash_password(&password, cost).map(|_| false),
    })
    .await?;

    let user = match user {
        Some(user) if matches && user.disabled_at.is_none() => user,
        _ => {
            limiter.record_failure(&account, client).await?;
            tracing::info!(tenant = %request.tenant, username = %request.username, "login refused");
            return Err(Error::BadCredentials);
        }
    };
    limiter.record_success(&account, client).await?;

    let now = now_ms();
    let device = storage.register_device(user.tenant_id, &user.id, request.device_name.trim(), now).await?;
    let token = new_token();
    let ttl = i64::try_from(config.token_ttl.as_millis()).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl);
    storage
        .create_session(NewSession {
            token_hash: hash_token(&token),
            tenant_id: user.tenant_id,
            user_id: user.id.clone(),
            device_id: device.id.clone(),
            created_at: now,
            expires_at,
        })
        .await?;
    tracing::info!(tenant = %request.tenant, username = %user.username, device = %device.id, "login");
    Ok(LoginResponse {
        token,
        user_id: user.id,
        role: user.role.as_str().to_owned(),
        region: user.region,
        device_id: device.id,
        expires_at,
    })
}

/// The caller a bearer token stands for now. Unknown, expired or revoked tokens are
/// [`Error::Unauthenticated`] with the reason; disabled users and revoked devices are
/// [`Error::Revoked`]. Records the device as seen
/// (at most once a minute).
pub async fn authenticate(storage: &dyn Storage, token: &str) -> Result<Caller> {
    if token.is_empty() || token.len() > 512 {
        return Err(Error::Unauthenticated("malformed bearer token".into()));
    }
    let record = storage
        .find_session(&hash_token(token))
        .await?
        .ok_or_else(|| Error::Unauthenticated("unknown token: log in again".into()))?;
    let now = now_ms();
    let last_seen = record.device_last_seen_at;
    let caller = check_session(record, now)?;
    if last_seen.is_none_or(|seen| now.saturating_sub(seen) >= TOUCH_INTERVAL_MS)
        && let Err(error) = storage.touch_device(caller.tenant_id, &caller.device_id, now).await
    {
        // Bookkeeping only: the request itself is authenticated.
        tracing::warn!(%error, device = %caller.device_id, "cannot record device as seen");
    }
    Ok(caller)
}

/// The caller a token hash stands for at `now_ms`, without recording the device as seen: unknown,
/// expired or revoked tokens are [`Error::Unauthenticated`] with the reason, disabled users and
/// revoked devices [`Error::Revoked`].
pub async fn resolve_session(storage: &dyn Storage, token_hash: &str, now_ms: i64) -> Result<Caller> {
    match storage.find_session(token_hash).await? {
        Some(record) => check_session(record, now_ms),
        None => Err(Error::Unauthenticated("unknown token: log in again".into())),
    }
}

/// Revokes the session of a token (logout). Unknown or already revoked tokens are refused
/// like any unauthenticated request, so logging out twice answers 401 the second time.
pub async fn logout(storage: &dyn Storage, token: &str) -> Result<()> {
    authenticate(storage, token).await?;
    storage.revoke_session(&hash_token(token), now_ms()).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Administration (the `admin` commands)

/// A tenant's stored locale. A value this relay cannot read (a zone missing from its time-zone
/// database) falls back to the default, with a warning, rather than failing every page of the
/// tenant.
pub fn locale_of(tenant: &Tenant) -> Locale {
    Locale::stored(&tenant.name, &tenant.time_zone, &tenant.currency)
}

/// The locale of a tenant by id ([`Error::NotFound`] if there is none).
pub async fn tenant_locale(storage: &dyn Storage, tenant_id: i64) -> Result<Locale> {
    let tenant =
        storage.find_tenant_by_id(tenant_id).await?.ok_or_else(|| Error::not_found(format!("tenant {tenant_id}")))?;
    Ok(locale_of(&tenant))
}

/// The tenant with this name, or [`Error::NotFound`].
pub async fn tenant_named(storage: &dyn Storage, name: &str) -> Result<Tenant> {
    storage.find_tenant(name).await?.ok_or_else(|| Error::not_found(format!("tenant {name}")))
}

async fn user_named(storage: &dyn Storage, tenant: &Tenant, username: &str) -> Result<User> {
    storage
        .find_user_by_username(tenant.id, username)
        .await?
        .ok_or_else(|| Error::not_found(format!("user {username} in tenant {}", tenant.name)))
}

/// Creates a tenant in UTC, with amounts in US dollars, after validating its name.
pub async fn create_tenant(storage: &dyn Storage, name: &str) -> Result<Tenant> {
    create_tenant_in(storage, name, &Locale::default()).await
}

/// Creates a tenant with its time zone and currency, after validating its name.
pub async fn create_tenant_in(storage: &dyn Storage, name: &str, locale: &Locale) -> Result<Tenant> {
    validate_tenant_name(name)?;
    storage.create_tenant(name, locale.time_zone(), locale.currency(), now_ms()).await
}

/// Changes a tenant's time zone, currency or both (`None` keeps it). Both are validated before
/// anything is written, so a bad value changes nothing. Returns the tenant as stored now.
pub async fn set_tenant_locale(
    storage: &dyn Storage,
    name: &str,
    time_zone: Option<&str>,
    currency: Option<&str>,
) -> Result<Tenant> {
    let tenant = tenant_named(storage, name).await?;
    let locale = Locale::new(time_zone.unwrap_or(&tenant.time_zone), currency.unwrap_or(&tenant.currency))?;
    storage.set_tenant_locale(tenant.id, locale.time_zone(), locale.currency()).await?;
    tenant_named(storage, name).await
}

/// A user to create with [`create_user`].
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    /// Tenant name.
    pub tenant: &'a str,
    /// Username.
    pub username: &'a str,
    /// The name people see (may be empty: the username is shown).
    pub display_name: &'a str,
    /// Password in clear; hashed before it is stored.
    pub password: &'a str,
    /// Role.
    pub role: Role,
    /// Region (required for rep, supervisor and manager; refused for hq).
    pub region: Option<&'a str>,
}

/// Creates a user after validating every value; the password is stored argon2id-hashed.
pub async fn create_user(storage: &dyn Storage, cost: PasswordCost, account: NewAccount<'_>) -> Result<User> {
    validate_username(account.username)?;
    validate_display_name(account.display_name)?;
    validate_password(account.password)?;
    validate_role_region(account.role, account.region)?;
    let tenant = tenant_named(storage, account.tenant).await?;
    let password = account.password.to_owned();
    let password_hash = blocking(move || hash_password(&password, cost)).await?;
    let user = NewUser {
        username: account.username.to_owned(),
        display_name: account.display_name.trim().to_owned(),
        password_hash,
        role: account.role,
        region: account.region.map(str::to_owned),
    };
    storage.create_user(tenant.id, user, now_ms()).await
}

/// Sets a new password. Existing sessions stay valid (revoke them with [`revoke_user`]): a rep
/// who forgot their password should not lose the sync of an unsynced phone.
pub async fn reset_password(
    storage: &dyn Storage,
    cost: PasswordCost,
    tenant: &str,
    username: &str,
    password: &str,
) -> Result<()> {
    validate_password(password)?;
    let tenant = tenant_named(storage, tenant).await?;
    let user = user_named(storage, &tenant, username).await?;
    let password = password.to_owned();
    let hash = blocking(move || hash_password(&password, cost)).await?;
    storage.set_password_hash(tenant.id, &user.id, &hash).await
}

/// Disables a user and revokes all their sessions.
pub async fn revoke_user(storage: &dyn Storage, tenant: &str, username: &str) -> Result<User> {
    let tenant = tenant_named(storage, tenant).await?;
    let user = user_named(storage, &tenant, username).await?;
    storage.disable_user(tenant.id, &user.id, now_ms()).await?;
    Ok(user)
}

/// Revokes a device and all its sessions.
pub async fn revoke_device(storage: &dyn Storage, tenant: &str, device_id: &str) -> Result<()> {
    let tenant = tenant_named(storage, tenant).await?;
    storage.revoke_device(tenant.id, device_id, now_ms()).await
}

/// Every user of a tenant, by username.
pub async fn list_users(storage: &dyn Storage, tenant: &str) -> Result<Vec<User>> {
    let tenant = tenant_named(storage, tenant).await?;
    storage.list_users(tenant.id).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FAST: PasswordCost = PasswordCost { memory_kib: 8, iterations: 1, parallelism: 1 };

    #[test]
    fn a_password_verifies_against_its_hash_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse", FAST).unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash).unwrap());
        assert!(!verify_password("correct horsf", &hash).unwrap());
        assert_ne!(hash, hash_password("correct horse", FAST).unwrap(), "salts must differ");
    }

    #[test]
    fn a_garbled_stored_hash_is_an_error_not_a_match() {
        assert!(verify_password("whatever", "not-a-phc-string").is_err());
    }

    #[test]
    fn tokens_are_random_url_safe_and_stored_as_sha256_hex() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let hashed = hash_token(&a);
        assert_eq!(hashed.len(), 64);
        assert_eq!(hashed, hash_token(&a));
        assert_ne!(hashed, hash_token(&b));
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn names_passwords_roles_and_regions_are_validated_naming_the_value() {
        assert!(validate_username("rep-01").is_ok());
        for bad in ["", "Anna", "../x", "a b", "-lead", &"a".repeat(65)] {
            let error = validate_username(bad).unwrap_err().to_string();
            assert!(error.contains("username"), "{error}");
        }
        assert!(validate_password("short").unwrap_err().to_string().contains("at least 8"));
        assert!(validate_password(&"x".repeat(300)).is_err());
        assert!(validate_password("tab\tinside").is_err());
        assert!(validate_password("long enough").is_ok());
        assert!(parse_role("boss").unwrap_err().to_string().contains("\"boss\""));
        assert_eq!(parse_role("supervisor").unwrap(), Role::Supervisor);
        assert!(validate_role_region(Role::Rep, None).is_err());
        assert!(validate_role_region(Role::Rep, Some("North")).is_err());
        assert!(validate_role_region(Role::Hq, Some("north")).is_err());
        assert!(validate_role_region(Role::Manager, Some("north")).is_ok());
        assert!(validate_role_region(Role::Hq, None).is_ok());
        assert!(validate_device_name("Pixel 7").is_ok());
        assert!(validate_device_name("  ").is_err());
    }

    fn limits() -> LoginLimits {
        LoginLimits {
            free_failures: 3,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
            failure_memory: Duration::from_secs(3600),
            per_address: 5,
            window: Duration::from_secs(60),
        }
    }

    fn refused_for(outcome: Result<()>) -> u64 {
        match outcome {
            Err(Error::RateLimited { retry_after_secs }) => retry_after_secs,
            other => panic!("expected rate limited, got {other:?}"),
        }
    }

    #[test]
    fn failures_of_an_account_at_one_address_wait_longer_each_time_up_to_the_cap() {
        let limiter = LoginLimiter::new(limits());
        let start = Instant::now();
        let here: IpAddr = [10, 0, 0, 1].into();
        let at = |s: u64| start + Duration::from_secs(s);
        for i in 0..3 {
            limiter.check_at("acme/anna", Some(here), at(i)).unwrap();
            limiter.record_failure_at("acme/anna", Some(here), at(i));
        }
        // The fourth attempt waits 2 s after the third failure, the next 4 s, then 8 s.
        assert_eq!(refused_for(limiter.check_at("acme/anna", Some(here), at(2))), 2);
        limiter.check_at("acme/anna", Some(here), at(4)).unwrap();
        limiter.record_failure_at("acme/anna", Some(here), at(4));
        assert_eq!(refused_for(limiter.check_at("acme/anna", Some(here), at(5))), 3);
        limiter.check_at("acme/anna", Some(here), at(8)).unwrap();
        let mut now = 8;
        for _ in 0..10 {
            limiter.record_failure_at("acme/anna", Some([10, 0, 0, 9].into()), at(now));
            limiter.record_failure_at("acme/anna", Some(here), at(now));
            now += 60;
        }
        assert_eq!(refused_for(limiter.check_at("acme/anna", Some(here), at(now - 60))), 60, "capped at max_delay");
    }

    #[test]
    fn the_same_account_from_another_address_is_not_slowed() {
        let limiter = LoginLimiter::new(LoginLimits { per_address: 1000, ..limits() });
        let now = Instant::now();
        let attacker: IpAddr = [203, 0, 113, 9].into();
        for _ in 0..50 {
            limiter.record_failure_at("acme/anna", Some(attacker), now);
        }
        assert!(limiter.check_at("acme/anna", Some(attacker), now).is_err());
        assert!(limiter.check_at("acme/anna", Some([198, 51, 100, 7].into()), now).is_ok());
        assert!(limiter.check_at("acme/bob", Some(attacker), now).is_ok());
    }

    #[test]
    fn failures_older_than_the_memory_no_longer_count() {
        let limiter = LoginLimiter::new(limits());
        let start = Instant::now();
        for _ in 0..6 {
            limiter.record_failure_at("acme/anna", None, start);
        }
        assert_eq!(refused_for(limiter.check_at("acme/anna", None, start + Duration::from_secs(10))), 6);
        assert!(limiter.check_at("acme/anna", None, start + Duration::from_secs(3600)).is_ok());
    }

    #[test]
    fn shared_counts_wait_like_memory_counts() {
        let limits = limits();
        assert_eq!(backoff_wait_ms(&[0, 1_000], &limits, 1_000), None, "free failures");
        assert_eq!(backoff_wait_ms(&[0, 1_000, 2_000], &limits, 2_000), Some(2));
        assert_eq!(backoff_wait_ms(&[0, 1_000, 2_000, 3_000], &limits, 3_500), Some(4));
        assert_eq!(backoff_wait_ms(&[0; 40], &limits, 0), Some(60));
        assert_eq!(wait_for_ms(&[0, 1_000, 2_000], 3, 10_000, 60_000), Some(50));
        assert_eq!(wait_for_ms(&[1_000, 2_000], 3, 60_000, 60_000), None);
        assert_eq!(wait_for_ms(&[0, 1_000, 2_000], 3, 59_999, 60_000), Some(1));
        let here = Some([10, 0, 0, 1].into());
        assert_ne!(shared_pair_key("acme\u{0}anna", here), shared_pair_key("acme\u{0}bob", here));
        assert_ne!(shared_pair_key("acme\u{0}anna", here), shared_pair_key("acme\u{0}anna", None));
        assert!(!shared_pair_key("acme\u{0}anna", here).contains('\u{0}'));
    }

    #[tokio::test]
    async fn a_success_clears_the_account_at_its_address_but_not_the_address() {
        let limiter = LoginLimiter::new(limits());
        let now = Instant::now();
        let address: IpAddr = [10, 0, 0, 1].into();
        for i in 0..5 {
            limiter.record_failure_at(if i < 3 { "acme/anna" } else { "acme/other" }, Some(address), now);
        }
        assert!(matches!(limiter.check_at("acme/anna", Some(address), now), Err(Error::RateLimited { .. })));
        limiter.record_success("acme/anna", None).await.unwrap();
        assert!(limiter.check_at("acme/anna", None, now).is_ok());
        assert!(limiter.check_at("acme/anna", Some(address), now).is_err(), "another address's success");
        limiter.record_success("acme/anna", Some(address)).await.unwrap();
        assert!(limiter.check_at("acme/anna", Some(address), now).is_err(), "the address used its 5 failures");
        assert!(limiter.check_at("acme/anna", Some([10, 0, 0, 2].into()), now).is_ok());
    }
}
