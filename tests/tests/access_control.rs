//! Isolation: no user reads or writes a document outside their scope, no tenant sees another,
//! and a refused document is quarantined on the device without blocking anything else.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use automerge::{ActorId, Automerge};
use fieldsync_core::doc::{
    self, Catalog, Decision, DocumentModel, GeoFix, Inspection, Inventory, Order, OrderReview, RetailStore,
    ReviewOutcome, Template, Verdict,
};
use fieldsync_core::local_store::{CheckIn, LineInput, NewOrder, PhotoCapture};
use fieldsync_core::sync::protocol::{Push, SyncRequest};
use fieldsync_core::{DocKind, DocumentId, Identity, Role};
use fieldsync_server::config::PasswordCost;
use fieldsync_server::scope::Scope;
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_tests::{Phone, Relay, http, hydrate, photo_fixture, sync_round};

fn new_order(phone: &Phone) -> DocumentId {
    let (store_id, _) = phone.store.stores().unwrap().into_iter().next().expect("the rep has stores");
    let sku = phone.store.catalog().unwrap().products.iter().find(|(_, p)| p.active).unwrap().0.clone();
    let price = phone.store.product(&sku).unwrap().base_price_cents;
    let line = LineInput { sku, qty: 2, unit_price_cents: price, discount_bp: 0 };
    phone
        .store
        .create_order(NewOrder { store_id: store_id.to_string(), lines: vec![line], notes: String::new() })
        .unwrap()
}

fn check_in(phone: &Phone, store_index: usize) -> DocumentId {
    let stores = phone.store.stores().unwrap();
    let (store_id, store) = &stores[store_index % stores.len()];
    let (template_id, _) = phone.store.templates().unwrap().into_iter().next().unwrap();
    phone
        .store
        .check_in(CheckIn {
            store_id: store_id.to_string(),
            template_id: template_id.to_string(),
            at: fieldsync_core::clock::now_ms(),
            position: GeoFix { latitude: store.latitude, longitude: store.longitude, accuracy_m: 5.0 },
        })
        .unwrap()
}

/// A whole new document holding `value`, written by a fresh actor.
fn created<T: DocumentModel>(value: &T) -> (DocumentId, Push) {
    let id = DocumentId::random();
    let changes = doc::create(&id, ActorId::random(), value).unwrap().save();
    (id.clone(), Push { doc: id, changes })
}

/// A change to the relay's copy of a document, made by a fresh actor that loaded its bytes.
fn edited<T: DocumentModel>(relay: &Relay, id: &DocumentId, edit: impl FnOnce(&mut T)) -> Push {
    let mut am = Automerge::load(&relay.stored(id).expect("document on the relay").snapshot).unwrap();
    am.set_actor(ActorId::random());
    let mut value: T = doc::read(id, &am).unwrap();
    edit(&mut value);
    let before = am.get_heads();
    assert!(doc::update(id, &mut am, &value).unwrap(), "the edit changes something");
    Push { doc: id.clone(), changes: am.save_after(&before) }
}

fn ids_of(relay: &Relay, kind: DocKind) -> Vec<DocumentId> {
    let everything = Scope { role: Role::Hq, user_id: String::new(), region: None };
    let docs = relay.block_on(relay.state.storage.list_docs(relay.tenant_id(), &everything, kind, 1000)).unwrap();
    docs.into_iter().map(|d| d.id).collect()
}

fn snapshot_of(relay: &Relay, id: &DocumentId) -> Option<automerge::hydrate::Value> {
    relay.stored(id).map(|s| hydrate(&s.snapshot))
}

struct Forgery {
    what: &'static str,
    push: Push,
}

