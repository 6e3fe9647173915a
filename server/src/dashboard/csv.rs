//! CSV exports of orders and inspections, in the viewer's scope and with the same GPS rule as
//! the pages. Times are RFC 3339 with the tenant's offset (`2026-03-29T09:15:00+02:00`), totals
//! plain decimals beside a `currency` column. Cells are quoted per RFC 4180, and text that a spreadsheet would run as a formula
//! (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'`.

use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fieldsync_core::doc::{Inspection, InspectionScore};

use super::html::secure_headers;
use super::pages::{OrderQuery, order_rows};
use super::records::{GpsPrecision, Names, by_subject, gps_precision, load_kind};
use super::session::Viewer;
use super::{DashError, Section};
use crate::services::accounts;
use crate::state::AppState;

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

fn attachment(name: &str, body: String) -> Response {
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

/// `GET /dashboard/orders.csv?status=&store=`: one row per order.
pub async fn orders(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<OrderQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let filter = OrderQuery::from_request(query);
    let locale = accounts::tenant_locale(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let names = Names::load(&state, &viewer.caller).await?;
    let rows = order_rows(&state, &viewer).await?;
    let mut out = line(
        &[
            "order_id",
            "number",
            "submitted_or_created_at",
            "status",
            "store_id",
            "store",
            "rep",
            "lines",
            "total",
            "currency",
        ]
        .map(String::from),
    );
    for row in rows.iter().filter(|r| filter.keeps(r)) {
        let o = &row.order.value;
        out.push_str(&line(&[
            row.order.id.to_string(),
            row.number().to_owned(),
            locale.timestamp(row.at()),
            row.status().to_owned(),
            o.store_id.clone(),
            names.store(&o.store_id),
            names.user(&o.owner),
            o.lines.len().to_string(),
            cents(o.total_cents()),
            locale.currency().to_owned(),
        ]));
    }
    Ok(attachment("orders.csv", out))
}

/// `GET /dashboard/inspections.csv`: one row per inspection, coordinates as the viewer may see them.
pub async fn inspections(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    Section::Inspections.check(&viewer.caller)?;
    let locale = accounts::tenant_locale(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let names = Names::load(&state, &viewer.caller).await?;
    let list = load_kind::<Inspection>(&state, &viewer.caller).await?;
    let scores = by_subject(load_kind::<InspectionScore>(&state, &viewer.caller).await?);
    let mut out = line(
        &[
            "inspection_id",
            "checked_in_at",
            "status",
            "store_id",
            "store",
            "supervisor",
            "latitude",
            "longitude",
            "answers",
            "photos",
            "score",
        ]
        .map(String::from),
    );
    for i in &list {
        let v = &i.value;
        let fix = &v.check_in.position;
        let (lat, lon) = match gps_precision(&viewer.caller, &v.owner) {
            GpsPrecision::Exact => (format!("{:.6}", fix.latitude), format!("{:.6}", fix.longitude)),
            GpsPrecision::Rounded => (format!("{:.2}", fix.latitude), format!("{:.2}", fix.longitude)),
        };
        let mut score = String::new();
        if let Some(s) = scores.get(i.id.as_str()) {
            let _ = write!(score, "{:.1}", s.value.score);
        }
        out.push_str(&line(&[
            i.id.to_string(),
            locale.timestamp(v.check_in.at),
            v.status.as_str().to_owned(),
            v.store_id.clone(),
            names.store(&v.store_id),
            names.user(&v.owner),
            lat,
            lon,
            v.answers.len().to_string(),
            v.photos.len().to_string(),
            score,
        ]));
    }
    Ok(attachment("inspections.csv", out))
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
