//! The read model: what each document contributes to the relational tables that lists and
//! figures read ([`crate::storage::read_model`] names them).
//!
//! [`project`] is a pure function of one document: the rows it contributes, as [`Projection`]
//! (typed) and then as [`RowChange`]s (what storage writes). Every document write carries them
//! ([`crate::storage::DocWrite::read_model`]) and storage applies them in the write's own
//! transaction, so the tables never disagree with the documents. A row fed by two documents
//! takes from each only the columns it owns: an order's row gets its verdict and current approval
//! step from the order's review, an inspection's row its score and photo verdicts from the
//! inspection's score.
//!
//! The tables are derived data: [`rebuild_tenant`] deletes a tenant's rows and derives them
//! again from every document (`fieldsync-server admin rebuild-projections`, and the
//! `rebuild-projections` job a migration queues for data stored before the tables existed).

use automerge::Automerge;
use fieldsync_core::DocumentId;
use fieldsync_core::doc::{
    self, AnyDoc, Catalog, DocKind, Inbox, Inspection, InspectionScore, Order, OrderReview, RetailStore, StepState,
    Trust,
};

use crate::error::Result;
use crate::state::AppState;
use crate::storage::read_model::{
    ALERT_ROWS, Cell, Column, INSPECTION_ROWS, ORDER_LINES, ORDER_ROWS, ORDER_STEPS, PHOTO_ROWS, PRODUCT_ROWS,
    STORE_ROWS,
};
use crate::storage::{DocMeta, Job, RowChange, Storage};

/// The job kind of a tenant's rebuild.
pub const KIND: &str = "rebuild-projections";
/// Documents read per page of a rebuild.
const PAGE: u32 = 500;

/// An order's own columns of its `order_rows` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// The order's document id.
    pub order_id: String,
    /// The rep who owns it.
    pub rep: String,
    /// Its store.
    pub store_id: String,
    /// The store's region.
    pub region: Option<String>,
    /// The customer billed.
    pub customer_id: String,
    /// `draft` or `submitted`.
    pub status: String,
    /// Total after line discounts, in cents.
    pub total_cents: i64,
    /// Number of lines.
    pub line_count: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last edit.
    pub updated_at: i64,
    /// Last submission.
    pub submitted_at: Option<i64>,
    /// How many times it was submitted.
    pub submission: i64,
}

/// One `order_lines` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineRow {
    /// The line's id in the order.
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
    pub line_total_cents: i64,
    /// Display position.
    pub position: i64,
}

/// A review's columns of its order's `order_rows` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    /// The reviewed order.
    pub order_id: String,
    /// The order's readable number (`N-000123`); empty for reviews from before numbers existed.
    pub number: String,
    /// `approved`, `needs-approval` or `rejected`.
    pub outcome: String,
    /// The submission the verdict is for (older than the order's when it was reopened since).
    pub reviewed_submission: i64,
    /// The total as the relay priced it, in cents.
    pub reviewed_total_cents: i64,
    /// Validation findings.
    pub finding_count: i64,
    /// When the review was written.
    pub reviewed_at: i64,
    /// When the outcome became final.
    pub decided_at: Option<i64>,
    /// Index of the step waiting for a decision.
    pub current_step: Option<i64>,
    /// Role of that step's approver.
    pub current_approver_role: Option<String>,
    /// User id of that step's approver.
    pub current_approver: Option<String>,
    /// Approval steps (0: the review decided alone).
    pub step_count: i64,
    /// The deadline of the step waiting for a decision, if it has an SLA.
    pub current_due_at: Option<i64>,
}

/// One `order_steps` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    /// Index of the step, from 0.
    pub step: i64,
    /// Approving role.
    pub role: String,
    /// Approver's user id.
    pub approver: String,
    /// The policy rule that produced it.
    pub rule: String,
    /// `pending`, `approved` or `rejected`.
    pub state: String,
    /// When it was decided.
    pub decided_at: Option<i64>,
    /// The approver's reason.
    pub reason: String,
    /// When it started waiting for its approver: its clock's start, else the previous step's
    /// decision (the review, for the first step); `None` while an earlier step waits.
    pub started_at: Option<i64>,
    /// Its deadline, if it has an SLA.
    pub due_at: Option<i64>,
    /// When its approver was reminded.
    pub reminded_at: Option<i64>,
    /// When it escalated.
    pub escalated_at: Option<i64>,
    /// Who it escalated from (the approver then).
    pub escalated_from: Option<String>,
}

