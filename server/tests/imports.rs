//! CSV imports through `POST /v1/import/{dataset}` — stock levels, stores, products, prices, POS
//! sales and distributor purchases — driven with `tower::ServiceExt::oneshot` (and once on a real
//! socket) on a real SQLite database in a temporary directory; and the `import` command.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fieldsync_core::DocumentId;
use fieldsync_core::Role;
use fieldsync_core::doc::{Catalog, DocKind, Inventory, PriceBreak, PriceList, Product, RetailStore, StockLevel};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::scope::Scope;
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::storage::{DailySale, DistributorPurchase, RowBatch, Tenant};
use fieldsync_server::{AppState, app, documents};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

struct Relay {
    _dir: tempfile::TempDir,
    state: AppState,
    tenant: Tenant,
}

async fn relay() -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.password_cost = PasswordCost::insecure_for_tests();
    let state = config.open_state().unwrap();
    let storage = state.storage.as_ref();
    let tenant = accounts::create_tenant(storage, "acme").await.unwrap();
    for (username, role, region) in
        [("hana", Role::Hq, None), ("ravi", Role::Rep, Some("north")), ("sofia", Role::Supervisor, Some("north"))]
    {
        let account = NewAccount { tenant: "acme", username, display_name: "", password: PASSWORD, role, region };
        accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
    }
    let product = |name: &str| Product {
        name: name.to_owned(),
        category: "drinks".to_owned(),
        unit: "case of 12".to_owned(),
        base_price_cents: 1200,
        active: true,
    };
    let catalog = Catalog::with_products(
        BTreeMap::from([("SKU-1".to_owned(), product("Cola")), ("SKU-2".to_owned(), product("Lemonade"))]),
        0,
    );
    documents::create_as_relay(storage, tenant.id, &catalog).await.unwrap();
    Relay { _dir: dir, state, tenant }
}

async fn login(relay: &Relay, username: &str) -> String {
    common::login(&relay.state, username, PASSWORD).await
}

async fn send(relay: &Relay, request: Request<Body>) -> (StatusCode, Value) {
    common::send(&relay.state, request).await
}

async fn import(relay: &Relay, token: &str, dataset: &str, csv: &str) -> (StatusCode, Value) {
    common::import(&relay.state, token, dataset, csv).await
}

fn hq() -> Scope {
    Scope { role: Role::Hq, user_id: String::new(), region: None }
}

async fn all<T: fieldsync_core::doc::DocumentModel>(relay: &Relay, kind: DocKind) -> Vec<T> {
    let storage = relay.state.storage.as_ref();
    let mut values = Vec::new();
    for stored in storage.list_docs(relay.tenant.id, &hq(), kind, 1000).await.unwrap() {
        values.push(documents::read(storage, relay.tenant.id, &stored.id).await.unwrap());
    }
    values
}

async fn feed_position(relay: &Relay) -> u64 {
    relay.state.storage.feed_position(relay.tenant.id).await.unwrap()
}

const STOCK: &str = "warehouse,region,sku,on_hand,safety\nWH-N,north,SKU-1,120,20\nWH-N,north,SKU-2,5,10\n";

#[tokio::test]
async fn a_good_stock_import_sets_levels_and_keeps_reservations() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let existing = Inventory {
        warehouse: "WH-N".to_owned(),
        region: "north".to_owned(),
        levels: BTreeMap::from([("SKU-1".to_owned(), StockLevel { on_hand: 50, reserved: 7, safety: 10 })]),
        as_of: 1,
    };
    documents::create_as_relay(relay.state.storage.as_ref(), relay.tenant.id, &existing).await.unwrap();

    let csv = format!("{STOCK}WH-S,south,\"SKU-1\",300,40\r\n");
    let (status, body) = import(&relay, &token, "stock", &csv).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rows"], 3);
    assert_eq!((body["created"].as_u64(), body["updated"].as_u64()), (Some(1), Some(1)));

    let inventories: Vec<Inventory> = all(&relay, DocKind::Inventory).await;
    let north = inventories.iter().find(|i| i.warehouse == "WH-N").unwrap();
    assert_eq!(north.levels["SKU-1"], StockLevel { on_hand: 120, reserved: 7, safety: 20 });
    assert_eq!(north.levels["SKU-2"], StockLevel { on_hand: 5, reserved: 0, safety: 10 });
    assert!(north.as_of > 1);
    let south = inventories.iter().find(|i| i.warehouse == "WH-S").unwrap();
    assert_eq!(south.region, "south");
    assert_eq!(south.levels["SKU-1"].on_hand, 300);
}

