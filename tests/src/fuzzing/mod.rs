//! The bodies of the fuzz targets in `fuzz/` (`scripts/fuzz`), as ordinary stable code: each
//! fuzz target is one line calling a function here, and `tests/tests/fuzz_corpora.rs` replays
//! every seed and every past crash through the same functions on stable.
//!
//! Each function takes the fuzzer's bytes and must never panic. It panics only when a property
//! the phone or the relay relies on breaks, so a panic is a bug found:
//!
//! | target | function | the bytes | what must hold |
//! |---|---|---|---|
//! | `sync_request` | [`sync_request`] | a sync body or live-channel frame | decoding never panics; what decodes re-encodes to the same message |
//! | `admission` | [`admission`] | a mode byte, then a push | every push gets a verdict; a refused one stores nothing; an accepted document is readable and in the pusher's scope |
//! | `photo` | [`photo`] | an upload | ingest and the relay's check never panic and agree on the size; an ingested photo ingests again |
//! | `csv_import` | [`csv_import`] | a dataset byte, then a CSV file | the reader reads the same records whatever its buffer size; a refused import changes no document |
//!
//! The relay targets run against a fresh copy of a small seeded relay ([`relay`]).
//! [`seeds`] makes the checked-in seed corpora with the real encoders.

pub mod relay;
pub mod seeds;

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use fieldsync_core::doc;
use fieldsync_core::photo::{self, PhotoLimits};
use fieldsync_core::sync::protocol::{self, LiveFrame, SyncRequest, SyncResponse};
use fieldsync_server::imports::csv::{CsvError, CsvReader, Record};
use fieldsync_server::imports::{self, DATASETS};
use fieldsync_server::sync::admit::{Incoming, Verdict};
use serde::Serialize;
use serde::de::DeserializeOwned;

use self::relay::FuzzRelay;

/// One fuzz target: its name (the file in `fuzz/fuzz_targets/`, the folders of `fuzz/corpus/`
/// and `fuzz/regressions/`) and its body.
#[derive(Clone, Copy)]
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// Runs one input.
    pub run: fn(&[u8]),
}

/// Every fuzz target.
pub const TARGETS: &[Target] = &[
    Target { name: "sync_request", run: sync_request },
    Target { name: "admission", run: admission },
    Target { name: "photo", run: photo },
    Target { name: "csv_import", run: csv_import },
];

// ---------------------------------------------------------------------------------------------
// sync_request

/// Decodes `data` as everything a sync body or live frame can be, on both sides.
pub fn sync_request(data: &[u8]) {
    round_trips::<SyncRequest>(data);
    round_trips::<LiveFrame>(data);
    round_trips::<SyncResponse>(data);
}

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(message) = protocol::decode::<T>(data) {
        let again = protocol::decode::<T>(&protocol::encode(&message));
        assert_eq!(again.as_ref(), Ok(&message), "a decoded message re-encodes to itself");
    }
}

// ---------------------------------------------------------------------------------------------
// admission

/// What the first byte of an `admission` input asks for (its value modulo 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmissionMode {
    /// 0: the rest are automerge changes pushed to the stored order.
    OrderChanges = 0,
    /// 1: the rest are automerge changes pushed as a new document.
    NewDocument = 1,
    /// 2: the rest is an automerge sync message about the stored order.
    OrderSyncMessage = 2,
    /// 3: the rest is an edit script ([`edit_script`]) that ravi's phone applies to the stored
    /// order; its changes are pushed. Raw bytes rarely get past automerge's checksums; a script
    /// always makes well-formed changes, so the fuzzer reaches the relay's own content checks.
    OrderEdits = 3,
}

impl AdmissionMode {
    fn of(byte: u8) -> Self {
        match byte % 4 {
            0 => Self::OrderChanges,
            1 => Self::NewDocument,
            2 => Self::OrderSyncMessage,
            _ => Self::OrderEdits,
        }
    }
}

