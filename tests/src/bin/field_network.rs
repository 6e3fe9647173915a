//! `field_network`: a supervisor's phone with a queue of photos on a bad field network, through
//! the user-space link shaper. It measures and prints; it never asserts on a timing.
//!
//! ```text
//! cargo run -p fieldsync-tests --bin field_network [-- --photos 40 --rtt-ms 600 --kbit 16,64,256 --only catch-up]
//! ```
//!
//! For each bandwidth, on a fresh relay: the phone's background lanes upload the queue while the
//! supervisor checks in at another store; then the same queue again with a cut every ~50 KB.
//! Printed: when the check-in was accepted, when the last photo arrived, bytes each way,
//! connections and cuts on the link. Then, per bandwidth, a rep's phone catches up on the
//! orders the rep's tablet wrote (`--orders`): how long it took, how many answers the relay sent
//! and the largest (answers are sized to the measured link, `docs/protocol.md`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use fieldsync_core::Role;
use fieldsync_core::sync::SyncOptions;
use fieldsync_tests::shaper::{LinkConfig, LinkShaper};
use fieldsync_tests::{AnswerSizes, Phone, Relay, check_in, new_order, queue_photos};

#[derive(Parser)]
struct Args {
    /// Photos queued (about 5 to 10 KB each).
    #[arg(long, default_value_t = 40)]
    photos: u32,
    /// Round-trip time the link adds, in ms.
    #[arg(long, default_value_t = 600)]
    rtt_ms: u64,
    /// Bandwidths to measure, in kbit/s.
    #[arg(long, value_delimiter = ',', default_values_t = [16, 64, 256])]
    kbit: Vec<u32>,
    /// Mean upstream bytes between cuts in the second run of each bandwidth.
    #[arg(long, default_value_t = 50_000)]
    cut_every: u64,
    /// Orders the rep's phone catches up on.
    #[arg(long, default_value_t = 300)]
    orders: u32,
    /// Only one of the two measurements: `photos` or `catch-up`.
    #[arg(long, value_parser = ["photos", "catch-up"])]
    only: Option<String>,
}

fn main() {
    let args = Args::parse();
    let wanted = |part: &str| args.only.as_deref().is_none_or(|only| only == part);
    if wanted("photos") {
        println!("{} photos, {} ms round trip", args.photos, args.rtt_ms);
        println!("kbit/s  cuts  check-in accepted  all photos  photo bytes  bytes up  bytes down  conns  cuts");
        for &kbit in &args.kbit {
            for cuts in [None, Some(args.cut_every)] {
                run(&args, kbit, cuts);
            }
        }
        println!();
    }
    if !wanted("catch-up") {
        return;
    }
    println!("{} orders written on the rep's tablet, caught up on the rep's phone:", args.orders);
    println!("kbit/s  caught up  answers  largest answer  bytes down  answer budget after");
    for &kbit in &args.kbit {
        catch_up(&args, kbit);
    }
}

fn catch_up(args: &Args, kbit: u32) {
    let relay = Relay::start();
    let shaper = LinkShaper::start(&relay.base_url, LinkConfig::new(100_000, 0));
    let rep = relay.users(Role::Rep, Some("north"))[0].clone();
    let demo = relay.login_of(&rep);
    let sign_in = || {
        Phone::sign_in_at(&shaper.base_url(), &demo.tenant, &rep, &demo.password, relay.dir(), SyncOptions::default())
    };
    let tablet = sign_in();
    tablet.sync();
    for _ in 0..args.orders {
        new_order(&tablet);
    }
    tablet.sync();
    let phone = sign_in();
    shaper.set_link(kbit, Duration::from_millis(args.rtt_ms));
    let sizes = Arc::new(AnswerSizes::default());
    phone.engine.set_listener(Some(sizes.clone()));
    let started = Instant::now();
    let report = phone.sync();
    let elapsed = started.elapsed();
    let largest = sizes.each().into_iter().max();
    println!(
        "{kbit:>6}  {:>7.1} s  {:>7}  {:>14}  {:>10}  {:>19}",
        elapsed.as_secs_f64(),
        report.rounds,
        largest.unwrap_or(0),
        report.bytes_received,
        phone.engine.answer_budget()
    );
}

fn run(args: &Args, kbit: u32, cuts: Option<u64>) {
    let relay = Relay::start();
    let shaper = LinkShaper::start(&relay.base_url, LinkConfig::new(100_000, 0));
    let demo = relay.login_of("supervisor-north");
    let sue = Phone::sign_in_at(
        &shaper.base_url(),
        &demo.tenant,
        "supervisor-north",
        &demo.password,
        relay.dir(),
        SyncOptions::default(),
    );
    sue.sync();
    let (_, payload) = queue_photos(&sue, args.photos);
    shaper.set_link(kbit, Duration::from_millis(args.rtt_ms));
    shaper.set_cuts(cuts);
    let before = shaper.stats().snapshot();
    let started = Instant::now();
    let lanes = sue.engine.start_background(Duration::from_secs(60));
    while sue.store.pending_photos().unwrap().0 + 1 >= u64::from(args.photos)
        && started.elapsed() < Duration::from_secs(600)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let made = Instant::now();
    let visit = check_in(&sue, 1);
    let mut accepted = None;
    let limit = Duration::from_secs(1800);
    while started.elapsed() < limit {
        if accepted.is_none() && relay.stored(&visit).is_some() {
            accepted = Some(made.elapsed());
        }
        if accepted.is_some() && sue.store.pending_photos().unwrap().0 == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let all = started.elapsed();
    drop(lanes);
    let after = shaper.stats().snapshot();
    let shown = |d: Option<Duration>| d.map_or("never".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
    println!(
        "{kbit:>6}  {:>4}  {:>17}  {:>10}  {payload:>11}  {:>8}  {:>10}  {:>5}  {:>4}",
        if cuts.is_some() { "yes" } else { "no" },
        shown(accepted),
        if sue.store.pending_photos().unwrap().0 == 0 { shown(Some(all)) } else { "unfinished".to_owned() },
        after.1 - before.1,
        after.2 - before.2,
        after.0 - before.0,
        after.3 - before.3,
    );
}
