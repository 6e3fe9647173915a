//! Order validation: explainable findings about priced lines, the order as a whole, and stock.
//!
//! Severity decides the verdict: an [`Severity::Error`] rejects the order (the rep must fix it
//! and resubmit), a [`Severity::Warning`] is out of policy and needs approval, an
//! [`Severity::Info`] explains something the rep may want to know (a promotion applied).

use std::collections::BTreeMap;

use super::pricing::{FULL_BP, PriceSource, PricedLine};
use super::{fmt_bp, fmt_cents};
use crate::doc::{Catalog, DiscountPolicy, Finding, Inventory, Severity};

/// Finding codes: stable, for apps and integrations to match on.
pub mod code {
    /// The SKU is not in the catalog.
    pub const UNKNOWN_PRODUCT: &str = "unknown-product";
    /// The product is no longer sold.
    pub const INACTIVE_PRODUCT: &str = "inactive-product";
    /// The quantity is below 1.
    pub const INVALID_QUANTITY: &str = "invalid-quantity";
    /// The discount is outside 0..=10000 basis points.
    pub const INVALID_DISCOUNT: &str = "invalid-discount";
    /// The unit price is below the list price (the floor).
    pub const PRICE_BELOW_FLOOR: &str = "price-below-floor";
    /// The unit price is above the list price (allowed; for information).
    pub const PRICE_ABOVE_LIST: &str = "price-above-list";
    /// The discount is above what the policy and promotions allow: needs approval.
    pub const DISCOUNT_OVER_LIMIT: &str = "discount-over-limit";
    /// A promotion applies to the line.
    pub const PROMOTION_APPLIED: &str = "promotion-applied";
    /// The order has no lines.
    pub const NO_LINES: &str = "no-lines";
    /// The order total is below the minimum order value.
    pub const BELOW_MINIMUM_ORDER: &str = "below-minimum-order";
    /// Not enough stock is available for the line.
    pub const INSUFFICIENT_STOCK: &str = "insufficient-stock";
    /// No stock view covers the store's region, so stock was not checked.
    pub const STOCK_UNKNOWN: &str = "stock-unknown";
    /// No user of the role a step needs can approve orders of the store's region.
    pub const NO_APPROVER: &str = "no-approver";

    /// Every finding code, with the arguments its message (`finding-<code>`) is given: the
    /// catalogs' tests check that each reads in every language with exactly these.
    pub const ALL: [(&str, &[&str]); 13] = [
        (UNKNOWN_PRODUCT, &["line", "sku"]),
        (INACTIVE_PRODUCT, &["line", "sku"]),
        (INVALID_QUANTITY, &["line", "qty", "sku"]),
        (INVALID_DISCOUNT, &["line", "discount", "max"]),
        (PRICE_BELOW_FLOOR, &["line", "price", "floor", "source", "tier", "region", "customer"]),
        (PRICE_ABOVE_LIST, &["line", "price", "list", "source", "tier", "region", "customer"]),
        (DISCOUNT_OVER_LIMIT, &["line", "discount", "limit", "tier", "category", "promotions", "promoted"]),
        (PROMOTION_APPLIED, &["line", "name", "discount"]),
        (NO_LINES, &[]),
        (BELOW_MINIMUM_ORDER, &["total", "minimum"]),
        (INSUFFICIENT_STOCK, &["line", "wanted", "sku", "available", "warehouse"]),
        (STOCK_UNKNOWN, &["region"]),
        (NO_APPROVER, &["role", "region"]),
    ];
}

/// The arguments of a finding, built up by name.
#[derive(Default)]
struct Args(BTreeMap<String, String>);

impl Args {
    fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.0.insert(name.to_owned(), value.to_string());
        self
    }
}

fn finding(code: &str, line: Option<&PricedLine>, severity: Severity, args: Args) -> Finding {
    let args = match line {
        Some(line) => args.with("line", line.number),
        None => args,
    };
    Finding::new(code, line.map(|l| l.line_id.clone()), severity, args.0)
}

/// The arguments naming where a list price came from (`source` is `customer`, `tier-region`,
/// `tier`, `region`, `base` or `any`; the others are empty when they do not apply).
fn source_args(args: Args, source: &PriceSource) -> Args {
    let (kind, tier, region, customer) = match source {
        PriceSource::Customer { customer_id } => ("customer", "", "", customer_id.as_str()),
        PriceSource::PriceList { tier, region, .. } => match (tier.is_empty(), region.is_empty()) {
            (false, false) => ("tier-region", tier.as_str(), region.as_str(), ""),
            (false, true) => ("tier", tier.as_str(), "", ""),
            (true, false) => ("region", "", region.as_str(), ""),
            (true, true) => ("any", "", "", ""),
        },
        PriceSource::Base => ("base", "", "", ""),
    };
    args.with("source", kind).with("tier", tier).with("region", region).with("customer", customer)
}