/// Admits a push from ravi's phone into a fresh copy of the fuzz relay.
pub fn admission(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let relay = FuzzRelay::fresh();
    let order = relay::order_id();
    let edited;
    let (id, incoming) = match AdmissionMode::of(mode) {
        AdmissionMode::OrderChanges => (order, Incoming::Changes(rest)),
        AdmissionMode::NewDocument => (relay::new_doc_id(), Incoming::Changes(rest)),
        AdmissionMode::OrderSyncMessage => (order, Incoming::SyncMessage(rest)),
        AdmissionMode::OrderEdits => {
            let mut doc = relay::order();
            let before = doc.get_heads();
            edit_script(&mut doc, rest);
            edited = doc.save_after(&before);
            (order, Incoming::Changes(edited.as_slice()))
        }
    };
    let before = relay.stored(&id).map(|stored| stored.heads);
    let verdict = relay.admit(&id, incoming);
    let after = relay.stored(&id);
    match verdict {
        Err(error) => panic!("admission answered an error, not a verdict (a 500 for the device): {error}"),
        Ok(Verdict::Accepted { .. }) => {
            // Accepting nothing new (a retry, an empty push) stores nothing, even for a new id.
            let Some(stored) = after.filter(|stored| Some(&stored.heads) != before.as_ref()) else { return };
            let loaded = fieldsync_server::documents::load(&stored).expect("an accepted document loads");
            match doc::index_fields_of(&id, &loaded) {
                Ok(Some(_)) => {}
                other => panic!("an accepted document reads as its kind: {other:?}"),
            }
            assert!(relay.rep.scope().contains(&stored.meta), "an accepted document is in the pusher's scope");
            // What `GET /v1/docs/{id}` and the dashboard do with it.
            fieldsync_server::http::docs::document_json(&stored).expect("an accepted document renders as JSON");
        }
        Ok(Verdict::Rejected { .. } | Verdict::Resync) => {
            assert_eq!(after.map(|stored| stored.heads), before, "a refused push stores nothing");
        }
    }
}

/// Keys an edit script writes: the order's fields, a line's fields, a line id and a stranger.
const KEYS: &[&str] = &[
    "kind",
    "schema",
    "owner",
    "store_id",
    "customer_id",
    "status",
    "lines",
    "notes",
    "created_at",
    "updated_at",
    "submitted_at",
    "submission",
    "line-1",
    "sku",
    "qty",
    "unit_price_cents",
    "discount_bp",
    "position",
    "x",
];

/// Texts an edit script writes: kinds, statuses, ids of the fixture and others.
fn text(n: u8) -> String {
    match n % 12 {
        0 => String::new(),
        1 => "order".to_owned(),
        2 => "store".to_owned(),
        3 => "Draft".to_owned(),
        4 => "Submitted".to_owned(),
        5 => relay::REP_ID.to_owned(),
        6 => relay::store_id().to_string(),
        7 => relay::order_id().to_string(),
        8 => "SKU-1".to_owned(),
        9 => "C-1".to_owned(),
        10 => "someone-else".to_owned(),
        _ => "é".repeat(usize::from(n)),
    }
}

fn scalar(kind: u8, n: u8) -> ScalarValue {
    let int = [0, 1, -1, 6, 1200, 10_000, i64::MAX, i64::MIN][usize::from(n % 8)];
    match kind % 9 {
        0 => ScalarValue::Str(text(n).into()),
        1 => ScalarValue::Int(int),
        2 => ScalarValue::Uint(u64::from(n)),
        3 => ScalarValue::F64(f64::from(n) / 3.0),
        4 => ScalarValue::Boolean(n.is_multiple_of(2)),
        5 => ScalarValue::Null,
        6 => ScalarValue::Timestamp(int),
        7 => ScalarValue::counter(int),
        _ => ScalarValue::Bytes(vec![n; usize::from(n % 4)]),
    }
}

