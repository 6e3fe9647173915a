//! Applying an approver's decision to an order review: the state machine of approval steps.
//!
//! Only the current step (the first pending one while the outcome is needs-approval) can be
//! decided, only by the approver named in it, never by the order's own rep, on the submission
//! the review is for; a rejection carries a reason. A rejection rejects the order; approving the
//! last step approves it; either way the outcome's time is recorded.
//!
//! A decision document is shared by every device of its approver and merges last-writer-wins
//! ([`Decision::id_for`](crate::doc::Decision::id_for)), so a step can see its decision change
//! after it was applied, when a second device's offline decision arrives. The relay then applies
//! the merged value ([`Revision::Allowed`]) as long as no later step was decided since: the
//! result depends only on the merged document, not on which device reached the relay first.

use crate::doc::{Decision, OrderReview, ReviewOutcome, StepState, Verdict};

/// A decision to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionInput<'a> {
    /// The step index.
    pub step: u64,
    /// Who decided.
    pub approver: &'a str,
    /// Approve or reject.
    pub verdict: Verdict,
    /// Why (required for a rejection).
    pub reason: &'a str,
    /// The submission the decision is about (0: not recorded).
    pub submission: u64,
}

impl<'a> From<&'a Decision> for DecisionInput<'a> {
    /// What a decision document says, as the rules check it.
    fn from(decision: &'a Decision) -> Self {
        DecisionInput {
            step: decision.step,
            approver: &decision.approver,
            verdict: decision.verdict,
            reason: &decision.reason,
            submission: decision.submission,
        }
    }
}

/// Whether a decided step may take a changed decision of its own approver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    /// Only the current step can be decided (HTTP decisions, the phone).
    Forbidden,
    /// A merged decision document may change its decided step while no later step is decided.
    Allowed,
}

/// What applying a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The current step was decided.
    Decided,
    /// The step already had this verdict: nothing changed.
    Unchanged,
    /// A decided step took its approver's merged, different decision.
    Revised,
}

/// A step as people see it: pages and messages number steps from 1, while a decision's `step`
/// (the phone API's and `POST /v1/orders/{id}/decision`'s) is the index, from 0.
pub fn display_step(index: u64) -> u64 {
    index.saturating_add(1)
}

/// Why a decision is refused. Messages name the values, and the step as pages number it
/// ([`display_step`]); the fields keep the index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefused {
    /// The rep who owns the order can never approve it.
    #[error("{approver} owns order {order_id} and cannot decide on it")]
    OwnOrder {
        /// The order.
        order_id: String,
        /// The would-be approver.
        approver: String,
    },
    /// The review has no such step.
    #[error("order {order_id} has no approval step {}", display_step(*.step))]
    UnknownStep {
        /// The order.
        order_id: String,
        /// The step asked for.
        step: u64,
    },
    /// The decision is about an earlier (or later) submission than the review.
    #[error("decision is for submission {decision} of order {order_id}, but submission {review} is under review")]
    OtherSubmission {
        /// The order.
        order_id: String,
        /// The decision's submission.
        decision: u64,
        /// The review's submission.
        review: u64,
    },
    /// Someone other than the step's approver decided.
    #[error("step {} of order {order_id} is for {expected}, not for {approver}", display_step(*.step))]
    NotApprover {
        /// The order.
        order_id: String,
        /// The step.
        step: u64,
        /// The step's approver.
        expected: String,
        /// Who decided.
        approver: String,
    },
    /// A rejection without a reason.
    #[error("rejecting step {} of order {order_id} needs a reason", display_step(*.step))]
    MissingReason {
        /// The order.
        order_id: String,
        /// The step.
        step: u64,
    },
    /// The step is not the one waiting for a decision.
    #[error("step {} of order {order_id} is not waiting for a decision (order is {outcome})", display_step(*.step))]
    NotCurrent {
        /// The order.
        order_id: String,
        /// The step.
        step: u64,
        /// The review's outcome.
        outcome: &'static str,
    },
}

/// Checks a decision against a review without applying it (what the phone and the HTTP API
/// check before writing a decision).
pub fn check_decision(review: &OrderReview, order_owner: &str, d: &DecisionInput<'_>) -> Result<(), DecisionRefused> {
    let order_id = || review.order_id.clone();
    if d.approver == order_owner {
        return Err(DecisionRefused::OwnOrder { order_id: order_id(), approver: d.approver.to_owned() });
    }
    let index = usize::try_from(d.step).ok().filter(|i| *i < review.steps.len());
    let Some(index) = index else { return Err(DecisionRefused::UnknownStep { order_id: order_id(), step: d.step }) };
    if d.submission != 0 && d.submission != review.submission {
        return Err(DecisionRefused::OtherSubmission {
            order_id: order_id(),
            decision: d.submission,
            review: review.submission,
        });
    }
    let step = &review.steps[index];
    if step.approver != d.approver {
        return Err(DecisionRefused::NotApprover {
            order_id: order_id(),
            step: d.step,
            expected: step.approver.clone(),
            approver: d.approver.to_owned(),
        });
    }
    if d.verdict == Verdict::Reject && d.reason.trim().is_empty() {
        return Err(DecisionRefused::MissingReason { order_id: order_id(), step: d.step });
    }
    Ok(())
}

