//! Encryption at rest: a store opened with a key is a SQLCipher file that reads back whole with
//! the key and shows nothing without it; a wrong key changes nothing; a plain store opened with a
//! key is converted keeping every order and photo; `rekey` rotates the key.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use fieldsync_core::doc::GeoFix;
use fieldsync_core::local_store::{CheckIn, NewOrder, OrderFilter, PhotoCapture};
use fieldsync_core::{DocumentId, Error, LocalStore, Role, StoreKey};

const T0: i64 = 1_764_460_800_000;
const AT_SHOP: GeoFix = GeoFix { latitude: 52.37, longitude: 4.89, accuracy_m: 6.0 };
const NOTE: &str = "deliver to the back door, ask for Marguerite Okonkwo";

/// What the store holds that a thief must not read: an order with a distinctive note, and a
/// shelf photo with its thumbnail.
struct Held {
    order: DocumentId,
    photo_sha: String,
    photo: Vec<u8>,
    thumbnail: Vec<u8>,
}

fn fill(store: &LocalStore, shop: &DocumentId, template: &DocumentId) -> Held {
    let order = store
        .create_order(NewOrder {
            store_id: shop.to_string(),
            lines: vec![common::line("SKU-1", 3)],
            notes: NOTE.into(),
        })
        .unwrap();
    let visit = store
        .check_in(CheckIn { store_id: shop.to_string(), template_id: template.to_string(), at: T0, position: AT_SHOP })
        .unwrap();
    let capture = PhotoCapture { captured_at: T0 + 60_000, position: Some(AT_SHOP) };
    let added = store.add_photo(&visit, "facings", &common::fixture("coffee.jpg"), capture).unwrap();
    let photo_sha = added.reference.sha256;
    Held {
        order,
        photo: store.photo_bytes(&photo_sha).unwrap(),
        thumbnail: store.photo_thumbnail(&photo_sha).unwrap(),
        photo_sha,
    }
}

/// A store at `path` (encrypted when `key` is given) with the fixtures, a rep signed in.
fn store_at(path: &Path, key: Option<StoreKey>) -> (LocalStore, DocumentId, DocumentId) {
    let store = match key {
        Some(key) => LocalStore::open_encrypted(path, key).unwrap(),
        None => LocalStore::open(path).unwrap(),
    };
    let f = common::fixture_in(store, common::REP, Role::Rep);
    (f.store, f.shop_id, f.template_id)
}

/// Every byte of every file in `dir`.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (entry.file_name().to_string_lossy().into_owned(), std::fs::read(entry.path()).unwrap())
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// Whether any file of `dir` holds the order's note or a 64-byte run from the middle of the
/// photo or of its thumbnail.
fn readable(dir: &Path, held: &Held) -> Vec<String> {
    let middle = |bytes: &[u8]| bytes[bytes.len() / 2..bytes.len() / 2 + 64].to_vec();
    let needles = [
        ("order note", NOTE.as_bytes().to_vec()),
        ("photo", middle(&held.photo)),
        ("thumbnail", middle(&held.thumbnail)),
    ];
    let mut found = Vec::new();
    for (name, bytes) in files(dir) {
        for (what, needle) in &needles {
            if contains(&bytes, needle) {
                found.push(format!("{what} in {name}"));
            }
        }
    }
    found
}

fn assert_reads_back(store: &LocalStore, held: &Held) {
    assert_eq!(store.order(&held.order).unwrap().notes, NOTE);
    assert_eq!(store.photo_bytes(&held.photo_sha).unwrap(), held.photo);
    assert_eq!(store.photo_thumbnail(&held.photo_sha).unwrap(), held.thumbnail);
    store.integrity_check().unwrap();
}

#[test]
fn the_scan_finds_order_text_and_photo_bytes_in_a_plain_store() {
    // The check the other tests rely on: on a plain store it does find everything.
    let dir = tempfile::tempdir().unwrap();
    let (store, shop, template) = store_at(&dir.path().join("phone.db"), None);
    let held = fill(&store, &shop, &template);
    drop(store);
    assert_eq!(readable(dir.path(), &held).len(), 3, "{:?}", readable(dir.path(), &held));
}

#[test]
fn an_encrypted_store_shows_no_order_text_or_photo_bytes_and_reads_back_whole_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let key = StoreKey::random();
    let (store, shop, template) = store_at(&path, Some(key.clone()));
    let held = fill(&store, &shop, &template);
    // While open (WAL and all) and after closing, nothing on disk is readable.
    assert_eq!(readable(dir.path(), &held), Vec::<String>::new());
    drop(store);
    assert_eq!(readable(dir.path(), &held), Vec::<String>::new());

    let store = LocalStore::open_encrypted(&path, key).unwrap();
    assert!(store.is_encrypted());
    assert_reads_back(&store, &held);
}

#[test]
fn an_encrypted_store_cannot_be_opened_without_its_key_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let (store, shop, template) = store_at(&path, Some(StoreKey::random()));
    fill(&store, &shop, &template);
    drop(store);
    let before = files(dir.path());

    let error = LocalStore::open(&path).err().expect("opened without its key");
    assert!(matches!(error, Error::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("needs its key"), "{error}");
    // Plain SQLite sees no schema either.
    let raw = rusqlite::Connection::open(&path).unwrap();
    assert!(raw.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0)).is_err());
    drop(raw);
    assert_eq!(files(dir.path()), before);
}

