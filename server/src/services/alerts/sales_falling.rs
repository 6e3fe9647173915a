//! Sales falling: a store's sales falling three days in a row, in total or for one SKU.
//!
//! Precisely, per store: take the last [`RUN_DAYS`] (4) days on which the store reported any
//! sales. They must be consecutive calendar days (a gap means the series is broken and nothing is
//! said). A day is a day of the sales figures as imported, i.e. a local day of the tenant
//! (`docs/imports.md`): a day across a daylight-saving change is one day like any other, and
//! the evaluation's look-back counts local days too. Over those days:
//! - **total**: the store's sales value (sum of `amount_cents` over its SKUs) is strictly
//!   decreasing → cause `sales-falling:{store}`;
//! - **per SKU**: the units of a SKU (0 on a day the store reported without that SKU) are strictly
//!   decreasing → cause `sales-falling:{store}:{sku}`.
//!
//! Only the dates in the data count, never the wall clock, so the same data always gives the same
//! answer. The alert closes when a later day breaks the fall (a rise, an equal day, or a gap).

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;

use fieldsync_core::i18n::Message;

use super::{AlertKind, Cause};
use crate::locale::Locale;
use crate::storage::DailySale;

/// Days in a falling run: three falls need four days.
pub const RUN_DAYS: usize = 4;

/// A store's sales (or one SKU's) falling over [`RUN_DAYS`] consecutive days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesFall {
    /// The store's document id.
    pub store_id: String,
    /// The SKU, or `None` for the store's total.
    pub sku: Option<String>,
    /// The days, oldest first (`YYYY-MM-DD`).
    pub days: Vec<String>,
    /// The figure of each day: sales value in cents for the total, units for a SKU.
    pub values: Vec<i64>,
}

impl SalesFall {
    /// The alert this finding raises; `store_name` names the store in the text, `locale` gives
    /// the currency of the amounts.
    /// `product` names the SKU, when the catalog knows it.
    pub fn cause(&self, store_name: &str, product: Option<&str>, locale: &Locale) -> Cause {
        let figures: Vec<String> = match &self.sku {
            None => self.days.iter().zip(&self.values).map(|(d, v)| format!("{d}: {}", locale.money(*v))).collect(),
            Some(_) => self.days.iter().zip(&self.values).map(|(d, v)| format!("{d}: {v}")).collect(),
        };
        let (key, title, detail) = match &self.sku {
            None => (
                format!("{}:{}", AlertKind::SalesFalling.as_str(), self.store_id),
                Message::new("alert-sales-falling-title").arg("store", store_name),
                Message::new("alert-sales-falling-detail"),
            ),
            Some(sku) => {
                let what = product.map_or_else(|| sku.clone(), |name| format!("{name} ({sku})"));
                (
                    format!("{}:{}:{sku}", AlertKind::SalesFalling.as_str(), self.store_id),
                    Message::new("alert-product-sales-falling-title").arg("product", &what).arg("store", store_name),
                    Message::new("alert-product-sales-falling-detail").arg("product", what),
                )
            }
        };
        let detail = detail.arg("store", store_name).arg("days", RUN_DAYS - 1).arg("figures", figures.join(", "));
        Cause {
            store_id: Some(self.store_id.clone()),
            sku: self.sku.clone(),
            ..Cause::new(key, AlertKind::SalesFalling, title, detail)
        }
    }
}

/// One store's sales of one day: SKU → (units, value in cents).
type DaySales<'a> = BTreeMap<&'a str, (i64, i64)>;

