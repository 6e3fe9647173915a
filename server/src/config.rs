//! The relay's settings, with defaults suitable for production. A foundation: it imports nothing
//! of the relay but its error type. Opening the storage a configuration names and assembling the
//! relay's shared state from it is the composition root's work (`Config::open`, in `state.rs`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Name of the SQLite file in the data directory.
pub const DATABASE_FILE: &str = "fieldsync.db";
/// Name of the blob folder in the data directory.
pub const BLOB_DIR: &str = "blobs";
/// Most documents the relay keeps loaded between its own edits, by default.
pub const KEPT_DOCUMENTS: u64 = 32;
/// Most tenants whose hydrated catalog the relay keeps, by default.
pub const CACHED_CATALOGS: u64 = 256;
/// Most submitted orders kept from admission for their review, by default (a few KB each).
pub const KEPT_SUBMISSIONS: u64 = 4_096;
/// KiB of a live connection's read buffer, by default: a quiet phone's messages (a sync round of
/// a few hundred bytes, a ping) fit many times over; tungstenite's own default is 128 KiB.
pub const LIVE_READ_BUFFER_KIB: u32 = 8;

/// Argon2id cost parameters for password hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordCost {
    /// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

impl PasswordCost {
    /// The cheapest argon2id parameters, for tests only: a hash costs microseconds.
    pub fn insecure_for_tests() -> Self {
        Self { memory_kib: 8, iterations: 1, parallelism: 1 }
    }
}

/// How failed logins slow further attempts (the accounts service's `LoginLimiter`): per account and
/// client address with growing delays, and a cap per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures of one account (tenant and username) from one client address before each
    /// further attempt from there must wait.
    pub free_failures: usize,
    /// The wait after the first failure beyond the free ones; it doubles with every further one.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// How long a failure counts against an account and address.
    pub failure_memory: Duration,
    /// Failures per client address, whatever the accounts, in [`LoginLimits::window`].
    pub per_address: usize,
    /// The sliding window of the per-address limit.
    pub window: Duration,
}

impl Default for LoginLimits {
    /// 5 free failures, then 1 s, 2 s, 4 s … at most 5 min between attempts, for failures of the
    /// last hour; 20 failures per address in 5 minutes.
    fn default() -> Self {
        Self {
            free_failures: 5,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5 * 60),
            failure_memory: Duration::from_secs(60 * 60),
            per_address: 20,
            window: Duration::from_secs(5 * 60),
        }
    }
}

/// How many requests one integration API key may make: at most [`KeyRate::per_minute`] in any
/// sliding minute, across every relay node sharing a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRate {
    /// Requests per minute.
    pub per_minute: u32,
}

impl Default for KeyRate {
    /// 600 a minute.
    fn default() -> Self {
        Self { per_minute: 600 }
    }
}

