//! The `review-order` job: when a submitted order is stored, re-price and validate it with core's
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
//!   ([`Inventory::set_reservation`]), which makes reserving a "set", not an "add": a job that
//!   crashed between the inventory write and the review write reserves nothing twice when it
//!   runs again. Only the touched entries are read and written ([`edit_reservation`]).
//! - **Cost.** The hydrated catalog is cached per tenant by its heads ([`tenant_catalog`]).
//! - **Approvers.** A manager step goes to the manager of the store's region (the first by
//!   username), or to HQ when the region has none; an HQ step goes to the first HQ user by
//!   username. The order's own rep is never an approver.

use std::collections::BTreeMap;
use std::sync::Arc;

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ObjType, ROOT, ReadDoc, Value};
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{
    self, ApprovalStep, ApproverRole, Catalog, DocKind, Finding, Inventory, Order, OrderReview, OrderStatus,
    RetailStore, ReviewOutcome, Severity, StepState, StockLevel,
};
use fieldsync_core::rules::{self, Assessment, code};
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocumentId, Role};
use sha2::{Digest, Sha256};

use crate::documents::{self, Derived, create_as_relay_with_id, edit_as_relay};
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::state::AppState;
use crate::state::Caches;
use crate::storage::{DocMeta, DocWrite, Job, Storage, User, WriteOutcome};

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

/// The document a job works on (`{"doc": id}`).
pub fn job_document(job: &Job) -> Result<DocumentId> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload)
        .map_err(|e| Error::bad_request("invalid-job", format!("job {} has an unreadable payload: {e}", job.id)))?;
    let text = payload["doc"].as_str().unwrap_or_default();
    Ok(text.parse()?)
}

/// Runs a `review-order` job.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let order_id = job_document(job)?;
    let done = review_order(state.storage.as_ref(), &state.caches, job.tenant_id, &order_id, now_ms()).await?;
    tracing::info!(order = %order_id, ?done, "order reviewed");
    Ok(())
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
    if existing.as_ref().is_some_and(|review| review.reviewed_heads == heads) {
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
            crate::alerts::queue_evaluation(storage, None, tenant_id, "stock reserved").await?;
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
    let mut review = build_review(order_id, &order, &store, heads, assessment, &users, now);
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
    Ok(ReviewDone::Reviewed(outcome))
}