/// A finding about an order as a whole, from the relay (no approver, stock not checked).
pub fn order_finding(code: &str, severity: Severity, args: &[(&str, &str)]) -> Finding {
    let args = args.iter().fold(Args::default(), |a, (name, value)| a.with(name, value));
    finding(code, None, severity, args)
}

/// Findings about each priced line: product, quantity, price against the floor, discount against
/// the limit, promotions.
pub fn validate_lines(catalog: &Catalog, tier: &str, lines: &[PricedLine]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for line in lines {
        let Some(product) = catalog.products.get(&line.sku) else {
            let args = Args::default().with("sku", &line.sku);
            findings.push(finding(code::UNKNOWN_PRODUCT, Some(line), Severity::Error, args));
            continue;
        };
        if !product.active {
            let args = Args::default().with("sku", &line.sku);
            findings.push(finding(code::INACTIVE_PRODUCT, Some(line), Severity::Error, args));
        }
        if line.qty < 1 {
            let args = Args::default().with("qty", line.qty).with("sku", &line.sku);
            findings.push(finding(code::INVALID_QUANTITY, Some(line), Severity::Error, args));
        }
        if !(0..=FULL_BP).contains(&line.discount_bp) {
            let args = Args::default().with("discount", line.discount_bp).with("max", FULL_BP);
            findings.push(finding(code::INVALID_DISCOUNT, Some(line), Severity::Error, args));
        }
        if let Some(list) = &line.list_price {
            if line.unit_price_cents < list.unit_price_cents {
                let args = Args::default()
                    .with("price", fmt_cents(line.unit_price_cents))
                    .with("floor", fmt_cents(list.unit_price_cents));
                let args = source_args(args, &list.source);
                findings.push(finding(code::PRICE_BELOW_FLOOR, Some(line), Severity::Error, args));
            } else if line.unit_price_cents > list.unit_price_cents {
                let args = Args::default()
                    .with("price", fmt_cents(line.unit_price_cents))
                    .with("list", fmt_cents(list.unit_price_cents));
                let args = source_args(args, &list.source);
                findings.push(finding(code::PRICE_ABOVE_LIST, Some(line), Severity::Info, args));
            }
        }
        for promotion in &line.promotions {
            let args = Args::default().with("name", &promotion.name).with("discount", fmt_bp(promotion.discount_bp));
            findings.push(finding(code::PROMOTION_APPLIED, Some(line), Severity::Info, args));
        }
        if (0..=FULL_BP).contains(&line.discount_bp) && line.discount_bp > line.discount_limit_bp {
            let args = Args::default()
                .with("discount", fmt_bp(line.discount_bp))
                .with("limit", fmt_bp(line.discount_limit_bp))
                .with("tier", tier)
                .with("category", &product.category)
                .with("promotions", fmt_bp(line.promotion_bp))
                .with("promoted", if line.promotion_bp > 0 { "yes" } else { "no" });
            findings.push(finding(code::DISCOUNT_OVER_LIMIT, Some(line), Severity::Warning, args));
        }
    }
    findings
}

/// Findings about the order as a whole: it has lines, and its total reaches the minimum order.
pub fn validate_order(policy: &DiscountPolicy, lines: &[PricedLine]) -> Vec<Finding> {
    if lines.is_empty() {
        return vec![finding(code::NO_LINES, None, Severity::Error, Args::default())];
    }
    let total = lines.iter().map(|l| l.total_cents).fold(0, i64::saturating_add);
    if total < policy.min_order_cents {
        let args = Args::default().with("total", fmt_cents(total)).with("minimum", fmt_cents(policy.min_order_cents));
        return vec![finding(code::BELOW_MINIMUM_ORDER, None, Severity::Error, args)];
    }
    Vec::new()
}

/// Units ordered by SKU.
pub fn units_by_sku(lines: &[PricedLine]) -> BTreeMap<String, i64> {
    let mut units = BTreeMap::new();
    for line in lines.iter().filter(|l| l.qty > 0) {
        *units.entry(line.sku.clone()).or_insert(0) += line.qty;
    }
    units
}

