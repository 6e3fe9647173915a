//! `order_review_bench`: orders reviewed per second with a 2,000-product catalog. It measures and
//! prints; it never asserts on a timing.
//!
//! ```text
//! cargo run --release -p fieldsync-tests --bin order_review_bench [-- --orders 300 --lines 10]
//! ```
//!
//! Two figures:
//! - **rules**: [`fieldsync_core::rules::assess`] alone (price, validate, stock, route) on
//!   in-memory inputs — what a phone preview costs and the floor of the relay's cost;
//! - **relay job**: the `review-order` job's work against the real SQLite storage — the order as
//!   admission kept it for its review (with `--cold`, loaded and hydrated, as after a restart),
//!   the catalog (hydrated from its automerge document once, before the rounds, as a
//!   running relay keeps it), the store and the region's inventory levels, reserve stock (the
//!   relay's reservation record), name approvers, write the review — measured two ways side by
//!   side, in alternating rounds of `--batch` orders: one order at a time ([`review_order`]) and
//!   a round as one batch ([`review_orders`], as the job runner takes the reviews waiting). Wall
//!   time and the process's CPU time (`/proc/self/stat`, 10 ms ticks).
//! - **publishing**: after every round, the reserved totals are written into the inventory
//!   document ([`publish_reserved`]), timed apart and printed beside each way. A running relay
//!   publishes at most once a second, so one publish per round (a few dozen milliseconds of
//!   reviews) is far more often than it would.
//!
//! To profile the reviews alone, without the set-up (creating the catalog and the orders), start
//! `perf record` disabled and let the bench switch it on around the review rounds:
//!
//! ```text
//! mkfifo /tmp/perf.ctl /tmp/perf.ack
//! perf record -D -1 --control fifo:/tmp/perf.ctl,/tmp/perf.ack -g -- \
//!     ./target/release/order_review_bench --batched-only --perf-control /tmp/perf.ctl,/tmp/perf.ack
//! ```

use std::collections::BTreeMap;
use std::error::Error;
use std::time::{Duration, Instant};

use clap::Parser;
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{
    Catalog, DiscountPolicy, Inventory, Order, OrderLine, OrderStatus, PriceBreak, PriceList, Product, RetailStore,
    StockLevel,
};
use fieldsync_core::rules::{self, StockView};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::documents::create_as_relay;
use fieldsync_server::seed::demo_approval_policy;
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::services::catalog::region_inventory;
use fieldsync_server::services::catalog::stock::publish_reserved;
use fieldsync_server::services::catalog::tenant_catalog;
use fieldsync_server::services::orders::review::review_orders;
use fieldsync_server::services::orders::review_order;

/// Orders reviewed per second with a 2,000-product catalog.
#[derive(Parser, Debug)]
struct Args {
    /// Products in the catalog.
    #[arg(long, default_value_t = 2_000)]
    products: usize,
    /// Orders reviewed by the relay job each way (one at a time, and in batches).
    #[arg(long, default_value_t = 300)]
    orders: usize,
    /// Lines per order.
    #[arg(long, default_value_t = 10)]
    lines: usize,
    /// Orders per round; rounds alternate between one-by-one and one batch.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Every round as one batch (no one-at-a-time rounds), for profiling the job runner's way.
    #[arg(long)]
    batched_only: bool,
    /// Orders the relay did not keep from their admission (as after a restart): every review
    /// loads and hydrates its order.
    #[arg(long)]
    cold: bool,
    /// `CONTROL,ACK`: the FIFOs of `perf record --control fifo:CONTROL,ACK`; perf is enabled
    /// during the review rounds only.
    #[arg(long, value_name = "CONTROL,ACK")]
    perf_control: Option<String>,
}

/// Switches a `perf record --control` session on and off, waiting for perf's acknowledgement.
struct PerfControl {
    control: std::fs::File,
    ack: std::io::BufReader<std::fs::File>,
}

impl PerfControl {
    fn open(fifos: &str) -> Result<Self, Box<dyn Error>> {
        let (control, ack) = fifos.split_once(',').ok_or("--perf-control takes two FIFO paths separated by a comma")?;
        let control = std::fs::OpenOptions::new().write(true).open(control)?;
        let ack = std::io::BufReader::new(std::fs::File::open(ack)?);
        Ok(Self { control, ack })
    }

    fn send(&mut self, command: &str) -> Result<(), Box<dyn Error>> {
        use std::io::{BufRead, Write};
        writeln!(self.control, "{command}")?;
        let mut answer = String::new();
        self.ack.read_line(&mut answer)?;
        Ok(())
    }
}

/// This process's CPU time (user + system) so far, from `/proc/self/stat` (100 ticks a second).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Wall and CPU time of one way of reviewing, and what the reviews decided.
#[derive(Default)]
struct Tally {
    orders: usize,
    wall: Duration,
    cpu: Duration,
    outcomes: BTreeMap<String, usize>,
    /// Publishes of the reserved totals that wrote the document, and their CPU time.
    publishes: usize,
    publish_cpu: Duration,
}

