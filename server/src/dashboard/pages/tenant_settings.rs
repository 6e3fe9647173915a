//! The tenant's settings page (`/dashboard/admin/settings`, HQ only): the time zone its days are
//! counted in, the currency of its amounts, and the default language of its people (a user's own
//! choice in the header wins; without either, each browser's `Accept-Language`). One CSRF-checked
//! form, through the accounts service the command line's `admin set-tenant` shares
//! ([`accounts::set_tenant_settings_as`]); a bad value is shown on the page and changes nothing.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fieldsync_core::i18n::Language;
use maud::html;
use serde::Deserialize;

use super::super::session::Viewer;
use super::super::{DashError, Section};
use super::order::Notice;
use crate::services::accounts::{self, SettingsChange};
use crate::state::AppState;

use super::*;

/// Time zones the form suggests (any IANA name is taken).
const SUGGESTED_ZONES: [&str; 10] = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
];
/// Currencies the form suggests (any ISO 4217 code with two decimals is taken).
const SUGGESTED_CURRENCIES: [&str; 7] = ["CNY", "HKD", "TWD", "SGD", "USD", "EUR", "GBP"];

/// The settings form.
#[derive(Debug, Default, Deserialize)]
pub struct TenantSettingsForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// IANA time zone.
    #[serde(default)]
    pub time_zone: String,
    /// ISO 4217 code.
    #[serde(default)]
    pub currency: String,
    /// A language tag, or empty for each browser's.
    #[serde(default)]
    pub language: String,
}

/// The settings page's query: `saved=1` after a save.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    /// Set by the redirect after a save.
    #[serde(default)]
    pub saved: Option<String>,
}

/// `GET /dashboard/admin/settings[?saved=1]`.
pub async fn tenant_settings(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<SettingsQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    let saved = query.is_ok_and(|Query(query)| query.saved.as_deref() == Some("1"));
    let notice = saved.then(|| Notice::Done(t!(viewer.language, "settings-saved")));
    settings_page(&state, &viewer, notice, None, StatusCode::OK).await
}

/// `POST /dashboard/admin/settings`: stores the tenant's settings and goes back to the page
/// (whose language may be the new default), or shows why not (nothing changed) with the values
/// as typed.
pub async fn save_tenant_settings(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<TenantSettingsForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let change = SettingsChange { time_zone: &form.time_zone, currency: &form.currency, language: &form.language };
    let lang = viewer.language;
    match accounts::set_tenant_settings_as(state.storage.as_ref(), &viewer.caller, change).await {
        Ok(_) => Ok(Redirect::to("/dashboard/admin/settings?saved=1").into_response()),
        Err(error) => match texts::refusal(lang, &error) {
            Some(reason) => {
                settings_page(&state, &viewer, Some(Notice::Error(reason)), Some(&form), StatusCode::BAD_REQUEST).await
            }
            None => Err(error.into()),
        },
    }
}

async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<Notice>,
    typed: Option<&TenantSettingsForm>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let stored = accounts::tenant_settings_as(state.storage.as_ref(), &viewer.caller).await?;
    let time_zone = typed.map_or(stored.time_zone.as_str(), |form| form.time_zone.as_str());
    let currency = typed.map_or(stored.currency.as_str(), |form| form.currency.as_str());
    let language = typed.map_or(stored.language.map_or("", Language::tag), |form| form.language.as_str());
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "settings-title")) }
        @if let Some(notice) = &notice {
            @match notice {
                Notice::Done(text) => p.notice #notice { (text) },
                Notice::Error(text) => p.error #settings-error { (text) },
            }
        }
        p { (t!(lang, "settings-tenant")) " " b #settings-tenant { (stored.name) } }
        form.admin method="post" action="/dashboard/admin/settings" #settings-form {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label { (t!(lang, "settings-time-zone"))
                input type="text" name="time_zone" #settings-time-zone value=(time_zone) list="settings-zones" required autocomplete="off";
            }
            datalist #settings-zones { @for zone in SUGGESTED_ZONES { option value=(zone) {} } }
            label { (t!(lang, "settings-currency"))
                input type="text" name="currency" #settings-currency value=(currency) list="settings-currencies" required autocomplete="off" maxlength="3";
            }
            datalist #settings-currencies { @for code in SUGGESTED_CURRENCIES { option value=(code) {} } }
            label { (t!(lang, "settings-language"))
                select name="language" #settings-language {
                    option value="" selected[language.is_empty()] { (t!(lang, "settings-language-browser")) }
                    @for choice in Language::ALL {
                        option value=(choice.tag()) selected[language == choice.tag()] { (choice.name()) }
                    }
                }
            }
            p.note { (t!(lang, "settings-note")) }
            button.primary type="submit" #settings-save { (t!(lang, "settings-save")) }
        }
    };
    let mut response = frame(viewer, &t!(lang, "settings-title"), "/dashboard/admin/settings", body);
    *response.status_mut() = status;
    Ok(response)
}
