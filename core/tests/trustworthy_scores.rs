//! Scores a manager can trust, on real photos (see `tests/fixtures/photos/README.md`) taken
//! through the phone's own API: rejected evidence earns nothing, the visit's place is checked,
//! the original's EXIF is compared with the visit, flipped and turned copies count as reuse, and
//! the phone's quality verdict is the relay's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{AnswerValue, GeoFix, InspectionScore, Trust};
use fieldsync_core::local_store::{CheckIn, PhotoCapture};
use fieldsync_core::photo::{self, CameraExif, PhotoLimits, QualityProblem, with_camera_exif};
use fieldsync_core::scoring::{
    self, EarlierPhoto, Location, PhotoPixels, REJECTED_VISIT_CAP, ScoringInput, TrustThresholds, evidence, score_photo,
};
use fieldsync_core::{DocumentId, Role};
use image::{DynamicImage, ImageFormat};

const MIN: i64 = 60_000;

struct Phone {
    _dir: tempfile::TempDir,
    f: common::Fixture,
    shop: fieldsync_core::doc::RetailStore,
}

fn phone() -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let f = common::fixture_at(&dir.path().join("phone.db"), common::SUPERVISOR, Role::Supervisor);
    Phone { _dir: dir, f, shop: common::shop("Corner Market") }
}

impl Phone {
    /// A fix `north_m` metres north of the shop.
    fn north(&self, north_m: f64) -> GeoFix {
        GeoFix { latitude: self.shop.latitude + north_m / 111_195.0, longitude: self.shop.longitude, accuracy_m: 6.0 }
    }

    /// Checks in `check_in_north_m` metres north of the shop at `at` and answers every item yes.
    fn check_in(&self, at: i64, check_in_north_m: f64) -> DocumentId {
        let id = self
            .f
            .store
            .check_in(CheckIn {
                store_id: self.f.shop_id.to_string(),
                template_id: self.f.template_id.to_string(),
                at,
                position: self.north(check_in_north_m),
            })
            .unwrap();
        for item in ["facings", "price-tags", "promo-display"] {
            self.f.store.answer(&id, item, AnswerValue::Yes, None, "").unwrap();
        }
        id
    }

    fn add(&self, id: &DocumentId, item: &str, bytes: &[u8], at: i64, north_m: f64) -> String {
        let capture = PhotoCapture { captured_at: at, position: Some(self.north(north_m)) };
        self.f.store.add_photo(id, item, bytes, capture).unwrap().reference.sha256
    }

    /// The original file of a photo taken now, at the shop, with the camera's EXIF saying so.
    fn camera_photo(&self, name: &str, at: i64) -> Vec<u8> {
        let taken = jiff::Timestamp::from_millisecond(at).unwrap().strftime("%Y:%m:%d %H:%M:%S").to_string();
        let exif = CameraExif {
            taken_at: &taken,
            offset: Some("+00:00"),
            position: (self.shop.latitude + 0.0001, self.shop.longitude),
        };
        with_camera_exif(&jpeg_of(name), &exif)
    }
}

/// A fixture as a JPEG (PNG fixtures re-encoded), as a camera hands it over.
fn jpeg_of(name: &str) -> Vec<u8> {
    let bytes = common::fixture(name);
    if name.ends_with(".jpg") { bytes } else { common::encode(&common::decode(&bytes), ImageFormat::Jpeg) }
}

fn item<'a>(score: &'a InspectionScore, id: &str) -> &'a fieldsync_core::doc::ItemScore {
    score.items.iter().find(|i| i.item_id == id).unwrap()
}

fn photo_of<'a>(score: &'a InspectionScore, sha256: &str) -> &'a fieldsync_core::doc::PhotoAssessment {
    score.photos.iter().find(|p| p.sha256 == sha256).unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. Evidence changes the score

