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

use super::super::html::{store_label, url_param};
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::error::Error;
use crate::format::age_in;
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

fn kind_label(lang: Language, kind: &str) -> String {
    match kind {
        "low-stock" => t!(lang, "alerts-kind-low-stock"),
        "promotion-not-started" => t!(lang, "alerts-kind-promotion-not-started"),
        "sales-falling" => t!(lang, "alerts-kind-sales-falling"),
        other => other.to_owned(),
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
    let locale = accounts::tenant_locale(storage, caller.tenant_id).await?.with_language(viewer.language);
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
    let lang = viewer.language;
    let tab = |name: &str, label: String| {
        html! { a class=[(state_now == name).then_some("on")] href={ "/dashboard/alerts?state=" (name) } { (label) } }
    };
    let body = html! {
        h1 { (t!(lang, "alerts-title")) }
        @if let Some(notice) = &notice {
            @match notice {
                Notice::Done(text) => p.notice #notice { (text) },
                Notice::Error(text) => p.error #alert-error { (text) },
            }
        }
        p.tabs #alert-tabs {
            (tab("open", t!(lang, "alerts-tab-open"))) " · " (tab("snoozed", t!(lang, "alerts-tab-snoozed"))) " · "
            (tab("closed", t!(lang, "alerts-tab-closed")))
        }
        form.filters method="get" action="/dashboard/alerts" #alert-filters {
            input type="hidden" name="state" value=(state_now);
            label { (t!(lang, "alerts-kind")) select name="kind" {
                option value="" { (t!(lang, "filter-any")) }
                @for kind in ["low-stock", "promotion-not-started", "sales-falling"] {
                    option value=(kind) selected[query.kind.as_deref() == Some(kind)] { (kind_label(lang, kind)) }
                }
            } }
            label { (t!(lang, "filter-search")) input type="search" name="q" value=(query.q.clone().unwrap_or_default()) placeholder=(t!(lang, "alerts-search-placeholder")); }
            button.primary type="submit" { (t!(lang, "alerts-show")) }
        }
        p #alert-count { (count_line(lang, &page, &state_now)) }
        (groups(viewer, &page, &locale, now, &state_now))
        // The people an alert may be handed to, once for every row's reassign field.
        datalist #alert-assignees { @for username in &assignees { option value=(username) {} } }
        @if let Some(next) = &page.next {
            p { a #next-page href={ "/dashboard/alerts?" (next_query(query, &next.encode())) } { (t!(lang, "alerts-next-page")) } }
        }
    };
    let mut response = frame(viewer, &t!(lang, "alerts-title"), "/dashboard/alerts", body);
    *response.status_mut() = status;
    Ok(response)
}

