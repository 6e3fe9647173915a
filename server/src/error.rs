//! The relay's internal error type. HTTP handlers turn it into a JSON error in exactly one place,
//! `http/error.rs`.
//!
//! A refusal a person can act on (a taken username, a snooze date in the past, a bad CSV line) is
//! [`Error::Refused`]: a [`Refusal`] that carries a [`Message`] (a `refusal-…` id and its
//! arguments), not a sentence, built where the service refuses ([`Error::invalid`],
//! [`Error::conflict`], [`Error::forbidden`]). Its texts are in `server/locales/<tag>/refusals.ftl`
//! ([`crate::messages::catalog`]): the API, the command line and the logs read its English text
//! (its `Display`), the dashboard shows it in the viewer's language
//! (`dashboard::texts::refusal`). A bad import's lines are messages the same way
//! ([`ImportRefusal`]). [`Error::BadRequest`], [`Error::Conflict`] and [`Error::Forbidden`] with
//! an English reason remain for what only an API client or a phone can hit (the sync protocol,
//! blobs, batch JSON).

use fieldsync_core::DocumentId;
use fieldsync_core::i18n::{Language, Message};

use crate::messages::catalog;

/// Everything that can go wrong inside the relay.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No or an unknown, expired or revoked token.
    #[error("{0}")]
    Unauthenticated(String),
    /// The session's device was revoked or its user disabled: the phone must erase what it holds
    /// (a remote wipe), not just sign in again.
    #[error("{0}")]
    Revoked(String),
    /// Wrong tenant, username or password (deliberately vague).
    #[error("unknown tenant, username or password")]
    BadCredentials,
    /// Too many attempts; retry after the given seconds.
    #[error("too many login attempts: retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// An integration's API key made more requests than its rate allows.
    #[error("api key {key:?} is over its request rate: retry in {retry_after_secs} s")]
    KeyRateLimited {
        /// The key's name.
        key: String,
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The caller may not do this (inside their tenant).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing with this id exists for the caller (also used for other tenants' objects).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, naming the id.
        what: String,
    },
    /// The request is malformed or its values are invalid.
    #[error("{reason}")]
    BadRequest {
        /// Stable machine code (`invalid-id`, `malformed-sync`, `hash-mismatch`, …).
        code: &'static str,
        /// What is wrong, naming the value.
        reason: String,
    },
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A refusal a person can act on, as a message in every language (see the module docs).
    #[error("{0}")]
    Refused(Refusal),
    /// A CSV import with bad rows: nothing was imported (400 `invalid-import`).
    #[error("{0}")]
    InvalidImport(ImportRefusal),
    /// The body is larger than the route accepts.
    #[error("body of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Bytes sent (or claimed).
        size: u64,
        /// Bytes accepted.
        limit: u64,
    },
    /// A user's unfinished photo uploads would exceed their quota; finishing or abandoning
    /// (expiry) earlier ones frees room.
    #[error(
        "unfinished photo uploads of {unfinished} bytes plus this one's {requested} exceed the {limit}-byte quota: \
         finish the uploads begun earlier, or wait until abandoned ones expire"
    )]
    UploadQuota {
        /// Declared bytes of the user's other unfinished uploads.
        unfinished: u64,
        /// Declared size of the refused upload.
        requested: u64,
        /// The quota.
        limit: u64,
    },
    /// A document in storage could not be decoded.
    #[error("stored document {id} is unreadable: {reason}")]
    CorruptDocument {
        /// The document.
        id: DocumentId,
        /// What failed.
        reason: String,
    },
    /// The database failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// Reading or writing the blob folder failed.
    #[error("blob storage error: {0}")]
    Io(#[from] std::io::Error),
    /// A delivery to a remote endpoint (an alert webhook) failed; the job queue retries it.
    #[error("{0}")]
    Delivery(String),
    /// A job ran longer than its lane allows; the job queue retries it.
    #[error("job {id} ({kind}) ran longer than {limit:?}")]
    JobTimedOut {
        /// The job's queue id.
        id: i64,
        /// Its kind.
        kind: String,
        /// The lane's limit.
        limit: std::time::Duration,
    },
    /// A core rule or document failed.
    #[error(transparent)]
    Core(#[from] fieldsync_core::Error),
}

/// What kind of refusal a [`Refusal`] is: it decides the API's status (`http/error.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// A value is invalid (400, with the refusal's own code).
    Invalid,
    /// The request conflicts with the current state (409 `conflict`).
    Conflict,
    /// The caller may not do this (403 `forbidden`).
    Forbidden,
}