#[test]
fn forged_documents_of_every_other_role_are_rejected_store_nothing_and_the_rest_of_the_request_is_accepted() {
    let relay = Relay::start();
    let reps = relay.users(Role::Rep, Some("north"));
    let (anna, ben) = (relay.phone(&reps[0]), relay.phone(&reps[1]));
    let sue = relay.phone("supervisor-north");
    let sam = relay.phone("supervisor-south");
    let manager = relay.phone("manager-north");
    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    for phone in [&anna, &ben, &sue, &sam, &manager, &hq] {
        phone.sync();
    }
    let anna_order = new_order(&anna);
    let ben_order = new_order(&ben);
    let sue_inspection = check_in(&sue, 0);
    anna.sync();
    ben.sync();
    sue.sync();
    let (anna_id, ben_id) = (anna.session.user_id.clone(), ben.session.user_id.clone());
    let order_a: Order = anna.store.order(&anna_order).unwrap();
    let inspection: Inspection = sue.store.inspection(&sue_inspection).unwrap();
    let anna_store = anna.store.stores().unwrap()[0].0.clone();
    let ben_store = ben.store.stores().unwrap()[0].0.clone();
    let south_store = sam.store.stores().unwrap()[0].0.clone();
    let catalog_id = anna.store.catalog_id().unwrap();
    let template_id = anna.store.templates().unwrap()[0].0.clone();
    let inventory_id = ids_of(&relay, DocKind::Inventory)[0].clone();
    let review = |owner: &str| OrderReview {
        number: String::new(),
        order_id: anna_order.to_string(),
        owner: owner.to_owned(),
        store_id: order_a.store_id.clone(),
        submission: 1,
        reviewed_heads: vec![],
        outcome: ReviewOutcome::Approved,
        findings: vec![],
        steps: vec![],
        total_cents: 100,
        submitted_at: None,
        reviewed_at: fieldsync_core::clock::now_ms(),
        decided_at: None,
    };
    let decision = |approver: &str| Decision {
        order_id: anna_order.to_string(),
        step: 0,
        submission: 1,
        approver: approver.to_owned(),
        verdict: Verdict::Approve,
        reason: String::new(),
        decided_at: fieldsync_core::clock::now_ms(),
    };
    let order_for = |owner: &str, store: &DocumentId| Order {
        owner: owner.to_owned(),
        store_id: store.to_string(),
        ..order_a.clone()
    };
    let inspection_for = |owner: &str, store: &DocumentId| Inspection {
        owner: owner.to_owned(),
        store_id: store.to_string(),
        ..inspection.clone()
    };
    let hq_id = hq.session.user_id.clone();
    let sam_id = sam.session.user_id.clone();

    // (caller, a legitimate push of theirs, forgeries)
    let cases: Vec<(&Phone, Push, Vec<Forgery>)> = vec![
        (
            &anna,
            created(&order_for(&anna_id, &anna_store)).1,
            vec![
                Forgery { what: "an order owned by another rep", push: created(&order_for(&ben_id, &ben_store)).1 },
                Forgery {
                    what: "an own order for another rep's store",
                    push: created(&order_for(&anna_id, &ben_store)).1,
                },
                Forgery { what: "an order review", push: created(&review(&anna_id)).1 },
                Forgery { what: "a catalog edit", push: edited::<Catalog>(&relay, &catalog_id, |c| c.version += 1) },
                Forgery {
                    what: "an edit of the rep's own store",
                    push: edited::<RetailStore>(&relay, &anna_store, |s| s.name.push('!')),
                },
                Forgery { what: "an inspection", push: created(&inspection_for(&anna_id, &anna_store)).1 },
                Forgery { what: "a decision", push: created(&decision(&anna_id)).1 },
                Forgery {
                    what: "an inventory edit",
                    push: edited::<Inventory>(&relay, &inventory_id, |i| i.as_of += 1),
                },
                Forgery {
                    what: "a change to another rep's existing order",
                    push: edited::<Order>(&relay, &ben_order, |o| o.notes = "hijacked".to_owned()),
                },
            ],
        ),
        (
            &sue,
            created(&inspection_for(&sue.session.user_id, &anna_store)).1,
            vec![
                Forgery {
                    what: "an order by a supervisor",
                    push: created(&order_for(&sue.session.user_id, &anna_store)).1,
                },
                Forgery {
                    what: "an inspection owned by another supervisor",
                    push: created(&inspection_for(&sam_id, &anna_store)).1,
                },
                Forgery {
                    what: "a template edit",
                    push: edited::<Template>(&relay, &template_id, |t| t.name.push('!')),
                },
                Forgery {
                    what: "a change to a rep's order",
                    push: edited::<Order>(&relay, &anna_order, |o| o.notes = "by the supervisor".to_owned()),
                },
            ],
        ),
        (
            &sam,
            created(&inspection_for(&sam_id, &south_store)).1,
            vec![Forgery {
                what: "an inspection at another region's store",
                push: created(&inspection_for(&sam_id, &anna_store)).1,
            }],
        ),
        (
            &manager,
            created(&decision(&manager.session.user_id)).1,
            vec![
                Forgery { what: "a decision in someone else's name", push: created(&decision(&hq_id)).1 },
                Forgery { what: "an order review", push: created(&review(&anna_id)).1 },
                Forgery {
                    what: "a change to a rep's order in the region",
                    push: edited::<Order>(&relay, &anna_order, |o| o.notes = "by the manager".to_owned()),
                },
            ],
        ),
        (
            &hq,
            edited::<Catalog>(&relay, &catalog_id, |c| c.version += 1),
            vec![
                Forgery { what: "an order in a rep's name", push: created(&order_for(&anna_id, &anna_store)).1 },
                Forgery { what: "an order review", push: created(&review(&anna_id)).1 },
                Forgery {
                    what: "a change to a rep's order",
                    push: edited::<Order>(&relay, &anna_order, |o| o.notes = "by hq".to_owned()),
                },
                Forgery {
                    what: "an inspection in a supervisor's name",
                    push: created(&inspection_for(&sam_id, &south_store)).1,
                },
            ],
        ),
    ];

    for (caller, legit, forgeries) in cases {
        let who = caller.session.role.clone();
        let before: Vec<_> = forgeries.iter().map(|f| snapshot_of(&relay, &f.push.doc)).collect();
        let position = relay.feed_position();
        let mut pushes = vec![legit.clone()];
        pushes.extend(forgeries.iter().map(|f| f.push.clone()));
        let request = SyncRequest { cursor: position, pushes, ..Default::default() };
        let response = sync_round(&relay.base_url, &caller.session.token, &request);
        assert_eq!(
            response.accepted,
            vec![legit.doc.clone()],
            "{who}: the legitimate push must be accepted: {response:?}"
        );
        assert!(relay.stored(&legit.doc).is_some(), "{who}: the legitimate push is not stored");
        assert_eq!(relay.feed_position(), position + 1, "{who}: only the legitimate push may enter the feed");
        for (forgery, before) in forgeries.iter().zip(before) {
            let rejection = response
                .rejected
                .iter()
                .find(|r| r.doc == forgery.push.doc)
                .unwrap_or_else(|| panic!("{who}: {} was not rejected: {response:?}", forgery.what));
            assert_eq!(rejection.code, "forbidden", "{who}: {}: {rejection:?}", forgery.what);
            assert!(!rejection.reason.is_empty());
            assert_eq!(snapshot_of(&relay, &forgery.push.doc), before, "{who}: {} changed the relay", forgery.what);
        }
        assert_eq!(response.rejected.len(), forgeries.len(), "{who}: {response:?}");
    }
}

