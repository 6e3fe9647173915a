//! The stores admin pages (HQ only): `/dashboard/admin/stores` lists the tenant's stores with
//! search, region and state filters, keyset pages and a count (from the read model, through
//! [`stores::page`]); `/dashboard/admin/stores/new` and `/dashboard/admin/stores/{id}` create and
//! edit one (name, code, address, customer, geofence, tier, region, rep and supervisor) through
//! [`stores::create_store_as`] and [`stores::edit_store_as`]. Forms are CSRF-checked; a refused
//! form is shown again with the values typed and the reason, and changes nothing.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use fieldsync_core::{DocumentId, Role};
use maud::{Markup, html};
use serde::Deserialize;

use super::super::html::url_param;
use super::super::session::Viewer;
use super::super::{DashError, Section};
use super::orders::{MAX_PAGE_ROWS, PAGE_ROWS, link, next_link};
use crate::error::Error;
use crate::imports::check::TIERS;
use crate::services::stores::{StoreForm, StoreRequest};
use crate::services::{listing, stores};
use crate::state::AppState;

use super::*;

/// The store list's query.
#[derive(Debug, Default, Deserialize)]
pub struct StoreListQuery {
    /// Part of the name, code, address or customer id.
    pub q: Option<String>,
    /// A region.
    pub region: Option<String>,
    /// `active` or `closed`.
    pub state: Option<String>,
    /// Where the page starts.
    pub after: Option<String>,
    /// Rows per page.
    pub limit: Option<String>,
}

impl StoreListQuery {
    fn filter_params(&self) -> Vec<(&'static str, String)> {
        [("q", &self.q), ("region", &self.region), ("state", &self.state)]
            .into_iter()
            .filter_map(|(name, value)| Some((name, value.clone().filter(|v| !v.trim().is_empty())?)))
            .collect()
    }
}

/// `GET /dashboard/admin/stores?q=&region=&state=&after=`.
pub async fn admin_stores(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<StoreListQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    let query = crate::http::lists::query(query)?;
    store_list(&state, &viewer, &query, None, StatusCode::OK).await
}

