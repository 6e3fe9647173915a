//! Store inspections in the local store: a supervisor's visit with answers and real photos.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use fieldsync_core::doc::{AnswerValue, GeoFix, InspectionStatus};
use fieldsync_core::local_store::{CheckIn, InspectionFilter, PhotoCapture};
use fieldsync_core::photo::PhotoError;
use fieldsync_core::{DocumentId, Error, LocalStore, Role};

const T0: i64 = 1_764_460_800_000; // 2025-11-30 00:00 UTC
const AT_SHOP: GeoFix = GeoFix { latitude: 52.37, longitude: 4.89, accuracy_m: 6.0 };

fn supervisor(dir: &tempfile::TempDir) -> common::Fixture {
    common::fixture_at(&dir.path().join("supervisor.db"), common::SUPERVISOR, Role::Supervisor)
}

fn check_in(f: &common::Fixture) -> DocumentId {
    f.store
        .check_in(CheckIn {
            store_id: f.shop_id.to_string(),
            template_id: f.template_id.to_string(),
            at: T0,
            position: AT_SHOP,
        })
        .unwrap()
}

fn capture(minutes: i64) -> PhotoCapture {
    PhotoCapture { captured_at: T0 + minutes * 60_000, position: Some(AT_SHOP) }
}

/// What a failed call must leave exactly as it was.
fn snapshot(store: &LocalStore, id: &DocumentId) -> (fieldsync_core::doc::Inspection, (u64, u64), Vec<DocumentId>) {
    (store.inspection(id).unwrap(), store.pending_photos().unwrap(), store.pending_documents().unwrap())
}

#[test]
fn a_supervisor_checks_in_answers_photographs_and_checks_out_offline() {
    let dir = tempfile::tempdir().unwrap();
    let f = supervisor(&dir);
    let id = check_in(&f);
    f.store.answer(&id, "price-tags", AnswerValue::No, Some(2), "two tags missing").unwrap();
    let added = f.store.add_photo(&id, "facings", &common::fixture("coffee.jpg"), capture(3)).unwrap();
    assert!(added.preview.is_acceptable(), "{}", added.preview.summary());
    f.store.check_out(&id, T0 + 20 * 60_000, AT_SHOP).unwrap();

    let inspection = f.store.inspection(&id).unwrap();
    assert_eq!(inspection.status, InspectionStatus::CheckedOut);
    assert_eq!(inspection.answers["price-tags"].value, AnswerValue::No);
    let photo = &inspection.photos[&added.reference.sha256];
    assert_eq!(photo, &added.reference);
    assert_eq!(photo.item_id, "facings");
    // The document holds the reference; the bytes are in the blob table and the upload queue.
    let stored = f.store.photo_bytes(&photo.sha256).unwrap();
    assert_eq!(stored.len() as u64, photo.byte_size);
    assert!(!f.store.photo_thumbnail(&photo.sha256).unwrap().is_empty());
    assert_eq!(f.store.pending_photos().unwrap(), (1, photo.byte_size));
    assert!(f.store.document_bytes(&id).unwrap().len() < 4_000, "photo bytes must not enter the document");

    let listed = f.store.list_inspections(&InspectionFilter::default()).unwrap();
    assert_eq!((listed.len(), listed[0].status.as_str(), listed[0].photo_count), (1, "checked-out", 1));
}

#[test]
fn a_blurry_photo_gets_a_retake_preview_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let f = supervisor(&dir);
    let id = check_in(&f);
    let added = f.store.add_photo(&id, "facings", &common::fixture("clock_motion.png"), capture(1)).unwrap();
    assert!(!added.preview.is_acceptable());
    assert!(added.preview.summary().contains("blurry"), "{}", added.preview.summary());
}

