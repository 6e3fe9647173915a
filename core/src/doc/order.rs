//! `order`: a rep's order, written only by the rep who owns it.
//!
//! Merge behaviour, field by field:
//! - `lines` is a map keyed by a random line id, so lines added, edited or removed on two of the
//!   rep's devices merge per line. Within a line each field is last-writer-wins: a quantity is a
//!   value the rep sets ("6 cases"), not an increment, so summing concurrent edits (a counter)
//!   would order stock nobody asked for. A line removed on one device and edited on another stays
//!   removed.
//! - `status`, `notes` and the timestamps are last-writer-wins registers. Notes are short, so a
//!   whole-value register is clearer for the rep than a character merge.
//! - `owner`, `store_id` and `customer_id` are written once, at creation.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};

/// Where an order is in its life on the phone. Verdicts (approved, rejected) are not here: they
/// arrive in the order's [`OrderReview`](super::OrderReview), which only the relay writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hydrate, Reconcile)]
pub enum OrderStatus {
    /// Being edited by the rep.
    Draft,
    /// Sent for review; reopen it to edit again.
    Submitted,
}

impl OrderStatus {
    /// The name used in the index and in lists.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Draft => "draft",
            OrderStatus::Submitted => "submitted",
        }
    }
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct OrderLine {
    /// Product SKU.
    pub sku: String,
    /// Quantity in the product's unit; always positive.
    pub qty: i64,
    /// Unit price before discount, in cents.
    pub unit_price_cents: i64,
    /// Line discount in basis points (1250 = 12.5 %).
    pub discount_bp: i64,
    /// Creation order, for display: lines are shown sorted by it.
    pub position: i64,
}

impl OrderLine {
    /// The line total after discount, in cents, rounded half up.
    ///
    /// Saturates instead of overflowing: a line is a device's input, and absurd values (refused
    /// by the review's validation) must still total without a panic.
    pub fn total_cents(&self) -> i64 {
        let gross = i128::from(self.qty) * i128::from(self.unit_price_cents);
        let kept = 10_000 - i128::from(self.discount_bp);
        let net = gross.saturating_mul(kept).saturating_add(5_000) / 10_000;
        i64::try_from(net).unwrap_or(if net < 0 { i64::MIN } else { i64::MAX })
    }
}

/// A rep's order for one store.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Order {
    /// The rep's user id.
    pub owner: String,
    /// The store the order is for.
    pub store_id: String,
    /// The customer (account) billed.
    pub customer_id: String,
    /// Draft or submitted.
    pub status: OrderStatus,
    /// Lines by line id.
    pub lines: BTreeMap<String, OrderLine>,
    /// Free text for the back office.
    pub notes: String,
    /// Creation time, ms since the Unix epoch.
    pub created_at: i64,
    /// Last edit, ms since the Unix epoch.
    pub updated_at: i64,
    /// Last submission, ms since the Unix epoch.
    pub submitted_at: Option<i64>,
    /// How many times the order was submitted; a resubmission is reviewed again.
    pub submission: u64,
}

impl Order {
    /// Units ordered by SKU, over all lines (lines of no units left out): what a review of the
    /// order reserves.
    pub fn units_by_sku(&self) -> BTreeMap<String, i64> {
        let mut units = BTreeMap::new();
        for line in self.lines.values().filter(|l| l.qty > 0) {
            *units.entry(line.sku.clone()).or_insert(0) += line.qty;
        }
        units
    }

    /// Lines in display order.
    pub fn lines_in_order(&self) -> Vec<(&String, &OrderLine)> {
        let mut lines: Vec<_> = self.lines.iter().collect();
        lines.sort_by_key(|(id, line)| (line.position, (*id).clone()));
        lines
    }

    /// The order total after line discounts, in cents.
    pub fn total_cents(&self) -> i64 {
        self.lines.values().map(OrderLine::total_cents).fold(0, i64::saturating_add)
    }
}

impl DocumentModel for Order {
    const KIND: DocKind = DocKind::Order;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            status: Some(self.status.as_str().to_owned()),
            store_id: Some(self.store_id.clone()),
            owner: Some(self.owner.clone()),
            subject_id: Some(self.customer_id.clone()),
            created_at: Some(self.created_at),
            updated_at: Some(self.updated_at),
            amount_cents: Some(self.total_cents()),
            item_count: i64::try_from(self.lines.len()).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_of_absurd_numbers_totals_saturated_instead_of_overflowing() {
        let line = |qty, unit_price_cents, discount_bp| OrderLine {
            sku: "X".into(),
            qty,
            unit_price_cents,
            discount_bp,
            position: 0,
        };
        assert_eq!(line(i64::MAX, i64::MAX, i64::MIN).total_cents(), i64::MAX);
        assert_eq!(line(i64::MAX, i64::MIN, i64::MIN).total_cents(), i64::MIN);
        assert_eq!(line(3, 1_000, 1_000).total_cents(), 2_700);
    }

    #[test]
    fn line_totals_apply_the_discount_and_round_half_up() {
        let line = OrderLine { sku: "A".into(), qty: 3, unit_price_cents: 999, discount_bp: 1250, position: 0 };
        // 2997 * 0.875 = 2622.375
        assert_eq!(line.total_cents(), 2622);
        let line = OrderLine { discount_bp: 0, ..line };
        assert_eq!(line.total_cents(), 2997);
    }
}
