//! The orders list: filters, search, keyset pages, the summary and the approval-time chart,
//! all read from the read model through [`crate::services::orders::list`]; and [`OrderRow`],
//! one order with its review as the order's own page reads them from the documents.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use fieldsync_core::doc::{Order, OrderReview, OrderStatus};
use maud::{Markup, html};

use super::super::html::{store_label, url_param};
use super::super::records::Record;
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::locale::Locale;
use crate::services::orders;
use crate::services::orders::list::{OrderQuery, STATUSES};
use crate::state::AppState;
use crate::storage::queries::{self, Cursor, OrderListRow, OrderSort};

use super::filters::{CommonQuery, common_filters, store_choices};
use super::*;

// Orders, shared between pages

/// An order with its review and what it is for display.
pub struct OrderRow {
    /// The order.
    pub order: Record<Order>,
    /// Its review, if the relay wrote one.
    pub review: Option<Record<OrderReview>>,
}

impl OrderRow {
    /// The order's readable number (`N-000123`), once the relay reviewed it; empty before.
    pub fn number(&self) -> &str {
        self.review.as_ref().map_or("", |review| review.value.number.as_str())
    }

    /// `draft`, `submitted` (not reviewed yet), or the review's outcome for this submission.
    pub fn status(&self) -> &'static str {
        let order = &self.order.value;
        match (&order.status, &self.review) {
            (OrderStatus::Draft, _) => "draft",
            (OrderStatus::Submitted, Some(review)) if review.value.submission == order.submission => {
                review.value.outcome.as_str()
            }
            (OrderStatus::Submitted, _) => "submitted",
        }
    }

    /// When the order was last submitted, or created.
    pub fn at(&self) -> i64 {
        self.order.value.submitted_at.unwrap_or(self.order.value.created_at)
    }
}

/// Rows per page of the orders list.
pub const PAGE_ROWS: u32 = 50;
/// Most rows per page a URL may ask for.
pub const MAX_PAGE_ROWS: u32 = 500;

/// A table of orders (the overview's latest orders, a page of the orders list).
pub fn orders_table(id: &str, rows: &[OrderListRow], locale: &Locale) -> Markup {
    let lang = locale.language();
    html! {
        table id=(id) data-live-region {
            thead { tr {
                th { (t!(lang, "orders-col-order")) } th { (t!(lang, "orders-col-when")) } th { (t!(lang, "orders-col-store")) }
                th { (t!(lang, "orders-col-rep")) } th { (t!(lang, "orders-col-status")) } th { (t!(lang, "orders-col-waiting-on")) }
                th.n { (t!(lang, "orders-col-lines")) } th.n { (t!(lang, "orders-col-value")) }
            } }
            tbody {
                @if rows.is_empty() {
                    tr { td colspan="8" .muted { (t!(lang, "orders-empty")) } }
                }
                @for row in rows {
                    tr data-id=(row.id) {
                        td { a href={ "/dashboard/orders/" (row.id) } { @if let Some(number) = &row.number { (number) } @else { (t!(lang, "orders-not-reviewed")) } } }
                        td { (locale.datetime(row.at)) }
                        td { (store_label(row.store_name.as_deref(), row.store_code.as_deref(), &row.store_id)) }
                        td { (row.rep_name.as_deref().unwrap_or(&row.rep)) }
                        td { (status_tag(lang, &row.status)) }
                        td { (row.waiting_on_name.as_deref().or(row.waiting_on.as_deref()).unwrap_or("")) }
                        td.n { (crate::format::count(row.line_count)) }
                        td.n { (locale.money(row.total_cents)) }
                    }
                }
            }
        }
    }
}

/// A sort order's name in words.
fn sort_label(language: Language, sort: OrderSort) -> String {
    match sort {
        OrderSort::Newest => t!(language, "orders-sort-newest"),
        OrderSort::Oldest => t!(language, "orders-sort-oldest"),
        OrderSort::Largest => t!(language, "orders-sort-largest"),
    }
}

