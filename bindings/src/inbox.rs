//! The user's inbox: alerts the relay raises (low stock, promotions, falling sales).

use fieldsync_core::doc::{Alert as CoreAlert, AlertState as CoreAlertState};
use fieldsync_core::i18n::Language;

use crate::error::FieldSyncError;
use crate::phone::FieldSyncPhone;

/// Whether an alert's cause still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AlertState {
    /// The cause holds.
    Open,
    /// The cause cleared.
    Closed,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Alert {
    /// The alert's key (one alert per cause).
    pub key: String,
    /// `low-stock`, `promotion-not-started`, `sales-falling`, …
    pub kind: String,
    /// Short title, in the phone's language (`set_language`).
    pub title: String,
    /// What happened, with the figures, in the phone's language.
    pub detail: String,
    /// The store concerned, if any.
    pub store_id: Option<String>,
    /// The product concerned, if any.
    pub sku: Option<String>,
    /// Open or closed.
    pub state: AlertState,
    /// When raised, ms since the Unix epoch.
    pub raised_at: i64,
    /// When closed, ms since the Unix epoch.
    pub closed_at: Option<i64>,
}

#[uniffi::export]
impl FieldSyncPhone {
    /// The signed-in user's alerts, newest first (empty until the relay has sent an inbox).
    pub fn inbox(&self) -> Result<Vec<Alert>, FieldSyncError> {
        let Some(inbox) = self.store.inbox()? else { return Ok(Vec::new()) };
        let language = self.current_language();
        let mut alerts: Vec<Alert> =
            inbox.alerts.into_iter().map(|(key, alert)| Alert::new(key, alert, language)).collect();
        alerts.sort_by_key(|a| std::cmp::Reverse(a.raised_at));
        Ok(alerts)
    }
}

impl Alert {
    fn new(key: String, a: CoreAlert, language: Language) -> Self {
        let (title, detail) = a.text_in(language);
        Alert {
            key,
            kind: a.kind,
            title,
            detail,
            store_id: a.store_id,
            sku: a.sku,
            state: match a.state {
                CoreAlertState::Open => AlertState::Open,
                CoreAlertState::Closed => AlertState::Closed,
            },
            raised_at: a.raised_at,
            closed_at: a.closed_at,
        }
    }
}
