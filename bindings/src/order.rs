//! Orders: drafts, lines, submission, lists, and the relay's review of each order.

use fieldsync_core::doc::{
    ApprovalStep as CoreStep, Finding as CoreFinding, Order as CoreOrder, OrderReview as CoreReview,
    OrderStatus as CoreStatus, ReviewOutcome as CoreOutcome, Severity as CoreSeverity, StepState as CoreStepState,
};
use fieldsync_core::i18n::Language;
use fieldsync_core::local_store::{LineInput as CoreLineInput, NewOrder, OrderFilter as CoreFilter};

use crate::error::FieldSyncError;
use crate::phone::{FieldSyncPhone, document_id};

/// An order line as the rep enters it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LineInput {
    /// Product SKU; an active product of the catalog.
    pub sku: String,
    /// Quantity, at least 1.
    pub qty: i64,
    /// Unit price in cents (`price_preview` gives the catalog's).
    pub unit_price_cents: i64,
    /// Line discount in basis points, 0..=10000.
    #[uniffi(default = 0)]
    pub discount_bp: i64,
}

/// Where an order is on the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OrderStatus {
    /// Being edited.
    Draft,
    /// Sent for review; reopen it to edit again.
    Submitted,
}

/// Which orders to list; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct OrderFilter {
    /// Only orders in this state.
    #[uniffi(default)]
    pub status: Option<OrderStatus>,
    /// Only orders for this store.
    #[uniffi(default)]
    pub store_id: Option<String>,
    /// Only orders created at or after this time, ms since the Unix epoch.
    #[uniffi(default)]
    pub created_from: Option<i64>,
    /// Only orders created before this time, ms since the Unix epoch.
    #[uniffi(default)]
    pub created_to: Option<i64>,
    /// At most this many, most recently edited first.
    #[uniffi(default)]
    pub limit: Option<u32>,
}

/// One row of an order list (read from the index, cheap for thousands of orders).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderSummary {
    /// The order's id.
    pub id: String,
    /// Draft or submitted.
    pub status: OrderStatus,
    /// The store.
    pub store_id: String,
    /// The customer billed.
    pub customer_id: String,
    /// The rep.
    pub owner: String,
    /// Created, ms since the Unix epoch.
    pub created_at: i64,
    /// Last edited, ms since the Unix epoch.
    pub updated_at: i64,
    /// Total after line discounts, in cents.
    pub total_cents: i64,
    /// Number of lines.
    pub line_count: i64,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderLine {
    /// The line's id (for `update_line` and `remove_line`).
    pub line_id: String,
    /// Product SKU.
    pub sku: String,
    /// Quantity.
    pub qty: i64,
    /// Unit price before discount, in cents.
    pub unit_price_cents: i64,
    /// Discount in basis points.
    pub discount_bp: i64,
    /// Line total after discount, in cents.
    pub total_cents: i64,
}

/// Where an order stands with the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReviewState {
    /// A draft: not sent for review.
    NotSubmitted,
    /// Submitted; the relay's review of this submission has not reached the phone yet.
    PendingReview,
    /// Inside policy, or every approval step approved.
    Approved,
    /// Waiting for an approver.
    NeedsApproval,
    /// Rejected by validation or by an approver.
    Rejected,
}

/// The relay's verdict in a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReviewOutcome {
    /// Inside policy, or every approval step approved.
    Approved,
    /// Waiting for the current approval step.
    NeedsApproval,
    /// Rejected by validation or by an approver.
    Rejected,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Severity {
    /// For information only.
    Info,
    /// Needs an approval.
    Warning,
    /// Blocks the order.
    Error,
}

/// One explained result of the relay's validation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Finding {
    /// Stable code (`price-below-floor`, `insufficient-stock`, …).
    pub code: String,
    /// The line it is about, if any.
    pub line_id: Option<String>,
    /// How serious it is.
    pub severity: Severity,
    /// The explanation for the rep, in the phone's language (`set_language`).
    pub text: String,
}

/// The state of an approval step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StepState {
    /// Not yet decided.
    Pending,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
}

