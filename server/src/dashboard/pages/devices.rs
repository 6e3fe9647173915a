//! Devices and their sync health.

use std::collections::{BTreeMap, HashMap};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use maud::{Markup, html};
use serde::Deserialize;

use super::super::session::{self, Viewer};
use super::super::{DashError, Section, revocation};
use super::orders::{PAGE_ROWS, link, next_link};
use crate::format::age_in;
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
    let locale =
        accounts::tenant_locale(state.storage.as_ref(), viewer.caller.tenant_id).await?.with_language(viewer.language);
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
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "devices-title")) }
        form.filters method="get" action="/dashboard/devices" #device-filters {
            label { (t!(lang, "filter-search")) input type="search" name="q" id="filter-q" value=[query.q.as_deref()] placeholder=(t!(lang, "devices-search-placeholder")); }
            button.primary type="submit" { (t!(lang, "filter-apply")) }
        }
        p.note #device-count {
            (t!(lang, "devices-count", count = total))
            @if after.is_some() { " · " a href=(link("/dashboard/devices", &filters)) { (t!(lang, "list-first-page")) } }
        }
        p.note { (t!(lang, "devices-note", hours = stale_hours)) }
        table id="devices" {
            thead { tr {
                th { (t!(lang, "devices-col-user")) } th { (t!(lang, "devices-col-role")) } th { (t!(lang, "devices-col-region")) }
                th { (t!(lang, "devices-col-device")) } th { (t!(lang, "devices-col-last-sync")) }
                th { (t!(lang, "devices-col-unsynced")) } th { (t!(lang, "devices-col-newest-order")) } th { (t!(lang, "devices-col-health")) }
                @if hq { th { (t!(lang, "devices-col-wipe")) } }
            } }
            tbody {
                @for (user, device) in &rows {
                    tr data-user=(user.username) {
                        td {
                            (user.username)
                            @if user.disabled_at.is_some() { " " span."tag bad" { (t!(lang, "devices-disabled")) } }
                        }
                        td { (texts::role(lang, user.role)) }
                        td { (user.region.as_deref().unwrap_or("—")) }
                        @match device {
                            None => {
                                td.muted { (t!(lang, "devices-no-device")) } td.last-sync { (t!(lang, "devices-never")) } td { "—" }
                                td { (last_order.get(&user.id).map_or_else(|| "—".to_owned(), |t| locale.datetime(*t))) }
                                td { span.tag.warn { (t!(lang, "devices-never-signed-in")) } }
                                @if hq { td { (wipe_forms(&viewer, user, None)) } }
                            }
                            Some(device) => {
                                @let seen = device.last_seen_at.unwrap_or(device.created_at);
                                // A phone reports its unsynced work at every sync: none reported, never synced.
                                @let never_synced = device.name != session::DEVICE_NAME && device.unsynced_docs.is_none();
                                td { (device.name) }
                                td.last-sync {
                                    @if never_synced {
                                        (t!(lang, "devices-never")) " " span.muted { "(" (t!(lang, "devices-signed-in", age = age_in(lang, device.created_at, now))) ")" }
                                    } @else {
                                        (locale.datetime(seen)) " " span.muted { "(" (age_in(lang, seen, now)) ")" }
                                    }
                                }
                                td.unsynced {
                                    @match (device.unsynced_docs, device.unsynced_at) {
                                        (Some(0), _) => { (t!(lang, "devices-none")) }
                                        (Some(n), at) => {
                                            span.tag.warn { (t!(lang, "devices-documents", count = n)) }
                                            @if let Some(at) = at { " " span.muted { "(" (age_in(lang, at, now)) ")" } }
                                        }
                                        (None, _) => { span.muted { (t!(lang, "devices-not-reported")) } }
                                    }
                                }
                                td { (last_order.get(&user.id).map_or_else(|| "—".to_owned(), |t| locale.datetime(*t))) }
                                td {
                                    @if device.name == session::DEVICE_NAME { span.tag { (t!(lang, "devices-browser")) } }
                                    @else if never_synced { span.tag.warn { (t!(lang, "devices-never-synced")) } }
                                    @else if now.saturating_sub(seen) > STALE_AFTER_MS { span."tag bad" { (t!(lang, "devices-stale", hours = stale_hours)) } }
                                    @else { span."tag ok" { (t!(lang, "devices-recent")) } }
                                }
                                @if hq { td { (wipe_forms(&viewer, user, Some(device))) } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &next {
            p { a href=(next) id="devices-next" rel="next" { (t!(lang, "devices-next", rows = PAGE_ROWS)) } }
        }
        h2 { (t!(lang, "devices-holding")) }
        @if holding.is_empty() {
            p id="unsynced-devices" { (t!(lang, "devices-holding-none")) }
        } @else {
            ul id="unsynced-devices" {
                @for (user, device) in &holding {
                    li {
                        (user.username) " — " (device.name) ": " (t!(lang, "devices-holding-count", count = device.unsynced_docs.unwrap_or(0)))
                        @if let Some(at) = device.unsynced_at { " " (t!(lang, "devices-holding-at", age = age_in(lang, at, now))) }
                    }
                }
            }
        }
        h2 { (t!(lang, "devices-stale-reps")) }
        @if stale_reps.is_empty() {
            p id="stale-reps" { (t!(lang, "devices-stale-reps-none", hours = stale_hours)) }
        } @else {
            ul id="stale-reps" {
                @for (name, seen) in &stale_reps {
                    li { (name) " — " (seen.map_or_else(|| t!(lang, "devices-never-synced"), |seen| t!(lang, "devices-last-sync", age = age_in(lang, seen, now)))) }
                }
            }
        }
    };
    Ok(frame(&viewer, &t!(lang, "devices-title"), "/dashboard/devices", body))
}

/// HQ's remote-wipe buttons for one row: revoke the device (not a browser session), disable the
/// user (not the viewer, not one already disabled).
fn wipe_forms(viewer: &Viewer, user: &crate::storage::User, device: Option<&crate::storage::Device>) -> Markup {
    html! {
        @if let Some(device) = device.filter(|d| d.name != session::DEVICE_NAME) {
            (revocation::revoke_device_form(viewer.language, &viewer.csrf, &device.id, &device.name))
        }
        @if user.disabled_at.is_none() && user.id != viewer.caller.user_id {
            (revocation::disable_user_form(viewer.language, &viewer.csrf, &user.username))
        }
    }
}
