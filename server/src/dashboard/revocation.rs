//! HQ's remote wipe from the devices page: a "Revoke and wipe" form per device and a "Disable
//! user" form per user, shown to HQ only, posting to `POST /dashboard/devices/{id}/revoke` and
//! `POST /dashboard/users/{username}/disable`.
//!
//! Each POST checks the session's CSRF token first, then goes through exactly the path of the
//! JSON API ([`revoke_device_as`], [`disable_user_as`]: HQ only, never the viewer's own device or
//! user), and returns to the devices page, where a revoked device is no longer listed and a
//! disabled user is marked. Nothing changes unless it succeeds.

use super::texts::t;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use fieldsync_core::i18n::Language;
use serde::Deserialize;

use super::html::{Markup, html, url_param};
use super::session::Viewer;
use super::{DashError, Section};
use crate::services::accounts::{disable_user_as, revoke_device_as};
use crate::state::AppState;

/// The one field of both forms.
#[derive(Debug, Default, Deserialize)]
pub struct RevocationForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
}

fn check_csrf(viewer: &Viewer, form: Result<Form<RevocationForm>, FormRejection>) -> Result<(), DashError> {
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    Ok(())
}

/// The "Revoke and wipe" button for one device.
pub fn revoke_device_form(language: Language, csrf: &str, device_id: &str, device_name: &str) -> Markup {
    let action = format!("/dashboard/devices/{}/revoke", url_param(device_id));
    html! {
        form.revoke method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            button.danger type="submit" title=(t!(language, "devices-revoke-title", device = device_name)) {
                (t!(language, "devices-revoke"))
            }
        }
    }
}

/// The "Disable user" button for one user.
pub fn disable_user_form(language: Language, csrf: &str, username: &str) -> Markup {
    let action = format!("/dashboard/users/{}/disable", url_param(username));
    html! {
        form.disable method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            button.danger type="submit" { (t!(language, "devices-disable-user")) }
        }
    }
}

/// `POST /dashboard/devices/{id}/revoke`.
pub async fn revoke_device(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(device_id): Path<String>,
    form: Result<Form<RevocationForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Devices.check(&viewer.caller)?;
    check_csrf(&viewer, form)?;
    revoke_device_as(state.storage.as_ref(), &viewer.caller, &device_id).await?;
    tracing::warn!(device = %device_id, by = %viewer.caller.username, "device revoked from the dashboard");
    Ok(Redirect::to("/dashboard/devices").into_response())
}

/// `POST /dashboard/users/{username}/disable`.
pub async fn disable_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    form: Result<Form<RevocationForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Devices.check(&viewer.caller)?;
    check_csrf(&viewer, form)?;
    let user = disable_user_as(state.storage.as_ref(), &viewer.caller, &username).await?;
    tracing::warn!(user = %user.username, by = %viewer.caller.username, "user disabled from the dashboard");
    Ok(Redirect::to("/dashboard/devices").into_response())
}
