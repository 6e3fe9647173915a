//! Charts rendered on the server as SVG (no JavaScript, no library, nothing fetched): orders per
//! day, the distribution of inspection scores, and approval times. Their numbers are aggregates
//! the database computed ([`crate::storage::queries`]); this module only draws them. Every chart
//! is an `role="img"` element with a `<title>`, axis labels, and a `<title>` per bar that a
//! screen reader (or a mouse hover) reads out. An empty chart says so instead of bare axes.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fieldsync_core::DocKind;
use fieldsync_core::clock::now_ms;
use maud::{Markup, html};

use fieldsync_core::i18n::Language;

use super::html::secure_headers;
use super::session::Viewer;
use super::texts::t;
use super::{DashError, Section};
use crate::locale;
use crate::services::listing;
use crate::services::overview::CHART_DAYS;
use crate::state::AppState;
use crate::storage::queries::{self, ApprovalTimes, OrderFilter};

/// Labels of the approval-time buckets ([`crate::storage::queries::APPROVAL_BOUNDS_MS`], and
/// one open-ended), as ids of the dashboard's catalog.
pub const APPROVAL_LABELS: [&str; 7] = [
    "chart-approval-under-1h",
    "chart-approval-1-4h",
    "chart-approval-4-8h",
    "chart-approval-8-24h",
    "chart-approval-1-2d",
    "chart-approval-2-7d",
    "chart-approval-over-7d",
];

/// A bar chart: one bar per labelled count.
#[derive(Debug, Clone)]
pub struct BarChart<'a> {
    /// The `id` of the `<svg>` element (its title gets `{id}-title`).
    pub id: &'a str,
    /// The language of its words.
    pub language: Language,
    /// What the chart shows, read out first.
    pub title: String,
    /// What the bars stand for (x axis).
    pub x_label: String,
    /// What the heights count (y axis).
    pub y_label: String,
    /// (label under the bar, the bar's title with its count: "1970-01-14: 5 orders", count).
    pub bars: Vec<(String, String, u64)>,
}

/// A chart for a page: the `<svg>`, or a note when every bar is zero.
pub fn shown(chart: &BarChart<'_>) -> Markup {
    if chart.bars.iter().all(|(_, _, count)| *count == 0) {
        return html! { p.muted.empty-chart id=(chart.id) { (t!(chart.language, "chart-empty", chart = chart.title.as_str())) } };
    }
    render(chart)
}

/// Renders a [`BarChart`] as an `<svg>` element.
pub fn render(chart: &BarChart<'_>) -> Markup {
    let (width, height, left, bottom, top) = (720.0_f64, 220.0_f64, 48.0_f64, 44.0_f64, 12.0_f64);
    let max = chart.bars.iter().map(|(_, _, c)| *c).max().unwrap_or(0).max(1);
    let plot_h = height - bottom - top;
    let slot = (width - left) / chart.bars.len().max(1) as f64;
    let base = height - bottom;
    let (tx, mid) = (left - 4.0, top + plot_h / 2.0);
    let f = |x: f64| format!("{x:.1}");
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width) " " (height) } width="100%" role="img"
            aria-labelledby={ (chart.id) "-title" } id=(chart.id) {
            title id={ (chart.id) "-title" } { (chart.title) }
            line x1=(left) y1=(base) x2=(width) y2=(base) stroke="#9aa5b1" {}
            line x1=(left) y1=(top) x2=(left) y2=(base) stroke="#9aa5b1" {}
            text x=(tx) y=(top + 4.0) font-size="11" text-anchor="end" fill="#52606d" { (max) }
            text x=(tx) y=(base) font-size="11" text-anchor="end" fill="#52606d" { "0" }
            line x1=(left) y1=(top) x2=(width) y2=(top) stroke="#e4e7eb" {}
            text.axis-label x=(left + (width - left) / 2.0) y=(height - 4.0) font-size="12" text-anchor="middle" fill="#3e4c59" { (chart.x_label) }
            text.axis-label x="14" y=(mid) font-size="12" text-anchor="middle" fill="#3e4c59" transform={ "rotate(-90 14 " (mid) ")" } { (chart.y_label) }
            @for (i, (short, long, count)) in chart.bars.iter().enumerate() {
                @let bar_h = plot_h * *count as f64 / max as f64;
                @let x = left + slot * i as f64 + slot * 0.15;
                @let y = base - bar_h;
                g {
                    title { (long) }
                    rect x=(f(x)) y=(f(y)) width=(f(slot * 0.7)) height=(f(bar_h)) fill="#2f6fb2" rx="2" {}
                    text x=(f(x + slot * 0.35)) y=(f(base + 14.0)) font-size="10" text-anchor="middle" fill="#52606d" { (short) }
                    @if *count > 0 {
                        text x=(f(x + slot * 0.35)) y=(f(y - 3.0)) font-size="11" text-anchor="middle" fill="#1f2933" { (count) }
                    }
                }
            }
        }
    }
}

/// The orders-per-day chart of `(YYYY-MM-DD, count)`; `zone` names the time zone of the days.
pub fn bar_chart(language: Language, days: &[(String, u64)], zone: &str) -> Markup {
    shown(&orders_chart(language, days, zone))
}