#[tokio::test]
async fn a_file_with_a_bad_row_changes_nothing_and_names_the_line() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let before = feed_position(&relay).await;

    let csv = format!("{STOCK}WH-N,north,SKU-9,1,1\nWH-S,south,SKU-1,-3,0\n");
    let (status, body) = import(&relay, &token, "stock", &csv).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid-import");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(r#"line 4: sku "SKU-9" is not in the tenant's catalog"#), "{message}");
    assert!(message.contains(r#"line 5: on_hand "-3" must be a whole number ≥ 0"#), "{message}");
    assert_eq!(feed_position(&relay).await, before);
    assert!(all::<Inventory>(&relay, DocKind::Inventory).await.is_empty());

    let (status, body) = import(&relay, &token, "stock", "warehouse,region,sku,on_hand\nWH-N,north,SKU-1,1\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains(r#"missing column "safety""#), "{body}");
}

#[tokio::test]
async fn importing_the_same_file_twice_changes_nothing_the_second_time() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let (status, _) = import(&relay, &token, "stock", STOCK).await;
    assert_eq!(status, StatusCode::OK);
    let inventories: Vec<Inventory> = all(&relay, DocKind::Inventory).await;
    let position = feed_position(&relay).await;

    let (status, body) = import(&relay, &token, "stock", STOCK).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unchanged"], 1);
    assert_eq!(feed_position(&relay).await, position);
    assert_eq!(all::<Inventory>(&relay, DocKind::Inventory).await, inventories);
}

/// The `import.applied` payloads in the tenant's outbox, oldest first.
async fn announced(relay: &Relay) -> Vec<Value> {
    let types = ["import.applied".to_owned()];
    let events = relay.state.storage.events_after(relay.tenant.id, 0, &types, 100).await.unwrap();
    events.into_iter().map(|e| serde_json::from_str(&e.event.payload).unwrap()).collect()
}

#[tokio::test]
async fn an_import_that_writes_is_announced_once_with_its_counts_and_one_that_changes_nothing_or_fails_is_not() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let (status, _) = import(&relay, &token, "stock", STOCK).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = import(&relay, &token, "stock", STOCK).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = import(&relay, &token, "stock", &format!("{STOCK}WH-S,south,SKU-1,-3,0\n")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let changed = format!("{STOCK}WH-S,south,SKU-1,300,40\n").replace(",120,", ",121,");
    let (status, body) = import(&relay, &token, "stock", &changed).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let events = announced(&relay).await;
    let counts: Vec<(u64, u64, u64)> = events
        .iter()
        .map(|e| (e["created"].as_u64().unwrap(), e["updated"].as_u64().unwrap(), e["unchanged"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, [(1, 0, 0), (1, 1, 0)], "the first import and the changed one: {events:?}");
    assert!(events.iter().all(|e| e["dataset"] == "stock"));
}

#[tokio::test]
async fn only_hq_may_import() {
    let relay = relay().await;
    let token = login(&relay, "ravi").await;
    let (status, body) = import(&relay, &token, "stock", STOCK).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(all::<Inventory>(&relay, DocKind::Inventory).await.is_empty());
}

#[tokio::test]
async fn a_stores_import_creates_stores_then_updates_them_by_customer_id() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let header = "name,address,customer_id,region,tier,latitude,longitude,rep,supervisor\n";
    let first = format!("{header}Corner Shop,\"1 Main St, Springfield\",C-1,north,A,52.1,4.3,ravi,sofia\n");
    let (status, body) = import(&relay, &token, "stores", &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 1);

    let stores: Vec<RetailStore> = all(&relay, DocKind::Store).await;
    let ravi = relay.state.storage.find_user_by_username(relay.tenant.id, "ravi").await.unwrap().unwrap();
    assert_eq!(stores.len(), 1);
    assert_eq!(stores[0].address, "1 Main St, Springfield");
    assert_eq!(stores[0].rep, ravi.id);
    assert!(stores[0].active);

    let second = format!("{header}Corner Shop Plus,\"1 Main St, Springfield\",C-1,north,B,52.1,4.3,ravi,sofia\n");
    let (status, body) = import(&relay, &token, "stores", &second).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["created"].as_u64(), body["updated"].as_u64()), (Some(0), Some(1)));
    let stores: Vec<RetailStore> = all(&relay, DocKind::Store).await;
    assert_eq!(stores.len(), 1);
    assert_eq!((stores[0].name.as_str(), stores[0].tier.as_str()), ("Corner Shop Plus", "B"));

    let position = feed_position(&relay).await;
    let (status, body) = import(&relay, &token, "stores", &second).await;
    assert_eq!((status, body["unchanged"].as_u64()), (StatusCode::OK, Some(1)), "{body}");
    assert_eq!(feed_position(&relay).await, position);

    let unknown = format!("{header}Other,Elm St,C-2,north,A,52,4,bob,sofia\n");
    let (status, body) = import(&relay, &token, "stores", &unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains(r#"line 2: rep "bob" is not a user"#), "{body}");
}

/// Runs `fieldsync-server ARGS --data DATA` (the environment's relay settings left out).
fn relay_command(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fieldsync-server"))
        .env_remove("FIELDSYNC_DATA")
        .env_remove("FIELDSYNC_DATABASE")
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap()
}

/// Creates tenant `acme` and these users (username, role) of region north through the command line.
fn create_tenant_with(relay: impl Fn(&[&str]) -> std::process::Output, users: &[(&str, &str)]) {
    assert!(relay(&["admin", "create-tenant", "acme"]).status.success());
    for (username, role) in users {
        let args = ["admin", "create-user", "--tenant", "acme", "--username", username, "--password", PASSWORD];
        let created = relay(&[&args[..], &["--role", role, "--region", "north"]].concat());
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    }
}

#[test]
fn the_import_command_imports_a_file_once_and_refuses_a_bad_one_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let relay = |args: &[&str]| relay_command(&dir.path().join("data"), args);
    create_tenant_with(relay, &[("ravi", "rep"), ("sofia", "supervisor")]);
    let file = dir.path().join("stores.csv");
    std::fs::write(
        &file,
        "name,address,customer_id,region,tier,latitude,longitude,rep,supervisor\nShop,Main St,C-1,north,A,52,4,ravi,sofia\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let first = relay(&["import", "--tenant", "acme", "stores", file]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(stdout.contains("1 document(s) created, 0 updated, 0 unchanged"), "{stdout}");
    assert!(String::from_utf8_lossy(&first.stderr).contains("wrote 1 of 1 documents"));
    let again = relay(&["import", "--tenant", "acme", "stores", file]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains("0 document(s) created, 0 updated, 1 unchanged"), "{stdout}");

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "warehouse,region,sku,on_hand,safety\nWH,north,SKU-1,x,1\n").unwrap();
    let refused = relay(&["import", "--tenant", "acme", "stock", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains(r#"line 2: on_hand "x" must be a whole number ≥ 0"#));
}

// Catalog: products and prices

async fn catalog(relay: &Relay) -> Catalog {
    let catalogs: Vec<Catalog> = all(relay, DocKind::Catalog).await;
    assert_eq!(catalogs.len(), 1);
    catalogs.into_iter().next().unwrap()
}

const PRODUCTS: &str = "sku,name,category,unit,base_price,active\n\
    SKU-2,Lemonade,drinks,case of 12,12.00,true\n\
    SKU-3,\"Crisps, salted\",\"snacks\",\"bag\nof 20\",3.5,yes\n\
    \"SKU-4\",Old Cola,drinks,case of 6,7,false\r\n";

#[tokio::test]
async fn a_products_import_adds_and_replaces_products_once_and_bumps_the_catalog_version() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let (status, body) = import(&relay, &token, "products", PRODUCTS).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rows"], 3);
    assert_eq!(body["counted"], "products");
    // SKU-2 was already there with the same values.
    assert_eq!(
        (body["created"].as_u64(), body["updated"].as_u64(), body["unchanged"].as_u64()),
        (Some(2), Some(0), Some(1))
    );
    let catalog = catalog(&relay).await;
    assert_eq!(catalog.version, 2);
    assert_eq!(catalog.products.len(), 4);
    let crisps = &catalog.products["SKU-3"];
    assert_eq!((crisps.name.as_str(), crisps.unit.as_str()), ("Crisps, salted", "bag\nof 20"));
    assert_eq!((crisps.base_price_cents, crisps.active), (350, true));
    assert!(!catalog.products["SKU-4"].active);
    assert_eq!(catalog.products["SKU-4"].base_price_cents, 700);

    let position = feed_position(&relay).await;
    let (status, body) = import(&relay, &token, "products", PRODUCTS).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["created"].as_u64(), body["unchanged"].as_u64()), (Some(0), Some(3)));
    assert_eq!(feed_position(&relay).await, position);
    assert_eq!(catalog_version(&relay).await, 2);

    let cheaper = "sku,name,category,unit,base_price,active\nSKU-1,Cola,drinks,case of 12,11.50,true\n";
    let (status, body) = import(&relay, &token, "products", cheaper).await;
    assert_eq!((status, body["updated"].as_u64()), (StatusCode::OK, Some(1)), "{body}");
    let catalog = self::catalog(&relay).await;
    assert_eq!((catalog.products["SKU-1"].base_price_cents, catalog.version), (1150, 3));
}

async fn catalog_version(relay: &Relay) -> u64 {
    catalog(relay).await.version
}

#[tokio::test]
async fn a_products_file_with_bad_rows_changes_nothing_and_names_every_line() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let before = feed_position(&relay).await;
    let csv = "sku,name,category,unit,base_price,active\n\
        SKU-5,Water,drinks,bottle,1.00,true\n\
        SKU-6,,drinks,bottle,1.999,maybe\n\
        SKU-5,Water again,drinks,bottle,1,true\n\
        SKU-7,Juice,drinks,bottle,-2,true\n";
    let (status, body) = import(&relay, &token, "products", csv).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("5 error(s), nothing imported"), "{message}");
    for expected in [
        "line 3: name is empty",
        r#"line 3: base_price "1.999" must be an amount ≥ 0 with at most 2 decimals"#,
        r#"line 3: active "maybe" must be true or false"#,
        r#"line 4: sku "SKU-5" already on line 2"#,
        r#"line 5: base_price "-2" must be an amount"#,
    ] {
        assert!(message.contains(expected), "{expected} in {message}");
    }
    assert_eq!(feed_position(&relay).await, before);
    assert_eq!(catalog(&relay).await.products.len(), 2);
}