/// Applies an edit script to `doc` as one change at the fixture's time. The script is read three
/// bytes at a time, `op a b`, on a current object (the root at first):
///
/// | `op % 8` | in a map (key `KEYS[a]`) | in a list or text (index `a` modulo its length + 1) |
/// |---|---|---|
/// | 0 | put a scalar of kind `b` | insert a scalar |
/// | 1 | put a new map there and enter it | insert a new map and enter it |
/// | 2 | put a new list there and enter it | insert a new list and enter it |
/// | 3 | put a new text there and enter it | splice `b` characters in (text) |
/// | 4 | delete the key | delete the element |
/// | 5 | enter the object at the key, if any | enter the object at the index, if any |
/// | 6 | go back to the parent object | the same |
/// | 7 | nest `(b + 1) * 32` maps under the key and enter the deepest | the same, inserted |
///
/// Operations that do not apply (wrong type, index out of range) are skipped. A script nests at
/// most [`MAX_NESTED_MAPS`] maps in all, so that one input stays fast.
pub fn edit_script(doc: &mut Automerge, script: &[u8]) {
    let _ = doc.transact_with(
        |_| CommitOptions::default().with_time(relay::CHANGE_TIME),
        |tx| {
            let mut path: Vec<ObjId> = vec![ROOT];
            let mut nesting_left = MAX_NESTED_MAPS;
            for step in script.chunks(3) {
                let [op, a, b] = [0, 1, 2].map(|i| step.get(i).copied().unwrap_or(0));
                let current = path.last().cloned().unwrap_or(ROOT);
                if op % 8 == 6 {
                    if path.len() > 1 {
                        path.pop();
                    }
                    continue;
                }
                if let Some(entered) = edit_step(tx, &current, op % 8, a, b, &mut nesting_left) {
                    path.extend(entered);
                }
            }
            Ok::<_, automerge::AutomergeError>(())
        },
    );
}

/// One step of [`edit_script`]; the objects it entered, outermost first.
fn edit_step(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    op: u8,
    a: u8,
    b: u8,
    nesting_left: &mut usize,
) -> Option<Vec<ObjId>> {
    let made = |kind| match kind {
        1 => Some(ObjType::Map),
        2 => Some(ObjType::List),
        3 => Some(ObjType::Text),
        _ => None,
    };
    match tx.object_type(obj).ok()? {
        ObjType::Map | ObjType::Table => {
            let key = KEYS[usize::from(a) % KEYS.len()];
            match op {
                0 => tx.put(obj, key, scalar(b, a)).ok().map(|_| vec![]),
                1..=3 => tx.put_object(obj, key, made(op)?).ok().map(|o| vec![o]),
                4 => tx.delete(obj, key).ok().map(|_| vec![]),
                5 => match tx.get(obj, key).ok()?? {
                    (automerge::Value::Object(_), inner) => Some(vec![inner]),
                    _ => None,
                },
                _ => {
                    let first = tx.put_object(obj, key, ObjType::Map).ok()?;
                    Some(nest(tx, first, b, nesting_left))
                }
            }
        }
        ObjType::List | ObjType::Text => {
            let is_text = tx.object_type(obj).ok()? == ObjType::Text;
            let index = usize::from(a) % (tx.length(obj) + 1);
            match op {
                0 if !is_text => tx.insert(obj, index, scalar(b, a)).ok().map(|_| vec![]),
                1..=2 if !is_text => tx.insert_object(obj, index, made(op)?).ok().map(|o| vec![o]),
                3 if is_text => tx.splice_text(obj, index, 0, &text(b)).ok().map(|_| vec![]),
                4 if index < tx.length(obj) => tx.delete(obj, index).ok().map(|_| vec![]),
                5 => match tx.get(obj, index).ok()?? {
                    (automerge::Value::Object(_), inner) => Some(vec![inner]),
                    _ => None,
                },
                7 if !is_text => {
                    let first = tx.insert_object(obj, index, ObjType::Map).ok()?;
                    Some(nest(tx, first, b, nesting_left))
                }
                _ => None,
            }
        }
    }
}

/// Most maps one edit script nests (the reader's stack gives out well before).
pub const MAX_NESTED_MAPS: usize = 8 * 1024;

/// Nests `(b + 1) * 32` maps under `first` (key `x`), within what is left of the script's
/// nesting; the innermost, to enter.
fn nest(tx: &mut Transaction<'_>, first: ObjId, b: u8, nesting_left: &mut usize) -> Vec<ObjId> {
    let count = ((usize::from(b) + 1) * 32).min(*nesting_left);
    *nesting_left -= count;
    let mut innermost = first;
    for _ in 0..count {
        match tx.put_object(&innermost, "x", ObjType::Map) {
            Ok(inner) => innermost = inner,
            Err(_) => break,
        }
    }
    vec![innermost]
}

// ---------------------------------------------------------------------------------------------
// photo

