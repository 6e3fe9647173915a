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
//! - rounds and bytes: the engine's [`SyncReport`] (`bytes_sent + bytes_received` are sync bodies;
//!   HTTP headers are not counted);
//! - relay CPU: `utime + stime` of `/proc/<pid>/stat` in clock ticks (assumed 100 per second, the
//!   Linux default; `getconf CLK_TCK` says 100 on the build machines), so 10 ms resolution, plus
//!   the sum of the relay threads' `/proc/<pid>/task/*/schedstat` run time (nanoseconds) for
//!   figures below a tick;
//! - relay memory: `VmHWM` and `VmRSS` of `/proc/<pid>/status` (the peak is reset before the
//!   concurrent phase through `/proc/<pid>/clear_refs` when the kernel allows it).
//!
//! The automerge reference column runs the plain automerge sync protocol (what automerge-repo
//! exchanges per document, without its CBOR envelope) on the same documents in this process,
//! with a fresh `sync::State` on both sides as on every new connection.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use automerge::Automerge;
use automerge::sync::{self, SyncDoc};
use clap::Parser;
use fieldsync_core::local_store::{LineInput, NewOrder};
use fieldsync_core::sync::{
    BlobState, HttpTransport, Session, SyncEngine, SyncReport, Transport, TransportError, login,
};
use fieldsync_core::{DocumentId, Identity, LocalStore, Role};
use fieldsync_tests::process::{ChildRelay, CpuSample, bench_server_binary, seed_demo};
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
    /// Phases to run, any of `a`, `b`, `c`, `d` (the setup always runs).
    #[arg(long, default_value = "abcd")]
    phases: String,
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
    reference: String,
}