#[test]
fn a_visit_whose_only_photo_is_rejected_does_not_score_100_and_the_item_says_why() {
    let p = phone();
    let now = now_ms();
    let id = p.check_in(now - 30 * MIN, 5.0);
    // The facings photo was taken 2 km from the shop; the display photo at the shop.
    let far = p.add(&id, "facings", &p.camera_photo("coffee.jpg", now - 20 * MIN), now - 20 * MIN, 2_000.0);
    let near = p.add(&id, "promo-display", &p.camera_photo("chelsea.jpg", now - 19 * MIN), now - 19 * MIN, 8.0);
    p.f.store.check_out(&id, now - 10 * MIN, p.north(6.0)).unwrap();

    let score = p.f.store.preview_inspection_score(&id).unwrap();
    assert_eq!(photo_of(&score, &far).trust, Trust::Rejected);
    assert_eq!(photo_of(&score, &near).trust, Trust::Pass, "{:?}", photo_of(&score, &near).reasons);
    // facings (3 points) earns nothing: 3 of 6.
    assert_eq!(score.score, 50.0, "{:#?}", score.items);
    let facings = item(&score, "facings").reasons.join(" | ");
    assert!(facings.contains("none of its 1 is: 0 points") && facings.contains("2.0 km from the store"), "{facings}");
    assert_eq!(item(&score, "promo-display").reasons[0], "answered yes, backed by 1 trusted photo");
    assert_eq!(score.verdict, Trust::Review);
    assert_eq!(score.reasons[0], "verdict: review");
    assert!(score.reasons.iter().any(|r| r.starts_with("1 photo(s) rejected")), "{:?}", score.reasons);
}

#[test]
fn two_photos_rejected_as_reused_earn_nothing_and_are_not_called_usable() {
    let p = phone();
    let now = now_ms();
    let last_week = p.check_in(now - 7 * 24 * 60 * MIN, 5.0);
    let coffee = p.camera_photo("coffee.jpg", now - 7 * 24 * 60 * MIN + MIN);
    let chelsea = p.camera_photo("chelsea.jpg", now - 7 * 24 * 60 * MIN + 2 * MIN);
    p.add(&last_week, "facings", &coffee, now - 7 * 24 * 60 * MIN + MIN, 5.0);
    p.add(&last_week, "facings", &chelsea, now - 7 * 24 * 60 * MIN + 2 * MIN, 5.0);
    p.f.store.check_out(&last_week, now - 7 * 24 * 60 * MIN + 30 * MIN, p.north(5.0)).unwrap();

    let today = p.check_in(now - 30 * MIN, 5.0);
    // The same two files again (the capture claims say today).
    p.add(&today, "facings", &coffee, now - 20 * MIN, 5.0);
    p.add(&today, "facings", &chelsea, now - 19 * MIN, 5.0);
    p.f.store.check_out(&today, now - 10 * MIN, p.north(6.0)).unwrap();
    let score = p.f.store.preview_inspection_score(&today).unwrap();
    assert!(score.photos.iter().all(|p| p.trust == Trust::Rejected), "{:#?}", score.photos);
    let facings = item(&score, "facings");
    assert_eq!(facings.earned, 0.0);
    assert!(facings.reasons[0].contains("none of its 2 is"), "{:?}", facings.reasons);
    assert!(!facings.reasons.join(" ").contains("usable photo"), "{:?}", facings.reasons);
}

#[test]
fn a_photo_without_exif_counts_only_provisionally_and_the_visit_needs_review() {
    let p = phone();
    let now = now_ms();
    let id = p.check_in(now - 30 * MIN, 5.0);
    // coffee.jpg as is: no EXIF at all, as many messaging apps leave a photo.
    let sha = p.add(&id, "facings", &common::fixture("coffee.jpg"), now - 20 * MIN, 5.0);
    p.f.store.check_out(&id, now - 10 * MIN, p.north(6.0)).unwrap();
    let score = p.f.store.preview_inspection_score(&id).unwrap();
    assert_eq!(photo_of(&score, &sha).trust, Trust::Review);
    assert!(photo_of(&score, &sha).reasons.iter().any(|r| r.contains("no EXIF capture time")));
    let facings = item(&score, "facings");
    assert_eq!(facings.earned, 3.0);
    assert!(facings.reasons[0].starts_with("answered yes, backed provisionally by 1 photo to review"));
    assert_eq!(score.verdict, Trust::Review);
    assert!(score.reasons.iter().any(|r| r.contains("facings")), "{:?}", score.reasons);
}

