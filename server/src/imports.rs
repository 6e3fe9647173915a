//! CSV imports of master data by HQ: stock levels (`stock`) and stores (`stores`). The formats
//! are documented in `docs/imports.md`.
//!
//! An import is all or nothing: every row is validated first, and nothing is written when any
//! row fails (the error lists the first [`MAX_REPORTED_ERRORS`] failures by line number). Writes
//! go through [`documents::edit_as_relay`], which writes nothing when a document's value is
//! unchanged, so importing the same file twice changes nothing the second time.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{self, DocKind, Inventory, RetailStore, StockLevel};
use fieldsync_core::{DocumentId, Role};

use crate::accounts;
use crate::documents;
use crate::error::{Error, Result};
use crate::jobs::review_order::tenant_catalog;
use crate::scope::Scope;
use crate::storage::Storage;

/// Row errors listed in a refused import's message; the rest are counted.
pub const MAX_REPORTED_ERRORS: usize = 20;
/// Rows between two [`Progress::Validated`] reports.
pub const PROGRESS_EVERY_ROWS: usize = 10_000;
/// Documents between two [`Progress::Written`] reports.
pub const PROGRESS_EVERY_DOCS: usize = 100;
/// Most existing documents of a kind an import looks at.
const MAX_EXISTING_DOCS: u32 = 10_000;

const STOCK_COLUMNS: &[&str] = &["warehouse", "region", "sku", "on_hand", "safety"];
const STORE_COLUMNS: &[&str] =
    &["name", "address", "customer_id", "region", "tier", "latitude", "longitude", "rep", "supervisor"];
const TIERS: &[&str] = &["A", "B", "C"];

/// What a CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    /// Stock levels by warehouse, region and SKU.
    Stock,
    /// Retail stores, keyed by customer id.
    Stores,
}

impl Dataset {
    /// The name used in the URL and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::Stock => "stock",
            Dataset::Stores => "stores",
        }
    }

    /// The header the file must have (in any order).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Dataset::Stock => STOCK_COLUMNS,
            Dataset::Stores => STORE_COLUMNS,
        }
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
        match name {
            "stock" => Ok(Dataset::Stock),
            "stores" => Ok(Dataset::Stores),
            other => {
                Err(Error::bad_request("unknown-dataset", format!("unknown dataset {other:?}: use stock or stores")))
            }
        }
    }
}

/// How far an import got, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// This many rows were validated.
    Validated(usize),
    /// `done` of `total` documents were written (or found unchanged).
    Written {
        /// Documents handled so far.
        done: usize,
        /// Documents to handle.
        total: usize,
    },
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The dataset imported.
    pub dataset: Dataset,
    /// Data rows in the file.
    pub rows: usize,
    /// Documents created.
    pub created: usize,
    /// Existing documents changed.
    pub updated: usize,
    /// Existing documents left as they were (already equal).
    pub unchanged: usize,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported {} {} row(s): {} document(s) created, {} updated, {} unchanged",
            self.rows, self.dataset, self.created, self.updated, self.unchanged
        )
    }
}

