//! The phone on a bad field network, through the user-space link shaper (`fieldsync_tests::shaper`):
//! documents never wait behind photos, a cut upload resumes at the byte, and verdicts arrive
//! over the live channel. Outcomes are asserted; times are printed, never asserted (the machine
//! is shared).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use fieldsync_core::Role;
use fieldsync_core::sync::engine::FIRST_ANSWER_BYTES;
use fieldsync_core::sync::protocol::MIN_ANSWER_BUDGET;
use fieldsync_core::sync::{SyncOptions, watch_and_sync};
use fieldsync_tests::shaper::{LinkConfig, LinkShaper};
use fieldsync_tests::{AnswerSizes, Phone, Relay, check_in, http, new_order, queue_photos};
use rand::{Rng, SeedableRng};

/// A phone signed in through `shaper` (its sync and uploads cross the shaped link).
fn phone_behind(relay: &Relay, shaper: &LinkShaper, username: &str, options: SyncOptions) -> Phone {
    let demo = relay.login_of(username);
    Phone::sign_in_at(&shaper.base_url(), &demo.tenant, username, &demo.password, relay.dir(), options)
}

/// Waits up to `limit` for `done`; how long it took, or `None`.
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

fn photo_complete(relay: &Relay, sha256: &str) -> bool {
    let meta = relay.block_on(relay.state.storage.get_blob(relay.tenant_id(), sha256)).unwrap();
    meta.is_some_and(|m| m.complete)
}

#[test]
fn a_check_in_and_an_order_made_while_forty_photos_upload_at_64_kbit_are_accepted_before_the_photos_finish() {
    let relay = Relay::start();
    // A fast link to set the phones up; the shop's weak cell afterwards, shared by both phones.
    let shaper = LinkShaper::start(&relay.base_url, LinkConfig::new(100_000, 0));
    let sue = phone_behind(&relay, &shaper, "supervisor-north", SyncOptions::default());
    let rep = phone_behind(&relay, &shaper, &relay.users(Role::Rep, Some("north"))[0], SyncOptions::default());
    sue.sync();
    rep.sync();
    let (_, payload) = queue_photos(&sue, 40);
    shaper.set_link(64, Duration::from_millis(600));
    let before = shaper.stats().snapshot();

    let sue_lanes = sue.engine.start_background(Duration::from_secs(60));
    let rep_lanes = rep.engine.start_background(Duration::from_secs(60));
    // Wait until the photo lane is busy (the inspection itself went first, on the other lane).
    assert!(
        wait_until(Duration::from_secs(60), || sue.store.pending_photos().unwrap().0 < 39).is_some(),
        "the photo lane never got going"
    );
    let made = Instant::now();
    let visit = check_in(&sue, 1);
    let order = new_order(&rep);
    let visit_accepted = wait_until(Duration::from_secs(120), || relay.stored(&visit).is_some());
    let photos_left = sue.store.pending_photos().unwrap().0;
    let order_accepted =
        wait_until(Duration::from_secs(120), || relay.stored(&order).is_some()).map(|_| made.elapsed());
    println!(
        "64 kbit/s, 600 ms, {payload} bytes of photos: check-in accepted after {visit_accepted:?} (photos still \
         queued: {photos_left}), order after {order_accepted:?}"
    );
    assert!(visit_accepted.is_some(), "the check-in was never accepted");
    assert!(order_accepted.is_some(), "the order was never accepted");
    assert!(photos_left > 0, "the check-in waited for the whole photo queue");
    // The relay stored the check-in; the phone forgets the push once the answer crossed the slow link.
    assert!(
        wait_until(Duration::from_secs(60), || sue.store.pending_documents().unwrap().is_empty()).is_some(),
        "the supervisor's documents were never acknowledged: {:?}",
        sue.store.pending_documents().unwrap()
    );
    drop(rep_lanes);
    drop(sue_lanes);
    let after = shaper.stats().snapshot();
    println!(
        "link: {} connections, {} bytes up, {} bytes down",
        after.0 - before.0,
        after.1 - before.1,
        after.2 - before.2
    );
}

