//! What a document may become: limits on nesting, size and history, checked on the phone before a
//! change is kept and on the relay before anything is stored.
//!
//! Two checks, in the order an admission runs them:
//!
//! 1. [`measure`] counts the operations and changes in encoded automerge bytes (change chunks,
//!    compressed change chunks, whole saved documents) **without applying them**: it walks the
//!    run-length-encoded columns and adds up their run lengths, so a few kilobytes that expand to
//!    millions of operations cost a few kilobytes of work, and the walk stops as soon as the count
//!    passes the limit. Deflated data is inflated only up to [`MAX_INFLATED_BYTES`].
//! 2. [`check_shape`] walks a loaded document with an explicit stack (never recursion) and stops
//!    at the first object nested deeper than [`MAX_DEPTH`], the first map or list with more
//!    entries than the kind allows, or the first text longer than it allows.
//!
//! FieldSync's typed documents are at most five levels deep and far below every size limit; the
//! limits ([`Limits::for_kind`]) are set well above what a real order, inspection or catalog
//! holds, and documented with their error codes in `docs/protocol.md`.

use std::io::Read;

use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValueRef, ValueRef};

use super::DocKind;
use crate::identity::Role;

/// Deepest nesting of maps and lists below a document's root.
pub const MAX_DEPTH: usize = 32;

/// Most bytes that deflated automerge data may inflate to while it is measured.
pub const MAX_INFLATED_BYTES: usize = 32 * 1024 * 1024;

/// Limits on one kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operations in one push or sync message for one document.
    pub max_ops_per_push: u64,
    /// Operations in the whole history of one document.
    pub max_ops_per_doc: u64,
    /// Keys of one map, items of one list.
    pub max_entries: usize,
    /// Characters of one text or string value.
    pub max_text_chars: usize,
    /// Nesting of maps and lists below the root.
    pub max_depth: usize,
}

impl Limits {
    /// The limits of a kind of document.
    pub const fn for_kind(kind: DocKind) -> Limits {
        let (max_ops_per_push, max_ops_per_doc, max_entries, max_text_chars) = match kind {
            DocKind::Order | DocKind::Inspection => (20_000, 100_000, 2_000, 20_000),
            DocKind::Decision => (2_000, 10_000, 200, 5_000),
            DocKind::Store | DocKind::Template => (50_000, 200_000, 5_000, 20_000),
            DocKind::Catalog => (1_000_000, 10_000_000, 500_000, 100_000),
            // Written by the relay only: a device never pushes them, and their history grows with
            // the business (stock reservations, alerts). Only the shape is bounded.
            DocKind::OrderReview | DocKind::InspectionScore | DocKind::Inventory | DocKind::Inbox => {
                (u64::MAX, u64::MAX, 1_000_000, 100_000)
            }
        };
        Limits { max_ops_per_push, max_ops_per_doc, max_entries, max_text_chars, max_depth: MAX_DEPTH }
    }

    /// The most operations one push of a user in `role` may carry, before the relay knows which
    /// kind of document it builds: the largest push of the kinds that role writes.
    pub fn max_ops_per_push_for(role: Role) -> u64 {
        DocKind::ALL
            .into_iter()
            .filter(|kind| kind.writable_by(role))
            .map(|kind| Limits::for_kind(kind).max_ops_per_push)
            .max()
            .unwrap_or(0)
    }
}

