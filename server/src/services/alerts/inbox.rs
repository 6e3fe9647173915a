//! Reconciling one user's inbox document with the causes that hold for them now.
//!
//! - a cause without an alert opens one (`raised_at` = now);
//! - a cause whose alert is closed reopens it (new `raised_at`, no `closed_at`);
//! - a cause whose alert is open keeps it, with its title and detail refreshed to today's figures;
//! - an open alert whose cause no longer holds is closed (`closed_at` = now) and kept.
//!
//! Only alerts of the kinds that were evaluated are closed, so an evaluation that could not look
//! at some data never closes that data's alerts by mistake. Reconciling twice with the same causes
//! changes nothing the second time, which is why an evaluation over unchanged data writes nothing.

use std::collections::BTreeMap;

use fieldsync_core::DocumentId;
use fieldsync_core::doc::DocKind;
use fieldsync_core::doc::{Alert, AlertState, Inbox};

use super::{AlertKind, Cause};

/// What happened to one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Raised, or raised again after it had closed.
    Opened,
    /// Its cause cleared.
    Closed,
    /// Still open, with new figures.
    Refreshed,
}

/// One alert that changed, as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The cause key.
    pub key: String,
    /// What happened.
    pub change: Change,
    /// The alert after the change.
    pub alert: Alert,
}

/// The id of a user's inbox, derived from the user's id so every relay node writes the same one,
/// and reserved for inboxes ([`DocumentId::derived`]). An inbox stored before derived ids were
/// bound to their kind keeps its old id: the alerts find inboxes by their owner.
pub fn inbox_id(user_id: &str) -> DocumentId {
    DocumentId::derived(DocKind::Inbox, &[user_id.as_bytes()])
}

/// Brings `inbox` in line with `causes` (the causes that hold for its owner, by key) at `now`,
/// closing only alerts of the `evaluated` kinds; returns what changed.
pub fn reconcile(
    inbox: &mut Inbox,
    causes: &BTreeMap<String, Cause>,
    evaluated: &[AlertKind],
    now: i64,
) -> Vec<Transition> {
    let mut changes = Vec::new();
    for (key, cause) in causes {
        let change = match inbox.alerts.get_mut(key) {
            None => {
                inbox.alerts.insert(key.clone(), opened(cause, now));
                Some(Change::Opened)
            }
            Some(alert) if alert.state == AlertState::Closed => {
                *alert = opened(cause, now);
                Some(Change::Opened)
            }
            Some(alert) => {
                let fresh = Alert { raised_at: alert.raised_at, ..opened(cause, now) };
                (*alert != fresh).then(|| {
                    *alert = fresh;
                    Change::Refreshed
                })
            }
        };
        if let (Some(change), Some(alert)) = (change, inbox.alerts.get(key)) {
            changes.push(Transition { key: key.clone(), change, alert: alert.clone() });
        }
    }
    for (key, alert) in inbox.alerts.iter_mut() {
        let evaluated_kind = evaluated.iter().any(|kind| kind.as_str() == alert.kind);
        if alert.state == AlertState::Open && evaluated_kind && !causes.contains_key(key) {
            alert.state = AlertState::Closed;
            alert.closed_at = Some(now);
            changes.push(Transition { key: key.clone(), change: Change::Closed, alert: alert.clone() });
        }
    }
    changes
}

fn opened(cause: &Cause, now: i64) -> Alert {
    Alert {
        kind: cause.kind.as_str().to_owned(),
        title: cause.title.clone(),
        detail: cause.detail.clone(),
        texts: Some(cause.texts.clone()),
        store_id: cause.store_id.clone(),
        sku: cause.sku.clone(),
        state: AlertState::Open,
        raised_at: now,
        closed_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldsync_core::i18n::Message;

    /// (step, causes now, time, expected changes, expected state, raised_at, closed_at)
    type Step = (&'static str, Vec<Cause>, i64, Vec<Change>, AlertState, i64, Option<i64>);

    const ALL: &[AlertKind] = &[AlertKind::LowStock, AlertKind::PromotionNotStarted, AlertKind::SalesFalling];

    fn cause(key: &str, kind: AlertKind, detail: &str) -> Cause {
        let title = Message::new("alert-sales-falling-title").arg("store", key);
        let detail = Message::new("alert-sales-falling-detail").arg("store", key).arg("days", 3).arg("figures", detail);
        Cause { sku: Some("SKU-1".into()), ..Cause::new(key.into(), kind, title, detail) }
    }

    fn causes(list: &[Cause]) -> BTreeMap<String, Cause> {
        list.iter().map(|c| (c.key.clone(), c.clone())).collect()
    }

    fn empty() -> Inbox {
        Inbox { owner: "u1".into(), alerts: BTreeMap::new() }
    }

    #[test]
    fn alerts_open_stay_single_close_and_reopen_with_their_cause() {
        let low = cause("low-stock:W/n:SKU-1", AlertKind::LowStock, "3 available");
        let mut inbox = empty();
        // (step, causes now, time, expected changes, expected state and raised_at/closed_at)
        let steps: Vec<Step> = vec![
            ("raised", vec![low.clone()], 10, vec![Change::Opened], AlertState::Open, 10, None),
            ("same cause again", vec![low.clone()], 20, vec![], AlertState::Open, 10, None),
            (
                "new figures",
                vec![cause("low-stock:W/n:SKU-1", AlertKind::LowStock, "1 available")],
                30,
                vec![Change::Refreshed],
                AlertState::Open,
                10,
                None,
            ),
            ("cleared", vec![], 40, vec![Change::Closed], AlertState::Closed, 10, Some(40)),
            ("still clear", vec![], 50, vec![], AlertState::Closed, 10, Some(40)),
            ("back", vec![low.clone()], 60, vec![Change::Opened], AlertState::Open, 60, None),
        ];
        for (step, now_causes, now, expected, state, raised_at, closed_at) in steps {
            let changes = reconcile(&mut inbox, &causes(&now_causes), ALL, now);
            assert_eq!(changes.iter().map(|c| c.change).collect::<Vec<_>>(), expected, "{step}");
            let alert = &inbox.alerts["low-stock:W/n:SKU-1"];
            assert_eq!((alert.state, alert.raised_at, alert.closed_at), (state, raised_at, closed_at), "{step}");
            assert_eq!(inbox.alerts.len(), 1, "{step}: one alert per cause");
        }
    }

    #[test]
    fn only_alerts_of_evaluated_kinds_are_closed() {
        let mut inbox = empty();
        let both = [
            cause("low-stock:W/n:SKU-1", AlertKind::LowStock, "x"),
            cause("sales-falling:s1", AlertKind::SalesFalling, "y"),
        ];
        reconcile(&mut inbox, &causes(&both), ALL, 1);
        let changes = reconcile(&mut inbox, &BTreeMap::new(), &[AlertKind::LowStock], 2);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].key, "low-stock:W/n:SKU-1");
        assert_eq!(inbox.alerts["sales-falling:s1"].state, AlertState::Open);
    }

    #[test]
    fn inbox_ids_are_stable_per_user_and_distinct_between_users() {
        assert_eq!(inbox_id("u1"), inbox_id("u1"));
        assert_ne!(inbox_id("u1"), inbox_id("u2"));
    }
}
