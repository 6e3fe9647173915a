//! Inspection scoring end to end: a supervisor's phone checks in at demo stores, photographs
//! shelves (good photos, a reused one, an out-of-window one, one far from the store, a mirrored
//! copy, one whose EXIF contradicts the visit), checks out and syncs; the relay scores the visit
//! once its photos have arrived, the score syncs back to the phone with reasons and a verdict,
//! and HQ reads the HTML report. Rejected photos earn nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::{Duration, Instant};

use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{AnswerValue, GeoFix, InspectionScore, RetailStore, Trust};
use fieldsync_core::local_store::{CheckIn, PhotoCapture};
use fieldsync_core::scoring::SCORING_VERSION;
use fieldsync_core::{DocumentId, Role};
use fieldsync_server::jobs;
use fieldsync_server::services::inspections::scoring;
use fieldsync_server::storage::Job;
use fieldsync_tests::{CameraExif, Phone, Relay, camera_photo, http, photo_fixture, with_camera_exif};

const MIN: i64 = 60_000;

/// A fix `north_m` metres north of the store, as a phone reports it.
fn near(store: &RetailStore, north_m: f64) -> GeoFix {
    GeoFix { latitude: store.latitude + north_m / 111_195.0, longitude: store.longitude, accuracy_m: 6.0 }
}

