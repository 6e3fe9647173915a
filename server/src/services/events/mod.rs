//! The event feed out: who may read the outbox ([`authorize`]), the pull API's query
//! ([`FeedQuery`], [`page`]), the one JSON shape of an event on every channel ([`envelope`]),
//! and the push to NATS JetStream ([`jetstream`]).
//!
//! The events themselves are derived and stored with the change that causes them
//! ([`crate::events`], [`crate::storage::EventStore`]); this module only reads them.

pub mod jetstream;
pub mod webhooks;

use fieldsync_core::Role;
use fieldsync_core::i18n::Message;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::events::EventType;
use crate::services::accounts::{Caller, KeyScope};
use crate::storage::{Storage, StoredEvent};

/// Events in a page when the query names no limit.
pub const DEFAULT_LIMIT: u32 = 100;
/// Most events in one page.
pub const MAX_LIMIT: u32 = 1_000;

/// Whether `caller` may read the tenant's event feed: an HQ session, or an integration's API key
/// holding `events:read`, for the feed carries every order, inspection and alert of the tenant.
/// The one place that decides it (the HTTP edge's `Scoped` extractor only
/// lets such callers through first).
pub fn authorize(caller: &Caller) -> Result<()> {
    match &caller.key {
        // A key is told as HQ inside the tenant; its scopes decide.
        Some(_) => caller.require(KeyScope::EventsRead),
        None if caller.role == Role::Hq => Ok(()),
        None => Err(Error::forbidden(
            Message::new("refusal-feed-reader").arg("username", &caller.username).arg("scope", KeyScope::EventsRead),
        )),
    }
}

/// The pull API's query, as sent: `after` (a cursor from an earlier page, default the start),
/// `types` (comma-separated event types, default all), `limit`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FeedQuery {
    /// The cursor: events after this position.
    pub after: Option<String>,
    /// Comma-separated types.
    pub types: Option<String>,
    /// Most events to return.
    pub limit: Option<String>,
}

/// A checked [`FeedQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRequest {
    /// Events after this position.
    pub after: u64,
    /// Only these types (all when empty).
    pub types: Vec<String>,
    /// Most events to return.
    pub limit: u32,
}

impl FeedQuery {
    /// The request, or a 400 naming the bad value.
    pub fn parse(&self) -> Result<FeedRequest> {
        let after = match self.after.as_deref() {
            None | Some("") => 0,
            Some(text) => text.parse::<u64>().map_err(|_| {
                Error::invalid("invalid-cursor", Message::new("refusal-cursor").arg("cursor", format!("{text:?}")))
            })?,
        };
        let mut types = Vec::new();
        for name in self.types.as_deref().unwrap_or("").split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let Some(event_type) = EventType::parse(name) else {
                let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                let message = Message::new("refusal-event-type-expected").arg("type", format!("{name:?}"));
                return Err(Error::invalid("invalid-event-type", message.arg("types", known.join(", "))));
            };
            if !types.contains(&event_type.as_str().to_owned()) {
                types.push(event_type.as_str().to_owned());
            }
        }
        let limit = match self.limit.as_deref() {
            None | Some("") => DEFAULT_LIMIT,
            Some(text) => match text.parse::<u32>() {
                Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
                _ => {
                    let message = Message::new("refusal-feed-limit").arg("limit", format!("{text:?}"));
                    return Err(Error::invalid("invalid-limit", message.arg("max", MAX_LIMIT)));
                }
            },
        };
        Ok(FeedRequest { after, types, limit })
    }
}

/// One page of the feed.
#[derive(Debug, Clone)]
pub struct FeedPage {
    /// The events, in order.
    pub events: Vec<StoredEvent>,
    /// The cursor to pass as `after` for what follows (the request's when nothing came).
    pub next: u64,
}

/// The caller's tenant's events after the request's cursor.
pub async fn page(storage: &dyn Storage, caller: &Caller, request: &FeedRequest) -> Result<FeedPage> {
    authorize(caller)?;
    let events = storage.events_after(caller.tenant_id, request.after, &request.types, request.limit).await?;
    let next = events.last().map_or(request.after, |e| e.seq);
    Ok(FeedPage { events, next })
}