/// Imports `text` (CSV with a header line) into a tenant. Validates every row before writing
/// anything; a refused import is an [`Error::BadRequest`] with code `invalid-import`.
pub async fn import(
    storage: &dyn Storage,
    tenant_id: i64,
    dataset: Dataset,
    text: &str,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<ImportReport> {
    let table = Table::parse(text, dataset.columns()).map_err(|e| invalid(vec![e]))?;
    match dataset {
        Dataset::Stock => import_stock(storage, tenant_id, &table, progress).await,
        Dataset::Stores => import_stores(storage, tenant_id, &table, progress).await,
    }
}

fn invalid(errors: Vec<String>) -> Error {
    let mut message = format!("{} error(s), nothing imported: ", errors.len());
    message.push_str(&errors.iter().take(MAX_REPORTED_ERRORS).cloned().collect::<Vec<_>>().join("; "));
    if errors.len() > MAX_REPORTED_ERRORS {
        message.push_str(&format!("; and {} more", errors.len() - MAX_REPORTED_ERRORS));
    }
    Error::bad_request("invalid-import", message)
}

fn everything() -> Scope {
    Scope { role: Role::Hq, user_id: String::new(), region: None }
}

// Stock

/// One validated stock row.
struct StockRow {
    sku: String,
    on_hand: i64,
    safety: i64,
}

async fn import_stock(
    storage: &dyn Storage,
    tenant_id: i64,
    table: &Table,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<ImportReport> {
    let skus = match tenant_catalog(storage, tenant_id).await {
        Ok(catalog) => catalog.products.keys().cloned().collect(),
        Err(Error::NotFound { .. }) => std::collections::BTreeSet::new(),
        Err(error) => return Err(error),
    };
    // (warehouse, region) → rows, and where each SKU of a warehouse was first seen.
    let mut groups: BTreeMap<(String, String), Vec<StockRow>> = BTreeMap::new();
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut errors = Vec::new();
    for (index, record) in table.records.iter().enumerate() {
        let mut row = RowCheck::new(record.line, &mut errors);
        let warehouse = row.text(table.field(record, "warehouse"), "warehouse");
        let region = row.region(table.field(record, "region"));
        let sku = row.text(table.field(record, "sku"), "sku");
        let on_hand = row.whole(table.field(record, "on_hand"), "on_hand");
        let safety = row.whole(table.field(record, "safety"), "safety");
        if !sku.is_empty() && !skus.contains(&sku) {
            row.fail(format!("sku {sku:?} is not in the tenant's catalog"));
        }
        if row.ok() {
            let key = (warehouse.clone(), region.clone(), sku.clone());
            if let Some(first) = seen.get(&key) {
                row.fail(format!("sku {sku:?} of warehouse {warehouse:?} in {region:?} already on line {first}"));
            } else {
                seen.insert(key, record.line);
                groups.entry((warehouse, region)).or_default().push(StockRow { sku, on_hand, safety });
            }
        }
        report_validated(index, progress);
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }

    let mut existing: HashMap<(String, String), DocumentId> = HashMap::new();
    let mut stored = storage.list_docs(tenant_id, &everything(), DocKind::Inventory, MAX_EXISTING_DOCS).await?;
    // The smallest id wins when a warehouse has several documents, as the phone picks.
    stored.sort_by(|a, b| b.id.as_str().cmp(a.id.as_str()));
    for doc in stored {
        if let (Some(warehouse), Some(region)) = (doc.meta.subject_id.clone(), doc.meta.region.clone()) {
            existing.insert((warehouse, region), doc.id);
        }
    }

    let now = now_ms();
    let mut report =
        ImportReport { dataset: Dataset::Stock, rows: table.records.len(), created: 0, updated: 0, unchanged: 0 };
    let total = groups.len();
    for (done, ((warehouse, region), rows)) in groups.into_iter().enumerate() {
        match existing.get(&(warehouse.clone(), region.clone())) {
            Some(id) => {
                let changed = documents::edit_as_relay(storage, tenant_id, id, |inventory: &mut Inventory| {
                    Ok(apply_levels(inventory, &rows, now))
                })
                .await?;
                if changed {
                    report.updated += 1;
                } else {
                    report.unchanged += 1;
                }
            }
            None => {
                let levels = rows
                    .iter()
                    .map(|r| (r.sku.clone(), StockLevel { on_hand: r.on_hand, reserved: 0, safety: r.safety }))
                    .collect();
                let inventory = Inventory { warehouse, region, levels, as_of: now, reservations: BTreeMap::new() };
                documents::create_as_relay(storage, tenant_id, &inventory).await?;
                report.created += 1;
            }
        }
        report_written(done + 1, total, progress);
    }
    Ok(report)
}

/// Sets the imported levels (keeping what is reserved) and, only if one changed, `as_of`.
/// Returns whether anything changed.
fn apply_levels(inventory: &mut Inventory, rows: &[StockRow], now: i64) -> bool {
    let mut changed = false;
    for row in rows {
        let level = inventory.levels.entry(row.sku.clone()).or_insert_with(|| {
            changed = true;
            StockLevel { on_hand: row.on_hand, reserved: 0, safety: row.safety }
        });
        if level.on_hand != row.on_hand || level.safety != row.safety {
            level.on_hand = row.on_hand;
            level.safety = row.safety;
            changed = true;
        }
    }
    if changed {
        inventory.as_of = now;
    }
    changed
}

// Stores

async fn import_stores(
    storage: &dyn Storage,
    tenant_id: i64,
    table: &Table,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<ImportReport> {
    let mut users: HashMap<String, Option<String>> = HashMap::new();
    let mut stores: Vec<RetailStore> = Vec::with_capacity(table.records.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (index, record) in table.records.iter().enumerate() {
        let rep_name = table.field(record, "rep").trim().to_owned();
        let supervisor_name = table.field(record, "supervisor").trim().to_owned();
        let mut user_ids = Vec::with_capacity(2);
        for username in [&rep_name, &supervisor_name] {
            if !username.is_empty() && !users.contains_key(username) {
                let id = storage.find_user_by_username(tenant_id, username).await?.map(|user| user.id);
                users.insert(username.clone(), id);
            }
            user_ids.push(users.get(username).cloned().flatten());
        }

        let mut row = RowCheck::new(record.line, &mut errors);
        let name = row.text(table.field(record, "name"), "name");
        let address = row.text(table.field(record, "address"), "address");
        let customer_id = row.text(table.field(record, "customer_id"), "customer_id");
        let region = row.region(table.field(record, "region"));
        let tier = row.text(table.field(record, "tier"), "tier");
        if !tier.is_empty() && !TIERS.contains(&tier.as_str()) {
            row.fail(format!("tier {tier:?} must be one of A, B, C"));
        }
        let latitude = row.degrees(table.field(record, "latitude"), "latitude", 90.0);
        let longitude = row.degrees(table.field(record, "longitude"), "longitude", 180.0);
        let mut people = Vec::with_capacity(2);
        for ((column, username), id) in
            ["rep", "supervisor"].into_iter().zip([&rep_name, &supervisor_name]).zip(user_ids)
        {
            if username.is_empty() {
                row.fail(format!("{column} is empty"));
            } else if id.is_none() {
                row.fail(format!("{column} {username:?} is not a user of this tenant"));
            }
            people.push(id.unwrap_or_default());
        }
        if !customer_id.is_empty() {
            if let Some(first) = seen.get(&customer_id) {
                row.fail(format!("customer_id {customer_id:?} already on line {first}"));
            } else {
                seen.insert(customer_id.clone(), record.line);
            }
        }
        if row.ok() {
            let supervisor = people.pop().unwrap_or_default();
            let rep = people.pop().unwrap_or_default();
            stores.push(RetailStore {
                name,
                address,
                customer_id,
                region,
                tier,
                latitude,
                longitude,
                rep,
                supervisor,
                active: true,
            });
        }
        report_validated(index, progress);
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }

    let mut existing: HashMap<String, DocumentId> = HashMap::new();
    let mut stored = storage.list_docs(tenant_id, &everything(), DocKind::Store, MAX_EXISTING_DOCS).await?;
    stored.sort_by(|a, b| b.id.as_str().cmp(a.id.as_str()));
    for doc in stored {
        let store: RetailStore = doc::read(&doc.id, &documents::load(&doc)?)?;
        existing.insert(store.customer_id, doc.id);
    }

    let mut report =
        ImportReport { dataset: Dataset::Stores, rows: table.records.len(), created: 0, updated: 0, unchanged: 0 };
    let total = stores.len();
    for (done, imported) in stores.into_iter().enumerate() {
        match existing.get(&imported.customer_id) {
            Some(id) => {
                let changed = documents::edit_as_relay(storage, tenant_id, id, |store: &mut RetailStore| {
                    // `active` is not in the file: a store HQ closed stays closed.
                    let updated = RetailStore { active: store.active, ..imported.clone() };
                    let changed = *store != updated;
                    *store = updated;
                    Ok(changed)
                })
                .await?;
                if changed {
                    report.updated += 1;
                } else {
                    report.unchanged += 1;
                }
            }
            None => {
                documents::create_as_relay(storage, tenant_id, &imported).await?;
                report.created += 1;
            }
        }
        report_written(done + 1, total, progress);
    }
    Ok(report)
}

fn report_validated(index: usize, progress: &mut (dyn FnMut(Progress) + Send)) {
    if (index + 1).is_multiple_of(PROGRESS_EVERY_ROWS) {
        progress(Progress::Validated(index + 1));
    }
}

fn report_written(done: usize, total: usize, progress: &mut (dyn FnMut(Progress) + Send)) {
    if done.is_multiple_of(PROGRESS_EVERY_DOCS) || done == total {
        progress(Progress::Written { done, total });
    }
}

// Row validation

/// Collects the errors of one row, each prefixed with its line.
struct RowCheck<'a> {
    line: usize,
    errors: &'a mut Vec<String>,
    failed: bool,
}

impl<'a> RowCheck<'a> {
    fn new(line: usize, errors: &'a mut Vec<String>) -> Self {
        Self { line, errors, failed: false }
    }

    fn fail(&mut self, reason: String) {
        self.failed = true;
        self.errors.push(format!("line {}: {reason}", self.line));
    }

    fn ok(&self) -> bool {
        !self.failed
    }

    fn text(&mut self, value: &str, column: &str) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.fail(format!("{column} is empty"));
        }
        value.to_owned()
    }

    fn region(&mut self, value: &str) -> String {
        let value = value.trim();
        if let Err(error) = accounts::validate_region(value) {
            self.fail(format!("region {value:?}: {error}"));
        }
        value.to_owned()
    }

    fn whole(&mut self, value: &str, column: &str) -> i64 {
        match value.trim().parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                self.fail(format!("{column} {value:?} must be a whole number ≥ 0"));
                0
            }
        }
    }

    fn degrees(&mut self, value: &str, column: &str, limit: f64) -> f64 {
        match value.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && (-limit..=limit).contains(&n) => n,
            _ => {
                self.fail(format!("{column} {value:?} must be a number of degrees from -{limit} to {limit}"));
                0.0
            }
        }
    }
}

