//! # Alerts: the three levels, into inbox documents
//!
//! The relay raises three alerts from a tenant's data (`docs/alerts.md` has the full rules):
//!
//! - **low stock** ([`low_stock`]): a SKU of a warehouse whose available units (on hand minus
//!   reserved) are below its safety level → the region's managers;
//! - **promotion not started** ([`promotions`]): a running promotion that no visit to a store of
//!   its scope has confirmed → the store's supervisor and rep;
//! - **sales falling** ([`sales_falling`]): a store's sales, in total or for one SKU, falling
//!   three days in a row → the store's rep and the region's managers.
//!
//! ([`recipients`]: HQ receives what would otherwise go to nobody.)
//!
//! Each detector is a pure function over plain inputs. [`evaluate`] loads the tenant's current
//! data, runs the detectors, and reconciles every affected user's `inbox` document
//! ([`inbox::reconcile`]): one alert per cause key, opened when the cause appears, closed (and
//! kept) when it clears, reopened when it returns. Evaluating unchanged data writes nothing.
//! Every alert opened or closed is also posted to the tenant's webhook, when it has one
//! ([`webhook`]).
//!
//! Evaluations run as `evaluate-alerts` jobs of the persisted queue, requested with
//! [`queue_evaluation`]: after reserved stock is published to an inventory, after an inspection is stored,
//! after imports, at relay start and periodically ([`queue_all`], from the `jobs` runner's schedule), because promotions start
//! as time passes. Requests coalesce: while a tenant's evaluation is queued and not yet started,
//! another request adds nothing.

pub mod inbox;
pub mod list;
pub mod low_stock;
pub mod promotions;
pub mod recipients;
pub mod sales_falling;
pub mod triage;
pub mod webhook;

use std::collections::{BTreeMap, BTreeSet};

use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{
    self, AlertState, AlertTexts, AnyDoc, DocumentModel, Inbox, Inspection, Inventory, RetailStore,
};
use fieldsync_core::i18n::{Language, Message};
use fieldsync_core::{DocumentId, Role};

use crate::documents;
use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::scope::Scope;
use crate::services::Caches;
use crate::services::accounts;
use crate::services::catalog::tenant_catalog;
use crate::services::queue::JobSignal;
use crate::storage::Storage;
use crate::storage::queries;

/// The job kind of an evaluation.
pub const KIND: &str = "evaluate-alerts";
/// How long a requested evaluation waits before it runs, so that a burst of requests (an order
/// review per second, an inspection being filled in) becomes one evaluation.
pub const COALESCE_MS: i64 = 1_000;
/// Days of sales an evaluation reads (local days of the tenant, counted back from today); older
/// figures raise nothing.
pub const SALES_LOOKBACK_DAYS: i64 = 28;
/// Most documents of one kind an evaluation reads.
const MAX_DOCS: u32 = 100_000;

/// The three alert kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertKind {
    /// Available stock below the safety level.
    LowStock,
    /// A running promotion a store has not confirmed.
    PromotionNotStarted,
    /// Sales falling three days in a row.
    SalesFalling,
}

impl AlertKind {
    /// Every kind, in the order evaluations run them.
    pub const ALL: [AlertKind; 3] = [AlertKind::LowStock, AlertKind::PromotionNotStarted, AlertKind::SalesFalling];

    /// The name used in alerts, cause keys and webhook events.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::LowStock => "low-stock",
            AlertKind::PromotionNotStarted => "promotion-not-started",
            AlertKind::SalesFalling => "sales-falling",
        }
    }
}

/// One alert cause that holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The dedup key: one open alert per key in an inbox (`low-stock:{warehouse}/{region}:{sku}`,
    /// `promotion-not-started:{promotion}:{store}`, `sales-falling:{store}[:{sku}]`).
    pub key: String,
    /// Its kind.
    pub kind: AlertKind,
    /// Short title, in English (webhooks, and readers that predate codes).
    pub title: String,
    /// What holds, with the figures, in English.
    pub detail: String,
    /// The title and detail as codes with arguments (`alert-…`, in core's catalog, since the
    /// phone renders them too).
    pub texts: AlertTexts,
    /// The store concerned, if any.
    pub store_id: Option<String>,
    /// The SKU concerned, if any.
    pub sku: Option<String>,
}

impl Cause {
    /// A cause whose title and detail are these messages (their English texts are kept beside).
    pub fn new(key: String, kind: AlertKind, title: Message, detail: Message) -> Self {
        Self {
            key,
            kind,
            title: title.english(),
            detail: detail.english(),
            texts: AlertTexts { title, detail },
            store_id: None,
            sku: None,
        }
    }
}

