//! # fieldsync-mobile-demo
//!
//! A field day you can run: the relay starts on 127.0.0.1 with its embedded SQLite data
//! directory and the demo tenant, and simulated phones work through the same library a real
//! phone uses (`fieldsync-core`: a local SQLite store and the sync engine over HTTP). Reps take
//! orders in shops with no signal, a supervisor audits stores with real shelf photos, devices
//! reconnect at different times, and HQ sees the result. Every step is narrated.

pub mod camera;
pub mod erp;
pub mod shelf;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldsync_core::doc::{
    Alert, AnswerValue, GeoFix, OrderReview, PhotoAssessment, ReviewOutcome, Severity, StepState, Trust, Verdict,
};
use fieldsync_core::local_store::{CheckIn, LineInput, NewOrder, OrderFilter, PhotoCapture};
use fieldsync_core::sync::{HttpTransport, SyncEngine, SyncReport, login};
use fieldsync_core::{DocumentId, Identity, LocalStore, Role, clock};
use fieldsync_server::clock::Clock;
use fieldsync_server::config::Config;
use fieldsync_server::locale::Locale;
use fieldsync_server::seed::{DEMO_CURRENCY, DEMO_TIME_ZONE, DemoLogin, seed_demo};
use shelf::Stock;

/// The real motion-blurred photo (scikit-image's `clock_motion`, see
/// `core/tests/fixtures/photos/README.md`): the supervisor's shaky shot in the first field day
/// on a data directory. Later days blur a new shelf photo instead, since the relay rightly
/// rejects a file it has already seen.
const BLURRY_PHOTO: &[u8] = include_bytes!("../../core/tests/fixtures/photos/clock_motion.png");
/// How long the demo waits for the relay's jobs (reviews, scores) to reach a phone.
const JOB_WAIT: Duration = Duration::from_secs(30);
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// What the field day did, for the closing summary.
#[derive(Debug, Clone, Default)]
pub struct DaySummary {
    /// Orders the reps submitted.
    pub orders_submitted: usize,
    /// Orders HQ holds after everyone synced (every day so far).
    pub orders_at_hq: usize,
    /// Inspections HQ holds (every day so far).
    pub inspections_at_hq: usize,
    /// The relay's verdicts on the reps' orders: approved, needing approval, rejected.
    pub verdicts: (usize, usize, usize),
    /// Approval steps the manager approved.
    pub approvals: usize,
    /// Orders the manager approved that still wait for HQ's step.
    pub waiting_for_hq: usize,
    /// Approval reminders the manager received (the demo's clock moved forward).
    pub reminders: usize,
    /// Approval steps escalated at their deadline, with who they went to.
    pub escalations: Vec<String>,
    /// The relay's scores of the supervisor's inspections, 0–100.
    pub scores: Vec<f64>,
    /// The relay's assessment of every photo of today's inspections.
    pub photos: Vec<PhotoAssessment>,
    /// Photos uploaded.
    pub photos_uploaded: u32,
    /// Sync round trips made by all phones.
    pub round_trips: u32,
    /// Bytes sent and received by all phones' sync (documents and photos).
    pub bytes_synced: u64,
    /// The open alerts the day narrated, as their titles.
    pub alerts_raised: Vec<String>,
    /// The kinds of those alerts (`low-stock`, `promotion-not-started`, `sales-falling`).
    pub alert_kinds: BTreeSet<String>,
    /// Alerts open in the regional manager's inbox at the end of the day.
    pub alerts_open: usize,
    /// How long the field day took.
    pub duration: Duration,
}

impl DaySummary {
    /// Today's photos the relay trusts, wants a person to review, and rejects as evidence.
    pub fn photo_trust(&self) -> (usize, usize, usize) {
        let count = |trust| self.photos.iter().filter(|p| p.trust == trust).count();
        (count(Trust::Pass), count(Trust::Review), count(Trust::Rejected))
    }

