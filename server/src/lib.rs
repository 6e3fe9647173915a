//! # fieldsync-server, the relay
//!
//! Every FieldSync phone syncs with this relay. It authenticates users and devices, decides which
//! documents each device may hold and write ([`scope`]), accepts or refuses their changes
//! ([`sync`]), numbers every accepted change in a per-tenant feed so that a reconnecting device
//! pays only for what changed, stores photos by content address ([`blobs`]), and serves the HTTP
//! API ([`http`]) that integrations and the HQ dashboard use.
//!
//! Storage sits behind the [`storage::Storage`] trait: the embedded default is one SQLite file
//! plus a blob folder in a data directory; [`storage::postgres`] lets several relay nodes share
//! one PostgreSQL database and a photo folder (`docs/deployment.md`).
//!
//! `fn app(state) -> Router` ([`http::app`]) is kept apart from `main`, so tests drive the
//! router directly or on a real socket.
//!
//! ## Layers
//!
//! - **Edges** parse input, call a service and render: [`http`], [`dashboard`], [`jobs`] (the
//!   queue runner and one handler per job kind) and the command line (`main.rs`, `bin/`).
//! - **Services** hold the business rules, one module per area under [`services`] (accounts,
//!   orders, inspections, catalog, alerts, the queue vocabulary), plus the older top-level ones:
//!   [`documents`], [`read_model`], [`quarantine`], [`imports`], [`seed`], [`sync`], [`blobs`].
//!   Services never import an edge or axum, and take storage, caches and settings rather than
//!   the whole [`AppState`].
//! - **Storage** ([`storage`]) persists and returns plain records; it knows no service, caller
//!   type, edge or HTTP.
//! - **Foundations** import only each other: [`error`], [`config`], [`format`], [`locale`], [`messages`],
//!   [`scope`], [`metrics`].
//!
//! [`state`] is the composition root that assembles them. `server/tests/layers.rs` checks these
//! rules on the source; `docs/architecture.md` explains them.

pub mod blobs;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod documents;
pub mod error;
pub mod events;
pub mod format;
pub mod http;
pub mod imports;
pub mod jobs;
pub mod locale;
pub mod messages;
pub mod metrics;
pub mod quarantine;
pub mod read_model;
pub mod scope;
pub mod seed;
pub mod services;
pub mod state;
pub mod storage;
pub mod sync;

pub use error::{Error, Result};
pub use http::app;
pub use state::AppState;

/// Starts the relay's background work on the current tokio runtime: the job queue
/// ([`jobs::run_queue`]), the alert schedule ([`jobs::evaluate_alerts::run_schedule`]), the expiry of
/// abandoned photo uploads ([`blobs::run_upload_expiry`]), the event subscriptions' webhooks
/// ([`jobs::deliver_events::run`]) and, with a NATS server configured, the event publisher
/// ([`jobs::publish_events::run`]). All stop when [`AppState::shutdown`]
/// is triggered.
pub fn spawn_workers(state: &AppState) {
    tokio::spawn(jobs::run_queue(state.clone()));
    tokio::spawn(jobs::evaluate_alerts::run_schedule(state.clone()));
    tokio::spawn(blobs::run_upload_expiry(state.clone()));
    tokio::spawn(jobs::deliver_events::run(state.clone()));
    if state.config.nats_url.is_some() {
        tokio::spawn(jobs::publish_events::run(state.clone()));
    }
}
