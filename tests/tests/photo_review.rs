//! Photo review on a real relay: a supervisor's photos that the scorer puts at `review` are
//! accepted or rejected by their manager, the inspection is scored again, and the new report
//! reaches the supervisor's phone at its next sync; the decision shows with who and when.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{AnswerValue, GeoFix, InspectionScore, RetailStore, Trust};
use fieldsync_core::local_store::{CheckIn, PhotoCapture};
use fieldsync_core::{DocumentId, Role};
use fieldsync_tests::{HttpAnswer, Phone, Relay, http, photo_fixture};
use serde_json::{Value, json};

const MIN: i64 = 60_000;

fn near(store: &RetailStore, north_m: f64) -> GeoFix {
    GeoFix { latitude: store.latitude + north_m / 111_195.0, longitude: store.longitude, accuracy_m: 6.0 }
}

/// A visit with two photos without EXIF (usable, each to review), every item answered yes.
fn visit_with_photos_to_review(phone: &Phone) -> (DocumentId, Vec<String>) {
    let (store_id, store) = phone.store.stores().unwrap().into_iter().next().unwrap();
    let (template_id, template) =
        phone.store.templates().unwrap().into_iter().find(|(_, t)| t.name == "Shelf standard").expect("template");
    let check_in = now_ms() - 60 * MIN;
    let id = phone
        .store
        .check_in(CheckIn {
            store_id: store_id.to_string(),
            template_id: template_id.to_string(),
            at: check_in,
            position: near(&store, 3.0),
        })
        .unwrap();
    for (item_id, _) in template.items_in_order() {
        phone.store.answer(&id, item_id, AnswerValue::Yes, None, "").unwrap();
    }
    let mut shas = Vec::new();
    for (n, (item, fixture)) in [("shelf-stocked", "chelsea.jpg"), ("planogram", "coffee.jpg")].into_iter().enumerate()
    {
        let capture = PhotoCapture { captured_at: check_in + (5 + n as i64) * MIN, position: Some(near(&store, 8.0)) };
        shas.push(phone.store.add_photo(&id, item, &photo_fixture(fixture), capture).unwrap().reference.sha256);
    }
    phone.store.check_out(&id, check_in + 40 * MIN, near(&store, 4.0)).unwrap();
    (id, shas)
}

