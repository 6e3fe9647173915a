//! The users admin page (`/dashboard/admin/users`, HQ only): the tenant's users with search and
//! filters (role, region, disabled), a form that creates one, and per user the forms that change
//! role, region and display name, reset the password, and disable or enable them. Every form is
//! CSRF-checked and goes through the accounts service the command line calls
//! ([`accounts::create_user_as`], [`accounts::update_user_as`], …); a refusal is shown on the
//! page and changes nothing.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use fieldsync_core::Role;
use maud::{Markup, html};
use serde::Deserialize;

use super::super::html::url_param;
use super::super::session::Viewer;
use super::super::{DashError, Section};
use super::order::Notice;
use crate::error::Error;
use crate::services::accounts::{self, NewAccount, UserUpdate};
use crate::state::AppState;
use crate::storage::User;

use super::*;

/// The roles a user may have, in the order the forms offer them.
pub const ROLES: [&str; 4] = ["rep", "supervisor", "manager", "hq"];

/// The users page's filters.
#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    /// Part of the username or display name.
    pub q: Option<String>,
    /// A role.
    pub role: Option<String>,
    /// A region.
    pub region: Option<String>,
    /// `yes`: disabled users only; `no`: enabled users only.
    pub disabled: Option<String>,
}

/// `GET /dashboard/admin/users?q=&role=&region=&disabled=`.
pub async fn admin_users(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<UsersQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    users_page(&state, &viewer, &query, None, StatusCode::OK).await
}

fn matches(user: &User, query: &UsersQuery) -> bool {
    let wanted = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    if let Some(needle) = wanted(&query.q).map(|q| q.to_lowercase())
        && !user.username.to_lowercase().contains(&needle)
        && !user.display_name.to_lowercase().contains(&needle)
    {
        return false;
    }
    if wanted(&query.role).is_some_and(|role| user.role.as_str() != role) {
        return false;
    }
    if wanted(&query.region).is_some_and(|region| user.region.as_deref() != Some(region.as_str())) {
        return false;
    }
    match wanted(&query.disabled).as_deref() {
        Some("yes") => user.disabled_at.is_some(),
        Some("no") => user.disabled_at.is_none(),
        _ => true,
    }
}