#[test]
fn bad_photo_input_is_a_clear_error_and_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let f = supervisor(&dir);
    let id = check_in(&f);
    f.store.add_photo(&id, "facings", &common::fixture("chelsea.jpg"), capture(1)).unwrap();
    let before = snapshot(&f.store, &id);

    let good = common::fixture("astronaut.jpg");
    let truncated = good[..good.len() / 2].to_vec();
    let mut junk_header = b"\xff\xd8\xff\xe0 this is not a jpeg at all".to_vec();
    junk_header.extend(std::iter::repeat_n(0u8, 200));
    let cases: [(&str, Vec<u8>); 5] = [
        ("truncated jpeg", truncated),
        ("junk header", junk_header),
        ("pixel bomb", common::png_claiming(9000, 9000)),
        ("empty", Vec::new()),
        ("text file", b"shelf looked fine, no photo today\n".to_vec()),
    ];
    for (what, bytes) in cases {
        let err = f.store.add_photo(&id, "facings", &bytes, capture(2)).unwrap_err();
        assert!(matches!(err, Error::Photo(_)), "{what}: {err:?}");
        assert!(!err.to_string().is_empty());
        assert_eq!(snapshot(&f.store, &id), before, "{what} changed the store");
    }
    let bomb_err = f.store.add_photo(&id, "facings", &common::png_claiming(9000, 9000), capture(2)).unwrap_err();
    assert!(matches!(bomb_err, Error::Photo(PhotoError::TooManyPixels { .. })), "{bomb_err:?}");
}

#[test]
fn answers_and_photos_need_an_open_inspection_and_a_real_checklist_item() {
    let dir = tempfile::tempdir().unwrap();
    let f = supervisor(&dir);
    let id = check_in(&f);
    let err = f.store.answer(&id, "no-such-item", AnswerValue::Yes, None, "").unwrap_err();
    assert_eq!(err.to_string(), "invalid item_id: checklist Shelf standard has no item no-such-item");
    let err = f.store.answer(&id, "facings", AnswerValue::Yes, Some(-1), "").unwrap_err();
    assert!(err.to_string().contains("count -1 is negative"), "{err}");
    let err = f.store.check_out(&id, T0 - 1, AT_SHOP).unwrap_err();
    assert!(err.to_string().contains("before check-in"), "{err}");

    f.store.check_out(&id, T0 + 60_000, AT_SHOP).unwrap();
    let before = snapshot(&f.store, &id);
    let err = f.store.answer(&id, "facings", AnswerValue::Yes, None, "").unwrap_err();
    assert!(matches!(err, Error::InvalidState { .. }), "{err}");
    let err = f.store.add_photo(&id, "facings", &common::fixture("coffee.jpg"), capture(1)).unwrap_err();
    assert!(matches!(err, Error::InvalidState { .. }), "{err}");
    assert_eq!(snapshot(&f.store, &id), before, "a refused photo must not reach the blob table or the queue");
}

#[test]
fn impossible_positions_and_times_are_refused_at_check_in() {
    let dir = tempfile::tempdir().unwrap();
    let f = supervisor(&dir);
    let base =
        CheckIn { store_id: f.shop_id.to_string(), template_id: f.template_id.to_string(), at: T0, position: AT_SHOP };
    for (what, check_in) in [
        ("latitude 91", CheckIn { position: GeoFix { latitude: 91.0, ..AT_SHOP }, ..base.clone() }),
        ("NaN longitude", CheckIn { position: GeoFix { longitude: f64::NAN, ..AT_SHOP }, ..base.clone() }),
        ("negative accuracy", CheckIn { position: GeoFix { accuracy_m: -3.0, ..AT_SHOP }, ..base.clone() }),
        ("seconds not ms", CheckIn { at: T0 / 1000, ..base.clone() }),
        ("template is a store", CheckIn { template_id: f.shop_id.to_string(), ..base.clone() }),
    ] {
        assert!(f.store.check_in(check_in).is_err(), "{what} was accepted");
    }
    assert!(f.store.list_inspections(&InspectionFilter::default()).unwrap().is_empty());
}
