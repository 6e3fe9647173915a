//! Deadlines of approval steps: a policy rule's SLA (`respond_within`) becomes a deadline when
//! its step starts waiting for its approver; a reminder is due at a share of the SLA
//! ([`ApprovalPolicy::reminder_percent`](crate::doc::ApprovalPolicy::reminder_percent)), and at the
//! deadline the step escalates ([`EscalationTarget`]).
//!
//! Pure functions over the review: the relay's job queue decides *when* they run, these decide
//! *whether* there is still something to do, so a job that runs twice (a lease that ran out, two
//! relay nodes) changes the review once. How minutes are counted (wall clock, or a tenant's
//! working hours in its time zone) is the caller's `add_minutes`.

use crate::doc::{Escalation, OrderReview, StepSla};

/// What is due on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineAction {
    /// Remind the approver.
    Remind,
    /// Hand the step to the escalation target.
    Escalate,
}

impl DeadlineAction {
    /// The name used in job keys and inbox alerts (`remind`, `escalate`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineAction::Remind => "remind",
            DeadlineAction::Escalate => "escalate",
        }
    }

    /// The action named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "remind" => Some(DeadlineAction::Remind),
            "escalate" => Some(DeadlineAction::Escalate),
            _ => None,
        }
    }
}

/// Starts the clock of the current step at `now`, if it has an SLA and its clock has not started:
/// the reminder at `reminder_percent` of the SLA, the deadline at all of it, both counted by
/// `add_minutes(from, minutes)`. Returns the current step's index when it started.
pub fn start_current_step(
    review: &mut OrderReview,
    now: i64,
    reminder_percent: i64,
    add_minutes: impl Fn(i64, i64) -> i64,
) -> Option<usize> {
    let index = review.current_step()?;
    let sla = review.steps.get_mut(index)?.sla.as_mut()?;
    if sla.started_at.is_some() {
        return None;
    }
    let minutes = sla.respond_within_minutes.max(1);
    let remind_after = (minutes.saturating_mul(reminder_percent.clamp(1, 99)) / 100).max(1).min(minutes);
    sla.started_at = Some(now);
    sla.remind_at = Some(add_minutes(now, remind_after));
    sla.due_at = Some(add_minutes(now, minutes));
    Some(index)
}

/// The step's SLA if `action` is still to be done on step `index` for `approver`, planned for
/// `planned_at`: the step is the current one, still with that approver and that time, and the
/// action has not been done. A reminder after the escalation is never due.
pub fn due<'a>(
    review: &'a OrderReview,
    index: usize,
    approver: &str,
    action: DeadlineAction,
    planned_at: i64,
) -> Option<&'a StepSla> {
    if review.current_step() != Some(index) {
        return None;
    }
    let step = review.steps.get(index)?;
    let sla = step.sla.as_ref()?;
    if step.approver != approver || sla.escalation.is_some() {
        return None;
    }
    match action {
        DeadlineAction::Remind => (sla.remind_at == Some(planned_at) && sla.reminded_at.is_none()).then_some(sla),
        DeadlineAction::Escalate => (sla.due_at == Some(planned_at)).then_some(sla),
    }
}

/// Records the reminder of step `index` at `now`.
pub fn record_reminder(review: &mut OrderReview, index: usize, now: i64) {
    if let Some(sla) = review.steps.get_mut(index).and_then(|s| s.sla.as_mut()) {
        sla.reminded_at = Some(now);
    }
}

/// Hands step `index` to `to` (of role `role`) at `now`, recording who, when and why.
pub fn record_escalation(review: &mut OrderReview, index: usize, to: &str, role: &str, now: i64, reason: String) {
    let Some(step) = review.steps.get_mut(index) else { return };
    let from = std::mem::replace(&mut step.approver, to.to_owned());
    step.role = role.to_owned();
    if let Some(sla) = step.sla.as_mut() {
        sla.escalation = Some(Escalation { from, to: to.to_owned(), at: now, reason });
    }
}

/// `240` → `4h`, `90` → `1h30m`, `45` → `45m`: an SLA as the policy format writes it.
pub fn fmt_minutes(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h{m}m"),
    }
}

/// Why a duration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: expected hours and minutes such as 4h, 90m or 1h30m, above zero")]
pub struct InvalidDuration {
    /// What was given.
    pub text: String,
}