/// One approval step of an order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApprovalStep {
    /// Its position among the order's steps (0 first).
    pub index: u32,
    /// The approving role (`manager`, `hq`).
    pub role: String,
    /// The approver's user id.
    pub approver: String,
    /// The policy rule that requires it.
    pub rule: String,
    /// Its state.
    pub state: StepState,
    /// When it was decided, ms since the Unix epoch.
    pub decided_at: Option<i64>,
    /// The approver's reason.
    pub reason: String,
    /// The deadline, ms since the Unix epoch, when the policy rule gives the step an SLA and the
    /// step has started waiting.
    pub due_at: Option<i64>,
    /// The user the approver decides for (they were out of office and delegated the step).
    pub on_behalf_of: Option<String>,
}

/// The relay's review of an order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrderReview {
    /// The order's readable number in its company (`N-000123`); empty until the relay's first
    /// review (and for reviews from before numbers existed).
    pub number: String,
    /// The submission it reviewed (see `Order::submission`).
    pub submission: u64,
    /// The verdict.
    pub outcome: ReviewOutcome,
    /// Validation findings.
    pub findings: Vec<Finding>,
    /// Approval steps; the first pending one is current.
    pub steps: Vec<ApprovalStep>,
    /// The total as the relay priced it, in cents.
    pub total_cents: i64,
    /// When reviewed, ms since the Unix epoch.
    pub reviewed_at: i64,
    /// When the outcome became final, ms since the Unix epoch.
    pub decided_at: Option<i64>,
}

/// An order with its lines and its review status.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Order {
    /// The order's id.
    pub id: String,
    /// The rep who owns it.
    pub owner: String,
    /// The store.
    pub store_id: String,
    /// The customer billed.
    pub customer_id: String,
    /// Draft or submitted.
    pub status: OrderStatus,
    /// Lines in display order.
    pub lines: Vec<OrderLine>,
    /// Notes for the back office.
    pub notes: String,
    /// Created, ms since the Unix epoch.
    pub created_at: i64,
    /// Last edited, ms since the Unix epoch.
    pub updated_at: i64,
    /// Last submitted, ms since the Unix epoch.
    pub submitted_at: Option<i64>,
    /// How many times it was submitted.
    pub submission: u64,
    /// Total after line discounts, in cents.
    pub total_cents: i64,
    /// Where it stands with the relay.
    pub review_state: ReviewState,
    /// The latest review on the phone, if any (it may be of an earlier submission).
    pub review: Option<OrderReview>,
}

#[uniffi::export]
impl FieldSyncPhone {
    /// Creates a draft order for a store with its first lines; returns the order's id.
    pub fn create_order(
        &self,
        store_id: String,
        lines: Vec<LineInput>,
        notes: String,
    ) -> Result<String, FieldSyncError> {
        let lines = lines.into_iter().map(CoreLineInput::from).collect();
        Ok(self.store.create_order(NewOrder { store_id, lines, notes })?.to_string())
    }

    /// Adds a line to a draft order; returns the line's id.
    pub fn add_line(&self, order_id: String, line: LineInput) -> Result<String, FieldSyncError> {
        Ok(self.store.add_line(&document_id(&order_id)?, line.into())?)
    }

    /// Replaces a line of a draft order.
    pub fn update_line(&self, order_id: String, line_id: String, line: LineInput) -> Result<(), FieldSyncError> {
        Ok(self.store.update_line(&document_id(&order_id)?, &line_id, line.into())?)
    }

    /// Removes a line from a draft order.
    pub fn remove_line(&self, order_id: String, line_id: String) -> Result<(), FieldSyncError> {
        Ok(self.store.remove_line(&document_id(&order_id)?, &line_id)?)
    }

    /// Replaces the notes of a draft order.
    pub fn set_notes(&self, order_id: String, notes: String) -> Result<(), FieldSyncError> {
        Ok(self.store.set_notes(&document_id(&order_id)?, &notes)?)
    }

    /// Submits a draft order (at least one line) for review; it syncs with the next sync.
    pub fn submit_order(&self, order_id: String) -> Result<(), FieldSyncError> {
        Ok(self.store.submit_order(&document_id(&order_id)?)?)
    }

