//! What the dashboard shows, loaded in the viewer's scope: typed documents of one kind, the
//! review of each order, the score of each inspection, names of stores and users, and the
//! GPS precision a viewer is allowed.
//!
//! Every list goes through `storage.list_docs(tenant, &scope, kind, limit)` and is checked again
//! with [`Scope::contains`], so a backend bug cannot leak a document onto a page.

use std::collections::{BTreeMap, HashMap};

use fieldsync_core::doc::{self, DocKind, DocumentModel, GeoFix};
use fieldsync_core::{DocumentId, Role};

use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::services::accounts::Caller;
use crate::state::AppState;
use crate::storage::DocMeta;

/// Most documents of one kind a page looks at (the storage's list limit).
pub const LIST_LIMIT: u32 = crate::http::docs::MAX_LIMIT;

/// One typed document with its id and scope columns.
#[derive(Debug, Clone)]
pub struct Record<T> {
    /// Its id.
    pub id: DocumentId,
    /// Its scope columns.
    pub meta: DocMeta,
    /// Its content.
    pub value: T,
}

/// Documents of `T`'s kind in the caller's scope, newest first. Unreadable documents are logged
/// and left out, so one bad document cannot take the dashboard down.
pub async fn load_kind<T: DocumentModel + Send + 'static>(state: &AppState, caller: &Caller) -> Result<Vec<Record<T>>> {
    let scope = caller.scope();
    if scope.access(T::KIND).is_none() {
        return Ok(Vec::new());
    }
    let stored = state.storage.list_docs(caller.tenant_id, &scope, T::KIND, LIST_LIMIT).await?;
    tokio::task::spawn_blocking(move || {
        stored
            .into_iter()
            .filter(|doc| scope.contains(&doc.meta))
            .filter_map(|doc| {
                let value = crate::documents::load(&doc).and_then(|am| Ok(doc::read::<T>(&doc.id, &am)?));
                match value {
                    Ok(value) => Some(Record { id: doc.id, meta: doc.meta, value }),
                    Err(error) => {
                        tracing::warn!(%error, id = %doc.id, "dashboard skips an unreadable document");
                        None
                    }
                }
            })
            .collect()
    })
    .await
    .map_err(|e| Error::Storage(format!("dashboard loading task failed: {e}")))
}

/// One document of `T`'s kind the caller may read; `NotFound` (never `Forbidden`) otherwise.
pub async fn load_one<T: DocumentModel + Send + 'static>(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Record<T>> {
    let not_found = || Error::not_found(format!("{} {id}", T::KIND.as_str()));
    let id: DocumentId = id.parse().map_err(|_| not_found())?;
    let stored = state.storage.load_doc(caller.tenant_id, &id).await?.ok_or_else(not_found)?;
    if stored.meta.kind != T::KIND || !caller.scope().contains(&stored.meta) {
        return Err(not_found());
    }
    let am = crate::documents::load(&stored)?;
    let value = doc::read::<T>(&id, &am)?;
    Ok(Record { id, meta: stored.meta, value })
}

/// Per document id, the newest document of kind `T` that is about it (`subject_id`): the
/// review of an order, the score of an inspection.
pub fn by_subject<T>(records: Vec<Record<T>>) -> HashMap<String, Record<T>> {
    let mut map = HashMap::new();
    // Lists come newest first: keep the first one seen.
    for record in records {
        if let Some(subject) = record.meta.subject_id.clone() {
            map.entry(subject).or_insert(record);
        }
    }
    map
}

/// Display names: users by id and stores by id.
#[derive(Debug, Default, Clone)]
pub struct Names {
    /// User id to (username, role, region).
    pub users: HashMap<String, (String, Role, Option<String>)>,
    /// Store id to store name, for the stores in scope.
    pub stores: BTreeMap<String, String>,
}

impl Names {
    /// Loads user names of the tenant and the names of the stores the caller may read.
    pub async fn load(state: &AppState, caller: &Caller) -> Result<Self> {
        let users = state
            .storage
            .list_users(caller.tenant_id)
            .await?
            .into_iter()
            .map(|u| (u.id, (u.username, u.role, u.region)))
            .collect();
        let stores = load_kind::<doc::RetailStore>(state, caller)
            .await?
            .into_iter()
            .map(|r| (r.id.to_string(), r.value.name))
            .collect();
        Ok(Self { users, stores })
    }

    /// A user's login name, or their id when unknown.
    pub fn user(&self, id: &str) -> String {
        self.users.get(id).map_or_else(|| id.to_owned(), |(name, _, _)| name.clone())
    }

    /// A store's name, or its id when the store is not in scope.
    pub fn store(&self, id: &str) -> String {
        self.stores.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
}

/// How precisely a viewer may see where an inspection happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpsPrecision {
    /// As the phone reported it.
    Exact,
    /// Rounded to two decimals (about a kilometre).
    Rounded,
}

/// HQ audits evidence and the supervisor who made the visit sees their own fixes; managers plan
/// coverage, for which a kilometre is enough.
pub fn gps_precision(caller: &Caller, inspection_owner: &str) -> GpsPrecision {
    match caller.role {
        Role::Hq => GpsPrecision::Exact,
        Role::Supervisor if caller.user_id == inspection_owner => GpsPrecision::Exact,
        _ => GpsPrecision::Rounded,
    }
}

/// A GPS fix as the viewer may see it.
pub fn show_fix(fix: &GeoFix, precision: GpsPrecision) -> String {
    match precision {
        GpsPrecision::Exact => format!("{:.6}, {:.6} (±{:.0} m)", fix.latitude, fix.longitude, fix.accuracy_m),
        GpsPrecision::Rounded => format!("{:.2}, {:.2} (rounded)", fix.latitude, fix.longitude),
    }
}

/// Whether the scope reaches any document of `kind`.
pub fn reaches(scope: &Scope, kind: DocKind) -> bool {
    scope.access(kind).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, user: &str) -> Caller {
        Caller {
            tenant_id: 1,
            tenant: "t".into(),
            user_id: user.into(),
            username: user.into(),
            role,
            region: Some("north".into()),
            device_id: "d".into(),
        }
    }

    #[test]
    fn managers_see_rounded_coordinates_and_supervisors_exact_ones_only_for_their_own_visits() {
        let fix = GeoFix { latitude: 52.520_008, longitude: 13.404_954, accuracy_m: 8.0 };
        assert_eq!(gps_precision(&caller(Role::Manager, "m"), "s"), GpsPrecision::Rounded);
        assert_eq!(gps_precision(&caller(Role::Supervisor, "s"), "s"), GpsPrecision::Exact);
        assert_eq!(gps_precision(&caller(Role::Supervisor, "x"), "s"), GpsPrecision::Rounded);
        assert_eq!(gps_precision(&caller(Role::Hq, "h"), "s"), GpsPrecision::Exact);
        assert_eq!(show_fix(&fix, GpsPrecision::Rounded), "52.52, 13.40 (rounded)");
        assert!(show_fix(&fix, GpsPrecision::Exact).contains("52.520008"));
    }
}
