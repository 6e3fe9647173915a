//! Refusals in the viewer's language, through the relay's router on a real SQLite data directory:
//! a Chinese HQ viewer who submits a bad form (a taken username, a taken store code, an import
//! with a bad line, a snooze date in the past, a photo review without a reason, an approval rule
//! with a bad value) reads why in Chinese, and nothing is written; the same refusal through the
//! JSON API still answers the English sentence with the same status and code as before refusals
//! were messages.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fieldsync_core::DocumentId;
use fieldsync_core::doc::{Catalog, GeoFix, Inspection, InspectionStatus, Visit};
use fieldsync_core::i18n::Language;
use fieldsync_server::AppState;
use fieldsync_server::dashboard::session::{SESSION_COOKIE, csrf_token};
use fieldsync_server::documents::create_as_relay;
use fieldsync_server::services::accounts::{self, Caller};
use fieldsync_server::services::orders::policy;
use fieldsync_server::services::stores;
use fieldsync_server::storage::queries::{self, Reach, StoreFilter};
use serde_json::{Value, json};

use common::dashboard::{PASSWORD, Reply, caller, relay, send, store_form};

/// `username` signed in with the dashboard in Chinese: the cookie and the session token.
async fn chinese(state: &AppState, username: &str) -> (String, String) {
    let token = common::login(state, username, PASSWORD).await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let form = format!("csrf={}&language=zh-CN", csrf_token(&token));
    let chosen = send(state, Method::POST, "/dashboard/language", Some(&cookie), Some(&form)).await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    (cookie, token)
}

/// Posts `form` (its CSRF token first) to the dashboard page `uri`.
async fn post(state: &AppState, session: &(String, String), uri: &str, form: &str) -> Reply {
    let form = format!("csrf={}&{form}", csrf_token(&session.1));
    send(state, Method::POST, uri, Some(&session.0), Some(&form)).await
}

/// A JSON request to the API with `token`: the status and the body.
async fn api(state: &AppState, token: &str, uri: &str, body: Value) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    common::send(state, request).await
}

