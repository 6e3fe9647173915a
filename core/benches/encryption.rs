//! The cost of encryption at rest: `cargo bench -p fieldsync-core --bench encryption`.
//!
//! The same work on a plain store and on a SQLCipher store, side by side: committing an order,
//! listing 5,000 orders, opening the store, reading a photo right after opening. Prints medians and p90s; figures,
//! not assertions (the machines are shared and noisy).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;
use std::time::Duration;

use support::measure;

use fieldsync_core::doc::{GeoFix, OrderStatus};
use fieldsync_core::local_store::{CheckIn, NewOrder, OrderFilter, PhotoCapture};
use fieldsync_core::{LocalStore, Role, StoreKey};

const ORDERS: usize = 5_000;

/// Figures of one store: (what, sorted times).
type Figures = Vec<(String, Vec<Duration>)>;

fn main() {
    let key = StoreKey::random();
    let plain_dir = tempfile::tempdir().expect("temp dir");
    let encrypted_dir = tempfile::tempdir().expect("temp dir");
    let plain = run(&plain_dir.path().join("plain.db"), None);
    let encrypted = run(&encrypted_dir.path().join("encrypted.db"), Some(key));
    println!("{:<44} {:>22} {:>22} {:>8}", "median (p90), ms", "plain SQLite", "SQLCipher", "ratio");
    for ((what, plain), (_, encrypted)) in plain.iter().zip(&encrypted) {
        let cell = |times: &[Duration]| format!("{:.3} ({:.3})", ms(at(times, 0.5)), ms(at(times, 0.9)));
        println!(
            "{what:<44} {:>22} {:>22} {:>7.2}x",
            cell(plain),
            cell(encrypted),
            ms(at(encrypted, 0.5)) / ms(at(plain, 0.5))
        );
    }
}

fn run(path: &Path, key: Option<StoreKey>) -> Figures {
    let open = |key: &Option<StoreKey>| match key {
        Some(key) => LocalStore::open_encrypted(path, key.clone()).unwrap(),
        None => LocalStore::open(path).unwrap(),
    };
    let f = common::fixture_in(open(&key), common::REP, Role::Rep);
    let new_order = || NewOrder {
        store_id: f.shop_id.to_string(),
        lines: ["SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5"].iter().map(|sku| common::line(sku, 3)).collect(),
        notes: "bench".into(),
    };
    let mut figures = Figures::new();
    let commit = measure(300, || {
        std::hint::black_box(f.store.create_order(new_order()).unwrap());
    });
    figures.push(("commit a 5-line order (synchronous=FULL)".into(), commit));

    let existing = f.store.list_orders(&OrderFilter::default()).unwrap().len();
    for i in existing..ORDERS {
        let id = f.store.create_order(new_order()).unwrap();
        if i % 3 == 0 {
            f.store.submit_order(&id).unwrap();
        }
    }
    let list_all = measure(30, || {
        std::hint::black_box(f.store.list_orders(&OrderFilter::default()).unwrap());
    });
    figures.push((format!("list all {ORDERS} orders"), list_all));
    let filter = OrderFilter { status: Some(OrderStatus::Submitted), ..Default::default() };
    let list_submitted = measure(30, || {
        std::hint::black_box(f.store.list_orders(&filter).unwrap());
    });
    figures.push((format!("list {ORDERS} orders filtered by status"), list_submitted));

    let at_shop = GeoFix { latitude: 52.37, longitude: 4.89, accuracy_m: 6.0 };
    let visit = f
        .store
        .check_in(CheckIn {
            store_id: f.shop_id.to_string(),
            template_id: f.template_id.to_string(),
            at: 1_764_460_800_000,
            position: at_shop,
        })
        .unwrap();
    let capture = PhotoCapture { captured_at: 1_764_460_860_000, position: None };
    let sha =
        f.store.add_photo(&visit, "facings", &common::fixture("astronaut.jpg"), capture).unwrap().reference.sha256;
    let size = f.store.photo_bytes(&sha).unwrap().len();
    drop(f);

    let reopen = measure(20, || {
        std::hint::black_box(open(&key).identity());
    });
    figures.push((format!("open a store holding {ORDERS} orders"), reopen));
    // A fresh store each time: the photo's pages come from the file (OS cache), not from
    // SQLite's page cache, so they are decrypted (and their HMACs checked) on every run.
    let cold_photo = measure(20, || {
        std::hint::black_box(open(&key).photo_bytes(&sha).unwrap());
    });
    figures.push((format!("open, then read a stored photo ({} KB)", size / 1024), cold_photo));
    figures
}

fn at(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
