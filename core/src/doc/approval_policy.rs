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
