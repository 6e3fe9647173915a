//! Approvals that finish in hours. Deadlines through the relay's persisted job queue: a step with
//! a 4 h SLA is reminded at half of it and escalated to HQ at the deadline, across a relay
//! restart, with the relay's clock moved forward instead of sleeping; on PostgreSQL, two relay
//! nodes escalate it once. The queue of what waits on a manager, overdue first, and bulk approval
//! from it through the dashboard's router (`tower::ServiceExt::oneshot`). Real SQLite files in a
//! temporary directory, a real PostgreSQL database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{
    ApprovalPolicy, ApprovalRule, ApproverRole, Catalog, EscalationTarget, Inbox, Order, OrderLine, OrderReview,
    OrderStatus, Product, RetailStore, ReviewOutcome, StepState, Verdict,
};
use fieldsync_core::{DocumentId, Role};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::error::{Refusal, RefusalKind};
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::services::alerts::inbox::inbox_id;
use fieldsync_server::services::orders::deadline::{self, DeadlineDone, ESCALATION_ALERT, REMINDER_ALERT};
use fieldsync_server::services::orders::{self, DecisionRequest, find_review};
use fieldsync_server::services::queue;
use fieldsync_server::storage::Job;
use fieldsync_server::{AppState, Error, documents, jobs};

const HOUR: i64 = 3_600_000;
const MINUTE: i64 = 60_000;

struct Seeded {
    tenant_id: i64,
    order_id: DocumentId,
    users: BTreeMap<String, String>,
    store_id: DocumentId,
}

/// A tenant with a rep, the north manager and two HQ users, a policy whose large-order rule
/// gives the manager 4 h and escalates to HQ, and one submitted order of 500.00 queued for review.
async fn seed(state: &AppState) -> Seeded {
    let storage = state.storage.as_ref();
    let tenant = accounts::create_tenant(storage, "acme").await.unwrap();
    for (username, role, region) in [
        ("ravi", Role::Rep, Some("north")),
        ("mia", Role::Manager, Some("north")),
        ("hana", Role::Hq, None),
        ("hugo", Role::Hq, None),
        ("nora", Role::Manager, Some("north")),
        ("otto", Role::Manager, Some("south")),
    ] {
        let account =
            NewAccount { tenant: "acme", username, display_name: "", password: "correct horse battery", role, region };
        accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
    }
    let users: BTreeMap<String, String> =
        storage.list_users(tenant.id).await.unwrap().into_iter().map(|u| (u.username, u.id)).collect();
    let store = RetailStore {
        name: "Corner North".into(),
        code: String::new(),
        address: "Main St 1".into(),
        customer_id: "C-1".into(),
        region: "north".into(),
        tier: "B".into(),
        latitude: 52.52,
        longitude: 13.4,
        geofence_m: 0.0,
        rep: users["ravi"].clone(),
        supervisor: String::new(),
        active: true,
    };
    let store_id = documents::create_as_relay(storage, tenant.id, &store).await.unwrap();
    let product = Product {
        name: "Cola".into(),
        category: "beverages".into(),
        unit: "case".into(),
        base_price_cents: 2000,
        active: true,
    };
    let rule = ApprovalRule {
        name: "orders of 400.00 or more".into(),
        min_total_cents: Some(40_000),
        approvers: vec![ApproverRole::Manager],
        respond_within_minutes: Some(240),
        escalate_to: Some(EscalationTarget::Hq),
        ..ApprovalRule::default()
    };
    let catalog = Catalog {
        approval_policy: Some(ApprovalPolicy {
            version: 1,
            rules: BTreeMap::from([("large-order".to_owned(), rule)]),
            reminder_percent: Some(50),
            working_hours: None,
        }),
        ..Catalog::with_products(BTreeMap::from([("COLA".to_owned(), product)]), now_ms())
    };
    documents::create_as_relay(storage, tenant.id, &catalog).await.unwrap();
    let mut seeded = Seeded { tenant_id: tenant.id, order_id: store_id.clone(), users, store_id };
    seeded.order_id = submit(state, &seeded, 25).await;
    seeded
}

/// A submitted order of `qty` × 20.00 from ravi, queued for review.
async fn submit(state: &AppState, seeded: &Seeded, qty: i64) -> DocumentId {
    let storage = state.storage.as_ref();
    let order = Order {
        owner: seeded.users["ravi"].clone(),
        store_id: seeded.store_id.to_string(),
        customer_id: "C-1".into(),
        status: OrderStatus::Submitted,
        lines: BTreeMap::from([(
            "l1".to_owned(),
            OrderLine { sku: "COLA".into(), qty, unit_price_cents: 2000, discount_bp: 0, position: 0 },
        )]),
        notes: String::new(),
        created_at: state.clock.now(),
        updated_at: state.clock.now(),
        submitted_at: Some(state.clock.now()),
        submission: 1,
    };
    let order_id = documents::create_as_relay(storage, seeded.tenant_id, &order).await.unwrap();
    let stored = storage.load_doc(seeded.tenant_id, &order_id).await.unwrap().unwrap();
    queue::enqueue_for(storage, &state.jobs, seeded.tenant_id, &order_id, &stored.meta, &stored.heads).await.unwrap();
    order_id
}

/// Runs every job due by the relay's clock, as the queue runner would; returns what ran.
async fn run_due(state: &AppState, worker: &str) -> Vec<Job> {
    let mut ran = Vec::new();
    loop {
        let claimed = state.storage.claim_jobs(worker, 8, state.clock.now(), 60_000).await.unwrap();
        if claimed.is_empty() {
            return ran;
        }
        for job in claimed {
            jobs::run_job(state, &job).await.unwrap();
            state.storage.complete_job(job.id, state.clock.now()).await.unwrap();
            ran.push(job);
        }
    }
}

