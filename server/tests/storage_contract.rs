//! The storage contract: one test body per behaviour, run against SQLite and against PostgreSQL,
//! so the two backends cannot drift apart. Then what only several PostgreSQL nodes can show:
//! writes heard across nodes (also after the `LISTEN` connection dropped), jobs leased once,
//! one winner when two nodes write one document, migrations run once when nodes start together,
//! login limits shared.
//!
//! PostgreSQL: `FIELDSYNC_TEST_DATABASE` (a server URL; each test creates and drops a database of
//! its own there), else `postgres://postgres@127.0.0.1:5432/postgres`. When that default server
//! cannot be reached, the PostgreSQL variants say SKIPPED loudly and pass; when the variable is
//! set, an unreachable server fails them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[macro_use]
mod common;

use common::PgDatabase;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use automerge::Automerge;
use fieldsync_core::doc::{Inbox, RetailStore};
use fieldsync_core::scoring::EarlierPhoto;
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocKind, DocumentId, Role};
use fieldsync_server::Error;
use fieldsync_server::config::LoginLimits;
use fieldsync_server::documents::{create_as_relay, edit_as_relay};
use fieldsync_server::error::{Refusal, RefusalKind};
use fieldsync_server::events::EventType;
use fieldsync_server::scope::Scope;
use fieldsync_server::services::accounts::{LoginFailureStore, LoginLimiter, resolve_session};
use fieldsync_server::storage::postgres::{PostgresStorage, SCHEMA_VERSION};
use fieldsync_server::storage::{
    CompletedBlob, DailySale, DocMeta, DocStore, DocWrite, ImportBatchRecord, ImportCounts, ImportProgress, ImportRun,
    ImportRunEnd, Job, JobKinds, JobStore, NewApiKey, NewImportRun, NewJob, NewSession, NewUser, ReservationChange,
    ReservationsAt, RowBatch, Storage, WebhookSettings, WriteOutcome,
};

// ---------------------------------------------------------------------------------------------
// Backends

// ---------------------------------------------------------------------------------------------
// Helpers

fn head(n: u8) -> Head {
    [n; 32]
}

fn meta(kind: DocKind, owner: Option<&str>, region: Option<&str>) -> DocMeta {
    DocMeta {
        kind,
        owner: owner.map(str::to_owned),
        store_id: None,
        region: region.map(str::to_owned),
        subject_id: None,
        status: None,
    }
}

/// A write with opaque bytes: storage never reads a snapshot or changes.
fn write(id: &DocumentId, meta: DocMeta, expected: Vec<Head>, heads: Vec<Head>, changes: &[u8]) -> DocWrite {
    DocWrite {
        id: id.clone(),
        meta,
        expected_heads: expected,
        snapshot: [b"snapshot:".as_slice(), changes].concat(),
        heads,
        changes: changes.to_vec(),
        origin_device: None,
        new_actors: Vec::new(),
        blobs: Vec::new(),
        job: None,
        read_model: Vec::new(),
        events: Vec::new(),
    }
}

fn from_device(mut write: DocWrite, device: &str) -> DocWrite {
    write.origin_device = Some(device.to_owned());
    write
}

async fn tenant(storage: &dyn Storage, name: &str) -> i64 {
    storage.create_tenant(name, "UTC", "USD", 1).await.unwrap().id
}

fn new_user(username: &str) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: String::new(),
        password_hash: "hash".into(),
        role: Role::Rep,
        region: Some("north".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The contract

on_both_backends!(tenants_users_devices_and_sessions);
async fn tenants_users_devices_and_sessions(storage: &dyn Storage) {
    storage.ping().await.unwrap();
    let acme = storage.create_tenant("acme", "Europe/Berlin", "EUR", 1).await.unwrap();
    assert!(matches!(
        storage.create_tenant("acme", "UTC", "USD", 2).await,
        Err(Error::Refused(Refusal { kind: RefusalKind::Conflict, .. }))
    ));
    assert_eq!(storage.find_tenant("acme").await.unwrap(), Some(acme.clone()));
    assert!(storage.find_tenant("nobody").await.unwrap().is_none());
    let ben = storage.create_user(acme.id, new_user("ben"), 3).await.unwrap();
    let anna = storage.create_user(acme.id, new_user("anna"), 3).await.unwrap();
    assert!(matches!(
        storage.create_user(acme.id, new_user("anna"), 4).await,
        Err(Error::Refused(Refusal { kind: RefusalKind::Conflict, .. }))
    ));
    assert_eq!(storage.find_user(acme.id, &anna.id).await.unwrap(), Some(anna.clone()));
    assert_eq!(storage.find_user_by_username(acme.id, "anna").await.unwrap(), Some(anna.clone()));
    let names: Vec<String> = storage.list_users(acme.id).await.unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["anna", "ben"]);
    let globex = storage.create_tenant("globex", "UTC", "USD", 5).await.unwrap();
    assert!(storage.find_user_by_username(globex.id, "anna").await.unwrap().is_none());
    // A tenant keeps its time zone and currency, found by name or id, and changes them in place.
    assert_eq!((acme.time_zone.as_str(), acme.currency.as_str()), ("Europe/Berlin", "EUR"));
    assert_eq!(storage.find_tenant_by_id(acme.id).await.unwrap(), Some(acme.clone()));
    storage.set_tenant_locale(globex.id, "Asia/Shanghai", "CNY").await.unwrap();
    let moved = storage.find_tenant("globex").await.unwrap().unwrap();
    assert_eq!((moved.time_zone.as_str(), moved.currency.as_str()), ("Asia/Shanghai", "CNY"));
    assert_eq!(storage.find_tenant("acme").await.unwrap(), Some(acme.clone()), "other tenants keep theirs");
    assert!(matches!(storage.set_tenant_locale(999_999, "UTC", "USD").await, Err(Error::NotFound { .. })));
    assert!(storage.find_tenant_by_id(999_999).await.unwrap().is_none());
    assert!(matches!(storage.set_password_hash(acme.id, "nope", "h").await, Err(Error::NotFound { .. })));
    storage.set_password_hash(acme.id, &anna.id, "h2").await.unwrap();
    assert_eq!(storage.find_user(acme.id, &anna.id).await.unwrap().unwrap().password_hash, "h2");

    let phone = storage.register_device(acme.id, &anna.id, "phone", 10).await.unwrap();
    let tablet = storage.register_device(acme.id, &anna.id, "tablet", 20).await.unwrap();
    let session = |hash: &str, device: &str| NewSession {
        token_hash: hash.into(),
        tenant_id: acme.id,
        user_id: anna.id.clone(),
        device_id: device.into(),
        created_at: 1,
        expires_at: 100,
    };
    storage.create_session(session("h1", &phone.id)).await.unwrap();
    storage.create_session(session("h2", &tablet.id)).await.unwrap();
    storage.create_session(session("h3", &tablet.id)).await.unwrap();
    let caller = resolve_session(storage, "h1", 50).await.unwrap();
    assert_eq!((caller.tenant.as_str(), caller.user_id.as_str()), ("acme", anna.id.as_str()));
    assert!(matches!(resolve_session(storage, "h1", 100).await, Err(Error::Unauthenticated(_))));
    assert!(matches!(resolve_session(storage, "unknown", 1).await, Err(Error::Unauthenticated(_))));

    storage.touch_device(acme.id, &phone.id, 42).await.unwrap();
    let devices = storage.list_devices(acme.id, &anna.id).await.unwrap();
    assert_eq!(devices.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["tablet", "phone"]);
    assert_eq!(devices[1].last_seen_at, Some(42));

    assert!(storage.revoke_session("h3", 60).await.unwrap());
    assert!(!storage.revoke_session("h3", 61).await.unwrap(), "revoking twice revokes nothing");
    assert_eq!(storage.revoke_device_sessions(acme.id, &tablet.id, 62).await.unwrap(), 1);
    storage.revoke_device(acme.id, &phone.id, 63).await.unwrap();
    storage.revoke_device(acme.id, &phone.id, 99).await.unwrap();
    // A revoked device's session is refused as revoked: the phone erases its data on it.
    assert!(matches!(resolve_session(storage, "h1", 64).await, Err(Error::Revoked(_))));
    let phone_now = storage.list_devices(acme.id, &anna.id).await.unwrap().into_iter().find(|d| d.id == phone.id);
    assert_eq!(phone_now.unwrap().revoked_at, Some(63), "the first revocation time stays");
    assert!(matches!(storage.revoke_device(acme.id, "nope", 1).await, Err(Error::NotFound { .. })));
    assert!(matches!(storage.revoke_device(globex.id, &tablet.id, 1).await, Err(Error::NotFound { .. })));

    let ben_phone = storage.register_device(acme.id, &ben.id, "phone", 1).await.unwrap();
    let mut ben_session = session("h4", &ben_phone.id);
    ben_session.user_id = ben.id.clone();
    storage.create_session(ben_session).await.unwrap();
    storage.disable_user(acme.id, &ben.id, 70).await.unwrap();
    assert!(matches!(resolve_session(storage, "h4", 71).await, Err(Error::Revoked(r)) if r.contains("disabled")));
    assert_eq!(storage.revoke_user_sessions(acme.id, &ben.id, 72).await.unwrap(), 0, "disabling revoked them");
    assert!(matches!(storage.disable_user(acme.id, "nope", 1).await, Err(Error::NotFound { .. })));
}