/// Limits for fuzzing photo ingest: the default checks, smaller images (so one input stays
/// fast) and a small output.
pub fn fuzz_photo_limits() -> PhotoLimits {
    PhotoLimits {
        max_pixels: 1 << 20,
        max_side: 4096,
        max_alloc_bytes: 64 * 1024 * 1024,
        output_long_side: 128,
        thumbnail_long_side: 32,
        ..PhotoLimits::default()
    }
}

/// Runs an upload through the phone's ingest and analysis and the relay's check.
pub fn photo(data: &[u8]) {
    let limits = fuzz_photo_limits();
    let header = photo::read_header(data, &limits);
    if let Ok(ingested) = photo::ingest(data, &limits) {
        assert_eq!(header.ok(), Some(ingested.source), "ingest reads the header read_header reads");
        assert!(ingested.width.max(ingested.height) <= limits.output_long_side, "ingest fits the output size");
        let again = photo::ingest(&ingested.jpeg, &limits);
        assert!(again.is_ok(), "an ingested photo ingests again: {again:?}");
    }
    let _ = photo::analyze(data, &limits);
    // The relay checks the bytes against their own hash, so the image check is reached.
    let sha256 = fieldsync_server::blobs::sha256_hex(data);
    let verified = fieldsync_server::blobs::verify_photo(&sha256, data, 15 * 1024 * 1024);
    if let (Ok(size), Ok(header)) = (&verified, photo::read_header(data, &PhotoLimits::default())) {
        assert_eq!(*size, (header.width, header.height), "the relay reads the size the phone reads");
    }
}

// ---------------------------------------------------------------------------------------------
// csv_import

/// Reads a CSV file with the streaming reader, then imports it (dataset `DATASETS[first byte %
/// 6]`) into a fresh copy of the fuzz relay.
pub fn csv_import(data: &[u8]) {
    let Some((&which, csv)) = data.split_first() else { return };
    let dataset = DATASETS[usize::from(which) % DATASETS.len()];

    // The reader's buffer size must not change what it reads (records cross buffer boundaries).
    let whole = read_csv(csv, 64 * 1024);
    for capacity in [1, 2, 3, 7] {
        assert_eq!(read_csv(csv, capacity), whole, "a {capacity}-byte buffer reads what a large one reads");
    }

    let relay = FuzzRelay::fresh();
    let path = relay.dir.path().join("import.csv");
    std::fs::write(&path, csv).expect("write the CSV file");
    let runtime = relay::runtime();
    let position = || runtime.block_on(relay.state.storage.feed_position(relay.tenant_id)).expect("feed position");
    let before = position();
    let imported = runtime.block_on(imports::import_file(
        relay.state.storage.as_ref(),
        &relay.state.caches,
        relay.tenant_id,
        dataset,
        &path,
        imports::no_progress(),
    ));
    match imported {
        Ok(_) => {}
        Err(
            fieldsync_server::Error::BadRequest { .. }
            | fieldsync_server::Error::Refused(_)
            | fieldsync_server::Error::InvalidImport(_),
        ) => {
            assert_eq!(position(), before, "a refused {dataset} import changes no document");
        }
        Err(error) => panic!("a {dataset} import failed other than by refusing the file: {error}"),
    }
}

/// A reader's refusal in English, as the API says it.
fn english(message: &fieldsync_core::i18n::Message) -> String {
    fieldsync_server::messages::catalog().text(fieldsync_core::i18n::Language::English, message)
}

/// Every record of `csv` (or the reader's error), read through a buffer of `capacity` bytes.
fn read_csv(csv: &[u8], capacity: usize) -> Result<Vec<Record>, String> {
    let mut reader = match CsvReader::with_capacity(csv, capacity) {
        Ok(reader) => reader,
        Err(CsvError::Format(reason)) => return Err(english(&reason)),
        Err(CsvError::Io(error)) => return Err(error.to_string()),
    };
    let mut records = Vec::new();
    let mut record = Record::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => records.push(record.clone()),
            Ok(false) => return Ok(records),
            Err(CsvError::Format(reason)) => return Err(english(&reason)),
            Err(CsvError::Io(error)) => return Err(error.to_string()),
        }
    }
}