fn orders_chart<'a>(language: Language, days: &[(String, u64)], zone: &str) -> BarChart<'a> {
    let bars = days
        .iter()
        .map(|(day, count)| {
            let title = t!(language, "chart-orders-bar", day = day.as_str(), count = *count);
            (day.get(5..).unwrap_or(day).to_owned(), title, *count)
        })
        .collect();
    BarChart {
        id: "orders-per-day",
        language,
        title: t!(language, "chart-orders-title", days = days.len()),
        x_label: t!(language, "chart-orders-x", zone = zone),
        y_label: t!(language, "chart-orders-y"),
        bars,
    }
}

/// The score-distribution chart of ten 10-point bucket counts, with `what` saying which
/// inspections.
pub fn score_chart(language: Language, buckets: &[u64], what: &str) -> Markup {
    let scored: u64 = buckets.iter().sum();
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, count)| {
            let low = i * 10;
            let high = if i == 9 { "100".to_owned() } else { format!("<{}", low + 10) };
            let title = t!(language, "chart-scores-bar", low = low, high = high, count = *count);
            (format!("{low}–{}", low + if i == 9 { 10 } else { 9 }), title, *count)
        })
        .collect();
    shown(&BarChart {
        id: "score-distribution",
        language,
        title: t!(language, "chart-scores-title", what = what, scored = scored),
        x_label: t!(language, "chart-scores-x"),
        y_label: t!(language, "chart-scores-y"),
        bars,
    })
}

/// The approval-time chart (time from submission to decision, in buckets).
pub fn approval_chart(language: Language, times: &ApprovalTimes) -> Markup {
    let bars = times
        .buckets
        .iter()
        .zip(APPROVAL_LABELS)
        .map(|(count, id)| {
            let label = crate::messages::catalog().label(language, id);
            let title = t!(language, "chart-approval-bar", bucket = label.as_str(), count = *count);
            (label, title, *count)
        })
        .collect();
    shown(&BarChart {
        id: "approval-times",
        language,
        title: t!(language, "chart-approval-title", decided = times.decided),
        x_label: t!(language, "chart-approval-x"),
        y_label: t!(language, "chart-approval-y"),
        bars,
    })
}

/// `GET /dashboard/orders-per-day.svg`: the chart on its own, for reports and e-mails.
pub async fn orders_per_day(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let caller = &viewer.caller;
    let storage = state.storage.as_ref();
    let locale = crate::services::accounts::tenant_locale(storage, caller.tenant_id).await?;
    let language = viewer.language;
    let now = now_ms();
    let days: Vec<jiff::civil::Date> =
        (0..CHART_DAYS).rev().map(|back| locale::Locale::days_before(locale.day_of(now), back)).collect();
    let mut bounds: Vec<i64> = days.iter().map(|day| locale.start_of(*day)).collect();
    bounds.push(locale.start_of_days_back(now, -1));
    let mut filter = OrderFilter::all(listing::reach(&caller.scope(), DocKind::Order));
    filter.submitted = true;
    let counts = queries::orders_per_period(storage, caller.tenant_id, &filter, &bounds).await?;
    let days: Vec<(String, u64)> = days.iter().map(ToString::to_string).zip(counts).collect();
    // Always a drawing here, empty or not: this is an image.
    let svg = render(&orders_chart(language, &days, locale.time_zone())).into_string();
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
        let days: Vec<(String, u64)> =
            (1..=14).map(|d| (format!("1970-01-{d:02}"), if d == 14 { 5 } else { 1 })).collect();
        let svg = bar_chart(Language::English, &days, "Europe/Berlin").into_string();
        assert_eq!(svg.matches("<rect").count(), 14);
        assert!(svg.contains("1970-01-14: 5 orders"));
        assert!(svg.contains(">Day (Europe/Berlin)</text>") && svg.contains(">Orders</text>"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn score_buckets_are_labelled_and_escaped_and_an_empty_chart_says_so() {
        let mut buckets = vec![0; 10];
        buckets[4] = 2;
        buckets[9] = 1;
        let svg = score_chart(Language::English, &buckets, "last 7 days").into_string();
        assert_eq!(svg.matches("<rect").count(), 10);
        assert!(svg.contains("score 40 to &lt;50: 2 inspections"), "{svg}");
        assert!(svg.contains("(3 scored)"));
        let empty = score_chart(Language::English, &[0; 10], "<b>all</b>").into_string();
        assert!(!empty.contains("<svg") && empty.contains("nothing to show yet") && empty.contains("&lt;b&gt;"));
    }

    #[test]
    fn approval_times_draw_one_bar_per_bucket() {
        let times = ApprovalTimes { decided: 2, median_ms: Some(1), buckets: vec![1, 1, 0, 0, 0, 0, 0] };
        let svg = approval_chart(Language::English, &times).into_string();
        assert_eq!(svg.matches("<rect").count(), crate::storage::queries::APPROVAL_BOUNDS_MS.len() + 1);
        assert!(svg.contains("decided in &lt; 1 h: 1 orders"), "{svg}");
        let chinese = approval_chart(Language::Chinese, &times).into_string();
        assert!(
            chinese.contains("从提交到决定的用时") && chinese.contains("决定用时 1 小时以内：1 张订单"),
            "{chinese}"
        );
    }
}
