//! The review of an order (run by the `review-order` job): when a submitted order is stored, re-price and validate it with core's
//! shared rules ([`fieldsync_core::rules`]), check and reserve stock in the region's inventory,
//! route it to its approvers, and write the `order-review` document, which syncs back to the
//! rep's phone (and to the approvers').
//!
//! - **One review per order.** Its id is derived from the order's id ([`review_id`]), so every
//!   relay node writes the same document; a resubmission (or any change to a submitted order)
//!   rewrites it whole — verdict, findings, steps — pinning the order heads it looked at.
//! - **Idempotent by heads.** The job is keyed by the order's heads, and a run that finds the
//!   review already pinning the order's current heads writes nothing.
//! - **Stock.** Stock is reserved at review time for every order that is not rejected, so two
//!   pending orders never promise the same units; a rejection (by validation or by an approver)
//!   releases it. The reservation is kept per order in the inventory document
//!   ([`Inventory::set_reservation`](fieldsync_core::doc::Inventory::set_reservation)), which
//!   makes reserving a "set", not an "add": a job that crashed between the inventory write and
//!   the review write reserves nothing twice when it runs again. Only the touched entries are read and written ([`edit_reservation`]).
//! - **Cost.** The hydrated catalog is cached per tenant by its heads ([`tenant_catalog`]).
//! - **Approvers.** A manager step goes to the manager of the store's region (the first by
//!   username), or to HQ when the region has none; an HQ step goes to the first HQ user by
//!   username. The order's own rep is never an approver.
//! - **Deadlines.** A step whose rules give it an SLA carries it; the first step's clock starts
//!   with the review and its reminder and escalation are queued ([`super::deadline`]).

use std::collections::BTreeMap;

use automerge::Automerge;
use fieldsync_core::doc::{
    self, ApprovalStep, ApproverRole, DocKind, EscalationTarget, Finding, Order, OrderReview, OrderStatus, RetailStore,
    ReviewOutcome, Severity, StepSla, StepState,
};
use fieldsync_core::rules::{self, Assessment, code};
use fieldsync_core::{DocumentId, Role};
use sha2::{Digest, Sha256};

use super::number::order_number;
use super::{deadline, delegation};
use crate::documents::{self, Derived, create_as_relay_with_id, edit_as_relay};
use crate::error::Result;
use crate::services::Caches;
use crate::services::catalog::{edit_reservation, region_inventory, tenant_catalog};
use crate::storage::{DocMeta, Storage, User};

/// The job kind.
pub const KIND: &str = "review-order";

/// Finding code: no user can approve a step the policy asks for.
pub const NO_APPROVER: &str = "no-approver";

/// Whether a stored document calls for a review: a submitted order.
pub fn wants(meta: &DocMeta) -> bool {
    meta.kind == DocKind::Order && meta.status.as_deref() == Some(OrderStatus::Submitted.as_str())
}

/// The id of an order's review document, derived from the order's id and reserved for reviews
/// ([`DocumentId::derived`]). A review stored before derived ids were bound to their kind keeps
/// its [`legacy_review_id`]: find an order's review with [`find_review`].
pub fn review_id(order_id: &str) -> DocumentId {
    DocumentId::derived(DocKind::OrderReview, &[order_id.as_bytes()])
}

/// The id of an order's review before derived ids were bound to their kind.
pub fn legacy_review_id(order_id: &str) -> DocumentId {
    let digest = Sha256::new().chain_update(b"fieldsync order-review\0").chain_update(order_id.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    DocumentId::from_bytes(bytes)
}

/// The order's review document, loaded if stored: under [`review_id`], or the legacy id of a
/// review stored before derived ids were bound to their kind.
pub async fn find_review(storage: &dyn Storage, tenant_id: i64, order_id: &str) -> Result<Derived> {
    crate::documents::resolve_derived(
        storage,
        tenant_id,
        DocKind::OrderReview,
        review_id(order_id),
        legacy_review_id(order_id),
    )
    .await
}

/// What [`review_order`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewDone {
    /// A review was written with this outcome.
    Reviewed(ReviewOutcome),
    /// The review already pins the order's current heads.
    AlreadyReviewed,
    /// The order is not submitted (reopened, or gone): nothing to review.
    NotSubmitted,
}