/// An alert's title and detail in `language` (`title`, `detail` and `texts` as an inbox or the
/// read model stores them): from the codes, or the English texts of an alert raised before
/// alerts had codes. What the dashboard and the API show.
pub fn text(title: &str, detail: &str, texts: Option<&AlertTexts>, language: Language) -> (String, String) {
    fieldsync_core::doc::alert_text_in(title, detail, texts, language)
}

/// What one evaluation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Causes that hold (each counted once, whoever receives it).
    pub causes: usize,
    /// Alerts opened or reopened, summed over inboxes.
    pub opened: usize,
    /// Alerts closed, summed over inboxes.
    pub closed: usize,
    /// Open alerts whose figures were refreshed.
    pub refreshed: usize,
    /// Webhook deliveries queued.
    pub deliveries: usize,
}

/// Requests an evaluation of a tenant's alerts (`reason` is logged). Returns whether a job was
/// queued: `false` when one is already queued and has not started, since that one will see the
/// change too. `jobs` wakes the runner when given.
pub async fn queue_evaluation(
    storage: &dyn Storage,
    jobs: Option<&JobSignal>,
    tenant_id: i64,
    reason: &str,
) -> Result<bool> {
    // The round moves on when its job starts, so a request made while an evaluation runs queues
    // the next one, and one made before it starts is already covered.
    let round = storage.alert_round(tenant_id).await?;
    let payload = serde_json::json!({ "round": round, "reason": reason }).to_string();
    let queued =
        storage.enqueue_job(tenant_id, KIND, &format!("round-{round}"), &payload, now_ms() + COALESCE_MS).await?;
    if queued && let Some(jobs) = jobs {
        jobs.wake();
    }
    Ok(queued)
}

/// Whether a device's write of a document adds promotion confirmations to an inspection
/// (`before`: the document as stored until now), which calls for an evaluation.
pub fn confirms_promotions(before: Option<&AnyDoc>, after: &AnyDoc) -> bool {
    let AnyDoc::Inspection(after) = after else { return false };
    !after.promotions_started.is_empty() && after.promotions_started != promotions_confirmed(before)
}

/// The store and the promotions a device's write of an inspection newly confirms (`before`: the
/// document as stored until now); `None` when it confirms nothing new.
pub fn new_confirmations(before: Option<&AnyDoc>, after: &AnyDoc) -> Option<(String, Vec<String>)> {
    let AnyDoc::Inspection(after) = after else { return None };
    let before = promotions_confirmed(before);
    let added: Vec<String> = after.promotions_started.keys().filter(|p| !before.contains_key(*p)).cloned().collect();
    (!added.is_empty()).then(|| (after.store_id.clone(), added))
}

/// The promotions an inspection's stored state confirms (none for no state, or another kind).
fn promotions_confirmed(state: Option<&AnyDoc>) -> BTreeMap<String, i64> {
    match state {
        Some(AnyDoc::Inspection(inspection)) => inspection.promotions_started.clone(),
        _ => BTreeMap::new(),
    }
}

/// Closes at once, in every inbox that holds it open, the "promotion not started" alert of each
/// of `promotions` for `store_id`: a visit confirmed them. (The evaluation queued beside it
/// would close them too, a moment later; nobody should see an alert for a store they have just
/// confirmed.) Returns how many alerts closed; each closing goes to the webhook like any other.
pub async fn close_confirmed(
    storage: &dyn Storage,
    jobs: Option<&JobSignal>,
    tenant_id: i64,
    store_id: &str,
    promotions: &[String],
    now: i64,
) -> Result<usize> {
    let users = storage.list_users(tenant_id).await?;
    let mut closed = 0;
    for promotion in promotions {
        let key = format!("{}:{promotion}:{store_id}", AlertKind::PromotionNotStarted.as_str());
        for inbox in queries::inboxes_holding_open(storage, tenant_id, &key).await? {
            let Ok(id) = inbox.parse::<DocumentId>() else { continue };
            let closing = documents::edit_as_relay(storage, tenant_id, &id, |inbox: &mut Inbox| {
                let owner = inbox.owner.clone();
                Ok(inbox.alerts.get_mut(&key).filter(|a| a.state == AlertState::Open).map(|alert| {
                    alert.state = AlertState::Closed;
                    alert.closed_at = Some(now);
                    (owner, alert.clone())
                }))
            });
            let Some((owner, alert)) = closing.await? else { continue };
            closed += 1;
            let username = users.iter().find(|u| u.id == owner).map_or("", |u| u.username.as_str());
            let recipient = webhook::Recipient { user_id: &owner, username };
            webhook::queue_delivery(storage, jobs, tenant_id, &key, &alert, recipient).await?;
        }
    }
    Ok(closed)
}

