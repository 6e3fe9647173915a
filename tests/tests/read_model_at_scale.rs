//! Issue 14: the lists and figures hold beyond every former page limit (the old dashboard read at
//! most 1,000 documents of a kind). 1,100 orders from ten reps' phones, 1,050 inspections from
//! three supervisors' phones, all made offline and synced to a real relay whose jobs review and
//! score them, and 1,200 open low-stock alerts raised by a stock import; then every overview
//! figure (`/v1/overview` and the dashboard's KPIs) and every page walk of `/v1/orders`,
//! `/v1/inspections` and `/v1/alerts` is checked against counts made from the documents
//! themselves (read from the relay's document store with core's typed readers), never from the
//! read model.
//!
//! Runs on PostgreSQL too when `FIELDSYNC_TEST_DATABASE` is set (`scripts/test-postgres`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use fieldsync_core::doc::{
    self, AnswerValue, DocumentModel, GeoFix, Inbox, Inspection, InspectionScore, Order, OrderReview, RetailStore,
};
use fieldsync_core::local_store::{CheckIn, LineInput, NewOrder};
use fieldsync_core::{DocumentId, Role};
use fieldsync_server::locale::Locale;
use fieldsync_server::scope::Scope;
use fieldsync_server::storage::DocMeta;
use fieldsync_tests::{Phone, Relay, Weather, backend_name, http};
use serde_json::Value;

const ORDERS_PER_REP: usize = 110;
const INSPECTIONS_PER_SUPERVISOR: usize = 350;
/// Low-stock warehouses per region the stock import adds; every SKU of each is below safety.
const LOW_WAREHOUSES_PER_REGION: usize = 2;
const PAGE: usize = 97;
const DAY: i64 = 86_400_000;