/// A refusal a person can act on: its kind, the API's stable code, and what it says as a
/// message of the relay's catalog (`refusal-…` in `server/locales/<tag>/refusals.ftl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Invalid, conflict or forbidden.
    pub kind: RefusalKind,
    /// The API's stable code (`invalid-input`, `invalid-snooze`; `conflict` and `forbidden` for
    /// those kinds).
    pub code: &'static str,
    /// What is wrong, naming the values.
    pub message: Message,
}

impl Refusal {
    /// What it says in `language`.
    pub fn text(&self, language: Language) -> String {
        catalog().text(language, &self.message)
    }
}

impl std::fmt::Display for Refusal {
    /// Its English text: what the API, the command line and the logs read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Language::English))
    }
}

/// Why an import was refused: every bad line counted, the first few kept with their reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRefusal {
    /// How many failures the file had.
    pub count: usize,
    /// The kept failures by line (0 for the file as a whole): the line and the message, which
    /// names the line itself (`refusal-import-line` with the reason as its part `reason`).
    pub lines: Vec<(usize, Message)>,
}

impl ImportRefusal {
    /// The kept failures' texts in `language`, by line.
    pub fn texts(&self, language: Language) -> Vec<String> {
        self.lines.iter().map(|(_, message)| catalog().text(language, message)).collect()
    }
}

impl std::fmt::Display for ImportRefusal {
    /// Its English text: what the API, the command line and the import history read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let messages = self.texts(Language::English);
        write!(f, "{} error(s), nothing imported: {}", self.count, messages.join("; "))?;
        if self.count > self.lines.len() {
            write!(f, "; and {} more", self.count - self.lines.len())?;
        }
        Ok(())
    }
}

/// Result alias for the relay.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Storage(error.to_string())
    }
}

impl Error {
    /// A bad request with a code and a reason.
    pub fn bad_request(code: &'static str, reason: impl Into<String>) -> Self {
        Error::BadRequest { code, reason: reason.into() }
    }

    /// An invalid value a person can correct: 400 with `code` (`invalid-input`, `invalid-snooze`,
    /// …) and `message` (a `refusal-…` id of the relay's catalog) as its text.
    pub fn invalid(code: &'static str, message: Message) -> Self {
        Error::Refused(Refusal { kind: RefusalKind::Invalid, code, message })
    }

    /// A request that conflicts with the current state: 409 `conflict`, `message` as its text.
    pub fn conflict(message: Message) -> Self {
        Error::Refused(Refusal { kind: RefusalKind::Conflict, code: "conflict", message })
    }

    /// Something the caller may not do: 403 `forbidden`, `message` as its text.
    pub fn forbidden(message: Message) -> Self {
        Error::Refused(Refusal { kind: RefusalKind::Forbidden, code: "forbidden", message })
    }

    /// The kind of refusal this error is, converted ([`Error::Refused`]) or not yet
    /// ([`Error::BadRequest`], [`Error::Conflict`], [`Error::Forbidden`]); `None` for anything
    /// else.
    pub fn refusal_kind(&self) -> Option<RefusalKind> {
        match self {
            Error::Refused(refusal) => Some(refusal.kind),
            Error::BadRequest { .. } => Some(RefusalKind::Invalid),
            Error::Conflict(_) => Some(RefusalKind::Conflict),
            Error::Forbidden(_) => Some(RefusalKind::Forbidden),
            _ => None,
        }
    }

    /// The message of a converted refusal ([`Error::Refused`]), to pass on as a part of another.
    pub fn refusal_message(&self) -> Option<&Message> {
        match self {
            Error::Refused(refusal) => Some(&refusal.message),
            _ => None,
        }
    }

    /// A not-found naming what was looked for.
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }
}