const PRICES: &str = "price_list,tier,region,sku,min_qty,unit_price\n\
    north-b,B,north,SKU-1,1,11.00\n\
    north-b,B,north,SKU-1,10,10.50\n\
    \"north-b\",\"B\",\"north\",\"SKU-2\",\"1\",\"9.90\"\n\
    any,,,SKU-1,1,11.90\n";

#[tokio::test]
async fn a_prices_import_sets_quantity_breaks_by_list_once() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let (status, body) = import(&relay, &token, "prices", PRICES).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["rows"].as_u64(), body["created"].as_u64()), (Some(4), Some(4)), "{body}");
    let catalog = catalog(&relay).await;
    let north = &catalog.price_lists["north-b"];
    assert_eq!((north.tier.as_str(), north.region.as_str()), ("B", "north"));
    assert_eq!(
        north.prices["SKU-1"],
        vec![PriceBreak { min_qty: 1, unit_price_cents: 1100 }, PriceBreak { min_qty: 10, unit_price_cents: 1050 }]
    );
    assert_eq!(north.prices["SKU-2"], vec![PriceBreak { min_qty: 1, unit_price_cents: 990 }]);
    assert_eq!(
        catalog.price_lists["any"],
        PriceList {
            tier: String::new(),
            region: String::new(),
            prices: BTreeMap::from([("SKU-1".to_owned(), vec![PriceBreak { min_qty: 1, unit_price_cents: 1190 }])]),
        }
    );

    let position = feed_position(&relay).await;
    let (status, body) = import(&relay, &token, "prices", PRICES).await;
    assert_eq!((status, body["unchanged"].as_u64()), (StatusCode::OK, Some(4)), "{body}");
    assert_eq!(feed_position(&relay).await, position);

    // A (list, SKU) in a file replaces that SKU's breaks in that list.
    let fewer = "price_list,tier,region,sku,min_qty,unit_price\nnorth-b,B,north,SKU-1,1,10.00\n";
    let (status, body) = import(&relay, &token, "prices", fewer).await;
    assert_eq!((status, body["updated"].as_u64()), (StatusCode::OK, Some(1)), "{body}");
    let catalog = self::catalog(&relay).await;
    assert_eq!(catalog.price_lists["north-b"].prices["SKU-1"], vec![PriceBreak { min_qty: 1, unit_price_cents: 1000 }]);
    assert_eq!(catalog.price_lists["north-b"].prices["SKU-2"].len(), 1);
}

