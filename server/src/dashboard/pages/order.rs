//! One order's page: lines, findings, approval steps and the decision forms.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use fieldsync_core::doc::{ApprovalStep, Finding, Order, OrderReview, Severity, StepState};

use serde::Deserialize;

use super::super::html::{Markup, html};
use super::super::records::{Names, load_one};
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::locale::Locale;
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
    fn markup(&self) -> Markup {
        html! {
            @match self {
                Notice::Done(text) => p.notice #notice { (text) },
                Notice::Error(text) => p.error #decision-error { (text) },
            }
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
    let lang = viewer.language;
    let notice = query.decided.and_then(|outcome| match outcome.as_str() {
        "approved" => Some(Notice::Done(t!(lang, "order-decided-approved"))),
        "rejected" => Some(Notice::Done(t!(lang, "order-decided-rejected"))),
        "needs-approval" => Some(Notice::Done(t!(lang, "order-decided-next-step"))),
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
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), viewer.caller.tenant_id)
        .await?
        .with_language(viewer.language);
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
    let forms = match &row.review {
        Some(review) => super::super::decisions::forms(viewer, row.order.id.as_str(), &review.value),
        None => html! {},
    };
    let view = OrderView {
        order: &row.order.value,
        review: row.review.as_ref().map(|review| &review.value),
        status: row.status(),
        names: &names,
        locale: &locale,
        notice: notice.as_ref(),
        forms,
    };
    Ok(frame(viewer, &t!(viewer.language, "order-title"), "/dashboard/orders", order_body(&view)))
}

/// Everything an order's page shows, loaded and checked by [`order_page`].
pub struct OrderView<'a> {
    /// The order.
    pub order: &'a Order,
    /// Its review, if the relay wrote one.
    pub review: Option<&'a OrderReview>,
    /// Its status as the lists show it ([`OrderRow::status`]).
    pub status: &'a str,
    /// User and store names.
    pub names: &'a Names,
    /// The tenant's time zone and currency.
    pub locale: &'a Locale,
    /// A message on top, after a form was posted.
    pub notice: Option<&'a Notice>,
    /// The approve / reject forms for the viewer (empty when they may not decide), shown while
    /// the order needs approval.
    pub forms: Markup,
}

/// The body of an order's page: header, lines, the review's findings and approval steps, and
/// the decision forms.
pub fn order_body(view: &OrderView<'_>) -> Markup {
    let (o, names, locale) = (view.order, view.names, view.locale);
    let number = view.review.map_or("", |review| review.number.as_str());
    let lang = locale.language();
    html! {
        h1 {
            @if number.is_empty() {
                (t!(lang, "order-heading-unnumbered", store = names.store(&o.store_id)))
            } @else {
                (t!(lang, "order-heading", number = number, store = names.store(&o.store_id)))
            }
        }
        @if let Some(notice) = view.notice { (notice.markup()) }
        p {
            (t!(lang, "order-rep")) " " b { (names.user(&o.owner)) }
            " · " (t!(lang, "order-created", at = locale.datetime(o.created_at))) " · "
            @match o.submitted_at {
                Some(at) => { (t!(lang, "order-submitted", at = locale.datetime(at))) },
                None => (t!(lang, "order-not-submitted")),
            }
            " · " (t!(lang, "order-submission", submission = o.submission))
            " · " (t!(lang, "order-status")) " " span #order-status { (status_tag(lang, view.status)) }
        }
        @if !o.notes.is_empty() {
            p.note { (t!(lang, "order-notes")) " " (o.notes) }
        }
        h2 { (t!(lang, "order-lines")) }
        table #order-lines {
            thead { tr {
                th { (t!(lang, "order-col-sku")) } th.n { (t!(lang, "order-col-qty")) } th.n { (t!(lang, "order-col-unit-price")) }
                th.n { (t!(lang, "order-col-discount")) } th.n { (t!(lang, "order-col-total")) }
            } }
            tbody {
                @for (_, line) in o.lines_in_order() {
                    tr {
                        td { (line.sku) }
                        td.n { (line.qty) }
                        td.n { (locale.money(line.unit_price_cents)) }
                        td.n { (format!("{:.2}%", line.discount_bp as f64 / 100.0)) }
                        td.n { (locale.money(line.total_cents())) }
                    }
                }
                tr { th colspan="4" { (t!(lang, "order-col-total")) } th.n { (locale.money(o.total_cents())) } }
            }
        }
        h2 { (t!(lang, "order-review")) }
        @match view.review {
            None => p.note { (t!(lang, "order-not-reviewed")) },
            Some(r) => {
                p {
                    (t!(lang, "order-outcome")) " " (status_tag(lang, r.outcome.as_str()))
                    " " (t!(lang, "order-outcome-details", submission = r.submission, reviewed = locale.datetime(r.reviewed_at), total = locale.money(r.total_cents)))
                }
                (findings(lang, &r.findings))
                h2 { (t!(lang, "order-approval-steps")) }
                (steps(&r.steps, names, locale))
                @if view.status == "needs-approval" { (view.forms) }
            }
        }
    }
}