on_both_backends!(a_write_on_stale_heads_conflicts_and_changes_nothing);
async fn a_write_on_stale_heads_conflicts_and_changes_nothing(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let other = tenant(storage, "globex").await;
    let (id, fresh) = (DocumentId::random(), DocumentId::random());
    let order = || meta(DocKind::Order, Some("u1"), Some("north"));
    let mut first = from_device(write(&id, order(), vec![], vec![head(1)], b"c1"), "dev-a");
    first.new_actors = vec![b"actor-1".to_vec()];
    assert_eq!(storage.write_doc(t, first).await.unwrap(), WriteOutcome::Stored(1));

    // Created twice, written on heads it never had, or with no heads at all: conflicts.
    let conflicts = [
        write(&id, order(), vec![], vec![head(9)], b"x"),
        write(&id, order(), vec![head(7)], vec![head(9)], b"x"),
        write(&fresh, order(), vec![head(1)], vec![head(9)], b"x"),
    ];
    for conflict in conflicts {
        assert_eq!(storage.write_doc(t, conflict).await.unwrap(), WriteOutcome::Conflict);
    }
    assert_eq!(storage.feed_position(t).await.unwrap(), 1, "a conflict takes no feed position");
    assert!(storage.load_doc(t, &fresh).await.unwrap().is_none());

    let second = from_device(write(&id, order(), vec![head(1)], vec![head(3), head(2)], b"c2"), "dev-b");
    assert_eq!(storage.write_doc(t, second).await.unwrap(), WriteOutcome::Stored(2));
    let stored = storage.load_doc(t, &id).await.unwrap().unwrap();
    assert_eq!(stored.heads, vec![head(2), head(3)], "heads come back sorted");
    assert_eq!((stored.created_seq, stored.updated_seq), (1, 2));
    assert_eq!(stored.snapshot, b"snapshot:c2");
    assert_eq!(stored.meta, order());
    // Heads compare as a set: the order the writer lists them in does not matter.
    let third = write(&id, order(), vec![head(3), head(2)], vec![head(4)], b"c3");
    assert_eq!(storage.write_doc(t, third).await.unwrap(), WriteOutcome::Stored(3));

    // An actor belongs to the device that first used it: another device's write is refused whole.
    let mut stolen = from_device(write(&fresh, order(), vec![], vec![head(5)], b"c4"), "dev-b");
    stolen.new_actors = vec![b"actor-1".to_vec()];
    assert!(matches!(storage.write_doc(t, stolen).await, Err(Error::Forbidden(_))));
    assert!(storage.load_doc(t, &fresh).await.unwrap().is_none());
    assert_eq!(storage.feed_position(t).await.unwrap(), 3);
    let bound = storage.actor_devices(t, vec![b"unknown".to_vec(), b"actor-1".to_vec()]).await.unwrap();
    assert_eq!(bound, vec![(b"actor-1".to_vec(), "dev-a".to_owned())]);
    assert!(storage.actor_devices(other, vec![b"actor-1".to_vec()]).await.unwrap().is_empty());

    // Tenants are apart: positions, documents.
    assert!(storage.load_doc(other, &id).await.unwrap().is_none());
    assert_eq!(storage.feed_position(other).await.unwrap(), 0);
    let elsewhere = write(&id, order(), vec![], vec![head(1)], b"o1");
    assert_eq!(storage.write_doc(other, elsewhere).await.unwrap(), WriteOutcome::Stored(1));
}

on_both_backends!(the_feed_leaves_out_a_devices_own_changes_and_sends_new_documents_whole);
async fn the_feed_leaves_out_a_devices_own_changes_and_sends_new_documents_whole(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let id = DocumentId::random();
    let m = || meta(DocKind::Catalog, None, None);
    storage.write_doc(t, from_device(write(&id, m(), vec![], vec![head(1)], b"c1"), "dev-a")).await.unwrap();
    storage.write_doc(t, from_device(write(&id, m(), vec![head(1)], vec![head(2)], b"c2"), "dev-b")).await.unwrap();
    storage.write_doc(t, from_device(write(&id, m(), vec![head(2)], vec![head(3)], b"c3"), "dev-a")).await.unwrap();
    let hq = Scope { role: Role::Hq, user_id: "hq".into(), region: None };

    let page = storage.feed(t, &hq, 0, "dev-a", usize::MAX).await.unwrap();
    assert_eq!(page.updates, vec![(id.clone(), b"c2".to_vec())], "dev-a created it: only others' changes");
    assert_eq!((page.cursor, page.more), (3, false));
    let page = storage.feed(t, &hq, 0, "dev-b", usize::MAX).await.unwrap();
    assert_eq!(page.updates, vec![(id.clone(), b"snapshot:c3".to_vec())], "new to dev-b: the whole document");
    let page = storage.feed(t, &hq, 1, "dev-b", usize::MAX).await.unwrap();
    assert_eq!(page.updates, vec![(id.clone(), b"c3".to_vec())]);
    let page = storage.feed(t, &hq, 1, "dev-c", usize::MAX).await.unwrap();
    assert_eq!(page.updates, vec![(id.clone(), b"c2c3".to_vec())], "changes concatenated in feed order");
    let page = storage.feed(t, &hq, 3, "dev-c", usize::MAX).await.unwrap();
    assert!(page.updates.is_empty());
    assert_eq!((page.cursor, page.more), (3, false));
    // A budget of one byte still makes progress, one entry at a time.
    let page = storage.feed(t, &hq, 0, "dev-c", 1).await.unwrap();
    assert_eq!((page.cursor, page.more), (1, true));
}

