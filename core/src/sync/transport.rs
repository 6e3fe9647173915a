//! How the sync engine reaches the relay. [`HttpTransport`](super::http::HttpTransport) is the
//! real one; tests wrap it to drop requests and responses.

use std::fmt;

/// A failure to reach the relay or an answer that is not a success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection, a timeout, or a lost response: try again later.
    #[error("relay unreachable: {0}")]
    Unreachable(String),
    /// The token is no longer valid: sign in again.
    #[error("signed out by the relay: {0}")]
    Unauthenticated(String),
    /// HQ revoked this device or disabled its user (a 401 with code `revoked`): the engine
    /// erases the phone's local data ([`crate::LocalStore::wipe`]).
    #[error("device revoked by the relay: {0}")]
    Revoked(String),
    /// The relay refused the request (4xx other than 401): retrying the same request fails again.
    #[error("relay refused the request ({status} {code}): {reason}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The relay's error code.
        code: String,
        /// The relay's message.
        reason: String,
    },
    /// The relay failed (5xx): try again later.
    #[error("relay error ({status}): {reason}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The relay's message.
        reason: String,
    },
}

impl TransportError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, TransportError::Unreachable(_) | TransportError::Server { .. })
    }
}

/// What the relay holds of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobState {
    /// The whole photo, verified.
    Complete,
    /// The first `n` bytes of an upload in progress (0: nothing).
    Partial(u64),
}

impl fmt::Display for BlobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobState::Complete => f.write_str("complete"),
            BlobState::Partial(n) => write!(f, "{n} bytes held"),
        }
    }
}

/// The relay as the sync engine sees it.
pub trait Transport: Send + Sync {
    /// One sync round trip: an encoded request in, an encoded response out, its updates cut
    /// after about `answer_budget` bytes ([`super::protocol::ANSWER_BUDGET_HEADER`]).
    fn round_trip(&self, request: Vec<u8>, answer_budget: usize) -> Result<Vec<u8>, TransportError>;
    /// What the relay holds of a photo.
    fn blob_state(&self, sha256: &str) -> Result<BlobState, TransportError>;
    /// Sends bytes `offset..offset + chunk.len()` of a photo of `total` bytes.
    fn upload_blob(&self, sha256: &str, offset: u64, total: u64, chunk: &[u8]) -> Result<BlobState, TransportError>;
}
