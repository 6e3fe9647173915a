//! # fieldsync-tests
//!
//! Harness for the end-to-end tests in `tests/tests/`: a real relay (the axum app on a real
//! socket bound to `127.0.0.1:0`, a real SQLite file, the seeded demo tenant) and simulated
//! phones (a real [`LocalStore`] file each, the real [`SyncEngine`] over HTTP).
//!
//! Nothing here is mocked: tests that need to lose a response wrap the real HTTP transport
//! ([`FlakyTransport`]) so the request still reaches the relay.
//!
//! Backends: SQLite by default. With `FIELDSYNC_TEST_DATABASE=postgres://…` (see
//! [`test_database_url`]) every relay the harness starts — in process or as a process — gets a
//! PostgreSQL database of its own on that server, created for it and dropped with it
//! ([`TestDatabase`]); [`Relay::second_node`] starts another node on the same database.
//!
//! [`shaper`] is a user-space link shaper (bandwidth, delay, seeded cuts) for the bad-network
//! tests and the `field_network` bench.
//!
//! The bench binaries (`sync_bench`, `load`) share [`process`]: the release relay as a child
//! process and its memory and CPU from `/proc`.
//!
//! [`fuzzing`] holds the bodies of the cargo-fuzz targets in `fuzz/`, so that their seeds and
//! past crashes replay on stable (`tests/tests/fuzz_corpora.rs`).

// A test harness: failing loudly at the first broken step is what it is for.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod fuzzing;
pub mod live;
pub mod nats;
pub mod process;
pub mod shaper;

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fieldsync_core::sync::{
    BlobState, HttpTransport, Session, SyncEngine, SyncOptions, Transport, TransportError, login,
};
use fieldsync_core::{DocumentId, Identity, LocalStore, Role};
use fieldsync_server::AppState;
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::scope::Scope;
use fieldsync_server::seed::{DemoLogin, seed_demo};
use fieldsync_server::storage::StoredDoc;

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
    /// The relay's PostgreSQL database (dropped after the runtime, so its connections are gone).
    database: Option<TestDatabase>,
}

impl Relay {
    /// Starts a relay in this process on a real socket, with a fresh data directory holding the
    /// seeded demo tenant. The tenant is seeded once per test process and copied for each relay,
    /// so every relay starts from the same documents (and the same ids).
    ///
    /// With [`test_database_url`] set, the relay's database is a PostgreSQL copy of a template
    /// seeded once per process (`CREATE DATABASE … TEMPLATE`, a file-level copy).
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// [`Relay::start`] with its configuration changed by `configure` first (job leases,
    /// timeouts, …).
    pub fn start_with(configure: impl Fn(&mut Config)) -> Self {
        let template = seeded_template();
        let dir = temp_dir();
        write_tree(&dir.path().join("relay"), &template.files);
        let database = template.database.as_ref().map(|t| TestDatabase::create(&t.server, Some(&t.name)));
        let data = dir.path().join("relay");
        Self::serve(dir, data, database.as_ref().map(|d| d.url.clone()), database, template, &configure)
    }

    /// Starts another relay node on this relay's PostgreSQL database and photo folder, as a
    /// second machine of a scale-out deployment would run: its own runtime, connection pool,
    /// `LISTEN` connection, job runner and socket. Panics on SQLite (one node only).
    pub fn second_node(&self) -> Relay {
        let url = self.database.as_ref().map(|d| d.url.clone()).expect("a second node needs PostgreSQL");
        // The same photo folder: nodes share photo bytes through it (docs/deployment.md).
        Self::serve(temp_dir(), self.dir.path().join("relay"), Some(url), None, seeded_template(), &|_| {})
    }

