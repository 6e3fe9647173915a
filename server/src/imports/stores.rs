//! `stores`: retail stores into `store` documents, keyed by customer id. A known customer id
//! updates its store (every column but `active`, its code and its geofence, which the file does not
//! carry); an unknown one creates an active store without a code.

use std::collections::HashMap;
use std::path::Path;

use fieldsync_core::DocumentId;
use fieldsync_core::doc::{self, DocKind, RetailStore};
use fieldsync_core::i18n::Message;

use super::check::RowCheck;
use super::{
    Dataset, ImportReport, MAX_EXISTING_DOCS, Mode, ProgressFn, announcement, everything, invalid, read_records,
    report_written,
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
                row.fail(Message::new("refusal-import-empty").arg("column", column));
            } else if id.is_none() {
                let message = Message::new("refusal-import-not-a-user").arg("column", column);
                row.fail(message.arg("username", format!("{username:?}")));
            }
            people.push(id.unwrap_or_default());
        }
        if !customer_id.is_empty() {
            if let Some(first) = seen.get(&customer_id) {
                let message =
                    Message::new("refusal-import-duplicate-customer").arg("value", format!("{customer_id:?}"));
                row.fail(message.arg("first", first));
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
    // `active`, the code and the geofence are not in the file: a store HQ closed stays closed, and
    // keeps the code and geofence given on the admin pages.
    let updated = |store: &RetailStore, imported: &RetailStore| RetailStore {
        active: store.active,
        code: store.code.clone(),
        geofence_m: store.geofence_m,
        ..imported.clone()
    };
    // What the file changes, read first, so the counts are known before anything is written and
    // the last write carries the import's event.
    let mut writes = Vec::new();
    for imported in stores {
        match existing.get(&imported.customer_id) {
            Some(id) => {
                let store: RetailStore = documents::read(storage, tenant_id, id).await?;
                if updated(&store, &imported) != store {
                    report.updated += 1;
                    writes.push((Some(id.clone()), imported));
                } else {
                    report.unchanged += 1;
                }
            }
            None => {
                report.created += 1;
                writes.push((None, imported));
            }
        }
    }
    let now = fieldsync_core::clock::now_ms();
    let events = announcement(&report, now);
    let total = writes.len();
    for (done, (id, imported)) in writes.into_iter().enumerate() {
        let last = done + 1 == total;
        let announced = if last { events.clone() } else { Vec::new() };
        match id {
            Some(id) => {
                let edit = |store: &mut RetailStore| {
                    *store = updated(store, &imported);
                    Ok(())
                };
                let (_, written) =
                    documents::edit_as_relay_announcing(storage, tenant_id, &id, edit, |_| announced.clone()).await?;
                if last && !written {
                    // Someone wrote the same store meanwhile: the import still happened.
                    storage.append_events(tenant_id, events.clone()).await?;
                }
            }
            None => {
                documents::create_as_relay_announcing(storage, tenant_id, &imported, announced).await?;
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
