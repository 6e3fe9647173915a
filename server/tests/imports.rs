//! CSV imports of stock levels and stores through `POST /v1/import/{dataset}`, driven with
//! `tower::ServiceExt::oneshot` on a real SQLite database in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fieldsync_core::Role;
use fieldsync_core::doc::{Catalog, DiscountPolicy, DocKind, Inventory, Product, RetailStore, StockLevel};
use fieldsync_server::accounts::{self, NewAccount};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::scope::Scope;
use fieldsync_server::storage::Tenant;
use fieldsync_server::{AppState, app, documents};
use serde_json::{Value, json};
use tower::ServiceExt;

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
        let account = NewAccount { tenant: "acme", username, password: PASSWORD, role, region };
        accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
    }
    let product = |name: &str| Product {
        name: name.to_owned(),
        category: "drinks".to_owned(),
        unit: "case of 12".to_owned(),
        base_price_cents: 1200,
        active: true,
    };
    let catalog = Catalog {
        products: BTreeMap::from([("SKU-1".to_owned(), product("Cola")), ("SKU-2".to_owned(), product("Lemonade"))]),
        price_lists: BTreeMap::new(),
        customer_prices: BTreeMap::new(),
        promotions: BTreeMap::new(),
        discount_policy: DiscountPolicy::default(),
        approval_policy: None,
        version: 1,
        updated_at: 0,
    };
    documents::create_as_relay(storage, tenant.id, &catalog).await.unwrap();
    Relay { _dir: dir, state, tenant }
}

async fn login(relay: &Relay, username: &str) -> String {
    let body = json!({ "tenant": "acme", "username": username, "password": PASSWORD, "device_name": "laptop" });
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let (status, body) = send(relay, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

async fn send(relay: &Relay, request: Request<Body>) -> (StatusCode, Value) {
    let response = app(relay.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn import(relay: &Relay, token: &str, dataset: &str, csv: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/import/{dataset}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.to_owned()))
        .unwrap();
    send(relay, request).await
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
        reservations: BTreeMap::from([("order-1".to_owned(), BTreeMap::from([("SKU-1".to_owned(), 7)]))]),
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
    assert_eq!(north.reservations, existing.reservations);
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

#[test]
fn the_import_command_imports_a_file_once_and_refuses_a_bad_one_with_exit_code_2() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let relay = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fieldsync-server"))
            .env_remove("FIELDSYNC_DATA")
            .env_remove("FIELDSYNC_DATABASE")
            .args(args)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap()
    };
    assert!(relay(&["admin", "create-tenant", "acme"]).status.success());
    for (username, role) in [("ravi", "rep"), ("sofia", "supervisor")] {
        let args = ["admin", "create-user", "--tenant", "acme", "--username", username, "--password", PASSWORD];
        let created = relay(&[&args[..], &["--role", role, "--region", "north"]].concat());
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    }
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
