//! The orders-per-day chart, rendered on the server as SVG (no JavaScript, no library).

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::OrderStatus;

use super::html::{DAY_MS, date, esc, secure_headers};
use super::pages::{OrderRow, order_rows};
use super::session::Viewer;
use super::{DashError, Section};
use crate::state::AppState;

/// How many days the chart shows, today included.
pub const CHART_DAYS: usize = 14;

/// Submitted orders per UTC day for the last `days` days (oldest first): (day start, count).
pub fn orders_per_day_counts(rows: &[OrderRow], now: i64, days: usize) -> Vec<(i64, u32)> {
    let today = now.div_euclid(DAY_MS);
    let first = today - i64::try_from(days).unwrap_or(0) + 1;
    let mut counts: Vec<(i64, u32)> = (first..=today).map(|d| (d * DAY_MS, 0)).collect();
    for row in rows.iter().filter(|r| r.order.value.status == OrderStatus::Submitted) {
        let day = row.at().div_euclid(DAY_MS);
        if let Some(slot) = usize::try_from(day - first).ok().and_then(|i| counts.get_mut(i)) {
            slot.1 += 1;
        }
    }
    counts
}

/// A bar chart of `(day start, count)` as an `<svg>` element.
pub fn bar_chart(days: &[(i64, u32)]) -> String {
    let (width, height, left, bottom, top) = (720.0_f64, 200.0_f64, 34.0_f64, 28.0_f64, 12.0_f64);
    let max = days.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1);
    let plot_h = height - bottom - top;
    let slot = (width - left) / days.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" \
         aria-labelledby=\"chart-title\" id=\"orders-per-day\"><title id=\"chart-title\">Submitted orders per day, last {} days</title>",
        days.len()
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{y}\" x2=\"{width}\" y2=\"{y}\" stroke=\"#9aa5b1\"/>\
         <text x=\"{tx}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"end\" fill=\"#52606d\">{max}</text>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{width}\" y2=\"{top}\" stroke=\"#e4e7eb\"/>",
        y = height - bottom,
        tx = left - 4.0,
        ty = top + 4.0
    );
    for (i, (day, count)) in days.iter().enumerate() {
        let bar_h = plot_h * f64::from(*count) / f64::from(max);
        let x = left + slot * i as f64 + slot * 0.15;
        let y = height - bottom - bar_h;
        let label = date(*day);
        let short = label.get(5..).unwrap_or(&label);
        let _ = write!(
            svg,
            "<g><title>{label}: {count} orders</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h:.1}\" fill=\"#2f6fb2\" rx=\"2\"/>\
             <text x=\"{cx:.1}\" y=\"{ly:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#52606d\">{short}</text>",
            label = esc(&label),
            w = slot * 0.7,
            cx = x + slot * 0.35,
            ly = height - bottom + 14.0,
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

/// `GET /dashboard/orders-per-day.svg`: the chart on its own, for reports and e-mails.
pub async fn orders_per_day(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let rows = order_rows(&state, &viewer).await?;
    let svg = bar_chart(&orders_per_day_counts(&rows, now_ms(), CHART_DAYS));
    let mut response = svg.into_response();
    secure_headers(&mut response, "default-src 'none'; style-src 'unsafe-inline'");
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_one_bar_per_day_and_labels_its_counts() {
        let days: Vec<(i64, u32)> = (0..14).map(|d| (d * DAY_MS, if d == 13 { 5 } else { 1 })).collect();
        let svg = bar_chart(&days);
        assert_eq!(svg.matches("<rect").count(), 14);
        assert!(svg.contains("1970-01-14: 5 orders"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
