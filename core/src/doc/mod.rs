//! The document model: one small automerge document per business object.
//!
//! Every document's root map holds two header keys, `kind` (a [`DocKind`] string) and `schema`
//! (the schema version of that kind), next to the fields of its typed struct. The structs are
//! read and written with autosurgeon: [`read`] hydrates after checking the header, [`update`]
//! reconciles a changed value back, which writes only the fields that differ. That is what lets
//! two devices edit different fields or different order lines and keep both edits.
//!
//! Each kind has exactly one writer role ([`DocKind::writer`]): the relay enforces it, and business
//! verdicts therefore live in separate documents (an order's review is not in the order).

mod approval_policy;
mod catalog;
mod decision;
mod inbox;
mod inspection;
mod inspection_score;
mod inventory;
pub mod limits;
mod order;
mod order_review;
mod retail_store;
mod template;

use std::fmt;
use std::str::FromStr;

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT, ReadDoc, ScalarValue, Value};
use autosurgeon::{Hydrate, Reconcile};

pub use approval_policy::{ApprovalPolicy, ApprovalRule, ApproverRole, EscalationTarget, WorkingHours};
pub use catalog::{Catalog, DiscountPolicy, PriceBreak, PriceList, Product, Promotion};
pub use decision::{Decision, Verdict};
pub use inbox::{ALERT_MESSAGES, Alert, AlertState, AlertTexts, Inbox, alert_text_in};
pub use inspection::{
    Answer, AnswerValue, ExifPosition, GeoFix, Inspection, InspectionStatus, OriginalCapture, PhotoRef, Visit,
};
pub use inspection_score::{InspectionScore, ItemScore, PhotoAssessment, Trust};
pub use inventory::{Inventory, StockLevel};
pub use order::{Order, OrderLine, OrderStatus};
pub use order_review::{ApprovalStep, Escalation, Finding, OrderReview, ReviewOutcome, Severity, StepSla, StepState};
pub use retail_store::RetailStore;
pub use template::{Template, TemplateItem};

use crate::error::{Error, Result};
use crate::id::DocumentId;
use crate::identity::Role;

/// The kinds of document FieldSync knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    /// A rep's order.
    Order,
    /// The relay's verdict and approval routing for one order.
    OrderReview,
    /// One approver's decision on one approval step.
    Decision,
    /// A supervisor's store visit with its checklist answers and photo references.
    Inspection,
    /// The relay's score report for one inspection.
    InspectionScore,
    /// Stock levels of one warehouse or region.
    Inventory,
    /// Products, price lists, promotions and discount policy.
    Catalog,
    /// One retail store (a customer location).
    Store,
    /// An inspection checklist template.
    Template,
    /// Alerts and notifications for one user.
    Inbox,
}

/// Who may write a document of a kind. The relay enforces this on every sync message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterRole {
    /// The user named as the document's `owner`.
    Owner,
    /// The approver named in the document.
    Approver,
    /// HQ users.
    Hq,
    /// Only the relay itself.
    Server,
}

impl DocKind {
    /// Every kind, in a stable order.
    pub const ALL: [DocKind; 10] = [
        DocKind::Order,
        DocKind::OrderReview,
        DocKind::Decision,
        DocKind::Inspection,
        DocKind::InspectionScore,
        DocKind::Inventory,
        DocKind::Catalog,
        DocKind::Store,
        DocKind::Template,
        DocKind::Inbox,
    ];

    /// The name written in the document header.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Order => "order",
            DocKind::OrderReview => "order-review",
            DocKind::Decision => "decision",
            DocKind::Inspection => "inspection",
            DocKind::InspectionScore => "inspection-score",
            DocKind::Inventory => "inventory",
            DocKind::Catalog => "catalog",
            DocKind::Store => "store",
            DocKind::Template => "template",
            DocKind::Inbox => "inbox",
        }
    }

    /// The one role allowed to write documents of this kind.
    pub fn writer(self) -> WriterRole {
        match self {
            DocKind::Order | DocKind::Inspection => WriterRole::Owner,
            DocKind::Decision => WriterRole::Approver,
            DocKind::Catalog | DocKind::Store | DocKind::Template => WriterRole::Hq,
            DocKind::OrderReview | DocKind::InspectionScore | DocKind::Inventory | DocKind::Inbox => WriterRole::Server,
        }
    }

    /// Whether a user in `role` may write some documents of this kind (the relay also checks
    /// that the document is theirs: an owner's, an approver's).
    pub fn writable_by(self, role: Role) -> bool {
        match self.writer() {
            WriterRole::Owner => match self {
                DocKind::Order => role == Role::Rep,
                _ => role == Role::Supervisor,
            },
            WriterRole::Approver => matches!(role, Role::Manager | Role::Hq),
            WriterRole::Hq => role == Role::Hq,
            WriterRole::Server => false,
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        DocKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| Error::InvalidInput { field: "kind", reason: format!("unknown document kind {s:?}") })
    }
}