/// Reviews an order as it is stored now (see the module docs).
pub async fn review_order(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    order_id: &DocumentId,
    now: i64,
) -> Result<ReviewDone> {
    let Some(stored) = storage.load_doc(tenant_id, order_id).await? else { return Ok(ReviewDone::NotSubmitted) };
    let am = documents::load(&stored)?;
    let order: Order = doc::read(order_id, &am)?;
    if order.status != OrderStatus::Submitted {
        return Ok(ReviewDone::NotSubmitted);
    }
    let heads = heads_hex(&am);
    let Derived { id: review_id, stored: review } = find_review(storage, tenant_id, order_id.as_str()).await?;
    let existing = match review {
        Some(stored) => Some(doc::read::<OrderReview>(&review_id, &documents::load(&stored)?)?),
        None => None,
    };
    if let Some(review) = existing.as_ref().filter(|review| review.reviewed_heads == heads) {
        // A run that stopped between the review's write and queuing its deadlines queues them now.
        deadline::schedule(storage, tenant_id, review).await?;
        return Ok(ReviewDone::AlreadyReviewed);
    }

    let store: RetailStore = documents::read(storage, tenant_id, &order.store_id.parse()?).await?;
    let catalog = tenant_catalog(storage, caches, tenant_id).await?;
    let lines: Vec<(String, doc::OrderLine)> = order.lines.clone().into_iter().collect();
    let mut assessment = rules::assess(&catalog, &order.store_id, &store, &lines, None, now);

    match region_inventory(storage, tenant_id, &store.region).await? {
        Some(inventory_id) => {
            let blocked = assessment.has_errors();
            let units = assessment.units_by_sku();
            let priced = &assessment.lines;
            let key = order_id.as_str();
            let stock = edit_reservation(storage, caches, tenant_id, &inventory_id, key, &units, |inventory| {
                let findings =
                    if blocked { Vec::new() } else { rules::validation::check_stock(priced, inventory, key) };
                let reserved = if !blocked && findings.is_empty() { units.clone() } else { BTreeMap::new() };
                (reserved, findings)
            })
            .await?;
            assessment.findings.extend(stock);
            // Reserving moves available stock: low-stock alerts may open or close.
            crate::services::alerts::queue_evaluation(storage, None, tenant_id, "stock reserved").await?;
        }
        None => assessment.findings.push(Finding {
            code: code::STOCK_UNKNOWN.to_owned(),
            line_id: None,
            severity: Severity::Info,
            text: format!("stock not checked: no inventory covers region {}", store.region),
        }),
    }
    if assessment.has_errors() {
        assessment.steps.clear();
    }

    let users = storage.list_users(tenant_id).await?;
    let delegations = storage.delegations(tenant_id).await?;
    let mut review = build_review(order_id, &order, &store, heads, assessment, &users, now);
    delegation::route_to_delegates(&mut review, &delegations, &users, now);
    let locale = crate::services::accounts::tenant_locale(storage, tenant_id).await?;
    let policy = catalog.approval_policy.clone().unwrap_or_default();
    deadline::start_clock(&mut review, &deadline::ClockSettings::of(&policy, locale), now);
    // The first review gives the order its readable number; resubmissions keep it. Taken
    // before the write: should the write fail, the number is skipped (numbers may have gaps,
    // never duplicates).
    review.number = match existing.as_ref().map(|r| r.number.clone()).filter(|n| !n.is_empty()) {
        Some(number) => number,
        None => order_number(storage.next_order_number(tenant_id).await?),
    };
    let outcome = review.outcome;
    if existing.is_some() {
        edit_as_relay(storage, tenant_id, &review_id, |current: &mut OrderReview| {
            *current = review.clone();
            Ok(())
        })
        .await?;
    } else {
        create_as_relay_with_id(storage, tenant_id, &review_id, &review).await?;
    }
    deadline::schedule(storage, tenant_id, &review).await?;
    Ok(ReviewDone::Reviewed(outcome))
}