async fn store_list(
    state: &AppState,
    viewer: &Viewer,
    query: &StoreListQuery,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let caller = &viewer.caller;
    let storage = state.storage.as_ref();
    let limit = listing::limit(query.limit.as_deref(), PAGE_ROWS, MAX_PAGE_ROWS)?;
    let request = StoreRequest::parse(
        caller,
        query.q.as_deref(),
        query.region.as_deref(),
        query.state.as_deref(),
        query.after.as_deref(),
        limit,
    )?;
    let (page, total) = stores::page(storage, caller.tenant_id, &request).await?;
    let filters = query.filter_params();
    let next = next_link("/dashboard/admin/stores", &filters, page.next.as_ref());
    let chosen = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "store-admin-title")) }
        @if let Some(notice) = &notice { (notice_markup(notice)) }
        p { a.button href="/dashboard/admin/stores/new" #store-new { (t!(lang, "store-admin-new")) } }
        form.filters method="get" action="/dashboard/admin/stores" #store-filters {
            label { (t!(lang, "filter-search")) input type="search" name="q" id="filter-q" value=[query.q.as_deref()] placeholder=(t!(lang, "store-admin-search-placeholder")); }
            label { (t!(lang, "store-admin-col-region")) input type="text" name="region" id="filter-region" value=[query.region.as_deref()]; }
            label { (t!(lang, "store-admin-state")) select name="state" id="filter-state" {
                option value="" { (t!(lang, "filter-any")) }
                option value="active" selected[chosen(&query.state, "active")] { (t!(lang, "store-admin-served")) }
                option value="closed" selected[chosen(&query.state, "closed")] { (t!(lang, "store-admin-closed")) }
            } }
            button.primary type="submit" { (t!(lang, "filter-apply")) }
        }
        p.note #store-count {
            (t!(lang, "store-admin-count", count = total))
            @if request.after.is_some() { " · " a href=(link("/dashboard/admin/stores", &filters)) { (t!(lang, "list-first-page")) } }
        }
        table.stack #store-list {
            thead { tr {
                th { (t!(lang, "store-admin-col-code")) } th { (t!(lang, "store-admin-col-name")) }
                th { (t!(lang, "store-admin-col-address")) } th { (t!(lang, "store-admin-col-region")) }
                th { (t!(lang, "store-admin-col-tier")) } th { (t!(lang, "store-admin-col-customer")) }
                th { (t!(lang, "store-admin-col-rep")) } th { (t!(lang, "store-admin-col-supervisor")) }
                th { (t!(lang, "store-admin-state")) }
            } }
            tbody {
                @if page.rows.is_empty() { tr { td colspan="9" .muted { (t!(lang, "stores-none-match")) } } }
                @for row in &page.rows {
                    tr data-id=(row.id) {
                        td data-label=(t!(lang, "store-admin-col-code")) { @if row.code.is_empty() { span.muted { "—" } } @else { span.code { (row.code) } } }
                        td data-label=(t!(lang, "store-admin-col-name")) { a href=(format!("/dashboard/admin/stores/{}", url_param(&row.id))) { (row.name) } }
                        td data-label=(t!(lang, "store-admin-col-address")) { (row.address) }
                        td data-label=(t!(lang, "store-admin-col-region")) { (row.region) }
                        td data-label=(t!(lang, "store-admin-col-tier")) { (row.tier) }
                        td data-label=(t!(lang, "store-admin-col-customer")) { (row.customer_id) }
                        td data-label=(t!(lang, "store-admin-col-rep")) { (row.rep_name.as_deref().unwrap_or("—")) }
                        td data-label=(t!(lang, "store-admin-col-supervisor")) { (row.supervisor_name.as_deref().unwrap_or("—")) }
                        td data-label=(t!(lang, "store-admin-state")) { @if row.active { span."tag ok" { (t!(lang, "store-admin-served")) } } @else { span."tag bad" { (t!(lang, "store-admin-closed")) } } }
                    }
                }
            }
        }
        @if let Some(next) = &next {
            p { a href=(next) id="stores-next" rel="next" { (t!(lang, "stores-next", rows = request.limit)) } }
        }
    };
    let mut response = frame(viewer, &t!(lang, "store-admin-title"), "/dashboard/admin/stores", body);
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

/// The store form as typed: every field text, parsed by [`StoreFields::form`].
#[derive(Debug, Default, Deserialize)]
pub struct StoreFields {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Short code.
    #[serde(default)]
    pub code: String,
    /// Street address.
    #[serde(default)]
    pub address: String,
    /// Customer id.
    #[serde(default)]
    pub customer_id: String,
    /// Region.
    #[serde(default)]
    pub region: String,
    /// Tier.
    #[serde(default)]
    pub tier: String,
    /// Latitude.
    #[serde(default)]
    pub latitude: String,
    /// Longitude.
    #[serde(default)]
    pub longitude: String,
    /// Geofence radius in metres (empty: the default).
    #[serde(default)]
    pub geofence_m: String,
    /// The rep's username.
    #[serde(default)]
    pub rep: String,
    /// The supervisor's username.
    #[serde(default)]
    pub supervisor: String,
    /// `on` when the store is served (edit form).
    #[serde(default)]
    pub active: Option<String>,
}

/// `what`: the message id of the field (`refusal-field-latitude`).
fn number(what: &'static str, text: &str, empty: Option<f64>) -> crate::error::Result<f64> {
    let text = text.trim();
    match (text.is_empty(), empty) {
        (true, Some(value)) => Ok(value),
        _ => text.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| {
            let message = Message::new("refusal-not-a-number").part("field", Message::new(what));
            Error::invalid("invalid-input", message.arg("value", format!("{text:?}")))
        }),
    }
}

