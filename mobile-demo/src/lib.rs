//! # fieldsync-mobile-demo
//!
//! A field day you can run: the relay starts on 127.0.0.1 with its embedded SQLite data
//! directory and the demo tenant, and simulated phones work through the same library a real
//! phone uses (`fieldsync-core`: a local SQLite store and the sync engine over HTTP). Reps take
//! orders in shops with no signal, a supervisor audits stores with real shelf photos, devices
//! reconnect at different times, and HQ sees the result. Every step is narrated.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fieldsync_core::doc::{AnswerValue, DocKind, GeoFix, OrderReview, ReviewOutcome, StepState, Trust, Verdict};
use fieldsync_core::local_store::{CheckIn, LineInput, NewOrder, OrderFilter, PhotoCapture};
use fieldsync_core::sync::{HttpTransport, SyncEngine, SyncReport, login};
use fieldsync_core::{DocumentId, Identity, LocalStore, Role, clock};
use fieldsync_server::config::Config;
use fieldsync_server::seed::{DemoLogin, seed_demo};

/// A good set of shelf photos for the first audit (public-domain sample photos, see
/// `core/tests/fixtures/photos/README.md`).
const GOOD_PHOTOS: [(&str, &[u8]); 5] = [
    ("coffee.jpg", include_bytes!("../../core/tests/fixtures/photos/coffee.jpg")),
    ("astronaut.jpg", include_bytes!("../../core/tests/fixtures/photos/astronaut.jpg")),
    ("chelsea.jpg", include_bytes!("../../core/tests/fixtures/photos/chelsea.jpg")),
    ("camera.png", include_bytes!("../../core/tests/fixtures/photos/camera.png")),
    ("hopper.jpg", include_bytes!("../../core/tests/fixtures/photos/hopper.jpg")),
];
/// The second audit's photos: a motion-blurred one, and one reused from the first audit.
const DOUBTFUL_PHOTOS: [(&str, &[u8]); 2] = [
    ("clock_motion.png", include_bytes!("../../core/tests/fixtures/photos/clock_motion.png")),
    ("coffee.jpg (reused)", include_bytes!("../../core/tests/fixtures/photos/coffee.jpg")),
];
/// How long the demo waits for the relay's jobs (reviews, scores) to reach a phone.
const JOB_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// What the field day did, for the closing summary.
#[derive(Debug, Clone, Default)]
pub struct DaySummary {
    /// Orders the reps submitted.
    pub orders_submitted: usize,
    /// Orders HQ holds after everyone synced.
    pub orders_at_hq: usize,
    /// Inspections HQ holds.
    pub inspections_at_hq: usize,
    /// The relay's verdicts on the reps' orders: approved, needing approval, rejected.
    pub verdicts: (usize, usize, usize),
    /// Approval steps the manager approved.
    pub approvals: usize,
    /// The relay's scores of the supervisor's inspections.
    pub scores: Vec<f64>,
    /// Photos uploaded.
    pub photos_uploaded: u32,
    /// Sync round trips made by all phones.
    pub round_trips: u32,
    /// Bytes sent and received by all phones' sync (documents and photos).
    pub bytes_synced: u64,
    /// Alerts the stock import raised, as their titles.
    pub alerts_raised: Vec<String>,
    /// Alerts open in the regional manager's inbox at the end of the day.
    pub alerts_open: usize,
}

/// A simulated phone.
pub struct Phone {
    /// Who is signed in.
    pub username: String,
    /// The phone's local store.
    pub store: Arc<LocalStore>,
    engine: SyncEngine,
    base_url: String,
    token: String,
}

impl Phone {
    /// Signs in on a fresh phone whose local store lives in `dir`.
    pub fn sign_in(base_url: &str, demo: &DemoLogin, dir: &Path) -> Result<Self, String> {
        let session =
            login(base_url, &demo.tenant, &demo.username, &demo.password, &format!("{} (demo)", demo.username))
                .map_err(|e| format!("login of {} failed: {e}", demo.username))?;
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let store = Arc::new(
            LocalStore::open(dir.join(format!("{}.db", demo.username))).map_err(|e| format!("phone store: {e}"))?,
        );
        let role: Role = session.role.parse().map_err(|e| format!("{e}"))?;
        store
            .set_identity(&Identity { tenant: demo.tenant.clone(), user_id: session.user_id.clone(), role })
            .map_err(|e| e.to_string())?;
        let engine = SyncEngine::new(store.clone(), Arc::new(HttpTransport::new(base_url, &session.token)));
        Ok(Self { username: demo.username.clone(), store, engine, base_url: base_url.to_owned(), token: session.token })
    }