/// An inspection's own columns of its `inspection_rows` row.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectionRow {
    /// The inspection's document id.
    pub inspection_id: String,
    /// The supervisor who owns it.
    pub supervisor: String,
    /// The store visited.
    pub store_id: String,
    /// The store's region.
    pub region: Option<String>,
    /// The checklist template.
    pub template_id: String,
    /// `open` or `checked-out`.
    pub status: String,
    /// Check-in time.
    pub check_in_at: i64,
    /// Where the supervisor checked in: latitude.
    pub check_in_latitude: f64,
    /// Where the supervisor checked in: longitude.
    pub check_in_longitude: f64,
    /// Check-out time.
    pub check_out_at: Option<i64>,
    /// Checklist answers given.
    pub answer_count: i64,
    /// Photos referenced.
    pub photo_count: i64,
    /// Last edit.
    pub updated_at: i64,
}

/// A score's columns of its inspection's `inspection_rows` row.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    /// The scored inspection.
    pub inspection_id: String,
    /// The score, 0–100.
    pub score: f64,
    /// The scoring version that computed it.
    pub scoring_version: i64,
    /// Photos by trust verdict: pass, review, rejected.
    pub photos_pass: i64,
    /// Photos to look at.
    pub photos_review: i64,
    /// Photos rejected.
    pub photos_rejected: i64,
    /// When it was scored.
    pub scored_at: i64,
    /// Each photo's verdict.
    pub photos: Vec<PhotoRow>,
}

/// One `photo_rows` row: a photo of an inspection as its score judged it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoRow {
    /// The photo's content address.
    pub sha256: String,
    /// `pass`, `review` or `rejected`.
    pub trust: String,
    /// Quality, 0–1.
    pub quality: f64,
    /// Why, in plain words, joined by `; `.
    pub reasons: String,
}

/// One `store_rows` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRow {
    /// The store's document id.
    pub store_id: String,
    /// Its name.
    pub name: String,
    /// Its short code (empty when it has none).
    pub code: String,
    /// Its address.
    pub address: String,
    /// Its region.
    pub region: String,
    /// The customer it bills to.
    pub customer_id: String,
    /// Its customer tier (prices and approval rules depend on it).
    pub tier: String,
    /// Its rep's user id.
    pub rep: String,
    /// Its supervisor's user id.
    pub supervisor: String,
    /// Whether it is served.
    pub active: bool,
}

/// One `product_rows` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    /// The product's SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: String,
    /// Whether it can be ordered.
    pub active: bool,
}

/// One `alert_rows` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    /// The alert's id in the inbox.
    pub alert_id: String,
    /// What raised it (`low-stock`, …).
    pub kind: String,
    /// Its title.
    pub title: String,
    /// What it says, in full.
    pub detail: String,
    /// Title and detail as codes with arguments, stored as JSON (`None` for alerts raised
    /// before alerts had codes).
    pub texts: Option<doc::AlertTexts>,
    /// The store it is about.
    pub store_id: Option<String>,
    /// The product it is about.
    pub sku: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// When it was raised.
    pub raised_at: i64,
    /// When it was closed.
    pub closed_at: Option<i64>,
}

/// What one document contributes to the read model.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// An order: its row's own columns and its lines.
    Order {
        /// Its row.
        row: OrderRow,
        /// Its lines, in display order.
        lines: Vec<OrderLineRow>,
    },
    /// An order's review: the verdict columns of the order's row and the approval steps.
    Review {
        /// Its columns of the order's row.
        row: ReviewRow,
        /// The approval steps, in order.
        steps: Vec<StepRow>,
    },
    /// An inspection: its row's own columns.
    Inspection(InspectionRow),
    /// An inspection's score: the score columns of the inspection's row.
    Score(ScoreRow),
    /// A store: its row.
    Store(StoreRow),
    /// A catalog: its products.
    Catalog {
        /// The catalog's document id.
        catalog_id: String,
        /// Its products.
        products: Vec<ProductRow>,
    },
    /// A user's inbox: its alerts.
    Inbox {
        /// The inbox's document id.
        inbox_id: String,
        /// Its user.
        owner: String,
        /// Its alerts.
        alerts: Vec<AlertRow>,
    },
    /// Nothing: master data, decisions, or a document that does not read as its kind.
    None,
}

