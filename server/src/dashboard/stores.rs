//! The stores page (`/dashboard/stores`, also served at `/stores`): per store the last visit, the
//! last score and the visits in a period; coverage per region; and how far a product has rolled
//! out across the stores.
//!
//! - Which stores: the stores in the viewer's scope ([`load_kind`], i.e. the scope's SQL filter
//!   and [`Scope::contains`](crate::scope::Scope::contains)); a supervisor's are narrowed further
//!   to the stores assigned to them, because those are the visits they make and the only
//!   inspections their scope holds. Narrowing never widens what the scope gives.
//! - A visit is an inspection check-in. Coverage is the share of active stores with at least one
//!   visit in the period (7, 30 or 90 days, `?days=`).
//! - Rollout of a product (`?sku=`, by default the product added to the catalog most recently,
//!   see [`products_newest_first`]): per store the first order with that SKU and the units
//!   ordered, counting submitted orders that were not rejected. Rollout reads orders, so it is
//!   shown to the roles that see orders (HQ and managers).
//! - No coordinates are shown here, so no GPS rule applies.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use automerge::{Automerge, ObjType, ROOT, ReadDoc, Value};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{self, Catalog, Inspection, InspectionScore, RetailStore};
use fieldsync_core::{DocKind, Role};
use serde::Deserialize;

use super::html::{esc, url_param};
use super::pages::{OrderRow, frame, order_rows};
use super::records::{self, Names, Record, by_subject, load_kind};
use super::session::Viewer;
use super::{DashError, Section};
use crate::error::{Error, Result};
use crate::services::accounts;
use crate::services::accounts::Caller;
use crate::state::AppState;

/// The periods the page offers, in days; the first is the default.
pub const PERIODS: [i64; 3] = [7, 30, 90];

/// The page's query.
#[derive(Debug, Default, Deserialize)]
pub struct StoresQuery {
    /// The period in days, one of [`PERIODS`].
    pub days: Option<String>,
    /// The product whose rollout to show.
    pub sku: Option<String>,
}

/// The active stores the viewer looks after, by region then name: the stores in scope, and for a
/// supervisor only those assigned to them.
pub async fn stores_in_view(state: &AppState, caller: &Caller) -> Result<Vec<Record<RetailStore>>> {
    let mut stores: Vec<Record<RetailStore>> = load_kind::<RetailStore>(state, caller)
        .await?
        .into_iter()
        .filter(|s| s.value.active)
        .filter(|s| caller.role != Role::Supervisor || s.value.supervisor == caller.user_id)
        .collect();
    stores.sort_by(|a, b| (&a.value.region, &a.value.name).cmp(&(&b.value.region, &b.value.name)));
    Ok(stores)
}

/// What the relay knows of the visits to one store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreVisits {
    /// The latest check-in.
    pub last_at: Option<i64>,
    /// The score of the latest scored visit.
    pub last_score: Option<f64>,
    /// Check-ins at or after the period's start.
    pub in_period: u32,
}

/// Visits per store id, from inspections and their scores (by inspection id).
pub fn visits_by_store(
    inspections: &[Record<Inspection>],
    scores: &HashMap<String, Record<InspectionScore>>,
    since: i64,
) -> HashMap<String, StoreVisits> {
    let mut sorted: Vec<&Record<Inspection>> = inspections.iter().collect();
    sorted.sort_by_key(|i| std::cmp::Reverse(i.value.check_in.at));
    let mut visits: HashMap<String, StoreVisits> = HashMap::new();
    for inspection in sorted {
        let at = inspection.value.check_in.at;
        let entry = visits.entry(inspection.value.store_id.clone()).or_default();
        entry.last_at = Some(entry.last_at.map_or(at, |t| t.max(at)));
        if entry.last_score.is_none() {
            entry.last_score = scores.get(inspection.id.as_str()).map(|s| s.value.score);
        }
        if at >= since {
            entry.in_period += 1;
        }
    }
    visits
}

/// Stores and visited stores of one region (or of all, in the total).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Stores.
    pub stores: usize,
    /// Stores with a visit in the period.
    pub visited: usize,
}

impl Coverage {
    /// Visited stores as a whole percentage (0 without stores).
    pub fn percent(&self) -> usize {
        (self.visited * 100).checked_div(self.stores).unwrap_or(0)
    }
}

/// Coverage per region and in total.
pub fn coverage(
    stores: &[Record<RetailStore>],
    visits: &HashMap<String, StoreVisits>,
) -> (BTreeMap<String, Coverage>, Coverage) {
    let mut regions: BTreeMap<String, Coverage> = BTreeMap::new();
    let mut total = Coverage::default();
    for store in stores {
        let visited = visits.get(store.id.as_str()).is_some_and(|v| v.in_period > 0);
        for c in [regions.entry(store.value.region.clone()).or_default(), &mut total] {
            c.stores += 1;
            c.visited += usize::from(visited);
        }
    }
    (regions, total)
}

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

