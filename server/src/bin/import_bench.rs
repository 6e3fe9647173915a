//! Benchmark of the POS sales import: writes a CSV of 1,000,000 daily sales (or the number of rows
//! given as the first argument) to a temporary directory, seeds a tenant with a 2,000-product
//! catalog and 200 stores, imports the file twice through [`imports::import_file`] (what
//! `fieldsync-server import` runs) and prints rows per second, wall time, file size and peak memory.
//!
//! ```sh
//! cargo run --release -p fieldsync-server --bin import_bench [ROWS]
//! ```
//!
//! Peak memory is the process's `VmHWM` from `/proc/self/status`, read before and after each
//! import; the high-water mark is reset before each import (through `/proc/self/clear_refs`) where
//! the kernel allows it, so the figure after an import is that import's own peak.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use fieldsync_core::doc::{Catalog, Product, RetailStore};
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::documents;
use fieldsync_server::imports::{self, Dataset, Pass, Progress, ProgressFn};
use fieldsync_server::services::accounts;

const PRODUCTS: usize = 2_000;
const STORES: usize = 200;
/// SKUs each store sells per day in the generated file.
const SKUS_PER_STORE_DAY: usize = 100;

fn main() -> ExitCode {
    let rows = match std::env::args().nth(1).map(|a| a.replace('_', "").parse::<usize>()) {
        None => 1_000_000,
        Some(Ok(rows)) if rows > 0 => rows,
        Some(_) => {
            eprintln!("usage: import_bench [ROWS]");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(rows)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

async fn run(rows: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(dir.path().join("data"));
    config.password_cost = PasswordCost::insecure_for_tests();
    let state = config.open_state()?;
    let storage = state.storage.as_ref();
    let tenant = accounts::create_tenant(storage, "bench").await?;

    let seeding = Instant::now();
    let products = (0..PRODUCTS)
        .map(|n| {
            let product = Product {
                name: format!("Product {n}"),
                category: format!("category-{}", n % 20),
                unit: "case of 12".to_owned(),
                base_price_cents: 100 + (n as i64 % 50) * 10,
                active: true,
            };
            (sku(n), product)
        })
        .collect();
    let catalog = Catalog::with_products(products, 0);
    documents::create_as_relay(storage, tenant.id, &catalog).await?;
    for n in 0..STORES {
        let store = RetailStore {
            name: format!("Store {n}"),
            code: String::new(),
            address: format!("{n} Main St"),
            customer_id: customer(n),
            region: format!("region-{}", n % 5),
            tier: "B".to_owned(),
            latitude: 52.0,
            longitude: 4.0,
            geofence_m: 0.0,
            rep: "rep".to_owned(),
            supervisor: "supervisor".to_owned(),
            active: true,
        };
        documents::create_as_relay(storage, tenant.id, &store).await?;
    }
    println!("seeded tenant: {PRODUCTS} products, {STORES} stores in {:.2} s", seeding.elapsed().as_secs_f64());

    let file = dir.path().join("sales.csv");
    let writing = Instant::now();
    write_sales(&file, rows)?;
    let size = std::fs::metadata(&file)?.len();
    println!(
        "wrote {rows} rows, {:.1} MiB, in {:.2} s to {}",
        size as f64 / 1_048_576.0,
        writing.elapsed().as_secs_f64(),
        file.display()
    );

    for round in ["first import", "same file again"] {
        let reset = reset_peak_memory();
        let before = peak_memory_kib();
        let started = Instant::now();
        // When the writing pass began.
        let writing_since = Arc::new(Mutex::new(None));
        let progress: ProgressFn = {
            let writing_since = writing_since.clone();
            Arc::new(move |progress| {
                if let Progress::Read { pass: Pass::Write, .. } = progress {
                    writing_since.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(Instant::now);
                }
            })
        };
        let report = imports::import_file(storage, &state.caches, tenant.id, Dataset::Sales, &file, progress).await?;
        let wall = started.elapsed().as_secs_f64();
        let validated = writing_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map_or(wall, |at| at.duration_since(started).as_secs_f64());
        let after = peak_memory_kib();
        println!("{round}: {report}");
        println!(
            "  wall {wall:.2} s, {:.0} rows/s, {:.1} MiB/s; VmHWM before {} after {}{}",
            report.rows as f64 / wall,
            size as f64 / 1_048_576.0 / wall,
            mib(before),
            mib(after),
            if reset { " (high-water mark reset before the import)" } else { "" }
        );
        println!("  validating pass {validated:.2} s, writing pass {:.2} s", wall - validated);
    }
    let database = std::fs::metadata(state.config.database_path()).map(|m| m.len()).unwrap_or(0);
    println!("database file {:.1} MiB", database as f64 / 1_048_576.0);
    Ok(())
}

fn sku(n: usize) -> String {
    format!("SKU-{n:05}")
}

fn customer(n: usize) -> String {
    format!("C-{n:04}")
}

/// Writes `rows` daily sales: each day, every store sells [`SKUS_PER_STORE_DAY`] SKUs (a window
/// of the catalog that moves with the store and the day).
fn write_sales(path: &std::path::Path, rows: usize) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "day,customer_id,sku,units,amount")?;
    let per_day = STORES * SKUS_PER_STORE_DAY;
    for n in 0..rows {
        let (day_index, within) = (n / per_day, n % per_day);
        let (store, slot) = (within / SKUS_PER_STORE_DAY, within % SKUS_PER_STORE_DAY);
        let product = (store * 7 + day_index * 13 + slot) % PRODUCTS;
        let units = 1 + (n * 7919) % 40;
        let cents = units * (100 + (product % 50) * 10);
        writeln!(
            out,
            "{},{},{},{units},{}.{:02}",
            day(day_index),
            customer(store),
            sku(product),
            cents / 100,
            cents % 100
        )?;
    }
    out.flush()
}

/// The `index`-th day from 2025-01-01 (a 28-day month keeps the arithmetic simple and the
/// dates real).
fn day(index: usize) -> String {
    let (month_index, day) = (index / 28, index % 28 + 1);
    format!("{}-{:02}-{day:02}", 2025 + month_index / 12, month_index % 12 + 1)
}

/// The process's peak resident memory (`VmHWM`), in KiB.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets `VmHWM` to the current resident size; whether the kernel allowed it.
fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_owned(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0))
}
