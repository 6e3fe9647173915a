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

pub mod accounts;
pub mod alerts;
pub mod auth;
pub mod blobs;
pub mod config;
pub mod dashboard;
pub mod documents;
pub mod error;
pub mod format;
pub mod http;
pub mod imports;
pub mod jobs;
pub mod locale;
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
/// ([`jobs::run_queue`]), the alert schedule ([`alerts::run_schedule`]) and the expiry of
/// abandoned photo uploads ([`blobs::run_upload_expiry`]). All stop when [`AppState::shutdown`]
/// is triggered.
pub fn spawn_workers(state: &AppState) {
    tokio::spawn(jobs::run_queue(state.clone()));
    tokio::spawn(alerts::run_schedule(state.clone()));
    tokio::spawn(blobs::run_upload_expiry(state.clone()));
}
