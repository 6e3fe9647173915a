//! Alerts as lists show them: the overview's open alerts and `GET /v1/alerts`, from the read
//! model in the asker's scope (their own inbox; HQ sees every inbox).

use fieldsync_core::DocKind;
use serde::Deserialize;

use crate::error::Result;
use crate::locale::Locale;
use crate::scope::Scope;
use crate::services::listing;
use crate::storage::Storage;
use crate::storage::queries::{self, AlertFilter, AlertListRow, Cursor, Page};

/// An alerts query as a URL carries it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open` or `closed`.
    pub state: Option<String>,
    /// What raised them: `low-stock`, `promotion-not-started`, `sales-falling`.
    pub kind: Option<String>,
    /// A store id.
    pub store: Option<String>,
    /// First local day raised, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last local day raised (included).
    pub to: Option<String>,
    /// The cursor of the page to show.
    pub after: Option<String>,
    /// Rows per page.
    pub limit: Option<String>,
}

/// A parsed, validated alerts query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRequest {
    /// Which alerts.
    pub filter: AlertFilter,
    /// From where.
    pub after: Option<Cursor>,
    /// How many.
    pub limit: u32,
}

impl AlertQuery {
    /// The query as a request in `scope`, days counted in `locale`.
    pub fn parse(&self, scope: &Scope, locale: &Locale, default_limit: u32, max_limit: u32) -> Result<AlertRequest> {
        let (from, to) = listing::date_range(locale, self.from.as_deref(), self.to.as_deref())?;
        Ok(AlertRequest {
            filter: AlertFilter {
                reach: listing::reach(scope, DocKind::Inbox),
                state: listing::one_of("state", self.state.as_deref(), &["open", "closed"])?,
                kind: listing::id("kind", self.kind.as_deref())?,
                store_id: listing::id("store", self.store.as_deref())?,
                from,
                to,
            },
            after: listing::cursor(self.after.as_deref())?,
            limit: listing::limit(self.limit.as_deref(), default_limit, max_limit)?,
        })
    }
}

/// One page of the alerts a request asks for.
pub async fn page(storage: &dyn Storage, tenant_id: i64, request: &AlertRequest) -> Result<Page<AlertListRow>> {
    queries::list_alerts(storage, tenant_id, &request.filter, request.after.as_ref(), request.limit).await
}
