//! HQ's admin pages and the services behind them: users, stores with codes and geofences, CSV
//! imports with a preview, their runs (applied in the background, followed with their progress on
//! a run page) and their history. Through the services (the checks the command line and the API
//! share) and through the relay's router (`tower::ServiceExt::oneshot`) for the pages' forms, CSRF
//! checks and refusals.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::{Method, StatusCode};
use fieldsync_core::Role;
use fieldsync_core::doc::RetailStore;
use fieldsync_server::AppState;
use fieldsync_server::Error;
use fieldsync_server::config::PasswordCost;
use fieldsync_server::dashboard::session::{SESSION_COOKIE, csrf_token};
use fieldsync_server::documents;
use fieldsync_server::error::{Refusal, RefusalKind};
use fieldsync_server::imports::Dataset;
use fieldsync_server::imports::runs::{self, RunRequest};
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::services::stores::{self, StoreForm};
use fieldsync_server::storage::queries::{self, Reach, StoreFilter};

use common::dashboard::{PASSWORD, caller, relay, send, sign_in, store_form};

async fn store_count(state: &AppState) -> u64 {
    let tenant_id = caller(state, "hana").await.tenant_id;
    let filter = StoreFilter { reach: Reach::All, text: None, region: None, active: None };
    queries::count_stores(state.storage.as_ref(), tenant_id, &filter).await.unwrap()
}

