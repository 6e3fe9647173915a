//! `inbox`: alerts and notifications for one user, written only by the relay.
//!
//! Alerts are a map keyed by the alert's cause, which is also how the relay deduplicates them: one
//! open alert per cause, closed (not deleted) when the cause clears.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};

/// Whether an alert's cause still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hydrate, Reconcile)]
pub enum AlertState {
    /// The cause holds.
    Open,
    /// The cause cleared.
    Closed,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Alert {
    /// `low-stock`, `promotion-not-started`, `sales-falling`.
    pub kind: String,
    /// Short title.
    pub title: String,
    /// What happened, with the figures.
    pub detail: String,
    /// The store concerned, if any.
    pub store_id: Option<String>,
    /// The SKU concerned, if any.
    pub sku: Option<String>,
    /// Open or closed.
    pub state: AlertState,
    /// When raised, ms since the Unix epoch.
    pub raised_at: i64,
    /// When closed, ms since the Unix epoch.
    pub closed_at: Option<i64>,
}

/// One user's inbox.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Inbox {
    /// The user it belongs to.
    pub owner: String,
    /// Alerts by cause key.
    pub alerts: BTreeMap<String, Alert>,
}

impl Inbox {
    /// Alerts still open.
    pub fn open_alerts(&self) -> impl Iterator<Item = (&String, &Alert)> {
        self.alerts.iter().filter(|(_, a)| a.state == AlertState::Open)
    }
}

impl DocumentModel for Inbox {
    const KIND: DocKind = DocKind::Inbox;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            owner: Some(self.owner.clone()),
            item_count: i64::try_from(self.open_alerts().count()).ok(),
            ..IndexFields::default()
        }
    }
}