/// Every falling total and SKU of every store in `sales` (any order), in store order, the total
/// before the SKUs. Rows with an unreadable day are ignored.
pub fn detect(sales: &[DailySale]) -> Vec<SalesFall> {
    let mut by_store: BTreeMap<&str, BTreeMap<Date, DaySales<'_>>> = BTreeMap::new();
    for sale in sales {
        let Some(day) = parse_day(&sale.day) else { continue };
        let entry = by_store.entry(&sale.store_id).or_default().entry(day).or_default().entry(&sale.sku).or_default();
        entry.0 += sale.units;
        entry.1 += sale.amount_cents;
    }
    let mut found = Vec::new();
    for (store_id, days) in by_store {
        let window: Vec<(&Date, &DaySales<'_>)> = days.iter().rev().take(RUN_DAYS).rev().collect();
        if window.len() < RUN_DAYS || window.windows(2).any(|pair| pair[0].0.tomorrow().ok() != Some(*pair[1].0)) {
            continue;
        }
        let names: Vec<String> = window.iter().map(|(day, _)| day.to_string()).collect();
        let totals: Vec<i64> = window.iter().map(|(_, skus)| skus.values().map(|(_, amount)| amount).sum()).collect();
        if strictly_decreasing(&totals) {
            found.push(SalesFall { store_id: store_id.to_owned(), sku: None, days: names.clone(), values: totals });
        }
        let skus: BTreeSet<&str> = window.iter().flat_map(|(_, skus)| skus.keys().copied()).collect();
        for sku in skus {
            let units: Vec<i64> =
                window.iter().map(|(_, skus)| skus.get(sku).map(|(units, _)| *units).unwrap_or(0)).collect();
            if strictly_decreasing(&units) {
                found.push(SalesFall {
                    store_id: store_id.to_owned(),
                    sku: Some(sku.to_owned()),
                    days: names.clone(),
                    values: units,
                });
            }
        }
    }
    found
}

fn strictly_decreasing(values: &[i64]) -> bool {
    values.windows(2).all(|pair| pair[1] < pair[0])
}

/// The calendar day of a `YYYY-MM-DD` text, if it is one.
pub fn parse_day(day: &str) -> Option<Date> {
    // jiff also reads other ISO 8601 forms; the imports write exactly this one.
    if day.len() != 10 {
        return None;
    }
    day.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// (case, days and figures of one store's only SKU, falling?)
    type Case = (&'static str, Vec<(&'static str, i64)>, bool);

    fn sale(store: &str, sku: &str, day: &str, units: i64, amount_cents: i64) -> DailySale {
        DailySale { store_id: store.into(), sku: sku.into(), day: day.into(), units, amount_cents }
    }

    /// One SKU's series: the same figure for units and value.
    fn series(store: &str, sku: &str, days: &[(&str, i64)]) -> Vec<DailySale> {
        days.iter().map(|&(day, v)| sale(store, sku, day, v, v * 100)).collect()
    }

    fn keys(found: &[SalesFall]) -> Vec<String> {
        found.iter().map(|f| f.cause("Shop", None, &Locale::default()).key).collect()
    }

    #[test]
    fn days_are_calendar_days() {
        let next = |a: &str, b: &str| parse_day(a).and_then(|d| d.tomorrow().ok()) == parse_day(b);
        assert!(next("2024-02-29", "2024-03-01"));
        assert!(next("2025-02-28", "2025-03-01"));
        assert!(next("2025-12-31", "2026-01-01"));
        for bad in ["2025-02-29", "2025-13-01", "2025-00-10", "2025-1-01", "yesterday", "2025/01/01", "20250101", ""] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_fall_needs_four_consecutive_days_each_strictly_below_the_one_before() {
        // (case, days and figures of one store's only SKU, falling?)
        let cases: Vec<Case> = vec![
            ("three falls", vec![("2026-03-01", 40), ("2026-03-02", 30), ("2026-03-03", 20), ("2026-03-04", 10)], true),
            ("only two falls", vec![("2026-03-02", 30), ("2026-03-03", 20), ("2026-03-04", 10)], false),
            ("a flat day", vec![("2026-03-01", 40), ("2026-03-02", 30), ("2026-03-03", 30), ("2026-03-04", 10)], false),
            (
                "a rise at the end",
                vec![("2026-03-01", 40), ("2026-03-02", 30), ("2026-03-03", 20), ("2026-03-04", 25)],
                false,
            ),
            ("a gap", vec![("2026-03-01", 40), ("2026-03-02", 30), ("2026-03-04", 20), ("2026-03-05", 10)], false),
            (
                "earlier rise, last four falling",
                vec![("2026-02-28", 5), ("2026-03-01", 40), ("2026-03-02", 30), ("2026-03-03", 20), ("2026-03-04", 10)],
                true,
            ),
            (
                "falling, then a later day breaks it",
                vec![
                    ("2026-03-01", 40),
                    ("2026-03-02", 30),
                    ("2026-03-03", 20),
                    ("2026-03-04", 10),
                    ("2026-03-05", 50),
                ],
                false,
            ),
            (
                "across a month end",
                vec![("2026-02-26", 9), ("2026-02-27", 8), ("2026-02-28", 7), ("2026-03-01", 6)],
                true,
            ),
            ("down to zero", vec![("2026-03-01", 3), ("2026-03-02", 2), ("2026-03-03", 1), ("2026-03-04", 0)], true),
        ];
        for (case, days, falling) in cases {
            let found = detect(&series("s1", "SKU-1", &days));
            let expected: Vec<String> =
                if falling { vec!["sales-falling:s1".into(), "sales-falling:s1:SKU-1".into()] } else { Vec::new() };
            assert_eq!(keys(&found), expected, "{case}");
        }
    }

    #[test]
    fn total_and_skus_fall_independently_and_a_missing_sku_row_counts_as_zero() {
        let mut sales =
            series("s1", "SKU-1", &[("2026-03-01", 10), ("2026-03-02", 20), ("2026-03-03", 30), ("2026-03-04", 40)]);
        // SKU-2 falls to nothing: no row on the last day (the store reported SKU-1 that day).
        sales.extend(series("s1", "SKU-2", &[("2026-03-01", 9), ("2026-03-02", 6), ("2026-03-03", 3)]));
        // Total: 1900, 2600, 3300, 4000 cents: rising.
        assert_eq!(keys(&detect(&sales)), vec!["sales-falling:s1:SKU-2".to_owned()]);
        let found = detect(&sales);
        assert_eq!(found[0].values, vec![9, 6, 3, 0]);
        assert_eq!(found[0].days.first().map(String::as_str), Some("2026-03-01"));
    }

    #[test]
    fn the_total_is_the_sales_value_summed_over_skus_and_stores_are_separate() {
        let mut sales = vec![
            sale("s1", "A", "2026-03-01", 1, 900),
            sale("s1", "B", "2026-03-01", 1, 300),
            sale("s1", "A", "2026-03-02", 1, 600),
            sale("s1", "B", "2026-03-02", 1, 500),
            sale("s1", "A", "2026-03-03", 1, 1000),
            sale("s1", "A", "2026-03-04", 1, 100),
        ];
        sales.extend(series("s2", "A", &[("2026-03-01", 4), ("2026-03-02", 3), ("2026-03-03", 2), ("2026-03-04", 1)]));
        // s1 totals 1200, 1100, 1000, 100: falling, while its SKUs do not fall in units.
        let found = detect(&sales);
        assert_eq!(keys(&found), vec!["sales-falling:s1", "sales-falling:s2", "sales-falling:s2:A"]);
        let cause = found[0].cause("Corner Shop", None, &Locale::new("Europe/Berlin", "EUR").unwrap());
        assert_eq!(cause.title, "Sales falling: Corner Shop");
        assert!(cause.detail.contains("2026-03-04: 1.00 EUR"), "{}", cause.detail);
        assert_eq!(cause.sku, None);
        assert_eq!(found[2].cause("Kiosk", None, &Locale::default()).sku.as_deref(), Some("A"));
    }
}
