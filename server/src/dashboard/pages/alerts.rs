//! Alerts (`/dashboard/alerts`): every alert in the viewer's scope, one per cause, grouped by
//! kind and then by store and product, with names, age and owner, and what people did about it.
//! Each row carries three CSRF-checked forms (acknowledge with a note, snooze until a day,
//! reassign) that call the alerts service ([`crate::services::alerts::triage`]), as
//! `POST /v1/alerts/…` does; a refusal is shown on the page and changes nothing.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::super::html::{age, store_label, url_param};
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::error::Error;
use crate::locale::Locale;
use crate::services::accounts;
use crate::services::alerts::triage::{self, CausePage, CauseQuery, CauseView};
use crate::state::AppState;

use super::*;

/// Alerts per page.
const PAGE_SIZE: u32 = 100;

/// `GET /dashboard/alerts`.
pub async fn alerts(
    State(state): State<AppState>,
    viewer: Viewer,
    q: Result<Query<CauseQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    let query = crate::http::lists::query(q)?;
    alerts_page(&state, &viewer, &query, None, StatusCode::OK).await
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "low-stock" => "Low stock",
        "promotion-not-started" => "Promotion not started",
        "sales-falling" => "Sales falling",
        other => other,
    }
}

async fn alerts_page(
    state: &AppState,
    viewer: &Viewer,
    query: &CauseQuery,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Alerts.check(&viewer.caller)?;
    let caller = &viewer.caller;
    let storage = state.storage.as_ref();
    let locale = accounts::tenant_locale(storage, caller.tenant_id).await?;
    let now = state.clock.now();
    let request = query.parse(caller, &locale, now, PAGE_SIZE, PAGE_SIZE)?;
    let page = triage::causes(storage, caller.tenant_id, &request).await?;
    let mut assignees: Vec<String> = storage
        .list_users(caller.tenant_id)
        .await?
        .into_iter()
        .filter(|u| u.disabled_at.is_none() && triage::may_assign_to(caller, u))
        .map(|u| u.username)
        .collect();
    assignees.sort();
    let state_now = query.state.clone().unwrap_or_else(|| "open".to_owned());
    let tab = |name: &str, label: &str| {
        html! { a class=[(state_now == name).then_some("on")] href={ "/dashboard/alerts?state=" (name) } { (label) } }
    };
    let body = html! {
        h1 { "Alerts" }
        @if let Some(notice) = &notice {
            @match notice {
                Notice::Done(text) => p.notice #notice { (text) },
                Notice::Error(text) => p.error #alert-error { (text) },
            }
        }
        p.tabs #alert-tabs { (tab("open", "Open")) " · " (tab("snoozed", "Snoozed")) " · " (tab("closed", "Closed (history)")) }
        form.filters method="get" action="/dashboard/alerts" #alert-filters {
            input type="hidden" name="state" value=(state_now);
            label { "Kind" select name="kind" {
                option value="" { "any" }
                @for kind in ["low-stock", "promotion-not-started", "sales-falling"] {
                    option value=(kind) selected[query.kind.as_deref() == Some(kind)] { (kind_label(kind)) }
                }
            } }
            label { "Search" input type="search" name="q" value=(query.q.clone().unwrap_or_default()) placeholder="store, product, title"; }
            button.primary type="submit" { "Show" }
        }
        p #alert-count { (count_line(&page, &state_now)) }
        (groups(viewer, &page, &locale, now, &assignees, &state_now))
        @if let Some(next) = &page.next {
            p { a #next-page href={ "/dashboard/alerts?" (next_query(query, &next.encode())) } { "Next page" } }
        }
    };
    let mut response = frame(viewer, "Alerts", "/dashboard/alerts", body);
    *response.status_mut() = status;
    Ok(response)
}

fn count_line(page: &CausePage, state: &str) -> String {
    let what = match state {
        "snoozed" => "snoozed alert",
        "closed" => "closed alert",
        _ => "open alert",
    };
    let plural = if page.total == 1 { "" } else { "s" };
    if page.next.is_some() || page.total > page.rows.len() as u64 {
        format!("{} {what}{plural}; {} on this page", page.total, page.rows.len())
    } else {
        format!("{} {what}{plural}", page.total)
    }
}

fn next_query(query: &CauseQuery, after: &str) -> String {
    let mut parts = Vec::new();
    for (name, value) in [("state", &query.state), ("kind", &query.kind), ("store", &query.store), ("q", &query.q)] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{name}={}", url_param(value)));
        }
    }
    parts.push(format!("after={}", url_param(after)));
    parts.join("&")
}

fn groups(viewer: &Viewer, page: &CausePage, locale: &Locale, now: i64, assignees: &[String], state: &str) -> Markup {
    let mut kinds: Vec<&str> = page.rows.iter().map(|r| r.cause.kind.as_str()).collect();
    kinds.dedup();
    html! {
        @for kind in kinds {
            @let rows: Vec<&CauseView> = page.rows.iter().filter(|r| r.cause.kind == kind).collect();
            h2 { (kind_label(kind)) " (" (rows.len()) ")" }
            div.scroll {
                table.alerts.stack id={ "alerts-" (kind) } {
                    thead { tr { th { "Store" } th { "Product" } th { "Alert" } th { "Age" } th { "Owner" } th { "Status" } @if state != "closed" { th { "Act" } } } }
                    tbody {
                        @for row in rows { (alert_row(viewer, row, locale, now, assignees, state)) }
                    }
                }
            }
        }
    }
}