/// Removes from every inbox of a tenant the alerts closed before `before` (the retention
/// period, `Config::alert_retention`, has passed), and the triage history of alerts no inbox
/// holds any more. Open alerts are never pruned. Returns how many alerts were removed.
pub async fn prune_closed(storage: &dyn Storage, tenant_id: i64, before: i64) -> Result<usize> {
    let mut removed = 0;
    for inbox in queries::inboxes_with_alerts_closed_before(storage, tenant_id, before).await? {
        let Ok(id) = inbox.parse::<DocumentId>() else { continue };
        removed += documents::edit_as_relay(storage, tenant_id, &id, |inbox: &mut Inbox| {
            let count = inbox.alerts.len();
            inbox.alerts.retain(|_, a| a.state == AlertState::Open || a.closed_at.is_none_or(|at| at >= before));
            Ok(count - inbox.alerts.len())
        })
        .await?;
    }
    storage.prune_triage(tenant_id, before).await?;
    Ok(removed)
}

/// Evaluates the alert round `round` of a tenant (what an `evaluate-alerts` job does): the round
/// is marked as started, so a request made from now on queues a new one, then the tenant's
/// alerts are evaluated at `now` ([`evaluate`]).
pub async fn evaluate_round(
    storage: &dyn Storage,
    caches: &Caches,
    jobs: Option<&JobSignal>,
    tenant_id: i64,
    round: i64,
    now: i64,
) -> Result<Evaluation> {
    storage.advance_alert_round(tenant_id, round).await?;
    evaluate(storage, caches, jobs, tenant_id, now).await
}

/// Evaluates a tenant's alerts from its current data at `now` and reconciles the inboxes (see the
/// module docs). Days are the tenant's local days ([`Locale`]). `jobs` wakes the runner for
/// webhook deliveries.
pub async fn evaluate(
    storage: &dyn Storage,
    caches: &Caches,
    jobs: Option<&JobSignal>,
    tenant_id: i64,
    now: i64,
) -> Result<Evaluation> {
    let locale = accounts::tenant_locale(storage, tenant_id).await?;
    let users = storage.list_users(tenant_id).await?;
    let stores: Vec<(String, RetailStore)> =
        load_all::<RetailStore>(storage, tenant_id).await?.into_iter().map(|(id, s)| (id.to_string(), s)).collect();
    let store_by_id: BTreeMap<&str, &RetailStore> = stores.iter().map(|(id, s)| (id.as_str(), s)).collect();
    let inventories: Vec<Inventory> = load_all(storage, tenant_id).await?.into_iter().map(|(_, i)| i).collect();
    let catalog = match tenant_catalog(storage, caches, tenant_id).await {
        Ok(catalog) => Some(catalog),
        Err(Error::NotFound { .. }) => None,
        Err(error) => return Err(error),
    };
    // Confirmations matter only while a promotion runs: most of the time nothing is read.
    let running =
        catalog.as_ref().is_some_and(|c| c.promotions.values().any(|p| p.starts_at <= now && now <= p.ends_at));
    let mut confirmed: BTreeSet<(String, String)> = BTreeSet::new();
    if running {
        for (_, inspection) in load_all::<Inspection>(storage, tenant_id).await? {
            let store = inspection.store_id;
            confirmed.extend(inspection.promotions_started.into_keys().map(|promotion| (store.clone(), promotion)));
        }
    }
    let first_day = Locale::days_before(locale.day_of(now), SALES_LOOKBACK_DAYS).to_string();
    let sales = storage.daily_sales_since(tenant_id, &first_day).await?;

    // user → key → cause
    let mut wanted: BTreeMap<String, BTreeMap<String, Cause>> = BTreeMap::new();
    let mut causes = 0;
    let mut address = |cause: Cause, to: Vec<String>| {
        causes += 1;
        for user in to {
            wanted.entry(user).or_default().insert(cause.key.clone(), cause.clone());
        }
    };
    let product = |sku: Option<&str>| {
        let catalog = catalog.as_ref()?;
        catalog.products.get(sku?).map(|p| p.name.clone())
    };
    for low in low_stock::detect(&inventories) {
        let name = product(Some(&low.sku));
        address(low.cause(name.as_deref()), recipients::region_managers(&users, &low.region));
    }
    if let Some(catalog) = &catalog {
        for missing in promotions::detect(&catalog.promotions, &stores, &confirmed, now) {
            if let Some(store) = store_by_id.get(missing.store_id.as_str()) {
                address(missing.cause(&locale), recipients::store_staff(&users, store));
            }
        }
    }
    for fall in sales_falling::detect(&sales) {
        // Sales of a store that no longer exists raise nothing.
        if let Some(store) = store_by_id.get(fall.store_id.as_str()) {
            let name = product(fall.sku.as_deref());
            address(
                fall.cause(&store.name, name.as_deref(), &locale),
                recipients::store_rep_and_managers(&users, store),
            );
        }
    }

    let mut inboxes: BTreeMap<String, DocumentId> = BTreeMap::new();
    for (id, inbox) in load_all::<Inbox>(storage, tenant_id).await? {
        // Should two exist for one user, the derived one wins.
        if id == inbox::inbox_id(&inbox.owner) || !inboxes.contains_key(&inbox.owner) {
            inboxes.insert(inbox.owner, id);
        }
    }
    let usernames: BTreeMap<&str, &str> = users.iter().map(|u| (u.id.as_str(), u.username.as_str())).collect();
    let owners: BTreeSet<String> = wanted.keys().chain(inboxes.keys()).cloned().collect();
    let mut done = Evaluation { causes, ..Evaluation::default() };
    for owner in owners {
        let causes = wanted.remove(&owner).unwrap_or_default();
        let transitions = reconcile_inbox(storage, tenant_id, &owner, inboxes.get(&owner), &causes, now).await?;
        for transition in transitions {
            match transition.change {
                inbox::Change::Opened => done.opened += 1,
                inbox::Change::Closed => done.closed += 1,
                inbox::Change::Refreshed => {
                    done.refreshed += 1;
                    continue;
                }
            }
            let recipient = webhook::Recipient {
                user_id: &owner,
                username: usernames.get(owner.as_str()).copied().unwrap_or_default(),
            };
            if webhook::queue_delivery(storage, jobs, tenant_id, &transition.key, &transition.alert, recipient).await? {
                done.deliveries += 1;
            }
        }
    }
    Ok(done)
}

