//! `sales` (POS daily sales per store and SKU) and `purchases` (distributor sell-in): rows for the
//! relay's tables ([`crate::storage::SalesStore`]), never documents.
//!
//! Built for files of millions of rows: the validating pass streams the file and keeps 20 bytes
//! per row (its key as numbers, and its line) to find duplicate keys; the writing pass streams it
//! again and sends batches of [`BATCH_ROWS`] rows over a bounded channel into one storage
//! transaction, committed only after the last row, so a failure anywhere writes nothing.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use fieldsync_core::clock::now_ms;
use fieldsync_core::i18n::Message;
use tokio::sync::mpsc;

use super::check::{Errors, RowCheck, on_line};
use super::csv::{Columns, Record};
use super::stores::stores_by_customer_id;
use super::{
    Dataset, ImportReport, MAX_REPORTED_ERRORS, Mode, PROGRESS_EVERY_ROWS, Pass, Progress, ProgressFn, announcement,
    invalid, run_blocking, scan,
};
use crate::error::{Error, Result};
use crate::services::Caches;
use crate::services::catalog::tenant_catalog;
use crate::storage::{DailySale, DistributorPurchase, ImportEvents, RowBatch, RowBatches, Storage, UpsertCounts};

/// The columns of a `sales` file.
pub const SALES_COLUMNS: &[&str] = &["day", "customer_id", "sku", "units", "amount"];
/// The columns of a `purchases` file.
pub const PURCHASE_COLUMNS: &[&str] = &["day", "distributor", "region", "sku", "units", "amount"];
/// Rows per batch sent to storage.
pub const BATCH_ROWS: usize = 5_000;
/// Batches waiting for storage at most (bounds the memory of the writing pass).
const QUEUED_BATCHES: usize = 4;

/// A row's key as numbers (unused parts are 0), for duplicate detection in little memory.
type Key = [u32; 4];

/// How one table dataset reads its rows.
trait RowReader: Send + 'static {
    /// A validated row.
    type Row: Send + 'static;
    /// The dataset.
    const DATASET: Dataset;

    /// Validates `record`; returns its row and key when every check passed.
    fn read(&mut self, columns: &Columns, record: &Record, row: &mut RowCheck<'_>) -> Option<(Self::Row, Key)>;

    /// Names the row with this key, for a duplicate's error message.
    fn describe(&self, key: &Key) -> Message;

    /// Upserts the rows of `batches` in one transaction, with the import's `events`.
    fn upsert<'a>(
        storage: &'a dyn Storage,
        tenant_id: i64,
        batches: RowBatches<Self::Row>,
        now: i64,
        events: ImportEvents,
    ) -> Pin<Box<dyn Future<Output = Result<UpsertCounts>> + Send + 'a>>;
}

/// Numbers distinct strings (distributors, regions) in the order they first appear.
#[derive(Default)]
struct Interner {
    numbers: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn number(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.numbers.get(name) {
            return n;
        }
        let n = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.numbers.insert(name.to_owned(), n);
        self.names.push(name.to_owned());
        n
    }

    fn name(&self, n: u32) -> &str {
        self.names.get(n as usize).map_or("?", String::as_str)
    }
}

/// The tenant's SKUs, numbered.
fn skus_of(catalog: Option<&fieldsync_core::doc::Catalog>) -> Interner {
    let mut skus = Interner::default();
    for sku in catalog.iter().flat_map(|c| c.products.keys()) {
        skus.number(sku);
    }
    skus
}

fn day_text(number: u32) -> String {
    format!("{:04}-{:02}-{:02}", number / 10_000, number / 100 % 100, number % 100)
}

/// Reads `sales` rows: the store by customer id, the SKU from the catalog.
struct SalesReader {
    skus: Interner,
    /// Customer ids, numbered, and the store document id of each.
    customers: Interner,
    store_ids: Vec<String>,
}

impl RowReader for SalesReader {
    type Row = DailySale;
    const DATASET: Dataset = Dataset::Sales;

    fn read(&mut self, columns: &Columns, record: &Record, row: &mut RowCheck<'_>) -> Option<(DailySale, Key)> {
        let (day, day_number) = row.day(columns.field(record, "day"));
        let customer_id = row.text(columns.field(record, "customer_id"), "customer_id");
        let sku = row.text(columns.field(record, "sku"), "sku");
        let units = row.whole(columns.field(record, "units"), "units");
        let amount_cents = row.cents(columns.field(record, "amount"), "amount");
        let customer = self.customers.numbers.get(&customer_id).copied();
        if !customer_id.is_empty() && customer.is_none() {
            row.fail(Message::new("refusal-import-unknown-store").arg("value", format!("{customer_id:?}")));
        }
        let sku_number = self.skus.numbers.get(&sku).copied();
        if !sku.is_empty() && sku_number.is_none() {
            row.fail(Message::new("refusal-import-unknown-sku").arg("sku", format!("{sku:?}")));
        }
        let (Some(customer), Some(sku_number)) = (customer, sku_number) else { return None };
        if !row.ok() {
            return None;
        }
        let store_id = self.store_ids.get(customer as usize)?.clone();
        Some((DailySale { store_id, sku, day, units, amount_cents }, [day_number, customer, sku_number, 0]))
    }

