//! The stores page (`/dashboard/stores`, also served at `/stores`): per store the last visit, the
//! last score and the visits in a period; coverage per region; and how far a product has rolled
//! out across the stores. Every figure comes from the read model.
//!
//! - Which stores: the active stores the viewer looks after
//!   ([`crate::services::listing::stores_looked_after`]: the stores in scope, and for a
//!   supervisor only those assigned to them).
//! - A visit is an inspection check-in the viewer can see. Coverage is the share of those stores
//!   with at least one visit in the period (7, 30 or 90 days, `?days=`).
//! - Rollout of a product (`?sku=`, by default the product added to the catalog most recently,
//!   see [`products_newest_first`]): per store the first order with that SKU and the units
//!   ordered, counting submitted orders that were not rejected. Rollout reads orders, so it is
//!   shown to the roles that see orders (HQ and managers).
//! - The store table can be searched (`?q=`: name, code, address, rep or supervisor) and comes in
//!   keyset pages of [`STORE_PAGE_ROWS`]; the figures above it cover every store.
//! - No coordinates are shown here, so no GPS rule applies.

use std::collections::HashMap;

use automerge::{Automerge, ObjType, ROOT, ReadDoc, Value};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use fieldsync_core::DocKind;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{self, Catalog};
use maud::html;
use serde::Deserialize;

use super::html::url_param;
use super::pages::frame;
use super::session::Viewer;
use super::texts::t;
use super::{DashError, Section};
use crate::error::{Error, Result};
use crate::services::accounts::Caller;
use crate::services::inspections::coverage;
use crate::services::listing;
use crate::state::AppState;
use crate::storage::queries::{self, OrderFilter};

/// The periods the page offers, in days; the first is the default.
pub const PERIODS: [i64; 3] = [7, 30, 90];

/// The page's query.
#[derive(Debug, Default, Deserialize)]
pub struct StoresQuery {
    /// The period in days, one of [`PERIODS`].
    pub days: Option<String>,
    /// The product whose rollout to show.
    pub sku: Option<String>,
    /// Part of a store's name, code, address, rep or supervisor: narrows the store table (the
    /// figures above it cover every store).
    pub q: Option<String>,
    /// Where the store table's page starts.
    pub after: Option<String>,
}

/// Stores per page of the store table.
pub const STORE_PAGE_ROWS: usize = 100;

/// The products of a catalog document, the most recently added first. A product's map object is
/// created once, when the product is added (later edits change its fields, not the object), and
/// automerge numbers every operation with a Lamport counter, so the counter of the operation
/// that created the object orders the products by when they were added, across every device and
/// import that wrote the catalog. Ties (one change adding several) fall back to the SKU.
pub fn products_newest_first(am: &Automerge) -> Vec<String> {
    let Ok(Some((Value::Object(ObjType::Map), products))) = am.get(ROOT, "products") else { return Vec::new() };
    let mut skus: Vec<(u64, String)> = am
        .keys(&products)
        .filter_map(|sku| {
            let (_, id) = am.get(&products, sku.as_str()).ok()??;
            let counter = match id {
                automerge::ObjId::Id(counter, _, _) => counter,
                automerge::ObjId::Root => 0,
            };
            Some((counter, sku))
        })
        .collect();
    skus.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    skus.into_iter().map(|(_, sku)| sku).collect()
}

/// The tenant's catalog as the caller reads it (the one with the smallest id, as the review
/// picks) and its SKUs, newest first.
pub async fn catalog_with_order(state: &AppState, caller: &Caller) -> Result<Option<(Catalog, Vec<String>)>> {
    let mut catalogs = state.storage.list_docs(caller.tenant_id, &caller.scope(), DocKind::Catalog, 16).await?;
    catalogs.retain(|c| caller.scope().contains(&c.meta));
    catalogs.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let Some(stored) = catalogs.into_iter().next() else { return Ok(None) };
    let am = crate::documents::load(&stored)?;
    let catalog: Catalog = doc::read(&stored.id, &am)?;
    Ok(Some((catalog, products_newest_first(&am))))
}

fn bad(reason: String) -> DashError {
    DashError::Relay(Error::bad_request("invalid-input", reason))
}

