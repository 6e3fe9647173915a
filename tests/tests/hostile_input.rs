//! A hostile phone against the real socket: changes that build documents nested a hundred
//! thousand levels deep or expand to millions of operations, requests that ask for the same
//! document thousands of times, documents squatting ids the relay derives for its own. Each is
//! refused before anything is stored (or, for what was stored before the limits existed, read
//! safely and quarantined), and the relay keeps serving everybody else.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use rand::Rng;

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjType, ROOT};
use fieldsync_core::doc::{self, Order, RetailStore};
use fieldsync_core::local_store::{LineInput, NewOrder};
use fieldsync_core::sync::protocol::{Push, SyncRequest};
use fieldsync_core::{DocKind, DocumentId, Role};
use fieldsync_server::documents::heads_of;
use fieldsync_server::services::orders::{legacy_review_id, review_id};
use fieldsync_server::storage::{DocWrite, WriteOutcome};
use fieldsync_tests::{Phone, Relay, http, percentile, sync_round};

fn new_order(phone: &Phone, notes: &str) -> fieldsync_core::Result<DocumentId> {
    let (store_id, _) = phone.store.stores().unwrap().into_iter().next().expect("the rep has stores");
    let sku = phone.store.catalog().unwrap().products.iter().find(|(_, p)| p.active).unwrap().0.clone();
    let price = phone.store.product(&sku).unwrap().base_price_cents;
    let line = LineInput { sku, qty: 1, unit_price_cents: price, discount_bp: 0 };
    phone.store.create_order(NewOrder { store_id: store_id.to_string(), lines: vec![line], notes: notes.to_owned() })
}

/// The relay's copy of `id`, changed by `edit` with a fresh actor; the push of that change (or,
/// `whole`, of the whole saved document, which automerge compresses).
fn hostile_edit(
    relay: &Relay,
    id: &DocumentId,
    whole: bool,
    edit: impl FnOnce(&mut automerge::transaction::Transaction<'_>),
) -> Push {
    let mut am = Automerge::load(&relay.stored(id).unwrap().snapshot).unwrap();
    am.set_actor(ActorId::random());
    let before = am.get_heads();
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        edit(tx);
        Ok(())
    })
    .unwrap();
    Push { doc: id.clone(), changes: if whole { am.save() } else { am.save_after(&before) } }
}

fn deep_chain(tx: &mut automerge::transaction::Transaction<'_>, levels: usize) {
    let mut obj = tx.put_object(ROOT, "x", ObjType::Map).unwrap();
    for _ in 1..levels {
        obj = tx.put_object(&obj, "x", ObjType::Map).unwrap();
    }
}

/// A synced rep's phone with one synced order.
fn rep_with_order(relay: &Relay) -> (Phone, DocumentId) {
    let rep = &relay.users(Role::Rep, Some("north"))[0];
    let phone = relay.phone(rep);
    phone.sync();
    let order = new_order(&phone, "").unwrap();
    phone.sync();
    (phone, order)
}

#[test]
fn a_change_nesting_maps_deeper_than_the_limit_is_refused_and_stores_nothing() {
    let relay = Relay::start();
    let (phone, order) = rep_with_order(&relay);
    let before = relay.stored(&order).unwrap().snapshot;
    let position = relay.feed_position();

    // A hundred thousand levels are refused for their operations before anything is applied;
    // a thousand fit in a push and are refused for their depth.
    for (levels, code) in [(100_000, "too-many-ops"), (1_000, "too-deep"), (33, "too-deep")] {
        let push = hostile_edit(&relay, &order, false, |tx| deep_chain(tx, levels));
        let request = SyncRequest { cursor: position, pushes: vec![push], ..Default::default() };
        let response = sync_round(&relay.base_url, &phone.session.token, &request);
        assert_eq!(response.rejected.len(), 1, "{levels}: {response:?}");
        assert_eq!(response.rejected[0].code, code, "{levels}: {response:?}");
        assert_eq!(relay.stored(&order).unwrap().snapshot, before);
        assert_eq!(relay.feed_position(), position);
    }
    // Thirty-two levels are within the limit.
    let push = hostile_edit(&relay, &order, false, |tx| deep_chain(tx, 32));
    let request = SyncRequest { cursor: position, pushes: vec![push], ..Default::default() };
    let response = sync_round(&relay.base_url, &phone.session.token, &request);
    assert_eq!(response.accepted, vec![order.clone()], "{response:?}");

    // Reading the order back, as HQ lists it, still works.
    let hq = relay.login_of("hq-admin");
    let hq_phone = relay.phone(&hq.username);
    let listed =
        http("GET", &format!("{}/v1/orders?limit=1000", relay.base_url), Some(&hq_phone.session.token), &[], vec![]);
    assert_eq!(listed.status, 200);
}

