//! Working through alerts on a real relay: one alert per cause however many people receive it,
//! a visit's confirmation closing its store's alert at once, acknowledgements, snoozes and
//! reassignments recorded with who and when and seen by others, and closed alerts pruned after
//! the retention period.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use fieldsync_core::Role;
use fieldsync_server::seed::DemoLogin;
use fieldsync_server::services::alerts;
use fieldsync_tests::{HttpAnswer, Relay, check_in, http};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;

/// Runs an alert evaluation and waits for it (and what it queues).
fn evaluate(relay: &Relay) {
    let storage = relay.state.storage.as_ref();
    relay.block_on(alerts::queue_evaluation(storage, Some(&relay.state.jobs), relay.tenant_id(), "test")).unwrap();
    assert!(relay.wait_for_jobs(Duration::from_secs(60)), "the evaluation ran");
}

fn token(relay: &Relay, login: &DemoLogin) -> String {
    relay.phone_of(login).session.token.clone()
}

/// Every alert cause the query gives, walked page by page.
fn causes(relay: &Relay, token: &str, query: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = String::new();
    loop {
        let url = format!("{}/v1/alerts/causes?limit=50&{query}{after}", relay.base_url);
        let answer = http("GET", &url, Some(token), &[], vec![]);
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        let page = answer.json();
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => return all,
        }
    }
}

fn find<'a>(causes: &'a [Value], key: &str) -> Option<&'a Value> {
    causes.iter().find(|c| c["key"] == key)
}

fn act(relay: &Relay, token: &str, action: &str, body: Value) -> HttpAnswer {
    let url = format!("{}/v1/alerts/{action}", relay.base_url);
    http("POST", &url, Some(token), &[("content-type", "application/json")], body.to_string().into_bytes())
}

/// The key of a promotion alert of one of `supervisor`'s stores, with that store.
fn promotion_alert_of(relay: &Relay, token: &str) -> (String, String) {
    let open = causes(relay, token, "kind=promotion-not-started");
    let first = open.first().expect("the supervisor has promotion alerts");
    (first["key"].as_str().unwrap().to_owned(), first["store_id"].as_str().unwrap().to_owned())
}

/// The rows of a dashboard page whose `data-key` is `key`.
fn rows_of<'a>(page: &'a str, key: &str) -> Vec<&'a str> {
    let marker = format!("data-key=\"{key}\"");
    page.match_indices(&marker)
        .map(|(at, _)| {
            let end = at + page[at..].find("</tr>").expect("the row ends");
            &page[at..end]
        })
        .collect()
}

#[test]
fn the_same_cause_in_two_peoples_inboxes_is_one_alert_and_two_evaluations_leave_one() {
    let relay = Relay::start();
    evaluate(&relay);
    let hq = token(&relay, relay.login_of("hq-admin"));
    let open = causes(&relay, &hq, "");
    let promotion = open.iter().find(|c| c["kind"] == "promotion-not-started").expect("a promotion alert");
    let key = promotion["key"].as_str().unwrap().to_owned();
    // The store's rep and supervisor both hold it: two inbox rows, one alert.
    let inbox_rows = http(
        "GET",
        &format!("{}/v1/alerts?state=open&limit=1000", relay.base_url),
        Some(&hq),
        &[],
        vec![],
    )
    .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["alert_id"] == key.as_str())
        .count();
    assert_eq!(inbox_rows, 2, "the rep's and the supervisor's inboxes");
    assert_eq!(open.iter().filter(|c| c["key"] == key.as_str()).count(), 1);
    assert_eq!(promotion["recipients"], 2);
    assert_eq!(promotion["recipient_names"].as_array().unwrap().len(), 2);
    assert!(promotion["store_name"].as_str().is_some_and(|n| !n.is_empty()), "named by its store: {promotion}");

    // The same causes again: nothing new.
    evaluate(&relay);
    let again = causes(&relay, &hq, "");
    assert_eq!(again.len(), open.len());
    let page = relay.dashboard_page("hq-admin", "/dashboard/alerts");
    assert_eq!(rows_of(&page, &key).len(), 1, "one row on the alerts page");
    assert!(page.contains(&format!("{} open alerts", open.len())), "the count of causes is shown");
}

#[test]
fn low_stock_alerts_name_the_product_not_only_its_sku() {
    let relay = Relay::start();
    evaluate(&relay);
    let hq = token(&relay, relay.login_of("hq-admin"));
    let low = causes(&relay, &hq, "kind=low-stock");
    assert!(!low.is_empty(), "the demo tenant has low stock");
    for alert in &low {
        let name = alert["product_name"].as_str().unwrap_or_else(|| panic!("a product name: {alert}"));
        assert!(alert["title"].as_str().unwrap().contains(name), "{alert}");
    }
}

