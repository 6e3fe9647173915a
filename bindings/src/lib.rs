//! # fieldsync-ffi
//!
//! The phone-facing API of FieldSync for Kotlin (Android), Swift (iOS) and Python, exported with
//! uniffi proc-macros. It is a thin adapter: each method converts its arguments, calls
//! `fieldsync-core`, and converts the answer back. Rules and storage live in core.
//!
//! ## Shape
//!
//! - One object, [`FieldSyncPhone`], opened on a database path. It works offline from the first
//!   call; [`FieldSyncPhone::login`] (or [`FieldSyncPhone::resume_session`]) connects it to the
//!   relay for [`FieldSyncPhone::sync_now`] and the background sync.
//! - Records and enums for the data (orders, inspections, stock, alerts, sync status); document
//!   ids cross as strings, times as `i64` milliseconds since the Unix epoch, money as `i64` cents.
//! - One error enum, [`FieldSyncError`], shaped by what the app can do about a failure.
//! - One listener the app implements, [`FieldSyncListener`]: sync progress and outcomes, refused
//!   documents, and every document change (forwarded from the local store by a Rust thread).
//!
//! ## Threads
//!
//! Every export is synchronous — one policy for the whole surface, no async runtime. Calls may
//! block on disk or on the network, so apps call them off the main thread (a background
//! dispatcher or queue). [`FieldSyncPhone`] is safe to share between threads; background sync
//! runs on core's own thread. Listener callbacks run on FieldSync's threads, never under a
//! FieldSync lock.
//!
//! ## Generating the bindings
//!
//! `scripts/bindings` builds this crate and runs the workspace's `uniffi-bindgen` on the built
//! library; `scripts/test-bindings` runs the Python and Kotlin tests against it.
//!
//! ```text
//! cargo build -p fieldsync-ffi
//! cargo run -p uniffi-bindgen -- generate -l python -l kotlin -l swift -o target/bindings \
//!     target/debug/libfieldsync_ffi.so
//! ```

mod approval;
mod catalog;
mod error;
mod inbox;
mod inspection;
mod inventory;
mod listener;
mod order;
mod phone;
mod sync;

pub use approval::{PendingApproval, Verdict};
pub use catalog::{PricePreview, Product, RetailStore};
pub use error::FieldSyncError;
pub use inbox::{Alert, AlertState};
pub use inspection::{
    Answer, AnswerValue, GeoFix, Inspection, InspectionFilter, InspectionStatus, InspectionSummary, ItemScore,
    PhotoAssessment, PhotoPreview, PhotoRef, QualityProblem, ScoreReport, Template, TemplateItem, Trust, Visit,
};
pub use inventory::StockLevel;
pub use listener::{ChangeOrigin, DocumentChange, DocumentKind, FieldSyncListener};
pub use order::{
    ApprovalStep, Finding, LineInput, Order, OrderFilter, OrderLine, OrderReview, OrderStatus, OrderSummary,
    ReviewOutcome, ReviewState, Severity, StepState,
};
pub use phone::{FieldSyncPhone, Role, Session, User};
pub use sync::{LaneStatus, QuarantinedDocument, RemoteWipe, SetAsidePhoto, SyncOutcome, SyncReport, SyncStatus};

uniffi::setup_scaffolding!();