    /// Turns a submitted order back into a draft to edit and resubmit it.
    pub fn reopen_order(&self, order_id: String) -> Result<(), FieldSyncError> {
        Ok(self.store.reopen_order(&document_id(&order_id)?)?)
    }

    /// Lists orders, most recently edited first, without loading them.
    pub fn list_orders(&self, filter: OrderFilter) -> Result<Vec<OrderSummary>, FieldSyncError> {
        self.store.list_orders(&filter.into())?.into_iter().map(OrderSummary::try_from).collect()
    }

    /// One order with its lines, its review state and the latest review (findings, approval
    /// steps). With no review on the phone yet, a submitted order is `PendingReview`.
    pub fn order(&self, order_id: String) -> Result<Order, FieldSyncError> {
        let id = document_id(&order_id)?;
        let order = self.store.order(&id)?;
        let review = self.store.order_review(&id)?.map(|(_, review)| review);
        Ok(Order::new(order_id, order, review, self.current_language()))
    }
}

/// Where an order stands: a draft is not submitted; a submitted order is pending until the
/// review of its current submission arrives, then it has that review's outcome.
fn review_state(order: &CoreOrder, review: Option<&CoreReview>) -> ReviewState {
    match (order.status, review) {
        (CoreStatus::Draft, _) => ReviewState::NotSubmitted,
        (CoreStatus::Submitted, Some(review)) if review.submission == order.submission => match review.outcome {
            CoreOutcome::Approved => ReviewState::Approved,
            CoreOutcome::NeedsApproval => ReviewState::NeedsApproval,
            CoreOutcome::Rejected => ReviewState::Rejected,
        },
        (CoreStatus::Submitted, _) => ReviewState::PendingReview,
    }
}

impl Order {
    fn new(id: String, order: CoreOrder, review: Option<CoreReview>, language: Language) -> Self {
        let review_state = review_state(&order, review.as_ref());
        let lines = order
            .lines_in_order()
            .into_iter()
            .map(|(line_id, line)| OrderLine {
                line_id: line_id.clone(),
                sku: line.sku.clone(),
                qty: line.qty,
                unit_price_cents: line.unit_price_cents,
                discount_bp: line.discount_bp,
                total_cents: line.total_cents(),
            })
            .collect();
        Order {
            id,
            total_cents: order.total_cents(),
            lines,
            owner: order.owner,
            store_id: order.store_id,
            customer_id: order.customer_id,
            status: order.status.into(),
            notes: order.notes,
            created_at: order.created_at,
            updated_at: order.updated_at,
            submitted_at: order.submitted_at,
            submission: order.submission,
            review_state,
            review: review.map(|review| OrderReview::new(review, language)),
        }
    }
}

impl OrderReview {
    fn new(r: CoreReview, language: Language) -> Self {
        OrderReview {
            number: r.number,
            submission: r.submission,
            outcome: r.outcome.into(),
            findings: r.findings.into_iter().map(|f| Finding::new(f, language)).collect(),
            steps: r.steps.into_iter().enumerate().map(|(index, step)| ApprovalStep::new(index, step)).collect(),
            total_cents: r.total_cents,
            reviewed_at: r.reviewed_at,
            decided_at: r.decided_at,
        }
    }
}

impl ApprovalStep {
    pub(crate) fn new(index: usize, s: CoreStep) -> Self {
        ApprovalStep {
            due_at: s.sla.as_ref().and_then(|sla| sla.due_at),
            on_behalf_of: s.on_behalf_of,
            index: u32::try_from(index).unwrap_or(u32::MAX),
            role: s.role,
            approver: s.approver,
            rule: s.rule,
            state: match s.state {
                CoreStepState::Pending => StepState::Pending,
                CoreStepState::Approved => StepState::Approved,
                CoreStepState::Rejected => StepState::Rejected,
            },
            decided_at: s.decided_at,
            reason: s.reason,
        }
    }
}

