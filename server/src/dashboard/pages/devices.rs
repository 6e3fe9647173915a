//! Devices and their sync health.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::response::Response;
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use maud::{Markup, html};

use super::super::html::age;
use super::super::session::{self, Viewer};
use super::super::{DashError, Section, revocation};
use crate::services::accounts;
use crate::state::AppState;
use crate::storage::queries;

use super::*;

// Devices

/// `GET /dashboard/devices`: every user in the viewer's reach (HQ: everyone; a manager: their
/// region), with each device, its last sync ("never" for a user without a device or a phone
/// that signed in and never synced),
/// the documents it still held unsynced at its last sync, and which ones have not synced for
/// more than four hours or reported unsynced work.
pub async fn devices(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    Section::Devices.check(&viewer.caller)?;
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
