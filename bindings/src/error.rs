//! The public error of the phone API, and the one place core's errors are converted to it.
//!
//! Core's [`fieldsync_core::Error`] is rich and precise; apps need to know what they can do about
//! a failure, so the variants here are shaped by that (fix the input, sign in, retry later,
//! retake the photo, update the app). The text of every variant names the offending value.

use fieldsync_core::photo::PhotoError;
use fieldsync_core::sync::{SyncError, TransportError};

/// Why a FieldSync call failed. Kotlin and Swift see it as an exception / `Error`, Python as an
/// exception class per variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum FieldSyncError {
    /// The document or item is not on this device: check the id, or sync first.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was asked for (`order`, `catalog`, `photo`, `document`, …).
        kind: String,
        /// The id that was asked for.
        id: String,
    },
    /// An input value is invalid: fix it and try again.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The offending field (`qty`, `sku`, `id`, …).
        field: String,
        /// Why it is invalid, naming the value.
        reason: String,
    },
    /// The object's state does not allow the action (editing a submitted order: reopen it first).
    #[error("{reason}")]
    InvalidState {
        /// What is in which state and what cannot be done.
        reason: String,
    },
    /// The signed-in user may not change this object (it belongs to someone else).
    #[error("not allowed: {reason}")]
    NotAllowed {
        /// Who owns the object and who tried.
        reason: String,
    },
    /// Nobody is signed in on this device, or there is no session to sync with: call `login`.
    #[error("not signed in: {reason}")]
    NotSignedIn {
        /// What needed a signed-in user.
        reason: String,
    },
    /// The relay refused the credentials or the session token: sign in again.
    #[error("signed out by the relay: {reason}")]
    Unauthenticated {
        /// What the relay said.
        reason: String,
    },
    /// The relay could not be reached, failed, or answered something unreadable (a captive
    /// portal): every change stays on the phone; try again later.
    #[error("relay unavailable: {reason}")]
    Offline {
        /// What went wrong.
        reason: String,
    },
    /// The relay refused the request; sending the same request again fails again.
    #[error("relay refused the request ({code}): {reason}")]
    Refused {
        /// The relay's error code.
        code: String,
        /// The relay's explanation.
        reason: String,
    },
    /// The photo cannot be used (not a JPEG or PNG, too large, corrupt): take it again.
    #[error("photo rejected: {reason}")]
    PhotoRejected {
        /// Why, naming the value.
        reason: String,
    },
    /// Data on this device was written by a newer version of the app: update the app.
    #[error("update required: {reason}")]
    UpdateRequired {
        /// What is too new.
        reason: String,
    },
    /// The key given does not open the phone's encrypted database (or the file is not a FieldSync
    /// database): nothing was changed. Open it with the key it was encrypted with.
    #[error("wrong key: {reason}")]
    WrongKey {
        /// Which file, and why.
        reason: String,
    },
    /// HQ revoked this phone or disabled its user: the phone erased its local data. Forget the
    /// session token (and the database key), and show the sign-in screen.
    #[error("device revoked: {reason}")]
    Revoked {
        /// What the relay said.
        reason: String,
    },
    /// The local database failed (locked by another process, corrupt, disk full).
    #[error("local storage failed: {reason}")]
    Storage {
        /// What SQLite or automerge said.
        reason: String,
    },
}

impl From<fieldsync_core::Error> for FieldSyncError {
    fn from(error: fieldsync_core::Error) -> Self {
        use fieldsync_core::Error as E;
        let reason = error.to_string();
        match error {
            E::NotFound { kind, id } => {
                FieldSyncError::NotFound { kind: kind.map_or("document", |k| k.as_str()).to_owned(), id }
            }
            E::WrongKind { .. } | E::InvalidId { .. } => {
                FieldSyncError::InvalidInput { field: "id".to_owned(), reason }
            }
            E::InvalidInput { field, reason } => FieldSyncError::InvalidInput { field: field.to_owned(), reason },
            E::OverLimit { .. } => FieldSyncError::InvalidInput { field: "document".to_owned(), reason },
            E::ReservedId { .. } => FieldSyncError::InvalidInput { field: "id".to_owned(), reason },
            E::InvalidState { .. } => FieldSyncError::InvalidState { reason },
            E::NotOwner { .. } => FieldSyncError::NotAllowed { reason },
            E::NotSignedIn => FieldSyncError::NotSignedIn { reason },
            E::NewerSchema { .. } | E::NewerDatabase { .. } => FieldSyncError::UpdateRequired { reason },
            E::Photo(photo) => photo.into(),
            E::WrongKey { .. } => FieldSyncError::WrongKey { reason },
            E::Encryption { .. } => FieldSyncError::InvalidState { reason },
            E::Io { .. }
            | E::Malformed { .. }
            | E::Corrupt { .. }
            | E::Locked
            | E::Database(_)
            | E::Automerge { .. } => FieldSyncError::Storage { reason },
        }
    }
}

impl From<PhotoError> for FieldSyncError {
    fn from(error: PhotoError) -> Self {
        FieldSyncError::PhotoRejected { reason: error.to_string() }
    }
}

impl From<TransportError> for FieldSyncError {
    fn from(error: TransportError) -> Self {
        match error {
            TransportError::Unreachable(reason) => FieldSyncError::Offline { reason },
            TransportError::Server { status, reason } => {
                FieldSyncError::Offline { reason: format!("relay error {status}: {reason}") }
            }
            TransportError::Unauthenticated(reason) => FieldSyncError::Unauthenticated { reason },
            TransportError::Revoked(reason) => FieldSyncError::Revoked { reason },
            TransportError::Refused { status, code, reason } => {
                FieldSyncError::Refused { code, reason: format!("{reason} (http {status})") }
            }
        }
    }
}

impl From<SyncError> for FieldSyncError {
    fn from(error: SyncError) -> Self {
        match error {
            SyncError::Transport(transport) => transport.into(),
            // Most often a captive portal or a proxy answering in the relay's place.
            SyncError::Protocol(wire) => FieldSyncError::Offline { reason: format!("unreadable relay answer: {wire}") },
            SyncError::Store(store) => store.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use fieldsync_core::DocKind;

    #[test]
    fn a_missing_order_names_its_kind_and_id() {
        let error: FieldSyncError =
            fieldsync_core::Error::NotFound { kind: Some(DocKind::Order), id: "abc".to_owned() }.into();
        assert_eq!(error, FieldSyncError::NotFound { kind: "order".to_owned(), id: "abc".to_owned() });
        assert_eq!(error.to_string(), "order abc not found");
    }

    #[test]
    fn transient_relay_failures_mean_try_again_later() {
        let unreachable: FieldSyncError = TransportError::Unreachable("connection refused".to_owned()).into();
        let failing: FieldSyncError = TransportError::Server { status: 503, reason: "busy".to_owned() }.into();
        assert!(matches!(unreachable, FieldSyncError::Offline { .. }));
        assert!(matches!(failing, FieldSyncError::Offline { .. }));
    }

    #[test]
    fn a_bad_id_is_an_input_error_on_the_id_field() {
        let error: FieldSyncError = "not-an-id".parse::<fieldsync_core::DocumentId>().unwrap_err().into();
        assert!(matches!(error, FieldSyncError::InvalidInput { ref field, .. } if field == "id"), "{error:?}");
    }
}