    /// Syncs and narrates what moved.
    pub fn sync(&self, summary: &mut DaySummary) -> Result<SyncReport, String> {
        let report = self.engine.sync_now().map_err(|e| format!("{} could not sync: {e}", self.username))?;
        summary.round_trips += report.rounds;
        summary.bytes_synced += report.bytes_sent + report.bytes_received + report.photo_bytes_sent;
        summary.photos_uploaded += report.photos_uploaded;
        say(&format!(
            "{:<16} synced: {} round trip(s), {} sent, {} received, {} document(s) in, {} accepted{}",
            self.username,
            report.rounds,
            kb(report.bytes_sent + report.photo_bytes_sent),
            kb(report.bytes_received),
            report.received,
            report.accepted,
            if report.photos_uploaded > 0 {
                format!(", {} photo(s) uploaded", report.photos_uploaded)
            } else {
                String::new()
            }
        ));
        Ok(report)
    }
}

impl Phone {
    /// Uploads a CSV file to the relay's import endpoint as this user (HQ) and returns the
    /// relay's answer.
    pub fn import_csv(&self, dataset: &str, csv: &str) -> Result<String, String> {
        let url = format!("{}/v1/import/{dataset}", self.base_url);
        let mut response = ureq::post(&url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "text/csv")
            .config()
            .http_status_as_error(false)
            .build()
            .send(csv)
            .map_err(|e| format!("the {dataset} import could not reach the relay: {e}"))?;
        let status = response.status();
        let body = response.body_mut().read_to_string().map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("the relay refused the {dataset} import ({status}): {body}"));
        }
        Ok(body)
    }
}

fn kb(bytes: u64) -> String {
    if bytes < 10_240 { format!("{bytes} B") } else { format!("{} KB", bytes / 1024) }
}

fn say(line: &str) {
    println!("  {line}");
}

fn step(title: &str) {
    println!("\n== {title}");
}

/// Starts the relay for `data_dir` on `listen` inside this process and seeds the demo tenant if
/// it is empty. Returns the base URL and the demo logins; the relay runs on `runtime`.
pub fn start_relay(
    runtime: &tokio::runtime::Runtime,
    data_dir: &Path,
    listen: SocketAddr,
) -> Result<(String, Vec<DemoLogin>), String> {
    let config = Config::new(data_dir.join("relay"));
    let password_cost = config.password_cost;
    let state = config.open_state().map_err(|e| format!("cannot open the relay's data: {e}"))?;
    let seeded = runtime.block_on(seed_demo(state.storage.as_ref(), password_cost)).map_err(|e| e.to_string())?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(listen))
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    runtime.block_on(async { fieldsync_server::spawn_workers(&state) });
    let app = fieldsync_server::app(state);
    runtime.spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(error) = axum::serve(listener, service).await {
            tracing::error!(%error, "relay stopped");
        }
    });
    Ok((format!("http://{address}"), seeded.logins))
}

/// An amount in the demo tenant's currency: `1,234.50 EUR`.
fn money(cents: i64) -> String {
    format!("{} {}", fieldsync_server::format::amount(cents), fieldsync_server::seed::DEMO_CURRENCY)
}

