//! Order numbering: the readable number a review gives an order (`N-000123`), taken from a
//! per-tenant counter in storage. Numbers may have gaps, never duplicates.

/// An order's readable number as people see it: `N-000123`.
pub fn order_number(n: u64) -> String {
    format!("N-{n:06}")
}
