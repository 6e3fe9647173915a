//! The overview (`/`): today's figures, the charts, the latest orders and open alerts, every
//! number an aggregate of the read model ([`crate::services::overview`]).

use axum::extract::State;
use axum::response::Response;
use fieldsync_core::clock::now_ms;
use maud::{Markup, html};

use super::super::html::{duration, store_label};
use super::super::session::Viewer;
use super::super::svg;
use super::super::{DashError, Section};
use super::orders::orders_table;
use crate::services::overview::{self, APPROVAL_DAYS, PERIOD_DAYS};
use crate::state::AppState;

use super::*;

fn kpi(id: &str, value: String, label: String) -> Markup {
    html! { div.kpi id=(id) { div.v { (value) } div.l { (label) } } }
}

/// `GET /`: the overview of the viewer's scope.
pub async fn overview(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    overview_at(&state, &viewer, now_ms()).await
}

/// The overview as it reads at `now`: "today" and the period are local days of the tenant.
pub async fn overview_at(state: &AppState, viewer: &Viewer, now: i64) -> Result<Response, DashError> {
    Section::Overview.check(&viewer.caller)?;
    let caller = &viewer.caller;
    let storage = state.storage.as_ref();
    let locale = crate::services::accounts::tenant_locale(storage, caller.tenant_id).await?;
    let figures = overview::at(storage, caller.tenant_id, &caller.scope(), &locale, now).await?;
    // Orders are for the roles the orders section is for, whatever their scope holds.
    let orders = figures.orders.as_ref().filter(|_| Section::Orders.allows(caller.role));
    let inspections = &figures.inspections;
    let body = html! {
        h1 { "Overview" }
        p.note { "Times in " (locale.zone_label(now)) "; amounts in " (locale.currency()) ". Today started " (locale.datetime(figures.today_start)) "." }
        div.kpis id="kpis" data-live-region {
            @if let Some(orders) = orders {
                (kpi("kpi-orders-today", orders.today.count.to_string(), "orders today".into()))
                (kpi("kpi-value-today", locale.money(orders.today.total_cents), "value today".into()))
                (kpi("kpi-approvals", orders.approvals_pending.to_string(), format!("approvals pending, {} waiting on you", orders.waiting_on_me)))
            }
            (kpi("kpi-inspections", inspections.count.to_string(), format!("inspections, {PERIOD_DAYS} days")))
            @if let Some(average) = inspections.average_score {
                (kpi("kpi-score", format!("{average:.1}"), format!("average score ({} scored)", inspections.scored)))
            }
            @if let Some(median) = orders.and_then(|o| o.approval_times.median_ms) {
                (kpi("kpi-approval-time", duration(median), format!("median approval time ({} decided, {APPROVAL_DAYS} days)", orders.map_or(0, |o| o.approval_times.decided))))
            }
            @if let Some(coverage) = &figures.coverage {
                (kpi("kpi-coverage", format!("{}%", coverage.percent()), format!("store coverage: {} of {} visited, {PERIOD_DAYS} days", coverage.visited, coverage.stores)))
            }
            @if figures.open_alerts > 0 {
                (kpi("kpi-alerts", figures.open_alerts.to_string(), "open alerts".into()))
            }
        }
        @if let Some(orders) = orders {
            h2 { "Orders per day" }
            div.chart id="orders-chart" data-live-region { (svg::bar_chart(&orders.per_day, locale.time_zone())) }
            h2 { "Latest orders " a.note href="/dashboard/orders" { "all orders" } " " a.note href="/dashboard/orders.csv" { "CSV" } }
            (orders_table("live-orders", &orders.latest, &locale))
        }
        h2 { "Inspection scores, " (PERIOD_DAYS) " days" }
        div.chart id="score-chart" data-live-region { (svg::score_chart(&inspections.score_buckets, &format!("last {PERIOD_DAYS} days"))) }
        @if let Some(orders) = orders {
            h2 { "Approval times, " (APPROVAL_DAYS) " days" }
            div.chart id="approval-chart" data-live-region { (svg::approval_chart(&orders.approval_times)) }
        }
        @if !figures.latest_alerts.is_empty() {
            h2 {
                "Open alerts" @if figures.open_alerts > figures.latest_alerts.len() as u64 { " (" (figures.latest_alerts.len()) " of " (figures.open_alerts) ")" }
                " " a.note href="/dashboard/alerts" { "work through them" }
            }
            table id="alerts" {
                thead { tr { th { "Raised" } th { "Alert" } th { "Store" } th { "Detail" } } }
                tbody {
                    @for alert in &figures.latest_alerts {
                        tr data-key=(alert.key) {
                            td { (locale.datetime(alert.raised_at)) }
                            td { (alert.title) }
                            td { (store_label(alert.store_name.as_deref(), alert.store_code.as_deref(), alert.store_id.as_deref().unwrap_or(""))) }
                            td { (alert.detail) }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(viewer, "Overview", "/", body))
}
