//! Benchmark of the read model's lists and figures at scale: one tenant with 1,000,000 orders
//! and 100,000 inspections (or the numbers given), timed through the relay's real router.
//!
//! ```sh
//! cargo run --release -p fieldsync-server --bin read_model_bench [--keep] [ORDERS [INSPECTIONS]]
//! ```
//!
//! With `--keep` the data directory is kept and its path printed, so the loaded database can be
//! questioned afterwards (`sqlite3 DIR/data/…`, `EXPLAIN QUERY PLAN`) without loading it again.
//!
//! What it loads, in a fresh SQLite data directory: a tenant in Europe/Berlin (EUR) with 50 reps,
//! 10 managers and 10 supervisors in 5 regions and two HQ users (real accounts; `hq-zh` reads the
//! dashboard in Simplified Chinese, to time the pages in both languages), 250 stores and a
//! 2,000-product catalog (real documents, written through `documents::create_as_relay`, so their
//! `store_rows` and `product_rows` come from the write path). Then the read-model rows of the
//! orders (1 to 6 lines each, review columns for every submitted order, approval steps for those
//! an approver decided or waits on), inspections (most checked out and scored, two photo verdicts
//! each) and 10 managers' and HQ's inboxes (40,000 alerts, 15% open), timing the alerts page
//! and `/v1/alerts/causes` too.
//!
//! Why rows and not documents: writing a million automerge documents through sync would take
//! hours, and the lists and figures read only read-model rows. The rows are the ones the
//! projection writes: the bench builds the projection's own row types
//! ([`read_model::Projection`]) and turns them into [`RowChange`]s with
//! [`read_model::Projection::into_row_changes`], as the write path does, then applies them with
//! plain batched SQL on the SQLite file in transactions of 20,000 orders (the storage's own
//! apply checks the documents' heads, and there are no documents). Times spread uniformly over
//! the year before now; statuses are realistic: orders older than a week are decided (about 89%
//! approved, 15% of those by a manager, 5% rejected), those of the last week wait on a manager
//! one time in four, those of the last hour are not reviewed yet one time in two; 3% are drafts.
//!
//! Then it times, over 30 runs each (median and p95, after a warm-up run), the HTTP pages and
//! endpoints through the relay's router on a real loopback socket, and, in a second table, the
//! services behind them called directly (SQL and row decoding without rendering). The targets of
//! issue 14 are printed beside them: the overview within 100 ms, a filtered page within 50 ms.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{Catalog, Product, RetailStore};
use fieldsync_core::{DocumentId, Role};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::dashboard::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use fieldsync_server::locale::Locale;
use fieldsync_server::read_model::{
    AlertRow, InspectionRow, OrderLineRow, OrderRow, PhotoRow, Projection, ReviewRow, ScoreRow, StepRow,
};
use fieldsync_server::scope::Scope;
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::services::orders::list::OrderQuery;
use fieldsync_server::services::{listing, overview};
use fieldsync_server::storage::queries::{self, AlertFilter, Cursor, InspectionFilter};
use fieldsync_server::storage::read_model::{Cell, RowChange};
use fieldsync_server::{AppState, documents};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const REGIONS: [&str; 5] = ["north", "south", "east", "west", "central"];
const REPS_PER_REGION: usize = 10;
const MANAGERS_PER_REGION: usize = 2;
const SUPERVISORS_PER_REGION: usize = 2;
const STORES: usize = 250;
const PRODUCTS: usize = 2_000;
const ALERTS: usize = 40_000;
/// Orders per write transaction.
const BATCH: usize = 20_000;
const RUNS: usize = 30;
const PASSWORD: &str = "bench password 1";
const TENANT: &str = "bench";
const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.iter().any(|a| a == "--keep");
    args.retain(|a| a != "--keep");
    let mut args = args.into_iter().map(|a| a.replace('_', "").parse::<usize>());
    let orders = match args.next() {
        None => 1_000_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => return usage(),
    };
    let inspections = match args.next() {
        None => orders / 10,
        Some(Ok(n)) => n,
        Some(Err(_)) => return usage(),
    };
    match run(orders, inspections, keep) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: read_model_bench [--keep] [ORDERS [INSPECTIONS]]");
    ExitCode::from(2)
}

type BoxError = Box<dyn std::error::Error>;

