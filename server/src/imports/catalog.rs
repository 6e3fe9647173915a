//! `products` and `prices`: edits of the tenant's `catalog` document (the one with the smallest id,
//! as the phones and the order review pick it).
//!
//! A `products` row creates or replaces one product (keyed by SKU); products not in the file stay.
//! A `prices` file lists quantity breaks by price list and SKU: the rows of one (price list, SKU)
//! pair replace that SKU's breaks in that list; other SKUs and lists stay. Either bumps the
//! catalog's `version` (and `updated_at`) only when something changed, so importing the same file
//! twice writes nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use fieldsync_core::DocumentId;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{Catalog, DocKind, PriceBreak, PriceList, Product};
use fieldsync_core::i18n::Message;

use super::check::RowCheck;
use super::{Dataset, ImportReport, Mode, Progress, ProgressFn, announcement, everything, invalid, read_records};
use crate::documents;
use crate::error::{Error, Result};
use crate::services::Caches;
use crate::services::catalog::tenant_catalog;
use crate::storage::Storage;

/// The columns of a `products` file.
pub const PRODUCT_COLUMNS: &[&str] = &["sku", "name", "category", "unit", "base_price", "active"];
/// The columns of a `prices` file.
pub const PRICE_COLUMNS: &[&str] = &["price_list", "tier", "region", "sku", "min_qty", "unit_price"];

/// Created, updated and unchanged counts.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    created: usize,
    updated: usize,
    unchanged: usize,
}

impl Counts {
    fn count(&mut self, before: Option<bool>) {
        match before {
            None => self.created += 1,
            Some(true) => self.unchanged += 1,
            Some(false) => self.updated += 1,
        }
    }

    fn report(&self, dataset: Dataset, rows: usize) -> ImportReport {
        ImportReport { dataset, rows, created: self.created, updated: self.updated, unchanged: self.unchanged }
    }
}