/// Why a change or a document is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// More operations than the limit.
    #[error("{what} holds more than {max} operations")]
    TooManyOps {
        /// `the push` or `the document`.
        what: &'static str,
        /// The limit.
        max: u64,
    },
    /// Deflated data inflates past [`MAX_INFLATED_BYTES`].
    #[error("the changes inflate to more than {max} bytes")]
    TooLargeInflated {
        /// The limit.
        max: usize,
    },
    /// Maps or lists nested deeper than the limit.
    #[error("maps and lists are nested deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A map or list with too many entries.
    #[error("a map or list has {count} entries; at most {max}")]
    TooManyEntries {
        /// Entries found (counting stops a little past the limit).
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A text or string value that is too long.
    #[error("a text value has {chars} characters; at most {max}")]
    TextTooLong {
        /// Characters found.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes that are not automerge data.
    #[error("the changes are not automerge data: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
}

impl LimitError {
    /// The error code a device gets (documented in `docs/protocol.md`).
    pub fn code(&self) -> &'static str {
        match self {
            LimitError::TooManyOps { .. } => "too-many-ops",
            LimitError::TooLargeInflated { .. } => "too-large-inflated",
            LimitError::TooDeep { .. } => "too-deep",
            LimitError::TooManyEntries { .. } => "too-many-entries",
            LimitError::TextTooLong { .. } => "text-too-long",
            LimitError::Malformed { .. } => "invalid",
        }
    }
}

/// What encoded automerge bytes would add to a document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Operations (for a column-encoded chunk: its longest column, which counts every operation
    /// and every predecessor reference).
    pub ops: u64,
    /// Changes.
    pub changes: u64,
}

/// Counts the operations in `bytes` (any mix of automerge change chunks, compressed change chunks
/// and saved documents) without applying them, refusing as soon as they pass `max_ops`.
///
/// The work is proportional to the encoded bytes (and inflated bytes, at most
/// [`MAX_INFLATED_BYTES`]), never to the operations they expand to.
pub fn measure(bytes: &[u8], max_ops: u64) -> Result<Cost, LimitError> {
    let mut meter = Meter { max_ops, cost: Cost::default(), inflated: 0 };
    let mut rest = bytes;
    while !rest.is_empty() {
        rest = meter.chunk(rest)?;
    }
    Ok(meter.cost)
}

/// Checks a loaded document against `limits`: nesting, entries per map or list, text length.
/// Walks with an explicit stack, so a document nested a million levels deep is refused at level
/// `max_depth + 1` instead of overflowing the reader's stack.
pub fn check_shape(doc: &Automerge, limits: &Limits) -> Result<(), LimitError> {
    // Only the visible value of each key or index is walked: that is all any reader sees, and a
    // value that lost a conflict never becomes visible again.
    let mut stack: Vec<(ObjId, usize)> = vec![(ROOT, 0)];
    while let Some((obj, depth)) = stack.pop() {
        let mut visit = |value: ValueRef<'_>, child: ObjId| -> Result<(), LimitError> {
            match value {
                ValueRef::Object(_) => {
                    if depth + 1 > limits.max_depth {
                        return Err(LimitError::TooDeep { max: limits.max_depth });
                    }
                    stack.push((child, depth + 1));
                }
                ValueRef::Scalar(ScalarValueRef::Str(text)) => check_text(text.chars().count(), limits)?,
                ValueRef::Scalar(_) => {}
            }
            Ok(())
        };
        match doc.object_type(&obj) {
            Ok(ObjType::Map | ObjType::Table) => {
                let mut entries = 0;
                for item in doc.map_range(&obj, ..) {
                    entries += 1;
                    check_entries(entries, limits)?;
                    let child = item.id();
                    visit(item.value, child)?;
                }
            }
            Ok(ObjType::List) => {
                check_entries(doc.length(&obj), limits)?;
                for item in doc.list_range(&obj, ..) {
                    let child = item.id();
                    visit(item.value, child)?;
                }
            }
            Ok(ObjType::Text) => check_text(doc.length(&obj), limits)?,
            Err(error) => return Err(malformed(error)),
        }
    }
    Ok(())
}

fn check_entries(count: usize, limits: &Limits) -> Result<(), LimitError> {
    if count > limits.max_entries {
        return Err(LimitError::TooManyEntries { count, max: limits.max_entries });
    }
    Ok(())
}

fn check_text(chars: usize, limits: &Limits) -> Result<(), LimitError> {
    if chars > limits.max_text_chars {
        return Err(LimitError::TextTooLong { chars, max: limits.max_text_chars });
    }
    Ok(())
}

