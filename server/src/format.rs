//! Plain-text formats of amounts and durations, shared by the dashboard and the alert texts:
//! `1,234.50`, `5 h 20 min`, `3 h ago`. Days, times and the currency depend on the tenant:
//! [`crate::locale::Locale`].

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
