//! The approval policy of a tenant: which orders need whose approval. It lives inside the
//! `catalog` document ([`Catalog::approval_policy`](super::Catalog::approval_policy)), which HQ
//! alone writes, so it needs no document kind, scope rule or writer rule of its own, and every
//! phone already holds it for previews. `docs/approval-policy.md` describes the format with a
//! worked example.
//!
//! Rules are a map keyed by a stable rule id, so two HQ edits to different rules merge; fields of
//! one rule are last-writer-wins. `version` is bumped by HQ on each published change and is
//! named in every approval step the relay routes with it.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

/// A role that can approve an order step. Only managers and HQ users may write decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Hydrate, Reconcile)]
pub enum ApproverRole {
    /// The manager of the store's region.
    Manager,
    /// HQ (finance): any user with the `hq` role.
    Hq,
}

impl ApproverRole {
    /// The role's name, as in accounts and approval steps (`manager`, `hq`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApproverRole::Manager => "manager",
            ApproverRole::Hq => "hq",
        }
    }
}

/// One routing rule: when every condition that is set holds, the order needs the rule's
/// approvers. Empty lists and `None` do not restrict.
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct ApprovalRule {
    /// What the rule is for, shown to reps and approvers.
    pub name: String,
    /// Customer tiers it applies to.
    pub tiers: Vec<String>,
    /// Sales regions it applies to.
    pub regions: Vec<String>,
    /// Product categories: it applies when some line is in one of them.
    pub categories: Vec<String>,
    /// It applies when the order total is at least this, in cents.
    pub min_total_cents: Option<i64>,
    /// It applies when some line's discount is at least this, in basis points.
    pub min_discount_bp: Option<i64>,
    /// It applies only when some line's discount is above the discount policy's limit.
    pub over_discount_limit: bool,
    /// Who approves, in order (duplicates across rules are merged).
    pub approvers: Vec<ApproverRole>,
    /// The step's SLA: how long its approver has to decide once the step waits for them, in
    /// minutes (`respond_within: 4h` is 240); business minutes when the policy sets
    /// [`ApprovalPolicy::working_hours`]. `None`: no deadline.
    #[autosurgeon(missing = "Default::default")]
    pub respond_within_minutes: Option<i64>,
    /// Who the step goes to when its deadline passes undecided. `None` with an SLA: the
    /// approver is reminded and the step shows as overdue, but stays with them.
    #[autosurgeon(missing = "Default::default")]
    pub escalate_to: Option<EscalationTarget>,
}

/// Where an overdue step goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Hydrate, Reconcile)]
pub enum EscalationTarget {
    /// HQ finance: the first HQ user by username (the next one when HQ's own step is overdue).
    Hq,
    /// The next manager up from the step's approver: HQ above a regional manager, the next HQ
    /// user above an HQ approver.
    NextManagerUp,
}

impl EscalationTarget {
    /// The name the policy format and pages use (`hq`, `next-manager-up`).
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationTarget::Hq => "hq",
            EscalationTarget::NextManagerUp => "next-manager-up",
        }
    }
}

/// A tenant's working calendar: deadlines count only these hours, in the tenant's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hydrate, Reconcile)]
pub struct WorkingHours {
    /// Working days, ISO numbers (1 = Monday … 7 = Sunday).
    pub days: Vec<i64>,
    /// Start of the working day, minutes after local midnight (`09:00` is 540).
    pub start_minute: i64,
    /// End of the working day, minutes after local midnight, after the start.
    pub end_minute: i64,
}

/// A tenant's approval policy, versioned.
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct ApprovalPolicy {
    /// Bumped by HQ on each published change; recorded in the steps it routes.
    pub version: u64,
    /// Rules by id.
    pub rules: BTreeMap<String, ApprovalRule>,
    /// When an approver is reminded, in percent of the step's SLA (`None`: 50 %).
    #[autosurgeon(missing = "Default::default")]
    pub reminder_percent: Option<i64>,
    /// The tenant's working calendar; `None`: SLAs are wall-clock time.
    #[autosurgeon(missing = "Default::default")]
    pub working_hours: Option<WorkingHours>,
}

impl ApprovalPolicy {
    /// The reminder's share of an SLA when the policy sets none, in percent.
    pub const DEFAULT_REMINDER_PERCENT: i64 = 50;

    /// When an approver is reminded, in percent of the SLA (1 to 99).
    pub fn reminder_percent(&self) -> i64 {
        self.reminder_percent.unwrap_or(Self::DEFAULT_REMINDER_PERCENT).clamp(1, 99)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT};

    use super::*;
    use crate::doc::{self, Catalog, Decision, Inventory, OrderReview, ReviewOutcome, Verdict};
    use crate::id::DocumentId;