/// The columns of the local index table that list screens filter and sort on, so that listing
/// thousands of documents never loads one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexFields {
    /// Kind-specific status (`draft`, `submitted`, `checked-out`, `approved`, …).
    pub status: Option<String>,
    /// The store the document is about.
    pub store_id: Option<String>,
    /// The user who owns or is addressed by the document.
    pub owner: Option<String>,
    /// The document this one is about (an order-review's order, a score's inspection).
    pub subject_id: Option<String>,
    /// Creation time, ms since the Unix epoch.
    pub created_at: Option<i64>,
    /// Last business update, ms since the Unix epoch.
    pub updated_at: Option<i64>,
    /// A money amount to show in lists (an order's total), in cents.
    pub amount_cents: Option<i64>,
    /// A count to show in lists (order lines, inspection photos).
    pub item_count: Option<i64>,
}

/// A typed FieldSync document.
pub trait DocumentModel: Hydrate + Reconcile + Clone + fmt::Debug + Into<AnyDoc> {
    /// The kind written in the header.
    const KIND: DocKind;
    /// The newest schema version of this kind that this code reads and writes.
    const SCHEMA: u64;
    /// The index columns for this value.
    fn index_fields(&self) -> IndexFields;
}

/// The header every document carries at its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The `kind` string (may be a kind this code does not know).
    pub kind: String,
    /// The schema version.
    pub schema: u64,
}

impl Header {
    /// The known kind, if this code knows it.
    pub fn known_kind(&self) -> Option<DocKind> {
        self.kind.parse().ok()
    }
}

/// Reads the header of a document.
pub fn header(id: &DocumentId, doc: &impl ReadDoc) -> Result<Header> {
    let malformed = |reason: &str| Error::Malformed { id: id.clone(), reason: reason.to_owned() };
    let kind = match doc.get(ROOT, "kind") {
        Ok(Some((Value::Scalar(value), _))) => match value.as_ref() {
            ScalarValue::Str(kind) => kind.to_string(),
            _ => return Err(malformed("header field kind is not text")),
        },
        _ => return Err(malformed("no kind in header")),
    };
    let schema = match doc.get(ROOT, "schema") {
        Ok(Some((Value::Scalar(value), _))) => match value.as_ref() {
            ScalarValue::Uint(v) => *v,
            ScalarValue::Int(v) if *v >= 0 => *v as u64,
            _ => return Err(malformed("header field schema is not a version number")),
        },
        _ => return Err(malformed("no schema in header")),
    };
    Ok(Header { kind, schema })
}

/// Checks that a document is a readable `T`: right kind, schema not newer than this code.
pub fn check_header<T: DocumentModel>(id: &DocumentId, doc: &impl ReadDoc) -> Result<()> {
    let header = header(id, doc)?;
    if header.kind != T::KIND.as_str() {
        return Err(Error::WrongKind { id: id.clone(), expected: T::KIND, found: header.kind });
    }
    if header.schema > T::SCHEMA {
        return Err(Error::NewerSchema {
            id: id.clone(),
            kind: header.kind,
            found: header.schema,
            supported: T::SCHEMA,
        });
    }
    Ok(())
}

/// Reads a typed document.
pub fn read<T: DocumentModel>(id: &DocumentId, doc: &Automerge) -> Result<T> {
    check_header::<T>(id, doc)?;
    autosurgeon::hydrate(doc).map_err(|e| Error::Malformed { id: id.clone(), reason: e.to_string() })
}

