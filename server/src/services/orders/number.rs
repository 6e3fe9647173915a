//! Order numbering: the readable number a review gives an order (`N-000123`), taken from a
//! per-tenant counter in storage. Numbers may have gaps, never duplicates.

/// An order's readable number as people see it: `N-000123`.
pub fn order_number(n: u64) -> String {
    format!("N-{n:06}")
}

/// The order number `text` names when it is shaped like one — `N-000123`, `n-123`, `N123` or
/// `123` all name `N-000123` — for searches: people type numbers from a phone or a CSV, with or
/// without the leading zeros.
pub fn named_in(text: &str) -> Option<String> {
    let text = text.trim();
    let digits = text.strip_prefix(['N', 'n']).map_or(text, |rest| rest.strip_prefix('-').unwrap_or(rest));
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().map(order_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_named_with_or_without_its_prefix_and_zeros() {
        for text in ["N-000123", "n-123", "N123", "123", " 000123 "] {
            assert_eq!(named_in(text).as_deref(), Some("N-000123"), "{text}");
        }
        assert_eq!(named_in("N-1234567").as_deref(), Some("N-1234567"));
        for text in ["", "N-", "N-12a", "tea", "12.5", "-12", "N--12", "9999999999999999999"] {
            assert_eq!(named_in(text), None, "{text}");
        }
    }
}