fn deadline_jobs(ran: &[Job]) -> Vec<String> {
    ran.iter().filter(|j| j.kind == deadline::KIND).map(|j| j.key.rsplit('/').next().unwrap().to_owned()).collect()
}

async fn review(state: &AppState, seeded: &Seeded) -> OrderReview {
    let found = find_review(state.storage.as_ref(), seeded.tenant_id, seeded.order_id.as_str()).await.unwrap();
    documents::read(state.storage.as_ref(), seeded.tenant_id, &found.id).await.unwrap()
}

async fn inbox(state: &AppState, seeded: &Seeded, username: &str) -> Option<Inbox> {
    let id = inbox_id(&seeded.users[username]);
    match documents::read::<Inbox>(state.storage.as_ref(), seeded.tenant_id, &id).await {
        Ok(inbox) => Some(inbox),
        Err(Error::Core(fieldsync_core::Error::NotFound { .. })) => None,
        Err(error) => panic!("{error}"),
    }
}

fn open_alerts(inbox: Option<Inbox>, kind: &str) -> Vec<String> {
    inbox
        .map(|i| i.open_alerts().filter(|(_, a)| a.kind == kind).map(|(_, a)| a.title.clone()).collect())
        .unwrap_or_default()
}

fn caller(seeded: &Seeded, username: &str, role: Role, region: Option<&str>) -> accounts::Caller {
    accounts::Caller {
        tenant_id: seeded.tenant_id,
        tenant: "acme".into(),
        user_id: seeded.users[username].clone(),
        username: username.into(),
        role,
        region: region.map(str::to_owned),
        device_id: format!("{username}-laptop"),
        device_unsynced_docs: None,
        key: None,
    }
}

fn open_sqlite(dir: &std::path::Path) -> AppState {
    let mut config = Config::new(dir.join("data"));
    config.password_cost = PasswordCost::insecure_for_tests();
    config.open_state().unwrap()
}

#[tokio::test]
async fn a_step_with_a_four_hour_sla_is_reminded_then_escalated_to_hq_across_a_relay_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let seeded = seed(&state).await;

    let ran = run_due(&state, "node").await;
    assert!(ran.iter().any(|j| j.kind == orders::review::KIND), "the order was reviewed");
    let reviewed = review(&state, &seeded).await;
    let sla = reviewed.steps[0].sla.clone().expect("the manager step carries the rule's SLA");
    let started = sla.started_at.unwrap();
    assert_eq!(reviewed.steps[0].approver, seeded.users["mia"]);
    assert_eq!((sla.respond_within_minutes, sla.escalate_to), (240, Some(EscalationTarget::Hq)));
    assert_eq!((sla.remind_at, sla.due_at), (Some(started + 2 * HOUR), Some(started + 4 * HOUR)));
    assert!(deadline_jobs(&ran).is_empty(), "nothing is due before the reminder");

    // Two hours and a minute later: the reminder, in mia's inbox, once.
    state.clock.advance(2 * HOUR + MINUTE);
    let ran = run_due(&state, "node").await;
    assert_eq!(deadline_jobs(&ran), vec![format!("remind@{}", started + 2 * HOUR)]);
    let titles = open_alerts(inbox(&state, &seeded, "mia").await, REMINDER_ALERT);
    assert_eq!(titles, vec![format!("Order {} waits for your approval", reviewed.number)]);
    assert!(review(&state, &seeded).await.steps[0].sla.as_ref().unwrap().reminded_at.is_some());

    // The relay stops and starts again; its clock is wall-clock time again, then moved past the
    // deadline. The escalation job was in the persisted queue.
    drop(state);
    let state = open_sqlite(dir.path());
    state.clock.advance(4 * HOUR + MINUTE);
    let ran = run_due(&state, "restarted").await;
    assert_eq!(deadline_jobs(&ran), vec![format!("escalate@{}", started + 4 * HOUR)]);

    let escalated = review(&state, &seeded).await;
    let step = &escalated.steps[0];
    let escalation = step.sla.as_ref().unwrap().escalation.clone().expect("the escalation is recorded");
    assert_eq!((step.approver.as_str(), step.role.as_str()), (seeded.users["hana"].as_str(), "hq"));
    assert_eq!(
        (escalation.from.as_str(), escalation.to.as_str()),
        (seeded.users["mia"].as_str(), seeded.users["hana"].as_str())
    );
    assert!(escalation.at >= started + 4 * HOUR, "recorded at the relay's clock");
    assert!(
        escalation.reason.starts_with("not decided within 4h (due ")
            && escalation.reason.ends_with("escalated from mia to hana (hq)"),
        "{}",
        escalation.reason
    );
    assert_eq!(open_alerts(inbox(&state, &seeded, "hana").await, ESCALATION_ALERT).len(), 1);
    assert!(open_alerts(inbox(&state, &seeded, "mia").await, REMINDER_ALERT).is_empty(), "mia's reminder closed");

    // The job running again (an expired lease) changes nothing.
    let job = ran.iter().find(|j| j.kind == deadline::KIND).unwrap();
    let before = state.storage.feed_position(seeded.tenant_id).await.unwrap();
    let again =
        deadline::run(state.storage.as_ref(), &state.caches, seeded.tenant_id, &job.payload, state.clock.now()).await;
    assert_eq!(again.unwrap(), DeadlineDone::NothingDue);
    assert_eq!(state.storage.feed_position(seeded.tenant_id).await.unwrap(), before);

    // HQ decides the escalated step through the one decision path; mia no longer can.
    let hana = caller(&seeded, "hana", Role::Hq, None);
    let mia = caller(&seeded, "mia", Role::Manager, Some("north"));
    let approve = DecisionRequest { step: 0, verdict: Verdict::Approve, reason: String::new(), submission: None };
    let storage = state.storage.as_ref();
    let refused =
        orders::decide_order(storage, &state.caches, &mia, &seeded.order_id, &approve, state.clock.now()).await;
    assert!(matches!(refused, Err(Error::Refused(Refusal { kind: RefusalKind::Forbidden, .. }))), "{refused:?}");
    let (_, decided) =
        orders::decide_order(storage, &state.caches, &hana, &seeded.order_id, &approve, state.clock.now())
            .await
            .unwrap();
    assert_eq!((decided.outcome, decided.steps[0].state), (ReviewOutcome::Approved, StepState::Approved));
    assert!(open_alerts(inbox(&state, &seeded, "hana").await, ESCALATION_ALERT).is_empty(), "decided: closed");
}

