//! The relay's job runner: deliveries to the outside world run in their own lane, so a webhook
//! that hangs delays no verdict, and a job that runs longer than its lease keeps it (renewed
//! while it runs) instead of being taken over and run again by another runner.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Read;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldsync_core::Role;
use fieldsync_server::seed::DEMO_TENANT;
use fieldsync_server::services::alerts::webhook;
use fieldsync_tests::{Relay, http, new_order};

/// A webhook receiver on a real socket that reads each request and never answers.
struct HangingReceiver {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl HangingReceiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/fieldsync", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let seen = seen.clone();
                std::thread::spawn(move || {
                    // The request, up to the first pause; then silence until the caller gives up.
                    stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
                    let (mut request, mut buffer) = (Vec::new(), [0u8; 16 * 1024]);
                    while let Ok(n @ 1..) = stream.read(&mut buffer) {
                        request.extend_from_slice(&buffer[..n]);
                    }
                    seen.lock().unwrap().push(String::from_utf8_lossy(&request).into_owned());
                    std::thread::sleep(Duration::from_secs(120));
                });
            }
        });
        Self { url, requests }
    }

    /// The bodies received, one per connection.
    fn bodies(&self) -> Vec<String> {
        let requests = self.requests.lock().unwrap();
        requests.iter().map(|r| r.split_once("\r\n\r\n").map_or(String::new(), |(_, body)| body.to_owned())).collect()
    }
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn a_delivery_to_a_hanging_webhook_neither_delays_a_verdict_nor_runs_twice() {
    // Leases of one second, deliveries that may hang for twelve: without renewal every hanging
    // delivery would be taken over, and posted again, within a second or two.
    let relay = Relay::start_with(|config| {
        config.job_lease = Duration::from_secs(1);
        config.webhook_timeout = Duration::from_secs(12);
    });
    // A second runner on the same queue, as a second relay node would run.
    relay.spawn(fieldsync_server::jobs::run_queue(relay.state.clone()));
    let hook = HangingReceiver::start();
    relay
        .block_on(webhook::set_webhook(relay.state.storage.as_ref(), DEMO_TENANT, &hook.url, "a-long-enough-secret"))
        .unwrap();

    // A stock import raises low-stock alerts; their deliveries hang.
    let catalog = relay.block_on(fieldsync_server::services::catalog::tenant_catalog(
        relay.state.storage.as_ref(),
        &relay.state.caches,
        relay.tenant_id(),
    ));
    let sku = catalog.unwrap().products.keys().next().cloned().expect("a product");
    let hq = relay.login_of("hq-admin").clone();
    let token =
        fieldsync_core::sync::login(&relay.base_url, &hq.tenant, &hq.username, &hq.password, "ops").unwrap().token;
    let answer = http(
        "POST",
        &format!("{}/v1/import/stock", relay.base_url),
        Some(&token),
        &[("content-type", "text/csv")],
        format!("warehouse,region,sku,on_hand,safety\nWH-HANG,north,{sku},0,5\n").into_bytes(),
    );
    assert_eq!(answer.status, 200, "stock import: {}", String::from_utf8_lossy(&answer.body));
    assert!(wait_until(Duration::from_secs(30), || !hook.bodies().is_empty()).is_some(), "no delivery started");

    // Meanwhile a rep's order is reviewed and its verdict reaches the phone.
    let phone = relay.phone(&relay.users(Role::Rep, Some("north"))[0]);
    phone.sync();
    let order = new_order(&phone);
    phone.store.submit_order(&order).unwrap();
    phone.sync();
    let verdict = wait_until(Duration::from_secs(10), || {
        phone.engine.sync_documents_now().unwrap();
        phone.store.order_review(&order).unwrap().is_some()
    });
    println!("verdict on the phone {verdict:?} after the push, deliveries hanging: {}", hook.bodies().len());
    assert!(verdict.is_some(), "no verdict while the webhook hangs");
    // Structural, not timed: the deliveries were still running (hanging) when the verdict came.
    let counts = relay.block_on(relay.state.storage.job_counts()).unwrap();
    assert!(counts.running >= 1, "the deliveries were still hanging when the verdict arrived: {counts:?}");

    // Three leases later, each hanging delivery has still been posted exactly once.
    std::thread::sleep(Duration::from_secs(3));
    let bodies = hook.bodies();
    let mut distinct = bodies.clone();
    distinct.sort();
    distinct.dedup();
    assert!(!bodies.is_empty());
    assert_eq!(bodies.len(), distinct.len(), "a delivery was posted twice: {bodies:#?}");
    relay.state.shutdown.trigger();
}
