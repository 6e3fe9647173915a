//! A local database the store cannot use — corrupt, written by newer code, or locked by another
//! process — gives a specific error with a clear message, and is left as it was: the store never
//! "repairs" a file it does not understand.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::line;
use fieldsync_core::local_store::migrations::{self, LATEST};
use fieldsync_core::local_store::{NewOrder, OpenOptions, OrderFilter};
use fieldsync_core::{DocumentId, Error, Identity, LocalStore, Role};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random()).collect()
}

/// Fails naming the first differing byte, rather than printing two files.
fn assert_unchanged(path: &Path, before: &[u8]) {
    let after = std::fs::read(path).unwrap();
    let first_difference = before.iter().zip(&after).position(|(a, b)| a != b);
    assert!(
        after.len() == before.len() && first_difference.is_none(),
        "{} was changed: {} bytes before, {} after, first difference at byte {first_difference:?}",
        path.display(),
        before.len(),
        after.len()
    );
}

/// Overwrites the root page of the `documents` table with garbage.
fn overwrite_documents_page(path: &Path, seed: u64) -> Vec<u8> {
    let (page_size, root): (usize, usize) = {
        let conn = rusqlite::Connection::open(path).unwrap();
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let root: i64 = conn
            .query_row("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'documents'", [], |r| {
                r.get(0)
            })
            .unwrap();
        (page_size as usize, root as usize)
    };
    let mut bytes = std::fs::read(path).unwrap();
    let start = (root - 1) * page_size;
    bytes[start..start + page_size].copy_from_slice(&garbage(seed, page_size));
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// A closed phone database holding the fixtures and two orders: its path, one order and the shop.
fn phone_db(dir: &tempfile::TempDir) -> (PathBuf, DocumentId, DocumentId) {
    let path = dir.path().join("phone.db");
    let f = common::fixture_at(&path, common::REP, Role::Rep);
    let new = |sku| NewOrder { store_id: f.shop_id.to_string(), lines: vec![line(sku, 2)], notes: String::new() };
    let order = f.store.create_order(new("SKU-1")).unwrap();
    f.store.create_order(new("SKU-2")).unwrap();
    (path, order, f.shop_id)
}

/// The files in `dir`, by name.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn expect_corrupt(result: Result<LocalStore, Error>, path: &Path) -> String {
    match result {
        Err(Error::Corrupt { path: reported, reason }) => {
            assert_eq!(reported, Some(path.display().to_string()), "the error names the file");
            assert!(!reason.is_empty());
            let message = Error::Corrupt { path: reported, reason }.to_string();
            assert!(message.starts_with(&format!("local database {} is corrupt: ", path.display())), "{message}");
            message
        }
        Err(other) => panic!("expected Corrupt, got {other:?}"),
        Ok(_) => panic!("expected Corrupt, the store opened"),
    }
}

#[test]
fn a_file_of_garbage_bytes_is_reported_corrupt_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let bytes = garbage(1, 64 * 1024);
    std::fs::write(&path, &bytes).unwrap();

    let message = expect_corrupt(LocalStore::open(&path), &path);
    // The message also says an encrypted store needs its key: the bytes alone cannot tell.
    assert!(message.contains("file is not a database"), "{message}");
    assert_unchanged(&path, &bytes);
    assert_eq!(listing(dir.path()), ["phone.db"], "no journal or WAL was created next to it");
}

#[test]
fn a_database_with_an_overwritten_header_is_reported_corrupt_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ..) = phone_db(&dir);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[..16].copy_from_slice(&garbage(2, 16));
    std::fs::write(&path, &bytes).unwrap();

    expect_corrupt(LocalStore::open(&path), &path);
    assert_unchanged(&path, &bytes);
}

#[test]
fn a_database_with_an_overwritten_page_reports_corrupt_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (path, order, shop) = phone_db(&dir);
    let bytes = overwrite_documents_page(&path, 3);

    // The header and the meta table are intact, so the store opens; the documents are not.
    let store = LocalStore::open(&path).unwrap();
    match store.order(&order) {
        Err(Error::Corrupt { reason, .. }) => assert!(reason.contains("malformed"), "{reason}"),
        other => panic!("expected Corrupt reading an order on the damaged page, got {other:?}"),
    }
    match store.integrity_check() {
        Err(Error::Corrupt { path: reported, reason }) => {
            assert_eq!(reported, Some(path.display().to_string()));
            assert_ne!(reason, "ok");
        }
        other => panic!("expected integrity_check to report corruption, got {other:?}"),
    }
    let new = NewOrder { store_id: shop.to_string(), lines: vec![line("SKU-1", 1)], notes: String::new() };
    match store.create_order(new) {
        Err(Error::Corrupt { .. }) => {}
        other => panic!("expected Corrupt creating an order, got {other:?}"),
    }
    drop(store);
    assert_unchanged(&path, &bytes);
}

/// Damage found after opening (a page overwritten under a document) is a `Corrupt` error with a
/// readable message, not a generic database error.
#[test]
fn corruption_found_after_opening_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (path, order, _) = phone_db(&dir);
    overwrite_documents_page(&path, 4);

    let store = LocalStore::open(&path).unwrap();
    let error = store.order(&order).unwrap_err();
    assert!(matches!(error, Error::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().starts_with("local database is corrupt: "), "{error}");
}

