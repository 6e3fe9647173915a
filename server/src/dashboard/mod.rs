//! The HQ dashboard: server-rendered pages served by the relay at `/` and under `/dashboard/`,
//! for HQ, managers and supervisors (reps are refused: they use phones).
//!
//! - [`session`]: login with a relay session kept in an `HttpOnly`, `SameSite=Strict` cookie;
//!   CSRF tokens on every form.
//! - [`pages`]: overview, orders, inspections, devices, and HQ's admin pages (users, stores,
//!   imports, each import run with its progress); every page and every call behind it
//!   checks the section ([`Section::allows`]) and reads only through the viewer's scope
//!   ([`records`]).
//! - [`decisions`]: approve / reject on an order's page for the approver of the current step,
//!   through the same decision path as `POST /v1/orders/{id}/decision`.
//! - [`stores`]: last visit and score per store, coverage per region, product rollout.
//! - [`live`]: server-sent events fed by the storage's announcements, so new orders appear
//!   without a reload.
//! - [`texts`]: every word of every page in the viewer's language (`server/locales/*/dashboard.ftl`),
//!   chosen with the language picker in the header (`POST /dashboard/language`).
//! - [`csv`]: exports; [`svg`]: the charts (orders per day, score distribution, approval
//!   times), rendered on the server.
//!
//! No external assets: the CSS and a few lines of JavaScript are inlined under a per-response
//! CSP nonce.

pub mod csv;
pub mod decisions;
pub mod html;
pub mod live;
pub mod pages;
pub mod records;
pub mod revocation;
pub mod session;
pub mod stores;
pub mod svg;
pub mod texts;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fieldsync_core::Role;

use crate::error::{Error, RefusalKind};
use crate::services::accounts::Caller;
use crate::state::AppState;
use texts::t;

