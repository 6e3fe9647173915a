//! What every list shares: who may see which rows ([`reach`], from the scope, the one access
//! rule), and the parsing of page sizes, cursors and local date ranges from a query string.

use fieldsync_core::i18n::Message;
use fieldsync_core::{DocKind, Role};
use jiff::civil::Date;

use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::scope::{Access, Scope};
use crate::storage::queries::{Cursor, Reach};

/// Rows per page when the asker names no limit.
pub const DEFAULT_LIMIT: u32 = 100;
/// Most rows one page may hold.
pub const MAX_LIMIT: u32 = 1000;

/// Which read-model rows of documents of `kind` the scope reaches.
pub fn reach(scope: &Scope, kind: DocKind) -> Reach {
    match scope.access(kind) {
        Some(Access::Any) => Reach::All,
        Some(Access::Mine) => Reach::Owner(scope.user_id.clone()),
        Some(Access::Region) => scope.region.clone().map_or(Reach::Nothing, Reach::Region),
        None => Reach::Nothing,
    }
}

/// The stores a user looks after: the stores in scope, and for a supervisor only those assigned
/// to them (the visits they make). Narrowing never widens what the scope gives.
pub fn stores_looked_after(scope: &Scope) -> Reach {
    match (scope.role, reach(scope, DocKind::Store)) {
        (_, Reach::Nothing) => Reach::Nothing,
        (Role::Supervisor, _) => Reach::Supervisor(scope.user_id.clone()),
        (_, reach) => reach,
    }
}

fn invalid(what: &str, value: &str, expected: &str) -> Error {
    Error::bad_request("invalid-input", format!("invalid {what} {value:?}: {expected}"))
}

/// A page size: `default` when absent, else 1 to `max`.
pub fn limit(value: Option<&str>, default: u32, max: u32) -> Result<u32> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| invalid("limit", text, &format!("expected a number from 1 to {max}"))),
    }
}

/// The cursor of a page after the first.
pub fn cursor(value: Option<&str>) -> Result<Option<Cursor>> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(Cursor::decode).transpose()
}

/// A local date `YYYY-MM-DD`; `what` is the message id of the field (`refusal-field-from-date`).
pub fn date(what: &'static str, value: Option<&str>) -> Result<Option<Date>> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|text| {
            text.parse::<Date>().map_err(|_| {
                let message = Message::new("refusal-not-a-date").part("field", Message::new(what));
                Error::invalid("invalid-input", message.arg("value", format!("{text:?}")))
            })
        })
        .transpose()
}

/// The instants of a local date range `from`–`to`, both days included: from the start of `from`
/// to the start of the day after `to`. A range that ends before it starts is refused.
pub fn date_range(locale: &Locale, from: Option<&str>, to: Option<&str>) -> Result<(Option<i64>, Option<i64>)> {
    let (from, to) = (date("refusal-field-from-date", from)?, date("refusal-field-to-date", to)?);
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(Error::invalid(
            "invalid-input",
            Message::new("refusal-date-range").arg("to", to).arg("from", from),
        ));
    }
    Ok((from.map(|day| locale.start_of(day)), to.map(|day| locale.start_of(Locale::days_before(day, -1)))))
}

/// Text to search for: trimmed, at most 100 characters; empty is none.
pub fn search_text(value: Option<&str>) -> Result<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) if text.chars().count() > 100 => {
            Err(Error::bad_request("invalid-input", "search text is longer than 100 characters"))
        }
        Some(text) => Ok(Some(text.to_owned())),
    }
}

/// A filter value that must be one of `allowed`.
pub fn one_of(what: &str, value: Option<&str>, allowed: &[&str]) -> Result<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) if allowed.contains(&text) => Ok(Some(text.to_owned())),
        Some(text) => Err(invalid(what, text, &format!("expected one of {}", allowed.join(", ")))),
    }
}

/// An id filter: trimmed, non-empty, at most 200 bytes.
pub fn id(what: &str, value: Option<&str>) -> Result<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) if text.len() > 200 => {
            let start: String = text.chars().take(20).collect();
            Err(invalid(what, &start, "longer than 200 bytes"))
        }
        Some(text) => Ok(Some(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_date_range_covers_whole_local_days_and_bad_values_are_refused() {
        let locale = Locale::new("Asia/Shanghai", "CNY").unwrap();
        let (from, to) = date_range(&locale, Some("2026-12-01"), Some("2026-12-01")).unwrap();
        // 2026-12-01 00:00 +08:00 to 2026-12-02 00:00 +08:00.
        assert_eq!(from, Some(1_796_054_400_000));
        assert_eq!(to, Some(1_796_054_400_000 + 86_400_000));
        assert!(date_range(&locale, Some("2026-12-02"), Some("2026-12-01")).is_err());
        assert!(date_range(&locale, Some("yesterday"), None).is_err());
        assert!(limit(Some("0"), 50, 500).is_err() && limit(Some("501"), 50, 500).is_err());
        assert_eq!(limit(None, 50, 500).unwrap(), 50);
        assert!(one_of("status", Some("lost"), &["open"]).is_err());
        assert!(search_text(Some(&"x".repeat(101))).is_err());
        // A long id of multi-byte characters is refused, not cut inside a character.
        assert!(id("store", Some(&"上".repeat(100))).is_err());
    }

    #[test]
    fn a_supervisor_looks_after_their_assigned_stores_and_a_rep_after_their_own() {
        let scope = |role| Scope { role, user_id: "u".into(), region: Some("north".into()) };
        assert_eq!(stores_looked_after(&scope(Role::Supervisor)), Reach::Supervisor("u".into()));
        assert_eq!(stores_looked_after(&scope(Role::Manager)), Reach::Region("north".into()));
        assert_eq!(stores_looked_after(&scope(Role::Hq)), Reach::All);
        assert_eq!(reach(&scope(Role::Supervisor), DocKind::Order), Reach::Nothing);
        assert_eq!(reach(&scope(Role::Rep), DocKind::Order), Reach::Owner("u".into()));
    }
}