// CSV

/// One data record and the line it starts on (the header is line 1).
#[derive(Debug, PartialEq)]
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// A parsed file: where each expected column is, and the data records.
#[derive(Debug)]
struct Table {
    positions: HashMap<&'static str, usize>,
    records: Vec<Record>,
}

impl Table {
    /// Parses `text` and checks its header holds exactly `columns` (in any order) and that every
    /// record has as many fields as the header. Errors name the line or column.
    fn parse(text: &str, columns: &'static [&'static str]) -> std::result::Result<Self, String> {
        let mut records = parse_csv(text.strip_prefix('\u{feff}').unwrap_or(text))?.into_iter();
        let header = records.next().ok_or_else(|| "the file is empty: expected a header line".to_owned())?;
        let mut positions = HashMap::new();
        for (position, name) in header.fields.iter().enumerate() {
            let name = name.trim();
            let Some(column) = columns.iter().find(|c| **c == name) else {
                return Err(format!("unknown column {name:?}: expected {}", columns.join(",")));
            };
            if positions.insert(*column, position).is_some() {
                return Err(format!("column {name:?} appears twice in the header"));
            }
        }
        if let Some(missing) = columns.iter().find(|c| !positions.contains_key(*c)) {
            return Err(format!("missing column {missing:?}: expected {}", columns.join(",")));
        }
        let width = header.fields.len();
        let records: Vec<Record> = records.collect();
        if let Some(bad) = records.iter().find(|r| r.fields.len() != width) {
            return Err(format!("line {}: {} field(s) where the header has {width}", bad.line, bad.fields.len()));
        }
        Ok(Self { positions, records })
    }

    fn field<'r>(&self, record: &'r Record, column: &str) -> &'r str {
        self.positions.get(column).and_then(|&i| record.fields.get(i)).map_or("", String::as_str)
    }
}