/// The tenant's people and places, as the loader and the timings need them.
struct Tenant {
    id: i64,
    hq: String,
    reps: Vec<(String, &'static str)>,
    managers: Vec<(String, &'static str)>,
    supervisors: Vec<(String, &'static str)>,
    /// Store id, region, rep, supervisor.
    stores: Vec<(String, &'static str, String, String)>,
    /// SKU, base price.
    products: Vec<(String, i64)>,
}

fn run(orders: usize, inspections: usize, keep: bool) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let mut dir = tempfile::tempdir()?;
    if keep {
        dir.disable_cleanup(true);
        println!("data directory kept: {}", dir.path().display());
    }
    let mut config = Config::new(dir.path().join("data"));
    config.password_cost = PasswordCost::insecure_for_tests();
    let state = runtime.block_on(config.open())?;
    let now = now_ms();

    let seeding = Instant::now();
    let tenant = runtime.block_on(seed(&state))?;
    println!(
        "seeded tenant: {} reps, {} managers, {} supervisors, {STORES} stores, {PRODUCTS} products in {:.1} s",
        tenant.reps.len(),
        tenant.managers.len(),
        tenant.supervisors.len(),
        seeding.elapsed().as_secs_f64()
    );

    let loading = Instant::now();
    let mut db = rusqlite::Connection::open(state.config.database_path())?;
    db.busy_timeout(Duration::from_secs(30))?;
    // The loader's own connection: a page cache that holds the indexes being filled, and no
    // fsync per commit (the relay's connections keep theirs).
    db.execute_batch("PRAGMA cache_size = -1048576; PRAGMA synchronous = OFF;")?;
    let loaded = load(&mut db, &tenant, orders, inspections, now)?;
    let load_secs = loading.elapsed().as_secs_f64();
    let size = std::fs::metadata(state.config.database_path()).map(|m| m.len()).unwrap_or(0);
    println!(
        "loaded {} order rows, {} lines, {} steps, {} inspections, {} alerts in {load_secs:.1} s ({:.0} orders/s); database {:.0} MiB",
        loaded.orders,
        loaded.lines,
        loaded.steps,
        loaded.inspections,
        loaded.alerts,
        loaded.orders as f64 / load_secs,
        size as f64 / 1_048_576.0
    );

    let probes = Probes::find(&db, &tenant, &loaded)?;
    drop(db);

    let listener = runtime.block_on(tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))))?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = fieldsync_server::app(state.clone());
    runtime.spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(error) = axum::serve(listener, service).await {
            eprintln!("bench relay stopped: {error}");
        }
    });

    let mut http = Http::new(&base);
    eprintln!("  relay listening on {base}");
    let manager = tenant.managers[0].0.clone();
    let hq_cookie = http.dashboard_session("hq")?;
    let manager_cookie = http.dashboard_session("manager-north-0")?;
    let chinese_cookie = http.dashboard_session("hq-zh")?;
    let hq_token = fieldsync_core::sync::login(&base, TENANT, "hq", PASSWORD, "bench")?.token;
    let hq_scope = Scope { role: Role::Hq, user_id: tenant.hq.clone(), region: None };
    let manager_scope = Scope { role: Role::Manager, user_id: manager, region: Some("north".to_owned()) };

    println!();
    println!("HTTP through the relay's router on a loopback socket ({RUNS} runs each, after one warm-up run):");
    let mut table = Table::default();
    eprintln!("  signed in; following next links");
    let deep = http.follow_next(&hq_token, "/v1/orders?limit=100", 50).map_err(|e| e.to_string());
    let deep_dashboard = http.follow_next_dashboard(&hq_cookie, "/dashboard/orders", 50).map_err(|e| e.to_string());
    let cases: Vec<(String, Target, Case)> = vec![
        ("GET / (HQ)".into(), Target::Overview, page(&hq_cookie, "/")),
        ("GET / (manager)".into(), Target::Overview, page(&manager_cookie, "/")),
        ("GET /v1/overview (HQ)".into(), Target::Overview, api(&hq_token, "/v1/overview")),
        ("GET /dashboard/orders".into(), Target::Page, page(&hq_cookie, "/dashboard/orders")),
        (
            "GET /dashboard/orders?status=needs-approval".into(),
            Target::Page,
            page(&hq_cookie, "/dashboard/orders?status=needs-approval"),
        ),
        (
            "GET /dashboard/orders?store=…".into(),
            Target::Page,
            page(&hq_cookie, &format!("/dashboard/orders?store={}", probes.store)),
        ),
        (
            format!("GET /dashboard/orders?from={}&to={}", probes.from, probes.to),
            Target::Page,
            page(&hq_cookie, &format!("/dashboard/orders?from={}&to={}", probes.from, probes.to)),
        ),
        (
            format!("GET /dashboard/orders?q={}", probes.number),
            Target::Page,
            page(&hq_cookie, &format!("/dashboard/orders?q={}", probes.number)),
        ),
        (
            format!("GET /dashboard/orders?q={}", probes.product_query),
            Target::Page,
            page(&hq_cookie, &format!("/dashboard/orders?q={}", probes.product_query)),
        ),
        ("GET /dashboard/orders, page 51".into(), Target::Page, deep_page(&hq_cookie, deep_dashboard, page)),
        ("GET /v1/orders".into(), Target::Page, api(&hq_token, "/v1/orders")),
        ("GET /v1/orders?status=rejected".into(), Target::Page, api(&hq_token, "/v1/orders?status=rejected")),
        ("GET /v1/orders?store=…".into(), Target::Page, api(&hq_token, &format!("/v1/orders?store={}", probes.store))),
        (
            "GET /v1/orders?from=…&to=… (one month)".into(),
            Target::Page,
            api(&hq_token, &format!("/v1/orders?from={}&to={}", probes.from, probes.to)),
        ),
        (
            format!("GET /v1/orders?q={}", probes.number),
            Target::Page,
            api(&hq_token, &format!("/v1/orders?q={}", probes.number)),
        ),
        (
            format!("GET /v1/orders?q={}", probes.product_query),
            Target::Page,
            api(&hq_token, &format!("/v1/orders?q={}", probes.product_query)),
        ),
        ("GET /v1/orders, page 51 (after=next×50)".into(), Target::Page, deep_page(&hq_token, deep, api)),
        (
            "GET /v1/orders, 500,000 rows deep".into(),
            Target::Page,
            api(&hq_token, &format!("/v1/orders?after={}", probes.half_way.encode())),
        ),
        ("GET /dashboard/inspections".into(), Target::Page, page(&hq_cookie, "/dashboard/inspections")),
        ("GET /v1/inspections".into(), Target::Page, api(&hq_token, "/v1/inspections")),
        ("GET /v1/alerts?state=open".into(), Target::Page, api(&hq_token, "/v1/alerts?state=open")),
        ("GET /v1/alerts/causes".into(), Target::Page, api(&hq_token, "/v1/alerts/causes")),
        ("GET /dashboard/alerts".into(), Target::Page, page(&hq_cookie, "/dashboard/alerts")),
        (
            "GET /dashboard/alerts?q=… (a product)".into(),
            Target::Page,
            page(&hq_cookie, &format!("/dashboard/alerts?q={}", probes.product_query)),
        ),
        ("GET / (HQ, zh-CN)".into(), Target::Overview, page(&chinese_cookie, "/")),
        (
            format!("GET /dashboard/orders?q={} (zh-CN)", probes.product_query),
            Target::Page,
            page(&chinese_cookie, &format!("/dashboard/orders?q={}", probes.product_query)),
        ),
        ("GET /dashboard/alerts (zh-CN)".into(), Target::Page, page(&chinese_cookie, "/dashboard/alerts")),
    ];
    for (name, target, case) in &cases {
        table.time(name, *target, || case(&mut http));
    }
    table.print();

    println!();
    println!("Services called directly (SQL and decoding, no rendering; {RUNS} runs each):");
    let locale =
        runtime.block_on(fieldsync_server::services::accounts::tenant_locale(state.storage.as_ref(), tenant.id))?;
    let storage = state.storage.as_ref();
    let mut table = Table::default();
    table.time("overview::at (HQ)", Target::Overview, || {
        runtime.block_on(overview::at(storage, tenant.id, &hq_scope, &locale, now_ms())).map(|o| o.latest_alerts.len())
    });
    table.time("overview::at (manager)", Target::Overview, || {
        runtime
            .block_on(overview::at(storage, tenant.id, &manager_scope, &locale, now_ms()))
            .map(|o| o.latest_alerts.len())
    });
    let order_queries: Vec<(String, OrderQuery)> = vec![
        ("orders::list::page".into(), OrderQuery::default()),
        ("  status=needs-approval".into(), OrderQuery { status: Some("needs-approval".into()), ..Default::default() }),
        ("  status=rejected".into(), OrderQuery { status: Some("rejected".into()), ..Default::default() }),
        ("  store=…".into(), OrderQuery { store: Some(probes.store.clone()), ..Default::default() }),
        ("  region=south".into(), OrderQuery { region: Some("south".into()), ..Default::default() }),
        (
            "  from=…&to=… (one month)".into(),
            OrderQuery { from: Some(probes.from.clone()), to: Some(probes.to.clone()), ..Default::default() },
        ),
        (format!("  q={}", probes.number), OrderQuery { q: Some(probes.number.clone()), ..Default::default() }),
        (format!("  q={}", probes.product_query), OrderQuery { q: Some(probes.product.clone()), ..Default::default() }),
        ("  sort=largest".into(), OrderQuery { sort: Some("largest".into()), ..Default::default() }),
        ("  500,000 rows deep".into(), OrderQuery { after: Some(probes.half_way.encode()), ..Default::default() }),
        ("  waiting=me (manager)".into(), OrderQuery { waiting: Some("me".into()), ..Default::default() }),
    ];
    for (name, query) in &order_queries {
        let scope = if name.contains("manager") { &manager_scope } else { &hq_scope };
        let request = query.parse(scope, &locale, listing::DEFAULT_LIMIT, listing::MAX_LIMIT)?;
        table.time(name, Target::Page, || {
            runtime
                .block_on(fieldsync_server::services::orders::list::page(storage, tenant.id, &request))
                .map(|p| p.rows.len())
        });
    }
    let all_inspections = InspectionFilter::all(listing::reach(&hq_scope, fieldsync_core::DocKind::Inspection));
    table.time("queries::list_inspections", Target::Page, || {
        runtime
            .block_on(queries::list_inspections(storage, tenant.id, &all_inspections, None, listing::DEFAULT_LIMIT))
            .map(|p| p.rows.len())
    });
    let mut open = AlertFilter::all(listing::reach(&hq_scope, fieldsync_core::DocKind::Inbox));
    open.state = Some("open".into());
    table.time("queries::list_alerts (open)", Target::Page, || {
        runtime
            .block_on(queries::list_alerts(storage, tenant.id, &open, None, listing::DEFAULT_LIMIT))
            .map(|p| p.rows.len())
    });
    table.print();
    Ok(())
}

