//! Working through alerts: the alerts page and `/v1/alerts/causes` list one alert per cause in
//! the viewer's scope ([`causes`]), and anyone who sees an alert may acknowledge it with a note
//! ([`acknowledge`]), snooze it until a day ([`snooze`]) or hand it to someone else
//! ([`reassign`]). Each action is recorded with who and when, and everyone who sees the alert
//! sees it. The dashboard and the JSON API call these same functions.
//!
//! An acknowledgement belongs to the alert as it was raised: when the cause clears and comes
//! back, the reopened alert is unacknowledged again (the history keeps the old one).

use std::collections::BTreeMap;

use fieldsync_core::i18n::Message;
use fieldsync_core::{DocKind, Role};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::services::accounts::Caller;
use crate::services::listing;
use crate::storage::queries::{self, AlertActionRow, AlertCauseFilter, AlertCauseRow, Cursor, Reach};
use crate::storage::{Storage, TriageAction, TriageRecord, User};

/// Longest acknowledgement note, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Furthest a snooze may reach, in days.
pub const MAX_SNOOZE_DAYS: i64 = 90;

/// A causes query as a URL carries it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct CauseQuery {
    /// `open` (the default), `snoozed` (open, snoozed now) or `closed`.
    pub state: Option<String>,
    /// `low-stock`, `promotion-not-started`, `sales-falling`.
    pub kind: Option<String>,
    /// A store id.
    pub store: Option<String>,
    /// Part of the title, the store's name, the product's name or SKU.
    pub q: Option<String>,
    /// First local day raised, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last local day raised (included).
    pub to: Option<String>,
    /// The cursor of the page to show.
    pub after: Option<String>,
    /// Rows per page.
    pub limit: Option<String>,
}

/// A parsed, validated causes query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseRequest {
    /// Which causes.
    pub filter: AlertCauseFilter,
    /// From where.
    pub after: Option<Cursor>,
    /// How many.
    pub limit: u32,
}

/// The kinds a filter may name.
const KINDS: [&str; 3] = ["low-stock", "promotion-not-started", "sales-falling"];

impl CauseQuery {
    /// The query as a request for `caller` at `now`, days counted in `locale`.
    pub fn parse(
        &self,
        caller: &Caller,
        locale: &Locale,
        now: i64,
        default_limit: u32,
        max_limit: u32,
    ) -> Result<CauseRequest> {
        let state = listing::one_of("state", self.state.as_deref(), &["open", "snoozed", "closed"])?;
        let (state, snoozed) = match state.as_deref() {
            None | Some("open") => (Some("open".to_owned()), Some(false)),
            Some("snoozed") => (Some("open".to_owned()), Some(true)),
            _ => (Some("closed".to_owned()), None),
        };
        let (from, to) = listing::date_range(locale, self.from.as_deref(), self.to.as_deref())?;
        Ok(CauseRequest {
            filter: AlertCauseFilter {
                reach: reach(caller),
                state,
                snoozed,
                kind: listing::one_of("kind", self.kind.as_deref(), &KINDS)?,
                store_id: listing::id("store", self.store.as_deref())?,
                from,
                to,
                text: listing::search_text(self.q.as_deref())?,
                key: None,
                now,
            },
            after: listing::cursor(self.after.as_deref())?,
            limit: listing::limit(self.limit.as_deref(), default_limit, max_limit)?,
        })
    }
}

/// Whose alerts a caller sees: HQ every inbox, others their own (and what is assigned to them).
pub fn reach(caller: &Caller) -> Reach {
    listing::reach(&caller.scope(), DocKind::Inbox)
}

/// One alert cause as people work with it: the cause, the names of those involved, and what was
/// done about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CauseView {
    /// The cause and its triage columns.
    #[serde(flatten)]
    pub cause: AlertCauseRow,
    /// The usernames of those whose inboxes hold it open.
    pub recipient_names: Vec<String>,
    /// Who owns it now: the assignee when reassigned, else the recipients.
    pub owner_names: Vec<String>,
    /// Whether the current acknowledgement is of this raising of the alert.
    pub acknowledged: bool,
    /// The acknowledger's username.
    pub acknowledged_by_name: Option<String>,
    /// Whether it is snoozed now.
    pub snoozed: bool,
    /// The snoozer's username.
    pub snoozed_by_name: Option<String>,
    /// The assignee's username.
    pub assignee_name: Option<String>,
    /// Everything done about it, oldest first.
    pub history: Vec<ActionView>,
}

