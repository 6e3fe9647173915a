//! Orders end to end: a rep submits offline, the relay reviews with the shared rules (price,
//! discount, minimum order, stock, routing), approvers decide from their phones or over HTTP, and
//! the verdicts sync back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity, missing_docs)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fieldsync_core::doc::{Inventory, OrderReview, ReviewOutcome, StepState, Verdict};
use fieldsync_core::local_store::{LineInput, NewOrder};
use fieldsync_core::rules::{Assessment, code};
use fieldsync_core::{DocumentId, Role};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::documents::{self, create_as_relay};
use fieldsync_server::jobs;
use fieldsync_server::seed::seed_demo;
use fieldsync_server::services::orders::review_id;
use fieldsync_server::services::{catalog, orders, queue};
use fieldsync_tests::{Phone, Relay, Weather, http};

/// A SKU of the rep's region with plenty of stock, and the rep's first store.
struct Shop {
    store_id: String,
    sku: String,
}

fn shop(phone: &Phone) -> Shop {
    let (store_id, store) = phone.store.stores().unwrap().into_iter().next().expect("the rep has stores");
    let catalog = phone.store.catalog().unwrap();
    let inventories = phone.store.inventories().unwrap();
    let inventory: &Inventory = &inventories.iter().find(|(_, i)| i.region == store.region).expect("region stock").1;
    let sku = catalog
        .products
        .iter()
        .filter(|(_, p)| p.active)
        .max_by_key(|(sku, _)| inventory.levels.get(*sku).map_or(0, |l| l.available()))
        .map(|(sku, _)| sku.clone())
        .unwrap();
    Shop { store_id: store_id.to_string(), sku }
}

/// A line of `qty` units at the list price (minus `under_cents`), priced by the phone's preview.
fn line(phone: &Phone, shop: &Shop, qty: i64, under_cents: i64) -> LineInput {
    let probe = LineInput { sku: shop.sku.clone(), qty, unit_price_cents: 0, discount_bp: 0 };
    let preview = phone.store.price_preview(&shop.store_id, &[probe]).unwrap();
    let list = preview.lines[0].list_price.as_ref().expect("a list price").unit_price_cents;
    LineInput { sku: shop.sku.clone(), qty, unit_price_cents: list - under_cents, discount_bp: 0 }
}

/// The smallest quantity whose order total reaches `cents`.
fn qty_for_total(phone: &Phone, shop: &Shop, cents: i64) -> i64 {
    (1..10_000)
        .find(|qty| {
            let line = line(phone, shop, *qty, 0);
            line.qty * line.unit_price_cents >= cents
        })
        .unwrap()
}

fn submit(phone: &Phone, shop: &Shop, line: LineInput) -> DocumentId {
    let id = phone
        .store
        .create_order(NewOrder { store_id: shop.store_id.clone(), lines: vec![line], notes: String::new() })
        .unwrap();
    phone.store.submit_order(&id).unwrap();
    id
}

