//! The sync wire format, version 1 (written down in `docs/protocol.md`).
//!
//! A body is the two bytes `F` and the protocol version, then the message encoded with postcard
//! (varint integers, length-prefixed byte strings, fields in declaration order). Fields are only
//! ever appended at the end of a message in a new protocol version; a relay answers a version it
//! does not speak with an error naming the versions it does.

use serde::{Deserialize, Serialize};

use crate::id::DocumentId;

/// Most documents one request may push, ask for (`want`) or repair: the relay refuses a
/// request with more, and the device's sync engine sends at most this many per round.
pub const MAX_DOCS_PER_REQUEST: usize = 2_000;

/// The HTTP header in which a device asks `POST /v1/sync` for answers of at most this many bytes
/// of updates (a decimal number), sized to what its link moves in a few seconds. The relay
/// keeps the number within [`MIN_ANSWER_BUDGET`] and [`MAX_ANSWER_BUDGET`]; without the header
/// it uses [`MAX_ANSWER_BUDGET`]. A transport matter, so a header rather than a field of
/// [`SyncRequest`]: a device that does not send it speaks the same protocol.
pub const ANSWER_BUDGET_HEADER: &str = "fieldsync-answer-budget";
/// Smallest answer budget the relay serves: a page always moves the device on.
pub const MIN_ANSWER_BUDGET: usize = 16 * 1024;
/// Largest answer budget, and the relay's default.
pub const MAX_ANSWER_BUDGET: usize = 4 * 1024 * 1024;

/// The protocol version this code speaks.
pub const PROTOCOL_VERSION: u8 = 1;
const MAGIC: u8 = b'F';

/// A change hash (SHA-256 of an automerge change).
pub type Head = [u8; 32];

/// A device's half of a sync round trip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The last change-feed position the device has fully applied (0: none).
    pub cursor: u64,
    /// [`scope_digest`](super::scope_digest) over the documents the device holds, leaving out
    /// `excluded`.
    pub digest: [u8; 32],
    /// Documents left out of the digest on both sides: changed locally and not yet acknowledged,
    /// or quarantined.
    pub excluded: Vec<DocumentId>,
    /// Local changes for the relay.
    pub pushes: Vec<Push>,
    /// Documents the device wants whole (it lacks them).
    pub want: Vec<DocumentId>,
    /// automerge sync messages, for documents being repaired.
    pub sync: Vec<DocMessage>,
}

/// Changes to one document made on the device since the relay last acknowledged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Push {
    /// The document.
    pub doc: DocumentId,
    /// automerge changes (`save_after` of the acknowledged heads, or a whole saved document).
    pub changes: Vec<u8>,
}

/// One automerge sync message about one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocMessage {
    /// The document.
    pub doc: DocumentId,
    /// An encoded `automerge::sync::Message`.
    pub message: Vec<u8>,
}

/// The relay's half of a sync round trip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The change-feed position the device reaches once it has applied `updates`.
    pub cursor: u64,
    /// Changes from others to documents in the device's scope, in feed order.
    pub updates: Vec<Update>,
    /// Pushes the relay stored durably: the device may forget them.
    pub accepted: Vec<DocumentId>,
    /// Pushes the relay refused; nothing of them was stored. The device quarantines them.
    pub rejected: Vec<Rejection>,
    /// Pushes that build on changes the relay does not have: repair them with sync messages.
    pub resync: Vec<DocumentId>,
    /// Replies to the request's sync messages.
    pub sync: Vec<DocMessage>,
    /// Documents that left the device's scope: delete them.
    pub purge: Vec<DocumentId>,
    /// Every document in scope with its heads; sent when the digests differ.
    pub manifest: Option<Vec<ManifestEntry>>,
    /// The relay capped this response: send another request right away.
    pub more: bool,
}

/// Changes to one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The document.
    pub doc: DocumentId,
    /// automerge bytes for `load_incremental`: a whole document or the changes since `cursor`.
    pub changes: Vec<u8>,
}

/// Why a push was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// The document.
    pub doc: DocumentId,
    /// Stable code: `forbidden`, `invalid`, `actor-taken`, `too-large`.
    pub code: String,
    /// What was wrong, for the app to show.
    pub reason: String,
}

