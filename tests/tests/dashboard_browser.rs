//! The HQ dashboard in a real headless Chromium: HQ logs in, sees an order that a phone syncs
//! while the page is open appear without a reload, opens an inspection and its photos; a
//! supervisor is refused the HQ pages. Screenshots land in `target/browser-artifacts/`.
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
use fieldsync_core::doc::{AnswerValue, GeoFix};
use fieldsync_core::local_store::{CheckIn, LineInput, NewOrder, PhotoCapture};
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

fn photo(name: &str) -> Vec<u8> {
    std::fs::read(workspace().join("core/tests/fixtures/photos").join(name)).unwrap()
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
    for (n, name) in ["coffee.jpg", "chelsea.jpg"].iter().enumerate() {
        let (item_id, _) = items[n % items.len()];
        let capture = PhotoCapture { captured_at: at + (n as i64 + 1) * 60_000, position: Some(position) };
        supervisor.store.add_photo(&id, item_id, &photo(name), capture).unwrap();
    }
    supervisor.store.check_out(&id, at + 15 * 60_000, position).unwrap();
    supervisor.sync();
    assert_eq!(supervisor.store.pending_photos().unwrap().0, 0, "photos must be uploaded before the browser looks");
    id
}

#[test]
fn hq_sees_a_phone_order_live_opens_inspection_photos_and_a_supervisor_is_refused_hq_pages() {
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

    let artifacts = workspace().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let hq = relay.login_of("hq-admin");
    let sup = relay.login_of(&supervisor_name);
    let mut child = Command::new("node")
        .arg(workspace().join("tests/browser/dashboard.mjs"))
        .arg(&relay.base_url)
        .env("FS_TENANT", &hq.tenant)
        .env("FS_HQ_USER", &hq.username)
        .env("FS_HQ_PASSWORD", &hq.password)
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
    let mut done = false;
    while !done {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match lines.recv_timeout(left) {
            Ok(line) => line,
            Err(_) => break,
        };
        match line.as_str() {
            // The page is loaded and its event stream connected: only now does the phone sync.
            "READY-FOR-ORDER" => {
                let id = submit_order(&rep, 11);
                rep.sync();
                writeln!(to_browser, "ORDER {id}").unwrap();
                to_browser.flush().unwrap();
                live_order = Some(id);
            }
            "DONE" => done = true,
            _ => {}
        }
    }
    if !done {
        let _ = child.kill();
    }
    let status = child.wait().expect("node exit status");
    assert!(live_order.is_some(), "the browser never reported the overview ready");
    assert!(done && status.success(), "the browser script failed ({status}); see its output above");
    for shot in [
        "login",
        "overview",
        "overview-live-order",
        "orders",
        "order",
        "inspection",
        "inspection-photo",
        "devices",
        "supervisor-refused",
    ] {
        let path = artifacts.join(format!("{shot}.png"));
        assert!(path.exists(), "screenshot {} is missing", path.display());
    }
}