impl Tally {
    fn print(&self, label: &str) {
        println!(
            "  {label}: {} orders in {:.1} ms = {:.0} orders/s, CPU {:.2} ms per order  {:?}",
            self.orders,
            self.wall.as_secs_f64() * 1e3,
            per_second(self.orders, self.wall),
            self.cpu.as_secs_f64() * 1e3 / self.orders.max(1) as f64,
            self.outcomes
        );
        println!(
            "    + publishing the reserved totals after each round: {} publishes, CPU {:.2} ms each = {:.2} ms per order",
            self.publishes,
            self.publish_cpu.as_secs_f64() * 1e3 / self.publishes.max(1) as f64,
            self.publish_cpu.as_secs_f64() * 1e3 / self.orders.max(1) as f64,
        );
    }
}

const CATEGORIES: [&str; 8] =
    ["beverages", "snacks", "dairy", "bakery", "household", "personal-care", "frozen", "confectionery"];

fn catalog(products: usize, now: i64) -> Catalog {
    let products: BTreeMap<String, Product> = (0..products)
        .map(|i| {
            let product = Product {
                name: format!("Product {i}"),
                category: CATEGORIES[i % CATEGORIES.len()].to_owned(),
                unit: "case".to_owned(),
                base_price_cents: 500 + (i as i64 * 37) % 4_000,
                active: true,
            };
            (format!("SKU-{i:05}"), product)
        })
        .collect();
    let list = |tier: &str, bp: i64| PriceList {
        tier: tier.to_owned(),
        region: String::new(),
        prices: products
            .iter()
            .map(|(sku, p)| {
                let unit = p.base_price_cents * (10_000 - bp) / 10_000;
                let volume = unit * 97 / 100;
                let breaks = vec![
                    PriceBreak { min_qty: 1, unit_price_cents: unit },
                    PriceBreak { min_qty: 10, unit_price_cents: volume },
                ];
                (sku.clone(), breaks)
            })
            .collect(),
    };
    let price_lists = BTreeMap::from([
        ("tier-a".into(), list("A", 800)),
        ("tier-b".into(), list("B", 400)),
        ("tier-c".into(), list("C", 0)),
    ]);
    let max_discount_bp = BTreeMap::from([("A/*".into(), 1500), ("B/*".into(), 1000), ("*/*".into(), 500)]);
    Catalog {
        products,
        price_lists,
        customer_prices: BTreeMap::new(),
        promotions: BTreeMap::new(),
        discount_policy: DiscountPolicy { max_discount_bp, min_order_cents: 5_000 },
        approval_policy: Some(demo_approval_policy()),
        version: 1,
        updated_at: now,
    }
}

