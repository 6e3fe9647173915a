//! The HQ dashboard in a real headless Chromium: the north manager logs in, sees an order that
//! needs their approval appear without a reload as a phone syncs it, approves it with a click,
//! and the rep's phone then syncs and holds the approval; they open an inspection with its photos
//! and score, the charts and the stores page; HQ sees every region's stores; a supervisor is
//! refused the HQ pages and the approval; HQ acknowledges and snoozes an alert, and every main
//! page is checked at 390 px (no page wider than the screen, readable chart labels, the 404 page
//! in the frame). HQ then switches to Simplified Chinese with the header's language picker, every
//! main page reads in Chinese (headings, navigation, `<html lang="zh-CN">`, nothing wider than the
//! screen) and back. Screenshots of each page, at 1280 px and at 390 px (`phone-*.png`; in
//! Chinese `zh-*.png` and `zh-phone-*.png`), land in `target/browser-artifacts/`.
//!
//! Needs Debian's `/usr/bin/chromium` and `tests/browser/node_modules` (`scripts/test-browser`
//! installs both). Without them the test fails, unless `FIELDSYNC_SKIP_BROWSER=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fieldsync_core::Role;
use fieldsync_core::doc::{AnswerValue, GeoFix, ReviewOutcome, StepState};
use fieldsync_core::local_store::{CheckIn, LineInput, NewOrder, PhotoCapture};
use fieldsync_mobile_demo::shelf::{Stock, shelf_photo};
use fieldsync_tests::{Phone, Relay};