#[tokio::test]
async fn a_prices_file_with_bad_rows_changes_nothing_and_names_every_line() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let before = feed_position(&relay).await;
    let csv = "price_list,tier,region,sku,min_qty,unit_price\n\
        north-b,B,north,SKU-1,1,11.00\n\
        north-b,A,north,SKU-2,1,9.00\n\
        north-b,B,north,SKU-1,1,10.00\n\
        south,D,South Side,SKU-9,0,x\n";
    let (status, body) = import(&relay, &token, "prices", csv).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    for expected in [
        r#"line 3: price list "north-b" has tier "B" and region "north" on line 2"#,
        r#"line 4: sku "SKU-1" from 1 in price list "north-b" already on line 2"#,
        r#"line 5: tier "D" must be one of A, B, C or empty for any tier"#,
        r#"line 5: region "South Side""#,
        r#"line 5: min_qty "0" must be a whole number ≥ 1"#,
        r#"line 5: unit_price "x" must be an amount"#,
        r#"line 5: sku "SKU-9" is not in the tenant's catalog"#,
    ] {
        assert!(message.contains(expected), "{expected} in {message}");
    }
    assert_eq!(feed_position(&relay).await, before);
    assert!(catalog(&relay).await.price_lists.is_empty());
}

// Sales and purchases

