//! CSV imports by HQ (formats in `docs/imports.md`):
//!
//! | dataset | goes to | module |
//! |---|---|---|
//! | `stock` | `inventory` documents | [`stock`] |
//! | `stores` | `store` documents | [`stores`] |
//! | `products`, `prices` | the tenant's `catalog` document | [`catalog`] |
//! | `sales`, `purchases` | relay tables ([`crate::storage::SalesStore`]), never synced to phones | [`sales`] |
//!
//! Every import reads a file twice with the streaming reader of [`csv`] (over the `csv` crate): a first pass validates
//! every row and writes nothing; only a file without a bad row gets the second, writing pass. The
//! refusal lists the first [`MAX_REPORTED_ERRORS`] failures by line number. Sales and purchases
//! are never held whole: the validating pass keeps a few bytes per row (to find duplicate keys),
//! and the writing pass streams batches into one storage transaction, so a million-row file
//! imports in bounded memory and all or nothing. The document datasets are master data (their
//! size is bounded by the documents they fill), read into memory, and written through
//! [`crate::documents::edit_as_relay`], which writes nothing when a value is unchanged.
//! Importing the same file twice changes nothing the second time.
//!
//! The command line, `POST /v1/import/{dataset}` (which first streams the body to a temporary
//! file) and the dashboard's imports page (which applies in the background) all call
//! [`import_file`]; the command line shows [`Progress`] through [`display`], and [`runs`] records
//! it with each run of the API and the dashboard, for the run's page. The
//! reader is [`csv`], the row checks [`check`]. JSON batches (`POST /v1/import/{dataset}/batch`,
//! [`batch`]) become such a file and go the same way.

pub mod batch;
pub mod catalog;
pub mod check;
pub mod csv;
pub mod display;
pub mod runs;
pub mod sales;
pub mod stock;
pub mod stores;

use std::fmt;
use std::fs::File;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use fieldsync_core::Role;
use fieldsync_core::i18n::Message;

use self::check::Errors;
use self::csv::{Columns, CsvError, CsvReader, Record};
use crate::error::{Error, ImportRefusal, Result};
use crate::scope::Scope;
use crate::services::Caches;
use crate::services::alerts;
use crate::storage::{NewEvent, Storage};

/// Row errors listed in a refused import's message; the rest are counted.
pub const MAX_REPORTED_ERRORS: usize = 20;
/// Rows between two [`Progress::Validated`] reports (and written-row reports of table datasets).
pub const PROGRESS_EVERY_ROWS: usize = 10_000;
/// Documents between two [`Progress::Written`] reports of document datasets.
pub const PROGRESS_EVERY_DOCS: usize = 100;
/// Bytes between two [`Progress::Read`] reports.
pub const PROGRESS_EVERY_BYTES: u64 = 1024 * 1024;
/// Most existing documents of a kind an import looks at.
const MAX_EXISTING_DOCS: u32 = 10_000;
/// Read buffer of the CSV reader.
const READ_BUFFER: usize = 256 * 1024;

/// What a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// Stock levels by warehouse, region and SKU.
    Stock,
    /// Retail stores, keyed by customer id.
    Stores,
    /// Catalog products, keyed by SKU.
    Products,
    /// Price-list entries: quantity breaks by price list and SKU.
    Prices,
    /// POS daily sales per store and SKU.
    Sales,
    /// Distributor purchases per day, distributor, region and SKU.
    Purchases,
}

/// Every dataset, in the order the docs list them.
pub const DATASETS: &[Dataset] =
    &[Dataset::Stock, Dataset::Stores, Dataset::Products, Dataset::Prices, Dataset::Sales, Dataset::Purchases];

