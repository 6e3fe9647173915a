//! Inspections as lists show them: the dashboard's inspections page, its CSV export and
//! `GET /v1/inspections`, from the read model in the asker's scope.

use fieldsync_core::DocKind;
use serde::Deserialize;

use crate::error::Result;
use crate::locale::Locale;
use crate::scope::Scope;
use crate::services::listing;
use crate::storage::Storage;
use crate::storage::queries::{self, Cursor, InspectionFigures, InspectionFilter, InspectionListRow, Page};

/// Every status an inspection can have.
pub const STATUSES: [&str; 2] = ["open", "checked-out"];

/// An inspections query as a URL carries it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InspectionQuery {
    /// `open` or `checked-out`.
    pub status: Option<String>,
    /// A store id.
    pub store: Option<String>,
    /// A supervisor's user id.
    pub supervisor: Option<String>,
    /// A region.
    pub region: Option<String>,
    /// First local day of check-in, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last local day of check-in (included).
    pub to: Option<String>,
    /// Text to find in the store's name or the supervisor's username.
    pub q: Option<String>,
    /// Lowest score, whole points 0–100.
    pub score_min: Option<String>,
    /// Highest score, whole points 0–100 (79 takes 79.9).
    pub score_max: Option<String>,
    /// The cursor of the page to show.
    pub after: Option<String>,
    /// Rows per page.
    pub limit: Option<String>,
}

/// A parsed, validated inspections query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionRequest {
    /// Which inspections.
    pub filter: InspectionFilter,
    /// From where.
    pub after: Option<Cursor>,
    /// How many.
    pub limit: u32,
}

impl InspectionQuery {
    /// The query as a request in `scope`, days counted in `locale`.
    pub fn parse(
        &self,
        scope: &Scope,
        locale: &Locale,
        default_limit: u32,
        max_limit: u32,
    ) -> Result<InspectionRequest> {
        let (from, to) = listing::date_range(locale, self.from.as_deref(), self.to.as_deref())?;
        Ok(InspectionRequest {
            filter: InspectionFilter {
                reach: listing::reach(scope, DocKind::Inspection),
                status: listing::one_of("status", self.status.as_deref(), &STATUSES)?,
                store_id: listing::id("store", self.store.as_deref())?,
                supervisor: listing::id("supervisor", self.supervisor.as_deref())?,
                region: listing::id("region", self.region.as_deref())?,
                from,
                to,
                text: listing::search_text(self.q.as_deref())?,
                score_min: score("lowest score", self.score_min.as_deref())?,
                score_max: score("highest score", self.score_max.as_deref())?,
            },
            after: listing::cursor(self.after.as_deref())?,
            limit: listing::limit(self.limit.as_deref(), default_limit, max_limit)?,
        })
    }

    /// The query's filters as URL parameters (no cursor, no limit).
    pub fn filter_params(&self) -> Vec<(&'static str, String)> {
        [
            ("status", &self.status),
            ("store", &self.store),
            ("supervisor", &self.supervisor),
            ("region", &self.region),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("score_min", &self.score_min),
            ("score_max", &self.score_max),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| (name, v.to_owned()))
        })
        .collect()
    }
}

/// A score bound: whole points from 0 to 100.
fn score(what: &str, value: Option<&str>) -> Result<Option<i64>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text.parse::<i64>().ok().filter(|n| (0..=100).contains(n)).map(Some).ok_or_else(|| {
            crate::error::Error::bad_request(
                "invalid-input",
                format!("invalid {what} {text:?}: expected whole points from 0 to 100"),
            )
        }),
    }
}

/// One page of the inspections a request asks for.
pub async fn page(
    storage: &dyn Storage,
    tenant_id: i64,
    request: &InspectionRequest,
) -> Result<Page<InspectionListRow>> {
    queries::list_inspections(storage, tenant_id, &request.filter, request.after.as_ref(), request.limit).await
}

/// Counts and scores of every inspection a request's filter covers.
pub async fn figures(storage: &dyn Storage, tenant_id: i64, request: &InspectionRequest) -> Result<InspectionFigures> {
    queries::inspection_figures(storage, tenant_id, &request.filter).await
}