#[tokio::test]
async fn a_step_decided_before_its_deadline_is_neither_reminded_nor_escalated() {
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let seeded = seed(&state).await;
    run_due(&state, "node").await;
    let mia = caller(&seeded, "mia", Role::Manager, Some("north"));
    let approve = DecisionRequest { step: 0, verdict: Verdict::Approve, reason: String::new(), submission: None };
    orders::decide_order(state.storage.as_ref(), &state.caches, &mia, &seeded.order_id, &approve, state.clock.now())
        .await
        .unwrap();
    state.clock.advance(5 * HOUR);
    let ran = run_due(&state, "node").await;
    assert_eq!(deadline_jobs(&ran).len(), 2, "both jobs ran");
    assert_eq!(inbox(&state, &seeded, "mia").await, None, "and wrote nothing");
    let step = review(&state, &seeded).await.steps[0].clone();
    assert_eq!((step.approver, step.sla.unwrap().escalation), (seeded.users["mia"].clone(), None));
}

#[tokio::test]
async fn two_relay_nodes_on_postgresql_escalate_an_overdue_step_once() {
    let Some(database) = common::PgDatabase::create("two_relay_nodes_escalate_once").await else { return };
    let open = || async {
        let mut config = Config::new(tempfile::tempdir().unwrap().keep().join("data"));
        config.database_url = Some(database.url.clone());
        config.password_cost = PasswordCost::insecure_for_tests();
        config.open().await.unwrap()
    };
    let (a, b) = (open().await, open().await);
    let seeded = seed(&a).await;
    run_due(&a, "node-a").await;
    let started = review(&a, &seeded).await.steps[0].sla.as_ref().unwrap().started_at.unwrap();

    // Both nodes' clocks pass the deadline; both poll the queue at once.
    a.clock.advance(4 * HOUR + MINUTE);
    b.clock.advance(4 * HOUR + MINUTE);
    let (ran_a, ran_b) = tokio::join!(run_due(&a, "node-a"), run_due(&b, "node-b"));
    let mut ran = deadline_jobs(&ran_a);
    ran.extend(deadline_jobs(&ran_b));
    ran.sort();
    assert_eq!(
        ran,
        vec![format!("escalate@{}", started + 4 * HOUR), format!("remind@{}", started + 2 * HOUR)],
        "each deadline job ran on one node"
    );

    let step = review(&b, &seeded).await.steps[0].clone();
    let escalation = step.sla.unwrap().escalation.unwrap();
    assert_eq!((escalation.from, escalation.to), (seeded.users["mia"].clone(), seeded.users["hana"].clone()));
    assert_eq!(open_alerts(inbox(&b, &seeded, "hana").await, ESCALATION_ALERT).len(), 1, "one escalation alert");

    // Node B running node A's job again (its lease ran out) changes nothing.
    let job = ran_a.iter().chain(&ran_b).find(|j| j.key.contains("/escalate@")).unwrap();
    let outcome = deadline::run(b.storage.as_ref(), &b.caches, seeded.tenant_id, &job.payload, b.clock.now()).await;
    assert_eq!(outcome.unwrap(), DeadlineDone::NothingDue);
}

mod dashboard {
    use std::net::SocketAddr;

