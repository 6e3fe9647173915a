//! The orders list: filters, the table, the summary, and the rows shared with the overview.

use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use fieldsync_core::doc::{Order, OrderReview, OrderStatus};

use serde::Deserialize;

use super::super::html::{esc, url_param};
use super::super::records::{self, Names, Record, by_subject, load_kind};
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::locale::Locale;
use crate::services::accounts;
use crate::state::AppState;

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

/// Every status an order row can have, for the filter.
pub const ORDER_STATUSES: [&str; 5] = ["draft", "submitted", "needs-approval", "approved", "rejected"];

/// Orders in the viewer's scope with their reviews, newest first.
pub async fn order_rows(state: &AppState, viewer: &Viewer) -> Result<Vec<OrderRow>, DashError> {
    let orders = load_kind::<Order>(state, &viewer.caller).await?;
    let mut reviews = by_subject(load_kind::<OrderReview>(state, &viewer.caller).await?);
    let mut rows: Vec<OrderRow> = orders
        .into_iter()
        .map(|order| {
            let review = reviews.remove(order.id.as_str());
            OrderRow { order, review }
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.at()));
    Ok(rows)
}

pub(super) fn orders_table(id: &str, rows: &[&OrderRow], names: &Names, locale: &Locale) -> String {
    let mut html = format!(
        "<table id=\"{id}\" data-live-region><thead><tr><th>Order</th><th>When</th><th>Store</th><th>Rep</th>\
         <th>Status</th><th class=\"n\">Lines</th><th class=\"n\">Value</th></tr></thead><tbody>"
    );
    if rows.is_empty() {
        html.push_str("<tr><td colspan=\"7\" class=\"muted\">No orders yet.</td></tr>");
    }
    for row in rows {
        let order = &row.order.value;
        let _ = write!(
            html,
            "<tr data-id=\"{id}\"><td><a href=\"/dashboard/orders/{id}\">{number}</a></td><td>{when}</td><td>{store}</td>\
             <td>{rep}</td><td>{status}</td><td class=\"n\">{lines}</td><td class=\"n\">{value}</td></tr>",
            id = esc(row.order.id.as_str()),
            number = if row.number().is_empty() { "not reviewed yet".to_owned() } else { esc(row.number()) },
            when = esc(&locale.datetime(row.at())),
            store = esc(&names.store(&order.store_id)),
            rep = esc(&names.user(&order.owner)),
            status = status_tag(row.status()),
            lines = order.lines.len(),
            value = locale.money(order.total_cents()),
        );
    }
    html.push_str("</tbody></table>");
    html
}

// Orders

/// Filters of the orders page.
#[derive(Debug, Default, Deserialize)]
pub struct OrderQuery {
    /// One of [`ORDER_STATUSES`].
    pub status: Option<String>,
    /// A store id.
    pub store: Option<String>,
}

impl OrderQuery {
    /// The filters of a request; an unknown status or an empty store filters nothing.
    pub fn from_request(query: Result<Query<OrderQuery>, QueryRejection>) -> Self {
        let Query(query) = query.unwrap_or_default();
        Self {
            status: query.status.filter(|s| ORDER_STATUSES.contains(&s.as_str())),
            store: query.store.filter(|s| !s.is_empty()),
        }
    }

    /// Whether an order row passes the filters.
    pub fn keeps(&self, row: &OrderRow) -> bool {
        self.status.as_deref().is_none_or(|s| row.status() == s)
            && self.store.as_deref().is_none_or(|s| row.order.value.store_id == s)
    }
}

/// `GET /dashboard/orders?status=&store=`.
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
    let shown: Vec<&OrderRow> = rows.iter().filter(|r| filter.keeps(r)).collect();
    let OrderQuery { status, store } = filter;
    let mut status_options = String::from("<option value=\"\">any</option>");
    for s in ORDER_STATUSES {
        let selected = if status.as_deref() == Some(s) { " selected" } else { "" };
        let _ = write!(status_options, "<option{selected}>{s}</option>");
    }
    let mut store_options = String::from("<option value=\"\">any</option>");
    for (id, name) in &names.stores {
        let selected = if store.as_deref() == Some(id.as_str()) { " selected" } else { "" };
        let _ = write!(store_options, "<option value=\"{}\"{selected}>{}</option>", esc(id), esc(name));
    }
    let mut csv_link = String::from("/dashboard/orders.csv");
    let params: Vec<String> = [("status", &status), ("store", &store)]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", url_param(v))))
        .collect();
    if !params.is_empty() {
        csv_link = format!("{csv_link}?{}", params.join("&"));
    }
    let total: i64 = shown.iter().map(|r| r.order.value.total_cents()).fold(0, i64::saturating_add);
    let body = format!(
        "<h1>Orders</h1><form class=\"filters\" method=\"get\"><label>Status<select name=\"status\" id=\"filter-status\">{status_options}</select></label>\
         <label>Store<select name=\"store\" id=\"filter-store\">{store_options}</select></label><button class=\"primary\" type=\"submit\">Filter</button>\
         <a href=\"{}\" id=\"orders-csv\">Export CSV</a></form>\
         <p class=\"note\" id=\"orders-summary\">{} orders, {} in total (the newest {} in your scope are considered; \
         the table lists the newest {ORDERS_SHOWN}, the CSV all of them).</p>{}\
         <h2>Approval times of these orders</h2><div class=\"chart\" id=\"approval-chart\" data-live-region>{}</div>",
        esc(&csv_link),
        shown.len(),
        locale.money(total),
        records::LIST_LIMIT,
        orders_table("live-orders", shown.get(..ORDERS_SHOWN).unwrap_or(&shown), &names, &locale),
        super::super::svg::approval_chart(&super::super::svg::approval_times(shown.iter().copied()))
    );
    Ok(frame(&viewer, "Orders", "/dashboard/orders", super::super::html::PreEscaped(body)))
}
