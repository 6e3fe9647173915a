//! `GET /dashboard/events`: server-sent events fed from the storage's announcements.
//!
//! Each stored write to an order, review, inspection or score in the viewer's scope becomes one
//! `change` event naming the kind and the feed position; the page then refreshes its live parts.
//! Announcements carry no document content, and the scope check uses the same
//! [`Scope::contains`](crate::scope::Scope::contains) as live sync.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use fieldsync_core::DocKind;
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::session::Viewer;
use super::{DashError, Section};
use crate::state::AppState;

/// How long a browser waits before reconnecting a dropped stream.
pub const RETRY: Duration = Duration::from_secs(2);

/// The event stream of one dashboard page.
pub async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, DashError> {
    Section::Overview.check(&viewer.caller)?;
    let receiver = state.storage.announcements();
    let scope = viewer.caller.scope();
    let tenant_id = viewer.caller.tenant_id;
    let changes = stream::unfold(receiver, move |mut receiver| {
        let scope = scope.clone();
        async move {
            loop {
                match receiver.recv().await {
                    Ok(a)
                        if a.tenant_id == tenant_id
                            && matches!(
                                a.meta.kind,
                                DocKind::Order | DocKind::OrderReview | DocKind::Inspection | DocKind::InspectionScore
                            )
                            && scope.contains(&a.meta) =>
                    {
                        let event =
                            Event::default().event("change").data(format!("{} {}", a.meta.kind.as_str(), a.seq));
                        return Some((Ok(event), receiver));
                    }
                    Ok(_) => {}
                    // Missed some: tell the page to refresh anyway.
                    Err(RecvError::Lagged(_)) => {
                        return Some((Ok(Event::default().event("change").data("lagged")), receiver));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    });
    let hello = stream::once(async { Ok(Event::default().retry(RETRY).comment("fieldsync live")) });
    let shutdown = state.shutdown.clone();
    let stream = hello.chain(changes).take_until(async move { shutdown.wait().await });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