/// The dashboard's routes, merged into the relay's router by [`crate::http::app`]. Their error
/// pages (403, 500 and the rest) are shown in the viewer's frame ([`framed_errors`]).
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::overview))
        .route(
            "/dashboard/login",
            get(pages::login_form).post(pages::login).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route("/dashboard/logout", post(pages::logout).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)))
        .route("/dashboard/orders", get(pages::orders))
        .route("/dashboard/orders.csv", get(csv::orders))
        .route("/dashboard/order-lines.csv", get(csv::order_lines))
        .route("/dashboard/orders/{id}", get(pages::order))
        .route(
            "/dashboard/orders/{id}/decision",
            post(decisions::decide).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route("/dashboard/approvals", get(pages::approvals))
        .route("/dashboard/approvals/report", get(pages::approvals_report))
        .route("/dashboard/approvals/report.csv", get(csv::approvals_report))
        .route(
            "/dashboard/approvals/approve",
            post(pages::bulk_approve).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/out-of-office",
            get(pages::out_of_office)
                .post(pages::set_out_of_office)
                .layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/api-keys",
            get(pages::api_keys).post(pages::create_api_key).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/api-keys/{id}/revoke",
            post(pages::revoke_api_key).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route("/dashboard/webhooks", get(pages::webhooks))
        .route(
            "/dashboard/webhooks/{id}/replay",
            post(pages::replay_webhook).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/policy",
            get(pages::policy_editor)
                .post(pages::policy_post)
                .layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/alerts",
            get(pages::alerts).post(pages::alert_action).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route("/dashboard/stores", get(stores::stores))
        .route("/stores", get(stores::stores))
        .route("/dashboard/inspections", get(pages::inspections))
        .route("/dashboard/inspections.csv", get(csv::inspections))
        .route("/dashboard/inspections/{id}", get(pages::inspection))
        .route(
            "/dashboard/inspections/{id}/photos/{sha256}/review",
            post(pages::review_photo).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route("/dashboard/devices", get(pages::devices))
        .route(
            "/dashboard/devices/{id}/revoke",
            post(revocation::revoke_device).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/users/{username}/disable",
            post(revocation::disable_user).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/admin/users",
            get(pages::admin_users)
                .post(pages::admin_create_user)
                .layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/admin/users/{username}",
            post(pages::user_action_post).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/admin/stores",
            get(pages::admin_stores)
                .post(pages::create_store)
                .layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route("/dashboard/admin/stores/new", get(pages::new_store))
        .route(
            "/dashboard/admin/stores/{id}",
            get(pages::edit_store).post(pages::save_store).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route(
            "/dashboard/admin/templates",
            get(pages::admin_templates)
                .post(pages::create_template)
                .layer(DefaultBodyLimit::max(pages::TEMPLATE_FORM_LIMIT)),
        )
        .route("/dashboard/admin/templates/new", get(pages::new_template))
        .route(
            "/dashboard/admin/templates/{id}",
            get(pages::edit_template)
                .post(pages::save_template)
                .layer(DefaultBodyLimit::max(pages::TEMPLATE_FORM_LIMIT)),
        )
        .route(
            "/dashboard/admin/settings",
            get(pages::tenant_settings)
                .post(pages::save_tenant_settings)
                .layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route("/dashboard/admin/imports", get(pages::admin_imports))
        .route(
            "/dashboard/admin/imports/preview",
            post(pages::preview_import).layer(DefaultBodyLimit::max(pages::FORM_LIMIT)),
        )
        .route(
            "/dashboard/admin/imports/apply",
            post(pages::apply_import).layer(DefaultBodyLimit::max(pages::FORM_LIMIT)),
        )
        .route("/dashboard/admin/imports/runs/{id}", get(pages::import_run))
        .route("/dashboard/admin/imports/runs/{id}/progress", get(pages::import_run_progress))
        .route("/dashboard/orders-per-day.svg", get(svg::orders_per_day))
        .route("/dashboard/events", get(live::events))
        .route(
            "/dashboard/language",
            post(pages::set_language).layer(DefaultBodyLimit::max(crate::http::JSON_BODY_LIMIT)),
        )
        .route("/dashboard/{*rest}", get(pages::not_found))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), framed_errors))
        .layer(axum::middleware::from_fn(session::with_page_language))
}

/// What an error page says, left on its response by [`DashError`] for [`framed_errors`] to show
/// in the viewer's frame.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// The heading, in the reader's language.
    pub title: String,
    /// The one sentence under it: never a relay internal.
    pub text: String,
}

/// Middleware: an error page of a signed-in viewer is shown in their frame (their navigation,
/// name and logout form), so a refused or failed page still leads somewhere. The viewer is looked
/// up only when a page failed.
pub async fn framed_errors(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<ErrorPage>().cloned() else { return response };
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    let Ok(viewer) =
        <session::Viewer as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &state).await
    else {
        return response;
    };
    let mut framed = error_page(Some(&viewer), &error);
    *framed.status_mut() = response.status();
    framed
}

/// An error page: in the viewer's frame when there is one, else bare with a link to sign in.
pub fn error_page(viewer: Option<&session::Viewer>, error: &ErrorPage) -> Response {
    let language = viewer.map_or_else(session::page_language, |viewer| viewer.language);
    let body = html::html! {
        h1 #error-title { (error.title) }
        p.error #error-text { (error.text) }
        @if viewer.is_some() {
            p { a href="/" { (t!(language, "error-back")) } }
        } @else {
            p { a href="/dashboard/login" { (t!(language, "login-sign-in")) } }
        }
    };
    match viewer {
        Some(viewer) => pages::frame(viewer, &error.title, "", body),
        None => html::page(language, &error.title, &[], "", None, body),
    }
}

/// A part of the dashboard, with the roles that may open it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The overview (`/`).
    Overview,
    /// Orders, their reviews, the CSV export and the chart: roles whose scope holds orders.
    Orders,
    /// Inspections, photos and scores.
    Inspections,
    /// Devices and their sync health: HQ and managers.
    Devices,
    /// Stores, coverage and product rollout: everyone on the dashboard, each in their scope.
    Stores,
    /// Alerts and their triage: everyone on the dashboard, each their own (HQ every one).
    Alerts,
    /// The admin pages (users, stores, checklist templates, imports): HQ only.
    Admin,
}

