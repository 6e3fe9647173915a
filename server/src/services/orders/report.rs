//! Where approval time goes: the approval steps that started waiting in the last 30 or 90 days,
//! grouped by step, by approver and by policy rule — how many, how many decided, the median
//! and 90th percentile of the time to decide, how many went past their deadline, how many
//! escalated. Read from the read model (`order_steps`, in the asker's scope), never from
//! documents; the dashboard's page and CSV and `GET /v1/approvals/report` show the same figures.

use std::collections::BTreeMap;

use fieldsync_core::DocKind;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::services::accounts::Caller;
use crate::services::listing;
use crate::storage::Storage;
use crate::storage::queries::{self, StepTiming};

/// The periods the report offers, in days.
pub const PERIODS: [i64; 2] = [30, 90];

/// How the report groups steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    /// By the step's position (1 is the first).
    Step,
    /// By who was asked to decide (an escalated step counts for the one it escalated from).
    Approver,
    /// By policy rule id (a step asked for by two rules counts for both).
    Rule,
}

impl Grouping {
    /// The name used in the CSV and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Step => "step",
            Grouping::Approver => "approver",
            Grouping::Rule => "rule",
        }
    }
}

/// The figures of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupFigures {
    /// How the group is formed.
    pub by: Grouping,
    /// The step number, the approver's username or the rule id.
    pub key: String,
    /// Steps that started waiting in the period.
    pub steps: u64,
    /// Of them, decided.
    pub decided: u64,
    /// Median time from waiting to decided, in ms (decided steps).
    pub median_ms: Option<i64>,
    /// 90th percentile of that time, in ms (nearest rank).
    pub p90_ms: Option<i64>,
    /// Escalated, decided after their deadline, or still waiting past it.
    pub overdue: u64,
    /// Escalated at their deadline.
    pub escalations: u64,
}

/// The approvals report of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalsReport {
    /// The period, in days up to now.
    pub days: i64,
    /// The figures, by step, then by approver, then by rule (keys in order).
    pub groups: Vec<GroupFigures>,
    /// Per local day of the period (oldest first, `YYYY-MM-DD`): the median time to decide of
    /// the steps decided that day, in ms (`None`: none decided).
    pub median_by_day: Vec<(String, Option<i64>)>,
}

/// The report's query as a URL carries it: `days` is 30 (default) or 90.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The period in days.
    pub days: Option<String>,
}

/// Reads `days` (30 or 90; `None`: 30) as a URL gives it.
pub fn parse_days(text: Option<&str>) -> Result<i64> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(PERIODS[0]),
        Some(text) => text
            .parse()
            .ok()
            .filter(|d| PERIODS.contains(d))
            .ok_or_else(|| Error::bad_request("invalid-input", format!("invalid days {text:?}: expected 30 or 90"))),
    }
}

/// The report of the last `days` days up to `now`, in `caller`'s scope (managers and HQ).
pub async fn report(storage: &dyn Storage, caller: &Caller, days: i64, now: i64) -> Result<ApprovalsReport> {
    if !matches!(caller.role, fieldsync_core::Role::Manager | fieldsync_core::Role::Hq) {
        return Err(Error::Forbidden(format!("the approvals report is for managers and hq, not a {}", caller.role)));
    }
    let reach = listing::reach(&caller.scope(), DocKind::Order);
    let since = now.saturating_sub(days.saturating_mul(86_400_000));
    let steps = queries::step_timings(storage, caller.tenant_id, &reach, since, now).await?;
    let locale = crate::services::accounts::tenant_locale(storage, caller.tenant_id).await?;
    Ok(ApprovalsReport { days, groups: figures(&steps, now), median_by_day: by_day(&steps, &locale, days, now) })
}

/// The median time to decide per local day of the last `days` days (see
/// [`ApprovalsReport::median_by_day`]).
pub fn by_day(steps: &[StepTiming], locale: &Locale, days: i64, now: i64) -> Vec<(String, Option<i64>)> {
    let mut decided: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for step in steps.iter().filter(|s| s.state != "pending") {
        if let Some(at) = step.decided_at {
            decided.entry(locale.date(at)).or_default().push(at.saturating_sub(step.started_at).max(0));
        }
    }
    let today = locale.day_of(now);
    (0..days)
        .rev()
        .map(|back| {
            let day = Locale::days_before(today, back).to_string();
            let median = decided.get_mut(&day).and_then(|times| {
                times.sort_unstable();
                percentile(times, 50)
            });
            (day, median)
        })
        .collect()
}