fn row(figure: &str, measured: String, target: &str, ratio: Option<f64>, reference: &str) -> Row {
    Row {
        figure: figure.to_owned(),
        measured,
        target: target.to_owned(),
        ratio: ratio.map(|r| format!("{r:.2}x")).unwrap_or_else(|| "-".to_owned()),
        reference: reference.to_owned(),
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
    let phone = BenchPhone::sign_in(&relay.base_url, &holder, "bench phone", &phones_dir.join("rep.db"))?;
    let first = phone.sync()?;
    println!(
        "setup: {} signed in; first sync received {} reference documents in {} rounds",
        holder.username, first.received, first.rounds
    );
    let t = Instant::now();
    let orders = phone.create_orders(cli.orders, cli.lines, 0)?;
    let create_s = t.elapsed().as_secs_f64();
    println!("setup: created {} orders ({} lines each) offline in {create_s:.2} s", orders.len(), cli.lines);
    let cpu0 = relay.cpu()?;
    let t = Instant::now();
    let upload = phone.sync()?;
    let upload_s = t.elapsed().as_secs_f64();
    let upload_cpu = relay.cpu()?.since(&cpu0);
    println!(
        "setup: upload {} accepted, {} rounds, {} sent, {} received, {upload_s:.2} s, relay CPU {} ms",
        upload.accepted,
        upload.rounds,
        kb(upload.bytes_sent as f64),
        kb(upload.bytes_received as f64),
        upload_cpu.tick_ms
    );
    rows.push(row("setup: upload of the orders, wall time", format!("{upload_s:.2} s"), "-", None, "-"));
    rows.push(row(
        "setup: upload, orders per second",
        format!("{:.0}", upload.accepted as f64 / upload_s),
        "-",
        None,
        "-",
    ));
    rows.push(row(
        "setup: upload, rounds / bytes (sent + received)",
        format!("{} / {}", upload.rounds, kb((upload.bytes_sent + upload.bytes_received) as f64)),
        "-",
        None,
        "-",
    ));
    rows.push(row(
        "setup: upload, relay CPU",
        format!("{} ms ({:.0} ms fine)", upload_cpu.tick_ms, upload_cpu.fine_ms),
        "-",
        None,
        "-",
    ));
    let held = phone.held()?;
    println!("setup: the rep's phone holds {} documents", held.len());

    // The automerge reference needs the relay's copies as they are now (before phase b edits).
    let reference_docs: Vec<(DocumentId, Vec<u8>)> =
        held.iter().map(|id| Ok((id.clone(), phone.store.document_bytes(id)?))).collect::<BenchResult<_>>()?;

    let phases = cli.phases.to_ascii_lowercase();

    // --- a) Quiet reconnects. ------------------------------------------------------------------
    if phases.contains('a') {
        let (mut rounds, mut bytes, mut ticks, mut fine) = (vec![], vec![], vec![], vec![]);
        let total_before = relay.cpu()?;
        for _ in 0..cli.reconnects {
            let engine = phone.engine();
            let before = relay.cpu()?;
            let report = engine.sync_now()?;
            let cpu = relay.cpu()?.since(&before);
            rounds.push(f64::from(report.rounds));
            bytes.push((report.bytes_sent + report.bytes_received) as f64);
            ticks.push(cpu.tick_ms as f64);
            fine.push(cpu.fine_ms);
        }
        let total = relay.cpu()?.since(&total_before);
        let n = cli.reconnects.max(1) as f64;
        let reference = reference_quiet(&reference_docs);
        println!(
            "a) {} quiet reconnects: rounds {:?}, bytes {:?}, relay CPU fine ms {:?}",
            cli.reconnects,
            rounds,
            bytes,
            fine.iter().map(|v| (v * 100.0).round() / 100.0).collect::<Vec<_>>()
        );
        let (m_rounds, m_bytes, m_fine) = (median(&mut rounds), median(&mut bytes), median(&mut fine));
        rows.push(row(
            &format!("a) quiet reconnect, {} docs held: round trips (median)", held.len()),
            format!("{m_rounds:.0}"),
            "1",
            Some(m_rounds),
            &format!("{} msgs, {} rounds", reference.messages, reference.rounds),
        ));
        rows.push(row(
            "a) quiet reconnect: bytes sent + received (median)",
            kb(m_bytes),
            "<= 4 KB",
            Some(m_bytes / 4000.0),
            &kb(reference.bytes as f64),
        ));
        rows.push(row(
            "a) quiet reconnect: relay CPU (median, schedstat)",
            format!("{m_fine:.1} ms"),
            "<= 20 ms",
            Some(m_fine / 20.0),
            &format!("{:.0} ms automerge work", reference.cpu_ms),
        ));
        rows.push(row(
            "a) quiet reconnect: relay CPU (ticks: median / mean)",
            format!("{:.0} / {:.1} ms", median(&mut ticks), total.tick_ms as f64 / n),
            "<= 20 ms",
            Some(total.tick_ms as f64 / n / 20.0),
            "-",
        ));
    }

    // --- b) Reconnect after a few offline edits. -----------------------------------------------
    if phases.contains('b') {
        let (mut rounds, mut bytes, mut fine, mut ticks) = (vec![], vec![], vec![], vec![]);
        let mut reference = None;
        for repeat in 0..cli.edit_repeats {
            let start = (repeat * cli.edited) % orders.len().max(1);
            let edited: Vec<&DocumentId> = orders.iter().cycle().skip(start).take(cli.edited).collect();
            for (i, id) in edited.iter().enumerate() {
                phone.store.set_notes(id, &format!("edit {repeat}.{i}: ring the back door"))?;
            }
            if repeat == 0 {
                let edited_now: Vec<(DocumentId, Vec<u8>)> = edited
                    .iter()
                    .map(|id| Ok(((*id).clone(), phone.store.document_bytes(id)?)))
                    .collect::<BenchResult<_>>()?;
                reference = Some(reference_edited(&reference_docs, &edited_now));
            }
            let engine = phone.engine();
            let before = relay.cpu()?;
            let report = engine.sync_now()?;
            let cpu = relay.cpu()?.since(&before);
            if report.accepted as usize != edited.len() {
                println!("b) warning: {} of {} edited orders accepted", report.accepted, edited.len());
            }
            rounds.push(f64::from(report.rounds));
            bytes.push((report.bytes_sent + report.bytes_received) as f64);
            fine.push(cpu.fine_ms);
            ticks.push(cpu.tick_ms as f64);
        }
        println!(
            "b) {} edit-and-reconnect runs: rounds {:?}, bytes {:?}, relay CPU fine ms {:?}",
            cli.edit_repeats,
            rounds,
            bytes,
            fine.iter().map(|v| (v * 100.0).round() / 100.0).collect::<Vec<_>>()
        );
        let reference = reference.unwrap_or_default();
        let (m_rounds, m_bytes, m_fine) = (median(&mut rounds), median(&mut bytes), median(&mut fine));
        rows.push(row(
            &format!("b) reconnect, {} of {} changed: bytes (median)", cli.edited, held.len()),
            kb(m_bytes),
            "<= 20 KB",
            Some(m_bytes / 20_000.0),
            &kb(reference.bytes as f64),
        ));
        rows.push(row(
            "b) reconnect after edits: round trips (median)",
            format!("{m_rounds:.0}"),
            "-",
            None,
            &format!("{} msgs, {} rounds", reference.messages, reference.rounds),
        ));
        rows.push(row(
            "b) reconnect after edits: relay CPU (median, schedstat / ticks)",
            format!("{m_fine:.1} / {:.0} ms", median(&mut ticks)),
            "-",
            None,
            &format!("{:.0} ms automerge work", reference.cpu_ms),
        ));
    }

    // --- c) A new device of the same rep. ------------------------------------------------------
    if phases.contains('c') {
        let fresh = BenchPhone::sign_in(&relay.base_url, &holder, "bench phone 2", &phones_dir.join("rep-2.db"))?;
        let engine = fresh.engine();
        let before = relay.cpu()?;
        let t = Instant::now();
        let report = engine.sync_now().map_err(|e| format!("c) first sync of the new device: {e}"))?;
        let wall = t.elapsed().as_secs_f64();
        let cpu = relay.cpu()?.since(&before);
        let fresh_held = fresh.held()?;
        let mut saved = 0u64;
        for id in &fresh_held {
            saved += fresh.store.document_bytes(id).map_err(|e| format!("c) saved size of {id}: {e}"))?.len() as u64;
        }
        let wire = report.bytes_sent + report.bytes_received;
        let reference = reference_first_sync(&reference_docs);
        println!(
            "c) first sync: {} documents received in {} rounds, {wall:.2} s, {} on the wire, {} saved",
            report.received,
            report.rounds,
            kb(wire as f64),
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
            "-",
        ));
        rows.push(row(
            "c) first sync: relay CPU (schedstat / ticks)",
            format!("{:.0} / {} ms", cpu.fine_ms, cpu.tick_ms),
            "-",
            None,
            &format!("{:.0} ms automerge work", reference.cpu_ms),
        ));
        rows.push(row(
            "c) first sync: round trips",
            report.rounds.to_string(),
            "-",
            None,
            &format!("{} msgs, {} rounds", reference.messages, reference.rounds),
        ));
        rows.push(row(
            "c) first sync: wire bytes / sum of saved documents",
            format!("{} / {} = {:.2}", kb(wire as f64), kb(saved as f64), wire as f64 / saved.max(1) as f64),
            "<= 1.5",
            Some(wire as f64 / saved.max(1) as f64 / 1.5),
            &format!("{} = {:.2}", kb(reference.bytes as f64), reference.bytes as f64 / saved.max(1) as f64),
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
        phase_d(cli, &relay, &fleet_reps, fleet.path(), &mut rows)?;
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

fn phase_d(cli: &Cli, relay: &ChildRelay, reps: &[PrintedLogin], dir: &Path, rows: &mut Vec<Row>) -> BenchResult<()> {
    if reps.is_empty() {
        return Err("phase d needs a second demo rep".into());
    }
    // Prepare, untimed: sign in, first sync (reference data), orders created offline.
    let t = Instant::now();
    let next = AtomicUsize::new(0);
    let prepared: Mutex<Vec<(usize, BenchPhone)>> = Mutex::new(Vec::new());
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
                    let prepare = || -> BenchResult<BenchPhone> {
                        let db = dir.join(format!("device-{i}.db"));
                        let phone = BenchPhone::sign_in(&relay.base_url, who, &format!("fleet device {i}"), &db)?;
                        phone.sync()?;
                        // Submitted, as a rep sends them: each is also reviewed by the relay.
                        for order in phone.create_orders(cli.orders_per_device, cli.lines, i + 1)? {
                            phone.store.submit_order(&order)?;
                        }
                        Ok(phone)
                    };
                    match prepare() {
                        Ok(phone) => lock(&prepared).push((i, phone)),
                        Err(error) => lock(&failures).push(format!("device {i}: {error}")),
                    }
                }
            });
        }
    });
    let mut phones = prepared.into_inner().unwrap_or_else(|p| p.into_inner());
    phones.sort_by_key(|(i, _)| *i);
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

    // The fleet syncs at once.
    let engines: Vec<(SyncEngine, Arc<TimedTransport>, Mutex<Option<Instant>>)> = phones
        .iter()
        .map(|(_, phone)| {
            let transport = Arc::new(TimedTransport {
                inner: HttpTransport::new(&phone.base_url, &phone.session.token),
                first_answer: Mutex::new(None),
            });
            (SyncEngine::new(phone.store.clone(), transport.clone()), transport, Mutex::new(None))
        })
        .collect();
    let threads = if cli.threads == 0 { engines.len() } else { cli.threads.min(engines.len()) }.max(1);
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
                    let Some((engine, _, started)) = engines.get(i) else { break };
                    let t = Instant::now();
                    *lock(started) = Some(t);
                    let result = engine.sync_now().map_err(|e| e.to_string());
                    lock(&results).push((t.elapsed().as_secs_f64(), result));
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
    let first_start = engines.iter().filter_map(|(_, _, started)| *lock(started)).min().unwrap_or(t0).min(t0);
    wall += t0.duration_since(first_start).as_secs_f64();
    let mut accept_latencies: Vec<f64> = Vec::new();
    let mut all_accepted_at: f64 = 0.0;
    for (_, transport, started) in &engines {
        if let (Some(started), Some(answered)) = (*lock(started), *lock(&transport.first_answer)) {
            accept_latencies.push(answered.duration_since(started).as_secs_f64());
            all_accepted_at = all_accepted_at.max(answered.duration_since(first_start).as_secs_f64());
        }
    }
    accept_latencies.sort_by(f64::total_cmp);
    let cpu = relay.cpu()?.since(&before);
    let memory = relay.memory()?;
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let accepted: u64 = results.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|r| u64::from(r.accepted)).sum();
    // The relay reviews each order after acknowledging it (prices, stock, approval route): the
    // time until the last review shows what the whole pipeline sustains.
    let reviewed = wait_for_reviews(&relay.base_url, reviews_before + accepted)?;
    let reviewed_at = first_start.elapsed().as_secs_f64();
    let review_cpu = relay.cpu()?.since(&before);
    let mut latencies: Vec<f64> = results.iter().map(|(s, _)| *s).collect();
    latencies.sort_by(f64::total_cmp);
    let rounds: u64 = results.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|r| u64::from(r.rounds)).sum();
    let errors: Vec<&String> = results.iter().filter_map(|(_, r)| r.as_ref().err()).collect();
    let expected = (engines.len() * cli.orders_per_device) as u64;
    let rate = accepted as f64 / all_accepted_at;
    println!(
        "d) {} devices on {threads} threads: {accepted}/{expected} orders accepted, the last {all_accepted_at:.2} s \
         after the start; every sync_now done after {wall:.2} s ({rounds} rounds; {} reps: {}); {} errors{}; relay CPU {} ms (ticks) / {:.0} ms (schedstat); phones' CPU {} ms; \
         relay VmRSS {:.1} MB before",
        engines.len(),
        reps.len().min(engines.len()),
        if reps.len() >= engines.len() {
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
        &format!("d) {} devices x {} orders at once: orders per second", engines.len(), cli.orders_per_device),
        format!("{rate:.0} ({accepted} in {all_accepted_at:.2} s)"),
        ">= 900",
        Some(rate / 900.0),
        "-",
    ));
    rows.push(row(
        "d) a device's orders acknowledged after: p50 / p99",
        format!("{:.2} / {:.2} s", percentile(&accept_latencies, 50.0), percentile(&accept_latencies, 99.0)),
        "-",
        None,
        "-",
    ));
    rows.push(row(
        "d) a device's whole sync_now: p50 / p99",
        format!("{:.2} / {:.2} s", percentile(&latencies, 50.0), percentile(&latencies, 99.0)),
        "-",
        None,
        "-",
    ));
    let peak = memory.hwm_kib.max(peak_rss.load(Ordering::SeqCst) as u64);
    rows.push(row(
        "d) relay peak RSS (VmHWM)",
        format!("{:.1} MB{}", peak as f64 / 1024.0, if reset { "" } else { " (process lifetime: clear_refs refused)" }),
        "-",
        None,
        "-",
    ));
    rows.push(row("d) relay CPU (ticks)", format!("{} ms", cpu.tick_ms), "-", None, "-"));
    rows.push(row(
        "d) every order also reviewed (prices, stock, route): after",
        match reviewed {
            true => format!(
                "{reviewed_at:.2} s ({:.0} orders/s; relay CPU {} ms)",
                accepted as f64 / reviewed_at,
                review_cpu.tick_ms
            ),
            false => format!("not within {} s", REVIEW_WAIT.as_secs()),
        },
        "-",
        None,
        "-",
    ));
    rows.push(row(
        "d) errors (sync_now failures / orders not accepted)",
        format!("{} / {}", errors.len(), expected.saturating_sub(accepted)),
        "0",
        None,
        "-",
    ));
    Ok(())
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
    let headers = ["figure", "measured", "target", "measured/target", "automerge sync (reference)"];
    let cells: Vec<[&str; 5]> =
        rows.iter().map(|r| [&*r.figure, &*r.measured, &*r.target, &*r.ratio, &*r.reference]).collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
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
    println!(
        "reference: the automerge sync protocol per document (what automerge-repo exchanges, without its \
         per-message CBOR envelope), fresh sync state on both sides, run in this process on the same documents; \
         'automerge work' is the relay side's load + sync-message CPU on one core of this machine."
    );
}

