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
//!   releases it. The reservation is kept per order in the relay's record
//!   ([`crate::storage::ReservationStore`]), which makes reserving a "set", not an "add": a job
//!   that crashed between the reservation and the review write reserves nothing twice when it
//!   runs again. A batch of orders reserves in one change ([`edit_reservations`]); the region's
//!   phones see the totals in the inventory document within a second
//!   ([`crate::services::catalog::stock`]).
//! - **Cost.** The hydrated catalog is cached per tenant by its heads ([`tenant_catalog`]); the
//!   job runner reviews the orders waiting together ([`review_orders`]), so what reviews share is
//!   read once and a region's stock is written once per batch.
//! - **Approvers.** A manager step goes to the manager of the store's region (the first by
//!   username), or to HQ when the region has none; an HQ step goes to the first HQ user by
//!   username. The order's own rep is never an approver.
//! - **Deadlines.** A step whose rules give it an SLA carries it; the first step's clock starts
//!   with the review and its reminder and escalation are queued ([`super::deadline`]).

use std::collections::{BTreeMap, HashMap};

use fieldsync_core::doc::{
    self, ApprovalStep, ApproverRole, DocKind, EscalationTarget, Order, OrderReview, OrderStatus, RetailStore,
    ReviewOutcome, Severity, StepSla, StepState,
};
use fieldsync_core::rules::validation::order_finding;
use fieldsync_core::rules::{self, Assessment, code};
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocumentId, Role};
use sha2::{Digest, Sha256};

use super::number::order_number;
use super::{deadline, delegation};
use crate::documents::{self, Derived, create_as_relay_in_region, edit_as_relay};
use crate::error::Result;
use crate::services::Caches;
use crate::services::catalog::{edit_reservations, region_inventory, tenant_catalog};
use crate::storage::{DocMeta, Storage, User};

/// The job kind.
pub const KIND: &str = "review-order";

/// Finding code: no user can approve a step the policy asks for.
pub const NO_APPROVER: &str = code::NO_APPROVER;

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

/// Reviews an order as it is stored now (see the module docs): a batch of one
/// ([`review_orders`]).
pub async fn review_order(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    order_id: &DocumentId,
    now: i64,
) -> Result<ReviewDone> {
    let mut done = review_orders(storage, caches, tenant_id, std::slice::from_ref(order_id), now).await?;
    done.pop().unwrap_or(Ok(ReviewDone::NotSubmitted))
}

/// An order read and assessed, waiting for its stock and its review write.
struct Assessed {
    index: usize,
    order_id: DocumentId,
    order: Order,
    store: RetailStore,
    heads: Vec<String>,
    review_id: DocumentId,
    existing: Option<OrderReview>,
    assessment: Assessment,
}