fn expect_newer(result: Result<LocalStore, Error>) {
    match result {
        Err(error @ Error::NewerDatabase { found, supported }) => {
            assert_eq!((found, supported), (LATEST + 1, LATEST));
            assert_eq!(
                error.to_string(),
                format!(
                    "local database has schema version {}, newer than the supported {LATEST}: update the app",
                    LATEST + 1
                )
            );
        }
        Err(other) => panic!("expected NewerDatabase, got {other:?}"),
        Ok(_) => panic!("expected NewerDatabase, the store opened"),
    }
}

#[test]
fn a_database_written_by_newer_code_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ..) = phone_db(&dir);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1).unwrap();
        // A newer version might add tables this code does not know.
        conn.execute_batch("CREATE TABLE from_the_future (x INTEGER)").unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();

    expect_newer(LocalStore::open(&path));
    expect_newer(LocalStore::open(&path));
    assert_unchanged(&path, &bytes);
}

/// A newer version may well have left WAL mode; refusing its database must not switch it back.
#[test]
fn a_newer_database_in_rollback_journal_mode_is_refused_before_any_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        migrations::migrate(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();

    expect_newer(LocalStore::open(&path));
    assert_unchanged(&path, &bytes);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete", "the journal mode the newer code chose is kept");
}

fn expect_locked<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    match result {
        Err(error @ Error::Locked) => {
            assert_eq!(error.to_string(), "local database is locked by another process");
        }
        other => panic!("{what}: expected Locked, got {other:?}"),
    }
}

#[test]
fn a_change_while_another_process_writes_fails_locked_changes_nothing_and_succeeds_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let shop = common::fixture_at(&path, common::REP, Role::Rep).shop_id;
    let options = OpenOptions { busy_timeout: Duration::from_millis(50), ..OpenOptions::default() };
    let store = LocalStore::open_with(&path, options).unwrap();
    let new = || NewOrder { store_id: shop.to_string(), lines: vec![line("SKU-1", 3)], notes: String::new() };
    let order = store.create_order(new()).unwrap();
    let order_before = store.order(&order).unwrap();
    let list_before = store.list_orders(&OrderFilter::default()).unwrap();
    let pending_before = store.pending_documents().unwrap();
    let remote = DocumentId::random();
    let remote_bytes =
        fieldsync_core::doc::create(&remote, automerge::ActorId::random(), &common::shop("New Shop")).unwrap().save();

    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    expect_locked(store.create_order(new()), "create_order");
    expect_locked(store.add_line(&order, line("SKU-2", 1)), "add_line");
    expect_locked(store.submit_order(&order), "submit_order");
    expect_locked(store.receive_changes(&remote, &remote_bytes), "receive_changes");
    let other_user = Identity { tenant: "acme".into(), user_id: "rep-2".into(), role: Role::Rep };
    expect_locked(store.set_identity(&other_user), "set_identity");

    // Reads go on while the other process writes, and show that nothing changed.
    assert_eq!(store.order(&order).unwrap(), order_before);
    assert_eq!(store.list_orders(&OrderFilter::default()).unwrap(), list_before);
    assert_eq!(store.pending_documents().unwrap(), pending_before);
    assert_eq!(store.identity().unwrap().user_id, common::REP);
    assert!(matches!(store.get::<fieldsync_core::doc::RetailStore>(&remote), Err(Error::NotFound { .. })));

    blocker.execute_batch("ROLLBACK").unwrap();

    let second = store.create_order(new()).unwrap();
    store.add_line(&order, line("SKU-2", 1)).unwrap();
    store.submit_order(&order).unwrap();
    assert!(store.receive_changes(&remote, &remote_bytes).unwrap(), "the refused changes were not half-received");
    drop(store);

    let reopened = LocalStore::open(&path).unwrap();
    assert_eq!(reopened.order(&order).unwrap().lines.len(), 2);
    assert_eq!(reopened.order(&second).unwrap().lines.len(), 1);
    assert_eq!(reopened.get::<fieldsync_core::doc::RetailStore>(&remote).unwrap().name, "New Shop");
    reopened.integrity_check().unwrap();
}

#[test]
fn opening_a_database_that_needs_an_upgrade_while_another_process_writes_fails_locked_then_upgrades() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    migrations::migrate_to(&mut conn, 1).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();

    let options = OpenOptions { busy_timeout: Duration::from_millis(50), ..OpenOptions::default() };
    match LocalStore::open_with(&path, options.clone()) {
        Err(Error::Locked) => {}
        Err(other) => panic!("expected Locked, got {other:?}"),
        Ok(_) => panic!("expected Locked, the store opened"),
    }
    assert_eq!(migrations::version(&conn).unwrap(), 1, "no migration ran under the lock");

    conn.execute_batch("ROLLBACK").unwrap();
    let store = LocalStore::open_with(&path, options).unwrap();
    store.integrity_check().unwrap();
    assert_eq!(migrations::version(&conn).unwrap(), LATEST);
}
