//! Storage behind traits, so that the embedded SQLite default and a PostgreSQL deployment serve
//! the same handlers.
//!
//! [`Storage`] is everything the relay persists: accounts and sessions ([`AccountStore`]),
//! documents and the change feed ([`DocStore`]), photo metadata ([`BlobStore`]). Photo bytes live
//! in a content-addressed folder ([`crate::blobs`]).

mod accounts;
mod blobs;
mod docs;
pub mod sqlite;

pub use accounts::*;
pub use blobs::*;
pub use docs::*;

/// Everything the relay persists.
pub trait Storage: AccountStore + DocStore + BlobStore + Send + Sync + 'static {}

impl<T: AccountStore + DocStore + BlobStore + Send + Sync + 'static> Storage for T {}
