//! Charts rendered on the server as SVG (no JavaScript, no library, nothing fetched): orders per
//! day, the distribution of inspection scores, and approval times. Every chart is an
//! `role="img"` element with a `<title>`, axis labels, and a `<title>` per bar that a screen
//! reader (or a mouse hover) reads out.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{OrderStatus, ReviewOutcome};

use jiff::civil::Date;

use super::html::{esc, secure_headers};
use super::pages::{OrderRow, order_rows};
use super::session::Viewer;
use super::{DashError, Section};
use crate::locale::Locale;
use crate::services::accounts;
use crate::state::AppState;

/// How many days the chart shows, today included.
pub const CHART_DAYS: usize = 14;

/// Width of a score bucket, in points of the 0–100 audit score.
pub const SCORE_BUCKET: f64 = 10.0;

const HOUR_MS: i64 = 3_600_000;

/// Upper bounds (exclusive) of the approval-time buckets, in ms, with their labels; the last
/// bucket has no upper bound.
pub const APPROVAL_BUCKETS: [(Option<i64>, &str); 7] = [
    (Some(HOUR_MS), "< 1 h"),
    (Some(4 * HOUR_MS), "1–4 h"),
    (Some(8 * HOUR_MS), "4–8 h"),
    (Some(24 * HOUR_MS), "8–24 h"),
    (Some(48 * HOUR_MS), "1–2 d"),
    (Some(7 * 24 * HOUR_MS), "2–7 d"),
    (None, "≥ 7 d"),
];

/// A bar chart: one bar per labelled count.
#[derive(Debug, Clone)]
pub struct BarChart<'a> {
    /// The `id` of the `<svg>` element (its title gets `{id}-title`).
    pub id: &'a str,
    /// What the chart shows, read out first.
    pub title: String,
    /// What the bars stand for (x axis).
    pub x_label: &'a str,
    /// What the heights count (y axis), also used in each bar's title: "3 orders".
    pub y_label: &'a str,
    /// (label under the bar, full label in the bar's title, count).
    pub bars: Vec<(String, String, u32)>,
}