/// The whole browser run may take this long on a loaded 2-core machine.
const BROWSER_DEADLINE: Duration = Duration::from_secs(300);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn chromium() -> PathBuf {
    std::env::var_os("FIELDSYNC_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// `None` when everything the browser test needs is installed, else what is missing.
fn missing_tools() -> Option<String> {
    let browser_dir = workspace().join("tests/browser");
    if !chromium().exists() {
        return Some(format!("{} is missing (apt-get install chromium chromium-driver)", chromium().display()));
    }
    if !browser_dir.join("node_modules/playwright-core").exists() {
        return Some(format!("{}/node_modules is missing (npm ci in tests/browser)", browser_dir.display()));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is missing".into());
    }
    None
}

fn submit_order(phone: &Phone, qty: i64) -> fieldsync_core::DocumentId {
    let (store_id, _) = phone.store.stores().unwrap().into_iter().next().expect("the rep has stores");
    let catalog = phone.store.catalog().unwrap();
    let (sku, product) = catalog.products.iter().find(|(_, p)| p.active).unwrap();
    let line = LineInput { sku: sku.clone(), qty, unit_price_cents: product.base_price_cents, discount_bp: 0 };
    let id = phone
        .store
        .create_order(NewOrder { store_id: store_id.to_string(), lines: vec![line], notes: "<b>ring twice</b>".into() })
        .unwrap();
    phone.store.submit_order(&id).unwrap();
    id
}

/// An order at list price that the demo policy routes to the region's manager: 450.00 or more
/// (`large-order`) and under 2,000.00 (which would add an HQ step), of the product with the most
/// stock in the rep's region, so the stock check passes.
fn submit_order_needing_approval(phone: &Phone) -> fieldsync_core::DocumentId {
    let (store_id, store) = phone.store.stores().unwrap().into_iter().next().expect("the rep has stores");
    let catalog = phone.store.catalog().unwrap();
    let inventories = phone.store.inventories().unwrap();
    let inventory = &inventories.iter().find(|(_, i)| i.region == store.region).expect("region stock").1;
    let sku = catalog
        .products
        .iter()
        .filter(|(_, p)| p.active)
        .max_by_key(|(sku, _)| inventory.levels.get(*sku).map_or(0, |l| l.available()))
        .map(|(sku, _)| sku.clone())
        .unwrap();
    let probe = LineInput { sku: sku.clone(), qty: 1, unit_price_cents: 0, discount_bp: 0 };
    let preview = phone.store.price_preview(store_id.as_str(), &[probe]).unwrap();
    let list = preview.lines[0].list_price.as_ref().expect("a list price").unit_price_cents;
    let qty = (45_000 + list - 1) / list;
    assert!(qty * list < 200_000, "the order must stay under the HQ threshold");
    let line = LineInput { sku, qty, unit_price_cents: list, discount_bp: 0 };
    let id = phone
        .store
        .create_order(NewOrder { store_id: store_id.to_string(), lines: vec![line], notes: String::new() })
        .unwrap();
    phone.store.submit_order(&id).unwrap();
    id
}

/// A supervisor's checked-out inspection with two photos, synced (photos uploaded).
fn synced_inspection(supervisor: &Phone) -> fieldsync_core::DocumentId {
    let stores = supervisor.store.stores().unwrap();
    let (store_id, store) = stores.first().expect("the supervisor has stores");
    let mut templates = supervisor.store.templates().unwrap();
    templates.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    let (template_id, template) = templates.first().expect("templates");
    let at = fieldsync_core::clock::now_ms() - 20 * 60_000;
    let position = GeoFix { latitude: store.latitude, longitude: store.longitude, accuracy_m: 7.0 };
    let id = supervisor
        .store
        .check_in(CheckIn { store_id: store_id.to_string(), template_id: template_id.to_string(), at, position })
        .unwrap();
    let items = template.items_in_order();
    for (n, (item_id, _)) in items.iter().enumerate() {
        let value = if n % 3 == 1 { AnswerValue::No } else { AnswerValue::Yes };
        supervisor.store.answer(&id, item_id, value, None, "checked").unwrap();
    }
    // The demo's generated shelf photos: a full shelf and one with a gap.
    for (n, stock) in [Stock::Full, Stock::Gap].into_iter().enumerate() {
        let (item_id, _) = items[n % items.len()];
        let capture = PhotoCapture { captured_at: at + (n as i64 + 1) * 60_000, position: Some(position) };
        let photo = shelf_photo(20 + n as u64, stock);
        supervisor.store.add_photo(&id, item_id, &photo, capture).unwrap();
    }
    supervisor.store.check_out(&id, at + 15 * 60_000, position).unwrap();
    supervisor.sync();
    assert_eq!(supervisor.store.pending_photos().unwrap().0, 0, "photos must be uploaded before the browser looks");
    id
}

#[test]
fn the_approver_sees_a_phone_order_live_approves_it_in_the_browser_and_the_phone_receives_the_approval() {
    if let Some(missing) = missing_tools() {
        if std::env::var("FIELDSYNC_SKIP_BROWSER").as_deref() == Ok("1") {
            eprintln!("skipping the browser test (FIELDSYNC_SKIP_BROWSER=1): {missing}");
            return;
        }
        panic!(
            "the dashboard browser test cannot run: {missing}. Run scripts/test-browser, or set FIELDSYNC_SKIP_BROWSER=1 to skip it."
        );
    }
    let relay = Relay::start();
    let rep = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    let supervisor_name = relay.users(Role::Supervisor, Some("north"))[0].clone();
    let supervisor = relay.phone(&supervisor_name);
    rep.sync();
    supervisor.sync();
    let first = submit_order(&rep, 3);
    rep.sync();
    let inspection = synced_inspection(&supervisor);
    // The relay reviews the first order, scores the inspection and raises the alerts before the
    // browser looks.
    let storage = relay.state.storage.as_ref();
    relay
        .block_on(fieldsync_server::services::alerts::queue_evaluation(
            storage,
            None,
            relay.tenant_id(),
            "browser test",
        ))
        .unwrap();
    assert!(relay.wait_for_jobs(Duration::from_secs(120)), "the relay's jobs did not finish");

    let artifacts = workspace().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let hq = relay.login_of("hq-admin");
    let sup = relay.login_of(&supervisor_name);
    // The demo policy routes a north order to the north manager first by username.
    let approver = relay.login_of(&relay.users(Role::Manager, Some("north"))[0]);
    let mut child = Command::new("node")
        .arg(workspace().join("tests/browser/dashboard.mjs"))
        .arg(&relay.base_url)
        .env("FS_TENANT", &hq.tenant)
        .env("FS_HQ_USER", &hq.username)
        .env("FS_HQ_PASSWORD", &hq.password)
        .env("FS_APPROVER_USER", &approver.username)
        .env("FS_APPROVER_PASSWORD", &approver.password)
        .env("FS_SUPERVISOR_USER", &sup.username)
        .env("FS_SUPERVISOR_PASSWORD", &sup.password)
        .env("FS_FIRST_ORDER", first.as_str())
        .env("FS_INSPECTION", inspection.as_str())
        .env("FS_ARTIFACTS", &artifacts)
        .env("FS_CHROMIUM", chromium())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node");
    let mut to_browser = child.stdin.take().unwrap();
    let from_browser = child.stdout.take().unwrap();
    let (lines_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(from_browser).lines().map_while(Result::ok) {
            println!("browser: {line}");
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let deadline = Instant::now() + BROWSER_DEADLINE;
    let mut live_order = None;
    let mut phone_saw = None;
    let mut done = false;
    while !done {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match lines.recv_timeout(left) {
            Ok(line) => line,
            Err(_) => break,
        };
        let mut answer = |text: String| {
            writeln!(to_browser, "{text}").unwrap();
            to_browser.flush().unwrap();
        };
        if line == "READY-FOR-ORDER" {
            // The page is loaded and its event stream connected: only now does the phone sync.
            let id = submit_order_needing_approval(&rep);
            rep.sync();
            let sku = rep.store.order(&id).unwrap().lines.values().next().unwrap().sku.clone();
            answer(format!("ORDER {id} {sku}"));
            live_order = Some(id);
        } else if let Some(id) = line.strip_prefix("APPROVED ") {
            assert_eq!(Some(id), live_order.as_ref().map(|o| o.as_str()), "the browser approved another order");
            let order = live_order.clone().unwrap();
            // The phone's side: sync until the review the relay rewrote arrives.
            let until = Instant::now() + Duration::from_secs(60);
            let review = loop {
                rep.sync();
                match rep.store.order_review(&order).unwrap() {
                    Some((_, review)) if review.outcome != ReviewOutcome::NeedsApproval => break review,
                    _ if Instant::now() > until => panic!("the phone never received the decision on {order}"),
                    _ => std::thread::sleep(Duration::from_millis(100)),
                }
            };
            assert_eq!(review.outcome, ReviewOutcome::Approved, "{review:?}");
            assert_eq!(review.steps[0].state, StepState::Approved);
            assert_eq!(review.steps[0].approver, approver.user_id);
            phone_saw = Some(review);
            answer("PHONE-APPROVED".to_owned());
        } else if line == "DONE" {
            done = true;
        }
    }
    if !done {
        let _ = child.kill();
    }
    let status = child.wait().expect("node exit status");
    assert!(live_order.is_some(), "the browser never reported the overview ready");
    assert!(phone_saw.is_some(), "the browser never approved the live order");
    assert!(done && status.success(), "the browser script failed ({status}); see its output above");
    for shot in [
        "login",
        "overview",
        "overview-live-order",
        "order-to-approve",
        "order-approved",
        "orders",
        "order",
        "inspection",
        "inspection-photo",
        "inspections",
        "devices",
        "stores",
        "stores-hq",
        "supervisor-refused",
    ] {
        let path = artifacts.join(format!("{shot}.png"));
        assert!(path.exists(), "screenshot {} is missing", path.display());
    }
    // The dashboard in Simplified Chinese, chosen with the header's language picker.
    for page in [
        "overview",
        "orders",
        "order",
        "approvals",
        "inspections",
        "inspection",
        "alerts",
        "devices",
        "stores",
        "api-keys",
    ] {
        for prefix in ["zh", "zh-phone"] {
            let path = artifacts.join(format!("{prefix}-{page}.png"));
            assert!(path.exists(), "screenshot {} is missing", path.display());
        }
    }
}

/// Fails (or skips with `FIELDSYNC_SKIP_BROWSER=1`) when the browser tools are missing; whether
/// the test should go on.
fn browser_available() -> bool {
    let Some(missing) = missing_tools() else { return true };
    if std::env::var("FIELDSYNC_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("skipping the browser test (FIELDSYNC_SKIP_BROWSER=1): {missing}");
        return false;
    }
    panic!(
        "the dashboard browser test cannot run: {missing}. Run scripts/test-browser, or set FIELDSYNC_SKIP_BROWSER=1 to skip it."
    );
}

#[test]
fn hq_creates_a_user_and_a_coded_store_on_the_admin_pages_and_a_csv_with_a_bad_line_writes_nothing() {
    if !browser_available() {
        return;
    }
    let relay = Relay::start();
    let artifacts = workspace().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let hq = relay.login_of("hq-admin");
    let rep = relay.users(Role::Rep, Some("north"))[0].clone();
    let mut child = Command::new("node")
        .arg(workspace().join("tests/browser/admin.mjs"))
        .arg(&relay.base_url)
        .env("FS_TENANT", &hq.tenant)
        .env("FS_HQ_USER", &hq.username)
        .env("FS_HQ_PASSWORD", &hq.password)
        .env("FS_REP_USER", &rep)
        .env("FS_ARTIFACTS", &artifacts)
        .env("FS_CHROMIUM", chromium())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node");
    let from_browser = child.stdout.take().unwrap();
    let mut done = false;
    for line in BufReader::new(from_browser).lines().map_while(Result::ok) {
        println!("browser: {line}");
        done |= line == "DONE";
    }
    let status = child.wait().expect("node exit status");
    assert!(done && status.success(), "the browser script failed ({status}); see its output above");

    // What the pages did is in the relay: the supervisor exists, the store carries its code.
    let storage = relay.state.storage.as_ref();
    let nina = relay.block_on(storage.find_user_by_username(relay.tenant_id(), "nina")).unwrap().expect("nina");
    assert_eq!(
        (nina.role, nina.region.as_deref(), nina.display_name.as_str()),
        (Role::Supervisor, Some("north"), "Nina Nordmann")
    );
    let coded = relay
        .block_on(fieldsync_server::storage::queries::stores_with(
            storage,
            relay.tenant_id(),
            fieldsync_server::storage::queries::StoreKey::Code,
            "N-900",
        ))
        .unwrap();
    assert_eq!(coded.len(), 1, "one store has the code N-900: {coded:?}");
    for shot in [
        "admin-users",
        "admin-store-new",
        "admin-store-duplicate",
        "admin-stores",
        "stores-search",
        "admin-import-refused",
        "admin-import-applied",
        "admin-refused",
        "admin-templates",
        "phone-admin-templates",
        "phone-admin-users",
        "phone-admin-stores",
        "phone-admin-store-new",
        "phone-admin-imports",
    ] {
        assert!(artifacts.join(format!("{shot}.png")).exists(), "screenshot {shot}.png missing");
    }
}
