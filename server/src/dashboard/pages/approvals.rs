//! The approvals queue (`/dashboard/approvals`): the orders waiting on the viewer, a manager or
//! HQ user, with the time left on each step's deadline, overdue first; and bulk approval of the
//! ticked ones (`POST /dashboard/approvals/approve`), one CSRF-checked form whose every order
//! goes through the one decision path, each outcome reported on its own.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::super::html::{store_label, url_param};
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::error::Error;
use crate::format::duration_in;
use crate::locale::Locale;
use crate::services::orders::approvals::{self, BulkOutcome, Pick};
use crate::state::AppState;
use crate::storage::queries::WaitingRow;

use super::*;

/// `GET /dashboard/approvals`: what waits on the viewer.
pub async fn approvals(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    approvals_page(&state, &viewer, None, StatusCode::OK).await
}

async fn approvals_page(
    state: &AppState,
    viewer: &Viewer,
    report: Option<Markup>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let storage = state.storage.as_ref();
    let locale = crate::services::accounts::tenant_locale(storage, viewer.caller.tenant_id)
        .await?
        .with_language(viewer.language);
    let rows = approvals::waiting_on_me(storage, &viewer.caller).await?;
    let body = queue_body(&rows, &locale, &viewer.csrf, state.clock.now(), report);
    let mut response = frame(viewer, &t!(viewer.language, "approvals-title"), "/dashboard/approvals", body);
    *response.status_mut() = status;
    Ok(response)
}

/// `3 h 10 min left`, `overdue by 25 min`, or `no deadline`, in `lang`.
pub fn time_left_text(lang: Language, due_at: Option<i64>, now: i64) -> String {
    match due_at.map(|due| approvals::time_left(due, now)) {
        None => t!(lang, "approvals-no-deadline"),
        Some(left) if left < 0 => t!(lang, "approvals-overdue-by", time = duration_in(lang, -left)),
        Some(left) => t!(lang, "approvals-time-left", time = duration_in(lang, left)),
    }
}

/// The queue's body: the bulk-approval form around the table of waiting orders.
pub fn queue_body(rows: &[WaitingRow], locale: &Locale, csrf: &str, now: i64, report: Option<Markup>) -> Markup {
    let overdue = rows.iter().filter(|r| r.due_at.is_some_and(|due| due < now)).count();
    let lang = locale.language();
    html! {
        h1 { (t!(lang, "approvals-heading")) }
        @if let Some(report) = report { (report) }
        p.note #queue-summary {
            (t!(lang, "approvals-summary", count = rows.len()))
            @if overdue > 0 { (t!(lang, "list-comma")) b { (t!(lang, "approvals-overdue", count = overdue)) } }
            (t!(lang, "approvals-summary-order", zone = locale.zone_label(now)))
        }
        @if rows.is_empty() {
            p.muted #queue-empty { (t!(lang, "approvals-empty")) }
        } @else {
            form method="post" action="/dashboard/approvals/approve" #bulk-form {
                input type="hidden" name="csrf" value=(csrf);
                table #queue {
                    thead { tr {
                        th { "" } th { (t!(lang, "orders-col-order")) } th { (t!(lang, "orders-col-store")) } th { (t!(lang, "orders-col-rep")) }
                        th.n { (t!(lang, "order-col-total")) } th { (t!(lang, "approvals-col-step")) } th { (t!(lang, "approvals-col-submitted")) }
                        th { (t!(lang, "approvals-col-due")) } th { (t!(lang, "approvals-col-time-left")) }
                    } }
                    tbody {
                        @for row in rows {
                            @let late = row.due_at.is_some_and(|due| due < now);
                            tr class=[late.then_some("overdue")] {
                                td { input type="checkbox" name="order" value=(format!("{}:{}:{}", row.id, row.step, row.submission)); }
                                td { a href=(format!("/dashboard/orders/{}", url_param(&row.id))) { (row.number.as_deref().unwrap_or(&row.id)) } }
                                td { (store_label(row.store_name.as_deref(), row.store_code.as_deref(), "")) }
                                td { (row.rep_name.as_deref().unwrap_or("")) }
                                td.n { (locale.money(row.total_cents)) }
                                td { (fieldsync_core::rules::approval::display_step(u64::try_from(row.step).unwrap_or(0))) }
                                td { (locale.datetime(row.at)) }
                                td { @if let Some(due) = row.due_at { (locale.datetime(due)) } }
                                td { span class={ "tag " (if late { "bad" } else { "" }) } { (time_left_text(lang, row.due_at, now)) } }
                            }
                        }
                    }
                }
                button.primary type="submit" #bulk-approve { (t!(lang, "approvals-approve-selected")) }
            }
        }
    }
}

/// The bulk form: the CSRF token and the ticked orders (`order` repeated, so the form is read
/// as its list of fields).
#[derive(Debug, Default)]
pub struct BulkForm {
    /// The session's CSRF token.
    pub csrf: String,
    /// `order-id:step:submission` of each ticked order.
    pub order: Vec<String>,
}

impl BulkForm {
    /// The form of a posted list of fields; unknown fields are ignored.
    pub fn of(fields: Vec<(String, String)>) -> Self {
        let mut form = BulkForm::default();
        for (name, value) in fields {
            match name.as_str() {
                "csrf" => form.csrf = value,
                "order" => form.order.push(value),
                _ => {}
            }
        }
        form
    }
}

