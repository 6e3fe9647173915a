//! The shared business rules for orders: the phone previews with them, the relay decides with
//! them, so a rep never sees one verdict offline and another after sync (as long as both hold the
//! same catalog).
//!
//! Pure functions over plain inputs (the catalog, the store, the order lines, a stock view and
//! the time), no I/O:
//! - [`pricing`]: list price (customer price, price list by tier and region with quantity
//!   breaks, base price), promotions (dates, scope, priority, stacking), discount limits;
//! - [`validation`]: explainable [`Finding`]s (`line 3: unit price 12.40 below floor 13.00 for
//!   tier B`), the minimum order value, stock;
//! - [`routing`]: the approval steps the tenant's [`ApprovalPolicy`](crate::doc::ApprovalPolicy)
//!   asks for;
//! - [`approval`]: applying an approver's decision to the review;
//! - [`deadline`]: the SLA of a waiting step, its reminder and escalation.
//!
//! [`assess`] runs the first three in order and is what both sides call.

pub mod approval;
pub mod deadline;
pub mod pricing;
pub mod routing;
pub mod validation;

use std::collections::{BTreeMap, BTreeSet};

use crate::doc::{Catalog, Finding, Inventory, OrderLine, RetailStore, ReviewOutcome, Severity};
use pricing::PricedLine;
use routing::{RoutedStep, RoutingFacts};

pub use approval::{Applied, DecisionInput, DecisionRefused, Revision, apply_decision, check_decision};
pub use pricing::{ListPrice, PriceSource, list_price, price_lines};
pub use routing::route;
pub use validation::code;

/// A stock view to check an order against.
#[derive(Debug, Clone, Copy)]
pub struct StockView<'a> {
    /// The inventory of the store's region.
    pub inventory: &'a Inventory,
    /// Units already reserved for this order, by SKU: they do not count against it (a re-review
    /// does not compete with itself).
    pub reserved_for_order: &'a BTreeMap<String, i64>,
}

/// What the rules conclude about one order, before approvers are named.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The lines, priced, in display order.
    pub lines: Vec<PricedLine>,
    /// Validation findings: lines in order, then the order, then stock.
    pub findings: Vec<Finding>,
    /// The approval steps it needs (empty when rejected or approved automatically).
    pub steps: Vec<RoutedStep>,
    /// The order total after line discounts, in cents.
    pub total_cents: i64,
}

impl Assessment {
    /// Whether a finding blocks the order.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The verdict before anyone decides: rejected on an error, waiting when it needs
    /// approval, otherwise approved.
    pub fn outcome(&self) -> ReviewOutcome {
        if self.has_errors() {
            ReviewOutcome::Rejected
        } else if self.steps.is_empty() {
            ReviewOutcome::Approved
        } else {
            ReviewOutcome::NeedsApproval
        }
    }

    /// Units ordered by SKU (what a review reserves).
    pub fn units_by_sku(&self) -> BTreeMap<String, i64> {
        validation::units_by_sku(&self.lines)
    }
}

/// Prices, validates and routes an order for a store at time `now` (ms since the Unix epoch).
/// With a stock view, stock is checked too (the caller reports a missing view as it sees fit:
/// the relay adds a [`code::STOCK_UNKNOWN`] finding).
pub fn assess(
    catalog: &Catalog,
    store_id: &str,
    store: &RetailStore,
    lines: &[(String, OrderLine)],
    stock: Option<StockView<'_>>,
    now: i64,
) -> Assessment {
    let lines = price_lines(catalog, store_id, store, lines, now);
    let mut findings = validation::validate_lines(catalog, &store.tier, &lines);
    findings.extend(validation::validate_order(&catalog.discount_policy, &lines));
    if let Some(stock) = stock {
        findings.extend(validation::check_stock(&lines, stock.inventory, stock.reserved_for_order));
    }
    let total_cents = lines.iter().map(|l| l.total_cents).fold(0, i64::saturating_add);
    let mut assessment = Assessment { lines, findings, steps: Vec::new(), total_cents };
    if !assessment.has_errors() {
        let facts = routing_facts(store, &assessment);
        assessment.steps = route(catalog.approval_policy.as_ref(), &facts);
    }
    assessment
}

/// What routing looks at for an assessed order.
pub fn routing_facts(store: &RetailStore, assessment: &Assessment) -> RoutingFacts {
    let lines = &assessment.lines;
    RoutingFacts {
        tier: store.tier.clone(),
        region: store.region.clone(),
        categories: lines.iter().filter_map(|l| l.category.clone()).collect::<BTreeSet<_>>(),
        total_cents: assessment.total_cents,
        max_discount_bp: lines.iter().map(|l| l.discount_bp).max().unwrap_or(0),
        over_discount_limit: assessment.findings.iter().any(|f| f.code == code::DISCOUNT_OVER_LIMIT),
        out_of_policy: assessment.findings.iter().any(|f| f.severity == Severity::Warning),
    }
}

/// Cents as a decimal amount: `1240` → `12.40`, `-5` → `-0.05`.
pub fn fmt_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Basis points as a percentage: `1250` → `12.50%`.
pub fn fmt_bp(bp: i64) -> String {
    format!("{}%", fmt_cents(bp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_percentages_read_like_money() {
        for (cents, text) in [(1240, "12.40"), (5, "0.05"), (0, "0.00"), (-5, "-0.05"), (100_000, "1000.00")] {
            assert_eq!(fmt_cents(cents), text);
        }
        assert_eq!(fmt_bp(1250), "12.50%");
        assert_eq!(fmt_bp(301), "3.01%");
    }
}
