//! What a single document's page loads, in the viewer's scope: one typed document
//! ([`load_one`], `NotFound` outside the scope), names of stores and users, and the GPS
//! precision a viewer is allowed. Lists read the read model instead
//! ([`crate::services`]); no page decodes documents to list them.

use std::collections::{BTreeMap, HashMap};

use fieldsync_core::doc::{self, DocKind, DocumentModel, GeoFix};
use fieldsync_core::{DocumentId, Role};

use crate::error::{Error, Result};
use crate::services::accounts::Caller;
use crate::state::AppState;
use crate::storage::DocMeta;

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

/// Display names: users by id and stores by id.
#[derive(Debug, Default, Clone)]
pub struct Names {
    /// User id to (username, role, region).
    pub users: HashMap<String, (String, Role, Option<String>)>,
    /// Store id to store name, for the stores in scope.
    pub stores: BTreeMap<String, String>,
}

impl Names {
    /// Loads user names of the tenant and the names of the stores the caller may read (from
    /// the read model).
    pub async fn load(state: &AppState, caller: &Caller) -> Result<Self> {
        let users = state
            .storage
            .list_users(caller.tenant_id)
            .await?
            .into_iter()
            .map(|u| (u.id, (u.username, u.role, u.region)))
            .collect();
        let reach = crate::services::listing::reach(&caller.scope(), DocKind::Store);
        let stores = crate::storage::queries::store_names(state.storage.as_ref(), caller.tenant_id, &reach)
            .await?
            .into_iter()
            .map(|store| (store.id, super::html::store_text(&store.name, &store.code)))
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
            device_unsynced_docs: None,
            key: None,
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