    fn serve(
        dir: tempfile::TempDir,
        data: PathBuf,
        url: Option<String>,
        database: Option<TestDatabase>,
        template: &Template,
        configure: &dyn Fn(&mut Config),
    ) -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
        let mut config = Config::new(data);
        config.password_cost = PasswordCost::insecure_for_tests();
        config.database_url = url;
        configure(&mut config);
        let state = runtime.block_on(config.open()).expect("relay state");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))))
            .expect("bind loopback");
        let address = listener.local_addr().expect("bound address");
        let app = fieldsync_server::app(state.clone());
        runtime.spawn(fieldsync_server::jobs::run_queue(state.clone()));
        runtime.spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(error) = axum::serve(listener, service).await {
                tracing::error!(%error, "test relay stopped");
            }
        });
        Self { base_url: format!("http://{address}"), state, logins: template.logins.clone(), runtime, dir, database }
    }

    /// The demo login of a username.
    pub fn login_of(&self, username: &str) -> &DemoLogin {
        self.logins.iter().find(|l| l.username == username).unwrap_or_else(|| panic!("no demo user {username}"))
    }

    /// A dashboard page as the demo user `username` sees it, signed in with the login form.
    pub fn dashboard_page(&self, username: &str, path: &str) -> String {
        self.dashboard_page_of(self.login_of(username), path)
    }

    /// A dashboard page as `login` (a demo login or one made by [`Relay::add_user`]) sees it.
    pub fn dashboard_page_of(&self, login: &DemoLogin, path: &str) -> String {
        use fieldsync_server::dashboard::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE};
        let username = &login.username;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let form = format!("tenant={}&username={username}&password={}&csrf=check", login.tenant, login.password);
        let answer = agent
            .post(format!("{}/dashboard/login", self.base_url))
            .header("cookie", format!("{LOGIN_CSRF_COOKIE}=check"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(form)
            .expect("dashboard login");
        let session = answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.strip_prefix(&format!("{SESSION_COOKIE}=")).and_then(|rest| rest.split(';').next()).map(str::to_owned)
            })
            .filter(|token| !token.is_empty())
            .unwrap_or_else(|| panic!("the dashboard login answered {} without a session", answer.status()));
        let mut page = agent
            .get(format!("{}{path}", self.base_url))
            .header("cookie", format!("{SESSION_COOKIE}={session}"))
            .call()
            .expect("dashboard page");
        assert_eq!(page.status().as_u16(), 200, "GET {path}");
        page.body_mut().with_config().limit(64 * 1024 * 1024).read_to_string().expect("a page of text")
    }

    /// Adds a user to the demo tenant (password `demo-<username>`); their login.
    pub fn add_user(&self, username: &str, role: Role, region: Option<&str>) -> DemoLogin {
        use fieldsync_server::services::accounts::{NewAccount, create_user};
        let password = format!("demo-{username}");
        let tenant = fieldsync_server::seed::DEMO_TENANT;
        let account = NewAccount { tenant, username, display_name: "", password: &password, role, region };
        let user = self
            .block_on(create_user(self.state.storage.as_ref(), PasswordCost::insecure_for_tests(), account))
            .expect("create user");
        DemoLogin {
            tenant: tenant.to_owned(),
            username: username.to_owned(),
            password,
            role,
            region: region.map(str::to_owned),
            user_id: user.id,
        }
    }

    /// Signs a new phone in as `login` (a demo login or one made by [`Relay::add_user`]).
    pub fn phone_of(&self, login: &DemoLogin) -> Phone {
        Phone::sign_in_at(
            &self.base_url,
            &login.tenant,
            &login.username,
            &login.password,
            self.dir.path(),
            SyncOptions::default(),
        )
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
        self.phone_with(username, SyncOptions::default())
    }

    /// Signs a new phone in as `username`, its engine tuned with `options`.
    pub fn phone_with(&self, username: &str, options: SyncOptions) -> Phone {
        let demo = self.login_of(username);
        Phone::sign_in_at(&self.base_url, &demo.tenant, username, &demo.password, self.dir.path(), options)
    }

    /// Signs a new phone in as `username` that holds what a first sync with a freshly started
    /// relay brings. The first such phone per user syncs for real and its database files are
    /// kept; later ones start from a copy (a first sync downloads the whole scope, which would
    /// dominate a simulation of many short runs). Only for a relay nobody has changed yet.
    pub fn synced_phone(&self, username: &str) -> Phone {
        static SYNCED: Mutex<Vec<(String, Files)>> = Mutex::new(Vec::new());
        assert_eq!(
            self.feed_position(),
            seeded_template().feed_position,
            "synced_phone is only for a relay nobody has changed yet"
        );
        let known = SYNCED.lock().unwrap().iter().find(|(u, _)| u == username).map(|(_, files)| files.clone());
        let demo = self.login_of(username);
        match known {
            Some(files) => {
                Phone::sign_in_with_files(&self.base_url, demo, self.dir.path(), &files, SyncOptions::default())
            }
            None => {
                let phone = self.phone(username);
                phone.sync();
                let mut files = Vec::new();
                let name = phone.path.file_name().expect("file name").to_string_lossy().into_owned();
                for entry in std::fs::read_dir(self.dir.path()).expect("read directory") {
                    let entry = entry.expect("directory entry");
                    let file = entry.file_name().to_string_lossy().into_owned();
                    if let Some(suffix) = file.strip_prefix(&name)
                        && suffix != "-shm"
                    {
                        files.push((PathBuf::from(suffix), std::fs::read(entry.path()).expect("read file")));
                    }
                }
                SYNCED.lock().unwrap().push((username.to_owned(), files));
                phone
            }
        }
    }

    /// Runs a task on the relay's runtime: a second job runner on the same queue, as another
    /// relay node would run.
    pub fn spawn<F>(&self, future: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.runtime.spawn(future);
    }

    /// Waits (up to `limit`) until the relay's job queue has nothing running or due within a
    /// minute (a failed job's retries included; approval deadlines hours ahead are not work to
    /// wait for), so the documents the relay writes after a change (reviews, scores) are stored
    /// before a check. Returns whether it became idle.
    pub fn wait_for_jobs(&self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let soon = self.state.clock.now() + 60_000;
            let busy = self.block_on(self.state.storage.jobs_before(soon)).expect("job counts");
            if busy == 0 {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The demo tenant's numeric id.
    pub fn tenant_id(&self) -> i64 {
        self.block_on(self.state.storage.find_tenant(fieldsync_server::seed::DEMO_TENANT))
            .expect("find tenant")
            .expect("demo tenant exists")
            .id
    }

    /// A document as the relay stores it in the demo tenant.
    pub fn stored(&self, id: &DocumentId) -> Option<StoredDoc> {
        self.block_on(self.state.storage.load_doc(self.tenant_id(), id)).expect("load doc")
    }

    /// The demo tenant's change-feed position.
    pub fn feed_position(&self) -> u64 {
        self.block_on(self.state.storage.feed_position(self.tenant_id())).expect("feed position")
    }

    /// The ids the relay would let a demo user's devices hold.
    pub fn scope_ids(&self, username: &str) -> Vec<DocumentId> {
        let demo = self.login_of(username);
        let scope = Scope { role: demo.role, user_id: demo.user_id.clone(), region: demo.region.clone() };
        let mut ids: Vec<DocumentId> = self
            .block_on(self.state.storage.manifest(self.tenant_id(), &scope, &[]))
            .expect("manifest")
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids
    }

    /// The relay's data directory's parent (phones keep their files there too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs a future on the relay's runtime (for direct storage checks).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The payloads of the demo tenant's events of `event_type` in its outbox, oldest first.
    pub fn events_of_type(&self, event_type: &str) -> Vec<serde_json::Value> {
        let types = [event_type.to_owned()];
        let stored = self.block_on(self.state.storage.events_after(self.tenant_id(), 0, &types, 10_000));
        stored
            .expect("read the outbox")
            .into_iter()
            .map(|e| serde_json::from_str(&e.event.payload).expect("a JSON payload"))
            .collect()
    }
}

static PHONES: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary directory: under `FIELDSYNC_TEST_TMPDIR` when set, else in `/dev/shm` when
/// the machine has one (the relay and the phones fsync every commit; on a virtual disk that is
/// most of a test's time, and no test here is about power loss), else in the system's temp dir.
pub fn temp_dir() -> tempfile::TempDir {
    let base = match std::env::var_os("FIELDSYNC_TEST_TMPDIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => Some(PathBuf::from("/dev/shm")).filter(|dir| dir.is_dir()),
    };
    match base {
        Some(base) => tempfile::tempdir_in(&base).or_else(|_| tempfile::tempdir()).expect("temp dir"),
        None => tempfile::tempdir().expect("temp dir"),
    }
}

/// Files of a directory: relative path (or file-name suffix) and bytes.
type Files = Vec<(PathBuf, Vec<u8>)>;

/// The files of a relay data directory with the demo tenant seeded (relative path, bytes), and
/// its logins: seeded once per test process, kept in memory, written out for each relay.
struct Template {
    files: Vec<(PathBuf, Vec<u8>)>,
    logins: Vec<DemoLogin>,
    feed_position: u64,
    /// On PostgreSQL: the seeded database every relay of the process copies. Never dropped by
    /// the process that made it (statics are not dropped): the next test process sweeps it.
    database: Option<TemplateDatabase>,
}

struct TemplateDatabase {
    server: String,
    name: String,
}

fn seeded_template() -> &'static Template {
    static TEMPLATE: std::sync::OnceLock<Template> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = temp_dir();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        let mut config = Config::new(dir.path());
        config.password_cost = PasswordCost::insecure_for_tests();
        let database = test_database_url().map(|server| {
            sweep_stale_databases(&server);
            let name = unique_database_name("tpl");
            run_blocking_async(async {
                use fieldsync_server::storage::postgres::admin;
                admin::create_database(&server, &name, None).await?;
                admin::relax_durability(&server, &name).await
            })
            .unwrap_or_else(|e| panic!("cannot create the template database {name}: {e}"));
            TemplateDatabase { server, name }
        });
        config.database_url = database.as_ref().map(|t| database_url(&t.server, &t.name));
        let state = runtime.block_on(config.open()).expect("relay state");
        let report =
            runtime.block_on(seed_demo(state.storage.as_ref(), PasswordCost::insecure_for_tests())).expect("seed");
        let tenant = runtime
            .block_on(state.storage.find_tenant(fieldsync_server::seed::DEMO_TENANT))
            .expect("find tenant")
            .expect("demo tenant");
        let feed_position = runtime.block_on(state.storage.feed_position(tenant.id)).expect("feed position");
        drop(state);
        // Closes the template's connections: PostgreSQL copies only a database nobody is using.
        drop(runtime);
        let mut files = Vec::new();
        read_tree(dir.path(), Path::new(""), &mut files);
        Template { files, logins: report.logins, feed_position, database }
    })
}