    use axum::body::Body;
    use axum::extract::connect_info::MockConnectInfo;
    use axum::http::{Method, Request, StatusCode, header};
    use fieldsync_server::app;
    use fieldsync_server::dashboard::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE, csrf_token};
    use tower::ServiceExt;

    use super::*;

    pub async fn send(
        state: &AppState,
        method: Method,
        uri: &str,
        cookie: &str,
        form: Option<&str>,
    ) -> (StatusCode, String) {
        let mut builder = Request::builder().method(method).uri(uri).header(header::COOKIE, cookie);
        let body = match form {
            Some(form) => {
                builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(form.to_owned())
            }
            None => Body::empty(),
        };
        let router = app(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
        let response = router.oneshot(builder.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let set_cookies: Vec<String> =
            response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let mut text = String::from_utf8_lossy(&body).into_owned();
        if text.is_empty() {
            text = set_cookies.join("\n");
        }
        (status, text)
    }

    /// A dashboard session of `username`: (cookie header, CSRF token).
    pub async fn session(state: &AppState, username: &str) -> (String, String) {
        let form = format!("tenant=acme&username={username}&password=correct+horse+battery&csrf=abc123");
        let (status, cookies) =
            send(state, Method::POST, "/dashboard/login", &format!("{LOGIN_CSRF_COOKIE}=abc123"), Some(&form)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{cookies}");
        let token = cookies
            .lines()
            .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")))
            .and_then(|rest| rest.split(';').next())
            .unwrap()
            .to_owned();
        (format!("{SESSION_COOKIE}={token}"), csrf_token(&token))
    }
}

#[tokio::test]
async fn the_queue_lists_what_waits_on_the_manager_overdue_first_with_the_time_left() {
    use axum::http::{Method, StatusCode};
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let seeded = seed(&state).await;
    run_due(&state, "node").await;
    // A second order an hour later, and one with no step for mia (auto-approved under 400.00).
    state.clock.advance(HOUR);
    let later = submit(&state, &seeded, 30).await;
    let small = submit(&state, &seeded, 5).await;
    // Reviewed, but the deadline jobs are not run: the first order's step stays with mia, late.
    let claimed = state.storage.claim_jobs("node", 32, state.clock.now(), 60_000).await.unwrap();
    for job in claimed.iter().filter(|j| j.kind != deadline::KIND) {
        jobs::run_job(&state, job).await.unwrap();
    }
    state.clock.advance(3 * HOUR + 30 * MINUTE);

    let mia = caller(&seeded, "mia", Role::Manager, Some("north"));
    let rows = orders::approvals::waiting_on_me(state.storage.as_ref(), &mia).await.unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec![seeded.order_id.as_str(), later.as_str()], "earliest deadline first; {small} waits on nobody");
    let ravi = caller(&seeded, "ravi", Role::Rep, Some("north"));
    assert!(matches!(
        orders::approvals::waiting_on_me(state.storage.as_ref(), &ravi).await,
        Err(Error::Refused(Refusal { kind: RefusalKind::Forbidden, .. }))
    ));

    let (cookie, _) = dashboard::session(&state, "mia").await;
    let (status, page) = dashboard::send(&state, Method::GET, "/dashboard/approvals", &cookie, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let first = page.find(seeded.order_id.as_str()).unwrap();
    let second = page.find(later.as_str()).unwrap();
    assert!(first < second, "overdue first");
    assert!(page.contains("2 orders wait for your decision, <b>1 overdue</b>"), "{page}");
    // Half an hour either side of now, give or take the milliseconds the test itself takes.
    let (late, left) =
        (page.find("<span class=\"tag bad\">overdue by ").unwrap(), page.find(" min left</span>").unwrap());
    assert!(first < late && late < second && second < left, "{page}");
    let (cookie, _) = dashboard::session(&state, "hana").await;
    let (_, hq_page) = dashboard::send(&state, Method::GET, "/dashboard/approvals", &cookie, None).await;
    assert!(hq_page.contains("Nothing waits on you."), "{hq_page}");
}

#[tokio::test]
async fn bulk_approval_applies_the_fresh_orders_and_reports_the_stale_one() {
    use axum::http::{Method, StatusCode};
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let seeded = seed(&state).await;
    let second = submit(&state, &seeded, 30).await;
    let third = submit(&state, &seeded, 35).await;
    run_due(&state, "node").await;
    let (cookie, csrf) = dashboard::session(&state, "mia").await;
    let (_, page) = dashboard::send(&state, Method::GET, "/dashboard/approvals", &cookie, None).await;
    assert!(page.contains("3 orders wait for your decision"), "{page}");

    // The third is decided elsewhere (mia's phone, say) after the page was shown.
    let mia = caller(&seeded, "mia", Role::Manager, Some("north"));
    let approve = DecisionRequest { step: 0, verdict: Verdict::Approve, reason: String::new(), submission: None };
    orders::decide_order(state.storage.as_ref(), &state.caches, &mia, &third, &approve, state.clock.now())
        .await
        .unwrap();

    let picks: Vec<String> =
        [&seeded.order_id, &second, &third].iter().map(|id| format!("order={id}%3A0%3A1")).collect();
    let form = format!("csrf={csrf}&{}", picks.join("&"));
    let without_token = form.replace(&format!("csrf={csrf}"), "csrf=forged");
    let (status, _) =
        dashboard::send(&state, Method::POST, "/dashboard/approvals/approve", &cookie, Some(&without_token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a forged token changes nothing");
    assert_eq!(review_of(&state, &seeded, &second).await.outcome, ReviewOutcome::NeedsApproval);

    let (status, page) =
        dashboard::send(&state, Method::POST, "/dashboard/approvals/approve", &cookie, Some(&form)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("2 of 3 approved."), "{page}");
    assert!(
        page.contains(&format!(
            "{third}: not approved: step 1 of order {third} is not waiting for a decision (order is approved)"
        )),
        "{page}"
    );
    for id in [&seeded.order_id, &second] {
        assert_eq!(review_of(&state, &seeded, id).await.outcome, ReviewOutcome::Approved, "{id}");
    }
    assert!(page.contains("Nothing waits on you."), "{page}");

    let (status, page) =
        dashboard::send(&state, Method::POST, "/dashboard/approvals/approve", &cookie, Some(&format!("csrf={csrf}")))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("no order selected"), "{page}");
}

async fn review_of(state: &AppState, seeded: &Seeded, order: &DocumentId) -> OrderReview {
    let found = find_review(state.storage.as_ref(), seeded.tenant_id, order.as_str()).await.unwrap();
    documents::read(state.storage.as_ref(), seeded.tenant_id, &found.id).await.unwrap()
}

#[tokio::test]
async fn a_step_routed_to_an_away_manager_goes_to_their_delegate_who_decides_on_their_behalf() {
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let seeded = seed(&state).await;
    let storage = state.storage.as_ref();
    let (mia, nora) =
        (caller(&seeded, "mia", Role::Manager, Some("north")), caller(&seeded, "nora", Role::Manager, Some("north")));
    let now = state.clock.now();
    orders::delegation::set_out_of_office(storage, &mia, "nora", now - HOUR, now + 24 * HOUR, now).await.unwrap();

    run_due(&state, "node").await;
    let routed = review(&state, &seeded).await;
    assert_eq!(routed.steps[0].approver, seeded.users["nora"], "routed to the delegate");
    assert_eq!(routed.steps[0].on_behalf_of.as_deref(), Some(seeded.users["mia"].as_str()));
    assert!(orders::approvals::waiting_on_me(storage, &mia).await.unwrap().is_empty());
    assert_eq!(orders::approvals::waiting_on_me(storage, &nora).await.unwrap().len(), 1, "in nora's queue");

    let approve = DecisionRequest { step: 0, verdict: Verdict::Approve, reason: String::new(), submission: None };
    let refused = orders::decide_order(storage, &state.caches, &mia, &seeded.order_id, &approve, now).await;
    assert!(
        matches!(refused, Err(Error::Refused(Refusal { kind: RefusalKind::Forbidden, .. }))),
        "mia is away: {refused:?}"
    );
    let (_, decided) =
        orders::decide_order(storage, &state.caches, &nora, &seeded.order_id, &approve, now).await.unwrap();
    let step = &decided.steps[0];
    assert_eq!((decided.outcome, step.state), (ReviewOutcome::Approved, StepState::Approved));
    assert_eq!(
        (step.approver.as_str(), step.on_behalf_of.as_deref()),
        (seeded.users["nora"].as_str(), Some(seeded.users["mia"].as_str()))
    );

    // Back from leave: the next order is hers again.
    assert!(orders::delegation::clear_out_of_office(storage, &mia).await.unwrap());
    let next = submit(&state, &seeded, 30).await;
    run_due(&state, "node").await;
    let step = review_of(&state, &seeded, &next).await.steps[0].clone();
    assert_eq!((step.approver, step.on_behalf_of), (seeded.users["mia"].clone(), None));
}

#[tokio::test]
async fn a_delegation_loop_or_a_delegate_of_insufficient_role_is_refused_and_changes_nothing() {
    use axum::http::{Method, StatusCode};
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let seeded = seed(&state).await;
    let storage = state.storage.as_ref();
    let now = state.clock.now();
    let mia = caller(&seeded, "mia", Role::Manager, Some("north"));
    let hana = caller(&seeded, "hana", Role::Hq, None);
    orders::delegation::set_out_of_office(storage, &mia, "nora", now, now + 7 * 24 * HOUR, now).await.unwrap();
    let before = storage.delegations(seeded.tenant_id).await.unwrap();

    let refusals = [
        (
            &mia,
            "ravi",
            "delegate ravi is a rep of region north and cannot decide for a manager: choose a manager of region north or an hq user",
        ),
        (
            &mia,
            "otto",
            "delegate otto is a manager of region south and cannot decide for a manager: choose a manager of region north or an hq user",
        ),
        (&hana, "mia", "delegate mia is a manager of region north and cannot decide for a hq: choose an hq user"),
        (&mia, "mia", "mia cannot be their own delegate"),
        (&mia, "nobody", "unknown delegate \"nobody\": no such user"),
    ];
    for (who, delegate, expected) in refusals {
        let error =
            orders::delegation::set_out_of_office(storage, who, delegate, now, now + HOUR, now).await.unwrap_err();
        assert_eq!(error.to_string(), expected, "{delegate}");
    }
    let over = orders::delegation::set_out_of_office(storage, &hana, "hugo", now - 2 * HOUR, now - HOUR, now).await;
    assert!(over.unwrap_err().to_string().contains("is over already"));

    // nora → mia while mia → nora: refused on the dashboard's form, with the chain.
    let (cookie, csrf) = dashboard::session(&state, "nora").await;
    let locale = fieldsync_server::services::accounts::tenant_locale(storage, seeded.tenant_id).await.unwrap();
    let (from, to) = (locale.date(now), locale.date(now + 2 * 24 * HOUR));
    let form = format!("csrf={csrf}&action=set&delegate=mia&from={from}&to={to}");
    let (status, page) = dashboard::send(&state, Method::POST, "/dashboard/out-of-office", &cookie, Some(&form)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("delegating to mia would form a loop: nora → mia → nora"), "{page}");
    assert_eq!(storage.delegations(seeded.tenant_id).await.unwrap(), before, "nothing changed");

    // The same form to HQ is taken.
    let form = format!("csrf={csrf}&action=set&delegate=hana&from={from}&to={to}");
    let (status, page) = dashboard::send(&state, Method::POST, "/dashboard/out-of-office", &cookie, Some(&form)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Out of office set.") && page.contains("go to <b>hana</b>"), "{page}");
}

#[tokio::test]
async fn the_approvals_report_shows_where_time_went_by_step_approver_and_rule_from_the_read_model() {
    use axum::http::{Method, StatusCode};
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let seeded = seed(&state).await;
    let quick = submit(&state, &seeded, 30).await;
    run_due(&state, "node").await;
    // mia approves one order after an hour; the other escalates to hana at 4 h, who approves it
    // an hour later.
    state.clock.advance(HOUR);
    let mia = caller(&seeded, "mia", Role::Manager, Some("north"));
    let hana = caller(&seeded, "hana", Role::Hq, None);
    let approve = DecisionRequest { step: 0, verdict: Verdict::Approve, reason: String::new(), submission: None };
    let storage = state.storage.as_ref();
    orders::decide_order(storage, &state.caches, &mia, &quick, &approve, state.clock.now()).await.unwrap();
    state.clock.advance(3 * HOUR + MINUTE);
    run_due(&state, "node").await;
    state.clock.advance(HOUR);
    orders::decide_order(storage, &state.caches, &hana, &seeded.order_id, &approve, state.clock.now()).await.unwrap();

    let report = orders::report::report(storage, &mia, 30, state.clock.now()).await.unwrap();
    let find =
        |by: &str, key: &str| report.groups.iter().find(|g| g.by.as_str() == by && g.key == key).cloned().unwrap();
    let first = find("step", "1");
    assert_eq!((first.steps, first.decided, first.overdue, first.escalations), (2, 2, 1, 1));
    let (median, p90) = (first.median_ms.unwrap(), first.p90_ms.unwrap());
    assert!((HOUR..HOUR + MINUTE).contains(&median), "the quicker of two: {median}");
    assert!((5 * HOUR..5 * HOUR + 2 * MINUTE).contains(&p90), "the escalated one took 5 h: {p90}");
    let by_mia = find("approver", "mia");
    assert_eq!((by_mia.steps, by_mia.overdue, by_mia.escalations), (2, 1, 1), "the escalated step counts for mia");
    assert_eq!(find("rule", "large-order").steps, 2);

    let (cookie, _) = dashboard::session(&state, "mia").await;
    let (status, csv) =
        dashboard::send(&state, Method::GET, "/dashboard/approvals/report.csv?days=90", &cookie, None).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "days,by,key,steps,decided,median_ms,p90_ms,overdue,escalations");
    assert!(lines[1].starts_with(&format!("90,step,1,2,2,{median},{p90},1,1")), "{csv}");
    assert!(lines.iter().any(|l| l.starts_with("90,approver,mia,2,2,")), "{csv}");
    let (status, page) = dashboard::send(&state, Method::GET, "/dashboard/approvals/report", &cookie, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"report-approver\"") && page.contains("<td>large-order</td>"), "{page}");
    assert!(page.contains("id=\"decision-time\""), "the chart: {page}");
    assert_eq!(report.median_by_day.len(), 30);
    let decided_days: Vec<&(String, Option<i64>)> = report.median_by_day.iter().filter(|(_, m)| m.is_some()).collect();
    assert!(
        !decided_days.is_empty() && decided_days.len() <= 2,
        "decided today (or just after midnight): {decided_days:?}"
    );
    let (status, _) = dashboard::send(&state, Method::GET, "/dashboard/approvals/report?days=7", &cookie, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "only 30 or 90 days");
}

/// The draft of the policy tests: large orders start at 1,000.00 and need the manager and HQ.
fn draft(min_total_cents: i64) -> orders::policy::PolicyText {
    let text = format!(
        r#"{{"reminder_percent": 50, "rules": {{"large-order": {{"name": "orders of 1,000.00 or more",
            "min_total_cents": {min_total_cents}, "approvers": ["manager", "hq"], "respond_within": "8h",
            "escalate_to": "next-manager-up"}}}}}}"#
    );
    orders::policy::PolicyText::parse(&text).unwrap()
}