/// Splits RFC 4180 CSV into records: fields separated by commas, optionally in double quotes
/// (which may hold commas, newlines and `""` for a quote); CRLF or LF line ends; blank lines
/// skipped.
fn parse_csv(text: &str) -> std::result::Result<Vec<Record>, String> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    // Whether the current field was quoted (then only a separator or line end may follow).
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if field.is_empty() && !quoted => {
                quoted = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                        None => return Err(format!("line {start_line}: a quoted field is never closed")),
                    }
                }
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                end_record(&mut fields, &mut field, start_line, &mut records);
                quoted = false;
                line += 1;
                start_line = line;
            }
            _ if quoted => {
                return Err(format!("line {line}: unexpected {c:?} after a closing quote"));
            }
            c => field.push(c),
        }
    }
    if !fields.is_empty() || !field.is_empty() || quoted {
        end_record(&mut fields, &mut field, start_line, &mut records);
    }
    Ok(records)
}

fn end_record(fields: &mut Vec<String>, field: &mut String, start: usize, records: &mut Vec<Record>) {
    fields.push(std::mem::take(field));
    let is_blank = fields.len() == 1 && fields.first().is_some_and(String::is_empty);
    if !is_blank {
        records.push(Record { line: start, fields: std::mem::take(fields) });
    }
    fields.clear();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn quoted_fields_hold_commas_quotes_and_newlines() {
        let records = parse_csv("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",z").unwrap();
        assert_eq!(
            records,
            vec![
                Record { line: 1, fields: vec!["a".into(), "b".into()] },
                Record { line: 2, fields: vec!["x, y".into(), "say \"hi\"".into()] },
                Record { line: 4, fields: vec!["two\nlines".into(), "z".into()] },
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_names_its_line() {
        assert_eq!(parse_csv("a\n\"open").unwrap_err(), "line 2: a quoted field is never closed");
    }

    #[test]
    fn a_missing_or_unknown_column_is_named() {
        let missing = Table::parse("warehouse,region,sku,on_hand\n", STOCK_COLUMNS).unwrap_err();
        assert!(missing.contains("missing column \"safety\""), "{missing}");
        let unknown = Table::parse("warehouse,region,sku,on_hand,safety,colour\n", STOCK_COLUMNS).unwrap_err();
        assert!(unknown.contains("unknown column \"colour\""), "{unknown}");
    }

    #[test]
    fn an_empty_quoted_field_is_a_field() {
        let records = parse_csv("\"\",b\n").unwrap();
        assert_eq!(records, vec![Record { line: 1, fields: vec![String::new(), "b".into()] }]);
    }
}