/// Renders a [`BarChart`] as an `<svg>` element.
pub fn render(chart: &BarChart<'_>) -> String {
    let (width, height, left, bottom, top) = (720.0_f64, 220.0_f64, 48.0_f64, 44.0_f64, 12.0_f64);
    let max = chart.bars.iter().map(|(_, _, c)| *c).max().unwrap_or(0).max(1);
    let plot_h = height - bottom - top;
    let slot = (width - left) / chart.bars.len().max(1) as f64;
    let id = esc(chart.id);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" \
         aria-labelledby=\"{id}-title\" id=\"{id}\"><title id=\"{id}-title\">{}</title>",
        esc(&chart.title)
    );
    let base = height - bottom;
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{width}\" y2=\"{base}\" stroke=\"#9aa5b1\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{base}\" stroke=\"#9aa5b1\"/>\
         <text x=\"{tx}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"end\" fill=\"#52606d\">{max}</text>\
         <text x=\"{tx}\" y=\"{base}\" font-size=\"11\" text-anchor=\"end\" fill=\"#52606d\">0</text>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{width}\" y2=\"{top}\" stroke=\"#e4e7eb\"/>\
         <text class=\"axis-label\" x=\"{xl}\" y=\"{xly}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#3e4c59\">{x_label}</text>\
         <text class=\"axis-label\" x=\"14\" y=\"{mid}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#3e4c59\" \
         transform=\"rotate(-90 14 {mid})\">{y_label}</text>",
        tx = left - 4.0,
        ty = top + 4.0,
        xl = left + (width - left) / 2.0,
        xly = height - 4.0,
        mid = top + plot_h / 2.0,
        x_label = esc(chart.x_label),
        y_label = esc(chart.y_label),
    );
    for (i, (short, long, count)) in chart.bars.iter().enumerate() {
        let bar_h = plot_h * f64::from(*count) / f64::from(max);
        let x = left + slot * i as f64 + slot * 0.15;
        let y = base - bar_h;
        let _ = write!(
            svg,
            "<g><title>{long}: {count} {what}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h:.1}\" fill=\"#2f6fb2\" rx=\"2\"/>\
             <text x=\"{cx:.1}\" y=\"{ly:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#52606d\">{short}</text>",
            long = esc(long),
            what = esc(&chart.y_label.to_lowercase()),
            w = slot * 0.7,
            cx = x + slot * 0.35,
            ly = base + 14.0,
            short = esc(short),
        );
        if *count > 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#1f2933\">{count}</text>",
                x + slot * 0.35,
                y - 3.0
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

/// Submitted orders per local day of the tenant for the last `days` days, today included
/// (oldest first): (day, count).
pub fn orders_per_day_counts(rows: &[OrderRow], now: i64, days: usize, locale: &Locale) -> Vec<(Date, u32)> {
    let today = locale.day_of(now);
    let back = i64::try_from(days).unwrap_or(0) - 1;
    let mut counts: Vec<(Date, u32)> = (0..=back).rev().map(|n| (Locale::days_before(today, n), 0)).collect();
    for row in rows.iter().filter(|r| r.order.value.status == OrderStatus::Submitted) {
        let day = locale.day_of(row.at());
        if let Ok(i) = counts.binary_search_by_key(&day, |(d, _)| *d) {
            counts[i].1 += 1;
        }
    }
    counts
}

/// The orders-per-day chart of `(day, count)`; `zone` names the time zone of the days.
pub fn bar_chart(days: &[(Date, u32)], zone: &str) -> String {
    let bars = days
        .iter()
        .map(|(day, count)| {
            let label = day.to_string();
            let short = label.get(5..).unwrap_or(&label).to_owned();
            (short, label, *count)
        })
        .collect();
    let x_label = format!("Day ({zone})");
    render(&BarChart {
        id: "orders-per-day",
        title: format!("Submitted orders per day, last {} days", days.len()),
        x_label: &x_label,
        y_label: "Orders",
        bars,
    })
}

/// Counts of scores (0–100) in buckets of [`SCORE_BUCKET`] points: `[0, 10)`, …, `[90, 100]`
/// (100 falls in the last bucket; scores outside 0–100 are clamped).
pub fn score_buckets(scores: &[f64]) -> [u32; 10] {
    let mut counts = [0u32; 10];
    for score in scores.iter().filter(|s| s.is_finite()) {
        let bucket = (score.clamp(0.0, 100.0) / SCORE_BUCKET).floor() as usize;
        if let Some(slot) = counts.get_mut(bucket.min(9)) {
            *slot += 1;
        }
    }
    counts
}

/// The score-distribution chart of `scores` (0–100), with `what` saying which inspections.
pub fn score_chart(scores: &[f64], what: &str) -> String {
    let bars = score_buckets(scores)
        .iter()
        .enumerate()
        .map(|(i, count)| {
            let low = i * 10;
            let high = if i == 9 { "100".to_owned() } else { format!("<{}", low + 10) };
            (format!("{low}–{}", low + if i == 9 { 10 } else { 9 }), format!("score {low} to {high}"), *count)
        })
        .collect();
    render(&BarChart {
        id: "score-distribution",
        title: format!("Inspection scores in 10-point buckets, {what} ({} scored)", scores.len()),
        x_label: "Score",
        y_label: "Inspections",
        bars,
    })
}

/// Submitted-to-decided times, in ms, of the orders whose current submission needed approval
/// and was decided (approved or rejected by an approver). Orders approved or rejected at once by
/// the review are left out: they took no one's time.
pub fn approval_times<'a>(rows: impl IntoIterator<Item = &'a OrderRow>) -> Vec<i64> {
    rows.into_iter()
        .filter_map(|row| row.review.as_ref())
        .map(|review| &review.value)
        .filter(|r| !r.steps.is_empty() && matches!(r.outcome, ReviewOutcome::Approved | ReviewOutcome::Rejected))
        .filter_map(|r| r.time_to_decision_ms())
        .filter(|ms| *ms >= 0)
        .collect()
}

