//! The HTTP surface (the contract is in `docs/architecture.md`): routes, body limits, and the one error
//! mapping ([`error`]).

pub mod alerts;
pub mod api_keys;
pub mod auth;
pub mod blobs;
pub mod caller;
pub mod client_address;
pub mod decisions;
pub mod docs;
pub mod error;
pub mod events;
pub mod health;
pub mod imports;
pub mod inspection_report;
pub mod lists;
pub mod live;
pub mod openapi;
pub mod out_of_office;
pub mod photo_review;
pub mod revocation;
pub mod security_headers;
pub mod sync;
pub mod tls;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

/// Largest sync request body.
pub const SYNC_BODY_LIMIT: usize = 8 * 1024 * 1024;
/// Largest JSON body (login, decisions).
pub const JSON_BODY_LIMIT: usize = 64 * 1024;
/// Largest photo upload (one request of a resumable upload, or a whole photo).
pub const BLOB_BODY_LIMIT: usize = 15 * 1024 * 1024;

/// The relay's router.
pub fn app(state: AppState) -> Router {
    let json = DefaultBodyLimit::max(JSON_BODY_LIMIT);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/v1/auth/login", post(auth::login).layer(json))
        .route("/v1/auth/logout", post(auth::logout).layer(json))
        .route("/v1/sync", post(sync::sync).layer(DefaultBodyLimit::max(SYNC_BODY_LIMIT)))
        .route("/v1/ws", get(live::ws))
        .route(
            "/v1/blobs/{sha256}",
            get(blobs::get_blob)
                .head(blobs::head_blob)
                .put(blobs::put_blob)
                .layer(DefaultBodyLimit::max(BLOB_BODY_LIMIT)),
        )
        .route("/v1/docs/{id}", get(docs::get_doc))
        .route("/v1/orders", get(lists::orders))
        .route("/v1/orders/{id}/decision", post(decisions::decide).layer(json))
        .route("/v1/approvals/report", get(lists::approvals_report))
        .route(
            "/v1/me/out-of-office",
            get(out_of_office::show).put(out_of_office::set).delete(out_of_office::clear).layer(json),
        )
        .route("/v1/inspections", get(lists::inspections))
        .route("/v1/alerts", get(lists::alerts))
        .route("/v1/alerts/causes", get(alerts::causes))
        .route("/v1/alerts/acknowledge", post(alerts::acknowledge).layer(json))
        .route("/v1/alerts/snooze", post(alerts::snooze).layer(json))
        .route("/v1/alerts/reassign", post(alerts::reassign).layer(json))
        .route("/v1/overview", get(lists::overview))
        .route("/v1/events", get(events::list))
        .route("/v1/webhooks", get(webhooks::list).post(webhooks::create).layer(json))
        .route("/v1/webhooks/{id}", axum::routing::delete(webhooks::delete))
        .route("/v1/webhooks/{id}/replay", post(webhooks::replay))
        .route("/v1/import/{dataset}", post(imports::import).layer(DefaultBodyLimit::max(imports::IMPORT_BODY_LIMIT)))
        .route(
            "/v1/import/{dataset}/batch",
            post(imports::import_batch).layer(DefaultBodyLimit::max(imports::BATCH_BODY_LIMIT)),
        )
        .merge(crate::dashboard::routes(&state))
        .route("/v1/inspections/{id}/report", get(inspection_report::report))
        .route("/v1/api-keys", get(api_keys::list).post(api_keys::create).layer(json))
        .route("/v1/api-keys/{id}/revoke", post(api_keys::revoke))
        .route(
            "/v1/inspections/{id}/photos/{sha256}/review",
            post(photo_review::review_photo).layer(DefaultBodyLimit::max(JSON_BODY_LIMIT)),
        )
        .route("/v1/devices/{id}/revoke", post(revocation::revoke_device))
        .route("/v1/users/{username}/disable", post(revocation::disable_user))
        .layer(axum::middleware::from_fn_with_state(state.clone(), health::track))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers::add))
        .with_state(state)
}
