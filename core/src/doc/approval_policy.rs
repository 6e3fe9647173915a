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
}

/// A tenant's approval policy, versioned.
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct ApprovalPolicy {
    /// Bumped by HQ on each published change; recorded in the steps it routes.
    pub version: u64,
    /// Rules by id.
    pub rules: BTreeMap<String, ApprovalRule>,
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
            approval_policy: Some(ApprovalPolicy { version: 2, rules: BTreeMap::new() }),
            ..Catalog::with_products(BTreeMap::new(), 0)
        };
        assert_eq!(without_field(&catalog, "approval_policy").approval_policy, None);
        let inventory = Inventory {
            warehouse: "WH".into(),
            region: "north".into(),
            levels: BTreeMap::new(),
            as_of: 0,
            reservations: BTreeMap::from([("o".into(), BTreeMap::from([("A".into(), 1)]))]),
        };
        assert!(without_field(&inventory, "reservations").reservations.is_empty());
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
                    ..ApprovalRule::default()
                },
            )]),
        };
        let id = DocumentId::random();
        let catalog = Catalog { approval_policy: Some(policy.clone()), ..Catalog::with_products(BTreeMap::new(), 0) };
        let am = doc::create(&id, ActorId::random(), &catalog).unwrap();
        assert_eq!(doc::read::<Catalog>(&id, &am).unwrap().approval_policy, Some(policy));
    }
}
