//! The HQ dashboard's sessions and access rules through the relay's router
//! (`tower::ServiceExt::oneshot`): cookie logins, CSRF checks, refused reps, per-role pages.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fieldsync_core::Role;
use fieldsync_server::config::PasswordCost;
use fieldsync_server::dashboard::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE, csrf_token};
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::{AppState, app};
use tower::ServiceExt;

use common::dashboard::{self, PASSWORD, Reply, relay, router, send, session_of};

async fn sign_in(state: &AppState, username: &str) -> Reply {
    dashboard::sign_in(state, username, PASSWORD).await
}

async fn session(state: &AppState, username: &str) -> String {
    let reply = sign_in(state, username).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let cookie = reply.cookies.iter().find(|c| c.starts_with(SESSION_COOKIE)).unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    session_of(&reply).unwrap()
}

#[tokio::test]
async fn pages_without_a_session_send_the_browser_to_the_login() {
    let (_dir, state) = relay().await;
    for path in [
        "/",
        "/dashboard/orders",
        "/dashboard/devices",
        "/dashboard/events",
        "/dashboard/orders.csv",
        "/dashboard/stores",
    ] {
        let reply = send(&state, Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(reply.location.as_deref(), Some("/dashboard/login"), "{path}");
    }
    let form = send(&state, Method::GET, "/dashboard/login", None, None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.cookies.iter().any(|c| c.starts_with(LOGIN_CSRF_COOKIE)));
}

#[tokio::test]
async fn a_login_without_the_matching_form_token_is_refused_and_sets_no_session() {
    let (_dir, state) = relay().await;
    let form = "tenant=acme&username=hana&password=correct+horse+battery&csrf=forged";
    for cookie in [None, Some(format!("{LOGIN_CSRF_COOKIE}=other"))] {
        let reply = send(&state, Method::POST, "/dashboard/login", cookie.as_deref(), Some(form)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(session_of(&reply).is_none());
    }
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_an_error() {
    let (_dir, state) = relay().await;
    let form = "tenant=acme&username=hana&password=wrong-password&csrf=abc";
    let reply =
        send(&state, Method::POST, "/dashboard/login", Some(&format!("{LOGIN_CSRF_COOKIE}=abc")), Some(form)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains("wrong company, username or password"));
    assert!(session_of(&reply).is_none());
}

#[tokio::test]
async fn reps_are_refused_and_get_no_session() {
    let (_dir, state) = relay().await;
    let reply = sign_in(&state, "ravi").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("reps use the FieldSync phone app"));
    assert!(session_of(&reply).is_none());
}

#[tokio::test]
async fn each_role_opens_only_its_sections() {
    let (_dir, state) = relay().await;
    let expect = [
        ("hana", [StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK]),
        ("mia", [StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK]),
        (
            "sofia",
            [
                StatusCode::OK,
                StatusCode::FORBIDDEN,
                StatusCode::OK,
                StatusCode::FORBIDDEN,
                StatusCode::FORBIDDEN,
                StatusCode::OK,
            ],
        ),
    ];
    let paths = [
        "/",
        "/dashboard/orders",
        "/dashboard/inspections",
        "/dashboard/devices",
        "/dashboard/orders.csv",
        "/dashboard/stores",
    ];
    for (user, statuses) in expect {
        let cookie = format!("{SESSION_COOKIE}={}", session(&state, user).await);
        for (path, status) in paths.iter().zip(statuses) {
            let reply = send(&state, Method::GET, path, Some(&cookie), None).await;
            assert_eq!(reply.status, status, "{user} {path}: {}", reply.body);
        }
    }
}

#[tokio::test]
async fn an_unknown_document_is_not_found_for_everyone() {
    let (_dir, state) = relay().await;
    let cookie = format!("{SESSION_COOKIE}={}", session(&state, "hana").await);
    for path in ["/dashboard/orders/nonsense", "/dashboard/inspections/2NEpo7TZRRrLZSi2U"] {
        let reply = send(&state, Method::GET, path, Some(&cookie), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn logout_needs_the_session_csrf_token_and_then_ends_the_session() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let forged = send(&state, Method::POST, "/dashboard/logout", Some(&cookie), Some("csrf=forged")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(send(&state, Method::GET, "/", Some(&cookie), None).await.status, StatusCode::OK);

    let form = format!("csrf={}", csrf_token(&token));
    let out = send(&state, Method::POST, "/dashboard/logout", Some(&cookie), Some(&form)).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.cookies.iter().any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0")));
    let after = send(&state, Method::GET, "/", Some(&cookie), None).await;
    assert_eq!(after.location.as_deref(), Some("/dashboard/login"));
}

#[tokio::test]
async fn the_session_cookie_reads_but_never_writes_through_the_api() {
    let (_dir, state) = relay().await;
    let cookie = format!("{SESSION_COOKIE}={}", session(&state, "hana").await);
    let read = send(&state, Method::GET, "/v1/orders", Some(&cookie), None).await;
    assert_eq!(read.status, StatusCode::OK);
    let sha = "0".repeat(64);
    let write = send(&state, Method::PUT, &format!("/v1/blobs/{sha}"), Some(&cookie), Some("x")).await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cookie_alone_changes_nothing_on_any_write_route() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let order = fieldsync_core::DocumentId::random();
    let sha = "0".repeat(64);
    for (method, uri) in [
        (Method::POST, "/v1/sync".to_owned()),
        (Method::POST, format!("/v1/orders/{order}/decision")),
        (Method::POST, "/v1/import/products".to_owned()),
        (Method::PUT, format!("/v1/blobs/{sha}")),
        (Method::POST, "/v1/auth/logout".to_owned()),
        (Method::DELETE, format!("/v1/blobs/{sha}")),
    ] {
        let reply = send(&state, method.clone(), &uri, Some(&cookie), Some("x=1")).await;
        assert!(
            matches!(reply.status, StatusCode::UNAUTHORIZED | StatusCode::METHOD_NOT_ALLOWED),
            "{method} {uri} with only the cookie answered {}",
            reply.status
        );
    }
    // The dashboard's own forms need the session's CSRF token besides the cookie.
    for uri in ["/dashboard/logout".to_owned(), format!("/dashboard/orders/{order}/decision")] {
        let reply = send(&state, Method::POST, &uri, Some(&cookie), Some("csrf=forged&step=0&verdict=approve")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri}");
    }
    assert_eq!(send(&state, Method::GET, "/", Some(&cookie), None).await.status, StatusCode::OK, "still signed in");
}

/// Serves the relay on a real socket bound to 127.0.0.1:0.
async fn serve(state: &AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
    address
}

/// Sends a WebSocket upgrade of `/v1/ws` with these extra headers; the answer's status code.
async fn upgrade_status(address: SocketAddr, extra: &[(&str, &str)]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!(
        "GET /v1/ws HTTP/1.1\r\nHost: {address}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 512];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the relay closed without answering");
        answer.extend_from_slice(&buffer[..read]);
    }
    let line = String::from_utf8_lossy(&answer).lines().next().unwrap().to_owned();
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_session_cookie_alone_cannot_open_the_live_channel() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let address = serve(&state).await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    assert_eq!(upgrade_status(address, &[("Cookie", &cookie)]).await, 401);
    let same_site = format!("http://{address}");
    assert_eq!(upgrade_status(address, &[("Cookie", &cookie), ("Origin", &same_site)]).await, 401);
    // The very same session as a bearer token (how a phone presents it) opens it.
    let bearer = format!("Bearer {token}");
    assert_eq!(upgrade_status(address, &[("Authorization", &bearer)]).await, 101);
}

#[tokio::test]
async fn a_websocket_upgrade_from_another_sites_page_is_refused_whatever_it_presents() {
    let (_dir, state) = relay().await;
    let bearer = format!("Bearer {}", session(&state, "hana").await);
    let address = serve(&state).await;
    let auth = ("Authorization", bearer.as_str());
    for origin in ["https://evil.example", "null", &format!("http://{address}.evil.example"), "http://127.0.0.1:1"] {
        assert_eq!(upgrade_status(address, &[auth, ("Origin", origin)]).await, 403, "origin {origin}");
    }
    assert_eq!(upgrade_status(address, &[auth, ("Origin", &format!("http://{address}"))]).await, 101);
    assert_eq!(upgrade_status(address, &[auth]).await, 101, "phones send no origin");
}

#[tokio::test]
async fn behind_https_the_cookies_are_secure_and_browsers_are_told_to_keep_to_https() {
    let (dir, state) = relay().await;
    let plain = sign_in(&state, "hana").await;
    assert!(plain.cookies.iter().all(|c| !c.contains("Secure")), "{:?}", plain.cookies);
    assert!(plain.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());

    let mut config = (*state.config).clone();
    config.behind_https = true;
    let state = AppState { config: std::sync::Arc::new(config), ..state };
    let form = send(&state, Method::GET, "/dashboard/login", None, None).await;
    let signed_in = sign_in(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={}", session_of(&signed_in).unwrap());
    let csrf = csrf_token(session_of(&signed_in).as_deref().unwrap());
    let out = send(&state, Method::POST, "/dashboard/logout", Some(&cookie), Some(&format!("csrf={csrf}"))).await;
    for reply in [&form, &signed_in, &out] {
        assert!(!reply.cookies.is_empty());
        for set in &reply.cookies {
            assert!(set.contains("; Secure") && set.contains("HttpOnly"), "{set}");
        }
        let hsts = reply.headers.get(header::STRICT_TRANSPORT_SECURITY).map(|v| v.to_str().unwrap());
        assert_eq!(hsts, Some("max-age=31536000"));
        assert_eq!(reply.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    }
    drop(dir);
}

#[tokio::test]
async fn the_chart_and_the_exports_are_served_as_svg_and_csv() {
    let (_dir, state) = relay().await;
    let cookie = format!("{SESSION_COOKIE}={}", session(&state, "mia").await);
    let svg = send(&state, Method::GET, "/dashboard/orders-per-day.svg", Some(&cookie), None).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert!(svg.body.starts_with("<svg") && svg.body.matches("<rect").count() == 14, "{}", svg.body);
    let csv = send(&state, Method::GET, "/dashboard/inspections.csv", Some(&cookie), None).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("inspection_id,checked_in_at,"), "{}", csv.body);
}

// ---------------------------------------------------------------------------------------------
// Approve / reject, stores, charts: a tenant with stores, orders waiting for approval, a catalog
// and an inspection, written as the relay writes them.

mod world {
    use std::collections::BTreeMap;

    use fieldsync_core::DocumentId;
    use fieldsync_core::clock::now_ms;
    use fieldsync_core::doc::{
        ApprovalStep, Catalog, GeoFix, Inspection, InspectionScore, InspectionStatus, Order, OrderLine, OrderReview,
        OrderStatus, Product, RetailStore, ReviewOutcome, StepState, Visit,
    };
    use fieldsync_server::documents::{create_as_relay, create_as_relay_with_id, edit_as_relay};
    use fieldsync_server::services::orders::review_id;

    use super::*;

    pub const NORTH_LATITUDE: f64 = 52.520_008;

    pub struct World {
        pub tenant_id: i64,
        pub north_store: DocumentId,
        pub south_store: DocumentId,
        /// North, one pending step for mia.
        pub north_order: DocumentId,
        /// South, one pending step for otto.
        pub south_order: DocumentId,
        /// North, step 0 approved by mia, step 1 pending for hana.
        pub two_step_order: DocumentId,
    }

    fn store(name: &str, region: &str, rep: &str, supervisor: &str) -> RetailStore {
        RetailStore {
            name: name.into(),
            code: if region == "north" { "N-001".into() } else { "S-001".into() },
            address: "Main St 1".into(),
            customer_id: format!("C-{name}"),
            region: region.into(),
            tier: "B".into(),
            latitude: NORTH_LATITUDE,
            longitude: 13.404_954,
            geofence_m: 0.0,
            rep: rep.into(),
            supervisor: supervisor.into(),
            active: true,
        }
    }

    fn product(name: &str) -> Product {
        Product {
            name: name.into(),
            category: "beverages".into(),
            unit: "case".into(),
            base_price_cents: 2000,
            active: true,
        }
    }

    pub async fn build(state: &AppState) -> World {
        let storage = state.storage.as_ref();
        for (username, role, region) in [("otto", Role::Manager, Some("south")), ("rosa", Role::Rep, Some("south"))] {
            let account = NewAccount { tenant: "acme", username, display_name: "", password: PASSWORD, role, region };
            accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
        }
        let tenant_id = storage.find_tenant("acme").await.unwrap().unwrap().id;
        let users: BTreeMap<String, String> =
            storage.list_users(tenant_id).await.unwrap().into_iter().map(|u| (u.username, u.id)).collect();
        let north_store =
            create_as_relay(storage, tenant_id, &store("Corner North", "north", &users["ravi"], &users["sofia"]))
                .await
                .unwrap();
        let south_store =
            create_as_relay(storage, tenant_id, &store("Harbour South", "south", &users["rosa"], "nobody"))
                .await
                .unwrap();
        let now = now_ms();
        let mut catalog = Catalog::with_products(BTreeMap::from([("OLD-1".to_owned(), product("Old cola"))]), now);
        let catalog_id = create_as_relay(storage, tenant_id, &catalog).await.unwrap();
        catalog.products.insert("NEW-9".to_owned(), product("New lemonade"));
        let added = catalog.products.clone();
        edit_as_relay(storage, tenant_id, &catalog_id, move |c: &mut Catalog| {
            c.products = added.clone();
            Ok(())
        })
        .await
        .unwrap();

        let order = |owner: &str, store: &DocumentId, sku: &str, qty: i64| Order {
            owner: owner.into(),
            store_id: store.to_string(),
            customer_id: "C".into(),
            status: OrderStatus::Submitted,
            lines: BTreeMap::from([(
                "l1".to_owned(),
                OrderLine { sku: sku.into(), qty, unit_price_cents: 2000, discount_bp: 0, position: 0 },
            )]),
            notes: String::new(),
            created_at: now - 3 * 3_600_000,
            updated_at: now - 3 * 3_600_000,
            submitted_at: Some(now - 3 * 3_600_000),
            submission: 1,
        };
        let step = |role: &str, approver: &str, state: StepState| ApprovalStep {
            on_behalf_of: None,
            role: role.into(),
            approver: approver.into(),
            rule: "large-order: orders of 400.00 or more (policy v1)".into(),
            state,
            decided_at: (state != StepState::Pending).then_some(now - 3_600_000),
            reason: String::new(),
            sla: None,
        };
        let mut ids = Vec::new();
        for (owner, store, sku, steps) in [
            ("ravi", &north_store, "NEW-9", vec![step("manager", &users["mia"], StepState::Pending)]),
            ("rosa", &south_store, "OLD-1", vec![step("manager", &users["otto"], StepState::Pending)]),
            (
                "ravi",
                &north_store,
                "OLD-1",
                vec![
                    step("manager", &users["mia"], StepState::Approved),
                    step("hq", &users["hana"], StepState::Pending),
                ],
            ),
        ] {
            let value = order(&users[owner], store, sku, 25);
            let id = create_as_relay(storage, tenant_id, &value).await.unwrap();
            let review = OrderReview {
                number: String::new(),
                order_id: id.to_string(),
                owner: users[owner].clone(),
                store_id: store.to_string(),
                submission: 1,
                reviewed_heads: Vec::new(),
                outcome: ReviewOutcome::NeedsApproval,
                findings: Vec::new(),
                steps,
                total_cents: 50_000,
                submitted_at: value.submitted_at,
                reviewed_at: now - 3 * 3_600_000,
                decided_at: None,
            };
            create_as_relay_with_id(storage, tenant_id, &review_id(id.as_str()), &review).await.unwrap();
            ids.push(id);
        }

        // One scored visit of the north store, yesterday.
        let position = GeoFix { latitude: NORTH_LATITUDE, longitude: 13.404_954, accuracy_m: 6.0 };
        let inspection = Inspection {
            owner: users["sofia"].clone(),
            store_id: north_store.to_string(),
            template_id: DocumentId::random().to_string(),
            status: InspectionStatus::CheckedOut,
            check_in: Visit { at: now - 86_400_000, position },
            check_out: Some(Visit { at: now - 86_000_000, position }),
            answers: BTreeMap::new(),
            photos: BTreeMap::new(),
            updated_at: now - 86_000_000,
            promotions_started: BTreeMap::new(),
        };
        let inspection_id = create_as_relay(storage, tenant_id, &inspection).await.unwrap();
        let score = InspectionScore {
            inspection_id: inspection_id.to_string(),
            owner: users["sofia"].clone(),
            store_id: north_store.to_string(),
            scored_heads: Vec::new(),
            scoring_version: 1,
            score: 73.5,
            verdict: fieldsync_core::doc::Trust::Review,
            items: Vec::new(),
            photos: Vec::new(),
            reasons: Vec::new(),
            reason_messages: Vec::new(),
            scored_at: now - 86_000_000,
        };
        create_as_relay(storage, tenant_id, &score).await.unwrap();

        let [north_order, south_order, two_step_order] = ids.try_into().unwrap();
        World { tenant_id, north_store, south_store, north_order, south_order, two_step_order }
    }

    pub async fn review(state: &AppState, world: &World, order: &DocumentId) -> OrderReview {
        fieldsync_server::documents::read(state.storage.as_ref(), world.tenant_id, &review_id(order.as_str()))
            .await
            .unwrap()
    }
}

use world::World;

async fn feed(state: &AppState, world: &World) -> u64 {
    state.storage.feed_position(world.tenant_id).await.unwrap()
}

fn decision_form(token: &str, step: u64, verdict: &str, reason: &str) -> String {
    format!("csrf={}&step={step}&submission=1&verdict={verdict}&reason={}", csrf_token(token), reason.replace(' ', "+"))
}

async fn post_decision(state: &AppState, token: &str, order: &fieldsync_core::DocumentId, form: &str) -> Reply {
    let cookie = format!("{SESSION_COOKIE}={token}");
    send(state, Method::POST, &format!("/dashboard/orders/{order}/decision"), Some(&cookie), Some(form)).await
}

async fn get(state: &AppState, token: &str, path: &str) -> Reply {
    send(state, Method::GET, path, Some(&format!("{SESSION_COOKIE}={token}")), None).await
}

#[tokio::test]
async fn the_order_lines_export_has_one_row_per_line_with_the_store_code_and_honours_the_filters() {
    let (_dir, state) = relay().await;
    let _world = world::build(&state).await;
    let token = session(&state, "hana").await;
    let all = get(&state, &token, "/dashboard/order-lines.csv?from=").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let lines: Vec<&str> = all.body.lines().collect();
    assert_eq!(
        lines[0],
        "order_id,number,store_code,store,rep,sku,product,qty,unit_price,line_total,currency,status,submitted_or_created_at,decided_at"
    );
    assert_eq!(lines.len(), 4, "one row per line of the three orders: {}", all.body);
    assert!(lines.iter().any(|l| l.contains(",N-001,Corner North,ravi,NEW-9,New lemonade,")), "{}", all.body);
    // The orders page's search, by store code: only the south order's line.
    let south = get(&state, &token, "/dashboard/order-lines.csv?from=&q=s-001").await;
    let rows: Vec<&str> = south.body.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{}", south.body);
    assert!(rows[0].contains(",S-001,Harbour South,rosa,OLD-1,Old cola,"), "{}", south.body);
    // A supervisor does not see orders, nor their lines.
    let sofia = session(&state, "sofia").await;
    assert_eq!(get(&state, &sofia, "/dashboard/order-lines.csv").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_approver_of_the_current_step_alone_sees_the_buttons_and_approves_through_the_form() {
    let (_dir, state) = relay().await;
    let world = world::build(&state).await;
    let (mia, hana) = (session(&state, "mia").await, session(&state, "hana").await);
    let page = format!("/dashboard/orders/{}", world.north_order);

    let theirs = get(&state, &mia, &page).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(theirs.body.contains("id=\"approve\"") && theirs.body.contains("id=\"reject\""), "{}", theirs.body);
    assert!(theirs.body.contains(&format!("name=\"csrf\" value=\"{}\"", csrf_token(&mia))));
    let not_theirs = get(&state, &hana, &page).await;
    assert_eq!(not_theirs.status, StatusCode::OK);
    assert!(!not_theirs.body.contains("id=\"approve\""), "hq is not this step's approver");

    let reply = post_decision(&state, &mia, &world.north_order, &decision_form(&mia, 0, "approve", "")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location, Some(format!("{page}?decided=approved")));
    let review = world::review(&state, &world, &world.north_order).await;
    assert_eq!(review.outcome.as_str(), "approved");
    assert_eq!(review.steps[0].state, fieldsync_core::doc::StepState::Approved);

    let after = get(&state, &mia, &format!("{page}?decided=approved")).await;
    assert!(after.body.contains("the order is approved") && !after.body.contains("id=\"approve\""), "{}", after.body);
    // Deciding again from a stale page is a conflict, shown on the page.
    let again = post_decision(&state, &mia, &world.north_order, &decision_form(&mia, 0, "approve", "")).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("id=\"decision-error\""));
    // The decided order now counts in the approval-time chart.
    let orders = get(&state, &mia, "/dashboard/orders").await;
    assert!(orders.body.contains("orders that needed approval (1 decided)"), "{}", orders.body);
}

#[tokio::test]
async fn a_rejection_without_a_reason_is_refused_with_a_clear_error_and_changes_nothing() {
    let (_dir, state) = relay().await;
    let world = world::build(&state).await;
    let mia = session(&state, "mia").await;
    let before = feed(&state, &world).await;
    let reply = post_decision(&state, &mia, &world.north_order, &decision_form(&mia, 0, "reject", "   ")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("needs a reason") && reply.body.contains("id=\"decision-error\""), "{}", reply.body);
    // The error names the step as the page numbers it.
    assert!(
        reply.body.contains("Step 1 waits for you.") && reply.body.contains("rejecting step 1 of order"),
        "{}",
        reply.body
    );
    for bad in [
        format!("csrf={}&step=x&submission=1&verdict=approve", csrf_token(&mia)),
        format!("csrf={}&step=0&submission=1&verdict=maybe", csrf_token(&mia)),
    ] {
        let reply = post_decision(&state, &mia, &world.north_order, &bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {}", reply.body);
    }
    assert_eq!(feed(&state, &world).await, before, "a refused decision writes nothing");
    assert_eq!(world::review(&state, &world, &world.north_order).await.outcome.as_str(), "needs-approval");

    let form = decision_form(&mia, 0, "reject", "price agreement expired");
    let reply = post_decision(&state, &mia, &world.north_order, &form).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let review = world::review(&state, &world, &world.north_order).await;
    assert_eq!((review.outcome.as_str(), review.steps[0].reason.as_str()), ("rejected", "price agreement expired"));
}

#[tokio::test]
async fn a_supervisor_is_refused_the_approval_post_and_the_hq_only_pages() {
    let (_dir, state) = relay().await;
    let world = world::build(&state).await;
    let sofia = session(&state, "sofia").await;
    let before = feed(&state, &world).await;
    let reply = post_decision(&state, &sofia, &world.north_order, &decision_form(&sofia, 0, "approve", "")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    for path in ["/dashboard/devices", "/dashboard/orders", &format!("/dashboard/orders/{}", world.north_order)] {
        assert_eq!(get(&state, &sofia, path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(feed(&state, &world).await, before);
    assert_eq!(world::review(&state, &world, &world.north_order).await.outcome.as_str(), "needs-approval");
}

#[tokio::test]
async fn a_manager_cannot_decide_outside_their_region_or_at_a_step_that_is_not_theirs() {
    let (_dir, state) = relay().await;
    let world = world::build(&state).await;
    let (mia, hana) = (session(&state, "mia").await, session(&state, "hana").await);
    let before = feed(&state, &world).await;
    // (who, order, step, status)
    let cases = [
        (&mia, &world.south_order, 0, StatusCode::NOT_FOUND),
        (&mia, &world.two_step_order, 1, StatusCode::FORBIDDEN),
        (&mia, &world.two_step_order, 0, StatusCode::CONFLICT),
        (&hana, &world.north_order, 0, StatusCode::FORBIDDEN),
    ];
    for (who, order, step, status) in cases {
        let reply = post_decision(&state, who, order, &decision_form(who, step, "approve", "")).await;
        assert_eq!(reply.status, status, "{order} step {step}: {}", reply.body);
    }
    assert_eq!(feed(&state, &world).await, before, "nothing was written");
    for order in [&world.south_order, &world.two_step_order, &world.north_order] {
        assert_eq!(world::review(&state, &world, order).await.outcome.as_str(), "needs-approval");
    }
    // HQ decides the step that is theirs.
    let reply = post_decision(&state, &hana, &world.two_step_order, &decision_form(&hana, 1, "approve", "")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(world::review(&state, &world, &world.two_step_order).await.outcome.as_str(), "approved");
}

#[tokio::test]
async fn a_decision_with_a_bad_csrf_token_is_refused_and_changes_nothing() {
    let (_dir, state) = relay().await;
    let world = world::build(&state).await;
    let (mia, hana) = (session(&state, "mia").await, session(&state, "hana").await);
    let before = feed(&state, &world).await;
    let forms = [
        "csrf=forged&step=0&submission=1&verdict=approve".to_owned(),
        "step=0&submission=1&verdict=approve".to_owned(),
        // Another session's token.
        decision_form(&hana, 0, "approve", ""),
    ];
    for form in &forms {
        let reply = post_decision(&state, &mia, &world.north_order, form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{form}");
        assert!(reply.body.contains("security token"), "{}", reply.body);
    }
    assert_eq!(feed(&state, &world).await, before);
    assert_eq!(world::review(&state, &world, &world.north_order).await.outcome.as_str(), "needs-approval");
}

#[tokio::test]
async fn the_stores_page_shows_each_role_its_stores_coverage_and_the_newest_products_rollout() {
    let (_dir, state) = relay().await;
    let world = world::build(&state).await;
    let north = format!("data-store=\"{}\"", world.north_store);
    let south = format!("data-store=\"{}\"", world.south_store);

    let hq = get(&state, &session(&state, "hana").await, "/dashboard/stores").await;
    assert_eq!(hq.status, StatusCode::OK);
    assert!(hq.body.contains(&north) && hq.body.contains(&south), "{}", hq.body);
    assert!(hq.body.contains("href=\"/dashboard/stores\""), "the nav links the stores page");
    // The newest product is the default; the north store ordered 25 units of it.
    assert!(hq.body.contains("Rollout of NEW-9"), "{}", hq.body);
    assert!(hq.body.contains("<b>1 of 2 stores (50%)</b>"), "{}", hq.body);
    assert!(hq.body.contains("<tr id=\"coverage-total\"><th>All</th><th class=\"n\">2</th><th class=\"n\">1</th>"));
    assert!(hq.body.contains("73.5"), "the last score is shown");
    assert!(!hq.body.contains("52.520008"), "the stores page shows no coordinates");
    let old = get(&state, &session(&state, "hana").await, "/stores?sku=OLD-1&days=30").await;
    assert!(old.body.contains("Rollout of OLD-1") && old.body.contains("<b>2 of 2 stores (100%)</b>"), "{}", old.body);
    assert!(old.body.contains("<option value=\"30\" selected>"));

    let manager = get(&state, &session(&state, "mia").await, "/dashboard/stores").await;
    assert!(manager.body.contains(&north) && !manager.body.contains(&south), "{}", manager.body);
    assert!(manager.body.contains("<b>1 of 1 stores (100%)</b>"), "{}", manager.body);

    let supervisor = get(&state, &session(&state, "sofia").await, "/dashboard/stores").await;
    assert_eq!(supervisor.status, StatusCode::OK);
    assert!(supervisor.body.contains(&north) && !supervisor.body.contains(&south));
    assert!(!supervisor.body.contains("Rollout of") && supervisor.body.contains("id=\"rollout-note\""));

    let token = session(&state, "hana").await;
    for bad in ["/dashboard/stores?days=12", "/dashboard/stores?sku=NOPE", "/dashboard/stores?days=abc"] {
        let reply = get(&state, &token, bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(reply.body.contains("invalid period") || reply.body.contains("unknown product"), "{}", reply.body);
    }
}

#[tokio::test]
async fn the_overview_and_the_inspections_page_draw_accessible_score_and_approval_charts() {
    let (_dir, state) = relay().await;
    let _world = world::build(&state).await;
    let token = session(&state, "hana").await;
    let overview = get(&state, &token, "/").await;
    for needle in [
        "id=\"score-distribution\"",
        "<title id=\"score-distribution-title\">",
        "id=\"approval-times\"",
        // No order in this world was decided yet: the chart says so instead of drawing bare axes.
        "Approval times from submission to decision, orders that needed approval (0 decided): nothing to show yet.",
        "score 70 to &lt;80: 1 inspections",
        "id=\"kpi-coverage\"",
    ] {
        assert!(overview.body.contains(needle), "{needle} in {}", overview.body);
    }
    let inspections = get(&state, &token, "/dashboard/inspections").await;
    assert!(inspections.body.contains("score 70 to &lt;80: 1 inspections"), "{}", inspections.body);
    assert!(inspections.body.contains(">Score</text>") && inspections.body.contains(">Inspections</text>"));
}

#[tokio::test]
async fn the_json_api_and_the_dashboard_form_share_one_decision_path() {
    let (_dir, state) = relay().await;
    let world = world::build(&state).await;
    let (mia, hana) = (session(&state, "mia").await, session(&state, "hana").await);
    let json = |token: &str, order: &fieldsync_core::DocumentId, body: &str| {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/v1/orders/{order}/decision"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let state = state.clone();
        async move { router(&state).oneshot(request).await.unwrap().status() }
    };
    let before = feed(&state, &world).await;
    let approve = r#"{"step": 0, "verdict": "approve"}"#;
    assert_eq!(json(&mia, &world.south_order, approve).await, StatusCode::NOT_FOUND);
    assert_eq!(json(&hana, &world.north_order, approve).await, StatusCode::FORBIDDEN);
    assert_eq!(json(&mia, &world.north_order, r#"{"step": 0, "verdict": "reject"}"#).await, StatusCode::BAD_REQUEST);
    assert_eq!(json(&mia, &world.two_step_order, approve).await, StatusCode::CONFLICT);
    assert_eq!(feed(&state, &world).await, before);
    assert_eq!(json(&mia, &world.north_order, approve).await, StatusCode::OK);
    // The form sees the decision the API made: the step is no longer waiting.
    let form = post_decision(&state, &mia, &world.north_order, &decision_form(&mia, 0, "reject", "too late")).await;
    assert_eq!(form.status, StatusCode::CONFLICT, "{}", form.body);
    assert_eq!(world::review(&state, &world, &world.north_order).await.outcome.as_str(), "approved");
}

#[tokio::test]
async fn an_unknown_dashboard_path_is_a_404_page_in_the_dashboards_frame_and_the_api_keeps_its_json_404() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    for path in ["/dashboard/nowhere", "/dashboard/orders/a/b/c", "/dashboard/alerts/extra"] {
        let reply = send(&state, Method::GET, path, Some(&cookie), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.body.contains("id=\"error-title\">Not found"), "{path}: {}", reply.body);
        assert!(reply.body.contains("href=\"/dashboard/alerts\""), "{path}: the viewer's navigation is there");
        assert!(reply.body.contains(path), "{path}: the page names the path");
    }
    // Without a session: the same page, with a way to sign in.
    let reply = send(&state, Method::GET, "/dashboard/nowhere", None, None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("href=\"/dashboard/login\""), "{}", reply.body);
    // Real pages are unaffected, and the JSON API still answers its own 404.
    assert_eq!(send(&state, Method::GET, "/dashboard/alerts", Some(&cookie), None).await.status, StatusCode::OK);
    let api = send(&state, Method::GET, "/v1/nowhere", None, None).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(!api.body.contains("error-title"));
}

#[tokio::test]
async fn the_alert_and_photo_review_forms_refuse_a_missing_or_wrong_security_token() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    for csrf in ["", "forged"] {
        let form = format!("csrf={csrf}&action=acknowledge&key=low-stock:W/n:SKU-1&note=x");
        let reply = send(&state, Method::POST, "/dashboard/alerts", Some(&cookie), Some(&form)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "alerts form with csrf {csrf:?}");
        let form = format!("csrf={csrf}&decision=rejected&reason=x");
        let path = format!("/dashboard/inspections/{}/photos/{}/review", "0".repeat(32), "ab".repeat(32));
        let reply = send(&state, Method::POST, &path, Some(&cookie), Some(&form)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "review form with csrf {csrf:?}");
    }
    // With the right token, an alert nobody holds is refused as not found, and nothing is kept.
    let form = format!("csrf={}&action=acknowledge&key=low-stock:W/n:SKU-1&note=x", csrf_token(&token));
    let reply = send(&state, Method::POST, "/dashboard/alerts", Some(&cookie), Some(&form)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
}