#[test]
fn a_device_quarantines_what_the_relay_refuses_keeps_syncing_its_other_documents_and_does_not_loop() {
    let relay = Relay::start();
    let reps = relay.users(Role::Rep, Some("north"));
    let (anna, ben) = (relay.phone(&reps[0]), relay.phone(&reps[1]));
    anna.sync();
    ben.sync();
    let ben_order = new_order(&ben);
    ben.sync();
    let ben_before = snapshot_of(&relay, &ben_order).unwrap();

    let legit_first = new_order(&anna);
    // Ben's order reaches Anna's phone somehow, and her phone is tampered with to write as Ben.
    let me = anna.store.identity().unwrap();
    anna.store.receive_changes(&ben_order, &relay.stored(&ben_order).unwrap().snapshot).unwrap();
    anna.store.set_identity(&Identity { user_id: ben.session.user_id.clone(), ..me.clone() }).unwrap();
    anna.store.set_notes(&ben_order, "hijacked").unwrap();
    let forged_owner = new_order(&anna);
    anna.store.set_identity(&me).unwrap();
    // A rep's phone checking in at a store: inspections are for supervisors.
    let rep_inspection = check_in(&anna, 0);
    let legit_second = new_order(&anna);

    let position = relay.feed_position();
    let report = anna.sync();
    assert_eq!(report.rejected, 3, "{report:?}");
    assert_eq!(report.accepted, 2, "{report:?}");
    let mut quarantined: Vec<DocumentId> = anna.store.quarantined().unwrap().into_iter().map(|q| q.id).collect();
    quarantined.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut expected = vec![ben_order.clone(), forged_owner.clone(), rep_inspection.clone()];
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(quarantined, expected);
    assert!(anna.store.quarantined().unwrap().iter().all(|q| q.code == "forbidden" && !q.reason.is_empty()));
    assert!(relay.stored(&forged_owner).is_none());
    assert!(relay.stored(&rep_inspection).is_none());
    assert_eq!(snapshot_of(&relay, &ben_order).unwrap(), ben_before, "ben's order was changed by anna");
    assert!(relay.stored(&legit_first).is_some() && relay.stored(&legit_second).is_some());
    assert_eq!(relay.feed_position(), position + 2);
    assert!(anna.store.pending_documents().unwrap().is_empty());
    assert_eq!(anna.engine.status().unwrap().quarantined, 3);

    // Quiet afterwards: no push, no rejection, one small round trip.
    let again = anna.sync();
    assert_eq!((again.rounds, again.accepted, again.rejected), (1, 0, 0), "{again:?}");
    // And the next real change still goes through.
    anna.store.set_notes(&legit_first, "call before delivery").unwrap();
    let next = anna.sync();
    assert_eq!((next.accepted, next.rejected), (1, 0), "{next:?}");
    ben.sync();
    assert_eq!(ben.store.order(&ben_order).unwrap().notes, "", "ben's phone got anna's forged note");
}