/// `4h` → 240, `90m` → 90, `1h30m` → 90, `2d` → 2,880 (days of 24 hours): minutes, above zero.
pub fn parse_minutes(text: &str) -> Result<i64, InvalidDuration> {
    let invalid = || InvalidDuration { text: text.to_owned() };
    let mut rest = text.trim();
    let mut total: i64 = 0;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        let value: i64 = rest[..digits].parse().map_err(|_| invalid())?;
        let unit = rest[digits..].chars().next().ok_or_else(invalid)?;
        let factor = match unit {
            'd' => 24 * 60,
            'h' => 60,
            'm' => 1,
            _ => return Err(invalid()),
        };
        total = value.checked_mul(factor).and_then(|v| total.checked_add(v)).ok_or_else(invalid)?;
        rest = &rest[digits + unit.len_utf8()..];
    }
    // A year is more than any approval SLA; a larger number is a typo.
    if total <= 0 || total > 366 * 24 * 60 {
        return Err(invalid());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::doc::{ApprovalStep, EscalationTarget, ReviewOutcome, StepState};

    const HOUR: i64 = 3_600_000;

    fn review() -> OrderReview {
        let step = |approver: &str, sla: Option<i64>| ApprovalStep {
            on_behalf_of: None,
            role: "manager".into(),
            approver: approver.into(),
            rule: "r".into(),
            state: StepState::Pending,
            decided_at: None,
            reason: String::new(),
            sla: sla.map(|minutes| StepSla {
                respond_within_minutes: minutes,
                escalate_to: Some(EscalationTarget::Hq),
                started_at: None,
                remind_at: None,
                due_at: None,
                reminded_at: None,
                escalation: None,
            }),
        };
        OrderReview {
            number: String::new(),
            order_id: "o".into(),
            owner: "rep".into(),
            store_id: "s".into(),
            submission: 1,
            reviewed_heads: Vec::new(),
            outcome: ReviewOutcome::NeedsApproval,
            findings: Vec::new(),
            steps: vec![step("mia", Some(240)), step("hana", None)],
            total_cents: 0,
            submitted_at: Some(0),
            reviewed_at: 0,
            decided_at: None,
        }
    }

    fn wall(from: i64, minutes: i64) -> i64 {
        from + minutes * 60_000
    }

    #[test]
    fn a_four_hour_sla_reminds_at_half_and_is_due_at_four_hours_once() {
        let mut review = review();
        assert_eq!(start_current_step(&mut review, 10 * HOUR, 50, wall), Some(0));
        assert_eq!(start_current_step(&mut review, 11 * HOUR, 50, wall), None, "a started clock is kept");
        let sla = review.steps[0].sla.clone().unwrap();
        assert_eq!((sla.started_at, sla.remind_at, sla.due_at), (Some(10 * HOUR), Some(12 * HOUR), Some(14 * HOUR)));

        assert!(due(&review, 0, "mia", DeadlineAction::Remind, 12 * HOUR).is_some());
        assert!(due(&review, 0, "mia", DeadlineAction::Remind, 13 * HOUR).is_none(), "another plan");
        assert!(due(&review, 0, "otto", DeadlineAction::Remind, 12 * HOUR).is_none(), "another approver");
        record_reminder(&mut review, 0, 12 * HOUR);
        assert!(due(&review, 0, "mia", DeadlineAction::Remind, 12 * HOUR).is_none(), "reminded once");

        assert!(due(&review, 0, "mia", DeadlineAction::Escalate, 14 * HOUR).is_some());
        record_escalation(&mut review, 0, "hana", "hq", 14 * HOUR, "overdue".into());
        assert_eq!((review.steps[0].approver.as_str(), review.steps[0].role.as_str()), ("hana", "hq"));
        let escalation = review.steps[0].sla.as_ref().unwrap().escalation.clone().unwrap();
        assert_eq!((escalation.from.as_str(), escalation.to.as_str(), escalation.at), ("mia", "hana", 14 * HOUR));
        assert!(due(&review, 0, "hana", DeadlineAction::Escalate, 14 * HOUR).is_none(), "escalated once");
    }

    #[test]
    fn a_decided_step_has_nothing_due_and_a_step_without_sla_never_starts_a_clock() {
        let mut review = review();
        start_current_step(&mut review, 0, 50, wall);
        review.steps[0].state = StepState::Approved;
        assert!(due(&review, 0, "mia", DeadlineAction::Escalate, 4 * HOUR).is_none());
        assert_eq!(start_current_step(&mut review, HOUR, 50, wall), None, "step 2 has no SLA");
        assert_eq!(review.steps[1].sla, None);
    }

    #[test]
    fn durations_read_as_the_policy_writes_them_and_bad_ones_are_refused_by_name() {
        for (text, minutes) in [("4h", 240), ("90m", 90), ("1h30m", 90), ("2d", 2880), (" 8h ", 480)] {
            assert_eq!(parse_minutes(text), Ok(minutes), "{text}");
        }
        for text in ["", "4", "h", "0h", "-4h", "4x", "4h 30m", "99999999999999999999h", "400d"] {
            let error = parse_minutes(text).unwrap_err();
            assert!(error.to_string().contains(&format!("{text:?}")), "{error}");
        }
        assert_eq!((fmt_minutes(240), fmt_minutes(90), fmt_minutes(45)), ("4h".into(), "1h30m".into(), "45m".into()));
    }
}