#[tokio::test]
async fn the_what_if_re_routes_the_last_thirty_days_and_counts_routes_automatic_orders_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let seeded = seed(&state).await; // 500.00
    for qty in [5, 30, 60] {
        submit(&state, &seeded, qty).await; // 100.00, 600.00, 1,200.00
    }
    let hana = caller(&seeded, "hana", Role::Hq, None);
    let (check, what_if) =
        orders::policy::preview(state.storage.as_ref(), &state.caches, &hana, &draft(100_000), state.clock.now())
            .await
            .unwrap();
    assert_eq!((check.errors.len(), check.warnings.len()), (0, 0), "{check:?}");
    let what_if = what_if.unwrap();
    assert_eq!(what_if.orders, 4);
    // Now: 100.00 automatic, the three of 400.00 or more to mia. The draft: only 1,200.00 is
    // routed, to mia then hana.
    assert_eq!(what_if.current_routes, BTreeMap::from([("automatic".into(), 1), ("manager".into(), 3)]));
    assert_eq!(what_if.routes, BTreeMap::from([("automatic".into(), 3), ("manager → hq".into(), 1)]));
    assert_eq!((what_if.current_automatic, what_if.automatic, what_if.changed), (1, 3, 3));
    assert_eq!(what_if.load, BTreeMap::from([("mia".into(), (3, 1)), ("hana".into(), (0, 1))]));

    let mia = caller(&seeded, "mia", Role::Manager, Some("north"));
    let refused =
        orders::policy::preview(state.storage.as_ref(), &state.caches, &mia, &draft(1), state.clock.now()).await;
    assert!(
        matches!(refused, Err(Error::Refused(Refusal { kind: RefusalKind::Forbidden, .. }))),
        "only HQ edits the policy"
    );
}

