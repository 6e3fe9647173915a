//! The small relay the relay targets run against: tenant `acme` with an HQ user (`hana`), a rep
//! (`ravi`, region north, one device) and a supervisor (`sofia`), a catalog of two products, one
//! store of ravi's and one order of ravi's for it.
//!
//! It is seeded once per process and kept as the files of its data directory; every input gets
//! a fresh copy ([`FuzzRelay::fresh`]), so an input does the same thing each time it runs and
//! nothing one input stored changes what the next one sees.
//!
//! Everything the checked-in seeds depend on is fixed: ravi's user id, the ids of the store and
//! the order, the actor of ravi's phone, and the order's first change (made at a fixed time), so
//! a push of changes made on top of [`order`] still builds on the stored order in every process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ROOT, ScalarValue};
use fieldsync_core::doc::{Catalog, DocKind, DocumentModel, Order, OrderLine, OrderStatus, Product, RetailStore};
use fieldsync_core::{DocumentId, Role};
use fieldsync_server::AppState;
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::documents;
use fieldsync_server::services::accounts::Caller;
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::sync::admit::{Incoming, Verdict, admit};

use crate::{read_tree, temp_dir, write_tree};

/// The tenant.
pub const TENANT: &str = "acme";
/// ravi's user id (fixed: the order names its owner).
pub const REP_ID: &str = "f0220000000000000000000000000001";
/// ravi's region.
pub const REGION: &str = "north";
/// The time of every change the fixture and the seeds make (ms since the Unix epoch).
pub const CHANGE_TIME: i64 = 1_767_225_600_000;
/// Password of every user.
const PASSWORD: &str = "correct horse battery";

/// The id of ravi's store.
pub fn store_id() -> DocumentId {
    DocumentId::from_bytes([0x57; 16])
}

/// The id of ravi's stored order.
pub fn order_id() -> DocumentId {
    DocumentId::from_bytes([0x0d; 16])
}

/// The id pushes of a new document use.
pub fn new_doc_id() -> DocumentId {
    DocumentId::from_bytes([0x4e; 16])
}

/// The actor of ravi's phone.
pub fn rep_actor() -> ActorId {
    ActorId::from([0xa1; 16].as_slice())
}

/// The order as first stored: a draft with one line.
pub fn order_value() -> Order {
    let line = OrderLine { sku: "SKU-1".to_owned(), qty: 6, unit_price_cents: 1200, discount_bp: 0, position: 0 };
    Order {
        owner: REP_ID.to_owned(),
        store_id: store_id().to_string(),
        customer_id: "C-1".to_owned(),
        status: OrderStatus::Draft,
        lines: BTreeMap::from([("line-1".to_owned(), line)]),
        notes: String::new(),
        created_at: CHANGE_TIME,
        updated_at: CHANGE_TIME,
        submitted_at: None,
        submission: 0,
    }
}

/// The stored order as ravi's phone holds it: one change by [`rep_actor`] at [`CHANGE_TIME`].
pub fn order() -> Automerge {
    let mut doc = Automerge::new().with_actor(rep_actor());
    write(&mut doc, |tx| {
        tx.put(ROOT, "kind", Order::KIND.as_str())?;
        tx.put(ROOT, "schema", ScalarValue::Uint(Order::SCHEMA))?;
        Ok(())
    });
    edit(&mut doc, &order_value());
    doc
}

/// Writes `value` over a document in one change at [`CHANGE_TIME`].
pub fn edit<T: DocumentModel>(doc: &mut Automerge, value: &T) {
    let reconciled =
        doc.transact_with(|_| CommitOptions::default().with_time(CHANGE_TIME), |tx| autosurgeon::reconcile(tx, value));
    reconciled.expect("reconcile a fixture value");
}

/// Runs `f` in one change at [`CHANGE_TIME`].
pub fn write(
    doc: &mut Automerge,
    f: impl FnOnce(&mut automerge::transaction::Transaction<'_>) -> Result<(), automerge::AutomergeError>,
) {
    doc.transact_with(|_| CommitOptions::default().with_time(CHANGE_TIME), f).expect("fixture change");
}

/// A fresh copy of the seeded relay in a temporary directory.
pub struct FuzzRelay {
    /// The relay's state.
    pub state: AppState,
    /// The tenant's numeric id.
    pub tenant_id: i64,
    /// ravi on his phone.
    pub rep: Caller,
    /// Holds the data directory; the relay's files are under `relay/`.
    pub dir: tempfile::TempDir,
}

struct Template {
    files: Vec<(PathBuf, Vec<u8>)>,
    tenant_id: i64,
    rep: Caller,
}

/// The runtime every input runs on (one thread: inputs run one at a time).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime"))
}