impl StoreFields {
    /// The store these fields describe; numbers that do not parse are refused.
    pub fn form(&self, active: bool) -> crate::error::Result<StoreForm> {
        Ok(StoreForm {
            name: self.name.clone(),
            code: self.code.clone(),
            address: self.address.clone(),
            customer_id: self.customer_id.clone(),
            region: self.region.clone(),
            tier: self.tier.clone(),
            latitude: number("refusal-field-latitude", &self.latitude, None)?,
            longitude: number("refusal-field-longitude", &self.longitude, None)?,
            geofence_m: number("refusal-field-geofence", &self.geofence_m, Some(0.0))?,
            rep: self.rep.clone(),
            supervisor: self.supervisor.clone(),
            active,
        })
    }

    fn of(form: &StoreForm) -> StoreFields {
        StoreFields {
            csrf: String::new(),
            name: form.name.clone(),
            code: form.code.clone(),
            address: form.address.clone(),
            customer_id: form.customer_id.clone(),
            region: form.region.clone(),
            tier: form.tier.clone(),
            latitude: form.latitude.to_string(),
            longitude: form.longitude.to_string(),
            geofence_m: if form.geofence_m == 0.0 { String::new() } else { form.geofence_m.to_string() },
            rep: form.rep.clone(),
            supervisor: form.supervisor.clone(),
            active: form.active.then(|| "on".to_owned()),
        }
    }
}