/// Creates a store document with this customer id; returns its id.
async fn store(relay: &Relay, customer_id: &str) -> DocumentId {
    let ravi = relay.state.storage.find_user_by_username(relay.tenant.id, "ravi").await.unwrap().unwrap();
    let store = RetailStore {
        name: format!("Shop {customer_id}"),
        code: String::new(),
        address: "Main St".to_owned(),
        customer_id: customer_id.to_owned(),
        region: "north".to_owned(),
        tier: "A".to_owned(),
        latitude: 52.0,
        longitude: 4.0,
        geofence_m: 0.0,
        rep: ravi.id.clone(),
        supervisor: ravi.id,
        active: true,
    };
    documents::create_as_relay(relay.state.storage.as_ref(), relay.tenant.id, &store).await.unwrap()
}

async fn sales(relay: &Relay) -> Vec<DailySale> {
    relay.state.storage.daily_sales_since(relay.tenant.id, "0000-00-00").await.unwrap()
}

async fn purchases(relay: &Relay) -> Vec<DistributorPurchase> {
    relay.state.storage.purchases_since(relay.tenant.id, "0000-00-00").await.unwrap()
}

fn sale(store_id: &DocumentId, sku: &str, day: &str, units: i64, amount_cents: i64) -> DailySale {
    DailySale { store_id: store_id.to_string(), sku: sku.to_owned(), day: day.to_owned(), units, amount_cents }
}

const SALES: &str = "day,customer_id,sku,units,amount\n\
    2026-11-02,C-1,SKU-1,4,48.00\n\
    \"2026-11-01\",\"C-1\",\"SKU-1\",\"3\",\"36.5\"\r\n\
    2026-11-01,C-2,SKU-2,0,0\n\
    \n\
    2026-11-01,\"C-1\",SKU-2,\"12\",\"1,5\"\n";