/// Stock findings for an order against a stock view: for each SKU, the units ordered (over all
/// its lines) must not exceed `on_hand - reserved`, not counting `own`, what is already reserved
/// for this same order (a re-review of an order does not compete with itself).
pub fn check_stock(lines: &[PricedLine], inventory: &Inventory, own: &BTreeMap<String, i64>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (sku, wanted) in units_by_sku(lines) {
        let available =
            inventory.levels.get(&sku).map_or(0, |level| level.available()) + own.get(&sku).copied().unwrap_or(0);
        if wanted > available {
            let first = lines.iter().find(|l| l.sku == sku);
            // `first` is always found (the SKU comes from the lines); without it the line reads `?`.
            let args = Args::default()
                .with("line", "?")
                .with("wanted", wanted)
                .with("sku", &sku)
                .with("available", available.max(0))
                .with("warehouse", &inventory.warehouse);
            findings.push(finding(code::INSUFFICIENT_STOCK, first, Severity::Error, args));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]
    use std::collections::BTreeMap;

    use super::*;
    use crate::doc::{OrderLine, PriceBreak, PriceList, Product, Promotion, RetailStore, StockLevel};
    use crate::rules::pricing::price_lines;

    const NOW: i64 = 1_750_000_000_000;

    fn catalog() -> Catalog {
        let product = |category: &str, cents, active| Product {
            name: "Thing".into(),
            category: category.into(),
            unit: "case".into(),
            base_price_cents: cents,
            active,
        };
        Catalog {
            products: BTreeMap::from([
                ("BEV-1".into(), product("beverages", 1400, true)),
                ("DAI-1".into(), product("dairy", 500, true)),
                ("OLD-1".into(), product("dairy", 500, false)),
            ]),
            price_lists: BTreeMap::from([(
                "tier-b".into(),
                PriceList {
                    tier: "B".into(),
                    region: String::new(),
                    prices: BTreeMap::from([("BEV-1".into(), vec![PriceBreak { min_qty: 1, unit_price_cents: 1300 }])]),
                },
            )]),
            customer_prices: BTreeMap::new(),
            promotions: BTreeMap::from([(
                "drinks".into(),
                Promotion {
                    name: "Summer drinks".into(),
                    starts_at: NOW - 1,
                    ends_at: NOW + 1,
                    skus: Vec::new(),
                    categories: vec!["beverages".into()],
                    stores: Vec::new(),
                    regions: Vec::new(),
                    discount_bp: 500,
                    priority: 1,
                    stackable: false,
                },
            )]),
            discount_policy: DiscountPolicy {
                max_discount_bp: BTreeMap::from([("B/*".into(), 1000), ("B/dairy".into(), 300)]),
                min_order_cents: 5_000,
            },
            approval_policy: None,
            version: 1,
            updated_at: 0,
        }
    }

    fn store() -> RetailStore {
        RetailStore {
            name: "Shop".into(),
            code: String::new(),
            address: String::new(),
            customer_id: "C-1".into(),
            region: "north".into(),
            tier: "B".into(),
            latitude: 0.0,
            longitude: 0.0,
            geofence_m: 0.0,
            rep: "rep".into(),
            supervisor: "sup".into(),
            active: true,
        }
    }

    fn priced(lines: &[(&str, i64, i64, i64)]) -> Vec<PricedLine> {
        let lines: Vec<(String, OrderLine)> = lines
            .iter()
            .enumerate()
            .map(|(i, &(sku, qty, unit_price_cents, discount_bp))| {
                (format!("l{i}"), OrderLine { sku: sku.into(), qty, unit_price_cents, discount_bp, position: i as i64 })
            })
            .collect();
        price_lines(&catalog(), "store-1", &store(), &lines, NOW)
    }

    #[test]
    fn each_line_rule_produces_its_explainable_finding() {
        // (case, line: sku, qty, unit price, discount; expected (code, severity, text) besides promotions)
        let cases: &[(&str, (&str, i64, i64, i64), &[(&str, Severity, &str)])] = &[
            ("at list price, inside the limit", ("DAI-1", 20, 500, 300), &[]),
            (
                "below the floor",
                ("BEV-1", 10, 1240, 0),
                &[("price-below-floor", Severity::Error, "line 1: unit price 12.40 below floor 13.00 for tier B")],
            ),
            (
                "above the list price",
                ("DAI-1", 20, 520, 0),
                &[(
                    "price-above-list",
                    Severity::Info,
                    "line 1: unit price 5.20 above list price 5.00 from the base price",
                )],
            ),
            (
                "discount over the category limit",
                ("DAI-1", 20, 500, 301),
                &[(
                    "discount-over-limit",
                    Severity::Warning,
                    "line 1: discount 3.01% above the limit 3.00% for tier B, category dairy",
                )],
            ),
            ("promotion plus policy limit is allowed", ("BEV-1", 10, 1300, 1500), &[]),
            (
                "beyond promotion plus policy limit",
                ("BEV-1", 10, 1300, 1501),
                &[(
                    "discount-over-limit",
                    Severity::Warning,
                    "line 1: discount 15.01% above the limit 15.00% for tier B, category beverages \
                     (including promotions 5.00%)",
                )],
            ),
            (
                "unknown product",
                ("NOPE", 10, 1000, 0),
                &[("unknown-product", Severity::Error, "line 1: unknown product NOPE")],
            ),
            (
                "inactive product",
                ("OLD-1", 20, 500, 0),
                &[("inactive-product", Severity::Error, "line 1: product OLD-1 is no longer sold")],
            ),
            (
                "zero quantity",
                ("DAI-1", 0, 500, 0),
                &[("invalid-quantity", Severity::Error, "line 1: quantity 0 of DAI-1 must be at least 1")],
            ),
            (
                "negative discount",
                ("DAI-1", 20, 500, -1),
                &[("invalid-discount", Severity::Error, "line 1: discount -1 bp must be between 0 and 10000 bp")],
            ),
        ];
        for (case, line, expected) in cases {
            let lines = priced(&[*line]);
            let findings: Vec<(String, Severity, String)> = validate_lines(&catalog(), "B", &lines)
                .into_iter()
                .filter(|f| f.code != code::PROMOTION_APPLIED)
                .map(|f| (f.code, f.severity, f.text))
                .collect();
            let expected: Vec<(String, Severity, String)> =
                expected.iter().map(|(c, s, t)| ((*c).to_owned(), *s, (*t).to_owned())).collect();
            assert_eq!(findings, expected, "{case}");
        }
    }

    #[test]
    fn a_promotion_is_explained_on_its_line() {
        let lines = priced(&[("DAI-1", 20, 500, 0), ("BEV-1", 10, 1300, 500)]);
        let findings = validate_lines(&catalog(), "B", &lines);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, "promotion-applied");
        assert_eq!(findings[0].line_id.as_deref(), Some("l1"));
        assert_eq!(findings[0].text, "line 2: promotion \"Summer drinks\" allows 5.00%");
    }

    #[test]
    fn the_order_must_have_lines_and_reach_the_minimum() {
        let policy = catalog().discount_policy;
        let cases: &[(&str, &[(&str, i64, i64, i64)], Option<&str>)] = &[
            ("no lines", &[], Some("the order has no lines")),
            ("below the minimum", &[("DAI-1", 9, 500, 0)], Some("order total 45.00 below the minimum order 50.00")),
            (
                "discount takes it below",
                &[("DAI-1", 10, 500, 100)],
                Some("order total 49.50 below the minimum order 50.00"),
            ),
            ("exactly the minimum", &[("DAI-1", 10, 500, 0)], None),
        ];
        for (case, lines, expected) in cases {
            let findings = validate_order(&policy, &priced(lines));
            assert_eq!(findings.first().map(|f| f.text.as_str()), *expected, "{case}");
            assert!(findings.iter().all(|f| f.severity == Severity::Error && f.line_id.is_none()), "{case}");
        }
    }

    #[test]
    fn stock_is_checked_per_sku_without_counting_the_order_against_itself() {
        let mut inventory = Inventory {
            warehouse: "WH-N".into(),
            region: "north".into(),
            levels: BTreeMap::from([
                ("DAI-1".into(), StockLevel { on_hand: 50, reserved: 20, safety: 5 }),
                ("BEV-1".into(), StockLevel { on_hand: 10, reserved: 0, safety: 5 }),
            ]),
            as_of: 0,
        };
        let none = BTreeMap::new();
        let cases: &[(&str, &[(&str, i64, i64, i64)], &[&str])] = &[
            ("enough", &[("DAI-1", 30, 500, 0), ("BEV-1", 10, 1300, 0)], &[]),
            ("one too many", &[("DAI-1", 31, 500, 0)], &["line 1: 31 × DAI-1 ordered, 30 available in WH-N"]),
            (
                "two lines of one sku add up",
                &[("BEV-1", 6, 1300, 0), ("DAI-1", 1, 500, 0), ("BEV-1", 5, 1300, 0)],
                &["line 1: 11 × BEV-1 ordered, 10 available in WH-N"],
            ),
            ("not stocked at all", &[("OLD-1", 1, 500, 0)], &["line 1: 1 × OLD-1 ordered, 0 available in WH-N"]),
        ];
        for (case, lines, expected) in cases {
            let texts: Vec<String> =
                check_stock(&priced(lines), &inventory, &none).into_iter().map(|f| f.text).collect();
            assert_eq!(texts, *expected, "{case}");
        }
        // With the order's own 30 units reserved, 0 are left for others but still 30 for it.
        inventory.levels.get_mut("DAI-1").unwrap().reserved = 50;
        let own = BTreeMap::from([("DAI-1".to_owned(), 30)]);
        assert!(check_stock(&priced(&[("DAI-1", 30, 500, 0)]), &inventory, &own).is_empty());
        assert_eq!(check_stock(&priced(&[("DAI-1", 31, 500, 0)]), &inventory, &own).len(), 1);
        assert_eq!(check_stock(&priced(&[("DAI-1", 1, 500, 0)]), &inventory, &none).len(), 1);
    }
}
