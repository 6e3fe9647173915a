//! A tenant's days are days in its own time zone, and its amounts carry its currency: the
//! overview's "orders today" and the sales-falling alert, on the real code paths, against SQLite
//! and PostgreSQL.
//!
//! PostgreSQL as in `storage_contract.rs`: `FIELDSYNC_TEST_DATABASE` (a server URL; each test
//! creates and drops a database of its own there), else the local default server; when that
//! cannot be reached the PostgreSQL variants say SKIPPED loudly and pass.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::PgDatabase;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use fieldsync_core::Role;
use fieldsync_core::doc::{Catalog, Inbox, Order, OrderLine, OrderStatus, Product, RetailStore};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::dashboard::pages::overview_at;
use fieldsync_server::dashboard::session::Viewer;
use fieldsync_server::locale::Locale;
use fieldsync_server::services::accounts::Caller;
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::services::alerts::{self, inbox::inbox_id};
use fieldsync_server::{AppState, documents};

const PASSWORD: &str = "correct horse battery";

/// Ms since the Unix epoch of an RFC 3339 time.
fn at(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

// ---------------------------------------------------------------------------------------------
// Backends

/// A relay on either backend with tenant `acme` in `time_zone` and `currency`: HQ (hana), a
/// north rep (ravi) and the north manager (mia), a catalog with SKU-1, one north store (customer
/// C-1) of ravi.
struct Relay {
    _dir: tempfile::TempDir,
    _database: Option<PgDatabase>,
    state: AppState,
    tenant_id: i64,
    store_id: String,
    users: BTreeMap<&'static str, String>,
}

impl Relay {
    async fn open(database: Option<PgDatabase>, time_zone: &str, currency: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path().join("data"));
        config.password_cost = PasswordCost::insecure_for_tests();
        config.database_url = database.as_ref().map(|d| d.url.clone());
        let state = config.open().await.unwrap();
        let storage = state.storage.as_ref();
        let locale = Locale::new(time_zone, currency).unwrap();
        let tenant = accounts::create_tenant_in(storage, "acme", &locale).await.unwrap();
        let mut users = BTreeMap::new();
        for (username, role, region) in
            [("hana", Role::Hq, None), ("ravi", Role::Rep, Some("north")), ("mia", Role::Manager, Some("north"))]
        {
            let account = NewAccount { tenant: "acme", username, display_name: "", password: PASSWORD, role, region };
            let user = accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
            users.insert(username, user.id);
        }
        let product = Product {
            name: "Cola".into(),
            category: "drinks".into(),
            unit: "case".into(),
            base_price_cents: 1200,
            active: true,
        };
        let catalog = Catalog::with_products(BTreeMap::from([("SKU-1".to_owned(), product)]), 0);
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
            rep: users["ravi"].clone(),
            supervisor: users["mia"].clone(),
            active: true,
        };
        let store_id = documents::create_as_relay(storage, tenant.id, &store).await.unwrap().to_string();
        Self { _dir: dir, _database: database, state, tenant_id: tenant.id, store_id, users }
    }

    /// A submitted order of ravi's for 12.34, submitted at `submitted_at`.
    async fn submitted_order(&self, submitted_at: i64) {
        let line = OrderLine { sku: "SKU-1".into(), qty: 1, unit_price_cents: 1234, discount_bp: 0, position: 0 };
        let order = Order {
            owner: self.users["ravi"].clone(),
            store_id: self.store_id.clone(),
            customer_id: "C-1".into(),
            status: OrderStatus::Submitted,
            lines: BTreeMap::from([("l1".to_owned(), line)]),
            notes: String::new(),
            created_at: submitted_at - 60_000,
            updated_at: submitted_at,
            submitted_at: Some(submitted_at),
            submission: 1,
        };
        documents::create_as_relay(self.state.storage.as_ref(), self.tenant_id, &order).await.unwrap();
    }

    /// The overview HQ sees at `now`, as HTML.
    async fn overview(&self, now: i64) -> String {
        let caller = Caller {
            tenant_id: self.tenant_id,
            tenant: "acme".into(),
            user_id: self.users["hana"].clone(),
            username: "hana".into(),
            role: Role::Hq,
            region: None,
            device_id: "dashboard".into(),
            device_unsynced_docs: None,
            key: None,
        };
        let viewer = Viewer { caller, csrf: "csrf".into(), language: Default::default() };
        let response = overview_at(&self.state, &viewer, now).await.unwrap();
        let bytes = axum::body::to_bytes(axum::response::IntoResponse::into_response(response).into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    /// Imports daily sales of store C-1 as HQ: `(day, total)`, each a sale of SKU-1.
    async fn import_sales(&self, days: &[(&str, &str)]) {
        let mut csv = "day,customer_id,sku,units,amount\n".to_owned();
        for (day, amount) in days {
            csv.push_str(&format!("{day},C-1,SKU-1,1,{amount}\n"));
        }
        let token = common::login(&self.state, "hana", PASSWORD).await;
        let (status, body) = common::import(&self.state, &token, "sales", &csv).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// The inbox of ravi, once the relay has written one.
    async fn ravis_inbox(&self) -> Option<Inbox> {
        let id = inbox_id(&self.users["ravi"]);
        documents::read::<Inbox>(self.state.storage.as_ref(), self.tenant_id, &id).await.ok()
    }
}

/// The value of a KPI tile of the overview.
fn kpi(html: &str, id: &str) -> String {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no {id} in the overview"));
    let value = &html[start..];
    let open = value.find("<div class=\"v\">").unwrap() + "<div class=\"v\">".len();
    value[open..].split("</div>").next().unwrap().to_owned()
}

/// Runs a test body on SQLite and on PostgreSQL.
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$name(None).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let Some(database) = super::PgDatabase::create(stringify!($name)).await else { return };
                super::$name(Some(database)).await;
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Today's orders

on_both_backends!(an_order_at_23_30_utc_is_today_in_shanghai_on_the_next_local_day);
async fn an_order_at_23_30_utc_is_today_in_shanghai_on_the_next_local_day(database: Option<PgDatabase>) {
    let relay = Relay::open(database, "Asia/Shanghai", "CNY").await;
    // 23:30 UTC on 4 March is 07:30 on 5 March in Shanghai; HQ looks at 10:00 local time.
    relay.submitted_order(at("2026-03-04T23:30:00Z")).await;
    let now = at("2026-03-05T02:00:00Z");
    let html = relay.overview(now).await;
    assert_eq!(kpi(&html, "kpi-orders-today"), "1", "the order counts on Shanghai's 5 March");
    assert_eq!(kpi(&html, "kpi-value-today"), "12.34 CNY");
    assert!(html.contains("Times in Asia/Shanghai (UTC+08:00); amounts in CNY"), "{html}");
    assert!(html.contains("Today started 2026-03-05 00:00 +08:00"), "{html}");
    assert!(html.contains("2026-03-05 07:30 +08:00"), "the order's time in the latest orders");
    assert!(html.contains("2026-03-05: 1 orders"), "the chart's bar of the local day");

    // The same order and instant for a tenant in UTC: that order was yesterday's.
    accounts::set_tenant_locale(relay.state.storage.as_ref(), "acme", Some("UTC"), None).await.unwrap();
    let html = relay.overview(now).await;
    assert_eq!(kpi(&html, "kpi-orders-today"), "0", "in UTC the order was on 4 March");
    assert!(html.contains("2026-03-04: 1 orders"));
}

// ---------------------------------------------------------------------------------------------
// Sales falling

on_both_backends!(a_three_day_sales_fall_across_the_berlin_dst_change_raises_the_alert_counted_in_local_days);
async fn a_three_day_sales_fall_across_the_berlin_dst_change_raises_the_alert_counted_in_local_days(
    database: Option<PgDatabase>,
) {
    let relay = Relay::open(database, "Europe/Berlin", "EUR").await;
    // Friday to Monday; the clocks go forward on Sunday 29 March 2026 (a 23-hour day).
    relay
        .import_sales(&[
            ("2026-03-27", "40.00"),
            ("2026-03-28", "30.00"),
            ("2026-03-29", "20.00"),
            ("2026-03-30", "10.00"),
        ])
        .await;
    let storage = relay.state.storage.as_ref();
    let key = format!("sales-falling:{}", relay.store_id);

    // Evaluated at 00:30 on 24 April in Berlin (22:30 UTC the day before): the 28 local days
    // looked back at start on 27 March, so all four days count.
    let now = at("2026-04-23T22:30:00Z");
    let done = alerts::evaluate(storage, &relay.state.caches, None, relay.tenant_id, now).await.unwrap();
    assert!(done.opened >= 1, "{done:?}");
    let inbox = relay.ravis_inbox().await.expect("ravi has an inbox");
    let alert = &inbox.alerts[&key];
    assert_eq!(alert.state, fieldsync_core::doc::AlertState::Open);
    assert!(
        alert.detail.contains("fell 3 days in a row: 2026-03-27: 40.00 EUR, 2026-03-28: 30.00 EUR, 2026-03-29: 20.00 EUR, 2026-03-30: 10.00 EUR"),
        "{}",
        alert.detail
    );

    // One local day later the look-back starts on 28 March: three days are no run, and the
    // alert closes. (28 × 24 h back from that instant is still 27 March in Berlin, because of
    // the short day: only calendar arithmetic gets this right; and in UTC days it would be 27
    // March too.)
    let later = at("2026-04-24T22:30:00Z");
    let done = alerts::evaluate(storage, &relay.state.caches, None, relay.tenant_id, later).await.unwrap();
    assert!(done.closed >= 1, "{done:?}");
    let inbox = relay.ravis_inbox().await.unwrap();
    assert_eq!(inbox.alerts[&key].state, fieldsync_core::doc::AlertState::Closed);
}