// ---------------------------------------------------------------------------------------------
// The automerge reference: per-document sync conversations with fresh states.

#[derive(Debug, Clone, Copy, Default)]
struct Reference {
    messages: u64,
    bytes: u64,
    rounds: u64,
    cpu_ms: f64,
}

impl Reference {
    fn add(&mut self, other: Reference) {
        self.messages += other.messages;
        self.bytes += other.bytes;
        self.rounds = self.rounds.max(other.rounds);
        self.cpu_ms += other.cpu_ms;
    }
}

/// One document's sync conversation between a device copy and a relay copy (both given as
/// saved bytes; empty: the side lacks the document). Rounds count the device's messages.
fn converse(device: &[u8], relay: &[u8]) -> Reference {
    let load = |bytes: &[u8]| if bytes.is_empty() { Ok(Automerge::new()) } else { Automerge::load(bytes) };
    let Ok(mut a) = load(device) else { return Reference::default() };
    let t = Instant::now();
    let Ok(mut b) = load(relay) else { return Reference::default() };
    let mut relay_time = t.elapsed();
    let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
    let mut out = Reference::default();
    for _ in 0..16 {
        let mut quiet = true;
        if let Some(message) = a.generate_sync_message(&mut sa) {
            quiet = false;
            let encoded = message.encode();
            out.rounds += 1;
            out.messages += 1;
            out.bytes += encoded.len() as u64;
            let t = Instant::now();
            if let Ok(message) = sync::Message::decode(&encoded) {
                let _ = b.receive_sync_message(&mut sb, message);
            }
            relay_time += t.elapsed();
        }
        let t = Instant::now();
        let from_relay = b.generate_sync_message(&mut sb).map(sync::Message::encode);
        relay_time += t.elapsed();
        if let Some(encoded) = from_relay {
            quiet = false;
            out.messages += 1;
            out.bytes += encoded.len() as u64;
            if let Ok(message) = sync::Message::decode(&encoded) {
                let _ = a.receive_sync_message(&mut sa, message);
            }
        }
        if quiet {
            break;
        }
    }
    out.cpu_ms = relay_time.as_secs_f64() * 1000.0;
    out
}

fn reference_quiet(docs: &[(DocumentId, Vec<u8>)]) -> Reference {
    let mut total = Reference::default();
    for (_, bytes) in docs {
        total.add(converse(bytes, bytes));
    }
    total
}

fn reference_edited(before: &[(DocumentId, Vec<u8>)], edited: &[(DocumentId, Vec<u8>)]) -> Reference {
    let edited: HashMap<&DocumentId, &Vec<u8>> = edited.iter().map(|(id, b)| (id, b)).collect();
    let mut total = Reference::default();
    for (id, relay_bytes) in before {
        let device = edited.get(id).map_or(relay_bytes.as_slice(), |b| b.as_slice());
        total.add(converse(device, relay_bytes));
    }
    total
}

fn reference_first_sync(docs: &[(DocumentId, Vec<u8>)]) -> Reference {
    let mut total = Reference::default();
    for (_, bytes) in docs {
        total.add(converse(&[], bytes));
    }
    total
}
