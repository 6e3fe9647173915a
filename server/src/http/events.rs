//! `GET /v1/events?after=CURSOR&types=a,b&limit=N`: the tenant's event feed, in order
//! (`docs/events.md`). A consumer keeps the answer's `next` and passes it as `after`: delivery is
//! at least once (a consumer that crashes before saving its cursor reads some events again,
//! recognisable by their `id`), and nothing is skipped.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use crate::error::Result;
use crate::http::error::ApiError;
use crate::http::lists::query;
use crate::services::accounts::Caller;
use crate::services::events::{self, FeedQuery};
use crate::state::AppState;

/// `GET /v1/events`: a page of events after the cursor.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
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
