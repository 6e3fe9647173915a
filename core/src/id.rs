//! Document ids: bs58check of 16 random bytes, compatible with automerge-repo (`automerge:<id>`).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::doc::DocKind;
use crate::error::Error;

/// The id of one FieldSync document.
///
/// Sixteen random bytes written as bs58check, exactly like automerge-repo's `DocumentId`, so a
/// document can also be named `automerge:<id>` by JavaScript peers.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId {
    bytes: [u8; 16],
    text: String,
}

impl DocumentId {
    /// A new random id, never one of the ids reserved for derived documents ([`Self::derived`]).
    pub fn random() -> Self {
        loop {
            let id = Self::from_bytes(rand::random());
            // One draw in about a billion lands on a reserved tag.
            if id.reserved_for().is_none() {
                return id;
            }
        }
    }

    /// The id of a document derived from others (an order's review, an inspection's score, a
    /// user's inbox, an approver's decision), the same on every device and relay node.
    ///
    /// The id is bound to its kind: its last four bytes are a tag computed from the kind and the
    /// first twelve, so [`Self::reserved_for`] tells from the id alone which kind it is reserved
    /// for. The relay refuses a device's document of any other kind under such an id, so nobody
    /// can squat the id of a review, score, inbox or decision before it is written.
    pub fn derived(kind: DocKind, parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new().chain_update(b"fieldsync derived id\0").chain_update(kind.as_str());
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes[..12].copy_from_slice(&digest[..12]);
        let tag = reserved_tag(kind, &bytes[..12]);
        bytes[12..].copy_from_slice(&tag);
        Self::from_bytes(bytes)
    }

    /// The kind this id is reserved for, if it is a derived id ([`Self::derived`]).
    pub fn reserved_for(&self) -> Option<DocKind> {
        DERIVED_KINDS.into_iter().find(|kind| reserved_tag(*kind, &self.bytes[..12]) == self.bytes[12..])
    }

    /// The id for these 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        let text = bs58::encode(bytes).with_check().into_string();
        Self { bytes, text }
    }

    /// The raw 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.bytes
    }

    /// The bs58check text form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The automerge-repo URL of this document: `automerge:<id>`.
    pub fn url(&self) -> String {
        format!("automerge:{}", self.text)
    }
}

/// The kinds whose documents have derived ids.
const DERIVED_KINDS: [DocKind; 4] = [DocKind::OrderReview, DocKind::InspectionScore, DocKind::Inbox, DocKind::Decision];

fn reserved_tag(kind: DocKind, prefix: &[u8]) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(b"fieldsync reserved id\0")
        .chain_update(kind.as_str())
        .chain_update(b"\0")
        .chain_update(prefix)
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A short random id for items inside a document (order lines, answers): 8 random bytes in bs58.
pub fn short_id() -> String {
    bs58::encode(rand::random::<[u8; 8]>()).into_string()
}

impl FromStr for DocumentId {
    type Err = Error;

    /// Parses the bs58check form, with or without the `automerge:` prefix.
    fn from_str(s: &str) -> Result<Self, Error> {
        let text = s.strip_prefix("automerge:").unwrap_or(s);
        let invalid = |reason| Error::InvalidId { id: s.to_owned(), reason };
        if text.is_empty() || text.len() > 40 {
            return Err(invalid("wrong length"));
        }
        let decoded = bs58::decode(text).with_check(None).into_vec().map_err(|_| invalid("not bs58check"))?;
        let bytes: [u8; 16] = decoded.try_into().map_err(|_| invalid("not 16 bytes"))?;
        Ok(Self::from_bytes(bytes))
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({})", self.text)
    }
}

/// On the wire a document id is its 16 raw bytes.
impl serde::Serialize for DocumentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.bytes.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for DocumentId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <[u8; 16]>::deserialize(deserializer).map(Self::from_bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_urls() {
        let id = DocumentId::random();
        assert_eq!(id.as_str().parse::<DocumentId>().unwrap(), id);
        assert_eq!(id.url().parse::<DocumentId>().unwrap(), id);
    }

    #[test]
    fn a_mistyped_id_fails_its_checksum() {
        let id = DocumentId::random();
        let mut text = id.as_str().to_owned();
        let last = text.pop().unwrap();
        text.push(if last == '2' { '3' } else { '2' });
        assert!(matches!(text.parse::<DocumentId>(), Err(Error::InvalidId { .. })));
    }

    #[test]
    fn a_derived_id_is_reserved_for_its_kind_only_and_random_ids_never_are() {
        let review = DocumentId::derived(DocKind::OrderReview, &[b"order-1"]);
        assert_eq!(review, DocumentId::derived(DocKind::OrderReview, &[b"order-1"]));
        assert_ne!(review, DocumentId::derived(DocKind::InspectionScore, &[b"order-1"]));
        assert_ne!(review, DocumentId::derived(DocKind::OrderReview, &[b"order-", b"1"]));
        assert_eq!(review.reserved_for(), Some(DocKind::OrderReview));
        let inbox = DocumentId::derived(DocKind::Inbox, &[b"user-1"]);
        assert_eq!(inbox.reserved_for(), Some(DocKind::Inbox));
        for _ in 0..1_000 {
            assert_eq!(DocumentId::random().reserved_for(), None);
        }
    }

    #[test]
    fn path_characters_and_empty_text_are_not_ids() {
        for bad in ["", "../etc/passwd", "abc/def", "0OIl", &"1".repeat(100)] {
            assert!(bad.parse::<DocumentId>().is_err(), "{bad:?} parsed");
        }
    }
}