/// A photo for an item: (item id, bytes, minutes after check-in, metres north of the store).
type Shot = (&'static str, Vec<u8>, i64, f64);

/// Checks in at `store`, answers every item yes, adds the shots, checks out; returns the
/// inspection and each shot's SHA-256.
fn visit(
    phone: &Phone,
    store_id: &DocumentId,
    store: &RetailStore,
    check_in: i64,
    shots: Vec<Shot>,
) -> (DocumentId, Vec<String>) {
    visit_from(phone, store_id, store, check_in, 3.0, shots)
}

/// [`visit`], checking in and out `visit_north_m` metres north of the store.
fn visit_from(
    phone: &Phone,
    store_id: &DocumentId,
    store: &RetailStore,
    check_in: i64,
    visit_north_m: f64,
    shots: Vec<Shot>,
) -> (DocumentId, Vec<String>) {
    let (template_id, template) =
        phone.store.templates().unwrap().into_iter().find(|(_, t)| t.name == "Shelf standard").expect("template");
    let id = phone
        .store
        .check_in(CheckIn {
            store_id: store_id.to_string(),
            template_id: template_id.to_string(),
            at: check_in,
            position: near(store, visit_north_m),
        })
        .unwrap();
    for (item_id, _) in template.items_in_order() {
        phone.store.answer(&id, item_id, AnswerValue::Yes, None, "").unwrap();
    }
    let mut shas = Vec::new();
    for (item, bytes, minutes, north) in shots {
        let capture = PhotoCapture { captured_at: check_in + minutes * MIN, position: Some(near(store, north)) };
        let added = phone.store.add_photo(&id, item, &bytes, capture).unwrap();
        shas.push(added.reference.sha256);
    }
    phone.store.check_out(&id, check_in + 40 * MIN, near(store, visit_north_m + 1.0)).unwrap();
    (id, shas)
}

/// Syncs until the relay's score of `inspection` has reached the phone.
fn wait_for_score(phone: &Phone, inspection: &DocumentId) -> (DocumentId, InspectionScore) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        phone.sync();
        if let Some(found) = phone.store.inspection_score(inspection).unwrap() {
            return found;
        }
        assert!(Instant::now() < deadline, "inspection {inspection} was not scored within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A fixture as the camera gives it: EXIF time `at` and GPS `north_m` metres north of `store`.
fn shot_of(name: &str, store: &RetailStore, at: i64, north_m: f64) -> Vec<u8> {
    camera_photo(name, at, (store.latitude + north_m / 111_195.0, store.longitude))
}

fn jpeg_resized(name: &str, long_side: u32) -> Vec<u8> {
    let image = image::load_from_memory(&photo_fixture(name)).unwrap();
    let resized = image.resize(long_side, long_side, image::imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70).encode_image(&resized.to_rgb8()).unwrap();
    out.into_inner()
}

#[test]
fn a_checked_out_visit_is_scored_by_the_relay_with_reasons_synced_back_and_reported_to_hq() {
    let relay = Relay::start();
    let sue = relay.phone("supervisor-north");
    sue.sync();
    let stores = sue.store.stores().unwrap();
    let (first_id, first) = &stores[0];
    let (second_id, second) = &stores[1];
    let now = now_ms();

    // Last visit, at another store: two good photos, scored first so their hashes are on record.
    let earlier_check_in = now - 26 * 60 * MIN;
    let (earlier, _) = visit(
        &sue,
        first_id,
        first,
        earlier_check_in,
        vec![
            ("shelf-stocked", shot_of("coffee.jpg", first, earlier_check_in + 5 * MIN, 10.0), 5, 10.0),
            ("planogram", shot_of("astronaut.jpg", first, earlier_check_in + 6 * MIN, 12.0), 6, 12.0),
        ],
    );
    let (_, earlier_score) = wait_for_score(&sue, &earlier);
    assert!(earlier_score.photos.iter().all(|p| p.trust == Trust::Pass), "{:#?}", earlier_score.photos);
    let earlier_coffee = shot_of("coffee.jpg", first, earlier_check_in + 5 * MIN, 10.0);

    // Today's visit.
    let check_in = now - 60 * MIN;
    let (today, shas) = visit(
        &sue,
        second_id,
        second,
        check_in,
        vec![
            ("shelf-stocked", shot_of("chelsea.jpg", second, check_in + 5 * MIN, 8.0), 5, 8.0),
            ("planogram", shot_of("camera.png", second, check_in + 6 * MIN, 9.0), 6, 9.0),
            ("price-labels", earlier_coffee, 7, 10.0), // the very same file as last visit
            ("facings", jpeg_resized("astronaut.jpg", 480), 8, 11.0), // a resized, re-saved copy
            ("cooler", photo_fixture("hopper.jpg"), -4 * 60, 12.0), // taken 4 h before check-in
            ("no-expired", photo_fixture("clock_motion.png"), 9, 3_000.0), // 3 km away
        ],
    );
    let (score_id, score) = wait_for_score(&sue, &today);
    let by_sha: BTreeMap<&str, _> = score.photos.iter().map(|p| (p.sha256.as_str(), p)).collect();
    let photo = |i: usize| by_sha[shas[i].as_str()];
    let reasons = |i: usize| photo(i).reasons.join(" | ");

    assert_eq!(photo(0).trust, Trust::Pass, "{}", reasons(0));
    assert_eq!(photo(1).trust, Trust::Pass, "{}", reasons(1));
    assert_eq!(photo(2).trust, Trust::Rejected);
    assert!(
        reasons(2).contains("reused: the same photo file") && reasons(2).contains("another store"),
        "{}",
        reasons(2)
    );
    assert_eq!(photo(3).trust, Trust::Rejected);
    assert!(reasons(3).contains("reused: a copy"), "{}", reasons(3));
    assert_eq!(photo(4).trust, Trust::Rejected);
    assert!(reasons(4).contains("4 h before check-in"), "{}", reasons(4));
    assert!(reasons(4).contains("too small"), "{}", reasons(4));
    assert_eq!(photo(5).trust, Trust::Rejected);
    assert!(reasons(5).contains("3.0 km from the store") && reasons(5).contains("blurry"), "{}", reasons(5));

    // Evidence enters the score: all yes, but only the shelf and planogram photos count, so the
    // four items whose only photo is rejected earn nothing: 3 + 2 + 2 (no photo needed) of 12.
    assert_eq!(score.score, 58.3, "{:#?}", score.items);
    for item in ["price-labels", "facings", "cooler", "no-expired"] {
        let found = score.items.iter().find(|i| i.item_id == item).unwrap();
        assert_eq!(found.earned > 0.0, item == "no-expired", "{item}: {:?}", found.reasons);
    }
    let shelf = score.items.iter().find(|i| i.item_id == "shelf-stocked").unwrap();
    assert_eq!(shelf.reasons[0], "answered yes, backed by 1 trusted photo");
    let cooler = score.items.iter().find(|i| i.item_id == "cooler").unwrap();
    assert!(cooler.reasons.join(" ").contains("requires a usable, trusted photo"), "{:?}", cooler.reasons);
    assert_eq!(score.verdict, Trust::Review, "{:?}", score.reasons);
    assert_eq!(score.reasons[0], "verdict: review");
    assert!(score.reasons[1].starts_with("audit score 58.3 of 100: 7 of 12"), "{:?}", score.reasons);
    assert!(score.reasons.iter().any(|r| r.starts_with("4 photo(s) rejected")), "{:?}", score.reasons);
    assert!(
        score.reasons.iter().any(|r| r.contains("2 photo(s) trusted, 0 to review, 4 rejected")),
        "{:?}",
        score.reasons
    );
    // One verdict: no photo the phone called fine failed the relay's quality checks.
    let inspection = sue.store.inspection(&today).unwrap();
    for sha in &shas {
        let measured = inspection.photos[sha].measured.unwrap();
        let phone = fieldsync_core::photo::QualityPreview::from_metrics(measured);
        if phone.problems.is_empty() {
            let relay = &by_sha[sha.as_str()].reasons.join(" | ");
            for failure in ["blurry:", "too dark:", "overexposed:", "too small:"] {
                assert!(!relay.contains(failure), "phone said ok, relay: {relay}");
            }
        }
    }
    assert_eq!(score.scoring_version, SCORING_VERSION);
    assert_eq!(score_id, scoring::score_id(&today));
    let mut relay_heads: Vec<String> = relay.stored(&today).unwrap().heads.iter().map(hex_string).collect();
    relay_heads.sort();
    assert_eq!(score.scored_heads, relay_heads);

    // Scoring the same heads again changes nothing.
    let before = relay.stored(&score_id).unwrap().heads;
    let job = Job {
        id: 0,
        tenant_id: relay.tenant_id(),
        kind: scoring::KIND.to_owned(),
        key: "again".to_owned(),
        payload: serde_json::json!({ "doc": today.to_string() }).to_string(),
        attempts: 0,
    };
    relay.block_on(jobs::run_job(&relay.state, &job)).unwrap();
    assert_eq!(relay.stored(&score_id).unwrap().heads, before);

    // HQ reads the report; a rep and another region's supervisor cannot.
    let url = format!("{}/v1/inspections/{today}/report", relay.base_url);
    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    let page = http("GET", &url, Some(&hq.session.token), &[], vec![]);
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").is_some_and(|t| t.starts_with("text/html")));
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains("58.3 / 100"), "{html}");
    assert!(html.contains("Verdict:"), "{html}");
    assert!(html.contains(&second.name));
    assert!(html.contains("The cooler is clean, working and stocked"));
    assert!(html.contains("reused: the same photo file"));
    assert_eq!(html.matches("data:image/jpeg;base64,").count(), 6, "a thumbnail per photo");
    for who in [relay.users(Role::Rep, Some("north"))[0].clone(), "supervisor-south".to_owned()] {
        let other = relay.phone(&who);
        assert_eq!(http("GET", &url, Some(&other.session.token), &[], vec![]).status, 404, "{who}");
    }
    let unscored = format!("{}/v1/inspections/{}/report", relay.base_url, DocumentId::random());
    assert_eq!(http("GET", &unscored, Some(&hq.session.token), &[], vec![]).status, 404);
}

#[test]
fn a_visit_whose_photos_arrive_late_is_scored_when_the_last_one_arrives() {
    let relay = Relay::start();
    let sue = relay.phone("supervisor-north");
    sue.sync();
    let (store_id, store) = sue.store.stores().unwrap().into_iter().next().unwrap();
    sue.network.photo_calls_allowed(Some(0)); // documents sync, photos do not
    let (id, _) = visit(
        &sue,
        &store_id,
        &store,
        now_ms() - 60 * MIN,
        vec![
            ("shelf-stocked", photo_fixture("chelsea.jpg"), 5, 8.0),
            ("planogram", photo_fixture("coffee.jpg"), 6, 9.0),
        ],
    );
    let _ = sue.engine.sync_now();
    // The job runs, finds the photos missing and backs off; nothing is scored meanwhile.
    std::thread::sleep(Duration::from_millis(1500));
    let _ = sue.engine.sync_now();
    assert!(sue.store.inspection_score(&id).unwrap().is_none());
    assert!(relay.stored(&scoring::score_id(&id)).is_none());

    sue.network.photo_calls_allowed(None);
    let started = Instant::now();
    let (_, score) = wait_for_score(&sue, &id);
    // The queue's own retry would come 4 s after the second attempt (about 3.5 s from here); the
    // upload of the last photo queues the scoring at once.
    assert!(started.elapsed() < Duration::from_secs(3), "scored only after {:?}", started.elapsed());
    assert_eq!(score.photos.len(), 2);
    // No EXIF in these fixtures: usable, but each needs review.
    assert!(score.photos.iter().all(|p| p.quality > 50.0 && p.trust == Trust::Review), "{:#?}", score.photos);
}

#[test]
fn the_relay_rejects_a_visit_checked_in_2_km_away_a_mirrored_reuse_and_an_original_whose_exif_contradicts_it() {
    let relay = Relay::start();
    let sue = relay.phone("supervisor-north");
    sue.sync();
    let stores = sue.store.stores().unwrap();
    let (first_id, first) = &stores[0];
    let (second_id, second) = &stores[1];
    let now = now_ms();

    let last_week = now - 7 * 24 * 60 * MIN;
    let astronaut = shot_of("astronaut.jpg", first, last_week + 5 * MIN, 5.0);
    let (earlier, _) = visit(&sue, first_id, first, last_week, vec![("shelf-stocked", astronaut, 5, 5.0)]);
    let (_, earlier_score) = wait_for_score(&sue, &earlier);
    assert_eq!(earlier_score.verdict, Trust::Pass, "{:?}", earlier_score.reasons);

    let check_in = now - 60 * MIN;
    // The earlier astronaut photo mirrored, with fresh EXIF: a new file, the same picture.
    let mirrored = {
        let image = image::load_from_memory(&photo_fixture("astronaut.jpg")).unwrap().fliph();
        let mut out = Cursor::new(Vec::new());
        image.to_rgb8().write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        let taken = fieldsync_core::scoring::format_utc(check_in + 6 * MIN);
        let taken = format!("{}:{}:{} {}:00", &taken[..4], &taken[5..7], &taken[8..10], &taken[11..16]);
        with_camera_exif(
            &out.into_inner(),
            &CameraExif { taken_at: &taken, offset: Some("+00:00"), position: (second.latitude, second.longitude) },
        )
    };
    // EXIF: 2023-01-15, about 300 km north; the app claims now, at the store.
    let old = with_camera_exif(
        &photo_fixture("coffee.jpg"),
        &CameraExif {
            taken_at: "2023:01:15 10:30:00",
            offset: Some("+01:00"),
            position: (second.latitude + 300_000.0 / 111_195.0, second.longitude),
        },
    );
    let (today, shas) = visit_from(
        &sue,
        second_id,
        second,
        check_in,
        2_000.0, // checked in and out 2 km from the store
        vec![
            ("shelf-stocked", shot_of("chelsea.jpg", second, check_in + 5 * MIN, 8.0), 5, 8.0),
            ("planogram", mirrored, 6, 9.0),
            ("price-labels", old, 7, 7.0),
        ],
    );
    let (_, score) = wait_for_score(&sue, &today);
    let by_sha: BTreeMap<&str, _> = score.photos.iter().map(|p| (p.sha256.as_str(), p)).collect();
    let reasons = |i: usize| by_sha[shas[i].as_str()].reasons.join(" | ");
    assert_eq!(by_sha[shas[0].as_str()].trust, Trust::Pass, "{}", reasons(0));
    assert_eq!(by_sha[shas[1].as_str()].trust, Trust::Rejected);
    assert!(reasons(1).contains("reused") && reasons(1).contains("mirrored or turned"), "{}", reasons(1));
    assert_eq!(by_sha[shas[2].as_str()].trust, Trust::Rejected);
    assert!(reasons(2).contains("EXIF says taken 2023-01-15 10:30 (UTC+01:00)"), "{}", reasons(2));
    assert!(reasons(2).contains("EXIF GPS says taken 300.0 km from the store"), "{}", reasons(2));

    assert_eq!(score.verdict, Trust::Rejected, "{:?}", score.reasons);
    let visit_reasons = score.reasons.join(" | ");
    assert!(visit_reasons.contains("checked in 2.0 km from the store, more than 500 m away"), "{visit_reasons}");
    // shelf-stocked (3) and no-expired (2, no photo needed) of 12; under the cap of 50.
    assert_eq!(score.score, 41.7, "{:#?}", score.items);

    let hq = relay.phone(&relay.users(Role::Hq, None)[0]);
    let url = format!("{}/v1/inspections/{today}/report", relay.base_url);
    let html = String::from_utf8(http("GET", &url, Some(&hq.session.token), &[], vec![]).body).unwrap();
    assert!(html.contains("checked in 2.0 km from the store"), "{html}");
    assert!(html.contains("id=\"verdict\""), "{html}");
}

fn hex_string(head: &[u8; 32]) -> String {
    head.iter().map(|b| format!("{b:02x}")).collect()
}