// ---------------------------------------------------------------------------------------------
// 2. The visit's place

#[test]
fn a_check_in_and_out_2_km_from_the_store_is_rejected_at_visit_level_and_caps_the_score() {
    let p = phone();
    let now = now_ms();
    let id = p.check_in(now - 30 * MIN, 2_000.0);
    // The photos' own GPS (claimed and EXIF) say "at the store".
    p.add(&id, "facings", &p.camera_photo("coffee.jpg", now - 20 * MIN), now - 20 * MIN, 5.0);
    p.add(&id, "promo-display", &p.camera_photo("chelsea.jpg", now - 19 * MIN), now - 19 * MIN, 6.0);
    p.f.store.check_out(&id, now - 10 * MIN, p.north(2_000.0)).unwrap();
    let score = p.f.store.preview_inspection_score(&id).unwrap();
    assert_eq!(score.verdict, Trust::Rejected, "{:?}", score.reasons);
    assert_eq!(score.score, REJECTED_VISIT_CAP);
    let reasons = score.reasons.join(" | ");
    assert!(reasons.contains("checked in 2.0 km from the store, more than 500 m away"), "{reasons}");
    assert!(reasons.contains("checked out 2.0 km from the store"), "{reasons}");
    assert!(reasons.contains("score capped at 50 of 100 (the checklist earned 100.0"), "{reasons}");

    // The same visit checked in at the store passes.
    let fine = p.check_in(now - 30 * MIN, 10.0);
    p.add(&fine, "facings", &p.camera_photo("astronaut.jpg", now - 20 * MIN), now - 20 * MIN, 5.0);
    p.add(&fine, "promo-display", &p.camera_photo("camera.png", now - 19 * MIN), now - 19 * MIN, 6.0);
    p.f.store.check_out(&fine, now - 10 * MIN, p.north(12.0)).unwrap();
    let score = p.f.store.preview_inspection_score(&fine).unwrap();
    assert_eq!((score.verdict, score.score), (Trust::Pass, 100.0), "{:#?}", score);
    assert!(score.reasons.iter().any(|r| r.starts_with("checked in 10 m from the store")), "{:?}", score.reasons);
}

// ---------------------------------------------------------------------------------------------
// 3. The original's EXIF

#[test]
fn an_exif_time_and_place_contradicting_the_visit_reject_the_photo_though_the_app_claims_agree() {
    let p = phone();
    let now = now_ms();
    let id = p.check_in(now - 30 * MIN, 5.0);
    // EXIF: taken on 2023-01-15 at 10:30 (UTC+01:00), about 300 km north of the shop.
    let exif = CameraExif {
        taken_at: "2023:01:15 10:30:00",
        offset: Some("+01:00"),
        position: (p.shop.latitude + 300_000.0 / 111_195.0, p.shop.longitude),
    };
    let original = with_camera_exif(&common::fixture("coffee.jpg"), &exif);
    // ...while the app says "now, 7 m from the store".
    let sha = p.add(&id, "facings", &original, now - 20 * MIN, 7.0);
    p.f.store.check_out(&id, now - 10 * MIN, p.north(6.0)).unwrap();

    // Recorded on the phone from the original, before the stored copy dropped the EXIF.
    let reference = p.f.store.inspection(&id).unwrap().photos[&sha].clone();
    let recorded = reference.original.unwrap();
    assert_eq!(recorded.sha256, photo::sha256_hex(&original));
    assert_eq!(recorded.taken_at.as_deref(), Some("2023:01:15 10:30:00"));
    assert_eq!(recorded.utc_offset_minutes, Some(60));
    assert!((recorded.position.unwrap().latitude - exif.position.0).abs() < 1e-5);
    let stored = p.f.store.photo_bytes(&sha).unwrap();
    assert_eq!(fieldsync_core::photo::ingest(&stored, &PhotoLimits::default()).unwrap().exif.gps, None);

    let score = p.f.store.preview_inspection_score(&id).unwrap();
    let assessed = photo_of(&score, &sha);
    assert_eq!(assessed.trust, Trust::Rejected);
    let reasons = assessed.reasons.join(" | ");
    assert!(reasons.contains("taken 7 m from the store"), "the app's claim passes: {reasons}");
    assert!(reasons.contains("EXIF says taken 2023-01-15 10:30 (UTC+01:00)"), "{reasons}");
    assert!(reasons.contains("before check-in: not a photo of this visit"), "{reasons}");
    assert!(reasons.contains("EXIF GPS says taken 300.0 km from the store, not at the store"), "{reasons}");
    assert_eq!(item(&score, "facings").earned, 0.0);
}