impl FuzzRelay {
    /// A copy of the seeded relay, as it was before any input.
    pub fn fresh() -> Self {
        let template = template();
        let dir = temp_dir();
        let data = dir.path().join("relay");
        write_tree(&data, &template.files);
        let state = open(&data);
        Self { state, tenant_id: template.tenant_id, rep: template.rep.clone(), dir }
    }

    /// Admits `incoming` for document `id` as ravi's phone.
    pub fn admit(&self, id: &DocumentId, incoming: Incoming<'_>) -> fieldsync_server::Result<Verdict> {
        runtime().block_on(admit(&self.state, &self.rep, id, incoming))
    }

    /// The stored document `id`, if any.
    pub fn stored(&self, id: &DocumentId) -> Option<fieldsync_server::storage::StoredDoc> {
        runtime().block_on(self.state.storage.load_doc(self.tenant_id, id)).expect("load a stored document")
    }
}

fn open(data: &Path) -> AppState {
    let mut config = Config::new(data);
    config.password_cost = PasswordCost::insecure_for_tests();
    config.open_state().expect("open the fuzz relay")
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| runtime().block_on(seed()))
}

async fn seed() -> Template {
    let dir = temp_dir();
    let data = dir.path().join("relay");
    let state = open(&data);
    let storage = state.storage.as_ref();
    let tenant = accounts::create_tenant(storage, TENANT).await.expect("tenant");
    for (username, role, region) in
        [("hana", Role::Hq, None), ("ravi", Role::Rep, Some(REGION)), ("sofia", Role::Supervisor, Some(REGION))]
    {
        let account = NewAccount { tenant: TENANT, username, display_name: "", password: PASSWORD, role, region };
        accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.expect("user");
    }
    drop(state);
    // User ids are random; the order names ravi as its owner, so his id is fixed for the seeds.
    let connection = rusqlite::Connection::open(Config::new(&data).database_path()).expect("open the database");
    connection.execute("UPDATE users SET id = ?1 WHERE username = 'ravi'", [REP_ID]).expect("fix the rep's user id");
    drop(connection);

    let state = open(&data);
    let storage = state.storage.as_ref();
    let sofia = storage.find_user_by_username(tenant.id, "sofia").await.expect("find sofia").expect("sofia");
    let device = storage.register_device(tenant.id, REP_ID, "ravi's phone", CHANGE_TIME).await.expect("device");
    let product = |name: &str| Product {
        name: name.to_owned(),
        category: "drinks".to_owned(),
        unit: "case of 12".to_owned(),
        base_price_cents: 1200,
        active: true,
    };
    let catalog = Catalog::with_products(
        BTreeMap::from([("SKU-1".to_owned(), product("Cola")), ("SKU-2".to_owned(), product("Lemonade"))]),
        0,
    );
    documents::create_as_relay(storage, tenant.id, &catalog).await.expect("catalog");
    let store = RetailStore {
        name: "Corner Shop".to_owned(),
        code: String::new(),
        address: "1 Main St".to_owned(),
        customer_id: "C-1".to_owned(),
        region: REGION.to_owned(),
        tier: "A".to_owned(),
        latitude: 52.0,
        longitude: 4.0,
        geofence_m: 0.0,
        rep: REP_ID.to_owned(),
        supervisor: sofia.id,
        active: true,
    };
    documents::create_as_relay_with_id(storage, tenant.id, &store_id(), &store).await.expect("store");
    let rep = Caller {
        tenant_id: tenant.id,
        tenant: TENANT.to_owned(),
        user_id: REP_ID.to_owned(),
        username: "ravi".to_owned(),
        role: Role::Rep,
        region: Some(REGION.to_owned()),
        device_id: device.id,
        device_unsynced_docs: None,
        key: None,
    };
    let verdict = admit(&state, &rep, &order_id(), Incoming::Changes(&order().save())).await.expect("admit the order");
    assert_eq!(verdict, Verdict::Accepted { reply: None }, "the fixture's order is admitted");
    assert_eq!(
        storage.load_doc(tenant.id, &order_id()).await.expect("load").map(|d| d.meta.kind),
        Some(DocKind::Order)
    );
    drop(state);
    let mut files = Vec::new();
    read_tree(&data, Path::new(""), &mut files);
    Template { files, tenant_id: tenant.id, rep }
}