/// Creates a new document holding `value`, written by `actor`.
///
/// The value goes in first, while the document is still empty: autosurgeon then builds it as one
/// object tree (two splices of automerge's operation set, [`Transactable::init_root_from_hydrate`])
/// instead of a get and a put per field, which made creating an order review about 0.2 ms of the
/// relay's review of an order. The header follows, in the same change.
///
/// [`Transactable::init_root_from_hydrate`]: automerge::transaction::Transactable::init_root_from_hydrate
pub fn create<T: DocumentModel>(id: &DocumentId, actor: ActorId, value: &T) -> Result<Automerge> {
    let mut doc = Automerge::new().with_actor(actor);
    doc.transact(|tx| {
        autosurgeon::reconcile(tx, value).map_err(|e| e.to_string())?;
        tx.put(ROOT, "kind", T::KIND.as_str()).map_err(|e| e.to_string())?;
        tx.put(ROOT, "schema", ScalarValue::Uint(T::SCHEMA)).map_err(|e| e.to_string())
    })
    .map_err(|failure| Error::Malformed { id: id.clone(), reason: failure.error })?;
    Ok(doc)
}

/// Applies `value` to an existing document in one automerge transaction, writing only what
/// differs. Returns whether anything changed.
pub fn update<T: DocumentModel>(id: &DocumentId, doc: &mut Automerge, value: &T) -> Result<bool> {
    check_header::<T>(id, doc)?;
    let before = doc.get_heads();
    let result = doc.transact(|tx| {
        let current = header(id, tx).map(|h| h.schema).unwrap_or(0);
        if current < T::SCHEMA {
            tx.put(ROOT, "schema", ScalarValue::Uint(T::SCHEMA)).map_err(|e| e.to_string())?;
        }
        autosurgeon::reconcile(tx, value).map_err(|e| e.to_string())
    });
    result.map_err(|failure| Error::Malformed { id: id.clone(), reason: failure.error })?;
    Ok(doc.get_heads() != before)
}