/// Reviews a batch of a tenant's orders (see the module docs), each as it is stored now, and
/// answers each order's outcome in the order given. What every review reads — the catalog, the
/// users, delegations, the tenant's locale — is read once per batch, and each region's stock is
/// reserved for the whole batch in one change ([`edit_reservations`]), in the order
/// given, so an earlier order never loses units to a later one. The reviews are written
/// together, and the storage commits writes that arrive together in one transaction.
///
/// An order whose review fails (an unreadable document, a store that is gone) fails alone; an
/// error of what the whole batch shares (the catalog, the user list) fails the batch.
pub async fn review_orders(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    order_ids: &[DocumentId],
    now: i64,
) -> Result<Vec<Result<ReviewDone>>> {
    let mut outcomes: Vec<Option<Result<ReviewDone>>> = order_ids.iter().map(|_| None).collect();
    let catalog = tenant_catalog(storage, caches, tenant_id).await?;
    let mut assessed = Vec::new();
    // Orders of a batch often share their store: each store is read once.
    let mut stores = HashMap::new();
    for (index, order_id) in order_ids.iter().enumerate() {
        match assess(storage, caches, tenant_id, &catalog, &mut stores, index, order_id, now).await {
            Ok(Ok(order)) => assessed.push(order),
            Ok(Err(done)) => outcomes[index] = Some(Ok(done)),
            Err(error) => outcomes[index] = Some(Err(error)),
        }
    }
    if !assessed.is_empty() {
        let failed = reserve_stock(storage, caches, tenant_id, &mut assessed).await?;
        for (index, error) in failed {
            outcomes[index] = Some(Err(error));
        }
        assessed.retain(|order| outcomes[order.index].is_none());
        let users = storage.list_users(tenant_id).await?;
        let delegations = storage.delegations(tenant_id).await?;
        let locale = crate::services::accounts::tenant_locale(storage, tenant_id).await?;
        let policy = catalog.approval_policy.clone().unwrap_or_default();
        let clock = deadline::ClockSettings::of(&policy, locale);
        // First reviews take their readable numbers together, in one write; resubmissions keep
        // theirs. Taken before the writes: should a write fail, its number is skipped (numbers
        // may have gaps, never duplicates).
        let unnumbered = assessed.iter().filter(|order| kept_number(order).is_none()).count();
        let mut next = match unnumbered {
            0 => 0,
            n => storage.next_order_numbers(tenant_id, n as u64).await?,
        };
        let writes = assessed.into_iter().map(|order| {
            let index = order.index;
            let number = kept_number(&order).unwrap_or_else(|| {
                next += 1;
                order_number(next - 1)
            });
            let written = write_review(storage, tenant_id, order, number, &users, &delegations, &clock, now);
            async move { (index, written.await) }
        });
        let mut written_reviews = Vec::new();
        for (index, written) in futures_util::future::join_all(writes).await {
            outcomes[index] = Some(written.map(|review| {
                let outcome = review.outcome;
                written_reviews.push(review);
                ReviewDone::Reviewed(outcome)
            }));
        }
        // The first steps' deadlines, queued together once the reviews are stored.
        deadline::schedule_all(storage, tenant_id, &written_reviews).await?;
    }
    Ok(outcomes.into_iter().map(|outcome| outcome.unwrap_or(Ok(ReviewDone::NotSubmitted))).collect())
}

/// The readable number an order's earlier review gave it, kept by its resubmissions.
fn kept_number(order: &Assessed) -> Option<String> {
    order.existing.as_ref().map(|review| review.number.clone()).filter(|number| !number.is_empty())
}

/// Reads an order (as admission kept it, [`super::submitted`], or from storage) and assesses it
/// with the shared rules, or answers why there is nothing to review. `stores` holds the stores
/// read so far by this batch.
#[allow(clippy::too_many_arguments)]
async fn assess(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    catalog: &doc::Catalog,
    stores: &mut HashMap<String, RetailStore>,
    index: usize,
    order_id: &DocumentId,
    now: i64,
) -> Result<std::result::Result<Assessed, ReviewDone>> {
    // The order as admission read it, when it is kept and still stored at the heads it was kept
    // at (storage is asked for the heads only then); loaded otherwise.
    let kept = if caches.submitted_orders.holds(tenant_id, order_id) {
        let Some(stored) = storage.doc_heads(tenant_id, order_id).await? else {
            return Ok(Err(ReviewDone::NotSubmitted));
        };
        caches.submitted_orders.take(tenant_id, order_id, &stored.heads).map(|order| (order, stored.heads))
    } else {
        None
    };
    let (order, heads) = match kept {
        Some((order, heads)) => (order, heads_hex(&heads)),
        None => {
            let Some(stored) = storage.load_doc(tenant_id, order_id).await? else {
                return Ok(Err(ReviewDone::NotSubmitted));
            };
            (doc::read::<Order>(order_id, &documents::load(&stored)?)?, heads_hex(&stored.heads))
        }
    };
    if order.status != OrderStatus::Submitted {
        return Ok(Err(ReviewDone::NotSubmitted));
    }
    let Derived { id: review_id, stored: review } = find_review(storage, tenant_id, order_id.as_str()).await?;
    let existing = match review {
        Some(stored) => Some(doc::read::<OrderReview>(&review_id, &documents::load(&stored)?)?),
        None => None,
    };
    if let Some(review) = existing.as_ref().filter(|review| review.reviewed_heads == heads) {
        // A run that stopped between the review's write and queuing its deadlines queues them now.
        deadline::schedule(storage, tenant_id, review).await?;
        return Ok(Err(ReviewDone::AlreadyReviewed));
    }
    let store = match stores.get(&order.store_id) {
        Some(store) => store.clone(),
        None => {
            let store: RetailStore = documents::read(storage, tenant_id, &order.store_id.parse()?).await?;
            stores.insert(order.store_id.clone(), store.clone());
            store
        }
    };
    let lines: Vec<(String, doc::OrderLine)> = order.lines.clone().into_iter().collect();
    let assessment = rules::assess(catalog, &order.store_id, &store, &lines, None, now);
    Ok(Ok(Assessed { index, order_id: order_id.clone(), order, store, heads, review_id, existing, assessment }))
}