#[tokio::test]
async fn a_sales_import_stores_rows_by_store_document_and_day_and_is_idempotent() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let (c1, c2) = (store(&relay, "C-1").await, store(&relay, "C-2").await);
    let documents_before = feed_position(&relay).await;

    // "1,5" is quoted, so the row has five fields, but it is not an amount.
    let (status, body) = import(&relay, &token, "sales", SALES).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(r#"line 6: amount "1,5" must be an amount"#), "{body}");
    assert!(sales(&relay).await.is_empty());

    let csv = SALES.replace("\"1,5\"", "\"1.50\"");
    let (status, body) = import(&relay, &token, "sales", &csv).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["counted"], "rows");
    assert_eq!((body["rows"].as_u64(), body["created"].as_u64()), (Some(4), Some(4)), "{body}");
    let mut expected = vec![
        sale(&c1, "SKU-1", "2026-11-01", 3, 3650),
        sale(&c1, "SKU-1", "2026-11-02", 4, 4800),
        sale(&c1, "SKU-2", "2026-11-01", 12, 150),
        sale(&c2, "SKU-2", "2026-11-01", 0, 0),
    ];
    expected.sort_by(|a, b| (&a.store_id, &a.sku, &a.day).cmp(&(&b.store_id, &b.sku, &b.day)));
    assert_eq!(sales(&relay).await, expected);
    let since: Vec<DailySale> = expected.iter().filter(|s| s.day.as_str() >= "2026-11-02").cloned().collect();
    assert_eq!(relay.state.storage.daily_sales_since(relay.tenant.id, "2026-11-02").await.unwrap(), since);
    // Sales are not documents: nothing entered the change feed.
    assert_eq!(feed_position(&relay).await, documents_before);

    let (status, body) = import(&relay, &token, "sales", &csv).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["created"].as_u64(), body["updated"].as_u64(), body["unchanged"].as_u64()),
        (Some(0), Some(0), Some(4))
    );
    assert_eq!(sales(&relay).await, expected);

    let corrected = "day,customer_id,sku,units,amount\n2026-11-02,C-1,SKU-1,5,60\n2026-11-03,C-2,SKU-1,1,12\n";
    let (status, body) = import(&relay, &token, "sales", corrected).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["created"].as_u64(), body["updated"].as_u64(), body["unchanged"].as_u64()),
        (Some(1), Some(1), Some(0))
    );
    let stored = sales(&relay).await;
    assert_eq!(stored.len(), 5);
    assert!(stored.contains(&sale(&c1, "SKU-1", "2026-11-02", 5, 6000)));
    // Other tenants see none of it.
    let other = accounts::create_tenant(relay.state.storage.as_ref(), "other").await.unwrap();
    assert!(relay.state.storage.daily_sales_since(other.id, "0000-00-00").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_sales_file_with_bad_rows_anywhere_writes_nothing_and_names_the_lines() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    store(&relay, "C-1").await;
    // Many good rows (more than one write batch), then the bad ones at the end.
    let mut csv = String::from("day,customer_id,sku,units,amount\n");
    for n in 0..12_000 {
        let day = 1 + n % 28;
        let month = 1 + (n / 28) % 12;
        let year = 2000 + n / (28 * 12);
        csv.push_str(&format!("{year}-{month:02}-{day:02},C-1,SKU-{},1,1.00\n", 1 + n % 2));
    }
    csv.push_str("2026-02-30,C-1,SKU-1,1,1\n");
    csv.push_str("2026-11-01,C-404,SKU-9,-1,1.005\n");
    csv.push_str("2000-01-01,C-1,SKU-1,9,9\n");
    csv.push_str("2026-11-01,C-1,SKU-1\n");
    let (status, body) = import(&relay, &token, "sales", &csv).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    for expected in [
        r#"line 12002: day "2026-02-30" must be a date written YYYY-MM-DD"#,
        r#"line 12003: customer_id "C-404" is not a store of this tenant"#,
        r#"line 12003: sku "SKU-9" is not in the tenant's catalog"#,
        r#"line 12003: units "-1" must be a whole number ≥ 0"#,
        r#"line 12003: amount "1.005" must be an amount"#,
        r#"line 12004: customer_id "C-1", sku "SKU-1" on 2000-01-01 already on line 2"#,
        "line 12005: 3 field(s) where the header has 5",
    ] {
        assert!(message.contains(expected), "{expected} in {message}");
    }
    assert!(sales(&relay).await.is_empty());
}