/// Asserts the page says `chinese` (as HTML writes it) where the English said `english`.
fn reads_in_chinese(reply: &Reply, chinese: &str, english: &str) {
    assert!(reply.body.contains(r#"<html lang="zh-CN""#), "{}", reply.body);
    assert!(reply.body.contains(chinese), "{chinese} is missing:\n{}", reply.body);
    assert!(!reply.body.contains(english), "{english} is still there:\n{}", reply.body);
}

async fn hq(state: &AppState) -> Caller {
    caller(state, "hana").await
}

async fn store_count(state: &AppState, tenant_id: i64) -> u64 {
    let filter = StoreFilter { reach: Reach::All, text: None, region: None, active: None };
    queries::count_stores(state.storage.as_ref(), tenant_id, &filter).await.unwrap()
}

#[tokio::test]
async fn a_taken_username_reads_in_chinese_and_no_user_is_added() {
    let (_dir, state) = relay().await;
    let session = chinese(&state, "hana").await;
    let form = "username=ravi&display_name=&password=correct+horse+battery&role=rep&region=north";
    let refused = post(&state, &session, "/dashboard/admin/users", form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    reads_in_chinese(&refused, "用户名 ravi 已被使用", "already exists in the tenant");
    let users = accounts::list_users(state.storage.as_ref(), "acme").await.unwrap();
    assert_eq!(users.len(), 4, "nothing was written");

    // A value the form checks reads in Chinese too, naming the field in Chinese.
    let form = "username=Eve&display_name=&password=correct+horse+battery&role=rep&region=north";
    let refused = post(&state, &session, "/dashboard/admin/users", form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    reads_in_chinese(&refused, "用户名 &quot;Eve&quot; 无效：只能使用小写字母", "use lowercase letters");
}

#[tokio::test]
async fn a_taken_store_code_reads_in_chinese_naming_the_store_that_has_it_and_no_store_is_added() {
    let (_dir, state) = relay().await;
    let hq = hq(&state).await;
    let form = store_form("N-014", "C-1");
    stores::create_store_as(state.storage.as_ref(), &hq, &form).await.unwrap();
    let session = chinese(&state, "hana").await;
    let fields = "name=Dock+Shop&code=N-014&address=Kai+2&customer_id=C-2&region=north&tier=B\
                  &latitude=53.5&longitude=9.9&geofence_m=120&rep=ravi&supervisor=sofia";
    let refused = post(&state, &session, "/dashboard/admin/stores", fields).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    reads_in_chinese(
        &refused,
        "门店编码 &quot;N-014&quot; 已被门店 &quot;Harbour Kiosk&quot; 使用",
        "is already used by store",
    );
    assert_eq!(store_count(&state, hq.tenant_id).await, 1, "nothing was written");
    // The service says it in English, as it always did (the command line and logs read this).
    let error = stores::create_store_as(state.storage.as_ref(), &hq, &form).await.unwrap_err();
    assert_eq!(error.to_string(), "store code \"N-014\" is already used by store \"Harbour Kiosk\"");
}

#[tokio::test]
async fn an_import_with_a_bad_line_reads_in_chinese_on_the_page_and_in_english_through_the_api() {
    let (_dir, state) = relay().await;
    let session = chinese(&state, "hana").await;
    let csv = "name,address,customer_id,region,tier,latitude,longitude,rep,supervisor\n\
               Corner Shop,1 Main St,C-1001,north,A,52.37,4.89,ravi,sofia\n\
               Bad Shop,2 Elm Rd,C-1002,north,Z,52.36,4.90,ravi,sofia\n";
    let form = format!("dataset=stores&file_name=stores.csv&csv={}", url_encoded(csv));
    let refused = post(&state, &session, "/dashboard/admin/imports/preview", &form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    reads_in_chinese(&refused, "客户等级 &quot;Z&quot; 须为 A、B、C 之一", "must be one of A, B, C");
    assert!(refused.body.contains(r#"<tr data-line="3">"#), "the line has its own column: {}", refused.body);
    assert!(!refused.body.contains("第 3 行"), "the reason cell does not repeat the line: {}", refused.body);
    assert_eq!(store_count(&state, hq(&state).await.tenant_id).await, 0, "nothing was written");

    let (status, body) = common::import(&state, &session.1, "stores", csv).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid-import");
    assert_eq!(
        body["error"]["message"], "1 error(s), nothing imported: line 3: tier \"Z\" must be one of A, B, C",
        "the API's sentence is the English it always was"
    );
}

#[tokio::test]
async fn a_snooze_date_in_the_past_reads_in_chinese_and_in_english_through_the_api() {
    let (_dir, state) = relay().await;
    let session = chinese(&state, "hana").await;
    let form = "action=snooze&key=low-stock:W/n:SKU-1&until=2020-01-01";
    let refused = post(&state, &session, "/dashboard/alerts", form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    reads_in_chinese(&refused, "暂缓日期 2020-01-01 不晚于今天（", "is not after today");

    let body = json!({ "key": "low-stock:W/n:SKU-1", "until": "2020-01-01" });
    let (status, body) = api(&state, &session.1, "/v1/alerts/snooze", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid-snooze");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("snooze date 2020-01-01 is not after today ("), "{message}");
}

#[tokio::test]
async fn a_photo_review_without_a_reason_reads_in_chinese_and_in_english_through_the_api() {
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = hq(&state).await;
    let sofia = storage.find_user_by_username(hq.tenant_id, "sofia").await.unwrap().unwrap();
    let now = fieldsync_core::clock::now_ms();
    let position = GeoFix { latitude: 53.5, longitude: 9.9, accuracy_m: 6.0 };
    let inspection = Inspection {
        owner: sofia.id,
        store_id: DocumentId::random().to_string(),
        template_id: DocumentId::random().to_string(),
        status: InspectionStatus::CheckedOut,
        check_in: Visit { at: now - 3_600_000, position },
        check_out: Some(Visit { at: now - 3_000_000, position }),
        answers: BTreeMap::new(),
        photos: BTreeMap::new(),
        updated_at: now - 3_000_000,
        promotions_started: BTreeMap::new(),
    };
    let id = create_as_relay(storage, hq.tenant_id, &inspection).await.unwrap();
    let photo = "ab".repeat(32);
    let session = chinese(&state, "hana").await;
    let path = format!("/dashboard/inspections/{id}/photos/{photo}/review");
    let refused = post(&state, &session, &path, "decision=rejected&reason=+").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    reads_in_chinese(&refused, "请填写复核理由", "give a reason for the decision");
    assert!(storage.photo_reviews(hq.tenant_id, id.as_str()).await.unwrap().is_empty(), "nothing was written");

    let uri = format!("/v1/inspections/{id}/photos/{photo}/review");
    let (status, body) = api(&state, &session.1, &uri, json!({ "decision": "rejected", "reason": " " })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid-reason");
    assert_eq!(body["error"]["message"], "give a reason for the decision");
}

#[tokio::test]
async fn an_approval_rule_with_a_bad_value_reads_in_chinese_and_the_policy_is_not_published() {
    let (_dir, state) = relay().await;
    let tenant_id = hq(&state).await.tenant_id;
    let catalog = Catalog::with_products(BTreeMap::new(), fieldsync_core::clock::now_ms());
    create_as_relay(state.storage.as_ref(), tenant_id, &catalog).await.unwrap();
    let session = chinese(&state, "hana").await;
    let draft = r#"{"rules": {"big": {"name": "Big orders", "approvers": ["ceo"]}}}"#;
    let form = format!("action=publish&policy={}", url_encoded(draft));
    let refused = post(&state, &session, "/dashboard/policy", &form).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    reads_in_chinese(
        &refused,
        "审批规则未发布：规则 big：未知审批人 &quot;ceo&quot;：应为 manager 或 hq",
        "the policy is not published",
    );
    let current = policy::current(state.storage.as_ref(), &state.caches, tenant_id).await.unwrap();
    assert_eq!(current.version, 0, "nothing was published");

    // Checking the draft lists the same problem in Chinese.
    let form = format!("action=check&policy={}", url_encoded(draft));
    let checked = post(&state, &session, "/dashboard/policy", &form).await;
    assert_eq!(checked.status, StatusCode::BAD_REQUEST, "{}", checked.body);
    reads_in_chinese(&checked, "规则 big：未知审批人 &quot;ceo&quot;", "unknown approver");

    // Publishing is HQ's: a manager reads the 403 page's reason in Chinese.
    let manager = chinese(&state, "mia").await;
    let forbidden = post(&state, &manager, "/dashboard/policy", &form.replace("action=check", "action=publish")).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{}", forbidden.body);
    reads_in_chinese(&forbidden, "只有总部可以编辑审批规则，区域经理不可以", "only hq edits the approval policy");
}

#[test]
fn every_refusal_reads_the_same_in_english_as_the_sentence_it_replaced() {
    // Spot checks of texts no other test asserts, with their arguments as the services pass them.
    let catalog = fieldsync_server::messages::catalog();
    let text = |message: &fieldsync_core::i18n::Message| catalog.text(Language::English, message);
    let region = fieldsync_core::i18n::Message::new("refusal-region-needed")
        .part("role", fieldsync_server::messages::role(fieldsync_core::Role::Supervisor));
    assert_eq!(text(&region), "a supervisor needs a region (--region)");
    assert_eq!(catalog.text(Language::Chinese, &region), "督导必须指定区域（--region）");
    let list = fieldsync_server::messages::list(vec![
        fieldsync_core::i18n::Message::new("refusal-policy-no-name").arg("rule", "a"),
        fieldsync_core::i18n::Message::new("refusal-policy-no-approvers").arg("rule", "b"),
    ]);
    assert_eq!(
        text(&list),
        "rule a: the name is empty (reps and approvers read it); rule b: no approvers, so it never routes an order"
    );
}

/// `text` as a form value.
fn url_encoded(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => encoded.push(byte as char),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}
