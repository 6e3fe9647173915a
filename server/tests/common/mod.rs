//! Requests to the relay's router in process, shared by the integration tests that call its
//! JSON API (`imports.rs`, `alerts.rs`).
#![allow(clippy::unwrap_used, dead_code, unused_macros)]

pub mod dashboard;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fieldsync_server::storage::postgres::{PostgresStorage, admin};
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

/// Runs a storage test body (`async fn name(storage: &dyn Storage)`) on SQLite and on PostgreSQL:
/// `on_both_backends!(name)` makes a module `name` with the tests `on_sqlite` and `on_postgres`.
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let storage =
                    ::fieldsync_server::storage::sqlite::SqliteStorage::open(dir.path().join("relay.db")).unwrap();
                super::$name(&storage).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let Some(database) = crate::common::PgDatabase::create(stringify!($name)).await else { return };
                let storage = database.connect().await;
                super::$name(&storage).await;
            }
        }
    };
}

/// The PostgreSQL server the tests use when `FIELDSYNC_TEST_DATABASE` names none.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database of one test on the PostgreSQL server, dropped with it.
pub struct PgDatabase {
    server: String,
    name: String,
    /// Its connection URL.
    pub url: String,
}

impl PgDatabase {
    /// A fresh empty database, or `None` (after a loud notice) when no server is configured and
    /// the default one is unreachable.
    pub async fn create(test: &str) -> Option<Self> {
        let configured = std::env::var("FIELDSYNC_TEST_DATABASE").ok().filter(|u| !u.trim().is_empty());
        let server = configured.clone().unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // The e2e harness's prefix: its sweep drops what a crashed test process left behind.
        let name = format!("fieldsync_t_{}_c{n}", std::process::id());
        match admin::create_database(&server, &name, None).await {
            Ok(()) => {}
            Err(error) if configured.is_none() => {
                eprintln!(
                    "\n*** SKIPPED {test} on PostgreSQL: no server at {DEFAULT_SERVER} ({error}); \
                     set FIELDSYNC_TEST_DATABASE ***\n"
                );
                return None;
            }
            Err(error) => panic!("cannot create a test database on FIELDSYNC_TEST_DATABASE: {error}"),
        }
        let url = admin::with_database(&server, &name).unwrap();
        Some(Self { server, name, url })
    }

    /// A storage connected to it (migrated).
    pub async fn connect(&self) -> PostgresStorage {
        PostgresStorage::connect(&self.url).await.unwrap()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(admin::drop_database(&server, &name))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("cannot drop test database {}", self.name);
        }
    }
}
