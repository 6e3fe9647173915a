//! `sync_bench`: sync figures of a phone fleet against the real relay binary, printed next to the
//! targets. It measures and prints; it never asserts on a timing.
//!
//! ```text
//! cargo build --release -p fieldsync-server
//! cargo run --release -p fieldsync-tests --bin sync_bench [-- --help]
//! ```
//!
//! The relay is `fieldsync-server` next to this executable (`target/release/` for a release
//! run), started as a child process on `127.0.0.1:0` in a temporary data directory seeded with
//! `admin seed-demo`. Phones are real [`LocalStore`] files with the real [`SyncEngine`] over HTTP.
//!
//! Where the figures come from:
//! - rounds and body bytes: the engine's [`SyncReport`] (sync bodies only);
//! - bytes on the wire (phases a-c): counted at the socket by a pass-through proxy between the
//!   phone and the relay (`fieldsync_tests::shaper`, unshaped), so HTTP headers, chunk framing
//!   and every connection's bytes count, as the phone's radio would carry them;
//! - wall time: every phase prints its own;
//! - relay CPU: `utime + stime` of `/proc/<pid>/stat` in clock ticks (assumed 100 per second, the
//!   Linux default; `getconf CLK_TCK` says 100 on the build machines), so 10 ms resolution, plus
//!   the sum of the relay threads' `/proc/<pid>/task/*/schedstat` run time (nanoseconds) for
//!   figures below a tick;
//! - relay memory: `VmHWM` and `VmRSS` of `/proc/<pid>/status` (the peak is reset before the
//!   concurrent phase through `/proc/<pid>/clear_refs` when the kernel allows it);
//! - phase d's headline, time to verdict: every device opens the relay's live channel right
//!   after its push (`watch_and_sync`, as an app in the foreground holds it); per order, from the
//!   start of the device's push to the end of the sync round that brought the relay's review
//!   onto the phone (the channel's catch-up sync on connect, or one a notice started).
//!
//! No reference column: a comparison with another sync stack is only honest when that stack
//! runs for real on the same machine, which this binary does not do.

use std::collections::HashSet;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use fieldsync_core::local_store::{LineInput, NewOrder};
use fieldsync_core::sync::{
    BlobState, HttpTransport, LiveWatch, Session, SyncEngine, SyncListener, SyncReport, Transport, TransportError,
    login, watch_and_sync,
};
use fieldsync_core::{DocumentId, Identity, LocalStore, Role};
use fieldsync_tests::process::{ChildRelay, CpuSample, bench_server_binary, seed_demo};
use fieldsync_tests::shaper::{LinkConfig, LinkShaper};
use fieldsync_tests::{PrintedLogin, percentile};

type BenchResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// Sync figures of phones against the real relay, printed next to the targets.
#[derive(Debug, Parser)]
#[command(name = "sync_bench", about)]
struct Cli {
    /// Orders the rep's phone creates offline and then holds (setup, phases a-c).
    #[arg(long, default_value_t = 2_000)]
    orders: usize,
    /// Lines per order.
    #[arg(long, default_value_t = 5)]
    lines: usize,
    /// Phase a: quiet reconnects measured (the median is reported).
    #[arg(long, default_value_t = 20)]
    reconnects: usize,
    /// Phase b: orders edited offline before each reconnect.
    #[arg(long, default_value_t = 10)]
    edited: usize,
    /// Phase b: how many times edit-then-reconnect is measured (the median is reported).
    #[arg(long, default_value_t = 5)]
    edit_repeats: usize,
    /// Phase d: devices syncing at once.
    #[arg(long, default_value_t = 200)]
    devices: usize,
    /// Phase d: whose devices they are. `distinct`: one new rep per device, each with a store of
    /// its own, so a device pushes its orders and pulls nothing back (the figure is the relay's
    /// write path). `demo`: spread over the demo reps other than the phase a-c rep (about 22
    /// devices per rep), so each device also pulls its rep's other devices' orders (the
    /// figure then includes that fan-out, on the phones' side too).
    #[arg(long, default_value = "distinct", value_parser = ["distinct", "demo"])]
    fleet_reps: String,
    /// Phase d: orders each device creates and submits offline, then pushes (the relay reviews each).
    #[arg(long, default_value_t = 10)]
    orders_per_device: usize,
    /// Phase d: threads driving the devices (0: one thread per device, all released at once).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Threads preparing phase d (logins, first syncs, offline orders); not timed.
    #[arg(long, default_value_t = 8)]
    prep_threads: usize,
    /// The relay binary (default: `fieldsync-server` next to this executable).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Phase d: where the fleet's phone databases go (default: a temporary directory in /dev/shm
    /// when it exists, so 200 simulated phones do not share the relay's disk; each real phone
    /// has its own flash).
    #[arg(long)]
    fleet_dir: Option<PathBuf>,
    /// Keep the temporary directory (relay data, relay log, phone databases) and print its path.
    #[arg(long)]
    keep: bool,
    /// Seconds the relay is left idle after the phases, its memory printed as it goes (0: none).
    #[arg(long, default_value_t = 60)]
    idle: u64,
    /// Phases to run, any of `a`, `b`, `c`, `d` (the setup always runs).
    #[arg(long, default_value = "abcd")]
    phases: String,
    /// Phase d again on a second relay that pushes its event feed to this NATS server
    /// (`serve --nats`): events per second through the outbox to JetStream, and what the feed
    /// costs admission (orders acknowledged per second, with the feed against without).
    #[arg(long)]
    nats: Option<String>,
}