/// Checks and reserves the stock of assessed orders, one change per region; answers the
/// orders whose reservation failed. An order with errors reserves nothing; one short of stock
/// gets the findings that say so.
async fn reserve_stock(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    assessed: &mut [Assessed],
) -> Result<Vec<(usize, crate::error::Error)>> {
    let mut regions: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (position, order) in assessed.iter().enumerate() {
        regions.entry(order.store.region.clone()).or_default().push(position);
    }
    let mut failed = Vec::new();
    for (region, positions) in regions {
        let Some(inventory_id) = region_inventory(storage, tenant_id, &region).await? else {
            for &position in &positions {
                let finding = order_finding(code::STOCK_UNKNOWN, Severity::Info, &[("region", &region)]);
                assessed[position].assessment.findings.push(finding);
            }
            continue;
        };
        let orders: Vec<(String, BTreeMap<String, i64>)> = positions
            .iter()
            .map(|&position| {
                let order = &assessed[position];
                (order.order_id.to_string(), order.assessment.units_by_sku())
            })
            .collect();
        let edited = edit_reservations(storage, caches, tenant_id, &inventory_id, &orders, |index, stock| {
            let order = &assessed[positions[index]];
            let units = &orders[index].1;
            let blocked = order.assessment.has_errors();
            let findings = if blocked {
                Vec::new()
            } else {
                let own = stock.held_by(order.order_id.as_str());
                rules::validation::check_stock(&order.assessment.lines, &stock.inventory, &own)
            };
            let reserved = if !blocked && findings.is_empty() { units.clone() } else { BTreeMap::new() };
            (reserved, findings)
        })
        .await;
        match edited {
            Ok(findings) => {
                for (&position, stock) in positions.iter().zip(findings) {
                    assessed[position].assessment.findings.extend(stock);
                }
            }
            Err(error) => {
                tracing::warn!(%error, region, orders = positions.len(), "batch stock reservation failed");
                for &position in &positions {
                    failed.push((assessed[position].index, crate::error::Error::Conflict(error.to_string())));
                }
            }
        }
    }
    Ok(failed)
}

/// Routes an assessed order to its approvers, starts the clock of its first step and writes its
/// review, with its readable `number`; answers the review (its deadlines are the caller's to
/// queue, [`deadline::schedule_all`]).
#[allow(clippy::too_many_arguments)]
async fn write_review(
    storage: &dyn Storage,
    tenant_id: i64,
    order: Assessed,
    number: String,
    users: &[User],
    delegations: &[crate::storage::Delegation],
    clock: &deadline::ClockSettings,
    now: i64,
) -> Result<OrderReview> {
    let Assessed { order_id, order, store, heads, review_id, existing, mut assessment, .. } = order;
    if assessment.has_errors() {
        assessment.steps.clear();
    }
    let mut review = build_review(&order_id, &order, &store, heads, assessment, users, now);
    delegation::route_to_delegates(&mut review, delegations, users, now);
    deadline::start_clock(&mut review, clock, now);
    review.number = number;
    if existing.is_some() {
        edit_as_relay(storage, tenant_id, &review_id, |current: &mut OrderReview| {
            *current = review.clone();
            Ok(())
        })
        .await?;
    } else {
        create_as_relay_in_region(storage, tenant_id, &review_id, &review, &store.region).await?;
    }
    Ok(review)
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
            None => assessment.findings.push(order_finding(
                NO_APPROVER,
                Severity::Error,
                &[("role", routed.role.as_str()), ("region", &store.region)],
            )),
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

/// Stored heads as sorted hex, as a review (and a score) pins them.
pub fn heads_hex(heads: &[Head]) -> Vec<String> {
    let mut heads: Vec<String> = heads.iter().map(hex::encode).collect();
    heads.sort();
    heads
}
