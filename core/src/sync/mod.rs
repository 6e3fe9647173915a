//! Sync between a device and the relay: the wire format and the scope digest, shared by both
//! sides, and the device's sync engine.
//!
//! How a round trip works (the full contract is `docs/protocol.md`): the device sends the last
//! change-feed position it applied, a digest over what it holds, and its local changes; the relay
//! stores the changes it accepts and answers with the changes in the device's scope since that
//! position. When nothing changed on either side the whole exchange is one small round trip and
//! no document is loaded. When the digests disagree (a restored phone, a store reassigned) the
//! relay lists its scope so the device can fetch what it lacks, purge what it may no longer hold,
//! and repair differing documents with automerge sync messages.

pub mod engine;
pub mod http;
pub mod live;
pub mod pinning;
pub mod protocol;
pub mod transport;

pub use engine::{
    BackgroundSync, LaneStatus, SetAsidePhoto, SyncEngine, SyncError, SyncListener, SyncOptions, SyncReport,
    SyncStatus, Wiped,
};
pub use http::{HttpTransport, LoginRequest, RelayTrust, Session, login, login_with, logout, logout_with};
pub use live::{LiveWatch, watch, watch_and_sync, watch_and_sync_with, watch_with};
pub use transport::{BlobState, Transport, TransportError};

use sha2::{Digest, Sha256};

use crate::id::DocumentId;
use protocol::Head;

/// The digest of a set of documents and their heads: SHA-256 over the entries sorted by id, each
/// written as the 16 id bytes, the number of heads (one byte), and the heads sorted.
pub fn scope_digest<'a>(entries: impl IntoIterator<Item = (&'a DocumentId, &'a [Head])>) -> [u8; 32] {
    let mut entries: Vec<(&DocumentId, Vec<Head>)> = entries
        .into_iter()
        .map(|(id, heads)| {
            let mut heads = heads.to_vec();
            heads.sort_unstable();
            (id, heads)
        })
        .collect();
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut hasher = Sha256::new();
    for (id, heads) in entries {
        hasher.update(id.as_bytes());
        hasher.update([heads.len().min(255) as u8]);
        for head in heads {
            hasher.update(head);
        }
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_order_but_not_content() {
        let (a, b) = (DocumentId::random(), DocumentId::random());
        let (h1, h2) = ([1u8; 32], [2u8; 32]);
        let one = scope_digest([(&a, &[h1, h2][..]), (&b, &[h1][..])]);
        let two = scope_digest([(&b, &[h1][..]), (&a, &[h2, h1][..])]);
        assert_eq!(one, two);
        assert_ne!(one, scope_digest([(&a, &[h1][..]), (&b, &[h1][..])]));
        assert_ne!(one, scope_digest([(&a, &[h1, h2][..])]));
    }
}
