//! The three alerts raised into inbox documents from imported data and cleared when their cause
//! clears, deduplicated across evaluations; the supervisor's phone confirming a promotion over a
//! real sync; and the signed webhook, retried after a failure, against a real receiver. A real
//! SQLite relay in a temporary directory throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{
    AlertState, Catalog, GeoFix, Inbox, Product, Promotion, RetailStore, Template, TemplateItem,
};
use fieldsync_core::local_store::CheckIn;
use fieldsync_core::sync::engine::SyncEngine;
use fieldsync_core::sync::http::{HttpTransport, login};
use fieldsync_core::{DocumentId, Identity, LocalStore, Role};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::locale::Locale;
use fieldsync_server::services::accounts;
use fieldsync_server::services::alerts::{self, inbox::inbox_id, webhook};
use fieldsync_server::storage::{Tenant, User};
use fieldsync_server::{AppState, Error, app, documents};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

const PASSWORD: &str = "correct horse battery";
const DAY_MS: i64 = 86_400_000;
const SECRET: &str = "a-webhook-secret-of-some-length";

struct Relay {
    dir: tempfile::TempDir,
    state: AppState,
    tenant: Tenant,
    store_id: DocumentId,
}

impl Relay {
    fn storage(&self) -> &dyn fieldsync_server::storage::Storage {
        self.state.storage.as_ref()
    }

    async fn user(&self, username: &str) -> User {
        self.storage().find_user_by_username(self.tenant.id, username).await.unwrap().unwrap()
    }

    /// The user's inbox, if the relay has written one.
    async fn inbox(&self, username: &str) -> Option<Inbox> {
        let user = self.user(username).await;
        match documents::read::<Inbox>(self.storage(), self.tenant.id, &inbox_id(&user.id)).await {
            Ok(inbox) => Some(inbox),
            Err(Error::Core(fieldsync_core::Error::NotFound { .. })) => None,
            Err(error) => panic!("{error}"),
        }
    }

    /// The keys of the user's open alerts.
    async fn open_alerts(&self, username: &str) -> Vec<String> {
        self.inbox(username).await.map(|i| i.open_alerts().map(|(k, _)| k.clone()).collect()).unwrap_or_default()
    }

    async fn evaluate(&self) -> alerts::Evaluation {
        alerts::evaluate(self.storage(), &self.state.caches, Some(&self.state.jobs), self.tenant.id, now_ms())
            .await
            .unwrap()
    }

    async fn feed_position(&self) -> u64 {
        self.storage().feed_position(self.tenant.id).await.unwrap()
    }

    async fn import(&self, dataset: &str, csv: &str) -> Value {
        let token = self.token("hana").await;
        let (status, body) = common::import(&self.state, &token, dataset, csv).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn token(&self, username: &str) -> String {
        common::login(&self.state, username, PASSWORD).await
    }
}

fn product(name: &str) -> Product {
    Product { name: name.into(), category: "drinks".into(), unit: "case".into(), base_price_cents: 1200, active: true }
}

fn promotion(name: &str, starts_at: i64, regions: &[&str]) -> Promotion {
    Promotion {
        name: name.into(),
        starts_at,
        ends_at: starts_at + 14 * DAY_MS,
        skus: vec!["SKU-1".into()],
        categories: Vec::new(),
        stores: Vec::new(),
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        discount_bp: 1000,
        priority: 1,
        stackable: false,
    }
}

/// A tenant with HQ (hana), the north manager (mia), a north rep (ravi) and supervisor (sofia),
/// no manager in the south; a catalog; one north store of ravi and sofia; a checklist.
async fn relay_with(promotions: BTreeMap<String, Promotion>) -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.password_cost = PasswordCost::insecure_for_tests();
    let state = config.open_state().unwrap();
    let storage = state.storage.as_ref();
    let tenant = accounts::create_tenant(storage, "acme").await.unwrap();
    let mut ids = BTreeMap::new();
    for (username, role, region) in [
        ("hana", Role::Hq, None),
        ("mia", Role::Manager, Some("north")),
        ("ravi", Role::Rep, Some("north")),
        ("sofia", Role::Supervisor, Some("north")),
    ] {
        let account =
            accounts::NewAccount { tenant: "acme", username, display_name: "", password: PASSWORD, role, region };
        let user = accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
        ids.insert(username, user.id);
    }
    let catalog = Catalog {
        promotions,
        ..Catalog::with_products(
            BTreeMap::from([("SKU-1".to_owned(), product("Cola")), ("SKU-2".to_owned(), product("Lemonade"))]),
            0,
        )
    };
    documents::create_as_relay(storage, tenant.id, &catalog).await.unwrap();
    let store = RetailStore {
        name: "Corner Shop".into(),
        code: String::new(),
        address: "1 Main St".into(),
        customer_id: "C-1".into(),
        region: "north".into(),
        tier: "A".into(),
        latitude: 52.37,
        longitude: 4.89,
        geofence_m: 0.0,
        rep: ids["ravi"].clone(),
        supervisor: ids["sofia"].clone(),
        active: true,
    };
    let store_id = documents::create_as_relay(storage, tenant.id, &store).await.unwrap();
    let item = TemplateItem { text: "Promotion display is up".into(), weight: 1.0, requires_photo: false, position: 0 };
    let template = Template {
        name: "Shelf standard".into(),
        version: 1,
        items: BTreeMap::from([("promo-display".to_owned(), item)]),
        trust: None,
    };
    documents::create_as_relay(storage, tenant.id, &template).await.unwrap();
    Relay { dir, state, tenant, store_id }
}

