//! Two relay nodes on one PostgreSQL database, each with its own socket, pool, `LISTEN`
//! connection and job runner, as two machines behind a load balancer would run: a device live on
//! node B hears of a change pushed through node A, devices on both nodes converge, each order
//! review runs once, a login limit reached on A holds on B, and a session from A works on B.
//!
//! Needs PostgreSQL (`FIELDSYNC_TEST_DATABASE`, set by `scripts/test` for its PostgreSQL run); on
//! SQLite, which is one node by design, it says SKIPPED and passes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::time::Duration;

use fieldsync_core::DocumentId;
use fieldsync_core::local_store::{LineInput, NewOrder};
use fieldsync_tests::live::{connect, next_change};
use fieldsync_tests::{Phone, Relay, http, test_database_url};

/// Two nodes on one fresh database, or `None` on SQLite.
fn two_nodes(test: &str) -> Option<(Relay, Relay)> {
    if test_database_url().is_none() {
        eprintln!("\n*** SKIPPED {test}: two relay nodes need PostgreSQL (set FIELDSYNC_TEST_DATABASE) ***\n");
        return None;
    }
    let a = Relay::start();
    let b = a.second_node();
    Some((a, b))
}

/// Submits an order of one line at the list price in the rep's first store (not synced).
fn submit_order(phone: &Phone) -> DocumentId {
    let (store_id, _) = phone.store.stores().unwrap().into_iter().next().expect("the rep has stores");
    let sku = phone.store.catalog().unwrap().products.iter().find(|(_, p)| p.active).unwrap().0.clone();
    let price = phone.store.product(&sku).unwrap().base_price_cents;
    let line = LineInput { sku, qty: 2, unit_price_cents: price, discount_bp: 0 };
    let id = phone
        .store
        .create_order(NewOrder { store_id: store_id.to_string(), lines: vec![line], notes: String::new() })
        .unwrap();
    phone.store.submit_order(&id).unwrap();
    id
}

/// Every document on a phone with its heads.
fn holdings(phone: &Phone) -> BTreeMap<String, Vec<String>> {
    phone
        .store
        .held_heads(&Default::default())
        .unwrap()
        .into_iter()
        .map(|(id, heads)| {
            (id.to_string(), heads.iter().map(|h| h.iter().map(|b| format!("{b:02x}")).collect()).collect())
        })
        .collect()
}

/// Runs SQL on the nodes' database.
fn query(relay: &Relay, sql: &str) -> Vec<tokio_postgres::Row> {
    let url = relay.state.config.database_url.clone().expect("a PostgreSQL node");
    relay.block_on(async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client.query(sql, &[]).await.unwrap()
    })
}

#[test]
fn a_device_live_on_node_b_hears_an_order_pushed_through_node_a_and_both_nodes_devices_converge() {
    let Some((a, b)) = two_nodes("two-node convergence") else { return };
    let rep = &a.users(fieldsync_core::Role::Rep, Some("north"))[0];
    let phone_on_a = a.phone(rep);
    let tablet_on_b = b.phone(rep);
    phone_on_a.sync();
    tablet_on_b.sync();
    let mut live_on_b = connect(&b.base_url, &tablet_on_b.session.token);

    let order = submit_order(&phone_on_a);
    phone_on_a.sync();
    let seq = next_change(&mut live_on_b, Duration::from_secs(30)).expect("node B announced A's order");
    assert!(seq > 0);
    tablet_on_b.sync();
    assert!(tablet_on_b.store.order(&order).is_ok(), "the tablet on B pulled the order");

    // And back: an order pushed through B reaches the phone on A.
    let second = submit_order(&tablet_on_b);
    tablet_on_b.sync();
    phone_on_a.sync();
    assert!(phone_on_a.store.order(&second).is_ok());

    // Once the reviews (run by whichever node leased them) are in, both hold the same documents.
    assert!(a.wait_for_jobs(Duration::from_secs(60)), "reviews did not finish");
    for _ in 0..3 {
        phone_on_a.sync();
        tablet_on_b.sync();
    }
    assert_eq!(holdings(&phone_on_a), holdings(&tablet_on_b), "the devices on A and B diverge");
}

#[test]
fn orders_pushed_through_both_nodes_are_each_reviewed_exactly_once() {
    let Some((a, b)) = two_nodes("two-node job runs") else { return };
    let reps = a.users(fieldsync_core::Role::Rep, None);
    let mut orders = Vec::new();
    for (n, rep) in reps.iter().take(4).enumerate() {
        let node = if n % 2 == 0 { &a } else { &b };
        let phone = node.phone(rep);
        phone.sync();
        for _ in 0..3 {
            orders.push(submit_order(&phone));
        }
        phone.sync();
    }
    assert!(b.wait_for_jobs(Duration::from_secs(120)), "reviews did not finish");
    let rows = query(&a, "SELECT key, state, attempts, leased_by FROM jobs WHERE kind = 'review-order'");
    for order in &orders {
        let runs: Vec<_> = rows.iter().filter(|r| r.get::<_, String>(0).starts_with(&format!("{order}@"))).collect();
        assert_eq!(runs.len(), 1, "order {order}: {} review jobs", runs.len());
        let (state, attempts): (String, i64) = (runs[0].get(1), runs[0].get(2));
        assert_eq!((state.as_str(), attempts), ("done", 1), "order {order} was reviewed more than once");
    }
    let workers: std::collections::BTreeSet<String> =
        query(&a, "SELECT DISTINCT leased_by FROM jobs WHERE leased_by IS NOT NULL").iter().map(|r| r.get(0)).collect();
    assert!(workers.is_empty(), "finished jobs keep no lease: {workers:?}");
}

#[test]
fn a_login_limit_reached_on_node_a_holds_on_node_b_and_a_session_from_a_works_on_b() {
    let Some((a, b)) = two_nodes("two-node sessions") else { return };
    let rep = &a.users(fieldsync_core::Role::Rep, Some("south"))[0];
    let login = a.login_of(rep).clone();
    let body = |password: &str| {
        serde_json::json!({"tenant": login.tenant, "username": rep, "password": password, "device_name": "t"})
            .to_string()
            .into_bytes()
    };
    let json = [("content-type", "application/json")];
    for _ in 0..a.state.config.login_limits.free_failures {
        let answer = http("POST", &format!("{}/v1/auth/login", a.base_url), None, &json, body("wrong password"));
        assert_eq!(answer.status, 401, "{}", String::from_utf8_lossy(&answer.body));
    }
    let answer = http("POST", &format!("{}/v1/auth/login", b.base_url), None, &json, body(&login.password));
    assert_eq!(answer.status, 429, "the right password on B during A's lockout: {}", answer.status);
    assert!(answer.header("retry-after").is_some());

    let other = &a.users(fieldsync_core::Role::Rep, Some("north"))[0];
    let phone = a.phone(other);
    let orders_on_b = http("GET", &format!("{}/v1/orders", b.base_url), Some(&phone.session.token), &[], Vec::new());
    assert_eq!(orders_on_b.status, 200, "A's session refused on B");
    let logout = http("POST", &format!("{}/v1/auth/logout", a.base_url), Some(&phone.session.token), &[], Vec::new());
    assert!(logout.status < 300, "logout on A: {}", logout.status);
    let after = http("GET", &format!("{}/v1/orders", b.base_url), Some(&phone.session.token), &[], Vec::new());
    assert_eq!(after.status, 401, "a session revoked on A still works on B");
}
