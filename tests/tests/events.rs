//! The event feed out (`docs/events.md`): the pull API pages the outbox in order and refuses bad
//! queries, and every event reaches a JetStream consumer exactly once although the relay is
//! killed with SIGKILL and the NATS server is killed and started again, with the feed itself
//! free of gaps and duplicates. The NATS server is a private `nats-server -js` of the test
//! (`fieldsync_tests::nats`), so that killing it disturbs nobody.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fieldsync_core::sync::login;
use fieldsync_mobile_demo::erp;
use fieldsync_tests::nats::NatsServer;
use fieldsync_tests::{Phone, Relay, RelayProcess, http, new_order};
use serde_json::Value;

/// Every event of the tenant, paging the pull API with its cursor.
fn pull_all(base_url: &str, token: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = String::new();
    loop {
        let url = format!("{base_url}/v1/events?after={after}&limit=1000");
        let answer = http("GET", &url, Some(token), &[], vec![]);
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
        let page = answer.json();
        let items = page["events"].as_array().unwrap().clone();
        let next = page["next"].as_str().unwrap().to_owned();
        if items.is_empty() {
            let expected = if after.is_empty() { "0" } else { after.as_str() };
            assert_eq!(next, expected, "an empty page keeps the cursor");
            return events;
        }
        events.extend(items);
        after = next;
    }
}

/// Another relay node on the same PostgreSQL database, publishing to the same NATS server.
struct SecondNode(std::process::Child);

impl SecondNode {
    fn start(data: &std::path::Path, database: &str, nats: &str) -> Self {
        let child = std::process::Command::new(fieldsync_tests::server_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--nats", nats, "--data"])
            .arg(data)
            .env("FIELDSYNC_DATABASE", database)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start a second relay node");
        Self(child)
    }
}

impl Drop for SecondNode {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hq_token(base_url: &str, username: &str, password: &str) -> String {
    login(base_url, "demo", username, password, "erp connector").unwrap().token
}

fn submit_orders(phone: &Phone, n: usize) {
    for _ in 0..n {
        let id = new_order(phone);
        phone.store.submit_order(&id).unwrap();
    }
}

/// Moves the relay's NATS cursor back by `by` events, as a relay that died after JetStream
/// acknowledged them and before it recorded so would have left it.
fn rewind_nats_cursor(relay: &RelayProcess, by: i64) -> i64 {
    match &relay.database_url {
        None => {
            let db = rusqlite::Connection::open(relay.data.join("fieldsync.db")).unwrap();
            db.execute("UPDATE event_cursors SET last_seq = MAX(last_seq - ?1, 0) WHERE destination = 'nats'", [by])
                .unwrap();
            db.query_row("SELECT last_seq FROM event_cursors WHERE destination = 'nats'", [], |r| r.get(0)).unwrap()
        }
        Some(url) => {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client
                    .execute(
                        "UPDATE event_cursors SET last_seq = GREATEST(last_seq - $1, 0) WHERE destination = 'nats'",
                        &[&by],
                    )
                    .await
                    .unwrap();
                client
                    .query_one("SELECT last_seq FROM event_cursors WHERE destination = 'nats'", &[])
                    .await
                    .unwrap()
                    .get(0)
            })
        }
    }
}

fn count(feed: &[Value], event_type: &str) -> usize {
    feed.iter().filter(|e| e["type"] == event_type).count()
}

