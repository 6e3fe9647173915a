//! `order-review`: the relay's verdict on one order, written only by the relay.
//!
//! The relay rewrites the whole review for each submission it reviews, pinning the order heads it
//! looked at; approval steps change state only as decisions are applied. Every field is
//! last-writer-wins, and there is one writer, so nothing concurrent needs merging.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, EscalationTarget, IndexFields};
use crate::i18n::{Language, Message, core_catalog};

/// The verdict on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hydrate, Reconcile)]
pub enum ReviewOutcome {
    /// Inside policy, or every approval step approved.
    Approved,
    /// Waiting for the current approval step.
    NeedsApproval,
    /// Rejected by validation or by an approver.
    Rejected,
}

impl ReviewOutcome {
    /// The name used in the index and in lists.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Approved => "approved",
            ReviewOutcome::NeedsApproval => "needs-approval",
            ReviewOutcome::Rejected => "rejected",
        }
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hydrate, Reconcile)]
pub enum Severity {
    /// For information only.
    Info,
    /// Needs an approval.
    Warning,
    /// Blocks the order.
    Error,
}

/// One explainable result of validation, e.g. `line 3: unit price 12.40 below floor 13.00 for tier B`.
///
/// The words are not stored as such: a finding is its [`Self::code`] and [`Self::args`], read in
/// the reader's language through the message `finding-<code>` of core's catalog
/// ([`Self::text_in`]). [`Self::text`] keeps the English text for apps that predate codes.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Finding {
    /// Stable machine code (`price-below-floor`, `insufficient-stock`, …).
    pub code: String,
    /// The line it is about, if any.
    pub line_id: Option<String>,
    /// How serious it is.
    pub severity: Severity,
    /// The explanation in English: what readers that predate codes show, and the text of a
    /// finding written before codes had arguments.
    pub text: String,
    /// The arguments of the message `finding-<code>` (`line` → `3`, `price` → `12.40`), already
    /// formatted; `None` in findings written before codes had arguments, which read as
    /// [`Self::text`].
    #[autosurgeon(missing = "Default::default")]
    pub args: Option<BTreeMap<String, String>>,
}

/// The prefix of a finding's message id: the finding `price-below-floor` reads as the message
/// `finding-price-below-floor`.
pub const FINDING_MESSAGE_PREFIX: &str = "finding-";

impl Finding {
    /// A finding from its code and arguments, with its English text.
    pub fn new(code: &str, line_id: Option<String>, severity: Severity, args: BTreeMap<String, String>) -> Self {
        let mut finding = Self { code: code.to_owned(), line_id, severity, text: String::new(), args: Some(args) };
        finding.text = finding.text_in(Language::English);
        finding
    }

    /// Its message (`finding-<code>` and its arguments); `None` for a finding written before
    /// codes had arguments.
    pub fn message(&self) -> Option<Message> {
        let args = self.args.clone()?;
        Some(Message { code: format!("{FINDING_MESSAGE_PREFIX}{}", self.code), args, parts: BTreeMap::new() })
    }

    /// Its text in `language`: from the code and arguments, or the stored English text for a
    /// finding written before codes had arguments.
    pub fn text_in(&self, language: Language) -> String {
        match self.message() {
            Some(message) => core_catalog().text(language, &message),
            None => self.text.clone(),
        }
    }
}

/// The state of one approval step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hydrate, Reconcile)]
pub enum StepState {
    /// Not yet decided.
    Pending,
    /// Approved by its approver.
    Approved,
    /// Rejected by its approver.
    Rejected,
}

/// One approval step of an order.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct ApprovalStep {
    /// The role that approves (`manager`, `hq`).
    pub role: String,
    /// The user id of the approver.
    pub approver: String,
    /// Why this step is needed (the policy rule that produced it).
    pub rule: String,
    /// Decision state.
    pub state: StepState,
    /// When the decision was applied, ms since the Unix epoch.
    pub decided_at: Option<i64>,
    /// The approver's reason (required for a rejection).
    pub reason: String,
    /// The step's deadline, when a policy rule gives it an SLA.
    #[autosurgeon(missing = "Default::default")]
    pub sla: Option<StepSla>,
    /// Whom the approver decides for: the user the step was routed to, who was out of office
    /// and delegated it to `approver`.
    #[autosurgeon(missing = "Default::default")]
    pub on_behalf_of: Option<String>,
}