#[test]
fn overview_figures_and_every_page_walk_equal_counts_from_the_documents_beyond_every_former_limit() {
    let started = Instant::now();
    let relay = Relay::start();
    let hq = relay.login_of("hq-admin").clone();
    let hq_token = fieldsync_core::sync::login(&relay.base_url, &hq.tenant, &hq.username, &hq.password, "checks")
        .expect("hq login")
        .token;
    let seeded_orders = documents::<Order>(&relay).len();

    // Orders: each rep works offline, then syncs once; the relay reviews them all.
    let reps = relay.users(Role::Rep, None);
    std::thread::scope(|scope| {
        for rep in &reps {
            let relay = &relay;
            scope.spawn(move || take_orders(relay, rep));
        }
    });
    let phase = Instant::now();
    assert!(relay.wait_for_jobs(Duration::from_secs(600)), "the relay did not review every order");
    eprintln!(
        "[{}] orders synced by {:.1} s, reviewed {:.1} s later",
        backend_name(),
        started.elapsed().as_secs_f64() - phase.elapsed().as_secs_f64(),
        phase.elapsed().as_secs_f64()
    );

    // Inspections: three supervisors, two weeks of visits each, checked out (and so scored).
    let supervisors = relay.users(Role::Supervisor, None);
    std::thread::scope(|scope| {
        for supervisor in &supervisors {
            let relay = &relay;
            scope.spawn(move || inspect(relay, supervisor));
        }
    });

    // Alerts: a stock import with warehouses whose every SKU is below safety.
    let catalog = relay.block_on(fieldsync_server::services::catalog::tenant_catalog(
        relay.state.storage.as_ref(),
        &relay.state.caches,
        relay.tenant_id(),
    ));
    let skus: Vec<String> = catalog.expect("the demo catalog").products.keys().cloned().collect();
    let mut csv = String::from("warehouse,region,sku,on_hand,safety\n");
    for region in ["north", "south", "west"] {
        for k in 0..LOW_WAREHOUSES_PER_REGION {
            for sku in &skus {
                csv.push_str(&format!("WH-LOW-{region}-{k},{region},{sku},0,5\n"));
            }
        }
    }
    let answer = http(
        "POST",
        &format!("{}/v1/import/stock", relay.base_url),
        Some(&hq_token),
        &[("content-type", "text/csv")],
        csv.into_bytes(),
    );
    assert_eq!(answer.status, 200, "stock import: {}", String::from_utf8_lossy(&answer.body));
    assert!(relay.wait_for_jobs(Duration::from_secs(600)), "the relay's jobs did not finish");
    eprintln!("[{}] everything stored and derived after {:.1} s", backend_name(), started.elapsed().as_secs_f64());

    // The independent counts, from the documents.
    let truth = Truth::read(&relay);
    assert_eq!(truth.orders.len(), seeded_orders + reps.len() * ORDERS_PER_REP);
    assert!(truth.inspections.len() > 1_000, "{} inspections", truth.inspections.len());
    assert!(truth.open_alerts > 1_000, "{} open alerts", truth.open_alerts);

    // The overview, as HQ and as the north's manager.
    let overview = get(&relay, &hq_token, "/v1/overview");
    let expected = truth.overview(&overview, &hq_scope(&relay));
    assert_figures(&overview, &expected, "HQ");
    assert!(expected.today_count > 1_000 && expected.inspections > 300, "too few to matter: {expected:?}");
    let manager = relay.login_of(&relay.users(Role::Manager, Some("north"))[0]).clone();
    let manager_token =
        fieldsync_core::sync::login(&relay.base_url, &manager.tenant, &manager.username, &manager.password, "checks")
            .expect("manager login")
            .token;
    let manager_scope = Scope { role: Role::Manager, user_id: manager.user_id.clone(), region: manager.region.clone() };
    let manager_overview = get(&relay, &manager_token, "/v1/overview");
    assert_figures(&manager_overview, &truth.overview(&manager_overview, &manager_scope), "manager");

    // The same figures on the dashboard's overview page.
    let page = relay.dashboard_page(&hq.username, "/");
    let locale = Locale::new(overview["time_zone"].as_str().unwrap(), overview["currency"].as_str().unwrap()).unwrap();
    assert_eq!(kpi(&page, "kpi-orders-today"), fieldsync_server::format::count(expected.today_count as u64));
    assert_eq!(kpi(&page, "kpi-value-today"), locale.money(expected.today_cents));
    assert_eq!(kpi(&page, "kpi-approvals"), fieldsync_server::format::count(expected.approvals_pending as u64));
    assert_eq!(kpi(&page, "kpi-inspections"), fieldsync_server::format::count(expected.inspections as u64));
    assert_eq!(kpi(&page, "kpi-score"), format!("{:.1}", expected.average_score.expect("scored inspections")));
    assert_eq!(kpi(&page, "kpi-coverage"), format!("{}%", expected.visited * 100 / expected.stores));
    assert_eq!(kpi(&page, "kpi-alerts"), fieldsync_server::format::count(expected.open_alerts as u64));

    // Every order exactly once, newest first, each as its documents say.
    let walked = walk(&relay, &hq_token, "/v1/orders?");
    assert_eq!(walked.len(), truth.orders.len(), "orders listed");
    let ids: BTreeSet<&str> = walked.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), walked.len(), "an order was listed twice");
    assert_eq!(ids, truth.orders.keys().map(String::as_str).collect(), "the listed orders are not the stored ones");
    for pair in walked.windows(2) {
        let key = |o: &Value| (o["at"].as_i64().unwrap(), o["id"].as_str().unwrap().to_owned());
        assert!(key(&pair[0]) > key(&pair[1]), "out of order: {} before {}", pair[0], pair[1]);
    }
    for item in &walked {
        let order = &truth.orders[item["id"].as_str().unwrap()];
        assert_eq!(item["status"].as_str().unwrap(), order.status, "{item}");
        assert_eq!(item["at"].as_i64().unwrap(), order.at, "{item}");
        assert_eq!(item["total_cents"].as_i64().unwrap(), order.total_cents, "{item}");
    }

    // Filtered walks.
    let approved = truth.orders.values().filter(|o| o.status == "approved").count();
    assert!(approved > 100, "{approved} approved orders");
    assert_eq!(walk(&relay, &hq_token, "/v1/orders?status=approved&").len(), approved, "approved orders listed");
    let busiest = truth.orders.values().fold(BTreeMap::<&str, usize>::new(), |mut counts, o| {
        *counts.entry(o.store_id.as_str()).or_default() += 1;
        counts
    });
    let (store, count) = busiest.iter().max_by_key(|(_, n)| **n).unwrap();
    assert_eq!(walk(&relay, &hq_token, &format!("/v1/orders?store={store}&")).len(), *count, "orders of store {store}");

    // Inspections and open alerts, walked.
    assert_eq!(walk(&relay, &hq_token, "/v1/inspections?").len(), truth.inspections.len(), "inspections listed");
    assert_eq!(
        walk(&relay, &hq_token, "/v1/alerts?state=open&").len(),
        truth.open_by_owner.values().sum::<u64>() as usize,
        "open alerts listed, one row per inbox"
    );
    assert_eq!(
        walk(&relay, &hq_token, "/v1/alerts/causes?state=open&").len(),
        truth.open_alerts as usize,
        "open alerts listed, one per cause"
    );

    eprintln!("[{}] read_model_at_scale took {:.1} s", backend_name(), started.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------------------------
// Field work through the real sync path

/// `ORDERS_PER_REP` orders over the rep's stores, made offline then synced: mostly small ones
/// the rules approve, a large one in twenty (an approver's), one in twenty-five priced below
/// the floor (rejected), one in forty left as a draft.
fn take_orders(relay: &Relay, rep: &str) {
    let phone = relay.phone(rep);
    phone.sync();
    let stores: Vec<String> = phone.store.stores().unwrap().into_iter().map(|(id, _)| id.to_string()).collect();
    assert!(!stores.is_empty(), "{rep} has no stores");
    let catalog = phone.store.catalog().unwrap();
    let skus: Vec<String> = catalog.products.iter().filter(|(_, p)| p.active).map(|(sku, _)| sku.clone()).collect();
    let mut prices: HashMap<(usize, usize), i64> = HashMap::new();
    phone.network.set(Weather::Offline);
    for i in 0..ORDERS_PER_REP {
        let (store, sku) = (i % stores.len(), (i * 7) % skus.len());
        let price = *prices.entry((store, sku)).or_insert_with(|| list_price(&phone, &stores[store], &skus[sku]));
        let (qty, unit_price_cents) = match i {
            i if i % 20 == 5 => ((40_000 / price.max(1)) + 1, price),
            i if i % 25 == 3 => (2, price - 10),
            i => (1 + (i % 3) as i64, price),
        };
        let line = LineInput { sku: skus[sku].clone(), qty, unit_price_cents, discount_bp: 0 };
        let id = phone
            .store
            .create_order(NewOrder { store_id: stores[store].clone(), lines: vec![line], notes: String::new() })
            .unwrap();
        if i % 40 != 7 {
            phone.store.submit_order(&id).unwrap();
        }
    }
    phone.network.set(Weather::Clear);
    sync_until_pushed(&phone);
}

fn list_price(phone: &Phone, store: &str, sku: &str) -> i64 {
    let probe = LineInput { sku: sku.to_owned(), qty: 1, unit_price_cents: 0, discount_bp: 0 };
    let preview = phone.store.price_preview(store, &[probe]).unwrap();
    preview.lines[0].list_price.as_ref().expect("a list price").unit_price_cents
}

/// Two weeks of visits to the supervisor's stores, each checked in and out offline, then synced.
fn inspect(relay: &Relay, supervisor: &str) {
    let phone = relay.phone(supervisor);
    phone.sync();
    let stores: Vec<(DocumentId, RetailStore)> = phone.store.stores().unwrap();
    let (template_id, template) = phone.store.templates().unwrap().into_iter().next().expect("a checklist template");
    let now = fieldsync_core::clock::now_ms();
    phone.network.set(Weather::Offline);
    for i in 0..INSPECTIONS_PER_SUPERVISOR {
        let (store_id, store) = &stores[i % stores.len()];
        let at = now - 3_600_000 - (i as i64) * (14 * DAY / INSPECTIONS_PER_SUPERVISOR as i64);
        let position = GeoFix { latitude: store.latitude, longitude: store.longitude, accuracy_m: 5.0 };
        let id = phone
            .store
            .check_in(CheckIn { store_id: store_id.to_string(), template_id: template_id.to_string(), at, position })
            .unwrap();
        // One visit in three answered in full, so that scores differ.
        if i % 3 == 0 {
            for (item_id, _) in template.items_in_order() {
                phone.store.answer(&id, item_id, AnswerValue::Yes, None, "").unwrap();
            }
        }
        phone.store.check_out(&id, at + 40 * 60_000, position).unwrap();
    }
    phone.network.set(Weather::Clear);
    sync_until_pushed(&phone);
}

/// Syncs until the phone has nothing left to push.
fn sync_until_pushed(phone: &Phone) {
    for _ in 0..50 {
        let report = phone.sync();
        assert_eq!(report.rejected, 0, "{} had documents refused", phone.username);
        if phone.store.pending_documents().unwrap().is_empty() {
            return;
        }
    }
    panic!("{} still has changes to push after 50 syncs", phone.username);
}

// ---------------------------------------------------------------------------------------------
// Counting from the documents

/// One order as its documents say.
struct OrderTruth {
    status: String,
    at: i64,
    submitted: bool,
    total_cents: i64,
    store_id: String,
    region: Option<String>,
    rep: String,
    waiting_on: Option<String>,
}

struct InspectionTruth {
    check_in_at: i64,
    store_id: String,
    region: Option<String>,
    supervisor: String,
    score: Option<f64>,
}

struct Truth {
    orders: BTreeMap<String, OrderTruth>,
    inspections: Vec<InspectionTruth>,
    /// Active stores: id, region, rep, supervisor.
    stores: Vec<(String, String, String, String)>,
    /// Open alerts by owner.
    open_by_owner: BTreeMap<String, u64>,
    /// Open alerts, one per cause.
    open_alerts: u64,
}

/// The figures of one overview, counted from the documents.
#[derive(Debug, PartialEq)]
struct Figures {
    today_count: u64,
    today_cents: i64,
    approvals_pending: u64,
    waiting_on_me: u64,
    per_day: Vec<u64>,
    inspections: u64,
    scored: u64,
    average_score: Option<f64>,
    score_buckets: Vec<u64>,
    stores: u64,
    visited: u64,
    open_alerts: u64,
}

/// Every stored document of a kind, read with core's typed reader.
fn documents<T: DocumentModel>(relay: &Relay) -> Vec<(DocumentId, DocMeta, T)> {
    let everything = Scope { role: Role::Hq, user_id: String::new(), region: None };
    relay
        .block_on(relay.state.storage.list_docs(relay.tenant_id(), &everything, T::KIND, 1_000_000))
        .expect("list documents")
        .into_iter()
        .map(|stored| {
            let am = automerge::Automerge::load(&stored.snapshot).expect("a loadable document");
            let value = doc::read::<T>(&stored.id, &am).expect("a readable document");
            (stored.id, stored.meta, value)
        })
        .collect()
}

fn hq_scope(relay: &Relay) -> Scope {
    let hq = relay.login_of("hq-admin");
    Scope { role: Role::Hq, user_id: hq.user_id.clone(), region: None }
}

impl Truth {
    fn read(relay: &Relay) -> Self {
        let reviews: HashMap<String, OrderReview> =
            documents::<OrderReview>(relay).into_iter().map(|(_, _, r)| (r.order_id.clone(), r)).collect();
        let orders = documents::<Order>(relay)
            .into_iter()
            .map(|(id, meta, order)| {
                let submitted = order.status.as_str() == "submitted";
                let review = reviews.get(id.as_str()).filter(|r| submitted && r.submission == order.submission);
                let status = review.map_or(order.status.as_str(), |r| r.outcome.as_str()).to_owned();
                let waiting_on = review
                    .filter(|r| r.outcome.as_str() == "needs-approval")
                    .and_then(|r| r.current_step().and_then(|i| r.steps.get(i)))
                    .map(|step| step.approver.clone());
                let truth = OrderTruth {
                    status,
                    at: order.submitted_at.unwrap_or(order.created_at),
                    submitted,
                    total_cents: order.total_cents(),
                    store_id: order.store_id.clone(),
                    region: meta.region.clone(),
                    rep: order.owner.clone(),
                    waiting_on,
                };
                (id.to_string(), truth)
            })
            .collect();
        let scores: HashMap<String, f64> = documents::<InspectionScore>(relay)
            .into_iter()
            .map(|(_, _, s)| (s.inspection_id.clone(), s.score))
            .collect();
        let inspections = documents::<Inspection>(relay)
            .into_iter()
            .map(|(id, meta, inspection)| InspectionTruth {
                check_in_at: inspection.check_in.at,
                store_id: inspection.store_id.clone(),
                region: meta.region.clone(),
                supervisor: inspection.owner.clone(),
                score: scores.get(id.as_str()).copied(),
            })
            .collect();
        let stores = documents::<RetailStore>(relay)
            .into_iter()
            .filter(|(_, _, s)| s.active)
            .map(|(id, _, s)| (id.to_string(), s.region.clone(), s.rep.clone(), s.supervisor.clone()))
            .collect();
        let mut open_by_owner = BTreeMap::new();
        // An alert is one per cause, however many inboxes hold it.
        let mut open_causes = std::collections::BTreeSet::new();
        for (_, _, inbox) in documents::<Inbox>(relay) {
            *open_by_owner.entry(inbox.owner.clone()).or_default() += inbox.open_alerts().count() as u64;
            open_causes.extend(inbox.open_alerts().map(|(key, _)| key.clone()));
        }
        let open_alerts = open_causes.len() as u64;
        Self { orders, inspections, stores, open_by_owner, open_alerts }
    }

    /// The figures `scope` should see in `overview` (its day boundaries taken from it).
    fn overview(&self, overview: &Value, scope: &Scope) -> Figures {
        let locale =
            Locale::new(overview["time_zone"].as_str().unwrap(), overview["currency"].as_str().unwrap()).unwrap();
        let today_start = overview["today_start"].as_i64().unwrap();
        let period_start = overview["period_start"].as_i64().unwrap();
        let today = locale.day_of(today_start);
        let region = scope.region.as_deref();
        let sees_order = |o: &&OrderTruth| match scope.role {
            Role::Hq => true,
            Role::Manager => o.region.as_deref() == region,
            _ => o.rep == scope.user_id,
        };
        let orders: Vec<&OrderTruth> = self.orders.values().filter(sees_order).collect();
        let day_bounds: Vec<i64> =
            (0..=14).rev().map(|back| locale.start_of(Locale::days_before(today, back - 1))).collect();
        let submitted_in =
            |from: i64, to: i64| orders.iter().filter(move |o| o.submitted && (from..to).contains(&o.at));
        let per_day = day_bounds.windows(2).map(|w| submitted_in(w[0], w[1]).count() as u64).collect();
        let tomorrow = day_bounds[14];
        let pending: Vec<&&OrderTruth> = orders.iter().filter(|o| o.status == "needs-approval").collect();

        let inspections: Vec<&InspectionTruth> = self
            .inspections
            .iter()
            .filter(|i| match scope.role {
                Role::Hq => true,
                Role::Manager => i.region.as_deref() == region,
                _ => i.supervisor == scope.user_id,
            })
            .filter(|i| i.check_in_at >= period_start)
            .collect();
        let scores: Vec<f64> = inspections.iter().filter_map(|i| i.score).collect();
        let mut score_buckets = vec![0; 10];
        for score in &scores {
            score_buckets[((score / 10.0).floor().max(0.0) as usize).min(9)] += 1;
        }
        let stores: Vec<&(String, String, String, String)> =
            self.stores.iter().filter(|(_, r, ..)| scope.role == Role::Hq || Some(r.as_str()) == region).collect();
        let visited = stores.iter().filter(|(id, ..)| inspections.iter().any(|i| &i.store_id == id)).count() as u64;
        let open_alerts = match scope.role {
            Role::Hq => self.open_alerts,
            _ => self.open_by_owner.get(&scope.user_id).copied().unwrap_or(0),
        };
        Figures {
            today_count: submitted_in(today_start, tomorrow).count() as u64,
            today_cents: submitted_in(today_start, tomorrow).map(|o| o.total_cents).sum(),
            approvals_pending: pending.len() as u64,
            waiting_on_me: pending.iter().filter(|o| o.waiting_on.as_deref() == Some(scope.user_id.as_str())).count()
                as u64,
            per_day,
            inspections: inspections.len() as u64,
            scored: scores.len() as u64,
            average_score: (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64),
            score_buckets,
            stores: stores.len() as u64,
            visited,
            open_alerts,
        }
    }
}

fn assert_figures(overview: &Value, expected: &Figures, who: &str) {
    let orders = &overview["orders"];
    let counts =
        |value: &Value| -> Vec<u64> { value.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect() };
    let actual = Figures {
        today_count: orders["today"]["count"].as_u64().unwrap(),
        today_cents: orders["today"]["total_cents"].as_i64().unwrap(),
        approvals_pending: orders["approvals_pending"].as_u64().unwrap(),
        waiting_on_me: orders["waiting_on_me"].as_u64().unwrap(),
        per_day: orders["per_day"].as_array().unwrap().iter().map(|day| day[1].as_u64().unwrap()).collect(),
        inspections: overview["inspections"]["count"].as_u64().unwrap(),
        scored: overview["inspections"]["scored"].as_u64().unwrap(),
        // Compared below with a tolerance: the database adds in another order.
        average_score: expected.average_score,
        score_buckets: counts(&overview["inspections"]["score_buckets"]),
        stores: overview["coverage"]["stores"].as_u64().unwrap(),
        visited: overview["coverage"]["visited"].as_u64().unwrap(),
        open_alerts: overview["open_alerts"].as_u64().unwrap(),
    };
    assert_eq!(&actual, expected, "the {who} overview differs from the documents");
    let average = overview["inspections"]["average_score"].as_f64();
    match (average, expected.average_score) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{who} average score {a} != {b}"),
        (a, b) => assert_eq!(a, b, "{who} average score"),
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

fn get(relay: &Relay, token: &str, path: &str) -> Value {
    let answer = http("GET", &format!("{}{path}", relay.base_url), Some(token), &[], Vec::new());
    assert_eq!(answer.status, 200, "GET {path}: {}", String::from_utf8_lossy(&answer.body));
    answer.json()
}

/// Every item of a list, following `next` from `path` (which ends in `?` or `&`) with pages of
/// [`PAGE`].
fn walk(relay: &Relay, token: &str, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10_000 {
        let cursor = after.as_deref().map(|c| format!("&after={c}")).unwrap_or_default();
        let page = get(relay, token, &format!("{path}limit={PAGE}{cursor}"));
        let got = page["items"].as_array().unwrap_or_else(|| panic!("{path}: no items in {page}"));
        assert!(got.len() <= PAGE, "{path}: a page of {} rows", got.len());
        items.extend(got.iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return items,
        }
    }
    panic!("{path}: more than 10,000 pages");
}

/// The value shown in the KPI element with this id.
fn kpi(page: &str, id: &str) -> String {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no {id} on the page"));
    let value = &page[at..];
    let start = value.find("class=\"v\">").unwrap_or_else(|| panic!("{id} has no value")) + "class=\"v\">".len();
    let end = value[start..].find('<').unwrap() + start;
    value[start..end].replace("&amp;", "&").replace("&nbsp;", "\u{a0}").trim().to_owned()
}