/// One recorded action, with usernames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionView {
    /// `acknowledge`, `snooze` or `reassign`.
    pub action: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: i64,
    /// An acknowledgement's note.
    pub note: Option<String>,
    /// A snooze's end.
    pub snoozed_until: Option<i64>,
    /// A reassignment's new owner.
    pub assignee: Option<String>,
}

/// One page of causes, and how many the filter covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CausePage {
    /// The causes, grouped by kind, then store, then product.
    pub rows: Vec<CauseView>,
    /// Where the next page starts.
    pub next: Option<Cursor>,
    /// How many causes the filter covers, on every page.
    pub total: u64,
}

/// One page of the alert causes a request asks for, with names and history.
pub async fn causes(storage: &dyn Storage, tenant_id: i64, request: &CauseRequest) -> Result<CausePage> {
    let (page, total) =
        queries::list_alert_causes_counted(storage, tenant_id, &request.filter, request.after.as_ref(), request.limit)
            .await?;
    let keys: Vec<String> = page.rows.iter().map(|row| row.key.clone()).collect();
    let users = storage.list_users(tenant_id).await?;
    let name = |id: &str| users.iter().find(|u| u.id == id).map_or_else(|| id.to_owned(), |u| u.username.clone());
    let mut recipients: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, owner) in queries::alert_recipients(storage, tenant_id, &keys).await? {
        recipients.entry(key).or_default().push(name(&owner));
    }
    let mut history: BTreeMap<String, Vec<ActionView>> = BTreeMap::new();
    for action in queries::alert_actions(storage, tenant_id, &keys).await? {
        let AlertActionRow { key, action, actor, at, note, snoozed_until, assignee } = action;
        history.entry(key).or_default().push(ActionView {
            action,
            by: name(&actor),
            at,
            note,
            snoozed_until,
            assignee: assignee.as_deref().map(name),
        });
    }
    let now = request.filter.now;
    let rows = page
        .rows
        .into_iter()
        .map(|cause| {
            let recipient_names = recipients.remove(&cause.key).unwrap_or_default();
            let assignee_name = cause.assignee.as_deref().map(name);
            let owner_names = assignee_name.clone().map_or_else(|| recipient_names.clone(), |a| vec![a]);
            CauseView {
                acknowledged: cause.acknowledged_at.is_some_and(|at| at >= cause.raised_at),
                acknowledged_by_name: cause.acknowledged_by.as_deref().map(name),
                snoozed: cause.snoozed_until.is_some_and(|until| until > now),
                snoozed_by_name: cause.snoozed_by.as_deref().map(name),
                history: history.remove(&cause.key).unwrap_or_default(),
                recipient_names,
                owner_names,
                assignee_name,
                cause,
            }
        })
        .collect();
    Ok(CausePage { rows, next: page.next, total })
}

/// The alert `key` as `caller` sees it, open; a key they cannot see is not found, a closed one
/// is a conflict.
async fn open_in_scope(storage: &dyn Storage, caller: &Caller, key: &str, now: i64) -> Result<AlertCauseRow> {
    let key = key.trim();
    if key.is_empty() || key.len() > 400 {
        return Err(Error::invalid("invalid-alert", Message::new("refusal-alert-key").arg("key", format!("{key:?}"))));
    }
    let mut filter = AlertCauseFilter::open(reach(caller), now);
    filter.state = None;
    filter.key = Some(key.to_owned());
    let found = queries::list_alert_causes(storage, caller.tenant_id, &filter, None, 1).await?.rows.into_iter().next();
    let cause = found.ok_or_else(|| Error::not_found(format!("alert {key}")))?;
    if cause.state != "open" {
        return Err(Error::conflict(Message::new("refusal-alert-closed").arg("key", key)));
    }
    Ok(cause)
}