impl Dataset {
    /// The name used in the URL and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::Stock => "stock",
            Dataset::Stores => "stores",
            Dataset::Products => "products",
            Dataset::Prices => "prices",
            Dataset::Sales => "sales",
            Dataset::Purchases => "purchases",
        }
    }

    /// The header the file must have (in any order).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Dataset::Stock => stock::COLUMNS,
            Dataset::Stores => stores::COLUMNS,
            Dataset::Products => catalog::PRODUCT_COLUMNS,
            Dataset::Prices => catalog::PRICE_COLUMNS,
            Dataset::Sales => sales::SALES_COLUMNS,
            Dataset::Purchases => sales::PURCHASE_COLUMNS,
        }
    }

    /// What the report counts for this dataset.
    pub fn counted(self) -> Counted {
        match self {
            Dataset::Stock | Dataset::Stores => Counted::Documents,
            Dataset::Products => Counted::Products,
            Dataset::Prices => Counted::Prices,
            Dataset::Sales | Dataset::Purchases => Counted::Rows,
        }
    }

    /// Whether a change of this data can raise or clear an alert (`crate::services::alerts`): stock levels,
    /// stores (recipients, promotion scope), products, sales.
    pub fn feeds_alerts(self) -> bool {
        matches!(self, Dataset::Stock | Dataset::Stores | Dataset::Products | Dataset::Sales)
    }

    /// Whether rows go to a relay table (sales, purchases) rather than documents.
    pub fn is_table(self) -> bool {
        matches!(self, Dataset::Sales | Dataset::Purchases)
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dataset {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        DATASETS.iter().copied().find(|d| d.as_str() == name).ok_or_else(|| {
            let names: Vec<&str> = DATASETS.iter().map(|d| d.as_str()).collect();
            let message = Message::new("refusal-unknown-dataset").arg("dataset", format!("{name:?}"));
            Error::invalid("unknown-dataset", message.arg("datasets", names.join(", ")))
        })
    }
}

/// What an [`ImportReport`] counts as created, updated and unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Documents (stock, stores).
    Documents,
    /// Catalog products.
    Products,
    /// Price-list entries (price list, SKU, minimum quantity).
    Prices,
    /// Table rows (sales, purchases).
    Rows,
}

impl Counted {
    /// The plural noun (`documents`, `products`, `prices`, `rows`).
    pub fn as_str(self) -> &'static str {
        match self {
            Counted::Documents => "documents",
            Counted::Products => "products",
            Counted::Prices => "prices",
            Counted::Rows => "rows",
        }
    }
}

/// Which reading of the file a [`Progress::Read`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The first pass: checking every row.
    Validate,
    /// The second pass: writing.
    Write,
}

/// How far an import got, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// `bytes` of the file's `total` were read in `pass`.
    Read {
        /// The pass reading.
        pass: Pass,
        /// Bytes read so far in this pass.
        bytes: u64,
        /// The file's size.
        total: u64,
    },
    /// This many rows were validated.
    Validated(usize),
    /// `done` of `total` items were written (or found unchanged): documents for stock and
    /// stores, rows for sales and purchases, the catalog for products and prices.
    Written {
        /// Items handled so far.
        done: usize,
        /// Items to handle.
        total: usize,
    },
}

/// Receives [`Progress`] reports; called from the import's reading threads.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// A [`ProgressFn`] that ignores every report.
pub fn no_progress() -> ProgressFn {
    Arc::new(|_| {})
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The dataset imported.
    pub dataset: Dataset,
    /// Data rows in the file.
    pub rows: usize,
    /// Items created ([`Dataset::counted`] says which).
    pub created: usize,
    /// Existing items changed.
    pub updated: usize,
    /// Existing items left as they were (already equal).
    pub unchanged: usize,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = match self.dataset.counted() {
            Counted::Documents => "document(s)",
            Counted::Products => "product(s)",
            Counted::Prices => "price(s)",
            Counted::Rows => "row(s)",
        };
        write!(
            f,
            "imported {} {} row(s): {} {noun} created, {} updated, {} unchanged",
            self.rows, self.dataset, self.created, self.updated, self.unchanged
        )
    }
}

/// Whether an import writes, or only checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Validate every row, then write.
    Apply,
    /// Validate every row and stop: nothing is written (a preview).
    Check,
}

/// Checks the CSV file at `path` exactly as [`import_file`] would before writing, and writes
/// nothing: the report counts its rows (nothing created or updated), or the refusal is an
/// [`Error::InvalidImport`] naming the bad lines.
pub async fn check_file(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    dataset: Dataset,
    path: &Path,
) -> Result<ImportReport> {
    run(storage, caches, tenant_id, dataset, path, no_progress(), Mode::Check).await
}

async fn run(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    dataset: Dataset,
    path: &Path,
    progress: ProgressFn,
    mode: Mode,
) -> Result<ImportReport> {
    match dataset {
        Dataset::Stock => stock::import(storage, caches, tenant_id, path, progress, mode).await,
        Dataset::Stores => stores::import(storage, tenant_id, path, progress, mode).await,
        Dataset::Products => catalog::import_products(storage, tenant_id, path, progress, mode).await,
        Dataset::Prices => catalog::import_prices(storage, caches, tenant_id, path, progress, mode).await,
        Dataset::Sales => sales::import_sales(storage, caches, tenant_id, path, progress, mode).await,
        Dataset::Purchases => sales::import_purchases(storage, caches, tenant_id, path, progress, mode).await,
    }
}