#[test]
fn a_wrong_key_is_refused_with_a_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let key = StoreKey::random();
    let (store, shop, template) = store_at(&path, Some(key.clone()));
    let held = fill(&store, &shop, &template);
    drop(store);
    let before = files(dir.path());

    let error = LocalStore::open_encrypted(&path, StoreKey::random()).err().expect("a wrong key opened the store");
    assert!(matches!(error, Error::WrongKey { .. }), "{error:?}");
    assert!(error.to_string().contains("phone.db cannot be opened with this key"), "{error}");
    assert_eq!(files(dir.path()), before, "a wrong key changed the files");

    assert_reads_back(&LocalStore::open_encrypted(&path, key).unwrap(), &held);
}

#[test]
fn a_key_of_the_wrong_length_is_refused_before_anything_is_opened() {
    let error = StoreKey::from_bytes(b"hunter2").unwrap_err();
    assert!(matches!(error, Error::InvalidInput { field: "key", .. }), "{error:?}");
}

#[test]
fn a_plain_store_opened_with_a_key_is_encrypted_keeping_every_order_and_photo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let (store, shop, template) = store_at(&path, None);
    let held = fill(&store, &shop, &template);
    for n in 0..40 {
        let lines = vec![common::line("SKU-2", n + 1)];
        store.create_order(NewOrder { store_id: shop.to_string(), lines, notes: format!("order {n}") }).unwrap();
    }
    let orders = store.list_orders(&OrderFilter::default()).unwrap();
    let pending = (store.pending_documents().unwrap(), store.pending_photos().unwrap());
    let user = store.identity();
    // Never closed, as an app killed mid-session leaves it: the last changes are in the WAL.
    std::mem::forget(store);
    assert!(std::fs::metadata(dir.path().join("phone.db-wal")).unwrap().len() > 0);

    let key = StoreKey::random();
    let store = LocalStore::open_encrypted(&path, key.clone()).unwrap();
    assert!(store.is_encrypted());
    assert_eq!(store.list_orders(&OrderFilter::default()).unwrap(), orders);
    assert_eq!((store.pending_documents().unwrap(), store.pending_photos().unwrap()), pending);
    assert_eq!(store.identity(), user);
    assert_reads_back(&store, &held);
    drop(store);

    assert_eq!(readable(dir.path(), &held), Vec::<String>::new());
    assert!(matches!(LocalStore::open(&path), Err(Error::Corrupt { .. })));
    assert_eq!(LocalStore::open_encrypted(&path, key).unwrap().list_orders(&OrderFilter::default()).unwrap(), orders);
}

#[test]
fn rekey_rotates_the_key_the_store_opens_with() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let old = StoreKey::random();
    let (store, shop, template) = store_at(&path, Some(old.clone()));
    let held = fill(&store, &shop, &template);
    let new = StoreKey::random();
    store.rekey(new.clone()).unwrap();
    // The open store goes on working after the rotation.
    assert_reads_back(&store, &held);
    drop(store);

    assert!(matches!(LocalStore::open_encrypted(&path, old), Err(Error::WrongKey { .. })));
    assert_reads_back(&LocalStore::open_encrypted(&path, new).unwrap(), &held);
    assert_eq!(readable(dir.path(), &held), Vec::<String>::new());
}

#[test]
fn rekey_of_a_plain_store_is_refused_and_leaves_it_plain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let (store, _, _) = store_at(&path, None);
    let error = store.rekey(StoreKey::random()).unwrap_err();
    assert!(matches!(error, Error::Encryption { state: "plain", .. }), "{error:?}");
    drop(store);
    LocalStore::open(&path).unwrap().integrity_check().unwrap();
}

#[test]
fn a_wipe_leaves_no_order_text_or_photo_bytes_on_disk_and_an_empty_usable_store() {
    for key in [None, Some(StoreKey::random())] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phone.db");
        let (store, shop, template) = store_at(&path, key.clone());
        let held = fill(&store, &shop, &template);
        if key.is_none() {
            assert!(!readable(dir.path(), &held).is_empty(), "the scan must see the plain store's data");
        }
        store.wipe().unwrap();
        assert_eq!(readable(dir.path(), &held), Vec::<String>::new());
        assert_eq!(store.identity(), None);
        assert!(store.list_orders(&OrderFilter::default()).unwrap().is_empty());
        assert_eq!(store.pending_photos().unwrap(), (0, 0));
        assert!(store.pending_documents().unwrap().is_empty());
        assert!(matches!(store.order(&held.order), Err(Error::NotFound { .. })));
        assert_eq!(store.is_encrypted(), key.is_some());
        store.integrity_check().unwrap();
        drop(store);
        // What is left is an empty store that opens with the same key (or none).
        let reopened = match key {
            Some(key) => LocalStore::open_encrypted(&path, key).unwrap(),
            None => LocalStore::open(&path).unwrap(),
        };
        assert!(reopened.list_orders(&OrderFilter::default()).unwrap().is_empty());
    }
}