    /// Writes the closing table, every figure with its unit.
    pub fn write_table(&self, out: &mut dyn Write) {
        let (approved, waiting, rejected) = self.verdicts;
        let (trusted, review, refused) = self.photo_trust();
        let scores: Vec<String> = self.scores.iter().map(|s| format!("{s:.1} / 100")).collect();
        let rows = [
            ("orders taken offline", format!("{} orders", self.orders_submitted)),
            ("relay's verdicts", format!("{approved} approved, {waiting} need approval, {rejected} rejected")),
            ("manager approvals", format!("{} steps ({} orders now wait for HQ)", self.approvals, self.waiting_for_hq)),
            ("approval reminders", format!("{} reminder(s)", self.reminders)),
            ("escalations", format!("{} ({})", self.escalations.len(), self.escalations.join(", "))),
            ("orders at HQ (all days)", format!("{} orders", self.orders_at_hq)),
            ("inspection scores", scores.join(", ")),
            ("inspections at HQ (all days)", format!("{} inspections", self.inspections_at_hq)),
            ("photos judged", format!("{trusted} trusted, {review} to review, {refused} rejected as evidence")),
            ("photos uploaded", format!("{} photos", self.photos_uploaded)),
            ("alerts narrated", format!("{} ({})", self.alerts_raised.len(), kinds(&self.alert_kinds))),
            ("open alerts, manager's inbox", format!("{} alerts", self.alerts_open)),
            ("sync round trips", format!("{} round trips", self.round_trips)),
            ("data synced", format!("{} (documents and photos)", kb(self.bytes_synced))),
            ("field day took", format!("{:.1} s", self.duration.as_secs_f64())),
        ];
        let _ = writeln!(out, "\n== Summary");
        for (what, value) in rows {
            let _ = writeln!(out, "  {what:<30} {value}");
        }
    }
}

fn kinds(kinds: &BTreeSet<String>) -> String {
    kinds.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
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
    pub fn sync(&self, day: &mut Day<'_>) -> Result<SyncReport, String> {
        let report = self.engine.sync_now().map_err(|e| format!("{} could not sync: {e}", self.username))?;
        day.summary.round_trips += report.rounds;
        day.summary.bytes_synced += report.bytes_sent + report.bytes_received + report.photo_bytes_sent;
        day.summary.photos_uploaded += report.photos_uploaded;
        day.say(&format!(
            "{:<16} synced: {} round trip(s), sent {}, received {}, {} document(s) in, {} accepted by the relay{}",
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

    /// Uploads a CSV file to the relay's import endpoint as this user (HQ) and returns the
    /// relay's answer in words.
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
        let answer: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("the {dataset} import's answer is unreadable: {e}"))?;
        let count = |field: &str| answer[field].as_u64().unwrap_or(0);
        let noun = match answer["counted"].as_str().unwrap_or("rows") {
            "documents" => "document(s)",
            "products" => "product(s)",
            "prices" => "price(s)",
            _ => "row(s)",
        };
        Ok(format!(
            "read {} line(s) of {dataset}: {} {noun} new, {} changed, {} already up to date",
            count("rows"),
            count("created"),
            count("updated"),
            count("unchanged")
        ))
    }
}

/// Bytes for people: `812 B`, `14.2 KB`, `3.4 MB`.
fn kb(bytes: u64) -> String {
    match bytes {
        0..1_024 => format!("{bytes} B"),
        1_024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// The narration and the summary of a field day in progress.
pub struct Day<'a> {
    out: &'a mut dyn Write,
    /// What happened so far.
    pub summary: DaySummary,
}

impl Day<'_> {
    fn say(&mut self, line: &str) {
        // Narration is best effort: a closed terminal must not stop the day half-way.
        let _ = writeln!(self.out, "  {line}");
    }

    fn step(&mut self, title: &str) {
        let _ = writeln!(self.out, "\n== {title}");
    }
}

/// Starts the relay for `data_dir` on `listen` inside this process and seeds the demo tenant if
/// it is empty. Returns the base URL, the demo logins and the relay's clock (which the field day
/// moves forward to show deadlines); the relay runs on `runtime`.
pub fn start_relay(
    runtime: &tokio::runtime::Runtime,
    data_dir: &Path,
    listen: SocketAddr,
) -> Result<(String, Vec<DemoLogin>, Clock), String> {
    start_relay_with(runtime, data_dir, listen, None)
}

/// [`start_relay`], pushing the event feed to the NATS server at `nats` when there is one.
pub fn start_relay_with(
    runtime: &tokio::runtime::Runtime,
    data_dir: &Path,
    listen: SocketAddr,
    nats: Option<String>,
) -> Result<(String, Vec<DemoLogin>, Clock), String> {
    let mut config = Config::new(data_dir.join("relay"));
    config.nats_url = nats;
    let password_cost = config.password_cost;
    let state = config.open_state().map_err(|e| format!("cannot open the relay's data: {e}"))?;
    let seeded = runtime.block_on(seed_demo(state.storage.as_ref(), password_cost)).map_err(|e| e.to_string())?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(listen))
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    runtime.block_on(async { fieldsync_server::spawn_workers(&state) });
    let clock = state.clock.clone();
    let app = fieldsync_server::app(state);
    runtime.spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(error) = axum::serve(listener, service).await {
            tracing::error!(%error, "relay stopped");
        }
    });
    Ok((format!("http://{address}"), seeded.logins, clock))
}