fn count_line(lang: Language, page: &CausePage, state: &str) -> String {
    let total = page.total;
    let line = match state {
        "snoozed" => t!(lang, "alerts-count-snoozed", count = total),
        "closed" => t!(lang, "alerts-count-closed", count = total),
        _ => t!(lang, "alerts-count-open", count = total),
    };
    if page.next.is_some() || page.total > page.rows.len() as u64 {
        t!(lang, "alerts-count-on-page", line = line, shown = page.rows.len())
    } else {
        line
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

fn groups(viewer: &Viewer, page: &CausePage, locale: &Locale, now: i64, state: &str) -> Markup {
    let mut kinds: Vec<&str> = page.rows.iter().map(|r| r.cause.kind.as_str()).collect();
    kinds.dedup();
    let lang = viewer.language;
    html! {
        @for kind in kinds {
            @let rows: Vec<&CauseView> = page.rows.iter().filter(|r| r.cause.kind == kind).collect();
            h2 { (kind_label(lang, kind)) " (" (rows.len()) ")" }
            div.scroll {
                table.alerts.stack id={ "alerts-" (kind) } {
                    thead { tr {
                        th { (t!(lang, "alerts-col-store")) } th { (t!(lang, "alerts-col-product")) } th { (t!(lang, "alerts-col-alert")) }
                        th { (t!(lang, "alerts-col-age")) } th { (t!(lang, "alerts-col-owner")) } th { (t!(lang, "alerts-col-status")) }
                        @if state != "closed" { th { (t!(lang, "alerts-col-act")) } }
                    } }
                    tbody {
                        @for row in rows { (alert_row(viewer, row, locale, now, state)) }
                    }
                }
            }
        }
    }
}

fn alert_row(viewer: &Viewer, row: &CauseView, locale: &Locale, now: i64, state: &str) -> Markup {
    let c = &row.cause;
    let product = match (&c.product_name, &c.sku) {
        (Some(name), Some(sku)) => format!("{name} ({sku})"),
        (None, Some(sku)) => sku.clone(),
        _ => String::new(),
    };
    let lang = viewer.language;
    let (title, detail) = texts::alert(lang, &c.title, &c.detail, c.texts.as_ref());
    let (store_col, product_label, alert_label) =
        (t!(lang, "alerts-col-store"), t!(lang, "alerts-col-product"), t!(lang, "alerts-col-alert"));
    let (age_label, owner_label, status_label, act_label) = (
        t!(lang, "alerts-col-age"),
        t!(lang, "alerts-col-owner"),
        t!(lang, "alerts-col-status"),
        t!(lang, "alerts-col-act"),
    );
    html! {
        tr.alert data-key=(c.key) {
            td data-label=(store_col) { (store_label(c.store_name.as_deref(), c.store_code.as_deref(), c.store_id.as_deref().unwrap_or(""))) }
            td data-label=(product_label) { (product) }
            td data-label=(alert_label) { b { (title) } br; span.note { (detail) } }
            td data-label=(age_label) title=(locale.datetime(c.raised_at)) {
                @if let Some(closed) = c.closed_at.filter(|_| c.state == "closed") { (t!(lang, "alerts-closed-age", age = age_in(lang, closed, now))) }
                @else { (age_in(lang, c.raised_at, now)) }
            }
            td.owner data-label=(owner_label) {
                (row.owner_names.join(", "))
                @if let Some(assignee) = &row.assignee_name { br; span.note { (t!(lang, "alerts-reassigned-to", user = assignee.as_str())) } }
            }
            td.status data-label=(status_label) {
                @if row.acknowledged {
                    div.acknowledged {
                        (t!(lang, "alerts-acknowledged-by")) " " b { (row.acknowledged_by_name.clone().unwrap_or_default()) }
                        @if let Some(at) = c.acknowledged_at { " " (locale.datetime(at)) }
                        @if let Some(note) = c.acknowledged_note.as_deref().filter(|n| !n.is_empty()) { ": " q.ack-note { (note) } }
                    }
                }
                @if row.snoozed {
                    div.snoozed {
                        (t!(lang, "alerts-snoozed-until", day = c.snoozed_until.map(|u| locale.day_label(u)).unwrap_or_default(), user = row.snoozed_by_name.clone().unwrap_or_default()))
                    }
                }
                @if !row.history.is_empty() {
                    details.history {
                        summary { (t!(lang, "alerts-actions", count = row.history.len())) }
                        ul { @for action in &row.history {
                            li { (locale.datetime(action.at)) " " (action.by) " "
                                @match action.action.as_str() {
                                    "acknowledge" => { (t!(lang, "alerts-history-acknowledged")) @if let Some(n) = action.note.as_deref().filter(|n| !n.is_empty()) { ": " (n) } },
                                    "snooze" => { (t!(lang, "alerts-history-snoozed", day = action.snoozed_until.map(|u| locale.day_label(u)).unwrap_or_default())) },
                                    _ => { (t!(lang, "alerts-history-reassigned", user = action.assignee.clone().unwrap_or_default())) },
                                }
                            }
                        } }
                    }
                }
            }
            @if state != "closed" {
                td.act data-label=(act_label) {
                    form.inline method="post" action="/dashboard/alerts" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input type="hidden" name="key" value=(c.key);
                        input type="text" name="note" maxlength="500" placeholder=(t!(lang, "alerts-note-placeholder")) aria-label=(t!(lang, "alerts-note"));
                        button type="submit" name="action" value="acknowledge" { (t!(lang, "alerts-acknowledge")) }
                    }
                    form.inline method="post" action="/dashboard/alerts" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input type="hidden" name="key" value=(c.key);
                        input type="date" name="until" aria-label=(t!(lang, "alerts-snooze-until"));
                        button type="submit" name="action" value="snooze" { (t!(lang, "alerts-snooze")) }
                    }
                    form.inline method="post" action="/dashboard/alerts" {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input type="hidden" name="key" value=(c.key);
                        input type="text" name="assignee" list="alert-assignees" required autocomplete="off" aria-label=(t!(lang, "alerts-reassign-to")) placeholder=(t!(lang, "alerts-reassign-to"));
                        button type="submit" name="action" value="reassign" { (t!(lang, "alerts-reassign")) }
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
    let lang = viewer.language;
    let outcome = match form.action.as_str() {
        "acknowledge" => triage::acknowledge(storage, caller, &form.key, &form.note, now)
            .await
            .map(|()| t!(lang, "alerts-done-acknowledged")),
        "snooze" => {
            let locale = accounts::tenant_locale(storage, caller.tenant_id).await?.with_language(viewer.language);
            triage::snooze(storage, caller, &form.key, &form.until, &locale, now)
                .await
                .map(|until| t!(lang, "alerts-done-snoozed", day = locale.day_label(until)))
        }
        "reassign" => triage::reassign(storage, caller, &form.key, &form.assignee, now)
            .await
            .map(|user| t!(lang, "alerts-done-reassigned", user = user.username)),
        other => Err(Error::invalid(
            "invalid-input",
            Message::new("refusal-unknown-alert-action").arg("action", format!("{other:?}")),
        )),
    };
    let query = CauseQuery::default();
    match outcome {
        Ok(done) => alerts_page(&state, &viewer, &query, Some(Notice::Done(done)), StatusCode::OK).await,
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                alerts_page(&state, &viewer, &query, Some(Notice::Error(reason)), refusal_status(&error)).await
            }
            None => Err(error.into()),
        },
    }
}
