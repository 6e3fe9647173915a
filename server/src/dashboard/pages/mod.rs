//! The dashboard pages: login and logout, overview, orders (with the approve / reject forms of
//! [`super::decisions`]), the approvals queue with bulk approval, inspections, alerts, devices, and
//! HQ's admin pages (users, stores, checklist templates, imports). The stores page is in [`super::stores`].
//!
//! Every handler takes a [`Viewer`] (a valid dashboard session of a non-rep), checks its
//! [`Section`], and reads documents only through [`records`], i.e. the viewer's scope. Pages
//! written as maud templates ([`super::html::html!`]) escape every spliced value by default; the
//! ones still built with `format!` pass each user-provided string through
//! [`esc`](super::html::esc).

mod alerts;
mod api_keys;
mod approvals;
mod devices;
mod filters;
mod imports;
mod inspection_list;
mod inspections;
mod login;
mod order;
mod orders;
mod out_of_office;
mod overview;
mod policy;
mod store_admin;
mod template_admin;
mod users;
mod webhooks;

pub use alerts::*;
pub use api_keys::*;
pub use approvals::*;
pub use devices::*;
pub use imports::*;
pub use inspection_list::*;
pub use inspections::*;
pub use login::*;
pub use order::*;
pub use orders::*;
pub use out_of_office::*;
pub use overview::*;
pub use policy::*;
pub use store_admin::*;
pub use template_admin::*;
pub use users::*;
pub use webhooks::*;

use axum::response::Response;
use fieldsync_core::Role;

use super::Section;
use super::html::{Markup, NavItem, html, page};
use super::session::Viewer;

/// A device that has not synced for this long may hold work the relay has not seen.
pub const STALE_AFTER_MS: i64 = 4 * 3_600_000;

fn nav(role: Role) -> Vec<NavItem> {
    let mut items = vec![NavItem { href: "/", label: "Overview" }];
    if Section::Orders.allows(role) {
        items.push(NavItem { href: "/dashboard/orders", label: "Orders" });
        items.push(NavItem { href: "/dashboard/approvals", label: "Approvals" });
        items.push(NavItem { href: "/dashboard/out-of-office", label: "Out of office" });
    }
    if role == Role::Hq {
        items.push(NavItem { href: "/dashboard/policy", label: "Policy" });
        items.push(NavItem { href: "/dashboard/api-keys", label: "API keys" });
        items.push(NavItem { href: "/dashboard/webhooks", label: "Webhooks" });
    }
    if Section::Inspections.allows(role) {
        items.push(NavItem { href: "/dashboard/inspections", label: "Inspections" });
    }
    if Section::Alerts.allows(role) {
        items.push(NavItem { href: "/dashboard/alerts", label: "Alerts" });
    }
    if Section::Stores.allows(role) {
        items.push(NavItem { href: "/dashboard/stores", label: "Stores" });
    }
    if Section::Devices.allows(role) {
        items.push(NavItem { href: "/dashboard/devices", label: "Devices" });
    }
    if Section::Admin.allows(role) {
        items.push(NavItem { href: "/dashboard/admin/users", label: "Users" });
        items.push(NavItem { href: "/dashboard/admin/stores", label: "Store admin" });
        items.push(NavItem { href: "/dashboard/admin/templates", label: "Templates" });
        items.push(NavItem { href: "/dashboard/admin/imports", label: "Imports" });
    }
    items
}

/// A page in the dashboard's frame: the viewer's navigation, name and logout form around `body`.
pub fn frame(viewer: &Viewer, title: &str, current: &str, body: Markup) -> Response {
    let who = format!("{} ({})", viewer.caller.username, viewer.caller.role);
    page(title, &nav(viewer.caller.role), current, Some((&who, &viewer.csrf)), body)
}

/// A status as a coloured tag.
pub fn status_tag(status: &str) -> Markup {
    let class = match status {
        "approved" => "ok",
        "needs-approval" | "submitted" => "warn",
        "rejected" => "bad",
        _ => "",
    };
    html! { span class={ "tag " (class) } { (status) } }
}

/// Any other path under `/dashboard/`: a 404 page in the dashboard's frame (the viewer's
/// navigation when signed in, a link to the login otherwise), never an empty answer.
pub async fn not_found(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    uri: axum::http::Uri,
    parts: axum::http::request::Parts,
) -> Response {
    use axum::extract::FromRequestParts;
    let mut parts = parts;
    let viewer = Viewer::from_request_parts(&mut parts, &state).await.ok();
    let error = super::ErrorPage { title: "Not found", text: format!("There is no dashboard page at {}.", uri.path()) };
    let mut response = super::error_page(viewer.as_ref(), &error);
    *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
    response
}
