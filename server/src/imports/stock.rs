//! `stock`: stock levels by warehouse, region and SKU into `inventory` documents (one per
//! warehouse and region). A row sets a SKU's `on_hand` and `safety`; what is reserved stays.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use fieldsync_core::DocumentId;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{DocKind, Inventory, StockLevel};
use fieldsync_core::i18n::Message;

use super::check::RowCheck;
use super::{
    Dataset, ImportReport, MAX_EXISTING_DOCS, Mode, ProgressFn, announcement, everything, invalid, read_records,
    report_written,
};
use crate::documents;
use crate::error::{Error, Result};
use crate::services::Caches;
use crate::services::catalog::tenant_catalog;
use crate::storage::Storage;

/// The columns of a `stock` file.
pub const COLUMNS: &[&str] = &["warehouse", "region", "sku", "on_hand", "safety"];

/// One validated stock row.
struct StockRow {
    sku: String,
    on_hand: i64,
    safety: i64,
}

/// Imports a `stock` file.
pub async fn import(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    path: &Path,
    progress: ProgressFn,
    mode: Mode,
) -> Result<ImportReport> {
    let (columns, records, mut errors) = read_records(path, COLUMNS, &progress).await?;
    let skus: BTreeSet<String> = match tenant_catalog(storage, caches, tenant_id).await {
        Ok(catalog) => catalog.products.keys().cloned().collect(),
        Err(Error::NotFound { .. }) => BTreeSet::new(),
        Err(error) => return Err(error),
    };
    // (warehouse, region) → rows, and where each SKU of a warehouse was first seen.
    let mut groups: BTreeMap<(String, String), Vec<StockRow>> = BTreeMap::new();
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    for record in &records {
        let mut row = RowCheck::new(record.line, &mut errors);
        let warehouse = row.text(columns.field(record, "warehouse"), "warehouse");
        let region = row.region(columns.field(record, "region"));
        let sku = row.text(columns.field(record, "sku"), "sku");
        let on_hand = row.whole(columns.field(record, "on_hand"), "on_hand");
        let safety = row.whole(columns.field(record, "safety"), "safety");
        if !sku.is_empty() && !skus.contains(&sku) {
            row.fail(Message::new("refusal-import-unknown-sku").arg("sku", format!("{sku:?}")));
        }
        if row.ok() {
            let key = (warehouse.clone(), region.clone(), sku.clone());
            if let Some(first) = seen.get(&key) {
                let message = Message::new("refusal-import-duplicate-stock").arg("sku", format!("{sku:?}"));
                let message = message.arg("warehouse", format!("{warehouse:?}")).arg("region", format!("{region:?}"));
                row.fail(message.arg("first", first));
            } else {
                seen.insert(key, record.line);
                groups.entry((warehouse, region)).or_default().push(StockRow { sku, on_hand, safety });
            }
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if mode == Mode::Check {
        return Ok(ImportReport { dataset: Dataset::Stock, rows: records.len(), created: 0, updated: 0, unchanged: 0 });
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
        ImportReport { dataset: Dataset::Stock, rows: records.len(), created: 0, updated: 0, unchanged: 0 };
    // What the file changes, read first, so the counts are known before anything is written and
    // the last write carries the import's event.
    let mut writes = Vec::new();
    for ((warehouse, region), rows) in groups {
        match existing.get(&(warehouse.clone(), region.clone())) {
            Some(id) => {
                let mut inventory: Inventory = documents::read(storage, tenant_id, id).await?;
                if apply_levels(&mut inventory, &rows, now) {
                    report.updated += 1;
                    writes.push((Some(id.clone()), warehouse, region, rows));
                } else {
                    report.unchanged += 1;
                }
            }
            None => {
                report.created += 1;
                writes.push((None, warehouse, region, rows));
            }
        }
    }
    let events = announcement(&report, now);
    let total = writes.len();
    for (done, (id, warehouse, region, rows)) in writes.into_iter().enumerate() {
        let last = done + 1 == total;
        let announced = if last { events.clone() } else { Vec::new() };
        match id {
            Some(id) => {
                let edit = |inventory: &mut Inventory| Ok(apply_levels(inventory, &rows, now));
                let (_, written) =
                    documents::edit_as_relay_announcing(storage, tenant_id, &id, edit, |_| announced.clone()).await?;
                if last && !written {
                    // Someone wrote the same levels meanwhile: the import still happened.
                    storage.append_events(tenant_id, events.clone()).await?;
                }
            }
            None => {
                let levels = rows
                    .iter()
                    .map(|r| (r.sku.clone(), StockLevel { on_hand: r.on_hand, reserved: 0, safety: r.safety }))
                    .collect();
                let inventory = Inventory { warehouse, region, levels, as_of: now };
                documents::create_as_relay_announcing(storage, tenant_id, &inventory, announced).await?;
            }
        }
        report_written(done + 1, total, &progress);
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
