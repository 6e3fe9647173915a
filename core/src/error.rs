//! The one error type of `fieldsync-core`.
//!
//! Variants are precise and carry the offending value, so callers (the FFI layer, the relay) can
//! map them to what their own users can do about them.

use crate::doc::DocKind;
use crate::id::DocumentId;
use crate::photo::PhotoError;

/// Everything that can go wrong in `fieldsync-core`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A document with this id is not in the local store.
    #[error("{} {id} not found", kind.map_or("document", DocKind::as_str))]
    NotFound {
        /// The kind that was asked for, when the caller knew it.
        kind: Option<DocKind>,
        /// The id that was asked for.
        id: String,
    },
    /// A document exists but is of another kind than the caller asked for.
    #[error("document {id} is a {found}, not a {expected}")]
    WrongKind {
        /// The document.
        id: DocumentId,
        /// The kind the caller asked for.
        expected: DocKind,
        /// The kind the document says it is.
        found: String,
    },
    /// The document was written by a newer version of FieldSync; reading it would misread it.
    #[error("{kind} {id} has schema version {found}, newer than the supported {supported}: update the app")]
    NewerSchema {
        /// The document.
        id: DocumentId,
        /// Its kind.
        kind: String,
        /// The schema version found in the document.
        found: u64,
        /// The newest schema version this code understands.
        supported: u64,
    },
    /// The document does not have the shape of its kind (missing header or fields).
    #[error("document {id} is malformed: {reason}")]
    Malformed {
        /// The document.
        id: DocumentId,
        /// What is wrong with it.
        reason: String,
    },
    /// A document id is not bs58check of 16 bytes.
    #[error("invalid document id {id:?}: {reason}")]
    InvalidId {
        /// The text that was given.
        id: String,
        /// Why it is not an id.
        reason: &'static str,
    },
    /// The action is not allowed in the object's current state.
    #[error("{kind} {id} is {state}: cannot {action}")]
    InvalidState {
        /// The kind of object.
        kind: DocKind,
        /// The object.
        id: DocumentId,
        /// Its current state.
        state: String,
        /// What was attempted.
        action: &'static str,
    },
    /// A change would make a document break the limits on what it may become
    /// ([`crate::doc::limits`]); nothing was kept. The relay would refuse it, so the phone
    /// refuses it first.
    #[error("{kind} {id} cannot be changed so: {limit}")]
    OverLimit {
        /// The document.
        id: DocumentId,
        /// Its kind.
        kind: DocKind,
        /// The limit it would break.
        limit: crate::doc::limits::LimitError,
    },
    /// A document is written under an id reserved for another kind ([`DocumentId::derived`]).
    #[error("document id {id} is reserved for a {reserved}")]
    ReservedId {
        /// The document.
        id: DocumentId,
        /// The kind the id is reserved for.
        reserved: DocKind,
    },
    /// An input value is out of range or empty.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending field.
        field: &'static str,
        /// Why it is invalid, naming the value.
        reason: String,
    },
    /// The current user may not change this document.
    #[error("{kind} {id} belongs to {owner}, not to {user}")]
    NotOwner {
        /// The kind of document.
        kind: DocKind,
        /// The document.
        id: DocumentId,
        /// Who owns it.
        owner: String,
        /// Who tried to change it.
        user: String,
    },
    /// No user has signed in on this device yet, so there is no one to own new work.
    #[error("no user is signed in on this device")]
    NotSignedIn,
    /// The local database was written by a newer version of FieldSync.
    #[error("local database has schema version {found}, newer than the supported {supported}: update the app")]
    NewerDatabase {
        /// `user_version` found in the file.
        found: u32,
        /// Newest version this code knows.
        supported: u32,
    },
    /// The local database file is damaged or is not a FieldSync database.
    #[error("local database{} is corrupt: {reason}", path.as_deref().map(|p| format!(" {p}")).unwrap_or_default())]
    Corrupt {
        /// The file, when known (it is when opening).
        path: Option<String>,
        /// What SQLite said.
        reason: String,
    },
    /// The store is encrypted and the key given does not open it (or the file is not a FieldSync
    /// database at all). Nothing was changed.
    #[error(
        "local database {path} cannot be opened with this key: the key is wrong or the file is not a FieldSync database"
    )]
    WrongKey {
        /// The file.
        path: String,
    },
    /// An operation that needs an encrypted store was asked of a plain one (or the reverse).
    #[error("local database {path} is {state}: cannot {action}")]
    Encryption {
        /// The file.
        path: String,
        /// `plain` or `encrypted`.
        state: &'static str,
        /// What was attempted.
        action: &'static str,
    },
    /// A file of the store could not be read, written or removed.
    #[error("local file {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        reason: String,
    },
    /// Another process holds the database lock for longer than the busy timeout.
    #[error("local database is locked by another process")]
    Locked,
    /// Any other SQLite failure (disk full, I/O error, …).
    #[error("local database error: {0}")]
    Database(#[source] Box<rusqlite::Error>),
    /// automerge rejected a change or a saved document.
    #[error("document {id} could not be decoded: {source}")]
    Automerge {
        /// The document.
        id: DocumentId,
        /// What automerge said.
        #[source]
        source: Box<automerge::AutomergeError>,
    },
    /// A photo could not be ingested.
    #[error(transparent)]
    Photo(#[from] PhotoError),
}

/// Result alias used throughout `fieldsync-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Locked,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                Error::Corrupt { path: None, reason: error.to_string() }
            }
            _ => Error::Database(Box::new(error)),
        }
    }
}