/// A step's deadline: set when the policy rule behind the step has an SLA; the times are set
/// when the step starts waiting for its approver.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct StepSla {
    /// The SLA, in minutes (business minutes under a working calendar).
    pub respond_within_minutes: i64,
    /// Where the step goes when the deadline passes (`None`: it stays, overdue).
    pub escalate_to: Option<EscalationTarget>,
    /// When the step started waiting, ms since the Unix epoch.
    pub started_at: Option<i64>,
    /// When the approver is reminded, ms since the Unix epoch.
    pub remind_at: Option<i64>,
    /// The deadline, ms since the Unix epoch.
    pub due_at: Option<i64>,
    /// When the reminder went to the approver's inbox.
    pub reminded_at: Option<i64>,
    /// The escalation at the deadline, once it happened.
    pub escalation: Option<Escalation>,
}

/// An overdue step handed to someone else: who, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Hydrate, Reconcile)]
pub struct Escalation {
    /// The approver the step was waiting for.
    pub from: String,
    /// The approver it went to.
    pub to: String,
    /// When, ms since the Unix epoch.
    pub at: i64,
    /// Why, readable (`not decided within 4h (due 2026-…): escalated to hq`).
    pub reason: String,
}

/// The relay's verdict on one order.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct OrderReview {
    /// The reviewed order's document id.
    pub order_id: String,
    /// The order's readable number in its tenant (`N-000123`), given by the relay at the first
    /// review and kept through resubmissions; empty for reviews written before numbers existed.
    #[autosurgeon(missing = "Default::default")]
    pub number: String,
    /// The order's owner (so the review reaches the rep's device).
    pub owner: String,
    /// The store of the order.
    pub store_id: String,
    /// The order's submission number this review is for.
    pub submission: u64,
    /// The order heads that were reviewed (hex change hashes).
    pub reviewed_heads: Vec<String>,
    /// The verdict.
    pub outcome: ReviewOutcome,
    /// Validation findings.
    pub findings: Vec<Finding>,
    /// Approval steps in order; the first pending one is current.
    pub steps: Vec<ApprovalStep>,
    /// The order total as the relay priced it, in cents.
    pub total_cents: i64,
    /// When the rep submitted the reviewed submission (the order's `submitted_at`), ms since the
    /// Unix epoch; with `decided_at` it gives the submitted-to-decided time for the dashboard.
    #[autosurgeon(missing = "Default::default")]
    pub submitted_at: Option<i64>,
    /// When the review was written, ms since the Unix epoch.
    pub reviewed_at: i64,
    /// When the outcome became final (approved or rejected), ms since the Unix epoch.
    pub decided_at: Option<i64>,
}

impl OrderReview {
    /// The index of the step waiting for a decision, if any.
    pub fn current_step(&self) -> Option<usize> {
        if self.outcome != ReviewOutcome::NeedsApproval {
            return None;
        }
        self.steps.iter().position(|s| s.state == StepState::Pending)
    }

    /// Milliseconds from submission to the final outcome, once there is one.
    pub fn time_to_decision_ms(&self) -> Option<i64> {
        Some(self.decided_at? - self.submitted_at?)
    }
}

impl DocumentModel for OrderReview {
    const KIND: DocKind = DocKind::OrderReview;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            status: Some(self.outcome.as_str().to_owned()),
            store_id: Some(self.store_id.clone()),
            owner: Some(self.owner.clone()),
            subject_id: Some(self.order_id.clone()),
            created_at: Some(self.reviewed_at),
            updated_at: Some(self.decided_at.unwrap_or(self.reviewed_at)),
            amount_cents: Some(self.total_cents),
            item_count: i64::try_from(self.findings.len()).ok(),
        }
    }
}