    fn describe(&self, key: &Key) -> Message {
        Message::new("refusal-import-sale-key")
            .arg("customer", format!("{:?}", self.customers.name(key[1])))
            .arg("sku", format!("{:?}", self.skus.name(key[2])))
            .arg("day", day_text(key[0]))
    }

    fn upsert<'a>(
        storage: &'a dyn Storage,
        tenant_id: i64,
        batches: RowBatches<DailySale>,
        now: i64,
        events: ImportEvents,
    ) -> Pin<Box<dyn Future<Output = Result<UpsertCounts>> + Send + 'a>> {
        storage.upsert_daily_sales(tenant_id, batches, now, events)
    }
}

/// Reads `purchases` rows: any distributor code, a region, a SKU from the catalog.
struct PurchaseReader {
    skus: Interner,
    distributors: Interner,
    regions: Interner,
}

impl RowReader for PurchaseReader {
    type Row = DistributorPurchase;
    const DATASET: Dataset = Dataset::Purchases;

    fn read(
        &mut self,
        columns: &Columns,
        record: &Record,
        row: &mut RowCheck<'_>,
    ) -> Option<(DistributorPurchase, Key)> {
        let (day, day_number) = row.day(columns.field(record, "day"));
        let distributor = row.text(columns.field(record, "distributor"), "distributor");
        let region = row.region(columns.field(record, "region"));
        let sku = row.text(columns.field(record, "sku"), "sku");
        let units = row.whole(columns.field(record, "units"), "units");
        let amount_cents = row.cents(columns.field(record, "amount"), "amount");
        let sku_number = self.skus.numbers.get(&sku).copied();
        if !sku.is_empty() && sku_number.is_none() {
            row.fail(Message::new("refusal-import-unknown-sku").arg("sku", format!("{sku:?}")));
        }
        if !row.ok() {
            return None;
        }
        let key = [day_number, self.distributors.number(&distributor), self.regions.number(&region), sku_number?];
        Some((DistributorPurchase { day, distributor, region, sku, units, amount_cents }, key))
    }

    fn describe(&self, key: &Key) -> Message {
        Message::new("refusal-import-purchase-key")
            .arg("distributor", format!("{:?}", self.distributors.name(key[1])))
            .arg("region", format!("{:?}", self.regions.name(key[2])))
            .arg("sku", format!("{:?}", self.skus.name(key[3])))
            .arg("day", day_text(key[0]))
    }

    fn upsert<'a>(
        storage: &'a dyn Storage,
        tenant_id: i64,
        batches: RowBatches<DistributorPurchase>,
        now: i64,
        events: ImportEvents,
    ) -> Pin<Box<dyn Future<Output = Result<UpsertCounts>> + Send + 'a>> {
        storage.upsert_purchases(tenant_id, batches, now, events)
    }
}

/// Imports a `sales` file.
pub async fn import_sales(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    path: &Path,
    progress: ProgressFn,
    mode: Mode,
) -> Result<ImportReport> {
    let catalog = catalog_or_none(storage, caches, tenant_id).await?;
    let mut customers = Interner::default();
    let mut store_ids = Vec::new();
    for (customer_id, store_id) in stores_by_customer_id(storage, tenant_id).await? {
        customers.number(&customer_id);
        store_ids.push(store_id.to_string());
    }
    let reader = SalesReader { skus: skus_of(catalog.as_deref()), customers, store_ids };
    import_rows(storage, tenant_id, path, reader, progress, mode).await
}

/// Imports a `purchases` file.
pub async fn import_purchases(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    path: &Path,
    progress: ProgressFn,
    mode: Mode,
) -> Result<ImportReport> {
    let catalog = catalog_or_none(storage, caches, tenant_id).await?;
    let reader = PurchaseReader {
        skus: skus_of(catalog.as_deref()),
        distributors: Interner::default(),
        regions: Interner::default(),
    };
    import_rows(storage, tenant_id, path, reader, progress, mode).await
}