fn main() {
    let cli = Cli::parse();
    if let Err(error) = run(&cli) {
        eprintln!("sync_bench: {error}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Phones.

struct BenchPhone {
    store: Arc<LocalStore>,
    session: Session,
    base_url: String,
}

impl BenchPhone {
    fn sign_in(base_url: &str, who: &PrintedLogin, device: &str, db: &Path) -> BenchResult<Self> {
        let session = login(base_url, &who.tenant, &who.username, &who.password, device)?;
        let store = Arc::new(LocalStore::open(db)?);
        let role: Role = session.role.parse()?;
        store.set_identity(&Identity { tenant: who.tenant.clone(), user_id: session.user_id.clone(), role })?;
        Ok(Self { store, session, base_url: base_url.to_owned() })
    }

    /// A fresh engine (a new connection: new HTTP agent, fresh sync state) on the same store.
    fn engine(&self) -> SyncEngine {
        SyncEngine::new(self.store.clone(), Arc::new(HttpTransport::new(&self.base_url, &self.session.token)))
    }

    fn sync(&self) -> BenchResult<SyncReport> {
        Ok(self.engine().sync_now()?)
    }

    /// Creates `n` draft orders at this rep's stores, `lines` lines each, from active products.
    fn create_orders(&self, n: usize, lines: usize, seed: usize) -> BenchResult<Vec<DocumentId>> {
        let stores = self.store.stores()?;
        if stores.is_empty() {
            return Err("the rep has no stores on the phone (did the first sync run?)".into());
        }
        let catalog = self.store.catalog()?;
        let products: Vec<(&String, i64)> =
            catalog.products.iter().filter(|(_, p)| p.active).map(|(sku, p)| (sku, p.base_price_cents)).collect();
        if products.is_empty() {
            return Err("the catalog has no active product".into());
        }
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let k = seed.wrapping_mul(7919).wrapping_add(i);
            let lines = (0..lines)
                .map(|l| {
                    let (sku, price) = products[(k * 13 + l * 31) % products.len()];
                    LineInput {
                        sku: sku.clone(),
                        qty: 1 + ((k + l) % 24) as i64,
                        unit_price_cents: price,
                        discount_bp: 0,
                    }
                })
                .collect();
            let store_id = stores[k % stores.len()].0.to_string();
            let notes = format!("visit {k}: deliver before noon");
            ids.push(self.store.create_order(NewOrder { store_id, lines, notes })?);
        }
        Ok(ids)
    }

    fn held(&self) -> BenchResult<Vec<DocumentId>> {
        Ok(self.store.held_heads(&HashSet::new())?.into_iter().map(|(id, _)| id).collect())
    }
}

// ---------------------------------------------------------------------------------------------
// The run.

struct Row {
    figure: String,
    measured: String,
    target: String,
    ratio: String,
}

fn row(figure: &str, measured: String, target: &str, ratio: Option<f64>) -> Row {
    Row {
        figure: figure.to_owned(),
        measured,
        target: target.to_owned(),
        ratio: ratio.map(|r| format!("{r:.2}x")).unwrap_or_else(|| "-".to_owned()),
    }
}

/// The proxy's speed: far above loopback's, so it only counts.
const UNSHAPED_KBIT: u32 = 100_000_000;

/// Bytes on the wire through the counting proxy, up to a moment.
struct Wire {
    up: u64,
    down: u64,
}

impl Wire {
    fn before(proxy: &LinkShaper) -> Self {
        let (_, up, down, _) = proxy.stats().snapshot();
        Self { up, down }
    }

    fn since(&self, proxy: &LinkShaper) -> Wire {
        let now = Wire::before(proxy);
        Wire { up: now.up - self.up, down: now.down - self.down }
    }

    fn bytes(&self) -> u64 {
        self.up + self.down
    }
}

fn kb(bytes: f64) -> String {
    if bytes < 10_000.0 { format!("{bytes:.0} B") } else { format!("{:.1} KB", bytes / 1000.0) }
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 }
}

fn run(cli: &Cli) -> BenchResult<()> {
    let server = bench_server_binary(cli.server.as_deref())?;
    let age = std::fs::metadata(&server)?.modified()?.elapsed().unwrap_or_default();
    let tmp = tempfile::Builder::new().prefix("fieldsync-bench-").tempdir()?;
    let data = tmp.path().join("relay");
    let phones_dir = tmp.path().join("phones");
    std::fs::create_dir_all(&phones_dir)?;
    println!("relay binary: {} (built {} s ago)", server.display(), age.as_secs());

    let started = Instant::now();
    let logins = seed_demo(&server, &data)?;
    println!("seeded the demo tenant in {:.1} s ({} logins)", started.elapsed().as_secs_f64(), logins.len());
    let relay = ChildRelay::start(&server, &data, &[("FIELDSYNC_METRICS_TOKEN", METRICS_TOKEN)])?;
    println!("relay pid {} at {} (log: {})", relay.pid, relay.base_url, relay.log.display());

    let mut reps: Vec<PrintedLogin> = logins.iter().filter(|l| l.role == "rep").cloned().collect();
    reps.sort_by(|a, b| a.username.cmp(&b.username));
    let holder = reps.first().cloned().ok_or("the demo tenant has no rep")?;
    let mut rows: Vec<Row> = Vec::new();

    // Idle baseline: what the relay burns doing nothing (background tasks, timers).
    let idle_before = relay.cpu()?;
    std::thread::sleep(Duration::from_secs(1));
    let idle = relay.cpu()?.since(&idle_before);
    println!("relay idle CPU: {:.2} ms per second ({} ms in ticks)", idle.fine_ms, idle.tick_ms);

    // --- Setup: the rep creates the orders offline and syncs them up. --------------------------
    // The rep's phone talks to the relay through a pass-through proxy that counts the bytes on
    // the wire (headers and all).
    let wire = LinkShaper::start(&relay.base_url, LinkConfig::new(UNSHAPED_KBIT, 0));
    let phone = BenchPhone::sign_in(&wire.base_url(), &holder, "bench phone", &phones_dir.join("rep.db"))?;
    let first = phone.sync()?;
    println!(
        "setup: {} signed in; first sync received {} master-data documents in {} rounds",
        holder.username, first.received, first.rounds
    );
    let t = Instant::now();
    let orders = phone.create_orders(cli.orders, cli.lines, 0)?;
    let create_s = t.elapsed().as_secs_f64();
    println!("setup: created {} orders ({} lines each) offline in {create_s:.2} s", orders.len(), cli.lines);
    let cpu0 = relay.cpu()?;
    let on_wire = Wire::before(&wire);
    let t = Instant::now();
    let upload = phone.sync()?;
    let upload_s = t.elapsed().as_secs_f64();
    let upload_wire = on_wire.since(&wire);
    let upload_cpu = relay.cpu()?.since(&cpu0);
    println!(
        "setup: upload {} accepted, {} rounds, bodies {} sent / {} received, {} on the wire, {upload_s:.2} s, relay CPU {} ms",
        upload.accepted,
        upload.rounds,
        kb(upload.bytes_sent as f64),
        kb(upload.bytes_received as f64),
        kb(upload_wire.bytes() as f64),
        upload_cpu.tick_ms
    );
    rows.push(row("setup: upload of the orders, wall time", format!("{upload_s:.2} s"), "-", None));
    rows.push(row("setup: upload, orders per second", format!("{:.0}", upload.accepted as f64 / upload_s), "-", None));
    rows.push(row(
        "setup: upload, rounds / bytes on the wire (up + down)",
        format!("{} / {}", upload.rounds, kb(upload_wire.bytes() as f64)),
        "-",
        None,
    ));
    rows.push(row(
        "setup: upload, relay CPU",
        format!("{} ms ({:.0} ms fine)", upload_cpu.tick_ms, upload_cpu.fine_ms),
        "-",
        None,
    ));
    let held = phone.held()?;
    println!("setup: the rep's phone holds {} documents", held.len());

    let phases = cli.phases.to_ascii_lowercase();

    // --- a) Quiet reconnects. ------------------------------------------------------------------
    if phases.contains('a') {
        let (mut rounds, mut bodies, mut wires, mut walls, mut ticks, mut fine) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let total_before = relay.cpu()?;
        for _ in 0..cli.reconnects {
            let engine = phone.engine();
            let before = relay.cpu()?;
            let on_wire = Wire::before(&wire);
            let t = Instant::now();
            let report = engine.sync_now()?;
            walls.push(t.elapsed().as_secs_f64() * 1000.0);
            let cpu = relay.cpu()?.since(&before);
            wires.push(on_wire.since(&wire).bytes() as f64);
            rounds.push(f64::from(report.rounds));
            bodies.push((report.bytes_sent + report.bytes_received) as f64);
            ticks.push(cpu.tick_ms as f64);
            fine.push(cpu.fine_ms);
        }
        let total = relay.cpu()?.since(&total_before);
        let n = cli.reconnects.max(1) as f64;
        println!(
            "a) {} quiet reconnects: rounds {:?}, bytes on the wire {:?}, relay CPU fine ms {:?}",
            cli.reconnects,
            rounds,
            wires,
            fine.iter().map(|v| (v * 100.0).round() / 100.0).collect::<Vec<_>>()
        );
        let (m_rounds, m_wire, m_fine) = (median(&mut rounds), median(&mut wires), median(&mut fine));
        rows.push(row(
            &format!("a) quiet reconnect, {} docs held: round trips (median)", held.len()),
            format!("{m_rounds:.0}"),
            "1",
            Some(m_rounds),
        ));
        rows.push(row(
            "a) quiet reconnect: bytes on the wire, up + down (median; sync bodies alone)",
            format!("{} ({})", kb(m_wire), kb(median(&mut bodies))),
            "<= 4 KB",
            Some(m_wire / 4000.0),
        ));
        rows.push(row("a) quiet reconnect: wall time (median)", format!("{:.1} ms", median(&mut walls)), "-", None));
        rows.push(row(
            "a) quiet reconnect: relay CPU (median, schedstat)",
            format!("{m_fine:.1} ms"),
            "<= 20 ms",
            Some(m_fine / 20.0),
        ));
        rows.push(row(
            "a) quiet reconnect: relay CPU (ticks: median / mean)",
            format!("{:.0} / {:.1} ms", median(&mut ticks), total.tick_ms as f64 / n),
            "<= 20 ms",
            Some(total.tick_ms as f64 / n / 20.0),
        ));
    }

    // --- b) Reconnect after a few offline edits. -----------------------------------------------
    if phases.contains('b') {
        let (mut rounds, mut wires, mut walls, mut fine, mut ticks) = (vec![], vec![], vec![], vec![], vec![]);
        for repeat in 0..cli.edit_repeats {
            let start = (repeat * cli.edited) % orders.len().max(1);
            let edited: Vec<&DocumentId> = orders.iter().cycle().skip(start).take(cli.edited).collect();
            for (i, id) in edited.iter().enumerate() {
                phone.store.set_notes(id, &format!("edit {repeat}.{i}: ring the back door"))?;
            }
            let engine = phone.engine();
            let before = relay.cpu()?;
            let on_wire = Wire::before(&wire);
            let t = Instant::now();
            let report = engine.sync_now()?;
            walls.push(t.elapsed().as_secs_f64() * 1000.0);
            let cpu = relay.cpu()?.since(&before);
            if report.accepted as usize != edited.len() {
                println!("b) warning: {} of {} edited orders accepted", report.accepted, edited.len());
            }
            rounds.push(f64::from(report.rounds));
            wires.push(on_wire.since(&wire).bytes() as f64);
            fine.push(cpu.fine_ms);
            ticks.push(cpu.tick_ms as f64);
        }
        println!(
            "b) {} edit-and-reconnect runs: rounds {:?}, bytes on the wire {:?}, relay CPU fine ms {:?}",
            cli.edit_repeats,
            rounds,
            wires,
            fine.iter().map(|v| (v * 100.0).round() / 100.0).collect::<Vec<_>>()
        );
        let (m_rounds, m_wire, m_fine) = (median(&mut rounds), median(&mut wires), median(&mut fine));
        rows.push(row(
            &format!("b) reconnect, {} of {} changed: bytes on the wire (median)", cli.edited, held.len()),
            kb(m_wire),
            "<= 20 KB",
            Some(m_wire / 20_000.0),
        ));
        rows.push(row("b) reconnect after edits: round trips (median)", format!("{m_rounds:.0}"), "-", None));
        rows.push(row(
            "b) reconnect after edits: wall time (median)",
            format!("{:.1} ms", median(&mut walls)),
            "-",
            None,
        ));
        rows.push(row(
            "b) reconnect after edits: relay CPU (median, schedstat / ticks)",
            format!("{m_fine:.1} / {:.0} ms", median(&mut ticks)),
            "-",
            None,
        ));
    }

    // --- c) A new device of the same rep. ------------------------------------------------------
    if phases.contains('c') {
        let fresh = BenchPhone::sign_in(&wire.base_url(), &holder, "bench phone 2", &phones_dir.join("rep-2.db"))?;
        let engine = fresh.engine();
        let before = relay.cpu()?;
        let on_wire = Wire::before(&wire);
        let t = Instant::now();
        let report = engine.sync_now().map_err(|e| format!("c) first sync of the new device: {e}"))?;
        let wall = t.elapsed().as_secs_f64();
        let wire_bytes = on_wire.since(&wire).bytes();
        let cpu = relay.cpu()?.since(&before);
        let fresh_held = fresh.held()?;
        let mut saved = 0u64;
        for id in &fresh_held {
            saved += fresh.store.document_bytes(id).map_err(|e| format!("c) saved size of {id}: {e}"))?.len() as u64;
        }
        println!(
            "c) first sync: {} documents received in {} rounds, {wall:.2} s, {} on the wire, {} saved",
            report.received,
            report.rounds,
            kb(wire_bytes as f64),
            kb(saved as f64)
        );
        if fresh_held.len() != held.len() {
            println!("c) warning: the new device holds {} documents, the first {}", fresh_held.len(), held.len());
        }
        rows.push(row(
            &format!("c) first sync of a new device, {} docs: wall time", fresh_held.len()),
            format!("{wall:.2} s"),
            "<= 1.2 s",
            Some(wall / 1.2),
        ));
        rows.push(row(
            "c) first sync: relay CPU (schedstat / ticks)",
            format!("{:.0} / {} ms", cpu.fine_ms, cpu.tick_ms),
            "-",
            None,
        ));
        rows.push(row("c) first sync: round trips", report.rounds.to_string(), "-", None));
        rows.push(row(
            "c) first sync: bytes on the wire / sum of saved documents",
            format!(
                "{} / {} = {:.2}",
                kb(wire_bytes as f64),
                kb(saved as f64),
                wire_bytes as f64 / saved.max(1) as f64
            ),
            "<= 1.5",
            Some(wire_bytes as f64 / saved.max(1) as f64 / 1.5),
        ));
    }

    // --- d) Many devices pushing at once. ------------------------------------------------------
    if phases.contains('d') && cli.devices > 0 {
        let shm = Path::new("/dev/shm");
        let base =
            cli.fleet_dir.clone().unwrap_or_else(|| if shm.is_dir() { shm.to_path_buf() } else { phones_dir.clone() });
        let fleet = tempfile::Builder::new().prefix("fieldsync-fleet-").tempdir_in(&base)?;
        println!("d) fleet phone databases in {}", fleet.path().display());
        let fleet_reps: Vec<PrintedLogin> = if cli.fleet_reps == "distinct" {
            let t = Instant::now();
            let storage = ["--data".to_owned(), data.to_string_lossy().into_owned()];
            let created = fieldsync_tests::create_field_reps(
                &server,
                &storage,
                "north",
                "supervisor-north",
                "fleet",
                cli.devices,
            )?;
            println!("d) created {} reps with a store each in {:.1} s", created.len(), t.elapsed().as_secs_f64());
            created
        } else {
            reps[1..].to_vec()
        };
        let without = phase_d(cli, &relay, &fleet_reps, fleet.path(), &mut rows)?;
        if let Some(url) = &cli.nats {
            let with = phase_d_with_nats(cli, &server, tmp.path(), &base, url, &mut rows)?;
            rows.push(row(
                "d+nats) orders acknowledged per second: without / with the event feed",
                format!(
                    "{:.0} / {:.0} (cost {:+.1} %)",
                    without.accept_rate,
                    with.accept_rate,
                    (1.0 - with.accept_rate / without.accept_rate) * 100.0
                ),
                "cost <= 10 %",
                Some((without.accept_rate / with.accept_rate - 1.0).max(0.0) / 0.10),
            ));
        }
    }

    // Memory that returns: the relay idles, nobody connected, and its RSS is read as it goes.
    if cli.idle > 0 {
        let idle_started = Instant::now();
        let mut samples = Vec::new();
        for at in [0, 5, 10, 20, 30, 45, 60, 90, 120].into_iter().filter(|at| *at <= cli.idle) {
            std::thread::sleep(Duration::from_secs(at).saturating_sub(idle_started.elapsed()));
            samples.push(format!("{at} s {:.1} MB", relay.memory()?.rss_kib as f64 / 1024.0));
        }
        println!("relay VmRSS while idle after the phases: {}", samples.join(", "));
    }
    let memory = relay.memory()?;
    println!(
        "relay memory at the end: VmRSS {:.1} MB, VmHWM {:.1} MB",
        memory.rss_kib as f64 / 1024.0,
        memory.hwm_kib as f64 / 1024.0
    );
    print_table(&rows);
    println!("total bench time {:.0} s", started.elapsed().as_secs_f64());
    if cli.keep {
        let kept = tmp.keep();
        println!("kept {}", kept.display());
    }
    Ok(())
}

/// What the event-feed comparison takes from a phase d run.
struct PhaseD {
    /// Orders acknowledged per second.
    accept_rate: f64,
    /// When the first device started pushing.
    started: Instant,
}

/// Phase d on a second relay, freshly seeded, that publishes its event feed to `url`; then how
/// fast the events reached JetStream (the stream's message count, polled).
fn phase_d_with_nats(
    cli: &Cli,
    server: &Path,
    tmp: &Path,
    fleet_base: &Path,
    url: &str,
    rows: &mut Vec<Row>,
) -> BenchResult<PhaseD> {
    let data = tmp.join("relay-nats");
    let logins = seed_demo(server, &data)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let stream_messages = || -> BenchResult<u64> {
        runtime.block_on(async {
            let client = async_nats::connect(url).await?;
            let mut stream = async_nats::jetstream::new(client).get_stream("FIELDSYNC").await?;
            Ok(stream.info().await?.state.messages)
        })
    };
    // Counted before the relay starts, which publishes everything its outbox holds: every
    // message the stream gains from here on is this relay's (the stream exists once any relay
    // has published to the server; a fresh server has none yet).
    let base = stream_messages().unwrap_or(0);
    let env = [("FIELDSYNC_METRICS_TOKEN", METRICS_TOKEN), ("FIELDSYNC_NATS", url)];
    let relay = ChildRelay::start(server, &data, &env)?;
    println!("d+nats) relay pid {} at {} publishing to {url}", relay.pid, relay.base_url);
    let hq = logins.iter().find(|l| l.role == "hq").ok_or("the demo tenant has no HQ user")?;
    let token = login(&relay.base_url, &hq.tenant, &hq.username, &hq.password, "bench feed reader")?.token;
    let deadline = Instant::now() + REVIEW_WAIT;
    let fleet_reps: Vec<PrintedLogin> = if cli.fleet_reps == "distinct" {
        let storage = ["--data".to_owned(), data.to_string_lossy().into_owned()];
        fieldsync_tests::create_field_reps(server, &storage, "north", "supervisor-north", "fleet", cli.devices)?
    } else {
        let mut reps: Vec<PrintedLogin> = logins.iter().filter(|l| l.role == "rep").cloned().collect();
        reps.sort_by(|a, b| a.username.cmp(&b.username));
        reps[1..].to_vec()
    };
    let fleet = tempfile::Builder::new().prefix("fieldsync-fleet-nats-").tempdir_in(fleet_base)?;
    let mut nats_rows = Vec::new();
    let run = phase_d(cli, &relay, &fleet_reps, fleet.path(), &mut nats_rows)?;
    for mut r in nats_rows {
        r.figure = r.figure.replacen("d)", "d+nats)", 1);
        rows.push(r);
    }
    // Every event of the outbox in the stream: the feed's throughput end to end (it includes
    // waiting for the reviews that emit most events).
    let mut published = 0;
    let mut events = 0;
    let mut reached = None;
    while Instant::now() < deadline + REVIEW_WAIT {
        events = outbox_size(&relay.base_url, &token)?;
        published = stream_messages().unwrap_or(0).saturating_sub(base);
        if published >= events {
            reached = Some(run.started.elapsed().as_secs_f64());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("d+nats) {published} of {events} outbox events in JetStream");
    rows.push(row(
        "d+nats) events per second through the outbox to JetStream (all in after)",
        match reached {
            Some(at) => format!("{:.0} ({events} events, {at:.2} s after the first push)", events as f64 / at),
            None => format!("{published} of {events} events within {} s", (REVIEW_WAIT * 2).as_secs()),
        },
        "-",
        None,
    ));
    Ok(run)
}

/// Events in the relay's outbox (the pull API, paged).
fn outbox_size(base_url: &str, token: &str) -> BenchResult<u64> {
    let mut after = "0".to_owned();
    let mut total = 0;
    loop {
        let url = format!("{base_url}/v1/events?after={after}&limit=1000");
        let answer = fieldsync_tests::http("GET", &url, Some(token), &[], Vec::new());
        if answer.status != 200 {
            return Err(format!("GET /v1/events answered {}", answer.status).into());
        }
        let page = answer.json();
        let n = page["events"].as_array().map_or(0, Vec::len) as u64;
        if n == 0 {
            return Ok(total);
        }
        total += n;
        after = page["next"].as_str().unwrap_or("0").to_owned();
    }
}

fn phase_d(
    cli: &Cli,
    relay: &ChildRelay,
    reps: &[PrintedLogin],
    dir: &Path,
    rows: &mut Vec<Row>,
) -> BenchResult<PhaseD> {
    if reps.is_empty() {
        return Err("phase d needs a second demo rep".into());
    }
    // Prepare, untimed: sign in, first sync (reference data), orders created offline.
    let t = Instant::now();
    let next = AtomicUsize::new(0);
    let prepared: Mutex<Vec<(usize, BenchPhone, Vec<DocumentId>)>> = Mutex::new(Vec::new());
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..cli.prep_threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= cli.devices {
                        break;
                    }
                    let who = &reps[i % reps.len()];
                    let prepare = || -> BenchResult<(BenchPhone, Vec<DocumentId>)> {
                        let db = dir.join(format!("device-{i}.db"));
                        let phone = BenchPhone::sign_in(&relay.base_url, who, &format!("fleet device {i}"), &db)?;
                        phone.sync()?;
                        // Submitted, as a rep sends them: each is also reviewed by the relay.
                        let orders = phone.create_orders(cli.orders_per_device, cli.lines, i + 1)?;
                        for order in &orders {
                            phone.store.submit_order(order)?;
                        }
                        Ok((phone, orders))
                    };
                    match prepare() {
                        Ok((phone, orders)) => lock(&prepared).push((i, phone, orders)),
                        Err(error) => lock(&failures).push(format!("device {i}: {error}")),
                    }
                }
            });
        }
    });
    let mut phones = prepared.into_inner().unwrap_or_else(|p| p.into_inner());
    phones.sort_by_key(|(i, _, _)| *i);
    let prep_failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    println!(
        "d) prepared {} devices ({} reps, {} orders each, created and submitted offline) in {:.1} s; {} failed{}",
        phones.len(),
        reps.len().min(cli.devices),
        cli.orders_per_device,
        t.elapsed().as_secs_f64(),
        prep_failures.len(),
        prep_failures.first().map(|f| format!(" (first: {f})")).unwrap_or_default()
    );

    // The fleet: each device with its engine, its live channel and the orders it waits on.
    let devices: Vec<Device> = phones
        .iter()
        .map(|(_, phone, orders)| {
            let transport = Arc::new(TimedTransport {
                inner: HttpTransport::new(&phone.base_url, &phone.session.token),
                first_answer: Mutex::new(None),
            });
            let engine = Arc::new(SyncEngine::new(phone.store.clone(), transport.clone()));
            let verdicts = Arc::new(Verdicts {
                store: phone.store.clone(),
                waiting: Mutex::new(orders.clone()),
                pushed_at: Mutex::new(None),
                arrived: Mutex::new(Vec::new()),
            });
            engine.set_listener(Some(verdicts.clone()));
            Device { engine, transport, started: Mutex::new(None), verdicts }
        })
        .collect();
    // Each device opens the live channel right after its push, as an app in the foreground does:
    // the connect's catch-up sync and every later notice bring the relay's reviews.
    let live: Mutex<Vec<LiveWatch>> = Mutex::new(Vec::with_capacity(devices.len()));
    let threads = if cli.threads == 0 { devices.len() } else { cli.threads.min(devices.len()) }.max(1);
    // The relay starts idle: earlier phases' orders are reviewed by now.
    let reviews_before = wait_for_quiet_reviews(&relay.base_url)?;
    let reset = relay.reset_peak_rss();
    let memory_before = relay.memory()?;
    let own_before = CpuSample::of(std::process::id())?;
    let before = relay.cpu()?;
    let barrier = Barrier::new(threads + 1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(f64, Result<SyncReport, String>)>> = Mutex::new(Vec::new());
    let peak_rss = AtomicUsize::new(0);
    let mut wall = 0.0;
    let mut t0 = Instant::now();
    let done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                barrier.wait();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(device) = devices.get(i) else { break };
                    let t = Instant::now();
                    *lock(&device.started) = Some(t);
                    *lock(&device.verdicts.pushed_at) = Some(t);
                    let result = device.engine.sync_now().map_err(|e| e.to_string());
                    lock(&results).push((t.elapsed().as_secs_f64(), result));
                    let (_, phone, _) = &phones[i];
                    let watch = watch_and_sync(device.engine.clone(), &phone.base_url, &phone.session.token, || false);
                    lock(&live).push(watch);
                }
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        barrier.wait();
        t0 = Instant::now();
        while done.load(Ordering::SeqCst) < threads {
            if let Ok(memory) = relay.memory() {
                peak_rss.fetch_max(memory.rss_kib as usize, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        wall = t0.elapsed().as_secs_f64();
    });
    let own = CpuSample::of(std::process::id())?.since(&own_before);
    // When the relay had acknowledged every order: the latest acknowledgement, counted from the
    // first device's start (the released threads may run before this thread notes the release).
    let first_start = devices.iter().filter_map(|d| *lock(&d.started)).min().unwrap_or(t0).min(t0);
    wall += t0.duration_since(first_start).as_secs_f64();
    let mut accept_latencies: Vec<f64> = Vec::new();
    let mut all_accepted_at: f64 = 0.0;
    for device in &devices {
        if let (Some(started), Some(answered)) = (*lock(&device.started), *lock(&device.transport.first_answer)) {
            accept_latencies.push(answered.duration_since(started).as_secs_f64());
            all_accepted_at = all_accepted_at.max(answered.duration_since(first_start).as_secs_f64());
        }
    }
    accept_latencies.sort_by(f64::total_cmp);
    let cpu = relay.cpu()?.since(&before);
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let accepted: u64 = results.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|r| u64::from(r.accepted)).sum();
    // The relay reviews each order after acknowledging it (prices, stock, approval route): the
    // time until the last review shows what the whole pipeline sustains.
    let reviewed = wait_for_reviews(&relay.base_url, reviews_before + accepted)?;
    let reviewed_at = first_start.elapsed().as_secs_f64();
    let review_cpu = relay.cpu()?.since(&before);
    // And the verdicts reach the phones over their live channels.
    let deadline = Instant::now() + REVIEW_WAIT;
    while devices.iter().any(|d| !lock(&d.verdicts.waiting).is_empty()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let held_at = first_start.elapsed().as_secs_f64();
    let memory = relay.memory()?;
    for watch in live.into_inner().unwrap_or_else(|p| p.into_inner()) {
        watch.stop();
    }
    let mut verdicts: Vec<f64> = devices.iter().flat_map(|d| lock(&d.verdicts.arrived).clone()).collect();
    verdicts.sort_by(f64::total_cmp);
    let missing: usize = devices.iter().map(|d| lock(&d.verdicts.waiting).len()).sum();
    let mut latencies: Vec<f64> = results.iter().map(|(s, _)| *s).collect();
    latencies.sort_by(f64::total_cmp);
    let rounds: u64 = results.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|r| u64::from(r.rounds)).sum();
    let errors: Vec<&String> = results.iter().filter_map(|(_, r)| r.as_ref().err()).collect();
    let expected = (devices.len() * cli.orders_per_device) as u64;
    let rate = accepted as f64 / all_accepted_at;
    println!(
        "d) {} devices on {threads} threads: {accepted}/{expected} orders accepted, the last {all_accepted_at:.2} s \
         after the start; every sync_now done after {wall:.2} s ({rounds} rounds; {} reps: {}); {} errors{}; relay CPU {} ms (ticks) / {:.0} ms (schedstat); phones' CPU {} ms; \
         relay VmRSS {:.1} MB before",
        devices.len(),
        reps.len().min(devices.len()),
        if reps.len() >= devices.len() {
            "one per device, nothing to pull back"
        } else {
            "each device also pulls its rep's other devices' orders"
        },
        errors.len(),
        errors.first().map(|e| format!(" (first: {e})")).unwrap_or_default(),
        cpu.tick_ms,
        cpu.fine_ms,
        own.tick_ms,
        memory_before.rss_kib as f64 / 1024.0
    );
    rows.push(row(
        &format!(
            "d) {} devices x {} orders: verdict on the phone after the push, p50 / p99 / max",
            devices.len(),
            cli.orders_per_device
        ),
        format!(
            "{:.2} / {:.2} / {:.2} s ({} verdicts{})",
            percentile(&verdicts, 50.0),
            percentile(&verdicts, 99.0),
            verdicts.last().copied().unwrap_or(f64::NAN),
            verdicts.len(),
            if missing > 0 { format!(", {missing} never arrived") } else { String::new() }
        ),
        "p99 <= 2 s",
        Some(percentile(&verdicts, 99.0) / 2.0),
    ));
    rows.push(row(
        "d) orders acknowledged per second",
        format!("{rate:.0} ({accepted} in {all_accepted_at:.2} s)"),
        ">= 900",
        Some(rate / 900.0),
    ));
    rows.push(row(
        "d) orders reviewed per second (the last review after)",
        match reviewed {
            true => format!(
                "{:.0} ({reviewed_at:.2} s; relay CPU {} ms)",
                accepted as f64 / reviewed_at,
                review_cpu.tick_ms
            ),
            false => format!("not within {} s", REVIEW_WAIT.as_secs()),
        },
        ">= 1000",
        reviewed.then(|| accepted as f64 / reviewed_at / 1000.0),
    ));
    rows.push(row("d) every verdict on its phone after", format!("{held_at:.2} s"), "-", None));
    rows.push(row(
        "d) a device's orders acknowledged after: p50 / p99",
        format!("{:.2} / {:.2} s", percentile(&accept_latencies, 50.0), percentile(&accept_latencies, 99.0)),
        "-",
        None,
    ));
    rows.push(row(
        "d) a device's whole sync_now: p50 / p99 (wall time of the push phase)",
        format!("{:.2} / {:.2} s ({wall:.2} s)", percentile(&latencies, 50.0), percentile(&latencies, 99.0)),
        "-",
        None,
    ));
    let peak = memory.hwm_kib.max(peak_rss.load(Ordering::SeqCst) as u64);
    rows.push(row(
        "d) relay peak RSS (VmHWM)",
        format!("{:.1} MB{}", peak as f64 / 1024.0, if reset { "" } else { " (process lifetime: clear_refs refused)" }),
        "-",
        None,
    ));
    rows.push(row("d) relay CPU while admitting (ticks)", format!("{} ms", cpu.tick_ms), "-", None));
    rows.push(row(
        "d) relay CPU per reviewed order (admission and review)",
        format!("{:.2} ms", review_cpu.tick_ms as f64 / accepted.max(1) as f64),
        "<= 0.5 ms (review)",
        None,
    ));
    rows.push(row(
        "d) errors (sync_now failures / orders not accepted)",
        format!("{} / {}", errors.len(), expected.saturating_sub(accepted)),
        "0",
        None,
    ));
    Ok(PhaseD { accept_rate: rate, started: first_start })
}