#[test]
fn with_a_cut_every_50_kb_every_photo_arrives_and_the_phone_sends_at_most_1_2_times_the_photo_bytes() {
    let relay = Relay::start();
    let shaper = LinkShaper::start(&relay.base_url, LinkConfig::new(100_000, 0));
    let sue = phone_behind(&relay, &shaper, "supervisor-north", SyncOptions::default());
    sue.sync();
    let (inspection, payload) = queue_photos(&sue, 40);
    sue.engine.sync_documents_now().unwrap();
    // A faster link than the 64 kbit/s keeps the test short; the cuts are the point.
    shaper.set_link(1_000, Duration::from_millis(100));
    shaper.set_cuts(Some(50_000));
    let before = shaper.stats().snapshot();
    let started = Instant::now();
    let mut passes = 0;
    while sue.store.pending_photos().unwrap().0 > 0 {
        let _ = sue.engine.upload_photos_now();
        passes += 1;
        assert!(passes < 100, "photos stopped moving: {:?}", sue.engine.status().unwrap());
    }
    let after = shaper.stats().snapshot();
    let sent = after.1 - before.1;
    let ratio = sent as f64 / payload as f64;
    println!(
        "cut every ~50 KB at 1 Mbit/s: 40 photos ({payload} bytes) in {:?}, {passes} passes, {} cuts, {} \
         connections, {sent} bytes up ({ratio:.3}x), {} bytes down",
        started.elapsed(),
        after.3 - before.3,
        after.0 - before.0,
        after.2 - before.2
    );
    assert!(after.3 > before.3, "no cut happened: the test tests nothing");
    let photos = sue.store.inspection(&inspection).unwrap().photos;
    assert_eq!(photos.len(), 40);
    for sha in photos.keys() {
        assert!(photo_complete(&relay, sha), "photo {sha} did not arrive");
    }
    assert!(ratio <= 1.2, "the phone sent {sent} bytes for {payload} bytes of photos ({ratio:.3}x)");
}

#[test]
fn an_upload_cut_at_a_random_byte_resumes_from_that_byte() {
    let relay = Relay::start();
    let shaper = LinkShaper::start(&relay.base_url, LinkConfig::new(100_000, 0));
    shaper.capture(true);
    let sue = phone_behind(&relay, &shaper, "supervisor-north", SyncOptions::default());
    sue.sync();
    let inspection = check_in(&sue, 0);
    let (_, template) = sue.store.templates().unwrap().into_iter().next().unwrap();
    let capture =
        fieldsync_core::local_store::PhotoCapture { captured_at: fieldsync_core::clock::now_ms(), position: None };
    let photo = fieldsync_tests::photo_fixture("chelsea.jpg");
    let added = sue.store.add_photo(&inspection, template.items_in_order()[0].0, &photo, capture).unwrap();
    let (sha, total) = (added.reference.sha256.clone(), added.reference.byte_size);
    let bytes = sue.store.photo_bytes(&sha).unwrap();
    sue.engine.sync_documents_now().unwrap();

    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    // Inside the first part, so the cut is the attempt's only failure.
    let first_part = total.min(fieldsync_core::sync::engine::FIRST_PART_BYTES as u64);
    let cut = rng.random_range(2_000..first_part - 2_000);
    shaper.cut_after(cut);
    assert!(sue.engine.upload_photos_now().is_err(), "an upload cut mid-way must fail");

    // What reached the relay: the cut connection's bytes after the PUT's head.
    let captures = shaper.captures();
    let put = format!("PUT /v1/blobs/{sha}");
    let cut_connection = captures.iter().find(|c| find(c, put.as_bytes()).is_some()).expect("the PUT crossed the link");
    let start = find(cut_connection, put.as_bytes()).unwrap();
    let head = find(&cut_connection[start..], b"\r\n\r\n").unwrap() + 4;
    let arrived = (cut_connection.len() - start - head) as u64;
    assert!(arrived > 0 && arrived < total, "the cut fell outside the body: {arrived} of {total}");
    let url = format!("{}/v1/blobs/{sha}", relay.base_url);
    let mut held = None;
    wait_until(Duration::from_secs(10), || {
        held = http("HEAD", &url, Some(&sue.session.token), &[], vec![]).header("upload-offset");
        held.as_deref() == Some(arrived.to_string().as_str())
    });
    assert_eq!(held, Some(arrived.to_string()), "the relay did not keep exactly what arrived");

    let report = sue.engine.upload_photos_now().unwrap();
    println!("cut after {arrived} of {total} bytes; resumed: {report:?}");
    assert_eq!(report.photos_uploaded, 1);
    assert_eq!(report.photo_state_checks, 1, "one HEAD after the failure, no more");
    assert_eq!(report.photo_bytes_sent, total - arrived, "the resume sent again what had arrived");
    let resumed = format!("bytes {arrived}-{}/{total}", total - 1);
    assert!(shaper.captures().iter().any(|c| find(c, resumed.as_bytes()).is_some()), "no part started at {arrived}");
    assert!(photo_complete(&relay, &sha));
    let stored = relay.block_on(relay.state.blobs.read(relay.tenant_id(), &sha)).unwrap().unwrap();
    assert_eq!(stored, bytes);
}