/// Imports the CSV file at `path` (with a header line) into a tenant. Validates every row before
/// writing anything; a refused import is an [`Error::InvalidImport`] (400 `invalid-import`)
/// naming the bad lines.
pub async fn import_file(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    dataset: Dataset,
    path: &Path,
    progress: ProgressFn,
) -> Result<ImportReport> {
    let report = run(storage, caches, tenant_id, dataset, path, progress, Mode::Apply).await?;
    if report.created + report.updated > 0 && dataset.feeds_alerts() {
        // The evaluation is a persisted job: a CLI import leaves it queued for the relay.
        alerts::queue_evaluation(storage, None, tenant_id, &format!("{dataset} import")).await?;
    }
    Ok(report)
}

/// The outbox event of an import that wrote something, `import.applied`; none for one that
/// changed nothing. Each dataset stores it in the transaction of the import's last write, so an
/// import that wrote is never left unannounced.
fn announcement(report: &ImportReport, at: i64) -> Vec<NewEvent> {
    if report.created + report.updated == 0 {
        return Vec::new();
    }
    vec![crate::events::import_applied(
        &report.dataset.to_string(),
        report.rows as u64,
        report.created as u64,
        report.updated as u64,
        report.unchanged as u64,
        at,
    )]
}

/// The refusal of a file with bad rows.
fn invalid(errors: Errors) -> Error {
    let count = errors.count();
    Error::InvalidImport(ImportRefusal { count, lines: errors.into_lines() })
}

/// The refusal of a file that is not CSV, or an I/O failure.
fn unreadable(error: CsvError) -> Error {
    match error {
        CsvError::Format(reason) => {
            let mut errors = Errors::new(1);
            errors.push(0, reason);
            invalid(errors)
        }
        CsvError::Io(error) => Error::Io(error),
    }
}

fn everything() -> Scope {
    Scope { role: Role::Hq, user_id: String::new(), region: None }
}

/// Reads `path` as a CSV file of `columns` in one pass, calling `each` with every record that has
/// the header's width (other records are errors). Reports progress; returns the header and the
/// number of data rows. `each` may stop the pass by returning an error.
fn scan(
    path: &Path,
    columns: &'static [&'static str],
    pass: Pass,
    progress: &ProgressFn,
    errors: &mut Errors,
    mut each: impl FnMut(&Columns, &Record, &mut Errors) -> Result<()>,
) -> Result<(Columns, usize)> {
    let file = File::open(path)?;
    let total = file.metadata()?.len();
    let mut reader = CsvReader::with_capacity(file, READ_BUFFER).map_err(unreadable)?;
    let header = Columns::read(&mut reader, columns).map_err(unreadable)?;
    let mut record = Record::default();
    let mut rows = 0;
    let mut reported = 0;
    while reader.read_record(&mut record).map_err(unreadable)? {
        rows += 1;
        match header.check_width(&record) {
            Ok(()) => each(&header, &record, errors)?,
            Err(message) => errors.push(record.line, message),
        }
        if pass == Pass::Validate && rows % PROGRESS_EVERY_ROWS == 0 {
            progress(Progress::Validated(rows));
        }
        if reader.bytes_read() - reported >= PROGRESS_EVERY_BYTES {
            reported = reader.bytes_read();
            progress(Progress::Read { pass, bytes: reported, total });
        }
    }
    progress(Progress::Read { pass, bytes: reader.bytes_read(), total });
    Ok((header, rows))
}

/// Reads a (master-data sized) file whole on the blocking pool: the records of the header's
/// width, and the errors of the others.
async fn read_records(
    path: &Path,
    columns: &'static [&'static str],
    progress: &ProgressFn,
) -> Result<(Columns, Vec<Record>, Errors)> {
    let path = path.to_path_buf();
    let progress = progress.clone();
    run_blocking(move || {
        let mut errors = Errors::new(MAX_REPORTED_ERRORS);
        let mut records = Vec::new();
        let (header, _) = scan(&path, columns, Pass::Validate, &progress, &mut errors, |_, record, _| {
            records.push(record.clone());
            Ok(())
        })?;
        Ok((header, records, errors))
    })
    .await
}

/// Runs blocking work (file reading, parsing) on tokio's blocking pool.
async fn run_blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Storage(format!("import task failed: {e}")))?
}

fn report_written(done: usize, total: usize, progress: &ProgressFn) {
    if done.is_multiple_of(PROGRESS_EVERY_DOCS) || done == total {
        progress(Progress::Written { done, total });
    }
}
