//! Price resolution, promotions and discount limits.
//!
//! A line's *list price* (its floor: the rep may not sell below it; discounts are explicit in
//! `discount_bp`) comes from the first source that prices the SKU:
//! 1. the customer's negotiated price (`customer_prices[customer][sku]`), whatever the quantity;
//! 2. a price list whose tier and region match the store (an empty tier or region matches any),
//!    at the quantity break with the largest `min_qty` not above the ordered quantity. When
//!    several lists price the SKU, the most specific wins (tier and region set beats one of them
//!    set beats neither), then the lowest price, then the smallest list id;
//! 3. the product's base price.
//!
//! Promotions that are active at `now` and whose scope (SKUs, categories, stores, regions; empty
//! means any) covers the line are ordered by priority (highest first, then id). The first one
//! always applies; when it is stackable, every further stackable one applies after it; a
//! non-stackable first promotion applies alone. Stacked discounts compound in that order.
//!
//! The discount a rep may give without approval is the promotions' discount plus the discount
//! policy's limit for the store's tier and the product's category, looked up as `tier/category`,
//! `tier/*`, `*/category`, `*/*` (first found; none: 0).

use std::cmp::Reverse;

use crate::doc::{Catalog, DiscountPolicy, OrderLine, PriceBreak, RetailStore};

/// 100 % in basis points.
pub const FULL_BP: i64 = 10_000;

/// Where a list price came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceSource {
    /// The customer's negotiated price.
    Customer {
        /// The customer id.
        customer_id: String,
    },
    /// A price list.
    PriceList {
        /// The list's id.
        id: String,
        /// Its tier (empty: any).
        tier: String,
        /// Its region (empty: any).
        region: String,
    },
    /// The product's base price.
    Base,
}

impl PriceSource {
    /// How a finding names the source: `for tier B`, `for customer C-1`, `base price`.
    pub fn describe(&self) -> String {
        match self {
            PriceSource::Customer { customer_id } => format!("for customer {customer_id}"),
            PriceSource::PriceList { tier, region, .. } => match (tier.is_empty(), region.is_empty()) {
                (false, false) => format!("for tier {tier} in region {region}"),
                (false, true) => format!("for tier {tier}"),
                (true, false) => format!("for region {region}"),
                (true, true) => "for every customer".to_owned(),
            },
            PriceSource::Base => "from the base price".to_owned(),
        }
    }
}

/// A resolved list price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPrice {
    /// Unit price, in cents.
    pub unit_price_cents: i64,
    /// Where it came from.
    pub source: PriceSource,
}

/// A promotion applied to a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPromotion {
    /// The promotion's id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its discount, in basis points.
    pub discount_bp: i64,
}

/// One order line, priced by the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    /// The line's id in the order.
    pub line_id: String,
    /// The line's number as the rep sees it (1-based, in display order).
    pub number: usize,
    /// Product SKU.
    pub sku: String,
    /// The product's category; `None` for an unknown SKU.
    pub category: Option<String>,
    /// Quantity ordered.
    pub qty: i64,
    /// The list price (the floor); `None` for an unknown SKU.
    pub list_price: Option<ListPrice>,
    /// Promotions that apply, in application order.
    pub promotions: Vec<AppliedPromotion>,
    /// Their combined discount, in basis points (the discount the phone suggests).
    pub promotion_bp: i64,
    /// The discount policy's own limit for the tier and category, in basis points.
    pub policy_limit_bp: i64,
    /// The largest discount allowed without approval: promotions plus the policy limit.
    pub discount_limit_bp: i64,
    /// Unit price the rep entered, in cents.
    pub unit_price_cents: i64,
    /// Discount the rep entered, in basis points.
    pub discount_bp: i64,
    /// The line total after the entered discount, in cents.
    pub total_cents: i64,
}

/// The unit price at quantity `qty` from quantity breaks: the break with the largest `min_qty`
/// not above `qty`, or `None` when `qty` is below every break.
pub fn break_price(breaks: &[PriceBreak], qty: i64) -> Option<i64> {
    breaks.iter().filter(|b| b.min_qty <= qty).max_by_key(|b| b.min_qty).map(|b| b.unit_price_cents)
}