#[test]
fn a_verdict_reaches_the_phone_through_the_live_channel_without_a_poll() {
    let relay = Relay::start();
    let shaper = LinkShaper::start(&relay.base_url, LinkConfig::new(100_000, 0));
    let rep = phone_behind(&relay, &shaper, &relay.users(Role::Rep, Some("north"))[0], SyncOptions::default());
    rep.sync();
    shaper.set_link(64, Duration::from_millis(600));
    // No background sync runs: only a live notice can bring the verdict.
    let live = watch_and_sync(rep.engine.clone(), &shaper.base_url(), &rep.session.token, || false);
    std::thread::sleep(Duration::from_secs(2));
    let order = new_order(&rep);
    rep.store.submit_order(&order).unwrap();
    rep.engine.sync_documents_now().unwrap();
    let arrived = wait_until(Duration::from_secs(60), || rep.store.order_review(&order).unwrap().is_some());
    println!("verdict on the phone {arrived:?} after the push (64 kbit/s, 600 ms)");
    assert!(arrived.is_some(), "the verdict never reached the phone");
    live.stop();
}

#[test]
fn on_a_slow_link_the_relay_answers_in_pages_the_link_moves_in_the_time_the_phone_asks_for() {
    let relay = Relay::start();
    let shaper = LinkShaper::start(&relay.base_url, LinkConfig::new(100_000, 0));
    let rep = relay.users(Role::Rep, Some("north"))[0].clone();
    // The rep's tablet at the office writes 200 orders; the rep's phone, in a shop with a weak
    // cell, then catches up on all of them.
    let desk = phone_behind(&relay, &shaper, &rep, SyncOptions::default());
    desk.sync();
    let orders: Vec<_> = (0..200).map(|_| new_order(&desk)).collect();
    desk.sync();
    // Pages of one second at 64 kbit/s (8 KB) are below the relay's smallest, 16 KiB.
    let options = SyncOptions { answer_time: Duration::from_secs(1), ..SyncOptions::default() };
    let phone = phone_behind(&relay, &shaper, &rep, options);
    shaper.set_link(64, Duration::from_millis(300));
    let sizes = Arc::new(AnswerSizes::default());
    phone.engine.set_listener(Some(sizes.clone()));
    let started = Instant::now();
    phone.sync();
    let answers = sizes.each();
    println!(
        "64 kbit/s, 300 ms: caught up in {:.1} s, {} answers of {answers:?} bytes; budget now {} bytes",
        started.elapsed().as_secs_f64(),
        answers.len(),
        phone.engine.answer_budget()
    );
    for order in &orders {
        assert!(phone.store.order(order).is_ok(), "order {order} never reached the phone");
    }
    assert_eq!(phone.engine.answer_budget(), MIN_ANSWER_BUDGET, "the budget follows the measured link");
    // The first answer is cut at the first budget; every later one near the link's budget
    // (a page ends after the entry that reaches it, so one order document more at most).
    let slack = 8 * 1024;
    assert!(answers.len() >= 4, "the catch-up came in {} answers: {answers:?}", answers.len());
    assert!(answers[0] <= (FIRST_ANSWER_BYTES + slack) as u64, "first answer of {} bytes", answers[0]);
    for (n, bytes) in answers.iter().enumerate().skip(1) {
        assert!(*bytes <= (MIN_ANSWER_BUDGET + slack) as u64, "answer {n} of {bytes} bytes: {answers:?}");
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