// ---------------------------------------------------------------------------------------------
// Backend selection

/// The variable that points the suite at a PostgreSQL server.
pub const TEST_DATABASE_VAR: &str = "FIELDSYNC_TEST_DATABASE";

/// The PostgreSQL server (`postgres://user@host:port/db`; the database named is only used to
/// create and drop others) that every relay of this test process uses, from
/// `FIELDSYNC_TEST_DATABASE`; `None`: SQLite.
pub fn test_database_url() -> Option<String> {
    std::env::var(TEST_DATABASE_VAR).ok().filter(|url| !url.trim().is_empty())
}

/// `sqlite` or `postgres`, for messages.
pub fn backend_name() -> &'static str {
    if test_database_url().is_some() { "postgres" } else { "sqlite" }
}

/// A PostgreSQL database of one relay: created empty or as a copy of a template, dropped (with
/// any connection still open) when this is dropped.
pub struct TestDatabase {
    server: String,
    name: String,
    /// Its URL, for `--database` or [`Config::database_url`].
    pub url: String,
}

impl TestDatabase {
    /// Creates a database with a unique name on `server`, as a copy of `template` when given.
    pub fn create(server: &str, template: Option<&str>) -> Self {
        let name = unique_database_name("r");
        run_blocking_async(async {
            use fieldsync_server::storage::postgres::admin;
            admin::create_database(server, &name, template).await?;
            // Tests kill relays, never the PostgreSQL server: commits need not wait for the disk.
            admin::relax_durability(server, &name).await
        })
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        Self { server: server.to_owned(), url: database_url(server, &name), name }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let dropped =
            run_blocking_async(fieldsync_server::storage::postgres::admin::drop_database(&self.server, &self.name));
        if let Err(error) = dropped {
            eprintln!("cannot drop test database {}: {error}", self.name);
        }
    }
}

