//! Storage behind traits, so that the embedded SQLite default and a PostgreSQL deployment serve
//! the same handlers.
//!
//! [`Storage`] is everything the relay persists: accounts and sessions ([`AccountStore`]),
//! documents and the change feed ([`DocStore`]), photo metadata ([`BlobStore`]), the job queue
//! ([`JobStore`]). Photo bytes live
//! in a content-addressed folder ([`crate::blobs`]).

mod accounts;
mod blobs;
mod docs;
mod jobs;
pub mod sqlite;

pub use accounts::*;
pub use blobs::*;
pub use docs::*;
pub use jobs::*;

/// Everything the relay persists.
pub trait Storage: AccountStore + DocStore + BlobStore + JobStore + Send + Sync + 'static {}

impl<T: AccountStore + DocStore + BlobStore + JobStore + Send + Sync + 'static> Storage for T {}