/// Runs the field day against the relay at `base_url`; phones keep their stores under `phones`.
pub fn field_day(base_url: &str, logins: &[DemoLogin], phones: &Path) -> Result<DaySummary, String> {
    let mut summary = DaySummary::default();
    let user = |role: Role, region: Option<&str>, nth: usize| {
        logins
            .iter()
            .filter(|l| l.role == role && (region.is_none() || l.region.as_deref() == region))
            .nth(nth)
            .ok_or_else(|| format!("the demo tenant has no {role} number {nth}"))
    };
    // Each run is a new day with new phones, so the demo can run again on the same data.
    let day = phones.join(format!("day-{}", clock::now_ms()));

    step("Morning: everyone signs in and syncs while the office Wi-Fi works");
    let anna = Phone::sign_in(base_url, user(Role::Rep, Some("north"), 0)?, &day)?;
    let ben = Phone::sign_in(base_url, user(Role::Rep, Some("north"), 1)?, &day)?;
    let carla = Phone::sign_in(base_url, user(Role::Rep, Some("south"), 0)?, &day)?;
    let sam = Phone::sign_in(base_url, user(Role::Supervisor, Some("north"), 0)?, &day)?;
    let hq = Phone::sign_in(base_url, user(Role::Hq, None, 0)?, &day)?;
    for phone in [&anna, &ben, &carla, &sam, &hq] {
        phone.sync(&mut summary)?;
    }
    for phone in [&anna, &ben, &carla] {
        let stores = phone.store.stores().map_err(|e| e.to_string())?;
        let products = phone.store.catalog().map_err(|e| e.to_string())?.products.len();
        say(&format!(
            "{:<16} holds {} of its own stores and a {products}-product catalog",
            phone.username,
            stores.len()
        ));
    }

    let manager = Phone::sign_in(base_url, user(Role::Manager, Some("north"), 0)?, &day)?;
    manager.sync(&mut summary)?;

    step("In the field, no signal: reps take orders offline");
    let mut submitted = Vec::new();
    for (phone, visits) in [(&anna, 3), (&ben, 2), (&carla, 2)] {
        let ids = take_orders(phone, visits)?;
        summary.orders_submitted += ids.len();
        submitted.push((phone, ids));
    }

    step("A supervisor audits two stores offline, with shelf photos");
    let inspections = audit_stores(&sam)?;

    step("Signal returns at different times");
    for phone in [&ben, &sam, &carla, &anna] {
        phone.sync(&mut summary)?;
    }

    step("The relay reviews every order; the verdicts come back to the reps");
    for (phone, ids) in &submitted {
        let reviews = wait_for(phone, &mut summary, |store| {
            ids.iter().map(|id| store.order_review(id).ok().flatten().map(|(_, review)| review)).collect()
        })?;
        for (id, review) in ids.iter().zip(reviews) {
            let findings: Vec<String> = review.findings.iter().map(|f| f.text.clone()).collect();
            say(&format!(
                "{:<16} order {}: {}{}",
                phone.username,
                if review.number.is_empty() { id.to_string() } else { review.number.clone() },
                review.outcome.as_str(),
                if findings.is_empty() { String::new() } else { format!(" — {}", findings.join("; ")) }
            ));
            match review.outcome {
                ReviewOutcome::Approved => summary.verdicts.0 += 1,
                ReviewOutcome::NeedsApproval => summary.verdicts.1 += 1,
                ReviewOutcome::Rejected => summary.verdicts.2 += 1,
            }
        }
    }

    step("The regional manager approves from their phone (offline), then syncs");
    manager.sync(&mut summary)?;
    let mine = manager.store.identity().map(|i| i.user_id).unwrap_or_default();
    let waiting: Vec<(DocumentId, usize)> = manager
        .store
        .ids_of_kind(DocKind::OrderReview)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|id| manager.store.get::<OrderReview>(&id).ok())
        .filter_map(|review| {
            let step = review.current_step()?;
            let order: DocumentId = review.order_id.parse().ok()?;
            (review.steps[step].approver == mine).then_some((order, step))
        })
        .collect();
    for (order, step) in &waiting {
        manager
            .store
            .decide(order, *step as u64, Verdict::Approve, "volume agreed with the customer")
            .map_err(|e| e.to_string())?;
        summary.approvals += 1;
        say(&format!("{:<16} approved step {} of order {order}", manager.username, step + 1));
    }
    manager.sync(&mut summary)?;
    for (phone, ids) in &submitted {
        let approved: Vec<&DocumentId> = ids.iter().filter(|id| waiting.iter().any(|(o, _)| o == *id)).collect();
        if approved.is_empty() {
            continue;
        }
        wait_for(phone, &mut summary, |store| {
            approved
                .iter()
                .map(|id| {
                    store
                        .order_review(id)
                        .ok()
                        .flatten()
                        .filter(|(_, r)| r.steps.first().is_some_and(|step| step.state == StepState::Approved))
                        .map(|(_, r)| r)
                })
                .collect()
        })?;
        say(&format!("{:<16} sees the manager's approval of {} order(s)", phone.username, approved.len()));
    }

    step("The relay scores the audits from the checklist and the photos");
    let scores = wait_for(&sam, &mut summary, |store| {
        inspections.iter().map(|id| store.inspection_score(id).ok().flatten().map(|(_, score)| score)).collect()
    })?;
    for score in scores {
        let rejected = score.photos.iter().filter(|p| p.trust == Trust::Rejected).count();
        say(&format!(
            "inspection {}: score {:.1}, {} photo(s) assessed, {} rejected as evidence",
            score.inspection_id,
            score.score,
            score.photos.len(),
            rejected
        ));
        for reason in score.photos.iter().flat_map(|p| p.reasons.iter()).take(4) {
            say(&format!("    {reason}"));
        }
        summary.scores.push(score.score);
    }

    step("Afternoon: HQ imports the warehouse stock count; the relay raises an alert");
    import_low_stock(&hq, &anna, &manager, &mut summary)?;

    step("HQ sees what the field synced");
    hq.sync(&mut summary)?;
    let orders = hq.store.list_orders(&OrderFilter::default()).map_err(|e| e.to_string())?;
    summary.orders_at_hq = orders.len();
    let value: i64 = orders.iter().map(|o| o.total_cents).sum();
    say(&format!("HQ holds {} orders worth {}", orders.len(), money(value)));
    summary.inspections_at_hq = hq.store.list_inspections(&Default::default()).map_err(|e| e.to_string())?.len();
    for id in &inspections {
        let inspection = hq.store.inspection(id).map_err(|e| e.to_string())?;
        say(&format!(
            "inspection {id}: {} answers, {} photo reference(s), checked out: {}",
            inspection.answers.len(),
            inspection.photos.len(),
            inspection.check_out.is_some()
        ));
    }
    Ok(summary)
}