/// Prefix of every database the harness creates: `fieldsync_t_<pid>_…`.
const DATABASE_PREFIX: &str = "fieldsync_t_";

fn unique_database_name(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{DATABASE_PREFIX}{}_{tag}{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
}

fn database_url(server: &str, name: &str) -> String {
    fieldsync_server::storage::postgres::admin::with_database(server, name)
        .unwrap_or_else(|e| panic!("{TEST_DATABASE_VAR} is not a usable PostgreSQL URL: {e}"))
}

/// Drops the databases of test processes that are gone (templates outlive their process, and a
/// killed test leaves its relays' databases behind).
fn sweep_stale_databases(server: &str) {
    use fieldsync_server::storage::postgres::admin;
    let names = run_blocking_async(admin::databases_with_prefix(server, DATABASE_PREFIX))
        .unwrap_or_else(|e| panic!("cannot reach the PostgreSQL server of {TEST_DATABASE_VAR}: {e}"));
    for name in names {
        let pid = name.strip_prefix(DATABASE_PREFIX).and_then(|rest| rest.split('_').next());
        let alive = pid.is_some_and(|pid| Path::new("/proc").join(pid).exists());
        if !alive && let Err(error) = run_blocking_async(admin::drop_database(server, &name)) {
            eprintln!("cannot drop stale test database {name}: {error}");
        }
    }
}

/// Runs a future to completion on a runtime of its own, on a thread of its own (callers may be
/// inside another runtime, or in a `Drop`).
fn run_blocking_async<F>(future: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime")
                    .block_on(future)
            })
            .join()
            .expect("database administration thread")
    })
}

/// Reads every file under `root/relative`, leaving out SQLite's shared-memory index (rebuilt
/// from the write-ahead log when the copy is opened).
fn read_tree(root: &Path, relative: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(root.join(relative)).expect("read directory") {
        let entry = entry.expect("directory entry");
        let path = relative.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            read_tree(root, &path, files);
        } else if !entry.file_name().to_string_lossy().ends_with("-shm") {
            files.push((path, std::fs::read(entry.path()).expect("read file")));
        }
    }
}

fn write_tree(root: &Path, files: &[(PathBuf, Vec<u8>)]) {
    std::fs::create_dir_all(root).expect("create directory");
    for (path, bytes) in files {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("create directory");
        }
        std::fs::write(target, bytes).expect("write file");
    }
}

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
    /// The user signed in.
    pub username: String,
}

impl Phone {
    /// Signs a new phone in to the relay at `base_url`, keeping its database in `dir`.
    pub fn sign_in_at(
        base_url: &str,
        tenant: &str,
        username: &str,
        password: &str,
        dir: &Path,
        options: SyncOptions,
    ) -> Self {
        let n = PHONES.fetch_add(1, Ordering::SeqCst);
        let device = format!("{username} phone {n}");
        let session = login(base_url, tenant, username, password, &device).expect("login");
        let path = dir.join(format!("phone-{n}.db"));
        let store = Arc::new(LocalStore::open(&path).expect("open phone store"));
        let role: Role = session.role.parse().expect("role");
        store
            .set_identity(&Identity { tenant: tenant.to_owned(), user_id: session.user_id.clone(), role })
            .expect("identity");
        let network = Arc::new(FlakyTransport::new(HttpTransport::new(base_url, &session.token)));
        let engine = Arc::new(SyncEngine::with_options(store.clone(), network.clone(), options));
        Self { store, engine, network, session, path, username: username.to_owned() }
    }

