//! Logins, tokens and photo uploads through the relay's router (`tower::ServiceExt::oneshot`),
//! on a real SQLite database and blob folder in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{GeoFix, Inspection, InspectionStatus, PhotoRef, Visit};
use fieldsync_server::config::{Config, LoginLimits, PasswordCost};
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::storage::{NewSession, Tenant};
use fieldsync_server::{AppState, app, blobs, documents, seed};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

struct Relay {
    _dir: tempfile::TempDir,
    state: AppState,
    tenant: Tenant,
}

async fn relay() -> Relay {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.password_cost = PasswordCost::insecure_for_tests();
    config.login_limits = LoginLimits {
        free_failures: 3,
        first_delay: Duration::from_secs(60),
        max_delay: Duration::from_secs(300),
        failure_memory: Duration::from_secs(3600),
        per_address: 5,
        window: Duration::from_secs(300),
    };
    let state = config.open_state().unwrap();
    let storage = state.storage.as_ref();
    let tenant = accounts::create_tenant(storage, "acme").await.unwrap();
    for (username, role, region) in [
        ("sofia", Role::Supervisor, Some("north")),
        ("ravi", Role::Rep, Some("north")),
        ("hana", Role::Hq, None),
        ("sam", Role::Supervisor, Some("south")),
    ] {
        let account = NewAccount { tenant: "acme", username, display_name: "", password: PASSWORD, role, region };
        accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
    }
    Relay { _dir: dir, state, tenant }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{} body is not JSON ({e}): {:?}", self.status, String::from_utf8_lossy(&self.body))
        })
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }
}

async fn send_to(router: Router, request: Request<Body>) -> Reply {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
    Reply { status, headers, body }
}

fn request(method: Method, uri: &str, token: Option<&str>, headers: &[(&str, &str)], body: Vec<u8>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body)).unwrap()
}

async fn call(relay: &Relay, method: Method, uri: &str, token: Option<&str>, body: Vec<u8>) -> Reply {
    send_to(app(relay.state.clone()), request(method, uri, token, &[], body)).await
}

async fn login_reply(relay: &Relay, tenant: &str, username: &str, password: &str) -> Reply {
    let body = json!({ "tenant": tenant, "username": username, "password": password, "device_name": "Pixel 7" });
    let request = request(
        Method::POST,
        "/v1/auth/login",
        None,
        &[("content-type", "application/json")],
        serde_json::to_vec(&body).unwrap(),
    );
    send_to(app(relay.state.clone()), request).await
}