/// Syncs `phone` until `ready` finds every value it looks for (or gives up after [`JOB_WAIT`]):
/// reviews and scores are written by the relay's jobs a moment after the sync that triggered them.
fn wait_for<T>(
    phone: &Phone,
    summary: &mut DaySummary,
    ready: impl Fn(&LocalStore) -> Vec<Option<T>>,
) -> Result<Vec<T>, String> {
    let deadline = std::time::Instant::now() + JOB_WAIT;
    loop {
        let found = ready(&phone.store);
        if found.iter().all(Option::is_some) {
            return Ok(found.into_iter().flatten().collect());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{} waited {} s for the relay's jobs", phone.username, JOB_WAIT.as_secs()));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        phone.engine.sync_now().map_err(|e| format!("{} could not sync: {e}", phone.username))?;
        summary.round_trips += 1;
    }
}

/// HQ imports a stock count that takes one of the region's SKUs below its safety level; the
/// relay's alert evaluation puts a low-stock alert in the regional manager's inbox.
fn import_low_stock(hq: &Phone, rep: &Phone, manager: &Phone, summary: &mut DaySummary) -> Result<(), String> {
    let inventories = rep.store.inventories().map_err(|e| e.to_string())?;
    let (inventory, sku, level) = inventories
        .iter()
        .flat_map(|(_, inventory)| inventory.levels.iter().map(move |(sku, level)| (inventory, sku, level)))
        .find(|(_, _, level)| level.on_hand - level.reserved >= level.safety && level.safety > 0)
        .ok_or("the rep's region holds no stock level above its safety stock")?;
    // What is left for new orders (on hand minus reserved) drops to a quarter of the safety level.
    let on_hand = level.reserved + level.safety / 4;
    let csv = format!(
        "warehouse,region,sku,on_hand,safety\n{},{},{sku},{on_hand},{}\n",
        inventory.warehouse, inventory.region, level.safety
    );
    let answer = hq.import_csv("stock", &csv)?;
    say(&format!(
        "{:<16} imported a stock count: {sku} at {} down from {} to {on_hand} (safety {})",
        hq.username, inventory.warehouse, level.on_hand, level.safety
    ));
    say(&format!("{:<16} answered {answer}", "relay"));
    let raised = wait_for(manager, summary, |store| {
        let inbox = store.inbox().ok().flatten();
        let alert = inbox.and_then(|inbox| {
            inbox
                .open_alerts()
                .find(|(_, a)| a.kind == "low-stock" && a.sku.as_deref() == Some(sku))
                .map(|(_, a)| a.clone())
        });
        vec![alert]
    })?;
    for alert in raised {
        say(&format!("{:<16} inbox: {} — {}", manager.username, alert.title, alert.detail));
        summary.alerts_raised.push(alert.title);
    }
    summary.alerts_open =
        manager.store.inbox().map_err(|e| e.to_string())?.map(|inbox| inbox.open_alerts().count()).unwrap_or(0);
    say(&format!("{:<16} has {} open alert(s) in the inbox", manager.username, summary.alerts_open));
    Ok(())
}

fn take_orders(phone: &Phone, visits: usize) -> Result<Vec<DocumentId>, String> {
    let stores = phone.store.stores().map_err(|e| e.to_string())?;
    let catalog = phone.store.catalog().map_err(|e| e.to_string())?;
    let products: Vec<_> = catalog.products.iter().filter(|(_, p)| p.active).collect();
    let mut submitted = Vec::new();
    for (visit, (store_id, store)) in stores.iter().take(visits).enumerate() {
        let mut lines: Vec<LineInput> = (0..3)
            .map(|i| {
                let (sku, _) = products[(visit * 7 + i * 13) % products.len()];
                LineInput {
                    sku: sku.clone(),
                    qty: 2 + (visit as i64 + i as i64) % 5,
                    unit_price_cents: 0,
                    discount_bp: 0,
                }
            })
            .collect();
        if visit == 2 {
            // A big order for a party: beyond what a rep may sell without the manager.
            lines[0].qty = 40;
        }
        // The phone prices the lines offline with the same rules the relay checks.
        let preview = phone.store.price_preview(&store_id.to_string(), &lines).map_err(|e| e.to_string())?;
        for (line, priced) in lines.iter_mut().zip(&preview.lines) {
            line.unit_price_cents = priced.list_price.as_ref().map_or(0, |list| list.unit_price_cents);
            line.discount_bp = priced.promotion_bp;
        }
        if visit == 1 && phone.username.ends_with("02") {
            // A price typed by hand, below the list price.
            lines[1].unit_price_cents = lines[1].unit_price_cents * 7 / 10;
        }
        let id = phone
            .store
            .create_order(NewOrder { store_id: store_id.to_string(), lines, notes: "taken offline".into() })
            .map_err(|e| e.to_string())?;
        phone.store.submit_order(&id).map_err(|e| e.to_string())?;
        let order = phone.store.order(&id).map_err(|e| e.to_string())?;
        let total = order.total_cents();
        say(&format!(
            "{:<16} at {:<28} order of {} lines, {}, saved on the phone",
            phone.username,
            store.name,
            order.lines.len(),
            money(total)
        ));
        submitted.push(id);
    }
    Ok(submitted)
}

fn audit_stores(phone: &Phone) -> Result<Vec<DocumentId>, String> {
    let stores = phone.store.stores().map_err(|e| e.to_string())?;
    let (template_id, template) =
        phone.store.templates().map_err(|e| e.to_string())?.into_iter().next().ok_or("no checklist template")?;
    let items = template.items_in_order();
    let mut done = Vec::new();
    let now = clock::now_ms();
    for (n, (store_id, store)) in stores.iter().take(2).enumerate() {
        let at = GeoFix { latitude: store.latitude, longitude: store.longitude, accuracy_m: 8.0 };
        let id = phone
            .store
            .check_in(CheckIn {
                store_id: store_id.to_string(),
                template_id: template_id.to_string(),
                at: now,
                position: at,
            })
            .map_err(|e| e.to_string())?;
        say(&format!("{:<16} checked in at {}", phone.username, store.name));
        let mut photos = if n == 0 { GOOD_PHOTOS.iter() } else { DOUBTFUL_PHOTOS.iter() };
        for (i, (item_id, item)) in items.iter().enumerate() {
            let value = if (i + n) % 3 == 2 { AnswerValue::No } else { AnswerValue::Yes };
            phone.store.answer(&id, item_id, value, None, "").map_err(|e| e.to_string())?;
            if !item.requires_photo {
                continue;
            }
            let Some((name, bytes)) = photos.next() else {
                say(&format!("{:<16} no photo for \"{}\"", phone.username, item.text));
                continue;
            };
            let capture = PhotoCapture { captured_at: now + 60_000 * (i as i64 + 1), position: Some(at) };
            let added = phone.store.add_photo(&id, item_id, bytes, capture).map_err(|e| e.to_string())?;
            say(&format!("{:<16} photo {name} for \"{}\": {}", phone.username, item.text, added.preview.summary()));
        }
        phone.store.check_out(&id, now + 30 * 60_000, at).map_err(|e| e.to_string())?;
        done.push(id);
    }
    Ok(done)
}

/// Where the demo keeps its data by default.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from(".fieldsync-data")
}