on_both_backends!(feed_pages_cut_by_any_budget_still_deliver_every_change_of_every_document);
async fn feed_pages_cut_by_any_budget_still_deliver_every_change_of_every_document(storage: &dyn Storage) {
    let store = |n: usize| RetailStore {
        name: format!("Shop {n}"),
        code: String::new(),
        address: "Main St".into(),
        customer_id: format!("C{n}"),
        region: "north".into(),
        tier: "B".into(),
        latitude: 52.0,
        longitude: 4.0,
        geofence_m: 0.0,
        rep: "rep-a".into(),
        supervisor: "sup".into(),
        active: true,
    };
    let tenant = tenant(storage, "acme").await;
    // Documents created early and edited late, interleaved, so that a page cut anywhere falls
    // between a document's creation and its later edits.
    let mut ids: Vec<DocumentId> = Vec::new();
    for n in 0..12 {
        ids.push(create_as_relay(storage, tenant, &store(n)).await.unwrap());
    }
    for round in 0..3 {
        for (n, id) in ids.iter().enumerate().rev() {
            edit_as_relay(storage, tenant, id, |s: &mut RetailStore| {
                s.address = format!("{round} Market Square {n}");
                Ok(())
            })
            .await
            .unwrap();
        }
    }
    let inbox =
        create_as_relay(storage, tenant, &Inbox { owner: "rep-b".into(), alerts: Default::default() }).await.unwrap();
    let scope = Scope { role: Role::Rep, user_id: "rep-a".into(), region: Some("north".into()) };
    for budget in [1, 300, 2_000, usize::MAX] {
        let mut device: HashMap<DocumentId, Automerge> = HashMap::new();
        let mut cursor = 0;
        for _ in 0..500 {
            let page = storage.feed(tenant, &scope, cursor, "some-device", budget).await.unwrap();
            for (id, bytes) in page.updates {
                device.entry(id).or_default().load_incremental(&bytes).unwrap();
            }
            assert!(page.cursor >= cursor, "the cursor went back");
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        assert_eq!(cursor, storage.feed_position(tenant).await.unwrap(), "budget {budget}");
        assert!(!device.contains_key(&inbox), "another user's inbox was sent");
        for id in &ids {
            let stored = storage.load_doc(tenant, id).await.unwrap().unwrap();
            let relay = Automerge::load(&stored.snapshot).unwrap();
            let held = device.get(id).unwrap_or_else(|| panic!("budget {budget}: document {id} never arrived"));
            assert_eq!(held.get_heads(), relay.get_heads(), "budget {budget}: document {id} is incomplete");
        }
    }
}

on_both_backends!(scope_queries_answer_what_scope_contains_for_every_role);
async fn scope_queries_answer_what_scope_contains_for_every_role(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let sha = "ab".repeat(32);
    // Uploaded by u1, who cites it in their order below: readable wherever that order is.
    let photo =
        CompletedBlob { size: 10, width: 3, height: 2, device_id: "d1".into(), user_id: "u1".into(), now_ms: 1 };
    storage.complete_blob(t, &sha, photo).await.unwrap();
    let docs: Vec<(DocumentId, DocMeta)> = [
        meta(DocKind::Order, Some("u1"), Some("north")),
        meta(DocKind::Order, Some("u2"), Some("south")),
        meta(DocKind::OrderReview, Some("u1"), Some("north")),
        meta(DocKind::Inventory, None, Some("north")),
        meta(DocKind::Inventory, None, Some("south")),
        meta(DocKind::Catalog, None, None),
        meta(DocKind::Inbox, Some("u2"), None),
        meta(DocKind::Inspection, Some("s1"), Some("north")),
        meta(DocKind::Decision, Some("m1"), Some("north")),
        meta(DocKind::Store, Some("u1"), Some("north")),
    ]
    .into_iter()
    .map(|m| (DocumentId::random(), m))
    .collect();
    for (n, (id, m)) in docs.iter().enumerate() {
        let mut w = write(id, m.clone(), vec![], vec![head(n as u8 + 1)], b"c");
        if m.kind == DocKind::Order && m.owner.as_deref() == Some("u1") {
            w.blobs = vec![sha.clone()];
        }
        storage.write_doc(t, w).await.unwrap();
    }
    let scopes = [
        Scope { role: Role::Rep, user_id: "u1".into(), region: Some("north".into()) },
        Scope { role: Role::Rep, user_id: "u2".into(), region: Some("south".into()) },
        Scope { role: Role::Supervisor, user_id: "s1".into(), region: Some("north".into()) },
        Scope { role: Role::Manager, user_id: "m1".into(), region: Some("north".into()) },
        Scope { role: Role::Manager, user_id: "m2".into(), region: None },
        Scope { role: Role::Hq, user_id: "hq".into(), region: None },
    ];
    for scope in &scopes {
        let expected: BTreeSet<String> =
            docs.iter().filter(|(_, m)| scope.contains(m)).map(|(id, _)| id.to_string()).collect();
        let manifest: BTreeSet<String> =
            storage.manifest(t, scope, &[]).await.unwrap().into_iter().map(|(id, _)| id.to_string()).collect();
        assert_eq!(manifest, expected, "{scope:?}");
        let excluded: Vec<DocumentId> = docs.iter().map(|(id, _)| id.clone()).take(3).collect();
        let without = storage.manifest(t, scope, &excluded).await.unwrap();
        assert!(without.iter().all(|(id, _)| !excluded.contains(id)));
        let orders: BTreeSet<String> = storage
            .list_docs(t, scope, DocKind::Order, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.id.to_string())
            .collect();
        let expected_orders: BTreeSet<String> = docs
            .iter()
            .filter(|(_, m)| m.kind == DocKind::Order && scope.contains(m))
            .map(|(id, _)| id.to_string())
            .collect();
        assert_eq!(orders, expected_orders, "{scope:?}");
        let u1_order = &docs[0].1;
        assert_eq!(storage.blob_visible(t, scope, &sha).await.unwrap(), scope.contains(u1_order), "{scope:?}");
        // The feed, from the start and from midway (document n was written at position n + 1),
        // sends exactly the documents in scope written after the cursor, whole.
        for cursor in [0u64, 5] {
            let page = storage.feed(t, scope, cursor, "a-device", usize::MAX).await.unwrap();
            let fed: BTreeSet<String> = page.updates.iter().map(|(id, _)| id.to_string()).collect();
            let expected: BTreeSet<String> = docs
                .iter()
                .skip(cursor as usize)
                .filter(|(_, m)| scope.contains(m))
                .map(|(id, _)| id.to_string())
                .collect();
            assert_eq!(fed, expected, "{scope:?} after {cursor}");
            assert!(page.updates.iter().all(|(_, bytes)| bytes.starts_with(b"snapshot:")), "{scope:?}");
            assert_eq!((page.cursor, page.more), (storage.feed_position(t).await.unwrap(), false), "{scope:?}");
        }
    }
    // Newest first, at most `limit`.
    let newest = storage.list_docs(t, &scopes[5], DocKind::Inventory, 1).await.unwrap();
    assert_eq!(newest.iter().map(|d| d.id.clone()).collect::<Vec<_>>(), vec![docs[4].0.clone()]);
    let other = tenant(storage, "globex").await;
    assert!(storage.manifest(other, &scopes[5], &[]).await.unwrap().is_empty());
    assert!(!storage.blob_visible(other, &scopes[5], &sha).await.unwrap());
    // A later change to a document goes, as that change only, to the scopes holding it.
    let (inventory, inventory_meta) = &docs[3];
    let edit = write(inventory, inventory_meta.clone(), vec![head(4)], vec![head(11)], b"edit");
    storage.write_doc(t, edit).await.unwrap();
    for scope in &scopes {
        let page = storage.feed(t, scope, docs.len() as u64, "a-device", usize::MAX).await.unwrap();
        let expected =
            if scope.contains(inventory_meta) { vec![(inventory.clone(), b"edit".to_vec())] } else { vec![] };
        assert_eq!(page.updates, expected, "{scope:?}");
    }
}

on_both_backends!(a_lane_takes_only_its_kinds_and_a_renewed_lease_is_not_taken_over);
async fn a_lane_takes_only_its_kinds_and_a_renewed_lease_is_not_taken_over(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    for (kind, key) in [("review-order", "o1"), ("deliver-webhook", "w1"), ("score-inspection", "i1")] {
        assert!(storage.enqueue_job(t, kind, key, "{}", 10).await.unwrap());
    }
    let kinds = |jobs: &[Job]| jobs.iter().map(|j| j.kind.clone()).collect::<Vec<_>>();
    let deliveries = storage.claim_jobs_of("w1", JobKinds::Only(&["deliver-webhook"]), 10, 100, 50).await.unwrap();
    assert_eq!(kinds(&deliveries), ["deliver-webhook"]);
    assert!(storage.claim_jobs_of("w1", JobKinds::Only(&[]), 10, 100, 50).await.unwrap().is_empty());
    let work = storage.claim_jobs_of("w2", JobKinds::AllBut(&["deliver-webhook"]), 10, 100, 50).await.unwrap();
    assert_eq!(kinds(&work), ["review-order", "score-inspection"]);

    // w1 renews its delivery's lease past the first one; another worker's renewal changes nothing.
    storage.renew_job_leases("w1", &[deliveries[0].id], 400).await.unwrap();
    storage.renew_job_leases("w3", &[work[0].id, work[1].id], 400).await.unwrap();
    let after_first_lease = storage.claim_jobs("w3", 10, 200, 50).await.unwrap();
    assert_eq!(kinds(&after_first_lease), ["review-order", "score-inspection"], "only the unrenewed leases ran out");
    let delivery = JobKinds::Only(&["deliver-webhook"]);
    assert!(storage.claim_jobs_of("w4", delivery, 10, 399, 50).await.unwrap().is_empty(), "the renewed lease holds");
    let taken_over = storage.claim_jobs_of("w4", delivery, 10, 400, 50).await.unwrap();
    assert_eq!((kinds(&taken_over), taken_over[0].attempts), (vec!["deliver-webhook".to_owned()], 1));
}

on_both_backends!(jobs_are_queued_once_leased_retried_and_counted);
async fn jobs_are_queued_once_leased_retried_and_counted(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    assert!(storage.enqueue_job(t, "review-order", "d1@h", "{}", 10).await.unwrap());
    assert!(!storage.enqueue_job(t, "review-order", "d1@h", "{\"again\":1}", 10).await.unwrap());
    assert!(storage.enqueue_job(t, "score-inspection", "d1@h", "{}", 5).await.unwrap());
    assert!(storage.enqueue_job(t, "review-order", "later", "{}", 1_000).await.unwrap());
    let claimed = storage.claim_jobs("w1", 10, 100, 50).await.unwrap();
    let keys: Vec<(&str, &str, u32)> = claimed.iter().map(|j| (j.kind.as_str(), j.key.as_str(), j.attempts)).collect();
    assert_eq!(keys, [("score-inspection", "d1@h", 0), ("review-order", "d1@h", 0)], "due jobs, oldest first");
    assert_eq!(claimed[1].payload, "{}", "the first enqueue's payload stays");
    assert!(storage.claim_jobs("w2", 10, 120, 50).await.unwrap().is_empty(), "leased jobs are not handed out");
    // The lease ran out (the worker died): another worker takes them over.
    let again = storage.claim_jobs("w2", 1, 150, 50).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (claimed[0].id, 1));
    storage.complete_job(again[0].id, 160).await.unwrap();
    storage.fail_job(claimed[1].id, "boom", Some(500), 160).await.unwrap();
    let counts = storage.job_counts().await.unwrap();
    assert_eq!((counts.queued, counts.running, counts.done, counts.failed), (2, 0, 1, 0));
    // Busy before a time: the retry at 500 counts from then on, the job queued for 1,000 later.
    let busy = [storage.jobs_before(500).await.unwrap(), storage.jobs_before(501).await.unwrap()];
    assert_eq!((busy, storage.jobs_before(1_001).await.unwrap()), ([0, 1], 2));
    assert!(storage.claim_jobs("w3", 10, 400, 50).await.unwrap().is_empty(), "not before its retry time");
    let retried = storage.claim_jobs("w3", 10, 500, 50).await.unwrap();
    assert_eq!(retried.iter().map(|j| j.attempts).collect::<Vec<_>>(), [1]);
    storage.fail_job(retried[0].id, "boom again", None, 510).await.unwrap();

    // A document write queues its job in its own transaction, once.
    let id = DocumentId::random();
    let job = NewJob { kind: "review-order".into(), key: "with-write".into(), payload: "{}".into(), run_after: 0 };
    let mut first = write(&id, meta(DocKind::Order, Some("u1"), Some("north")), vec![], vec![head(1)], b"c");
    first.job = Some(job.clone());
    storage.write_doc(t, first).await.unwrap();
    let mut stale = write(&id, meta(DocKind::Order, Some("u1"), Some("north")), vec![], vec![head(2)], b"c");
    stale.job = Some(NewJob { key: "conflicted".into(), ..job.clone() });
    assert_eq!(storage.write_doc(t, stale).await.unwrap(), WriteOutcome::Conflict);
    let mut second = write(&id, meta(DocKind::Order, Some("u1"), Some("north")), vec![head(1)], vec![head(2)], b"c");
    second.job = Some(job);
    storage.write_doc(t, second).await.unwrap();
    let counts = storage.job_counts().await.unwrap();
    assert_eq!(
        (counts.queued, counts.done, counts.failed),
        (2, 1, 1),
        "one job for the two writes, none for the conflict"
    );
}

