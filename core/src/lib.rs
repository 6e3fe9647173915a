//! # fieldsync-core
//!
//! The phone-side library of FieldSync, an offline-first field-sales system. A rep takes orders
//! and a supervisor audits stores with no network at all; everything they do is written to a
//! local SQLite file as CRDT changes and synced with the relay when signal returns. The relay
//! uses this crate too, for the document model and the shared business rules, so the phone's
//! preview and the relay's verdict come from the same code.
//!
//! ## The data model
//!
//! Every business object is its own small [automerge](automerge) document ([`doc`]): an order,
//! its review, a decision, an inspection, its score, inventory, catalog, stores, templates and a
//! user's inbox. Each kind has one writer role ([`doc::DocKind::writer`]), which is what makes
//! access control enforceable on a CRDT: the relay accepts changes to a document only from a
//! user allowed to write its kind. Documents are typed structs read and written with
//! autosurgeon; each kind's module says how each of its fields merges.
//!
//! ## The local store
//!
//! [`LocalStore`] keeps the documents in SQLite (WAL, `synchronous=FULL`, numbered
//! migrations). Each mutation is one transaction: the incremental change, the list index and the
//! upload queue move together, so a crash never leaves half an order.
//!
//! ```
//! # fn main() -> Result<(), fieldsync_core::Error> {
//! use fieldsync_core::{Identity, LocalStore, Role};
//!
//! let dir = tempfile::tempdir().expect("temp dir");
//! let store = LocalStore::open(dir.path().join("phone.db"))?;
//! store.set_identity(&Identity { tenant: "acme".into(), user_id: "rep-7".into(), role: Role::Rep })?;
//! assert!(store.list_orders(&Default::default())?.is_empty());
//! # Ok(()) }
//! ```
//!
//! ## Photos
//!
//! [`photo`] turns camera bytes into a bounded, oriented, re-encoded JPEG with a SHA-256
//! content address, a perceptual hash and a quality preview. Documents hold only the reference.

pub mod clock;
pub mod doc;
mod error;
pub mod i18n;
pub mod id;
mod identity;
pub mod local_store;
pub mod photo;
pub mod rules;
pub mod scoring;
pub mod sync;

pub use doc::{DocKind, DocumentModel};
pub use error::{Error, Result};
pub use id::DocumentId;
pub use identity::{Identity, Role};
pub use local_store::{LocalStore, StoreKey};