#[test]
fn a_visit_confirming_the_promotion_closes_the_stores_alert_at_once() {
    let relay = Relay::start();
    evaluate(&relay);
    let supervisor = relay.users(Role::Supervisor, Some("north"))[0].clone();
    let login = relay.login_of(&supervisor).clone();
    let token = token(&relay, &login);
    let phone = relay.phone_of(&login);
    phone.sync();
    let inspection = check_in(&phone, 0);
    let store = phone.store.inspection(&inspection).unwrap().store_id;
    let key = format!("promotion-not-started:summer-drinks:{store}");
    let before = causes(&relay, &token, "");
    assert!(find(&before, &key).is_some(), "the store's alert is open before the visit");
    let others = before.iter().filter(|c| c["store_id"] != store.as_str()).count();
    assert!(others > 0, "the supervisor has other stores' alerts too");

    let now = fieldsync_core::clock::now_ms();
    phone.store.confirm_promotion_started(&inspection, "summer-drinks", now).unwrap();
    phone.sync();
    // No waiting for the evaluation the confirmation queues: it is closed already.
    let closed = causes(&relay, &token, "state=closed");
    assert!(find(&closed, &key).is_some(), "closed as the sync returned");
    let open = causes(&relay, &token, "");
    assert!(find(&open, &key).is_none());
    assert_eq!(open.iter().filter(|c| c["store_id"] != store.as_str()).count(), others, "other stores keep theirs");

    // The evaluation agrees a moment later and does not reopen it.
    assert!(relay.wait_for_jobs(Duration::from_secs(60)));
    assert!(find(&causes(&relay, &token, ""), &key).is_none());
}

#[test]
fn an_acknowledged_alert_shows_who_and_the_note_to_another_hq_user() {
    let relay = Relay::start();
    evaluate(&relay);
    let hq = token(&relay, relay.login_of("hq-admin"));
    let key = causes(&relay, &hq, "")[0]["key"].as_str().unwrap().to_owned();
    let answer = act(&relay, &hq, "acknowledge", json!({ "key": key, "note": "display ordered, arrives Friday" }));
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json()["alert"]["acknowledged_by_name"], "hq-admin");

    let colleague = relay.add_user("hq-two", Role::Hq, None);
    let page = relay.dashboard_page_of(&colleague, "/dashboard/alerts");
    let row = rows_of(&page, &key);
    assert_eq!(row.len(), 1);
    assert!(row[0].contains("Acknowledged by <b>hq-admin</b>"), "{}", row[0]);
    assert!(row[0].contains("display ordered, arrives Friday"), "{}", row[0]);
    let seen = causes(&relay, &token(&relay, &colleague), "");
    let alert = find(&seen, &key).unwrap();
    assert_eq!(alert["acknowledged"], true);
    assert_eq!(alert["history"][0]["by"], "hq-admin");
    assert_eq!(alert["history"][0]["action"], "acknowledge");

    // The acknowledgement is one event in the outbox, with who and the note.
    let events = relay.events_of_type("alert.acknowledged");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["alert"], key.as_str());
    assert_eq!(events[0]["note"], "display ordered, arrives Friday");
    let hq_admin = relay.block_on(relay.state.storage.find_user_by_username(relay.tenant_id(), "hq-admin"));
    assert_eq!(events[0]["acknowledged_by"], hq_admin.unwrap().unwrap().id.as_str());
}

