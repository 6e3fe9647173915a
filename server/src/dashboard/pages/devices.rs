//! Devices and their sync health.

use std::collections::{BTreeMap, HashMap};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use maud::{Markup, html};
use serde::Deserialize;

use super::super::html::age;
use super::super::session::{self, Viewer};
use super::super::{DashError, Section, revocation};
use super::orders::{PAGE_ROWS, link, next_link};
use crate::services::{accounts, listing};
use crate::state::AppState;
use crate::storage::queries::{self, Cursor};

use super::*;

// Devices

/// The devices page's query: a search over usernames, display names and device names, and the
/// keyset page of users.
#[derive(Debug, Default, Deserialize)]
pub struct DevicesQuery {
    /// Part of a username, display name or device name.
    pub q: Option<String>,
    /// Where the page starts (after this user).
    pub after: Option<String>,
}

/// `GET /dashboard/devices?q=&after=`: every user in the viewer's reach (HQ: everyone; a manager: their
/// region), with each device, its last sync ("never" for a user without a device or a phone
/// that signed in and never synced),
/// the documents it still held unsynced at its last sync, and which ones have not synced for
/// more than four hours or reported unsynced work.
pub async fn devices(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<DevicesQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    Section::Devices.check(&viewer.caller)?;
    let query = crate::http::lists::query(query)?;
    let needle = listing::search_text(query.q.as_deref())?.map(|q| q.to_lowercase());
    let after = listing::cursor(query.after.as_deref())?;
    let locale = accounts::tenant_locale(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let now = now_ms();
    let caller = &viewer.caller;
    let users: Vec<_> = state
        .storage
        .list_users(caller.tenant_id)
        .await?
        .into_iter()
        .filter(|u| caller.role == Role::Hq || (u.region.is_some() && u.region == caller.region))
        .collect();
    // The search and the page: users by username (as storage lists them), a page after the
    // cursor's username.
    let mut matching = Vec::with_capacity(users.len());
    for user in users {
        let found = match &needle {
            None => true,
            Some(needle) => {
                user.username.to_lowercase().contains(needle)
                    || user.display_name.to_lowercase().contains(needle)
                    || state
                        .storage
                        .list_devices(caller.tenant_id, &user.id)
                        .await?
                        .iter()
                        .any(|device| device.name.to_lowercase().contains(needle))
            }
        };
        if found {
            matching.push(user);
        }
    }
    let total = matching.len();
    let start = after
        .as_ref()
        .and_then(|c| c.ids.first())
        .map_or(0, |name| matching.partition_point(|user| user.username.as_str() <= name.as_str()));
    let users: Vec<_> = matching.into_iter().skip(start).take(PAGE_ROWS as usize + 1).collect();
    let more = users.len() > PAGE_ROWS as usize;
    let users: Vec<_> = users.into_iter().take(PAGE_ROWS as usize).collect();
    let next_cursor = more.then(|| users.last().map(|u| Cursor { key: 0, ids: vec![u.username.clone()] })).flatten();
    let filters: Vec<(&'static str, String)> =
        query.q.iter().filter(|q| !q.trim().is_empty()).map(|q| ("q", q.clone())).collect();
    let next = next_link("/dashboard/devices", &filters, next_cursor.as_ref());
    // The newest order the relay holds per rep: what it has seen of their work.
    let reps: Vec<String> = users.iter().filter(|u| u.role == Role::Rep).map(|u| u.id.clone()).collect();
    let last_order: HashMap<String, i64> =
        queries::newest_order_per_rep(state.storage.as_ref(), caller.tenant_id, &reps)
            .await?
            .into_iter()
            .filter_map(|(rep, at)| Some((rep, at?)))
            .collect();
    let stale_hours = STALE_AFTER_MS / 3_600_000;
    let mut rows = Vec::new();
    let mut stale_reps = BTreeMap::new();
    // Devices that reported documents the relay had not accepted at their last sync.
    let mut holding = Vec::new();
    for user in &users {
        let devices: Vec<_> = state
            .storage
            .list_devices(caller.tenant_id, &user.id)
            .await?
            .into_iter()
            .filter(|device| device.revoked_at.is_none())
            .collect();
        if devices.is_empty() {
            rows.push((user, None));
        }
        if user.role == Role::Rep {
            // Never synced until one of their phones did (below).
            stale_reps.entry(user.username.clone()).or_insert(None);
        }
        for device in devices {
            let seen = device.last_seen_at.unwrap_or(device.created_at);
            if user.role == Role::Rep && device.name != session::DEVICE_NAME && device.unsynced_docs.is_some() {
                // A rep is current when any of their phones synced recently.
                let entry = stale_reps.entry(user.username.clone()).or_insert(Some(seen));
                *entry = Some(entry.map_or(seen, |t: i64| t.max(seen)));
            }
            if device.unsynced_docs.is_some_and(|n| n > 0) {
                holding.push((user, device.clone()));
            }
            rows.push((user, Some(device)));
        }
    }
    stale_reps.retain(|_, seen| seen.is_none_or(|seen| now.saturating_sub(seen) > STALE_AFTER_MS));
    // Only HQ may revoke; never its own user from here.
    let hq = caller.role == Role::Hq;
    let body = html! {
        h1 { "Devices" }
        form.filters method="get" action="/dashboard/devices" #device-filters {
            label { "Search" input type="search" name="q" id="filter-q" value=[query.q.as_deref()] placeholder="user, name, device"; }
            button.primary type="submit" { "Filter" }
        }
        p.note #device-count {
            (total) @if total == 1 { " user" } @else { " users" }
            @if after.is_some() { " · " a href=(link("/dashboard/devices", &filters)) { "Back to the first page" } }
        }
        p.note {
            "The relay records a device as seen on every authenticated request (at most once a minute), and at every \
             sync how many documents the phone still held that the relay had not accepted (its outbox, and any the \
             relay refused). What a phone did after its last sync the relay cannot know: one whose last sync is older \
             than " (stale_hours) " h may hold more."
        }
        table id="devices" {
            thead { tr {
                th { "User" } th { "Role" } th { "Region" } th { "Device" } th { "Last sync" }
                th { "Unsynced at last sync" } th { "Newest order at the relay" } th { "Health" }
                @if hq { th { "Remote wipe" } }
            } }
            tbody {
                @for (user, device) in &rows {
                    tr data-user=(user.username) {
                        td {
                            (user.username)
                            @if user.disabled_at.is_some() { " " span."tag bad" { "disabled" } }
                        }
                        td { (user.role) }
                        td { (user.region.as_deref().unwrap_or("—")) }
                        @match device {
                            None => {
                                td.muted { "no device" } td.last-sync { "never" } td { "—" }
                                td { (last_order.get(&user.id).map_or_else(|| "—".to_owned(), |t| locale.datetime(*t))) }
                                td { span.tag.warn { "never signed in" } }
                                @if hq { td { (wipe_forms(&viewer, user, None)) } }
                            }
                            Some(device) => {
                                @let seen = device.last_seen_at.unwrap_or(device.created_at);
                                // A phone reports its unsynced work at every sync: none reported, never synced.
                                @let never_synced = device.name != session::DEVICE_NAME && device.unsynced_docs.is_none();
                                td { (device.name) }
                                td.last-sync {
                                    @if never_synced {
                                        "never" " " span.muted { "(signed in " (age(device.created_at, now)) ")" }
                                    } @else {
                                        (locale.datetime(seen)) " " span.muted { "(" (age(seen, now)) ")" }
                                    }
                                }
                                td.unsynced {
                                    @match (device.unsynced_docs, device.unsynced_at) {
                                        (Some(0), _) => { "none" }
                                        (Some(n), at) => {
                                            span.tag.warn { (n) @if n == 1 { " document" } @else { " documents" } }
                                            @if let Some(at) = at { " " span.muted { "(" (age(at, now)) ")" } }
                                        }
                                        (None, _) => { span.muted { "not reported" } }
                                    }
                                }
                                td { (last_order.get(&user.id).map_or_else(|| "—".to_owned(), |t| locale.datetime(*t))) }
                                td {
                                    @if device.name == session::DEVICE_NAME { span.tag { "browser" } }
                                    @else if never_synced { span.tag.warn { "never synced" } }
                                    @else if now.saturating_sub(seen) > STALE_AFTER_MS { span."tag bad" { "not synced for over " (stale_hours) " h" } }
                                    @else { span."tag ok" { "recent" } }
                                }
                                @if hq { td { (wipe_forms(&viewer, user, Some(device))) } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &next {
            p { a href=(next) id="devices-next" rel="next" { "Next " (PAGE_ROWS) " users" } }
        }
        h2 { "Devices holding unsynced work" }
        @if holding.is_empty() {
            p id="unsynced-devices" { "None: at its last sync every device had handed the relay all its work." }
        } @else {
            ul id="unsynced-devices" {
                @for (user, device) in &holding {
                    li {
                        (user.username) " — " (device.name) ": " (device.unsynced_docs.unwrap_or(0)) " unsynced"
                        @if let Some(at) = device.unsynced_at { " at its last sync, " (age(at, now)) }
                    }
                }
            }
        }
        h2 { "Reps who may hold unsynced orders" }
        @if stale_reps.is_empty() {
            p id="stale-reps" { "None: every rep's phone synced in the last " (stale_hours) " hours." }
        } @else {
            ul id="stale-reps" {
                @for (name, seen) in &stale_reps {
                    li { (name) " — " (seen.map_or_else(|| "never synced".to_owned(), |seen| format!("last sync {}", age(seen, now)))) }
                }
            }
        }
    };
    Ok(frame(&viewer, "Devices", "/dashboard/devices", body))
}

/// HQ's remote-wipe buttons for one row: revoke the device (not a browser session), disable the
/// user (not the viewer, not one already disabled).
fn wipe_forms(viewer: &Viewer, user: &crate::storage::User, device: Option<&crate::storage::Device>) -> Markup {
    html! {
        @if let Some(device) = device.filter(|d| d.name != session::DEVICE_NAME) {
            (revocation::revoke_device_form(&viewer.csrf, &device.id, &device.name))
        }
        @if user.disabled_at.is_none() && user.id != viewer.caller.user_id {
            (revocation::disable_user_form(&viewer.csrf, &user.username))
        }
    }
}