#[test]
fn photos_are_served_only_to_readers_of_an_inspection_that_references_them_and_reps_cannot_upload() {
    let relay = Relay::start();
    let sue = relay.phone("supervisor-north");
    sue.sync();
    let inspection = check_in(&sue, 0);
    let template = sue.store.templates().unwrap()[0].1.clone();
    let item = template.items_in_order()[0].0.clone();
    let bytes = photo_fixture("hopper.jpg");
    let capture = PhotoCapture { captured_at: fieldsync_core::clock::now_ms(), position: None };
    let added = sue.store.add_photo(&inspection, &item, &bytes, capture).unwrap();
    let report = sue.sync();
    assert_eq!(report.photos_uploaded, 1, "{report:?}");
    let sha = added.reference.sha256;
    let url = format!("{}/v1/blobs/{sha}", relay.base_url);
    let stored = sue.store.photo_bytes(&sha).unwrap();

    let (other_hq, _) = other_tenant(&relay);
    let rep = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    let south = relay.phone("supervisor-south");
    let south_manager_free = relay.phone("manager-north");
    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    for (who, token) in [
        ("a rep", &rep.session.token),
        ("another region's supervisor", &south.session.token),
        ("another tenant", &other_hq),
    ] {
        let answer = http("GET", &url, Some(token), &[], vec![]);
        assert_eq!((answer.status, answer.error_code().as_str()), (404, "not-found"), "GET by {who}");
        assert_eq!(http("GET", &format!("{url}?thumb=1"), Some(token), &[], vec![]).status, 404, "thumbnail for {who}");
    }
    for (who, token) in [("the region's manager", &south_manager_free.session.token), ("hq", &hq.session.token)] {
        let answer = http("GET", &url, Some(token), &[], vec![]);
        assert_eq!(answer.status, 200, "GET by {who}");
        assert_eq!(answer.body, stored, "bytes served to {who}");
        assert_eq!(http("HEAD", &url, Some(token), &[], vec![]).status, 200, "HEAD by {who}");
    }
    let put = http("PUT", &url, Some(&rep.session.token), &[("content-type", "image/jpeg")], stored.clone());
    assert_eq!(put.status, 403);
    assert_eq!(put.error_code(), "forbidden");
    let other = fieldsync_server::blobs::sha256_hex(&bytes);
    let put = http("PUT", &format!("{}/v1/blobs/{other}", relay.base_url), Some(&rep.session.token), &[], bytes);
    assert_eq!(put.status, 403);
    assert_eq!(
        http("HEAD", &format!("{}/v1/blobs/{other}", relay.base_url), Some(&hq.session.token), &[], vec![]).status,
        404
    );
}

#[test]
fn head_does_not_reveal_a_photo_to_an_uploader_who_may_not_read_it() {
    let relay = Relay::start();
    let sue = relay.phone("supervisor-north");
    sue.sync();
    let inspection = check_in(&sue, 0);
    let item = sue.store.templates().unwrap()[0].1.items_in_order()[0].0.clone();
    let capture = PhotoCapture { captured_at: fieldsync_core::clock::now_ms(), position: None };
    let added = sue.store.add_photo(&inspection, &item, &photo_fixture("hopper.jpg"), capture).unwrap();
    assert_eq!(sue.sync().photos_uploaded, 1);
    let url = format!("{}/v1/blobs/{}", relay.base_url, added.reference.sha256);
    let south = relay.phone("supervisor-south");
    let (other_hq, _) = other_tenant(&relay);
    assert_eq!(http("HEAD", &url, Some(&sue.session.token), &[], vec![]).status, 200);
    for (who, token) in [("another region's supervisor", &south.session.token), ("another tenant's hq", &other_hq)] {
        assert_eq!(http("HEAD", &url, Some(token), &[], vec![]).status, 404, "HEAD by {who}");
    }
}