async fn relay() -> Relay {
    relay_with(BTreeMap::new()).await
}

const STOCK: &str = "warehouse,region,sku,on_hand,safety\n\
WH-N,north,SKU-1,120,20\n\
WH-N,north,SKU-2,5,10\n\
WH-S,south,SKU-1,1,5\n";

#[tokio::test]
async fn low_stock_from_an_import_is_raised_once_for_the_regions_manager_and_closed_when_restocked() {
    let relay = relay().await;
    relay.import("stock", STOCK).await;
    let done = relay.evaluate().await;
    assert_eq!((done.causes, done.opened, done.closed), (2, 2, 0), "{done:?}");
    assert_eq!(relay.open_alerts("mia").await, ["low-stock:WH-N/north:SKU-2"]);
    // No manager in the south: HQ hears of it.
    assert_eq!(relay.open_alerts("hana").await, ["low-stock:WH-S/south:SKU-1"]);
    for nobody in ["ravi", "sofia"] {
        assert!(relay.inbox(nobody).await.is_none(), "{nobody} has no stake in stock levels");
    }
    let alert = relay.inbox("mia").await.unwrap().alerts["low-stock:WH-N/north:SKU-2"].clone();
    assert_eq!((alert.kind.as_str(), alert.sku.as_deref()), ("low-stock", Some("SKU-2")));
    assert!(alert.detail.contains("5 available"), "{}", alert.detail);

    // Evaluating again, or after re-importing the same file, writes nothing.
    let position = relay.feed_position().await;
    let again = relay.evaluate().await;
    assert_eq!((again.opened, again.closed, again.refreshed), (0, 0, 0));
    relay.import("stock", STOCK).await;
    relay.evaluate().await;
    assert_eq!(relay.feed_position().await, position);
    assert_eq!(relay.inbox("mia").await.unwrap().alerts.len(), 1);

    // Restocked above safety: closed, and kept.
    relay.import("stock", "warehouse,region,sku,on_hand,safety\nWH-N,north,SKU-2,50,10\n").await;
    let done = relay.evaluate().await;
    assert_eq!((done.opened, done.closed), (0, 1), "{done:?}");
    let inbox = relay.inbox("mia").await.unwrap();
    let closed = &inbox.alerts["low-stock:WH-N/north:SKU-2"];
    assert_eq!(closed.state, AlertState::Closed);
    assert!(closed.closed_at.is_some_and(|at| at >= closed.raised_at));
    assert_eq!(inbox.open_alerts().count(), 0);
    assert_eq!(relay.open_alerts("hana").await, ["low-stock:WH-S/south:SKU-1"]);

    // Low again: the same alert reopens, still one per cause.
    relay.import("stock", "warehouse,region,sku,on_hand,safety\nWH-N,north,SKU-2,3,10\n").await;
    relay.evaluate().await;
    let inbox = relay.inbox("mia").await.unwrap();
    assert_eq!(inbox.alerts.len(), 1);
    assert_eq!(inbox.alerts["low-stock:WH-N/north:SKU-2"].state, AlertState::Open);
    assert!(inbox.alerts["low-stock:WH-N/north:SKU-2"].detail.contains("3 available"));
}