async fn catalog_or_none(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
) -> Result<Option<std::sync::Arc<fieldsync_core::doc::Catalog>>> {
    match tenant_catalog(storage, caches, tenant_id).await {
        Ok(catalog) => Ok(Some(catalog)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Validates the whole file, then streams it into storage in one transaction.
async fn import_rows<R: RowReader>(
    storage: &dyn Storage,
    tenant_id: i64,
    path: &Path,
    reader: R,
    progress: ProgressFn,
    mode: Mode,
) -> Result<ImportReport> {
    let file = path.to_path_buf();
    let validating = progress.clone();
    let (reader, rows) = run_blocking(move || validate(&file, reader, &validating)).await?;
    if mode == Mode::Check {
        return Ok(ImportReport { dataset: R::DATASET, rows, created: 0, updated: 0, unchanged: 0 });
    }

    let (sender, batches) = mpsc::channel(QUEUED_BATCHES);
    let file = path.to_path_buf();
    let writing = progress.clone();
    let producer = tokio::task::spawn_blocking(move || produce(&file, reader, sender, rows, &writing));
    let now = now_ms();
    let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let report = move |counts: UpsertCounts| ImportReport {
        dataset: R::DATASET,
        rows,
        created: count(counts.created),
        updated: count(counts.updated),
        unchanged: count(counts.unchanged),
    };
    let events: ImportEvents = Box::new(move |counts| announcement(&report(counts), now));
    let stored = R::upsert(storage, tenant_id, batches, now, events).await;
    let produced = producer.await.map_err(|e| Error::Storage(format!("import task failed: {e}")))?;
    let counts = match (produced, stored) {
        (Ok(()), Ok(counts)) => counts,
        // The reading side's failure is the cause; storage only saw the stream end early.
        (Err(Produce::Failed(error)), _) => return Err(error),
        (_, Err(error)) => return Err(error),
        (Err(Produce::Closed), Ok(_)) => {
            return Err(Error::Storage("storage stopped taking rows before the end of the file".into()));
        }
    };
    Ok(report(counts))
}

/// The first pass: every row checked, duplicates found; returns the reader (with what it learned)
/// and the number of rows.
fn validate<R: RowReader>(path: &Path, mut reader: R, progress: &ProgressFn) -> Result<(R, usize)> {
    let mut errors = Errors::new(MAX_REPORTED_ERRORS);
    let mut keys: Vec<(Key, u32)> = Vec::new();
    let (_, rows) =
        scan(path, R::DATASET.columns(), Pass::Validate, progress, &mut errors, |columns, record, errors| {
            let mut row = RowCheck::new(record.line, errors);
            if let Some((_, key)) = reader.read(columns, record, &mut row) {
                keys.push((key, u32::try_from(record.line).unwrap_or(u32::MAX)));
            }
            Ok(())
        })?;
    keys.sort_unstable();
    for pair in keys.windows(2) {
        if let [(first_key, first_line), (key, line)] = pair
            && key == first_key
        {
            // In a run of equal keys, each repeats the one before; name the run's first line.
            let first = keys.partition_point(|(k, _)| k < key);
            let first_line = keys.get(first).map_or(*first_line, |(_, l)| *l);
            let line = *line as usize;
            let reason = Message::new("refusal-import-already").part("row", reader.describe(key));
            errors.push(line, on_line(line, reason.arg("first", first_line)));
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    Ok((reader, rows))
}

/// Why the writing pass stopped early.
enum Produce {
    /// Storage closed the channel (it failed; its error says why).
    Closed,
    /// Reading failed, or the file changed since it was validated.
    Failed(Error),
}

/// The second pass: sends the rows in batches, then [`RowBatch::Commit`].
fn produce<R: RowReader>(
    path: &Path,
    mut reader: R,
    sender: mpsc::Sender<RowBatch<R::Row>>,
    rows: usize,
    progress: &ProgressFn,
) -> std::result::Result<(), Produce> {
    let mut errors = Errors::new(MAX_REPORTED_ERRORS);
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut sent = 0;
    let mut closed = false;
    let scanned = scan(path, R::DATASET.columns(), Pass::Write, progress, &mut errors, |columns, record, errors| {
        let mut row = RowCheck::new(record.line, errors);
        let Some((value, _)) = reader.read(columns, record, &mut row) else {
            return Err(changed());
        };
        batch.push(value);
        if batch.len() == BATCH_ROWS {
            sent += batch.len();
            if sender
                .blocking_send(RowBatch::Rows(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS))))
                .is_err()
            {
                closed = true;
                return Err(changed());
            }
            if sent % PROGRESS_EVERY_ROWS < BATCH_ROWS {
                progress(Progress::Written { done: sent, total: rows });
            }
        }
        Ok(())
    });
    if closed {
        return Err(Produce::Closed);
    }
    let (_, scanned_rows) = scanned.map_err(Produce::Failed)?;
    if !errors.is_empty() || scanned_rows != rows {
        return Err(Produce::Failed(changed()));
    }
    sent += batch.len();
    if !batch.is_empty() && sender.blocking_send(RowBatch::Rows(batch)).is_err() {
        return Err(Produce::Closed);
    }
    if sender.blocking_send(RowBatch::Commit).is_err() {
        return Err(Produce::Closed);
    }
    progress(Progress::Written { done: sent, total: rows });
    Ok(())
}

fn changed() -> Error {
    Error::Conflict("the file changed while it was imported; nothing was written".into())
}