/// A timed case over HTTP: the rows (or bytes) it returned.
type Case = Box<dyn Fn(&mut Http) -> Result<usize, BoxError>>;

fn page(cookie: &str, path: &str) -> Case {
    let (cookie, path) = (cookie.to_owned(), path.to_owned());
    Box::new(move |http: &mut Http| http.get_page(&cookie, &path))
}

/// A page found by following `next` links, or the reason none was found.
fn deep_page(credential: &str, path: Result<String, String>, case: fn(&str, &str) -> Case) -> Case {
    match path {
        Ok(path) => case(credential, &path),
        Err(error) => Box::new(move |_: &mut Http| Err(error.clone().into())),
    }
}

fn api(token: &str, path: &str) -> Case {
    let (token, path) = (token.to_owned(), path.to_owned());
    Box::new(move |http: &mut Http| http.get_api(&token, &path).map(|json| json.to_string().len()))
}

// ---------------------------------------------------------------------------------------------
// The tenant

async fn seed(state: &AppState) -> Result<Tenant, BoxError> {
    let storage = state.storage.as_ref();
    let cost = PasswordCost::insecure_for_tests();
    let locale = Locale::new("Europe/Berlin", "EUR")?;
    let created = accounts::create_tenant_in(storage, TENANT, &locale).await?;
    let user = |username: String, role: Role, region: Option<&'static str>| async move {
        let account =
            NewAccount { tenant: TENANT, username: &username, display_name: "", password: PASSWORD, role, region };
        accounts::create_user(storage, cost, account).await.map(|u| u.id)
    };
    let hq = user("hq".into(), Role::Hq, None).await?;
    // The same pages read in Simplified Chinese: every label a catalog lookup.
    let hq_chinese = user("hq-zh".into(), Role::Hq, None).await?;
    storage.set_user_language(created.id, &hq_chinese, Some("zh-CN")).await?;
    let (mut reps, mut managers, mut supervisors) = (Vec::new(), Vec::new(), Vec::new());
    for region in REGIONS {
        for n in 0..REPS_PER_REGION {
            reps.push((user(format!("rep-{region}-{n}"), Role::Rep, Some(region)).await?, region));
        }
        for n in 0..MANAGERS_PER_REGION {
            managers.push((user(format!("manager-{region}-{n}"), Role::Manager, Some(region)).await?, region));
        }
        for n in 0..SUPERVISORS_PER_REGION {
            supervisors.push((user(format!("supervisor-{region}-{n}"), Role::Supervisor, Some(region)).await?, region));
        }
    }
    let products: Vec<(String, i64)> =
        (0..PRODUCTS).map(|n| (format!("SKU-{n:05}"), 100 + (n as i64 % 50) * 25)).collect();
    let catalog = Catalog::with_products(
        products
            .iter()
            .enumerate()
            .map(|(n, (sku, price))| {
                let product = Product {
                    name: format!(
                        "{} {}",
                        ["Sparkling water", "Oat biscuits", "Dark roast coffee", "Apple juice"][n % 4],
                        n
                    ),
                    category: format!("category-{}", n % 20),
                    unit: "case of 12".to_owned(),
                    base_price_cents: *price,
                    active: true,
                };
                (sku.clone(), product)
            })
            .collect(),
        0,
    );
    documents::create_as_relay(storage, created.id, &catalog).await?;
    let mut stores = Vec::with_capacity(STORES);
    for n in 0..STORES {
        let region = REGIONS[n % REGIONS.len()];
        let in_region = |people: &[(String, &'static str)], k: usize| {
            let of: Vec<&String> = people.iter().filter(|(_, r)| *r == region).map(|(id, _)| id).collect();
            of[k % of.len()].clone()
        };
        let (rep, supervisor) = (in_region(&reps, n / REGIONS.len()), in_region(&supervisors, n / REGIONS.len()));
        let store = RetailStore {
            name: format!("{} Market {n}", ["Corner", "Fresh", "City", "Village", "Harbour"][n % 5]),
            code: String::new(),
            address: format!("{n} Main Street"),
            customer_id: format!("C-{n:04}"),
            region: region.to_owned(),
            tier: ["A", "B", "C"][n % 3].to_owned(),
            latitude: 52.0 + n as f64 / 1_000.0,
            longitude: 10.0,
            geofence_m: 0.0,
            rep: rep.clone(),
            supervisor: supervisor.clone(),
            active: true,
        };
        let id = documents::create_as_relay(storage, created.id, &store).await?;
        stores.push((id.to_string(), region, rep, supervisor));
    }
    Ok(Tenant { id: created.id, hq, reps, managers, supervisors, stores, products })
}

