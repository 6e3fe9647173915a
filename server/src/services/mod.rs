//! The relay's services: its business rules, one module per business area. A service takes
//! what it needs (storage, caches, settings, the caller) and returns domain values or an
//! [`Error`](crate::error::Error); the edges (`http/`, `dashboard/`, `jobs/`, the command line)
//! parse input, call a service and render its answer. Lists and figures ask the read model
//! through the list services ([`listing`], each area's `list`, [`overview`]). Services never import an edge, and know
//! nothing of axum: an HTTP status is the edge's mapping of an error variant.
//!
//! Other services predate this module and stay top-level, each already one business area with
//! no edge in it: [`crate::documents`], [`crate::read_model`], [`crate::quarantine`],
//! [`crate::imports`], [`crate::seed`], [`crate::sync`] and [`crate::blobs`].

pub mod accounts;
pub mod alerts;
mod caches;
pub mod catalog;
pub mod events;
pub mod inspections;
pub mod listing;
pub mod orders;
pub mod overview;
pub mod queue;
pub mod stores;
pub mod templates;

pub use caches::Caches;