/// Waits until every one of `orders` submissions has its verdict in the feed, the feed stops
/// growing, and JetStream holds as many messages as the feed has events; returns both.
fn settle(relay: &RelayProcess, token: &str, nats: &NatsServer, orders: usize) -> (Vec<Value>, Vec<erp::Received>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last_len = usize::MAX;
    loop {
        let feed = pull_all(&relay.base_url, token);
        let received = runtime.block_on(erp::read(&nats.url, "fieldsync.>", Duration::from_millis(500))).unwrap();
        let reviewed = count(&feed, "order.submitted") == orders && count(&feed, "order.reviewed") == orders;
        if reviewed && feed.len() == last_len && received.len() >= feed.len() {
            return (feed, received);
        }
        assert!(
            Instant::now() < deadline,
            "the feed ({} events) and JetStream ({} messages) did not settle",
            feed.len(),
            received.len()
        );
        last_len = feed.len();
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn every_event_reaches_jetstream_exactly_once_across_a_relay_kill_9_and_a_nats_restart() {
    let Some(mut nats) = NatsServer::start() else {
        // scripts/test installs it; in CI its absence is a failure, not a skip.
        assert!(std::env::var_os("CI").is_none(), "nats-server is not installed (scripts/nats install)");
        eprintln!("SKIPPED: nats-server is not installed (scripts/nats install)");
        return;
    };
    let mut relay = RelayProcess::seed_and_serve_with(&["--nats", &nats.url]);
    // On PostgreSQL a second node publishes the same outbox too: no lease, JetStream's
    // de-duplication makes the second publish of each event harmless.
    let _second_node = relay.database_url.as_ref().map(|url| SecondNode::start(&relay.data, url, &nats.url));
    let hq = relay.users("hq")[0].clone();
    let password = relay.login_of(&hq).password.clone();
    let reps = relay.users("rep");
    let phones: Vec<Phone> = reps[..2].iter().map(|rep| relay.phone(rep)).collect();
    for phone in &phones {
        phone.sync();
    }

    // The relay dies with SIGKILL while phones push orders and the publisher pushes events.
    for phone in &phones {
        submit_orders(phone, 15);
    }
    std::thread::scope(|scope| {
        let syncs: Vec<_> = phones.iter().map(|phone| scope.spawn(|| phone.engine.sync_now())).collect();
        std::thread::sleep(Duration::from_millis(300));
        relay.kill();
        for sync in syncs {
            let _ = sync.join().unwrap();
        }
    });
    relay.serve();

    // NATS dies; the relay goes on storing events in its outbox, then NATS comes back.
    nats.kill();
    for phone in &phones {
        submit_orders(phone, 10);
        phone.engine.sync_now().unwrap();
        phone.engine.sync_now().unwrap();
    }
    std::thread::sleep(Duration::from_secs(2));
    nats.restart();
    let token = hq_token(&relay.base_url, &hq, &password);
    let (before_rewind, _) = settle(&relay, &token, &nats, 2 * (15 + 10));

    // The crash window itself: JetStream acknowledged events the relay did not record as sent.
    // They are published again after the restart, and JetStream drops them by their id.
    relay.kill();
    let cursor = rewind_nats_cursor(&relay, 20);
    assert!(cursor < before_rewind.len() as i64, "the rewind moved the cursor back");
    relay.serve();
    for phone in &phones {
        submit_orders(phone, 3);
        phone.engine.sync_now().unwrap();
    }
    let token = hq_token(&relay.base_url, &hq, &password);
    let (feed, received) = settle(&relay, &token, &nats, 2 * (15 + 10 + 3));

    // The feed: positions 1..=n with no gap, each id once, every order submitted and reviewed.
    let cursors: Vec<u64> = feed.iter().map(|e| e["cursor"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(cursors, (1..=feed.len() as u64).collect::<Vec<_>>(), "the feed has a gap or is out of order");
    let ids: BTreeSet<&str> = feed.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), feed.len(), "the feed holds an event twice");
    let orders = 2 * (15 + 10 + 3);
    assert_eq!((count(&feed, "order.submitted"), count(&feed, "order.reviewed")), (orders, orders));

    // JetStream: each event exactly once, on its subject, with its id as the message id.
    let mut seen = BTreeSet::new();
    for message in &received {
        assert!(seen.insert(message.msg_id.as_str()), "JetStream delivered event {} twice", message.msg_id);
        assert_eq!(message.event["id"].as_str(), Some(message.msg_id.as_str()));
        let subject = format!("fieldsync.demo.{}", message.event["type"].as_str().unwrap());
        assert_eq!(message.subject, subject);
    }
    assert_eq!(seen, ids, "JetStream holds other events than the feed");
}

#[test]
fn the_pull_feed_pages_by_cursor_filters_by_type_and_refuses_bad_queries_and_non_hq_callers() {
    let relay = Relay::start();
    let rep = relay.users(fieldsync_core::Role::Rep, None)[0].clone();
    let phone = relay.synced_phone(&rep);
    submit_orders(&phone, 3);
    phone.sync();
    assert!(relay.wait_for_jobs(Duration::from_secs(60)), "the reviews ran");
    let hq = relay.users(fieldsync_core::Role::Hq, None)[0].clone();
    let token = hq_token(&relay.base_url, &hq, &relay.login_of(&hq).password);

    let all = pull_all(&relay.base_url, &token);
    assert!(all.len() >= 6, "3 submissions and 3 verdicts at least: {all:?}");
    // Pages of 2 give the same events in the same order.
    let mut paged = Vec::new();
    let mut after = "0".to_owned();
    loop {
        let url = format!("{}/v1/events?after={after}&limit=2", relay.base_url);
        let page = http("GET", &url, Some(&token), &[], vec![]).json();
        let items = page["events"].as_array().unwrap().clone();
        assert!(items.len() <= 2);
        if items.is_empty() {
            break;
        }
        paged.extend(items);
        after = page["next"].as_str().unwrap().to_owned();
    }
    assert_eq!(paged, all);
    let url = format!("{}/v1/events?types=order.submitted", relay.base_url);
    let submitted = http("GET", &url, Some(&token), &[], vec![]).json()["events"].as_array().unwrap().clone();
    assert_eq!(submitted.len(), 3);
    assert!(submitted.iter().all(|e| e["type"] == "order.submitted" && e["data"]["lines"].is_array()));

    for (query, code) in [
        ("after=abc", "invalid-cursor"),
        ("types=order.shipped", "invalid-event-type"),
        ("limit=0", "invalid-limit"),
        ("limit=5000", "invalid-limit"),
    ] {
        let answer = http("GET", &format!("{}/v1/events?{query}", relay.base_url), Some(&token), &[], vec![]);
        assert_eq!((answer.status, answer.error_code().as_str()), (400, code), "{query}");
    }
    let rep_token = hq_token(&relay.base_url, &rep, &relay.login_of(&rep).password);
    let answer = http("GET", &format!("{}/v1/events", relay.base_url), Some(&rep_token), &[], vec![]);
    assert_eq!(answer.status, 403);
    assert_eq!(http("GET", &format!("{}/v1/events", relay.base_url), None, &[], vec![]).status, 401);
}

/// What a webhook receiver saw.
#[derive(Default)]
struct Inbox {
    /// Attempts per event id.
    attempts: std::collections::HashMap<String, u32>,
    /// Bodies answered 2xx, in arrival order.
    accepted: Vec<Value>,
    /// Attempts whose signature did not check.
    bad_signatures: usize,
}

/// A real HTTP server on a loopback port that answers 500 to the first `failures` attempts at
/// each event and 204 after, checking each attempt's signature with `secret`.
fn start_receiver(
    relay: &Relay,
    failures: u32,
    secret: &'static str,
) -> (String, std::sync::Arc<std::sync::Mutex<Inbox>>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    let inbox = std::sync::Arc::new(std::sync::Mutex::new(Inbox::default()));
    let seen = inbox.clone();
    let handler = move |headers: HeaderMap, body: Bytes| {
        let seen = seen.clone();
        async move {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let body = String::from_utf8_lossy(&body).into_owned();
            let timestamp: i64 = header("x-fieldsync-timestamp").parse().unwrap_or(0);
            let expected = fieldsync_server::services::alerts::webhook::signature(secret, timestamp, &body).unwrap();
            let mut inbox = seen.lock().unwrap();
            if header("x-fieldsync-signature") != expected {
                inbox.bad_signatures += 1;
            }
            let id = header("x-fieldsync-event-id");
            let attempts = inbox.attempts.entry(id).or_default();
            *attempts += 1;
            if *attempts <= failures {
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            inbox.accepted.push(serde_json::from_str(&body).unwrap());
            StatusCode::NO_CONTENT
        }
    };
    let app = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = relay.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    relay.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, inbox)
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

#[test]
fn a_webhook_receiver_that_fails_twice_then_succeeds_gets_each_event_once_signed_and_in_order() {
    let relay = Relay::start_with(|config| {
        config.subscription_retry = Duration::from_millis(20);
        config.subscription_attempts = 4;
    });
    relay.spawn(fieldsync_server::jobs::deliver_events::run(relay.state.clone()));
    const SECRET: &str = "a-long-enough-secret";
    let (flaky_url, flaky) = start_receiver(&relay, 2, SECRET);
    let (down_url, down) = start_receiver(&relay, u32::MAX, SECRET);
    let hq = relay.users(fieldsync_core::Role::Hq, None)[0].clone();
    let token = hq_token(&relay.base_url, &hq, &relay.login_of(&hq).password);
    let subscribe = |url: &str, types: &str| {
        let body = serde_json::json!({"url": url, "secret": SECRET, "types": types}).to_string();
        let content = [("content-type", "application/json")];
        let answer =
            http("POST", &format!("{}/v1/webhooks", relay.base_url), Some(&token), &content, body.into_bytes());
        assert_eq!(answer.status, 201, "{}", String::from_utf8_lossy(&answer.body));
        answer.json()["id"].as_str().unwrap().to_owned()
    };
    let flaky_id = subscribe(&flaky_url, "order.submitted,order.reviewed");
    let down_id = subscribe(&down_url, "order.submitted");
    // Bad input is refused and stores nothing.
    let bad = http(
        "POST",
        &format!("{}/v1/webhooks", relay.base_url),
        Some(&token),
        &[("content-type", "application/json")],
        serde_json::json!({"url": "ftp://x", "secret": SECRET}).to_string().into_bytes(),
    );
    assert_eq!((bad.status, bad.error_code().as_str()), (400, "invalid-webhook"));

    let rep = relay.users(fieldsync_core::Role::Rep, None)[0].clone();
    let phone = relay.synced_phone(&rep);
    submit_orders(&phone, 3);
    phone.sync();
    assert!(relay.wait_for_jobs(Duration::from_secs(60)), "the reviews ran");
    let url = format!("{}/v1/events?types=order.submitted,order.reviewed", relay.base_url);
    let expected: Vec<Value> =
        http("GET", &url, Some(&token), &[], vec![]).json()["events"].as_array().unwrap().clone();
    assert_eq!(expected.len(), 6, "3 submissions and 3 verdicts");

    assert!(
        wait_until(Duration::from_secs(60), || flaky.lock().unwrap().accepted.len() >= expected.len()),
        "the flaky receiver got every event"
    );
    std::thread::sleep(Duration::from_millis(300));
    {
        let inbox = flaky.lock().unwrap();
        assert_eq!(inbox.accepted, expected, "each event once, in feed order, as the feed has it");
        assert!(inbox.attempts.values().all(|n| *n == 3), "two failures then a success: {:?}", inbox.attempts);
        assert_eq!(inbox.bad_signatures, 0);
    }

    // The receiver that never answers 2xx: every event a dead letter, visible to HQ.
    let listed = || http("GET", &format!("{}/v1/webhooks", relay.base_url), Some(&token), &[], vec![]).json();
    assert!(
        wait_until(Duration::from_secs(60), || {
            listed()["subscriptions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["id"] == down_id.as_str() && s["dead_letters"].as_array().unwrap().len() == 3)
        }),
        "the three submissions are dead letters: {}",
        listed()
    );
    assert!(down.lock().unwrap().accepted.is_empty());
    assert!(down.lock().unwrap().attempts.values().all(|n| *n == 4), "four attempts each");
    // HQ sees them on the dashboard too, with the receiver's last answer and a replay form.
    let page = relay.dashboard_page(&hq, "/dashboard/webhooks");
    let section = &page[page.find(&format!("data-id=\"{down_id}\"")).expect("the subscription's section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert_eq!(section.matches("<tr>").count(), 1 + 3, "a header and three dead letters: {section}");
    assert!(section.contains("order.submitted"), "{section}");
    assert!(section.contains(&format!("/dashboard/webhooks/{down_id}/replay")), "{section}");

    // Replay from the start: the flaky receiver gets the same events again.
    let replay = format!("{}/v1/webhooks/{flaky_id}/replay?after=0", relay.base_url);
    assert_eq!(http("POST", &replay, Some(&token), &[], vec![]).status, 204);
    assert!(
        wait_until(Duration::from_secs(60), || flaky.lock().unwrap().accepted.len() >= 2 * expected.len()),
        "the replay sent them again"
    );
    assert_eq!(flaky.lock().unwrap().accepted[expected.len()..], expected[..]);
    let bad_replay = format!("{}/v1/webhooks/{flaky_id}/replay?after=x", relay.base_url);
    assert_eq!(http("POST", &bad_replay, Some(&token), &[], vec![]).error_code(), "invalid-cursor");
    // A cursor past the feed's end would skip the events still to come: refused, cursor kept.
    let past_end = format!("{}/v1/webhooks/{flaky_id}/replay?after=999999999", relay.base_url);
    assert_eq!(http("POST", &past_end, Some(&token), &[], vec![]).error_code(), "invalid-cursor");
    assert!(
        listed()["subscriptions"].as_array().unwrap().iter().any(
            |s| s["id"] == flaky_id.as_str() && s["cursor"].as_str().unwrap().parse::<u64>().unwrap() < 999_999_999
        )
    );
}