/// An event as every channel carries it (the pull API, NATS, webhooks): documented in
/// `docs/events.md`.
pub fn envelope(event: &StoredEvent, tenant: &str) -> Value {
    let data: Value = serde_json::from_str(&event.event.payload).unwrap_or(Value::Null);
    json!({
        "id": event.event.id,
        "cursor": event.seq.to_string(),
        "type": event.event.event_type,
        "version": event.event.version,
        "tenant": tenant,
        "subject": event.event.subject,
        "time": event.event.occurred_at,
        "recorded_at": event.recorded_at,
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::error::RefusalKind;

    fn caller(role: Role, scopes: Option<Vec<KeyScope>>) -> Caller {
        Caller {
            tenant_id: 1,
            tenant: "acme".into(),
            user_id: "u".into(),
            username: "u".into(),
            role,
            region: None,
            device_id: "d".into(),
            device_unsynced_docs: None,
            key: scopes.map(|scopes| crate::services::accounts::KeyGrant {
                key_id: "k".into(),
                name: "erp".into(),
                scopes,
            }),
        }
    }

    #[test]
    fn the_feed_is_read_by_hq_or_a_key_with_events_read_and_subscriptions_by_hq_people_only() {
        assert!(authorize(&caller(Role::Hq, None)).is_ok());
        assert!(authorize(&caller(Role::Hq, Some(vec![KeyScope::EventsRead]))).is_ok());
        // A key is told as HQ: its scopes decide, not its role.
        let refused = authorize(&caller(Role::Hq, Some(vec![KeyScope::ImportsWrite]))).unwrap_err();
        let forbidden = |error: &Error| error.refusal_kind() == Some(RefusalKind::Forbidden);
        assert!(forbidden(&refused) && refused.to_string().contains("lacks the scope events:read"), "{refused}");
        assert!(authorize(&caller(Role::Rep, None)).is_err_and(|e| forbidden(&e)));

        assert!(webhooks::authorize(&caller(Role::Hq, None)).is_ok());
        let key = webhooks::authorize(&caller(Role::Hq, Some(vec![KeyScope::EventsRead]))).unwrap_err();
        assert!(forbidden(&key) && key.to_string().contains("api key \"erp\""), "{key}");
        assert!(webhooks::authorize(&caller(Role::Rep, None)).is_err_and(|e| forbidden(&e)));
    }

    fn query(after: Option<&str>, types: Option<&str>, limit: Option<&str>) -> FeedQuery {
        FeedQuery { after: after.map(Into::into), types: types.map(Into::into), limit: limit.map(Into::into) }
    }

    #[test]
    fn a_query_parses_its_cursor_types_and_limit() {
        let request = query(Some("42"), Some("order.approved, order.rejected,order.approved"), Some("10")).parse();
        assert_eq!(
            request.unwrap(),
            FeedRequest { after: 42, types: vec!["order.approved".into(), "order.rejected".into()], limit: 10 }
        );
        assert_eq!(query(None, None, None).parse().unwrap(), FeedRequest { after: 0, types: vec![], limit: 100 });
    }

    #[test]
    fn a_bad_cursor_type_or_limit_is_a_clear_error_naming_it() {
        let code = |q: FeedQuery| match q.parse() {
            Err(Error::Refused(refusal)) => (refusal.code, refusal.to_string()),
            other => panic!("expected a bad request, got {other:?}"),
        };
        let (c, reason) = code(query(Some("abc"), None, None));
        assert_eq!(c, "invalid-cursor");
        assert!(reason.contains("\"abc\""), "{reason}");
        let (c, reason) = code(query(None, Some("order.shipped"), None));
        assert_eq!(c, "invalid-event-type");
        assert!(reason.contains("order.shipped") && reason.contains("order.approved"), "{reason}");
        for limit in ["0", "1001", "-1", "ten"] {
            assert_eq!(code(query(None, None, Some(limit))).0, "invalid-limit");
        }
    }
}