async fn login(relay: &Relay, username: &str) -> String {
    let reply = login_reply(relay, "acme", username, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", String::from_utf8_lossy(&reply.body));
    reply.json()["token"].as_str().unwrap().to_owned()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A real JPEG of `width` x `height` pixels with some texture.
fn jpeg(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 7) as u8 ^ seed, (y * 5) as u8, ((x + y) * 3) as u8 ^ seed.rotate_left(3)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode(image.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A small JPEG whose SOF0 header claims 9000 x 9000 pixels.
fn pixel_bomb() -> Vec<u8> {
    let mut bytes = jpeg(16, 16, 1);
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).expect("baseline JPEG has SOF0");
    // FF C0, length (2), precision (1), height (2), width (2).
    bytes[sof + 5..sof + 7].copy_from_slice(&9000u16.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&9000u16.to_be_bytes());
    bytes
}

async fn put(relay: &Relay, token: &str, id: &str, range: Option<String>, body: &[u8]) -> Reply {
    let range_header;
    let headers: &[(&str, &str)] = match &range {
        Some(value) => {
            range_header = [("content-range", value.as_str())];
            &range_header
        }
        None => &[],
    };
    let uri = format!("/v1/blobs/{id}");
    send_to(app(relay.state.clone()), request(Method::PUT, &uri, Some(token), headers, body.to_vec())).await
}

async fn head(relay: &Relay, token: &str, id: &str) -> Reply {
    call(relay, Method::HEAD, &format!("/v1/blobs/{id}"), Some(token), Vec::new()).await
}

/// Files under the blob folder, for "nothing was stored" checks.
fn blob_files(relay: &Relay) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    let mut files = Vec::new();
    walk(relay.state.blobs.root(), &mut files);
    files
}

// ---------------------------------------------------------------------------------------------
// Logins and tokens

#[tokio::test]
async fn a_user_logs_in_and_the_token_authenticates_requests() {
    let relay = relay().await;
    let reply = login_reply(&relay, "acme", "sofia", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["role"], "supervisor");
    assert_eq!(body["region"], "north");
    assert_eq!(body["user_id"].as_str().unwrap().len(), 32);
    let expires_at = body["expires_at"].as_i64().unwrap();
    let thirty_days = 30 * 24 * 3600 * 1000;
    assert!((expires_at - now_ms() - thirty_days).abs() < 60_000, "expires_at {expires_at} is ms since the epoch");
    let token = body["token"].as_str().unwrap();
    let reply = head(&relay, token, &sha(b"nothing")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "an authenticated HEAD of an unknown photo");
    assert_eq!(reply.header("upload-offset").as_deref(), Some("0"));
}

#[tokio::test]
async fn a_wrong_password_unknown_user_or_unknown_tenant_all_answer_the_same_401() {
    let relay = relay().await;
    let mut messages = Vec::new();
    for (tenant, username, password) in
        [("acme", "sofia", "wrong password"), ("acme", "nobody", PASSWORD), ("globex", "sofia", PASSWORD)]
    {
        let reply = login_reply(&relay, tenant, username, password).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.error_code(), "bad-credentials");
        messages.push(reply.json()["error"]["message"].clone());
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");
}

#[tokio::test]
async fn malformed_login_bodies_answer_400_json() {
    let relay = relay().await;
    let request = request(
        Method::POST,
        "/v1/auth/login",
        None,
        &[("content-type", "application/json")],
        br#"{"tenant":"acme"}"#.to_vec(),
    );
    let reply = send_to(app(relay.state.clone()), request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "invalid-json");
}

#[tokio::test]
async fn repeated_failures_from_one_address_make_it_wait_with_429_even_for_the_right_password() {
    let relay = relay().await;
    for _ in 0..3 {
        assert_eq!(login_reply(&relay, "acme", "sofia", "guess guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let reply = login_reply(&relay, "acme", "sofia", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.error_code(), "rate-limited");
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(retry, 60, "the first wait after the free failures");
    // Other accounts are not affected.
    assert_eq!(login_reply(&relay, "acme", "ravi", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_rate_limited() {
    let relay = relay().await;
    let address: SocketAddr = "203.0.113.9:40000".parse().unwrap();
    let router = || app(relay.state.clone()).layer(MockConnectInfo(address));
    let attempt = |username: &str, password: &str| {
        let body = json!({ "tenant": "acme", "username": username, "password": password, "device_name": "x" });
        request(
            Method::POST,
            "/v1/auth/login",
            None,
            &[("content-type", "application/json")],
            serde_json::to_vec(&body).unwrap(),
        )
    };
    for username in ["u1", "u2", "u3", "u4", "u5"] {
        assert_eq!(send_to(router(), attempt(username, "nope nope")).await.status, StatusCode::UNAUTHORIZED);
    }
    let reply = send_to(router(), attempt("sofia", PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_guesser_hammering_from_one_address_never_keeps_the_user_out_from_another() {
    let relay = relay().await;
    let attacker: SocketAddr = "203.0.113.9:40000".parse().unwrap();
    let user: SocketAddr = "198.51.100.7:50000".parse().unwrap();
    let from = |address: SocketAddr| app(relay.state.clone()).layer(MockConnectInfo(address));
    let attempt = |password: &str| {
        let body = json!({ "tenant": "acme", "username": "sofia", "password": password, "device_name": "x" });
        request(
            Method::POST,
            "/v1/auth/login",
            None,
            &[("content-type", "application/json")],
            serde_json::to_vec(&body).unwrap(),
        )
    };
    for _ in 0..3 {
        assert_eq!(send_to(from(attacker), attempt("guess guess")).await.status, StatusCode::UNAUTHORIZED);
    }
    for _ in 0..20 {
        let reply = send_to(from(attacker), attempt("guess guess")).await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate-limited"));
    }
    let reply = send_to(from(user), attempt(PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::OK, "the user elsewhere: {}", String::from_utf8_lossy(&reply.body));
    // Her success elsewhere does not reopen the attacker's guessing.
    assert_eq!(send_to(from(attacker), attempt(PASSWORD)).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn behind_a_trusted_proxy_logins_are_throttled_by_the_forwarded_address_and_a_forged_one_is_ignored() {
    let mut relay = relay().await;
    let proxy: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let mut config = (*relay.state.config).clone();
    config.trusted_proxies = vec![proxy.ip()];
    relay.state.config = Arc::new(config);
    let attempt = |peer: SocketAddr, forwarded: &str, password: &str| {
        let body = json!({ "tenant": "acme", "username": "sofia", "password": password, "device_name": "x" });
        let request = request(
            Method::POST,
            "/v1/auth/login",
            None,
            &[("content-type", "application/json"), ("x-forwarded-for", forwarded)],
            serde_json::to_vec(&body).unwrap(),
        );
        send_to(app(relay.state.clone()).layer(MockConnectInfo(peer)), request)
    };
    // The attacker, through the proxy, with a forged left-most entry that changes every time.
    for n in 0..3 {
        let forwarded = format!("10.9.9.{n}, 203.0.113.9");
        assert_eq!(attempt(proxy, &forwarded, "guess guess").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt(proxy, "10.9.9.9, 203.0.113.9", "guess guess").await.status, StatusCode::TOO_MANY_REQUESTS);
    // The user, through the same proxy from elsewhere, gets in.
    assert_eq!(attempt(proxy, "198.51.100.7", PASSWORD).await.status, StatusCode::OK);
    // A client that reaches the relay directly cannot pick its address with the header.
    let direct: SocketAddr = "192.0.2.50:5000".parse().unwrap();
    for n in 0..3 {
        let status = attempt(direct, &format!("198.51.100.{n}"), "guess guess").await.status;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt(direct, "198.51.100.99", "guess guess").await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_expired_token_is_refused_with_401() {
    let relay = relay().await;
    let storage = relay.state.storage.as_ref();
    let user = storage.find_user_by_username(relay.tenant.id, "sofia").await.unwrap().unwrap();
    let device = storage.register_device(relay.tenant.id, &user.id, "old phone", 1).await.unwrap();
    let token = accounts::new_token();
    let now = now_ms();
    let session = NewSession {
        token_hash: accounts::hash_token(&token),
        tenant_id: relay.tenant.id,
        user_id: user.id,
        device_id: device.id,
        created_at: now - 1000,
        expires_at: now - 1,
    };
    storage.create_session(session).await.unwrap();
    let reply = head(&relay, &token, &sha(b"x")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = call(&relay, Method::GET, "/v1/orders", Some(&token), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.error_code(), "unauthenticated");
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn revoking_a_user_or_a_device_ends_their_tokens_and_a_revoked_user_cannot_log_in() {
    let relay = relay().await;
    let storage = relay.state.storage.as_ref();
    let sofia = login(&relay, "sofia").await;
    let ravi = login(&relay, "ravi").await;
    let ravi_device = login_reply(&relay, "acme", "ravi", PASSWORD).await.json();

    accounts::revoke_user(storage, "acme", "sofia").await.unwrap();
    let reply = call(&relay, Method::GET, "/v1/orders", Some(&sofia), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("sofia is disabled"));
    // Its own code, on which the phone erases what it holds.
    assert_eq!(reply.error_code(), "revoked");
    assert_eq!(login_reply(&relay, "acme", "sofia", PASSWORD).await.status, StatusCode::UNAUTHORIZED);

    accounts::revoke_device(storage, "acme", ravi_device["device_id"].as_str().unwrap()).await.unwrap();
    let revoked = ravi_device["token"].as_str().unwrap();
    assert_eq!(head(&relay, revoked, &sha(b"x")).await.status, StatusCode::UNAUTHORIZED);
    let reply = call(&relay, Method::GET, "/v1/orders", Some(revoked), Vec::new()).await;
    assert_eq!((reply.status, reply.error_code()), (StatusCode::UNAUTHORIZED, "revoked".to_owned()));
    // Ravi's other device keeps working.
    assert_eq!(call(&relay, Method::GET, "/v1/orders", Some(&ravi), Vec::new()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn logout_revokes_the_presented_token_only() {
    let relay = relay().await;
    let first = login(&relay, "hana").await;
    let second = login(&relay, "hana").await;
    let reply = call(&relay, Method::POST, "/v1/auth/logout", Some(&first), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = call(&relay, Method::GET, "/v1/orders", Some(&first), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("revoked"));
    assert_eq!(
        call(&relay, Method::POST, "/v1/auth/logout", Some(&first), Vec::new()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(call(&relay, Method::GET, "/v1/orders", Some(&second), Vec::new()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_protected_route_without_a_valid_token_answers_401_json() {
    let relay = relay().await;
    let id = sha(b"x");
    let routes = [
        (Method::POST, "/v1/auth/logout".to_owned()),
        (Method::POST, "/v1/sync".to_owned()),
        (Method::GET, "/v1/ws".to_owned()),
        (Method::PUT, format!("/v1/blobs/{id}")),
        (Method::HEAD, format!("/v1/blobs/{id}")),
        (Method::GET, format!("/v1/blobs/{id}")),
        (Method::GET, "/v1/docs/2j9uZmWcNhSGrhp8hzqzqWxBmb6U".to_owned()),
        (Method::GET, "/v1/orders".to_owned()),
        (Method::GET, "/v1/inspections".to_owned()),
        (Method::GET, "/metrics".to_owned()),
    ];
    for token in [None, Some("not-a-token"), Some("")] {
        for (method, uri) in &routes {
            let reply = call(&relay, method.clone(), uri, token, Vec::new()).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {uri} with {token:?}");
            if *method == Method::HEAD {
                continue; // HEAD answers carry no body
            }
            assert_eq!(reply.error_code(), "unauthenticated", "{method} {uri}");
            assert!(!reply.json()["error"]["message"].as_str().unwrap().is_empty());
        }
    }
    let reply = call(&relay, Method::GET, "/healthz", None, Vec::new()).await;
    assert_eq!((reply.status, reply.json()), (StatusCode::OK, json!({ "status": "ok" })));
}

#[tokio::test]
async fn metrics_are_prometheus_text_for_hq_and_forbidden_to_others() {
    let relay = relay().await;
    let hq = login(&relay, "hana").await;
    let rep = login(&relay, "ravi").await;
    call(&relay, Method::GET, "/healthz", None, Vec::new()).await;
    let reply = call(&relay, Method::GET, "/metrics", Some(&hq), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = String::from_utf8(reply.body).unwrap();
    assert!(
        text.contains("fieldsync_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"2xx\"} 1"),
        "{text}"
    );
    assert!(text.contains("fieldsync_logins_total{outcome=\"ok\"} 2"), "{text}");
    let reply = call(&relay, Method::GET, "/metrics", Some(&rep), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

// ---------------------------------------------------------------------------------------------
// Photos

#[tokio::test]
async fn a_whole_photo_is_stored_once_and_uploading_it_again_is_idempotent() {
    let relay = relay().await;
    let token = login(&relay, "sofia").await;
    let photo = jpeg(64, 48, 1);
    let id = sha(&photo);
    let reply = put(&relay, &token, &id, None, &photo).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.json()["width"], 64);
    assert_eq!(reply.json()["height"], 48);
    // No document references the photo yet, so for the uploader it does not exist (a photo
    // exists only for those who may read a document referencing it); uploading again is harmless.
    let reply = head(&relay, &token, &id).await;
    assert_eq!((reply.status, reply.header("upload-offset")), (StatusCode::NOT_FOUND, Some("0".to_owned())));
    let reply = put(&relay, &token, &id, None, &photo).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["size"], photo.len());
    assert_eq!(blob_files(&relay).len(), 1, "{:?}", blob_files(&relay));
}

#[tokio::test]
async fn a_photo_uploads_in_two_parts_and_head_reports_the_bytes_held_in_between() {
    let relay = relay().await;
    let token = login(&relay, "sofia").await;
    let photo = jpeg(120, 90, 2);
    let id = sha(&photo);
    let (total, cut) = (photo.len(), photo.len() / 3);
    let reply = put(&relay, &token, &id, Some(format!("bytes 0-{}/{total}", cut - 1)), &photo[..cut]).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.header("upload-offset"), Some(cut.to_string()));
    let reply = head(&relay, &token, &id).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.header("upload-offset"), Some(cut.to_string()));
    let reply = put(&relay, &token, &id, Some(format!("bytes {cut}-{}/{total}", total - 1)), &photo[cut..]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", String::from_utf8_lossy(&reply.body));
    let reply = put(&relay, &token, &id, None, &photo).await;
    assert_eq!((reply.status, reply.json()["size"].as_u64()), (StatusCode::OK, Some(total as u64)), "already stored");
    let stored = std::fs::read(relay.state.blobs.path(relay.tenant.id, &id).unwrap()).unwrap();
    assert_eq!(stored, photo);
}

#[tokio::test]
async fn a_part_at_the_wrong_offset_answers_409_with_the_offset_held_and_changes_nothing() {
    let relay = relay().await;
    let token = login(&relay, "sofia").await;
    let photo = jpeg(80, 80, 3);
    let id = sha(&photo);
    let total = photo.len();
    assert_eq!(
        put(&relay, &token, &id, Some(format!("bytes 0-99/{total}")), &photo[..100]).await.status,
        StatusCode::ACCEPTED
    );
    for (start, end) in [(0, 99), (50, 149), (200, 299)] {
        let reply = put(&relay, &token, &id, Some(format!("bytes {start}-{end}/{total}")), &photo[start..=end]).await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "part {start}-{end}");
        assert_eq!(reply.header("upload-offset").as_deref(), Some("100"));
        assert_eq!(reply.error_code(), "conflict");
    }
    assert_eq!(head(&relay, &token, &id).await.header("upload-offset").as_deref(), Some("100"));
    let reply = put(&relay, &token, &id, Some(format!("bytes 100-{}/{total}", total - 1)), &photo[100..]).await;
    assert_eq!(reply.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_photo_whose_bytes_do_not_match_its_id_is_refused_and_nothing_is_kept() {
    let relay = relay().await;
    let token = login(&relay, "sofia").await;
    let photo = jpeg(40, 40, 4);
    let wrong = sha(b"some other photo");
    let reply = put(&relay, &token, &wrong, None, &photo).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "hash-mismatch");
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains(&wrong));

    // Resumable: the first part is kept, the failed last part throws the whole upload away, so
    // HEAD says 404 with offset 0 and the client starts again.
    let total = photo.len();
    assert_eq!(
        put(&relay, &token, &wrong, Some(format!("bytes 0-9/{total}")), &photo[..10]).await.status,
        StatusCode::ACCEPTED
    );
    let reply = put(&relay, &token, &wrong, Some(format!("bytes 10-{}/{total}", total - 1)), &photo[10..]).await;
    assert_eq!(reply.error_code(), "hash-mismatch");
    let reply = head(&relay, &token, &wrong).await;
    assert_eq!((reply.status, reply.header("upload-offset").as_deref()), (StatusCode::NOT_FOUND, Some("0")));
    assert!(blob_files(&relay).is_empty(), "{:?}", blob_files(&relay));
    let meta = relay.state.storage.get_blob(relay.tenant.id, &wrong).await.unwrap();
    assert!(meta.is_none(), "{meta:?}");
}

#[tokio::test]
async fn blob_ids_with_path_characters_or_the_wrong_shape_are_refused_before_touching_the_disk() {
    let relay = relay().await;
    let token = login(&relay, "sofia").await;
    let photo = jpeg(8, 8, 5);
    let upper = sha(&photo).to_uppercase();
    let short = &sha(&photo)[..63];
    let dotted = format!("..%2F..%2F{}", &sha(&photo)[..58]);
    let encoded_dots = format!("%2e%2e%2f{}", &sha(&photo)[..55]);
    for id in [upper.as_str(), short, dotted.as_str(), encoded_dots.as_str(), "..", "%2e%2e"] {
        for method in [Method::PUT, Method::GET, Method::HEAD] {
            let reply = call(&relay, method.clone(), &format!("/v1/blobs/{id}"), Some(&token), photo.clone()).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method} {id}");
            if method != Method::HEAD {
                assert_eq!(reply.error_code(), "invalid-id", "{method} {id}");
            }
        }
    }
    assert!(blob_files(&relay).is_empty());
}

#[tokio::test]
async fn a_tiny_jpeg_claiming_9000_by_9000_pixels_is_refused() {
    let relay = relay().await;
    let token = login(&relay, "sofia").await;
    let bomb = pixel_bomb();
    assert!(bomb.len() < 2_000);
    let id = sha(&bomb);
    let reply = put(&relay, &token, &id, None, &bomb).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "invalid-image");
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("9000x9000"), "{}", reply.json());
    let reply = put(&relay, &token, &sha(b"plain text"), None, b"plain text").await;
    assert_eq!(reply.error_code(), "invalid-image");
    assert!(blob_files(&relay).is_empty());
}

#[tokio::test]
async fn a_declared_total_over_the_limit_is_refused_with_413() {
    let relay = relay().await;
    let token = login(&relay, "sofia").await;
    let total = 15 * 1024 * 1024 + 1;
    let reply = put(&relay, &token, &sha(b"big"), Some(format!("bytes 0-3/{total}")), b"abcd").await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error_code(), "too-large");
}

#[tokio::test]
async fn a_rep_may_not_upload_photos() {
    let relay = relay().await;
    let token = login(&relay, "ravi").await;
    let photo = jpeg(8, 8, 6);
    let reply = put(&relay, &token, &sha(&photo), None, &photo).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(blob_files(&relay).is_empty());
}

#[tokio::test]
async fn a_photo_is_readable_only_through_a_document_in_scope_and_never_across_tenants() {
    let relay = relay().await;
    let storage = relay.state.storage.as_ref();
    let sofia = login(&relay, "sofia").await;
    let photo = jpeg(640, 480, 7);
    let id = sha(&photo);
    assert_eq!(put(&relay, &sofia, &id, None, &photo).await.status, StatusCode::CREATED);

    // Stored, but no document references it yet: not even the uploader may read it.
    let reply = call(&relay, Method::GET, &format!("/v1/blobs/{id}"), Some(&sofia), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "not-found");

    let owner = storage.find_user_by_username(relay.tenant.id, "sofia").await.unwrap().unwrap();
    let here = GeoFix { latitude: 53.55, longitude: 9.99, accuracy_m: 8.0 };
    let mut photos = BTreeMap::new();
    photos.insert(
        id.clone(),
        PhotoRef {
            sha256: id.clone(),
            item_id: "shelf-stocked".into(),
            byte_size: photo.len() as u64,
            width: 640,
            height: 480,
            captured_at: now_ms(),
            position: Some(here),
            phash: String::new(),
            original: None,
            measured: None,
        },
    );
    let inspection = Inspection {
        owner: owner.id.clone(),
        store_id: "store-1".into(),
        template_id: "template-1".into(),
        status: InspectionStatus::Open,
        check_in: Visit { at: now_ms(), position: here },
        check_out: None,
        answers: BTreeMap::new(),
        photos,
        updated_at: now_ms(),
        promotions_started: Default::default(),
    };
    documents::create_as_relay(storage, relay.tenant.id, &inspection).await.unwrap();

    let reply = call(&relay, Method::GET, &format!("/v1/blobs/{id}"), Some(&sofia), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, photo);
    assert_eq!(reply.header("content-type").as_deref(), Some("image/jpeg"));
    let reply = call(&relay, Method::GET, &format!("/v1/blobs/{id}?thumb=1"), Some(&sofia), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let thumb = image::load_from_memory(&reply.body).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (256, 192));

    // Another supervisor's scope does not hold the inspection; HQ's does.
    let sam = login(&relay, "sam").await;
    assert_eq!(
        call(&relay, Method::GET, &format!("/v1/blobs/{id}"), Some(&sam), Vec::new()).await.status,
        StatusCode::NOT_FOUND
    );
    let hana = login(&relay, "hana").await;
    assert_eq!(
        call(&relay, Method::GET, &format!("/v1/blobs/{id}"), Some(&hana), Vec::new()).await.status,
        StatusCode::OK
    );

    // Another tenant's HQ sees nothing, not even through HEAD.
    accounts::create_tenant(storage, "globex").await.unwrap();
    let account = NewAccount {
        tenant: "globex",
        username: "gina",
        display_name: "",
        password: PASSWORD,
        role: Role::Hq,
        region: None,
    };
    accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
    let reply = login_reply(&relay, "globex", "gina", PASSWORD).await;
    let gina = reply.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&relay, Method::GET, &format!("/v1/blobs/{id}"), Some(&gina), Vec::new()).await.status,
        StatusCode::NOT_FOUND
    );
    let reply = head(&relay, &gina, &id).await;
    assert_eq!((reply.status, reply.header("upload-offset").as_deref()), (StatusCode::NOT_FOUND, Some("0")));
}

/// `PUT` of the bytes `from..to` of a photo as one part of a resumable upload.
async fn put_part(relay: &Relay, token: &str, photo: &[u8], from: usize, to: usize) -> Reply {
    let range = format!("bytes {from}-{}/{}", to - 1, photo.len());
    put(relay, token, &sha(photo), Some(range), &photo[from..to]).await
}

#[tokio::test]
async fn beginning_an_upload_over_the_users_unfinished_quota_answers_507_and_keeps_nothing() {
    let mut relay = relay().await;
    let (a, b, c) = (jpeg(320, 240, 1), jpeg(320, 240, 2), jpeg(320, 240, 3));
    let mut config = (*relay.state.config).clone();
    config.max_unfinished_upload_bytes = (a.len() + b.len() - 1) as u64;
    relay.state.config = Arc::new(config);
    let (sofia, sam) = (login(&relay, "sofia").await, login(&relay, "sam").await);

    // Half of A arrives: the unfinished A holds its whole declared size of the quota.
    assert_eq!(put_part(&relay, &sofia, &a, 0, a.len() / 2).await.status, StatusCode::ACCEPTED);
    // Beginning B too would exceed it: refused, and nothing of B is kept.
    let reply = put_part(&relay, &sofia, &b, 0, b.len() / 2).await;
    assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(reply.error_code(), "upload-quota");
    let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains(&format!("{}-byte quota", a.len() + b.len() - 1)), "{message}");
    let reply = head(&relay, &sofia, &sha(&b)).await;
    assert_eq!((reply.status, reply.header("upload-offset").as_deref()), (StatusCode::NOT_FOUND, Some("0")));
    assert!(!blob_files(&relay).iter().any(|f| f.contains(&sha(&b))), "{:?}", blob_files(&relay));
    // The quota is per user, and A itself goes on.
    assert_eq!(put_part(&relay, &sam, &c, 0, c.len() / 2).await.status, StatusCode::ACCEPTED);
    assert_eq!(put_part(&relay, &sofia, &a, a.len() / 2, a.len()).await.status, StatusCode::CREATED);
    // A finished: B begins now.
    assert_eq!(put_part(&relay, &sofia, &b, 0, b.len() / 2).await.status, StatusCode::ACCEPTED);
    // A whole photo in one request keeps nothing unfinished and is not counted.
    let d = jpeg(320, 240, 4);
    assert_eq!(put(&relay, &sofia, &sha(&d), None, &d).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_upload_abandoned_past_the_cut_off_is_deleted_and_one_still_advancing_is_kept() {
    let relay = relay().await;
    let storage = relay.state.storage.as_ref();
    let sofia = login(&relay, "sofia").await;
    let (a, b) = (jpeg(320, 240, 5), jpeg(320, 240, 6));
    assert_eq!(put_part(&relay, &sofia, &a, 0, 100).await.status, StatusCode::ACCEPTED);
    assert_eq!(put_part(&relay, &sofia, &b, 0, 100).await.status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let cut_off = now_ms();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(put_part(&relay, &sofia, &b, 100, 200).await.status, StatusCode::ACCEPTED);

    assert_eq!(blobs::expire_abandoned_uploads(storage, &relay.state.blobs, cut_off).await.unwrap(), 1);
    let reply = head(&relay, &sofia, &sha(&a)).await;
    assert_eq!(reply.header("upload-offset").as_deref(), Some("0"), "A's bytes are gone");
    assert!(!blob_files(&relay).iter().any(|f| f.contains(&sha(&a))));
    assert!(storage.get_blob(relay.tenant.id, &sha(&a)).await.unwrap().is_none());
    assert_eq!(head(&relay, &sofia, &sha(&b)).await.header("upload-offset").as_deref(), Some("200"));
    // The phone resuming A is told to start again from byte 0.
    let reply = put_part(&relay, &sofia, &a, 100, a.len()).await;
    assert_eq!((reply.status, reply.header("upload-offset").as_deref()), (StatusCode::CONFLICT, Some("0")));
    assert_eq!(put_part(&relay, &sofia, &b, 200, b.len()).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_relays_expiry_worker_deletes_uploads_idle_for_the_configured_time() {
    let mut relay = relay().await;
    let mut config = (*relay.state.config).clone();
    config.unfinished_upload_ttl = Duration::from_millis(50);
    relay.state.config = Arc::new(config);
    let sofia = login(&relay, "sofia").await;
    let a = jpeg(320, 240, 7);
    assert_eq!(put_part(&relay, &sofia, &a, 0, 100).await.status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let worker = tokio::spawn(blobs::run_upload_expiry(relay.state.clone()));
    let mut offset = None;
    for _ in 0..100 {
        offset = head(&relay, &sofia, &sha(&a)).await.header("upload-offset");
        if offset.as_deref() == Some("0") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.state.shutdown.trigger();
    worker.await.unwrap();
    assert_eq!(offset.as_deref(), Some("0"), "the idle upload was not expired");
}

/// An inspection owned by `owner` that references `photo` (made by the relay, as a pushed one
/// would be stored).
async fn inspection_citing(relay: &Relay, owner: &str, photo: &[u8]) {
    let storage = relay.state.storage.as_ref();
    let owner = storage.find_user_by_username(relay.tenant.id, owner).await.unwrap().unwrap();
    let here = GeoFix { latitude: 53.55, longitude: 9.99, accuracy_m: 8.0 };
    let id = sha(photo);
    let reference = PhotoRef {
        sha256: id.clone(),
        item_id: "shelf-stocked".into(),
        byte_size: photo.len() as u64,
        width: 640,
        height: 480,
        captured_at: now_ms(),
        position: Some(here),
        phash: String::new(),
        original: None,
        measured: None,
    };
    let inspection = Inspection {
        owner: owner.id.clone(),
        store_id: format!("store-of-{}", owner.username),
        template_id: "template-1".into(),
        status: InspectionStatus::Open,
        check_in: Visit { at: now_ms(), position: here },
        check_out: None,
        answers: BTreeMap::new(),
        photos: BTreeMap::from([(id, reference)]),
        updated_at: now_ms(),
        promotions_started: Default::default(),
    };
    documents::create_as_relay(storage, relay.tenant.id, &inspection).await.unwrap();
}

#[tokio::test]
async fn citing_another_regions_photo_in_ones_own_inspection_does_not_make_it_readable() {
    let relay = relay().await;
    let (sofia, sam, hana) = (login(&relay, "sofia").await, login(&relay, "sam").await, login(&relay, "hana").await);
    let photo = jpeg(640, 480, 9);
    let id = sha(&photo);
    assert_eq!(put(&relay, &sofia, &id, None, &photo).await.status, StatusCode::CREATED);
    inspection_citing(&relay, "sofia", &photo).await;
    // Sam (south) learned the hash and cites it in his own inspection.
    inspection_citing(&relay, "sam", &photo).await;

    let get = |token: String, thumb: bool| {
        let uri = if thumb { format!("/v1/blobs/{id}?thumb=1") } else { format!("/v1/blobs/{id}") };
        let relay = &relay;
        async move { call(relay, Method::GET, &uri, Some(&token), Vec::new()).await }
    };
    for thumb in [false, true] {
        let reply = get(sam.clone(), thumb).await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::NOT_FOUND, "not-found"));
    }
    let reply = head(&relay, &sam, &id).await;
    assert_eq!((reply.status, reply.header("upload-offset").as_deref()), (StatusCode::NOT_FOUND, Some("0")));
    assert_eq!(get(sofia, false).await.status, StatusCode::OK, "the uploader, through her visit");
    assert_eq!(get(hana, false).await.status, StatusCode::OK, "hq");
}

#[tokio::test]
async fn every_response_says_nosniff_photos_and_errors_alike_and_plain_http_sends_no_hsts() {
    let relay = relay().await;
    let sofia = login(&relay, "sofia").await;
    let photo = jpeg(64, 48, 3);
    assert_eq!(put(&relay, &sofia, &sha(&photo), None, &photo).await.status, StatusCode::CREATED);
    inspection_citing(&relay, "sofia", &photo).await;
    let replies = [
        call(&relay, Method::GET, &format!("/v1/blobs/{}", sha(&photo)), Some(&sofia), Vec::new()).await,
        call(&relay, Method::GET, &format!("/v1/blobs/{}?thumb=1", sha(&photo)), Some(&sofia), Vec::new()).await,
        call(&relay, Method::GET, "/v1/orders", None, Vec::new()).await,
        call(&relay, Method::GET, "/healthz", None, Vec::new()).await,
        call(&relay, Method::GET, "/no/such/route", None, Vec::new()).await,
    ];
    for reply in &replies {
        assert_eq!(reply.header("x-content-type-options").as_deref(), Some("nosniff"), "{}", reply.status);
        assert_eq!(reply.header("strict-transport-security"), None);
    }
    assert_eq!(replies[0].status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Documents

#[tokio::test]
async fn document_ids_are_validated_and_unknown_documents_are_not_found() {
    let relay = relay().await;
    let token = login(&relay, "hana").await;
    let reply = call(&relay, Method::GET, "/v1/docs/..%2Fetc", Some(&token), Vec::new()).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::BAD_REQUEST, "invalid-id"));
    let unknown = fieldsync_core::DocumentId::random();
    let reply = call(&relay, Method::GET, &format!("/v1/docs/{unknown}"), Some(&token), Vec::new()).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::NOT_FOUND, "not-found"));
    let reply = call(&relay, Method::GET, "/v1/orders?limit=5000", Some(&token), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_document_is_served_as_json_only_inside_the_callers_scope_and_tenant() {
    let relay = relay().await;
    let storage = relay.state.storage.as_ref();
    let ravi = storage.find_user_by_username(relay.tenant.id, "ravi").await.unwrap().unwrap();
    let store = fieldsync_core::doc::RetailStore {
        name: "Kiosk am Park".into(),
        code: String::new(),
        address: "Osterstraße 12, Hamburg".into(),
        customer_id: "C-1".into(),
        region: "north".into(),
        tier: "A".into(),
        latitude: 53.57,
        longitude: 9.95,
        geofence_m: 0.0,
        rep: ravi.id.clone(),
        supervisor: String::new(),
        active: true,
    };
    let id = documents::create_as_relay(storage, relay.tenant.id, &store).await.unwrap();
    let uri = format!("/v1/docs/{id}");

    let hq = login(&relay, "hana").await;
    let reply = call(&relay, Method::GET, &uri, Some(&hq), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["kind"], "store");
    assert_eq!(body["heads"].as_array().unwrap().len(), 1);
    assert_eq!(body["heads"][0].as_str().unwrap().len(), 64);
    assert_eq!(body["document"]["name"], "Kiosk am Park");
    assert_eq!(body["document"]["latitude"], 53.57);
    assert_eq!(body["document"]["kind"], "store");

    // The rep it is assigned to reads it; the south supervisor does not (404, not 403).
    let rep = login(&relay, "ravi").await;
    assert_eq!(call(&relay, Method::GET, &uri, Some(&rep), Vec::new()).await.status, StatusCode::OK);
    let sam = login(&relay, "sam").await;
    let reply = call(&relay, Method::GET, &uri, Some(&sam), Vec::new()).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::NOT_FOUND, "not-found"));

    // Another tenant's HQ: not found either.
    accounts::create_tenant(storage, "globex").await.unwrap();
    let account = NewAccount {
        tenant: "globex",
        username: "gina",
        display_name: "",
        password: PASSWORD,
        role: Role::Hq,
        region: None,
    };
    accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
    let gina = login_reply(&relay, "globex", "gina", PASSWORD).await.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(call(&relay, Method::GET, &uri, Some(&gina), Vec::new()).await.status, StatusCode::NOT_FOUND);

    let reply = call(&relay, Method::GET, "/v1/orders?limit=10", Some(&hq), Vec::new()).await;
    assert_eq!(reply.status, StatusCode::OK);
    // The tenant's currency and time zone name the units of amounts and days.
    assert_eq!(reply.json(), json!({ "items": [], "next": null, "limit": 10, "currency": "USD", "time_zone": "UTC" }));
}

// ---------------------------------------------------------------------------------------------
// Demo data

#[tokio::test]
async fn seeding_the_demo_twice_creates_everything_once_and_its_logins_work() {
    let relay = relay().await;
    let storage = relay.state.storage.as_ref();
    let cost = PasswordCost::insecure_for_tests();
    let first = seed::seed_demo(storage, cost).await.unwrap();
    assert!(first.created_tenant);
    assert_eq!(first.logins.len(), 15);
    assert_eq!(first.documents_created.get("store"), Some(&60));
    assert_eq!(first.documents_created.get("catalog"), Some(&1));
    assert_eq!(first.documents_created.get("inventory"), Some(&3));
    assert_eq!(first.documents_created.get("template"), Some(&2));

    let second = seed::seed_demo(storage, cost).await.unwrap();
    assert!(!second.created_tenant);
    assert!(second.documents_created.is_empty(), "{:?}", second.documents_created);
    assert_eq!(second.logins, first.logins);
    let table = second.logins_table();
    assert!(table.starts_with("tenant"), "{table}");
    assert!(table.contains("rep-01") && table.contains("demo-hq-admin"), "{table}");

    let demo = storage.find_tenant("demo").await.unwrap().unwrap();
    assert_eq!(
        (demo.time_zone.as_str(), demo.currency.as_str()),
        ("Europe/Berlin", "EUR"),
        "its stores are in Germany"
    );
    assert_eq!(storage.list_users(demo.id).await.unwrap().len(), 15);
    for login in &first.logins {
        let reply = login_reply(&relay, "demo", &login.username, &login.password).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", login.username);
    }
    // A rep sees their own stores only.
    let rep = login_reply(&relay, "demo", "rep-01", "demo-rep-01").await.json();
    let scope = fieldsync_server::scope::Scope {
        role: Role::Rep,
        user_id: rep["user_id"].as_str().unwrap().to_owned(),
        region: Some("north".into()),
    };
    let stores = storage.list_docs(demo.id, &scope, fieldsync_core::DocKind::Store, 1000).await.unwrap();
    assert_eq!(stores.len(), 5, "20 north stores over 4 reps");
}