/// Declares [`AnyDoc`] with one variant per [`DocKind`], named alike, holding that kind's model.
macro_rules! any_doc {
    ($($kind:ident($model:ty)),* $(,)?) => {
        /// A document read as the kind its header names. One typed read serves everything that is
        /// derived from a document (its index columns, the relay's scope columns, read-model rows
        /// and events), instead of each hydrating it again.
        #[derive(Debug, Clone, PartialEq)]
        pub enum AnyDoc {
            $(
                #[allow(missing_docs)]
                $kind($model),
            )*
        }

        impl AnyDoc {
            /// Reads `doc` as the kind its header names. Fails as [`read`] does: an unknown kind
            /// is [`Error::InvalidInput`], a schema newer than this code [`Error::NewerSchema`].
            pub fn read(id: &DocumentId, doc: &Automerge) -> Result<Self> {
                let kind: DocKind = header(id, doc)?.kind.parse()?;
                Ok(match kind {
                    $(DocKind::$kind => Self::$kind(read(id, doc)?),)*
                })
            }

            /// [`AnyDoc::read`], or `None` for a kind this code does not know or a schema newer
            /// than it reads.
            pub fn read_known(id: &DocumentId, doc: &Automerge) -> Result<Option<Self>> {
                if header(id, doc)?.known_kind().is_none() {
                    return Ok(None);
                }
                match Self::read(id, doc) {
                    Ok(value) => Ok(Some(value)),
                    Err(Error::NewerSchema { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            }

            /// The document's kind.
            pub fn kind(&self) -> DocKind {
                match self {
                    $(Self::$kind(_) => DocKind::$kind,)*
                }
            }

            /// The document's index columns ([`DocumentModel::index_fields`]).
            pub fn index_fields(&self) -> IndexFields {
                match self {
                    $(Self::$kind(value) => value.index_fields(),)*
                }
            }
        }

        $(
            impl From<$model> for AnyDoc {
                fn from(value: $model) -> Self {
                    Self::$kind(value)
                }
            }
        )*
    };
}

any_doc! {
    Order(Order),
    OrderReview(OrderReview),
    Decision(Decision),
    Inspection(Inspection),
    InspectionScore(InspectionScore),
    Inventory(Inventory),
    Catalog(Catalog),
    Store(RetailStore),
    Template(Template),
    Inbox(Inbox),
}

/// The index columns of any document, found through its header. `None` for a kind this code
/// does not know or a schema newer than it reads: such documents are kept, but not listed.
///
/// A region's stock and the catalog hold thousands of entries and change often (every batch of
/// reviews moves reserved stock), and a phone indexes every change it receives: their index
/// columns are read from a few fields and the size of their big map, without hydrating it.
pub fn index_fields_of(id: &DocumentId, doc: &Automerge) -> Result<Option<(DocKind, IndexFields)>> {
    let light = match header(id, doc)?.known_kind() {
        Some(DocKind::Inventory) => light_index_fields::<Inventory>(id, doc, "levels", |doc| {
            Ok(IndexFields {
                status: Some(root_field(id, doc, "region")?),
                subject_id: Some(root_field(id, doc, "warehouse")?),
                updated_at: Some(root_field(id, doc, "as_of")?),
                ..IndexFields::default()
            })
        }),
        Some(DocKind::Catalog) => light_index_fields::<Catalog>(id, doc, "products", |doc| {
            Ok(IndexFields { updated_at: Some(root_field(id, doc, "updated_at")?), ..IndexFields::default() })
        }),
        _ => return Ok(AnyDoc::read_known(id, doc)?.map(|value| (value.kind(), value.index_fields()))),
    };
    match light {
        Ok(indexed) => Ok(Some(indexed)),
        Err(Error::NewerSchema { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The index columns of a `T` from `fields` and the number of entries in its map `counted`
/// (the `item_count` column), after checking the header as [`read`] does.
fn light_index_fields<T: DocumentModel>(
    id: &DocumentId,
    doc: &Automerge,
    counted: &str,
    fields: impl FnOnce(&Automerge) -> Result<IndexFields>,
) -> Result<(DocKind, IndexFields)> {
    check_header::<T>(id, doc)?;
    let count = match doc.get(ROOT, counted) {
        Ok(Some((Value::Object(automerge::ObjType::Map), obj))) => doc.length(&obj),
        _ => return Err(Error::Malformed { id: id.clone(), reason: format!("no {counted} map") }),
    };
    let mut indexed = fields(doc)?;
    indexed.item_count = i64::try_from(count).ok();
    Ok((T::KIND, indexed))
}

/// A field of a document's root map, typed.
fn root_field<V: Hydrate>(id: &DocumentId, doc: &Automerge, field: &str) -> Result<V> {
    autosurgeon::hydrate_prop(doc, &ROOT, field).map_err(|e| Error::Malformed { id: id.clone(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_stock_and_the_catalog_are_indexed_as_a_full_read_would_index_them() {
        use std::collections::BTreeMap;
        let level = |on_hand| StockLevel { on_hand, reserved: 2, safety: 5 };
        let inventory = Inventory {
            warehouse: "WH-N".into(),
            region: "north".into(),
            levels: BTreeMap::from([("SKU-1".into(), level(10)), ("SKU-2".into(), level(20))]),
            as_of: 1_700_000_000_000,
        };
        let product = Product {
            name: "Tea".into(),
            category: "beverages".into(),
            unit: "case".into(),
            base_price_cents: 1_200,
            active: true,
        };
        let catalog = Catalog::with_products(
            BTreeMap::from([
                ("SKU-1".into(), product.clone()),
                ("SKU-2".into(), product.clone()),
                ("SKU-3".into(), product),
            ]),
            1_700_000_000_001,
        );
        let id = DocumentId::random();
        let stock = create(&id, ActorId::random(), &inventory).unwrap();
        assert_eq!(index_fields_of(&id, &stock).unwrap(), Some((DocKind::Inventory, inventory.index_fields())));
        let prices = create(&id, ActorId::random(), &catalog).unwrap();
        assert_eq!(index_fields_of(&id, &prices).unwrap(), Some((DocKind::Catalog, catalog.index_fields())));

        // A newer schema is not indexed, and a stock document without its levels is malformed.
        let mut newer = stock.clone();
        newer.transact(|tx| tx.put(ROOT, "schema", ScalarValue::Uint(99))).unwrap();
        assert_eq!(index_fields_of(&id, &newer).unwrap(), None);
        let mut broken = stock;
        broken.transact(|tx| tx.delete(ROOT, "levels")).unwrap();
        assert!(matches!(index_fields_of(&id, &broken), Err(Error::Malformed { .. })));
    }

    /// A document as `create` built it before it built values in one tree: the header, then a
    /// get and a put per field.
    fn created_field_by_field<T: DocumentModel>(value: &T) -> Automerge {
        let mut doc = Automerge::new();
        doc.transact(|tx| {
            tx.put(ROOT, "kind", T::KIND.as_str()).map_err(|e| e.to_string())?;
            tx.put(ROOT, "schema", ScalarValue::Uint(T::SCHEMA)).map_err(|e| e.to_string())?;
            autosurgeon::reconcile(tx, value).map_err(|e| e.to_string())
        })
        .unwrap();
        doc
    }

    #[test]
    fn a_document_built_in_one_tree_holds_what_field_by_field_writes_would() {
        use crate::rules::code;
        use crate::rules::validation::order_finding;
        use std::collections::BTreeMap;

        let id = DocumentId::random();
        let step = ApprovalStep {
            role: "manager".into(),
            approver: "u-1".into(),
            on_behalf_of: None,
            rule: "amount over 5,000".into(),
            state: StepState::Pending,
            decided_at: None,
            reason: String::new(),
            sla: None,
        };
        let review = OrderReview {
            order_id: "o".into(),
            number: "N-000001".into(),
            owner: "rep".into(),
            store_id: "s".into(),
            submission: 2,
            reviewed_heads: vec!["ab".into(), "cd".into()],
            outcome: ReviewOutcome::NeedsApproval,
            findings: vec![order_finding(code::STOCK_UNKNOWN, Severity::Info, &[("region", "north")])],
            steps: vec![step.clone(), ApprovalStep { approver: "u-2".into(), ..step }],
            total_cents: 123_456,
            submitted_at: Some(1_700_000_000_000),
            reviewed_at: 1_700_000_000_500,
            decided_at: None,
        };
        let inventory = Inventory {
            warehouse: "WH-N".into(),
            region: "north".into(),
            levels: BTreeMap::from([("SKU-1".into(), StockLevel { on_hand: 10, reserved: 2, safety: 5 })]),
            as_of: 1,
        };
        let built = |doc: &Automerge| doc.hydrate(None);
        assert_eq!(built(&create(&id, ActorId::random(), &review).unwrap()), built(&created_field_by_field(&review)));
        assert_eq!(
            built(&create(&id, ActorId::random(), &inventory).unwrap()),
            built(&created_field_by_field(&inventory))
        );
        assert_eq!(
            built(&create(&id, ActorId::random(), &sample_store()).unwrap()),
            built(&created_field_by_field(&sample_store()))
        );
        // And it reads back as written, header included.
        let doc = create(&id, ActorId::random(), &review).unwrap();
        assert_eq!(read::<OrderReview>(&id, &doc).unwrap(), review);
        assert_eq!(header(&id, &doc).unwrap(), Header { kind: "order-review".into(), schema: OrderReview::SCHEMA });
    }

    fn sample_store() -> RetailStore {
        RetailStore::sample("Corner Market")
    }

    #[test]
    fn a_created_document_reads_back_as_written() {
        let id = DocumentId::random();
        let doc = create(&id, ActorId::random(), &sample_store()).unwrap();
        assert_eq!(read::<RetailStore>(&id, &doc).unwrap(), sample_store());
        assert_eq!(header(&id, &doc).unwrap(), Header { kind: "store".into(), schema: 1 });
    }

    #[test]
    fn reading_a_document_as_another_kind_is_an_error() {
        let id = DocumentId::random();
        let doc = create(&id, ActorId::random(), &sample_store()).unwrap();
        assert!(matches!(read::<Order>(&id, &doc), Err(Error::WrongKind { .. })));
    }

    #[test]
    fn a_newer_schema_is_reported_never_misread() {
        let id = DocumentId::random();
        let mut doc = create(&id, ActorId::random(), &sample_store()).unwrap();
        doc.transact(|tx| tx.put(ROOT, "schema", ScalarValue::Uint(99))).unwrap();
        match read::<RetailStore>(&id, &doc) {
            Err(Error::NewerSchema { found: 99, supported: 1, .. }) => {}
            other => panic!("expected NewerSchema, got {other:?}"),
        }
        assert_eq!(index_fields_of(&id, &doc).unwrap(), None);
    }

    #[test]
    fn an_update_that_changes_nothing_makes_no_change() {
        let id = DocumentId::random();
        let mut doc = create(&id, ActorId::random(), &sample_store()).unwrap();
        assert!(!update(&id, &mut doc, &sample_store()).unwrap());
        let mut moved = sample_store();
        moved.region = "south".into();
        assert!(update(&id, &mut doc, &moved).unwrap());
        assert_eq!(read::<RetailStore>(&id, &doc).unwrap().region, "south");
    }

    #[test]
    fn a_store_written_before_codes_and_geofences_existed_reads_with_empty_ones() {
        let id = DocumentId::random();
        let mut coded = sample_store();
        coded.code = "N-014".into();
        coded.geofence_m = 80.0;
        let mut doc = create(&id, ActorId::random(), &coded).unwrap();
        doc.transact(|tx| {
            tx.delete(ROOT, "code")?;
            tx.delete(ROOT, "geofence_m")
        })
        .unwrap();
        let read_back = read::<RetailStore>(&id, &doc).unwrap();
        assert_eq!((read_back.code.as_str(), read_back.geofence_m), ("", 0.0));
        assert_eq!(read_back, sample_store());
    }

    #[test]
    fn a_score_written_before_verdicts_existed_reads_as_review() {
        let id = DocumentId::random();
        let score = InspectionScore {
            inspection_id: "i".into(),
            owner: "o".into(),
            store_id: "s".into(),
            scored_heads: Vec::new(),
            scoring_version: 1,
            score: 80.0,
            verdict: Trust::Pass,
            items: Vec::new(),
            photos: Vec::new(),
            reasons: Vec::new(),
            reason_messages: Vec::new(),
            scored_at: 0,
        };
        let mut doc = create(&id, ActorId::random(), &score).unwrap();
        doc.transact(|tx| tx.delete(ROOT, "verdict")).unwrap();
        let old = read::<InspectionScore>(&id, &doc).unwrap();
        assert_eq!(old.verdict, Trust::Review, "nobody judged an old report");
        assert_eq!(old.score, 80.0);
    }

    #[test]
    fn a_review_and_a_score_written_before_codes_had_arguments_read_as_their_english_texts() {
        use crate::i18n::{Language, Message};
        use crate::rules::code;
        use crate::rules::validation::order_finding;

        // What a relay before codes wrote: a finding with its text only, reasons as strings.
        let finding = order_finding(code::STOCK_UNKNOWN, Severity::Info, &[("region", "north")]);
        let review = OrderReview {
            order_id: "o".into(),
            number: String::new(),
            owner: "rep".into(),
            store_id: "s".into(),
            submission: 1,
            reviewed_heads: Vec::new(),
            outcome: ReviewOutcome::Approved,
            findings: vec![finding],
            steps: Vec::new(),
            total_cents: 0,
            submitted_at: None,
            reviewed_at: 0,
            decided_at: None,
        };
        let id = DocumentId::random();
        let mut doc = create(&id, ActorId::random(), &review).unwrap();
        doc.transact(|tx| {
            let (_, findings) = tx.get(ROOT, "findings")?.expect("findings");
            let (_, first) = tx.get(&findings, 0)?.expect("a finding");
            tx.delete(&first, "args")?;
            tx.put(&first, "text", "stock not checked (old words)")
        })
        .unwrap();
        let old = read::<OrderReview>(&id, &doc).unwrap();
        assert_eq!(old.findings[0].args, None);
        assert_eq!(old.findings[0].text_in(Language::Chinese), "stock not checked (old words)");

        let score = InspectionScore {
            inspection_id: "i".into(),
            owner: "o".into(),
            store_id: "s".into(),
            scored_heads: Vec::new(),
            scoring_version: 1,
            score: 80.0,
            verdict: Trust::Pass,
            items: vec![ItemScore {
                item_id: "shelf".into(),
                weight: 1.0,
                earned: 1.0,
                reasons: vec!["answered yes".into()],
                reason_messages: vec![Message::new("reason-answered-yes")],
            }],
            photos: Vec::new(),
            reasons: vec!["verdict: pass".into()],
            reason_messages: vec![Message::new("reason-verdict").arg("verdict", "pass")],
            scored_at: 0,
        };
        let new = read::<InspectionScore>(&id, &create(&id, ActorId::random(), &score).unwrap()).unwrap();
        assert_eq!(new.reasons_in(Language::Chinese), ["结论：通过"]);
        assert_eq!(new.items[0].reasons_in(Language::Chinese), ["回答“是”"]);
        let mut doc = create(&id, ActorId::random(), &score).unwrap();
        doc.transact(|tx| {
            tx.delete(ROOT, "reason_messages")?;
            let (_, items) = tx.get(ROOT, "items")?.expect("items");
            let (_, first) = tx.get(&items, 0)?.expect("an item");
            tx.delete(&first, "reason_messages")
        })
        .unwrap();
        let old = read::<InspectionScore>(&id, &doc).unwrap();
        assert!(old.reason_messages.is_empty());
        assert_eq!(old.reasons_in(Language::Chinese), ["verdict: pass"]);
        assert_eq!(old.items[0].reasons_in(Language::Chinese), ["answered yes"]);
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in DocKind::ALL {
            assert_eq!(kind.as_str().parse::<DocKind>().unwrap(), kind);
        }
        assert!("invoice".parse::<DocKind>().is_err());
    }
}
