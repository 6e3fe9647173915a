//! CSV exports of orders (one row per order, or per order line) and inspections, in the viewer's scope, with the filters of the list
//! pages and the same GPS rule, streamed from the read model a page at a time. Times are RFC 3339 with the tenant's offset (`2026-03-29T09:15:00+02:00`), totals
//! plain decimals beside a `currency` column. Cells are quoted per RFC 4180, and text that a spreadsheet would run as a formula
//! (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'`. Column names and values stay in English
//! whatever the viewer's language: programs read these files.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::html::secure_headers;
use super::records::{GpsPrecision, gps_precision};
use super::session::Viewer;
use super::{DashError, Section};
use crate::services::inspections::list::InspectionQuery;
use crate::services::orders::list::OrderQuery;
use crate::services::{inspections, orders};
use crate::state::AppState;
use crate::storage::queries::Cursor;

/// One CSV cell.
pub fn cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
}

fn line(cells: &[String]) -> String {
    let mut out = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

fn attachment(name: &str, body: Body) -> Response {
    let mut response = body.into_response();
    secure_headers(&mut response, "default-src 'none'");
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn cents(cents: i64) -> String {
    format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

/// Rows per page read while streaming an export.
const EXPORT_PAGE: u32 = 1000;

/// A CSV body streamed a page at a time: the header line, then what `next_page` renders for
/// each cursor until it returns no next cursor. A storage error ends the download early (the
/// client sees a cut file) and is logged.
fn streamed<F, Fut>(header: &[&str], next_page: F) -> Body
where
    F: Fn(Option<Cursor>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = crate::Result<(String, Option<Cursor>)>> + Send + 'static,
{
    let first = line(&header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    // State: None = done; Some(cursor) = the page after `cursor` (Some(None): the first).
    let pages = futures_util::stream::unfold(Some(None), move |state: Option<Option<Cursor>>| {
        let page = state.map(&next_page);
        async move {
            match page?.await {
                Ok((text, next)) => Some((Ok::<_, std::io::Error>(text), next.map(Some))),
                Err(error) => {
                    tracing::error!(%error, "CSV export cut short");
                    Some((Err(std::io::Error::other(error.to_string())), None))
                }
            }
        }
    });
    let head = futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) });
    Body::from_stream(futures_util::StreamExt::chain(head, pages))
}

/// `GET /dashboard/orders.csv?…`: one row per order the filters of the orders page cover (every
/// page of them), streamed.
pub async fn orders(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<OrderQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let query = crate::http::lists::query(query)?;
    let tenant_id = viewer.caller.tenant_id;
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), tenant_id).await?;
    let mut request = query.parse(&viewer.caller.scope(), &locale, EXPORT_PAGE, EXPORT_PAGE)?;
    request.limit = EXPORT_PAGE;
    let header = [
        "order_id",
        "number",
        "submitted_or_created_at",
        "status",
        "store_id",
        "store_code",
        "store",
        "rep",
        "lines",
        "total",
        "currency",
    ];
    let body = streamed(&header, move |after| {
        let (state, locale) = (state.clone(), locale.clone());
        let mut request = request.clone();
        async move {
            request.after = after;
            let page = orders::list::page(state.storage.as_ref(), tenant_id, &request).await?;
            let mut out = String::new();
            for row in &page.rows {
                out.push_str(&line(&[
                    row.id.clone(),
                    row.number.clone().unwrap_or_default(),
                    locale.timestamp(row.at),
                    row.status.clone(),
                    row.store_id.clone(),
                    row.store_code.clone().unwrap_or_default(),
                    row.store_name.clone().unwrap_or_default(),
                    row.rep_name.clone().unwrap_or_else(|| row.rep.clone()),
                    row.line_count.to_string(),
                    cents(row.total_cents),
                    locale.currency().to_owned(),
                ]));
            }
            Ok((out, page.next))
        }
    });
    Ok(attachment("orders.csv", body))
}