fn findings(lang: Language, findings: &[Finding]) -> Markup {
    html! {
        table #findings {
            thead { tr { th { (t!(lang, "order-col-severity")) } th { (t!(lang, "order-col-finding")) } th { (t!(lang, "order-col-code")) } } }
            tbody {
                @if findings.is_empty() {
                    tr { td colspan="3" class="muted" { (t!(lang, "order-no-findings")) } }
                }
                @for f in findings {
                    @let (class, text) = match f.severity {
                        Severity::Info => ("", t!(lang, "severity-info")),
                        Severity::Warning => ("warn", t!(lang, "severity-warning")),
                        Severity::Error => ("bad", t!(lang, "severity-error")),
                    };
                    tr {
                        td { span class={ "tag " (class) } { (text) } }
                        td { (f.text_in(lang)) }
                        td { (f.code) }
                    }
                }
            }
        }
    }
}

fn steps(steps: &[ApprovalStep], names: &Names, locale: &Locale) -> Markup {
    let lang = locale.language();
    html! {
        table #steps {
            thead { tr {
                th { "#" } th { (t!(lang, "order-col-approver")) } th { (t!(lang, "order-col-rule")) } th { (t!(lang, "order-col-state")) }
                th { (t!(lang, "order-col-decided")) } th { (t!(lang, "order-col-reason")) }
            } }
            tbody {
                @if steps.is_empty() {
                    tr { td colspan="6" class="muted" { (t!(lang, "order-no-approval")) } }
                }
                @for (i, step) in steps.iter().enumerate() {
                    @let state = match step.state {
                        StepState::Pending => "needs-approval",
                        StepState::Approved => "approved",
                        StepState::Rejected => "rejected",
                    };
                    tr {
                        td { (i + 1) }
                        td {
                            (names.user(&step.approver)) " (" (approver_role(lang, &step.role)) ")"
                            @if let Some(away) = &step.on_behalf_of { br; span.note { (t!(lang, "order-on-behalf-of", user = names.user(away))) } }
                            @if let Some(escalation) = step.sla.as_ref().and_then(|sla| sla.escalation.as_ref()) {
                                br; span.note.escalation { (t!(lang, "order-escalated", at = locale.datetime(escalation.at))) " " (escalation.reason) }
                            }
                            @if let Some(due) = step.sla.as_ref().and_then(|sla| sla.due_at).filter(|_| step.state == StepState::Pending) {
                                br; span.note { (t!(lang, "order-due", at = locale.datetime(due))) }
                            }
                        }
                        td { (step.rule) }
                        td { (status_tag(lang, state)) }
                        td { @if let Some(at) = step.decided_at { (locale.datetime(at)) } }
                        td { (step.reason) }
                    }
                }
            }
        }
    }
}