#[tokio::test]
async fn publishing_a_policy_routes_new_orders_with_it_and_leaves_routed_ones_on_their_version() {
    use axum::http::{Method, StatusCode};
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let seeded = seed(&state).await;
    run_due(&state, "node").await;
    let before = review(&state, &seeded).await;
    assert!(before.steps[0].rule.ends_with("(policy v1)"), "{}", before.steps[0].rule);

    // A draft with an unknown tier is refused on the editor's form and publishes nothing.
    let (cookie, csrf) = dashboard::session(&state, "hana").await;
    let mut bad = draft(100_000);
    bad.rules.get_mut("large-order").unwrap().tiers = vec!["Z".into()];
    bad.rules.get_mut("large-order").unwrap().approvers = vec!["auditor".into()];
    let form = |action: &str, text: &orders::policy::PolicyText| {
        let json = serde_json::to_string(text).unwrap();
        let encoded: String = json.bytes().map(|b| format!("%{b:02X}")).collect();
        format!("csrf={csrf}&action={action}&policy={encoded}")
    };
    let (status, page) =
        dashboard::send(&state, Method::POST, "/dashboard/policy", &cookie, Some(&form("publish", &bad))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("rule large-order: unknown approver &quot;auditor&quot;: expected manager or hq"), "{page}");
    bad.rules.get_mut("large-order").unwrap().approvers = vec!["hq".into()];
    let (status, page) =
        dashboard::send(&state, Method::POST, "/dashboard/policy", &cookie, Some(&form("check", &bad))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("rule large-order: unknown tier &quot;Z&quot;"), "{page}");
    assert_eq!(
        orders::policy::current(state.storage.as_ref(), &state.caches, seeded.tenant_id).await.unwrap().version,
        1
    );

    let (status, page) =
        dashboard::send(&state, Method::POST, "/dashboard/policy", &cookie, Some(&form("publish", &draft(100_000))))
            .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Published as version 2."), "{page}");

    // The order routed under v1 keeps its step; new ones are routed with v2.
    let small = submit(&state, &seeded, 30).await; // 600.00: automatic under v2
    let large = submit(&state, &seeded, 60).await; // 1,200.00: manager then HQ under v2
    run_due(&state, "node").await;
    assert_eq!(review(&state, &seeded).await.steps, before.steps, "not re-routed");
    assert_eq!(review_of(&state, &seeded, &small).await.outcome, ReviewOutcome::Approved);
    let routed = review_of(&state, &seeded, &large).await;
    let rules: Vec<&str> = routed.steps.iter().map(|s| s.rule.as_str()).collect();
    assert_eq!(rules, vec!["large-order: orders of 1,000.00 or more (policy v2)"; 2]);
    assert_eq!(routed.steps[0].sla.as_ref().unwrap().respond_within_minutes, 480);
}

