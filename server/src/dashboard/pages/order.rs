//! One order's page: lines, findings, approval steps and the decision forms.

use std::fmt::Write;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fieldsync_core::doc::{Order, OrderReview, Severity, StepState};

use serde::Deserialize;

use super::super::html::esc;
use super::super::records::{Names, load_one};
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::services::accounts;
use crate::state::AppState;

use super::*;

/// A message shown at the top of a page after a form was posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// What was done.
    Done(String),
    /// Why it was refused (nothing changed).
    Error(String),
}

impl Notice {
    fn html(&self) -> String {
        match self {
            Notice::Done(text) => format!("<p class=\"notice\" id=\"notice\">{}</p>", esc(text)),
            Notice::Error(text) => format!("<p class=\"error\" id=\"decision-error\">{}</p>", esc(text)),
        }
    }
}

/// The query of an order's page: `decided` names the outcome after the viewer's decision.
#[derive(Debug, Default, Deserialize)]
pub struct OrderPageQuery {
    /// The review's outcome after a decision made on this page.
    pub decided: Option<String>,
}

/// `GET /dashboard/orders/{id}`: lines, verdict findings, approval steps, and the approve /
/// reject forms for the approver of the current step.
pub async fn order(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    query: Result<Query<OrderPageQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    let Query(query) = query.unwrap_or_default();
    let notice = query.decided.and_then(|outcome| match outcome.as_str() {
        "approved" => Some(Notice::Done("Your decision is recorded: the order is approved.".to_owned())),
        "rejected" => Some(Notice::Done("Your decision is recorded: the order is rejected.".to_owned())),
        "needs-approval" => {
            Some(Notice::Done("Your approval is recorded: the next step waits for its approver.".to_owned()))
        }
        _ => None,
    });
    order_page(&state, &viewer, &id, notice).await
}

/// An order's page, with `notice` on top (see [`order`]). The review is loaded by its derived
/// id, not by listing reviews, so the page costs the same with a million orders.
pub async fn order_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    notice: Option<Notice>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let locale = accounts::tenant_locale(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let order = load_one::<Order>(state, &viewer.caller, id).await?;
    let names = Names::load(state, &viewer.caller).await?;
    let review_id =
        crate::services::orders::find_review(state.storage.as_ref(), viewer.caller.tenant_id, order.id.as_str())
            .await?
            .id;
    let review = match load_one::<OrderReview>(state, &viewer.caller, review_id.as_str()).await {
        Ok(review) => Some(review),
        Err(crate::Error::NotFound { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    let row = OrderRow { order, review };
    let o = &row.order.value;
    let number = if row.number().is_empty() { String::new() } else { format!("{} ", esc(row.number())) };
    let mut body = format!(
        "<h1>Order {}for {}</h1>{}<p>Rep <b>{}</b> · created {} · {} · submission {} · status <span id=\"order-status\">{}</span></p>",
        number,
        esc(&names.store(&o.store_id)),
        notice.as_ref().map(Notice::html).unwrap_or_default(),
        esc(&names.user(&o.owner)),
        esc(&locale.datetime(o.created_at)),
        o.submitted_at.map_or_else(|| "not submitted".to_owned(), |t| format!("submitted {}", locale.datetime(t))),
        o.submission,
        status_tag(row.status())
    );
    if !o.notes.is_empty() {
        let _ = write!(body, "<p class=\"note\">Notes: {}</p>", esc(&o.notes));
    }
    body.push_str(
        "<h2>Lines</h2><table id=\"order-lines\"><thead><tr><th>SKU</th><th class=\"n\">Qty</th><th class=\"n\">Unit price</th>\
         <th class=\"n\">Discount</th><th class=\"n\">Total</th></tr></thead><tbody>",
    );
    for (_, line) in o.lines_in_order() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2}%</td><td class=\"n\">{}</td></tr>",
            esc(&line.sku),
            line.qty,
            locale.money(line.unit_price_cents),
            line.discount_bp as f64 / 100.0,
            locale.money(line.total_cents())
        );
    }
    let _ = write!(
        body,
        "<tr><th colspan=\"4\">Total</th><th class=\"n\">{}</th></tr></tbody></table>",
        locale.money(o.total_cents())
    );
    match &row.review {
        None => body.push_str("<h2>Review</h2><p class=\"note\">The relay has not reviewed this order yet.</p>"),
        Some(review) => {
            let r = &review.value;
            let _ = write!(
                body,
                "<h2>Review</h2><p>Outcome {} for submission {} · reviewed {} · priced at {}</p>",
                status_tag(r.outcome.as_str()),
                r.submission,
                esc(&locale.datetime(r.reviewed_at)),
                locale.money(r.total_cents)
            );
            body.push_str(
                "<table id=\"findings\"><thead><tr><th>Severity</th><th>Finding</th><th>Code</th></tr></thead><tbody>",
            );
            if r.findings.is_empty() {
                body.push_str("<tr><td colspan=\"3\" class=\"muted\">No findings.</td></tr>");
            }
            for f in &r.findings {
                let (class, text) = match f.severity {
                    Severity::Info => ("", "info"),
                    Severity::Warning => ("warn", "warning"),
                    Severity::Error => ("bad", "error"),
                };
                let _ = write!(
                    body,
                    "<tr><td><span class=\"tag {class}\">{text}</span></td><td>{}</td><td>{}</td></tr>",
                    esc(&f.text),
                    esc(&f.code)
                );
            }
            body.push_str("</tbody></table><h2>Approval steps</h2><table id=\"steps\"><thead><tr><th>#</th><th>Approver</th><th>Rule</th><th>State</th><th>Decided</th><th>Reason</th></tr></thead><tbody>");
            if r.steps.is_empty() {
                body.push_str("<tr><td colspan=\"6\" class=\"muted\">No approval needed.</td></tr>");
            }
            for (i, step) in r.steps.iter().enumerate() {
                let state = match step.state {
                    StepState::Pending => "pending",
                    StepState::Approved => "approved",
                    StepState::Rejected => "rejected",
                };
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    i + 1,
                    esc(&names.user(&step.approver)),
                    esc(&step.role),
                    esc(&step.rule),
                    status_tag(if state == "pending" { "needs-approval" } else { state }),
                    step.decided_at.map(|t| locale.datetime(t)).unwrap_or_default(),
                    esc(&step.reason)
                );
            }
            body.push_str("</tbody></table>");
            if row.status() == "needs-approval" {
                body.push_str(&super::super::decisions::forms(viewer, row.order.id.as_str(), r));
            }
        }
    }
    Ok(frame(viewer, "Order", "/dashboard/orders", super::super::html::PreEscaped(body)))
}