/// The median of `values` (the mean of the middle two for an even count), `None` when empty.
pub fn median(values: &[i64]) -> Option<i64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => sorted.get(n / 2).copied(),
        _ => Some(sorted.get(n / 2 - 1)?.saturating_add(*sorted.get(n / 2)?) / 2),
    }
}

/// Counts of durations (ms) in [`APPROVAL_BUCKETS`].
pub fn approval_buckets(times: &[i64]) -> [u32; 7] {
    let mut counts = [0u32; 7];
    for ms in times {
        let bucket = APPROVAL_BUCKETS.iter().position(|(limit, _)| limit.is_none_or(|l| *ms < l)).unwrap_or(6);
        if let Some(slot) = counts.get_mut(bucket) {
            *slot += 1;
        }
    }
    counts
}

/// The approval-time chart of `times` (ms from submission to decision).
pub fn approval_chart(times: &[i64]) -> String {
    let bars = approval_buckets(times)
        .iter()
        .zip(APPROVAL_BUCKETS)
        .map(|(count, (_, label))| (label.to_owned(), format!("decided in {label}"), *count))
        .collect();
    render(&BarChart {
        id: "approval-times",
        title: format!(
            "Approval times from submission to decision, orders that needed approval ({} decided)",
            times.len()
        ),
        x_label: "Time from submission to decision",
        y_label: "Orders",
        bars,
    })
}

/// `GET /dashboard/orders-per-day.svg`: the chart on its own, for reports and e-mails.
pub async fn orders_per_day(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let locale = accounts::tenant_locale(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let rows = order_rows(&state, &viewer).await?;
    let svg = bar_chart(&orders_per_day_counts(&rows, now_ms(), CHART_DAYS, &locale), locale.time_zone());
    let mut response = svg.into_response();
    secure_headers(&mut response, "default-src 'none'; style-src 'unsafe-inline'");
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_one_bar_per_day_and_labels_its_counts_and_axes() {
        let first = jiff::civil::date(1970, 1, 1);
        let days: Vec<(Date, u32)> =
            (0..14).map(|d| (Locale::days_before(first, -d), if d == 13 { 5 } else { 1 })).collect();
        let svg = bar_chart(&days, "Europe/Berlin");
        assert_eq!(svg.matches("<rect").count(), 14);
        assert!(svg.contains("1970-01-14: 5 orders"));
        assert!(svg.contains(">Day (Europe/Berlin)</text>") && svg.contains(">Orders</text>"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn scores_fall_in_ten_point_buckets_with_100_in_the_last() {
        let counts = score_buckets(&[0.0, 9.99, 10.0, 55.5, 90.0, 100.0, 130.0, -4.0, f64::NAN]);
        assert_eq!(counts, [3, 1, 0, 0, 0, 1, 0, 0, 0, 3]);
        let svg = score_chart(&[42.0, 47.0, 99.0], "last 7 days");
        assert_eq!(svg.matches("<rect").count(), 10);
        assert!(svg.contains("score 40 to &lt;50: 2 inspections"), "{svg}");
        assert!(svg.contains("<title id=\"score-distribution-title\">") && svg.contains(">Score</text>"));
    }

    #[test]
    fn approval_times_are_bucketed_and_their_median_is_the_middle_value() {
        let h = HOUR_MS;
        assert_eq!(approval_buckets(&[0, h - 1, h, 5 * h, 30 * h, 200 * h]), [2, 1, 1, 0, 1, 0, 1]);
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5, 1, 3]), Some(3));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2));
        let svg = approval_chart(&[h / 2, 3 * h]);
        assert_eq!(svg.matches("<rect").count(), 7);
        assert!(svg.contains("decided in &lt; 1 h: 1 orders"), "{svg}");
    }
}