on_both_backends!(an_upload_advances_completes_and_is_never_discarded_once_complete);
async fn an_upload_advances_completes_and_is_never_discarded_once_complete(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let sha = "ab".repeat(32);
    assert!(storage.get_blob(t, &sha).await.unwrap().is_none());
    storage.begin_upload(t, &sha, 10, "d1", "u1", 1).await.unwrap();
    storage.advance_upload(t, &sha, 4, 1).await.unwrap();
    let meta = storage.get_blob(t, &sha).await.unwrap().unwrap();
    assert_eq!((meta.size, meta.received, meta.complete, meta.width), (10, 4, false, None));
    storage.begin_upload(t, &sha, 12, "d1", "u1", 2).await.unwrap();
    let meta = storage.get_blob(t, &sha).await.unwrap().unwrap();
    assert_eq!((meta.size, meta.received), (12, 0), "beginning again starts from byte 0");
    storage.discard_upload(t, &sha).await.unwrap();
    assert!(storage.get_blob(t, &sha).await.unwrap().is_none());
    let done = CompletedBlob { size: 10, width: 3, height: 2, device_id: "d1".into(), user_id: "u1".into(), now_ms: 2 };
    storage.complete_blob(t, &sha, done).await.unwrap();
    storage.discard_upload(t, &sha).await.unwrap();
    storage.begin_upload(t, &sha, 99, "d2", "u2", 3).await.unwrap();
    storage.advance_upload(t, &sha, 50, 3).await.unwrap();
    let meta = storage.get_blob(t, &sha).await.unwrap().unwrap();
    assert_eq!((meta.size, meta.received, meta.complete, meta.width, meta.height), (10, 10, true, Some(3), Some(2)));
    assert_eq!(meta.uploaded_by_device.as_deref(), Some("d1"));
    assert_eq!(meta.uploaded_by_user.as_deref(), Some("u1"));
    let other = tenant(storage, "globex").await;
    assert!(storage.get_blob(other, &sha).await.unwrap().is_none());
}

on_both_backends!(unfinished_uploads_are_summed_per_user_and_stale_ones_expire_unless_they_advanced);
async fn unfinished_uploads_are_summed_per_user_and_stale_ones_expire_unless_they_advanced(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let other = tenant(storage, "globex").await;
    let (a, b, c, d) = ("aa".repeat(32), "bb".repeat(32), "cc".repeat(32), "dd".repeat(32));
    storage.begin_upload(t, &a, 10, "d1", "u1", 100).await.unwrap();
    storage.begin_upload(t, &b, 20, "d1", "u1", 100).await.unwrap();
    storage.begin_upload(t, &c, 5, "d2", "u2", 100).await.unwrap();
    storage.begin_upload(other, &c, 7, "d9", "u1", 100).await.unwrap();
    let done =
        CompletedBlob { size: 50, width: 3, height: 2, device_id: "d1".into(), user_id: "u1".into(), now_ms: 100 };
    storage.complete_blob(t, &d, done).await.unwrap();

    assert_eq!(storage.unfinished_upload_bytes(t, "u1", "").await.unwrap(), 30, "complete photos do not count");
    assert_eq!(storage.unfinished_upload_bytes(t, "u1", &a).await.unwrap(), 20);
    assert_eq!(storage.unfinished_upload_bytes(t, "u2", "").await.unwrap(), 5);
    assert_eq!(storage.unfinished_upload_bytes(t, "nobody", "").await.unwrap(), 0);
    assert_eq!(storage.unfinished_upload_bytes(other, "u1", "").await.unwrap(), 7);

    storage.advance_upload(t, &b, 4, 500).await.unwrap();
    assert_eq!(storage.get_blob(t, &b).await.unwrap().unwrap().updated_at, 500);
    let stale: Vec<(i64, String)> =
        storage.stale_uploads(300, 10).await.unwrap().into_iter().map(|k| (k.tenant_id, k.sha256)).collect();
    let mut expected = vec![(t, a.clone()), (t, c.clone()), (other, c.clone())];
    expected.sort();
    let mut sorted = stale.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "the advanced upload and the complete photo are not stale");
    assert_eq!(storage.stale_uploads(300, 1).await.unwrap().len(), 1);
    assert!(storage.expire_upload(t, &a, 300).await.unwrap());
    assert!(!storage.expire_upload(t, &a, 300).await.unwrap(), "already gone");
    assert!(!storage.expire_upload(t, &b, 300).await.unwrap(), "advanced since the cut-off");
    assert!(!storage.expire_upload(t, &d, i64::MAX).await.unwrap(), "a complete photo never expires");
    assert!(storage.get_blob(t, &a).await.unwrap().is_none());
    assert!(storage.get_blob(t, &b).await.unwrap().is_some());
    assert!(storage.get_blob(t, &d).await.unwrap().unwrap().complete);
    assert_eq!(storage.unfinished_upload_bytes(t, "u1", "").await.unwrap(), 20);
}

on_both_backends!(a_photo_is_visible_only_through_documents_its_uploader_or_hq_wrote);
async fn a_photo_is_visible_only_through_documents_its_uploader_or_hq_wrote(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let user = |name: &str, role: Role, region: Option<&str>| NewUser {
        username: name.into(),
        display_name: String::new(),
        password_hash: "hash".into(),
        role,
        region: region.map(str::to_owned),
    };
    let sofia = storage.create_user(t, user("sofia", Role::Supervisor, Some("north")), 1).await.unwrap();
    let sam = storage.create_user(t, user("sam", Role::Supervisor, Some("south")), 1).await.unwrap();
    let hana = storage.create_user(t, user("hana", Role::Hq, None), 1).await.unwrap();
    let photo = "ab".repeat(32);
    let done = |user: &str| CompletedBlob {
        size: 10,
        width: 3,
        height: 2,
        device_id: "d1".into(),
        user_id: user.to_owned(),
        now_ms: 2,
    };
    storage.complete_blob(t, &photo, done(&sofia.id)).await.unwrap();
    let scope = |user: &fieldsync_server::storage::User| Scope {
        role: user.role,
        user_id: user.id.clone(),
        region: user.region.clone(),
    };
    let manager = |region: &str| Scope { role: Role::Manager, user_id: "m".into(), region: Some(region.into()) };
    let cite = |n: u8, owner: &str, region: &str, sha: &str| {
        let mut w = write(
            &DocumentId::random(),
            meta(DocKind::Inspection, Some(owner), Some(region)),
            vec![],
            vec![head(n)],
            &[n],
        );
        w.blobs = vec![sha.to_owned()];
        w
    };

    // Sam cites Sofia's photo in his own inspection: that grants him (and his region) nothing.
    storage.write_doc(t, cite(1, &sam.id, "south", &photo)).await.unwrap();
    assert!(!storage.blob_visible(t, &scope(&sam), &photo).await.unwrap(), "citing a hash grants no read");
    assert!(!storage.blob_visible(t, &manager("south"), &photo).await.unwrap());
    assert!(!storage.blob_visible(t, &scope(&hana), &photo).await.unwrap(), "no document of its uploader yet");

    // Sofia's own inspection with it: she, her region's manager and HQ read it; Sam still not.
    storage.write_doc(t, cite(2, &sofia.id, "north", &photo)).await.unwrap();
    assert!(storage.blob_visible(t, &scope(&sofia), &photo).await.unwrap());
    assert!(storage.blob_visible(t, &manager("north"), &photo).await.unwrap());
    assert!(storage.blob_visible(t, &scope(&hana), &photo).await.unwrap());
    assert!(!storage.blob_visible(t, &scope(&sam), &photo).await.unwrap());
    assert!(!storage.blob_visible(t, &manager("south"), &photo).await.unwrap());

    // A document HQ wrote may show any photo of the tenant to those whose scope holds it.
    let second = "cd".repeat(32);
    storage.complete_blob(t, &second, done(&sofia.id)).await.unwrap();
    storage.write_doc(t, cite(3, &hana.id, "south", &second)).await.unwrap();
    assert!(storage.blob_visible(t, &manager("south"), &second).await.unwrap());
    assert!(!storage.blob_visible(t, &manager("north"), &second).await.unwrap());
}

on_both_backends!(a_sales_import_is_one_transaction_and_importing_twice_changes_nothing);
async fn a_sales_import_is_one_transaction_and_importing_twice_changes_nothing(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let sale = |store: &str, sku: &str, day: &str, units: i64| DailySale {
        store_id: store.into(),
        sku: sku.into(),
        day: day.into(),
        units,
        amount_cents: units * 100,
    };
    // Each import announces its counts, in its own transaction.
    let import = |rows: Vec<DailySale>, commit: bool| async move {
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let unique = format!("{}/{commit}", rows.len());
        let events: fieldsync_server::storage::ImportEvents = Box::new(move |counts| {
            let payload = serde_json::json!({ "created": counts.created, "updated": counts.updated });
            vec![fieldsync_server::events::event(EventType::ImportApplied, "sales", &unique, 7, payload)]
        });
        let running = storage.upsert_daily_sales(t, receiver, 7, events);
        let feeding = async move {
            for chunk in rows.chunks(2) {
                sender.send(RowBatch::Rows(chunk.to_vec())).await.unwrap();
            }
            if commit {
                sender.send(RowBatch::Commit).await.unwrap();
            }
        };
        let (result, ()) = tokio::join!(running, feeding);
        result
    };
    let rows =
        vec![sale("s2", "a", "2026-01-02", 1), sale("s1", "b", "2026-01-01", 2), sale("s1", "a", "2026-01-03", 3)];
    let counts = import(rows.clone(), true).await.unwrap();
    assert_eq!((counts.created, counts.updated, counts.unchanged), (3, 0, 0));
    let counts = import(rows.clone(), true).await.unwrap();
    assert_eq!((counts.created, counts.updated, counts.unchanged), (0, 0, 3));
    let mut changed = rows.clone();
    changed[0].units = 9;
    changed.push(sale("s3", "a", "2026-01-05", 1));
    // An import that never commits writes nothing, and announces nothing.
    assert!(import(changed.clone(), false).await.is_err());
    assert_eq!(storage.daily_sales_since(t, "2026-01-01").await.unwrap().len(), 3);
    let counts = import(changed, true).await.unwrap();
    assert_eq!((counts.created, counts.updated, counts.unchanged), (1, 1, 2));
    let announced: Vec<String> = storage
        .events_after(t, 0, &["import.applied".to_owned()], 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.payload)
        .collect();
    let created_updated = |c: u64, u: u64| serde_json::json!({ "created": c, "updated": u }).to_string();
    // The second import of the same rows has the same id as the first (same unique part), so the
    // outbox keeps one; the aborted one left none.
    assert_eq!(announced, [created_updated(3, 0), created_updated(1, 1)]);
    let since: Vec<(String, String, String)> = storage
        .daily_sales_since(t, "2026-01-02")
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.store_id, s.sku, s.day))
        .collect();
    let expected = [("s1", "a", "2026-01-03"), ("s2", "a", "2026-01-02"), ("s3", "a", "2026-01-05")]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(since, expected, "ordered by store, sku, day");
    assert!(storage.purchases_since(t, "2026-01-01").await.unwrap().is_empty());
}

