//! The dashboard pages: login and logout, overview, orders (with the approve / reject forms of
//! [`super::decisions`]), the approvals queue with bulk approval, inspections, alerts, devices, and
//! HQ's admin pages (users, stores, checklist templates, imports, the tenant's settings). The stores page is in [`super::stores`].
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
mod language;
mod login;
mod order;
mod orders;
mod out_of_office;
mod overview;
mod policy;
mod store_admin;
mod template_admin;
mod tenant_settings;
mod users;
mod webhooks;

pub use alerts::*;
pub use api_keys::*;
pub use approvals::*;
pub use devices::*;
pub use imports::*;
pub use inspection_list::*;
pub use inspections::*;
pub use language::*;
pub use login::*;
pub use order::*;
pub use orders::*;
pub use out_of_office::*;
pub use overview::*;
pub use policy::*;
pub use store_admin::*;
pub use template_admin::*;
pub use tenant_settings::*;
pub use users::*;
pub use webhooks::*;

use axum::response::Response;
use fieldsync_core::Role;
use fieldsync_core::i18n::{Language, Message};

use super::Section;
use super::html::{Markup, NavItem, Who, html, page};
use super::session::Viewer;
use super::texts::{self, t};

/// The status of a page that shows a refusal on its form: 409 for a conflict, else 400.
fn refusal_status(error: &crate::error::Error) -> axum::http::StatusCode {
    if error.refusal_kind() == Some(crate::error::RefusalKind::Conflict) {
        axum::http::StatusCode::CONFLICT
    } else {
        axum::http::StatusCode::BAD_REQUEST
    }
}

/// A device that has not synced for this long may hold work the relay has not seen.
pub const STALE_AFTER_MS: i64 = 4 * 3_600_000;

fn nav(role: Role, language: Language) -> Vec<NavItem> {
    let item = |href: &'static str, label: String| NavItem { href, label };
    let mut items = vec![item("/", t!(language, "nav-overview"))];
    if Section::Orders.allows(role) {
        items.push(item("/dashboard/orders", t!(language, "nav-orders")));
        items.push(item("/dashboard/approvals", t!(language, "nav-approvals")));
        items.push(item("/dashboard/out-of-office", t!(language, "nav-out-of-office")));
    }
    if role == Role::Hq {
        items.push(item("/dashboard/policy", t!(language, "nav-policy")));
        items.push(item("/dashboard/api-keys", t!(language, "nav-api-keys")));
        items.push(item("/dashboard/webhooks", t!(language, "nav-webhooks")));
    }
    if Section::Inspections.allows(role) {
        items.push(item("/dashboard/inspections", t!(language, "nav-inspections")));
    }
    if Section::Alerts.allows(role) {
        items.push(item("/dashboard/alerts", t!(language, "nav-alerts")));
    }
    if Section::Stores.allows(role) {
        items.push(item("/dashboard/stores", t!(language, "nav-stores")));
    }
    if Section::Devices.allows(role) {
        items.push(item("/dashboard/devices", t!(language, "nav-devices")));
    }
    if Section::Admin.allows(role) {
        items.push(item("/dashboard/admin/users", t!(language, "nav-users")));
        items.push(item("/dashboard/admin/stores", t!(language, "nav-store-admin")));
        items.push(item("/dashboard/admin/templates", t!(language, "nav-templates")));
        items.push(item("/dashboard/admin/imports", t!(language, "nav-imports")));
        items.push(item("/dashboard/admin/settings", t!(language, "nav-settings")));
    }
    items
}

/// A page in the dashboard's frame, in the viewer's language: their navigation, name, language
/// picker and logout form around `body`.
pub fn frame(viewer: &Viewer, title: &str, current: &str, body: Markup) -> Response {
    let language = viewer.language;
    let name = t!(
        language,
        "header-who",
        user = viewer.caller.username.as_str(),
        role = texts::role(language, viewer.caller.role)
    );
    let who = Who { name, csrf: &viewer.csrf };
    page(language, title, &nav(viewer.caller.role, language), current, Some(who), body)
}

/// An order status as a coloured tag, in words of `language`.
pub fn status_tag(language: Language, status: &str) -> Markup {
    let class = match status {
        "approved" => "ok",
        "needs-approval" | "submitted" => "warn",
        "rejected" => "bad",
        _ => "",
    };
    html! { span class={ "tag " (class) } data-status=(status) { (texts::order_status(language, status)) } }
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
    let language = viewer.as_ref().map_or_else(super::session::page_language, |v| v.language);
    let text =
        format!("{}{}{}", t!(language, "not-found-text-before"), uri.path(), t!(language, "not-found-text-after"));
    let error = super::ErrorPage { title: t!(language, "not-found-title"), text };
    let mut response = super::error_page(viewer.as_ref(), &error);
    *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
    response
}
