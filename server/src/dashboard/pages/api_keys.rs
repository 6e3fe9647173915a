//! API keys (`/dashboard/api-keys`, HQ only): the tenant's integration keys with their scopes,
//! when each was last used and how often; a form creates one (shown once, on the page that
//! answers the form) and a button per live key revokes it. Both forms are CSRF-checked and go
//! through the accounts service's key rules; a refusal is shown on the page and changes nothing.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::super::DashError;
use super::super::html::url_param;
use super::super::session::Viewer;
use crate::services::accounts::{self, KeyScope};
use crate::state::AppState;

use super::*;

const ACTION: &str = "refusal-action-manage-api-keys";

/// `GET /dashboard/api-keys`.
pub async fn api_keys(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    api_keys_page(&state, &viewer, None, None, StatusCode::OK).await
}

async fn api_keys_page(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<Notice>,
    created: Option<String>,
    status: StatusCode,
) -> Result<Response, DashError> {
    viewer.caller.require_hq_person(ACTION)?;
    let storage = state.storage.as_ref();
    let locale = accounts::tenant_locale(storage, viewer.caller.tenant_id).await?.with_language(viewer.language);
    let keys = accounts::list_api_keys(storage, viewer.caller.tenant_id).await?;
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "keys-title")) }
        @if let Some(notice) = &notice {
            @match notice {
                Notice::Done(text) => p.notice #notice { (text) },
                Notice::Error(text) => p.error #key-error { (text) },
            }
        }
        @if let Some(key) = &created {
            p.notice {
                (t!(lang, "keys-copy-now")) " "
                code #new-key { (key) }
            }
        }
        form method="post" action="/dashboard/api-keys" #key-form {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label for="name" { (t!(lang, "keys-name")) " " } input #name type="text" name="name" required;
            " "
            label { input type="checkbox" name="events_read" value="on"; " events:read" }
            " "
            label { input type="checkbox" name="imports_write" value="on"; " imports:write" }
            " "
            button.primary type="submit" #key-create { (t!(lang, "keys-create")) }
        }
        table #keys {
            thead { tr {
                th { (t!(lang, "keys-name")) } th { (t!(lang, "keys-col-key")) } th { (t!(lang, "keys-col-scopes")) }
                th { (t!(lang, "keys-col-created")) } th { (t!(lang, "keys-col-last-used")) } th { (t!(lang, "keys-col-uses")) } th { "" }
            } }
            tbody {
                @for key in &keys {
                    tr {
                        td { (key.name) }
                        td { code { (key.prefix) "…" } }
                        td { (key.scopes) }
                        td { (locale.datetime(key.created_at)) }
                        td { @match key.last_used_at { Some(at) => (locale.datetime(at)), None => span.muted { (t!(lang, "keys-never")) } } }
                        td.num { (crate::format::count(key.use_count)) }
                        td {
                            @match key.revoked_at {
                                Some(at) => span.tag.bad { (t!(lang, "keys-revoked-at", at = locale.datetime(at))) },
                                None => form.revoke method="post" action=(format!("/dashboard/api-keys/{}/revoke", url_param(&key.id))) {
                                    input type="hidden" name="csrf" value=(viewer.csrf);
                                    button.danger type="submit" { (t!(lang, "keys-revoke")) }
                                },
                            }
                        }
                    }
                }
            }
        }
        p.note { (t!(lang, "keys-note")) }
    };
    let mut response = frame(viewer, &t!(lang, "keys-title"), "/dashboard/api-keys", body);
    *response.status_mut() = status;
    Ok(response)
}

/// The key forms.
#[derive(Debug, Default, Deserialize)]
pub struct ApiKeyForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// The new key's name.
    #[serde(default)]
    pub name: String,
    /// `on` when the key may read events.
    #[serde(default)]
    pub events_read: Option<String>,
    /// `on` when the key may write imports.
    #[serde(default)]
    pub imports_write: Option<String>,
}

/// `POST /dashboard/api-keys`: creates a key and shows it once.
pub async fn create_api_key(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<ApiKeyForm>, FormRejection>,
) -> Result<Response, DashError> {
    viewer.caller.require_hq_person(ACTION)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let mut scopes = Vec::new();
    if form.events_read.is_some() {
        scopes.push(KeyScope::EventsRead);
    }
    if form.imports_write.is_some() {
        scopes.push(KeyScope::ImportsWrite);
    }
    let caller = &viewer.caller;
    match accounts::create_api_key(state.storage.as_ref(), caller.tenant_id, form.name.trim(), &scopes, &caller.user_id)
        .await
    {
        Ok(created) => {
            let done = t!(
                viewer.language,
                "keys-done-created",
                name = created.record.name.as_str(),
                scopes = created.record.scopes.as_str()
            );
            api_keys_page(&state, &viewer, Some(Notice::Done(done)), Some(created.key), StatusCode::CREATED).await
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                api_keys_page(&state, &viewer, Some(Notice::Error(reason)), None, StatusCode::BAD_REQUEST).await
            }
            None => Err(error.into()),
        },
    }
}

/// `POST /dashboard/api-keys/{id}/revoke`.
pub async fn revoke_api_key(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Result<Form<ApiKeyForm>, FormRejection>,
) -> Result<Response, DashError> {
    viewer.caller.require_hq_person(ACTION)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let key = accounts::revoke_api_key(state.storage.as_ref(), viewer.caller.tenant_id, &id).await?;
    let done = t!(viewer.language, "keys-done-revoked", name = key.name.as_str());
    api_keys_page(&state, &viewer, Some(Notice::Done(done)), None, StatusCode::OK).await
}
