//! A deterministic, seeded simulation of a field day, in the style of yrs' test connector: two
//! reps of one region (one of them on two phones), their supervisor and an HQ phone edit orders
//! and inspections at random, drop offline, lose responses and sync in random order. At the end
//! the network clears, every device syncs until quiet, and every replica must equal the relay's,
//! hold exactly its scope, and contain every change any device committed.
//!
//! `FIELDSYNC_SIM_SEEDS=N` runs seeds `0..N` (default 64); `FIELDSYNC_SIM_SEED=S` replays one.
//! A failure names its seed. Document, line and actor ids are random, so a replay repeats the
//! same schedule of actions, not byte-identical documents.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use fieldsync_core::doc::{AnswerValue, GeoFix, Inspection, Order, OrderStatus};
use fieldsync_core::local_store::{CheckIn, LineInput, NewOrder};
use fieldsync_core::{DocumentId, Role};
use fieldsync_tests::{Phone, Relay, Weather, hydrate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const STEPS: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rep,
    Supervisor,
    Hq,
}

struct Device {
    name: String,
    username: String,
    kind: Kind,
    phone: Phone,
    weather: Weather,
}

/// Every value some device wrote to one field, in the order written: (device, value).
#[derive(Debug, Clone)]
struct Writes<T>(Vec<(usize, T)>);

impl<T> Default for Writes<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: PartialEq + Clone + std::fmt::Debug> Writes<T> {
    fn push(&mut self, device: usize, value: T) {
        self.0.push((device, value));
    }

    /// A single writer's last write must survive; with several writers, the final value must be
    /// one of theirs (last-writer-wins picks one, it never invents one).
    fn check(&self, fin: &T, what: &str, seed: u64) {
        let writers: BTreeSet<usize> = self.0.iter().map(|(d, _)| *d).collect();
        if writers.len() == 1 {
            let last = &self.0.last().unwrap().1;
            assert_eq!(fin, last, "seed {seed}: {what}: the only writer's last write was lost");
        } else {
            assert!(
                self.0.iter().any(|(_, v)| v == fin),
                "seed {seed}: {what}: final value {fin:?} is none of the written {:?}",
                self.0
            );
        }
    }
}

