//! Plain-text formats of counts, sizes, amounts and durations, shared by the dashboard and the
//! alert texts: `1,234.50`, `3.1` (MB), `5 h 20 min`, `3 h ago`. Days, times and the currency
//! depend on the tenant: [`crate::locale::Locale`]. The `_in` forms write for a reader of a
//! language, with the words from the message catalog (`3 小时前`, `5 小时 20 分钟`).

use fieldsync_core::i18n::{Language, Message};

use crate::messages::catalog;

/// `1,000,000`: a whole number with its thousands grouped (the same in English and Chinese).
pub fn count(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if n < 0 { format!("-{grouped}") } else { grouped }
}

/// `3.1` of `3_140_000` bytes: megabytes (10⁶ bytes) with one decimal, the whole part grouped
/// like [`count`] (the same in English and Chinese).
pub fn megabytes(bytes: i64) -> String {
    let tenths = (i128::from(bytes.max(0)) + 50_000) / 100_000;
    format!("{}.{}", count(tenths / 10), tenths % 10)
}

/// [`duration`] for a reader of `language`: `5 h 20 min`, `5 小时 20 分钟`.
pub fn duration_in(language: Language, ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    let message = match minutes {
        0..=59 => Message::new("time-duration-minutes").arg("minutes", minutes),
        60..=2879 => Message::new("time-duration-hours").arg("hours", minutes / 60).arg("minutes", minutes % 60),
        _ => Message::new("time-duration-days").arg("days", minutes / 1440).arg("hours", minutes % 1440 / 60),
    };
    catalog().text(language, &message)
}

/// [`age`] for a reader of `language`: `3 h ago`, `3 小时前`.
pub fn age_in(language: Language, ms: i64, now: i64) -> String {
    let minutes = now.saturating_sub(ms) / 60_000;
    let message = match minutes {
        i64::MIN..=0 => Message::new("time-just-now"),
        1..=59 => Message::new("time-minutes-ago").arg("minutes", minutes),
        60..=2879 => Message::new("time-hours-ago").arg("hours", minutes / 60),
        _ => Message::new("time-days-ago").arg("days", minutes / 1440),
    };
    catalog().text(language, &message)
}

/// `1,234.50` of an amount in hundredths (no currency: [`crate::locale::Locale::money`] adds it).
pub fn amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", abs % 100)
}

/// `45 min`, `5 h 20 min`, `3 d 4 h` of a duration in ms (negative durations count as zero).
pub fn duration(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        0..=59 => format!("{minutes} min"),
        60..=2879 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d {} h", minutes / 1440, minutes % 1440 / 60),
    }
}

/// "3 h ago" style age of a time, relative to `now`.
pub fn age(ms: i64, now: i64) -> String {
    let minutes = now.saturating_sub(ms) / 60_000;
    match minutes {
        i64::MIN..=0 => "just now".to_owned(),
        1..=59 => format!("{minutes} min ago"),
        60..=2879 => format!("{} h ago", minutes / 60),
        _ => format!("{} days ago", minutes / 1440),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_durations_and_counts_read_in_both_languages() {
        let now = 10 * 86_400_000;
        assert_eq!(age_in(Language::English, now - 3 * 3_600_000, now), "3 h ago");
        assert_eq!(age_in(Language::Chinese, now - 3 * 3_600_000, now), "3 小时前");
        assert_eq!(age_in(Language::Chinese, now, now), "刚刚");
        assert_eq!(age_in(Language::Chinese, now - 5 * 86_400_000, now), "5 天前");
        assert_eq!(age(now - 5 * 60_000, now), age_in(Language::English, now - 5 * 60_000, now));
        assert_eq!(duration_in(Language::Chinese, 5 * 3_600_000 + 20 * 60_000), "5 小时 20 分钟");
        assert_eq!(duration_in(Language::English, 5 * 3_600_000 + 20 * 60_000), duration(5 * 3_600_000 + 20 * 60_000));
        assert_eq!(duration_in(Language::Chinese, 3 * 86_400_000 + 4 * 3_600_000), "3 天 4 小时");
        assert_eq!(count(1_000_000_u32), "1,000,000");
        assert_eq!(count(-1234_i64), "-1,234");
        assert_eq!(count(7_u8), "7");
        assert_eq!(megabytes(3_140_000), "3.1");
        assert_eq!(megabytes(8 * 1024 * 1024), "8.4");
        assert_eq!(megabytes(0), "0.0");
        assert_eq!(megabytes(1_234_567_890), "1,234.6");
    }
}