async fn users_page(
    state: &AppState,
    viewer: &Viewer,
    query: &UsersQuery,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let storage = state.storage.as_ref();
    let locale = accounts::tenant_locale(storage, viewer.caller.tenant_id).await?.with_language(viewer.language);
    let lang = viewer.language;
    let all = storage.list_users(viewer.caller.tenant_id).await?;
    let mut regions: Vec<&str> = all.iter().filter_map(|u| u.region.as_deref()).collect();
    regions.sort_unstable();
    regions.dedup();
    let users: Vec<&User> = all.iter().filter(|user| matches(user, query)).collect();
    let chosen = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let body = html! {
        h1 { (t!(lang, "users-title")) }
        @if let Some(notice) = &notice { (notice_markup(notice)) }
        details.admin-form open[notice.is_some() || all.len() <= 1] {
            summary { (t!(lang, "users-new")) }
            form method="post" action="/dashboard/admin/users" #user-create {
                input type="hidden" name="csrf" value=(viewer.csrf);
                label { (t!(lang, "users-username")) input #new-username type="text" name="username" required autocomplete="off"; }
                label { (t!(lang, "users-display-name")) input #new-display-name type="text" name="display_name"; }
                label { (t!(lang, "users-role")) (role_select(lang, "new-role", None)) }
                label { (t!(lang, "users-region")) input #new-region type="text" name="region" placeholder=(t!(lang, "users-region-placeholder")); }
                label { (t!(lang, "users-initial-password")) input #new-password type="password" name="password" required autocomplete="new-password"; }
                button.primary type="submit" #user-create-submit { (t!(lang, "users-create")) }
            }
        }
        form.filters method="get" action="/dashboard/admin/users" #user-filters {
            label { (t!(lang, "filter-search")) input type="search" name="q" id="filter-q" value=[query.q.as_deref()] placeholder=(t!(lang, "users-search-placeholder")); }
            label { (t!(lang, "users-role")) select name="role" id="filter-role" {
                option value="" { (t!(lang, "filter-any")) }
                @for role in ROLES { option value=(role) selected[chosen(&query.role, role)] { (role_name(lang, role)) } }
            } }
            label { (t!(lang, "users-region")) select name="region" id="filter-region" {
                option value="" { (t!(lang, "filter-any")) }
                @for region in &regions { option selected[chosen(&query.region, region)] { (region) } }
            } }
            label { (t!(lang, "users-disabled")) select name="disabled" id="filter-disabled" {
                option value="" { (t!(lang, "filter-any")) }
                option value="no" selected[chosen(&query.disabled, "no")] { (t!(lang, "users-enabled-only")) }
                option value="yes" selected[chosen(&query.disabled, "yes")] { (t!(lang, "users-disabled-only")) }
            } }
            button type="submit" { (t!(lang, "filter-apply")) }
        }
        p #user-count { (t!(lang, "users-count", shown = users.len(), total = all.len())) }
        table.stack #users {
            thead { tr {
                th { (t!(lang, "users-col-user")) } th { (t!(lang, "users-col-role-region")) } th { (t!(lang, "users-col-created")) }
                th { (t!(lang, "users-col-status")) } th { (t!(lang, "users-col-password")) }
            } }
            tbody {
                @for user in &users {
                    tr data-user=(user.username) {
                        td data-label=(t!(lang, "users-col-user")) {
                            strong { (user.username) }
                            @if !user.display_name.is_empty() { br; span.muted { (user.display_name) } }
                        }
                        td data-label=(t!(lang, "users-col-role-region")) { (update_form(viewer, lang, user)) }
                        td data-label=(t!(lang, "users-col-created")) { (locale.datetime(user.created_at)) }
                        td data-label=(t!(lang, "users-col-status")) { (status_form(viewer, lang, user)) }
                        td data-label=(t!(lang, "users-col-password")) { (password_form(viewer, lang, user)) }
                    }
                }
            }
        }
    };
    let mut response = frame(viewer, &t!(lang, "users-title"), "/dashboard/admin/users", body);
    *response.status_mut() = status;
    Ok(response)
}

fn notice_markup(notice: &Notice) -> Markup {
    html! {
        @match notice {
            Notice::Done(text) => p.notice #notice { (text) },
            Notice::Error(text) => p.error #admin-error { (text) },
        }
    }
}

/// A role's name in the viewer's language, from its form value (`rep`).
fn role_name(lang: Language, role: &str) -> String {
    match accounts::parse_role(role) {
        Ok(role) => texts::role(lang, role),
        Err(_) => role.to_owned(),
    }
}

fn role_select(lang: Language, id: &str, current: Option<Role>) -> Markup {
    html! {
        select name="role" id=(id) {
            @for role in ROLES {
                option value=(role) selected[current.is_some_and(|c| c.as_str() == role)] { (role_name(lang, role)) }
            }
        }
    }
}

fn user_action(user: &User) -> String {
    format!("/dashboard/admin/users/{}", url_param(&user.username))
}

fn update_form(viewer: &Viewer, lang: Language, user: &User) -> Markup {
    html! {
        form.inline method="post" action=(user_action(user)) {
            input type="hidden" name="csrf" value=(viewer.csrf);
            input type="hidden" name="action" value="update";
            (role_select(lang, &format!("role-{}", user.username), Some(user.role)))
            @let region = t!(lang, "users-field-region");
            @let display_name = t!(lang, "users-field-display-name");
            input type="text" name="region" value=(user.region.as_deref().unwrap_or("")) placeholder=(region) aria-label=(region);
            input type="text" name="display_name" value=(user.display_name) placeholder=(display_name) aria-label=(display_name);
            button type="submit" { (t!(lang, "users-save")) }
        }
    }
}

fn status_form(viewer: &Viewer, lang: Language, user: &User) -> Markup {
    let (action, label, class) = match user.disabled_at {
        Some(_) => ("enable", t!(lang, "users-enable"), "primary"),
        None => ("disable", t!(lang, "users-disable"), "danger"),
    };
    html! {
        @if user.disabled_at.is_some() { span."tag bad" { (t!(lang, "users-tag-disabled")) } " " } @else { span."tag ok" { (t!(lang, "users-tag-active")) } " " }
        @if user.id != viewer.caller.user_id {
            form.inline method="post" action=(user_action(user)) {
                input type="hidden" name="csrf" value=(viewer.csrf);
                input type="hidden" name="action" value=(action);
                button class=(class) type="submit" { (label) }
            }
        }
    }
}

fn password_form(viewer: &Viewer, lang: Language, user: &User) -> Markup {
    html! {
        form.inline method="post" action=(user_action(user)) {
            input type="hidden" name="csrf" value=(viewer.csrf);
            input type="hidden" name="action" value="reset-password";
            @let new_password = t!(lang, "users-new-password");
            input type="password" name="password" placeholder=(new_password) aria-label=(new_password) autocomplete="new-password";
            button type="submit" { (t!(lang, "users-reset")) }
        }
    }
}

/// The users page's forms.
#[derive(Debug, Default, Deserialize)]
pub struct UserForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// `update`, `disable`, `enable` or `reset-password` (a row's forms).
    #[serde(default)]
    pub action: String,
    /// The new user's username.
    #[serde(default)]
    pub username: String,
    /// The display name.
    #[serde(default)]
    pub display_name: String,
    /// The role.
    #[serde(default)]
    pub role: String,
    /// The region (empty: none).
    #[serde(default)]
    pub region: String,
    /// The (new) password.
    #[serde(default)]
    pub password: String,
}

