//! The filter form parts the list pages share: search, status, store and date range, with the
//! element ids the pages' scripts and tests use.

use fieldsync_core::DocKind;
use maud::{Markup, html};

use fieldsync_core::i18n::Language;

use super::super::DashError;
use super::super::html::store_text;
use super::super::texts::{self, t};
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

/// Search, status, store and from/to inputs, each showing the query's current value, labelled
/// in `lang`; `status_label` names a status in words.
pub fn common_filters(
    query: &CommonQuery<'_>,
    placeholder: &str,
    statuses: &[&str],
    stores: &[StoreChoice],
    lang: Language,
) -> Markup {
    common_filters_with(query, placeholder, statuses, stores, lang, texts::order_status)
}

/// [`common_filters`] with the words of another kind of status.
pub fn common_filters_with(
    query: &CommonQuery<'_>,
    placeholder: &str,
    statuses: &[&str],
    stores: &[StoreChoice],
    lang: Language,
    status_label: fn(Language, &str) -> String,
) -> Markup {
    let chosen = |value: Option<&str>, option: &str| value == Some(option);
    html! {
        label { (t!(lang, "filter-search")) input type="search" name="q" id="filter-q" value=[query.q] placeholder=(placeholder); }
        label { (t!(lang, "filter-status")) select name="status" id="filter-status" {
            option value="" { (t!(lang, "filter-any")) }
            @for status in statuses { option value=(status) selected[chosen(query.status, status)] { (status_label(lang, status)) } }
        } }
        label { (t!(lang, "filter-store")) select name="store" id="filter-store" {
            option value="" { (t!(lang, "filter-any")) }
            @for store in stores {
                option value=(store.id) selected[chosen(query.store, &store.id)] {
                    (store_text(&store.name, &store.code)) " · " (store.region)
                }
            }
        } }
        label { (t!(lang, "filter-from")) input type="date" name="from" id="filter-from" value=[query.from]; }
        label { (t!(lang, "filter-to")) input type="date" name="to" id="filter-to" value=[query.to]; }
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