/// What document `id` contributes, read from the document itself and its scope columns (the
/// region comes from its store, as admission computed it). A document that does not read as its
/// kind contributes nothing — and is logged, for it should never have been admitted.
pub fn project(id: &DocumentId, meta: &DocMeta, doc: &Automerge) -> Projection {
    if matches!(meta.kind, DocKind::Decision | DocKind::Inventory | DocKind::Template) {
        return Projection::None;
    }
    match AnyDoc::read(id, doc) {
        Ok(value) => project_doc(id, meta, &value),
        Err(error) => {
            tracing::warn!(doc = %id, kind = %meta.kind, %error, "document left out of the read model");
            Projection::None
        }
    }
}

/// [`project`] of a document already read.
pub fn project_doc(id: &DocumentId, meta: &DocMeta, value: &AnyDoc) -> Projection {
    if value.kind() != meta.kind {
        tracing::warn!(doc = %id, kind = %meta.kind, read = %value.kind(), "document left out of the read model");
        return Projection::None;
    }
    match value {
        AnyDoc::Order(order) => order_projection(id, meta, order),
        AnyDoc::OrderReview(review) => review_projection(review),
        AnyDoc::Inspection(inspection) => inspection_projection(id, meta, inspection),
        AnyDoc::InspectionScore(score) => score_projection(score),
        AnyDoc::Inbox(inbox) => inbox_projection(id, inbox),
        AnyDoc::Store(store) => store_projection(id, store),
        AnyDoc::Catalog(catalog) => catalog_projection(id, catalog),
        AnyDoc::Decision(_) | AnyDoc::Inventory(_) | AnyDoc::Template(_) => Projection::None,
    }
}

/// [`project`], as storage writes it.
pub fn row_changes(id: &DocumentId, meta: &DocMeta, doc: &Automerge) -> Vec<RowChange> {
    project(id, meta, doc).into_row_changes()
}

fn order_projection(id: &DocumentId, meta: &DocMeta, order: &Order) -> Projection {
    let row = OrderRow {
        order_id: id.to_string(),
        rep: order.owner.clone(),
        store_id: order.store_id.clone(),
        region: meta.region.clone(),
        customer_id: order.customer_id.clone(),
        status: order.status.as_str().to_owned(),
        total_cents: order.total_cents(),
        line_count: count(order.lines.len()),
        created_at: order.created_at,
        updated_at: order.updated_at,
        submitted_at: order.submitted_at,
        submission: i64::try_from(order.submission).unwrap_or(i64::MAX),
    };
    let lines = order
        .lines_in_order()
        .into_iter()
        .map(|(line_id, line)| OrderLineRow {
            line_id: line_id.clone(),
            sku: line.sku.clone(),
            qty: line.qty,
            unit_price_cents: line.unit_price_cents,
            discount_bp: line.discount_bp,
            line_total_cents: line.total_cents(),
            position: line.position,
        })
        .collect();
    Projection::Order { row, lines }
}

fn review_projection(review: &OrderReview) -> Projection {
    let current = review.current_step().and_then(|index| Some((index, review.steps.get(index)?)));
    let row = ReviewRow {
        order_id: review.order_id.clone(),
        number: review.number.clone(),
        outcome: review.outcome.as_str().to_owned(),
        reviewed_submission: i64::try_from(review.submission).unwrap_or(i64::MAX),
        reviewed_total_cents: review.total_cents,
        finding_count: count(review.findings.len()),
        reviewed_at: review.reviewed_at,
        decided_at: review.decided_at,
        current_step: current.map(|(index, _)| count(index)),
        current_approver_role: current.map(|(_, step)| step.role.clone()),
        current_approver: current.map(|(_, step)| step.approver.clone()),
        step_count: count(review.steps.len()),
        current_due_at: current.and_then(|(_, step)| step.sla.as_ref()?.due_at),
    };
    let steps = review
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let sla = step.sla.as_ref();
            let escalation = sla.and_then(|sla| sla.escalation.as_ref());
            let waited_from = match index.checked_sub(1).and_then(|i| review.steps.get(i)) {
                None => Some(review.reviewed_at),
                Some(previous) => previous.decided_at.filter(|_| previous.state == StepState::Approved),
            };
            (index, step, sla, escalation, waited_from)
        })
        .map(|(index, step, sla, escalation, waited_from)| StepRow {
            step: count(index),
            role: step.role.clone(),
            approver: step.approver.clone(),
            rule: step.rule.clone(),
            state: match step.state {
                StepState::Pending => "pending",
                StepState::Approved => "approved",
                StepState::Rejected => "rejected",
            }
            .to_owned(),
            decided_at: step.decided_at,
            reason: step.reason.clone(),
            started_at: sla.and_then(|sla| sla.started_at).or(waited_from),
            due_at: sla.and_then(|sla| sla.due_at),
            reminded_at: sla.and_then(|sla| sla.reminded_at),
            escalated_at: escalation.map(|e| e.at),
            escalated_from: escalation.map(|e| e.from.clone()),
        })
        .collect();
    Projection::Review { row, steps }
}

