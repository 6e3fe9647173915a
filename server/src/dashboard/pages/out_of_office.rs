//! Out of office (`/dashboard/out-of-office`): a manager or HQ user names a delegate and the days
//! they are away (local days of the tenant); steps routed to them meanwhile go to the delegate.
//! One CSRF-checked form sets or ends it through the orders service's rules
//! ([`crate::services::orders::delegation`]); a refusal is shown on the page and changes nothing.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use fieldsync_core::Role;
use maud::html;
use serde::Deserialize;

use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::error::Error;
use crate::services::listing;
use crate::services::orders::delegation;
use crate::state::AppState;

use super::*;

/// `GET /dashboard/out-of-office`.
pub async fn out_of_office(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    out_of_office_page(&state, &viewer, None, StatusCode::OK).await
}

async fn out_of_office_page(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let caller = &viewer.caller;
    let storage = state.storage.as_ref();
    let locale =
        crate::services::accounts::tenant_locale(storage, caller.tenant_id).await?.with_language(viewer.language);
    let current = delegation::out_of_office(storage, caller).await?;
    let users = storage.list_users(caller.tenant_id).await?;
    let name = |id: &str| users.iter().find(|u| u.id == id).map_or_else(|| id.to_owned(), |u| u.username.clone());
    let mut choices: Vec<(&str, Role)> = users
        .iter()
        .filter(|u| {
            u.id != caller.user_id
                && u.disabled_at.is_none()
                && delegation::may_decide_for((caller.role, caller.region.as_deref()), (u.role, u.region.as_deref()))
        })
        .map(|u| (u.username.as_str(), u.role))
        .collect();
    choices.sort_by(|a, b| a.0.cmp(b.0));
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "ooo-title")) }
        @if let Some(notice) = &notice {
            @match notice {
                Notice::Done(text) => p.notice #notice { (text) },
                Notice::Error(text) => p.error #ooo-error { (text) },
            }
        }
        @match &current {
            Some(d) => p #ooo-current {
                @let (from, until) = (locale.datetime(d.starts_at), locale.datetime(d.ends_at));
                (t!(lang, "ooo-current-before")) b { (name(&d.delegate_id)) }
                @if d.holds_at(state.clock.now()) {
                    (t!(lang, "ooo-current-after-now", from = from.as_str(), until = until.as_str()))
                } @else {
                    (t!(lang, "ooo-current-after", from = from.as_str(), until = until.as_str()))
                }
            },
            None => p.muted #ooo-current { (t!(lang, "ooo-not-away")) },
        }
        form method="post" action="/dashboard/out-of-office" #ooo-form {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label for="delegate" { (t!(lang, "ooo-delegate")) " " }
            select #delegate name="delegate" {
                @for (username, role) in &choices { option value=(username) { (username) " (" (texts::role(lang, *role)) ")" } }
            }
            label for="from" { " " (t!(lang, "ooo-from")) " " } input #from type="date" name="from";
            label for="to" { " " (t!(lang, "ooo-to")) " " } input #to type="date" name="to";
            " "
            button.primary type="submit" name="action" value="set" #ooo-set { (t!(lang, "ooo-set")) }
            @if current.is_some() { " " button type="submit" name="action" value="end" #ooo-end { (t!(lang, "ooo-end")) } }
        }
        p.note { (t!(lang, "ooo-note", zone = locale.time_zone())) }
    };
    let mut response = frame(viewer, &t!(lang, "ooo-title"), "/dashboard/out-of-office", body);
    *response.status_mut() = status;
    Ok(response)
}

/// The out-of-office form.
#[derive(Debug, Default, Deserialize)]
pub struct OutOfOfficeForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// `set` or `end`.
    #[serde(default)]
    pub action: String,
    /// The delegate's username.
    #[serde(default)]
    pub delegate: String,
    /// First day away, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: String,
    /// Last day away, `YYYY-MM-DD`.
    #[serde(default)]
    pub to: String,
}

/// `POST /dashboard/out-of-office`: sets or ends the viewer's delegation.
pub async fn set_out_of_office(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Result<Form<OutOfOfficeForm>, FormRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let storage = state.storage.as_ref();
    let caller = &viewer.caller;
    let lang = viewer.language;
    let outcome = match form.action.as_str() {
        "end" => delegation::clear_out_of_office(storage, caller).await.map(|_| t!(lang, "ooo-done-back")),
        "set" => {
            let locale = crate::services::accounts::tenant_locale(storage, caller.tenant_id)
                .await?
                .with_language(viewer.language);
            match listing::date_range(&locale, Some(&form.from), Some(&form.to)) {
                Ok((Some(from), Some(until))) => {
                    delegation::set_out_of_office(storage, caller, &form.delegate, from, until, state.clock.now())
                        .await
                        .map(|_| t!(lang, "ooo-done-set"))
                }
                Ok(_) => Err(Error::invalid("invalid-input", Message::new("refusal-away-days-needed"))),
                Err(error) => Err(error),
            }
        }
        other => Err(Error::invalid(
            "invalid-input",
            Message::new("refusal-unknown-away-action").arg("action", format!("{other:?}")),
        )),
    };
    match outcome {
        Ok(done) => out_of_office_page(&state, &viewer, Some(Notice::Done(done)), StatusCode::OK).await,
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => {
                out_of_office_page(&state, &viewer, Some(Notice::Error(reason)), StatusCode::BAD_REQUEST).await
            }
            None => Err(error.into()),
        },
    }
}