/// Syncs until the review of `order` on `phone` satisfies `ready` (up to 10 s).
fn wait_for_review(phone: &Phone, order: &DocumentId, ready: impl Fn(&OrderReview) -> bool) -> OrderReview {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        phone.sync();
        if let Some((_, review)) = phone.store.order_review(order).unwrap()
            && ready(&review)
        {
            return review;
        }
        assert!(Instant::now() < deadline, "no matching review of {order} arrived within 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn outcome(phone: &Phone, order: &DocumentId) -> ReviewOutcome {
    wait_for_review(phone, order, |_| true).outcome
}

fn codes(review: &OrderReview) -> Vec<&str> {
    review.findings.iter().map(|f| f.code.as_str()).collect()
}

fn decide_over_http(relay: &Relay, token: &str, order: &DocumentId, body: &str) -> fieldsync_tests::HttpAnswer {
    let url = format!("{}/v1/orders/{order}/decision", relay.base_url);
    http("POST", &url, Some(token), &[("content-type", "application/json")], body.as_bytes().to_vec())
}

#[test]
fn a_rep_offline_submits_three_orders_receives_three_verdicts_and_sees_the_managers_approval() {
    let relay = Relay::start();
    let rep = relay.phone("rep-01");
    let manager = relay.phone("manager-north");
    rep.sync();
    manager.sync();
    let shop = shop(&rep);
    let reserved_before = published_reserved(&rep, &shop.sku);

    rep.network.set(Weather::Offline);
    let inside = line(&rep, &shop, qty_for_total(&rep, &shop, 6_000), 0);
    let large = line(&rep, &shop, qty_for_total(&rep, &shop, 40_000), 0);
    let below_floor = line(&rep, &shop, 2 * inside.qty, 10);
    // The phone previews what the relay will decide.
    let preview = |line: &LineInput| -> Assessment {
        rep.store.price_preview(&shop.store_id, std::slice::from_ref(line)).unwrap()
    };
    assert_eq!(preview(&inside).outcome(), ReviewOutcome::Approved);
    assert_eq!(preview(&large).outcome(), ReviewOutcome::NeedsApproval);
    assert_eq!(preview(&below_floor).outcome(), ReviewOutcome::Rejected);
    let inside = submit(&rep, &shop, inside);
    let large = submit(&rep, &shop, large);
    let below_floor = submit(&rep, &shop, below_floor);
    assert!(rep.engine.sync_now().is_err(), "offline");

    rep.network.set(Weather::Clear);
    let approved = wait_for_review(&rep, &inside, |_| true);
    assert_eq!(approved.outcome, ReviewOutcome::Approved, "{approved:?}");
    assert!(approved.steps.is_empty() && approved.decided_at.is_some());
    assert_eq!(approved.reviewed_heads, heads_hex(&rep, &inside));

    let waiting = wait_for_review(&rep, &large, |_| true);
    assert_eq!(waiting.outcome, ReviewOutcome::NeedsApproval, "{waiting:?}");
    assert_eq!(waiting.steps.len(), 1);
    assert_eq!(waiting.steps[0].approver, relay.login_of("manager-north").user_id);
    assert!(waiting.steps[0].rule.starts_with("large-order"), "{}", waiting.steps[0].rule);

    let rejected = wait_for_review(&rep, &below_floor, |_| true);
    assert_eq!(rejected.outcome, ReviewOutcome::Rejected);
    let floor = rejected.findings.iter().find(|f| f.code == code::PRICE_BELOW_FLOOR).expect("a floor finding");
    assert!(floor.text.starts_with("line 1: unit price ") && floor.text.contains(" below floor "), "{}", floor.text);
    assert!(rejected.steps.is_empty());

    // The manager, on another device, sees the pending step and approves it offline.
    let pending = wait_for_review(&manager, &large, |r| r.current_step() == Some(0));
    assert_eq!(pending.steps[0].state, StepState::Pending);
    manager.network.set(Weather::Offline);
    manager.store.decide(&large, 0, Verdict::Approve, "").unwrap();
    manager.network.set(Weather::Clear);
    manager.sync();

    let decided = wait_for_review(&rep, &large, |r| r.outcome != ReviewOutcome::NeedsApproval);
    assert_eq!(decided.outcome, ReviewOutcome::Approved, "{decided:?}");
    assert_eq!(decided.steps[0].state, StepState::Approved);
    assert!(decided.time_to_decision_ms().is_some_and(|ms| ms >= 0));
    // Stock is reserved for the two accepted orders, not for the rejected one, and the rep's
    // phone sees the region's total move by as much.
    let qty = |order: &DocumentId| rep.store.order(order).unwrap().lines.values().next().unwrap().qty;
    assert_eq!(held_by(&relay, &rep, &inside).get(&shop.sku).copied(), Some(qty(&inside)));
    assert_eq!(held_by(&relay, &rep, &large).get(&shop.sku).copied(), Some(qty(&large)));
    assert!(held_by(&relay, &rep, &below_floor).is_empty());
    wait_for_published(&rep, &shop.sku, reserved_before + qty(&inside) + qty(&large));
    // The region's inventory document carries the totals only, no entry per order.
    let stored = relay.stored(&region_inventory_id(&rep)).unwrap();
    assert!(
        automerge::ReadDoc::get(&documents::load(&stored).unwrap(), automerge::ROOT, "reservations").unwrap().is_none()
    );
}

fn heads_hex(phone: &Phone, id: &DocumentId) -> Vec<String> {
    let mut heads: Vec<String> = phone.store.heads(id).unwrap().iter().map(ToString::to_string).collect();
    heads.sort();
    heads
}

/// The inventory document of the rep's region, as the rep's phone holds it.
fn region_inventory_id(rep: &Phone) -> DocumentId {
    let (_, store) = rep.store.stores().unwrap().into_iter().next().unwrap();
    rep.store.inventories().unwrap().into_iter().find(|(_, i)| i.region == store.region).unwrap().0
}

/// What the relay's reservation record holds for an order in the rep's region, by SKU.
fn held_by(relay: &Relay, rep: &Phone, order: &DocumentId) -> BTreeMap<String, i64> {
    let inventory = region_inventory_id(rep);
    let orders = [order.to_string()];
    let read =
        relay.block_on(relay.state.storage.reservations(relay.tenant_id(), inventory.as_str(), &orders, &[])).unwrap();
    read.orders.get(order.as_str()).cloned().unwrap_or_default()
}

/// Units of `sku` reserved in the rep's region, as the rep's phone shows them.
fn published_reserved(rep: &Phone, sku: &str) -> i64 {
    let (_, store) = rep.store.stores().unwrap().into_iter().next().unwrap();
    let inventories = rep.store.inventories().unwrap();
    let inventory = inventories.into_iter().find(|(_, i)| i.region == store.region).unwrap().1;
    inventory.levels.get(sku).map_or(0, |level| level.reserved)
}

/// Waits until the rep's phone shows `reserved` units of `sku` reserved (the relay publishes its
/// totals to the inventory document within a second or so).
fn wait_for_published(rep: &Phone, sku: &str, reserved: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        rep.sync();
        let shown = published_reserved(rep, sku);
        if shown == reserved {
            return;
        }
        assert!(Instant::now() < deadline, "the phone shows {shown} of {sku} reserved, not {reserved}, after 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn decisions_over_http_belong_to_the_steps_approver_and_never_to_the_orders_rep() {
    let relay = Relay::start();
    let rep = relay.phone("rep-01");
    rep.sync();
    let shop = shop(&rep);
    let order = submit(&rep, &shop, line(&rep, &shop, qty_for_total(&rep, &shop, 40_000), 0));
    assert_eq!(outcome(&rep, &order), ReviewOutcome::NeedsApproval);

    let token = |username: &str| relay.phone(username).session.token;
    let approve = r#"{"step": 0, "verdict": "approve"}"#;
    // (who, body, status, error code)
    let refusals: &[(&str, &str, u16, &str)] = &[
        ("rep-01", approve, 403, "forbidden"),
        ("rep-02", approve, 404, "not-found"),
        ("hq-admin", approve, 403, "forbidden"),
        ("manager-north", r#"{"step": 0, "verdict": "reject"}"#, 400, "invalid-input"),
        ("manager-north", r#"{"step": 0, "verdict": "maybe"}"#, 400, "invalid-input"),
        ("manager-north", r#"{"step": 3, "verdict": "approve"}"#, 400, "invalid-input"),
        ("manager-north", "not json", 400, "invalid-input"),
    ];
    for (who, body, status, error) in refusals {
        let answer = decide_over_http(&relay, &token(who), &order, body);
        assert_eq!((answer.status, answer.error_code().as_str()), (*status, *error), "{who} {body}");
    }
    assert_eq!(outcome(&rep, &order), ReviewOutcome::NeedsApproval, "a refused decision changes nothing");

    let manager = token("manager-north");
    let answer = decide_over_http(&relay, &manager, &order, approve);
    assert_eq!(answer.status, 200, "{:?}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json()["review"]["outcome"], "approved");
    let again = decide_over_http(&relay, &manager, &order, approve);
    assert_eq!((again.status, again.error_code().as_str()), (409, "conflict"));
    let seen = wait_for_review(&rep, &order, |r| r.outcome != ReviewOutcome::NeedsApproval);
    assert_eq!(seen.outcome, ReviewOutcome::Approved);
}

#[test]
fn a_rejection_needs_a_reason_releases_the_stock_and_reaches_the_rep() {
    let relay = Relay::start();
    let rep = relay.phone("rep-01");
    rep.sync();
    let shop = shop(&rep);
    let order = submit(&rep, &shop, line(&rep, &shop, qty_for_total(&rep, &shop, 40_000), 0));
    assert_eq!(outcome(&rep, &order), ReviewOutcome::NeedsApproval);
    assert!(!held_by(&relay, &rep, &order).is_empty());

    let manager = relay.phone("manager-north");
    wait_for_review(&manager, &order, |r| r.current_step() == Some(0));
    let no_reason = manager.store.decide(&order, 0, Verdict::Reject, " ").unwrap_err();
    assert!(no_reason.to_string().contains("needs a reason"), "{no_reason}");
    manager.store.decide(&order, 0, Verdict::Reject, "price agreement expired").unwrap();
    manager.sync();

    let seen = wait_for_review(&rep, &order, |r| r.outcome != ReviewOutcome::NeedsApproval);
    assert_eq!(seen.outcome, ReviewOutcome::Rejected);
    assert_eq!(seen.steps[0].reason, "price agreement expired");
    assert!(held_by(&relay, &rep, &order).is_empty());
}

#[test]
fn an_edited_and_resubmitted_order_is_reviewed_again_pinning_its_new_heads() {
    let relay = Relay::start();
    let rep = relay.phone("rep-01");
    rep.sync();
    let shop = shop(&rep);
    let qty = qty_for_total(&rep, &shop, 6_000);
    let order = submit(&rep, &shop, line(&rep, &shop, qty, 25));
    let first = wait_for_review(&rep, &order, |_| true);
    assert_eq!((first.outcome, first.submission), (ReviewOutcome::Rejected, 1));
    assert!(codes(&first).contains(&code::PRICE_BELOW_FLOOR));

    rep.store.reopen_order(&order).unwrap();
    let line_id = rep.store.order(&order).unwrap().lines.keys().next().unwrap().clone();
    rep.store.update_line(&order, &line_id, line(&rep, &shop, qty, 0)).unwrap();
    rep.store.submit_order(&order).unwrap();
    let second = wait_for_review(&rep, &order, |r| r.submission == 2);
    assert_eq!(second.outcome, ReviewOutcome::Approved, "{second:?}");
    assert!(!codes(&second).contains(&code::PRICE_BELOW_FLOOR));
    assert_eq!(second.reviewed_heads, heads_hex(&rep, &order));
    assert_ne!(second.reviewed_heads, first.reviewed_heads);
    assert_eq!(held_by(&relay, &rep, &order).get(&shop.sku), Some(&qty));
}

#[test]
fn every_reviewed_order_gets_its_own_readable_number_and_keeps_it_when_resubmitted() {
    let relay = Relay::start();
    let rep = relay.phone("rep-01");
    rep.sync();
    let shop = shop(&rep);
    let first = submit(&rep, &shop, line(&rep, &shop, 1, 0));
    let second = submit(&rep, &shop, line(&rep, &shop, 1, 0));
    let number_of =
        |order: &DocumentId, submission: u64| wait_for_review(&rep, order, |r| r.submission == submission).number;
    let (a, b) = (number_of(&first, 1), number_of(&second, 1));
    for number in [&a, &b] {
        assert!(number.starts_with("N-") && number.len() == 8, "{number}");
    }
    assert_ne!(a, b);

    rep.store.reopen_order(&first).unwrap();
    rep.store.submit_order(&first).unwrap();
    assert_eq!(number_of(&first, 2), a, "a resubmitted order keeps its number");
}

#[test]
fn two_phones_of_one_manager_deciding_differently_offline_end_in_the_same_verdict_everywhere() {
    let relay = Relay::start();
    let rep = relay.phone("rep-01");
    rep.sync();
    let shop = shop(&rep);
    let order = submit(&rep, &shop, line(&rep, &shop, qty_for_total(&rep, &shop, 40_000), 0));
    assert_eq!(outcome(&rep, &order), ReviewOutcome::NeedsApproval);
    let (phone_a, phone_b) = (relay.phone("manager-north"), relay.phone("manager-north"));
    for phone in [&phone_a, &phone_b] {
        wait_for_review(phone, &order, |r| r.current_step() == Some(0));
        phone.network.set(Weather::Offline);
    }
    let a = phone_a.store.decide(&order, 0, Verdict::Approve, "").unwrap();
    let b = phone_b.store.decide(&order, 0, Verdict::Reject, "duplicate of last week's order").unwrap();
    assert_eq!(a, b, "one approver's devices write one decision document");
    for phone in [&phone_a, &phone_b, &phone_a] {
        phone.network.set(Weather::Clear);
        phone.sync();
    }
    let merged: fieldsync_core::doc::Decision = phone_a.store.get(&a).unwrap();
    assert_eq!(merged, phone_b.store.get(&b).unwrap(), "both phones hold the same merged decision");
    let expected = match merged.verdict {
        Verdict::Approve => StepState::Approved,
        Verdict::Reject => StepState::Rejected,
    };
    for phone in [&rep, &phone_a, &phone_b] {
        let review = wait_for_review(phone, &order, |r| r.steps[0].state == expected);
        assert_eq!(review.steps[0].state, expected);
    }
}

#[test]
fn a_review_job_queued_before_a_relay_restart_runs_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let open = || {
        let mut config = Config::new(dir.path());
        config.password_cost = PasswordCost::insecure_for_tests();
        config.open_state().unwrap()
    };
    let state = open();
    runtime.block_on(seed_demo(state.storage.as_ref(), PasswordCost::insecure_for_tests())).unwrap();
    let tenant = runtime.block_on(state.storage.find_tenant("demo")).unwrap().unwrap().id;
    let scope = fieldsync_server::scope::Scope { role: Role::Hq, user_id: String::new(), region: None };
    let stores =
        runtime.block_on(state.storage.list_docs(tenant, &scope, fieldsync_core::DocKind::Store, 100)).unwrap();
    let store = &stores[0];
    let rep = store.meta.owner.clone().unwrap();
    let catalog = runtime.block_on(catalog::tenant_catalog(state.storage.as_ref(), &state.caches, tenant)).unwrap();
    let (sku, product) = catalog.products.iter().find(|(_, p)| p.active).unwrap();
    let order = fieldsync_core::doc::Order {
        owner: rep,
        store_id: store.id.to_string(),
        customer_id: "C".into(),
        status: fieldsync_core::doc::OrderStatus::Submitted,
        lines: [(
            "l1".to_owned(),
            fieldsync_core::doc::OrderLine {
                sku: sku.clone(),
                qty: 1,
                unit_price_cents: product.base_price_cents,
                discount_bp: 0,
                position: 0,
            },
        )]
        .into(),
        notes: String::new(),
        created_at: 0,
        updated_at: 0,
        submitted_at: Some(0),
        submission: 1,
    };
    let order_id = runtime.block_on(create_as_relay(state.storage.as_ref(), tenant, &order)).unwrap();
    let stored = runtime.block_on(state.storage.load_doc(tenant, &order_id)).unwrap().unwrap();
    runtime
        .block_on(queue::enqueue_for(
            state.storage.as_ref(),
            &state.jobs,
            tenant,
            &order_id,
            &stored.meta,
            &stored.heads,
        ))
        .unwrap();
    // The relay stops before its runner ever looked at the queue.
    drop(state);

    let state = open();
    let claimed = runtime.block_on(state.storage.claim_jobs("after-restart", 8, i64::MAX / 2, 1_000)).unwrap();
    let job = claimed.iter().find(|j| j.kind == orders::review::KIND).expect("the review job survived");
    runtime.block_on(jobs::run_job(&state, job)).unwrap();
    let review: OrderReview =
        runtime.block_on(documents::read(state.storage.as_ref(), tenant, &review_id(order_id.as_str()))).unwrap();
    assert_eq!(review.order_id, order_id.to_string());
    // Running it again (a lease that ran out) writes nothing new.
    let before = runtime.block_on(state.storage.feed_position(tenant)).unwrap();
    runtime.block_on(jobs::run_job(&state, job)).unwrap();
    assert_eq!(runtime.block_on(state.storage.feed_position(tenant)).unwrap(), before);
}

#[test]
fn the_worked_example_of_the_approval_policy_doc_holds() {
    use std::collections::BTreeMap;

    use fieldsync_core::doc::{
        ApproverRole, Catalog, DiscountPolicy, OrderLine, PriceBreak, PriceList, Product, Promotion, RetailStore,
    };
    use fieldsync_core::rules;

    let now = 1_750_000_000_000;
    let mut max_discount_bp = BTreeMap::from([
        ("A/*".to_owned(), 1500),
        ("B/*".to_owned(), 1000),
        ("C/*".to_owned(), 500),
        ("*/*".to_owned(), 500),
    ]);
    for tier in ["A", "B", "C"] {
        max_discount_bp.insert(format!("{tier}/dairy"), 300);
        max_discount_bp.insert(format!("{tier}/frozen"), 500);
    }
    let breaks =
        vec![PriceBreak { min_qty: 1, unit_price_cents: 1920 }, PriceBreak { min_qty: 10, unit_price_cents: 1880 }];
    let catalog = Catalog {
        products: BTreeMap::from([(
            "BEV-1".to_owned(),
            Product {
                name: "Cola".into(),
                category: "beverages".into(),
                unit: "case".into(),
                base_price_cents: 2000,
                active: true,
            },
        )]),
        price_lists: BTreeMap::from([(
            "tier-b".to_owned(),
            PriceList {
                tier: "B".into(),
                region: String::new(),
                prices: BTreeMap::from([("BEV-1".to_owned(), breaks)]),
            },
        )]),
        customer_prices: BTreeMap::new(),
        promotions: BTreeMap::from([(
            "summer-drinks".to_owned(),
            Promotion {
                name: "Summer drinks".into(),
                starts_at: now - 1,
                ends_at: now + 1,
                skus: Vec::new(),
                categories: vec!["beverages".into()],
                stores: Vec::new(),
                regions: Vec::new(),
                discount_bp: 1000,
                priority: 10,
                stackable: false,
            },
        )]),
        discount_policy: DiscountPolicy { max_discount_bp, min_order_cents: 5_000 },
        approval_policy: Some(fieldsync_server::seed::demo_approval_policy()),
        version: 1,
        updated_at: now,
    };
    let store = |tier: &str| RetailStore {
        name: "Shop".into(),
        code: String::new(),
        address: String::new(),
        customer_id: "C-1".into(),
        region: "north".into(),
        tier: tier.into(),
        latitude: 0.0,
        longitude: 0.0,
        geofence_m: 0.0,
        rep: "rep".into(),
        supervisor: "sup".into(),
        active: true,
    };
    // (tier, qty, unit price, discount, outcome, total, roles, finding that explains it)
    let cases: &[(&str, i64, i64, i64, ReviewOutcome, i64, &[ApproverRole], &str)] = &[
        ("B", 5, 1920, 0, ReviewOutcome::Approved, 9_600, &[], "line 1: promotion \"Summer drinks\" allows 10.00%"),
        ("B", 25, 1880, 0, ReviewOutcome::NeedsApproval, 47_000, &[ApproverRole::Manager], ""),
        ("B", 5, 1800, 0, ReviewOutcome::Rejected, 9_000, &[], "line 1: unit price 18.00 below floor 19.20 for tier B"),
        (
            "B",
            5,
            1920,
            2500,
            ReviewOutcome::NeedsApproval,
            7_200,
            &[ApproverRole::Manager],
            "line 1: discount 25.00% above the limit 20.00% for tier B, category beverages (including promotions 10.00%)",
        ),
        ("C", 5, 2000, 2500, ReviewOutcome::NeedsApproval, 7_500, &[ApproverRole::Manager, ApproverRole::Hq], ""),
    ];
    for (tier, qty, unit, discount, outcome, total, roles, text) in cases {
        let line =
            OrderLine { sku: "BEV-1".into(), qty: *qty, unit_price_cents: *unit, discount_bp: *discount, position: 0 };
        let assessment = rules::assess(&catalog, "s", &store(tier), &[("l".to_owned(), line)], None, now);
        let case = format!("{tier} {qty} x {unit} at {discount} bp");
        assert_eq!(assessment.outcome(), *outcome, "{case}: {assessment:?}");
        assert_eq!(assessment.total_cents, *total, "{case}");
        assert_eq!(assessment.steps.iter().map(|s| s.role).collect::<Vec<_>>(), *roles, "{case}");
        assert!(
            text.is_empty() || assessment.findings.iter().any(|f| f.text == *text),
            "{case}: {:?}",
            assessment.findings
        );
    }
    let tier_c = rules::assess(
        &catalog,
        "s",
        &store("C"),
        &[(
            "l".to_owned(),
            OrderLine { sku: "BEV-1".into(), qty: 5, unit_price_cents: 2000, discount_bp: 2500, position: 0 },
        )],
        None,
        now,
    );
    assert!(
        tier_c.steps[0].rule.contains("discount-over-policy") && tier_c.steps[0].rule.contains("tier-c-deep-discount")
    );
    assert!(tier_c.steps[1].rule.starts_with("tier-c-deep-discount"), "{}", tier_c.steps[1].rule);
}

#[test]
fn an_order_for_more_than_the_stock_is_rejected_with_a_finding_naming_the_warehouse() {
    let relay = Relay::start();
    let rep = relay.phone("rep-01");
    rep.sync();
    let shop = shop(&rep);
    let (_, store) = rep.store.stores().unwrap().into_iter().next().unwrap();
    let inventories = rep.store.inventories().unwrap();
    let inventory = inventories.into_iter().find(|(_, i)| i.region == store.region).unwrap().1;
    let available = inventory.levels[&shop.sku].available();
    let order = submit(&rep, &shop, line(&rep, &shop, available + 1, 0));
    let review = wait_for_review(&rep, &order, |_| true);
    assert_eq!(review.outcome, ReviewOutcome::Rejected);
    let expected =
        format!("{} × {} ordered, {available} available in {}", available + 1, shop.sku, inventory.warehouse);
    assert!(
        review.findings.iter().any(|f| f.text.ends_with(&expected)),
        "no finding says {expected:?}: {:?}",
        review.findings
    );
}

#[test]
fn an_away_manager_delegates_from_the_phone_api_and_hq_decides_on_their_behalf_from_its_phone() {
    use fieldsync_core::sync::RelayTrust;
    use fieldsync_core::sync::TransportError;
    use fieldsync_core::sync::http::{end_out_of_office, set_out_of_office};

    let relay = Relay::start();
    let rep = relay.phone("rep-01");
    let manager = relay.phone("manager-north");
    let hq = relay.phone("hq-admin");
    rep.sync();
    let now = fieldsync_core::clock::now_ms();
    let away = set_out_of_office(
        &RelayTrust::default(),
        &relay.base_url,
        &manager.session.token,
        "hq-admin",
        now - 60_000,
        now + 86_400_000,
    );
    away.unwrap();
    // HQ may not hand its steps to a manager: refused by the relay, naming why.
    let refused = set_out_of_office(
        &RelayTrust::default(),
        &relay.base_url,
        &hq.session.token,
        "manager-north",
        now,
        now + 86_400_000,
    );
    match refused {
        Err(TransportError::Refused { status: 400, reason, .. }) => {
            assert!(reason.contains("cannot decide for a hq"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    let shop = shop(&rep);
    let order = submit(&rep, &shop, line(&rep, &shop, qty_for_total(&rep, &shop, 40_000), 0));
    rep.sync();
    let routed = wait_for_review(&hq, &order, |r| r.current_step() == Some(0));
    let step = &routed.steps[0];
    assert_eq!(
        (step.approver.as_str(), step.on_behalf_of.as_deref()),
        (hq.session.user_id.as_str(), Some(manager.session.user_id.as_str()))
    );
    assert!(step.sla.as_ref().and_then(|sla| sla.due_at).is_some(), "the demo policy's 4 h deadline");
    let waiting = hq.store.waiting_on(&hq.session.user_id).unwrap();
    assert!(waiting.iter().any(|(_, r)| r.order_id == order.as_str()), "in HQ's queue on its phone");

    hq.store.decide(&order, 0, Verdict::Approve, "").unwrap();
    hq.sync();
    let seen = wait_for_review(&rep, &order, |r| r.outcome != ReviewOutcome::NeedsApproval);
    assert_eq!(seen.outcome, ReviewOutcome::Approved);
    assert_eq!(
        seen.steps[0].on_behalf_of.as_deref(),
        Some(manager.session.user_id.as_str()),
        "the rep sees on whose behalf"
    );
    end_out_of_office(&RelayTrust::default(), &relay.base_url, &manager.session.token).unwrap();
}

#[test]
fn the_phone_preview_of_a_reviewed_order_does_not_count_its_own_reservation_against_it() {
    let relay = Relay::start();
    let rep = relay.phone("rep-01");
    rep.sync();
    let shop = shop(&rep);
    let reserved_before = published_reserved(&rep, &shop.sku);
    let (_, store) = rep.store.stores().unwrap().into_iter().next().unwrap();
    let inventories = rep.store.inventories().unwrap();
    let available =
        inventories.into_iter().find(|(_, i)| i.region == store.region).unwrap().1.levels[&shop.sku].available();
    // The order takes every unit there is; once reserved, none are left for anyone else.
    let all = line(&rep, &shop, available, 0);
    let order = submit(&rep, &shop, all.clone());
    assert_ne!(outcome(&rep, &order), ReviewOutcome::Rejected);
    wait_for_published(&rep, &shop.sku, reserved_before + available);

    let stock_findings =
        |assessment: Assessment| assessment.findings.iter().filter(|f| f.code == code::INSUFFICIENT_STOCK).count();
    assert_eq!(stock_findings(rep.store.order_preview(&order).unwrap()), 0, "the order holds its own units");
    assert_eq!(stock_findings(rep.store.price_preview(&shop.store_id, &[all]).unwrap()), 1, "a new order finds none");
}