fn malformed(error: impl std::fmt::Display) -> LimitError {
    LimitError::Malformed { reason: error.to_string() }
}

/// The first bytes of every automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Column types of the automerge binary format (the low three bits of a column spec).
mod column {
    pub const GROUP: u32 = 0;
    pub const ACTOR: u32 = 1;
    pub const INTEGER: u32 = 2;
    pub const DELTA: u32 = 3;
    pub const BOOLEAN: u32 = 4;
    pub const STRING: u32 = 5;
    pub const VALUE_META: u32 = 6;
    pub const VALUE: u32 = 7;
    /// The spec bit that marks a deflated column.
    pub const DEFLATE: u32 = 0b1000;
}

struct Meter {
    max_ops: u64,
    cost: Cost,
    inflated: usize,
}

impl Meter {
    /// Measures the chunk at the start of `input`; returns what follows it.
    fn chunk<'a>(&mut self, input: &'a [u8]) -> Result<&'a [u8], LimitError> {
        let mut reader = Reader(input);
        if reader.take(4)? != MAGIC {
            return Err(malformed("a chunk does not start with automerge's magic bytes"));
        }
        reader.take(4)?; // checksum
        let chunk_type = reader.byte()?;
        let length = reader.length()?;
        let body = reader.take(length)?;
        match chunk_type {
            0 => self.document(body)?,
            1 => self.change(body)?,
            2 => {
                let body = self.inflate(body)?;
                self.change(&body)?;
            }
            other => return Err(malformed(format!("chunk type {other} is not a change or a document"))),
        }
        Ok(reader.0)
    }

    /// A change chunk's body: its metadata, then its operation columns.
    fn change(&mut self, body: &[u8]) -> Result<(), LimitError> {
        let mut reader = Reader(body);
        let deps = reader.length()?;
        reader.take(deps.checked_mul(32).ok_or_else(|| malformed("too many dependencies"))?)?;
        let actor = reader.length()?;
        reader.take(actor)?;
        reader.uleb()?; // seq
        reader.uleb()?; // start op
        reader.sleb()?; // time
        let message = reader.length()?;
        reader.take(message)?;
        let others = reader.length()?;
        for _ in 0..others {
            let actor = reader.length()?;
            reader.take(actor)?;
        }
        let columns = reader.columns()?;
        let ops = self.columns(&mut reader, &columns)?;
        self.add(ops, 1)
    }

    /// A saved document's body: actors, heads, change and operation column metadata, then the
    /// change columns and the operation columns.
    fn document(&mut self, body: &[u8]) -> Result<(), LimitError> {
        let mut reader = Reader(body);
        let actors = reader.length()?;
        for _ in 0..actors {
            let actor = reader.length()?;
            reader.take(actor)?;
        }
        let heads = reader.length()?;
        reader.take(heads.checked_mul(32).ok_or_else(|| malformed("too many heads"))?)?;
        let change_columns = reader.columns()?;
        let op_columns = reader.columns()?;
        let changes = self.columns(&mut reader, &change_columns)?;
        let ops = self.columns(&mut reader, &op_columns)?;
        self.add(ops, changes)
    }

    fn add(&mut self, ops: u64, changes: u64) -> Result<(), LimitError> {
        self.cost.ops = self.cost.ops.saturating_add(ops);
        self.cost.changes = self.cost.changes.saturating_add(changes);
        // Every change holds at least one operation worth of work, even an empty one.
        if self.cost.ops.max(self.cost.changes) > self.max_ops {
            return Err(LimitError::TooManyOps { what: "the push", max: self.max_ops });
        }
        Ok(())
    }

    /// The longest of `columns` (read from `reader` in order), in entries.
    fn columns(&mut self, reader: &mut Reader<'_>, columns: &[(u32, usize)]) -> Result<u64, LimitError> {
        let budget = self.max_ops.saturating_sub(self.cost.ops.max(self.cost.changes));
        let mut longest = 0;
        for &(spec, length) in columns {
            let data = reader.take(length)?;
            let inflated;
            let data = if spec & column::DEFLATE != 0 {
                inflated = self.inflate(data)?;
                &inflated[..]
            } else {
                data
            };
            let entries = column_entries(spec & 0b111, data, budget)?;
            if entries > budget {
                return Err(LimitError::TooManyOps { what: "the push", max: self.max_ops });
            }
            longest = longest.max(entries);
        }
        Ok(longest)
    }

    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, LimitError> {
        let room = MAX_INFLATED_BYTES.saturating_sub(self.inflated);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .take(room as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| malformed(format!("deflated data does not inflate: {e}")))?;
        if out.len() > room {
            return Err(LimitError::TooLargeInflated { max: MAX_INFLATED_BYTES });
        }
        self.inflated += out.len();
        Ok(out)
    }
}