#[test]
fn a_document_stored_deep_before_the_limits_is_read_safely_then_quarantined() {
    let relay = Relay::start();
    let (phone, order) = rep_with_order(&relay);
    let tenant = relay.tenant_id();
    let stored = relay.stored(&order).unwrap();

    // Written straight to storage, as a relay without the limits would have stored it.
    let mut am = Automerge::load(&stored.snapshot).unwrap();
    am.set_actor(ActorId::random());
    let before = am.get_heads();
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        deep_chain(tx, 100_000);
        Ok(())
    })
    .unwrap();
    // The chain is beside the order's fields: the scope columns stay the stored ones.
    let write = DocWrite {
        id: order.clone(),
        meta: stored.meta.clone(),
        expected_heads: stored.heads.clone(),
        snapshot: am.save(),
        heads: heads_of(&am),
        changes: am.save_after(&before),
        origin_device: None,
        new_actors: Vec::new(),
        blobs: Vec::new(),
        job: None,
        read_model: Vec::new(),
        events: Vec::new(),
    };
    let outcome = relay.block_on(relay.state.storage.write_doc(tenant, write)).unwrap();
    assert!(matches!(outcome, WriteOutcome::Stored(_)));

    // The JSON view cuts it at the limit instead of overflowing the relay's stack.
    let url = format!("{}/v1/docs/{order}", relay.base_url);
    let view = http("GET", &url, Some(&phone.session.token), &[], vec![]);
    assert_eq!(view.status, 200, "{}", String::from_utf8_lossy(&view.body));
    let hq = relay.phone(&relay.login_of("hq-admin").username);
    let listed = http("GET", &format!("{}/v1/orders?limit=1000", relay.base_url), Some(&hq.session.token), &[], vec![]);
    assert_eq!(listed.status, 200);

    let in_read_model = || {
        let dump = relay.block_on(relay.state.storage.dump_read_model(tenant)).unwrap();
        dump.iter()
            .any(|(_, rows)| rows.iter().any(|row| row.first().cloned().flatten().as_deref() == Some(order.as_str())))
    };
    assert!(in_read_model(), "the order has its read-model rows before the check");
    let report =
        relay.block_on(fieldsync_server::quarantine::check_tenant(relay.state.storage.as_ref(), tenant)).unwrap();
    assert_eq!(report.quarantined.len(), 1, "{report:?}");
    assert_eq!(report.quarantined[0].0, order);
    assert!(report.checked > 1);
    assert!(relay.stored(&order).is_none(), "a quarantined document is never served again");
    assert!(!in_read_model(), "its read-model rows leave with it");
    assert_eq!(http("GET", &url, Some(&phone.session.token), &[], vec![]).status, 404);
    // A second check finds nothing more.
    let again =
        relay.block_on(fieldsync_server::quarantine::check_tenant(relay.state.storage.as_ref(), tenant)).unwrap();
    assert!(again.quarantined.is_empty());
}