// ---------------------------------------------------------------------------------------------
// 4. Reuse that survives flips and turns

/// The seven other members of an image's dihedral group, named.
fn flips_and_turns(image: &DynamicImage) -> Vec<(&'static str, DynamicImage)> {
    let mirrored = image.fliph();
    vec![
        ("mirrored", mirrored.clone()),
        ("turned 90", image.rotate90()),
        ("turned 180", image.rotate180()),
        ("turned 270", image.rotate270()),
        ("mirrored and turned 90", mirrored.rotate90()),
        ("flipped upside down", mirrored.rotate180()),
        ("mirrored and turned 270", mirrored.rotate270()),
    ]
}

fn analyze(bytes: &[u8]) -> photo::PhotoAnalysis {
    photo::analyze(bytes, &PhotoLimits::default()).unwrap()
}

/// Distinct real photos: every fixture but the orientation variants of `hopper.jpg`.
const DISTINCT: [&str; 7] =
    ["astronaut.jpg", "camera.png", "chelsea.jpg", "coffee.jpg", "clock_motion.png", "hopper.jpg", "exif.jpg"];

#[test]
fn mirrored_and_turned_copies_of_an_earlier_photo_are_caught_as_reused() {
    let t = TrustThresholds::default();
    for name in ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "hopper.jpg"] {
        let stored = photo::ingest(&common::fixture(name), &PhotoLimits::default()).unwrap().jpeg;
        let earlier = [EarlierPhoto {
            sha256: "earlier".into(),
            phash: analyze(&stored).phash,
            inspection_id: "last-week".into(),
            store_id: "store-a".into(),
            captured_at: 1_700_000_000_000,
        }];
        for (how, copy) in flips_and_turns(&common::decode(&common::fixture(name))) {
            // The copy as the phone would store it, then as the relay reads it.
            let uploaded = photo::ingest(&common::encode(&copy, ImageFormat::Jpeg), &PhotoLimits::default()).unwrap();
            let seen = analyze(&uploaded.jpeg);
            let finding = evidence::check_reuse(
                &uploaded.sha256,
                Some(&seen.phash),
                &seen.transformed_phashes,
                "today",
                "store-b",
                &earlier,
                &t,
            );
            let finding = finding.unwrap_or_else(|| panic!("{name} {how} was not caught"));
            assert_eq!(finding.trust, Trust::Rejected);
            assert!(finding.reason.english().contains("mirrored or turned"), "{name} {how}: {}", finding.reason);
        }
    }
}