/// The SLA of a step whose clock has not started.
fn pending_sla(minutes: i64, escalate_to: Option<EscalationTarget>) -> StepSla {
    StepSla {
        respond_within_minutes: minutes,
        escalate_to,
        started_at: None,
        remind_at: None,
        due_at: None,
        reminded_at: None,
        escalation: None,
    }
}

/// The review of an assessed order: its steps get their approvers, and a step nobody can approve
/// rejects the order with a finding that says so.
pub fn build_review(
    order_id: &DocumentId,
    order: &Order,
    store: &RetailStore,
    reviewed_heads: Vec<String>,
    mut assessment: Assessment,
    users: &[User],
    now: i64,
) -> OrderReview {
    let mut steps: Vec<ApprovalStep> = Vec::new();
    for routed in &assessment.steps {
        match approver_for(routed.role, &store.region, &order.owner, users) {
            Some((user, note)) => {
                let rule = format!("{}{note}", routed.rule);
                // A manager step that fell back to HQ and an HQ step for the same user are one step.
                if let Some(last) = steps.last_mut().filter(|last| last.approver == user.id) {
                    last.rule = format!("{}; {rule}", last.rule);
                    // The merged step keeps the tighter SLA.
                    if let Some((minutes, escalate_to)) = routed.deadline
                        && last.sla.as_ref().is_none_or(|sla| minutes < sla.respond_within_minutes)
                    {
                        last.sla = Some(pending_sla(minutes, escalate_to));
                    }
                    continue;
                }
                steps.push(ApprovalStep {
                    on_behalf_of: None,
                    role: user.role.as_str().to_owned(),
                    approver: user.id.clone(),
                    rule,
                    state: StepState::Pending,
                    decided_at: None,
                    reason: String::new(),
                    sla: routed.deadline.map(|(minutes, escalate_to)| pending_sla(minutes, escalate_to)),
                });
            }
            None => assessment.findings.push(Finding {
                code: NO_APPROVER.to_owned(),
                line_id: None,
                severity: Severity::Error,
                text: format!("no {} can approve orders of region {}", routed.role.as_str(), store.region),
            }),
        }
    }
    let outcome = if assessment.has_errors() {
        steps.clear();
        ReviewOutcome::Rejected
    } else if steps.is_empty() {
        ReviewOutcome::Approved
    } else {
        ReviewOutcome::NeedsApproval
    };
    OrderReview {
        number: String::new(),
        order_id: order_id.to_string(),
        owner: order.owner.clone(),
        store_id: order.store_id.clone(),
        submission: order.submission,
        reviewed_heads,
        outcome,
        findings: assessment.findings,
        steps,
        total_cents: assessment.total_cents,
        submitted_at: order.submitted_at,
        reviewed_at: now,
        decided_at: (outcome != ReviewOutcome::NeedsApproval).then_some(now),
    }
}

/// Who approves a step of `role` for an order of `owner` in `region`, with a note when it fell
/// back to HQ. Disabled users and the order's owner are never chosen.
fn approver_for<'a>(role: ApproverRole, region: &str, owner: &str, users: &'a [User]) -> Option<(&'a User, String)> {
    let mut eligible: Vec<&User> = users.iter().filter(|u| u.disabled_at.is_none() && u.id != owner).collect();
    eligible.sort_by(|a, b| a.username.cmp(&b.username));
    let hq = || eligible.iter().copied().find(|u| u.role == Role::Hq);
    match role {
        ApproverRole::Manager => {
            let manager =
                eligible.iter().copied().find(|u| u.role == Role::Manager && u.region.as_deref() == Some(region));
            match manager {
                Some(user) => Some((user, String::new())),
                None => hq().map(|user| (user, format!(" (no manager for region {region}: hq decides)"))),
            }
        }
        ApproverRole::Hq => hq().map(|user| (user, String::new())),
    }
}

/// The order heads as sorted hex, as a review pins them.
pub fn heads_hex(am: &Automerge) -> Vec<String> {
    let mut heads: Vec<String> = am.get_heads().iter().map(ToString::to_string).collect();
    heads.sort();
    heads
}