on_both_backends!(settings_keep_a_webhook_and_an_alert_round_that_never_goes_back);
async fn settings_keep_a_webhook_and_an_alert_round_that_never_goes_back(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    assert!(storage.webhook(t).await.unwrap().is_none());
    let hook = WebhookSettings { tenant: "acme".into(), url: "https://example.test/h".into(), secret: "s".into() };
    storage.set_webhook(t, Some(hook.clone()), 1).await.unwrap();
    assert_eq!(storage.webhook(t).await.unwrap(), Some(hook));
    storage.set_webhook(t, None, 2).await.unwrap();
    assert!(storage.webhook(t).await.unwrap().is_none());
    assert_eq!(storage.alert_round(t).await.unwrap(), 0);
    storage.advance_alert_round(t, 0).await.unwrap();
    storage.advance_alert_round(t, 0).await.unwrap();
    assert_eq!(storage.alert_round(t).await.unwrap(), 1);
    storage.advance_alert_round(t, 4).await.unwrap();
    storage.advance_alert_round(t, 2).await.unwrap();
    assert_eq!(storage.alert_round(t).await.unwrap(), 5);
    assert!(storage.tenants_with_documents().await.unwrap().is_empty());
    let id = DocumentId::random();
    storage.write_doc(t, write(&id, meta(DocKind::Catalog, None, None), vec![], vec![head(1)], b"c")).await.unwrap();
    assert_eq!(storage.tenants_with_documents().await.unwrap(), vec![t]);
}

on_both_backends!(api_keys_are_found_by_hash_record_each_use_and_stay_refused_once_revoked);
async fn api_keys_are_found_by_hash_record_each_use_and_stay_refused_once_revoked(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let other = tenant(storage, "globex").await;
    let key = |id: &str, name: &str, hash: &str, at: i64| NewApiKey {
        id: id.into(),
        tenant_id: t,
        name: name.into(),
        prefix: "fsk_abcdefgh".into(),
        secret_hash: hash.into(),
        scopes: "imports:write".into(),
        created_by: "cli".into(),
        created_at: at,
    };
    let created = storage.create_api_key(key("k1", "erp", "h1", 10)).await.unwrap();
    assert_eq!((created.use_count, created.last_used_at, created.revoked_at), (0, None, None));
    let taken = storage.create_api_key(key("k2", "erp", "h2", 11)).await.unwrap_err();
    assert!(matches!(taken, Error::Refused(Refusal { kind: RefusalKind::Conflict, .. })), "{taken:?}");

    assert!(storage.use_api_key("unknown", 20).await.unwrap().is_none());
    storage.use_api_key("h1", 20).await.unwrap();
    let used = storage.use_api_key("h1", 30).await.unwrap().unwrap();
    assert_eq!((used.use_count, used.last_used_at), (2, Some(30)));

    assert!(storage.revoke_api_key(other, "k1", 40).await.unwrap().is_none(), "another tenant's key");
    assert_eq!(storage.revoke_api_key(t, "k1", 40).await.unwrap().unwrap().revoked_at, Some(40));
    assert_eq!(storage.revoke_api_key(t, "k1", 50).await.unwrap().unwrap().revoked_at, Some(40), "first time kept");
    let refused = storage.use_api_key("h1", 60).await.unwrap().unwrap();
    assert_eq!((refused.revoked_at, refused.use_count, refused.last_used_at), (Some(40), 2, Some(30)), "not counted");
    // A revoked key's name may be given again.
    storage.create_api_key(key("k3", "erp", "h3", 70)).await.unwrap();
    let ids: Vec<String> = storage.api_keys(t).await.unwrap().into_iter().map(|k| k.id).collect();
    assert_eq!(ids, vec!["k3", "k1"], "newest first");
    assert!(storage.api_keys(other).await.unwrap().is_empty());
}

on_both_backends!(an_import_batch_claims_its_key_once_and_keeps_its_answer);
async fn an_import_batch_claims_its_key_once_and_keeps_its_answer(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let other = tenant(storage, "globex").await;
    let batch = |tenant_id: i64, sha: &str, at: i64| ImportBatchRecord {
        tenant_id,
        idempotency_key: "b-1".into(),
        dataset: "sales".into(),
        body_sha256: sha.into(),
        response: None,
        created_by: "u".into(),
        created_at: at,
    };
    assert!(storage.import_batch(t, "b-1").await.unwrap().is_none());
    assert_eq!(storage.claim_import_batch(batch(t, "first", 10)).await.unwrap(), batch(t, "first", 10));
    assert_eq!(storage.claim_import_batch(batch(t, "second", 11)).await.unwrap(), batch(t, "first", 10));
    assert_eq!(storage.claim_import_batch(batch(other, "second", 11)).await.unwrap(), batch(other, "second", 11));

    // A claim younger than the stale time holds; a refused batch's release frees the key.
    storage.release_import_batch(t, "b-1", 10).await.unwrap();
    assert!(storage.import_batch(t, "b-1").await.unwrap().is_some());
    storage.release_import_batch(t, "b-1", i64::MAX).await.unwrap();
    assert!(storage.import_batch(t, "b-1").await.unwrap().is_none());

    // An answered batch is never released.
    storage.claim_import_batch(batch(t, "third", 12)).await.unwrap();
    storage.finish_import_batch(t, "b-1", "{}").await.unwrap();
    storage.release_import_batch(t, "b-1", i64::MAX).await.unwrap();
    let kept = storage.import_batch(t, "b-1").await.unwrap().unwrap();
    assert_eq!((kept.body_sha256.as_str(), kept.response.as_deref()), ("third", Some("{}")));
}

on_both_backends!(an_import_run_is_recorded_running_takes_progress_and_ends_once);
async fn an_import_run_is_recorded_running_takes_progress_and_ends_once(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let other = tenant(storage, "globex").await;
    let new_run = |file_name: &str, at: i64| NewImportRun {
        actor: "hana".into(),
        dataset: "sales".into(),
        file_name: file_name.into(),
        at,
    };
    let id = storage.start_import_run(t, new_run("sales.csv", 10)).await.unwrap();
    let started = storage.import_run(t, id).await.unwrap().unwrap();
    assert_eq!(
        started,
        ImportRun {
            id,
            actor: "hana".into(),
            dataset: "sales".into(),
            file_name: "sales.csv".into(),
            rows: 0,
            outcome: "running".into(),
            detail: String::new(),
            at: 10,
            updated_at: 10,
            progress: ImportProgress::default(),
            counts: None,
            refusal: None,
        }
    );
    assert!(storage.import_run(other, id).await.unwrap().is_none(), "another tenant's run is not found");

    // Progress while it runs, never through another tenant.
    let checking = ImportProgress {
        phase: "checking".into(),
        bytes_read: 3_100_000,
        bytes_total: 8_000_000,
        rows_checked: 12_000,
        written: 0,
        write_total: 0,
    };
    assert!(storage.update_import_run(t, id, checking.clone(), 20).await.unwrap());
    assert!(!storage.update_import_run(other, id, ImportProgress::default(), 21).await.unwrap());
    let running = storage.import_run(t, id).await.unwrap().unwrap();
    assert_eq!((running.progress.clone(), running.updated_at, running.outcome.as_str()), (checking, 20, "running"));

    // Its end: the outcome, the counts and the last progress, once.
    let writing = ImportProgress {
        phase: "writing".into(),
        bytes_read: 8_000_000,
        bytes_total: 8_000_000,
        rows_checked: 25_000,
        written: 25_000,
        write_total: 25_000,
    };
    let end = ImportRunEnd {
        outcome: "applied".into(),
        rows: 25_000,
        detail: "imported 25000 sales row(s)".into(),
        progress: writing.clone(),
        counts: Some(ImportCounts { created: 24_000, updated: 1_000, unchanged: 0 }),
        refusal: None,
        at: 30,
    };
    assert!(!storage.finish_import_run(other, id, end.clone()).await.unwrap());
    assert!(storage.finish_import_run(t, id, end.clone()).await.unwrap());
    let applied = storage.import_run(t, id).await.unwrap().unwrap();
    assert_eq!(
        (applied.outcome.as_str(), applied.rows, applied.detail.as_str()),
        ("applied", 25_000, end.detail.as_str())
    );
    assert_eq!((applied.progress.clone(), applied.counts, applied.updated_at), (writing, end.counts, 30));
    assert!(
        !storage.update_import_run(t, id, ImportProgress::default(), 40).await.unwrap(),
        "an ended run takes no progress"
    );
    let again = ImportRunEnd { outcome: "failed".into(), at: 50, ..end };
    assert!(!storage.finish_import_run(t, id, again).await.unwrap(), "nor another end");
    assert_eq!(storage.import_run(t, id).await.unwrap().unwrap(), applied);

    // A refused run keeps its bad lines as they were: codes with their arguments.
    let refused = storage.start_import_run(t, new_run("", 60)).await.unwrap();
    let refusal = fieldsync_server::error::ImportRefusal {
        count: 21,
        lines: vec![
            (0, fieldsync_core::i18n::Message::new("refusal-import-not-csv")),
            (
                3,
                fieldsync_core::i18n::Message::new("refusal-import-line").arg("line", 3).part(
                    "reason",
                    fieldsync_core::i18n::Message::new("refusal-import-tier").arg("tier", "\"Z\" ¥, 门店"),
                ),
            ),
        ],
    };
    let end = ImportRunEnd {
        outcome: "refused".into(),
        rows: 0,
        detail: refusal.to_string(),
        progress: ImportProgress::default(),
        counts: None,
        refusal: Some(refusal.clone()),
        at: 70,
    };
    assert!(storage.finish_import_run(t, refused, end).await.unwrap());
    let kept = storage.import_run(t, refused).await.unwrap().unwrap();
    assert_eq!((kept.outcome.as_str(), kept.refusal, kept.counts), ("refused", Some(refusal), None));

    // The history: newest first, running runs too; nothing of another tenant's.
    let third = storage.start_import_run(t, new_run("later.csv", 80)).await.unwrap();
    let ids: Vec<i64> = storage.import_runs(t, 10).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ids, [third, refused, id]);
    assert_eq!(storage.import_runs(t, 2).await.unwrap().len(), 2);
    assert!(storage.import_runs(other, 10).await.unwrap().is_empty());
}