#[test]
fn distinct_real_photos_are_never_taken_for_flipped_copies_of_each_other() {
    // The false-match rate on this set: 0 of 21 pairs, each compared in all 8 orientations.
    let t = TrustThresholds::default();
    let analyses: Vec<_> = DISTINCT.iter().map(|name| (*name, analyze(&common::fixture(name)))).collect();
    let mut closest = u32::MAX;
    for (i, (a_name, a)) in analyses.iter().enumerate() {
        for (b_name, b) in &analyses[i + 1..] {
            let earlier = [EarlierPhoto {
                sha256: "b".into(),
                phash: b.phash.clone(),
                inspection_id: "other".into(),
                store_id: "s".into(),
                captured_at: 0,
            }];
            let found = evidence::check_reuse("a", Some(&a.phash), &a.transformed_phashes, "x", "s", &earlier, &t);
            assert!(found.is_none(), "{a_name} taken for a copy of {b_name}: {found:?}");
            for hash in std::iter::once(&a.phash).chain(&a.transformed_phashes) {
                closest = closest.min(photo::phash_distance(hash, &b.phash).unwrap());
            }
        }
    }
    assert!(u64::from(closest) > t.near_duplicate_bits, "closest distinct pair {closest} bits");
}

// ---------------------------------------------------------------------------------------------
// 5. One verdict