/// Syncs until the phone holds a score of `inspection` that `ready` accepts.
fn score_on_phone(phone: &Phone, inspection: &DocumentId, ready: impl Fn(&InspectionScore) -> bool) -> InspectionScore {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        phone.sync();
        if let Some((_, score)) = phone.store.inspection_score(inspection).unwrap()
            && ready(&score)
        {
            return score;
        }
        assert!(Instant::now() < deadline, "the phone did not receive the expected score of {inspection} within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn review(relay: &Relay, token: &str, inspection: &DocumentId, sha256: &str, body: Value) -> HttpAnswer {
    let url = format!("{}/v1/inspections/{inspection}/photos/{sha256}/review", relay.base_url);
    http("POST", &url, Some(token), &[("content-type", "application/json")], body.to_string().into_bytes())
}

fn trust_of(score: &InspectionScore, sha256: &str) -> Trust {
    score.photos.iter().find(|p| p.sha256 == sha256).expect("the photo is scored").trust
}

#[test]
fn a_rejected_review_photo_lowers_the_score_and_the_supervisors_phone_holds_the_new_report_after_a_sync() {
    let relay = Relay::start();
    let supervisor = relay.users(Role::Supervisor, Some("north"))[0].clone();
    let sue = relay.phone(&supervisor);
    sue.sync();
    let (inspection, shas) = visit_with_photos_to_review(&sue);
    let first = score_on_phone(&sue, &inspection, |_| true);
    assert!(shas.iter().all(|sha| trust_of(&first, sha) == Trust::Review), "{:#?}", first.photos);

    let manager = relay.phone("manager-north").session.token.clone();
    let answer = review(
        &relay,
        &manager,
        &inspection,
        &shas[0],
        json!({ "decision": "rejected", "reason": "the shelf is another store's" }),
    );
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let lowered = answer.json()["score"].as_f64().unwrap();
    assert!(lowered < first.score, "{lowered} < {}", first.score);

    // The phone receives the new report at its next sync.
    let after = score_on_phone(&sue, &inspection, |s| s.score < first.score);
    assert_eq!(after.score, lowered);
    assert_eq!(trust_of(&after, &shas[0]), Trust::Rejected);
    let photo = after.photos.iter().find(|p| p.sha256 == shas[0]).unwrap();
    assert!(photo.reasons.contains(&"rejected by manager-north: the shelf is another store's".to_owned()), "{photo:?}");
    // The person's decision is an event, besides the scorer's new verdict.
    let by_people: Vec<Value> =
        relay.events_of_type("photo.reviewed").into_iter().filter(|e| !e["reviewed_by"].is_null()).collect();
    assert_eq!(by_people.len(), 1, "{by_people:?}");
    assert_eq!(by_people[0]["sha256"], shas[0].as_str());
    assert_eq!(by_people[0]["trust"], "rejected");
    assert_eq!(by_people[0]["reasons"], json!(["the shelf is another store's"]));

    // Accepting the other one makes it trusted evidence.
    let answer =
        review(&relay, &manager, &inspection, &shas[1], json!({ "decision": "accepted", "reason": "looks right" }));
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json()["photo"]["trust"], "pass");

    // The decision is on the inspection page, with who and when.
    let page = relay.dashboard_page("manager-north", &format!("/dashboard/inspections/{inspection}"));
    let row = &page[page.find(&format!("data-sha256=\"{}\"", shas[0])).expect("the photo's row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("Reviewed: <b>rejected</b> by manager-north"), "{row}");
    assert!(row.contains("the shelf is another store&#39;s") || row.contains("the shelf is another store's"), "{row}");
    assert!(row.contains("/review\""), "the manager may change the decision: {row}");
}

#[test]
fn a_photo_review_is_refused_with_a_reason_and_changes_nothing_when_the_input_or_the_reviewer_is_wrong() {
    let relay = Relay::start();
    let supervisor = relay.users(Role::Supervisor, Some("north"))[0].clone();
    let sue = relay.phone(&supervisor);
    sue.sync();
    let (inspection, shas) = visit_with_photos_to_review(&sue);
    let first = score_on_phone(&sue, &inspection, |_| true);
    let manager = relay.phone("manager-north").session.token.clone();
    let rejected = json!({ "decision": "rejected", "reason": "blurred" });
    let elsewhere = "ab".repeat(32);
    let refusals: Vec<(&str, String, &str, Value, u16, &str)> = vec![
        ("the supervisor herself", sue.session.token.clone(), &shas[0], rejected.clone(), 403, "forbidden"),
        ("a rep", relay.phone("rep-01").session.token.clone(), &shas[0], rejected.clone(), 404, "not-found"),
        (
            "a made-up decision",
            manager.clone(),
            &shas[0],
            json!({ "decision": "maybe", "reason": "x" }),
            400,
            "invalid-decision",
        ),
        (
            "no reason",
            manager.clone(),
            &shas[0],
            json!({ "decision": "rejected", "reason": "  " }),
            400,
            "invalid-reason",
        ),
        ("a photo of another visit", manager.clone(), &elsewhere, rejected.clone(), 404, "not-found"),
        (
            "an unknown field",
            manager.clone(),
            &shas[0],
            json!({ "decision": "rejected", "reason": "x", "score": 100 }),
            400,
            "invalid-input",
        ),
    ];
    for (who, token, sha, body, status, code) in refusals {
        let answer = review(&relay, &token, &inspection, sha, body);
        assert_eq!((answer.status, answer.error_code().as_str()), (status, code), "{who}");
    }
    let storage = relay.state.storage.as_ref();
    assert!(relay.block_on(storage.photo_reviews(relay.tenant_id(), inspection.as_str())).unwrap().is_empty());
    let by_people: Vec<Value> =
        relay.events_of_type("photo.reviewed").into_iter().filter(|e| !e["reviewed_by"].is_null()).collect();
    assert!(by_people.is_empty(), "{by_people:?}");
    let unchanged = score_on_phone(&sue, &inspection, |_| true);
    assert_eq!(unchanged.score, first.score);
}

/// The inspection ids `/v1/inspections` lists for `query`.
fn listed(relay: &Relay, token: &str, query: &str) -> Vec<String> {
    let answer = http("GET", &format!("{}/v1/inspections?{query}", relay.base_url), Some(token), &[], vec![]);
    assert_eq!(answer.status, 200, "{query}: {}", String::from_utf8_lossy(&answer.body));
    answer.json()["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_reviewed_inspection_moves_to_its_new_score_band_in_the_inspections_list() {
    let relay = Relay::start();
    let supervisor = relay.users(Role::Supervisor, Some("north"))[0].clone();
    let sue = relay.phone(&supervisor);
    sue.sync();
    let (inspection, shas) = visit_with_photos_to_review(&sue);
    let first = score_on_phone(&sue, &inspection, |_| true);
    let hq = relay.phone("hq-admin").session.token.clone();
    let whole = first.score.floor() as i64;
    let band = |min: i64, max: i64| listed(&relay, &hq, &format!("score_min={min}&score_max={max}"));
    assert!(band(whole, whole).contains(&inspection.to_string()), "in its band before the review");

    let body = json!({ "decision": "rejected", "reason": "not this store" });
    let lowered = review(&relay, &hq, &inspection, &shas[0], body).json()["score"].as_f64().unwrap();
    let now = lowered.floor() as i64;
    assert!(now < whole);
    assert!(!band(whole, whole).contains(&inspection.to_string()), "out of its old band");
    assert!(band(now, now).contains(&inspection.to_string()), "in its new band");
    assert!(!listed(&relay, &hq, &format!("score_min={}", now + 1)).contains(&inspection.to_string()));

    let answer = http("GET", &format!("{}/v1/inspections?score_min=101", relay.base_url), Some(&hq), &[], vec![]);
    assert_eq!((answer.status, answer.error_code().as_str()), (400, "invalid-input"));
    let page = relay.dashboard_page("hq-admin", &format!("/dashboard/inspections?score_min={now}&score_max={now}"));
    assert!(page.contains(&format!("data-id=\"{inspection}\"")), "the dashboard's list takes the band too");
}