    fn sign_in_with_files(
        base_url: &str,
        demo: &DemoLogin,
        dir: &Path,
        files: &[(PathBuf, Vec<u8>)],
        options: SyncOptions,
    ) -> Self {
        // Write the database before opening it: log in first only to learn the file name.
        let n = PHONES.fetch_add(1, Ordering::SeqCst);
        let device = format!("{} phone {n}", demo.username);
        let session = login(base_url, &demo.tenant, &demo.username, &demo.password, &device).expect("login");
        let path = dir.join(format!("phone-{n}.db"));
        for (suffix, bytes) in files {
            let mut target = path.clone().into_os_string();
            target.push(suffix);
            std::fs::write(target, bytes).expect("write phone database");
        }
        let store = Arc::new(LocalStore::open(&path).expect("open phone store"));
        let network = Arc::new(FlakyTransport::new(HttpTransport::new(base_url, &session.token)));
        let engine = Arc::new(SyncEngine::with_options(store.clone(), network.clone(), options));
        Self { store, engine, network, session, path, username: demo.username.clone() }
    }

    /// Every document this phone holds, by id, as plain values (automerge's hydrate).
    pub fn documents(&self) -> Vec<(DocumentId, automerge::hydrate::Value)> {
        let mut held: Vec<DocumentId> =
            self.store.held_heads(&Default::default()).expect("held heads").into_iter().map(|(id, _)| id).collect();
        held.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        held.into_iter()
            .map(|id| {
                let bytes = self.store.document_bytes(&id).expect("document bytes");
                (id, hydrate(&bytes))
            })
            .collect()
    }

    /// Syncs now, panicking on failure (for tests where the network is up).
    pub fn sync(&self) -> fieldsync_core::sync::SyncReport {
        self.engine.sync_now().unwrap_or_else(|e| panic!("sync failed: {e}"))
    }
}

/// A saved automerge document as plain values.
pub fn hydrate(bytes: &[u8]) -> automerge::hydrate::Value {
    automerge::Automerge::load(bytes).expect("a loadable automerge document").hydrate(None)
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
    /// Photo calls (`blob_state` and `upload_blob`) still allowed before the photo link drops;
    /// `None`: no limit.
    photo_calls_left: Mutex<Option<u64>>,
    /// Upload requests reach the relay but their answers are lost.
    lose_upload_answers: std::sync::atomic::AtomicBool,
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
            photo_calls_left: Mutex::new(None),
            lose_upload_answers: std::sync::atomic::AtomicBool::new(false),
            photo_bytes_delivered: AtomicU64::new(0),
            round_trips: AtomicU64::new(0),
        }
    }

    /// Sets the weather for the next requests.
    pub fn set(&self, weather: Weather) {
        *self.weather.lock().unwrap_or_else(|p| p.into_inner()) = weather;
    }

    /// Lets `calls` more photo requests through, then drops every photo request (an upload that
    /// breaks off mid-way); sync round trips are not affected. `None` lifts the limit.
    pub fn photo_calls_allowed(&self, calls: Option<u64>) {
        *self.photo_calls_left.lock().unwrap_or_else(|p| p.into_inner()) = calls;
    }

    /// Photo uploads reach the relay but their answers are lost (existence checks and sync
    /// round trips are unaffected): a weak signal that breaks just after sending.
    pub fn lose_upload_answers(&self, lose: bool) {
        self.lose_upload_answers.store(lose, Ordering::SeqCst);
    }

    fn photo_call(&self) -> Result<(), TransportError> {
        let mut left = self.photo_calls_left.lock().unwrap_or_else(|p| p.into_inner());
        match left.as_mut() {
            None => Ok(()),
            Some(0) => Err(TransportError::Unreachable("photo upload cut off".to_owned())),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
        }
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
    fn round_trip(&self, request: Vec<u8>, answer_budget: usize) -> Result<Vec<u8>, TransportError> {
        self.pass(|| {
            let answer = self.inner.round_trip(request, answer_budget);
            self.round_trips.fetch_add(1, Ordering::SeqCst);
            answer
        })
    }

    fn blob_state(&self, sha256: &str) -> Result<BlobState, TransportError> {
        self.photo_call()?;
        self.pass(|| self.inner.blob_state(sha256))
    }

    fn upload_blob(&self, sha256: &str, offset: u64, total: u64, chunk: &[u8]) -> Result<BlobState, TransportError> {
        self.photo_call()?;
        let answer = self.pass(|| {
            let answer = self.inner.upload_blob(sha256, offset, total, chunk);
            if answer.is_ok() {
                self.photo_bytes_delivered.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            answer
        })?;
        if self.lose_upload_answers.load(Ordering::SeqCst) {
            return Err(TransportError::Unreachable("response lost".to_owned()));
        }
        Ok(answer)
    }
}

/// One raw HTTP exchange, for tests that send what no phone would.
#[derive(Debug)]
pub struct HttpAnswer {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: ureq::http::HeaderMap,
    /// Response body.
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// The body as JSON (panics with the body shown when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("status {} body is not JSON ({e}): {:?}", self.status, String::from_utf8_lossy(&self.body))
        })
    }

    /// The `error.code` of a JSON error body, after checking the body has the `{error: {code,
    /// message}}` shape.
    pub fn error_code(&self) -> String {
        let json = self.json();
        let message = json["error"]["message"].as_str();
        assert!(message.is_some_and(|m| !m.is_empty()), "error without a message: {json}");
        json["error"]["code"].as_str().unwrap_or_else(|| panic!("error without a code: {json}")).to_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

/// Sends one request: `method url`, with a bearer token, extra headers and a body.
pub fn http(method: &str, url: &str, token: Option<&str>, headers: &[(&str, &str)], body: Vec<u8>) -> HttpAnswer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = if body.is_empty() && matches!(method, "GET" | "HEAD") {
        agent.run(request.body(()).expect("a well-formed request"))
    } else {
        agent.run(request.body(body).expect("a well-formed request"))
    };
    let mut response = response.unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.body_mut().with_config().limit(64 * 1024 * 1024).read_to_vec().unwrap_or_default();
    HttpAnswer { status, headers, body }
}