// ---------------------------------------------------------------------------------------------
// Loading the rows

/// What the loader wrote.
#[derive(Debug, Default)]
struct Loaded {
    orders: usize,
    lines: usize,
    steps: usize,
    inspections: usize,
    alerts: usize,
}

fn load(
    db: &mut rusqlite::Connection,
    tenant: &Tenant,
    orders: usize,
    inspections: usize,
    now: i64,
) -> Result<Loaded, BoxError> {
    let mut rng = StdRng::seed_from_u64(14);
    let mut loaded = Loaded::default();
    let mut done = 0;
    while done < orders {
        let batch = BATCH.min(orders - done);
        let tx = db.transaction()?;
        for n in done..done + batch {
            for change in order(&mut rng, tenant, n, now, &mut loaded) {
                apply(&tx, tenant.id, &change)?;
            }
        }
        tx.commit()?;
        done += batch;
    }
    let mut done = 0;
    while done < inspections {
        let batch = (BATCH * 2).min(inspections - done);
        let tx = db.transaction()?;
        for _ in done..done + batch {
            for change in inspection(&mut rng, tenant, now) {
                apply(&tx, tenant.id, &change)?;
            }
        }
        tx.commit()?;
        done += batch;
    }
    loaded.inspections = inspections;
    let tx = db.transaction()?;
    for change in inboxes(&mut rng, tenant, now, &mut loaded) {
        apply(&tx, tenant.id, &change)?;
    }
    tx.commit()?;
    Ok(loaded)
}

