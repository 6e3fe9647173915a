//! `inbox`: alerts and notifications for one user, written only by the relay.
//!
//! Alerts are a map keyed by the alert's cause, which is also how the relay deduplicates them: one
//! open alert per cause, closed (not deleted) when the cause clears.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::{DocKind, DocumentModel, IndexFields};
use crate::i18n::{Language, Message, core_catalog};

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
    /// Short title, in English (what readers that predate codes show).
    pub title: String,
    /// What happened, with the figures, in English.
    pub detail: String,
    /// The title and detail as codes with arguments, for the reader's language; `None` in alerts
    /// raised before alerts had codes, which read as [`Self::title`] and [`Self::detail`].
    #[autosurgeon(missing = "Default::default")]
    pub texts: Option<AlertTexts>,
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

/// An alert's title and detail as messages (`alert-…-title`, `alert-…-detail`).
#[derive(Debug, Clone, PartialEq, Eq, Hydrate, Reconcile, Serialize, Deserialize)]
pub struct AlertTexts {
    /// The title.
    pub title: Message,
    /// The detail, with the figures.
    pub detail: Message,
}

impl Alert {
    /// Its title and detail in `language`: from the codes, or the English texts of an alert
    /// raised before alerts had codes.
    pub fn text_in(&self, language: Language) -> (String, String) {
        alert_text_in(&self.title, &self.detail, self.texts.as_ref(), language)
    }
}

/// An alert's title and detail in `language` from its stored texts: the messages when there are
/// some, else the English `title` and `detail`.
pub fn alert_text_in(title: &str, detail: &str, texts: Option<&AlertTexts>, language: Language) -> (String, String) {
    match texts {
        Some(texts) => (core_catalog().text(language, &texts.title), core_catalog().text(language, &texts.detail)),
        None => (title.to_owned(), detail.to_owned()),
    }
}

/// The messages of alerts and the arguments the relay gives each: checked against core's
/// catalogs (the phone renders them) by the tests of [`crate::i18n`].
pub const ALERT_MESSAGES: [(&str, &[&str]); 12] = [
    ("alert-approval-reminder-title", &["order"]),
    ("alert-approval-reminder-detail", &["step", "due", "left"]),
    ("alert-approval-escalated-title", &["order"]),
    ("alert-approval-escalated-detail", &["reason"]),
    ("alert-low-stock-title", &["product", "warehouse"]),
    ("alert-low-stock-detail", &["product", "warehouse", "region", "available", "on-hand", "reserved", "safety"]),
    ("alert-promotion-not-started-title", &["promotion", "store"]),
    ("alert-promotion-not-started-detail", &["promotion", "promotion-id", "started", "store"]),
    ("alert-sales-falling-title", &["store"]),
    ("alert-sales-falling-detail", &["store", "days", "figures"]),
    ("alert-product-sales-falling-title", &["product", "store"]),
    ("alert-product-sales-falling-detail", &["product", "store", "days", "figures"]),
];

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