/// The north region's inventory: 100 cases of COLA on hand, `reserved` of them reserved.
async fn north_cola(state: &AppState, seeded: &Seeded, reserved: i64) -> DocumentId {
    let inventory = fieldsync_core::doc::Inventory {
        warehouse: "WH-NORTH".into(),
        region: "north".into(),
        levels: BTreeMap::from([(
            "COLA".to_owned(),
            fieldsync_core::doc::StockLevel { on_hand: 100, reserved, safety: 0 },
        )]),
        as_of: now_ms(),
    };
    documents::create_as_relay(state.storage.as_ref(), seeded.tenant_id, &inventory).await.unwrap()
}

#[tokio::test]
async fn a_batch_of_reviews_reserves_a_regions_stock_in_one_change_the_earlier_orders_first() {
    use fieldsync_core::doc::Inventory;
    use fieldsync_core::rules::code;
    use fieldsync_server::services::catalog::stock::publish_reserved;

    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let storage = state.storage.as_ref();
    let seeded = seed(&state).await;
    let inventory_id = north_cola(&state, &seeded, 0).await;
    let changes =
        |stored: fieldsync_server::storage::StoredDoc| documents::load(&stored).unwrap().get_changes(&[]).len();
    let changes_before = changes(storage.load_doc(seeded.tenant_id, &inventory_id).await.unwrap().unwrap());
    // 25 (the seeded order) + 30 + 30 fit in 100 cases; the last 30 do not.
    let mut batch = vec![seeded.order_id.clone()];
    for _ in 0..3 {
        batch.push(submit(&state, &seeded, 30).await);
    }

    let done = orders::review::review_orders(storage, &state.caches, seeded.tenant_id, &batch, state.clock.now())
        .await
        .unwrap();

    let outcomes: Vec<_> = done.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        outcomes,
        [
            ReviewOutcome::NeedsApproval,
            ReviewOutcome::NeedsApproval,
            ReviewOutcome::NeedsApproval,
            ReviewOutcome::Rejected
        ]
        .map(orders::ReviewDone::Reviewed)
    );
    let last = review_of(&state, &seeded, &batch[3]).await;
    assert!(last.findings.iter().any(|f| f.code == code::INSUFFICIENT_STOCK), "{:?}", last.findings);
    let orders: Vec<String> = batch.iter().map(ToString::to_string).collect();
    let read = storage.reservations(seeded.tenant_id, inventory_id.as_str(), &orders, &[]).await.unwrap();
    let held: Vec<Option<i64>> =
        orders.iter().map(|order| read.orders.get(order).and_then(|units| units.get("COLA").copied())).collect();
    assert_eq!(held, [Some(25), Some(30), Some(30), None]);
    let (version, totals) = storage.reserved_totals(seeded.tenant_id, inventory_id.as_str()).await.unwrap();
    assert_eq!(totals, BTreeMap::from([("COLA".to_owned(), 85)]));
    // The document is not written by the reviews; one publish writes the total, a second nothing.
    let stored = storage.load_doc(seeded.tenant_id, &inventory_id).await.unwrap().unwrap();
    assert_eq!(changes(stored), changes_before);
    assert!(publish_reserved(storage, &state.caches, seeded.tenant_id, &inventory_id).await.unwrap());
    assert!(!publish_reserved(storage, &state.caches, seeded.tenant_id, &inventory_id).await.unwrap());
    let stored = storage.load_doc(seeded.tenant_id, &inventory_id).await.unwrap().unwrap();
    assert_eq!(changes(stored), changes_before + 1);
    let after: Inventory = documents::read(storage, seeded.tenant_id, &inventory_id).await.unwrap();
    assert_eq!(after.levels["COLA"].reserved, 85);

    // Reviewing the same orders again changes nothing: each review already pins its order.
    let again = orders::review::review_orders(storage, &state.caches, seeded.tenant_id, &batch, state.clock.now())
        .await
        .unwrap();
    assert!(again.into_iter().all(|done| done.unwrap() == orders::ReviewDone::AlreadyReviewed));
    assert_eq!(storage.reserved_totals(seeded.tenant_id, inventory_id.as_str()).await.unwrap(), (version, totals));
}