/// The create or edit form; `id` is the store being edited.
async fn store_form_page(
    state: &AppState,
    viewer: &Viewer,
    id: Option<&str>,
    fields: &StoreFields,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let users = state.storage.list_users(viewer.caller.tenant_id).await?;
    let people = |role: Role| -> Vec<&str> {
        users.iter().filter(|u| u.role == role && u.disabled_at.is_none()).map(|u| u.username.as_str()).collect()
    };
    let (reps, supervisors) = (people(Role::Rep), people(Role::Supervisor));
    let lang = viewer.language;
    let (title, action) = match id {
        Some(id) => (t!(lang, "store-admin-edit"), format!("/dashboard/admin/stores/{}", url_param(id))),
        None => (t!(lang, "store-admin-new"), "/dashboard/admin/stores".to_owned()),
    };
    let chooser = |name: &str, options: &[&str], current: &str| {
        html! {
            select name=(name) id=(format!("store-{name}")) required {
                option value="" { (t!(lang, "store-admin-choose")) }
                @if !current.is_empty() && !options.contains(&current) { option selected { (current) } }
                @for option in options { option selected[*option == current] { (option) } }
            }
        }
    };
    let body = html! {
        h1 { (title) }
        @if let Some(error) = &error { p.error #admin-error { (error) } }
        form.admin method="post" action=(action) #store-form {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label { (t!(lang, "store-admin-col-name")) input #store-name type="text" name="name" value=(fields.name) required; }
            label { (t!(lang, "store-admin-col-code")) input #store-code type="text" name="code" value=(fields.code) required placeholder="N-014" maxlength="16"; }
            label { (t!(lang, "store-admin-col-address")) input #store-address type="text" name="address" value=(fields.address) required; }
            label { (t!(lang, "store-admin-customer-id")) input #store-customer type="text" name="customer_id" value=(fields.customer_id) required; }
            label { (t!(lang, "store-admin-col-region")) input #store-region type="text" name="region" value=(fields.region) required; }
            label { (t!(lang, "store-admin-col-tier")) select name="tier" id="store-tier" {
                @for tier in TIERS { option selected[fields.tier == *tier] { (tier) } }
            } }
            fieldset {
                legend { (t!(lang, "store-admin-geofence")) }
                label { (t!(lang, "store-admin-latitude")) input #store-latitude type="text" inputmode="decimal" name="latitude" value=(fields.latitude) required; }
                label { (t!(lang, "store-admin-longitude")) input #store-longitude type="text" inputmode="decimal" name="longitude" value=(fields.longitude) required; }
                label { (t!(lang, "store-admin-radius")) input #store-geofence type="text" inputmode="decimal" name="geofence_m" value=(fields.geofence_m) placeholder=(t!(lang, "store-admin-radius-placeholder")); }
            }
            label { (t!(lang, "store-admin-col-rep")) (chooser("rep", &reps, &fields.rep)) }
            label { (t!(lang, "store-admin-col-supervisor")) (chooser("supervisor", &supervisors, &fields.supervisor)) }
            @if id.is_some() {
                label { input type="checkbox" name="active" value="on" checked[fields.active.is_some()]; " " (t!(lang, "store-admin-served-checkbox")) }
            }
            button.primary type="submit" #store-save { @if id.is_some() { (t!(lang, "store-admin-save")) } @else { (t!(lang, "store-admin-create")) } }
            " " a href="/dashboard/admin/stores" { (t!(lang, "store-admin-cancel")) }
        }
    };
    let mut response = frame(viewer, &title, "/dashboard/admin/stores", body);
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /dashboard/admin/stores/new`.
pub async fn new_store(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    let fields = StoreFields { tier: "B".into(), ..StoreFields::default() };
    store_form_page(&state, &viewer, None, &fields, None, StatusCode::OK).await
}

/// `GET /dashboard/admin/stores/{id}`.
pub async fn edit_store(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let doc_id: DocumentId = id.parse().map_err(|_| Error::not_found(format!("store {id}")))?;
    let storage = state.storage.as_ref();
    let store = stores::store_as(storage, &viewer.caller, &doc_id).await?;
    let form = StoreForm::of(storage, viewer.caller.tenant_id, &store).await?;
    store_form_page(&state, &viewer, Some(&id), &StoreFields::of(&form), None, StatusCode::OK).await
}

/// `POST /dashboard/admin/stores`: creates a store.
pub async fn create_store(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<StoreFields>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let fields = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&fields.csrf)?;
    let outcome = match fields.form(true) {
        Ok(form) => stores::create_store_as(state.storage.as_ref(), &viewer.caller, &form).await.map(|_| form),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(form) => {
            let (name, code) = (form.name.trim(), form.code.trim());
            let done = t!(viewer.language, "store-admin-done-created", name = name, code = code);
            let query = StoreListQuery { q: Some(form.code.trim().to_owned()), ..StoreListQuery::default() };
            store_list(&state, &viewer, &query, Some(Notice::Done(done)), StatusCode::CREATED).await
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                store_form_page(&state, &viewer, None, &fields, Some(reason), StatusCode::BAD_REQUEST).await
            }
            None => Err(error.into()),
        },
    }
}

/// `POST /dashboard/admin/stores/{id}`: saves a store.
pub async fn save_store(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Result<Form<StoreFields>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Admin.check(&viewer.caller)?;
    let fields = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&fields.csrf)?;
    let doc_id: DocumentId = id.parse().map_err(|_| Error::not_found(format!("store {id}")))?;
    let outcome = match fields.form(fields.active.is_some()) {
        Ok(form) => {
            stores::edit_store_as(state.storage.as_ref(), &viewer.caller, &doc_id, &form).await.map(|c| (c, form))
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok((changed, form)) => {
            let done = if changed {
                t!(viewer.language, "store-admin-done-saved", name = form.name.trim(), code = form.code.trim())
            } else {
                t!(viewer.language, "store-admin-done-unchanged", name = form.name.trim())
            };
            let query = StoreListQuery { q: Some(form.code.trim().to_owned()), ..StoreListQuery::default() };
            store_list(&state, &viewer, &query, Some(Notice::Done(done)), StatusCode::OK).await
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                store_form_page(&state, &viewer, Some(&id), &fields, Some(reason), StatusCode::BAD_REQUEST).await
            }
            None => Err(error.into()),
        },
    }
}