/// Writes the demo company and its logins (every demo password is `demo-<username>`).
pub fn write_logins(logins: &[DemoLogin], out: &mut dyn Write) {
    let tenant = logins.first().map_or("demo", |l| l.tenant.as_str());
    let _ = writeln!(out, "Demo company (tenant): {tenant} — logins for the dashboard and the phones:");
    for login in logins {
        let _ = writeln!(
            out,
            "  user {:<18} password {:<24} {}{}",
            login.username,
            login.password,
            login.role,
            login.region.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        );
    }
}

/// An amount in the demo tenant's currency: `1,234.50 EUR`.
fn money(cents: i64) -> String {
    format!("{} {DEMO_CURRENCY}", fieldsync_server::format::amount(cents))
}

/// Runs the field day against the relay at `base_url`; phones keep their stores under `phones`.
/// The narration goes to `out`.
///
/// Each run is a new day of the same story: new phones, visits, photos and orders, so the demo
/// can run again on the same data directory and nothing of an earlier day is mistaken for today's.
pub fn field_day(
    base_url: &str,
    logins: &[DemoLogin],
    clock: &Clock,
    phones: &Path,
    out: &mut dyn Write,
) -> Result<DaySummary, String> {
    let started = Instant::now();
    let mut day = Day { out, summary: DaySummary::default() };
    let user = |role: Role, region: Option<&str>, nth: usize| {
        logins
            .iter()
            .filter(|l| l.role == role && (region.is_none() || l.region.as_deref() == region))
            .nth(nth)
            .ok_or_else(|| format!("the demo tenant has no {role} number {nth}"))
    };
    let first_day = !std::fs::read_dir(phones).is_ok_and(|mut days| days.next().is_some());
    let today = clock::now_ms();
    let dir = phones.join(format!("day-{today}"));
    // The seed of today's photos and GPS noise: a new day gives new pictures.
    let seed = today.unsigned_abs();

    day.step("Morning: everyone signs in and syncs while the office Wi-Fi works");
    let anna = Phone::sign_in(base_url, user(Role::Rep, Some("north"), 0)?, &dir)?;
    let ben = Phone::sign_in(base_url, user(Role::Rep, Some("north"), 1)?, &dir)?;
    let carla = Phone::sign_in(base_url, user(Role::Rep, Some("south"), 0)?, &dir)?;
    let sam = Phone::sign_in(base_url, user(Role::Supervisor, Some("north"), 0)?, &dir)?;
    let hq = Phone::sign_in(base_url, user(Role::Hq, None, 0)?, &dir)?;
    for phone in [&anna, &ben, &carla, &sam, &hq] {
        phone.sync(&mut day)?;
    }
    for phone in [&anna, &ben, &carla] {
        let stores = phone.store.stores().map_err(|e| e.to_string())?;
        let products = phone.store.catalog().map_err(|e| e.to_string())?.products.len();
        day.say(&format!(
            "{:<16} holds {} of its own stores and a {products}-product catalog, ready for no signal",
            phone.username,
            stores.len()
        ));
    }

    let manager = Phone::sign_in(base_url, user(Role::Manager, Some("north"), 0)?, &dir)?;
    manager.sync(&mut day)?;

    day.step("In the field, no signal: reps take orders offline");
    let mut submitted = Vec::new();
    for (phone, visits) in [(&anna, 3), (&ben, 2), (&carla, 2)] {
        let ids = take_orders(&mut day, phone, visits)?;
        day.summary.orders_submitted += ids.len();
        submitted.push((phone, ids));
    }

    day.step("A supervisor audits two stores offline, with shelf photos");
    let inspections = audit_stores(&mut day, &sam, seed, first_day)?;

    day.step("Signal returns at different times");
    for phone in [&ben, &sam, &carla, &anna] {
        phone.sync(&mut day)?;
    }

    day.step("The relay reviews every order; the verdicts come back to the reps");
    for (phone, ids) in &submitted {
        let reviews = wait_for(phone, &mut day, |store| {
            ids.iter().map(|id| store.order_review(id).ok().flatten().map(|(_, review)| review)).collect()
        })?;
        for (id, review) in ids.iter().zip(reviews) {
            let verdict = match review.outcome {
                ReviewOutcome::Approved => "approved",
                ReviewOutcome::NeedsApproval => "needs approval",
                ReviewOutcome::Rejected => "rejected",
            };
            day.say(&format!("{:<16} order {}: {verdict}", phone.username, order_name(id, &review)));
            for finding in &review.findings {
                day.say(&format!("{:<16}   {} {}", "", severity_word(finding.severity), finding.text));
            }
            match review.outcome {
                ReviewOutcome::Approved => day.summary.verdicts.0 += 1,
                ReviewOutcome::NeedsApproval => day.summary.verdicts.1 += 1,
                ReviewOutcome::Rejected => day.summary.verdicts.2 += 1,
            }
        }
    }

    day.step("The regional manager's queue: what waits on them, earliest deadline first");
    manager.sync(&mut day)?;
    let mine = manager.store.identity().map(|i| i.user_id).unwrap_or_default();
    let today_orders: BTreeSet<&DocumentId> = submitted.iter().flat_map(|(_, ids)| ids).collect();
    let queue: Vec<(DocumentId, usize, OrderReview)> = manager
        .store
        .waiting_on(&mine)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|(step, review)| {
            let order: DocumentId = review.order_id.parse().ok()?;
            today_orders.contains(&order).then_some((order, step, review))
        })
        .collect();
    let due_of = |review: &OrderReview, step: usize| review.steps[step].sla.as_ref().and_then(|sla| sla.due_at);
    for (order, step, review) in &queue {
        let due = due_of(review, *step)
            .map(|due| format!("due in {}", fieldsync_server::format::duration(due - clock.now())))
            .unwrap_or_else(|| "no deadline".to_owned());
        day.say(&format!(
            "{:<16} waiting on me: order {} of {}, step {}, {due}",
            manager.username,
            order_name(order, review),
            money(review.total_cents),
            step + 1
        ));
    }

    day.step("Two hours later (the demo moves the relay's clock forward): a reminder in the manager's inbox");
    clock.advance(2 * HOUR + MINUTE);
    let with_deadline: Vec<&DocumentId> =
        queue.iter().filter(|(_, step, review)| due_of(review, *step).is_some()).map(|(order, _, _)| order).collect();
    let reminders = wait_for(&manager, &mut day, |store| {
        let inbox = store.inbox().ok().flatten();
        with_deadline
            .iter()
            .map(|order| {
                inbox.as_ref().and_then(|inbox| {
                    inbox
                        .open_alerts()
                        .find(|(key, a)| a.kind == "approval-reminder" && key.contains(order.as_str()))
                        .map(|(_, a)| a.clone())
                })
            })
            .collect()
    })?;
    for alert in &reminders {
        day.say(&format!("{:<16} reminder: {} ({})", manager.username, alert.title, alert.detail));
    }
    day.summary.reminders += reminders.len();

    day.step("The manager approves from the queue on their phone (offline), then syncs");
    // The order with a deadline (the restock) is left for later: the manager runs out of time
    // for it. With nothing else in the queue, the manager approves it.
    let left = queue
        .iter()
        .filter(|(_, step, review)| queue.len() > 1 && due_of(review, *step).is_some())
        .min_by_key(|(_, _, review)| review.total_cents);
    let left = left.map(|(order, _, _)| order.clone());
    let waiting: Vec<(DocumentId, usize)> = queue
        .iter()
        .filter(|(order, _, _)| Some(order) != left.as_ref())
        .map(|(order, step, _)| (order.clone(), *step))
        .collect();
    for (order, step) in &waiting {
        manager
            .store
            .decide(order, *step as u64, Verdict::Approve, "volume agreed with the customer")
            .map_err(|e| e.to_string())?;
        day.summary.approvals += 1;
        day.say(&format!("{:<16} approved step {} of order {order}", manager.username, step + 1));
    }
    manager.sync(&mut day)?;
    for (phone, ids) in &submitted {
        let approved: Vec<&DocumentId> = ids.iter().filter(|id| waiting.iter().any(|(o, _)| o == *id)).collect();
        if approved.is_empty() {
            continue;
        }
        let reviews = wait_for(phone, &mut day, |store| {
            approved
                .iter()
                .map(|id| {
                    store
                        .order_review(id)
                        .ok()
                        .flatten()
                        .filter(|(_, r)| {
                            r.steps.iter().any(|step| step.approver == mine && step.state == StepState::Approved)
                        })
                        .map(|(_, r)| r)
                })
                .collect()
        })?;
        for (id, review) in approved.iter().zip(reviews) {
            // Say only what the rep's phone shows now.
            let now = match (review.outcome, review.current_step()) {
                (ReviewOutcome::Approved, _) => "approved".to_owned(),
                (ReviewOutcome::Rejected, _) => "rejected".to_owned(),
                (ReviewOutcome::NeedsApproval, Some(next)) => {
                    let approver = &review.steps[next].approver;
                    let who = logins.iter().find(|l| &l.user_id == approver);
                    if who.is_some_and(|l| l.role == Role::Hq) || review.steps[next].role == "hq" {
                        day.summary.waiting_for_hq += 1;
                        format!("approved by the manager, waits for HQ ({})", who.map_or("hq", |l| l.username.as_str()))
                    } else {
                        format!(
                            "approved by the manager, waits for step {} ({})",
                            next + 1,
                            who.map_or(review.steps[next].role.as_str(), |l| l.username.as_str())
                        )
                    }
                }
                (ReviewOutcome::NeedsApproval, None) => "approved by the manager, the relay is finishing it".to_owned(),
            };
            day.say(&format!("{:<16} order {}: {now}", phone.username, order_name(id, &review)));
        }
    }

    if let Some(order) = &left {
        day.step("Four hours after the review, the order left in the queue escalates to HQ");
        clock.advance(2 * HOUR);
        let escalated = wait_for(&hq, &mut day, |store| {
            let review = store.order_review(order).ok().flatten().map(|(_, review)| review);
            vec![review.and_then(|review| {
                review.steps.iter().find_map(|step| step.sla.as_ref()?.escalation.clone()).map(|e| (review.clone(), e))
            })]
        })?;
        for (review, escalation) in escalated {
            let to = logins
                .iter()
                .find(|l| l.user_id == escalation.to)
                .map_or(escalation.to.as_str(), |l| l.username.as_str());
            day.say(&format!("{:<16} order {}: {}", hq.username, order_name(order, &review), escalation.reason));
            day.summary.escalations.push(format!("{} to {to}", order_name(order, &review)));
        }
        // HQ's phone holds every inbox of the tenant: read HQ's own, by its derived id.
        let hq_id = hq.store.identity().map(|i| i.user_id).unwrap_or_default();
        let hq_inbox = DocumentId::derived(fieldsync_core::DocKind::Inbox, &[hq_id.as_bytes()]);
        let told = wait_for(&hq, &mut day, |store| {
            let inbox = store.get::<fieldsync_core::doc::Inbox>(&hq_inbox).ok();
            vec![inbox.and_then(|inbox| {
                inbox
                    .open_alerts()
                    .find(|(key, a)| a.kind == "approval-escalated" && key.contains(order.as_str()))
                    .map(|(_, a)| a.clone())
            })]
        })?;
        for alert in told {
            day.say(&format!("{:<16} inbox: {}", hq.username, alert.title));
        }
    }

    day.step("The relay scores the audits from the checklist and the photos");
    let scores = wait_for(&sam, &mut day, |store| {
        // A score made before every photo arrived is redone when the last one lands: wait for it.
        inspections
            .iter()
            .map(|id| {
                let photos = store.inspection(id).map(|i| i.photos.len()).unwrap_or(0);
                store.inspection_score(id).ok().flatten().map(|(_, score)| score).filter(|s| s.photos.len() >= photos)
            })
            .collect()
    })?;
    for (n, score) in scores.into_iter().enumerate() {
        let count = |trust| score.photos.iter().filter(|p| p.trust == trust).count();
        day.say(&format!(
            "audit {}: score {:.1} / 100, verdict {}; photos: {} trusted, {} to review, {} rejected as evidence",
            n + 1,
            score.score,
            score.verdict.as_str(),
            count(Trust::Pass),
            count(Trust::Review),
            count(Trust::Rejected)
        ));
        for photo in score.photos.iter().filter(|p| p.trust != Trust::Pass || p.quality < 50.0) {
            let word = match photo.trust {
                Trust::Rejected => "problem:",
                Trust::Review => "to review:",
                Trust::Pass => "poor picture, counts little:",
            };
            day.say(&format!("    {word} quality {:.0} / 100; {}", photo.quality, photo.reasons.join("; ")));
        }
        day.summary.scores.push(score.score);
        day.summary.photos.extend(score.photos);
    }

    day.step("Afternoon: HQ imports the warehouse stock count and a week of till sales");
    import_low_stock(&mut day, &hq, &anna)?;
    import_sales(&mut day, &hq, &anna)?;

    day.step("The alerts reach the people who act on them");
    narrate_alerts(&mut day, &manager, &["low-stock", "sales-falling"])?;
    narrate_alerts(&mut day, &sam, &["promotion-not-started"])?;
    day.summary.alerts_open =
        manager.store.inbox().map_err(|e| e.to_string())?.map(|inbox| inbox.open_alerts().count()).unwrap_or(0);

    day.step("HQ sees what the field synced");
    hq.sync(&mut day)?;
    let orders = hq.store.list_orders(&OrderFilter::default()).map_err(|e| e.to_string())?;
    day.summary.orders_at_hq = orders.len();
    let value: i64 = orders.iter().map(|o| o.total_cents).sum();
    day.say(&format!("HQ holds {} orders worth {} (every day so far)", orders.len(), money(value)));
    day.summary.inspections_at_hq = hq.store.list_inspections(&Default::default()).map_err(|e| e.to_string())?.len();
    for (n, id) in inspections.iter().enumerate() {
        let inspection = hq.store.inspection(id).map_err(|e| e.to_string())?;
        day.say(&format!(
            "audit {}: {} answers and {} photos at HQ, {}",
            n + 1,
            inspection.answers.len(),
            inspection.photos.len(),
            if inspection.check_out.is_some() { "visit closed with a check-out" } else { "visit still open" }
        ));
    }
    day.summary.duration = started.elapsed();
    Ok(day.summary)
}