/// Applies a decision to a review at time `now` (ms since the Unix epoch).
pub fn apply_decision(
    review: &mut OrderReview,
    order_owner: &str,
    d: &DecisionInput<'_>,
    revision: Revision,
    now: i64,
) -> Result<Applied, DecisionRefused> {
    check_decision(review, order_owner, d)?;
    let index = usize::try_from(d.step).unwrap_or(usize::MAX);
    let wanted = match d.verdict {
        Verdict::Approve => StepState::Approved,
        Verdict::Reject => StepState::Rejected,
    };
    let not_current = |review: &OrderReview| DecisionRefused::NotCurrent {
        order_id: review.order_id.clone(),
        step: d.step,
        outcome: review.outcome.as_str(),
    };
    let state = review.steps.get(index).map(|s| s.state).ok_or_else(|| not_current(review))?;
    let applied = if review.current_step() == Some(index) {
        Applied::Decided
    } else if state == wanted {
        return Ok(Applied::Unchanged);
    } else if revision == Revision::Allowed
        && state != StepState::Pending
        && review.steps[index + 1..].iter().all(|s| s.state == StepState::Pending)
        && review.steps[..index].iter().all(|s| s.state == StepState::Approved)
    {
        Applied::Revised
    } else {
        return Err(not_current(review));
    };
    let step = &mut review.steps[index];
    step.state = wanted;
    step.decided_at = Some(now);
    step.reason = d.reason.trim().to_owned();
    settle(review, now);
    Ok(applied)
}