#[test]
fn a_few_kilobytes_expanding_to_millions_of_operations_are_refused_before_they_are_applied() {
    let relay = Relay::start();
    let (phone, order) = rep_with_order(&relay);
    let position = relay.feed_position();
    let push = hostile_edit(&relay, &order, true, |tx| {
        let text = tx.put_object(ROOT, "padding", ObjType::Text).unwrap();
        tx.splice_text(&text, 0, 0, &"a".repeat(2_000_000)).unwrap();
    });
    assert!(push.changes.len() < 64 * 1024, "{} bytes", push.changes.len());
    let started = Instant::now();
    let request = SyncRequest { cursor: position, pushes: vec![push], ..Default::default() };
    let response = sync_round(&relay.base_url, &phone.session.token, &request);
    println!(
        "2,000,000 operations in a {} byte push refused in {:?}",
        request.pushes[0].changes.len(),
        started.elapsed()
    );
    assert_eq!(response.rejected.len(), 1, "{response:?}");
    assert_eq!(response.rejected[0].code, "too-many-ops", "{response:?}");
    assert_eq!(relay.feed_position(), position);
}

#[test]
fn asking_for_one_document_two_thousand_times_returns_it_once_and_answers_stay_within_the_budget() {
    let relay = Relay::start();
    let hq = relay.phone(&relay.login_of("hq-admin").username);
    hq.sync();
    let catalog = relay
        .scope_ids(&relay.login_of("hq-admin").username)
        .into_iter()
        .max_by_key(|id| relay.stored(id).map(|d| d.snapshot.len()).unwrap_or(0))
        .unwrap();
    let request =
        SyncRequest { cursor: relay.feed_position(), want: vec![catalog.clone(); 2_000], ..Default::default() };
    let bytes = fieldsync_core::sync::protocol::encode(&request).len();
    let response = sync_round(&relay.base_url, &hq.session.token, &request);
    assert_eq!(response.updates.len(), 1, "one copy, however often it is asked for");
    assert_eq!(response.updates[0].doc, catalog);
    let answer: usize = response.updates.iter().map(|u| u.changes.len()).sum();
    println!("a {bytes} byte request got {answer} bytes of documents");

    // Documents larger than the budget together: HQ stores eight stores padded with 45 texts of
    // 20,000 random characters each (about 0.7 MB each, compressed). Asked for all at once, the
    // answer stops at the budget and says `more`; the next request gets the rest.
    let store_id = everything_of_kind(&relay, DocKind::Store)[0].clone();
    let store: RetailStore =
        doc::read(&store_id, &Automerge::load(&relay.stored(&store_id).unwrap().snapshot).unwrap()).unwrap();
    let mut rng = rand::rng();
    let mut big: Vec<DocumentId> = Vec::new();
    for _ in 0..8 {
        let id = DocumentId::random();
        let mut am = doc::create(&id, ActorId::random(), &store).unwrap();
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            for key in 0..45 {
                let text: String = (0..20_000).map(|_| rng.sample(rand::distr::Alphanumeric) as char).collect();
                tx.put(ROOT, format!("padding-{key}"), text)?;
            }
            Ok(())
        })
        .unwrap();
        let request = SyncRequest {
            cursor: relay.feed_position(),
            pushes: vec![Push { doc: id.clone(), changes: am.save() }],
            ..Default::default()
        };
        assert_eq!(sync_round(&relay.base_url, &hq.session.token, &request).accepted, vec![id.clone()]);
        big.push(id);
    }
    let stored: usize = big.iter().map(|id| relay.stored(id).unwrap().snapshot.len()).sum();
    assert!(stored > fieldsync_server::sync::round::RESPONSE_BUDGET, "{stored} bytes");
    let request = SyncRequest { cursor: relay.feed_position(), want: big.clone(), ..Default::default() };
    let response = sync_round(&relay.base_url, &hq.session.token, &request);
    let answer: usize = response.updates.iter().map(|u| u.changes.len()).sum();
    assert!(answer <= fieldsync_server::sync::round::RESPONSE_BUDGET, "{answer} bytes");
    assert!(
        response.more && !response.updates.is_empty() && response.updates.len() < big.len(),
        "{}",
        response.updates.len()
    );
    let got: Vec<DocumentId> = response.updates.iter().map(|u| u.doc.clone()).collect();
    let rest: Vec<DocumentId> = big.iter().filter(|id| !got.contains(id)).cloned().collect();
    let request = SyncRequest { cursor: relay.feed_position(), want: rest.clone(), ..Default::default() };
    let response = sync_round(&relay.base_url, &hq.session.token, &request);
    assert_eq!(response.updates.iter().map(|u| u.doc.clone()).collect::<Vec<_>>(), rest);
}