impl Section {
    /// Whether `role` may open this section.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Section::Overview | Section::Inspections | Section::Stores | Section::Alerts => {
                matches!(role, Role::Hq | Role::Manager | Role::Supervisor)
            }
            Section::Orders | Section::Devices => matches!(role, Role::Hq | Role::Manager),
            Section::Admin => role == Role::Hq,
        }
    }

    /// `Ok` if the caller may open this section, else a [`DashError::Forbidden`] naming it.
    pub fn check(self, caller: &Caller) -> Result<(), DashError> {
        if self.allows(caller.role) {
            return Ok(());
        }
        let language = session::page_language();
        let what = match self {
            Section::Overview => t!(language, "section-overview"),
            Section::Orders => t!(language, "section-orders"),
            Section::Inspections => t!(language, "section-inspections"),
            Section::Devices => t!(language, "section-devices"),
            Section::Stores => t!(language, "section-stores"),
            Section::Alerts => t!(language, "section-alerts"),
            Section::Admin => {
                let role = texts::role(language, caller.role);
                return Err(DashError::Forbidden(t!(language, "error-admin", role = role)));
            }
        };
        let role = texts::role(language, caller.role);
        Err(DashError::Forbidden(t!(language, "error-section", section = what, role = role)))
    }
}

/// Why a dashboard request failed, as an HTML page (or a redirect to the login).
#[derive(Debug)]
pub enum DashError {
    /// No valid session: go to the login page.
    LoginRequired,
    /// Logged in, but not allowed here (403 page).
    Forbidden(String),
    /// Anything else from the relay.
    Relay(Error),
}

impl From<Error> for DashError {
    /// A forbidden action is the 403 page, its reason in the page's language.
    fn from(error: Error) -> Self {
        match error {
            Error::Unauthenticated(_) | Error::Revoked(_) => DashError::LoginRequired,
            Error::Forbidden(reason) => DashError::Forbidden(reason),
            Error::Refused(refusal) if refusal.kind == RefusalKind::Forbidden => {
                DashError::Forbidden(refusal.text(session::page_language()))
            }
            other => DashError::Relay(other),
        }
    }
}

impl From<fieldsync_core::Error> for DashError {
    fn from(error: fieldsync_core::Error) -> Self {
        DashError::Relay(error.into())
    }
}

impl IntoResponse for DashError {
    fn into_response(self) -> Response {
        let language = session::page_language();
        let (status, title, text) = match self {
            DashError::LoginRequired => {
                let mut response = Redirect::to("/dashboard/login").into_response();
                response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
                return response;
            }
            DashError::Forbidden(reason) => (StatusCode::FORBIDDEN, t!(language, "error-forbidden-title"), reason),
            DashError::Relay(error) => {
                let api = crate::http::error::ApiError(error);
                let (status, _) = api.status_and_code();
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!(error = %api.0, "dashboard request failed");
                    (status, t!(language, "error-internal-title"), t!(language, "error-internal-text"))
                } else if status == StatusCode::NOT_FOUND {
                    // The relay's reasons name ids and values; they stay as the relay wrote them.
                    (status, t!(language, "error-not-found-title"), api.0.to_string())
                } else {
                    // A refusal in the reader's language; anything else as the relay wrote it.
                    (status, t!(language, "error-refused-title"), texts::error(language, &api.0))
                }
            }
        };
        let error = ErrorPage { title, text };
        let mut response = error_page(None, &error);
        *response.status_mut() = status;
        // The middleware puts the page in the viewer's frame.
        response.extensions_mut().insert(error);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervisors_see_inspections_but_not_orders_or_devices_and_reps_see_nothing() {
        for section in [
            Section::Overview,
            Section::Orders,
            Section::Inspections,
            Section::Devices,
            Section::Stores,
            Section::Alerts,
        ] {
            assert!(section.allows(Role::Hq));
            assert!(section.allows(Role::Manager));
            assert!(!section.allows(Role::Rep));
        }
        assert!(Section::Inspections.allows(Role::Supervisor));
        assert!(Section::Stores.allows(Role::Supervisor));
        assert!(Section::Alerts.allows(Role::Supervisor));
        assert!(!Section::Devices.allows(Role::Supervisor));
        assert!(!Section::Orders.allows(Role::Supervisor));
        assert!(Section::Admin.allows(Role::Hq));
        for role in [Role::Manager, Role::Supervisor, Role::Rep] {
            assert!(!Section::Admin.allows(role));
        }
    }
}
