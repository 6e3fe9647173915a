//! The overview (`/`): today's figures, the charts, the latest orders and open alerts.

use std::fmt::Write;

use axum::extract::State;
use axum::response::Response;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{Inbox, Inspection, InspectionScore, OrderStatus};

use super::super::html::{duration, esc};
use super::super::records::{Names, Record, by_subject, load_kind};
use super::super::session::Viewer;
use super::super::{DashError, Section};
use crate::services::accounts;
use crate::state::AppState;

use super::*;

// Overview

/// `GET /`: today's orders, approvals pending, inspections and their score, store coverage,
/// open alerts, the orders-per-day chart and the latest orders (live).
pub async fn overview(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    overview_at(&state, &viewer, now_ms()).await
}

/// The overview as it reads at `now`: "today" and the period are local days of the tenant.
pub async fn overview_at(state: &AppState, viewer: &Viewer, now: i64) -> Result<Response, DashError> {
    Section::Overview.check(&viewer.caller)?;
    let locale = accounts::tenant_locale(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let today = locale.start_of_days_back(now, 0);
    let tomorrow = locale.start_of_days_back(now, -1);
    let period_start = locale.start_of_days_back(now, PERIOD_DAYS - 1);
    let names = Names::load(state, &viewer.caller).await?;
    let sees_orders = Section::Orders.allows(viewer.caller.role);
    let rows = if sees_orders { order_rows(state, viewer).await? } else { Vec::new() };
    let inspections = load_kind::<Inspection>(state, &viewer.caller).await?;
    let scores = by_subject(load_kind::<InspectionScore>(state, &viewer.caller).await?);
    let inboxes = load_kind::<Inbox>(state, &viewer.caller).await?;

    let mut kpis = String::new();
    let mut kpi = |id: &str, value: String, label: &str| {
        let _ = write!(
            kpis,
            "<div class=\"kpi\" id=\"{id}\"><div class=\"v\">{}</div><div class=\"l\">{}</div></div>",
            esc(&value),
            esc(label)
        );
    };
    if sees_orders {
        let todays: Vec<&OrderRow> = rows
            .iter()
            .filter(|r| r.order.value.status == OrderStatus::Submitted && (today..tomorrow).contains(&r.at()))
            .collect();
        let value: i64 = todays.iter().map(|r| r.order.value.total_cents()).fold(0, i64::saturating_add);
        kpi("kpi-orders-today", todays.len().to_string(), "orders today");
        kpi("kpi-value-today", locale.money(value), "value today");
        let pending = rows.iter().filter(|r| r.status() == "needs-approval").count();
        kpi("kpi-approvals", pending.to_string(), "approvals pending");
    }
    let recent: Vec<&Record<Inspection>> = inspections.iter().filter(|i| i.value.check_in.at >= period_start).collect();
    kpi("kpi-inspections", recent.len().to_string(), &format!("inspections, {PERIOD_DAYS} days"));
    let scored: Vec<f64> = recent.iter().filter_map(|i| scores.get(i.id.as_str())).map(|s| s.value.score).collect();
    if !scored.is_empty() {
        let average = scored.iter().sum::<f64>() / scored.len() as f64;
        kpi("kpi-score", format!("{average:.1}"), &format!("average score ({} scored)", scored.len()));
    }
    if sees_orders {
        let times = super::super::svg::approval_times(&rows);
        if let Some(median) = super::super::svg::median(&times) {
            kpi("kpi-approval-time", duration(median), &format!("median approval time ({} decided)", times.len()));
        }
    }
    // Coverage as the stores page counts it: the stores the viewer looks after, visited by an
    // inspection in the period.
    let looked_after = super::super::stores::stores_in_view(state, &viewer.caller).await?;
    if !looked_after.is_empty() {
        let visits = super::super::stores::visits_by_store(&inspections, &scores, period_start);
        let (_, total) = super::super::stores::coverage(&looked_after, &visits);
        kpi(
            "kpi-coverage",
            format!("{}%", total.percent()),
            &format!("store coverage: {} of {} visited, {PERIOD_DAYS} days", total.visited, total.stores),
        );
    }
    let open_alerts: Vec<_> =
        inboxes.iter().flat_map(|inbox| inbox.value.open_alerts().map(move |(_, a)| (&inbox.value.owner, a))).collect();
    if !open_alerts.is_empty() {
        kpi("kpi-alerts", open_alerts.len().to_string(), "open alerts");
    }

    let mut body = format!(
        "<h1>Overview</h1><p class=\"note\">Times in {}; amounts in {}. Today started {}.</p>\
         <div class=\"kpis\" id=\"kpis\" data-live-region>{kpis}</div>",
        esc(&locale.zone_label(now)),
        esc(locale.currency()),
        esc(&locale.datetime(today))
    );
    if sees_orders {
        let days = super::super::svg::orders_per_day_counts(&rows, now, super::super::svg::CHART_DAYS, &locale);
        let _ = write!(
            body,
            "<h2>Orders per day</h2><div class=\"chart\" id=\"orders-chart\" data-live-region>{}</div>\
             <h2>Latest orders <a class=\"note\" href=\"/dashboard/orders.csv\">CSV</a></h2>{}",
            super::super::svg::bar_chart(&days, locale.time_zone()),
            orders_table("live-orders", &rows.iter().take(15).collect::<Vec<_>>(), &names, &locale)
        );
    }
    let _ = write!(
        body,
        "<h2>Inspection scores, {PERIOD_DAYS} days</h2><div class=\"chart\" id=\"score-chart\" data-live-region>{}</div>",
        super::super::svg::score_chart(&scored, &format!("last {PERIOD_DAYS} days"))
    );
    if sees_orders {
        let _ = write!(
            body,
            "<h2>Approval times</h2><div class=\"chart\" id=\"approval-chart\" data-live-region>{}</div>",
            super::super::svg::approval_chart(&super::super::svg::approval_times(&rows))
        );
    }
    if !open_alerts.is_empty() {
        body.push_str("<h2>Open alerts</h2><table id=\"alerts\"><thead><tr><th>Raised</th><th>For</th><th>Alert</th><th>Detail</th></tr></thead><tbody>");
        for (owner, alert) in open_alerts.iter().take(20) {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&locale.datetime(alert.raised_at)),
                esc(&names.user(owner)),
                esc(&alert.title),
                esc(&alert.detail)
            );
        }
        body.push_str("</tbody></table>");
    }
    Ok(frame(viewer, "Overview", "/", super::super::html::PreEscaped(body)))
}