/// One document in the device's scope as the relay has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The document.
    pub doc: DocumentId,
    /// Its heads on the relay.
    pub heads: Vec<Head>,
}

/// A message on the live channel (`GET /v1/ws`), one per binary WebSocket frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LiveFrame {
    /// Device to relay: a sync round trip.
    Request(SyncRequest),
    /// Relay to device: the answer to the last request.
    Response(SyncResponse),
    /// Relay to device: something in scope changed at this feed position; sync when ready.
    Changed(u64),
    /// Relay to device: the request could not be served.
    Error(String),
}

/// A body that is not a sync message of a version this code speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Empty, or not starting with the FieldSync magic byte.
    #[error("not a fieldsync sync message")]
    NotSync,
    /// A version this code does not speak.
    #[error("sync protocol version {0} is not supported (this side speaks {PROTOCOL_VERSION})")]
    Version(u8),
    /// The bytes do not decode.
    #[error("malformed sync message: {0}")]
    Malformed(String),
}

/// Encodes a message with the protocol header.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let out = vec![MAGIC, PROTOCOL_VERSION];
    // Serialising plain structs of integers, vectors and byte arrays into a Vec cannot fail.
    match postcard::to_extend(message, out) {
        Ok(bytes) => bytes,
        Err(_) => vec![MAGIC, PROTOCOL_VERSION],
    }
}

/// Decodes a message, checking the header and that nothing trails it.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, WireError> {
    match bytes {
        [MAGIC, PROTOCOL_VERSION, body @ ..] => {
            let (message, rest) = postcard::take_from_bytes(body).map_err(|e| WireError::Malformed(e.to_string()))?;
            if rest.is_empty() {
                Ok(message)
            } else {
                Err(WireError::Malformed(format!("{} trailing bytes", rest.len())))
            }
        }
        [MAGIC, version, ..] => Err(WireError::Version(*version)),
        _ => Err(WireError::NotSync),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn id() -> impl Strategy<Value = DocumentId> {
        any::<[u8; 16]>().prop_map(DocumentId::from_bytes)
    }

    fn request() -> impl Strategy<Value = SyncRequest> {
        (
            any::<u64>(),
            any::<[u8; 32]>(),
            prop::collection::vec(id(), 0..4),
            prop::collection::vec((id(), prop::collection::vec(any::<u8>(), 0..64)), 0..4),
            prop::collection::vec(id(), 0..4),
        )
            .prop_map(|(cursor, digest, excluded, pushes, want)| SyncRequest {
                cursor,
                digest,
                excluded,
                pushes: pushes.into_iter().map(|(doc, changes)| Push { doc, changes }).collect(),
                want,
                sync: vec![],
            })
    }

    proptest! {
        #[test]
        fn every_request_round_trips(request in request()) {
            prop_assert_eq!(decode::<SyncRequest>(&encode(&request)).unwrap(), request);
        }

        #[test]
        fn truncated_or_garbled_bodies_are_errors_not_panics(request in request(), cut in 0usize..200, flip in any::<(usize, u8)>()) {
            let bytes = encode(&request);
            let cut = cut.min(bytes.len().saturating_sub(1));
            prop_assert!(decode::<SyncRequest>(&bytes[..cut]).is_err());
            let mut garbled = bytes.clone();
            let at = flip.0 % garbled.len();
            garbled[at] ^= flip.1 | 1;
            let _ = decode::<SyncRequest>(&garbled);
        }
    }

    #[test]
    fn other_versions_and_foreign_bodies_are_named() {
        assert_eq!(decode::<SyncRequest>(b""), Err(WireError::NotSync));
        assert_eq!(decode::<SyncRequest>(b"{\"json\":1}"), Err(WireError::NotSync));
        assert_eq!(decode::<SyncRequest>(&[b'F', 9, 0]), Err(WireError::Version(9)));
        let mut bytes = encode(&SyncRequest::default());
        bytes.push(0);
        assert!(matches!(decode::<SyncRequest>(&bytes), Err(WireError::Malformed(_))));
    }
}