#[tokio::test]
async fn a_purchases_import_upserts_by_day_distributor_region_and_sku() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let csv = "day,distributor,region,sku,units,amount\n\
        2026-11-01,\"Dist, North\",north,SKU-1,120,1440.00\n\
        2026-11-01,\"Dist, North\",south,SKU-1,10,120\n\
        2026-11-02,DIST-S,south,SKU-2,\"7\",\"84.7\"\n";
    let (status, body) = import(&relay, &token, "purchases", csv).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["rows"].as_u64(), body["created"].as_u64()), (Some(3), Some(3)), "{body}");
    let purchase = |day: &str, distributor: &str, region: &str, sku: &str, units, amount_cents| DistributorPurchase {
        day: day.to_owned(),
        distributor: distributor.to_owned(),
        region: region.to_owned(),
        sku: sku.to_owned(),
        units,
        amount_cents,
    };
    let expected = vec![
        purchase("2026-11-01", "Dist, North", "north", "SKU-1", 120, 144_000),
        purchase("2026-11-01", "Dist, North", "south", "SKU-1", 10, 12_000),
        purchase("2026-11-02", "DIST-S", "south", "SKU-2", 7, 8470),
    ];
    assert_eq!(purchases(&relay).await, expected);

    let (status, body) = import(&relay, &token, "purchases", csv).await;
    assert_eq!((status, body["unchanged"].as_u64()), (StatusCode::OK, Some(3)), "{body}");
    assert_eq!(purchases(&relay).await, expected);

    let bad = "day,distributor,region,sku,units,amount\n\
        2026-11-03,DIST-S,south,SKU-2,1,1\n\
        2026-11-03,,North!,SKU-2,1,1\n\
        2026-11-03,DIST-S,south,SKU-2,2,2\n";
    let (status, body) = import(&relay, &token, "purchases", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("line 3: distributor is empty"), "{message}");
    assert!(message.contains(r#"line 3: region "North!""#), "{message}");
    assert!(
        message
            .contains(r#"line 4: distributor "DIST-S", region "south", sku "SKU-2" on 2026-11-03 already on line 2"#),
        "{message}"
    );
    assert_eq!(purchases(&relay).await, expected);
}

#[tokio::test]
async fn a_sales_write_that_stops_before_its_commit_leaves_nothing() {
    let relay = relay().await;
    let c1 = store(&relay, "C-1").await;
    let (sender, batches) = tokio::sync::mpsc::channel(4);
    let storage = relay.state.storage.clone();
    let tenant = relay.tenant.id;
    let writer =
        tokio::spawn(async move { storage.upsert_daily_sales(tenant, batches, 1, Box::new(|_| Vec::new())).await });
    sender.send(RowBatch::Rows(vec![sale(&c1, "SKU-1", "2026-11-01", 1, 100)])).await.unwrap();
    drop(sender);
    let error = writer.await.unwrap().unwrap_err();
    assert!(error.to_string().contains("nothing was written"), "{error}");
    assert!(sales(&relay).await.is_empty());

    let (sender, batches) = tokio::sync::mpsc::channel(4);
    let storage = relay.state.storage.clone();
    let writer =
        tokio::spawn(async move { storage.upsert_daily_sales(tenant, batches, 1, Box::new(|_| Vec::new())).await });
    sender.send(RowBatch::Rows(vec![sale(&c1, "SKU-1", "2026-11-01", 1, 100)])).await.unwrap();
    sender.send(RowBatch::Commit).await.unwrap();
    let counts = writer.await.unwrap().unwrap();
    assert_eq!((counts.created, counts.updated, counts.unchanged), (1, 0, 0));
    assert_eq!(sales(&relay).await.len(), 1);
}

// HTTP: the body is streamed to a temporary file

fn upload_dir(relay: &Relay) -> std::path::PathBuf {
    fieldsync_server::http::imports::upload_dir(&relay.state)
}

fn leftover_uploads(relay: &Relay) -> Vec<String> {
    match std::fs::read_dir(upload_dir(relay)) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    }
}

/// POSTs `body` to the relay on a real socket with plain HTTP/1.1; returns the status and the
/// JSON answer.
async fn post_on_socket(address: std::net::SocketAddr, path: &str, token: &str, body: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: text/csv\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // In pieces, so the relay sees a body that arrives over time.
    for piece in body.as_bytes().chunks(4096) {
        stream.write_all(piece).await.unwrap();
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let (_, json) = answer.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sales_file_posted_on_a_real_socket_is_imported_and_its_upload_removed() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let c1 = store(&relay, "C-1").await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = app(relay.state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });

    let mut csv = String::from("day,customer_id,sku,units,amount\n");
    for day in 1..=28 {
        for sku in ["SKU-1", "SKU-2"] {
            csv.push_str(&format!("2026-02-{day:02},\"C-1\",{sku},{day},\"{day}.25\"\n"));
        }
    }
    let (status, body) = post_on_socket(address, "/v1/import/sales", &token, &csv).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["rows"].as_u64(), body["created"].as_u64()), (Some(56), Some(56)), "{body}");
    let stored = sales(&relay).await;
    assert_eq!(stored.len(), 56);
    assert_eq!(stored[0], sale(&c1, "SKU-1", "2026-02-01", 1, 125));
    assert!(leftover_uploads(&relay).is_empty(), "{:?}", leftover_uploads(&relay));

    let (status, body) = post_on_socket(address, "/v1/import/sales", &token, &csv).await;
    assert_eq!((status, body["unchanged"].as_u64()), (200, Some(56)), "{body}");
}