/// The changes an order and its review make, as the projection writes them.
fn order(rng: &mut StdRng, tenant: &Tenant, n: usize, now: i64, loaded: &mut Loaded) -> Vec<RowChange> {
    let id = DocumentId::random().to_string();
    let (store_id, region, rep, _) = &tenant.stores[rng.random_range(0..tenant.stores.len())];
    let at = now - rng.random_range(0..365 * DAY);
    let lines: Vec<OrderLineRow> = (0..rng.random_range(1..=6))
        .map(|position| {
            let (sku, price) = &tenant.products[rng.random_range(0..tenant.products.len())];
            let qty = rng.random_range(1..=24);
            let discount_bp = if rng.random_bool(0.2) { 500 } else { 0 };
            OrderLineRow {
                line_id: format!("l{position}"),
                sku: sku.clone(),
                qty,
                unit_price_cents: *price,
                discount_bp,
                line_total_cents: qty * price * (10_000 - discount_bp) / 10_000,
                position,
            }
        })
        .collect();
    let total_cents = lines.iter().map(|l| l.line_total_cents).sum();
    let draft = rng.random_bool(0.03);
    let row = OrderRow {
        order_id: id.clone(),
        rep: rep.clone(),
        store_id: store_id.clone(),
        region: Some((*region).to_owned()),
        customer_id: format!("C-{store_id}"),
        status: if draft { "draft" } else { "submitted" }.to_owned(),
        total_cents,
        line_count: lines.len() as i64,
        created_at: at - 10 * 60_000,
        updated_at: at,
        submitted_at: (!draft).then_some(at),
        submission: i64::from(!draft),
    };
    loaded.orders += 1;
    loaded.lines += lines.len();
    let mut changes = Projection::Order { row, lines }.into_row_changes();
    if draft || (now - at < HOUR && rng.random_bool(0.5)) {
        return changes;
    }
    // The review: decided by the rules, waiting on a manager, or decided by one.
    let manager =
        tenant.managers.iter().filter(|(_, r)| r == region).nth(n % MANAGERS_PER_REGION).map(|(id, _)| id.clone());
    let manager = manager.unwrap_or_default();
    let reviewed_at = at + 2_000;
    let step = |state: &str, decided_at: Option<i64>| StepRow {
        step: 0,
        role: "manager".to_owned(),
        approver: manager.clone(),
        rule: "total above 500.00".to_owned(),
        state: state.to_owned(),
        decided_at,
        reason: String::new(),
        started_at: Some(reviewed_at),
        due_at: None,
        reminded_at: None,
        escalated_at: None,
        escalated_from: None,
    };
    let roll: f64 = rng.random();
    let decided_by_manager = reviewed_at + rng.random_range(HOUR / 2..72 * HOUR);
    let (outcome, decided_at, steps) = if now - at < 7 * DAY && roll < 0.25 {
        ("needs-approval", None, vec![step("pending", None)])
    } else if roll < 0.05 {
        ("rejected", Some(reviewed_at), Vec::new())
    } else if roll < 0.07 {
        ("rejected", Some(decided_by_manager), vec![step("rejected", Some(decided_by_manager))])
    } else if roll < 0.20 {
        ("approved", Some(decided_by_manager), vec![step("approved", Some(decided_by_manager))])
    } else {
        ("approved", Some(reviewed_at), Vec::new())
    };
    let waiting = outcome == "needs-approval";
    loaded.steps += steps.len();
    let review = ReviewRow {
        order_id: id,
        number: format!("N-{:06}", n + 1),
        outcome: outcome.to_owned(),
        reviewed_submission: 1,
        reviewed_total_cents: total_cents,
        finding_count: i64::from(outcome != "approved" || decided_at != Some(reviewed_at)),
        reviewed_at,
        decided_at: decided_at.filter(|at| *at <= now),
        current_step: waiting.then_some(0),
        current_approver_role: waiting.then(|| "manager".to_owned()),
        current_approver: waiting.then(|| manager.clone()),
        step_count: steps.len() as i64,
        current_due_at: None,
    };
    changes.extend(Projection::Review { row: review, steps }.into_row_changes());
    changes
}