/// Adds to a stored inventory the `reservations` map documents were written with when they kept
/// every order's reservation, holding `entries`.
async fn add_reservation_entries(state: &AppState, tenant_id: i64, id: &DocumentId, entries: &[(&str, &str, i64)]) {
    use automerge::transaction::Transactable;
    let storage = state.storage.as_ref();
    let stored = storage.load_doc(tenant_id, id).await.unwrap().unwrap();
    let mut am = documents::load(&stored).unwrap();
    am.set_actor(documents::relay_actor(tenant_id));
    let before = am.get_heads();
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        let map = tx.put_object(automerge::ROOT, "reservations", automerge::ObjType::Map)?;
        for (order, sku, units) in entries {
            let entry = tx.put_object(&map, *order, automerge::ObjType::Map)?;
            tx.put(&entry, *sku, *units)?;
        }
        Ok(())
    })
    .unwrap();
    let write = fieldsync_server::storage::DocWrite {
        id: id.clone(),
        meta: stored.meta.clone(),
        expected_heads: stored.heads.clone(),
        snapshot: am.save(),
        heads: documents::heads_of(&am),
        changes: am.save_after(&before),
        origin_device: None,
        new_actors: Vec::new(),
        blobs: Vec::new(),
        job: None,
        read_model: fieldsync_server::read_model::row_changes(id, &stored.meta, &am),
        events: Vec::new(),
    };
    let outcome = storage.write_doc(tenant_id, write).await.unwrap();
    assert!(matches!(outcome, fieldsync_server::storage::WriteOutcome::Stored(_)));
}

#[tokio::test]
async fn an_inventory_written_with_reservation_entries_moves_them_into_the_record_and_its_document_drops_them() {
    use fieldsync_core::doc::{Inventory, StockLevel};
    use fieldsync_server::services::catalog::stock::publish_reserved;

    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let storage = state.storage.as_ref();
    let seeded = seed(&state).await;
    // 40 reserved: 12 by an order with an entry, 28 from before entries were kept.
    let inventory_id = north_cola(&state, &seeded, 40).await;
    add_reservation_entries(&state, seeded.tenant_id, &inventory_id, &[("order-0", "COLA", 12)]).await;
    // 60 are left: the seeded order's 25 fit, another 30 fit, the next 30 do not.
    let mut batch = vec![seeded.order_id.clone()];
    for _ in 0..2 {
        batch.push(submit(&state, &seeded, 30).await);
    }
    let done = orders::review::review_orders(storage, &state.caches, seeded.tenant_id, &batch, state.clock.now())
        .await
        .unwrap();
    let outcomes: Vec<_> = done.into_iter().map(|done| done.unwrap()).collect();
    assert_eq!(
        outcomes,
        [ReviewOutcome::NeedsApproval, ReviewOutcome::NeedsApproval, ReviewOutcome::Rejected]
            .map(orders::ReviewDone::Reviewed)
    );
    let moved =
        storage.reservations(seeded.tenant_id, inventory_id.as_str(), &["order-0".to_owned()], &[]).await.unwrap();
    assert_eq!(moved.orders["order-0"], BTreeMap::from([("COLA".to_owned(), 12)]));
    assert_eq!(moved.totals["COLA"], 40 + 25 + 30);

    assert!(publish_reserved(storage, &state.caches, seeded.tenant_id, &inventory_id).await.unwrap());
    let stored = storage.load_doc(seeded.tenant_id, &inventory_id).await.unwrap().unwrap();
    let am = documents::load(&stored).unwrap();
    assert!(automerge::ReadDoc::get(&am, automerge::ROOT, "reservations").unwrap().is_none());
    let after: Inventory = fieldsync_core::doc::read(&inventory_id, &am).unwrap();
    assert_eq!(after.levels["COLA"], StockLevel { on_hand: 100, reserved: 95, safety: 0 });
}

#[tokio::test]
async fn an_order_twice_in_one_batch_reserves_its_units_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = open_sqlite(dir.path());
    let storage = state.storage.as_ref();
    let seeded = seed(&state).await;
    let inventory_id = north_cola(&state, &seeded, 0).await;
    let twice = [seeded.order_id.clone(), seeded.order_id.clone()];

    let done = orders::review::review_orders(storage, &state.caches, seeded.tenant_id, &twice, state.clock.now())
        .await
        .unwrap();

    assert_eq!(done[0].as_ref().unwrap(), &orders::ReviewDone::Reviewed(ReviewOutcome::NeedsApproval));
    let (_, totals) = storage.reserved_totals(seeded.tenant_id, inventory_id.as_str()).await.unwrap();
    assert_eq!(totals, BTreeMap::from([("COLA".to_owned(), 25)]), "the seeded order's 25 cases, once");
}