/// The ids of every document of `kind` HQ may hold.
fn everything_of_kind(relay: &Relay, kind: DocKind) -> Vec<DocumentId> {
    let hq = relay.login_of("hq-admin").username.clone();
    relay.scope_ids(&hq).into_iter().filter(|id| relay.stored(id).is_some_and(|d| d.meta.kind == kind)).collect()
}

#[test]
fn an_order_under_the_id_reserved_for_its_review_is_refused_and_stores_nothing() {
    let relay = Relay::start();
    let (phone, order) = rep_with_order(&relay);
    let squatted = review_id(order.as_str());
    assert_eq!(squatted.reserved_for(), Some(DocKind::OrderReview));
    let position = relay.feed_position();

    // A hand-made order under the review's id.
    let mut value: Order =
        doc::read(&order, &Automerge::load(&relay.stored(&order).unwrap().snapshot).unwrap()).unwrap();
    value.notes = "squatting".to_owned();
    let am = doc::create(&squatted, ActorId::random(), &value).unwrap();
    let request = SyncRequest {
        cursor: position,
        pushes: vec![Push { doc: squatted.clone(), changes: am.save() }],
        ..Default::default()
    };
    let response = sync_round(&relay.base_url, &phone.session.token, &request);
    assert_eq!(response.rejected.len(), 1, "{response:?}");
    assert_eq!(response.rejected[0].code, "reserved-id", "{response:?}");
    assert!(relay.stored(&squatted).is_none());
    assert_eq!(relay.feed_position(), position);
}

#[test]
fn an_order_squatting_a_legacy_review_id_cannot_block_the_review() {
    let relay = Relay::start();
    let rep = &relay.users(Role::Rep, Some("north"))[0];
    let phone = relay.phone(rep);
    phone.sync();
    let victim = new_order(&phone, "").unwrap();
    // Before the victim order reaches the relay, another order takes the id its review had
    // before derived ids were bound to their kind (such ids are not reserved).
    let legacy = legacy_review_id(victim.as_str());
    let mut value: Order = phone.store.order(&victim).unwrap();
    value.notes = "squatting".to_owned();
    let am = doc::create(&legacy, ActorId::random(), &value).unwrap();
    let request = SyncRequest {
        cursor: relay.feed_position(),
        pushes: vec![Push { doc: legacy.clone(), changes: am.save() }],
        ..Default::default()
    };
    let response = sync_round(&relay.base_url, &phone.session.token, &request);
    assert_eq!(response.accepted, vec![legacy.clone()], "{response:?}");

    phone.store.submit_order(&victim).unwrap();
    phone.sync();
    assert!(relay.wait_for_jobs(Duration::from_secs(30)));
    let review = relay.stored(&review_id(victim.as_str())).expect("the victim order was reviewed");
    assert_eq!(review.meta.kind, DocKind::OrderReview);
}

#[test]
fn the_phone_refuses_a_change_the_relay_would_refuse() {
    let relay = Relay::start();
    let rep = &relay.users(Role::Rep, Some("north"))[0];
    let phone = relay.phone(rep);
    phone.sync();
    let limit = fieldsync_core::doc::limits::Limits::for_kind(DocKind::Order).max_text_chars;
    match new_order(&phone, &"n".repeat(limit + 1)) {
        Err(fieldsync_core::Error::OverLimit { limit: reason, .. }) => assert_eq!(reason.code(), "text-too-long"),
        other => panic!("expected an over-limit error, got {other:?}"),
    }
    assert!(phone.store.pending_documents().unwrap().is_empty(), "nothing was kept");
    assert!(new_order(&phone, &"n".repeat(limit)).is_ok());
}