/// The `fieldsync-server` binary, built next to this test executable (built now if missing).
pub fn server_binary() -> PathBuf {
    // target/debug/deps/<test> -> target/debug/fieldsync-server
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target profile directory");
    let binary = profile_dir.join(format!("fieldsync-server{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args(["build", "-p", "fieldsync-server", "--bin", "fieldsync-server"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build of fieldsync-server failed");
    }
    assert!(binary.exists(), "no relay binary at {}", binary.display());
    binary
}

/// A login printed by `fieldsync-server admin seed-demo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedLogin {
    /// Tenant name.
    pub tenant: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Role.
    pub role: String,
    /// Region, if any.
    pub region: Option<String>,
}

/// The relay as a separate process of the real binary, on a data directory that outlives it.
pub struct RelayProcess {
    /// `http://127.0.0.1:PORT` of the running process.
    pub base_url: String,
    /// The logins `seed-demo` printed.
    pub logins: Vec<PrintedLogin>,
    /// The data directory.
    pub data: PathBuf,
    /// `--database` of the process, on PostgreSQL.
    pub database_url: Option<String>,
    /// More arguments of every `serve` (`--nats URL`, …).
    pub serve_args: Vec<String>,
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Held to be dropped after the process is killed.
    _database: Option<TestDatabase>,
}

impl RelayProcess {
    /// Seeds the demo tenant with `admin seed-demo` into a fresh data directory and serves it.
    /// With [`test_database_url`] set, on a fresh PostgreSQL database of its own.
    pub fn seed_and_serve() -> Self {
        Self::seed_and_serve_with(&[])
    }

    /// [`RelayProcess::seed_and_serve`], with more arguments to every `serve`.
    pub fn seed_and_serve_with(serve_args: &[&str]) -> Self {
        let dir = temp_dir();
        let data = dir.path().join("relay");
        let database = test_database_url().map(|server| TestDatabase::create(&server, None));
        let database_url = database.as_ref().map(|d| d.url.clone());
        let output = Command::new(server_binary())
            .args(["admin", "--data"])
            .arg(&data)
            .arg("seed-demo")
            .env("RUST_LOG", "warn")
            .env("FIELDSYNC_DATABASE", database_url.as_deref().unwrap_or(""))
            .output()
            .expect("run seed-demo");
        assert!(output.status.success(), "seed-demo failed: {}", String::from_utf8_lossy(&output.stderr));
        let logins = parse_logins(&String::from_utf8_lossy(&output.stdout));
        assert!(!logins.is_empty(), "seed-demo printed no logins");
        let serve_args = serve_args.iter().map(|a| (*a).to_owned()).collect();
        let mut relay = Self {
            base_url: String::new(),
            logins,
            data,
            database_url,
            serve_args,
            child: None,
            dir,
            _database: database,
        };
        relay.serve();
        relay
    }