/// Recomputes a review's outcome from its steps: rejected when a step is rejected, approved when
/// every step is approved, otherwise waiting. `decided_at` is set when the outcome becomes final
/// and cleared when it is not.
pub fn settle(review: &mut OrderReview, now: i64) {
    let outcome = if review.steps.iter().any(|s| s.state == StepState::Rejected) {
        ReviewOutcome::Rejected
    } else if review.steps.iter().all(|s| s.state == StepState::Approved) {
        ReviewOutcome::Approved
    } else {
        ReviewOutcome::NeedsApproval
    };
    if outcome != review.outcome || review.decided_at.is_none() {
        review.decided_at = (outcome != ReviewOutcome::NeedsApproval).then_some(now);
    }
    review.outcome = outcome;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]
    use super::*;
    use crate::doc::ApprovalStep;

    const NOW: i64 = 1_750_000_000_000;

    fn review(states: &[StepState]) -> OrderReview {
        let approvers = ["manager-north", "hq-admin", "hq-other"];
        let steps: Vec<ApprovalStep> = states
            .iter()
            .zip(approvers)
            .map(|(state, approver)| ApprovalStep {
                on_behalf_of: None,
                role: if approver.starts_with("hq") { "hq".into() } else { "manager".into() },
                approver: approver.into(),
                rule: "r".into(),
                state: *state,
                decided_at: (*state != StepState::Pending).then_some(NOW - 10),
                reason: String::new(),
                sla: None,
            })
            .collect();
        let mut review = OrderReview {
            number: String::new(),
            order_id: "order-1".into(),
            owner: "rep-01".into(),
            store_id: "store-1".into(),
            submission: 2,
            reviewed_heads: vec!["aa".into()],
            outcome: ReviewOutcome::NeedsApproval,
            findings: Vec::new(),
            steps,
            total_cents: 100,
            submitted_at: Some(NOW - 1000),
            reviewed_at: NOW - 100,
            decided_at: None,
        };
        settle(&mut review, NOW - 10);
        review
    }

    fn decision(step: u64, approver: &'static str, verdict: Verdict, reason: &'static str) -> DecisionInput<'static> {
        DecisionInput { step, approver, verdict, reason, submission: 2 }
    }

    use StepState::{Approved as A, Pending as P, Rejected as R};
    use Verdict::{Approve, Reject};

    #[test]
    fn decisions_move_the_review_through_its_steps() {
        // (case, steps, decision, revision, expected result, expected steps, expected outcome)
        type Case = (
            &'static str,
            Vec<StepState>,
            DecisionInput<'static>,
            Revision,
            Result<Applied, &'static str>,
            Vec<StepState>,
            ReviewOutcome,
        );
        let f = Revision::Forbidden;
        let cases: Vec<Case> = vec![
            (
                "manager approves the first of two",
                vec![P, P],
                decision(0, "manager-north", Approve, ""),
                f,
                Ok(Applied::Decided),
                vec![A, P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "hq approves the last",
                vec![A, P],
                decision(1, "hq-admin", Approve, ""),
                f,
                Ok(Applied::Decided),
                vec![A, A],
                ReviewOutcome::Approved,
            ),
            (
                "a rejection rejects the order",
                vec![P, P],
                decision(0, "manager-north", Reject, "price too low"),
                f,
                Ok(Applied::Decided),
                vec![R, P],
                ReviewOutcome::Rejected,
            ),
            (
                "the second step cannot go first",
                vec![P, P],
                decision(1, "hq-admin", Approve, ""),
                f,
                Err("step 2 of order order-1 is not waiting for a decision (order is needs-approval)"),
                vec![P, P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "another user is not the approver",
                vec![P, P],
                decision(0, "hq-admin", Approve, ""),
                f,
                Err("step 1 of order order-1 is for manager-north, not for hq-admin"),
                vec![P, P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "the rep cannot approve their own order",
                vec![P],
                decision(0, "rep-01", Approve, ""),
                f,
                Err("rep-01 owns order order-1 and cannot decide on it"),
                vec![P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "a rejection needs a reason",
                vec![P],
                decision(0, "manager-north", Reject, "  "),
                f,
                Err("rejecting step 1 of order order-1 needs a reason"),
                vec![P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "a reason is asked for the second step, numbered as pages show it",
                vec![A, P],
                decision(1, "hq-admin", Reject, ""),
                f,
                Err("rejecting step 2 of order order-1 needs a reason"),
                vec![A, P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "no such step",
                vec![P],
                decision(5, "manager-north", Approve, ""),
                f,
                Err("order order-1 has no approval step 6"),
                vec![P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "the same verdict again changes nothing",
                vec![A, P],
                decision(0, "manager-north", Approve, ""),
                f,
                Ok(Applied::Unchanged),
                vec![A, P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "a changed verdict is refused over HTTP",
                vec![A, P],
                decision(0, "manager-north", Reject, "no"),
                f,
                Err("step 1 of order order-1 is not waiting for a decision (order is needs-approval)"),
                vec![A, P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "a merged decision revises its step while nothing later is decided",
                vec![A, P],
                decision(0, "manager-north", Reject, "second phone said no"),
                Revision::Allowed,
                Ok(Applied::Revised),
                vec![R, P],
                ReviewOutcome::Rejected,
            ),
            (
                "a rejection revised to approval reopens the next step",
                vec![R, P],
                decision(0, "manager-north", Approve, ""),
                Revision::Allowed,
                Ok(Applied::Revised),
                vec![A, P],
                ReviewOutcome::NeedsApproval,
            ),
            (
                "no revision once a later step is decided",
                vec![A, A],
                decision(0, "manager-north", Reject, "too late"),
                Revision::Allowed,
                Err("step 1 of order order-1 is not waiting for a decision (order is approved)"),
                vec![A, A],
                ReviewOutcome::Approved,
            ),
        ];
        for (case, states, d, revision, expected, steps, outcome) in cases {
            let mut review = review(&states);
            let result = apply_decision(&mut review, "rep-01", &d, revision, NOW).map_err(|e| e.to_string());
            assert_eq!(result, expected.map_err(str::to_owned), "{case}");
            let got: Vec<StepState> = review.steps.iter().map(|s| s.state).collect();
            assert_eq!(got, steps, "{case}");
            assert_eq!(review.outcome, outcome, "{case}");
            assert_eq!(review.decided_at.is_some(), outcome != ReviewOutcome::NeedsApproval, "{case}");
        }
    }

    #[test]
    fn a_decision_on_another_submission_is_refused() {
        let mut review = review(&[P]);
        let old = DecisionInput { submission: 1, ..decision(0, "manager-north", Approve, "") };
        let refused = apply_decision(&mut review, "rep-01", &old, Revision::Allowed, NOW).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "decision is for submission 1 of order order-1, but submission 2 is under review"
        );
        let unrecorded = DecisionInput { submission: 0, ..old };
        assert_eq!(apply_decision(&mut review, "rep-01", &unrecorded, Revision::Allowed, NOW), Ok(Applied::Decided));
    }

    #[test]
    fn the_outcome_time_is_recorded_for_the_dashboard() {
        let mut review = review(&[P]);
        apply_decision(&mut review, "rep-01", &decision(0, "manager-north", Approve, ""), Revision::Forbidden, NOW)
            .unwrap();
        assert_eq!(review.decided_at, Some(NOW));
        assert_eq!(review.time_to_decision_ms(), Some(1000));
        assert_eq!(review.steps[0].decided_at, Some(NOW));
    }
}
