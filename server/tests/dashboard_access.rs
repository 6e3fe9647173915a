//! The HQ dashboard's sessions and access rules through the relay's router
//! (`tower::ServiceExt::oneshot`): cookie logins, CSRF checks, refused reps, per-role pages.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use fieldsync_core::Role;
use fieldsync_server::accounts::{self, NewAccount};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::dashboard::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE, csrf_token};
use fieldsync_server::{AppState, app};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

async fn relay() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.password_cost = PasswordCost::insecure_for_tests();
    let state = config.open_state().unwrap();
    let storage = state.storage.as_ref();
    accounts::create_tenant(storage, "acme").await.unwrap();
    for (username, role, region) in [
        ("ravi", Role::Rep, Some("north")),
        ("sofia", Role::Supervisor, Some("north")),
        ("mia", Role::Manager, Some("north")),
        ("hana", Role::Hq, None),
    ] {
        let account = NewAccount { tenant: "acme", username, password: PASSWORD, role, region };
        accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
    }
    (dir, state)
}

fn router(state: &AppState) -> Router {
    app(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))))
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

async fn send(state: &AppState, method: Method, uri: &str, cookie: Option<&str>, form: Option<&str>) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    let body = match form {
        Some(form) => {
            builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(form.to_owned())
        }
        None => Body::empty(),
    };
    let response = router(state).oneshot(builder.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let location = response.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
    let cookies =
        response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Reply { status, location, cookies, body: String::from_utf8_lossy(&body).into_owned() }
}

fn session_of(reply: &Reply) -> Option<String> {
    reply
        .cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")))
        .map(|rest| rest.split(';').next().unwrap().to_owned())
        .filter(|token| !token.is_empty())
}

async fn sign_in(state: &AppState, username: &str) -> Reply {
    let form = format!("tenant=acme&username={username}&password=correct+horse+battery&csrf=abc123");
    send(state, Method::POST, "/dashboard/login", Some(&format!("{LOGIN_CSRF_COOKIE}=abc123")), Some(&form)).await
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
    for path in ["/", "/dashboard/orders", "/dashboard/devices", "/dashboard/events", "/dashboard/orders.csv"] {
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
        ("hana", [StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK]),
        ("mia", [StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK, StatusCode::OK]),
        (
            "sofia",
            [StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::FORBIDDEN],
        ),
    ];
    let paths = ["/", "/dashboard/orders", "/dashboard/inspections", "/dashboard/devices", "/dashboard/orders.csv"];
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