/// A link to the same list with these parameters.
pub fn link(path: &str, params: &[(&'static str, String)]) -> String {
    if params.is_empty() {
        return path.to_owned();
    }
    let query: Vec<String> = params.iter().map(|(name, value)| format!("{name}={}", url_param(value))).collect();
    format!("{path}?{}", query.join("&"))
}

/// Days a list page covers when its URL names no dates: what people look at, and what keeps the
/// page's totals and charts a bounded range of the indexes however many years of data there are.
pub const WINDOW_DAYS: i64 = 30;

/// Sets `from` to [`WINDOW_DAYS`] ago when the URL names neither date (`from=` present but empty
/// means every day); whether it did.
pub fn default_window(from: &mut Option<String>, to: &Option<String>, locale: &Locale) -> bool {
    if from.is_some() || to.is_some() {
        return false;
    }
    let today = locale.day_of(fieldsync_core::clock::now_ms());
    *from = Some(Locale::days_before(today, WINDOW_DAYS - 1).to_string());
    true
}

/// The link to the page after `next` of a list at `path` with these filters.
pub fn next_link(path: &str, filters: &[(&'static str, String)], next: Option<&Cursor>) -> Option<String> {
    next.map(|cursor| {
        let mut params = filters.to_vec();
        params.push(("after", cursor.encode()));
        link(path, &params)
    })
}

/// `GET /dashboard/orders?status=&store=&rep=&region=&from=&to=&q=&sort=&waiting=&after=`: a page
/// of orders, the count and value of every order the filters cover, and their approval times.
pub async fn orders(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<OrderQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let mut query = crate::http::lists::query(query)?;
    let caller = &viewer.caller;
    let storage = state.storage.as_ref();
    let locale =
        crate::services::accounts::tenant_locale(storage, caller.tenant_id).await?.with_language(viewer.language);
    let windowed = default_window(&mut query.from, &query.to, &locale);
    let scope = caller.scope();
    let request = query.parse(&scope, &locale, PAGE_ROWS, MAX_PAGE_ROWS)?;
    let page = orders::list::page(storage, caller.tenant_id, &request).await?;
    let totals = orders::list::totals(storage, caller.tenant_id, &request).await?;
    // Orders listed from `from` on were decided after it.
    let decided_since = request.filter.from.unwrap_or(i64::MIN);
    let times = queries::approval_times(storage, caller.tenant_id, &request.filter, decided_since).await?;
    let stores = store_choices(storage, caller.tenant_id, &scope).await?;
    let filters = query.filter_params();
    let csv = link("/dashboard/orders.csv", &filters);
    let next = next_link("/dashboard/orders", &filters, page.next.as_ref());
    let chosen = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "orders-title")) }
        form.filters method="get" {
            (common_filters(
                &CommonQuery {
                    q: query.q.as_deref(),
                    status: query.status.as_deref(),
                    store: query.store.as_deref(),
                    from: query.from.as_deref(),
                    to: query.to.as_deref(),
                },
                &t!(lang, "orders-search-placeholder"),
                &STATUSES,
                &stores,
                lang,
            ))
            label { (t!(lang, "orders-sort")) select name="sort" id="filter-sort" {
                @for sort in OrderSort::ALL {
                    option value=(sort.as_str()) selected[chosen(&query.sort, sort.as_str())] { (sort_label(lang, sort)) }
                }
            } }
            label { (t!(lang, "orders-col-waiting-on")) select name="waiting" id="filter-waiting" {
                option value="" { (t!(lang, "orders-waiting-anyone")) }
                option value="me" selected[chosen(&query.waiting, "me")] { (t!(lang, "orders-waiting-me")) }
            } }
            button.primary type="submit" { (t!(lang, "filter-apply")) }
            a href=(csv) id="orders-csv" { (t!(lang, "filter-export-csv")) }
            a href=(link("/dashboard/order-lines.csv", &filters)) id="order-lines-csv" { (t!(lang, "orders-export-lines")) }
        }
        p.note id="orders-summary" {
            (t!(lang, "orders-summary", count = crate::format::count(totals.count), total = locale.money(totals.total_cents)))
            @if windowed { (t!(lang, "orders-summary-window", days = WINDOW_DAYS)) }
            (t!(lang, "list-times-in", zone = locale.time_zone()))
            @if request.after.is_some() { " " a href=(link("/dashboard/orders", &filters)) { (t!(lang, "list-first-page")) } }
        }
        (orders_table("live-orders", &page.rows, &locale))
        @if let Some(next) = &next {
            p { a href=(next) id="orders-next" rel="next" { (t!(lang, "orders-next", count = request.limit)) } }
        }
        h2 { (t!(lang, "orders-approval-times")) }
        div.chart id="approval-chart" data-live-region { (super::super::svg::approval_chart(lang, &times)) }
    };
    Ok(frame(&viewer, &t!(lang, "orders-title"), "/dashboard/orders", body))
}
