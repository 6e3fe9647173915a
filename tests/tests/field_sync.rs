//! Phones that worked offline meet the relay and converge.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldsync_core::Role;
use fieldsync_core::doc::Order;
use fieldsync_core::local_store::{LineInput, NewOrder, OrderFilter};
use fieldsync_tests::{Phone, Relay, Weather};

fn order_at_first_store(phone: &Phone, qty: i64) -> fieldsync_core::DocumentId {
    let (store_id, _) = phone.store.stores().unwrap().into_iter().next().expect("the rep has stores");
    let catalog = phone.store.catalog().unwrap();
    let (sku, product) = catalog.products.iter().find(|(_, p)| p.active).unwrap();
    let line = LineInput { sku: sku.clone(), qty, unit_price_cents: product.base_price_cents, discount_bp: 0 };
    let id = phone
        .store
        .create_order(NewOrder { store_id: store_id.to_string(), lines: vec![line], notes: String::new() })
        .unwrap();
    phone.store.submit_order(&id).unwrap();
    id
}

#[test]
fn two_reps_and_a_supervisor_work_offline_reconnect_in_any_order_and_hq_sees_every_order() {
    let relay = Relay::start();
    let reps = relay.users(Role::Rep, Some("north"));
    let (anna, ben) = (relay.phone(&reps[0]), relay.phone(&reps[1]));
    let supervisor = relay.phone(&relay.users(Role::Supervisor, Some("north"))[0]);
    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    for phone in [&anna, &ben, &supervisor, &hq] {
        phone.sync();
    }
    assert!(!anna.store.stores().unwrap().is_empty());
    assert!(anna.store.catalog().is_ok());

    for phone in [&anna, &ben, &supervisor] {
        phone.network.set(Weather::Offline);
    }
    let a1 = order_at_first_store(&anna, 3);
    let a2 = order_at_first_store(&anna, 5);
    let b1 = order_at_first_store(&ben, 7);
    assert!(anna.engine.sync_now().is_err(), "offline sync must fail, not pretend");
    assert_eq!(anna.engine.status().unwrap().pending_changes, 2);

    // Reconnect in a different order than they went offline.
    for phone in [&ben, &supervisor, &anna] {
        phone.network.set(Weather::Clear);
        phone.sync();
    }
    assert_eq!(anna.engine.status().unwrap().pending_changes, 0);
    hq.sync();
    let seen: Vec<_> = hq.store.list_orders(&OrderFilter::default()).unwrap().into_iter().map(|s| s.id).collect();
    for id in [&a1, &a2, &b1] {
        assert!(seen.contains(id), "hq is missing order {id}");
        let at_hq: Order = hq.store.order(id).unwrap();
        let at_rep = if *id == b1 { ben.store.order(id).unwrap() } else { anna.store.order(id).unwrap() };
        assert_eq!(at_hq, at_rep);
    }
    // Reps see only their own orders.
    assert!(ben.store.order(&a1).is_err());
}

#[test]
fn a_reconnect_with_nothing_changed_is_one_small_round_trip() {
    let relay = Relay::start();
    let rep = relay.phone(&relay.users(Role::Rep, None)[0]);
    rep.sync();
    let report = rep.sync();
    assert_eq!(report.rounds, 1, "{report:?}");
    assert!(report.bytes_sent + report.bytes_received < 4_096, "{report:?}");
}

#[test]
fn a_lost_response_creates_no_duplicates() {
    let relay = Relay::start();
    let rep = relay.phone(&relay.users(Role::Rep, None)[0]);
    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    rep.sync();
    let id = order_at_first_store(&rep, 2);
    rep.network.set(Weather::LoseResponses);
    assert!(rep.engine.sync_now().is_err());
    rep.network.set(Weather::Clear);
    rep.sync();
    hq.sync();
    let orders = hq.store.list_orders(&OrderFilter::default()).unwrap();
    assert_eq!(orders.iter().filter(|o| o.id == id).count(), 1);
    assert_eq!(orders.len(), 1);
    assert_eq!(hq.store.order(&id).unwrap(), rep.store.order(&id).unwrap());
}

#[test]
fn a_phone_with_background_sync_and_the_live_channel_receives_an_order_without_asking() {
    let relay = Relay::start();
    let rep = relay.phone(&relay.users(Role::Rep, None)[0]);
    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    rep.sync();
    hq.sync();
    // A long interval: only the live notice can make HQ sync in time.
    let background = hq.engine.start_background(std::time::Duration::from_secs(3600));
    let waker = std::sync::Arc::new(std::sync::Mutex::new(Some(background)));
    let wake = waker.clone();
    let live = fieldsync_core::sync::watch(&relay.base_url, &hq.session.token, move |_| {
        if let Some(background) = wake.lock().unwrap().as_ref() {
            background.wake();
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let id = order_at_first_store(&rep, 4);
    rep.sync();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while hq.store.order(&id).is_err() {
        assert!(std::time::Instant::now() < deadline, "hq did not receive the order live");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(hq.store.order(&id).unwrap(), rep.store.order(&id).unwrap());
    live.stop();
    if let Some(background) = waker.lock().unwrap().take() {
        background.stop();
    }
}
