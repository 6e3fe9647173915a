//! `load`: a fleet of simulated devices against one or more relays, for a set time, printing
//! syncs per second, latencies, errors by kind and the relays' memory. It measures and prints;
//! it never asserts on a timing.
//!
//! ```text
//! cargo build --release -p fieldsync-server -p fieldsync-tests
//! cargo run --release -p fieldsync-tests --bin load -- --devices 1000 --duration 60
//! cargo run --release -p fieldsync-tests --bin load -- --relay http://127.0.0.1:8080 --relay-pid 4242
//! ```
//!
//! Without `--relay`, it starts one SQLite relay itself (`fieldsync-server` next to this
//! executable, or `--server`) on `127.0.0.1:0` in a temporary data directory seeded with
//! `admin seed-demo`, and creates the reps the fleet needs (`--devices-per-rep` devices each, a
//! store of its own per rep). With `--relay URL` (repeatable; devices are spread over the relays
//! round-robin), the tenant must be prepared already: pass the relays' storage with `--data DIR`
//! (SQLite) or `--database postgres://… --data DIR` (PostgreSQL and the nodes' shared photo
//! folder) and the reps are created through it, or
//! `--demo-reps` to spread the devices over the ten demo reps (passwords `demo-<username>`).
//! Only loopback relays are accepted: this tool sends load, and only to this machine.
//!
//! Each device is a real phone database ([`LocalStore`] in a temporary directory, in /dev/shm
//! when it exists) with the real [`SyncEngine`] over HTTP. It logs in, syncs its scope (the
//! connect phase), reconnects once with the token it holds, as on a morning (the reconnect
//! phase: no login, a new connection), then, for `--duration` seconds, creates orders (`--orders-per-min`) and — one
//! device in `--supervisor-every`, signed in as its region's demo supervisor — adds photos to an
//! open inspection (`--photos-per-min`), syncing after each. `--live` also holds each device's
//! `/v1/ws` connection and counts the notices it brings. A watchdog ends the run
//! `--hard-stop` seconds after the planned end whatever happens.
//!
//! `--stored-docs N` (with a relay it starts) first stores N order documents that no device
//! syncs (owned by no fleet user), straight into the SQLite file, then starts the relay: the
//! relay's memory then shows whether it keeps documents nobody is syncing.
//!
//! Memory: `VmRSS` and `VmHWM` from `/proc/<pid>/status` of the relays it started or was given
//! (`--relay-pid`), sampled every 100 ms during the run (the peak of the samples is printed next
//! to `VmHWM`, which counts from the process start).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::error::Error;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use fieldsync_core::doc::{GeoFix, Order, OrderLine, OrderStatus};
use fieldsync_core::local_store::{CheckIn, LineInput, NewOrder, PhotoCapture};
use fieldsync_core::sync::{HttpTransport, Session, SyncEngine, SyncError, TransportError, login};
use fieldsync_core::{DocKind, DocumentId, Identity, LocalStore, Role};
use fieldsync_tests::PrintedLogin;
use fieldsync_tests::process::{ChildRelay, CpuSample, bench_server_binary, mb, memory, seed_demo};

type LoadResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// A fleet of simulated devices against loopback relays, for a set time.
#[derive(Debug, Parser)]
#[command(name = "load", about)]
struct Cli {
    /// A relay's base URL (`http://127.0.0.1:PORT`); repeat for several nodes. Loopback only.
    /// Without it, one SQLite relay is started here.
    #[arg(long = "relay")]
    relays: Vec<String>,
    /// Process id of a given relay, to report its memory (repeatable).
    #[arg(long = "relay-pid")]
    relay_pids: Vec<u32>,
    /// Simulated devices.
    #[arg(long, default_value_t = 1_000)]
    devices: usize,
    /// Devices per rep (a rep's phone and tablets pull each other's orders).
    #[arg(long, default_value_t = 4)]
    devices_per_rep: usize,
    /// Every Nth device is a supervisor's (the region's demo supervisor) taking photos; 0: none.
    #[arg(long, default_value_t = 10)]
    supervisor_every: usize,
    /// Seconds of steady load after every device connected.
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// Seconds after the planned end at which the run is stopped whatever happens.
    #[arg(long, default_value_t = 120.0)]
    hard_stop: f64,
    /// Orders per minute per rep device (each followed by a sync).
    #[arg(long, default_value_t = 2.0)]
    orders_per_min: f64,
    /// Photos per minute per supervisor device (each followed by a sync that uploads it).
    #[arg(long, default_value_t = 1.0)]
    photos_per_min: f64,
    /// Hold a live `/v1/ws` connection per device and count its notices.
    #[arg(long)]
    live: bool,
    /// Threads driving the devices' actions.
    #[arg(long, default_value_t = 32)]
    threads: usize,
    /// Threads signing devices in and running their first sync.
    #[arg(long, default_value_t = 8)]
    connect_threads: usize,
    /// Order documents stored before the relay starts, synced by nobody (only with a relay
    /// started here).
    #[arg(long, default_value_t = 0)]
    stored_docs: usize,
    /// The relay binary (default: `fieldsync-server` next to this executable).
    #[arg(long)]
    server: Option<PathBuf>,
    /// The given relays' data directory, to create the fleet's reps through it.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The given relays' PostgreSQL URL, to create the fleet's reps through it.
    #[arg(long)]
    database: Option<String>,
    /// Spread the devices over the ten demo reps instead of creating reps (given relays).
    #[arg(long)]
    demo_reps: bool,
    /// Print the relays' `VmRSS` every this many seconds during the steady phase (0: only at its
    /// ends). With `--live --orders-per-min 0 --photos-per-min 0` it shows what idle live
    /// connections hold.
    #[arg(long, default_value_t = 0.0)]
    rss_every: f64,
    /// Prefix of the reps created for the fleet (change it to run twice against one database).
    #[arg(long, default_value = "load")]
    rep_prefix: String,
}