/// The figures of `steps` at `now` (see [`GroupFigures`]).
pub fn figures(steps: &[StepTiming], now: i64) -> Vec<GroupFigures> {
    let mut groups: BTreeMap<(Grouping, String), Vec<&StepTiming>> = BTreeMap::new();
    for step in steps {
        let number = format!("{:>3}", step.step.saturating_add(1));
        groups.entry((Grouping::Step, number)).or_default().push(step);
        let approver = step.approver_name.clone().unwrap_or_else(|| step.approver.clone());
        groups.entry((Grouping::Approver, approver)).or_default().push(step);
        for rule in rule_ids(&step.rule) {
            groups.entry((Grouping::Rule, rule)).or_default().push(step);
        }
    }
    groups
        .into_iter()
        .map(|((by, key), steps)| {
            let mut times: Vec<i64> = steps
                .iter()
                .filter(|s| s.state != "pending")
                .filter_map(|s| s.decided_at.map(|at| at.saturating_sub(s.started_at).max(0)))
                .collect();
            times.sort_unstable();
            // An escalated step passed its deadline (the escalation gave it a new one).
            let late = |s: &&&StepTiming| {
                s.escalated_at.is_some() || s.due_at.is_some_and(|due| s.decided_at.unwrap_or(now) > due)
            };
            let overdue = steps.iter().filter(late).count();
            GroupFigures {
                by,
                key: key.trim().to_owned(),
                steps: steps.len() as u64,
                decided: times.len() as u64,
                median_ms: percentile(&times, 50),
                p90_ms: percentile(&times, 90),
                overdue: overdue as u64,
                escalations: steps.iter().filter(|s| s.escalated_at.is_some()).count() as u64,
            }
        })
        .collect()
}

/// The rule ids a step names: `large-order: … (policy v1); tier-c: …` → `large-order`, `tier-c`.
fn rule_ids(rule: &str) -> Vec<String> {
    rule.split("; ")
        .filter_map(|part| part.split(':').next())
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The `p`-th percentile of sorted `values`, nearest rank.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const H: i64 = 3_600_000;

    fn step(step: i64, approver: &str, rule: &str, took: Option<i64>, due: Option<i64>, escalated: bool) -> StepTiming {
        StepTiming {
            step,
            approver: format!("id-{approver}"),
            approver_name: Some(approver.into()),
            rule: rule.into(),
            state: if took.is_some() { "approved" } else { "pending" }.into(),
            started_at: 0,
            decided_at: took,
            due_at: due,
            escalated_at: escalated.then_some(4 * H),
        }
    }

    #[test]
    fn each_step_counts_for_its_position_its_approver_and_each_of_its_rules() {
        let large = "large-order: orders of 400.00 or more (policy v1)";
        let both = "large-order: orders of 400.00 or more (policy v1); tier-c: tier C (policy v1)";
        let steps = vec![
            step(0, "mia", large, Some(H), Some(4 * H), false),
            step(0, "mia", both, Some(3 * H), Some(4 * H), false),
            step(0, "mia", large, Some(6 * H), Some(4 * H), false),
            step(0, "hana", large, None, Some(4 * H), true),
            step(1, "hana", both, Some(2 * H), None, false),
        ];
        let figures = figures(&steps, 10 * H);
        let find = |by: Grouping, key: &str| figures.iter().find(|g| g.by == by && g.key == key).unwrap().clone();
        let first = find(Grouping::Step, "1");
        assert_eq!((first.steps, first.decided, first.median_ms, first.p90_ms), (4, 3, Some(3 * H), Some(6 * H)));
        assert_eq!((first.overdue, first.escalations), (2, 1), "one decided late, one still waiting past due");
        let mia = find(Grouping::Approver, "mia");
        assert_eq!((mia.steps, mia.median_ms, mia.overdue), (3, Some(3 * H), 1));
        let tier_c = find(Grouping::Rule, "tier-c");
        assert_eq!((tier_c.steps, tier_c.median_ms), (2, Some(2 * H)));
        assert_eq!(find(Grouping::Rule, "large-order").steps, 5);
        let keys: Vec<(Grouping, &str)> = figures.iter().map(|g| (g.by, g.key.as_str())).collect();
        assert_eq!(
            keys,
            vec![
                (Grouping::Step, "1"),
                (Grouping::Step, "2"),
                (Grouping::Approver, "hana"),
                (Grouping::Approver, "mia"),
                (Grouping::Rule, "large-order"),
                (Grouping::Rule, "tier-c")
            ]
        );
    }

    #[test]
    fn percentiles_take_the_nearest_rank_and_the_period_is_30_or_90_days() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!((percentile(&values, 50), percentile(&values, 90), percentile(&[], 50)), (Some(5), Some(9), None));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!((parse_days(None).ok(), parse_days(Some("90")).ok()), (Some(30), Some(90)));
        let error = parse_days(Some("7")).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("invalid days \"7\": expected 30 or 90"), "{error}");
    }
}