#[tokio::test]
async fn hq_creates_a_store_with_a_code_and_a_second_store_with_the_same_code_is_refused_naming_the_first() {
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = caller(&state, "hana").await;
    let id = stores::create_store_as(storage, &hq, &store_form("N-014", "C-1")).await.unwrap();
    let store: RetailStore = documents::read(storage, hq.tenant_id, &id).await.unwrap();
    assert_eq!((store.code.as_str(), store.geofence_m), ("N-014", 120.0));

    match stores::create_store_as(storage, &hq, &store_form("N-014", "C-2")).await {
        Err(error @ Error::Refused(Refusal { kind: RefusalKind::Conflict, .. })) => {
            assert_eq!(error.to_string(), "store code \"N-014\" is already used by store \"Harbour Kiosk\"");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store_count(&state).await, 1, "the refused store was not written");
    // Editing a store keeps its own code; taking another's is refused.
    let mut edited = store_form("N-014", "C-1");
    edited.name = "Harbour Kiosk West".into();
    assert!(stores::edit_store_as(storage, &hq, &id, &edited).await.unwrap());
    let other = stores::create_store_as(storage, &hq, &store_form("N-015", "C-3")).await.unwrap();
    assert!(matches!(
        stores::edit_store_as(storage, &hq, &other, &store_form("N-014", "C-3")).await,
        Err(Error::Refused(Refusal { kind: RefusalKind::Conflict, .. }))
    ));
    let unchanged: RetailStore = documents::read(storage, hq.tenant_id, &other).await.unwrap();
    assert_eq!(unchanged.code, "N-015");
}

#[tokio::test]
async fn a_bad_code_geofence_tier_or_person_is_refused_with_a_clear_error_and_writes_nothing() {
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = caller(&state, "hana").await;
    let cases: Vec<(StoreForm, &str)> = vec![
        (store_form("n 14", "C-1"), "invalid store code \"n 14\""),
        (StoreForm { latitude: 95.0, ..store_form("N-1", "C-1") }, "invalid latitude 95"),
        (StoreForm { geofence_m: 5.0, ..store_form("N-1", "C-1") }, "invalid geofence radius 5 m"),
        (StoreForm { tier: "Z".into(), ..store_form("N-1", "C-1") }, "invalid tier \"Z\""),
        (StoreForm { rep: "sofia".into(), ..store_form("N-1", "C-1") }, "rep \"sofia\" is a supervisor, not a rep"),
        (StoreForm { supervisor: "nobody".into(), ..store_form("N-1", "C-1") }, "supervisor \"nobody\" is not a user"),
    ];
    for (form, expected) in cases {
        match stores::create_store_as(storage, &hq, &form).await {
            Err(error @ Error::Refused(Refusal { kind: RefusalKind::Invalid, .. })) => {
                let reason = error.to_string();
                assert!(reason.starts_with(expected), "{reason}");
            }
            other => panic!("expected {expected}, got {other:?}"),
        }
    }
    assert_eq!(store_count(&state).await, 0);
}

#[tokio::test]
async fn only_hq_may_administer_users_stores_and_imports() {
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    for who in ["mia", "sofia"] {
        let other = caller(&state, who).await;
        assert!(matches!(
            stores::create_store_as(storage, &other, &store_form("N-1", "C-1")).await,
            Err(Error::Refused(Refusal { kind: RefusalKind::Forbidden, .. }))
        ));
        let account = NewAccount {
            tenant: "acme",
            username: "eve",
            display_name: "",
            password: PASSWORD,
            role: Role::Hq,
            region: None,
        };
        let created = accounts::create_user_as(storage, PasswordCost::insecure_for_tests(), &other, account).await;
        assert!(matches!(created, Err(Error::Refused(Refusal { kind: RefusalKind::Forbidden, .. }))), "{created:?}");
        assert!(matches!(
            accounts::enable_user_as(storage, &other, "ravi").await,
            Err(Error::Refused(Refusal { kind: RefusalKind::Forbidden, .. }))
        ));
        assert!(matches!(
            runs::history_as(storage, &other).await,
            Err(Error::Refused(Refusal { kind: RefusalKind::Forbidden, .. }))
        ));
    }
    assert_eq!(store_count(&state).await, 0);
    let tenant_id = caller(&state, "hana").await.tenant_id;
    assert!(storage.find_user_by_username(tenant_id, "eve").await.unwrap().is_none());
}

#[tokio::test]
async fn hq_cannot_change_its_own_role_and_a_role_change_is_checked_with_its_region() {
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = caller(&state, "hana").await;
    let demote = accounts::UserUpdate { role: Role::Manager, region: Some("north"), display_name: "" };
    assert!(matches!(
        accounts::update_user_as(storage, &hq, "hana", demote).await,
        Err(Error::Refused(Refusal { kind: RefusalKind::Conflict, .. }))
    ));
    let no_region = accounts::UserUpdate { role: Role::Manager, region: None, display_name: "Ravi" };
    assert!(matches!(
        accounts::update_user_as(storage, &hq, "ravi", no_region).await,
        Err(Error::Refused(Refusal { kind: RefusalKind::Invalid, .. }))
    ));
    let promote = accounts::UserUpdate { role: Role::Manager, region: Some("south"), display_name: "Ravi R." };
    accounts::update_user_as(storage, &hq, "ravi", promote).await.unwrap();
    let ravi = storage.find_user_by_username(hq.tenant_id, "ravi").await.unwrap().unwrap();
    assert_eq!(
        (ravi.role, ravi.region.as_deref(), ravi.display_name.as_str()),
        (Role::Manager, Some("south"), "Ravi R.")
    );
}

const STORE_HEADER: &str = "name,address,customer_id,region,tier,latitude,longitude,rep,supervisor";

#[tokio::test]
async fn a_previewed_file_with_a_bad_line_names_it_and_writes_nothing_and_an_applied_one_is_in_the_history() {
    let (dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = caller(&state, "hana").await;
    let path = dir.path().join("stores.csv");
    let good = "Corner Shop,1 Main St,C-1001,north,A,52.37,4.89,ravi,sofia";
    std::fs::write(&path, format!("{STORE_HEADER}\n{good}\nBad Shop,2 Elm Rd,C-1002,north,Z,52.36,4.90,ravi,sofia\n"))
        .unwrap();
    let request = RunRequest { dataset: Dataset::Stores, path: &path, file_name: "stores.csv" };
    match runs::preview_as(storage, &state.caches, &hq, request).await {
        Err(Error::InvalidImport(refusal)) => {
            assert_eq!(refusal.count, 1);
            assert_eq!(refusal.lines[0].0, 3, "{refusal:?}");
            assert!(refusal.to_string().contains("line 3: tier \"Z\""), "{refusal}");
        }
        other => panic!("expected the bad line, got {other:?}"),
    }
    // The import refuses it the same way, and records the refusal.
    assert!(matches!(
        runs::apply_as(storage, &state.caches, &state.import_runs, &hq, request).await,
        Err(Error::InvalidImport(_))
    ));
    assert_eq!(store_count(&state).await, 0, "nothing was written");

    std::fs::write(&path, format!("{STORE_HEADER}\n{good}\n")).unwrap();
    let preview = runs::preview_as(storage, &state.caches, &hq, request).await.unwrap();
    assert_eq!((preview.rows, preview.created), (1, 0));
    assert_eq!(store_count(&state).await, 0, "a clean preview writes nothing either");
    let applied = runs::apply_as(storage, &state.caches, &state.import_runs, &hq, request).await.unwrap();
    assert_eq!(applied.created, 1);
    assert_eq!(store_count(&state).await, 1);

    let history = runs::history_as(storage, &hq).await.unwrap();
    let outcomes: Vec<(&str, &str, i64, &str)> =
        history.iter().map(|r| (r.actor.as_str(), r.dataset.as_str(), r.rows, r.outcome.as_str())).collect();
    assert_eq!(outcomes, [("hana", "stores", 1, "applied"), ("hana", "stores", 0, "refused")]);
    assert!(history[1].detail.contains("line 3"), "{}", history[1].detail);
}

// ---------------------------------------------------------------------------------------------
// Through the router

async fn session(state: &AppState, username: &str) -> String {
    let reply = sign_in(state, username, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply
        .cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")))
        .map(|rest| rest.split(';').next().unwrap().to_owned())
        .unwrap()
}

#[tokio::test]
async fn a_user_created_on_the_users_page_signs_in_and_once_disabled_cannot() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let csrf = csrf_token(&token);
    let form =
        format!("csrf={csrf}&username=nina&display_name=Nina+N.&role=supervisor&region=north&password=nina-password-1");
    let created = send(&state, Method::POST, "/dashboard/admin/users", Some(&cookie), Some(&form)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.body.contains("Created user nina (supervisor)."));
    assert_eq!(sign_in(&state, "nina", "nina-password-1").await.status, StatusCode::SEE_OTHER);

    // Without the form's token nothing happens.
    let forged = send(&state, Method::POST, "/dashboard/admin/users/nina", Some(&cookie), Some("action=disable")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(sign_in(&state, "nina", "nina-password-1").await.status, StatusCode::SEE_OTHER);

    let disable = format!("csrf={csrf}&action=disable");
    let disabled = send(&state, Method::POST, "/dashboard/admin/users/nina", Some(&cookie), Some(&disable)).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert_ne!(sign_in(&state, "nina", "nina-password-1").await.status, StatusCode::SEE_OTHER);
    let enable = format!("csrf={csrf}&action=enable");
    send(&state, Method::POST, "/dashboard/admin/users/nina", Some(&cookie), Some(&enable)).await;
    assert_eq!(sign_in(&state, "nina", "nina-password-1").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_manager_is_refused_the_admin_pages_with_a_403_in_the_dashboards_frame() {
    let (_dir, state) = relay().await;
    let token = session(&state, "mia").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    for path in
        ["/dashboard/admin/users", "/dashboard/admin/stores", "/dashboard/admin/stores/new", "/dashboard/admin/imports"]
    {
        let reply = send(&state, Method::GET, path, Some(&cookie), None).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert!(reply.body.contains("the admin pages are for HQ; a manager cannot open this page"), "{path}");
        // The frame: the manager's navigation and logout form.
        assert!(reply.body.contains("href=\"/dashboard/orders\"") && reply.body.contains("Log out"), "{path}");
        assert!(!reply.body.contains("href=\"/dashboard/admin/users\""), "{path}: no admin link for a manager");
    }
    let csrf = csrf_token(&token);
    let form = format!("csrf={csrf}&username=eve&role=hq&password=eve-password-1");
    let reply = send(&state, Method::POST, "/dashboard/admin/users", Some(&cookie), Some(&form)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let tenant_id = caller(&state, "hana").await.tenant_id;
    assert!(state.storage.find_user_by_username(tenant_id, "eve").await.unwrap().is_none());
}

#[tokio::test]
async fn the_stores_admin_form_refuses_a_duplicate_code_on_the_page_and_the_store_shows_with_its_code() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let csrf = csrf_token(&token);
    let form = |code: &str, customer: &str| {
        format!(
            "csrf={csrf}&name=Harbour+Kiosk&code={code}&address=Kehrwieder+1&customer_id={customer}&region=north&tier=B\
             &latitude=53.543&longitude=9.988&geofence_m=&rep=ravi&supervisor=sofia"
        )
    };
    let created =
        send(&state, Method::POST, "/dashboard/admin/stores", Some(&cookie), Some(&form("N-014", "C-1"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.body.contains("<span class=\"code\">N-014</span>"), "{}", created.body);
    let again = send(&state, Method::POST, "/dashboard/admin/stores", Some(&cookie), Some(&form("N-014", "C-2"))).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("store code &quot;N-014&quot; is already used"), "{}", again.body);
    let bad = send(
        &state,
        Method::POST,
        "/dashboard/admin/stores",
        Some(&cookie),
        Some(&form("N-015", "C-3").replace("latitude=53.543", "latitude=north")),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("invalid latitude &quot;north&quot;: expected a number"), "{}", bad.body);
    assert_eq!(store_count(&state).await, 1);

    let search = send(&state, Method::GET, "/dashboard/admin/stores?q=n-014", Some(&cookie), None).await;
    assert!(search.body.contains("1 store"), "{}", search.body);
    let orders = send(&state, Method::GET, "/dashboard/orders", Some(&cookie), None).await;
    assert!(orders.body.contains("Harbour Kiosk (N-014) · north"), "the store filter names the code");
}

#[tokio::test]
async fn a_failure_behind_a_page_shows_a_500_in_the_frame_without_the_cause() {
    let (dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    // Break the storage under the imports page's history.
    let database = dir.path().join("data").join(fieldsync_server::config::DATABASE_FILE);
    rusqlite::Connection::open(&database).unwrap().execute_batch("DROP TABLE import_runs").unwrap();
    let reply = send(&state, Method::GET, "/dashboard/admin/imports", Some(&cookie), None).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.body.contains("Something went wrong"), "{}", reply.body);
    assert!(reply.body.contains("internal error; the relay log has the details"), "{}", reply.body);
    assert!(reply.body.contains("href=\"/dashboard/admin/users\"") && reply.body.contains("Log out"), "in the frame");
    for internal in ["import_runs", "no such table", "storage error", "SELECT"] {
        assert!(!reply.body.contains(internal), "the page leaks {internal:?}: {}", reply.body);
    }
}

#[tokio::test]
async fn a_template_edit_keeps_the_ids_of_unchanged_questions_and_bumps_the_version_and_only_hq_may_edit() {
    use fieldsync_core::doc::Template;
    use fieldsync_server::services::templates::{self, ItemForm, TemplateForm};
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = caller(&state, "hana").await;
    let item = |text: &str| ItemForm { text: text.into(), weight: 1.0, requires_photo: false };
    let form = TemplateForm { name: "Shelf".into(), items: vec![item("Shelf full?"), item("Prices shown?")] };
    let id = templates::create_template_as(storage, &hq, &form).await.unwrap();
    let before: Template = documents::read(storage, hq.tenant_id, &id).await.unwrap();
    let kept = before.items.iter().find(|(_, i)| i.text == "Prices shown?").map(|(id, _)| id.clone()).unwrap();

    let edited = TemplateForm { name: "Shelf".into(), items: vec![item("Prices shown?"), item("Floor clean?")] };
    assert!(templates::edit_template_as(storage, &hq, &id, &edited).await.unwrap());
    let after: Template = documents::read(storage, hq.tenant_id, &id).await.unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.items[&kept].text, "Prices shown?");
    assert_eq!(after.items.len(), 2);
    assert!(!templates::edit_template_as(storage, &hq, &id, &edited).await.unwrap(), "the same form changes nothing");

    let manager = caller(&state, "mia").await;
    assert!(matches!(
        templates::edit_template_as(storage, &manager, &id, &form).await,
        Err(Error::Refused(Refusal { kind: RefusalKind::Forbidden, .. }))
    ));
    let bad = TemplateForm { name: "Shelf".into(), items: vec![ItemForm { weight: -1.0, ..item("Shelf full?") }] };
    assert!(matches!(
        templates::edit_template_as(storage, &hq, &id, &bad).await,
        Err(Error::Refused(Refusal { kind: RefusalKind::Invalid, .. }))
    ));
    let unchanged: Template = documents::read(storage, hq.tenant_id, &id).await.unwrap();
    assert_eq!(unchanged, after, "a refused edit writes nothing");
    let listed = templates::list_as(storage, &hq).await.unwrap();
    assert_eq!(listed.iter().map(|(_, t)| t.name.as_str()).collect::<Vec<_>>(), ["Shelf"]);
}

#[tokio::test]
async fn the_devices_page_searches_users_and_counts_them() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let all = send(&state, Method::GET, "/dashboard/devices", Some(&cookie), None).await;
    assert!(all.body.contains("4 users"), "{}", all.body);
    let found = send(&state, Method::GET, "/dashboard/devices?q=RAV", Some(&cookie), None).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains("data-user=\"ravi\""), "{}", found.body);
    assert!(!found.body.contains("data-user=\"sofia\""), "{}", found.body);
    assert!(found.body.contains("1 user"), "{}", found.body);
    // The browser a session registered is a device: searching its name finds its user.
    let by_device = send(&state, Method::GET, "/dashboard/devices?q=dashboard", Some(&cookie), None).await;
    assert!(by_device.body.contains("data-user=\"hana\""), "{}", by_device.body);
}

#[tokio::test]
async fn an_import_form_above_the_pages_limit_is_refused_saying_so_and_writes_nothing() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let csrf = csrf_token(&token);
    let big = "a".repeat(fieldsync_server::dashboard::pages::FORM_LIMIT + 1);
    let form = format!("csrf={csrf}&dataset=stores&csv={big}");
    let reply = send(&state, Method::POST, "/dashboard/admin/imports/preview", Some(&cookie), Some(&form)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("the file is larger than the page takes (8 MiB)"), "{}", reply.body);
    assert_eq!(store_count(&state).await, 0);
}

#[tokio::test]
async fn editing_an_unknown_store_or_another_kind_of_document_as_a_store_is_not_found() {
    use fieldsync_server::services::templates::{self, ItemForm, TemplateForm};
    let (_dir, state) = relay().await;
    let hq = caller(&state, "hana").await;
    let item = ItemForm { text: "Shelf full?".into(), weight: 1.0, requires_photo: false };
    let form = TemplateForm { name: "Shelf".into(), items: vec![item] };
    let template = templates::create_template_as(state.storage.as_ref(), &hq, &form).await.unwrap();
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    for id in [template.to_string(), fieldsync_core::DocumentId::random().to_string(), "not-an-id".to_owned()] {
        let reply = send(&state, Method::GET, &format!("/dashboard/admin/stores/{id}"), Some(&cookie), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{id}: {}", reply.body);
    }
}

// ---------------------------------------------------------------------------------------------
// Import runs: applied in the background, followed on their own page

/// The value of the hidden `digest` field of a clean preview's apply form.
fn digest_of(preview: &str) -> String {
    let start = preview.find("name=\"digest\" value=\"").expect("a clean preview offers apply") + 21;
    preview[start..].chars().take_while(|c| *c != '"').collect()
}

/// The apply form of `csv` as the page sends it, with the digest of a preview (of `previewed`).
fn apply_form(csrf: &str, dataset: &str, file_name: &str, csv: &str, digest: &str) -> String {
    use fieldsync_server::dashboard::html::url_param;
    format!("csrf={csrf}&dataset={dataset}&file_name={}&csv={}&digest={digest}", url_param(file_name), url_param(csv))
}

/// Previews `csv` through the page; the digest its apply form carries.
async fn preview(state: &AppState, cookie: &str, csrf: &str, dataset: &str, csv: &str) -> String {
    let form = apply_form(csrf, dataset, "", csv, "");
    let reply = send(state, Method::POST, "/dashboard/admin/imports/preview", Some(cookie), Some(&form)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    digest_of(&reply.body)
}

/// Follows a run's progress endpoint until the run has ended (the import runs on its own task);
/// every answer seen, the last one first.
async fn follow(state: &AppState, cookie: &str, run_page: &str) -> Vec<serde_json::Value> {
    let mut seen = Vec::new();
    // Not a time limit on the import: only a guard against a test that would hang forever.
    for _ in 0..60_000 {
        let reply = send(state, Method::GET, &format!("{run_page}/progress"), Some(cookie), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let progress: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let ended = progress["ended"].as_bool().unwrap();
        seen.insert(0, progress);
        if ended {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the run never ended: {seen:?}");
}

/// Previews and applies `csv` through the page: the run page the apply redirected to, and the
/// progress answers seen until the run ended.
async fn apply_through_the_page(
    state: &AppState,
    cookie: &str,
    csrf: &str,
    dataset: &str,
    file_name: &str,
    csv: &str,
) -> (String, Vec<serde_json::Value>) {
    let digest = preview(state, cookie, csrf, dataset, csv).await;
    let form = apply_form(csrf, dataset, file_name, csv, &digest);
    let reply = send(state, Method::POST, "/dashboard/admin/imports/apply", Some(cookie), Some(&form)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let run_page = reply.location.unwrap();
    assert!(run_page.starts_with("/dashboard/admin/imports/runs/"), "{run_page}");
    let seen = follow(state, cookie, &run_page).await;
    (run_page, seen)
}

fn run_id_of(run_page: &str) -> i64 {
    run_page.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn applying_a_clean_file_answers_303_to_its_run_page_which_ends_applied_with_the_counts_and_is_in_the_history() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let csrf = csrf_token(&token);
    let csv = format!("{STORE_HEADER}\nCorner Shop,\"1 Main St, Springfield\",C-1001,north,A,52.37,4.89,ravi,sofia\n");

    let (run_page, seen) = apply_through_the_page(&state, &cookie, &csrf, "stores", "stores.csv", &csv).await;
    assert_eq!(seen[0]["state"], "applied", "{seen:?}");
    assert_eq!(store_count(&state).await, 1, "the data is written");

    let page = send(&state, Method::GET, &run_page, Some(&cookie), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"import-result\""), "{}", page.body);
    assert!(
        page.body.contains("imported 1 stores row(s): 1 document(s) created, 0 updated, 0 unchanged."),
        "{}",
        page.body
    );
    assert!(page.body.contains("stores.csv") && page.body.contains("hana"), "{}", page.body);
    assert!(!page.body.contains("id=\"import-running\""), "an ended run is not followed");

    let id = run_id_of(&run_page);
    let history = send(&state, Method::GET, "/dashboard/admin/imports", Some(&cookie), None).await;
    assert!(history.body.contains(&format!("<tr data-run=\"{id}\" data-state=\"applied\">")), "{}", history.body);
    assert!(history.body.contains(&format!("href=\"{run_page}\"")), "the history links the run: {}", history.body);
}

#[tokio::test]
async fn a_run_still_running_shows_its_progress_and_one_whose_row_went_quiet_for_minutes_reads_as_interrupted() {
    use fieldsync_server::storage::{ImportProgress, NewImportRun};
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = caller(&state, "hana").await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    // A run whose relay stopped while it was checking its file: started, some progress, no end.
    let run = NewImportRun { actor: "hana".into(), dataset: "sales".into(), file_name: "big.csv".into(), at: 1 };
    let id = storage.start_import_run(hq.tenant_id, run).await.unwrap();
    let progress = ImportProgress {
        phase: "checking".into(),
        bytes_read: 3_100_000,
        bytes_total: 8_000_000,
        rows_checked: 12_000,
        ..ImportProgress::default()
    };
    assert!(storage.update_import_run(hq.tenant_id, id, progress, fieldsync_core::clock::now_ms()).await.unwrap());

    let run_page = format!("/dashboard/admin/imports/runs/{id}");
    let page = send(&state, Method::GET, &run_page, Some(&cookie), None).await;
    assert!(page.body.contains("checking: 12,000 rows, 3.1 of 8.0 MB"), "{}", page.body);
    assert!(page.body.contains("<progress id=\"import-progress\" max=\"8000000\" value=\"3100000\">"), "{}", page.body);
    assert!(page.body.contains(&format!("data-progress-url=\"{run_page}/progress\"")), "{}", page.body);
    assert!(page.body.contains("<noscript><meta http-equiv=\"refresh\" content=\"3\"></noscript>"), "{}", page.body);
    let json = send(&state, Method::GET, &format!("{run_page}/progress"), Some(&cookie), None).await;
    let json: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!((json["state"].as_str(), json["ended"].as_bool()), (Some("running"), Some(false)));
    assert_eq!((json["value"].as_i64(), json["max"].as_i64()), (Some(3_100_000), Some(8_000_000)));
    let history = send(&state, Method::GET, "/dashboard/admin/imports", Some(&cookie), None).await;
    assert!(history.body.contains(&format!("<tr data-run=\"{id}\" data-state=\"running\">")), "{}", history.body);

    // Three minutes later, nothing has been heard of it.
    state.clock.advance(3 * 60_000);
    let page = send(&state, Method::GET, &run_page, Some(&cookie), None).await;
    assert!(page.body.contains("id=\"import-interrupted\""), "{}", page.body);
    assert!(!page.body.contains("id=\"import-running\""), "{}", page.body);
    let json = send(&state, Method::GET, &format!("{run_page}/progress"), Some(&cookie), None).await;
    let json: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!((json["state"].as_str(), json["ended"].as_bool()), (Some("interrupted"), Some(true)));
    let history = send(&state, Method::GET, "/dashboard/admin/imports", Some(&cookie), None).await;
    assert!(history.body.contains(&format!("<tr data-run=\"{id}\" data-state=\"interrupted\">")), "{}", history.body);
}

#[tokio::test]
async fn a_refused_run_shows_its_bad_lines_on_its_page() {
    use fieldsync_server::imports::runs::StartedRun;
    let (dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = caller(&state, "hana").await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    // A file with a bad line, applied at the runs layer as the API applies it.
    let path = dir.path().join("stores.csv");
    std::fs::write(&path, format!("{STORE_HEADER}\nBad Shop,2 Elm Rd,C-1002,north,Z,52.36,4.90,ravi,sofia\n")).unwrap();
    let request = RunRequest { dataset: Dataset::Stores, path: &path, file_name: "stores.csv" };
    let run: StartedRun = runs::start_as(storage, &hq, request).await.unwrap();
    let outcome = runs::apply_started(storage, &state.caches, &state.import_runs, run, &path).await;
    assert!(matches!(outcome, Err(Error::InvalidImport(_))), "{outcome:?}");
    let page =
        send(&state, Method::GET, &format!("/dashboard/admin/imports/runs/{}", run.id), Some(&cookie), None).await;
    assert!(page.body.contains("id=\"import-refused\""), "{}", page.body);
    assert!(page.body.contains("<tr data-line=\"2\">"), "{}", page.body);
    assert!(page.body.contains("tier &quot;Z&quot; must be one of A, B, C"), "{}", page.body);
    assert_eq!(store_count(&state).await, 0);
}

#[tokio::test]
async fn a_run_of_another_tenant_or_a_bad_run_id_is_not_found_and_a_manager_is_refused_runs_and_apply() {
    use fieldsync_server::storage::NewImportRun;
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let globex = accounts::create_tenant(storage, "globex").await.unwrap();
    let run = NewImportRun { actor: "gina".into(), dataset: "stores".into(), file_name: "theirs.csv".into(), at: 1 };
    let theirs = storage.start_import_run(globex.id, run).await.unwrap();

    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    for path in [
        format!("/dashboard/admin/imports/runs/{theirs}"),
        format!("/dashboard/admin/imports/runs/{theirs}/progress"),
        "/dashboard/admin/imports/runs/not-a-number".to_owned(),
        "/dashboard/admin/imports/runs/not-a-number/progress".to_owned(),
        "/dashboard/admin/imports/runs/99999".to_owned(),
    ] {
        let reply = send(&state, Method::GET, &path, Some(&cookie), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}: {}", reply.body);
        assert!(reply.body.contains("import run") && reply.body.contains("not found"), "{path}: {}", reply.body);
        assert!(reply.body.contains("Log out"), "{path}: the 404 page is in the frame");
        assert!(!reply.body.contains("theirs.csv"), "{path}");
    }

    let manager = session(&state, "mia").await;
    let manager_cookie = format!("{SESSION_COOKIE}={manager}");
    let hq = caller(&state, "hana").await;
    let run = NewImportRun { actor: "hana".into(), dataset: "stores".into(), file_name: "ours.csv".into(), at: 1 };
    let ours = storage.start_import_run(hq.tenant_id, run).await.unwrap();
    for path in
        [format!("/dashboard/admin/imports/runs/{ours}"), format!("/dashboard/admin/imports/runs/{ours}/progress")]
    {
        let reply = send(&state, Method::GET, &path, Some(&manager_cookie), None).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}: {}", reply.body);
        assert!(!reply.body.contains("ours.csv"), "{path}");
    }
    let csv = format!("{STORE_HEADER}\nCorner Shop,1 Main St,C-1001,north,A,52.37,4.89,ravi,sofia\n");
    let form = apply_form(&csrf_token(&manager), "stores", "", &csv, "0");
    let reply = send(&state, Method::POST, "/dashboard/admin/imports/apply", Some(&manager_cookie), Some(&form)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(store_count(&state).await, 0);
    let history = storage.import_runs(hq.tenant_id, 10).await.unwrap();
    assert_eq!(history.iter().map(|r| r.id).collect::<Vec<_>>(), [ours], "no run was started");
}

#[tokio::test]
async fn a_file_changed_between_preview_and_apply_is_refused_and_starts_no_run() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let csrf = csrf_token(&token);
    let previewed = format!("{STORE_HEADER}\nCorner Shop,1 Main St,C-1001,north,A,52.37,4.89,ravi,sofia\n");
    let digest = preview(&state, &cookie, &csrf, "stores", &previewed).await;
    let changed = previewed.replace("Corner Shop", "Other Shop");
    let form = apply_form(&csrf, "stores", "stores.csv", &changed, &digest);
    let reply = send(&state, Method::POST, "/dashboard/admin/imports/apply", Some(&cookie), Some(&form)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("this file was not previewed (or changed since)"), "{}", reply.body);
    assert_eq!(store_count(&state).await, 0);
    let tenant_id = caller(&state, "hana").await.tenant_id;
    assert!(state.storage.import_runs(tenant_id, 10).await.unwrap().is_empty(), "no run was started");
}

// ---------------------------------------------------------------------------------------------
// Import runs: recorded from their start, with their progress

const PRODUCT_HEADER: &str = "sku,name,category,unit,base_price,active";

/// 250 products, one store, and 25,000 sales rows (each product on 100 days): enough rows to
/// report progress (`PROGRESS_EVERY_ROWS`) in both passes.
fn big_sales_files() -> (String, String, String) {
    let skus: Vec<String> = (0..250).map(|n| format!("SKU-{n:03}")).collect();
    let mut products = format!("{PRODUCT_HEADER}\n");
    for sku in &skus {
        products.push_str(&format!("{sku},Product {sku},drinks,case,1.00,true\n"));
    }
    let stores = format!("{STORE_HEADER}\nCorner Shop,1 Main St,C-1,north,A,52.37,4.89,ravi,sofia\n");
    let mut days = Vec::new();
    for (month, length) in [(1, 31), (2, 28), (3, 31), (4, 30)] {
        days.extend((1..=length).map(|day| format!("2026-{month:02}-{day:02}")));
    }
    let mut sales = String::from("day,customer_id,sku,units,amount\n");
    for day in &days[..100] {
        for sku in &skus {
            sales.push_str(&format!("{day},C-1,{sku},2,2.00\n"));
        }
    }
    (products, stores, sales)
}

#[tokio::test]
async fn the_progress_of_a_run_is_stored_at_each_new_phase_and_within_a_phase_at_most_once_a_second() {
    use fieldsync_server::imports::runs::{HEARTBEAT, PROGRESS_WRITE_EVERY, ProgressLog, fold};
    use fieldsync_server::imports::{self, Progress, ProgressFn};
    use fieldsync_server::storage::ImportProgress;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let (dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = caller(&state, "hana").await;
    let (products, stores, sales) = big_sales_files();
    for (dataset, csv) in [(Dataset::Products, &products), (Dataset::Stores, &stores)] {
        let path = dir.path().join(format!("{dataset}.csv"));
        std::fs::write(&path, csv).unwrap();
        let request = RunRequest { dataset, path: &path, file_name: "" };
        runs::apply_as(storage, &state.caches, &state.import_runs, &hq, request).await.unwrap();
    }
    // The reports a real 25,000-row file gives, in order.
    let path = dir.path().join("sales.csv");
    std::fs::write(&path, &sales).unwrap();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink: ProgressFn = {
        let reports = reports.clone();
        Arc::new(move |report: Progress| reports.lock().unwrap().push(report))
    };
    imports::import_file(storage, &state.caches, hq.tenant_id, Dataset::Sales, &path, sink).await.unwrap();
    let reports = reports.lock().unwrap().clone();

    // Fed to a run's log a quarter of a second apart.
    let request = RunRequest { dataset: Dataset::Sales, path: &path, file_name: "sales.csv" };
    let run = runs::start_as(storage, &hq, request).await.unwrap();
    let start = Instant::now();
    let mut log = ProgressLog::new(run, start);
    let mut progress = ImportProgress::default();
    let mut stored_phases: Vec<String> = Vec::new();
    let mut now = start;
    for report in &reports {
        now += Duration::from_millis(250);
        fold(&mut progress, *report);
        let phase_changed = stored_phases.last() != Some(&progress.phase);
        let stored = log.report(storage, progress.clone(), now).await.unwrap();
        let row = storage.import_run(hq.tenant_id, run.id).await.unwrap().unwrap();
        if stored {
            assert_eq!(row.progress, progress, "{report:?}");
            stored_phases.push(progress.phase.clone());
        } else {
            assert!(!phase_changed, "a new phase is stored at once: {report:?}");
            assert_ne!(row.progress, progress, "within a second, {report:?} waits");
        }
    }
    assert!(
        stored_phases.len() < reports.len(),
        "throttled: {} of {} reports stored",
        stored_phases.len(),
        reports.len()
    );
    stored_phases.dedup();
    assert_eq!(stored_phases, ["checking", "writing"]);

    // What the last reports left unsaved is stored a second after the last write; then the row is
    // written again once a heartbeat has passed.
    let unsaved = log.next_due(now);
    assert!(unsaved <= PROGRESS_WRITE_EVERY);
    assert!(log.tick(storage, now + unsaved).await.unwrap());
    let row = storage.import_run(hq.tenant_id, run.id).await.unwrap().unwrap();
    assert_eq!(row.progress, progress);
    assert_eq!((row.progress.written, row.progress.write_total), (25_000, 25_000));
    let later = now + unsaved;
    assert!(!log.tick(storage, later + HEARTBEAT - Duration::from_millis(1)).await.unwrap());
    let before = row.updated_at;
    assert!(log.tick(storage, later + HEARTBEAT).await.unwrap());
    let touched = storage.import_run(hq.tenant_id, run.id).await.unwrap().unwrap();
    assert!(touched.updated_at >= before && touched.outcome == "running");
}

#[tokio::test]
async fn a_large_sales_file_applied_through_the_page_leaves_its_totals_in_the_runs_progress() {
    let (_dir, state) = relay().await;
    let token = session(&state, "hana").await;
    let cookie = format!("{SESSION_COOKIE}={token}");
    let csrf = csrf_token(&token);
    let (products, stores, sales) = big_sales_files();
    for (dataset, csv) in [("products", &products), ("stores", &stores)] {
        let (_, seen) = apply_through_the_page(&state, &cookie, &csrf, dataset, "", csv).await;
        assert_eq!(seen[0]["state"], "applied", "{dataset}: {seen:?}");
    }

    let (run_page, seen) = apply_through_the_page(&state, &cookie, &csrf, "sales", "sales.csv", &sales).await;
    assert_eq!(seen[0]["state"], "applied", "{seen:?}");
    // Whatever the polls caught while it ran was a phase of the import, never a step back.
    for running in seen.iter().filter(|p| p["state"] == "running") {
        let text = running["text"].as_str().unwrap();
        assert!(["starting", "checking: ", "writing: "].iter().any(|p| text.starts_with(p)), "{text}");
        assert!(running["value"].as_i64() <= running["max"].as_i64(), "{running}");
    }
    let tenant_id = caller(&state, "hana").await.tenant_id;
    let run = state.storage.import_run(tenant_id, run_id_of(&run_page)).await.unwrap().unwrap();
    assert_eq!((run.outcome.as_str(), run.rows), ("applied", 25_000));
    let size = i64::try_from(sales.len()).unwrap();
    assert_eq!(
        (run.progress.phase.as_str(), run.progress.bytes_read, run.progress.bytes_total),
        ("writing", size, size),
        "the file was read to its end in the writing pass"
    );
    assert_eq!((run.progress.rows_checked, run.progress.written, run.progress.write_total), (25_000, 25_000, 25_000));
    assert_eq!(run.counts.map(|c| (c.created, c.updated, c.unchanged)), Some((25_000, 0, 0)));
    assert_eq!(state.storage.daily_sales_since(tenant_id, "0000-00-00").await.unwrap().len(), 25_000);
    let page = send(&state, Method::GET, &run_page, Some(&cookie), None).await;
    assert!(page.body.contains("imported 25000 sales row(s): 25000 row(s) created"), "{}", page.body);
}
