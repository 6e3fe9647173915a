//! Core benchmarks: `cargo bench -p fieldsync-core --bench core`.
//!
//! Prints the median (and p90) of each operation next to its target. Figures, not assertions:
//! the machines are shared and noisy.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use std::time::Duration;

use support::measure;

use fieldsync_core::DocKind;
use fieldsync_core::LocalStore;
use fieldsync_core::doc::OrderStatus;
use fieldsync_core::doc::limits::{self, Limits};
use fieldsync_core::local_store::{NewOrder, OrderFilter};
use fieldsync_core::photo::{self, PhotoLimits};

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.db");
    let f = common::fixture_at(&path, common::REP, fieldsync_core::Role::Rep);
    let new_order = || NewOrder {
        store_id: f.shop_id.to_string(),
        lines: ["SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5"].iter().map(|sku| common::line(sku, 3)).collect(),
        notes: "bench".into(),
    };

    let create = measure(300, || {
        let id = f.store.create_order(new_order()).unwrap();
        std::hint::black_box(id);
    });
    report("create a 5-line order and commit it (synchronous=FULL)", &create, "5 ms");

    // What the limits add to every admission, side by side with loading the same order: the
    // relay measures the pushed bytes and the stored snapshot, then walks the built document.
    let order_id = f.store.create_order(new_order()).unwrap();
    let saved = f.store.document_bytes(&order_id).unwrap();
    let limits = Limits::for_kind(DocKind::Order);
    let load = measure(2_000, || {
        std::hint::black_box(automerge::Automerge::load(&saved).unwrap());
    });
    report(&format!("load a 5-line order ({} bytes)", saved.len()), &load, "-");
    let counted = measure(2_000, || {
        std::hint::black_box(limits::measure(&saved, limits.max_ops_per_push).unwrap());
    });
    report("count its operations without applying them (limits::measure)", &counted, "-");
    let loaded = automerge::Automerge::load(&saved).unwrap();
    let walked = measure(2_000, || limits::check_shape(&loaded, &limits).unwrap());
    report("walk its shape (limits::check_shape)", &walked, "-");

    // Fill to 5,000 orders, a third of them submitted.
    let existing = f.store.list_orders(&OrderFilter::default()).unwrap().len();
    for i in existing..5_000 {
        let id = f.store.create_order(new_order()).unwrap();
        if i % 3 == 0 {
            f.store.submit_order(&id).unwrap();
        }
    }
    let filter = OrderFilter { status: Some(OrderStatus::Submitted), ..Default::default() };
    let mut listed = 0;
    let list = measure(50, || listed = f.store.list_orders(&filter).unwrap().len());
    report(&format!("list 5,000 orders filtered by status ({listed} rows)"), &list, "20 ms");
    drop(f);

    let open = measure(30, || {
        let store = LocalStore::open(&path).unwrap();
        std::hint::black_box(store.identity());
    });
    report("open a store holding 5,000 orders", &open, "200 ms");

    let jpeg = support::twelve_megapixel_jpeg();
    let ingest = measure(15, || {
        std::hint::black_box(photo::ingest(&jpeg, &PhotoLimits::default()).unwrap());
    });
    report(&format!("ingest a 12 MP JPEG ({} KB)", jpeg.len() / 1024), &ingest, "400 ms");
}

fn report(what: &str, sorted: &[Duration], target: &str) {
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<62} median {:>9.3} ms   p90 {:>9.3} ms   target <= {target}",
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3
    );
}
