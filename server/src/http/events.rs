//! `GET /v1/events?after=CURSOR&types=a,b&limit=N`: the tenant's event feed, in order
//! (`docs/events.md`). A consumer keeps the answer's `next` and passes it as `after`: delivery is
//! at least once (a consumer that crashes before saving its cursor reads some events again,
//! recognisable by their `id`), and nothing is skipped.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use crate::error::Result;
use crate::http::caller::{EventsRead, Scoped};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::lists::query;
use crate::http::openapi::EventPage;
use crate::services::events::{self, FeedQuery};
use crate::state::AppState;

/// `GET /v1/events`: a page of events after the cursor. An HQ session or an API key holding
/// `events:read` (`docs/integrations.md`).
#[utoipa::path(
    get, path = "/v1/events", tag = "events",
    params(
        ("after" = Option<String>, Query, description = "the `next` of the previous page (a whole number); absent: from the beginning"),
        ("types" = Option<String>, Query, pattern = "^((order\\.(submitted|reviewed|step-decided|approved|rejected|escalated)|inspection\\.(checked-out|scored)|photo\\.reviewed|alert\\.(opened|closed|acknowledged)|import\\.applied)(,(order\\.(submitted|reviewed|step-decided|approved|rejected|escalated)|inspection\\.(checked-out|scored)|photo\\.reviewed|alert\\.(opened|closed|acknowledged)|import\\.applied))*)?$", description = "comma-separated event types (docs/events.md); absent: all"),
        ("limit" = Option<String>, Query, description = "most events in the page, 1 to 1000; absent: 100"),
    ),
    responses(
        (status = 200, description = "the events after the cursor, in order; empty when caught up", body = EventPage),
        (status = 400, description = "a bad cursor, event type or limit (`invalid-cursor`, `invalid-event-type`, `invalid-limit`)", body = ErrorBody),
        (status = 401, description = "no valid session or api key", body = ErrorBody),
        (status = 403, description = "neither HQ nor an api key with the scope events:read", body = ErrorBody),
        (status = 429, description = "the api key is over its request rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Scoped(caller, _): Scoped<EventsRead>,
    q: Result<Query<FeedQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    events::authorize(&caller)?;
    let request = query(q)?.parse()?;
    let page = events::page(state.storage.as_ref(), &caller, &request).await?;
    let items: Vec<Value> = page.events.iter().map(|event| events::envelope(event, &caller.tenant)).collect();
    Ok(Json(json!({
        "events": items,
        "next": page.next.to_string(),
        "limit": request.limit,
    })))
}