fn order_name(id: &DocumentId, review: &OrderReview) -> String {
    if review.number.is_empty() { id.to_string() } else { review.number.clone() }
}

/// A review finding's severity in words: an `info` finding is not a problem.
fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "note:",
        Severity::Warning => "warning:",
        Severity::Error => "problem:",
    }
}

/// Syncs `phone` until `ready` finds every value it looks for (or gives up after [`JOB_WAIT`]):
/// reviews, scores and alerts are written by the relay's jobs a moment after the sync or import
/// that triggered them.
fn wait_for<T>(
    phone: &Phone,
    day: &mut Day<'_>,
    ready: impl Fn(&LocalStore) -> Vec<Option<T>>,
) -> Result<Vec<T>, String> {
    let deadline = Instant::now() + JOB_WAIT;
    loop {
        let found = ready(&phone.store);
        if found.iter().all(Option::is_some) {
            return Ok(found.into_iter().flatten().collect());
        }
        if Instant::now() > deadline {
            return Err(format!("{} waited {} s for the relay's jobs", phone.username, JOB_WAIT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(300));
        let report = phone.engine.sync_now().map_err(|e| format!("{} could not sync: {e}", phone.username))?;
        day.summary.round_trips += report.rounds;
        day.summary.bytes_synced += report.bytes_sent + report.bytes_received + report.photo_bytes_sent;
    }
}

/// Waits until `phone`'s inbox holds an open alert of each wanted kind, then narrates them all.
fn narrate_alerts(day: &mut Day<'_>, phone: &Phone, wanted: &[&str]) -> Result<(), String> {
    wait_for(phone, day, |store| {
        let inbox = store.inbox().ok().flatten();
        wanted
            .iter()
            .map(|kind| inbox.as_ref().and_then(|inbox| inbox.open_alerts().find(|(_, a)| a.kind == *kind).map(|_| ())))
            .collect()
    })?;
    let inbox = phone.store.inbox().map_err(|e| e.to_string())?.ok_or("the inbox is gone")?;
    for kind in wanted {
        let open: Vec<&Alert> = inbox.open_alerts().map(|(_, a)| a).filter(|a| a.kind == *kind).collect();
        let what = match *kind {
            "low-stock" => "stock below the safety level: the warehouse may not deliver what reps sell",
            "sales-falling" => "till sales falling three days in a row: the rep should visit",
            _ => "a running promotion no visit has confirmed in the store: the supervisor should check the display",
        };
        day.say(&format!("{:<16} {} open alert(s): {what}", phone.username, open.len()));
        for alert in open.iter().take(2) {
            day.say(&format!("{:<16}   {} — {}", "", alert.title, alert.detail));
            day.summary.alerts_raised.push(alert.title.clone());
        }
        if open.len() > 2 {
            day.say(&format!("{:<16}   … and {} more like these", "", open.len() - 2));
        }
        if !open.is_empty() {
            day.summary.alert_kinds.insert((*kind).to_owned());
        }
    }
    Ok(())
}

/// HQ imports a stock count that takes one of the region's SKUs below its safety level; the
/// relay's alert evaluation puts a low-stock alert in the regional manager's inbox.
fn import_low_stock(day: &mut Day<'_>, hq: &Phone, rep: &Phone) -> Result<(), String> {
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
    day.say(&format!(
        "{:<16} imported a stock count: {sku} at {} down from {} to {on_hand} units (safety level {} units)",
        hq.username, inventory.warehouse, level.on_hand, level.safety
    ));
    day.say(&format!("{:<16} {answer}", "relay"));
    Ok(())
}

/// HQ imports the last seven days of till (POS) sales of the rep's first three stores: two
/// sell steadily, the first falls on each of the last three days, which raises a sales-falling
/// alert for the rep and the regional manager.
fn import_sales(day: &mut Day<'_>, hq: &Phone, rep: &Phone) -> Result<(), String> {
    let stores = rep.store.stores().map_err(|e| e.to_string())?;
    let catalog = rep.store.catalog().map_err(|e| e.to_string())?;
    let skus: Vec<&String> = catalog.products.iter().filter(|(_, p)| p.active).map(|(sku, _)| sku).take(2).collect();
    let [main, other] = skus[..] else { return Err("the catalog has fewer than two active products".into()) };
    let locale = Locale::new(DEMO_TIME_ZONE, DEMO_CURRENCY).map_err(|e| e.to_string())?;
    let today = locale.day_of(clock::now_ms());
    // Units per day, oldest first, ending yesterday.
    let falling = [30, 32, 31, 29, 24, 20, 17];
    let steady = [20, 22, 21, 23, 24, 26, 25];
    let mut csv = String::from("day,customer_id,sku,units,amount\n");
    for (n, (_, store)) in stores.iter().take(3).enumerate() {
        let units = if n == 0 { falling } else { steady };
        for (i, main_units) in units.iter().enumerate() {
            let date = Locale::days_before(today, 7 - i as i64);
            for (sku, units) in [(main, *main_units), (other, 12)] {
                csv.push_str(&format!(
                    "{date},{},{sku},{units},{}.{:02}\n",
                    store.customer_id,
                    units * 249 / 100,
                    units * 249 % 100
                ));
            }
        }
    }
    let answer = hq.import_csv("sales", &csv)?;
    let first = stores.first().map_or("", |(_, s)| s.name.as_str());
    day.say(&format!(
        "{:<16} imported 7 days of till sales for 3 stores; {main} at {first} sold {} units a day over the last 4 days",
        hq.username,
        falling[3..].iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    ));
    day.say(&format!("{:<16} {answer}", "relay"));
    Ok(())
}

fn take_orders(day: &mut Day<'_>, phone: &Phone, visits: usize) -> Result<Vec<DocumentId>, String> {
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
        if visit == 0 && phone.username.ends_with("02") {
            // A restock for a busy week: 400.00 or more, so it needs the manager within 4 h.
            let total = |lines: &[LineInput]| -> Result<i64, String> {
                Ok(phone.store.price_preview(&store_id.to_string(), lines).map_err(|e| e.to_string())?.total_cents)
            };
            while total(&lines)? < 40_000 && lines[0].qty < 1_000 {
                lines[0].qty += 5;
            }
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
        day.say(&format!(
            "{:<16} at {:<28} order of {} lines, {}, saved on the phone",
            phone.username,
            store.name,
            order.lines.len(),
            money(order.total_cents())
        ));
        submitted.push(id);
    }
    Ok(submitted)
}

/// A GPS fix a few metres from `(latitude, longitude)`, different for each `n`: a phone's
/// position wanders a little between photos.
fn jittered(latitude: f64, longitude: f64, seed: u64, n: u64) -> GeoFix {
    let mix = |k: u64| {
        let x = (seed ^ (n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ k).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let (north_m, east_m) = (mix(1) * 6.0, mix(2) * 6.0);
    GeoFix {
        latitude: latitude + north_m / 111_320.0,
        longitude: longitude + east_m / (111_320.0 * latitude.to_radians().cos()),
        accuracy_m: 5.0 + (mix(3).abs() * 7.0).round(),
    }
}

/// The supervisor audits the first two of their stores. The first is in order: every photo is a
/// good shelf photo. In the second the shelves have a gap (answered "no", with a photo of the
/// gap) and one photo is blurry. Photos are new for every day (seeded by `seed`).
fn audit_stores(day: &mut Day<'_>, phone: &Phone, seed: u64, first_day: bool) -> Result<Vec<DocumentId>, String> {
    let stores = phone.store.stores().map_err(|e| e.to_string())?;
    let (template_id, template) =
        // The shelf audit (the other template checks promotion displays).
        phone
            .store
            .templates()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|(_, t)| t.items_in_order().iter().any(|(id, _)| *id == "shelf-stocked"))
            .ok_or("no shelf audit checklist")?;
    let catalog = phone.store.catalog().map_err(|e| e.to_string())?;
    let items = template.items_in_order();
    let mut done = Vec::new();
    let now = clock::now_ms();
    let mut shot = 0u64;
    for (n, (store_id, store)) in stores.iter().take(2).enumerate() {
        let at = jittered(store.latitude, store.longitude, seed, 1_000 + n as u64);
        let id = phone
            .store
            .check_in(CheckIn {
                store_id: store_id.to_string(),
                template_id: template_id.to_string(),
                at: now,
                position: at,
            })
            .map_err(|e| e.to_string())?;
        day.say(&format!("{:<16} checked in at {}", phone.username, store.name));
        let mut blurry_taken = false;
        for (i, (item_id, item)) in items.iter().enumerate() {
            let gap = n == 1 && *item_id == "shelf-stocked";
            let value = if gap || (i + n) % 4 == 3 { AnswerValue::No } else { AnswerValue::Yes };
            phone.store.answer(&id, item_id, value, None, "").map_err(|e| e.to_string())?;
            if !item.requires_photo {
                continue;
            }
            shot += 1;
            let photo_seed = seed.wrapping_mul(31).wrapping_add(shot);
            let (what, bytes) = if gap {
                ("shelf with a gap".to_owned(), shelf::shelf_photo(photo_seed, Stock::Gap))
            } else if n == 1 && !blurry_taken {
                blurry_taken = true;
                if first_day {
                    ("shaky shot (clock_motion.png)".to_owned(), BLURRY_PHOTO.to_vec())
                } else {
                    ("shaky shot of the shelf".to_owned(), shelf::shaky_shelf_photo(photo_seed))
                }
            } else {
                ("shelf".to_owned(), shelf::shelf_photo(photo_seed, Stock::Full))
            };
            let capture = PhotoCapture {
                captured_at: now + 60_000 * (i as i64 + 1),
                position: Some(jittered(store.latitude, store.longitude, seed, shot)),
            };
            // The camera writes when and where into the photo, as a phone's camera does.
            let bytes = camera::camera_jpeg(
                &bytes,
                capture.captured_at,
                capture.position.map_or((store.latitude, store.longitude), |p| (p.latitude, p.longitude)),
            );
            let added = phone.store.add_photo(&id, item_id, &bytes, capture).map_err(|e| e.to_string())?;
            let quality = added.preview.summary();
            let quality = if quality == "ok" { "sharp and well lit".to_owned() } else { quality };
            day.say(&format!(
                "{:<16} photo for \"{}\": {what}, {}: {quality}",
                phone.username,
                item.text,
                kb(bytes.len() as u64)
            ));
        }
        if n == 0 {
            // The supervisor sees the running promotions' displays in place and confirms them.
            let running = catalog.promotions.iter().filter(|(_, p)| {
                p.starts_at <= now
                    && now <= p.ends_at
                    && (p.regions.is_empty() || p.regions.contains(&store.region))
                    && (p.stores.is_empty() || p.stores.contains(&store_id.to_string()))
            });
            for (promotion_id, promotion) in running {
                phone.store.confirm_promotion_started(&id, promotion_id, now).map_err(|e| e.to_string())?;
                day.say(&format!(
                    "{:<16} confirmed the promotion \"{}\" is running here",
                    phone.username, promotion.name
                ));
            }
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

/// Deletes the demo's data directory `dir` for a fresh start, but only when it looks like one:
/// a directory holding nothing but the relay's `relay/` and the phones' `phones/`. Returns
/// whether something was deleted; a directory that holds anything else is left alone.
pub fn remove_data_dir(dir: &Path) -> Result<bool, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(format!("cannot read {}: {error}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    let ours = |name: &str| name == "relay" || name == "phones";
    if names.is_empty() {
        return Ok(false);
    }
    if !names.iter().all(|n| ours(n)) || !dir.join("relay").is_dir() {
        return Err(format!(
            "{} does not look like a FieldSync data directory (it holds {}); not deleting it",
            dir.display(),
            names.join(", ")
        ));
    }
    std::fs::remove_dir_all(dir).map_err(|e| format!("cannot delete {}: {e}", dir.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_a_fieldsync_data_directory_is_removed_for_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assert!(!remove_data_dir(&data).unwrap(), "nothing to delete");
        std::fs::create_dir_all(data.join("relay")).unwrap();
        std::fs::create_dir_all(data.join("phones")).unwrap();
        assert!(remove_data_dir(&data).unwrap());
        assert!(!data.exists());
        std::fs::create_dir_all(data.join("relay")).unwrap();
        std::fs::write(data.join("thesis.tex"), "precious").unwrap();
        assert!(remove_data_dir(&data).is_err());
        assert!(data.join("thesis.tex").exists());
    }
}
