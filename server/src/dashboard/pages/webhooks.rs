//! Webhook subscriptions (`/dashboard/webhooks`, HQ only): each subscription with its receiver,
//! the event types it takes, how far delivery has come in the feed, and its **dead letters** —
//! the events its receiver refused through every retry, with the last answer. A form per
//! subscription replays from a position (through the events service's own check, so a position
//! past the feed's end is refused on the page and changes nothing). Subscriptions are created
//! with the API or `admin subscribe` (`docs/events.md`).

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::super::DashError;
use super::super::html::url_param;
use super::super::session::Viewer;
use crate::services::accounts;
use crate::services::events::webhooks;
use crate::state::AppState;

use super::*;

const ACTION: &str = "refusal-action-manage-webhooks";

/// `GET /dashboard/webhooks`.
pub async fn webhooks(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    webhooks_page(&state, &viewer, None, StatusCode::OK).await
}

async fn webhooks_page(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, DashError> {
    viewer.caller.require_hq_person(ACTION)?;
    let storage = state.storage.as_ref();
    let tenant_id = viewer.caller.tenant_id;
    let locale = accounts::tenant_locale(storage, tenant_id).await?.with_language(viewer.language);
    let lang = viewer.language;
    let subscriptions = webhooks::list(storage, tenant_id).await?;
    let last = storage.last_event_seq(tenant_id).await?;
    let body = html! {
        h1 { (t!(lang, "webhooks-title")) }
        @if let Some(notice) = &notice {
            @match notice {
                Notice::Done(text) => p.notice #notice { (text) },
                Notice::Error(text) => p.error #replay-error { (text) },
            }
        }
        p.note { (t!(lang, "webhooks-note", count = last)) }
        @if subscriptions.is_empty() {
            p.muted #no-subscriptions { (t!(lang, "webhooks-none")) }
        }
        @for state in &subscriptions {
            @let s = &state.subscription;
            section.subscription data-id=(s.id) {
                h2 { code { (s.url) } }
                p {
                    @let types = if s.types.is_empty() { t!(lang, "webhooks-types-all") } else { s.types.join(", ") };
                    (t!(lang, "webhooks-types", types = types))
                    " · " (t!(lang, "webhooks-created", at = locale.datetime(s.created_at)))
                    " · " (t!(lang, "webhooks-delivered-up-to")) " " b { (state.cursor) } " " (t!(lang, "webhooks-delivered-of", last = last))
                }
                @if state.dead_letters.is_empty() {
                    p.muted { (t!(lang, "webhooks-no-dead-letters")) }
                } @else {
                    div.scroll {
                        table.dead-letters {
                            thead { tr {
                                th { (t!(lang, "webhooks-col-position")) } th { (t!(lang, "webhooks-col-event")) }
                                th { (t!(lang, "webhooks-col-type")) } th { (t!(lang, "webhooks-col-attempts")) }
                                th { (t!(lang, "webhooks-col-last-answer")) } th { (t!(lang, "webhooks-col-given-up")) }
                            } }
                            tbody {
                                @for dead in &state.dead_letters {
                                    tr {
                                        td.num { (dead.seq) }
                                        td { code { (dead.event_id) } }
                                        td { (dead.event_type) }
                                        td.num { (dead.attempts) }
                                        td { (dead.last_error) }
                                        td { (locale.datetime(dead.failed_at)) }
                                    }
                                }
                            }
                        }
                    }
                }
                @let from = state.dead_letters.iter().map(|d| d.seq.saturating_sub(1)).min().unwrap_or(state.cursor);
                form.replay method="post" action=(format!("/dashboard/webhooks/{}/replay", url_param(&s.id))) {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    label { (t!(lang, "webhooks-replay-after")) " " input type="number" name="after" min="0" value=(from); }
                    " "
                    button type="submit" { (t!(lang, "webhooks-replay")) }
                }
            }
        }
    };
    let mut response = frame(viewer, &t!(lang, "webhooks-title"), "/dashboard/webhooks", body);
    *response.status_mut() = status;
    Ok(response)
}

/// The replay form.
#[derive(Debug, Default, Deserialize)]
pub struct ReplayForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// The position to send again after.
    #[serde(default)]
    pub after: String,
}

/// `POST /dashboard/webhooks/{id}/replay`: delivery of the subscription starts again after the
/// given position.
pub async fn replay_webhook(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Result<Form<ReplayForm>, FormRejection>,
) -> Result<Response, DashError> {
    viewer.caller.require_hq_person(ACTION)?;
    let form = form.map(|Form(form)| form).unwrap_or_default();
    viewer.check_form(&form.csrf)?;
    let Ok(after) = form.after.trim().parse::<u64>() else {
        let refused = t!(viewer.language, "webhooks-bad-position", position = form.after.trim());
        return webhooks_page(&state, &viewer, Some(Notice::Error(refused)), StatusCode::BAD_REQUEST).await;
    };
    match webhooks::replay(state.storage.as_ref(), viewer.caller.tenant_id, &id, after).await {
        Ok(()) => {
            let done = t!(viewer.language, "webhooks-done-replay", id = id.as_str(), after = after);
            webhooks_page(&state, &viewer, Some(Notice::Done(done)), StatusCode::OK).await
        }
        Err(error) => match texts::refusal(viewer.language, &error) {
            Some(reason) => webhooks_page(&state, &viewer, Some(Notice::Error(reason)), StatusCode::BAD_REQUEST).await,
            None => Err(error.into()),
        },
    }
}
