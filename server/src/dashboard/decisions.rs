//! Approve / reject on an order's page: the forms shown to the approver of the current step, and
//! `POST /dashboard/orders/{id}/decision`, which they post to.
//!
//! The forms are shown only when core's own check ([`check_decision`]) says the viewer may decide
//! the current step: a manager or HQ user named in that step, never the order's rep. The POST
//! checks the section and the session's CSRF token, then goes through exactly the decision path
//! of `POST /v1/orders/{id}/decision` ([`decide_order`]), so the rules live in one place. The
//! form carries the step and the submission the approver saw: a stale page (someone decided, or
//! the rep resubmitted) is refused with a conflict instead of deciding something else.

use super::texts::{self, t};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fieldsync_core::doc::{OrderReview, Verdict};
use fieldsync_core::i18n::{Language, Message};
use fieldsync_core::rules::approval::display_step;
use fieldsync_core::rules::{DecisionInput, check_decision};
use fieldsync_core::{DocumentId, Role};
use serde::Deserialize;

use super::html::{Markup, html, url_param};
use super::pages::{Notice, order_page};
use super::session::Viewer;
use super::{DashError, Section};
use crate::error::{Error, RefusalKind};
use crate::services::accounts::Caller;
use crate::services::orders::{DecisionRequest, decide_order, parse_verdict};
use crate::state::AppState;

/// The fields of the approve and reject forms. Every field is read as text so that a missing or
/// malformed one still lets the CSRF check run first, and gets a precise error after it.
#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// The step the approver saw as current.
    #[serde(default)]
    pub step: String,
    /// The submission the approver saw.
    #[serde(default)]
    pub submission: String,
    /// `approve` or `reject`.
    #[serde(default)]
    pub verdict: String,
    /// Why; required to reject.
    #[serde(default)]
    pub reason: String,
}

/// The current step of `review` if `caller` may decide it now (core's rule, as the POST applies
/// it), else `None`.
pub fn decidable_step(caller: &Caller, review: &OrderReview) -> Option<u64> {
    if !matches!(caller.role, Role::Manager | Role::Hq) {
        return None;
    }
    let step = u64::try_from(review.current_step()?).ok()?;
    let input = DecisionInput {
        step,
        approver: &caller.user_id,
        verdict: Verdict::Approve,
        reason: "",
        submission: review.submission,
    };
    check_decision(review, &review.owner, &input).ok().map(|()| step)
}

/// The approve and reject forms for the viewer, or nothing when they may not decide.
pub fn forms(viewer: &Viewer, order_id: &str, review: &OrderReview) -> Markup {
    match decidable_step(&viewer.caller, review) {
        Some(step) => decision_forms(viewer.language, order_id, &viewer.csrf, step, review.submission),
        None => html! {},
    }
}

/// The approve and reject forms for `step` of `submission`, carrying the session's `csrf` token.
pub fn decision_forms(language: Language, order_id: &str, csrf: &str, step: u64, submission: u64) -> Markup {
    let action = format!("/dashboard/orders/{order_id}/decision");
    let hidden = html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="step" value=(step);
        input type="hidden" name="submission" value=(submission);
    };
    html! {
        h2 { (t!(language, "order-your-decision")) }
        div.decide #decide {
            form method="post" action=(action) #approve-form {
                (hidden)
                input type="hidden" name="verdict" value="approve";
                span.note { (t!(language, "order-step-waits", step = display_step(step))) }
                button.primary type="submit" #approve { (t!(language, "order-approve")) }
            }
            form method="post" action=(action) #reject-form {
                (hidden)
                input type="hidden" name="verdict" value="reject";
                label for="reason" class="note" { (t!(language, "order-reject-reason")) }
                textarea #reason name="reason" maxlength="500" {}
                button.danger type="submit" #reject { (t!(language, "order-reject")) }
            }
        }
    }
}

/// `id`: the message id of the field that does not read (`refusal-invalid-step`).
fn bad(id: &str, value: &str) -> Error {
    Error::invalid("invalid-input", Message::new(id).arg("value", format!("{value:?}")))
}

/// `POST /dashboard/orders/{id}/decision`: CSRF-checked approve or reject of the current step,
/// through [`decide_order`]. Success redirects to the order; a refusal by the rules is shown on
/// the order's page (400 for a missing reason or a bad field, 409 for a stale page), a caller who
/// may not decide gets 403, an order out of scope 404. Nothing changes unless it succeeds.
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let order_id: DocumentId = id.parse().map_err(|_| Error::not_found(format!("order {id}")))?;
    let request = (|| {
        let step = form.step.trim().parse().map_err(|_| bad("refusal-invalid-step", &form.step))?;
        let submission =
            form.submission.trim().parse().map_err(|_| bad("refusal-invalid-submission", &form.submission))?;
        let verdict = parse_verdict(form.verdict.trim())?;
        Ok::<_, Error>(DecisionRequest { step, verdict, reason: form.reason.clone(), submission: Some(submission) })
    })();
    let result = match request {
        Ok(request) => {
            decide_order(state.storage.as_ref(), &state.caches, &viewer.caller, &order_id, &request, state.clock.now())
                .await
                .map(|(_, review)| review)
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(review) => {
            let decided = review.outcome.as_str();
            Ok(Redirect::to(&format!(
                "/dashboard/orders/{}?decided={}",
                url_param(order_id.as_str()),
                url_param(decided)
            ))
            .into_response())
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                let status = if error.refusal_kind() == Some(RefusalKind::Conflict) {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::BAD_REQUEST
                };
                let mut response = order_page(&state, &viewer, &id, Some(Notice::Error(reason))).await?;
                *response.status_mut() = status;
                Ok(response)
            }
            None => Err(error.into()),
        },
    }
}