    /// Creates `value`, deletes `field` (as a document written before the field existed), reads back.
    fn without_field<T: doc::DocumentModel>(value: &T, field: &str) -> T {
        let id = DocumentId::random();
        let mut am = doc::create(&id, ActorId::random(), value).unwrap();
        am.transact::<_, _, automerge::AutomergeError>(|tx| tx.delete(ROOT, field)).unwrap();
        doc::read(&id, &am).unwrap()
    }

    #[test]
    fn documents_written_before_the_new_fields_existed_still_read() {
        let catalog = Catalog {
            approval_policy: Some(ApprovalPolicy { version: 2, rules: BTreeMap::new(), ..ApprovalPolicy::default() }),
            ..Catalog::with_products(BTreeMap::new(), 0)
        };
        assert_eq!(without_field(&catalog, "approval_policy").approval_policy, None);
        // An inventory written when it still held the orders' reservations reads without them.
        let inventory = Inventory { warehouse: "WH".into(), region: "north".into(), levels: BTreeMap::new(), as_of: 0 };
        let id = DocumentId::random();
        let mut am = doc::create(&id, ActorId::random(), &inventory).unwrap();
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            let reservations = tx.put_object(ROOT, "reservations", automerge::ObjType::Map)?;
            let held = tx.put_object(&reservations, "o", automerge::ObjType::Map)?;
            tx.put(&held, "A", 1)
        })
        .unwrap();
        assert_eq!(doc::read::<Inventory>(&id, &am).unwrap(), inventory);
        let review = OrderReview {
            number: String::new(),
            order_id: "o".into(),
            owner: "rep".into(),
            store_id: "s".into(),
            submission: 1,
            reviewed_heads: Vec::new(),
            outcome: ReviewOutcome::Approved,
            findings: Vec::new(),
            steps: Vec::new(),
            total_cents: 0,
            submitted_at: Some(5),
            reviewed_at: 6,
            decided_at: Some(6),
        };
        assert_eq!(without_field(&review, "submitted_at").submitted_at, None);
        let decision = Decision {
            order_id: "o".into(),
            step: 0,
            submission: 3,
            approver: "m".into(),
            verdict: Verdict::Approve,
            reason: String::new(),
            decided_at: 0,
        };
        assert_eq!(without_field(&decision, "submission").submission, 0);
    }

    #[test]
    fn a_policy_round_trips_through_the_catalog_document() {
        let policy = ApprovalPolicy {
            version: 4,
            rules: BTreeMap::from([(
                "big".to_owned(),
                ApprovalRule {
                    name: "big".into(),
                    tiers: vec!["C".into()],
                    min_total_cents: Some(100),
                    approvers: vec![ApproverRole::Manager, ApproverRole::Hq],
                    respond_within_minutes: Some(240),
                    escalate_to: Some(EscalationTarget::NextManagerUp),
                    ..ApprovalRule::default()
                },
            )]),
            reminder_percent: Some(25),
            working_hours: Some(WorkingHours { days: vec![1, 2, 3, 4, 5], start_minute: 540, end_minute: 1020 }),
        };
        let id = DocumentId::random();
        let catalog = Catalog { approval_policy: Some(policy.clone()), ..Catalog::with_products(BTreeMap::new(), 0) };
        let am = doc::create(&id, ActorId::random(), &catalog).unwrap();
        assert_eq!(doc::read::<Catalog>(&id, &am).unwrap().approval_policy, Some(policy));
    }

    #[test]
    fn a_policy_written_before_slas_existed_reads_without_deadlines() {
        use automerge::ReadDoc;
        let rule = ApprovalRule {
            name: "big".into(),
            respond_within_minutes: Some(240),
            escalate_to: Some(EscalationTarget::Hq),
            ..ApprovalRule::default()
        };
        let policy = ApprovalPolicy {
            version: 1,
            rules: BTreeMap::from([("big".to_owned(), rule)]),
            reminder_percent: Some(25),
            working_hours: Some(WorkingHours::default()),
        };
        let id = DocumentId::random();
        let catalog = Catalog { approval_policy: Some(policy), ..Catalog::with_products(BTreeMap::new(), 0) };
        let mut am = doc::create(&id, ActorId::random(), &catalog).unwrap();
        let (_, policy_obj) = am.get(ROOT, "approval_policy").unwrap().unwrap();
        let (_, rules_obj) = am.get(&policy_obj, "rules").unwrap().unwrap();
        let (_, rule_obj) = am.get(&rules_obj, "big").unwrap().unwrap();
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.delete(&policy_obj, "reminder_percent")?;
            tx.delete(&policy_obj, "working_hours")?;
            tx.delete(&rule_obj, "respond_within_minutes")?;
            tx.delete(&rule_obj, "escalate_to")
        })
        .unwrap();
        let read = doc::read::<Catalog>(&id, &am).unwrap().approval_policy.unwrap();
        assert_eq!((read.reminder_percent, read.working_hours.clone(), read.reminder_percent()), (None, None, 50));
        assert_eq!((read.rules["big"].respond_within_minutes, read.rules["big"].escalate_to), (None, None));
    }
}