/// The list price of `qty` units of `sku` for `store`; `None` when the catalog has no such SKU.
pub fn list_price(catalog: &Catalog, store: &RetailStore, sku: &str, qty: i64) -> Option<ListPrice> {
    let product = catalog.products.get(sku)?;
    if let Some(&cents) = catalog.customer_prices.get(&store.customer_id).and_then(|prices| prices.get(sku)) {
        return Some(ListPrice {
            unit_price_cents: cents,
            source: PriceSource::Customer { customer_id: store.customer_id.clone() },
        });
    }
    let best = catalog
        .price_lists
        .iter()
        .filter(|(_, list)| {
            (list.tier.is_empty() || list.tier == store.tier) && (list.region.is_empty() || list.region == store.region)
        })
        .filter_map(|(id, list)| {
            let cents = break_price(list.prices.get(sku)?, qty)?;
            let specificity = usize::from(!list.tier.is_empty()) + usize::from(!list.region.is_empty());
            Some((specificity, cents, id, list))
        })
        .min_by_key(|(specificity, cents, id, _)| (Reverse(*specificity), *cents, *id));
    if let Some((_, cents, id, list)) = best {
        return Some(ListPrice {
            unit_price_cents: cents,
            source: PriceSource::PriceList { id: id.clone(), tier: list.tier.clone(), region: list.region.clone() },
        });
    }
    Some(ListPrice { unit_price_cents: product.base_price_cents, source: PriceSource::Base })
}

/// The promotions that apply to `sku` (of `category`) at store `store_id` at `now`, in
/// application order (see the module docs).
pub fn promotions_for(
    catalog: &Catalog,
    store_id: &str,
    store: &RetailStore,
    sku: &str,
    category: &str,
    now: i64,
) -> Vec<AppliedPromotion> {
    let covers = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
    let mut active: Vec<_> = catalog
        .promotions
        .iter()
        .filter(|(_, p)| p.starts_at <= now && now <= p.ends_at && (1..=FULL_BP).contains(&p.discount_bp))
        .filter(|(_, p)| {
            covers(&p.skus, sku)
                && covers(&p.categories, category)
                && covers(&p.stores, store_id)
                && covers(&p.regions, &store.region)
        })
        .collect();
    active.sort_by_key(|(id, p)| (Reverse(p.priority), (*id).clone()));
    let mut applied = active.into_iter();
    let Some((first_id, first)) = applied.next() else { return Vec::new() };
    let as_applied = |id: &String, p: &crate::doc::Promotion| AppliedPromotion {
        id: id.clone(),
        name: p.name.clone(),
        discount_bp: p.discount_bp,
    };
    let mut result = vec![as_applied(first_id, first)];
    if first.stackable {
        result.extend(applied.filter(|(_, p)| p.stackable).map(|(id, p)| as_applied(id, p)));
    }
    result
}

/// Discounts applied one after the other, as one discount in basis points (rounded half up at
/// each step).
pub fn compound_bp(discounts: impl IntoIterator<Item = i64>) -> i64 {
    let mut remaining = i128::from(FULL_BP);
    for bp in discounts {
        let bp = i128::from(bp.clamp(0, FULL_BP));
        remaining = (remaining * (i128::from(FULL_BP) - bp) + 5_000) / 10_000;
    }
    FULL_BP - i64::try_from(remaining).unwrap_or(FULL_BP)
}

/// The discount policy's limit for a tier and category, in basis points, with the key that
/// matched (`None`: no key matched, so the limit is 0).
pub fn policy_limit_bp(policy: &DiscountPolicy, tier: &str, category: &str) -> (i64, Option<String>) {
    let keys = [format!("{tier}/{category}"), format!("{tier}/*"), format!("*/{category}"), "*/*".to_owned()];
    keys.into_iter()
        .find_map(|key| policy.max_discount_bp.get(&key).map(|bp| ((*bp).clamp(0, FULL_BP), Some(key))))
        .unwrap_or((0, None))
}

