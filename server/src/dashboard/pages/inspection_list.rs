//! The inspections list: filters, search, keyset pages and the score distribution of every
//! inspection the filters cover, from the read model ([`crate::services::inspections::list`]).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;

use super::super::html::store_label;
use super::super::session::Viewer;
use super::super::svg;
use super::super::{DashError, Section};
use super::orders::{MAX_PAGE_ROWS, PAGE_ROWS, WINDOW_DAYS, default_window, link, next_link};
use crate::services::inspections;
use crate::services::inspections::list::{InspectionQuery, STATUSES};
use crate::state::AppState;

use super::filters::{CommonQuery, common_filters_with, store_choices};
use super::*;

/// `GET /dashboard/inspections?status=&store=&supervisor=&region=&from=&to=&q=&after=`.
pub async fn inspections(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<InspectionQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    Section::Inspections.check(&viewer.caller)?;
    let mut query = crate::http::lists::query(query)?;
    let caller = &viewer.caller;
    let storage = state.storage.as_ref();
    let locale =
        crate::services::accounts::tenant_locale(storage, caller.tenant_id).await?.with_language(viewer.language);
    let windowed = default_window(&mut query.from, &query.to, &locale);
    let scope = caller.scope();
    let request = query.parse(&scope, &locale, PAGE_ROWS, MAX_PAGE_ROWS)?;
    let page = inspections::list::page(storage, caller.tenant_id, &request).await?;
    let figures = inspections::list::figures(storage, caller.tenant_id, &request).await?;
    let stores = store_choices(storage, caller.tenant_id, &scope).await?;
    let filters = query.filter_params();
    let csv = link("/dashboard/inspections.csv", &filters);
    let next = next_link("/dashboard/inspections", &filters, page.next.as_ref());
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "inspections-title")) }
        form.filters method="get" {
            (common_filters_with(
                &CommonQuery {
                    q: query.q.as_deref(),
                    status: query.status.as_deref(),
                    store: query.store.as_deref(),
                    from: query.from.as_deref(),
                    to: query.to.as_deref(),
                },
                &t!(lang, "inspections-search-placeholder"),
                &STATUSES,
                &stores,
                lang,
                texts::inspection_status,
            ))
            label { (t!(lang, "inspections-score-from")) input type="number" min="0" max="100" name="score_min" id="filter-score-min" value=[query.score_min.as_deref()]; }
            label { (t!(lang, "inspections-score-to")) input type="number" min="0" max="100" name="score_max" id="filter-score-max" value=[query.score_max.as_deref()]; }
            button.primary type="submit" { (t!(lang, "filter-apply")) }
            a href=(csv) id="inspections-csv" { (t!(lang, "filter-export-csv")) }
        }
        p.note id="inspections-summary" {
            (t!(lang, "inspections-summary", count = crate::format::count(figures.count), scored = crate::format::count(figures.scored)))
            @if let Some(average) = figures.average_score { (t!(lang, "inspections-summary-average", average = format!("{average:.1}"))) }
            @if windowed { (t!(lang, "inspections-summary-window", days = WINDOW_DAYS)) }
            (t!(lang, "list-times-in", zone = locale.time_zone()))
            @if request.after.is_some() { " " a href=(link("/dashboard/inspections", &filters)) { (t!(lang, "list-first-page")) } }
        }
        table id="live-inspections" data-live-region {
            thead { tr {
                th { (t!(lang, "inspections-col-checked-in")) } th { (t!(lang, "inspections-col-store")) }
                th { (t!(lang, "inspections-col-supervisor")) } th { (t!(lang, "inspections-col-status")) }
                th.n { (t!(lang, "inspections-col-answers")) } th.n { (t!(lang, "inspections-col-photos")) }
                th.n { (t!(lang, "inspections-col-score")) } th { (t!(lang, "inspections-col-verdicts")) }
            } }
            tbody {
                @if page.rows.is_empty() { tr { td colspan="8" .muted { (t!(lang, "inspections-empty")) } } }
                @for row in &page.rows {
                    tr data-id=(row.id) {
                        td { a href={ "/dashboard/inspections/" (row.id) } { (locale.datetime(row.check_in_at)) } }
                        td { (store_label(row.store_name.as_deref(), row.store_code.as_deref(), &row.store_id)) }
                        td { (row.supervisor_name.as_deref().unwrap_or(&row.supervisor)) }
                        td { span.tag data-status=(row.status) { (texts::inspection_status(lang, &row.status)) } }
                        td.n { (row.answer_count) }
                        td.n { (row.photo_count) }
                        td.n { (row.score.map_or_else(|| "—".to_owned(), |s| format!("{s:.1}"))) }
                        td {
                            @if let (Some(pass), Some(review), Some(rejected)) = (row.photos_pass, row.photos_review, row.photos_rejected) {
                                (t!(lang, "inspections-verdicts", pass = pass, review = review, rejected = rejected))
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &next {
            p { a href=(next) id="inspections-next" rel="next" { (t!(lang, "inspections-next", count = request.limit)) } }
        }
        h2 { (t!(lang, "inspections-score-distribution")) }
        div.chart id="score-chart" data-live-region { (svg::score_chart(lang, &figures.score_buckets, &t!(lang, "inspections-above"))) }
    };
    Ok(frame(&viewer, &t!(lang, "inspections-title"), "/dashboard/inspections", body))
}