#[test]
fn a_snoozed_alert_leaves_the_open_list_until_its_day_and_bad_actions_change_nothing() {
    let relay = Relay::start();
    evaluate(&relay);
    let supervisor = relay.users(Role::Supervisor, Some("north"))[0].clone();
    let token = token(&relay, relay.login_of(&supervisor));
    let (key, _) = promotion_alert_of(&relay, &token);
    let locale = relay
        .block_on(fieldsync_server::services::accounts::tenant_locale(relay.state.storage.as_ref(), relay.tenant_id()));
    let locale = locale.unwrap();
    let today = locale.day_of(relay.state.clock.now());
    let in_three_days = fieldsync_server::locale::Locale::days_before(today, -3).to_string();

    // Refused, and nothing recorded.
    let refusals = [
        ("snooze", json!({ "key": key, "until": today.to_string() }), 400, "invalid-snooze"),
        ("snooze", json!({ "key": key, "until": "next week" }), 400, "invalid-input"),
        ("snooze", json!({ "key": "low-stock:nowhere:SKU-0", "until": in_three_days }), 404, "not-found"),
        ("acknowledge", json!({ "key": key, "note": "x".repeat(501) }), 400, "invalid-note"),
        ("reassign", json!({ "key": key, "assignee": "rep-99-nobody" }), 400, "invalid-assignee"),
        ("reassign", json!({ "key": key, "assignee": "supervisor-south" }), 400, "invalid-assignee"),
    ];
    for (action, body, status, code) in refusals {
        let answer = act(&relay, &token, action, body.clone());
        assert_eq!((answer.status, answer.error_code().as_str()), (status, code), "{action} {body}");
    }
    let untouched = find(&causes(&relay, &token, ""), &key).cloned().unwrap();
    assert_eq!(untouched["history"], json!([]), "refusals record nothing");
    assert_eq!(relay.events_of_type("alert.acknowledged"), Vec::<Value>::new(), "and announce nothing");

    let answer = act(&relay, &token, "snooze", json!({ "key": key, "until": in_three_days }));
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert!(find(&causes(&relay, &token, ""), &key).is_none(), "out of the open list");
    assert!(find(&causes(&relay, &token, "state=snoozed"), &key).is_some(), "in the snoozed list");
    relay.state.clock.advance(4 * DAY);
    assert!(find(&causes(&relay, &token, ""), &key).is_some(), "back on its day");
}

#[test]
fn a_reassigned_alert_belongs_to_its_new_owner_who_sees_it() {
    let relay = Relay::start();
    evaluate(&relay);
    let supervisor = relay.users(Role::Supervisor, Some("north"))[0].clone();
    let token = token(&relay, relay.login_of(&supervisor));
    let (key, _) = promotion_alert_of(&relay, &token);
    let manager = relay.login_of("manager-north").clone();
    let manager_token = self::token(&relay, &manager);
    assert!(find(&causes(&relay, &manager_token, ""), &key).is_none(), "not the manager's alert yet");

    let answer = act(&relay, &token, "reassign", json!({ "key": key, "assignee": "manager-north" }));
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let theirs = causes(&relay, &manager_token, "");
    let alert = find(&theirs, &key).expect("the manager sees it now");
    assert_eq!(alert["owner_names"], json!(["manager-north"]));
    assert_eq!(alert["history"][0]["by"], supervisor.as_str());
    let page = relay.dashboard_page("manager-north", "/dashboard/alerts");
    assert!(rows_of(&page, &key)[0].contains("reassigned to manager-north"));
}

#[test]
fn closed_alerts_stay_as_history_and_are_pruned_after_the_retention_period() {
    let relay = Relay::start_with(|config| config.alert_retention = Duration::from_secs(24 * 3600));
    evaluate(&relay);
    let supervisor = relay.users(Role::Supervisor, Some("north"))[0].clone();
    let login = relay.login_of(&supervisor).clone();
    let token = token(&relay, &login);
    let phone = relay.phone_of(&login);
    phone.sync();
    let inspection = check_in(&phone, 0);
    let store = phone.store.inspection(&inspection).unwrap().store_id;
    let key = format!("promotion-not-started:summer-drinks:{store}");
    assert_eq!(act(&relay, &token, "acknowledge", json!({ "key": key, "note": "on it" })).status, 200);
    phone.store.confirm_promotion_started(&inspection, "summer-drinks", fieldsync_core::clock::now_ms()).unwrap();
    phone.sync();
    assert!(relay.wait_for_jobs(Duration::from_secs(60)));

    // Within the retention period it is history.
    evaluate(&relay);
    let closed = causes(&relay, &token, "state=closed");
    assert_eq!(find(&closed, &key).expect("kept as history")["history"][0]["note"], "on it");

    relay.state.clock.advance(2 * DAY);
    evaluate(&relay);
    assert!(find(&causes(&relay, &token, "state=closed"), &key).is_none(), "pruned");
    assert!(find(&causes(&relay, &token, ""), &key).is_none(), "and not reopened");
    let inbox = fieldsync_server::services::alerts::inbox::inbox_id(&login.user_id);
    let stored = relay.stored(&inbox).expect("the supervisor's inbox");
    let am = fieldsync_server::documents::load(&stored).unwrap();
    let inbox: fieldsync_core::doc::Inbox = fieldsync_core::doc::read(&inbox, &am).unwrap();
    assert!(!inbox.alerts.contains_key(&key), "gone from the inbox document the phone syncs");
    assert!(inbox.open_alerts().count() > 0, "open alerts are never pruned");
}