/// Latencies in ms: (median, 99th percentile, max).
fn spread(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 50.0), percentile(&samples, 99.0), percentile(&samples, 100.0))
}

/// Not a timing assertion (the machines are shared): the figures are printed for the record.
/// What is asserted is that every honest request succeeded while the hostile ones ran.
#[test]
fn the_relay_keeps_answering_other_users_while_a_hostile_client_sends_the_worst_each_limit_allows() {
    let relay = Relay::start();
    let (hostile, order) = rep_with_order(&relay);
    let hq = relay.phone(&relay.login_of("hq-admin").username);
    hq.sync();
    let honest = relay.phone(&relay.users(Role::Rep, Some("north"))[1]);
    honest.sync();

    // The largest push each limit allows: 2,000 new orders in one request, each holding just
    // under the per-push operation limit (a note of 19,000 characters, compressed to a few bytes).
    let mut value: Order = hostile.store.order(&order).unwrap();
    value.notes = "n".repeat(19_000);
    let pushes: Vec<Push> = (0..fieldsync_core::sync::protocol::MAX_DOCS_PER_REQUEST)
        .map(|_| {
            let id = DocumentId::random();
            Push { doc: id.clone(), changes: doc::create(&id, ActorId::random(), &value).unwrap().save() }
        })
        .collect();
    let worst_push = fieldsync_core::sync::protocol::encode(&SyncRequest { pushes, ..Default::default() });
    // The largest ask: every document HQ may hold, in one request.
    let everything = relay.scope_ids(&relay.login_of("hq-admin").username);
    let worst_want = fieldsync_core::sync::protocol::encode(&SyncRequest { want: everything, ..Default::default() });
    // The deepest change: refused for its operations before anything is applied.
    let deep = hostile_edit(&relay, &order, false, |tx| deep_chain(tx, 100_000));
    let worst_deep = fieldsync_core::sync::protocol::encode(&SyncRequest { pushes: vec![deep], ..Default::default() });

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attackers: Vec<_> = [
        ("push", worst_push, hostile.session.token.clone()),
        ("want", worst_want, hq.session.token.clone()),
        ("deep", worst_deep, hostile.session.token.clone()),
    ]
    .into_iter()
    .map(|(name, body, token)| {
        let (url, stop) = (relay.base_url.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut times = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && times.len() < 50 {
                let started = Instant::now();
                let answer = fieldsync_tests::post_sync(&url, &token, body.clone());
                assert_eq!(answer.status, 200, "{name}: {}", String::from_utf8_lossy(&answer.body));
                times.push(started.elapsed().as_secs_f64() * 1e3);
            }
            (name, times, body.len())
        })
    })
    .collect();

    let mut health = Vec::new();
    let mut syncs = Vec::new();
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        let started = Instant::now();
        let answer = http("GET", &format!("{}/healthz", relay.base_url), None, &[], vec![]);
        assert_eq!(answer.status, 200);
        health.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        new_order(&honest, "").unwrap();
        let report = honest.engine.sync_now().expect("an honest phone syncs");
        assert_eq!(report.rejected, 0);
        syncs.push(started.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for attacker in attackers {
        let (name, times, bytes) = attacker.join().unwrap();
        let (p50, p99, max) = spread(times.clone());
        println!(
            "hostile {name}: {} requests of {bytes} bytes, p50 {p50:.0} ms, p99 {p99:.0} ms, max {max:.0} ms",
            times.len()
        );
    }
    let (p50, p99, max) = spread(health.clone());
    println!("honest /healthz: {} requests, p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms", health.len());
    let (p50, p99, max) = spread(syncs.clone());
    println!("honest order + sync: {} rounds, p50 {p50:.0} ms, p99 {p99:.0} ms, max {max:.0} ms", syncs.len());
}
