//! Row validation: each value is checked and converted, and every failure is recorded with its
//! line, so one pass reports all the bad rows of a file. A failure is a message
//! (`refusal-import-line` with the reason as its part `reason`; texts in
//! `server/locales/<tag>/refusals.ftl`), read in English by the API and the command line and in
//! the viewer's language on the dashboard.

use fieldsync_core::i18n::Message;

use crate::services::accounts;

/// Customer tiers a store or a price list may name.
pub const TIERS: &[&str] = &["A", "B", "C"];

/// The failures of a file: the first `keep` messages and a count of all of them.
#[derive(Debug)]
pub struct Errors {
    messages: Vec<(usize, Message)>,
    count: usize,
    keep: usize,
}

/// The failure `reason` of `line`, as the file's refusal names it: `line 3: …`.
pub fn on_line(line: usize, reason: Message) -> Message {
    Message::new("refusal-import-line").arg("line", line).part("reason", reason)
}

impl Errors {
    /// Keeps at most `keep` messages (memory stays bounded on a file where every row is bad).
    pub fn new(keep: usize) -> Self {
        Self { messages: Vec::new(), count: 0, keep }
    }

    /// Records a failure on `line` (0 for the file as a whole).
    pub fn push(&mut self, line: usize, message: Message) {
        self.count += 1;
        if self.messages.len() < self.keep {
            self.messages.push((line, message));
        } else if let Some(last) = self.messages.iter().map(|(l, _)| *l).max()
            && line < last
        {
            // Keep the earliest lines when failures arrive out of order (duplicates found late).
            if let Some(at) = self.messages.iter().position(|(l, _)| *l == last) {
                self.messages[at] = (line, message);
            }
        }
    }

    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// How many failures there were.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The kept failures as (line, message), by line.
    pub fn into_lines(mut self) -> Vec<(usize, Message)> {
        self.messages.sort_by_key(|(line, _)| *line);
        self.messages
    }
}

/// Collects the errors of one row, each prefixed with its line.
pub struct RowCheck<'a> {
    line: usize,
    errors: &'a mut Errors,
    failed: bool,
}

impl<'a> RowCheck<'a> {
    /// Checks the row on `line`.
    pub fn new(line: usize, errors: &'a mut Errors) -> Self {
        Self { line, errors, failed: false }
    }

    /// Records a failure of this row (its message names the line).
    pub fn fail(&mut self, reason: Message) {
        self.failed = true;
        self.errors.push(self.line, on_line(self.line, reason));
    }

    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        !self.failed
    }

    /// A value that must not be empty.
    pub fn text(&mut self, value: &str, column: &str) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.fail(Message::new("refusal-import-empty").arg("column", column));
        }
        value.to_owned()
    }

    /// A region name (as user regions are named).
    pub fn region(&mut self, value: &str) -> String {
        let value = value.trim();
        if let Err(error) = accounts::validate_region(value) {
            let why = error.refusal_message().cloned();
            let why = why.unwrap_or_else(|| Message::new("refusal-as-written").arg("text", error));
            self.fail(Message::new("refusal-import-region").arg("value", format!("{value:?}")).part("why", why));
        }
        value.to_owned()
    }

    /// A region name, or empty for "any region".
    pub fn region_or_any(&mut self, value: &str) -> String {
        if value.trim().is_empty() { String::new() } else { self.region(value) }
    }

    /// A customer tier (`A`, `B`, `C`), or empty for "any tier" when `any` allows it.
    pub fn tier(&mut self, value: &str, any: bool) -> String {
        let value = value.trim();
        if value.is_empty() && any {
            return String::new();
        }
        if !TIERS.contains(&value) {
            let id = if any { "refusal-import-tier-or-any" } else { "refusal-import-tier" };
            self.fail(Message::new(id).arg("value", format!("{value:?}")));
        }
        value.to_owned()
    }

    /// A whole number ≥ `min`.
    pub fn whole_from(&mut self, value: &str, column: &str, min: i64) -> i64 {
        match value.trim().parse::<i64>() {
            Ok(n) if n >= min => n,
            _ => {
                let message = Message::new("refusal-import-whole").arg("column", column);
                self.fail(message.arg("value", format!("{value:?}")).arg("min", min));
                min
            }
        }
    }

    /// A whole number ≥ 0.
    pub fn whole(&mut self, value: &str, column: &str) -> i64 {
        self.whole_from(value, column, 0)
    }

    /// Degrees within ±`limit`.
    pub fn degrees(&mut self, value: &str, column: &str, limit: f64) -> f64 {
        match value.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && (-limit..=limit).contains(&n) => n,
            _ => {
                let message = Message::new("refusal-import-degrees").arg("column", column);
                self.fail(message.arg("value", format!("{value:?}")).arg("limit", limit));
                0.0
            }
        }
    }

    /// A money value ≥ 0 with at most two decimals (`12`, `12.4`, `12.40`), in cents.
    pub fn cents(&mut self, value: &str, column: &str) -> i64 {
        match parse_cents(value.trim()) {
            Some(cents) => cents,
            None => {
                let message = Message::new("refusal-import-amount").arg("column", column);
                self.fail(message.arg("value", format!("{value:?}")));
                0
            }
        }
    }

    /// A calendar day `YYYY-MM-DD`, and its number `YYYYMMDD` (which orders like the day).
    pub fn day(&mut self, value: &str) -> (String, u32) {
        let value = value.trim();
        match parse_day(value) {
            Some(number) => (value.to_owned(), number),
            None => {
                self.fail(Message::new("refusal-import-day").arg("value", format!("{value:?}")));
                (value.to_owned(), 0)
            }
        }
    }

    /// A yes/no flag: `true`/`false`, `yes`/`no`, `1`/`0` (any case).
    pub fn flag(&mut self, value: &str, column: &str) -> bool {
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => {
                let message = Message::new("refusal-import-flag").arg("column", column);
                self.fail(message.arg("value", format!("{value:?}")));
                false
            }
        }
    }
}

