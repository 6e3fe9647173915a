//! Storage behind traits, so that the embedded SQLite default and a PostgreSQL deployment serve
//! the same handlers.
//!
//! [`Storage`] is everything the relay persists: accounts and sessions ([`AccountStore`]),
//! documents and the change feed ([`DocStore`]), photo metadata ([`BlobStore`]), the job queue
//! ([`JobStore`]), imported sales and purchases ([`SalesStore`]), per-tenant settings
//! ([`TenantSettingsStore`]), the event outbox ([`EventStore`]), the API keys and import batches
//! of integrations ([`IntegrationStore`]), what people did about alerts ([`AlertTriageStore`]),
//! decisions on photos ([`PhotoReviewStore`]), the stock orders reserve ([`ReservationStore`]).
//! Photo bytes live in a content-addressed folder ([`crate::blobs`]).
//!
//! Backends: [`sqlite`] (the embedded default, one file) and [`postgres`] (several relay nodes on
//! one database). Both mirror each other exactly; `server/tests/storage_contract.rs` runs the
//! same checks against each.

mod accounts;
mod alert_triage;
mod blobs;
mod docs;
mod events;
mod integrations;
mod jobs;
mod photo_reviews;
pub mod postgres;
pub mod queries;
pub mod read_model;
mod reservations;
mod sales;
mod settings;
pub mod sqlite;

pub use accounts::*;
pub use alert_triage::*;
pub use blobs::*;
pub use docs::*;
pub use events::*;
pub use integrations::*;
pub use jobs::*;
pub use photo_reviews::*;
pub use read_model::{ReadModelStore, RowChange};
pub use reservations::*;
pub use sales::*;
pub use settings::*;

/// Everything the relay persists.
pub trait Storage:
    AccountStore
    + AlertTriageStore
    + DocStore
    + BlobStore
    + JobStore
    + PhotoReviewStore
    + SalesStore
    + TenantSettingsStore
    + IntegrationStore
    + ReadModelStore
    + ReservationStore
    + EventStore
    + Send
    + Sync
    + 'static
{
}

impl<
    T: AccountStore
        + AlertTriageStore
        + DocStore
        + BlobStore
        + JobStore
        + PhotoReviewStore
        + SalesStore
        + TenantSettingsStore
        + IntegrationStore
        + ReadModelStore
        + ReservationStore
        + EventStore
        + Send
        + Sync
        + 'static,
> Storage for T
{
}
