//! Orders in the local store: the rep's offline workflow and its error cases.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::mpsc::TryRecvError;

use common::{line, rep_fixture};
use fieldsync_core::doc::OrderStatus;
use fieldsync_core::local_store::{ChangeOrigin, NewOrder, OrderFilter};
use fieldsync_core::{DocKind, DocumentId, Error, Identity, LocalStore, Role};

fn new_order(shop: &DocumentId, skus: &[(&str, i64)]) -> NewOrder {
    NewOrder {
        store_id: shop.to_string(),
        lines: skus.iter().map(|(sku, qty)| line(sku, *qty)).collect(),
        notes: String::new(),
    }
}

#[test]
fn a_rep_creates_edits_and_submits_an_order_offline() {
    let dir = tempfile::tempdir().unwrap();
    let f = rep_fixture(&dir);
    let id = f.store.create_order(new_order(&f.shop_id, &[("SKU-1", 2), ("SKU-2", 1)])).unwrap();
    let extra = f.store.add_line(&id, line("SKU-3", 5)).unwrap();
    f.store.set_notes(&id, "deliver before 10:00").unwrap();
    let first = f.store.order(&id).unwrap().lines_in_order()[0].0.clone();
    f.store.remove_line(&id, &first).unwrap();
    f.store.update_line(&id, &extra, line("SKU-3", 7)).unwrap();
    f.store.submit_order(&id).unwrap();

    let order = f.store.order(&id).unwrap();
    assert_eq!(order.status, OrderStatus::Submitted);
    assert_eq!(order.submission, 1);
    assert_eq!(order.notes, "deliver before 10:00");
    assert_eq!(order.customer_id, "CUST-Corner Market");
    let skus: Vec<_> = order.lines_in_order().iter().map(|(_, l)| (l.sku.clone(), l.qty)).collect();
    assert_eq!(skus, vec![("SKU-2".to_owned(), 1), ("SKU-3".to_owned(), 7)]);
    assert_eq!(order.total_cents(), 8 * 1000);
    assert_eq!(f.store.pending_documents().unwrap(), vec![id]);
}

#[test]
fn editing_a_submitted_order_needs_reopening_it_first() {
    let dir = tempfile::tempdir().unwrap();
    let f = rep_fixture(&dir);
    let id = f.store.create_order(new_order(&f.shop_id, &[("SKU-1", 1)])).unwrap();
    f.store.submit_order(&id).unwrap();
    let before = f.store.order(&id).unwrap();

    let err = f.store.add_line(&id, line("SKU-2", 1)).unwrap_err();
    assert!(matches!(err, Error::InvalidState { .. }), "{err}");
    assert_eq!(err.to_string(), format!("order {id} is submitted: cannot add a line"));
    assert_eq!(f.store.order(&id).unwrap(), before, "a refused edit changes nothing");

    f.store.reopen_order(&id).unwrap();
    f.store.add_line(&id, line("SKU-2", 1)).unwrap();
    f.store.submit_order(&id).unwrap();
    assert_eq!(f.store.order(&id).unwrap().submission, 2);
    assert!(matches!(
        f.store.reopen_order(&id).and_then(|_| f.store.reopen_order(&id)),
        Err(Error::InvalidState { .. })
    ));
}

#[test]
fn bad_order_input_is_refused_with_a_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let f = rep_fixture(&dir);
    let id = f.store.create_order(new_order(&f.shop_id, &[("SKU-1", 1)])).unwrap();
    let before = f.store.order(&id).unwrap();
    let cases = [
        (line("SKU-1", 0), "quantity 0 for SKU-1 must be between 1 and 1000000"),
        (line("NOPE", 1), "unknown product NOPE"),
        (line("SKU-OLD", 1), "product SKU-OLD is no longer sold"),
        (fieldsync_core::local_store::LineInput { discount_bp: 10_001, ..line("SKU-1", 1) }, "discount 10001 bp"),
        (fieldsync_core::local_store::LineInput { unit_price_cents: -5, ..line("SKU-1", 1) }, "unit price -5"),
    ];
    for (input, expected) in cases {
        let err = f.store.add_line(&id, input).unwrap_err();
        assert!(err.to_string().contains(expected), "{err} should mention {expected}");
    }
    assert!(matches!(f.store.remove_line(&id, "no-such-line"), Err(Error::InvalidInput { field: "line_id", .. })));
    assert_eq!(f.store.order(&id).unwrap(), before);

    let empty = f.store.create_order(new_order(&f.shop_id, &[])).unwrap();
    assert!(f.store.submit_order(&empty).unwrap_err().to_string().contains("has no lines"));

    let unknown = DocumentId::random();
    assert_eq!(f.store.order(&unknown).unwrap_err().to_string(), format!("order {unknown} not found"));
    assert!(matches!(
        f.store.create_order(new_order(&unknown, &[("SKU-1", 1)])),
        Err(Error::NotFound { kind: Some(DocKind::Store), .. })
    ));
    assert!(matches!(
        f.store.create_order(NewOrder { store_id: "../../etc".into(), ..Default::default() }),
        Err(Error::InvalidId { .. })
    ));
    assert!(matches!(f.store.order(&f.shop_id), Err(Error::WrongKind { .. })));
}