#[tokio::test]
async fn a_refused_import_leaves_no_upload_behind() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;

    // Bad rows: 400, the upload is removed.
    let (status, _) =
        import(&relay, &token, "stock", "warehouse,region,sku,on_hand,safety\nWH,north,SKU-1,x,1\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(leftover_uploads(&relay).is_empty(), "{:?}", leftover_uploads(&relay));

    // A body that grows past the limit without announcing its size: 413 while streaming.
    let limit = fieldsync_server::http::imports::IMPORT_BODY_LIMIT;
    let chunk = format!("WH,north,SKU-1,1,1\n{}", " ".repeat(1024 * 1024));
    let pieces = limit / chunk.len() + 2;
    let header = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(axum::body::Bytes::from("warehouse,region,sku,on_hand,safety\n"))
    });
    let rows = futures_util::stream::iter(
        (0..pieces).map(move |_| Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk.clone()))),
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/import/stock")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from_stream(futures_util::StreamExt::chain(header, rows)))
        .unwrap();
    let (status, body) = send(&relay, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "too-large");
    assert!(body["error"]["message"].as_str().unwrap().contains(&format!("{limit}-byte limit")), "{body}");
    assert!(leftover_uploads(&relay).is_empty(), "{:?}", leftover_uploads(&relay));

    // A size announced above the (larger) sales limit: 413 before anything is read.
    let sales_limit = fieldsync_server::http::imports::TABLE_IMPORT_BODY_LIMIT;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/import/sales")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_LENGTH, (sales_limit + 1).to_string())
        .body(Body::from("day,customer_id,sku,units,amount\n"))
        .unwrap();
    let (status, body) = send(&relay, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(leftover_uploads(&relay).is_empty(), "{:?}", leftover_uploads(&relay));
    assert!(all::<Inventory>(&relay, DocKind::Inventory).await.is_empty());
}

#[tokio::test]
async fn an_unknown_dataset_names_the_known_ones() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let (status, body) = import(&relay, &token, "orders", "a\n1\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "unknown-dataset");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("stock, stores, products, prices, sales, purchases"), "{message}");
}

#[test]
fn the_import_command_streams_catalog_and_sales_files_and_reports_progress_in_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let relay = |args: &[&str]| relay_command(&dir.path().join("data"), args);
    let import = |dataset: &str, csv: &str| {
        let file = dir.path().join(format!("{dataset}.csv"));
        std::fs::write(&file, csv).unwrap();
        let output = relay(&["import", "--tenant", "acme", dataset, file.to_str().unwrap()]);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        );
        assert!(output.status.success(), "{stderr}");
        (stdout, stderr)
    };
    create_tenant_with(relay, &[("ravi", "rep")]);

    // The tenant has no catalog yet: the products import creates it.
    let mut products = String::from("sku,name,category,unit,base_price,active\n");
    let mut stores = String::from("name,address,customer_id,region,tier,latitude,longitude,rep,supervisor\n");
    for n in 0..5 {
        products.push_str(&format!("SKU-{n},Product {n},drinks,case,{n}.50,true\n"));
        stores.push_str(&format!("Shop {n},\"{n} Main St, Springfield\",C-{n},north,A,52,4,ravi,ravi\n"));
    }
    let (stdout, _) = import("products", &products);
    assert!(stdout.contains("5 product(s) created, 0 updated, 0 unchanged"), "{stdout}");
    let (stdout, _) = import("stores", &stores);
    assert!(stdout.contains("5 document(s) created"), "{stdout}");

    let mut sales = String::from("day,customer_id,sku,units,amount\n");
    for day in 0..1000 {
        let date = format!("{}-{:02}-{:02}", 2020 + day / 336, 1 + day / 28 % 12, 1 + day % 28);
        for store in 0..5 {
            for sku in 0..5 {
                sales.push_str(&format!("{date},C-{store},SKU-{sku},{},{}.{:02}\n", day % 7, day % 90, sku * 7));
            }
        }
    }
    let (stdout, stderr) = import("sales", &sales);
    assert!(stdout.contains("imported 25000 sales row(s): 25000 row(s) created, 0 updated, 0 unchanged"), "{stdout}");
    assert!(stderr.contains("validated 10000 rows\nvalidated 20000 rows\n"), "{stderr}");
    assert!(
        stderr.contains("wrote 10000 of 25000 rows\nwrote 20000 of 25000 rows\nwrote 25000 of 25000 rows"),
        "{stderr}"
    );
    let (stdout, _) = import("sales", &sales);
    assert!(stdout.contains("0 row(s) created, 0 updated, 25000 unchanged"), "{stdout}");
}