/// The changes an inspection and its score make.
fn inspection(rng: &mut StdRng, tenant: &Tenant, now: i64) -> Vec<RowChange> {
    let id = DocumentId::random().to_string();
    let (store_id, region, _, supervisor) = &tenant.stores[rng.random_range(0..tenant.stores.len())];
    let at = now - rng.random_range(0..365 * DAY);
    let open = now - at < DAY && rng.random_bool(0.3);
    let row = InspectionRow {
        inspection_id: id.clone(),
        supervisor: supervisor.clone(),
        store_id: store_id.clone(),
        region: Some((*region).to_owned()),
        template_id: "template".to_owned(),
        status: if open { "open" } else { "checked-out" }.to_owned(),
        check_in_at: at,
        check_in_latitude: 52.0,
        check_in_longitude: 10.0,
        check_out_at: (!open).then_some(at + 40 * 60_000),
        answer_count: 12,
        photo_count: 2,
        updated_at: at,
    };
    let mut changes = Projection::Inspection(row).into_row_changes();
    if open || rng.random_bool(0.05) {
        return changes;
    }
    let photo = |rng: &mut StdRng| PhotoRow {
        sha256: format!("{:064x}", rng.random::<u128>()),
        trust: if rng.random_bool(0.9) { "pass" } else { "review" }.to_owned(),
        quality: rng.random_range(0.5..1.0),
        reasons: String::new(),
    };
    let photos = vec![photo(rng), photo(rng)];
    let count = |trust: &str| photos.iter().filter(|p| p.trust == trust).count() as i64;
    let score = ScoreRow {
        inspection_id: id,
        score: (rng.random_range(40.0..100.0_f64) * 10.0).round() / 10.0,
        scoring_version: 1,
        photos_pass: count("pass"),
        photos_review: count("review"),
        photos_rejected: 0,
        scored_at: at + 41 * 60_000,
        photos,
    };
    changes.extend(Projection::Score(score).into_row_changes());
    changes
}

/// The managers' and HQ's inboxes: low stock and falling sales, 15% still open.
fn inboxes(rng: &mut StdRng, tenant: &Tenant, now: i64, loaded: &mut Loaded) -> Vec<RowChange> {
    let owners: Vec<&String> = tenant.managers.iter().map(|(id, _)| id).chain([&tenant.hq]).collect();
    let mut alerts: BTreeMap<&String, Vec<AlertRow>> = BTreeMap::new();
    for n in 0..ALERTS {
        let owner = owners[n % owners.len()];
        let raised_at = now - rng.random_range(0..365 * DAY);
        let open = rng.random_bool(0.15);
        let (sku, _) = &tenant.products[rng.random_range(0..tenant.products.len())];
        let (store_id, ..) = &tenant.stores[rng.random_range(0..tenant.stores.len())];
        let low_stock = n % 2 == 0;
        alerts.entry(owner).or_default().push(AlertRow {
            alert_id: format!("a{n}"),
            kind: if low_stock { "low-stock" } else { "sales-falling" }.to_owned(),
            title: if low_stock { format!("Low stock: {sku}") } else { "Sales falling".to_owned() },
            detail: format!("{sku}: below the safety level"),
            texts: None,
            store_id: (!low_stock).then(|| store_id.clone()),
            sku: Some(sku.clone()),
            state: if open { "open" } else { "closed" }.to_owned(),
            raised_at,
            closed_at: (!open).then_some(raised_at + DAY),
        });
    }
    loaded.alerts = ALERTS;
    alerts
        .into_iter()
        .flat_map(|(owner, alerts)| {
            Projection::Inbox { inbox_id: DocumentId::random().to_string(), owner: owner.clone(), alerts }
                .into_row_changes()
        })
        .collect()
}

