//! The dashboard through the relay's router in process: a tenant `acme` with one user per role
//! (password [`PASSWORD`]), form posts with cookies, and sign-ins. Shared by the dashboard's
//! access and admin-page tests.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use fieldsync_core::Role;
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::dashboard::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use fieldsync_server::services::accounts::{self, Caller, NewAccount};
use fieldsync_server::services::stores::StoreForm;
use fieldsync_server::{AppState, app};
use tower::ServiceExt;

/// Every user's password.
pub const PASSWORD: &str = "correct horse battery";

/// `username` of tenant `acme` as the services see a caller (a dashboard session's device).
pub async fn caller(state: &AppState, username: &str) -> Caller {
    let storage = state.storage.as_ref();
    let tenant = accounts::tenant_named(storage, "acme").await.unwrap();
    let user = storage.find_user_by_username(tenant.id, username).await.unwrap().unwrap();
    Caller {
        tenant_id: tenant.id,
        tenant: tenant.name,
        user_id: user.id,
        username: user.username,
        role: user.role,
        region: user.region,
        device_id: "test-device".into(),
        device_unsynced_docs: None,
        key: None,
    }
}

/// A valid store of region `north` (rep `ravi`, supervisor `sofia`) with this code and customer id.
pub fn store_form(code: &str, customer: &str) -> StoreForm {
    StoreForm {
        name: "Harbour Kiosk".into(),
        code: code.into(),
        address: "Kehrwieder 1".into(),
        customer_id: customer.into(),
        region: "north".into(),
        tier: "B".into(),
        latitude: 53.543,
        longitude: 9.988,
        geofence_m: 120.0,
        rep: "ravi".into(),
        supervisor: "sofia".into(),
        active: true,
    }
}

/// A relay on a fresh SQLite data directory with tenant `acme`: `ravi` (rep), `sofia`
/// (supervisor) and `mia` (manager) of `north`, and `hana` (HQ).
pub async fn relay() -> (tempfile::TempDir, AppState) {
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
        let account = NewAccount { tenant: "acme", username, display_name: "", password: PASSWORD, role, region };
        accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
    }
    (dir, state)
}

/// The relay's router, as if every request came from 127.0.0.1.
pub fn router(state: &AppState) -> Router {
    app(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))))
}

/// An answer, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub body: String,
}

/// Sends `method uri` with an optional cookie header and an optional url-encoded form.
pub async fn send(state: &AppState, method: Method, uri: &str, cookie: Option<&str>, form: Option<&str>) -> Reply {
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
    let headers = response.headers().clone();
    let location = response.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
    let cookies =
        response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Reply { status, headers, location, cookies, body: String::from_utf8_lossy(&body).into_owned() }
}

/// The session token a reply set, if any.
pub fn session_of(reply: &Reply) -> Option<String> {
    reply
        .cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")))
        .map(|rest| rest.split(';').next().unwrap().to_owned())
        .filter(|token| !token.is_empty())
}

/// Posts the login form of tenant `acme` with a matching form token.
pub async fn sign_in(state: &AppState, username: &str, password: &str) -> Reply {
    let password = password.replace(' ', "+");
    let form = format!("tenant=acme&username={username}&password={password}&csrf=abc123");
    send(state, Method::POST, "/dashboard/login", Some(&format!("{LOGIN_CSRF_COOKIE}=abc123")), Some(&form)).await
}
