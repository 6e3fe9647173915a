//! Inspection scoring on real photos (scikit-image samples, CC0 / public domain; see
//! `tests/fixtures/photos/README.md`) and on degraded copies made here with the `image` crate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use fieldsync_core::doc::{
    Answer, AnswerValue, GeoFix, Inspection, InspectionStatus, PhotoRef, Template, TemplateItem, Trust, Visit,
};
use fieldsync_core::photo::{self, PhotoAnalysis, PhotoLimits, QualityProblem};
use fieldsync_core::scoring::{
    self, EarlierPhoto, Location, PhotoPixels, ScoringInput, TrustThresholds, evidence, score_photo,
};
use image::{GenericImageView, ImageFormat};

const SHARP: [&str; 4] = ["astronaut.jpg", "camera.png", "chelsea.jpg", "coffee.jpg"];
const STORE: Location = Location { latitude: 52.370_000, longitude: 4.890_000 };
const CHECK_IN: i64 = 1_750_000_000_000;
const MIN: i64 = 60_000;

fn analyze(bytes: &[u8]) -> PhotoAnalysis {
    photo::analyze(bytes, &PhotoLimits::default()).expect("analyze")
}

fn quality_of(bytes: &[u8]) -> scoring::PhotoQuality {
    score_photo(&analyze(bytes).metrics)
}

/// A fix `north_m` metres north of the store.
fn north(north_m: f64) -> GeoFix {
    GeoFix { latitude: STORE.latitude + north_m / 111_195.0, longitude: STORE.longitude, accuracy_m: 8.0 }
}

// ---------------------------------------------------------------------------------------------
// Quality

#[test]
fn sharp_originals_score_above_their_blurred_darkened_overexposed_and_downscaled_copies() {
    for name in SHARP {
        let original = common::decode(&common::fixture(name));
        let sharp = quality_of(&common::fixture(name));
        assert!(sharp.usable(), "{name}: {:?}", sharp.reasons);
        let (w, h) = original.dimensions();
        let copies = [
            ("blurred", common::encode(&original.blur(2.0), ImageFormat::Png), Some(QualityProblem::Blurry)),
            (
                "darkened",
                common::encode(&common::exposure(&original, 0.3), ImageFormat::Png),
                Some(QualityProblem::TooDark),
            ),
            (
                "overexposed",
                common::encode(&common::exposure(&original, 2.5), ImageFormat::Png),
                Some(QualityProblem::Overexposed),
            ),
            (
                "downscaled",
                common::encode(&original.thumbnail(w / 2, h / 2), ImageFormat::Png),
                Some(QualityProblem::TooSmall),
            ),
        ];
        for (what, bytes, failure) in copies {
            let copy = quality_of(&bytes);
            assert!(copy.score < sharp.score, "{name} {what}: {} is not below {}", copy.score, sharp.score);
            if let Some(failure) = failure {
                assert!(copy.failures.contains(&failure), "{name} {what}: {:?}", copy.failures);
                assert!(!copy.usable());
                assert!(
                    copy.reasons.iter().any(|r| r.english().starts_with(&failure.to_string())),
                    "{:?}",
                    copy.reasons
                );
            }
        }
    }
}

#[test]
fn a_real_motion_blurred_photo_fails_sharpness() {
    let clock = quality_of(&common::fixture("clock_motion.png"));
    assert_eq!(clock.failures, vec![QualityProblem::Blurry], "{:?}", clock.reasons);
    assert!(clock.reasons[0].english().starts_with("blurry: sharpness"), "{:?}", clock.reasons);
    for name in SHARP {
        assert!(clock.score < quality_of(&common::fixture(name)).score, "{name}");
    }
}