/// Imports a `products` file.
pub async fn import_products(
    storage: &dyn Storage,
    tenant_id: i64,
    path: &Path,
    progress: ProgressFn,
    mode: Mode,
) -> Result<ImportReport> {
    let (columns, records, mut errors) = read_records(path, PRODUCT_COLUMNS, &progress).await?;
    let mut products: BTreeMap<String, Product> = BTreeMap::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in &records {
        let mut row = RowCheck::new(record.line, &mut errors);
        let sku = row.text(columns.field(record, "sku"), "sku");
        let product = Product {
            name: row.text(columns.field(record, "name"), "name"),
            category: row.text(columns.field(record, "category"), "category"),
            unit: row.text(columns.field(record, "unit"), "unit"),
            base_price_cents: row.cents(columns.field(record, "base_price"), "base_price"),
            active: row.flag(columns.field(record, "active"), "active"),
        };
        if !sku.is_empty() {
            if let Some(first) = seen.get(&sku) {
                row.fail(
                    Message::new("refusal-import-duplicate-sku").arg("sku", format!("{sku:?}")).arg("first", first),
                );
            } else {
                seen.insert(sku.clone(), record.line);
            }
        }
        if row.ok() {
            products.insert(sku, product);
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if mode == Mode::Check {
        return Ok(ImportReport {
            dataset: Dataset::Products,
            rows: records.len(),
            created: 0,
            updated: 0,
            unchanged: 0,
        });
    }

    let now = now_ms();
    let rows = records.len();
    let report = |counts: &Counts| counts.report(Dataset::Products, rows);
    let counts = match catalog_id(storage, tenant_id).await? {
        Some(id) => {
            let edit = |catalog: &mut Catalog| {
                let mut counts = Counts::default();
                for (sku, product) in &products {
                    let before = catalog.products.insert(sku.clone(), product.clone());
                    counts.count(before.map(|b| b == *product));
                }
                if counts.created + counts.updated > 0 {
                    catalog.version += 1;
                    catalog.updated_at = now;
                }
                Ok(counts)
            };
            let announce = |counts: &Counts| announcement(&report(counts), now);
            documents::edit_as_relay_announcing(storage, tenant_id, &id, edit, announce).await?.0
        }
        None => {
            let counts = Counts { created: products.len(), ..Counts::default() };
            let catalog = Catalog::with_products(products, now);
            documents::create_as_relay_announcing(storage, tenant_id, &catalog, announcement(&report(&counts), now))
                .await?;
            counts
        }
    };
    progress(Progress::Written { done: 1, total: 1 });
    Ok(report(&counts))
}

/// The tier and region of an imported price list, and the line that first named them.
struct ListHeader {
    tier: String,
    region: String,
    line: usize,
}

/// Imports a `prices` file.
pub async fn import_prices(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    path: &Path,
    progress: ProgressFn,
    mode: Mode,
) -> Result<ImportReport> {
    let (columns, records, mut errors) = read_records(path, PRICE_COLUMNS, &progress).await?;
    let catalog = match tenant_catalog(storage, caches, tenant_id).await {
        Ok(catalog) => Some(catalog),
        Err(Error::NotFound { .. }) => None,
        Err(error) => return Err(error),
    };
    let mut lists: BTreeMap<String, ListHeader> = BTreeMap::new();
    // price list → SKU → min_qty → unit price.
    let mut prices: BTreeMap<String, BTreeMap<String, BTreeMap<i64, i64>>> = BTreeMap::new();
    let mut seen: HashMap<(String, String, i64), usize> = HashMap::new();
    for record in &records {
        let mut row = RowCheck::new(record.line, &mut errors);
        let list = row.text(columns.field(record, "price_list"), "price_list");
        let tier = row.tier(columns.field(record, "tier"), true);
        let region = row.region_or_any(columns.field(record, "region"));
        let sku = row.text(columns.field(record, "sku"), "sku");
        let min_qty = row.whole_from(columns.field(record, "min_qty"), "min_qty", 1);
        let unit_price = row.cents(columns.field(record, "unit_price"), "unit_price");
        if !sku.is_empty() && !catalog.as_ref().is_some_and(|c| c.products.contains_key(&sku)) {
            row.fail(Message::new("refusal-import-unknown-sku").arg("sku", format!("{sku:?}")));
        }
        if !row.ok() {
            continue;
        }
        match lists.get(&list) {
            Some(header) if header.tier != tier || header.region != region => {
                let message = Message::new("refusal-import-price-list-header").arg("list", format!("{list:?}"));
                let message =
                    message.arg("tier", format!("{:?}", header.tier)).arg("region", format!("{:?}", header.region));
                row.fail(message.arg("first", header.line));
                continue;
            }
            Some(_) => {}
            None => {
                lists.insert(list.clone(), ListHeader { tier, region, line: record.line });
            }
        }
        let key = (list.clone(), sku.clone(), min_qty);
        if let Some(first) = seen.get(&key) {
            let message = Message::new("refusal-import-duplicate-price").arg("sku", format!("{sku:?}"));
            let message = message.arg("min", min_qty).arg("list", format!("{list:?}"));
            row.fail(message.arg("first", first));
            continue;
        }
        seen.insert(key, record.line);
        prices.entry(list).or_default().entry(sku).or_default().insert(min_qty, unit_price);
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if mode == Mode::Check {
        return Ok(ImportReport {
            dataset: Dataset::Prices,
            rows: records.len(),
            created: 0,
            updated: 0,
            unchanged: 0,
        });
    }
    let id = match catalog_id(storage, tenant_id).await? {
        Some(id) => id,
        // Only an empty file gets here without a catalog: nothing to do.
        None => return Ok(ImportReport { dataset: Dataset::Prices, rows: 0, created: 0, updated: 0, unchanged: 0 }),
    };

    let now = now_ms();
    let rows = records.len();
    let report = |counts: &Counts| counts.report(Dataset::Prices, rows);
    let edit = |catalog: &mut Catalog| {
        let mut counts = Counts::default();
        let mut changed = false;
        for (list_id, skus) in &prices {
            let Some(header) = lists.get(list_id) else { continue };
            let list = catalog.price_lists.entry(list_id.clone()).or_insert_with(|| {
                changed = true;
                PriceList { tier: header.tier.clone(), region: header.region.clone(), prices: BTreeMap::new() }
            });
            if list.tier != header.tier || list.region != header.region {
                list.tier.clone_from(&header.tier);
                list.region.clone_from(&header.region);
                changed = true;
            }
            for (sku, breaks) in skus {
                let old: BTreeMap<i64, i64> = list
                    .prices
                    .get(sku)
                    .map(|old| old.iter().map(|b| (b.min_qty, b.unit_price_cents)).collect())
                    .unwrap_or_default();
                for (min_qty, price) in breaks {
                    counts.count(old.get(min_qty).map(|p| p == price));
                }
                if old != *breaks {
                    changed = true;
                    let ascending = breaks
                        .iter()
                        .map(|(&min_qty, &unit_price_cents)| PriceBreak { min_qty, unit_price_cents })
                        .collect();
                    list.prices.insert(sku.clone(), ascending);
                }
            }
        }
        if changed {
            catalog.version += 1;
            catalog.updated_at = now;
        }
        Ok(counts)
    };
    let announce = |counts: &Counts| announcement(&report(counts), now);
    let (counts, _) = documents::edit_as_relay_announcing(storage, tenant_id, &id, edit, announce).await?;
    progress(Progress::Written { done: 1, total: 1 });
    Ok(report(&counts))
}

/// The tenant's catalog document: the one with the smallest id.
async fn catalog_id(storage: &dyn Storage, tenant_id: i64) -> Result<Option<DocumentId>> {
    let mut catalogs = storage.list_docs(tenant_id, &everything(), DocKind::Catalog, 16).await?;
    catalogs.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    Ok(catalogs.into_iter().next().map(|stored| stored.id))
}