impl Finding {
    pub(crate) fn new(f: CoreFinding, language: Language) -> Self {
        let text = f.text_in(language);
        Finding {
            code: f.code,
            line_id: f.line_id,
            severity: match f.severity {
                CoreSeverity::Info => Severity::Info,
                CoreSeverity::Warning => Severity::Warning,
                CoreSeverity::Error => Severity::Error,
            },
            text,
        }
    }
}

impl From<CoreOutcome> for ReviewOutcome {
    fn from(outcome: CoreOutcome) -> Self {
        match outcome {
            CoreOutcome::Approved => ReviewOutcome::Approved,
            CoreOutcome::NeedsApproval => ReviewOutcome::NeedsApproval,
            CoreOutcome::Rejected => ReviewOutcome::Rejected,
        }
    }
}

impl From<CoreStatus> for OrderStatus {
    fn from(status: CoreStatus) -> Self {
        match status {
            CoreStatus::Draft => OrderStatus::Draft,
            CoreStatus::Submitted => OrderStatus::Submitted,
        }
    }
}

impl From<OrderStatus> for CoreStatus {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Draft => CoreStatus::Draft,
            OrderStatus::Submitted => CoreStatus::Submitted,
        }
    }
}

impl From<LineInput> for CoreLineInput {
    fn from(l: LineInput) -> Self {
        CoreLineInput { sku: l.sku, qty: l.qty, unit_price_cents: l.unit_price_cents, discount_bp: l.discount_bp }
    }
}

impl From<OrderFilter> for CoreFilter {
    fn from(f: OrderFilter) -> Self {
        CoreFilter {
            status: f.status.map(CoreStatus::from),
            store_id: f.store_id,
            created_from: f.created_from,
            created_to: f.created_to,
            limit: f.limit,
        }
    }
}

impl TryFrom<fieldsync_core::local_store::OrderSummary> for OrderSummary {
    type Error = FieldSyncError;

    fn try_from(s: fieldsync_core::local_store::OrderSummary) -> Result<Self, FieldSyncError> {
        let status = match s.status.as_str() {
            "draft" => OrderStatus::Draft,
            "submitted" => OrderStatus::Submitted,
            other => {
                return Err(FieldSyncError::UpdateRequired { reason: format!("order {} has status {other:?}", s.id) });
            }
        };
        Ok(OrderSummary {
            id: s.id.to_string(),
            status,
            store_id: s.store_id,
            customer_id: s.customer_id,
            owner: s.owner,
            created_at: s.created_at,
            updated_at: s.updated_at,
            total_cents: s.total_cents,
            line_count: s.line_count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn order(status: CoreStatus, submission: u64) -> CoreOrder {
        CoreOrder {
            owner: "rep".into(),
            store_id: "s".into(),
            customer_id: "c".into(),
            status,
            lines: BTreeMap::new(),
            notes: String::new(),
            created_at: 0,
            updated_at: 0,
            submitted_at: None,
            submission,
        }
    }

    fn review(submission: u64, outcome: CoreOutcome) -> CoreReview {
        CoreReview {
            number: "N-000001".into(),
            order_id: "o".into(),
            owner: "rep".into(),
            store_id: "s".into(),
            submission,
            reviewed_heads: vec![],
            outcome,
            findings: vec![],
            steps: vec![],
            total_cents: 0,
            submitted_at: None,
            reviewed_at: 0,
            decided_at: None,
        }
    }

    #[test]
    fn a_submitted_order_without_its_review_is_pending_review() {
        assert_eq!(review_state(&order(CoreStatus::Submitted, 1), None), ReviewState::PendingReview);
        let stale = review(1, CoreOutcome::Rejected);
        assert_eq!(review_state(&order(CoreStatus::Submitted, 2), Some(&stale)), ReviewState::PendingReview);
    }

    #[test]
    fn the_review_of_the_current_submission_gives_the_state() {
        let approved = review(2, CoreOutcome::Approved);
        assert_eq!(review_state(&order(CoreStatus::Submitted, 2), Some(&approved)), ReviewState::Approved);
        assert_eq!(review_state(&order(CoreStatus::Draft, 2), Some(&approved)), ReviewState::NotSubmitted);
    }
}
