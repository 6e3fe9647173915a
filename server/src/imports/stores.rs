//! `stores`: retail stores into `store` documents, keyed by customer id. A known customer id
//! updates its store (every column but `active`, its code and its geofence, which the file does not
//! carry); an unknown one creates an active store without a code.

use std::collections::HashMap;
use std::path::Path;

use fieldsync_core::DocumentId;
use fieldsync_core::doc::{self, DocKind, RetailStore};

use super::check::RowCheck;
use super::{
    Dataset, ImportReport, MAX_EXISTING_DOCS, Mode, ProgressFn, everything, invalid, read_records, report_written,
};
use crate::documents;
use crate::error::Result;
use crate::storage::Storage;

/// The columns of a `stores` file.
pub const COLUMNS: &[&str] =
    &["name", "address", "customer_id", "region", "tier", "latitude", "longitude", "rep", "supervisor"];

/// Imports a `stores` file.
pub async fn import(
    storage: &dyn Storage,
    tenant_id: i64,
    path: &Path,
    progress: ProgressFn,
    mode: Mode,
) -> Result<ImportReport> {
    let (columns, records, mut errors) = read_records(path, COLUMNS, &progress).await?;
    let mut users: HashMap<String, Option<String>> = HashMap::new();
    let mut stores: Vec<RetailStore> = Vec::with_capacity(records.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in &records {
        let rep_name = columns.field(record, "rep").trim().to_owned();
        let supervisor_name = columns.field(record, "supervisor").trim().to_owned();
        let mut user_ids = Vec::with_capacity(2);
        for username in [&rep_name, &supervisor_name] {
            if !username.is_empty() && !users.contains_key(username) {
                let id = storage.find_user_by_username(tenant_id, username).await?.map(|user| user.id);
                users.insert(username.clone(), id);
            }
            user_ids.push(users.get(username).cloned().flatten());
        }

        let mut row = RowCheck::new(record.line, &mut errors);
        let name = row.text(columns.field(record, "name"), "name");
        let address = row.text(columns.field(record, "address"), "address");
        let customer_id = row.text(columns.field(record, "customer_id"), "customer_id");
        let region = row.region(columns.field(record, "region"));
        let tier = row.tier(columns.field(record, "tier"), false);
        let latitude = row.degrees(columns.field(record, "latitude"), "latitude", 90.0);
        let longitude = row.degrees(columns.field(record, "longitude"), "longitude", 180.0);
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
                code: String::new(),
                address,
                customer_id,
                region,
                tier,
                latitude,
                longitude,
                geofence_m: 0.0,
                rep,
                supervisor,
                active: true,
            });
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if mode == Mode::Check {
        return Ok(ImportReport {
            dataset: Dataset::Stores,
            rows: records.len(),
            created: 0,
            updated: 0,
            unchanged: 0,
        });
    }

    let existing = stores_by_customer_id(storage, tenant_id).await?;
    let mut report =
        ImportReport { dataset: Dataset::Stores, rows: records.len(), created: 0, updated: 0, unchanged: 0 };
    let total = stores.len();
    for (done, imported) in stores.into_iter().enumerate() {
        match existing.get(&imported.customer_id) {
            Some(id) => {
                let changed = documents::edit_as_relay(storage, tenant_id, id, |store: &mut RetailStore| {
                    // `active`, the code and the geofence are not in the file: a store HQ closed
                    // stays closed, and keeps the code and geofence given on the admin pages.
                    let updated = RetailStore {
                        active: store.active,
                        code: store.code.clone(),
                        geofence_m: store.geofence_m,
                        ..imported.clone()
                    };
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
        report_written(done + 1, total, &progress);
    }
    Ok(report)
}

/// The tenant's store documents by customer id (the smallest document id wins when two stores
/// share one).
pub async fn stores_by_customer_id(storage: &dyn Storage, tenant_id: i64) -> Result<HashMap<String, DocumentId>> {
    let mut existing = HashMap::new();
    let mut stored = storage.list_docs(tenant_id, &everything(), DocKind::Store, MAX_EXISTING_DOCS).await?;
    stored.sort_by(|a, b| b.id.as_str().cmp(a.id.as_str()));
    for doc in stored {
        let store: RetailStore = doc::read(&doc.id, &documents::load(&doc)?)?;
        existing.insert(store.customer_id, doc.id);
    }
    Ok(existing)
}