/// The outcome of a bulk approval, one line per order.
pub fn bulk_report(lang: Language, outcomes: &[BulkOutcome]) -> Markup {
    let approved = outcomes.iter().filter(|o| o.result.is_ok()).count();
    html! {
        div #bulk-report {
            p class=(if approved == outcomes.len() { "notice" } else { "error" }) {
                (t!(lang, "approvals-bulk-approved", approved = approved, total = outcomes.len()))
            }
            ul {
                @for outcome in outcomes {
                    @match &outcome.result {
                        Ok(review) => li.ok data-order=(outcome.order_id) {
                            @if review.outcome.as_str() == "needs-approval" {
                                (t!(lang, "approvals-bulk-next-step", number = review.number.as_str()))
                            } @else {
                                (t!(lang, "approvals-bulk-ok", number = review.number.as_str()))
                            }
                        },
                        Err(error) => li.bad data-order=(outcome.order_id) {
                            (t!(lang, "approvals-bulk-refused", order = outcome.order_id.as_str(), reason = texts::error(lang, error)))
                        },
                    }
                }
            }
        }
    }
}

/// `POST /dashboard/approvals/approve`: CSRF-checked bulk approval of the ticked orders. Each
/// goes through the one decision path; the queue is shown again with a line per order (200
/// when all were approved, 409 when some were not).
pub async fn bulk_approve(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let form = form.map(|Form(fields)| BulkForm::of(fields)).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let picks: Result<Vec<Pick>, Error> = form.order.iter().map(|text| Pick::parse(text)).collect();
    let outcomes = match picks {
        Ok(picks) => {
            approvals::approve_many(state.storage.as_ref(), &state.caches, &viewer.caller, &picks, state.clock.now())
                .await
        }
        Err(error) => Err(error),
    };
    match outcomes {
        Ok(outcomes) => {
            let status = if outcomes.iter().all(|o| o.result.is_ok()) { StatusCode::OK } else { StatusCode::CONFLICT };
            approvals_page(&state, &viewer, Some(bulk_report(viewer.language, &outcomes)), status).await
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                let report = html! { p.error #bulk-report { (reason) } };
                approvals_page(&state, &viewer, Some(report), StatusCode::BAD_REQUEST).await
            }
            None => Err(error.into()),
        },
    }
}

/// The median time to decide per day, in minutes, as a bar chart.
fn decision_time_chart(lang: Language, days: &[(String, Option<i64>)]) -> Markup {
    let bars = days
        .iter()
        .map(|(day, median)| {
            let minutes = median.map_or(0, |ms| u64::try_from(ms / 60_000).unwrap_or(0));
            let title = t!(lang, "report-chart-bar", day = day.as_str(), minutes = minutes);
            (day.get(5..).unwrap_or(day).to_owned(), title, minutes)
        })
        .collect();
    super::super::svg::shown(&super::super::svg::BarChart {
        id: "decision-time",
        language: lang,
        title: t!(lang, "report-chart-title", days = days.len()),
        x_label: t!(lang, "report-chart-x"),
        y_label: t!(lang, "report-chart-y"),
        bars,
    })
}

/// `GET /dashboard/approvals/report?days=30`: where approval time goes, by step, approver and
/// rule, for the last 30 or 90 days.
pub async fn approvals_report(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<
        axum::extract::Query<crate::services::orders::report::ReportQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Response, DashError> {
    use crate::services::orders::report::{self, Grouping, PERIODS};
    Section::Orders.check(&viewer.caller)?;
    let axum::extract::Query(query) = query.unwrap_or_default();
    let days = report::parse_days(query.days.as_deref())?;
    let report = report::report(state.storage.as_ref(), &viewer.caller, days, state.clock.now()).await?;
    let lang = viewer.language;
    let time = |ms: Option<i64>| ms.map(|ms| duration_in(lang, ms)).unwrap_or_default();
    let groupings = [
        (Grouping::Step, t!(lang, "report-by-step"), t!(lang, "report-col-step")),
        (Grouping::Approver, t!(lang, "report-by-approver"), t!(lang, "report-col-approver")),
        (Grouping::Rule, t!(lang, "report-by-rule"), t!(lang, "report-col-rule")),
    ];
    let body = html! {
        h1 { (t!(lang, "approval-report-title")) }
        p.note {
            (t!(lang, "report-note", days = days)) " "
            @for period in PERIODS { a href=(format!("/dashboard/approvals/report?days={period}")) { (t!(lang, "report-days", days = period)) } " " }
            a href=(format!("/dashboard/approvals/report.csv?days={days}")) { "CSV" }
        }
        h2 { (t!(lang, "report-median-per-day")) }
        div.chart #decision-time-chart { (decision_time_chart(lang, &report.median_by_day)) }
        @for (by, title, column) in &groupings {
            h2 { (title) }
            table id=(format!("report-{}", by.as_str())) {
                thead { tr {
                    th { (column) } th.n { (t!(lang, "report-col-steps")) } th.n { (t!(lang, "report-col-decided")) }
                    th.n { (t!(lang, "report-col-median")) } th.n { "p90" } th.n { (t!(lang, "report-col-overdue")) }
                    th.n { (t!(lang, "report-col-escalated")) }
                } }
                tbody {
                    @for g in report.groups.iter().filter(|g| g.by == *by) {
                        tr {
                            td { (g.key) }
                            td.n { (g.steps) }
                            td.n { (g.decided) }
                            td.n { (time(g.median_ms)) }
                            td.n { (time(g.p90_ms)) }
                            td.n { (g.overdue) }
                            td.n { (g.escalations) }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(&viewer, &t!(lang, "approval-report-title"), "/dashboard/approvals", body))
}