/// One device of the fleet.
struct Device {
    engine: Arc<SyncEngine>,
    transport: Arc<TimedTransport>,
    started: Mutex<Option<Instant>>,
    verdicts: Arc<Verdicts>,
}

/// A device's orders waiting for the relay's verdict, and how long each took from the device's
/// push to the end of the sync round that brought its review onto the phone.
struct Verdicts {
    store: Arc<LocalStore>,
    waiting: Mutex<Vec<DocumentId>>,
    pushed_at: Mutex<Option<Instant>>,
    arrived: Mutex<Vec<f64>>,
}

impl SyncListener for Verdicts {
    fn on_round(&self, _report: &SyncReport) {
        let Some(pushed) = *lock(&self.pushed_at) else { return };
        let now = Instant::now();
        let mut waiting = lock(&self.waiting);
        waiting.retain(|id| {
            let held = matches!(self.store.order_review(id), Ok(Some(_)));
            if held {
                lock(&self.arrived).push(now.duration_since(pushed).as_secs_f64());
            }
            !held
        });
    }
}

/// The relay's Prometheus token for this run (`FIELDSYNC_METRICS_TOKEN`).
const METRICS_TOKEN: &str = "sync-bench-metrics";

/// Longest wait for the relay's order reviews.
const REVIEW_WAIT: Duration = Duration::from_secs(300);