fn region(form: &UserForm) -> Option<&str> {
    Some(form.region.trim()).filter(|r| !r.is_empty())
}

/// Shows a refusal the person can act on (bad input, a conflict, an unknown user) on the page;
/// anything else is an error page.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    outcome: crate::error::Result<String>,
    created: bool,
) -> Result<Response, DashError> {
    let query = UsersQuery::default();
    match outcome {
        Ok(done) => {
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            users_page(state, viewer, &query, Some(Notice::Done(done)), status).await
        }
        Err(error @ Error::NotFound { .. }) => {
            users_page(state, viewer, &query, Some(Notice::Error(error.to_string())), StatusCode::NOT_FOUND).await
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                users_page(state, viewer, &query, Some(Notice::Error(reason)), StatusCode::BAD_REQUEST).await
            }
            None => Err(error.into()),
        },
    }
}

/// `POST /dashboard/admin/users`: creates a user.
pub async fn admin_create_user(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<UserForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let outcome = async {
        let role = accounts::parse_role(form.role.trim())?;
        let account = NewAccount {
            tenant: &viewer.caller.tenant,
            username: form.username.trim(),
            display_name: &form.display_name,
            password: &form.password,
            role,
            region: region(&form),
        };
        let user =
            accounts::create_user_as(state.storage.as_ref(), state.config.password_cost, &viewer.caller, account)
                .await?;
        let role = texts::role(viewer.language, user.role);
        Ok(t!(viewer.language, "users-done-created", user = user.username.as_str(), role = role))
    }
    .await;
    answer(&state, &viewer, outcome, true).await
}

/// `POST /dashboard/admin/users/{username}`: a row's form (`action`: `update`, `disable`,
/// `enable`, `reset-password`).
pub async fn user_action_post(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    form: Result<Form<UserForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let storage = state.storage.as_ref();
    let caller = &viewer.caller;
    let lang = viewer.language;
    let user = username.as_str();
    let outcome = async {
        match form.action.as_str() {
            "update" => {
                let role = accounts::parse_role(form.role.trim())?;
                let update = UserUpdate { role, region: region(&form), display_name: &form.display_name };
                accounts::update_user_as(storage, caller, &username, update).await?;
                let role = texts::role(lang, role);
                Ok(match region(&form) {
                    Some(region) => t!(lang, "users-done-saved-region", user = user, role = role, region = region),
                    None => t!(lang, "users-done-saved", user = user, role = role),
                })
            }
            "disable" => {
                accounts::disable_user_as(storage, caller, &username).await?;
                Ok(t!(lang, "users-done-disabled", user = user))
            }
            "enable" => {
                accounts::enable_user_as(storage, caller, &username).await?;
                Ok(t!(lang, "users-done-enabled", user = user))
            }
            "reset-password" => {
                accounts::reset_password_as(storage, state.config.password_cost, caller, &username, &form.password)
                    .await?;
                Ok(t!(lang, "users-done-password", user = user))
            }
            other => Err(Error::invalid(
                "invalid-input",
                Message::new("refusal-unknown-user-action").arg("action", format!("{other:?}")),
            )),
        }
    }
    .await;
    answer(&state, &viewer, outcome, false).await
}
