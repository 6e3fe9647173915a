//! Nothing acknowledged is lost when the relay dies: the real `fieldsync-server` binary runs as a
//! child process, is killed with SIGKILL while phones push many orders, and restarts on the same
//! data directory. Every order a phone saw acknowledged is there after the restart, the phones
//! then converge, and nothing is duplicated.
//!
//! `FIELDSYNC_CRASH_SEED=S` replays one kill schedule (default 1).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeSet;
use std::time::Duration;

use fieldsync_core::DocumentId;
use fieldsync_core::local_store::{LineInput, NewOrder};
use fieldsync_core::sync::{SyncOptions, login};
use fieldsync_tests::{Phone, RelayProcess, http};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const KILLS: usize = 3;
const ORDERS_PER_PHONE_PER_ROUND: usize = 40;

fn create_orders(phone: &Phone, n: usize, rng: &mut StdRng) -> Vec<DocumentId> {
    let stores = phone.store.stores().unwrap();
    let sku = phone.store.catalog().unwrap().products.iter().find(|(_, p)| p.active).unwrap().0.clone();
    let price = phone.store.product(&sku).unwrap().base_price_cents;
    (0..n)
        .map(|_| {
            let (store_id, _) = &stores[rng.random_range(0..stores.len())];
            let line =
                LineInput { sku: sku.clone(), qty: rng.random_range(1..20), unit_price_cents: price, discount_bp: 0 };
            let new = NewOrder { store_id: store_id.to_string(), lines: vec![line], notes: String::new() };
            phone.store.create_order(new).unwrap()
        })
        .collect()
}

/// The order ids the relay serves to HQ, in list order (duplicates kept, to be counted).
fn relay_orders(relay: &RelayProcess) -> Vec<String> {
    let hq = &relay.users("hq")[0];
    let password = &relay.login_of(hq).password;
    let session = login(&relay.base_url, "demo", hq, password, "hq laptop").unwrap();
    let answer = http("GET", &format!("{}/v1/orders?limit=1000", relay.base_url), Some(&session.token), &[], vec![]);
    assert_eq!(answer.status, 200);
    answer.json()["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn orders_the_relay_acknowledged_survive_kill_9_mid_sync_and_phones_converge_after_restart() {
    let seed: u64 = std::env::var("FIELDSYNC_CRASH_SEED").map(|s| s.parse().unwrap()).unwrap_or(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut relay = RelayProcess::seed_and_serve();
    let reps = relay.users("rep");
    // Small batches, so a sync is many round trips and a kill lands in the middle of one.
    let options = SyncOptions { pushes_per_round: 4, ..SyncOptions::default() };
    let phones: Vec<Phone> = reps[..2].iter().map(|rep| relay.phone_with(rep, options.clone())).collect();
    for phone in &phones {
        phone.sync();
    }
    let mut created: Vec<Vec<DocumentId>> = vec![Vec::new(); phones.len()];
    let mut killed_mid_sync = 0;

    for kill in 0..KILLS {
        for (phone, ids) in phones.iter().zip(&mut created) {
            ids.extend(create_orders(phone, ORDERS_PER_PHONE_PER_ROUND, &mut rng));
        }
        let delay = Duration::from_millis(rng.random_range(5..150));
        let results = std::thread::scope(|scope| {
            let syncs: Vec<_> = phones.iter().map(|phone| scope.spawn(|| phone.engine.sync_now())).collect();
            std::thread::sleep(delay);
            relay.kill();
            syncs.into_iter().map(|s| s.join().unwrap()).collect::<Vec<_>>()
        });
        killed_mid_sync += results.iter().filter(|r| r.is_err()).count();
        // What each phone saw acknowledged: it left the outbox.
        let acknowledged: Vec<DocumentId> = phones
            .iter()
            .zip(&created)
            .flat_map(|(phone, ids)| {
                let pending: BTreeSet<DocumentId> = phone.store.pending_documents().unwrap().into_iter().collect();
                ids.iter().filter(move |id| !pending.contains(*id)).cloned().collect::<Vec<_>>()
            })
            .collect();
        relay.serve();
        let on_relay: BTreeSet<String> = relay_orders(&relay).into_iter().collect();
        for id in &acknowledged {
            assert!(
                on_relay.contains(id.as_str()),
                "seed {seed}, kill {kill} after {delay:?}: order {id} was acknowledged but is gone after the restart"
            );
        }
    }
    assert!(killed_mid_sync > 0, "seed {seed}: no kill landed mid-sync; the schedule tests nothing");

    // After the last restart the phones finish, and everything is there exactly once.
    for _ in 0..2 {
        for phone in &phones {
            phone.engine.sync_now().unwrap_or_else(|e| panic!("seed {seed}: sync after restart failed: {e}"));
        }
    }
    let all: Vec<DocumentId> = created.iter().flatten().cloned().collect();
    let listed = relay_orders(&relay);
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "seed {seed}: the relay lists an order twice");
    let expected: BTreeSet<String> = all.iter().map(|id| id.to_string()).collect();
    let listed: BTreeSet<String> = listed.into_iter().collect();
    assert_eq!(listed, expected, "seed {seed}: the relay holds other orders than the phones created");
    let hq = relay.phone(&relay.users("hq")[0]);
    hq.sync();
    for (phone, ids) in phones.iter().zip(&created) {
        assert!(phone.store.pending_documents().unwrap().is_empty(), "seed {seed}: unsent orders left");
        assert!(phone.store.quarantined().unwrap().is_empty(), "seed {seed}: {:?}", phone.store.quarantined());
        for id in ids {
            assert_eq!(hq.store.order(id).unwrap(), phone.store.order(id).unwrap(), "seed {seed}: order {id}");
        }
        // The relay's own jobs (order reviews, alert evaluations) may still be writing documents
        // for this phone; once they settle its sync must be quiet: one round, nothing either way.
        let mut quiet = false;
        for _ in 0..50 {
            let report = phone.sync();
            assert_eq!(report.accepted, 0, "seed {seed}: sent changes again after converging: {report:?}");
            if report.rounds == 1 && report.received == 0 {
                quiet = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        assert!(quiet, "seed {seed}: the phone never became quiet after converging");
    }
}