    /// Starts `serve` on the data directory and waits until it listens: on a free port the first
    /// time, then on the same port again (so phones signed in before a restart reach it).
    pub fn serve(&mut self) {
        assert!(self.child.is_none(), "the relay is already running");
        let listen = self.base_url.strip_prefix("http://").unwrap_or("127.0.0.1:0").to_owned();
        // The old process's port can take a moment to be free again.
        for attempt in 0.. {
            let mut child = Command::new(server_binary())
                .args(["serve", "--listen", &listen, "--data"])
                .arg(&self.data)
                .args(&self.serve_args)
                .env("RUST_LOG", "warn")
                .env("FIELDSYNC_DATABASE", self.database_url.as_deref().unwrap_or(""))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("start the relay");
            let stdout = child.stdout.take().expect("relay stdout");
            let mut lines = std::io::BufReader::new(stdout).lines();
            let address = lines.find_map(|line| {
                line.ok().and_then(|line| line.trim().strip_prefix("listening on ").map(str::to_owned))
            });
            match address {
                Some(address) => {
                    // Keep draining stdout so the relay never blocks on a full pipe.
                    std::thread::spawn(move || lines.for_each(drop));
                    self.base_url = address;
                    self.child = Some(child);
                    return;
                }
                None => {
                    let status = child.wait().expect("reap the relay");
                    assert!(attempt < 50, "the relay did not start on {listen}: {status}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// Kills the relay with SIGKILL (no shutdown code runs) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill the relay");
            child.wait().expect("reap the relay");
        }
    }

    /// A printed login.
    pub fn login_of(&self, username: &str) -> &PrintedLogin {
        self.logins.iter().find(|l| l.username == username).unwrap_or_else(|| panic!("no demo user {username}"))
    }

    /// Usernames with a role, sorted.
    pub fn users(&self, role: &str) -> Vec<String> {
        let mut users: Vec<String> =
            self.logins.iter().filter(|l| l.role == role).map(|l| l.username.clone()).collect();
        users.sort();
        users
    }

    /// Signs a new phone in (against the currently running process).
    pub fn phone(&self, username: &str) -> Phone {
        self.phone_with(username, SyncOptions::default())
    }

    /// Signs a new phone in, its engine tuned with `options`.
    pub fn phone_with(&self, username: &str, options: SyncOptions) -> Phone {
        let login = self.login_of(username);
        Phone::sign_in_at(&self.base_url, &login.tenant, username, &login.password, self.dir.path(), options)
    }

    /// Whether the process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Parses the logins table `seed-demo` prints (`tenant username password role region`).
pub fn parse_logins(stdout: &str) -> Vec<PrintedLogin> {
    let mut rows = stdout.lines().skip_while(|line| !line.starts_with("tenant ")).skip(1);
    let mut logins = Vec::new();
    for line in rows.by_ref() {
        let cells: Vec<&str> = line.split_whitespace().collect();
        if let [tenant, username, password, role, region] = cells[..] {
            logins.push(PrintedLogin {
                tenant: tenant.to_owned(),
                username: username.to_owned(),
                password: password.to_owned(),
                role: role.to_owned(),
                region: (region != "-").then(|| region.to_owned()),
            });
        }
    }
    logins
}

/// `POST /v1/sync` with raw bytes and a token (the body need not be a valid request).
pub fn post_sync(base_url: &str, token: &str, body: Vec<u8>) -> HttpAnswer {
    let content_type = [("content-type", "application/x-fieldsync-sync")];
    http("POST", &format!("{base_url}/v1/sync"), Some(token), &content_type, body)
}

/// One sync round trip sent by hand (what no honest phone would send), answered 200.
pub fn sync_round(
    base_url: &str,
    token: &str,
    request: &fieldsync_core::sync::protocol::SyncRequest,
) -> fieldsync_core::sync::protocol::SyncResponse {
    let answer = post_sync(base_url, token, fieldsync_core::sync::protocol::encode(request));
    assert_eq!(answer.status, 200, "sync answered {}: {}", answer.status, String::from_utf8_lossy(&answer.body));
    fieldsync_core::sync::protocol::decode(&answer.body).expect("a sync response")
}

/// A photo fixture of the core crate (`core/tests/fixtures/photos/NAME`).
pub fn photo_fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/photos").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub use fieldsync_core::photo::{CameraExif, with_camera_exif};

/// A fixture photo as a camera hands it over: a JPEG (PNG fixtures re-encoded) whose EXIF says
/// it was taken at `at` (ms since the Unix epoch, written with a `+00:00` offset) at `position`.
pub fn camera_photo(name: &str, at: i64, position: (f64, f64)) -> Vec<u8> {
    let bytes = photo_fixture(name);
    let jpeg = if name.ends_with(".jpg") {
        bytes
    } else {
        let mut out = std::io::Cursor::new(Vec::new());
        image::load_from_memory(&bytes)
            .expect("decode")
            .to_rgb8()
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("encode");
        out.into_inner()
    };
    let taken = jiff::Timestamp::from_millisecond(at).expect("time").strftime("%Y:%m:%d %H:%M:%S").to_string();
    with_camera_exif(&jpeg, &CameraExif { taken_at: &taken, offset: Some("+00:00"), position })
}

/// A small real JPEG (chelsea.jpg at a long side of 160 to 200 pixels, brightened by `seed`),
/// about 5 to 10 KB, different for every seed: a phone's photo queue without megabytes.
pub fn small_photo(seed: u32) -> Vec<u8> {
    static SOURCE: std::sync::OnceLock<image::DynamicImage> = std::sync::OnceLock::new();
    let source = SOURCE.get_or_init(|| image::load_from_memory(&photo_fixture("chelsea.jpg")).expect("chelsea.jpg"));
    let side = 160 + (seed % 5) * 10;
    let mut small = source.resize(side, side, image::imageops::FilterType::Triangle).to_rgb8();
    let lift = (seed / 5 % 40) as u8;
    for pixel in small.pixels_mut() {
        pixel.0[0] = pixel.0[0].saturating_add(lift);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&small).expect("encode a jpeg");
    out.into_inner()
}

/// Checks the phone's supervisor in at the `store`-th store of their scope, with the first
/// template; the new inspection's id.
pub fn check_in(phone: &Phone, store: usize) -> DocumentId {
    let stores = phone.store.stores().expect("stores");
    let (store_id, place) = &stores[store % stores.len()];
    let (template_id, _) = phone.store.templates().expect("templates").into_iter().next().expect("a template");
    let position =
        fieldsync_core::doc::GeoFix { latitude: place.latitude, longitude: place.longitude, accuracy_m: 6.0 };
    phone
        .store
        .check_in(fieldsync_core::local_store::CheckIn {
            store_id: store_id.to_string(),
            template_id: template_id.to_string(),
            at: fieldsync_core::clock::now_ms(),
            position,
        })
        .expect("check in")
}

/// Checks in and takes `count` small photos ([`small_photo`]); the inspection and the bytes
/// queued for upload.
pub fn queue_photos(phone: &Phone, count: u32) -> (DocumentId, u64) {
    let inspection = check_in(phone, 0);
    let (_, template) = phone.store.templates().expect("templates").into_iter().next().expect("a template");
    let items = template.items_in_order();
    let mut payload = 0;
    for i in 0..count {
        let capture =
            fieldsync_core::local_store::PhotoCapture { captured_at: fieldsync_core::clock::now_ms(), position: None };
        let item = items[i as usize % items.len()].0.as_str();
        let added = phone.store.add_photo(&inspection, item, &small_photo(i), capture).expect("add photo");
        payload += added.reference.byte_size;
    }
    (inspection, payload)
}

/// A rep's new order of one product at their first store.
pub fn new_order(phone: &Phone) -> DocumentId {
    let (store_id, _) = phone.store.stores().expect("stores").into_iter().next().expect("a store");
    let catalog = phone.store.catalog().expect("catalog");
    let sku = catalog.products.iter().find(|(_, p)| p.active).expect("an active product").0.clone();
    let price = phone.store.product(&sku).expect("product").base_price_cents;
    let line = fieldsync_core::local_store::LineInput { sku, qty: 2, unit_price_cents: price, discount_bp: 0 };
    phone
        .store
        .create_order(fieldsync_core::local_store::NewOrder {
            store_id: store_id.to_string(),
            lines: vec![line],
            notes: String::new(),
        })
        .expect("create order")
}

/// Creates `count` reps `{prefix}-{i}` (password `pw-{prefix}-{i}`) in `region` of the demo
/// tenant through the relay's command line, each with a store of its own (one `stores` import),
/// so that each rep's phone holds and pulls only its own orders. `storage` are the command's
/// storage arguments (`["--data", DIR]` or `["--database", URL]`); `supervisor` is the region's
/// supervisor, whom the stores name. Existing users of the same name are an error.
pub fn create_field_reps(
    server: &Path,
    storage: &[String],
    region: &str,
    supervisor: &str,
    prefix: &str,
    count: usize,
) -> Result<Vec<PrintedLogin>, String> {
    let tenant = fieldsync_server::seed::DEMO_TENANT;
    let run = |args: &[String]| -> Result<(), String> {
        let output = Command::new(server)
            .args(args)
            .args(storage)
            .env("RUST_LOG", "warn")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", server.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!("{} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()))
        }
    };
    // A few at a time: each creation hashes a password (argon2, tens of milliseconds).
    let next = AtomicU64::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                    if i >= count {
                        break;
                    }
                    let username = format!("{prefix}-{i}");
                    let password = format!("pw-{username}");
                    let args: Vec<String> =
                        ["admin", "create-user", "--tenant", tenant, "--username", &username, "--password"]
                            .iter()
                            .map(|s| (*s).to_owned())
                            .chain([password, "--role".into(), "rep".into(), "--region".into(), region.to_owned()])
                            .collect();
                    if let Err(error) = run(&args) {
                        failures.lock().unwrap_or_else(|p| p.into_inner()).push(error);
                        break;
                    }
                }
            });
        }
    });
    if let Some(error) = failures.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().next() {
        return Err(error);
    }
    let mut logins = Vec::with_capacity(count);
    let mut csv = String::from("name,address,customer_id,region,tier,latitude,longitude,rep,supervisor\n");
    for i in 0..count {
        let username = format!("{prefix}-{i}");
        let password = format!("pw-{username}");
        let latitude = 53.0 + (i % 1000) as f64 / 10_000.0;
        csv.push_str(&format!(
            "Store of {username},{i} Load Street,C-{username},{region},B,{latitude:.4},10.0000,{username},{supervisor}\n"
        ));
        logins.push(PrintedLogin {
            tenant: tenant.to_owned(),
            username,
            password,
            role: "rep".to_owned(),
            region: Some(region.to_owned()),
        });
    }
    let file = tempfile::NamedTempFile::new().map_err(|e| format!("cannot create the stores file: {e}"))?;
    std::fs::write(file.path(), csv).map_err(|e| format!("cannot write the stores file: {e}"))?;
    let path = file.path().to_string_lossy().into_owned();
    run(&["import".into(), "--tenant".into(), tenant.to_owned(), "stores".into(), path])?;
    Ok(logins)
}

/// The nearest-rank percentile `p` (0–100) of `sorted` values (NaN when there are none).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The bytes of each answer a phone received, noted by its sync listener (set it with
/// `engine.set_listener`).
#[derive(Default)]
pub struct AnswerSizes(Mutex<Vec<u64>>);

impl fieldsync_core::sync::SyncListener for AnswerSizes {
    fn on_round(&self, report: &fieldsync_core::sync::SyncReport) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(report.bytes_received);
    }
}

impl AnswerSizes {
    /// Each answer's bytes, in order (the listener sees running totals).
    pub fn each(&self) -> Vec<u64> {
        let totals = self.0.lock().unwrap_or_else(|e| e.into_inner());
        totals.iter().scan(0, |before, total| Some(total - std::mem::replace(before, *total))).collect()
    }
}