/// The relay's settings.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// The data directory: the SQLite file and the blob folder (with PostgreSQL, only the blob
    /// folder, which every node must share: `docs/deployment.md`).
    pub data_dir: PathBuf,
    /// A PostgreSQL URL (`postgres://…`): when set, everything but photo bytes is stored there
    /// instead of the SQLite file, and several relay nodes may share it.
    pub database_url: Option<String>,
    /// Where `serve` listens.
    pub listen: SocketAddr,
    /// How long a login token is valid.
    pub token_ttl: Duration,
    /// Password hashing cost.
    pub password_cost: PasswordCost,
    /// Login rate limits.
    pub login_limits: LoginLimits,
    /// The request rate of each integration API key.
    pub key_rate: KeyRate,
    /// Largest photo accepted, in bytes (whole, across the parts of a resumable upload).
    pub max_blob_bytes: u64,
    /// Most bytes a user's unfinished resumable uploads may declare together (each counts its
    /// whole size from its first part until it completes or expires).
    pub max_unfinished_upload_bytes: u64,
    /// An unfinished upload that received nothing for this long is abandoned: its part and its
    /// record are deleted (`blobs::run_upload_expiry`).
    pub unfinished_upload_ttl: Duration,
    /// A bearer token for Prometheus scrapers on `GET /metrics` (HQ users' tokens work too).
    pub metrics_token: Option<String>,
    /// How often every tenant's alerts are evaluated even when nothing asked for it (promotions
    /// start as time passes): `jobs::evaluate_alerts::run_schedule`.
    pub alert_interval: Duration,
    /// How long a closed alert stays in its inboxes (and on the alerts page's history) before an
    /// evaluation removes it (`serve --alert-retention-days`).
    pub alert_retention: Duration,
    /// How long one webhook delivery attempt may take before it counts as failed and is retried.
    pub webhook_timeout: Duration,
    /// How long a job runner holds a job before another runner (of this relay or another node)
    /// may take it over; the runner renews the lease while the job runs (`jobs::run_queue`).
    pub job_lease: Duration,
    /// Jobs of the work lane (reviews, scoring, alerts) run at the same time: the relay's cores
    /// by default.
    pub work_jobs: usize,
    /// Deliveries to the outside world (webhooks) run at the same time, in their own lane.
    pub delivery_jobs: usize,
    /// How long a live connection holds back the notice of a change to shared reference data
    /// (inventory, catalog, stores, templates), gathering the changes of that pause into one
    /// notice (`sync::live`): a region's stock moves with every review, and telling every phone of
    /// every move would have the whole fleet syncing stock instead of the relay reviewing orders.
    pub reference_notice_delay: Duration,
    /// Most documents the relay keeps loaded between its own edits (a region's inventory, an
    /// inbox): each is an automerge document in memory, from kilobytes to a few megabytes.
    pub kept_documents: u64,
    /// Most tenants whose hydrated catalog the relay keeps (about 2 MB for 2,000 products).
    pub cached_catalogs: u64,
    /// Most submitted orders the relay keeps, as admission read them, for their review (a few KB
    /// each; an order not kept is loaded again).
    pub kept_submissions: u64,
    /// Bytes of each live connection's read buffer (`serve --live-read-buffer-kib`): one per
    /// connected phone, resident while it is connected, so it is most of a quiet connection's
    /// memory; a larger message grows it as needed.
    pub live_read_buffer: usize,
    /// Browsers reach the relay over HTTPS through a reverse proxy that terminates TLS
    /// (`serve --behind-https`): the session cookie is marked `Secure` and every response carries
    /// `Strict-Transport-Security` (`docs/deployment.md`).
    pub behind_https: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`serve --trusted-proxy`): login
    /// throttling then counts the forwarded client address, not the proxy's
    /// (`http::client_address`).
    pub trusted_proxies: Vec<IpAddr>,
    /// A NATS server with JetStream to push the event feed to (`serve --nats`), e.g.
    /// `nats://127.0.0.1:4222`; none: the feed is only pulled (`GET /v1/events`).
    pub nats_url: Option<String>,
    /// The pause before an event subscription's webhook is tried again after a failure; it
    /// doubles at each attempt (`services::events::webhooks`).
    pub subscription_retry: Duration,
    /// Attempts at one event before it is given up as a dead letter.
    pub subscription_attempts: u32,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(redact))
            .field("listen", &self.listen)
            .field("token_ttl", &self.token_ttl)
            .field("password_cost", &self.password_cost)
            .field("login_limits", &self.login_limits)
            .field("key_rate", &self.key_rate)
            .field("max_blob_bytes", &self.max_blob_bytes)
            .field("max_unfinished_upload_bytes", &self.max_unfinished_upload_bytes)
            .field("unfinished_upload_ttl", &self.unfinished_upload_ttl)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<redacted>"))
            .field("alert_interval", &self.alert_interval)
            .field("alert_retention", &self.alert_retention)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("job_lease", &self.job_lease)
            .field("work_jobs", &self.work_jobs)
            .field("delivery_jobs", &self.delivery_jobs)
            .field("reference_notice_delay", &self.reference_notice_delay)
            .field("kept_documents", &self.kept_documents)
            .field("cached_catalogs", &self.cached_catalogs)
            .field("kept_submissions", &self.kept_submissions)
            .field("live_read_buffer", &self.live_read_buffer)
            .field("behind_https", &self.behind_https)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("nats_url", &self.nats_url.as_deref().map(redact))
            .field("subscription_retry", &self.subscription_retry)
            .field("subscription_attempts", &self.subscription_attempts)
            .finish()
    }
}

impl Config {
    /// The defaults for a data directory: listen on 127.0.0.1:8080, tokens valid 30 days.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            password_cost: PasswordCost::default(),
            login_limits: LoginLimits::default(),
            key_rate: KeyRate::default(),
            max_blob_bytes: 15 * 1024 * 1024,
            max_unfinished_upload_bytes: 64 * 1024 * 1024,
            unfinished_upload_ttl: Duration::from_secs(24 * 60 * 60),
            metrics_token: None,
            alert_interval: Duration::from_secs(5 * 60),
            alert_retention: Duration::from_secs(90 * 24 * 60 * 60),
            webhook_timeout: Duration::from_secs(10),
            job_lease: Duration::from_secs(60),
            work_jobs: std::thread::available_parallelism().map_or(2, usize::from),
            delivery_jobs: 4,
            reference_notice_delay: Duration::from_secs(3),
            kept_documents: KEPT_DOCUMENTS,
            cached_catalogs: CACHED_CATALOGS,
            kept_submissions: KEPT_SUBMISSIONS,
            live_read_buffer: LIVE_READ_BUFFER_KIB as usize * 1024,
            behind_https: false,
            trusted_proxies: Vec::new(),
            nats_url: None,
            subscription_retry: Duration::from_secs(1),
            subscription_attempts: 5,
        }
    }

    /// The SQLite file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// The blob folder.
    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join(BLOB_DIR)
    }
}

/// A database URL with its password replaced by `***`, for logs and errors.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}