#[test]
fn the_relay_analysis_agrees_with_the_phone_ingest() {
    for name in SHARP.iter().chain(&["hopper_orientation_6.jpg"]) {
        let ingested = photo::ingest(&common::fixture(name), &PhotoLimits::default()).unwrap();
        let analysed = analyze(&common::fixture(name));
        let bits = photo::phash_distance(&ingested.phash, &analysed.phash).unwrap();
        assert!(bits <= 4, "{name}: phone and relay hashes {bits} bits apart");
        assert_eq!(ingested.quality.problems.is_empty(), score_photo(&analysed.metrics).failures.is_empty(), "{name}");
        assert_eq!((analysed.metrics.width, analysed.metrics.height), (ingested.width, ingested.height), "{name}");
        // And the relay analyses the stored JPEG the phone uploads, not the camera original.
        let stored = analyze(&ingested.jpeg);
        assert!(photo::phash_distance(&stored.phash, &analysed.phash).unwrap() <= 4, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Reuse

fn earlier_of(name: &str, inspection: &str, store: &str) -> EarlierPhoto {
    let bytes = photo::ingest(&common::fixture(name), &PhotoLimits::default()).unwrap().jpeg;
    EarlierPhoto {
        sha256: format!("{name}-sha"),
        phash: analyze(&bytes).phash,
        inspection_id: inspection.into(),
        store_id: store.into(),
        captured_at: CHECK_IN - 7 * 24 * 60 * MIN,
    }
}

#[test]
fn a_re_encoded_or_resized_copy_of_an_earlier_photo_is_caught_as_reused_and_different_photos_are_not() {
    let t = TrustThresholds::default();
    let earlier: Vec<EarlierPhoto> =
        ["astronaut.jpg", "chelsea.jpg"].iter().map(|n| earlier_of(n, "last-week", "store-a")).collect();
    for name in ["astronaut.jpg", "chelsea.jpg"] {
        let image = common::decode(&common::fixture(name));
        let (w, h) = image.dimensions();
        let copies = [
            ("re-encoded", common::encode(&image, ImageFormat::Jpeg)),
            (
                "resized",
                common::encode(
                    &image.resize(w * 3 / 4, h * 3 / 4, image::imageops::FilterType::Triangle),
                    ImageFormat::Jpeg,
                ),
            ),
            ("brightened", common::encode(&common::exposure(&image, 1.15), ImageFormat::Jpeg)),
        ];
        for (what, bytes) in copies {
            let copy = analyze(&bytes);
            let finding = evidence::check_reuse(
                "new-sha",
                Some(&copy.phash),
                &copy.transformed_phashes,
                "today",
                "store-b",
                &earlier,
                &t,
            );
            let finding = finding.unwrap_or_else(|| panic!("{name} {what} was not caught"));
            assert_eq!(finding.trust, Trust::Rejected);
            assert!(
                finding.reason.english().starts_with("reused") && finding.reason.english().contains("another store"),
                "{}",
                finding.reason
            );
        }
    }
    for name in ["camera.png", "coffee.jpg", "clock_motion.png", "hopper.jpg"] {
        let other = analyze(&common::fixture(name));
        let finding = evidence::check_reuse(
            "new-sha",
            Some(&other.phash),
            &other.transformed_phashes,
            "today",
            "store-b",
            &earlier,
            &t,
        );
        assert!(finding.is_none(), "{name} taken for reuse: {finding:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// A whole inspection

fn template() -> Template {
    let items = [("shelf", "Shelf is stocked", 3.0, true), ("cooler", "Cooler is clean", 1.0, true)];
    Template {
        name: "Shelf".into(),
        version: 1,
        items: items
            .into_iter()
            .zip(0..)
            .map(|((id, text, weight, requires_photo), position)| {
                (id.to_owned(), TemplateItem { text: text.into(), weight, requires_photo, position })
            })
            .collect(),
        trust: None,
    }
}

struct Shot {
    bytes: Vec<u8>,
    item: &'static str,
    captured_at: i64,
    position: GeoFix,
}

fn inspect(shots: &[Shot]) -> (Inspection, BTreeMap<String, PhotoPixels>) {
    let mut photos = BTreeMap::new();
    let mut pixels = BTreeMap::new();
    for (i, shot) in shots.iter().enumerate() {
        let sha256 = format!("{i:02}{}", "0".repeat(62));
        let pixel = match photo::analyze(&shot.bytes, &PhotoLimits::default()) {
            Ok(analysis) => PhotoPixels::from(analysis),
            Err(error) => PhotoPixels::Unreadable { reason: error.to_string() },
        };
        pixels.insert(sha256.clone(), pixel);
        photos.insert(
            sha256.clone(),
            PhotoRef {
                sha256,
                item_id: shot.item.into(),
                byte_size: shot.bytes.len() as u64,
                width: 0,
                height: 0,
                captured_at: shot.captured_at,
                position: Some(shot.position),
                phash: String::new(),
                original: None,
                measured: None,
            },
        );
    }
    let answer =
        || Answer { id: "a".into(), value: AnswerValue::Yes, count: None, note: String::new(), answered_at: CHECK_IN };
    let inspection = Inspection {
        owner: "sup".into(),
        store_id: "store-b".into(),
        template_id: "tpl".into(),
        status: InspectionStatus::CheckedOut,
        check_in: Visit { at: CHECK_IN, position: north(5.0) },
        check_out: Some(Visit { at: CHECK_IN + 40 * MIN, position: north(6.0) }),
        answers: [("shelf".to_owned(), answer()), ("cooler".to_owned(), answer())].into_iter().collect(),
        photos,
        updated_at: CHECK_IN,
        promotions_started: Default::default(),
    };
    (inspection, pixels)
}

fn score(inspection: &Inspection, pixels: &BTreeMap<String, PhotoPixels>) -> fieldsync_core::doc::InspectionScore {
    scoring::score_inspection(&ScoringInput {
        inspection_id: "today",
        inspection,
        template: &template(),
        store: STORE,
        store_geofence_m: 0.0,
        pixels,
        earlier: &[],
        reviews: &fieldsync_core::scoring::NO_REVIEWS,
        scored_heads: &[],
        scored_at: CHECK_IN + 41 * MIN,
    })
}

#[test]
fn out_of_window_and_out_of_geofence_photos_are_flagged_with_reasons() {
    let shots = [
        Shot {
            bytes: common::fixture("coffee.jpg"),
            item: "shelf",
            captured_at: CHECK_IN + 5 * MIN,
            position: north(20.0),
        },
        Shot {
            bytes: common::fixture("chelsea.jpg"),
            item: "cooler",
            captured_at: CHECK_IN - 3 * 60 * MIN,
            position: north(25.0),
        },
        Shot {
            bytes: common::fixture("astronaut.jpg"),
            item: "cooler",
            captured_at: CHECK_IN + 10 * MIN,
            position: north(2_400.0),
        },
        Shot {
            bytes: common::fixture("camera.png"),
            item: "cooler",
            captured_at: CHECK_IN + 12 * MIN,
            position: north(300.0),
        },
    ];
    let (inspection, pixels) = inspect(&shots);
    let report = score(&inspection, &pixels);
    let trust: Vec<Trust> = report.photos.iter().map(|p| p.trust).collect();
    // Ordered by item position (shelf first), then capture time.
    assert_eq!(trust, [Trust::Pass, Trust::Rejected, Trust::Rejected, Trust::Review], "{:#?}", report.photos);
    let reasons = |i: usize| report.photos[i].reasons.join(" | ");
    assert!(reasons(1).contains("taken 3 h before check-in"), "{}", reasons(1));
    assert!(reasons(2).contains("2.4 km from the store"), "{}", reasons(2));
    assert!(reasons(3).contains("300 m from the store"), "{}", reasons(3));
    // Evidence enters the score: the shelf photo counts, and the cooler earns its point only
    // provisionally, on the photo 300 m away (to review); the rejected ones earn nothing.
    assert_eq!(report.score, 100.0, "{:?}", report.items);
    let cooler = report.items.iter().find(|i| i.item_id == "cooler").unwrap();
    assert!(
        cooler.reasons[0].starts_with("answered yes, backed provisionally by 1 photo to review"),
        "{:?}",
        cooler.reasons
    );
    assert!(cooler.reasons[0].contains("2 rejected or unusable photos not counted"), "{:?}", cooler.reasons);
    assert_eq!(report.verdict, Trust::Review);
}

#[test]
fn a_corrupt_or_bomb_photo_fails_that_photo_alone_with_a_reason() {
    let mut truncated = common::fixture("coffee.jpg");
    truncated.truncate(truncated.len() / 2);
    let shots = [
        Shot {
            bytes: common::fixture("coffee.jpg"),
            item: "shelf",
            captured_at: CHECK_IN + 5 * MIN,
            position: north(20.0),
        },
        Shot {
            bytes: common::png_claiming(60_000, 60_000),
            item: "cooler",
            captured_at: CHECK_IN + 6 * MIN,
            position: north(21.0),
        },
        Shot { bytes: truncated, item: "cooler", captured_at: CHECK_IN + 7 * MIN, position: north(22.0) },
    ];
    let (inspection, pixels) = inspect(&shots);
    let report = score(&inspection, &pixels);
    assert!(report.photos[0].quality > 50.0, "{:?}", report.photos[0]);
    for bad in &report.photos[1..] {
        assert_eq!(bad.quality, 0.0);
        assert!(bad.reasons[0].starts_with("cannot be used: image"), "{:?}", bad.reasons);
    }
    let cooler = report.items.iter().find(|i| i.item_id == "cooler").unwrap();
    assert_eq!(cooler.earned, 0.0);
    assert!(cooler.reasons.join(" ").contains("requires a usable, trusted photo"), "{:?}", cooler.reasons);
    assert_eq!(report.score, 75.0);
}

#[test]
fn identical_gps_on_every_photo_of_a_visit_is_flagged_for_review() {
    let shots: Vec<Shot> = ["coffee.jpg", "chelsea.jpg", "astronaut.jpg"]
        .into_iter()
        .zip(0..)
        .map(|(name, i)| Shot {
            bytes: common::fixture(name),
            item: "shelf",
            captured_at: CHECK_IN + i * MIN,
            position: north(10.0),
        })
        .collect();
    let (inspection, pixels) = inspect(&shots);
    let report = score(&inspection, &pixels);
    assert!(report.photos.iter().all(|p| p.trust == Trust::Review), "{:#?}", report.photos);
    assert!(report.reasons.iter().any(|r| r.contains("exactly the same GPS position")), "{:?}", report.reasons);
}

// ---------------------------------------------------------------------------------------------
// The phone's preview

#[test]
fn the_phone_previews_the_score_with_the_relays_rules_before_leaving_the_store() {
    use fieldsync_core::local_store::{CheckIn, PhotoCapture};

    let dir = tempfile::tempdir().unwrap();
    let f = common::fixture_at(&dir.path().join("phone.db"), common::SUPERVISOR, fieldsync_core::Role::Supervisor);
    let shop = common::shop("Corner Market");
    let at =
        |lat_offset: f64| GeoFix { latitude: shop.latitude + lat_offset, longitude: shop.longitude, accuracy_m: 5.0 };
    let now = fieldsync_core::clock::now_ms();
    let id = f
        .store
        .check_in(CheckIn {
            store_id: f.shop_id.to_string(),
            template_id: f.template_id.to_string(),
            at: now,
            position: at(0.0),
        })
        .unwrap();
    for item in ["facings", "price-tags", "promo-display"] {
        f.store.answer(&id, item, AnswerValue::Yes, None, "").unwrap();
    }
    let photo = |name: &str, item: &str, lat_offset: f64| {
        let capture = PhotoCapture { captured_at: now + 60_000, position: Some(at(lat_offset)) };
        f.store.add_photo(&id, item, &common::fixture(name), capture).unwrap().reference.sha256
    };
    let good = photo("coffee.jpg", "facings", 0.0001);
    let blurred = photo("clock_motion.png", "promo-display", 0.0002);

    let preview = f.store.preview_inspection_score(&id).unwrap();
    // facings (3) and price-tags (2, no photo needed) earn; promo-display's only photo is blurry.
    assert_eq!(preview.score, 83.3, "{:#?}", preview.items);
    let blurry = preview.photos.iter().find(|p| p.sha256 == blurred).unwrap();
    assert!(blurry.reasons[0].starts_with("blurry"), "{:?}", blurry.reasons);
    let fine = preview.photos.iter().find(|p| p.sha256 == good).unwrap();
    assert_eq!(fine.trust, Trust::Review, "no check-out yet: {:?}", fine.reasons);
    assert!(preview.reasons.iter().any(|r| r.starts_with("preview on this phone")));
}