#[derive(Debug, Default)]
struct OrderLedger {
    owner: String,
    status: Writes<OrderStatus>,
    notes: Writes<String>,
    /// Line ids in the order they were added, with their quantity writes.
    lines: Vec<(String, Writes<i64>)>,
    removed: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct Ledger {
    /// Orders in creation order.
    orders: Vec<(DocumentId, OrderLedger)>,
    /// Inspections in creation order, with the last answer given per item.
    inspections: Vec<(DocumentId, BTreeMap<String, AnswerValue>, bool)>,
}

impl Ledger {
    fn order(&mut self, id: &DocumentId) -> &mut OrderLedger {
        &mut self.orders.iter_mut().find(|(o, _)| o == id).unwrap().1
    }
}

fn seeds() -> Vec<u64> {
    if let Ok(seed) = std::env::var("FIELDSYNC_SIM_SEED") {
        return vec![seed.parse().expect("FIELDSYNC_SIM_SEED is a number")];
    }
    let n: u64 = std::env::var("FIELDSYNC_SIM_SEEDS").map(|n| n.parse().expect("a number")).unwrap_or(64);
    (0..n).collect()
}

#[test]
fn seeded_field_days_with_offline_phones_and_lost_responses_converge_and_lose_no_committed_change() {
    let seeds = seeds();
    let next = AtomicU64::new(0);
    let failed = Mutex::new(Vec::new());
    // Two workers: the relay and the phones wait on fsync much of the time.
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                    let Some(&seed) = seeds.get(i) else { break };
                    if catch_unwind(AssertUnwindSafe(|| run(seed))).is_err() {
                        failed.lock().unwrap().push(seed);
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(failed.is_empty(), "seeds {failed:?} failed; replay one with FIELDSYNC_SIM_SEED=<seed>");
}

fn run(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let relay = Relay::start();
    let reps = relay.users(Role::Rep, Some("north"));
    let supervisor = relay.users(Role::Supervisor, Some("north"))[0].clone();
    let hq = relay.users(Role::Hq, None)[0].clone();
    let cast = [
        ("anna-1", reps[0].clone(), Kind::Rep),
        ("anna-2", reps[0].clone(), Kind::Rep),
        ("ben", reps[1].clone(), Kind::Rep),
        ("sue", supervisor, Kind::Supervisor),
        ("hq", hq, Kind::Hq),
    ];
    let mut devices: Vec<Device> = cast
        .into_iter()
        .map(|(name, username, kind)| Device {
            name: name.to_owned(),
            phone: relay.synced_phone(&username),
            username,
            kind,
            weather: Weather::Clear,
        })
        .collect();
    let mut ledger = Ledger::default();
    let mut log = Vec::new();

    for step in 0..STEPS {
        let d = rng.random_range(0..devices.len());
        if rng.random_bool(0.2) {
            let weather = match rng.random_range(0..4) {
                0 => Weather::Offline,
                1 => Weather::LoseResponses,
                _ => Weather::Clear,
            };
            devices[d].weather = weather;
            devices[d].phone.network.set(weather);
            log.push(format!("{step}: {} network {weather:?}", devices[d].name));
        }
        let action = act(seed, &mut rng, d, &devices, &mut ledger);
        log.push(format!("{step}: {} {action}", devices[d].name));
    }

    for device in &mut devices {
        device.weather = Weather::Clear;
        device.phone.network.set(Weather::Clear);
    }
    for _ in 0..2 {
        for device in &devices {
            sync_clear(seed, device);
        }
    }
    // What the relay writes in reply (order reviews) must be stored before the last pass.
    assert!(relay.wait_for_jobs(Duration::from_secs(10)), "seed {seed}: the relay's job queue never emptied");
    for device in &devices {
        sync_clear(seed, device);
    }
    check(seed, &relay, &devices, &ledger, &log);
}

fn sync_clear(seed: u64, device: &Device) {
    if let Err(error) = device.phone.engine.sync_now() {
        panic!("seed {seed}: {} failed to sync on a clear network: {error}", device.name);
    }
}

/// One random action of device `d`; returns what it did, for the log.
fn act(seed: u64, rng: &mut StdRng, d: usize, devices: &[Device], ledger: &mut Ledger) -> String {
    let device = &devices[d];
    let store = &device.phone.store;
    let roll = rng.random_range(0..100);
    if roll < 20 || device.kind == Kind::Hq {
        let result = device.phone.engine.sync_now();
        if device.weather == Weather::Clear {
            result.unwrap_or_else(|e| panic!("seed {seed}: {} failed to sync on a clear network: {e}", device.name));
        } else {
            assert!(result.is_err(), "seed {seed}: {} synced through a {:?} network", device.name, device.weather);
        }
        return "sync".to_owned();
    }
    match device.kind {
        Kind::Rep => {
            let mine: Vec<DocumentId> = ledger
                .orders
                .iter()
                .filter(|(id, o)| o.owner == device.username && store.order(id).is_ok())
                .map(|(id, _)| id.clone())
                .collect();
            if roll < 40 || mine.is_empty() {
                let stores = store.stores().unwrap();
                let (store_id, _) = &stores[rng.random_range(0..stores.len())];
                let lines: Vec<LineInput> = (0..rng.random_range(0..3)).map(|_| line(rng, device)).collect();
                let qtys: Vec<i64> = lines.iter().map(|l| l.qty).collect();
                let notes = format!("order by {}", device.name);
                let id = store
                    .create_order(NewOrder { store_id: store_id.to_string(), lines, notes: notes.clone() })
                    .unwrap();
                let order = store.order(&id).unwrap();
                let mut entry = OrderLedger { owner: device.username.clone(), ..Default::default() };
                entry.status.push(d, OrderStatus::Draft);
                entry.notes.push(d, notes);
                // Lines created together: record them by position.
                let mut created: Vec<(&String, &fieldsync_core::doc::OrderLine)> = order.lines.iter().collect();
                created.sort_by_key(|(_, l)| l.position);
                for ((line_id, l), qty) in created.into_iter().zip(qtys) {
                    assert_eq!(l.qty, qty);
                    let mut writes = Writes::default();
                    writes.push(d, qty);
                    entry.lines.push((line_id.clone(), writes));
                }
                ledger.orders.push((id.clone(), entry));
                return format!("create order {id}");
            }
            let id = mine[rng.random_range(0..mine.len())].clone();
            let order: Order = store.order(&id).unwrap();
            let entry = ledger.order(&id);
            let present: Vec<String> =
                entry.lines.iter().map(|(l, _)| l.clone()).filter(|l| order.lines.contains_key(l)).collect();
            match roll {
                40..=57 => {
                    let input = line(rng, device);
                    let qty = input.qty;
                    match store.add_line(&id, input) {
                        Ok(line_id) => {
                            let mut writes = Writes::default();
                            writes.push(d, qty);
                            entry.lines.push((line_id.clone(), writes));
                            format!("add line {line_id} qty {qty} to {id}")
                        }
                        Err(e) => format!("add line to {id} refused: {e}"),
                    }
                }
                58..=71 if !present.is_empty() => {
                    let line_id = present[rng.random_range(0..present.len())].clone();
                    let mut input = line(rng, device);
                    input.sku = order.lines[&line_id].sku.clone();
                    let qty = input.qty;
                    match store.update_line(&id, &line_id, input) {
                        Ok(()) => {
                            entry.lines.iter_mut().find(|(l, _)| *l == line_id).unwrap().1.push(d, qty);
                            format!("set line {line_id} of {id} to qty {qty}")
                        }
                        Err(e) => format!("edit line of {id} refused: {e}"),
                    }
                }
                72..=77 if !present.is_empty() => {
                    let line_id = present[rng.random_range(0..present.len())].clone();
                    match store.remove_line(&id, &line_id) {
                        Ok(()) => {
                            entry.removed.insert(line_id.clone());
                            format!("remove line {line_id} of {id}")
                        }
                        Err(e) => format!("remove line of {id} refused: {e}"),
                    }
                }
                78..=84 => {
                    let notes = format!("note {} by {}", rng.random_range(0..1000), device.name);
                    match store.set_notes(&id, &notes) {
                        Ok(()) => {
                            entry.notes.push(d, notes);
                            format!("notes of {id}")
                        }
                        Err(e) => format!("notes of {id} refused: {e}"),
                    }
                }
                85..=93 => match store.submit_order(&id) {
                    Ok(()) => {
                        entry.status.push(d, OrderStatus::Submitted);
                        format!("submit {id}")
                    }
                    Err(e) => format!("submit {id} refused: {e}"),
                },
                _ => match store.reopen_order(&id) {
                    Ok(()) => {
                        entry.status.push(d, OrderStatus::Draft);
                        format!("reopen {id}")
                    }
                    Err(e) => format!("reopen {id} refused: {e}"),
                },
            }
        }
        Kind::Supervisor => {
            let open: Vec<usize> = (0..ledger.inspections.len()).filter(|&i| !ledger.inspections[i].2).collect();
            if roll < 45 || open.is_empty() {
                let stores = store.stores().unwrap();
                let (store_id, retail) = &stores[rng.random_range(0..stores.len())];
                let mut templates = store.templates().unwrap();
                templates.sort_by(|a, b| a.1.name.cmp(&b.1.name));
                let (template_id, _) = &templates[rng.random_range(0..templates.len())];
                let position = GeoFix { latitude: retail.latitude, longitude: retail.longitude, accuracy_m: 8.0 };
                let id = store
                    .check_in(CheckIn {
                        store_id: store_id.to_string(),
                        template_id: template_id.to_string(),
                        at: fieldsync_core::clock::now_ms(),
                        position,
                    })
                    .unwrap();
                ledger.inspections.push((id.clone(), BTreeMap::new(), false));
                return format!("check in {id}");
            }
            let i = open[rng.random_range(0..open.len())];
            let id = ledger.inspections[i].0.clone();
            let inspection: Inspection = store.inspection(&id).unwrap();
            if roll < 85 {
                let template = store.get::<fieldsync_core::doc::Template>(&inspection.template_id.parse().unwrap());
                let template = template.unwrap();
                let items = template.items_in_order();
                let (item, _) = items[rng.random_range(0..items.len())];
                let value = [AnswerValue::Yes, AnswerValue::No, AnswerValue::NotApplicable][rng.random_range(0..3)];
                store.answer(&id, item, value, None, "").unwrap();
                ledger.inspections[i].1.insert(item.clone(), value);
                format!("answer {item} of {id}: {value:?}")
            } else {
                let at = inspection.check_in.at.max(fieldsync_core::clock::now_ms());
                store.check_out(&id, at, inspection.check_in.position).unwrap();
                ledger.inspections[i].2 = true;
                format!("check out {id}")
            }
        }
        Kind::Hq => unreachable!("hq only syncs"),
    }
}

/// A line for one of the first active products of the catalog (reading the whole catalog is
/// slow in a debug build, so the products are looked up one by one).
fn line(rng: &mut StdRng, device: &Device) -> LineInput {
    let skus = active_skus(device);
    let sku = &skus[rng.random_range(0..skus.len())];
    let product = device.phone.store.product(sku).unwrap();
    LineInput {
        sku: sku.clone(),
        qty: rng.random_range(1..50),
        unit_price_cents: product.base_price_cents,
        discount_bp: 0,
    }
}

fn active_skus(device: &Device) -> Vec<String> {
    static SKUS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SKUS.get_or_init(|| {
        let catalog = device.phone.store.catalog().unwrap();
        catalog.products.iter().filter(|(_, p)| p.active).map(|(sku, _)| sku.clone()).take(20).collect()
    })
    .clone()
}

fn check(seed: u64, relay: &Relay, devices: &[Device], ledger: &Ledger, log: &[String]) {
    let context = || format!("seed {seed}; actions:\n{}", log.join("\n"));
    for device in devices {
        let status = device.phone.engine.status().unwrap();
        assert_eq!(status.pending_changes, 0, "{}: changes left unsent; {}", device.name, context());
        assert!(
            device.phone.store.quarantined().unwrap().is_empty(),
            "{}: the relay refused a legitimate change: {:?}; {}",
            device.name,
            device.phone.store.quarantined().unwrap(),
            context()
        );
        // Exactly the relay's scope, each document equal to the relay's copy.
        let held = device.phone.documents();
        let held_ids: Vec<DocumentId> = held.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(
            held_ids,
            relay.scope_ids(&device.username),
            "{}: holds other documents than its scope; {}",
            device.name,
            context()
        );
        for (id, value) in &held {
            let stored =
                relay.stored(id).unwrap_or_else(|| panic!("{}: {id} is not on the relay; {}", device.name, context()));
            assert_eq!(
                value,
                &hydrate(&stored.snapshot),
                "{}: {id} differs from the relay's; {}",
                device.name,
                context()
            );
        }
    }
    // The rep's two phones hold the same orders.
    let orders_of = |device: &Device| -> Vec<(DocumentId, Order)> {
        let mut ids = device.phone.store.ids_of_kind(fieldsync_core::DocKind::Order).unwrap();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.into_iter().map(|id| (id.clone(), device.phone.store.order(&id).unwrap())).collect()
    };
    assert_eq!(orders_of(&devices[0]), orders_of(&devices[1]), "the rep's two phones differ; {}", context());

    let hq = devices.iter().find(|d| d.kind == Kind::Hq).unwrap();
    for (id, entry) in &ledger.orders {
        let stored = relay.stored(id).unwrap_or_else(|| panic!("order {id} never reached the relay; {}", context()));
        let order: Order =
            fieldsync_core::doc::read(id, &automerge::Automerge::load(&stored.snapshot).unwrap()).unwrap();
        assert_eq!(hq.phone.store.order(id).as_ref().ok(), Some(&order), "hq lacks order {id}; {}", context());
        for device in devices.iter().filter(|d| d.username == entry.owner) {
            assert_eq!(
                device.phone.store.order(id).as_ref().ok(),
                Some(&order),
                "{} lacks {id}; {}",
                device.name,
                context()
            );
        }
        let what = |field: &str| format!("order {id} {field}; {}", context());
        entry.status.check(&order.status, &what("status"), seed);
        entry.notes.check(&order.notes, &what("notes"), seed);
        for (line_id, qtys) in &entry.lines {
            match order.lines.get(line_id) {
                Some(line) => {
                    assert!(
                        !entry.removed.contains(line_id),
                        "line {line_id} came back after removal; {}",
                        what("lines")
                    );
                    qtys.check(&line.qty, &what(&format!("line {line_id} qty")), seed);
                }
                None => assert!(entry.removed.contains(line_id), "line {line_id} was lost; {}", what("lines")),
            }
        }
        let known: BTreeSet<&String> = entry.lines.iter().map(|(l, _)| l).collect();
        assert!(order.lines.keys().all(|l| known.contains(l)), "order {id} has lines nobody added; {}", context());
    }
    for (id, answers, checked_out) in &ledger.inspections {
        let stored =
            relay.stored(id).unwrap_or_else(|| panic!("inspection {id} never reached the relay; {}", context()));
        let inspection: Inspection =
            fieldsync_core::doc::read(id, &automerge::Automerge::load(&stored.snapshot).unwrap()).unwrap();
        assert_eq!(
            hq.phone.store.inspection(id).as_ref().ok(),
            Some(&inspection),
            "hq lacks inspection {id}; {}",
            context()
        );
        let given: BTreeMap<String, AnswerValue> =
            inspection.answers.iter().map(|(item, a)| (item.clone(), a.value)).collect();
        assert_eq!(&given, answers, "inspection {id} answers; {}", context());
        assert_eq!(inspection.check_out.is_some(), *checked_out, "inspection {id} check-out; {}", context());
    }
}

/// The README's main job (`./scripts/demo`), run twice on one data directory: each run is a new
/// day of the same story, and nothing of the first day is held against the second.
#[test]
fn the_demo_field_day_runs_twice_on_one_data_directory_without_flagging_the_second_day() {
    use fieldsync_mobile_demo::{field_day, start_relay};

    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (base_url, logins, clock) =
        start_relay(&runtime, dir.path(), std::net::SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    for run in 1..=2 {
        let mut narration = Vec::new();
        let summary = field_day(&base_url, &logins, &clock, &dir.path().join("phones"), &mut narration).unwrap();
        let narration = String::from_utf8(narration).unwrap();
        assert_eq!(summary.orders_submitted, 7);
        assert_eq!(summary.orders_at_hq, 7 * run, "run {run}: every day's orders reach HQ");
        assert_eq!(summary.inspections_at_hq, 2 * run);
        let (approved, waiting, rejected) = summary.verdicts;
        assert_eq!(approved + waiting + rejected, 7, "run {run}: every order got a verdict: {summary:?}");
        assert!(rejected >= 1, "run {run}: the order priced below the floor is rejected: {summary:?}");
        assert!(summary.approvals >= 1, "run {run}: {summary:?}");
        assert_eq!(summary.scores.len(), 2);
        assert!(
            summary.scores[0] > summary.scores[1],
            "run {run}: the audit with a gap and a blurry photo scores lower"
        );
        // The story's only doubtful photo is a blurry one; no photo is rejected, none as reused.
        assert_eq!(summary.photos.len(), 10, "run {run}: {summary:?}");
        let reused: Vec<_> = summary.photos.iter().filter(|p| p.reasons.iter().any(|r| r.contains("reused"))).collect();
        assert!(reused.is_empty(), "run {run}: photos flagged as reused: {reused:?}");
        assert_eq!(summary.photo_trust().2, 0, "run {run}: no photo rejected as evidence: {:?}", summary.photos);
        assert_eq!(
            summary.photo_trust().1,
            0,
            "run {run}: jittered GPS is not flagged for review: {:?}",
            summary.photos
        );
        assert_eq!(
            summary.photos.iter().filter(|p| p.quality < 50.0).count(),
            1,
            "run {run}: exactly the shaky photo is of poor quality: {:?}",
            summary.photos
        );
        let kinds: Vec<&str> = summary.alert_kinds.iter().map(String::as_str).collect();
        assert_eq!(kinds, ["low-stock", "promotion-not-started", "sales-falling"], "run {run}");
        assert!(!narration.contains("{\""), "run {run}: raw JSON in the narration:\n{narration}");
        assert!(!narration.contains("sees the manager's approval"), "run {run}");
        assert!(narration.contains("waits for HQ"), "run {run}: the manager's approvals wait for HQ:\n{narration}");
        // Deadlines, with the relay's clock moved forward: the manager's queue, a reminder for
        // each order in it, the manager approving from it, and the order left there escalating.
        assert!(narration.contains("waiting on me: order"), "run {run}:\n{narration}");
        // Of the manager's queue, only the restock (400.00 or more) has a deadline; the others are
        // out of policy, routed without one.
        assert_eq!(summary.reminders, 1, "run {run}: the restock is reminded: {summary:?}");
        assert!(narration.contains("reminder: Order N-"), "run {run}:\n{narration}");
        assert_eq!(summary.escalations.len(), 1, "run {run}: {summary:?}");
        assert!(
            narration.contains("escalated from manager-north to hq-admin (hq)")
                && narration.contains("was escalated to you"),
            "run {run}:\n{narration}"
        );
    }
}