#[test]
fn a_photo_passed_on_the_phone_is_never_failed_for_quality_on_the_relay() {
    let p = phone();
    let id = p.check_in(now_ms() - 30 * MIN, 5.0);
    let mut checked = 0;
    for name in DISTINCT {
        let original = common::decode(&common::fixture(name));
        let copies = [
            ("as taken", original.clone()),
            ("blurred 0.8", original.blur(0.8)),
            ("blurred 1.2", original.blur(1.2)),
            ("blurred 2", original.blur(2.0)),
            ("darkened", common::exposure(&original, 0.3)),
            ("dim", common::exposure(&original, 0.45)),
            ("overexposed", common::exposure(&original, 2.5)),
        ];
        for (how, copy) in copies {
            let bytes = common::encode(&copy, ImageFormat::Jpeg);
            let capture = PhotoCapture { captured_at: now_ms() - 20 * MIN, position: Some(p.north(5.0)) };
            let added = p.f.store.add_photo(&id, "facings", &bytes, capture).unwrap();
            // The relay reads the uploaded bytes with the same code: the very same figures.
            let stored = p.f.store.photo_bytes(&added.reference.sha256).unwrap();
            let relay = analyze(&stored);
            assert_eq!(Some(relay.metrics), added.reference.measured, "{name} {how}");
            assert_eq!(relay.phash, added.reference.phash, "{name} {how}");
            let verdict = score_photo(&relay.metrics);
            let phone_hard: Vec<_> =
                added.preview.problems.iter().filter(|p| **p != QualityProblem::LowContrast).collect();
            if phone_hard.is_empty() {
                assert!(verdict.usable(), "{name} {how}: phone {} / relay {:?}", added.preview.summary(), verdict);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, DISTINCT.len() * 7);
}

#[test]
fn a_relay_measuring_a_fail_where_the_phone_measured_a_pass_gives_review_not_a_silent_flip() {
    let p = phone();
    let now = now_ms();
    let id = p.check_in(now - 30 * MIN, 5.0);
    let sha = p.add(&id, "facings", &p.camera_photo("coffee.jpg", now - 20 * MIN), now - 20 * MIN, 5.0);
    p.f.store.check_out(&id, now - 10 * MIN, p.north(6.0)).unwrap();
    let inspection = p.f.store.inspection(&id).unwrap();
    let phone_figures = inspection.photos[&sha].measured.unwrap();
    // Another machine's figures for the same bytes, as if its arithmetic differed: blurry.
    let mut relay = analyze(&p.f.store.photo_bytes(&sha).unwrap());
    relay.metrics.sharpness = 60.0;
    let pixels: BTreeMap<String, PhotoPixels> = [(sha.clone(), PhotoPixels::from(relay))].into_iter().collect();
    let template = common::template();
    let score = scoring::score_inspection(&ScoringInput {
        inspection_id: id.as_str(),
        inspection: &inspection,
        template: &template,
        store: Location { latitude: p.shop.latitude, longitude: p.shop.longitude },
        store_geofence_m: 0.0,
        pixels: &pixels,
        earlier: &[],
        reviews: &fieldsync_core::scoring::NO_REVIEWS,
        scored_heads: &[],
        scored_at: now,
    });
    let assessed = photo_of(&score, &sha);
    let reasons = assessed.reasons.join(" | ");
    assert!(reasons.contains("the phone measured these same bytes as fine"), "{reasons}");
    assert!(reasons.contains(&format!("sharpness {:.1}", phone_figures.sharpness)), "{reasons}");
    assert_eq!(item(&score, "facings").earned, 3.0, "counts provisionally");
    assert_eq!(score.verdict, Trust::Review);
}

#[test]
fn a_dark_photo_is_called_too_dark_and_not_blurry() {
    for name in ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "hopper.jpg"] {
        let dark = common::exposure(&common::decode(&common::fixture(name)), 0.2);
        let preview =
            photo::ingest(&common::encode(&dark, ImageFormat::Jpeg), &PhotoLimits::default()).unwrap().quality;
        assert!(preview.problems.contains(&QualityProblem::TooDark), "{name}: {:?}", preview.metrics);
        assert!(!preview.problems.contains(&QualityProblem::Blurry), "{name}: {}", preview.summary());
    }
}

// ---------------------------------------------------------------------------------------------
// 6 and 7. Ingest cost and the phone API

#[test]
fn adding_the_same_bytes_again_returns_the_photo_already_there_at_once() {
    let p = phone();
    let now = now_ms();
    let id = p.check_in(now - 30 * MIN, 5.0);
    let bytes = p.camera_photo("astronaut.jpg", now - 20 * MIN);
    let capture = PhotoCapture { captured_at: now - 20 * MIN, position: Some(p.north(5.0)) };
    let started = Instant::now();
    let first = p.f.store.add_photo(&id, "facings", &bytes, capture).unwrap();
    let first_took = started.elapsed();
    let started = Instant::now();
    let again = p.f.store.add_photo(&id, "facings", &bytes, capture).unwrap();
    let again_took = started.elapsed();
    assert_eq!(again.reference, first.reference);
    assert_eq!(again.preview, first.preview);
    assert_eq!(p.f.store.inspection(&id).unwrap().photos.len(), 1);
    assert!(again_took * 3 < first_took, "again {again_took:?}, first {first_took:?}");
}

#[test]
fn a_photo_can_be_removed_from_its_item_until_check_out_and_bad_requests_change_nothing() {
    let p = phone();
    let now = now_ms();
    let id = p.check_in(now - 30 * MIN, 5.0);
    let keep = p.add(&id, "facings", &p.camera_photo("coffee.jpg", now - 20 * MIN), now - 20 * MIN, 5.0);
    let drop = p.add(&id, "facings", &p.camera_photo("chelsea.jpg", now - 19 * MIN), now - 19 * MIN, 5.0);
    assert_eq!(p.f.store.pending_photos().unwrap().0, 2);

    let wrong_item = p.f.store.remove_photo(&id, "promo-display", &drop).unwrap_err();
    assert!(wrong_item.to_string().contains("backs item facings, not promo-display"), "{wrong_item}");
    let unknown = p.f.store.remove_photo(&id, "facings", &"0".repeat(64)).unwrap_err();
    assert!(unknown.to_string().contains("has no photo"), "{unknown}");
    assert_eq!(p.f.store.inspection(&id).unwrap().photos.len(), 2);

    p.f.store.remove_photo(&id, "facings", &drop).unwrap();
    let photos = p.f.store.inspection(&id).unwrap().photos;
    assert_eq!(photos.keys().collect::<Vec<_>>(), vec![&keep]);
    assert_eq!(p.f.store.pending_photos().unwrap().0, 1, "its upload is cancelled");

    p.f.store.check_out(&id, now - 10 * MIN, p.north(6.0)).unwrap();
    let closed = p.f.store.remove_photo(&id, "facings", &keep).unwrap_err();
    assert!(closed.to_string().contains("checked-out"), "{closed}");
    assert_eq!(p.f.store.inspection(&id).unwrap().photos.len(), 1);
}
