//! The overview: the figures HQ and managers open the dashboard for, each an aggregate over the
//! read model in the asker's scope — today's orders and their value, approvals pending, orders
//! per day, approval times, inspections and their scores, store coverage, open alerts. The same
//! [`Overview`] feeds the dashboard's first page and `GET /v1/overview`.

use fieldsync_core::DocKind;
use serde::Serialize;

use crate::error::Result;
use crate::locale::Locale;
use crate::scope::Scope;
use crate::services::inspections::coverage::{self, Coverage};
use crate::services::listing;
use crate::storage::Storage;
use crate::storage::queries::{
    self, AlertCauseFilter, AlertCauseRow, ApprovalTimes, InspectionFigures, InspectionFilter, OrderFilter,
    OrderListRow, OrderSort, OrderTotals, Reach,
};

/// The period of coverage and inspection figures, in days (today included).
pub const PERIOD_DAYS: i64 = 7;
/// How many days the orders-per-day chart shows, today included.
pub const CHART_DAYS: i64 = 14;
/// The period of approval times, in days of decisions.
pub const APPROVAL_DAYS: i64 = 30;
/// Latest orders shown.
pub const LATEST_ORDERS: u32 = 15;
/// Open alerts shown.
pub const LATEST_ALERTS: u32 = 20;

/// Orders at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrderFigures {
    /// Orders submitted today (local day) and their value.
    pub today: OrderTotals,
    /// Orders waiting for an approval.
    pub approvals_pending: u64,
    /// Of them, waiting on the asker.
    pub waiting_on_me: u64,
    /// Submitted orders per local day, oldest first: (`YYYY-MM-DD`, count).
    pub per_day: Vec<(String, u64)>,
    /// Approval times of the orders decided in the last [`APPROVAL_DAYS`] days.
    pub approval_times: ApprovalTimes,
    /// The newest orders.
    pub latest: Vec<OrderListRow>,
}

/// Everything the overview shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Overview {
    /// The tenant's time zone: days are counted in it.
    pub time_zone: String,
    /// The tenant's currency: amounts are hundredths of it.
    pub currency: String,
    /// When today (local) started, ms since the Unix epoch.
    pub today_start: i64,
    /// When the period of the inspection and coverage figures started.
    pub period_start: i64,
    /// Orders, for those whose scope holds them.
    pub orders: Option<OrderFigures>,
    /// Inspections checked in during the period.
    pub inspections: InspectionFigures,
    /// Coverage of the stores the asker looks after, in the period (none without stores).
    pub coverage: Option<Coverage>,
    /// Open alerts, one per cause (however many people received it), not snoozed.
    pub open_alerts: u64,
    /// The first of them as the alerts page groups them (by kind, store, product).
    pub latest_alerts: Vec<AlertCauseRow>,
}

/// The overview of `scope` as it reads at `now`.
pub async fn at(storage: &dyn Storage, tenant_id: i64, scope: &Scope, locale: &Locale, now: i64) -> Result<Overview> {
    let today_start = locale.start_of_days_back(now, 0);
    let tomorrow = locale.start_of_days_back(now, -1);
    let period_start = locale.start_of_days_back(now, PERIOD_DAYS - 1);

    let orders_reach = listing::reach(scope, DocKind::Order);
    let orders = if orders_reach == Reach::Nothing {
        None
    } else {
        let all = OrderFilter::all(orders_reach);
        let mut today = all.clone();
        (today.status, today.from, today.to) = (None, Some(today_start), Some(tomorrow));
        let today = submitted_only(today);
        let mut pending = all.clone();
        pending.status = Some("needs-approval".to_owned());
        let mut mine = all.clone();
        mine.waiting_on = Some(scope.user_id.clone());
        let days: Vec<jiff::civil::Date> =
            (0..CHART_DAYS).rev().map(|back| Locale::days_before(locale.day_of(now), back)).collect();
        let mut bounds: Vec<i64> = days.iter().map(|day| locale.start_of(*day)).collect();
        bounds.push(tomorrow);
        let per_day = queries::orders_per_period(storage, tenant_id, &submitted_only(all.clone()), &bounds).await?;
        let approval_since = locale.start_of_days_back(now, APPROVAL_DAYS - 1);
        Some(OrderFigures {
            today: queries::order_totals(storage, tenant_id, &today).await?,
            approvals_pending: queries::order_totals(storage, tenant_id, &pending).await?.count,
            waiting_on_me: queries::order_totals(storage, tenant_id, &mine).await?.count,
            per_day: days.iter().map(ToString::to_string).zip(per_day).collect(),
            approval_times: queries::approval_times(storage, tenant_id, &all, approval_since).await?,
            latest: queries::list_orders(storage, tenant_id, &all, OrderSort::Newest, None, LATEST_ORDERS).await?.rows,
        })
    };

    let mut inspections = InspectionFilter::all(listing::reach(scope, DocKind::Inspection));
    inspections.from = Some(period_start);
    let inspections = queries::inspection_figures(storage, tenant_id, &inspections).await?;
    let covered = coverage::since(storage, tenant_id, scope, period_start).await?;
    let mut alerts = AlertCauseFilter::open(listing::reach(scope, DocKind::Inbox), now);
    alerts.snoozed = Some(false);
    let (latest_alerts, open_alerts) =
        queries::list_alert_causes_counted(storage, tenant_id, &alerts, None, LATEST_ALERTS).await?;
    Ok(Overview {
        time_zone: locale.time_zone().to_owned(),
        currency: locale.currency().to_owned(),
        today_start,
        period_start,
        orders,
        inspections,
        coverage: (covered.total.stores > 0).then_some(covered.total),
        open_alerts,
        latest_alerts: latest_alerts.rows,
    })
}

/// Orders that were submitted (drafts left out): what "orders today" and the chart count.
fn submitted_only(mut filter: OrderFilter) -> OrderFilter {
    filter.submitted = true;
    filter
}