/// Entries in one column of type `kind`, adding up run lengths without expanding them; stops
/// once past `budget`.
fn column_entries(kind: u32, data: &[u8], budget: u64) -> Result<u64, LimitError> {
    let mut reader = Reader(data);
    let mut entries: u64 = 0;
    match kind {
        // Raw value bytes: their count is given by the value metadata column.
        column::VALUE => return Ok(0),
        // Alternating runs of false and true: a list of run lengths.
        column::BOOLEAN => {
            while !reader.0.is_empty() && entries <= budget {
                entries = entries.saturating_add(reader.uleb()?);
            }
        }
        column::GROUP | column::ACTOR | column::INTEGER | column::DELTA | column::STRING | column::VALUE_META => {
            while !reader.0.is_empty() && entries <= budget {
                let run = reader.sleb()?;
                let (count, values) = match run {
                    0 => (reader.uleb()?, 0),
                    n if n > 0 => (n as u64, 1),
                    n => (n.unsigned_abs(), n.unsigned_abs()),
                };
                entries = entries.saturating_add(count);
                if entries > budget {
                    break;
                }
                for _ in 0..values {
                    match kind {
                        column::DELTA => {
                            reader.sleb()?;
                        }
                        column::STRING => {
                            let length = reader.length()?;
                            reader.take(length)?;
                        }
                        _ => {
                            reader.uleb()?;
                        }
                    }
                }
            }
        }
        other => return Err(malformed(format!("unknown column type {other}"))),
    }
    Ok(entries)
}

