//! # fieldsync-tests
//!
//! Harness for the end-to-end tests in `tests/tests/`: a real relay (the axum app on a real
//! socket bound to `127.0.0.1:0`, a real SQLite file, the seeded demo tenant) and simulated
//! phones (a real [`LocalStore`] file each, the real [`SyncEngine`] over HTTP).
//!
//! Nothing here is mocked: tests that need to lose a response wrap the real HTTP transport
//! ([`FlakyTransport`]) so the request still reaches the relay.

// A test harness: failing loudly at the first broken step is what it is for.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use fieldsync_core::sync::{BlobState, HttpTransport, Session, SyncEngine, Transport, TransportError, login};
use fieldsync_core::{Identity, LocalStore, Role};
use fieldsync_server::AppState;
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::seed::{DemoLogin, seed_demo};

/// A relay serving on a loopback port, with the demo tenant seeded.
pub struct Relay {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The relay's state (for direct storage checks).
    pub state: AppState,
    /// The demo logins.
    pub logins: Vec<DemoLogin>,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl Relay {
    /// Starts a relay in this process on a real socket, with a fresh data directory.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
        let mut config = Config::new(dir.path().join("relay"));
        config.password_cost = PasswordCost::insecure_for_tests();
        let state = config.open_state().expect("relay state");
        let report =
            runtime.block_on(seed_demo(state.storage.as_ref(), PasswordCost::insecure_for_tests())).expect("seed");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))))
            .expect("bind loopback");
        let address = listener.local_addr().expect("bound address");
        let app = fieldsync_server::app(state.clone());
        runtime.spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(error) = axum::serve(listener, service).await {
                tracing::error!(%error, "test relay stopped");
            }
        });
        Self { base_url: format!("http://{address}"), state, logins: report.logins, runtime, dir }
    }

    /// The demo login of a username.
    pub fn login_of(&self, username: &str) -> &DemoLogin {
        self.logins.iter().find(|l| l.username == username).unwrap_or_else(|| panic!("no demo user {username}"))
    }

    /// Usernames of the demo users with a role (and region, when given), sorted.
    pub fn users(&self, role: Role, region: Option<&str>) -> Vec<String> {
        let mut users: Vec<String> = self
            .logins
            .iter()
            .filter(|l| l.role == role && (region.is_none() || l.region.as_deref() == region))
            .map(|l| l.username.clone())
            .collect();
        users.sort();
        users
    }

    /// Signs a new phone in as `username`.
    pub fn phone(&self, username: &str) -> Phone {
        Phone::sign_in(self, username, self.dir.path())
    }

    /// Runs a future on the relay's runtime (for direct storage checks).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

static PHONES: AtomicU64 = AtomicU64::new(0);

/// A simulated phone: its own SQLite file and sync engine.
pub struct Phone {
    /// The local store.
    pub store: Arc<LocalStore>,
    /// The sync engine over real HTTP (wrapped so tests can cut the network).
    pub engine: Arc<SyncEngine>,
    /// The network between this phone and the relay.
    pub network: Arc<FlakyTransport>,
    /// The session from the login.
    pub session: Session,
    /// The database file.
    pub path: PathBuf,
}

impl Phone {
    fn sign_in(relay: &Relay, username: &str, dir: &Path) -> Self {
        let demo = relay.login_of(username);
        let n = PHONES.fetch_add(1, Ordering::SeqCst);
        let device = format!("{username} phone {n}");
        let session = login(&relay.base_url, &demo.tenant, username, &demo.password, &device).expect("login");
        let path = dir.join(format!("phone-{n}.db"));
        let store = Arc::new(LocalStore::open(&path).expect("open phone store"));
        let role: Role = session.role.parse().expect("role");
        store
            .set_identity(&Identity { tenant: demo.tenant.clone(), user_id: session.user_id.clone(), role })
            .expect("identity");
        let network = Arc::new(FlakyTransport::new(HttpTransport::new(&relay.base_url, &session.token)));
        let engine = Arc::new(SyncEngine::new(store.clone(), network.clone()));
        Self { store, engine, network, session, path }
    }

    /// Syncs now, panicking on failure (for tests where the network is up).
    pub fn sync(&self) -> fieldsync_core::sync::SyncReport {
        self.engine.sync_now().unwrap_or_else(|e| panic!("sync failed: {e}"))
    }
}

/// What the network does to the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weather {
    /// Everything goes through.
    Clear,
    /// Nothing goes out (airplane mode, a basement shop).
    Offline,
    /// Requests reach the relay, but the answers are lost.
    LoseResponses,
}

/// The real HTTP transport with a switch to cut it: offline (the request never leaves) or lost
/// responses (the relay gets and processes the request; the phone never hears back).
pub struct FlakyTransport {
    inner: HttpTransport,
    weather: Mutex<Weather>,
    /// Photo bytes that actually reached the relay.
    pub photo_bytes_delivered: AtomicU64,
    /// Round trips that reached the relay.
    pub round_trips: AtomicU64,
}

impl FlakyTransport {
    /// Wraps a transport; the weather starts clear.
    pub fn new(inner: HttpTransport) -> Self {
        Self {
            inner,
            weather: Mutex::new(Weather::Clear),
            photo_bytes_delivered: AtomicU64::new(0),
            round_trips: AtomicU64::new(0),
        }
    }

    /// Sets the weather for the next requests.
    pub fn set(&self, weather: Weather) {
        *self.weather.lock().unwrap_or_else(|p| p.into_inner()) = weather;
    }

    fn weather(&self) -> Weather {
        *self.weather.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pass<T>(&self, call: impl FnOnce() -> Result<T, TransportError>) -> Result<T, TransportError> {
        match self.weather() {
            Weather::Offline => Err(TransportError::Unreachable("offline".to_owned())),
            Weather::Clear => call(),
            Weather::LoseResponses => {
                let _ = call();
                Err(TransportError::Unreachable("response lost".to_owned()))
            }
        }
    }
}

impl Transport for FlakyTransport {
    fn round_trip(&self, request: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.pass(|| {
            let answer = self.inner.round_trip(request);
            self.round_trips.fetch_add(1, Ordering::SeqCst);
            answer
        })
    }

    fn blob_state(&self, sha256: &str) -> Result<BlobState, TransportError> {
        self.pass(|| self.inner.blob_state(sha256))
    }

    fn upload_blob(&self, sha256: &str, offset: u64, total: u64, chunk: &[u8]) -> Result<BlobState, TransportError> {
        self.pass(|| {
            let answer = self.inner.upload_blob(sha256, offset, total, chunk);
            if answer.is_ok() {
                self.photo_bytes_delivered.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            answer
        })
    }
}