#[test]
fn the_json_api_answers_404_outside_the_callers_scope_and_lists_only_the_callers_documents() {
    let relay = Relay::start();
    let reps = relay.users(Role::Rep, Some("north"));
    let (anna, ben) = (relay.phone(&reps[0]), relay.phone(&reps[1]));
    let south_rep = relay.phone(&relay.users(Role::Rep, Some("south"))[0]);
    let sue = relay.phone("supervisor-north");
    let manager = relay.phone("manager-north");
    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    for phone in [&anna, &ben, &south_rep] {
        phone.sync();
    }
    let (a, b, s) = (new_order(&anna), new_order(&ben), new_order(&south_rep));
    for phone in [&anna, &ben, &south_rep] {
        phone.sync();
    }
    let doc = |phone: &Phone, id: &DocumentId| {
        http("GET", &format!("{}/v1/docs/{id}", relay.base_url), Some(&phone.session.token), &[], vec![])
    };
    let own = doc(&anna, &a);
    assert_eq!(own.status, 200);
    assert_eq!(own.json()["id"], a.as_str());
    assert_eq!(own.json()["kind"], "order");
    assert_eq!(own.json()["document"]["owner"], anna.session.user_id.as_str());
    for (phone, id, who) in [
        (&anna, &b, "a rep reading another rep's order"),
        (&ben, &a, "the other way round"),
        (&sue, &a, "a supervisor reading an order"),
        (&manager, &s, "a manager reading another region's order"),
    ] {
        let answer = doc(phone, id);
        assert_eq!(answer.status, 404, "{who}");
        assert_eq!(answer.error_code(), "not-found", "{who}");
    }
    let unknown = doc(&hq, &DocumentId::random());
    assert_eq!((unknown.status, unknown.error_code().as_str()), (404, "not-found"));
    assert_eq!(doc(&manager, &a).status, 200);
    assert_eq!(doc(&hq, &s).status, 200);

    let listed = |phone: &Phone, what: &str| -> Vec<(String, String)> {
        let answer = http("GET", &format!("{}/v1/{what}", relay.base_url), Some(&phone.session.token), &[], vec![]);
        assert_eq!(answer.status, 200);
        let json = answer.json();
        let mut items: Vec<(String, String)> = json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["id"].as_str().unwrap().to_owned(), i["owner"].as_str().unwrap_or("").to_owned()))
            .collect();
        items.sort();
        items
    };
    let sorted = |mut v: Vec<(String, String)>| {
        v.sort();
        v
    };
    let entry = |id: &DocumentId, phone: &Phone| (id.to_string(), phone.session.user_id.clone());
    assert_eq!(listed(&anna, "orders"), vec![entry(&a, &anna)]);
    assert_eq!(listed(&ben, "orders"), vec![entry(&b, &ben)]);
    assert_eq!(listed(&manager, "orders"), sorted(vec![entry(&a, &anna), entry(&b, &ben)]));
    assert_eq!(listed(&hq, "orders"), sorted(vec![entry(&a, &anna), entry(&b, &ben), entry(&s, &south_rep)]));
    assert!(listed(&sue, "orders").is_empty());
    assert!(listed(&anna, "inspections").is_empty());
}

/// A second tenant with an HQ user and a rep; returns their tokens.
fn other_tenant(relay: &Relay) -> (String, String) {
    let storage = relay.state.storage.as_ref();
    let cost = PasswordCost::insecure_for_tests();
    relay.block_on(async {
        if storage.find_tenant("acme").await.unwrap().is_none() {
            accounts::create_tenant(storage, "acme").await.unwrap();
            for (username, role, region) in [("boss", Role::Hq, None), ("rep-x", Role::Rep, Some("north"))] {
                let account =
                    NewAccount { tenant: "acme", username, display_name: "", password: "acme-password", role, region };
                accounts::create_user(storage, cost, account).await.unwrap();
            }
        }
    });
    let token = |username: &str| {
        fieldsync_core::sync::login(&relay.base_url, "acme", username, "acme-password", "acme phone").unwrap().token
    };
    (token("boss"), token("rep-x"))
}