/// Prices every line of an order for `store`, in display order (position, then line id).
pub fn price_lines(
    catalog: &Catalog,
    store_id: &str,
    store: &RetailStore,
    lines: &[(String, OrderLine)],
    now: i64,
) -> Vec<PricedLine> {
    let mut ordered: Vec<&(String, OrderLine)> = lines.iter().collect();
    ordered.sort_by(|a, b| (a.1.position, &a.0).cmp(&(b.1.position, &b.0)));
    ordered
        .into_iter()
        .enumerate()
        .map(|(index, (line_id, line))| {
            let product = catalog.products.get(&line.sku);
            let category = product.map(|p| p.category.clone());
            let promotions = match &category {
                Some(category) => promotions_for(catalog, store_id, store, &line.sku, category, now),
                None => Vec::new(),
            };
            let promotion_bp = compound_bp(promotions.iter().map(|p| p.discount_bp));
            let policy_limit_bp = category
                .as_deref()
                .map_or(0, |category| policy_limit_bp(&catalog.discount_policy, &store.tier, category).0);
            PricedLine {
                line_id: line_id.clone(),
                number: index + 1,
                sku: line.sku.clone(),
                category,
                qty: line.qty,
                list_price: list_price(catalog, store, &line.sku, line.qty),
                promotions,
                promotion_bp,
                policy_limit_bp,
                discount_limit_bp: (promotion_bp + policy_limit_bp).min(FULL_BP),
                unit_price_cents: line.unit_price_cents,
                discount_bp: line.discount_bp,
                total_cents: line.total_cents(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]
    use std::collections::BTreeMap;

    use super::*;
    use crate::doc::{PriceList, Product, Promotion};

    const NOW: i64 = 1_750_000_000_000;
    const DAY: i64 = 86_400_000;

    fn catalog() -> Catalog {
        let product = |category: &str, cents| Product {
            name: "Thing".into(),
            category: category.into(),
            unit: "case".into(),
            base_price_cents: cents,
            active: true,
        };
        let list = |tier: &str, region: &str, prices: &[(&str, &[(i64, i64)])]| PriceList {
            tier: tier.into(),
            region: region.into(),
            prices: prices
                .iter()
                .map(|(sku, breaks)| {
                    let breaks =
                        breaks.iter().map(|&(min_qty, unit_price_cents)| PriceBreak { min_qty, unit_price_cents });
                    ((*sku).to_owned(), breaks.collect())
                })
                .collect(),
        };
        Catalog {
            products: BTreeMap::from([
                ("BEV-1".into(), product("beverages", 1000)),
                ("SNK-1".into(), product("snacks", 2000)),
                ("DAI-1".into(), product("dairy", 500)),
            ]),
            price_lists: BTreeMap::from([
                (
                    "tier-b".into(),
                    list("B", "", &[("BEV-1", &[(1, 950), (10, 900), (50, 850)]), ("SNK-1", &[(5, 1800)])]),
                ),
                ("south".into(), list("", "south", &[("BEV-1", &[(1, 920)])])),
                ("b-south".into(), list("B", "south", &[("SNK-1", &[(1, 1700)])])),
                ("a-lists".into(), list("A", "", &[("BEV-1", &[(1, 800)])])),
            ]),
            customer_prices: BTreeMap::from([("C-VIP".into(), BTreeMap::from([("BEV-1".into(), 700)]))]),
            promotions: BTreeMap::new(),
            discount_policy: DiscountPolicy {
                max_discount_bp: BTreeMap::from([
                    ("B/*".into(), 1000),
                    ("B/dairy".into(), 300),
                    ("*/snacks".into(), 400),
                    ("*/*".into(), 200),
                ]),
                min_order_cents: 5_000,
            },
            approval_policy: None,
            version: 1,
            updated_at: 0,
        }
    }

    fn store(tier: &str, region: &str, customer: &str) -> RetailStore {
        RetailStore {
            name: "Shop".into(),
            code: String::new(),
            address: String::new(),
            customer_id: customer.into(),
            region: region.into(),
            tier: tier.into(),
            latitude: 0.0,
            longitude: 0.0,
            geofence_m: 0.0,
            rep: "rep".into(),
            supervisor: "sup".into(),
            active: true,
        }
    }

    fn promotion(priority: i64, discount_bp: i64, stackable: bool) -> Promotion {
        Promotion {
            name: format!("p{priority}"),
            starts_at: NOW - DAY,
            ends_at: NOW + DAY,
            skus: Vec::new(),
            categories: Vec::new(),
            stores: Vec::new(),
            regions: Vec::new(),
            discount_bp,
            priority,
            stackable,
        }
    }

    #[test]
    fn list_prices_follow_customer_then_price_list_then_base() {
        let catalog = catalog();
        // (case, tier, region, customer, sku, qty, expected cents, expected source)
        let cases: &[(&str, &str, &str, &str, &str, i64, i64, &str)] = &[
            ("customer price wins over every list", "B", "north", "C-VIP", "BEV-1", 100, 700, "for customer C-VIP"),
            ("tier list, first break", "B", "north", "C-1", "BEV-1", 1, 950, "for tier B"),
            ("tier list, second break at its min", "B", "north", "C-1", "BEV-1", 10, 900, "for tier B"),
            ("tier list, between breaks", "B", "north", "C-1", "BEV-1", 49, 900, "for tier B"),
            ("tier list, top break", "B", "north", "C-1", "BEV-1", 500, 850, "for tier B"),
            ("equally specific lists: the lower price", "B", "south", "C-1", "BEV-1", 1, 920, "for region south"),
            ("equally specific lists: tier cheaper", "B", "south", "C-1", "BEV-1", 10, 900, "for tier B"),
            ("region-only list for another tier", "C", "south", "C-1", "BEV-1", 3, 920, "for region south"),
            ("tier and region beats tier only", "B", "south", "C-1", "SNK-1", 5, 1700, "for tier B in region south"),
            ("below the first break falls to base", "B", "north", "C-1", "SNK-1", 4, 2000, "from the base price"),
            ("quantity break reached", "B", "north", "C-1", "SNK-1", 5, 1800, "for tier B"),
            ("no list for the tier: base", "C", "north", "C-1", "BEV-1", 3, 1000, "from the base price"),
            ("other tier's list", "A", "north", "C-1", "BEV-1", 3, 800, "for tier A"),
            ("no list prices the sku: base", "B", "north", "C-1", "DAI-1", 3, 500, "from the base price"),
        ];
        for &(case, tier, region, customer, sku, qty, cents, source) in cases {
            let price = list_price(&catalog, &store(tier, region, customer), sku, qty).expect(case);
            assert_eq!(price.unit_price_cents, cents, "{case}");
            assert_eq!(price.source.describe(), source, "{case}");
        }
        assert_eq!(list_price(&catalog, &store("B", "north", "C-1"), "NOPE", 1), None);
    }

    #[test]
    fn quantity_breaks_pick_the_largest_minimum_not_above_the_quantity() {
        let breaks = [
            PriceBreak { min_qty: 10, unit_price_cents: 90 },
            PriceBreak { min_qty: 1, unit_price_cents: 100 },
            PriceBreak { min_qty: 100, unit_price_cents: 80 },
        ];
        for (qty, expected) in
            [(0, None), (1, Some(100)), (9, Some(100)), (10, Some(90)), (99, Some(90)), (100, Some(80))]
        {
            assert_eq!(break_price(&breaks, qty), expected, "qty {qty}");
        }
        assert_eq!(break_price(&[], 5), None);
    }

    #[test]
    fn promotions_apply_by_date_scope_priority_and_stacking() {
        let shop = store("B", "south", "C-1");
        let scoped = |f: &dyn Fn(&mut Promotion)| {
            let mut p = promotion(1, 1000, false);
            f(&mut p);
            p
        };
        // (case, promotions, expected applied ids in order, expected combined bp)
        let cases: Vec<(&str, Vec<(&str, Promotion)>, Vec<&str>, i64)> = vec![
            ("none", vec![], vec![], 0),
            ("one active", vec![("a", promotion(1, 1000, false))], vec!["a"], 1000),
            ("not started", vec![("a", scoped(&|p| p.starts_at = NOW + 1))], vec![], 0),
            ("ended", vec![("a", scoped(&|p| p.ends_at = NOW - 1))], vec![], 0),
            ("last moment counts", vec![("a", scoped(&|p| p.ends_at = NOW))], vec!["a"], 1000),
            ("sku in scope", vec![("a", scoped(&|p| p.skus = vec!["BEV-1".into()]))], vec!["a"], 1000),
            ("sku out of scope", vec![("a", scoped(&|p| p.skus = vec!["SNK-1".into()]))], vec![], 0),
            ("category out of scope", vec![("a", scoped(&|p| p.categories = vec!["snacks".into()]))], vec![], 0),
            ("store in scope", vec![("a", scoped(&|p| p.stores = vec!["store-1".into()]))], vec!["a"], 1000),
            ("store out of scope", vec![("a", scoped(&|p| p.stores = vec!["store-2".into()]))], vec![], 0),
            ("region out of scope", vec![("a", scoped(&|p| p.regions = vec!["north".into()]))], vec![], 0),
            (
                "non-stackable highest priority applies alone",
                vec![("a", promotion(5, 500, false)), ("b", promotion(1, 2000, true))],
                vec!["a"],
                500,
            ),
            (
                "stackable first: the other stackable ones follow by priority",
                vec![
                    ("a", promotion(5, 1000, true)),
                    ("b", promotion(3, 1000, true)),
                    ("c", promotion(4, 3000, false)),
                ],
                vec!["a", "b"],
                1900,
            ),
            (
                "equal priority: by id",
                vec![("z", promotion(2, 700, false)), ("m", promotion(2, 300, false))],
                vec!["m"],
                300,
            ),
            (
                "zero discount ignored",
                vec![("a", promotion(9, 0, false)), ("b", promotion(1, 100, false))],
                vec!["b"],
                100,
            ),
        ];
        for (case, promotions, expected, bp) in cases {
            let mut catalog = catalog();
            catalog.promotions = promotions.into_iter().map(|(id, p)| (id.to_owned(), p)).collect();
            let applied = promotions_for(&catalog, "store-1", &shop, "BEV-1", "beverages", NOW);
            let ids: Vec<&str> = applied.iter().map(|p| p.id.as_str()).collect();
            assert_eq!(ids, expected, "{case}");
            assert_eq!(compound_bp(applied.iter().map(|p| p.discount_bp)), bp, "{case}");
        }
    }

    #[test]
    fn discount_limits_are_looked_up_from_most_to_least_specific() {
        let policy = catalog().discount_policy;
        for (tier, category, bp, key) in [
            ("B", "dairy", 300, Some("B/dairy")),
            ("B", "beverages", 1000, Some("B/*")),
            ("B", "snacks", 1000, Some("B/*")),
            ("C", "snacks", 400, Some("*/snacks")),
            ("C", "beverages", 200, Some("*/*")),
        ] {
            assert_eq!(policy_limit_bp(&policy, tier, category), (bp, key.map(str::to_owned)), "{tier}/{category}");
        }
        assert_eq!(policy_limit_bp(&DiscountPolicy::default(), "B", "x"), (0, None));
    }

    #[test]
    fn compounding_discounts_rounds_half_up_at_each_step() {
        for (discounts, expected) in [
            (vec![], 0),
            (vec![1000], 1000),
            (vec![1000, 1000], 1900),
            (vec![1000, 1500], 2350),
            (vec![10_000, 500], 10_000),
            (vec![20_000], 10_000),
            (vec![-5], 0),
        ] {
            assert_eq!(compound_bp(discounts.clone()), expected, "{discounts:?}");
        }
    }

    #[test]
    fn lines_are_priced_in_display_order_with_limits() {
        let mut catalog = catalog();
        catalog.promotions.insert("drinks".into(), {
            let mut p = promotion(1, 1000, false);
            p.categories = vec!["beverages".into()];
            p
        });
        let line = |sku: &str, position| OrderLine {
            sku: sku.into(),
            qty: 10,
            unit_price_cents: 900,
            discount_bp: 500,
            position,
        };
        let lines =
            vec![("z".to_owned(), line("BEV-1", 0)), ("a".to_owned(), line("DAI-1", 1)), ("b".into(), line("X", 0))];
        let priced = price_lines(&catalog, "s", &store("B", "north", "C-1"), &lines, NOW);
        let summary: Vec<(usize, &str, i64, i64)> =
            priced.iter().map(|l| (l.number, l.sku.as_str(), l.promotion_bp, l.discount_limit_bp)).collect();
        assert_eq!(summary, vec![(1, "X", 0, 0), (2, "BEV-1", 1000, 2000), (3, "DAI-1", 0, 300)]);
        assert_eq!(priced[1].total_cents, 8550);
        assert_eq!(priced[0].list_price, None);
    }
}