on_both_backends!(photo_hashes_are_replaced_per_inspection_and_read_without_the_asking_one);
async fn photo_hashes_are_replaced_per_inspection_and_read_without_the_asking_one(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let (a, b) = (DocumentId::random(), DocumentId::random());
    let photo = |sha: &str, inspection: &DocumentId, at: i64| EarlierPhoto {
        sha256: sha.into(),
        phash: "0123456789abcdef".into(),
        inspection_id: inspection.to_string(),
        store_id: "s1".into(),
        captured_at: at,
    };
    storage.record_photo_hashes(t, &a, vec![photo("p2", &a, 2), photo("p1", &a, 1)]).await.unwrap();
    storage.record_photo_hashes(t, &b, vec![photo("p3", &b, 3)]).await.unwrap();
    let seen_by_b: Vec<String> = storage.photo_hashes(t, &b).await.unwrap().into_iter().map(|p| p.sha256).collect();
    assert_eq!(seen_by_b, ["p1", "p2"], "oldest first, without b's own");
    storage.record_photo_hashes(t, &a, vec![photo("p4", &a, 4)]).await.unwrap();
    let seen_by_b: Vec<String> = storage.photo_hashes(t, &b).await.unwrap().into_iter().map(|p| p.sha256).collect();
    assert_eq!(seen_by_b, ["p4"], "a's earlier hashes were replaced");
    assert!(storage.inspections_with_photo(t, "p4").await.unwrap().is_empty(), "no document references it");
}

on_both_backends!(reservations_change_only_at_the_version_they_were_read_at_and_queue_their_publish);
async fn reservations_change_only_at_the_version_they_were_read_at_and_queue_their_publish(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let other = tenant(storage, "other").await;
    let units = |pairs: &[(&str, i64)]| -> BTreeMap<String, i64> {
        pairs.iter().map(|(sku, n)| ((*sku).to_owned(), *n)).collect()
    };
    let orders = ["o1".to_owned(), "o2".to_owned()];
    let empty = storage.reservations(t, "inv", &orders, &["A".to_owned()]).await.unwrap();
    assert_eq!(empty, ReservationsAt::default(), "version 0, nothing held");

    let publish = NewJob { kind: "publish".into(), key: "inv@1000".into(), payload: "{}".into(), run_after: 1_000 };
    let first = ReservationChange {
        expected_version: 0,
        orders: vec![("o1".into(), units(&[("A", 3), ("B", 2)])), ("o2".into(), units(&[("A", 4), ("Z", 0)]))],
        totals: vec![("A".into(), 7), ("B".into(), 2)],
        job: Some(publish.clone()),
    };
    assert!(storage.set_reservations(t, "inv", &first).await.unwrap());
    assert!(!storage.set_reservations(t, "inv", &first).await.unwrap(), "the version moved on: nothing written");
    let read = storage.reservations(t, "inv", &orders[..1], &["C".to_owned()]).await.unwrap();
    assert_eq!(read.version, 1);
    assert_eq!(read.orders, BTreeMap::from([("o1".to_owned(), units(&[("A", 3), ("B", 2)]))]));
    assert_eq!(read.totals, units(&[("A", 7), ("B", 2)]), "the SKUs o1 holds come with the asked ones");
    assert_eq!(storage.jobs_before(i64::MAX).await.unwrap(), 1, "the publish was queued with the change");

    // o1 is released, o2 takes one more (given twice: the last counts).
    let second = ReservationChange {
        expected_version: 1,
        orders: vec![
            ("o1".into(), BTreeMap::new()),
            ("o2".into(), units(&[("A", 9)])),
            ("o2".into(), units(&[("A", 5)])),
        ],
        totals: vec![("A".into(), 5), ("B".into(), 0)],
        job: Some(publish),
    };
    assert!(storage.set_reservations(t, "inv", &second).await.unwrap());
    let read = storage.reservations(t, "inv", &orders, &["A".to_owned(), "B".to_owned()]).await.unwrap();
    assert_eq!(read.version, 2);
    assert_eq!(read.orders, BTreeMap::from([("o2".to_owned(), units(&[("A", 5)]))]));
    assert_eq!(read.totals, units(&[("A", 5)]));
    assert_eq!(storage.reserved_totals(t, "inv").await.unwrap(), (2, units(&[("A", 5)])));
    assert_eq!(storage.jobs_before(i64::MAX).await.unwrap(), 1, "one publish for the second's changes");
    // Another tenant's inventory of the same id is its own.
    assert_eq!(storage.reserved_totals(other, "inv").await.unwrap(), (0, BTreeMap::new()));
}

on_both_backends!(every_stored_write_is_announced_once_with_its_columns);
async fn every_stored_write_is_announced_once_with_its_columns(storage: &dyn Storage) {
    let t = tenant(storage, "acme").await;
    let mut announcements = storage.announcements();
    let id = DocumentId::random();
    let m = meta(DocKind::Order, Some("u1"), Some("north"));
    storage.write_doc(t, from_device(write(&id, m.clone(), vec![], vec![head(1)], b"c"), "dev-a")).await.unwrap();
    assert_eq!(
        storage.write_doc(t, write(&id, m.clone(), vec![], vec![head(2)], b"c")).await.unwrap(),
        WriteOutcome::Conflict
    );
    storage.write_doc(t, write(&id, m.clone(), vec![head(1)], vec![head(2)], b"c")).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(30), announcements.recv()).await.unwrap().unwrap();
    assert_eq!((first.tenant_id, first.seq, &first.meta, first.origin_device.as_deref()), (t, 1, &m, Some("dev-a")));
    let second = tokio::time::timeout(Duration::from_secs(30), announcements.recv()).await.unwrap().unwrap();
    assert_eq!((second.seq, second.origin_device), (2, None), "the conflict was not announced");
}

// ---------------------------------------------------------------------------------------------
// Several PostgreSQL nodes

async fn two_nodes(test: &str) -> Option<(PgDatabase, PostgresStorage, PostgresStorage)> {
    let database = PgDatabase::create(test).await?;
    // Started together: each migrates under the advisory lock, so both succeed.
    let (a, b) = tokio::join!(PostgresStorage::connect(&database.url), PostgresStorage::connect(&database.url));
    Some((database, a.unwrap(), b.unwrap()))
}