/// An approval step's role (`manager`, `hq`, as the review stores it) in words.
fn approver_role(lang: Language, role: &str) -> String {
    match role {
        "manager" => texts::role(lang, fieldsync_core::Role::Manager),
        "hq" => texts::role(lang, fieldsync_core::Role::Hq),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use fieldsync_core::Role;
    use fieldsync_core::doc::{OrderLine, OrderStatus, ReviewOutcome};

    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

    fn hostile_order() -> (Order, OrderReview, Names) {
        let order = Order {
            owner: "rep-1".into(),
            store_id: "store-1".into(),
            customer_id: "C-1".into(),
            status: OrderStatus::Submitted,
            lines: BTreeMap::from([(
                "l1".to_owned(),
                OrderLine { sku: HOSTILE.into(), qty: 2, unit_price_cents: 1_000, discount_bp: 0, position: 0 },
            )]),
            notes: HOSTILE.into(),
            created_at: 0,
            updated_at: 0,
            submitted_at: Some(60_000),
            submission: 1,
        };
        let review = OrderReview {
            number: HOSTILE.into(),
            order_id: "order-1".into(),
            owner: "rep-1".into(),
            store_id: "store-1".into(),
            submission: 1,
            reviewed_heads: Vec::new(),
            outcome: ReviewOutcome::NeedsApproval,
            findings: vec![Finding {
                code: HOSTILE.into(),
                line_id: Some("l1".into()),
                severity: Severity::Warning,
                text: HOSTILE.into(),
                args: None,
            }],
            steps: vec![ApprovalStep {
                on_behalf_of: None,
                role: "manager".into(),
                approver: "manager-1".into(),
                rule: HOSTILE.into(),
                state: StepState::Rejected,
                decided_at: Some(120_000),
                reason: HOSTILE.into(),
                sla: None,
            }],
            total_cents: 2_000,
            submitted_at: Some(60_000),
            reviewed_at: 90_000,
            decided_at: Some(120_000),
        };
        let names = Names {
            users: HashMap::from([
                ("rep-1".to_owned(), (HOSTILE.to_owned(), Role::Rep, None)),
                ("manager-1".to_owned(), ("mia".to_owned(), Role::Manager, None)),
            ]),
            stores: BTreeMap::from([("store-1".to_owned(), HOSTILE.to_owned())]),
        };
        (order, review, names)
    }

    #[test]
    fn the_order_page_escapes_every_user_provided_string() {
        let (order, review, names) = hostile_order();
        let locale = Locale::default();
        let notice = Notice::Error(HOSTILE.into());
        let view = OrderView {
            order: &order,
            review: Some(&review),
            status: "needs-approval",
            names: &names,
            locale: &locale,
            notice: Some(&notice),
            forms: super::super::super::decisions::decision_forms(Language::English, HOSTILE, HOSTILE, 0, 1),
        };
        let html = order_body(&view).into_string();

        assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
        // Store, review number, notice, rep, notes, SKU, finding text and code, rule, reason (10),
        // and the order id and CSRF token in each of the two forms (4): all escaped.
        assert_eq!(html.matches("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x").count(), 14, "{html}");
        // Escaped inside their quoted attributes, too.
        assert!(html.contains("action=\"/dashboard/orders/&lt;script&gt;"), "{html}");
        assert!(html.contains("name=\"csrf\" value=\"&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;"), "{html}");
        for id in ["decision-error", "order-status", "order-lines", "findings", "steps", "decide", "reject-form"] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing: {html}");
        }
    }

    #[test]
    fn an_unreviewed_order_says_so_and_offers_no_forms() {
        let (order, _, names) = hostile_order();
        let locale = Locale::default();
        let notice = Notice::Done("Your decision is recorded: the order is approved.".into());
        let view = OrderView {
            order: &order,
            review: None,
            status: "submitted",
            names: &names,
            locale: &locale,
            notice: Some(&notice),
            forms: html! { "forms" },
        };
        let html = order_body(&view).into_string();
        assert!(html.contains("<p class=\"notice\" id=\"notice\">Your decision is recorded"), "{html}");
        assert!(html.contains("The relay has not reviewed this order yet."), "{html}");
        assert!(!html.contains("forms") && !html.contains("id=\"steps\""), "{html}");
    }
}
