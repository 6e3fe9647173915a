//! Lists and figures for integrations, read from the read model in the caller's scope:
//! `GET /v1/orders`, `GET /v1/inspections`, `GET /v1/alerts` (keyset pages: pass the answer's
//! `next` as `after` for the next page) and `GET /v1/overview`. Each parses the query, calls its
//! service, and answers JSON that names the tenant's `currency` (amounts are `…_cents`) and
//! `time_zone` (times are ms since the Unix epoch; `from`/`to` dates are local days). A bad
//! filter is a 400 naming it.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use fieldsync_core::clock::now_ms;
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::openapi::{JsonObject, ListPage};
use crate::locale::Locale;
use crate::services::accounts::Caller;
use crate::services::alerts::list::AlertQuery;
use crate::services::inspections::list::InspectionQuery;
use crate::services::listing::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::services::orders::list::OrderQuery;
use crate::services::orders::report::ReportQuery;
use crate::services::{alerts, inspections, orders, overview};
use crate::state::AppState;
use crate::storage::queries::Page;

/// A URL's query as `T`, or a 400 naming what is wrong with it (shared with the dashboard).
pub fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T> {
    query
        .map(|Query(q)| q)
        .map_err(|e| Error::bad_request("invalid-input", format!("invalid query: {}", e.body_text())))
}

/// A page as JSON: its rows (each with `owner` added when the row names one under another
/// name), the cursor of the next page, and the units.
fn page_json<T: Serialize>(page: Page<T>, limit: u32, locale: &Locale, owner: Option<&str>) -> Result<Json<Value>> {
    let items = page
        .rows
        .iter()
        .map(|row| {
            let mut value = serde_json::to_value(row).map_err(|e| Error::Storage(format!("list row as JSON: {e}")))?;
            if let (Some(field), Value::Object(map)) = (owner, &mut value) {
                let owner = map.get(field).cloned().unwrap_or(Value::Null);
                map.insert("owner".to_owned(), owner);
            }
            Ok(value)
        })
        .collect::<Result<Vec<Value>>>()?;
    Ok(Json(json!({
        "items": items,
        "next": page.next.map(|cursor| cursor.encode()),
        "limit": limit,
        "currency": locale.currency(),
        "time_zone": locale.time_zone(),
    })))
}

/// `GET /v1/orders`: a page of orders ([`OrderQuery`] names the filters).
#[utoipa::path(
    get, path = "/v1/orders", tag = "read",
    params(OrderQuery),
    responses(
        (status = 200, description = "a page of orders", body = ListPage),
        (status = 400, description = "an invalid filter, naming it", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn orders(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<OrderQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), caller.tenant_id).await?;
    let request = query(q)?.parse(&caller.scope(), &locale, DEFAULT_LIMIT, MAX_LIMIT)?;
    let page = orders::list::page(state.storage.as_ref(), caller.tenant_id, &request).await?;
    Ok(page_json(page, request.limit, &locale, Some("rep"))?)
}

/// `GET /v1/approvals/report?days=30`: where approval time goes, by step, approver and rule
/// (`services::orders::report`), as JSON; times in ms.
#[utoipa::path(
    get, path = "/v1/approvals/report", tag = "approvals",
    params(ReportQuery),
    responses(
        (status = 200, description = "where approval time goes", body = JsonObject),
        (status = 400, description = "invalid days", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "not a manager or HQ", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn approvals_report(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let days = orders::report::parse_days(q.days.as_deref())?;
    let report = orders::report::report(state.storage.as_ref(), &caller, days, state.clock.now()).await?;
    Ok(Json(serde_json::to_value(&report).map_err(|e| Error::Storage(format!("cannot encode the report: {e}")))?))
}

/// `GET /v1/inspections`: a page of inspections ([`InspectionQuery`] names the filters).
#[utoipa::path(
    get, path = "/v1/inspections", tag = "read",
    params(InspectionQuery),
    responses(
        (status = 200, description = "a page of inspections", body = ListPage),
        (status = 400, description = "an invalid filter, naming it", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn inspections(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<InspectionQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), caller.tenant_id).await?;
    let request = query(q)?.parse(&caller.scope(), &locale, DEFAULT_LIMIT, MAX_LIMIT)?;
    let page = inspections::list::page(state.storage.as_ref(), caller.tenant_id, &request).await?;
    Ok(page_json(page, request.limit, &locale, Some("supervisor"))?)
}

/// `GET /v1/alerts`: a page of alerts ([`AlertQuery`] names the filters).
#[utoipa::path(
    get, path = "/v1/alerts", tag = "read",
    params(AlertQuery),
    responses(
        (status = 200, description = "a page of alerts", body = ListPage),
        (status = 400, description = "an invalid filter, naming it", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<AlertQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), caller.tenant_id).await?;
    let request = query(q)?.parse(&caller.scope(), &locale, DEFAULT_LIMIT, MAX_LIMIT)?;
    let page = alerts::list::page(state.storage.as_ref(), caller.tenant_id, &request).await?;
    Ok(page_json(page, request.limit, &locale, None)?)
}

/// `GET /v1/overview`: the overview's figures ([`overview::Overview`]).
#[utoipa::path(
    get, path = "/v1/overview", tag = "read",
    responses(
        (status = 200, description = "the overview's figures", body = JsonObject),
        (status = 401, description = "no valid session", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn overview(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), caller.tenant_id).await?;
    let figures = overview::at(state.storage.as_ref(), caller.tenant_id, &caller.scope(), &locale, now_ms()).await?;
    Ok(Json(serde_json::to_value(figures).map_err(|e| Error::Storage(format!("overview as JSON: {e}")))?))
}