/// Order reviews the relay has run (`fieldsync_jobs_total` of kind `review-order` on `/metrics`).
fn review_runs(base_url: &str) -> BenchResult<u64> {
    let answer = fieldsync_tests::http("GET", &format!("{base_url}/metrics"), Some(METRICS_TOKEN), &[], Vec::new());
    if answer.status != 200 {
        return Err(format!("GET /metrics answered {}", answer.status).into());
    }
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    Ok(text
        .lines()
        .filter(|line| line.starts_with("fieldsync_jobs_total{kind=\"review-order\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum())
}

/// Waits until the relay's review count has stood still for two seconds; returns it.
fn wait_for_quiet_reviews(base_url: &str) -> BenchResult<u64> {
    let deadline = Instant::now() + REVIEW_WAIT;
    let mut last = review_runs(base_url)?;
    let mut still_since = Instant::now();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        let now = review_runs(base_url)?;
        if now != last {
            (last, still_since) = (now, Instant::now());
        } else if still_since.elapsed() >= Duration::from_secs(2) {
            break;
        }
    }
    Ok(last)
}

/// Waits until the relay has run `target` reviews in all; false if it did not within [`REVIEW_WAIT`].
fn wait_for_reviews(base_url: &str, target: u64) -> BenchResult<bool> {
    let deadline = Instant::now() + REVIEW_WAIT;
    while Instant::now() < deadline {
        if review_runs(base_url)? >= target {
            return Ok(true);
        }
        // Not faster: each poll costs the relay a request.
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(false)
}

/// The real HTTP transport, noting when the first round trip came back: the fleet's pushes (at
/// most `pushes_per_round` each) are all acknowledged in that first answer.
struct TimedTransport {
    inner: HttpTransport,
    first_answer: Mutex<Option<Instant>>,
}

impl Transport for TimedTransport {
    fn round_trip(&self, request: Vec<u8>, answer_budget: usize) -> Result<Vec<u8>, TransportError> {
        let answer = self.inner.round_trip(request, answer_budget);
        let mut first = lock(&self.first_answer);
        if first.is_none() {
            *first = Some(Instant::now());
        }
        answer
    }

    fn blob_state(&self, sha256: &str) -> Result<BlobState, TransportError> {
        self.inner.blob_state(sha256)
    }

    fn upload_blob(&self, sha256: &str, offset: u64, total: u64, chunk: &[u8]) -> Result<BlobState, TransportError> {
        self.inner.upload_blob(sha256, offset, total, chunk)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn print_table(rows: &[Row]) {
    let headers = ["figure", "measured", "target", "measured/target"];
    let cells: Vec<[&str; 4]> = rows.iter().map(|r| [&*r.figure, &*r.measured, &*r.target, &*r.ratio]).collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let text: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("| {} |", text.join(" | "));
    };
    println!();
    line(headers);
    println!("|{}|", widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("|"));
    for row in cells {
        line(row);
    }
    println!();
}
