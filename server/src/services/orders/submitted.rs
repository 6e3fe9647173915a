//! Submitted orders as admission read them, kept for their review: admission hydrates every
//! order it stores (its index, read-model rows and events come from that one read), and the
//! review that follows a moment later would load and hydrate it again — a fifth of the review's
//! CPU. An entry is the typed order at the heads admission stored; the review takes it only when
//! the stored heads are still those ([`SubmittedOrders::take`]), and loads the document
//! otherwise (a relay restarted in between, an entry evicted, an order changed since).

use std::sync::Arc;
use std::time::Duration;

use fieldsync_core::doc::{Order, OrderStatus};
use fieldsync_core::{DocumentId, sync::protocol::Head};

/// How long an entry waits for its review before it is dropped: reviews follow admission
/// within seconds, even at a morning rush.
const KEPT_FOR: Duration = Duration::from_secs(60);

/// Submitted orders waiting for their review, by tenant and id (bounded, see
/// `Config::kept_submissions`; entries expire after a minute).
#[derive(Clone)]
pub struct SubmittedOrders(moka::sync::Cache<(i64, DocumentId), (Vec<Head>, Arc<Order>)>);

impl Default for SubmittedOrders {
    fn default() -> Self {
        Self::holding(crate::config::KEPT_SUBMISSIONS)
    }
}

impl SubmittedOrders {
    /// A cache of at most `orders` orders.
    pub fn holding(orders: u64) -> Self {
        Self(moka::sync::Cache::builder().max_capacity(orders).time_to_live(KEPT_FOR).build())
    }

    /// Keeps `order`, stored at `heads`, for its review; an order that is not submitted is not
    /// reviewed and is not kept.
    pub fn keep(&self, tenant_id: i64, id: &DocumentId, heads: &[Head], order: Order) {
        if order.status == OrderStatus::Submitted {
            self.0.insert((tenant_id, id.clone()), (sorted(heads), Arc::new(order)));
        } else {
            self.0.invalidate(&(tenant_id, id.clone()));
        }
    }

    /// Whether an order is kept for `id` (at whatever heads).
    pub fn holds(&self, tenant_id: i64, id: &DocumentId) -> bool {
        self.0.contains_key(&(tenant_id, id.clone()))
    }

    /// The order kept for `id` if it was kept at exactly `heads` (the heads stored now), and
    /// forgets it: a review reads it once.
    pub fn take(&self, tenant_id: i64, id: &DocumentId, heads: &[Head]) -> Option<Order> {
        let (kept_at, order) = self.0.remove(&(tenant_id, id.clone()))?;
        (kept_at == sorted(heads)).then(|| Arc::unwrap_or_clone(order))
    }
}

fn sorted(heads: &[Head]) -> Vec<Head> {
    let mut heads = heads.to_vec();
    heads.sort_unstable();
    heads
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::*;

    fn order(status: OrderStatus) -> Order {
        Order {
            owner: "rep".into(),
            store_id: "s".into(),
            customer_id: "c".into(),
            status,
            lines: BTreeMap::new(),
            notes: String::new(),
            created_at: 1,
            updated_at: 2,
            submitted_at: Some(2),
            submission: 1,
        }
    }

    #[test]
    fn an_order_is_taken_once_and_only_at_the_heads_it_was_kept_at() {
        let kept = SubmittedOrders::default();
        let id = DocumentId::random();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        kept.keep(7, &id, &[b, a], order(OrderStatus::Submitted));
        // Another tenant's id is another entry.
        assert!(kept.holds(7, &id) && !kept.holds(8, &id));
        assert_eq!(kept.take(8, &id, &[a, b]), None);
        // The heads in any order; then it is gone.
        assert_eq!(kept.take(7, &id, &[a, b]), Some(order(OrderStatus::Submitted)));
        assert_eq!(kept.take(7, &id, &[a, b]), None);
        assert!(!kept.holds(7, &id));

        // Kept at other heads (the order moved since): not taken, and forgotten.
        kept.keep(7, &id, &[a], order(OrderStatus::Submitted));
        assert_eq!(kept.take(7, &id, &[b]), None);
        assert_eq!(kept.take(7, &id, &[a]), None);

        // A draft is not kept, and reopening a kept order forgets it.
        kept.keep(7, &id, &[a], order(OrderStatus::Submitted));
        kept.keep(7, &id, &[b], order(OrderStatus::Draft));
        assert_eq!(kept.take(7, &id, &[a]), None);
        assert_eq!(kept.take(7, &id, &[b]), None);
    }
}