fn inspection_projection(id: &DocumentId, meta: &DocMeta, inspection: &Inspection) -> Projection {
    Projection::Inspection(InspectionRow {
        inspection_id: id.to_string(),
        supervisor: inspection.owner.clone(),
        store_id: inspection.store_id.clone(),
        region: meta.region.clone(),
        template_id: inspection.template_id.clone(),
        status: inspection.status.as_str().to_owned(),
        check_in_at: inspection.check_in.at,
        check_in_latitude: inspection.check_in.position.latitude,
        check_in_longitude: inspection.check_in.position.longitude,
        check_out_at: inspection.check_out.map(|visit| visit.at),
        answer_count: count(inspection.answers.len()),
        photo_count: count(inspection.photos.len()),
        updated_at: inspection.updated_at,
    })
}

fn score_projection(score: &InspectionScore) -> Projection {
    let with = |trust: Trust| count(score.photos.iter().filter(|photo| photo.trust == trust).count());
    Projection::Score(ScoreRow {
        inspection_id: score.inspection_id.clone(),
        score: score.score,
        scoring_version: i64::try_from(score.scoring_version).unwrap_or(i64::MAX),
        photos_pass: with(Trust::Pass),
        photos_review: with(Trust::Review),
        photos_rejected: with(Trust::Rejected),
        scored_at: score.scored_at,
        photos: score
            .photos
            .iter()
            .map(|photo| PhotoRow {
                sha256: photo.sha256.clone(),
                trust: photo.trust.as_str().to_owned(),
                quality: photo.quality,
                reasons: photo.reasons.join("; "),
            })
            .collect(),
    })
}

fn store_projection(id: &DocumentId, store: &RetailStore) -> Projection {
    Projection::Store(StoreRow {
        store_id: id.to_string(),
        name: store.name.clone(),
        code: store.code.clone(),
        address: store.address.clone(),
        region: store.region.clone(),
        customer_id: store.customer_id.clone(),
        tier: store.tier.clone(),
        rep: store.rep.clone(),
        supervisor: store.supervisor.clone(),
        active: store.active,
    })
}

fn catalog_projection(id: &DocumentId, catalog: &Catalog) -> Projection {
    let products = catalog
        .products
        .iter()
        .map(|(sku, product)| ProductRow {
            sku: sku.clone(),
            name: product.name.clone(),
            category: product.category.clone(),
            active: product.active,
        })
        .collect();
    Projection::Catalog { catalog_id: id.to_string(), products }
}