/// Applies one change with the SQL the storage would run (an upsert, or inserts for a parent's
/// rows: the tables start empty, so nothing needs deleting first).
fn apply(tx: &rusqlite::Connection, tenant_id: i64, change: &RowChange) -> Result<(), BoxError> {
    fn value(cell: &Cell) -> rusqlite::types::Value {
        use rusqlite::types::Value;
        match cell {
            Cell::Int(Some(v)) => Value::Integer(*v),
            Cell::Real(Some(v)) => Value::Real(*v),
            Cell::Text(Some(v)) => Value::Text(v.clone()),
            _ => Value::Null,
        }
    }
    let insert = |table: &str, columns: &[&str], on_conflict: &str| {
        let placeholders: Vec<String> = (1..=columns.len() + 1).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {table} (tenant_id, {}) VALUES ({}){on_conflict}",
            columns.join(", "),
            placeholders.join(", ")
        )
    };
    match change {
        RowChange::Upsert { table, key, columns } => {
            let names: Vec<&str> = key.iter().chain(columns).map(|(name, _)| *name).collect();
            let keys: Vec<&str> = key.iter().map(|(name, _)| *name).collect();
            let set: Vec<String> = columns.iter().map(|(name, _)| format!("{name} = excluded.{name}")).collect();
            let conflict = format!(" ON CONFLICT (tenant_id, {}) DO UPDATE SET {}", keys.join(", "), set.join(", "));
            let args = std::iter::once(rusqlite::types::Value::Integer(tenant_id))
                .chain(key.iter().chain(columns).map(|(_, cell)| value(cell)));
            tx.prepare_cached(&insert(table, &names, &conflict))?.execute(rusqlite::params_from_iter(args))?;
        }
        RowChange::Replace { table, rows, .. } => {
            for row in rows {
                let names: Vec<&str> = row.iter().map(|(name, _)| *name).collect();
                let args = std::iter::once(rusqlite::types::Value::Integer(tenant_id))
                    .chain(row.iter().map(|(_, c)| value(c)));
                tx.prepare_cached(&insert(table, &names, ""))?.execute(rusqlite::params_from_iter(args))?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// What the timed requests ask for

/// Filter values that find something in the loaded rows.
struct Probes {
    /// The store with the most orders.
    store: String,
    /// A month two months back, as local dates.
    from: String,
    to: String,
    /// An order number in the middle.
    number: String,
    /// A product name, and the same URL-encoded.
    product: String,
    product_query: String,
    /// The cursor after the 500,000th newest order (or half of them).
    half_way: Cursor,
}

impl Probes {
    fn find(db: &rusqlite::Connection, tenant: &Tenant, loaded: &Loaded) -> Result<Self, BoxError> {
        let locale = Locale::new("Europe/Berlin", "EUR")?;
        let now = now_ms();
        let (key, id): (i64, String) = db.query_row(
            "SELECT listed_at, order_id FROM order_rows WHERE tenant_id = ?1 AND status IS NOT NULL \
             ORDER BY listed_at DESC, order_id DESC LIMIT 1 OFFSET ?2",
            rusqlite::params![tenant.id, (loaded.orders / 2).min(500_000) as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Self {
            store: tenant.stores[7].0.clone(),
            from: locale.date(now - 90 * DAY),
            to: locale.date(now - 60 * DAY),
            number: format!("N-{:06}", loaded.orders / 2 + 1),
            product: "Dark roast coffee 1234".to_owned(),
            product_query: "Dark+roast+coffee+1234".to_owned(),
            half_way: Cursor { key, ids: vec![id] },
        })
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

struct Http {
    base: String,
    agent: ureq::Agent,
}

impl Http {
    fn new(base: &str) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Self { base: base.to_owned(), agent }
    }

    /// Signs in to the dashboard as `username`: the session cookie.
    fn dashboard_session(&mut self, username: &str) -> Result<String, BoxError> {
        let form = format!("tenant={TENANT}&username={username}&password={}&csrf=bench", PASSWORD.replace(' ', "+"));
        let response = self
            .agent
            .post(format!("{}/dashboard/login", self.base))
            .header("cookie", format!("{LOGIN_CSRF_COOKIE}=bench"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(form)?;
        let session = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")))
            .and_then(|rest| rest.split(';').next())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                format!("the dashboard login of {username} answered {} without a session", response.status())
            })?;
        Ok(format!("{SESSION_COOKIE}={session}"))
    }

    fn get_page(&mut self, cookie: &str, path: &str) -> Result<usize, BoxError> {
        let mut response = self.agent.get(format!("{}{path}", self.base)).header("cookie", cookie).call()?;
        let status = response.status();
        let body = response.body_mut().with_config().limit(256 * 1024 * 1024).read_to_string()?;
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}: {}", body.chars().take(300).collect::<String>()).into());
        }
        Ok(body.len())
    }

    fn get_api(&mut self, token: &str, path: &str) -> Result<serde_json::Value, BoxError> {
        let mut response =
            self.agent.get(format!("{}{path}", self.base)).header("authorization", format!("Bearer {token}")).call()?;
        let status = response.status();
        let body = response.body_mut().with_config().limit(256 * 1024 * 1024).read_to_string()?;
        if !status.is_success() {
            return Err(format!("GET {path} answered {status}: {}", body.chars().take(300).collect::<String>()).into());
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// The path of the page after following `next` `pages` times from `first`.
    fn follow_next(&mut self, token: &str, first: &str, pages: usize) -> Result<String, BoxError> {
        let mut path = first.to_owned();
        for _ in 0..pages {
            let json = self.get_api(token, &path)?;
            let next = json["next"].as_str().ok_or_else(|| format!("{path} has no next page: {json:.300}"))?;
            path = format!("/v1/orders?limit=100&after={next}");
        }
        Ok(path)
    }

    /// The same on the dashboard: the page's `next` link (an `after=` parameter in the HTML).
    fn follow_next_dashboard(&mut self, cookie: &str, first: &str, pages: usize) -> Result<String, BoxError> {
        let mut path = first.to_owned();
        for _ in 0..pages {
            let mut response = self.agent.get(format!("{}{path}", self.base)).header("cookie", cookie).call()?;
            let body = response.body_mut().with_config().limit(256 * 1024 * 1024).read_to_string()?;
            let Some(at) = body.find("after=") else {
                return Err(format!("{path} links no next page").into());
            };
            let cursor: String = body[at + 6..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            path = format!("/dashboard/orders?after={cursor}");
        }
        Ok(path)
    }
}

// ---------------------------------------------------------------------------------------------
// Timing

/// What a case should take.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// An overview: 100 ms.
    Overview,
    /// A (filtered) page: 50 ms.
    Page,
}

impl Target {
    fn ms(self) -> f64 {
        match self {
            Target::Overview => 100.0,
            Target::Page => 50.0,
        }
    }
}

/// Median and p95 in ms, and the size of the answer; or why the request failed.
type Timing = Result<(f64, f64, usize), String>;

#[derive(Default)]
struct Table {
    rows: Vec<(String, Target, Timing)>,
}

impl Table {
    fn time<E: std::fmt::Display>(&mut self, name: &str, target: Target, mut run: impl FnMut() -> Result<usize, E>) {
        let warm_up = Instant::now();
        let mut result = run().map_err(|e| e.to_string()).map(|size| (0.0, 0.0, size));
        // A request that takes seconds is timed three times, not thirty: the figure is clear.
        let runs = if warm_up.elapsed() > Duration::from_secs(2) { 3 } else { RUNS };
        if result.is_ok() {
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                let started = Instant::now();
                if let Err(error) = run() {
                    result = Err(error.to_string());
                    break;
                }
                times.push(started.elapsed().as_secs_f64() * 1_000.0);
            }
            times.sort_by(f64::total_cmp);
            if let Ok((median, p95, _)) = &mut result {
                (*median, *p95) = (percentile(&times, 50.0), percentile(&times, 95.0));
            }
        }
        eprintln!("  timed {name}");
        let name = if runs < RUNS { format!("{name} ({runs} runs)") } else { name.to_owned() };
        self.rows.push((name, target, result));
    }

    fn print(&self) {
        let width = self.rows.iter().map(|(name, ..)| name.chars().count()).max().unwrap_or(10).max(10);
        println!(
            "{:<width$}  {:>9}  {:>9}  {:>7}  {:>6}  {:>10}",
            "request", "median ms", "p95 ms", "target", "met", "size"
        );
        for (name, target, result) in &self.rows {
            match result {
                Ok((median, p95, size)) => println!(
                    "{name:<width$}  {median:>9.1}  {p95:>9.1}  {:>7}  {:>6}  {size:>10}",
                    format!("{:.0}", target.ms()),
                    if *p95 <= target.ms() {
                        "yes"
                    } else if *median <= target.ms() {
                        "median"
                    } else {
                        "NO"
                    }
                ),
                Err(error) => println!("{name:<width$}  failed: {error}"),
            }
        }
    }
}

/// The nearest-rank percentile `p` (0–100) of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