async fn raw_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_migrate_the_database_once() {
    let Some((database, _a, _b)) = two_nodes("migrations").await else { return };
    let client = raw_client(&database.url).await;
    let versions: Vec<i64> = client
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    // A third node finds the schema ready.
    PostgresStorage::connect(&database.url).await.unwrap();
    let count: i64 = client.query_one("SELECT COUNT(*) FROM schema_version", &[]).await.unwrap().get(0);
    assert_eq!(count, SCHEMA_VERSION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_node_is_announced_on_the_other_with_its_columns() {
    let Some((_database, a, b)) = two_nodes("announcements").await else { return };
    let t = tenant(&a, "acme").await;
    let mut heard_on_b = b.announcements();
    let id = DocumentId::random();
    let m = meta(DocKind::Order, Some("u1"), Some("north"));
    a.write_doc(t, from_device(write(&id, m.clone(), vec![], vec![head(1)], b"c"), "dev-a")).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(30), heard_on_b.recv()).await.unwrap().unwrap();
    assert_eq!((heard.tenant_id, heard.seq, &heard.meta, heard.origin_device.as_deref()), (t, 1, &m, Some("dev-a")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_listen_connection_dropped_reconnects_and_announces_what_it_missed() {
    let Some((database, a, b)) = two_nodes("listener reconnect").await else { return };
    let t = tenant(&a, "acme").await;
    let mut heard_on_b = b.announcements();
    let admin = raw_client(&database.url).await;
    let killed: i64 = admin
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name LIKE 'fieldsync-listener-%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 2, "each node keeps one LISTEN connection");
    // Written while B is (probably) not listening: B replays it from the feed once it is back.
    let id = DocumentId::random();
    let m = meta(DocKind::Catalog, None, None);
    a.write_doc(t, write(&id, m.clone(), vec![], vec![head(1)], b"c")).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(60), heard_on_b.recv()).await.unwrap().unwrap();
    assert_eq!((heard.tenant_id, heard.seq, heard.meta), (t, 1, m.clone()));
    // And it hears new writes again.
    a.write_doc(t, write(&id, m, vec![head(1)], vec![head(2)], b"c")).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(60), heard_on_b.recv()).await.unwrap().unwrap();
    assert_eq!(heard.seq, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_claiming_at_once_lease_every_job_to_exactly_one_of_them() {
    let Some((_database, a, b)) = two_nodes("job claims").await else { return };
    let t = tenant(&a, "acme").await;
    for n in 0..120 {
        a.enqueue_job(t, "review-order", &format!("doc-{n}"), "{}", 0).await.unwrap();
    }
    let claim_all = |storage: PostgresStorage, worker: &'static str| async move {
        let mut ids = Vec::new();
        loop {
            let jobs = storage.claim_jobs(worker, 7, 10, 60_000).await.unwrap();
            if jobs.is_empty() {
                return ids;
            }
            ids.extend(jobs.iter().map(|j| j.id));
        }
    };
    let (on_a, on_b, on_a2) = tokio::join!(
        tokio::spawn(claim_all(a.clone(), "a")),
        tokio::spawn(claim_all(b.clone(), "b")),
        tokio::spawn(claim_all(a.clone(), "a2"))
    );
    let all: Vec<i64> = [on_a.unwrap(), on_b.unwrap(), on_a2.unwrap()].concat();
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 120, "every job leased");
    assert_eq!(distinct.len(), 120, "no job leased twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_writing_one_document_on_the_same_heads_store_exactly_one_write() {
    let Some((_database, a, b)) = two_nodes("write race").await else { return };
    let t = tenant(&a, "acme").await;
    let id = DocumentId::random();
    let m = || meta(DocKind::Order, Some("u1"), Some("north"));
    a.write_doc(t, write(&id, m(), vec![], vec![head(0)], b"c")).await.unwrap();
    let mut current = head(0);
    for round in 1..=20u8 {
        let on_a = a.write_doc(t, write(&id, m(), vec![current], vec![[round; 32]], b"a"));
        let mut theirs = [round; 32];
        theirs[0] = 255;
        let on_b = b.write_doc(t, write(&id, m(), vec![current], vec![theirs], b"b"));
        let (on_a, on_b) = tokio::join!(on_a, on_b);
        let outcomes = [on_a.unwrap(), on_b.unwrap()];
        let stored = outcomes.iter().filter(|o| matches!(o, WriteOutcome::Stored(_))).count();
        assert_eq!(stored, 1, "round {round}: {outcomes:?}");
        current = a.load_doc(t, &id).await.unwrap().unwrap().heads[0];
    }
    assert_eq!(a.feed_position(t).await.unwrap(), 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_limit_reached_through_one_node_holds_on_the_other() {
    let Some((_database, a, b)) = two_nodes("login limits").await else { return };
    let limits = LoginLimits {
        free_failures: 3,
        first_delay: Duration::from_secs(60),
        max_delay: Duration::from_secs(300),
        failure_memory: Duration::from_secs(3600),
        per_address: 5,
        window: Duration::from_secs(300),
    };
    let on_a = LoginLimiter::shared(limits, Arc::new(a.clone()) as Arc<dyn LoginFailureStore>);
    let on_b = LoginLimiter::shared(limits, Arc::new(b.clone()) as Arc<dyn LoginFailureStore>);
    let account = LoginLimiter::account_key("acme", "anna");
    let address: std::net::IpAddr = [10, 0, 0, 1].into();
    for _ in 0..3 {
        on_a.check(&account, Some(address)).await.unwrap();
        on_a.record_failure(&account, Some(address)).await.unwrap();
    }
    assert!(
        matches!(on_b.check(&account, Some(address)).await, Err(Error::RateLimited { retry_after_secs }) if retry_after_secs > 0)
    );
    on_b.check(&LoginLimiter::account_key("acme", "ben"), Some(address)).await.unwrap();
    // A success on B at that address clears the account there on A, not the address's count.
    on_b.record_success(&account, Some(address)).await.unwrap();
    on_a.check(&account, Some(address)).await.unwrap();
    for _ in 0..2 {
        on_b.record_failure(&LoginLimiter::account_key("acme", "carl"), Some(address)).await.unwrap();
    }
    assert!(matches!(on_a.check(&account, Some(address)).await, Err(Error::RateLimited { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guesser_at_one_address_slows_only_that_address_on_every_node_and_never_the_user_elsewhere() {
    let Some((_database, a, b)) = two_nodes("login backoff").await else { return };
    let limits = LoginLimits { per_address: 1000, ..LoginLimits::default() };
    let on_a = LoginLimiter::shared(limits, Arc::new(a.clone()) as Arc<dyn LoginFailureStore>);
    let on_b = LoginLimiter::shared(limits, Arc::new(b.clone()) as Arc<dyn LoginFailureStore>);
    let account = LoginLimiter::account_key("acme", "anna");
    let attacker: std::net::IpAddr = [203, 0, 113, 9].into();
    for _ in 0..40 {
        on_a.record_failure(&account, Some(attacker)).await.unwrap();
    }
    // 35 failures beyond the free ones: the wait is capped at max_delay, not grown without end.
    match on_b.check(&account, Some(attacker)).await {
        Err(Error::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 300),
        other => panic!("expected the attacker to wait, got {other:?}"),
    }
    on_a.check(&account, Some([198, 51, 100, 7].into())).await.unwrap();
    on_b.check(&account, Some([198, 51, 100, 7].into())).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// The read model

/// Orders created, edited, submitted, reviewed by the review job and decided; one reopened;
/// inspections checked in and out and scored; alerts raised and closed — every write through
/// `write_doc` with its rows. Then the rows are derived again from the documents: they must be
/// the same.
async fn the_read_model_written_with_each_document_equals_the_one_rebuilt_from_the_documents(storage: &dyn Storage) {
    use fieldsync_core::doc::{
        Alert, AlertState, Answer, AnswerValue, Decision, GeoFix, Inspection, InspectionScore, InspectionStatus, Order,
        OrderLine, OrderReview, OrderStatus, PhotoAssessment, PhotoRef, Trust, Verdict, Visit,
    };
    use fieldsync_server::config::PasswordCost;
    use fieldsync_server::documents::{self, create_as_relay_with_id};
    use fieldsync_server::read_model::rebuild_tenant;
    use fieldsync_server::services::catalog::tenant_catalog;
    use fieldsync_server::services::inspections::score_id;
    use fieldsync_server::services::orders::{self, decide::decide_for};

    seed_demo_for_read_model(storage, PasswordCost::insecure_for_tests()).await;
    let tenant = storage.find_tenant(fieldsync_server::seed::DEMO_TENANT).await.unwrap().unwrap().id;
    let hq = Scope { role: Role::Hq, user_id: "hq".into(), region: None };
    let stores = storage.list_docs(tenant, &hq, DocKind::Store, 100).await.unwrap();
    let caches = fieldsync_server::state::Caches::default();
    let catalog = tenant_catalog(storage, &caches, tenant).await.unwrap();
    let products: Vec<String> =
        catalog.products.iter().filter(|(_, p)| p.active).take(4).map(|(sku, _)| sku.clone()).collect();
    // At list price, so that orders pass validation and large ones go to an approver.
    let price = |store: &RetailStore, sku: &str, qty: i64| {
        fieldsync_core::rules::list_price(&catalog, store, sku, qty).unwrap().unit_price_cents
    };
    let now = fieldsync_core::clock::now_ms();

    let mut orders = Vec::new();
    for (n, stored) in stores.iter().take(12).enumerate() {
        let store: RetailStore = documents::read(storage, tenant, &stored.id).await.unwrap();
        let qty = 1 + (n as i64 * 7) % 40;
        let lines = products
            .iter()
            .take(1 + n % 4)
            .enumerate()
            .map(|(i, sku)| {
                let line = OrderLine {
                    sku: sku.clone(),
                    qty,
                    unit_price_cents: price(&store, sku, qty),
                    discount_bp: if n % 5 == 0 { 1_500 } else { 0 },
                    position: i as i64,
                };
                (format!("line-{i}"), line)
            })
            .collect();
        let order = Order {
            owner: store.rep.clone(),
            store_id: stored.id.to_string(),
            customer_id: store.customer_id.clone(),
            status: OrderStatus::Draft,
            lines,
            notes: String::new(),
            created_at: now + n as i64,
            updated_at: now + n as i64,
            submitted_at: None,
            submission: 0,
        };
        orders.push((create_as_relay(storage, tenant, &order).await.unwrap(), store));
    }
    for (n, (id, store)) in orders.iter().enumerate() {
        edit_as_relay(storage, tenant, id, |order: &mut Order| {
            if let Some(line) = order.lines.get_mut("line-0") {
                line.qty += 3;
                line.unit_price_cents = price(store, &line.sku, line.qty);
            }
            order.lines.remove("line-2");
            if n % 6 != 5 {
                order.status = OrderStatus::Submitted;
                order.submission += 1;
                order.submitted_at = Some(now + 1_000);
            }
            order.updated_at = now + 1_000;
            Ok(())
        })
        .await
        .unwrap();
        orders::review_order(storage, &caches, tenant, id, now + 2_000).await.unwrap();
    }
    let mut decided = 0;
    for (id, _) in &orders {
        let review = orders::find_review(storage, tenant, id.as_str()).await.unwrap();
        let review_id = review.id;
        if review.stored.is_none() {
            continue;
        }
        let review: OrderReview = documents::read(storage, tenant, &review_id).await.unwrap();
        let Some(step) = review.current_step() else { continue };
        let decision = Decision {
            order_id: id.to_string(),
            step: step as u64,
            submission: review.submission,
            approver: review.steps[step].approver.clone(),
            verdict: Verdict::Approve,
            reason: String::new(),
            decided_at: now + 3_000,
        };
        if decide_for(storage, &caches, tenant, &review, &decision, now + 3_000).await.unwrap().is_ok() {
            decided += 1;
        }
    }
    assert!(decided > 0, "some orders went to an approver");
    // Reopened after its review: the verdict stays, for the older submission.
    edit_as_relay(storage, tenant, &orders[1].0, |order: &mut Order| {
        order.status = OrderStatus::Draft;
        Ok(())
    })
    .await
    .unwrap();

    let fix = GeoFix { latitude: 53.55, longitude: 9.99, accuracy_m: 8.0 };
    for (n, stored) in stores.iter().skip(20).take(4).enumerate() {
        let store: RetailStore = documents::read(storage, tenant, &stored.id).await.unwrap();
        let photo = |i: usize| PhotoRef {
            sha256: format!("{:064x}", n * 10 + i),
            item_id: "shelf".into(),
            byte_size: 1_000,
            width: 640,
            height: 480,
            captured_at: now + 10,
            position: Some(fix),
            phash: String::new(),
            original: None,
            measured: None,
        };
        let answer = Answer {
            id: "shelf".into(),
            value: AnswerValue::Yes,
            count: Some(3),
            note: String::new(),
            answered_at: now + 5,
        };
        let inspection = Inspection {
            owner: store.supervisor.clone(),
            store_id: stored.id.to_string(),
            template_id: "template".into(),
            status: InspectionStatus::Open,
            check_in: Visit { at: now, position: fix },
            check_out: None,
            answers: [("shelf".to_owned(), answer)].into(),
            photos: (0..=n).map(|i| (photo(i).sha256.clone(), photo(i))).collect(),
            updated_at: now,
            promotions_started: Default::default(),
        };
        let id = create_as_relay(storage, tenant, &inspection).await.unwrap();
        if n == 3 {
            continue; // still open
        }
        edit_as_relay(storage, tenant, &id, |inspection: &mut Inspection| {
            inspection.status = InspectionStatus::CheckedOut;
            inspection.check_out = Some(Visit { at: now + 600_000, position: fix });
            inspection.updated_at = now + 600_000;
            Ok(())
        })
        .await
        .unwrap();
        let trusts = [Trust::Pass, Trust::Review, Trust::Rejected];
        let score = InspectionScore {
            inspection_id: id.to_string(),
            owner: store.supervisor.clone(),
            store_id: stored.id.to_string(),
            scored_heads: Vec::new(),
            scoring_version: 1,
            score: 62.5 + n as f64,
            verdict: fieldsync_core::doc::Trust::Review,
            items: Vec::new(),
            photos: (0..=n)
                .map(|i| PhotoAssessment {
                    sha256: photo(i).sha256,
                    quality: 0.5,
                    trust: trusts[i % 3],
                    reasons: Vec::new(),
                    reason_messages: Vec::new(),
                })
                .collect(),
            reasons: Vec::new(),
            reason_messages: Vec::new(),
            scored_at: now + 700_000,
        };
        create_as_relay_with_id(storage, tenant, &score_id(&id), &score).await.unwrap();
    }

    let alert = |kind: &str, at: i64| Alert {
        kind: kind.into(),
        title: format!("{kind} at store"),
        detail: String::new(),
        texts: None,
        store_id: Some(stores[0].id.to_string()),
        sku: Some(products[0].clone()),
        state: AlertState::Open,
        raised_at: at,
        closed_at: None,
    };
    let inbox = Inbox {
        owner: "someone".into(),
        alerts: [("a1".to_owned(), alert("low-stock", now)), ("a2".to_owned(), alert("sales-falling", now + 1))].into(),
    };
    let inbox_id = create_as_relay(storage, tenant, &inbox).await.unwrap();
    edit_as_relay(storage, tenant, &inbox_id, |inbox: &mut Inbox| {
        if let Some(alert) = inbox.alerts.get_mut("a1") {
            alert.state = AlertState::Closed;
            alert.closed_at = Some(now + 50);
        }
        Ok(())
    })
    .await
    .unwrap();

    let incremental = storage.dump_read_model(tenant).await.unwrap();
    let rows = |table: &str| incremental.iter().find(|(name, _)| *name == table).unwrap().1.clone();
    assert_eq!(rows("order_rows").len(), 12);
    let lines: usize = (0..12).map(|n| (1 + n % 4).min(2) + usize::from(n % 4 == 3)).sum();
    assert_eq!(rows("order_lines").len(), lines, "line-2 was removed from every order that had it");
    assert!(!rows("order_steps").is_empty());
    assert_eq!(rows("inspection_rows").len(), 4);
    assert_eq!(rows("alert_rows").len(), 2);
    // The reopened order: draft, with the verdict of its first submission.
    let reopened = rows("order_rows").into_iter().find(|row| row[0].as_deref() == Some(orders[1].0.as_str())).unwrap();
    assert_eq!(reopened[5].as_deref(), Some("draft"));
    assert!(reopened[13].is_some(), "the review's outcome stays on the row");
    assert!(reopened[12].as_deref().is_some_and(|number| number.starts_with("N-")), "{reopened:?}");

    storage.clear_read_model(tenant).await.unwrap();
    assert!(storage.dump_read_model(tenant).await.unwrap().iter().all(|(_, rows)| rows.is_empty()));
    let report = rebuild_tenant(storage, tenant).await.unwrap();
    assert!(report.documents > 40);
    let rebuilt = storage.dump_read_model(tenant).await.unwrap();
    assert_eq!(incremental, rebuilt);
}
on_both_backends!(the_read_model_written_with_each_document_equals_the_one_rebuilt_from_the_documents);

async fn seed_demo_for_read_model(storage: &dyn Storage, cost: fieldsync_server::config::PasswordCost) {
    fieldsync_server::seed::seed_demo(storage, cost).await.unwrap();
}

on_both_backends!(a_users_delegation_is_one_row_replaced_by_the_next_and_cleared_per_tenant);
async fn a_users_delegation_is_one_row_replaced_by_the_next_and_cleared_per_tenant(storage: &dyn Storage) {
    use fieldsync_server::storage::Delegation;
    let (acme, other) = (tenant(storage, "acme").await, tenant(storage, "other").await);
    let d = |user: &str, delegate: &str, starts_at: i64| Delegation {
        user_id: user.into(),
        delegate_id: delegate.into(),
        starts_at,
        ends_at: starts_at + 100,
    };
    storage.set_delegation(acme, &d("mia", "nora", 10), 1).await.unwrap();
    storage.set_delegation(acme, &d("mia", "hana", 20), 2).await.unwrap();
    storage.set_delegation(acme, &d("hana", "hugo", 30), 3).await.unwrap();
    storage.set_delegation(other, &d("mia", "zed", 40), 4).await.unwrap();
    assert_eq!(storage.delegations(acme).await.unwrap(), vec![d("hana", "hugo", 30), d("mia", "hana", 20)]);
    assert!(storage.clear_delegation(acme, "mia").await.unwrap());
    assert!(!storage.clear_delegation(acme, "mia").await.unwrap(), "nothing left to clear");
    assert_eq!(storage.delegations(acme).await.unwrap(), vec![d("hana", "hugo", 30)]);
    assert_eq!(storage.delegations(other).await.unwrap(), vec![d("mia", "zed", 40)], "another tenant's stays");
}

on_both_backends!(the_outbox_numbers_events_in_order_keeps_one_per_id_and_cursors_never_go_back);
async fn the_outbox_numbers_events_in_order_keeps_one_per_id_and_cursors_never_go_back(storage: &dyn Storage) {
    use fieldsync_server::storage::NewEvent;
    let event = |id: &str, event_type: &str| NewEvent {
        id: id.into(),
        event_type: event_type.into(),
        subject: "s".into(),
        occurred_at: 1,
        version: 1,
        payload: "{}".into(),
    };
    let (a, b) = (tenant(storage, "acme").await, tenant(storage, "globex").await);
    // With a document write, in its transaction; then on their own.
    let mut stored = write(&DocumentId::random(), meta(DocKind::Catalog, None, None), vec![], vec![head(1)], b"c");
    stored.events = vec![event("e1", "order.submitted"), event("e2", "order.reviewed")];
    storage.write_doc(a, stored).await.unwrap();
    storage.append_events(a, vec![event("e2", "order.reviewed"), event("e3", "order.approved")]).await.unwrap();
    storage.append_events(b, vec![event("e1", "alert.opened")]).await.unwrap();
    // A conflicting write stores none of its events.
    let mut conflict =
        write(&DocumentId::random(), meta(DocKind::Catalog, None, None), vec![head(9)], vec![head(2)], b"x");
    conflict.events = vec![event("e4", "order.submitted")];
    assert_eq!(storage.write_doc(a, conflict).await.unwrap(), WriteOutcome::Conflict);

    let all = storage.events_after(a, 0, &[], 100).await.unwrap();
    let seen: Vec<(u64, &str)> = all.iter().map(|e| (e.seq, e.event.id.as_str())).collect();
    assert_eq!(seen, [(1, "e1"), (2, "e2"), (3, "e3")], "positions 1.. in order, e2 once");
    assert_eq!(storage.last_event_seq(a).await.unwrap(), 3);
    let after_one = storage.events_after(a, 1, &["order.approved".into()], 100).await.unwrap();
    assert_eq!(after_one.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
    assert_eq!(storage.events_after(a, 0, &[], 2).await.unwrap().len(), 2);
    assert_eq!(storage.events_after(b, 0, &[], 100).await.unwrap().len(), 1, "tenants apart");

    // A destination's cursor: per tenant, only forward unless set (a replay).
    let pending = storage.undelivered_events("nats", 100).await.unwrap();
    assert_eq!(pending.iter().map(|e| (e.tenant_id, e.seq)).collect::<Vec<_>>(), [(a, 1), (a, 2), (a, 3), (b, 1)]);
    storage.advance_event_cursor("nats", a, 2).await.unwrap();
    storage.advance_event_cursor("nats", a, 1).await.unwrap();
    assert_eq!(storage.event_cursor("nats", a).await.unwrap(), 2);
    let pending = storage.undelivered_events("nats", 100).await.unwrap();
    assert_eq!(pending.iter().map(|e| (e.tenant_id, e.seq)).collect::<Vec<_>>(), [(a, 3), (b, 1)]);
    storage.set_event_cursor("nats", a, 0).await.unwrap();
    assert_eq!(storage.event_cursor("nats", a).await.unwrap(), 0);
}