/// `D+(.D{1,2})?` as cents; `None` if malformed or too large.
pub fn parse_cents(value: &str) -> Option<i64> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if value.contains('.') && (fraction.is_empty() || fraction.len() > 2) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let units: i64 = whole.parse().ok()?;
    let mut cents: i64 = if fraction.is_empty() { 0 } else { fraction.parse().ok()? };
    if fraction.len() == 1 {
        cents *= 10;
    }
    units.checked_mul(100)?.checked_add(cents)
}

/// A real calendar day `YYYY-MM-DD` (years 1900 to 9999) as the number `YYYYMMDD`.
pub fn parse_day(value: &str) -> Option<u32> {
    // jiff also reads other ISO 8601 forms (`20240229`); the files must use this one.
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let day: jiff::civil::Date = value.parse().ok()?;
    let year = u32::try_from(day.year()).ok().filter(|y| *y >= 1900)?;
    Some(year * 10_000 + u32::from(day.month().unsigned_abs()) * 100 + u32::from(day.day().unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_values_become_cents() {
        for (text, cents) in [("12", Some(1200)), ("12.4", Some(1240)), ("12.40", Some(1240)), ("0.05", Some(5))] {
            assert_eq!(parse_cents(text), cents, "{text}");
        }
        for text in ["", "-1", "1.", ".5", "1.234", "1,20", "1e3", "12.4a", "99999999999999999999"] {
            assert_eq!(parse_cents(text), None, "{text}");
        }
    }

    #[test]
    fn only_real_days_are_days() {
        assert_eq!(parse_day("2024-02-29"), Some(20_240_229));
        assert_eq!(parse_day("2000-02-29"), Some(20_000_229));
        for text in ["2023-02-29", "1900-02-29", "2024-13-01", "2024-04-31", "2024-1-01", "24-01-01", "2024/01/01"] {
            assert_eq!(parse_day(text), None, "{text}");
        }
    }

    #[test]
    fn errors_keep_the_earliest_lines_and_count_them_all() {
        let mut errors = Errors::new(2);
        for line in [5, 9, 3, 7] {
            errors.push(line, Message::new(format!("line {line}")));
        }
        assert_eq!(errors.count(), 4);
        let codes: Vec<String> = errors.into_lines().into_iter().map(|(_, message)| message.code).collect();
        assert_eq!(codes, vec!["line 3", "line 5"]);
    }
}