#[test]
fn another_users_order_cannot_be_edited_on_this_device() {
    let dir = tempfile::tempdir().unwrap();
    let f = rep_fixture(&dir);
    let id = f.store.create_order(new_order(&f.shop_id, &[("SKU-1", 1)])).unwrap();
    f.store.set_identity(&Identity { tenant: "acme".into(), user_id: "rep-2".into(), role: Role::Rep }).unwrap();
    assert!(matches!(f.store.add_line(&id, line("SKU-2", 1)), Err(Error::NotOwner { .. })));
}

#[test]
fn creating_an_order_before_anyone_signed_in_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path().join("fresh.db")).unwrap();
    let err = store.create_order(NewOrder::default()).unwrap_err();
    assert!(matches!(err, Error::NotSignedIn));
}

#[test]
fn lists_filter_by_status_store_and_date_without_loading_orders() {
    let dir = tempfile::tempdir().unwrap();
    let f = rep_fixture(&dir);
    let a = f.store.create_order(new_order(&f.shop_id, &[("SKU-1", 3)])).unwrap();
    let b = f.store.create_order(new_order(&f.other_shop_id, &[("SKU-2", 1)])).unwrap();
    let c = f.store.create_order(new_order(&f.shop_id, &[("SKU-3", 1), ("SKU-4", 2)])).unwrap();
    f.store.submit_order(&a).unwrap();
    f.store.submit_order(&b).unwrap();

    let submitted =
        f.store.list_orders(&OrderFilter { status: Some(OrderStatus::Submitted), ..Default::default() }).unwrap();
    let mut ids: Vec<_> = submitted.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(ids, expected);

    let at_shop =
        f.store.list_orders(&OrderFilter { store_id: Some(f.shop_id.to_string()), ..Default::default() }).unwrap();
    assert_eq!(at_shop.len(), 2);
    let summary_c = at_shop.iter().find(|s| s.id == c).unwrap();
    assert_eq!((summary_c.status.as_str(), summary_c.line_count, summary_c.total_cents), ("draft", 2, 3000));

    let future = fieldsync_core::clock::now_ms() + 60_000;
    assert!(f.store.list_orders(&OrderFilter { created_from: Some(future), ..Default::default() }).unwrap().is_empty());
    assert_eq!(f.store.list_orders(&OrderFilter { limit: Some(1), ..Default::default() }).unwrap().len(), 1);
}

#[test]
fn orders_survive_closing_and_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let (id, before) = {
        let f = common::fixture_at(&path, common::REP, Role::Rep);
        let id = f.store.create_order(new_order(&f.shop_id, &[("SKU-1", 2)])).unwrap();
        for qty in 1..=20 {
            f.store.add_line(&id, line("SKU-2", qty)).unwrap();
        }
        (id.clone(), f.store.order(&id).unwrap())
    };
    let store = LocalStore::open(&path).unwrap();
    assert_eq!(store.order(&id).unwrap(), before);
    assert_eq!(store.identity().unwrap().user_id, common::REP);
    assert_eq!(store.list_orders(&OrderFilter::default()).unwrap().len(), 1);
    store.integrity_check().unwrap();
}

#[test]
fn compaction_keeps_the_content_identical_and_bounds_the_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let f = common::fixture_at(&path, common::REP, Role::Rep);
    let id = f.store.create_order(new_order(&f.shop_id, &[("SKU-1", 1)])).unwrap();
    let line_id = f.store.order(&id).unwrap().lines_in_order()[0].0.clone();
    let mut max_chunks = 0;
    let mut compactions = 0;
    let mut last_chunks = 0;
    for qty in 2..200 {
        f.store.update_line(&id, &line_id, line("SKU-1", qty)).unwrap();
        let stats = f.store.storage_stats(&id).unwrap();
        assert!(stats.chunks_len <= stats.snapshot_len, "{stats:?}");
        if stats.chunk_count < last_chunks {
            compactions += 1;
        }
        last_chunks = stats.chunk_count;
        max_chunks = max_chunks.max(stats.chunk_count);
    }
    assert!(compactions > 0, "chunks were never compacted");
    let in_memory = f.store.document_bytes(&id).unwrap();
    drop(f);
    let reopened = LocalStore::open(&path).unwrap();
    assert_eq!(reopened.order(&id).unwrap().lines[&line_id].qty, 199);
    let from_disk = reopened.document_bytes(&id).unwrap();
    let a = automerge::Automerge::load(&in_memory).unwrap();
    let b = automerge::Automerge::load(&from_disk).unwrap();
    assert_eq!(a.get_heads(), b.get_heads());
    assert_eq!(a.hydrate(None), b.hydrate(None));
}