/// A supervisor's phone on the relay, signed in over a real socket.
struct SupervisorPhone {
    store: Arc<LocalStore>,
    engine: Arc<SyncEngine>,
}

async fn serve(relay: &Relay) -> String {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = app(relay.state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    format!("http://{address}")
}

async fn supervisor_phone(relay: &Relay, base_url: String) -> SupervisorPhone {
    let path = relay.dir.path().join("sofia-phone.db");
    tokio::task::spawn_blocking(move || {
        let session = login(&base_url, "acme", "sofia", PASSWORD, "sofia's phone").unwrap();
        let store = Arc::new(LocalStore::open(&path).unwrap());
        let identity = Identity { tenant: "acme".into(), user_id: session.user_id.clone(), role: Role::Supervisor };
        store.set_identity(&identity).unwrap();
        let transport = Arc::new(HttpTransport::new(&base_url, &session.token));
        let engine = Arc::new(SyncEngine::new(store.clone(), transport));
        engine.sync_now().unwrap();
        SupervisorPhone { store, engine }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_not_started_is_raised_for_the_store_staff_and_closed_by_the_supervisors_confirmation() {
    let started = now_ms() - 60 * 60 * 1000;
    let promotions = BTreeMap::from([
        ("spring".to_owned(), promotion("Spring cola", started, &["north"])),
        ("later".to_owned(), promotion("Later", now_ms() + DAY_MS, &[])),
        ("south".to_owned(), promotion("South only", started, &["south"])),
    ]);
    let relay = relay_with(promotions).await;
    relay.evaluate().await;
    let key = format!("promotion-not-started:spring:{}", relay.store_id);
    for staff in ["sofia", "ravi"] {
        assert_eq!(relay.open_alerts(staff).await, std::slice::from_ref(&key), "{staff}");
    }
    assert!(relay.inbox("mia").await.is_none());
    let alert = relay.inbox("sofia").await.unwrap().alerts[&key].clone();
    assert_eq!(alert.store_id.as_deref(), Some(relay.store_id.as_str()));

    // The supervisor visits the store and confirms the promotion from her phone.
    let base_url = serve(&relay).await;
    let phone = supervisor_phone(&relay, base_url).await;
    let store_id = relay.store_id.to_string();
    let queued_before = relay.storage().job_counts().await.unwrap().queued;
    tokio::task::spawn_blocking(move || {
        let template_id = phone.store.templates().unwrap()[0].0.to_string();
        let position = GeoFix { latitude: 52.37, longitude: 4.89, accuracy_m: 5.0 };
        let check_in = CheckIn { store_id, template_id, at: now_ms(), position };
        let inspection = phone.store.check_in(check_in).unwrap();
        phone.store.confirm_promotion_started(&inspection, "spring", now_ms()).unwrap();
        phone.engine.sync_now().unwrap();
    })
    .await
    .unwrap();
    // Storing the confirmation queued an evaluation.
    assert_eq!(relay.storage().job_counts().await.unwrap().queued, queued_before + 1);

    // The confirmation closed the store's alert in both inboxes as it was stored; the evaluation
    // agrees and has nothing left to close.
    for staff in ["sofia", "ravi"] {
        let inbox = relay.inbox(staff).await.unwrap();
        assert_eq!(inbox.alerts[&key].state, AlertState::Closed, "{staff}");
    }
    let done = relay.evaluate().await;
    assert_eq!((done.opened, done.closed), (0, 0), "{done:?}");
    for staff in ["sofia", "ravi"] {
        let inbox = relay.inbox(staff).await.unwrap();
        assert_eq!(inbox.alerts[&key].state, AlertState::Closed, "{staff}");
    }
}

#[tokio::test]
async fn falling_sales_from_an_import_are_raised_for_the_rep_and_manager_and_closed_by_a_better_day() {
    let relay = relay().await;
    // Tenant acme is in UTC.
    let day = |back: i64| Locale::default().date(now_ms() - back * DAY_MS);
    // Totals 40.00, 30.00, 20.00, 10.00 over four consecutive days; SKU-1 units 4, 3, 2, 1.
    let mut csv = "day,customer_id,sku,units,amount\n".to_owned();
    for (back, units) in [(4, 4), (3, 3), (2, 2), (1, 1)] {
        csv.push_str(&format!("{},C-1,SKU-1,{units},{units}0.00\n", day(back)));
    }
    relay.import("sales", &csv).await;
    relay.evaluate().await;
    let total = format!("sales-falling:{}", relay.store_id);
    let sku = format!("sales-falling:{}:SKU-1", relay.store_id);
    for person in ["ravi", "mia"] {
        assert_eq!(relay.open_alerts(person).await, [total.clone(), sku.clone()], "{person}");
    }
    assert!(relay.inbox("sofia").await.is_none());
    let detail = &relay.inbox("mia").await.unwrap().alerts[&total].detail;
    assert!(detail.contains(&format!("{}: 10.00 USD", day(1))), "{detail}");

    let position = relay.feed_position().await;
    relay.evaluate().await;
    assert_eq!(relay.feed_position().await, position, "unchanged data writes nothing");

    // Today sells more than yesterday: the fall is broken.
    relay.import("sales", &format!("day,customer_id,sku,units,amount\n{},C-1,SKU-1,9,90.00\n", day(0))).await;
    let done = relay.evaluate().await;
    assert_eq!(done.closed, 4, "two alerts in two inboxes: {done:?}");
    for person in ["ravi", "mia"] {
        assert!(relay.open_alerts(person).await.is_empty(), "{person}");
    }
}

#[tokio::test]
async fn evaluation_requests_coalesce_while_one_is_queued() {
    let relay = relay().await;
    let storage = relay.storage();
    let tenant = relay.tenant.id;
    assert!(alerts::queue_evaluation(storage, None, tenant, "first").await.unwrap());
    assert!(!alerts::queue_evaluation(storage, None, tenant, "second").await.unwrap());
    assert_eq!(storage.job_counts().await.unwrap().queued, 1);

    // Once it starts, a new request queues the next evaluation.
    let jobs = loop {
        let jobs = storage.claim_jobs("test", 8, now_ms(), 60_000).await.unwrap();
        if !jobs.is_empty() {
            break jobs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, alerts::KIND);
    fieldsync_server::jobs::run_job(&relay.state, &jobs[0]).await.unwrap();
    assert!(alerts::queue_evaluation(storage, None, tenant, "third").await.unwrap());
}

/// What the webhook receiver saw: each request's headers and body.
type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on a real socket that answers 500 to the first request and 204 afterwards.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let route = axum::routing::post(move |headers: HeaderMap, body: String| {
        let record = record.clone();
        async move {
            let mut seen = record.lock().unwrap();
            seen.push((headers, body));
            if seen.len() == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
        }
    });
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/hooks/fieldsync", route)).await });
    (format!("http://{address}/hooks/fieldsync"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opened_alert_is_posted_signed_to_the_webhook_and_retried_after_a_failure() {
    let relay = relay().await;
    let (url, seen) = receiver().await;
    webhook::set_webhook(relay.storage(), "acme", &url, SECRET).await.unwrap();
    relay.import("stock", "warehouse,region,sku,on_hand,safety\nWH-N,north,SKU-2,5,10\n").await;
    let done = relay.evaluate().await;
    assert_eq!((done.opened, done.deliveries), (1, 1), "{done:?}");

    tokio::spawn(fieldsync_server::jobs::run_queue(relay.state.clone()));
    // The queue retries the failed first attempt after its backoff (about a second).
    for _ in 0..300 {
        if seen.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one failed attempt, one retry");
    let mia = relay.user("mia").await;
    for (headers, body) in &seen {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(header("x-fieldsync-event"), "alert.opened");
        assert_eq!(header("content-type"), "application/json");
        let timestamp = header("x-fieldsync-timestamp");
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.{body}").as_bytes());
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(header("x-fieldsync-signature"), expected, "signature over {timestamp}.{body}");
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["event"], "alert.opened");
        assert_eq!(event["tenant"], "acme");
        assert_eq!(event["alert_key"], "low-stock:WH-N/north:SKU-2");
        assert_eq!(event["kind"], "low-stock");
        assert_eq!(event["state"], "open");
        assert_eq!(event["sku"], "SKU-2");
        assert_eq!(event["recipient"]["user_id"], mia.id.as_str());
        assert_eq!(event["recipient"]["username"], "mia");
    }
    assert_eq!(seen[0].1, seen[1].1, "the retry posts the same event");
    // A wrong secret does not verify.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"another-secret-entirely").unwrap();
    mac.update(seen[0].1.as_bytes());
    assert_ne!(
        format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        seen[0].0["x-fieldsync-signature"].to_str().unwrap()
    );
    relay.state.shutdown.trigger();
}

#[tokio::test]
async fn a_bad_webhook_url_is_refused_with_a_clear_error_and_changes_nothing() {
    let relay = relay().await;
    for (url, expected) in [
        ("ftp://hooks.example.com/in", "only http:// and https://"),
        ("hooks.example.com/in", "must start with http:// or https://"),
        ("https://exa mple.com/", "is not a url"),
    ] {
        let error = webhook::set_webhook(relay.storage(), "acme", url, SECRET).await.unwrap_err();
        assert!(matches!(error, Error::BadRequest { code: "invalid-webhook", .. }), "{url}: {error}");
        assert!(error.to_string().contains(expected), "{url}: {error}");
    }
    assert!(relay.storage().webhook(relay.tenant.id).await.unwrap().is_none());
    let error = webhook::set_webhook(relay.storage(), "nobody", "https://example.com/in", SECRET).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error}");
}

#[test]
fn the_admin_command_sets_and_clears_the_webhook_and_refuses_a_bad_url() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_fieldsync-server"))
            .arg("admin")
            .arg("--data")
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["create-tenant", "acme"]).status.success());
    let refused = run(&["set-webhook", "--tenant", "acme", "--url", "ftp://example.com/in", "--secret", SECRET]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("only http:// and https:// are allowed"), "{stderr}");

    // What the commands stored, read back through the storage.
    let stored = || {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let state = Config::new(&data).open_state().unwrap();
            let tenant = accounts::tenant_named(state.storage.as_ref(), "acme").await.unwrap();
            state.storage.webhook(tenant.id).await.unwrap()
        })
    };
    assert_eq!(stored(), None);

    let set = run(&["set-webhook", "--tenant", "acme", "--url", "https://example.com/in", "--secret", SECRET]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    assert!(String::from_utf8_lossy(&set.stdout).contains("https://example.com/in"));
    let webhook = stored().unwrap();
    assert_eq!(
        (webhook.tenant.as_str(), webhook.url.as_str(), webhook.secret.as_str()),
        ("acme", "https://example.com/in", SECRET)
    );

    let cleared = run(&["clear-webhook", "--tenant", "acme"]);
    assert!(cleared.status.success(), "{}", String::from_utf8_lossy(&cleared.stderr));
    assert_eq!(stored(), None);
}

#[tokio::test]
async fn the_demo_tenant_evaluates_and_a_second_evaluation_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = Config::new(dir.path().join("data")).open_state().unwrap();
    let storage = state.storage.as_ref();
    fieldsync_server::seed::seed_demo(storage, PasswordCost::insecure_for_tests()).await.unwrap();
    let tenant = accounts::tenant_named(storage, fieldsync_server::seed::DEMO_TENANT).await.unwrap();
    let first = alerts::evaluate(storage, &state.caches, None, tenant.id, now_ms()).await.unwrap();
    let position = storage.feed_position(tenant.id).await.unwrap();
    let started = std::time::Instant::now();
    let second = alerts::evaluate(storage, &state.caches, None, tenant.id, now_ms()).await.unwrap();
    println!("demo tenant: an evaluation over unchanged data took {:?}", started.elapsed());
    assert_eq!(second.causes, first.causes);
    assert_eq!((second.opened, second.closed, second.refreshed), (0, 0, 0), "{first:?} then {second:?}");
    assert_eq!(storage.feed_position(tenant.id).await.unwrap(), position);
    let hq = fieldsync_server::scope::Scope { role: Role::Hq, user_id: String::new(), region: None };
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for stored in storage.list_docs(tenant.id, &hq, fieldsync_core::DocKind::Inbox, 1000).await.unwrap() {
        let inbox: Inbox = documents::read(storage, tenant.id, &stored.id).await.unwrap();
        for (_, alert) in inbox.open_alerts() {
            *kinds.entry(alert.kind.clone()).or_default() += 1;
        }
    }
    println!("demo tenant: {first:?}, open alerts by kind: {kinds:?}");
}