/// Acknowledges the open alert `key` for everyone who sees it, with an optional `note`.
pub async fn acknowledge(storage: &dyn Storage, caller: &Caller, key: &str, note: &str, now: i64) -> Result<()> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        let message = Message::new("refusal-note-too-long").arg("length", note.chars().count());
        return Err(Error::invalid("invalid-note", message.arg("max", MAX_NOTE_CHARS)));
    }
    let cause = open_in_scope(storage, caller, key, now).await?;
    record(storage, caller, cause.key, TriageAction::Acknowledge { note: note.to_owned() }, now).await
}

/// Snoozes the open alert `key` until the start of the local day `until` (`YYYY-MM-DD`, after
/// today and at most [`MAX_SNOOZE_DAYS`] ahead): it leaves the open list until then.
pub async fn snooze(
    storage: &dyn Storage,
    caller: &Caller,
    key: &str,
    until: &str,
    locale: &Locale,
    now: i64,
) -> Result<i64> {
    let day = listing::date("refusal-field-snooze-date", Some(until))?
        .ok_or_else(|| Error::invalid("invalid-snooze", Message::new("refusal-snooze-missing")))?;
    let until_ms = locale.start_of(day);
    let today = locale.day_of(now);
    if day <= today {
        return Err(Error::invalid(
            "invalid-snooze",
            Message::new("refusal-snooze-past").arg("day", day).arg("today", today),
        ));
    }
    if day > Locale::days_before(today, -MAX_SNOOZE_DAYS) {
        let message = Message::new("refusal-snooze-too-far").arg("day", day).arg("max", MAX_SNOOZE_DAYS);
        return Err(Error::invalid("invalid-snooze", message));
    }
    let cause = open_in_scope(storage, caller, key, now).await?;
    record(storage, caller, cause.key, TriageAction::Snooze { until: until_ms }, now).await?;
    Ok(until_ms)
}

/// Hands the open alert `key` to the active user `username`: HQ to anyone, others to a user of
/// their own region or HQ.
pub async fn reassign(storage: &dyn Storage, caller: &Caller, key: &str, username: &str, now: i64) -> Result<User> {
    let username = username.trim();
    let assignee = storage
        .find_user_by_username(caller.tenant_id, username)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or_else(|| {
            Error::invalid(
                "invalid-assignee",
                Message::new("refusal-assignee-unknown").arg("username", format!("{username:?}")),
            )
        })?;
    if !may_assign_to(caller, &assignee) {
        let message = Message::new("refusal-assignee-outside").arg("username", format!("{username:?}"));
        return Err(Error::invalid("invalid-assignee", message));
    }
    let cause = open_in_scope(storage, caller, key, now).await?;
    record(storage, caller, cause.key, TriageAction::Reassign { assignee: assignee.id.clone() }, now).await?;
    Ok(assignee)
}

/// Whether `caller` may hand an alert to `user`.
pub fn may_assign_to(caller: &Caller, user: &User) -> bool {
    caller.role == Role::Hq || user.role == Role::Hq || (user.region.is_some() && user.region == caller.region)
}

/// Stores `action` on the alert `key`; an acknowledgement is an event too
/// ([`crate::events::alert_acknowledged`]), in the same transaction.
async fn record(storage: &dyn Storage, caller: &Caller, key: String, action: TriageAction, now: i64) -> Result<()> {
    let events = match &action {
        TriageAction::Acknowledge { note } => vec![crate::events::alert_acknowledged(&key, &caller.user_id, note, now)],
        TriageAction::Snooze { .. } | TriageAction::Reassign { .. } => Vec::new(),
    };
    let record = TriageRecord { alert_key: key, action, actor: caller.user_id.clone(), at: now };
    storage.record_triage(caller.tenant_id, &record, &events).await
}

/// The alert `key` as `caller` sees it, with names and history, in any state.
pub async fn cause(storage: &dyn Storage, caller: &Caller, key: &str, now: i64) -> Result<CauseView> {
    let mut filter = AlertCauseFilter::open(reach(caller), now);
    filter.state = None;
    filter.key = Some(key.trim().to_owned());
    let request = CauseRequest { filter, after: None, limit: 1 };
    causes(storage, caller.tenant_id, &request)
        .await?
        .rows
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found(format!("alert {}", key.trim())))
}
