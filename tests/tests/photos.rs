//! Photos never block orders, and a dropped upload resumes without resending what arrived.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldsync_core::Role;
use fieldsync_core::doc::GeoFix;
use fieldsync_core::local_store::{CheckIn, LineInput, NewOrder, PhotoCapture};
use fieldsync_core::sync::SyncOptions;
use fieldsync_tests::{Relay, http, photo_fixture};

#[test]
fn an_inspection_and_an_order_sync_while_photo_uploads_fail_and_the_upload_resumes_where_it_broke_off() {
    let relay = Relay::start();
    let chunk = 8 * 1024;
    let sue = relay.phone_with("supervisor-north", SyncOptions { photo_chunk_bytes: chunk, ..SyncOptions::default() });
    let rep = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    for phone in [&sue, &rep, &hq] {
        phone.sync();
    }

    // The supervisor photographs a shelf while the rep takes an order in the same shop.
    let (store_id, store) = sue.store.stores().unwrap().into_iter().next().unwrap();
    let (template_id, template) = sue.store.templates().unwrap().into_iter().next().unwrap();
    let position = GeoFix { latitude: store.latitude, longitude: store.longitude, accuracy_m: 6.0 };
    let inspection = sue
        .store
        .check_in(CheckIn {
            store_id: store_id.to_string(),
            template_id: template_id.to_string(),
            at: fieldsync_core::clock::now_ms(),
            position,
        })
        .unwrap();
    let items = template.items_in_order();
    let mut shas = Vec::new();
    for (i, name) in ["chelsea.jpg", "coffee.jpg"].into_iter().enumerate() {
        let capture = PhotoCapture { captured_at: fieldsync_core::clock::now_ms(), position: Some(position) };
        let added = sue.store.add_photo(&inspection, items[i % items.len()].0, &photo_fixture(name), capture).unwrap();
        shas.push(added.reference.sha256);
    }
    let (_, total) = sue.store.pending_photos().unwrap();
    assert!(total > 3 * chunk as u64, "photos of {total} bytes are too small to break off mid-way");
    let sku = rep.store.catalog().unwrap().products.iter().find(|(_, p)| p.active).unwrap().0.clone();
    let price = rep.store.product(&sku).unwrap().base_price_cents;
    let rep_store = rep.store.stores().unwrap()[0].0.clone();
    let order = rep
        .store
        .create_order(NewOrder {
            store_id: rep_store.to_string(),
            lines: vec![LineInput { sku, qty: 4, unit_price_cents: price, discount_bp: 0 }],
            notes: String::new(),
        })
        .unwrap();

    // The signal drops after two parts of the first photo (a first upload asks no existence
    // check: it starts at byte 0).
    sue.network.photo_calls_allowed(Some(2));
    assert!(sue.engine.sync_now().is_err(), "a failed upload must be reported");
    rep.sync();
    assert!(sue.store.pending_documents().unwrap().is_empty(), "the inspection waited for its photos");
    assert!(relay.stored(&inspection).is_some());
    assert!(relay.stored(&order).is_some());
    hq.sync();
    assert_eq!(hq.store.inspection(&inspection).unwrap(), sue.store.inspection(&inspection).unwrap());
    assert_eq!(hq.store.order(&order).unwrap(), rep.store.order(&order).unwrap());
    let delivered = sue.network.photo_bytes_delivered.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(delivered, 2 * chunk as u64, "two parts arrived before the drop");
    let status = sue.engine.status().unwrap();
    assert_eq!(status.pending_photos, 2);
    assert!(status.last_error.is_some());

    // Back in signal: the upload resumes from what the relay holds, nothing is sent twice.
    sue.network.photo_calls_allowed(None);
    let report = sue.sync();
    assert_eq!(report.photos_uploaded, 2, "{report:?}");
    assert_eq!(report.photo_bytes_sent, total - delivered, "{report:?}");
    assert_eq!(sue.network.photo_bytes_delivered.load(std::sync::atomic::Ordering::SeqCst), total);
    assert_eq!(sue.store.pending_photos().unwrap(), (0, 0));
    assert_eq!(sue.sync().photo_bytes_sent, 0, "a finished upload is not sent again");

    for sha in &shas {
        let url = format!("{}/v1/blobs/{sha}", relay.base_url);
        let photo = http("GET", &url, Some(&hq.session.token), &[], vec![]);
        assert_eq!(photo.status, 200);
        assert_eq!(photo.header("content-type").as_deref(), Some("image/jpeg"));
        assert_eq!(photo.body, sue.store.photo_bytes(sha).unwrap(), "hq sees other bytes than the phone took");
        let thumb = http("GET", &format!("{url}?thumb=1"), Some(&hq.session.token), &[], vec![]);
        assert_eq!(thumb.status, 200);
        let small = image::load_from_memory(&thumb.body).expect("the thumbnail is an image");
        let full = image::load_from_memory(&photo.body).unwrap();
        assert!(small.width() < full.width() && small.height() < full.height());
    }
}

#[test]
fn an_upload_whose_answer_was_lost_is_not_sent_again() {
    let relay = Relay::start();
    let sue = relay.phone_with("supervisor-north", SyncOptions { photo_chunk_bytes: 4096, ..SyncOptions::default() });
    sue.sync();
    let (store_id, store) = sue.store.stores().unwrap().into_iter().next().unwrap();
    let (template_id, template) = sue.store.templates().unwrap().into_iter().next().unwrap();
    let position = GeoFix { latitude: store.latitude, longitude: store.longitude, accuracy_m: 6.0 };
    let inspection = sue
        .store
        .check_in(CheckIn {
            store_id: store_id.to_string(),
            template_id: template_id.to_string(),
            at: fieldsync_core::clock::now_ms(),
            position,
        })
        .unwrap();
    let capture = PhotoCapture { captured_at: fieldsync_core::clock::now_ms(), position: None };
    let added = sue
        .store
        .add_photo(&inspection, template.items_in_order()[0].0, &photo_fixture("hopper.jpg"), capture)
        .unwrap();
    // Every part reaches the relay and its answer is lost; the documents sync meanwhile.
    sue.network.lose_upload_answers(true);
    let size = added.reference.byte_size;
    let url = format!("{}/v1/blobs/{}", relay.base_url, added.reference.sha256);
    let mut attempts = 0;
    while sue.network.photo_bytes_delivered.load(std::sync::atomic::Ordering::SeqCst) < size {
        assert!(sue.engine.sync_now().is_err(), "an upload whose answers are lost cannot succeed");
        assert!(sue.store.pending_documents().unwrap().is_empty());
        attempts += 1;
        assert!(attempts < 100, "the upload makes no progress when answers are lost");
    }
    assert!(attempts > 1, "the photo went up in one part; the test needs several");
    sue.network.lose_upload_answers(false);
    let report = sue.sync();
    assert_eq!(report.photos_uploaded, 1, "{report:?}");
    assert_eq!(http("HEAD", &url, Some(&sue.session.token), &[], vec![]).status, 200);
    assert_eq!(sue.network.photo_bytes_delivered.load(std::sync::atomic::Ordering::SeqCst), size);
}
