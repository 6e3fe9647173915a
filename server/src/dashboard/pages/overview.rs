//! The overview (`/`): today's figures, the charts, the latest orders and open alerts, every
//! number an aggregate of the read model ([`crate::services::overview`]).

use axum::extract::State;
use axum::response::Response;
use fieldsync_core::clock::now_ms;
use maud::{Markup, html};

use super::super::html::store_label;
use super::super::session::Viewer;
use super::super::svg;
use super::super::{DashError, Section};
use super::orders::orders_table;
use crate::format::{count, duration_in};
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
    let locale =
        crate::services::accounts::tenant_locale(storage, caller.tenant_id).await?.with_language(viewer.language);
    let figures = overview::at(storage, caller.tenant_id, &caller.scope(), &locale, now).await?;
    // Orders are for the roles the orders section is for, whatever their scope holds.
    let orders = figures.orders.as_ref().filter(|_| Section::Orders.allows(caller.role));
    let inspections = &figures.inspections;
    let lang = viewer.language;
    let body = html! {
        h1 { (t!(lang, "overview-title")) }
        p.note { (t!(lang, "overview-note", zone = locale.zone_label(now), currency = locale.currency(), today = locale.datetime(figures.today_start))) }
        div.kpis id="kpis" data-live-region {
            @if let Some(orders) = orders {
                (kpi("kpi-orders-today", count(orders.today.count), t!(lang, "overview-kpi-orders-today")))
                (kpi("kpi-value-today", locale.money(orders.today.total_cents), t!(lang, "overview-kpi-value-today")))
                (kpi("kpi-approvals", count(orders.approvals_pending), t!(lang, "overview-kpi-approvals", waiting = orders.waiting_on_me)))
            }
            (kpi("kpi-inspections", count(inspections.count), t!(lang, "overview-kpi-inspections", days = PERIOD_DAYS)))
            @if let Some(average) = inspections.average_score {
                (kpi("kpi-score", format!("{average:.1}"), t!(lang, "overview-kpi-score", scored = inspections.scored)))
            }
            @if let Some(median) = orders.and_then(|o| o.approval_times.median_ms) {
                (kpi("kpi-approval-time", duration_in(lang, median), t!(lang, "overview-kpi-approval-time", decided = orders.map_or(0, |o| o.approval_times.decided), days = APPROVAL_DAYS)))
            }
            @if let Some(coverage) = &figures.coverage {
                (kpi("kpi-coverage", format!("{}%", coverage.percent()), t!(lang, "overview-kpi-coverage", visited = coverage.visited, stores = coverage.stores, days = PERIOD_DAYS)))
            }
            @if figures.open_alerts > 0 {
                (kpi("kpi-alerts", count(figures.open_alerts), t!(lang, "overview-kpi-alerts")))
            }
        }
        @if let Some(orders) = orders {
            h2 { (t!(lang, "overview-orders-per-day")) }
            div.chart id="orders-chart" data-live-region { (svg::bar_chart(lang, &orders.per_day, locale.time_zone())) }
            h2 { (t!(lang, "overview-latest-orders")) " " a.note href="/dashboard/orders" { (t!(lang, "overview-all-orders")) } " " a.note href="/dashboard/orders.csv" { "CSV" } }
            (orders_table("live-orders", &orders.latest, &locale))
        }
        h2 { (t!(lang, "overview-scores", days = PERIOD_DAYS)) }
        div.chart id="score-chart" data-live-region { (svg::score_chart(lang, &inspections.score_buckets, &t!(lang, "overview-last-days", days = PERIOD_DAYS))) }
        @if let Some(orders) = orders {
            h2 { (t!(lang, "overview-approval-times", days = APPROVAL_DAYS)) }
            div.chart id="approval-chart" data-live-region { (svg::approval_chart(lang, &orders.approval_times)) }
        }
        @if !figures.latest_alerts.is_empty() {
            h2 {
                (t!(lang, "overview-open-alerts"))
                @if figures.open_alerts > figures.latest_alerts.len() as u64 { " " (t!(lang, "overview-alerts-shown", shown = figures.latest_alerts.len(), total = figures.open_alerts)) }
                " " a.note href="/dashboard/alerts" { (t!(lang, "overview-work-through")) }
            }
            table id="alerts" {
                thead { tr {
                    th { (t!(lang, "alerts-col-raised")) } th { (t!(lang, "alerts-col-alert")) }
                    th { (t!(lang, "alerts-col-store")) } th { (t!(lang, "alerts-col-detail")) }
                } }
                tbody {
                    @for alert in &figures.latest_alerts {
                        tr data-key=(alert.key) {
                            td { (locale.datetime(alert.raised_at)) }
                            @let (title, detail) = texts::alert(lang, &alert.title, &alert.detail, alert.texts.as_ref());
                            td { (title) }
                            td { (store_label(alert.store_name.as_deref(), alert.store_code.as_deref(), alert.store_id.as_deref().unwrap_or(""))) }
                            td { (detail) }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(viewer, &t!(lang, "overview-title"), "/", body))
}