fn order_lines(catalog: &Catalog, tier: &str, n: usize, lines: usize) -> Vec<(String, OrderLine)> {
    let skus: Vec<&String> = catalog.products.keys().collect();
    (0..lines)
        .map(|j| {
            let sku = skus[(n * 131 + j * 17) % skus.len()];
            let qty = 1 + ((n + j) % 12) as i64;
            let store = RetailStore {
                name: String::new(),
                code: String::new(),
                address: String::new(),
                customer_id: String::new(),
                region: "north".into(),
                tier: tier.into(),
                latitude: 0.0,
                longitude: 0.0,
                geofence_m: 0.0,
                rep: String::new(),
                supervisor: String::new(),
                active: true,
            };
            let list = rules::list_price(catalog, &store, sku, qty).map_or(0, |p| p.unit_price_cents);
            // Every fifth order has a line below the floor, every third a discount above policy.
            let under = if n.is_multiple_of(5) && j == 0 { 10 } else { 0 };
            let discount_bp = if n.is_multiple_of(3) && j == 1 { 1_800 } else { 0 };
            let line =
                OrderLine { sku: sku.clone(), qty, unit_price_cents: list - under, discount_bp, position: j as i64 };
            (format!("line-{j}"), line)
        })
        .collect()
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let now = now_ms();
    let catalog = catalog(args.products, now);
    let store = RetailStore {
        name: "Bench Market".into(),
        code: String::new(),
        address: "1 Bench Street".into(),
        customer_id: "C-1".into(),
        region: "north".into(),
        tier: "B".into(),
        latitude: 53.55,
        longitude: 9.99,
        geofence_m: 0.0,
        rep: String::new(),
        supervisor: String::new(),
        active: true,
    };
    let inventory = Inventory {
        warehouse: "WH-NORTH".into(),
        region: "north".into(),
        levels: catalog
            .products
            .keys()
            .map(|sku| (sku.clone(), StockLevel { on_hand: 1_000_000, reserved: 0, safety: 10 }))
            .collect(),
        as_of: now,
    };

    // Rules alone.
    let rule_orders = 2_000;
    let orders: Vec<Vec<(String, OrderLine)>> =
        (0..rule_orders).map(|n| order_lines(&catalog, "B", n, args.lines)).collect();
    let started = Instant::now();
    let mut outcomes = BTreeMap::new();
    for lines in &orders {
        let stock = Some(StockView { inventory: &inventory, reserved_for_order: &BTreeMap::new() });
        let assessment = rules::assess(&catalog, "store", &store, lines, stock, now);
        *outcomes.entry(assessment.outcome().as_str()).or_insert(0) += 1;
    }
    let rules_elapsed = started.elapsed();

    // The relay job against real storage.
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut config = Config::new(dir.path());
    config.password_cost = PasswordCost::insecure_for_tests();
    let state = config.open_state()?;
    let storage = state.storage.as_ref();
    let (one_by_one, batched, warm) = runtime.block_on(async {
        let tenant = accounts::create_tenant(storage, "bench").await?;
        let cost = PasswordCost::insecure_for_tests();
        let account = |username: &'static str, role, region| NewAccount {
            tenant: "bench",
            username,
            display_name: "",
            password: "bench-password-1",
            role,
            region,
        };
        let rep = accounts::create_user(storage, cost, account("rep-01", Role::Rep, Some("north"))).await?;
        accounts::create_user(storage, cost, account("manager-north", Role::Manager, Some("north"))).await?;
        accounts::create_user(storage, cost, account("hq-admin", Role::Hq, None)).await?;
        create_as_relay(storage, tenant.id, &catalog).await?;
        let store_id =
            create_as_relay(storage, tenant.id, &RetailStore { rep: rep.id.clone(), ..store.clone() }).await?;
        create_as_relay(storage, tenant.id, &inventory).await?;
        let inventory_id = region_inventory(storage, tenant.id, "north").await?.ok_or("no inventory")?;
        let mut ids = Vec::new();
        for n in 0..args.orders * 2 {
            let order = Order {
                owner: rep.id.clone(),
                store_id: store_id.to_string(),
                customer_id: "C-1".into(),
                status: OrderStatus::Submitted,
                lines: order_lines(&catalog, "B", n, args.lines).into_iter().collect(),
                notes: String::new(),
                created_at: now,
                updated_at: now,
                submitted_at: Some(now),
                submission: 1,
            };
            let id = create_as_relay(storage, tenant.id, &order).await?;
            if !args.cold {
                // What admission does with an order it stores: keeps it, as it read it, for the
                // review.
                let heads = storage.doc_heads(tenant.id, &id).await?.ok_or("order not stored")?.heads;
                state.caches.submitted_orders.keep(tenant.id, &id, &heads, order);
            }
            ids.push(id);
        }
        // A running relay keeps the hydrated catalog (per catalog heads): hydrate it once, timed
        // apart, so that neither way of reviewing pays it.
        let warm = Instant::now();
        tenant_catalog(storage, &state.caches, tenant.id).await?;
        let warm = warm.elapsed();
        let (mut one_by_one, mut batched) = (Tally::default(), Tally::default());
        let mut perf = args.perf_control.as_deref().map(PerfControl::open).transpose()?;
        if let Some(perf) = perf.as_mut() {
            perf.send("enable")?;
        }
        for (round, ids) in ids.chunks(args.batch.max(1)).enumerate() {
            let (wall, cpu) = (Instant::now(), cpu_time());
            let one_at_a_time = round % 2 == 0 && !args.batched_only;
            if one_at_a_time {
                for id in ids {
                    let done = review_order(storage, &state.caches, tenant.id, id, now_ms()).await?;
                    *one_by_one.outcomes.entry(format!("{done:?}")).or_insert(0) += 1;
                }
                one_by_one.orders += ids.len();
                one_by_one.wall += wall.elapsed();
                one_by_one.cpu += cpu_time().saturating_sub(cpu);
            } else {
                for done in review_orders(storage, &state.caches, tenant.id, ids, now_ms()).await? {
                    *batched.outcomes.entry(format!("{:?}", done?)).or_insert(0) += 1;
                }
                batched.orders += ids.len();
                batched.wall += wall.elapsed();
                batched.cpu += cpu_time().saturating_sub(cpu);
            }
            let tally = if one_at_a_time { &mut one_by_one } else { &mut batched };
            let cpu = cpu_time();
            if publish_reserved(storage, &state.caches, tenant.id, &inventory_id).await? {
                tally.publishes += 1;
            }
            tally.publish_cpu += cpu_time().saturating_sub(cpu);
        }
        if let Some(perf) = perf.as_mut() {
            perf.send("disable")?;
        }
        Ok::<_, Box<dyn Error>>((one_by_one, batched, warm))
    })?;

    println!("order review, {} products, {} lines per order", args.products, args.lines);
    println!(
        "  orders {}",
        if args.cold { "loaded by each review (--cold)" } else { "as admission kept them for their review" }
    );
    println!(
        "  rules (assess: price, validate, stock, route): {rule_orders} orders in {:.1} ms = {:.0} orders/s  {outcomes:?}",
        rules_elapsed.as_secs_f64() * 1e3,
        per_second(rule_orders, rules_elapsed)
    );
    println!(
        "  catalog hydrated once before the rounds (a running relay keeps it): {:.1} ms",
        warm.as_secs_f64() * 1e3
    );
    if !args.batched_only {
        one_by_one.print("relay review-order job, one at a time");
    }
    batched.print(&format!("relay review-order job, batches of {:>3}", args.batch));
    Ok(())
}
