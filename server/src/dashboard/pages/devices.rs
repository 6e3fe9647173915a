//! Devices and their sync health.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use axum::extract::State;
use axum::response::Response;
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::Order;

use super::super::html::{age, esc};
use super::super::records::load_kind;
use super::super::session::{self, Viewer};
use super::super::{DashError, Section};
use crate::services::accounts;
use crate::state::AppState;

use super::*;

// Devices

/// `GET /dashboard/devices`: every device of the users in the viewer's reach, its last sync,
/// and which ones have not synced for more than four hours.
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
    let mut last_order: HashMap<String, i64> = HashMap::new();
    for row in load_kind::<Order>(&state, caller).await? {
        let at = row.value.updated_at;
        last_order.entry(row.value.owner).and_modify(|t| *t = (*t).max(at)).or_insert(at);
    }
    let mut body = format!(
        "<h1>Devices</h1><p class=\"note\">The relay records a device as seen on every authenticated request (at most once a minute). \
         It cannot see orders that never reached it: a phone whose last sync is older than {} h may hold unsynced orders, \
         and that is what the flag below says, no more.</p>",
        STALE_AFTER_MS / 3_600_000
    );
    body.push_str(
        "<table id=\"devices\"><thead><tr><th>User</th><th>Role</th><th>Region</th><th>Device</th><th>Last sync</th>\
         <th>Newest order at the relay</th><th>Health</th></tr></thead><tbody>",
    );
    let mut stale_reps = BTreeMap::new();
    for user in &users {
        for device in state.storage.list_devices(caller.tenant_id, &user.id).await? {
            if device.revoked_at.is_some() {
                continue;
            }
            let seen = device.last_seen_at.unwrap_or(device.created_at);
            let stale = now.saturating_sub(seen) > STALE_AFTER_MS;
            let is_browser = device.name == session::DEVICE_NAME;
            if user.role == Role::Rep && !is_browser {
                // A rep is current when any of their phones synced recently.
                stale_reps.entry(user.username.clone()).and_modify(|t: &mut i64| *t = (*t).max(seen)).or_insert(seen);
            }
            let health = if is_browser {
                "<span class=\"tag\">browser</span>".to_owned()
            } else if stale {
                format!("<span class=\"tag bad\">not synced for over {} h</span>", STALE_AFTER_MS / 3_600_000)
            } else {
                "<span class=\"tag ok\">recent</span>".to_owned()
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} <span class=\"muted\">({})</span></td><td>{}</td><td>{health}</td></tr>",
                esc(&user.username),
                user.role,
                esc(user.region.as_deref().unwrap_or("—")),
                esc(&device.name),
                esc(&locale.datetime(seen)),
                esc(&age(seen, now)),
                last_order.get(&user.id).map(|t| esc(&locale.datetime(*t))).unwrap_or_else(|| "—".into()),
            );
        }
    }
    stale_reps.retain(|_, seen| now.saturating_sub(*seen) > STALE_AFTER_MS);
    body.push_str("</tbody></table><h2>Reps who may hold unsynced orders</h2>");
    if stale_reps.is_empty() {
        body.push_str("<p id=\"stale-reps\">None: every rep's phone synced in the last 4 hours.</p>");
    } else {
        body.push_str("<ul id=\"stale-reps\">");
        for (name, seen) in stale_reps {
            let _ = write!(body, "<li>{} — last sync {}</li>", esc(&name), esc(&age(seen, now)));
        }
        body.push_str("</ul>");
    }
    Ok(frame(&viewer, "Devices", "/dashboard/devices", super::super::html::PreEscaped(body)))
}