/// `GET /dashboard/order-lines.csv?…`: one row per order line of the orders the filters of the
/// orders page cover (every page of them), streamed: the order's number, store (code and name),
/// rep, the line's SKU, product, quantity, unit price and total, and the order's status and dates.
pub async fn order_lines(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<OrderQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let query = crate::http::lists::query(query)?;
    let tenant_id = viewer.caller.tenant_id;
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), tenant_id).await?;
    let mut request = query.parse(&viewer.caller.scope(), &locale, EXPORT_PAGE, EXPORT_PAGE)?;
    request.limit = EXPORT_PAGE;
    let header = [
        "order_id",
        "number",
        "store_code",
        "store",
        "rep",
        "sku",
        "product",
        "qty",
        "unit_price",
        "line_total",
        "currency",
        "status",
        "submitted_or_created_at",
        "decided_at",
    ];
    let body = streamed(&header, move |after| {
        let (state, locale) = (state.clone(), locale.clone());
        let mut request = request.clone();
        async move {
            request.after = after;
            let storage = state.storage.as_ref();
            let page = orders::list::page(storage, tenant_id, &request).await?;
            let ids: Vec<String> = page.rows.iter().map(|row| row.id.clone()).collect();
            let mut by_order = std::collections::HashMap::<String, Vec<_>>::new();
            for order_line in orders::list::lines_of(storage, tenant_id, &ids).await? {
                by_order.entry(order_line.order_id.clone()).or_default().push(order_line);
            }
            let mut out = String::new();
            for row in &page.rows {
                for order_line in by_order.get(&row.id).into_iter().flatten() {
                    out.push_str(&line(&[
                        row.id.clone(),
                        row.number.clone().unwrap_or_default(),
                        row.store_code.clone().unwrap_or_default(),
                        row.store_name.clone().unwrap_or_default(),
                        row.rep_name.clone().unwrap_or_else(|| row.rep.clone()),
                        order_line.sku.clone(),
                        order_line.product_name.clone().unwrap_or_default(),
                        order_line.qty.to_string(),
                        cents(order_line.unit_price_cents),
                        cents(order_line.line_total_cents),
                        locale.currency().to_owned(),
                        row.status.clone(),
                        locale.timestamp(row.at),
                        row.decided_at.map(|at| locale.timestamp(at)).unwrap_or_default(),
                    ]));
                }
            }
            Ok((out, page.next))
        }
    });
    Ok(attachment("order-lines.csv", body))
}

/// `GET /dashboard/inspections.csv?…`: one row per inspection the filters cover, coordinates as
/// the viewer may see them, streamed.
pub async fn inspections(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<InspectionQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    Section::Inspections.check(&viewer.caller)?;
    let query = crate::http::lists::query(query)?;
    let caller = viewer.caller.clone();
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), caller.tenant_id).await?;
    let mut request = query.parse(&caller.scope(), &locale, EXPORT_PAGE, EXPORT_PAGE)?;
    request.limit = EXPORT_PAGE;
    let header = [
        "inspection_id",
        "checked_in_at",
        "status",
        "store_id",
        "store_code",
        "store",
        "supervisor",
        "latitude",
        "longitude",
        "answers",
        "photos",
        "score",
    ];
    let body = streamed(&header, move |after| {
        let (state, locale, caller) = (state.clone(), locale.clone(), caller.clone());
        let mut request = request.clone();
        async move {
            request.after = after;
            let page = inspections::list::page(state.storage.as_ref(), caller.tenant_id, &request).await?;
            let mut out = String::new();
            for row in &page.rows {
                let (lat, lon) = match (row.latitude, row.longitude, gps_precision(&caller, &row.supervisor)) {
                    (Some(lat), Some(lon), GpsPrecision::Exact) => (format!("{lat:.6}"), format!("{lon:.6}")),
                    (Some(lat), Some(lon), GpsPrecision::Rounded) => (format!("{lat:.2}"), format!("{lon:.2}")),
                    _ => (String::new(), String::new()),
                };
                out.push_str(&line(&[
                    row.id.clone(),
                    locale.timestamp(row.check_in_at),
                    row.status.clone(),
                    row.store_id.clone(),
                    row.store_code.clone().unwrap_or_default(),
                    row.store_name.clone().unwrap_or_default(),
                    row.supervisor_name.clone().unwrap_or_else(|| row.supervisor.clone()),
                    lat,
                    lon,
                    row.answer_count.to_string(),
                    row.photo_count.to_string(),
                    row.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
                ]));
            }
            Ok((out, page.next))
        }
    });
    Ok(attachment("inspections.csv", body))
}

/// `GET /dashboard/approvals/report.csv?days=30`: the approvals report, one row per group
/// (`by` is `step`, `approver` or `rule`); times in ms.
pub async fn approvals_report(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<orders::report::ReportQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let Query(query) = query.unwrap_or_default();
    let days = orders::report::parse_days(query.days.as_deref())?;
    let report = orders::report::report(state.storage.as_ref(), &viewer.caller, days, state.clock.now()).await?;
    let header = ["days", "by", "key", "steps", "decided", "median_ms", "p90_ms", "overdue", "escalations"];
    let mut out = line(&header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    let ms = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for g in &report.groups {
        out.push_str(&line(&[
            report.days.to_string(),
            g.by.as_str().to_owned(),
            g.key.clone(),
            g.steps.to_string(),
            g.decided.to_string(),
            ms(g.median_ms),
            ms(g.p90_ms),
            g.overdue.to_string(),
            g.escalations.to_string(),
        ]));
    }
    Ok(attachment(&format!("approvals-{days}-days.csv"), Body::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("-5,1"), "\"'-5,1\"");
        assert_eq!(cents(-1234), "-12.34");
    }
}
