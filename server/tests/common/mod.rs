//! Requests to the relay's router in process, shared by the integration tests that call its
//! JSON API (`imports.rs`, `alerts.rs`).
#![allow(clippy::unwrap_used, dead_code)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fieldsync_server::{AppState, app};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Sends `request` to the relay; the status and the JSON body (`Null` when it is not JSON).
pub async fn send(state: &AppState, request: Request<Body>) -> (StatusCode, Value) {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Logs `username` of tenant `acme` in; the session token.
pub async fn login(state: &AppState, username: &str, password: &str) -> String {
    let body = json!({ "tenant": "acme", "username": username, "password": password, "device_name": "laptop" });
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let (status, body) = send(state, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// `POST /v1/import/{dataset}` with a CSV body.
pub async fn import(state: &AppState, token: &str, dataset: &str, csv: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/import/{dataset}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.to_owned()))
        .unwrap();
    send(state, request).await
}