fn main() {
    let cli = Cli::parse();
    if let Err(error) = run(&cli) {
        eprintln!("load: {error}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Relays.

/// Refuses anything but `http://` URLs whose host resolves only to loopback addresses.
fn loopback_url(url: &str) -> LoadResult<String> {
    let url = url.trim_end_matches('/');
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("relay {url:?}: only http:// URLs on loopback"))?;
    if rest.contains('/') || rest.contains('@') {
        return Err(format!("relay {url:?}: give the base URL only (http://HOST:PORT)").into());
    }
    let addresses: Vec<IpAddr> = rest
        .to_socket_addrs()
        .map_err(|e| format!("relay {url:?}: cannot resolve {rest:?} (give HOST:PORT): {e}"))?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() || addresses.iter().any(|ip| !ip.is_loopback()) {
        return Err(format!(
            "relay {url:?} is not on loopback ({addresses:?}): this tool sends load only to this machine"
        )
        .into());
    }
    Ok(url.to_owned())
}

/// CPU time of a process so far, in ms (0 when it cannot be read).
fn cpu_ms(pid: u32) -> u64 {
    CpuSample::of(pid).map(|sample| sample.total_ms()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Preparing the tenant.

/// Stores `count` order documents owned by nobody in the fleet, straight into the relay's
/// SQLite file (before the relay starts), many writes at a time (they share group commits).
fn store_documents(data: &Path, count: usize) -> LoadResult<()> {
    use fieldsync_server::scope::Scope;
    use fieldsync_server::storage::sqlite::SqliteStorage;
    use fieldsync_server::storage::{AccountStore, DocStore};

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let storage = SqliteStorage::open(data.join(fieldsync_server::config::DATABASE_FILE))?;
    runtime.block_on(async {
        let tenant =
            storage.find_tenant(fieldsync_server::seed::DEMO_TENANT).await?.ok_or("the demo tenant is missing")?;
        let everything = Scope { role: Role::Hq, user_id: String::new(), region: None };
        let stores = storage.list_docs(tenant.id, &everything, DocKind::Store, 1).await?;
        let store_id = stores.first().ok_or("the demo tenant has no store")?.id.to_string();
        let t = Instant::now();
        let mut writes: tokio::task::JoinSet<Result<DocumentId, fieldsync_server::Error>> = tokio::task::JoinSet::new();
        let (mut stored, mut failed, mut first_error) = (0usize, 0usize, None);
        for i in 0..=count {
            // Keep about 512 writes in flight.
            while writes.len() >= 512 || (i == count && !writes.is_empty()) {
                match writes.join_next().await {
                    Some(Ok(Ok(_))) => stored += 1,
                    Some(Ok(Err(error))) => {
                        failed += 1;
                        first_error.get_or_insert(error.to_string());
                    }
                    Some(Err(error)) => {
                        failed += 1;
                        first_error.get_or_insert(error.to_string());
                    }
                    None => break,
                }
                if stored > 0 && stored % 10_000 == 0 {
                    eprintln!("stored {stored} documents");
                }
            }
            if i == count {
                break;
            }
            let lines = (0..3)
                .map(|l| {
                    let line = OrderLine {
                        sku: format!("SKU-{:03}", 1 + (i + l) % 200),
                        qty: 1 + (i % 12) as i64,
                        unit_price_cents: 250 + (l as i64) * 100,
                        discount_bp: 0,
                        position: l as i64,
                    };
                    (format!("line-{l}"), line)
                })
                .collect();
            let order = Order {
                owner: "archived-rep".to_owned(),
                store_id: store_id.clone(),
                customer_id: "C-ARCHIVE".to_owned(),
                status: OrderStatus::Draft,
                lines,
                notes: format!("archived order {i}"),
                created_at: 1_700_000_000_000 + i as i64,
                updated_at: 1_700_000_000_000 + i as i64,
                submitted_at: None,
                submission: 0,
            };
            let (storage, tenant_id) = (storage.clone(), tenant.id);
            writes
                .spawn(async move { fieldsync_server::documents::create_as_relay(&storage, tenant_id, &order).await });
        }
        if let Some(error) = first_error {
            return Err(format!("{failed} of {count} documents not stored (first: {error})").into());
        }
        println!("stored {stored} order documents nobody syncs in {:.1} s", t.elapsed().as_secs_f64());
        Ok::<(), Box<dyn Error + Send + Sync>>(())
    })
}

// ---------------------------------------------------------------------------------------------
// Devices.

struct Device {
    n: usize,
    store: Arc<LocalStore>,
    /// The relay it talks to and the token it holds, for a reconnect without a login.
    base_url: String,
    token: String,
    engine: SyncEngine,
    supervisor: bool,
    /// An open inspection and the checklist items that take photos (supervisors).
    inspection: Option<(DocumentId, Vec<String>)>,
    _live: Option<fieldsync_core::sync::LiveWatch>,
}

impl Device {
    fn connect(
        n: usize,
        base_url: &str,
        who: &PrintedLogin,
        dir: &Path,
        live: bool,
        notices: &Arc<AtomicU64>,
    ) -> Result<Self, (String, String)> {
        let session: Session = login(base_url, &who.tenant, &who.username, &who.password, &format!("load device {n}"))
            .map_err(|e| ("login".to_owned(), e.to_string()))?;
        let local = |e: fieldsync_core::Error| ("local-store".to_owned(), e.to_string());
        let store = Arc::new(LocalStore::open(dir.join(format!("device-{n}.db"))).map_err(local)?);
        let role: Role = session.role.parse().map_err(|_| ("login".to_owned(), format!("role {}", session.role)))?;
        store
            .set_identity(&Identity { tenant: who.tenant.clone(), user_id: session.user_id.clone(), role })
            .map_err(local)?;
        let engine = SyncEngine::new(store.clone(), Arc::new(HttpTransport::new(base_url, &session.token)));
        engine.sync_now().map_err(|e| (error_kind(&e), e.to_string()))?;
        let supervisor = role == Role::Supervisor;
        let mut device = Self {
            n,
            store,
            base_url: base_url.to_owned(),
            token: session.token.clone(),
            engine,
            supervisor,
            inspection: None,
            _live: None,
        };
        if supervisor {
            device.inspection = Some(device.open_inspection().map_err(|e| ("inspection".to_owned(), e))?);
        }
        if live {
            let notices = notices.clone();
            device._live = Some(fieldsync_core::sync::live::watch(base_url, &session.token, move |_| {
                notices.fetch_add(1, Ordering::Relaxed);
            }));
        }
        Ok(device)
    }

    fn open_inspection(&self) -> Result<(DocumentId, Vec<String>), String> {
        let stores = self.store.stores().map_err(|e| e.to_string())?;
        let (store_id, store) = stores.get(self.n % stores.len().max(1)).ok_or("the supervisor holds no store")?;
        let (template_id, template) =
            self.store.templates().map_err(|e| e.to_string())?.into_iter().next().ok_or("no checklist template")?;
        let items: Vec<String> = template
            .items_in_order()
            .into_iter()
            .filter(|(_, item)| item.requires_photo)
            .map(|(id, _)| id.clone())
            .collect();
        if items.is_empty() {
            return Err("the template asks for no photo".into());
        }
        let position = GeoFix { latitude: store.latitude, longitude: store.longitude, accuracy_m: 8.0 };
        let at = fieldsync_core::clock::now_ms();
        let id = self
            .store
            .check_in(CheckIn { store_id: store_id.to_string(), template_id: template_id.to_string(), at, position })
            .map_err(|e| e.to_string())?;
        Ok((id, items))
    }

    /// One order created "in the shop", then a sync.
    fn take_order(&self, k: u64) -> Result<(), (String, String)> {
        let local = |e: fieldsync_core::Error| ("local-store".to_owned(), e.to_string());
        let stores = self.store.stores().map_err(local)?;
        let catalog = self.store.catalog().map_err(local)?;
        let products: Vec<(&String, i64)> =
            catalog.products.iter().filter(|(_, p)| p.active).map(|(sku, p)| (sku, p.base_price_cents)).collect();
        if stores.is_empty() || products.is_empty() {
            return Err(("local-store".to_owned(), "no store or no product on the device".to_owned()));
        }
        let k = k as usize + self.n * 7919;
        let lines = (0..3)
            .map(|l| {
                let (sku, price) = products[(k * 13 + l * 31) % products.len()];
                LineInput { sku: sku.clone(), qty: 1 + ((k + l) % 12) as i64, unit_price_cents: price, discount_bp: 0 }
            })
            .collect();
        let store_id = stores[k % stores.len()].0.to_string();
        self.store.create_order(NewOrder { store_id, lines, notes: format!("load order {k}") }).map_err(local)?;
        self.sync()
    }

    /// One shelf photo added to the open inspection, then a sync (which uploads it).
    fn take_photo(&self, k: u64) -> Result<(), (String, String)> {
        let Some((inspection, items)) = &self.inspection else { return Ok(()) };
        let bytes = photo(self.n as u64 * 1_000_003 + k).map_err(|e| ("photo".to_owned(), e))?;
        let item = &items[k as usize % items.len()];
        let capture = PhotoCapture { captured_at: fieldsync_core::clock::now_ms(), position: None };
        self.store.add_photo(inspection, item, &bytes, capture).map_err(|e| ("photo".to_owned(), e.to_string()))?;
        self.sync()
    }

    fn sync(&self) -> Result<(), (String, String)> {
        self.engine.sync_now().map(|_| ()).map_err(|e| (error_kind(&e), e.to_string()))
    }
}

/// A unique 640x480 JPEG with some texture (a photo's bytes are its id: no two alike).
fn photo(seed: u64) -> Result<Vec<u8>, String> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    let image = image::RgbImage::from_fn(640, 480, |x, y| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let noise = (state >> 59) as u8;
        let band = ((x / 40 + y / 40) % 2) as u8 * 120;
        image::Rgb([band.wrapping_add(noise), (x % 256) as u8, (y % 256) as u8 ^ noise])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .encode_image(&image)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// A short name for the kind of a sync failure, for the error table.
fn error_kind(error: &SyncError) -> String {
    match error {
        SyncError::Transport(TransportError::Unreachable(_)) => "unreachable".to_owned(),
        SyncError::Transport(TransportError::Unauthenticated(_)) => "unauthenticated".to_owned(),
        SyncError::Transport(TransportError::Revoked(_)) => "revoked".to_owned(),
        SyncError::Transport(TransportError::Refused { status, code, .. }) => format!("refused {status} {code}"),
        SyncError::Transport(TransportError::Server { status, .. }) => format!("server error {status}"),
        SyncError::Protocol(_) => "unreadable answer".to_owned(),
        SyncError::Store(_) => "local-store".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Figures.

#[derive(Default)]
struct Tally {
    latencies: Vec<f64>,
    errors: BTreeMap<String, (u64, String)>,
}

impl Tally {
    fn record(&mut self, seconds: f64, outcome: Result<(), (String, String)>) {
        match outcome {
            Ok(()) => self.latencies.push(seconds),
            Err((kind, message)) => {
                let entry = self.errors.entry(kind).or_insert((0, message));
                entry.0 += 1;
            }
        }
    }

    fn errors(&self) -> u64 {
        self.errors.values().map(|(n, _)| n).sum()
    }

    fn print_errors(&self, what: &str) {
        for (kind, (n, first)) in &self.errors {
            println!("  {what} errors, {kind}: {n} (first: {first})");
        }
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    fieldsync_tests::percentile(values, p)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------------
// The run.

/// The storage arguments of `fieldsync-server admin` for the relays given with `--relay`.
fn storage_args(cli: &Cli) -> LoadResult<Vec<String>> {
    let folder = |dir: &PathBuf| ["--data".to_owned(), dir.to_string_lossy().into_owned()];
    match (&cli.data, &cli.database) {
        // PostgreSQL nodes still name their shared photo folder with --data.
        (Some(dir), Some(url)) => Ok([vec!["--database".to_owned(), url.clone()], folder(dir).to_vec()].concat()),
        (None, Some(_)) => Err("--database needs the relays' shared photo folder too: pass --data DIR".into()),
        (Some(dir), None) => Ok(folder(dir).to_vec()),
        (None, None) => {
            Err("with --relay, pass the relays' --data DIR or --database URL (to create the fleet's reps), or \
                 --demo-reps"
                .into())
        }
    }
}

fn run(cli: &Cli) -> LoadResult<()> {
    if cli.devices == 0 || cli.devices_per_rep == 0 {
        return Err("--devices and --devices-per-rep must be at least 1".into());
    }
    if !(cli.duration >= 0.0 && cli.hard_stop > 0.0 && cli.orders_per_min >= 0.0 && cli.photos_per_min >= 0.0) {
        return Err("--duration, --hard-stop and the rates must be positive numbers".into());
    }
    let tmp = tempfile::Builder::new().prefix("fieldsync-load-").tempdir()?;
    let shm = Path::new("/dev/shm");
    let fleet_dir = tempfile::Builder::new().prefix("fieldsync-load-fleet-").tempdir_in(if shm.is_dir() {
        shm
    } else {
        tmp.path()
    })?;
    let supervisors_wanted = cli.devices.checked_div(cli.supervisor_every).unwrap_or(0);
    let rep_devices = cli.devices - supervisors_wanted;
    let rep_count = rep_devices.div_ceil(cli.devices_per_rep);

    // Relays, and the users the fleet signs in as.
    let mut started: Option<ChildRelay> = None;
    let (relays, pids, demo, fleet_reps): (Vec<String>, Vec<u32>, Vec<PrintedLogin>, Vec<PrintedLogin>) =
        if cli.relays.is_empty() {
            let server = bench_server_binary(cli.server.as_deref())?;
            let data = tmp.path().join("relay");
            let t = Instant::now();
            let demo = seed_demo(&server, &data)?;
            let storage = ["--data".to_owned(), data.to_string_lossy().into_owned()];
            let reps = fieldsync_tests::create_field_reps(
                &server,
                &storage,
                "north",
                "supervisor-north",
                &cli.rep_prefix,
                rep_count,
            )?;
            println!(
                "seeded the demo tenant and created {rep_count} reps with a store each in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            if cli.stored_docs > 0 {
                store_documents(&data, cli.stored_docs)?;
            }
            let relay = ChildRelay::start(&server, &data, &[("RUST_LOG", "warn")])?;
            println!("relay pid {} at {} (SQLite in {})", relay.pid, relay.base_url, data.display());
            let out = (vec![relay.base_url.clone()], vec![relay.pid], demo, reps);
            started = Some(relay);
            out
        } else {
            if cli.stored_docs > 0 {
                return Err("--stored-docs needs a relay started here (no --relay)".into());
            }
            let relays = cli.relays.iter().map(|r| loopback_url(r)).collect::<LoadResult<Vec<_>>>()?;
            let demo: Vec<PrintedLogin> = demo_logins();
            let reps = if cli.demo_reps {
                demo.iter().filter(|l| l.role == "rep").cloned().collect()
            } else {
                let storage = storage_args(cli)?;
                let t = Instant::now();
                let server = bench_server_binary(cli.server.as_deref())?;
                let reps = fieldsync_tests::create_field_reps(
                    &server,
                    &storage,
                    "north",
                    "supervisor-north",
                    &cli.rep_prefix,
                    rep_count,
                )?;
                println!("created {rep_count} reps with a store each in {:.1} s", t.elapsed().as_secs_f64());
                reps
            };
            (relays, cli.relay_pids.clone(), demo, reps)
        };
    let supervisors: Vec<PrintedLogin> = demo.iter().filter(|l| l.role == "supervisor").cloned().collect();
    if fleet_reps.is_empty() || (supervisors_wanted > 0 && supervisors.is_empty()) {
        return Err("no reps (or no supervisors) to sign the fleet in as".into());
    }

    // The watchdog: the run ends by the hard stop whatever happens.
    let stopping = Arc::new(AtomicBool::new(false));
    {
        let kill_relay = started.as_ref().map(ChildRelay::killer);
        let stopping = stopping.clone();
        let connect_allowance = 600.0;
        let limit = Duration::from_secs_f64(connect_allowance + cli.duration + cli.hard_stop);
        std::thread::spawn(move || {
            let t = Instant::now();
            while t.elapsed() < limit {
                std::thread::sleep(Duration::from_millis(200));
            }
            stopping.store(true, Ordering::SeqCst);
            eprintln!("load: hard stop after {:.0} s", limit.as_secs_f64());
            if let Some(kill_relay) = kill_relay {
                kill_relay();
            }
            std::process::exit(2);
        });
    }

    // Memory sampling.
    let peaks: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(vec![0; pids.len()]));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peaks, sampling, pids) = (peaks.clone(), sampling.clone(), pids.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::SeqCst) {
                for (i, pid) in pids.iter().enumerate() {
                    if let Some(m) = memory(*pid) {
                        let mut peaks = lock(&peaks);
                        peaks[i] = peaks[i].max(m.rss_kib);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let print_memory = |when: &str| {
        for (i, pid) in pids.iter().enumerate() {
            if let Some(m) = memory(*pid) {
                println!(
                    "relay {pid} {when}: VmRSS {}, peak sampled {}, VmHWM {}, CPU {:.1} s",
                    mb(m.rss_kib),
                    mb(lock(&peaks)[i]),
                    mb(m.hwm_kib),
                    cpu_ms(*pid) as f64 / 1000.0
                );
            }
        }
    };
    print_memory("before the fleet");

    // Connect: every device logs in and syncs its scope.
    let notices = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let next = AtomicUsize::new(0);
    let devices: Mutex<Vec<Device>> = Mutex::new(Vec::new());
    let connect_tally: Mutex<Tally> = Mutex::new(Tally::default());
    std::thread::scope(|scope| {
        for _ in 0..cli.connect_threads.max(1) {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= cli.devices || stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let who = if n < supervisors_wanted {
                        &supervisors[n % supervisors.len()]
                    } else {
                        &fleet_reps[((n - supervisors_wanted) / cli.devices_per_rep) % fleet_reps.len()]
                    };
                    let relay = &relays[n % relays.len()];
                    let started = Instant::now();
                    let outcome = Device::connect(n, relay, who, fleet_dir.path(), cli.live, &notices);
                    let seconds = started.elapsed().as_secs_f64();
                    match outcome {
                        Ok(device) => {
                            lock(&devices).push(device);
                            lock(&connect_tally).record(seconds, Ok(()));
                        }
                        Err(error) => lock(&connect_tally).record(seconds, Err(error)),
                    }
                }
            });
        }
    });
    let connect_wall = t.elapsed().as_secs_f64();
    let devices = devices.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut connect_tally = connect_tally.into_inner().unwrap_or_else(|p| p.into_inner());
    let connected = connect_tally.latencies.len();
    println!(
        "connect: {connected}/{} devices logged in and synced their scope in {connect_wall:.1} s ({:.1} per second); \
         login + first sync p50 {:.2} s, p99 {:.2} s; {} errors",
        cli.devices,
        connected as f64 / connect_wall,
        percentile(&mut connect_tally.latencies, 50.0),
        percentile(&mut connect_tally.latencies, 99.0),
        connect_tally.errors()
    );
    connect_tally.print_errors("connect");
    print_memory("with every device connected");

    // A morning: every device reconnects with the token it already holds (no login, so no
    // password hashing), on a new connection, and syncs whatever changed.
    let relay_cpu_at_reconnect: u64 = pids.iter().map(|p| cpu_ms(*p)).sum();
    let t = Instant::now();
    let next = AtomicUsize::new(0);
    let reconnect_tally: Mutex<Tally> = Mutex::new(Tally::default());
    std::thread::scope(|scope| {
        for _ in 0..cli.connect_threads.max(1) {
            scope.spawn(|| {
                while let Some(device) = devices.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let started = Instant::now();
                    let transport = Arc::new(HttpTransport::new(&device.base_url, &device.token));
                    let outcome = SyncEngine::new(device.store.clone(), transport)
                        .sync_now()
                        .map(|_| ())
                        .map_err(|e| (error_kind(&e), e.to_string()));
                    lock(&reconnect_tally).record(started.elapsed().as_secs_f64(), outcome);
                }
            });
        }
    });
    let reconnect_wall = t.elapsed().as_secs_f64();
    // The relay's own CPU per reconnect: the rate above shares the machine's cores with the
    // simulated phones, whose side of a sync (reading their local store) runs here too.
    let relay_cpu_reconnect = pids.iter().map(|p| cpu_ms(*p)).sum::<u64>().saturating_sub(relay_cpu_at_reconnect);
    let mut reconnect_tally = reconnect_tally.into_inner().unwrap_or_else(|p| p.into_inner());
    let reconnected = reconnect_tally.latencies.len();
    println!(
        "reconnect: {reconnected}/{} devices reconnected with their tokens in {reconnect_wall:.1} s ({:.1} per second); \
         p50 {:.3} s, p99 {:.3} s; {} errors; relay CPU {:.2} ms per reconnect",
        devices.len(),
        reconnected as f64 / reconnect_wall,
        percentile(&mut reconnect_tally.latencies, 50.0),
        percentile(&mut reconnect_tally.latencies, 99.0),
        reconnect_tally.errors(),
        relay_cpu_reconnect as f64 / reconnected.max(1) as f64,
    );
    reconnect_tally.print_errors("reconnect");

    // Steady load: a schedule of (due time, device, action) worked off by a pool of threads.
    let relay_cpu_before: Vec<u64> = pids.iter().map(|p| cpu_ms(*p)).collect();
    let own_cpu_before = cpu_ms(std::process::id());
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(cli.duration);
    let interval = |per_min: f64| (per_min > 0.0).then(|| Duration::from_secs_f64(60.0 / per_min));
    let (order_every, photo_every) = (interval(cli.orders_per_min), interval(cli.photos_per_min));
    // (due, device index, photo?) in a min-heap; first actions spread over one interval.
    let mut heap = BinaryHeap::new();
    for (i, device) in devices.iter().enumerate() {
        let every = if device.supervisor { photo_every } else { order_every };
        if let Some(every) = every {
            let offset = every.mul_f64((i as f64 * 0.618_033_988_7) % 1.0);
            heap.push(Reverse((start + offset, i)));
        }
    }
    let schedule = (Mutex::new(heap), Condvar::new());
    let tally: Mutex<Tally> = Mutex::new(Tally::default());
    let (orders, photos) = (AtomicU64::new(0), AtomicU64::new(0));
    let late = AtomicU64::new(0);
    std::thread::scope(|scope| {
        if cli.rss_every > 0.0 {
            let (pids, stopping) = (&pids, &stopping);
            scope.spawn(move || {
                let mut at = start;
                while at <= end && !stopping.load(Ordering::SeqCst) {
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    for pid in pids {
                        if let Some(m) = memory(*pid) {
                            let second = at.duration_since(start).as_secs_f64();
                            println!("relay {pid} at {second:.0} s of {:.0} s: VmRSS {}", cli.duration, mb(m.rss_kib));
                        }
                    }
                    at += Duration::from_secs_f64(cli.rss_every);
                }
            });
        }
        for _ in 0..cli.threads.max(1) {
            scope.spawn(|| {
                loop {
                    let (due, i) = {
                        let (heap, wake) = (&schedule.0, &schedule.1);
                        let mut heap = lock(heap);
                        loop {
                            let Some(Reverse((due, i))) = heap.peek().copied() else { return };
                            if due >= end || stopping.load(Ordering::SeqCst) {
                                return;
                            }
                            let now = Instant::now();
                            if due <= now {
                                heap.pop();
                                break (due, i);
                            }
                            heap =
                                wake.wait_timeout(heap, due - now).map(|(h, _)| h).unwrap_or_else(|p| p.into_inner().0);
                        }
                    };
                    let device = &devices[i];
                    if due.elapsed() > Duration::from_secs(1) {
                        late.fetch_add(1, Ordering::Relaxed);
                    }
                    let t = Instant::now();
                    let outcome = if device.supervisor {
                        let k = photos.fetch_add(1, Ordering::Relaxed);
                        device.take_photo(k)
                    } else {
                        let k = orders.fetch_add(1, Ordering::Relaxed);
                        device.take_order(k)
                    };
                    lock(&tally).record(t.elapsed().as_secs_f64(), outcome);
                    let every = if device.supervisor { photo_every } else { order_every };
                    if let Some(every) = every {
                        lock(&schedule.0).push(Reverse((due + every, i)));
                        schedule.1.notify_one();
                    }
                }
            });
        }
    });
    // Devices with nothing to do (rates of 0) still stay connected for the whole duration.
    if !stopping.load(Ordering::SeqCst) {
        std::thread::sleep(end.saturating_duration_since(Instant::now()));
    }
    let steady = start.elapsed().as_secs_f64();
    sampling.store(false, Ordering::SeqCst);
    let _ = sampler.join();
    let mut tally = tally.into_inner().unwrap_or_else(|p| p.into_inner());
    let syncs = tally.latencies.len();
    let relay_cpu: Vec<String> = pids
        .iter()
        .zip(&relay_cpu_before)
        .map(|(p, before)| format!("{:.1} s", cpu_ms(*p).saturating_sub(*before) as f64 / 1000.0))
        .collect();
    println!(
        "steady load for {steady:.1} s on {} relay(s), {} devices ({} taking photos{}): {syncs} syncs ({:.1} per \
         second; {} orders, {} photos); sync latency p50 {:.3} s, p99 {:.3} s; {} errors; {} actions started more \
         than 1 s late; relay CPU {}; this process's CPU {:.1} s{}",
        relays.len(),
        devices.len(),
        devices.iter().filter(|d| d.supervisor).count(),
        if cli.live { ", each live-connected" } else { "" },
        syncs as f64 / steady.max(f64::EPSILON),
        orders.load(Ordering::Relaxed),
        photos.load(Ordering::Relaxed),
        percentile(&mut tally.latencies, 50.0),
        percentile(&mut tally.latencies, 99.0),
        tally.errors(),
        late.load(Ordering::Relaxed),
        relay_cpu.join(" + "),
        cpu_ms(std::process::id()).saturating_sub(own_cpu_before) as f64 / 1000.0,
        if cli.live { format!("; {} live notices", notices.load(Ordering::Relaxed)) } else { String::new() },
    );
    tally.print_errors("sync");
    print_memory("at the end");
    drop(devices);
    drop(started);
    Ok(())
}

/// The demo tenant's reps and supervisors (`admin seed-demo`; passwords are `demo-<username>`),
/// for relays given by URL.
fn demo_logins() -> Vec<PrintedLogin> {
    let login = |username: String, role: &str, region: &str| PrintedLogin {
        tenant: fieldsync_server::seed::DEMO_TENANT.to_owned(),
        password: format!("demo-{username}"),
        username,
        role: role.to_owned(),
        region: Some(region.to_owned()),
    };
    let mut logins: Vec<PrintedLogin> = (1..=10)
        .map(|n| {
            login(
                format!("rep-{n:02}"),
                "rep",
                if n <= 4 {
                    "north"
                } else if n <= 7 {
                    "south"
                } else {
                    "west"
                },
            )
        })
        .collect();
    logins.extend(["north", "south", "west"].map(|region| login(format!("supervisor-{region}"), "supervisor", region)));
    logins
}
