//! The filter form parts the list pages share: search, status, store and date range, with the
//! element ids the pages' scripts and tests use.

use fieldsync_core::DocKind;
use maud::{Markup, html};

use super::super::DashError;
use super::super::html::store_text;
use crate::scope::Scope;
use crate::services::listing;
use crate::storage::Storage;
use crate::storage::queries;

/// A store the filter offers.
pub type StoreChoice = queries::StoreName;

/// The stores `scope` may read, by name then code, for the store filter.
pub async fn store_choices(
    storage: &dyn Storage,
    tenant_id: i64,
    scope: &Scope,
) -> Result<Vec<StoreChoice>, DashError> {
    Ok(queries::store_names(storage, tenant_id, &listing::reach(scope, DocKind::Store)).await?)
}

/// Search, status, store and from/to inputs, each showing the query's current value.
pub fn common_filters(query: &CommonQuery<'_>, placeholder: &str, statuses: &[&str], stores: &[StoreChoice]) -> Markup {
    let chosen = |value: Option<&str>, option: &str| value == Some(option);
    html! {
        label { "Search" input type="search" name="q" id="filter-q" value=[query.q] placeholder=(placeholder); }
        label { "Status" select name="status" id="filter-status" {
            option value="" { "any" }
            @for status in statuses { option selected[chosen(query.status, status)] { (status) } }
        } }
        label { "Store" select name="store" id="filter-store" {
            option value="" { "any" }
            @for store in stores {
                option value=(store.id) selected[chosen(query.store, &store.id)] {
                    (store_text(&store.name, &store.code)) " · " (store.region)
                }
            }
        } }
        label { "From" input type="date" name="from" id="filter-from" value=[query.from]; }
        label { "To" input type="date" name="to" id="filter-to" value=[query.to]; }
    }
}

/// The values [`common_filters`] shows.
pub struct CommonQuery<'a> {
    /// Search text.
    pub q: Option<&'a str>,
    /// Status.
    pub status: Option<&'a str>,
    /// Store id.
    pub store: Option<&'a str>,
    /// First day.
    pub from: Option<&'a str>,
    /// Last day.
    pub to: Option<&'a str>,
}