/// A cursor over bytes, every read checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], LimitError> {
        if n > self.0.len() {
            return Err(malformed("the data ends early"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, LimitError> {
        Ok(self.take(1)?[0])
    }

    fn uleb(&mut self) -> Result<u64, LimitError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(malformed("a number overflows 64 bits"));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed("a number overflows 64 bits"))
    }

    fn sleb(&mut self) -> Result<i64, LimitError> {
        let mut value: i64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= i64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift + 7 < 64 && byte & 0x40 != 0 {
                    value |= -1i64 << (shift + 7);
                }
                return Ok(value);
            }
        }
        Err(malformed("a number overflows 64 bits"))
    }

    /// A length: an unsigned number that must fit in what remains.
    fn length(&mut self) -> Result<usize, LimitError> {
        let n = self.uleb()?;
        usize::try_from(n).map_err(|_| malformed("a length overflows"))
    }

    /// Column metadata: a count, then (spec, length) pairs.
    fn columns(&mut self) -> Result<Vec<(u32, usize)>, LimitError> {
        let count = self.length()?;
        if count > 64 {
            return Err(malformed(format!("{count} columns")));
        }
        (0..count)
            .map(|_| {
                let spec = u32::try_from(self.uleb()?).map_err(|_| malformed("a column spec overflows"))?;
                Ok((spec, self.length()?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit};

    use super::*;

    fn text_doc(chars: usize) -> AutoCommit {
        let mut doc = AutoCommit::new().with_actor(ActorId::random());
        let text = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, &"a".repeat(chars)).unwrap();
        doc
    }

    #[test]
    fn the_measured_ops_of_a_saved_document_and_of_its_changes_agree_with_automerge() {
        let mut doc = text_doc(1_000);
        doc.commit();
        doc.put(ROOT, "kind", "order").unwrap();
        let saved = doc.save();
        let changes = doc.save_after(&[]);
        let truth = doc.document().get_changes(&[]).iter().map(|c| c.len() as u64).sum::<u64>();
        assert_eq!(truth, 1_002);
        assert!(measure(&saved, u64::MAX).unwrap().ops >= truth);
        assert!(measure(&changes, u64::MAX).unwrap().ops >= truth);
        assert!(measure(&saved, u64::MAX).unwrap().ops <= 2 * truth);
        assert_eq!(measure(&changes, u64::MAX).unwrap().changes, 2);
    }

    #[test]
    fn a_few_kilobytes_expanding_to_a_million_operations_are_refused_without_applying_them() {
        let doc = text_doc(1_000_000);
        let saved = doc.clone().save();
        assert!(saved.len() < 64 * 1024, "{} bytes", saved.len());
        let started = std::time::Instant::now();
        assert_eq!(measure(&saved, 20_000), Err(LimitError::TooManyOps { what: "the push", max: 20_000 }));
        let mut changes = doc;
        let incremental = changes.save_after(&[]);
        assert!(matches!(measure(&incremental, 20_000), Err(LimitError::TooManyOps { .. })));
        // Not a timing assertion: a print for whoever reads the test output.
        println!("measured 2 x 1M ops in {:?}", started.elapsed());
    }

    #[test]
    fn bytes_that_are_not_automerge_are_malformed_never_a_panic() {
        for bad in [&b"hello"[..], &[0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 0xff][..], &[0x85, 0x6f, 0x4a][..]] {
            assert!(matches!(measure(bad, 100), Err(LimitError::Malformed { .. })), "{bad:?}");
        }
        let mut saved = text_doc(10).save();
        saved.truncate(saved.len() - 3);
        assert!(measure(&saved, 100).is_err());
    }

    #[test]
    fn a_deep_chain_of_maps_is_refused_at_the_limit_without_recursion() {
        let mut doc = AutoCommit::new();
        let mut obj = ROOT;
        for _ in 0..100_000 {
            obj = doc.put_object(&obj, "x", ObjType::Map).unwrap();
        }
        let limits = Limits::for_kind(DocKind::Order);
        assert_eq!(check_shape(doc.document(), &limits), Err(LimitError::TooDeep { max: MAX_DEPTH }));
    }

    #[test]
    fn shape_limits_count_entries_and_characters() {
        let limits = Limits { max_entries: 3, max_text_chars: 5, ..Limits::for_kind(DocKind::Order) };
        let mut doc = AutoCommit::new();
        let list = doc.put_object(ROOT, "lines", ObjType::List).unwrap();
        for i in 0..3 {
            doc.insert(&list, i, "ok").unwrap();
        }
        assert_eq!(check_shape(doc.document(), &limits), Ok(()));
        doc.insert(&list, 3, "four").unwrap();
        assert_eq!(check_shape(doc.document(), &limits), Err(LimitError::TooManyEntries { count: 4, max: 3 }));
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "name", "123456").unwrap();
        assert_eq!(check_shape(doc.document(), &limits), Err(LimitError::TextTooLong { chars: 6, max: 5 }));
        assert_eq!(check_shape(text_doc(6).document(), &limits), Err(LimitError::TextTooLong { chars: 6, max: 5 }));
    }

    #[test]
    fn every_role_may_push_what_its_own_kinds_allow() {
        assert_eq!(Limits::max_ops_per_push_for(Role::Rep), 20_000);
        assert_eq!(Limits::max_ops_per_push_for(Role::Hq), 1_000_000);
    }
}