#[test]
fn concurrent_edits_of_different_lines_on_two_devices_both_survive() {
    let dir = tempfile::tempdir().unwrap();
    let phone = rep_fixture(&dir);
    let id = phone.store.create_order(new_order(&phone.shop_id, &[("SKU-1", 1), ("SKU-2", 1)])).unwrap();
    let tablet = common::fixture_at(&dir.path().join("tablet.db"), common::REP, Role::Rep);
    tablet.store.receive_changes(&id, &phone.store.document_bytes(&id).unwrap()).unwrap();

    let lines: Vec<String> =
        phone.store.order(&id).unwrap().lines_in_order().iter().map(|(id, _)| (*id).clone()).collect();
    phone.store.update_line(&id, &lines[0], line("SKU-1", 10)).unwrap();
    tablet.store.update_line(&id, &lines[1], line("SKU-2", 20)).unwrap();
    let added = tablet.store.add_line(&id, line("SKU-5", 3)).unwrap();
    phone.store.set_notes(&id, "ring twice").unwrap();

    tablet.store.receive_changes(&id, &phone.store.document_bytes(&id).unwrap()).unwrap();
    phone.store.receive_changes(&id, &tablet.store.document_bytes(&id).unwrap()).unwrap();
    let merged = phone.store.order(&id).unwrap();
    assert_eq!(merged, tablet.store.order(&id).unwrap());
    assert_eq!(merged.lines[&lines[0]].qty, 10);
    assert_eq!(merged.lines[&lines[1]].qty, 20);
    assert_eq!(merged.lines[&added].sku, "SKU-5");
    assert_eq!(merged.notes, "ring twice");
}

#[test]
fn subscribers_hear_local_and_remote_changes_of_their_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let f = rep_fixture(&dir);
    let orders = f.store.subscribe(&[DocKind::Order]);
    let stores = f.store.subscribe(&[DocKind::Store]);
    let id = f.store.create_order(new_order(&f.shop_id, &[("SKU-1", 1)])).unwrap();
    let change = orders.try_recv().unwrap();
    assert_eq!((change.id, change.kind, change.origin), (id, DocKind::Order, ChangeOrigin::Local));
    assert_eq!(stores.try_recv(), Err(TryRecvError::Empty));
    common::deliver(&f.store, &common::shop("New Shop"));
    assert_eq!(stores.try_recv().unwrap().origin, ChangeOrigin::Remote);
    assert_eq!(orders.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn the_steps_waiting_on_a_manager_come_earliest_deadline_first_and_steps_without_one_last() {
    use fieldsync_core::doc::{ApprovalStep, OrderReview, ReviewOutcome, StepSla, StepState};

    let dir = tempfile::tempdir().unwrap();
    let manager = common::fixture_at(&dir.path().join("manager.db"), "mia", Role::Manager);
    let review = |order: &str, approver: &str, due_at: Option<i64>, reviewed_at: i64| OrderReview {
        number: String::new(),
        order_id: order.into(),
        owner: "rep-1".into(),
        store_id: manager.shop_id.to_string(),
        submission: 1,
        reviewed_heads: Vec::new(),
        outcome: ReviewOutcome::NeedsApproval,
        findings: Vec::new(),
        steps: vec![ApprovalStep {
            on_behalf_of: None,
            role: "manager".into(),
            approver: approver.into(),
            rule: "large-order".into(),
            state: StepState::Pending,
            decided_at: None,
            reason: String::new(),
            sla: due_at.map(|due| StepSla {
                respond_within_minutes: 240,
                escalate_to: None,
                started_at: Some(due - 240 * 60_000),
                remind_at: None,
                due_at: Some(due),
                reminded_at: None,
                escalation: None,
            }),
        }],
        total_cents: 50_000,
        submitted_at: Some(reviewed_at),
        reviewed_at,
        decided_at: None,
    };
    for (order, approver, due, reviewed) in [
        ("no-deadline-old", "mia", None, 1),
        ("due-late", "mia", Some(9_000_000), 5),
        ("no-deadline-new", "mia", None, 7),
        ("due-soon", "mia", Some(5_000_000), 6),
        ("someone-else", "otto", Some(1), 1),
    ] {
        common::deliver(&manager.store, &review(order, approver, due, reviewed));
    }
    let waiting: Vec<String> =
        manager.store.waiting_on("mia").unwrap().into_iter().map(|(_, review)| review.order_id).collect();
    assert_eq!(waiting, vec!["due-soon", "due-late", "no-deadline-old", "no-deadline-new"]);
}