/// How far one SKU reached one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// The first submission that ordered it.
    pub first_at: i64,
    /// Units ordered, over all counted orders.
    pub units: i64,
    /// Orders that ordered it.
    pub orders: u32,
}

/// Per store id, the orders of `sku`: submitted, and not rejected by the review.
pub fn rollout(rows: &[OrderRow], sku: &str) -> HashMap<String, Reach> {
    let mut reach: HashMap<String, Reach> = HashMap::new();
    for row in rows.iter().filter(|r| matches!(r.status(), "submitted" | "needs-approval" | "approved")) {
        let units: i64 = row
            .order
            .value
            .lines
            .values()
            .filter(|l| l.sku == sku && l.qty > 0)
            .map(|l| l.qty)
            .fold(0, i64::saturating_add);
        if units == 0 {
            continue;
        }
        let at = row.at();
        reach
            .entry(row.order.value.store_id.clone())
            .and_modify(|r| {
                r.first_at = r.first_at.min(at);
                r.units = r.units.saturating_add(units);
                r.orders += 1;
            })
            .or_insert(Reach { first_at: at, units, orders: 1 });
    }
    reach
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
    let locale = accounts::tenant_locale(state.storage.as_ref(), caller.tenant_id).await?;
    // The period is `days` local days of the tenant, today included.
    let since = locale.start_of_days_back(now_ms(), days - 1);
    let stores = stores_in_view(&state, caller).await?;
    let names = Names {
        users: state
            .storage
            .list_users(caller.tenant_id)
            .await?
            .into_iter()
            .map(|u| (u.id, (u.username, u.role, u.region)))
            .collect(),
        stores: stores.iter().map(|s| (s.id.to_string(), s.value.name.clone())).collect(),
    };
    let inspections = load_kind::<Inspection>(&state, caller).await?;
    let scores = by_subject(load_kind::<InspectionScore>(&state, caller).await?);
    let visits = visits_by_store(&inspections, &scores, since);
    let (regions, total) = coverage(&stores, &visits);

    // Rollout: only for roles that see orders.
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
    let reach = match &chosen {
        Some(sku) => rollout(&order_rows(&state, &viewer).await?, sku),
        None => HashMap::new(),
    };

    let mut body = String::from("<h1>Stores</h1><form class=\"filters\" method=\"get\" id=\"stores-filters\">");
    let mut period_options = String::new();
    for p in PERIODS {
        let selected = if p == days { " selected" } else { "" };
        let _ = write!(period_options, "<option value=\"{p}\"{selected}>{p} days</option>");
    }
    let _ = write!(body, "<label>Period<select name=\"days\" id=\"filter-days\">{period_options}</select></label>");
    if let (Some((catalog, newest)), Some(sku)) = (&catalog, &chosen) {
        let mut options = String::new();
        for (n, candidate) in newest.iter().enumerate() {
            let Some(product) = catalog.products.get(candidate) else { continue };
            if !product.active && candidate != sku {
                continue;
            }
            let selected = if candidate == sku { " selected" } else { "" };
            let newest_mark = if n == 0 { " — newest" } else { "" };
            let _ = write!(
                options,
                "<option value=\"{}\"{selected}>{} · {}{newest_mark}</option>",
                esc(candidate),
                esc(candidate),
                esc(&product.name)
            );
        }
        let _ = write!(body, "<label>Product rollout<select name=\"sku\" id=\"filter-sku\">{options}</select></label>");
    }
    body.push_str("<button class=\"primary\" type=\"submit\">Show</button></form>");

    // Coverage.
    let _ = write!(
        body,
        "<h2>Coverage, last {days} days</h2><p class=\"note\">Share of active stores with at least one inspection \
         check-in since {}.</p><table id=\"coverage\"><thead><tr><th>Region</th><th class=\"n\">Stores</th>\
         <th class=\"n\">Visited</th><th class=\"n\">Coverage</th></tr></thead><tbody>",
        esc(&locale.date(since))
    );
    for (region, c) in &regions {
        let _ = write!(
            body,
            "<tr data-region=\"{r}\"><td>{r}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}%</td></tr>",
            c.stores,
            c.visited,
            c.percent(),
            r = esc(region)
        );
    }
    let _ = write!(
        body,
        "<tr id=\"coverage-total\"><th>All</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}%</th></tr></tbody></table>",
        total.stores,
        total.visited,
        total.percent()
    );

    // Rollout summary.
    if let Some(sku) = &chosen {
        let reached = stores.iter().filter(|s| reach.contains_key(s.id.as_str())).count();
        let share = (reached * 100).checked_div(stores.len()).unwrap_or(0);
        let name = catalog.as_ref().and_then(|(c, _)| c.products.get(sku)).map_or("", |p| p.name.as_str());
        let _ = write!(
            body,
            "<h2>Rollout of {} · {}</h2><p id=\"rollout-share\"><b>{reached} of {} stores ({share}%)</b> ordered it \
             <span class=\"note\">(submitted orders not rejected; the newest {} orders in your scope are considered)</span></p>",
            esc(sku),
            esc(name),
            stores.len(),
            records::LIST_LIMIT
        );
    } else if !sees_orders {
        body.push_str(
            "<p class=\"note\" id=\"rollout-note\">Product rollout is read from orders, which HQ and managers see.</p>",
        );
    }

    // Per store.
    let sku_head = chosen
        .as_ref()
        .map_or_else(String::new, |sku| format!("<th>{} first ordered</th><th class=\"n\">Units</th>", esc(sku)));
    let _ = write!(
        body,
        "<h2>Stores ({})</h2><table id=\"stores\" data-live-region><thead><tr><th>Store</th><th>Region</th><th>Tier</th><th>Rep</th>\
         <th>Supervisor</th><th>Last visit</th><th class=\"n\">Last score</th><th class=\"n\">Visits, {days} d</th>{sku_head}</tr></thead><tbody>",
        stores.len()
    );
    if stores.is_empty() {
        body.push_str("<tr><td colspan=\"10\" class=\"muted\">No stores in your scope.</td></tr>");
    }
    for store in &stores {
        let s = &store.value;
        let v = visits.get(store.id.as_str()).cloned().unwrap_or_default();
        let orders_link = if sees_orders {
            format!("<a href=\"/dashboard/orders?store={}\">{}</a>", url_param(store.id.as_str()), esc(&s.name))
        } else {
            esc(&s.name)
        };
        let _ = write!(
            body,
            "<tr data-store=\"{id}\"><td>{orders_link}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td>",
            esc(&s.region),
            esc(&s.tier),
            esc(&names.user(&s.rep)),
            esc(&names.user(&s.supervisor)),
            v.last_at.map_or_else(|| "never".to_owned(), |t| esc(&locale.datetime(t))),
            v.last_score.map_or_else(|| "—".to_owned(), |x| format!("{x:.1}")),
            v.in_period,
            id = esc(store.id.as_str()),
        );
        if chosen.is_some() {
            match reach.get(store.id.as_str()) {
                Some(r) => {
                    let _ = write!(
                        body,
                        "<td class=\"reached\"><span class=\"tag ok\">{}</span></td><td class=\"n\">{}</td>",
                        esc(&locale.date(r.first_at)),
                        r.units
                    );
                }
                None => body.push_str("<td><span class=\"tag\">not yet</span></td><td class=\"n\">0</td>"),
            }
        }
        body.push_str("</tr>");
    }
    body.push_str("</tbody></table>");
    Ok(frame(&viewer, "Stores", "/dashboard/stores", super::html::PreEscaped(body)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use automerge::ActorId;
    use fieldsync_core::DocumentId;
    use fieldsync_core::doc::{Product, RetailStore};

    use super::*;
    use crate::storage::DocMeta;

    fn store(region: &str) -> Record<RetailStore> {
        Record {
            id: DocumentId::random(),
            meta: DocMeta {
                kind: DocKind::Store,
                owner: None,
                store_id: None,
                region: None,
                subject_id: None,
                status: None,
            },
            value: RetailStore {
                name: "s".into(),
                address: String::new(),
                customer_id: "c".into(),
                region: region.into(),
                tier: "A".into(),
                latitude: 0.0,
                longitude: 0.0,
                rep: "r".into(),
                supervisor: "v".into(),
                active: true,
            },
        }
    }

    #[test]
    fn coverage_counts_stores_with_a_visit_in_the_period_per_region_and_in_total() {
        let stores = [store("north"), store("north"), store("south")];
        let mut visits = HashMap::new();
        visits.insert(stores[0].id.to_string(), StoreVisits { last_at: Some(5), last_score: None, in_period: 2 });
        visits.insert(stores[2].id.to_string(), StoreVisits { last_at: Some(1), last_score: None, in_period: 0 });
        let (regions, total) = coverage(&stores, &visits);
        assert_eq!(regions["north"], Coverage { stores: 2, visited: 1 });
        assert_eq!(regions["south"], Coverage { stores: 1, visited: 0 });
        assert_eq!((total.stores, total.visited, total.percent()), (3, 1, 33));
        assert_eq!(Coverage::default().percent(), 0);
    }

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