/// `GET /dashboard/stores?days=&sku=`.
pub async fn stores(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<StoresQuery>, QueryRejection>,
) -> std::result::Result<Response, DashError> {
    Section::Stores.check(&viewer.caller)?;
    let Query(query) = query.map_err(|e| bad(format!("invalid query: {}", e.body_text())))?;
    let days = match query.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => PERIODS[0],
        Some(text) => text.parse().ok().filter(|d| PERIODS.contains(d)).ok_or_else(|| {
            bad(format!("invalid period {text:?}: choose {} days", PERIODS.map(|p| p.to_string()).join(", ")))
        })?,
    };
    let caller = &viewer.caller;
    let storage = state.storage.as_ref();
    let scope = caller.scope();
    let locale =
        crate::services::accounts::tenant_locale(storage, caller.tenant_id).await?.with_language(viewer.language);
    let since = locale.start_of_days_back(now_ms(), days - 1);
    let covered = coverage::since(storage, caller.tenant_id, &scope, since).await?;

    let sees_orders = Section::Orders.allows(caller.role);
    let catalog = if sees_orders { catalog_with_order(&state, caller).await? } else { None };
    let chosen = match (&catalog, query.sku.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
        (None, _) => None,
        (Some((catalog, _)), Some(sku)) => {
            if !catalog.products.contains_key(sku) {
                return Err(bad(format!("unknown product {sku:?}: choose a SKU of the catalog")));
            }
            Some(sku.to_owned())
        }
        (Some((catalog, newest)), None) => {
            newest.iter().find(|sku| catalog.products.get(*sku).is_some_and(|p| p.active)).cloned()
        }
    };
    let reach: HashMap<String, queries::Rollout> = match &chosen {
        Some(sku) => {
            let filter = OrderFilter::all(listing::reach(&scope, DocKind::Order));
            queries::rollout(storage, caller.tenant_id, &filter, sku)
                .await?
                .into_iter()
                .map(|r| (r.store_id.clone(), r))
                .collect()
        }
        None => HashMap::new(),
    };
    let stores = &covered.stores;
    let reached = stores.iter().filter(|s| reach.contains_key(&s.store_id)).count();
    let share = (reached * 100).checked_div(stores.len()).unwrap_or(0);
    // The table: the stores the search finds, a keyset page of them in the list's order
    // (region, name, id).
    let needle = listing::search_text(query.q.as_deref())?.map(|q| q.to_lowercase());
    let after = listing::cursor(query.after.as_deref())?;
    let found: Vec<&queries::StoreVisitRow> = stores
        .iter()
        .filter(|s| {
            needle.as_ref().is_none_or(|needle| {
                [Some(&s.name), Some(&s.code), Some(&s.address), s.rep_name.as_ref(), s.supervisor_name.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|text| text.to_lowercase().contains(needle))
            })
        })
        .collect();
    let key = |s: &queries::StoreVisitRow| [s.region.clone(), s.name.clone(), s.store_id.clone()];
    let start =
        after.as_ref().map_or(0, |cursor| found.partition_point(|s| key(s).as_slice() <= cursor.ids.as_slice()));
    let page: Vec<&queries::StoreVisitRow> = found.iter().skip(start).take(STORE_PAGE_ROWS).copied().collect();
    let next_cursor = (start + page.len() < found.len())
        .then(|| page.last().map(|s| queries::Cursor { key: 0, ids: key(s).to_vec() }))
        .flatten();
    let mut filters: Vec<(&'static str, String)> = vec![("days", days.to_string())];
    for (name, value) in [("sku", &query.sku), ("q", &query.q)] {
        if let Some(value) = value.as_ref().filter(|v| !v.trim().is_empty()) {
            filters.push((name, value.clone()));
        }
    }
    let next = super::pages::next_link("/dashboard/stores", &filters, next_cursor.as_ref());
    let product_name =
        |sku: &str| catalog.as_ref().and_then(|(c, _)| c.products.get(sku)).map_or("", |p| p.name.as_str());

    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "stores-title")) }
        form.filters method="get" id="stores-filters" {
            label { (t!(lang, "stores-period")) select name="days" id="filter-days" {
                @for p in PERIODS { option value=(p) selected[p == days] { (t!(lang, "report-days", days = p)) } }
            } }
            @if let (Some((catalog, newest)), Some(sku)) = (&catalog, &chosen) {
                label { (t!(lang, "stores-rollout")) select name="sku" id="filter-sku" {
                    @for (n, candidate) in newest.iter().enumerate() {
                        @if let Some(product) = catalog.products.get(candidate) {
                            @if product.active || candidate == sku {
                                option value=(candidate) selected[candidate == sku] {
                                    (candidate) " · " (product.name) @if n == 0 { " — " (t!(lang, "stores-newest")) }
                                }
                            }
                        }
                    }
                } }
            }
            label { (t!(lang, "filter-search")) input type="search" name="q" id="filter-q" value=[query.q.as_deref()] placeholder=(t!(lang, "stores-search-placeholder")); }
            button.primary type="submit" { (t!(lang, "alerts-show")) }
        }
        h2 { (t!(lang, "stores-coverage", days = days)) }
        p.note { (t!(lang, "stores-coverage-note", since = locale.day_label(since))) }
        table id="coverage" {
            thead { tr {
                th { (t!(lang, "stores-col-region")) } th.n { (t!(lang, "stores-col-stores")) }
                th.n { (t!(lang, "stores-col-visited")) } th.n { (t!(lang, "stores-col-coverage")) }
            } }
            tbody {
                @for (region, c) in &covered.regions {
                    tr data-region=(region) { td { (region) } td.n { (c.stores) } td.n { (c.visited) } td.n { (c.percent()) "%" } }
                }
                tr id="coverage-total" {
                    th { (t!(lang, "stores-all")) } th.n { (covered.total.stores) } th.n { (covered.total.visited) } th.n { (covered.total.percent()) "%" }
                }
            }
        }
        @if let Some(sku) = &chosen {
            h2 { (t!(lang, "stores-rollout-of", sku = sku.as_str(), name = product_name(sku))) }
            p id="rollout-share" {
                b { (t!(lang, "stores-rollout-share", reached = reached, stores = stores.len(), share = share)) } " " (t!(lang, "stores-ordered-it")) " "
                span.note { (t!(lang, "stores-rollout-which")) }
            }
        } @else if !sees_orders {
            p.note id="rollout-note" { (t!(lang, "stores-rollout-note")) }
        }
        h2 #store-count {
            @if needle.is_some() { (t!(lang, "stores-count-found", found = found.len(), count = stores.len())) }
            @else { (t!(lang, "stores-count", count = stores.len())) }
        }
        table id="stores" data-live-region {
            thead { tr {
                th { (t!(lang, "stores-col-store")) } th { (t!(lang, "stores-col-region")) } th { (t!(lang, "stores-col-tier")) }
                th { (t!(lang, "orders-col-rep")) } th { (t!(lang, "inspections-col-supervisor")) } th { (t!(lang, "stores-col-last-visit")) }
                th.n { (t!(lang, "stores-col-last-score")) } th.n { (t!(lang, "stores-col-visits", days = days)) }
                @if let Some(sku) = &chosen { th { (t!(lang, "stores-col-first-ordered", sku = sku.as_str())) } th.n { (t!(lang, "stores-col-units")) } }
            } }
            tbody {
                @if stores.is_empty() { tr { td colspan="10" .muted { (t!(lang, "stores-empty")) } } }
                @else if found.is_empty() { tr { td colspan="10" .muted { (t!(lang, "stores-none-match")) } } }
                @for store in &page {
                    tr data-store=(store.store_id) {
                        td {
                            @if sees_orders { a href={ "/dashboard/orders?store=" (url_param(&store.store_id)) } { (store.name) } }
                            @else { (store.name) }
                            @if !store.code.is_empty() { " " span.code { (store.code) } }
                            br; span.muted { (store.address) }
                        }
                        td { (store.region) }
                        td { (store.tier) }
                        td { (store.rep_name.as_deref().unwrap_or("—")) }
                        td { (store.supervisor_name.as_deref().unwrap_or("—")) }
                        td { (store.last_visit_at.map_or_else(|| t!(lang, "devices-never"), |t| locale.datetime(t))) }
                        td.n { (store.last_score.map_or_else(|| "—".to_owned(), |x| format!("{x:.1}"))) }
                        td.n { (store.visits_in_period) }
                        @if chosen.is_some() {
                            @match reach.get(&store.store_id) {
                                Some(r) => { td.reached { span."tag ok" { (locale.day_label(r.first_at)) } } td.n { (crate::format::count(r.units)) } }
                                None => { td { span.tag { (t!(lang, "stores-not-yet")) } } td.n { "0" } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &next {
            p { a href=(next) id="stores-next" rel="next" { (t!(lang, "stores-next", rows = STORE_PAGE_ROWS)) } }
        }
    };
    Ok(frame(&viewer, &t!(lang, "stores-title"), "/dashboard/stores", body))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use automerge::ActorId;
    use fieldsync_core::DocumentId;
    use fieldsync_core::doc::Product;

    use super::*;

    #[test]
    fn the_newest_product_is_the_one_added_last_even_when_its_sku_sorts_first() {
        let product = |name: &str| Product {
            name: name.into(),
            category: "c".into(),
            unit: "u".into(),
            base_price_cents: 100,
            active: true,
        };
        let id = DocumentId::random();
        let mut catalog = Catalog::with_products(
            BTreeMap::from([("ZZZ-1".to_owned(), product("old")), ("MMM-1".to_owned(), product("older"))]),
            1,
        );
        let mut am = doc::create(&id, ActorId::random(), &catalog).unwrap();
        catalog.products.insert("AAA-9".to_owned(), product("new"));
        // Editing an old product later does not make it new.
        catalog.products.get_mut("ZZZ-1").unwrap().name = "renamed".into();
        doc::update(&id, &mut am, &catalog).unwrap();
        assert_eq!(products_newest_first(&am).first().map(String::as_str), Some("AAA-9"));
        assert_eq!(products_newest_first(&am).len(), 3);
    }
}