/// Reconciles one user's inbox (creating it when they have a first alert); returns what changed.
async fn reconcile_inbox(
    storage: &dyn Storage,
    tenant_id: i64,
    owner: &str,
    existing: Option<&DocumentId>,
    causes: &BTreeMap<String, Cause>,
    now: i64,
) -> Result<Vec<inbox::Transition>> {
    let edit = |id: DocumentId| async move {
        documents::edit_as_relay(storage, tenant_id, &id, |inbox: &mut Inbox| {
            Ok(inbox::reconcile(inbox, causes, &AlertKind::ALL, now))
        })
        .await
    };
    if let Some(id) = existing {
        return edit(id.clone()).await;
    }
    if causes.is_empty() {
        return Ok(Vec::new());
    }
    let mut fresh = Inbox { owner: owner.to_owned(), alerts: BTreeMap::new() };
    let transitions = inbox::reconcile(&mut fresh, causes, &AlertKind::ALL, now);
    let id = inbox::inbox_id(owner);
    match documents::create_as_relay_with_id(storage, tenant_id, &id, &fresh).await {
        Ok(()) => Ok(transitions),
        // Another relay node created it meanwhile: reconcile with what it wrote.
        Err(Error::Conflict(_)) => edit(id).await,
        Err(error) => Err(error),
    }
}

/// Every document of a kind in the tenant, typed. An unreadable one is logged and skipped, so
/// that one bad document does not stop every alert of the tenant.
async fn load_all<T: DocumentModel>(storage: &dyn Storage, tenant_id: i64) -> Result<Vec<(DocumentId, T)>> {
    let everything = Scope { role: Role::Hq, user_id: String::new(), region: None };
    let stored = storage.list_docs(tenant_id, &everything, T::KIND, MAX_DOCS).await?;
    let mut values = Vec::with_capacity(stored.len());
    for stored in stored {
        match documents::load(&stored).and_then(|am| Ok(doc::read::<T>(&stored.id, &am)?)) {
            Ok(value) => values.push((stored.id, value)),
            Err(error) => {
                tracing::warn!(doc = %stored.id, kind = T::KIND.as_str(), %error, "document skipped by alerts")
            }
        }
    }
    Ok(values)
}

/// Queues an evaluation of every tenant that holds documents (at relay start, and periodically:
/// promotions start as time passes). Failures are logged, per tenant.
pub async fn queue_all(storage: &dyn Storage, jobs: Option<&JobSignal>, reason: &str) {
    let tenants = match storage.tenants_with_documents().await {
        Ok(tenants) => tenants,
        Err(error) => {
            tracing::error!(%error, "cannot list tenants for alert evaluation");
            return;
        }
    };
    for tenant_id in tenants {
        if let Err(error) = queue_evaluation(storage, jobs, tenant_id, reason).await {
            tracing::error!(tenant = tenant_id, %error, "cannot queue an alert evaluation");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_the_prefixes_of_their_cause_keys() {
        let names: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["low-stock", "promotion-not-started", "sales-falling"]);
    }
}
