//! The approval policy editor (`/dashboard/policy`, HQ): the policy as JSON in one text area,
//! *Check* (validation and the what-if over the last 30 days) and *Publish* (a new version), one
//! CSRF-checked form; the rules are the orders service's ([`crate::services::orders::policy`]).

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::services::orders::policy::{self, Check, PolicyText, WhatIf};
use crate::state::AppState;

use super::*;

/// `GET /dashboard/policy`: the current policy in the editor.
pub async fn policy_editor(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    if viewer.caller.role != fieldsync_core::Role::Hq {
        return Err(DashError::Forbidden(t!(viewer.language, "policy-hq-only")));
    }
    let current = policy::current(state.storage.as_ref(), &state.caches, viewer.caller.tenant_id).await?;
    let text = serde_json::to_string_pretty(&PolicyText::of(&current)).unwrap_or_default();
    Ok(editor(&viewer, current.version, &text, html! {}, StatusCode::OK))
}

fn editor(viewer: &Viewer, version: u64, text: &str, outcome: Markup, status: StatusCode) -> Response {
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "policy-title")) }
        p.note { (t!(lang, "policy-note", version = version)) }
        (outcome)
        form method="post" action="/dashboard/policy" #policy-form {
            input type="hidden" name="csrf" value=(viewer.csrf);
            textarea #policy name="policy" rows="30" cols="100" { (text) }
            br;
            button type="submit" name="action" value="check" #policy-check { (t!(lang, "policy-check")) }
            " "
            button.primary type="submit" name="action" value="publish" #policy-publish { (t!(lang, "policy-publish")) }
        }
    };
    let mut response = frame(viewer, &t!(lang, "policy-title"), "/dashboard/policy", body);
    *response.status_mut() = status;
    response
}

fn check_markup(lang: Language, check: &Check) -> Markup {
    html! {
        @if check.errors.is_empty() { p.notice #policy-ok { (t!(lang, "policy-no-errors")) } }
        @if !check.errors.is_empty() {
            ul.error #policy-errors { @for e in &check.errors { li { (texts::message(lang, e)) } } }
        }
        @if !check.warnings.is_empty() {
            ul.note #policy-warnings { @for w in &check.warnings { li { (texts::message(lang, w)) } } }
        }
    }
}

fn what_if_markup(lang: Language, what_if: &WhatIf) -> Markup {
    let routes: std::collections::BTreeSet<&String> =
        what_if.routes.keys().chain(what_if.current_routes.keys()).collect();
    html! {
        h2 { (t!(lang, "policy-what-if", days = policy::WHAT_IF_DAYS)) }
        p #what-if-summary {
            (t!(lang, "policy-what-if-summary", orders = what_if.orders, changed = what_if.changed, now = what_if.current_automatic, draft = what_if.automatic))
        }
        table #what-if-routes {
            thead { tr { th { (t!(lang, "policy-col-route")) } th.n { (t!(lang, "policy-col-now")) } th.n { (t!(lang, "policy-col-draft")) } } }
            tbody {
                @for route in routes {
                    tr {
                        td { (route) }
                        td.n { (what_if.current_routes.get(route).copied().unwrap_or(0)) }
                        td.n { (what_if.routes.get(route).copied().unwrap_or(0)) }
                    }
                }
            }
        }
        table #what-if-load {
            thead { tr {
                th { (t!(lang, "order-col-approver")) } th.n { (t!(lang, "policy-col-steps-now")) }
                th.n { (t!(lang, "policy-col-with-draft")) } th.n { (t!(lang, "policy-col-added")) }
            } }
            tbody {
                @for (who, (now, draft)) in &what_if.load {
                    tr {
                        td { (who) }
                        td.n { (now) }
                        td.n { (draft) }
                        td.n { (*draft as i64 - *now as i64) }
                    }
                }
            }
        }
    }
}

/// The editor's form.
#[derive(Debug, Default, Deserialize)]
pub struct PolicyForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// `check` or `publish`.
    #[serde(default)]
    pub action: String,
    /// The policy, JSON.
    #[serde(default)]
    pub policy: String,
}

/// `POST /dashboard/policy`: checks (with the what-if) or publishes the draft.
pub async fn policy_post(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<PolicyForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let storage = state.storage.as_ref();
    let version = policy::current(storage, &state.caches, viewer.caller.tenant_id).await?.version;
    let draft = match PolicyText::parse(&form.policy) {
        Ok(draft) => draft,
        Err(error) => {
            let Some(reason) = texts::refusal(viewer.language, &error) else { return Err(error.into()) };
            let outcome = html! { ul.error #policy-errors { li { (reason) } } };
            return Ok(editor(&viewer, version, &form.policy, outcome, StatusCode::BAD_REQUEST));
        }
    };
    match form.action.as_str() {
        "publish" => match policy::publish(storage, &state.caches, &viewer.caller, &draft).await {
            Ok(published) => {
                let outcome = html! { p.notice #policy-published { (t!(viewer.language, "policy-published", version = published)) } };
                Ok(editor(&viewer, published, &form.policy, outcome, StatusCode::OK))
            }
            Err(error) => match texts::refusal(viewer.language, &error) {
                Some(reason) => {
                    let outcome = html! { ul.error #policy-errors { li { (reason) } } };
                    Ok(editor(&viewer, version, &form.policy, outcome, StatusCode::BAD_REQUEST))
                }
                None => Err(error.into()),
            },
        },
        _ => {
            let (check, what_if) =
                policy::preview(storage, &state.caches, &viewer.caller, &draft, state.clock.now()).await?;
            let status = if check.errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
            let outcome = html! {
                (check_markup(viewer.language, &check))
                @if let Some(what_if) = &what_if { (what_if_markup(viewer.language, what_if)) }
            };
            Ok(editor(&viewer, version, &form.policy, outcome, status))
        }
    }
}