fn inbox_projection(id: &DocumentId, inbox: &Inbox) -> Projection {
    let alerts = inbox
        .alerts
        .iter()
        .map(|(alert_id, alert)| AlertRow {
            alert_id: alert_id.clone(),
            kind: alert.kind.clone(),
            title: alert.title.clone(),
            detail: alert.detail.clone(),
            texts: alert.texts.clone(),
            store_id: alert.store_id.clone(),
            sku: alert.sku.clone(),
            state: match alert.state {
                doc::AlertState::Open => "open",
                doc::AlertState::Closed => "closed",
            }
            .to_owned(),
            raised_at: alert.raised_at,
            closed_at: alert.closed_at,
        })
        .collect();
    Projection::Inbox { inbox_id: id.to_string(), owner: inbox.owner.clone(), alerts }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn text(value: &str) -> Cell {
    Cell::text(value)
}

fn opt_text(value: &Option<String>) -> Cell {
    Cell::Text(value.clone())
}

impl Projection {
    /// The writes that put this projection in the tables, replacing what the same document
    /// contributed before.
    pub fn into_row_changes(self) -> Vec<RowChange> {
        match self {
            Projection::Order { row, lines } => {
                let order_id = row.order_id.clone();
                let columns = vec![
                    ("rep", text(&row.rep)),
                    ("store_id", text(&row.store_id)),
                    ("region", opt_text(&row.region)),
                    ("customer_id", text(&row.customer_id)),
                    ("status", text(&row.status)),
                    ("total_cents", Cell::int(row.total_cents)),
                    ("line_count", Cell::int(row.line_count)),
                    ("created_at", Cell::int(row.created_at)),
                    ("updated_at", Cell::int(row.updated_at)),
                    ("submitted_at", Cell::Int(row.submitted_at)),
                    ("submission", Cell::int(row.submission)),
                ];
                let lines = lines
                    .into_iter()
                    .map(|line| -> Vec<Column> {
                        vec![
                            ("order_id", text(&order_id)),
                            ("line_id", Cell::Text(Some(line.line_id))),
                            ("sku", Cell::Text(Some(line.sku))),
                            ("qty", Cell::int(line.qty)),
                            ("unit_price_cents", Cell::int(line.unit_price_cents)),
                            ("discount_bp", Cell::int(line.discount_bp)),
                            ("line_total_cents", Cell::int(line.line_total_cents)),
                            ("position", Cell::int(line.position)),
                        ]
                    })
                    .collect();
                vec![
                    RowChange::Upsert { table: ORDER_ROWS.name, key: vec![("order_id", text(&order_id))], columns },
                    RowChange::Replace { table: ORDER_LINES.name, parent: ("order_id", text(&order_id)), rows: lines },
                ]
            }
            Projection::Review { row, steps } => {
                let order_id = row.order_id.clone();
                let columns = vec![
                    ("order_number", Cell::Text(Some(row.number))),
                    ("outcome", Cell::Text(Some(row.outcome))),
                    ("reviewed_submission", Cell::int(row.reviewed_submission)),
                    ("reviewed_total_cents", Cell::int(row.reviewed_total_cents)),
                    ("finding_count", Cell::int(row.finding_count)),
                    ("reviewed_at", Cell::int(row.reviewed_at)),
                    ("decided_at", Cell::Int(row.decided_at)),
                    ("current_step", Cell::Int(row.current_step)),
                    ("current_approver_role", Cell::Text(row.current_approver_role)),
                    ("current_approver", Cell::Text(row.current_approver)),
                    ("step_count", Cell::int(row.step_count)),
                    ("current_due_at", Cell::Int(row.current_due_at)),
                ];
                let steps = steps
                    .into_iter()
                    .map(|step| -> Vec<Column> {
                        vec![
                            ("order_id", text(&order_id)),
                            ("step", Cell::int(step.step)),
                            ("role", Cell::Text(Some(step.role))),
                            ("approver", Cell::Text(Some(step.approver))),
                            ("rule", Cell::Text(Some(step.rule))),
                            ("state", Cell::Text(Some(step.state))),
                            ("decided_at", Cell::Int(step.decided_at)),
                            ("reason", Cell::Text(Some(step.reason))),
                            ("started_at", Cell::Int(step.started_at)),
                            ("due_at", Cell::Int(step.due_at)),
                            ("reminded_at", Cell::Int(step.reminded_at)),
                            ("escalated_at", Cell::Int(step.escalated_at)),
                            ("escalated_from", Cell::Text(step.escalated_from)),
                        ]
                    })
                    .collect();
                vec![
                    RowChange::Upsert { table: ORDER_ROWS.name, key: vec![("order_id", text(&order_id))], columns },
                    RowChange::Replace { table: ORDER_STEPS.name, parent: ("order_id", text(&order_id)), rows: steps },
                ]
            }
            Projection::Inspection(row) => {
                let columns = vec![
                    ("supervisor", Cell::Text(Some(row.supervisor))),
                    ("store_id", Cell::Text(Some(row.store_id))),
                    ("region", Cell::Text(row.region)),
                    ("template_id", Cell::Text(Some(row.template_id))),
                    ("status", Cell::Text(Some(row.status))),
                    ("check_in_at", Cell::int(row.check_in_at)),
                    ("check_in_latitude", Cell::Real(Some(row.check_in_latitude))),
                    ("check_in_longitude", Cell::Real(Some(row.check_in_longitude))),
                    ("check_out_at", Cell::Int(row.check_out_at)),
                    ("answer_count", Cell::int(row.answer_count)),
                    ("photo_count", Cell::int(row.photo_count)),
                    ("updated_at", Cell::int(row.updated_at)),
                ];
                let key = vec![("inspection_id", Cell::Text(Some(row.inspection_id)))];
                vec![RowChange::Upsert { table: INSPECTION_ROWS.name, key, columns }]
            }
            Projection::Score(row) => {
                let columns = vec![
                    ("score", Cell::Real(Some(row.score))),
                    ("scoring_version", Cell::int(row.scoring_version)),
                    ("photos_pass", Cell::int(row.photos_pass)),
                    ("photos_review", Cell::int(row.photos_review)),
                    ("photos_rejected", Cell::int(row.photos_rejected)),
                    ("scored_at", Cell::int(row.scored_at)),
                ];
                let inspection_id = row.inspection_id;
                let photos = row
                    .photos
                    .into_iter()
                    .map(|photo| -> Vec<Column> {
                        vec![
                            ("inspection_id", text(&inspection_id)),
                            ("sha256", Cell::Text(Some(photo.sha256))),
                            ("trust", Cell::Text(Some(photo.trust))),
                            ("quality", Cell::Real(Some(photo.quality))),
                            ("reasons", Cell::Text(Some(photo.reasons))),
                        ]
                    })
                    .collect();
                let parent = ("inspection_id", text(&inspection_id));
                vec![
                    RowChange::Upsert { table: INSPECTION_ROWS.name, key: vec![parent.clone()], columns },
                    RowChange::Replace { table: PHOTO_ROWS.name, parent, rows: photos },
                ]
            }
            Projection::Store(row) => {
                let columns = vec![
                    ("name", Cell::Text(Some(row.name))),
                    ("address", Cell::Text(Some(row.address))),
                    ("region", Cell::Text(Some(row.region))),
                    ("customer_id", Cell::Text(Some(row.customer_id))),
                    ("tier", Cell::Text(Some(row.tier))),
                    ("rep", Cell::Text(Some(row.rep))),
                    ("supervisor", Cell::Text(Some(row.supervisor))),
                    ("active", Cell::int(i64::from(row.active))),
                    ("code", Cell::Text(Some(row.code))),
                ];
                let key = vec![("store_id", Cell::Text(Some(row.store_id)))];
                vec![RowChange::Upsert { table: STORE_ROWS.name, key, columns }]
            }
            Projection::Catalog { catalog_id, products } => {
                let rows = products
                    .into_iter()
                    .map(|product| -> Vec<Column> {
                        vec![
                            ("catalog_id", text(&catalog_id)),
                            ("sku", Cell::Text(Some(product.sku))),
                            ("name", Cell::Text(Some(product.name))),
                            ("category", Cell::Text(Some(product.category))),
                            ("active", Cell::int(i64::from(product.active))),
                        ]
                    })
                    .collect();
                vec![RowChange::Replace { table: PRODUCT_ROWS.name, parent: ("catalog_id", text(&catalog_id)), rows }]
            }
            Projection::Inbox { inbox_id, owner, alerts } => {
                let rows = alerts
                    .into_iter()
                    .map(|alert| -> Vec<Column> {
                        vec![
                            ("inbox_id", text(&inbox_id)),
                            ("alert_id", Cell::Text(Some(alert.alert_id))),
                            ("owner", text(&owner)),
                            ("kind", Cell::Text(Some(alert.kind))),
                            ("title", Cell::Text(Some(alert.title))),
                            ("detail", Cell::Text(Some(alert.detail))),
                            ("texts", Cell::Text(alert.texts.and_then(|t| serde_json::to_string(&t).ok()))),
                            ("store_id", Cell::Text(alert.store_id)),
                            ("sku", Cell::Text(alert.sku)),
                            ("state", Cell::Text(Some(alert.state))),
                            ("raised_at", Cell::int(alert.raised_at)),
                            ("closed_at", Cell::Int(alert.closed_at)),
                        ]
                    })
                    .collect();
                vec![RowChange::Replace { table: ALERT_ROWS.name, parent: ("inbox_id", text(&inbox_id)), rows }]
            }
            Projection::None => Vec::new(),
        }
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// Documents read.
    pub documents: u64,
    /// Documents whose rows were written (the others changed meanwhile and wrote their own).
    pub applied: u64,
}

/// Deletes the tenant's read-model rows and derives them again from every document, a page at
/// a time. Writes may go on meanwhile: each stores its own rows with the document, and a page's
/// rows are written only for documents still at the heads that were read
/// ([`crate::storage::ReadModelStore::apply_read_model`]). Until it ends, lists miss rows.
pub async fn rebuild_tenant(storage: &dyn Storage, tenant_id: i64) -> Result<RebuildReport> {
    storage.clear_read_model(tenant_id).await?;
    let mut report = RebuildReport::default();
    let mut after: Option<DocumentId> = None;
    loop {
        let ids = storage.doc_ids_after(tenant_id, after.as_ref(), PAGE).await?;
        let Some(last) = ids.last().cloned() else { return Ok(report) };
        let mut page = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(stored) = storage.load_doc(tenant_id, &id).await? else { continue };
            report.documents += 1;
            let changes = match Automerge::load(&stored.snapshot) {
                Ok(doc) => row_changes(&id, &stored.meta, &doc),
                Err(error) => {
                    tracing::warn!(tenant_id, doc = %id, %error, "document does not load; left out of the read model");
                    continue;
                }
            };
            if !changes.is_empty() {
                page.push((id, stored.heads, changes));
            }
        }
        report.applied += storage.apply_read_model(tenant_id, page).await?;
        after = Some(last);
    }
}

/// Runs a `rebuild-projections` job: the whole tenant.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let report = rebuild_tenant(state.storage.as_ref(), job.tenant_id).await?;
    tracing::info!(tenant_id = job.tenant_id, documents = report.documents, "read model rebuilt");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use automerge::ActorId;
    use fieldsync_core::doc::{
        ApprovalStep, DocumentModel, OrderLine, OrderStatus, PhotoAssessment, ReviewOutcome, Severity,
    };

    use super::*;

    fn meta(kind: DocKind, region: Option<&str>) -> DocMeta {
        DocMeta { kind, owner: None, store_id: None, region: region.map(str::to_owned), subject_id: None, status: None }
    }

    fn saved<T: DocumentModel>(value: &T) -> (DocumentId, Automerge) {
        let id = DocumentId::random();
        let am = doc::create(&id, ActorId::random(), value).unwrap();
        (id, am)
    }

    fn line(sku: &str, qty: i64, price: i64, discount_bp: i64, position: i64) -> OrderLine {
        OrderLine { sku: sku.into(), qty, unit_price_cents: price, discount_bp, position }
    }

    fn order() -> Order {
        Order {
            owner: "rep-1".into(),
            store_id: "store-1".into(),
            customer_id: "customer-1".into(),
            status: OrderStatus::Submitted,
            lines: BTreeMap::from([
                ("b".to_owned(), line("SKU-2", 3, 999, 1_250, 0)),
                ("a".to_owned(), line("SKU-1", 2, 500, 0, 1)),
            ]),
            notes: String::new(),
            created_at: 10,
            updated_at: 20,
            submitted_at: Some(30),
            submission: 2,
        }
    }

    #[test]
    fn an_order_projects_its_row_with_the_discounted_total_and_its_lines_in_display_order() {
        let (id, am) = saved(&order());
        let Projection::Order { row, lines } = project(&id, &meta(DocKind::Order, Some("north")), &am) else {
            panic!("an order projects as an order")
        };
        // 3 × 9.99 − 12.5 % = 26.22 (rounded half up), plus 2 × 5.00.
        assert_eq!(row.total_cents, 2_622 + 1_000);
        assert_eq!((row.line_count, row.submission, row.submitted_at), (2, 2, Some(30)));
        assert_eq!(
            (row.status.as_str(), row.region.as_deref(), row.rep.as_str()),
            ("submitted", Some("north"), "rep-1")
        );
        let ids: Vec<&str> = lines.iter().map(|l| l.line_id.as_str()).collect();
        assert_eq!(ids, ["b", "a"]);
        assert_eq!(lines[0].line_total_cents, 2_622);
    }

    #[test]
    fn a_review_owns_only_the_verdict_columns_of_its_orders_row_and_names_the_current_approver() {
        let step = |approver: &str, state: StepState| ApprovalStep {
            on_behalf_of: None,
            role: "manager".into(),
            approver: approver.into(),
            rule: "large-order".into(),
            state,
            decided_at: (state != StepState::Pending).then_some(40),
            reason: String::new(),
            sla: None,
        };
        let review = OrderReview {
            order_id: "order-1".into(),
            number: "N-000042".into(),
            owner: "rep-1".into(),
            store_id: "store-1".into(),
            submission: 1,
            reviewed_heads: Vec::new(),
            outcome: ReviewOutcome::NeedsApproval,
            findings: vec![doc::Finding {
                code: "x".into(),
                line_id: None,
                severity: Severity::Warning,
                text: String::new(),
                args: None,
            }],
            steps: vec![step("manager-1", StepState::Approved), step("hq-1", StepState::Pending)],
            total_cents: 50_000,
            submitted_at: Some(30),
            reviewed_at: 35,
            decided_at: None,
        };
        let (id, am) = saved(&review);
        let changes = row_changes(&id, &meta(DocKind::OrderReview, None), &am);
        let RowChange::Upsert { table, key, columns } = &changes[0] else { panic!("the row is upserted") };
        assert_eq!((*table, key.clone()), ("order_rows", vec![("order_id", Cell::text("order-1"))]));
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        assert!(!names.contains(&"status") && !names.contains(&"rep"), "the order's own columns stay the order's");
        let value = |name: &str| columns.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(value("outcome"), Cell::text("needs-approval"));
        assert_eq!(value("order_number"), Cell::text("N-000042"));
        assert_eq!(value("current_step"), Cell::int(1));
        assert_eq!(value("current_approver"), Cell::text("hq-1"));
        let RowChange::Replace { table, rows, .. } = &changes[1] else { panic!("the steps are replaced") };
        assert_eq!((*table, rows.len()), ("order_steps", 2));
    }

    #[test]
    fn a_score_counts_the_inspections_photos_by_trust_verdict() {
        let photo = |trust| PhotoAssessment {
            sha256: "s".into(),
            quality: 0.5,
            trust,
            reasons: Vec::new(),
            reason_messages: Vec::new(),
        };
        let score = InspectionScore {
            inspection_id: "inspection-1".into(),
            owner: "sup-1".into(),
            store_id: "store-1".into(),
            scored_heads: Vec::new(),
            scoring_version: 3,
            score: 87.5,
            verdict: fieldsync_core::doc::Trust::Review,
            items: Vec::new(),
            photos: vec![photo(Trust::Pass), photo(Trust::Pass), photo(Trust::Rejected)],
            reasons: Vec::new(),
            reason_messages: Vec::new(),
            scored_at: 99,
        };
        let (id, am) = saved(&score);
        let Projection::Score(row) = project(&id, &meta(DocKind::InspectionScore, None), &am) else {
            panic!("a score projects as a score")
        };
        assert_eq!((row.photos_pass, row.photos_review, row.photos_rejected), (2, 0, 1));
        assert_eq!((row.inspection_id.as_str(), row.score, row.scoring_version), ("inspection-1", 87.5, 3));
    }

    #[test]
    fn a_document_that_does_not_read_as_its_kind_projects_nothing() {
        let (id, am) = saved(&order());
        assert_eq!(project(&id, &meta(DocKind::Inspection, None), &am), Projection::None);
        assert!(row_changes(&id, &meta(DocKind::OrderReview, None), &am).is_empty());
        assert!(row_changes(&id, &meta(DocKind::Order, None), &Automerge::new()).is_empty());
    }

    #[test]
    fn inventories_templates_and_decisions_project_nothing() {
        let (id, am) = saved(&order());
        for kind in [DocKind::Decision, DocKind::Inventory, DocKind::Template] {
            assert_eq!(project(&id, &meta(kind, None), &am), Projection::None);
        }
    }
}
