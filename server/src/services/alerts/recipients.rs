//! Who receives which alert, from the tenant's users and the store documents:
//!
//! - low stock → the managers of the warehouse's region;
//! - promotion not started → the store's supervisor and rep;
//! - sales falling → the store's rep and the managers of the store's region.
//!
//! Only active (not disabled) users receive alerts. When nobody of a group exists — a region
//! without a manager, a store whose rep and supervisor left — the alert goes to every active HQ
//! user instead, so that no cause goes unseen.

use fieldsync_core::Role;
use fieldsync_core::doc::RetailStore;

use crate::storage::User;

/// The active managers of `region`, or every active HQ user when it has none; sorted user ids.
pub fn region_managers(users: &[User], region: &str) -> Vec<String> {
    let managers = active(users).filter(|u| u.role == Role::Manager && u.region.as_deref() == Some(region));
    or_hq(users, managers.map(|u| u.id.clone()).collect())
}

/// The store's supervisor and rep (those that are active users), or every active HQ user when
/// neither is; sorted user ids.
pub fn store_staff(users: &[User], store: &RetailStore) -> Vec<String> {
    let staff = active(users).filter(|u| u.id == store.supervisor || u.id == store.rep);
    or_hq(users, staff.map(|u| u.id.clone()).collect())
}

/// The store's rep (when an active user) and the managers of the store's region (or HQ when the
/// region has none); sorted user ids.
pub fn store_rep_and_managers(users: &[User], store: &RetailStore) -> Vec<String> {
    let mut ids: Vec<String> = active(users).filter(|u| u.id == store.rep).map(|u| u.id.clone()).collect();
    ids.extend(region_managers(users, &store.region));
    ids.sort();
    ids.dedup();
    ids
}

fn active(users: &[User]) -> impl Iterator<Item = &User> {
    users.iter().filter(|u| u.disabled_at.is_none())
}

fn or_hq(users: &[User], mut ids: Vec<String>) -> Vec<String> {
    if ids.is_empty() {
        ids = active(users).filter(|u| u.role == Role::Hq).map(|u| u.id.clone()).collect();
    }
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, role: Role, region: Option<&str>, disabled: bool) -> User {
        User {
            id: id.into(),
            tenant_id: 1,
            username: id.into(),
            display_name: String::new(),
            password_hash: String::new(),
            role,
            region: region.map(str::to_owned),
            disabled_at: disabled.then_some(1),
            created_at: 0,
        }
    }

    fn users() -> Vec<User> {
        vec![
            user("hq-1", Role::Hq, None, false),
            user("hq-gone", Role::Hq, None, true),
            user("mgr-north", Role::Manager, Some("north"), false),
            user("mgr-north-gone", Role::Manager, Some("north"), true),
            user("mgr-east", Role::Manager, Some("east"), true),
            user("rep-1", Role::Rep, Some("north"), false),
            user("sup-1", Role::Supervisor, Some("north"), false),
            user("rep-gone", Role::Rep, Some("north"), true),
        ]
    }

    fn store(region: &str, rep: &str, supervisor: &str) -> RetailStore {
        RetailStore {
            name: "Shop".into(),
            code: String::new(),
            address: String::new(),
            customer_id: "C".into(),
            region: region.into(),
            tier: "A".into(),
            latitude: 0.0,
            longitude: 0.0,
            geofence_m: 0.0,
            rep: rep.into(),
            supervisor: supervisor.into(),
            active: true,
        }
    }

    #[test]
    fn each_alert_goes_to_the_responsible_people_or_to_hq() {
        let users = users();
        // (case, recipients found, expected)
        let cases: Vec<(&str, Vec<String>, Vec<&str>)> = vec![
            ("region with a manager", region_managers(&users, "north"), vec!["mgr-north"]),
            ("region whose manager is disabled", region_managers(&users, "east"), vec!["hq-1"]),
            ("region without managers", region_managers(&users, "south"), vec!["hq-1"]),
            ("store staff", store_staff(&users, &store("north", "rep-1", "sup-1")), vec!["rep-1", "sup-1"]),
            ("store without a supervisor", store_staff(&users, &store("north", "rep-1", "")), vec!["rep-1"]),
            ("store whose staff left", store_staff(&users, &store("north", "rep-gone", "nobody")), vec!["hq-1"]),
            (
                "rep and managers",
                store_rep_and_managers(&users, &store("north", "rep-1", "sup-1")),
                vec!["mgr-north", "rep-1"],
            ),
            (
                "rep without a regional manager",
                store_rep_and_managers(&users, &store("south", "rep-1", "")),
                vec!["hq-1", "rep-1"],
            ),
            ("a disabled rep", store_rep_and_managers(&users, &store("north", "rep-gone", "")), vec!["mgr-north"]),
        ];
        for (case, found, expected) in cases {
            assert_eq!(found, expected, "{case}");
        }
    }
}