/// An order's readable number as people see it: `N-000123`.
pub fn order_number(n: u64) -> String {
    format!("N-{n:06}")
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
                    continue;
                }
                steps.push(ApprovalStep {
                    role: user.role.as_str().to_owned(),
                    approver: user.id.clone(),
                    rule,
                    state: StepState::Pending,
                    decided_at: None,
                    reason: String::new(),
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

/// Most tenants whose catalog [`CatalogCache`] holds.
const CACHED_CATALOGS: u64 = 256;

/// Hydrated catalogs by tenant, with the id and heads they were read at (a `moka` cache held in
/// [`crate::state::Caches`]). Hydrating a 2,000-product catalog takes about half a second, and
/// the catalog changes rarely, so a review reads it again only when its heads moved.
#[derive(Clone)]
pub struct CatalogCache(moka::sync::Cache<i64, (DocumentId, Vec<Head>, Arc<Catalog>)>);

impl Default for CatalogCache {
    fn default() -> Self {
        Self(moka::sync::Cache::new(CACHED_CATALOGS))
    }
}

/// The tenant's catalog (the one with the smallest id, should there be several).
pub async fn tenant_catalog(storage: &dyn Storage, caches: &Caches, tenant_id: i64) -> Result<Arc<Catalog>> {
    let everything = Scope { role: Role::Hq, user_id: String::new(), region: None };
    let mut catalogs = storage.list_docs(tenant_id, &everything, DocKind::Catalog, 16).await?;
    catalogs.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let stored = catalogs.first().ok_or_else(|| Error::not_found(format!("catalog of tenant {tenant_id}")))?;
    let cache = &caches.catalogs.0;
    if let Some((id, heads, catalog)) = cache.get(&tenant_id)
        && id == stored.id
        && heads == stored.heads
    {
        return Ok(catalog);
    }
    let catalog: Arc<Catalog> = Arc::new(doc::read(&stored.id, &documents::load(stored)?)?);
    cache.insert(tenant_id, (stored.id.clone(), stored.heads.clone(), catalog.clone()));
    Ok(catalog)
}

/// The inventory document of a region (the one with the smallest id, as the phone picks).
pub async fn region_inventory(storage: &dyn Storage, tenant_id: i64, region: &str) -> Result<Option<DocumentId>> {
    let scope = Scope { role: Role::Manager, user_id: String::new(), region: Some(region.to_owned()) };
    let inventories = storage.list_docs(tenant_id, &scope, DocKind::Inventory, 1000).await?;
    Ok(inventories
        .into_iter()
        .filter(|stored| stored.meta.region.as_deref() == Some(region))
        .map(|stored| stored.id)
        .min_by(|a, b| a.as_str().cmp(b.as_str())))
}

/// Units by SKU of an order as it was at `heads` (hex change hashes): what its review reserved.
pub async fn units_at(
    storage: &dyn Storage,
    tenant_id: i64,
    order_id: &DocumentId,
    heads: &[String],
) -> Result<BTreeMap<String, i64>> {
    let stored =
        storage.load_doc(tenant_id, order_id).await?.ok_or_else(|| Error::not_found(format!("order {order_id}")))?;
    let am = documents::load(&stored)?;
    let heads: Vec<ChangeHash> = heads
        .iter()
        .map(|h| h.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| Error::CorruptDocument { id: order_id.clone(), reason: format!("bad reviewed head: {e}") })?;
    let at = am.fork_at(&heads).map_err(|e| Error::CorruptDocument { id: order_id.clone(), reason: e.to_string() })?;
    let order: Order = doc::read(order_id, &at)?;
    let mut units = BTreeMap::new();
    for line in order.lines.values().filter(|l| l.qty > 0) {
        *units.entry(line.sku.clone()).or_insert(0) += line.qty;
    }
    Ok(units)
}

/// Makes the region's reservation for an order match its review: the units it reviewed while the
/// outcome is not rejected, nothing once it is.
pub async fn sync_reservation(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    review: &OrderReview,
) -> Result<()> {
    let Some(region) = documents::store_region(storage, tenant_id, &review.store_id).await? else { return Ok(()) };
    let Some(inventory_id) = region_inventory(storage, tenant_id, &region).await? else { return Ok(()) };
    let units = if review.outcome == ReviewOutcome::Rejected {
        BTreeMap::new()
    } else {
        units_at(storage, tenant_id, &review.order_id.parse()?, &review.reviewed_heads).await?
    };
    edit_reservation(storage, caches, tenant_id, &inventory_id, &review.order_id, &units, |_| (units.clone(), ()))
        .await?;
    crate::alerts::queue_evaluation(storage, None, tenant_id, "stock reservation changed").await?;
    Ok(())
}

/// Sets the reservation of `order_id` in an inventory document to what `decide` returns, given
/// the part of the inventory that matters: the levels of `skus` and of the order's current
/// reservation, and that reservation ([`Inventory::set_reservation`] semantics).
///
/// It reads and writes only those entries, with automerge operations, instead of hydrating and
/// reconciling the whole document: a region's inventory holds thousands of SKUs, and a whole-
/// document round trip costs about 200 ms at 2,000 SKUs where this costs about 1 ms. Retried
/// when another writer moved the document meanwhile (so `decide` must be repeatable).
pub async fn edit_reservation<R>(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    inventory_id: &DocumentId,
    order_id: &str,
    skus: &BTreeMap<String, i64>,
    decide: impl Fn(&Inventory) -> (BTreeMap<String, i64>, R),
) -> Result<R> {
    for _ in 0..8 {
        let stored = storage
            .load_doc(tenant_id, inventory_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("inventory {inventory_id}")))?;
        let mut am = caches.documents.take(tenant_id, &stored)?;
        am.set_actor(documents::relay_actor(tenant_id));
        let corrupt = |reason: String| Error::CorruptDocument { id: inventory_id.clone(), reason };
        doc::check_header::<Inventory>(inventory_id, &am)?;
        let levels_obj = match am.get(ROOT, "levels").map_err(|e| corrupt(e.to_string()))? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(corrupt("inventory has no levels".to_owned())),
        };
        let reservations_obj = match am.get(ROOT, "reservations").map_err(|e| corrupt(e.to_string()))? {
            Some((Value::Object(ObjType::Map), obj)) => Some(obj),
            _ => None,
        };
        let present = |obj: &automerge::ObjId, key: &str| am.get(obj, key).map(|v| v.is_some());
        let previous: BTreeMap<String, i64> = match &reservations_obj {
            Some(obj) if present(obj, order_id).map_err(|e| corrupt(e.to_string()))? => {
                autosurgeon::hydrate_prop(&am, obj, order_id).map_err(|e| corrupt(e.to_string()))?
            }
            _ => BTreeMap::new(),
        };
        // Only the levels this order touches are read; the warehouse names it in findings.
        let warehouse: String =
            autosurgeon::hydrate_prop(&am, &ROOT, "warehouse").map_err(|e| corrupt(e.to_string()))?;
        let mut partial = Inventory {
            warehouse,
            region: String::new(),
            levels: BTreeMap::new(),
            as_of: 0,
            reservations: BTreeMap::new(),
        };
        for sku in skus.keys().chain(previous.keys()) {
            if present(&levels_obj, sku).map_err(|e| corrupt(e.to_string()))? {
                let level: StockLevel =
                    autosurgeon::hydrate_prop(&am, &levels_obj, sku.as_str()).map_err(|e| corrupt(e.to_string()))?;
                partial.levels.insert(sku.clone(), level);
            }
        }
        if !previous.is_empty() {
            partial.reservations.insert(order_id.to_owned(), previous);
        }
        let before_levels = partial.levels.clone();
        let before_reservation = partial.reservation_of(order_id);
        let (units, result) = decide(&partial);
        partial.set_reservation(order_id, &units);
        let after_reservation = partial.reservation_of(order_id);
        if partial.levels == before_levels && after_reservation == before_reservation {
            caches.documents.keep(tenant_id, inventory_id, am);
            return Ok(result);
        }
        let before = am.get_heads();
        am.transact(|tx| {
            for (sku, level) in partial.levels.iter().filter(|(sku, level)| before_levels.get(*sku) != Some(level)) {
                if let Some((Value::Object(_), level_obj)) = tx.get(&levels_obj, sku.as_str())? {
                    tx.put(&level_obj, "reserved", level.reserved)?;
                }
            }
            let reservations = match &reservations_obj {
                Some(obj) => obj.clone(),
                None => tx.put_object(ROOT, "reservations", ObjType::Map)?,
            };
            if after_reservation.is_empty() {
                if !before_reservation.is_empty() {
                    tx.delete(&reservations, order_id)?;
                }
            } else {
                let entry = tx.put_object(&reservations, order_id, ObjType::Map)?;
                for (sku, qty) in &after_reservation {
                    tx.put(&entry, sku.as_str(), *qty)?;
                }
            }
            Ok::<_, automerge::AutomergeError>(())
        })
        .map_err(|failure| corrupt(failure.error.to_string()))?;
        let write = DocWrite {
            id: inventory_id.clone(),
            meta: stored.meta.clone(),
            expected_heads: stored.heads.clone(),
            snapshot: am.save(),
            heads: documents::heads_of(&am),
            changes: am.save_after(&before),
            origin_device: None,
            new_actors: Vec::new(),
            blobs: Vec::new(),
            job: None,
            read_model: crate::read_model::row_changes(inventory_id, &stored.meta, &am),
        };
        if let WriteOutcome::Stored(_) = storage.write_doc(tenant_id, write).await? {
            caches.documents.keep(tenant_id, inventory_id, am);
            return Ok(result);
        }
    }
    Err(Error::Conflict(format!("inventory {inventory_id} kept changing; try again")))
}