#[test]
fn another_tenant_can_neither_read_nor_write_this_tenants_documents() {
    let relay = Relay::start();
    let anna = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    anna.sync();
    let order = new_order(&anna);
    anna.sync();
    let before = snapshot_of(&relay, &order).unwrap();
    let demo_position = relay.feed_position();
    let (boss, rep_x) = other_tenant(&relay);
    let acme = relay.block_on(relay.state.storage.find_tenant("acme")).unwrap().unwrap().id;

    for token in [&boss, &rep_x] {
        let answer = http("GET", &format!("{}/v1/docs/{order}", relay.base_url), Some(token), &[], vec![]);
        assert_eq!((answer.status, answer.error_code().as_str()), (404, "not-found"));
        let list = http("GET", &format!("{}/v1/orders", relay.base_url), Some(token), &[], vec![]);
        assert_eq!(list.json()["items"], serde_json::json!([]));
        // A first sync of the other tenant brings nothing of this one.
        let response = sync_round(&relay.base_url, token, &SyncRequest::default());
        assert!(response.updates.is_empty(), "{response:?}");
        assert!(response.manifest.unwrap_or_default().is_empty());
        // Nor can it write this tenant's order, even holding its bytes.
        let push = edited::<Order>(&relay, &order, |o| o.notes = "from acme".to_owned());
        let whole = Push { doc: order.clone(), changes: relay.stored(&order).unwrap().snapshot };
        // Only the new change: the relay lacks what it builds on, so it asks for a repair (it must
        // never acknowledge it as stored).
        let response = sync_round(&relay.base_url, token, &SyncRequest { pushes: vec![push], ..Default::default() });
        assert!(response.accepted.is_empty(), "a change the relay could not apply was acknowledged: {response:?}");
        assert_eq!(response.resync, vec![order.clone()], "{response:?}");
        // The whole document: refused outright.
        let response = sync_round(&relay.base_url, token, &SyncRequest { pushes: vec![whole], ..Default::default() });
        assert!(response.accepted.is_empty(), "{response:?}");
        assert_eq!(response.rejected.len(), 1, "{response:?}");
        assert_eq!(response.rejected[0].code, "forbidden", "{response:?}");
    }
    assert_eq!(snapshot_of(&relay, &order).unwrap(), before);
    assert_eq!(relay.feed_position(), demo_position);
    assert!(relay.block_on(relay.state.storage.load_doc(acme, &order)).unwrap().is_none());
    assert_eq!(relay.block_on(relay.state.storage.feed_position(acme)).unwrap(), 0);
}

#[test]
fn reassigning_a_store_purges_it_from_the_old_reps_phone_and_delivers_it_to_the_new_one() {
    let relay = Relay::start();
    let reps = relay.users(Role::Rep, Some("north"));
    let (anna, ben) = (relay.phone(&reps[0]), relay.phone(&reps[1]));
    anna.sync();
    ben.sync();
    let order = new_order(&anna);
    anna.sync();
    let (store_id, _) = anna.store.stores().unwrap().into_iter().next().unwrap();
    assert!(!ben.store.stores().unwrap().iter().any(|(id, _)| *id == store_id));
    let anna_stores = anna.store.stores().unwrap().len();
    let ben_stores = ben.store.stores().unwrap().len();

    let new_rep = ben.session.user_id.clone();
    relay
        .block_on(fieldsync_server::documents::edit_as_relay::<RetailStore, _, _>(
            relay.state.storage.as_ref(),
            relay.tenant_id(),
            &store_id,
            move |store| {
                store.rep = new_rep.clone();
                Ok(())
            },
        ))
        .unwrap();

    let report = anna.sync();
    assert!(report.purged >= 1, "{report:?}");
    assert!(anna.store.get::<RetailStore>(&store_id).is_err(), "anna still holds the store");
    assert_eq!(anna.store.stores().unwrap().len(), anna_stores - 1);
    assert!(anna.store.order(&order).is_ok(), "anna's own order stays with her");
    ben.sync();
    assert_eq!(ben.store.get::<RetailStore>(&store_id).unwrap().rep, ben.session.user_id);
    assert_eq!(ben.store.stores().unwrap().len(), ben_stores + 1);
    // The relay's own writes (the order's review, the alert evaluation it queues) settle first.
    assert!(relay.wait_for_jobs(std::time::Duration::from_secs(30)), "the relay's jobs did not finish");
    for phone in [&anna, &ben] {
        phone.sync();
    }
    for phone in [&anna, &ben] {
        let held: Vec<DocumentId> = phone.documents().into_iter().map(|(id, _)| id).collect();
        assert_eq!(held, relay.scope_ids(&phone.username));
        assert_eq!(phone.sync().rounds, 1, "quiet after the purge");
    }
}