fn alert_row(viewer: &Viewer, row: &CauseView, locale: &Locale, now: i64, assignees: &[String], state: &str) -> Markup {
    let c = &row.cause;
    let product = match (&c.product_name, &c.sku) {
        (Some(name), Some(sku)) => format!("{name} ({sku})"),
        (None, Some(sku)) => sku.clone(),
        _ => String::new(),
    };
    html! {
        tr.alert data-key=(c.key) {
            td data-label="Store" { (store_label(c.store_name.as_deref(), c.store_code.as_deref(), c.store_id.as_deref().unwrap_or(""))) }
            td data-label="Product" { (product) }
            td data-label="Alert" { b { (c.title) } br; span.note { (c.detail) } }
            td data-label="Age" title=(locale.datetime(c.raised_at)) {
                @if let Some(closed) = c.closed_at.filter(|_| c.state == "closed") { "closed " (age(closed, now)) " ago" }
                @else { (age(c.raised_at, now)) }
            }
            td.owner data-label="Owner" {
                (row.owner_names.join(", "))
                @if let Some(assignee) = &row.assignee_name { br; span.note { "reassigned to " (assignee) } }
            }
            td.status data-label="Status" {
                @if row.acknowledged {
                    div.acknowledged {
                        "Acknowledged by " b { (row.acknowledged_by_name.clone().unwrap_or_default()) }
                        @if let Some(at) = c.acknowledged_at { " " (locale.datetime(at)) }
                        @if let Some(note) = c.acknowledged_note.as_deref().filter(|n| !n.is_empty()) { ": " q.ack-note { (note) } }
                    }
                }
                @if row.snoozed {
                    div.snoozed { "Snoozed until " (c.snoozed_until.map(|u| locale.date(u)).unwrap_or_default())
                        " by " (row.snoozed_by_name.clone().unwrap_or_default()) }
                }
                @if !row.history.is_empty() {
                    details.history {
                        summary { (row.history.len()) " action" @if row.history.len() != 1 { "s" } }
                        ul { @for action in &row.history {
                            li { (locale.datetime(action.at)) " " (action.by) " "
                                @match action.action.as_str() {
                                    "acknowledge" => { "acknowledged" @if let Some(n) = action.note.as_deref().filter(|n| !n.is_empty()) { ": " (n) } },
                                    "snooze" => { "snoozed until " (action.snoozed_until.map(|u| locale.date(u)).unwrap_or_default()) },
                                    _ => { "reassigned to " (action.assignee.clone().unwrap_or_default()) },
                                }
                            }
                        } }
                    }
                }
            }
            @if state != "closed" {
                td.act data-label="Act" {
                    form.inline method="post" action="/dashboard/alerts" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input type="hidden" name="key" value=(c.key);
                        input type="text" name="note" maxlength="500" placeholder="note (optional)" aria-label="note";
                        button type="submit" name="action" value="acknowledge" { "Acknowledge" }
                    }
                    form.inline method="post" action="/dashboard/alerts" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input type="hidden" name="key" value=(c.key);
                        input type="date" name="until" aria-label="snooze until";
                        button type="submit" name="action" value="snooze" { "Snooze" }
                    }
                    form.inline method="post" action="/dashboard/alerts" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input type="hidden" name="key" value=(c.key);
                        select name="assignee" aria-label="reassign to" {
                            @for username in assignees { option value=(username) { (username) } }
                        }
                        button type="submit" name="action" value="reassign" { "Reassign" }
                    }
                }
            }
        }
    }
}

/// One of the alerts page's forms.
#[derive(Debug, Default, Deserialize)]
pub struct AlertForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// `acknowledge`, `snooze` or `reassign`.
    #[serde(default)]
    pub action: String,
    /// The alert's cause key.
    #[serde(default)]
    pub key: String,
    /// An acknowledgement's note.
    #[serde(default)]
    pub note: String,
    /// A snooze's day, `YYYY-MM-DD`.
    #[serde(default)]
    pub until: String,
    /// A reassignment's username.
    #[serde(default)]
    pub assignee: String,
}

/// `POST /dashboard/alerts`: acknowledges, snoozes or reassigns one alert.
pub async fn alert_action(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<AlertForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Alerts.check(&viewer.caller)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let storage = state.storage.as_ref();
    let caller = &viewer.caller;
    let now = state.clock.now();
    let outcome = match form.action.as_str() {
        "acknowledge" => triage::acknowledge(storage, caller, &form.key, &form.note, now)
            .await
            .map(|()| "Alert acknowledged.".to_owned()),
        "snooze" => {
            let locale = accounts::tenant_locale(storage, caller.tenant_id).await?;
            triage::snooze(storage, caller, &form.key, &form.until, &locale, now)
                .await
                .map(|until| format!("Alert snoozed until {}.", locale.date(until)))
        }
        "reassign" => triage::reassign(storage, caller, &form.key, &form.assignee, now)
            .await
            .map(|user| format!("Alert reassigned to {}.", user.username)),
        other => Err(Error::bad_request(
            "invalid-input",
            format!("unknown action {other:?}: expected acknowledge, snooze or reassign"),
        )),
    };
    let query = CauseQuery::default();
    match outcome {
        Ok(done) => alerts_page(&state, &viewer, &query, Some(Notice::Done(done)), StatusCode::OK).await,
        Err(Error::BadRequest { reason, .. }) => {
            alerts_page(&state, &viewer, &query, Some(Notice::Error(reason)), StatusCode::BAD_REQUEST).await
        }
        Err(Error::Conflict(reason)) => {
            alerts_page(&state, &viewer, &query, Some(Notice::Error(reason)), StatusCode::CONFLICT).await
        }
        Err(other) => Err(other.into()),
    }
}
