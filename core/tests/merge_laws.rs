//! Merge laws of every document kind: merging commutes, is idempotent and associative, and
//! replicas that edit concurrently and exchange changes in any order, by any transport automerge
//! offers, converge to one document that still reads as a valid typed value. Then one
//! deterministic test per merge rule that a user relies on, as each kind's module documents it.
//!
//! Everything is seeded: actor ids, document ids and edits all derive from the proptest input,
//! so a failure replays exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;

use automerge::{ActorId, Automerge, ChangeHash, ReadDoc};
use fieldsync_core::DocumentId;
use fieldsync_core::DocumentModel;
use fieldsync_core::doc::{
    self, Alert, AlertState, Answer, AnswerValue, ApprovalStep, Catalog, Decision, DiscountPolicy, Finding, GeoFix,
    Inbox, Inspection, InspectionScore, InspectionStatus, Inventory, ItemScore, Order, OrderLine, OrderReview,
    OrderStatus, PhotoAssessment, PhotoRef, PriceBreak, PriceList, Product, Promotion, RetailStore, ReviewOutcome,
    Severity, StepState, StockLevel, Template, TemplateItem, Trust, Verdict, Visit,
};
use fieldsync_core::i18n::Message;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------------------------------------
// The generic machinery: a typed value, a random edit of it, and the laws.
// ---------------------------------------------------------------------------------------------

/// A document kind under test: a base value and a random edit of the kind a real writer makes.
trait Model: DocumentModel + PartialEq {
    fn base() -> Self;
    fn mutate(&mut self, rng: &mut StdRng);
}

/// What two replicas must agree on to be the same document.
#[derive(Debug, PartialEq)]
struct State<T> {
    heads: Vec<ChangeHash>,
    tree: automerge::hydrate::Value,
    value: T,
}

fn state<T: Model>(id: &DocumentId, doc: &Automerge) -> State<T> {
    let mut heads = doc.get_heads();
    heads.sort();
    let value = doc::read::<T>(id, doc).unwrap_or_else(|e| panic!("merged document no longer reads: {e}"));
    State { heads, tree: doc.hydrate(None), value }
}

fn actor(seed: u64, replica: u8) -> ActorId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[15] = replica;
    ActorId::from(bytes)
}

fn doc_id(seed: u64) -> DocumentId {
    let mut bytes = [0u8; 16];
    bytes[8..].copy_from_slice(&seed.to_be_bytes());
    DocumentId::from_bytes(bytes)
}

/// Replica `n` of `base`: a fork for even `n`, a load of the saved bytes for odd `n`, each with
/// its own actor.
fn replica(base: &Automerge, seed: u64, n: u8) -> Automerge {
    if n.is_multiple_of(2) {
        let mut doc = base.fork();
        doc.set_actor(actor(seed, n));
        doc
    } else {
        Automerge::load(&base.save()).unwrap().with_actor(actor(seed, n))
    }
}

/// One edit the way the store makes it: read the typed value, change it, reconcile it back.
fn edit<T: Model>(id: &DocumentId, doc: &mut Automerge, op: u64) {
    let mut value: T = doc::read(id, doc).unwrap();
    value.mutate(&mut StdRng::seed_from_u64(op));
    doc::update(id, doc, &value).unwrap();
    assert_eq!(doc::read::<T>(id, doc).unwrap(), value, "an update reads back exactly as written");
}

fn merged(a: &Automerge, b: &Automerge) -> Automerge {
    let mut out = a.clone();
    out.merge(&mut b.clone()).unwrap();
    out
}

/// Brings `src`'s changes into `dst` by one of the three transports automerge offers.
fn pull(dst: &mut Automerge, src: &Automerge, transport: u8) {
    match transport % 3 {
        0 => {
            dst.merge(&mut src.clone()).unwrap();
        }
        1 => {
            dst.load_incremental(&src.save()).unwrap();
        }
        _ => {
            // What `src` is told `dst` has: the heads of `dst` that `src` knows. Anything resent
            // is a duplicate, which loading must ignore.
            let known: Vec<ChangeHash> =
                dst.get_heads().into_iter().filter(|h| src.get_change_by_hash(h).is_some()).collect();
            dst.load_incremental(&src.save_after(&known)).unwrap();
        }
    }
}

fn laws<T: Model>(seed: u64, edits: &[Vec<u64>; 3]) {
    let id = doc_id(seed);
    let base = doc::create(&id, actor(seed, 0), &T::base()).unwrap();
    let [a, b, c] = [0u8, 1, 2].map(|n| {
        let mut doc = replica(&base, seed, n + 1);
        for op in &edits[n as usize] {
            edit::<T>(&id, &mut doc, *op);
        }
        doc
    });

    let ab = merged(&a, &b);
    assert_eq!(state::<T>(&id, &ab), state::<T>(&id, &merged(&b, &a)), "a⊔b == b⊔a");
    assert_eq!(state::<T>(&id, &merged(&a, &a)), state::<T>(&id, &a), "a⊔a == a");
    assert_eq!(state::<T>(&id, &merged(&ab, &b)), state::<T>(&id, &ab), "(a⊔b)⊔b == a⊔b");
    assert_eq!(state::<T>(&id, &merged(&ab, &c)), state::<T>(&id, &merged(&a, &merged(&b, &c))), "(a⊔b)⊔c == a⊔(b⊔c)");
    // Every replica's own edits are in the merge: nothing a device wrote is silently dropped
    // from the history (values may lose a conflict, changes never disappear).
    for (name, doc) in [("a", &a), ("b", &b), ("c", &c)] {
        let all = merged(&ab, &c);
        for head in doc.get_heads() {
            assert!(all.get_change_by_hash(&head).is_some(), "{name}'s head {head} is in the merge");
        }
    }
}

/// One step of a simulated session: replica `at` edits, or pulls from replica `from`.
#[derive(Debug, Clone)]
enum Step {
    Edit { at: usize, op: u64 },
    Pull { at: usize, from: usize, transport: u8 },
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        3 => (0usize..3, any::<u64>()).prop_map(|(at, op)| Step::Edit { at, op }),
        2 => (0usize..3, 0usize..3, 0u8..3).prop_map(|(at, from, transport)| Step::Pull { at, from, transport }),
    ];
    prop::collection::vec(step, 1..24)
}

fn converge<T: Model>(seed: u64, replicas: usize, steps: &[Step]) {
    let id = doc_id(seed);
    let base = doc::create(&id, actor(seed, 0), &T::base()).unwrap();
    let mut docs: Vec<Automerge> = (0..replicas).map(|n| replica(&base, seed, n as u8 + 1)).collect();
    for step in steps {
        match *step {
            Step::Edit { at, op } => edit::<T>(&id, &mut docs[at % replicas], op),
            Step::Pull { at, from, transport } => {
                let (at, from) = (at % replicas, from % replicas);
                if at != from {
                    let src = docs[from].clone();
                    pull(&mut docs[at], &src, transport);
                }
            }
        }
    }
    let everything = docs.iter().skip(1).fold(docs[0].clone(), |acc, doc| merged(&acc, doc));

    // Every ordered pair once, in a seeded order and with a seeded transport: enough for every
    // replica to have every other's changes.
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pairs: Vec<(usize, usize)> =
        (0..replicas).flat_map(|a| (0..replicas).map(move |b| (a, b))).filter(|(a, b)| a != b).collect();
    for i in (1..pairs.len()).rev() {
        pairs.swap(i, rng.random_range(0..=i));
    }
    for (at, from) in pairs {
        let src = docs[from].clone();
        pull(&mut docs[at], &src, rng.random_range(0..3));
    }

    let expected = state::<T>(&id, &everything);
    for (n, doc) in docs.iter().enumerate() {
        assert_eq!(state::<T>(&id, doc), expected, "replica {n} converged to the merge of all replicas");
    }
    // The converged document is still a document a writer can keep editing.
    let mut next = docs[0].clone();
    edit::<T>(&id, &mut next, seed);
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 40, max_shrink_iters: 2_000, ..ProptestConfig::default() }
}

fn edit_lists() -> impl Strategy<Value = [Vec<u64>; 3]> {
    let ops = || prop::collection::vec(any::<u64>(), 0..6);
    (ops(), ops(), ops()).prop_map(|(a, b, c)| [a, b, c])
}

macro_rules! merge_laws_for {
    ($($module:ident: $ty:ty),* $(,)?) => {$(
        mod $module {
            use super::*;

            proptest! {
                #![proptest_config(config())]

                #[test]
                fn merging_commutes_is_idempotent_and_associative(seed in any::<u64>(), edits in edit_lists()) {
                    laws::<$ty>(seed, &edits);
                }

                #[test]
                fn replicas_editing_concurrently_converge_in_any_exchange_order(
                    seed in any::<u64>(),
                    replicas in 2usize..=3,
                    steps in steps(),
                ) {
                    converge::<$ty>(seed, replicas, &steps);
                }
            }
        }
    )*};
}

merge_laws_for! {
    order: Order,
    order_review: OrderReview,
    decision: Decision,
    inspection: Inspection,
    inspection_score: InspectionScore,
    inventory: Inventory,
    catalog: Catalog,
    retail_store: RetailStore,
    template: Template,
    inbox: Inbox,
}

// ---------------------------------------------------------------------------------------------
// Per-kind base values and random edits. Small pools of keys and words make concurrent edits of
// the same line, item or field likely.
// ---------------------------------------------------------------------------------------------

const WORDS: [&str; 6] = ["", "ring twice", "back door", "pallet only", "cash", "ask for Sam"];
const T0: i64 = 1_700_000_000_000;

fn word(rng: &mut StdRng) -> String {
    WORDS[rng.random_range(0..WORDS.len())].to_owned()
}

fn time(rng: &mut StdRng) -> i64 {
    T0 + rng.random_range(0..10_000_000)
}

fn key(rng: &mut StdRng, prefix: &str, pool: u32) -> String {
    format!("{prefix}{}", rng.random_range(0..pool))
}

fn existing_key<V>(rng: &mut StdRng, map: &BTreeMap<String, V>) -> Option<String> {
    if map.is_empty() {
        return None;
    }
    map.keys().nth(rng.random_range(0..map.len())).cloned()
}

fn index<V>(rng: &mut StdRng, list: &[V]) -> Option<usize> {
    (!list.is_empty()).then(|| rng.random_range(0..list.len()))
}

fn fix(rng: &mut StdRng) -> GeoFix {
    GeoFix {
        latitude: f64::from(rng.random_range(-900..=900)) / 10.0,
        longitude: f64::from(rng.random_range(-1800..=1800)) / 10.0,
        accuracy_m: f64::from(rng.random_range(0..100)),
    }
}

fn order_line(rng: &mut StdRng) -> OrderLine {
    OrderLine {
        sku: key(rng, "SKU-", 5),
        qty: rng.random_range(1..100),
        unit_price_cents: rng.random_range(0..10_000),
        discount_bp: rng.random_range(0..=10_000),
        position: rng.random_range(0..10),
    }
}

impl Model for Order {
    fn base() -> Self {
        let line = |sku: &str, qty, position| OrderLine {
            sku: sku.into(),
            qty,
            unit_price_cents: 1000,
            discount_bp: 0,
            position,
        };
        Order {
            owner: "rep-1".into(),
            store_id: "store-1".into(),
            customer_id: "CUST-1".into(),
            status: OrderStatus::Draft,
            lines: BTreeMap::from([("L0".into(), line("SKU-1", 2, 0)), ("L1".into(), line("SKU-2", 5, 1))]),
            notes: String::new(),
            created_at: T0,
            updated_at: T0,
            submitted_at: None,
            submission: 0,
        }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..9) {
            0 => self.status = if rng.random() { OrderStatus::Draft } else { OrderStatus::Submitted },
            1 => self.notes = word(rng),
            2 => self.submitted_at = rng.random::<bool>().then(|| time(rng)),
            3 => self.submission += 1,
            4 | 5 => {
                let line = order_line(rng);
                self.lines.insert(key(rng, "L", 6), line);
            }
            6 => {
                if let Some(k) = existing_key(rng, &self.lines) {
                    self.lines.remove(&k);
                }
            }
            _ => {
                if let Some(k) = existing_key(rng, &self.lines) {
                    let line = self.lines.get_mut(&k).unwrap();
                    match rng.random_range(0..3) {
                        0 => line.qty = rng.random_range(1..100),
                        1 => line.discount_bp = rng.random_range(0..=10_000),
                        _ => line.sku = key(rng, "SKU-", 5),
                    }
                }
            }
        }
        self.updated_at = time(rng);
    }
}

fn finding(rng: &mut StdRng) -> Finding {
    Finding {
        code: ["price-below-floor", "insufficient-stock", "discount-too-high"][rng.random_range(0..3)].into(),
        line_id: rng.random::<bool>().then(|| key(rng, "L", 6)),
        severity: [Severity::Info, Severity::Warning, Severity::Error][rng.random_range(0..3)],
        text: word(rng),
        args: rng.random::<bool>().then(|| [("line".to_owned(), word(rng))].into()),
    }
}

fn approval_step(rng: &mut StdRng) -> ApprovalStep {
    ApprovalStep {
        on_behalf_of: None,
        role: ["manager", "hq"][rng.random_range(0..2)].into(),
        approver: key(rng, "mgr-", 3),
        rule: word(rng),
        state: StepState::Pending,
        decided_at: None,
        reason: String::new(),
        sla: None,
    }
}

impl Model for OrderReview {
    fn base() -> Self {
        let mut rng = StdRng::seed_from_u64(1);
        OrderReview {
            number: "N-000001".into(),
            order_id: "order-1".into(),
            owner: "rep-1".into(),
            store_id: "store-1".into(),
            submission: 1,
            reviewed_heads: vec!["aa".into()],
            outcome: ReviewOutcome::NeedsApproval,
            findings: vec![finding(&mut rng)],
            steps: vec![approval_step(&mut rng), approval_step(&mut rng)],
            total_cents: 12_000,
            submitted_at: Some(T0),
            reviewed_at: T0,
            decided_at: None,
        }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..8) {
            0 => {
                self.outcome = [ReviewOutcome::Approved, ReviewOutcome::NeedsApproval, ReviewOutcome::Rejected]
                    [rng.random_range(0..3)]
            }
            1 => self.findings.push(finding(rng)),
            2 => {
                if let Some(i) = index(rng, &self.findings) {
                    self.findings.remove(i);
                }
            }
            3 => {
                if let Some(i) = index(rng, &self.steps) {
                    let step = &mut self.steps[i];
                    step.state = [StepState::Pending, StepState::Approved, StepState::Rejected][rng.random_range(0..3)];
                    step.decided_at = Some(time(rng));
                    step.reason = word(rng);
                }
            }
            4 => self.steps.push(approval_step(rng)),
            5 => {
                self.submission += 1;
                self.reviewed_heads =
                    (0..rng.random_range(1..3)).map(|_| format!("{:x}", rng.random::<u32>())).collect();
                self.reviewed_at = time(rng);
            }
            6 => self.total_cents = rng.random_range(0..100_000),
            _ => self.decided_at = rng.random::<bool>().then(|| time(rng)),
        }
    }
}

impl Model for Decision {
    fn base() -> Self {
        Decision {
            order_id: "order-1".into(),
            step: 0,
            submission: 1,
            approver: "mgr-1".into(),
            verdict: Verdict::Approve,
            reason: String::new(),
            decided_at: T0,
        }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..4) {
            0 => self.verdict = if rng.random() { Verdict::Approve } else { Verdict::Reject },
            1 => self.reason = word(rng),
            2 => self.step = rng.random_range(0..3),
            _ => {}
        }
        self.decided_at = time(rng);
    }
}

fn answer(rng: &mut StdRng) -> Answer {
    Answer {
        id: key(rng, "answer-", 1_000_000),
        value: [AnswerValue::Yes, AnswerValue::No, AnswerValue::NotApplicable][rng.random_range(0..3)],
        count: rng.random::<bool>().then(|| rng.random_range(0..20)),
        note: word(rng),
        answered_at: time(rng),
    }
}

fn photo(rng: &mut StdRng) -> PhotoRef {
    let sha256 = format!("{:064x}", rng.random_range(0..8u32));
    PhotoRef {
        sha256,
        item_id: key(rng, "item-", 4),
        byte_size: rng.random_range(1_000..500_000),
        width: 1600,
        height: 1200,
        captured_at: time(rng),
        position: rng.random::<bool>().then(|| fix(rng)),
        phash: format!("{:016x}", rng.random::<u64>()),
        original: None,
        measured: None,
    }
}

impl Model for Inspection {
    fn base() -> Self {
        let mut rng = StdRng::seed_from_u64(2);
        Inspection {
            owner: "sup-1".into(),
            store_id: "store-1".into(),
            template_id: "template-1".into(),
            status: InspectionStatus::Open,
            check_in: Visit { at: T0, position: fix(&mut rng) },
            check_out: None,
            answers: BTreeMap::from([("item-0".into(), answer(&mut rng))]),
            photos: BTreeMap::new(),
            updated_at: T0,
            promotions_started: Default::default(),
        }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..8) {
            0 => self.status = if rng.random() { InspectionStatus::Open } else { InspectionStatus::CheckedOut },
            1 => self.check_out = rng.random::<bool>().then(|| Visit { at: time(rng), position: fix(rng) }),
            2 | 3 => {
                let answer = answer(rng);
                self.answers.insert(key(rng, "item-", 4), answer);
            }
            4 => {
                if let Some(k) = existing_key(rng, &self.answers) {
                    self.answers.remove(&k);
                }
            }
            5 => {
                let photo = photo(rng);
                self.photos.insert(photo.sha256.clone(), photo);
            }
            6 => {
                if let Some(k) = existing_key(rng, &self.photos) {
                    self.photos.remove(&k);
                }
            }
            _ => self.check_in.position = fix(rng),
        }
        self.updated_at = time(rng);
    }
}

impl Model for InspectionScore {
    fn base() -> Self {
        InspectionScore {
            inspection_id: "inspection-1".into(),
            owner: "sup-1".into(),
            store_id: "store-1".into(),
            scored_heads: vec!["bb".into()],
            scoring_version: 1,
            score: 75.0,
            verdict: fieldsync_core::doc::Trust::Review,
            items: vec![ItemScore {
                item_id: "item-0".into(),
                weight: 3.0,
                earned: 3.0,
                reasons: vec![],
                reason_messages: vec![],
            }],
            photos: vec![],
            reasons: vec!["visit shorter than 5 minutes".into()],
            reason_messages: vec![Message::new("reason-not-answered")],
            scored_at: T0,
        }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..8) {
            0 => self.score = f64::from(rng.random_range(0..=1000)) / 10.0,
            1 => self.items.push(ItemScore {
                item_id: key(rng, "item-", 4),
                weight: f64::from(rng.random_range(1..4)),
                earned: f64::from(rng.random_range(0..4)),
                reasons: vec![word(rng)],
                reason_messages: vec![Message::new(word(rng)).arg("n", word(rng))],
            }),
            2 => {
                if let Some(i) = index(rng, &self.items) {
                    self.items.remove(i);
                }
            }
            3 => {
                if let Some(i) = index(rng, &self.items) {
                    self.items[i].earned = f64::from(rng.random_range(0..4));
                    self.items[i].reasons.push(word(rng));
                }
            }
            4 => self.photos.push(PhotoAssessment {
                sha256: format!("{:064x}", rng.random_range(0..8u32)),
                quality: f64::from(rng.random_range(0..=100)),
                trust: [Trust::Pass, Trust::Review, Trust::Rejected][rng.random_range(0..3)],
                reasons: vec![word(rng)],
                reason_messages: vec![Message::new(word(rng)).arg("n", word(rng))],
            }),
            5 => {
                if let Some(i) = index(rng, &self.photos) {
                    self.photos.remove(i);
                }
            }
            6 => {
                if rng.random() {
                    self.reasons.push(word(rng));
                } else if let Some(i) = index(rng, &self.reasons) {
                    self.reasons.remove(i);
                }
            }
            _ => {
                self.scoring_version += 1;
                self.scored_heads = vec![format!("{:x}", rng.random::<u32>())];
            }
        }
        self.scored_at = time(rng);
    }
}

impl Model for Inventory {
    fn base() -> Self {
        Inventory {
            warehouse: "WH-1".into(),
            region: "north".into(),
            levels: BTreeMap::from([
                ("SKU-0".into(), StockLevel { on_hand: 100, reserved: 10, safety: 20 }),
                ("SKU-1".into(), StockLevel { on_hand: 5, reserved: 0, safety: 10 }),
            ]),
            as_of: T0,
        }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..5) {
            0 | 1 => {
                let level = StockLevel {
                    on_hand: rng.random_range(0..500),
                    reserved: rng.random_range(0..50),
                    safety: rng.random_range(0..50),
                };
                self.levels.insert(key(rng, "SKU-", 6), level);
            }
            2 => {
                if let Some(k) = existing_key(rng, &self.levels) {
                    self.levels.remove(&k);
                }
            }
            3 => {
                if let Some(k) = existing_key(rng, &self.levels) {
                    let level = self.levels.get_mut(&k).unwrap();
                    match rng.random_range(0..3) {
                        0 => level.on_hand = rng.random_range(0..500),
                        1 => level.reserved = rng.random_range(0..50),
                        _ => level.safety = rng.random_range(0..50),
                    }
                }
            }
            _ => self.region = ["north", "south", "east"][rng.random_range(0..3)].into(),
        }
        self.as_of = time(rng);
    }
}

fn product(rng: &mut StdRng) -> Product {
    Product {
        name: word(rng),
        category: ["drinks", "snacks", "coffee"][rng.random_range(0..3)].into(),
        unit: "case".into(),
        base_price_cents: rng.random_range(100..10_000),
        active: rng.random(),
    }
}

impl Model for Catalog {
    fn base() -> Self {
        let mut rng = StdRng::seed_from_u64(3);
        Catalog {
            products: BTreeMap::from([("SKU-0".into(), product(&mut rng)), ("SKU-1".into(), product(&mut rng))]),
            price_lists: BTreeMap::from([(
                "PL-0".into(),
                PriceList {
                    tier: "B".into(),
                    region: String::new(),
                    prices: BTreeMap::from([(
                        "SKU-0".into(),
                        vec![
                            PriceBreak { min_qty: 1, unit_price_cents: 1000 },
                            PriceBreak { min_qty: 10, unit_price_cents: 900 },
                        ],
                    )]),
                },
            )]),
            customer_prices: BTreeMap::new(),
            promotions: BTreeMap::new(),
            discount_policy: DiscountPolicy {
                max_discount_bp: BTreeMap::from([("*/*".into(), 1500)]),
                min_order_cents: 0,
            },
            approval_policy: None,
            version: 1,
            updated_at: T0,
        }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..10) {
            0 => {
                let product = product(rng);
                self.products.insert(key(rng, "SKU-", 5), product);
            }
            1 => {
                if let Some(k) = existing_key(rng, &self.products) {
                    self.products.remove(&k);
                }
            }
            2 => {
                if let Some(k) = existing_key(rng, &self.products) {
                    let product = self.products.get_mut(&k).unwrap();
                    if rng.random() {
                        product.base_price_cents = rng.random_range(100..10_000);
                    } else {
                        product.active = !product.active;
                    }
                }
            }
            3 => {
                let list = key(rng, "PL-", 3);
                let sku = key(rng, "SKU-", 5);
                let breaks = self.price_lists.entry(list).or_insert_with(|| PriceList {
                    tier: String::new(),
                    region: "north".into(),
                    prices: BTreeMap::new(),
                });
                let min_qty = rng.random_range(1..50);
                let unit_price_cents = rng.random_range(100..10_000);
                breaks.prices.entry(sku).or_default().push(PriceBreak { min_qty, unit_price_cents });
            }
            4 => {
                if let Some(k) = existing_key(rng, &self.price_lists) {
                    self.price_lists.remove(&k);
                }
            }
            5 => {
                let customer = key(rng, "CUST-", 3);
                let sku = key(rng, "SKU-", 5);
                let price = rng.random_range(100..10_000);
                self.customer_prices.entry(customer).or_default().insert(sku, price);
            }
            6 => {
                let id = key(rng, "PROMO-", 3);
                let sku = key(rng, "SKU-", 5);
                let promotion = self.promotions.entry(id).or_insert_with(|| Promotion {
                    name: "Summer".into(),
                    starts_at: T0,
                    ends_at: T0 + 86_400_000,
                    skus: vec![],
                    categories: vec![],
                    stores: vec![],
                    regions: vec![],
                    discount_bp: 500,
                    priority: 0,
                    stackable: false,
                });
                if rng.random() {
                    promotion.skus.push(sku);
                } else if let Some(i) = index(rng, &promotion.skus) {
                    promotion.skus.remove(i);
                }
                promotion.discount_bp = rng.random_range(0..3000);
            }
            7 => {
                if let Some(k) = existing_key(rng, &self.promotions) {
                    self.promotions.remove(&k);
                }
            }
            8 => {
                let scope = format!("{}/{}", ["A", "B", "*"][rng.random_range(0..3)], "*");
                self.discount_policy.max_discount_bp.insert(scope, rng.random_range(0..3000));
                self.discount_policy.min_order_cents = rng.random_range(0..10_000);
            }
            _ => self.version += 1,
        }
        self.updated_at = time(rng);
    }
}

impl Model for RetailStore {
    fn base() -> Self {
        RetailStore {
            name: "Corner Market".into(),
            code: String::new(),
            address: "1 Market Square".into(),
            customer_id: "CUST-1".into(),
            region: "north".into(),
            tier: "B".into(),
            latitude: 52.37,
            longitude: 4.89,
            geofence_m: 0.0,
            rep: "rep-1".into(),
            supervisor: "sup-1".into(),
            active: true,
        }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..7) {
            0 => self.name = word(rng),
            1 => self.address = word(rng),
            2 => self.tier = ["A", "B", "C"][rng.random_range(0..3)].into(),
            3 => {
                let fix = fix(rng);
                self.latitude = fix.latitude;
                self.longitude = fix.longitude;
            }
            4 => self.rep = key(rng, "rep-", 3),
            5 => self.supervisor = key(rng, "sup-", 3),
            _ => self.active = !self.active,
        }
    }
}

fn template_item(text: &str, position: i64) -> TemplateItem {
    TemplateItem { text: text.into(), weight: 1.0, requires_photo: false, position }
}

impl Model for Template {
    fn base() -> Self {
        Template {
            name: "Shelf standard".into(),
            version: 1,
            items: [
                ("facings", template_item("At least 4 facings", 0)),
                ("price-tags", template_item("Every product has a price tag", 1)),
                ("promo-display", template_item("The promotion display is up", 2)),
            ]
            .into_iter()
            .map(|(id, item)| (id.to_owned(), item))
            .collect(),
            trust: None,
        }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..6) {
            0 => {
                let id = key(rng, "item-", 6);
                if self.item(&id).is_none() {
                    let position = rng.random_range(0..10);
                    self.items.insert(id, template_item("new question", position));
                }
            }
            1 => {
                if let Some(id) = self.items.keys().nth(rng.random_range(0..self.items.len().max(1))).cloned() {
                    self.items.remove(&id);
                }
            }
            2 | 3 => {
                let n = self.items.len().max(1);
                if let Some(item) = self.items.values_mut().nth(rng.random_range(0..n)) {
                    match rng.random_range(0..3) {
                        0 => item.text = word(rng),
                        1 => item.weight = f64::from(rng.random_range(1..5)),
                        _ => item.requires_photo = !item.requires_photo,
                    }
                }
            }
            4 => {
                // Reordering, as HQ does in the template editor.
                let n = self.items.len().max(1);
                if let Some(item) = self.items.values_mut().nth(rng.random_range(0..n)) {
                    item.position = rng.random_range(0..10);
                }
            }
            _ => self.name = word(rng),
        }
        self.version += 1;
    }
}

fn alert(rng: &mut StdRng) -> Alert {
    Alert {
        kind: ["low-stock", "promotion-not-started", "sales-falling"][rng.random_range(0..3)].into(),
        title: word(rng),
        detail: word(rng),
        texts: None,
        store_id: rng.random::<bool>().then(|| key(rng, "store-", 3)),
        sku: rng.random::<bool>().then(|| key(rng, "SKU-", 5)),
        state: AlertState::Open,
        raised_at: time(rng),
        closed_at: None,
    }
}

impl Model for Inbox {
    fn base() -> Self {
        let mut rng = StdRng::seed_from_u64(4);
        Inbox { owner: "rep-1".into(), alerts: BTreeMap::from([("low-stock/SKU-0".into(), alert(&mut rng))]) }
    }

    fn mutate(&mut self, rng: &mut StdRng) {
        match rng.random_range(0..5) {
            0 | 1 => {
                let alert = alert(rng);
                self.alerts.insert(key(rng, "low-stock/SKU-", 5), alert);
            }
            2 => {
                if let Some(k) = existing_key(rng, &self.alerts) {
                    let alert = self.alerts.get_mut(&k).unwrap();
                    alert.state = AlertState::Closed;
                    alert.closed_at = Some(time(rng));
                }
            }
            3 => {
                if let Some(k) = existing_key(rng, &self.alerts) {
                    let alert = self.alerts.get_mut(&k).unwrap();
                    alert.state = AlertState::Open;
                    alert.closed_at = None;
                    alert.detail = word(rng);
                }
            }
            _ => {
                if let Some(k) = existing_key(rng, &self.alerts) {
                    self.alerts.remove(&k);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One deterministic test per merge rule a user relies on.
// ---------------------------------------------------------------------------------------------

/// A base document and two replicas of it, as two devices of the same user hold it.
struct TwoDevices<T> {
    id: DocumentId,
    phone: Automerge,
    tablet: Automerge,
    _kind: std::marker::PhantomData<T>,
}

impl<T: Model> TwoDevices<T> {
    fn new(base: &T) -> Self {
        let id = doc_id(42);
        let doc = doc::create(&id, actor(42, 0), base).unwrap();
        Self { phone: replica(&doc, 42, 1), tablet: replica(&doc, 42, 2), id, _kind: std::marker::PhantomData }
    }

    fn on_phone(&mut self, change: impl FnOnce(&mut T)) {
        let mut value: T = doc::read(&self.id, &self.phone).unwrap();
        change(&mut value);
        doc::update(&self.id, &mut self.phone, &value).unwrap();
    }

    fn on_tablet(&mut self, change: impl FnOnce(&mut T)) {
        let mut value: T = doc::read(&self.id, &self.tablet).unwrap();
        change(&mut value);
        doc::update(&self.id, &mut self.tablet, &value).unwrap();
    }

    /// Syncs both ways and returns the one value both devices now read.
    fn sync(&mut self) -> T {
        let phone = self.phone.clone();
        pull(&mut self.tablet, &phone, 1);
        let tablet = self.tablet.clone();
        pull(&mut self.phone, &tablet, 2);
        let value = state::<T>(&self.id, &self.phone);
        assert_eq!(value, state::<T>(&self.id, &self.tablet), "both devices read the same document");
        value.value
    }
}

#[test]
fn a_line_removed_on_one_device_and_edited_on_another_stays_removed() {
    let mut devices = TwoDevices::new(&Order::base());
    devices.on_phone(|order| {
        order.lines.remove("L0");
    });
    devices.on_tablet(|order| {
        let line = order.lines.get_mut("L0").unwrap();
        line.qty = 40;
        line.discount_bp = 500;
    });
    let merged = devices.sync();
    assert!(!merged.lines.contains_key("L0"), "the removed line came back: {merged:?}");
    assert_eq!(merged.lines["L1"], Order::base().lines["L1"]);
}

#[test]
fn lines_added_on_two_devices_are_all_kept() {
    let mut devices = TwoDevices::new(&Order::base());
    let line = |sku: &str| OrderLine { sku: sku.into(), qty: 1, unit_price_cents: 500, discount_bp: 0, position: 2 };
    devices.on_phone(|order| {
        order.lines.insert("phone-line".into(), line("SKU-3"));
    });
    devices.on_tablet(|order| {
        order.lines.insert("tablet-line".into(), line("SKU-4"));
    });
    let merged = devices.sync();
    let mut ids: Vec<&str> = merged.lines.keys().map(String::as_str).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["L0", "L1", "phone-line", "tablet-line"]);
    assert_eq!(merged.lines["phone-line"].sku, "SKU-3");
    assert_eq!(merged.lines["tablet-line"].sku, "SKU-4");
}

#[test]
fn concurrent_quantities_for_one_line_keep_one_of_them_never_their_sum() {
    let mut devices = TwoDevices::new(&Order::base());
    devices.on_phone(|order| order.lines.get_mut("L0").unwrap().qty = 6);
    devices.on_tablet(|order| order.lines.get_mut("L0").unwrap().qty = 8);
    let qty = devices.sync().lines["L0"].qty;
    assert!(qty == 6 || qty == 8, "quantity {qty} is neither device's value");
}

#[test]
fn edits_to_different_fields_of_one_line_both_survive() {
    let mut devices = TwoDevices::new(&Order::base());
    devices.on_phone(|order| order.lines.get_mut("L0").unwrap().qty = 12);
    devices.on_tablet(|order| order.lines.get_mut("L0").unwrap().discount_bp = 750);
    let line = devices.sync().lines["L0"].clone();
    assert_eq!((line.qty, line.discount_bp), (12, 750));
}

#[test]
fn concurrent_notes_keep_one_devices_text_whole_never_a_mix() {
    let mut base = Order::base();
    base.notes = "deliver monday".into();
    let mut devices = TwoDevices::new(&base);
    devices.on_phone(|order| order.notes = "deliver monday before 10:00".into());
    devices.on_tablet(|order| order.notes = "deliver tuesday".into());
    let notes = devices.sync().notes;
    assert!(notes == "deliver monday before 10:00" || notes == "deliver tuesday", "notes were mixed: {notes:?}");
}

#[test]
fn a_submission_on_one_device_and_a_note_on_another_both_survive() {
    let mut devices = TwoDevices::new(&Order::base());
    devices.on_phone(|order| {
        order.status = OrderStatus::Submitted;
        order.submission = 1;
        order.submitted_at = Some(T0 + 1);
    });
    devices.on_tablet(|order| order.notes = "back door".into());
    let merged = devices.sync();
    assert_eq!((merged.status, merged.submission, merged.notes.as_str()), (OrderStatus::Submitted, 1, "back door"));
}

#[test]
fn concurrent_answers_to_different_checklist_items_both_survive() {
    let mut devices = TwoDevices::new(&Inspection::base());
    let answer = |value, note: &str| Answer {
        id: format!("a-{note}"),
        value,
        count: None,
        note: note.into(),
        answered_at: T0 + 5,
    };
    devices.on_phone(|inspection| {
        inspection.answers.insert("price-tags".into(), answer(AnswerValue::No, "two missing"));
    });
    devices.on_tablet(|inspection| {
        inspection.answers.insert("promo-display".into(), answer(AnswerValue::Yes, ""));
    });
    let merged = devices.sync();
    assert_eq!(merged.answers["price-tags"], answer(AnswerValue::No, "two missing"));
    assert_eq!(merged.answers["promo-display"], answer(AnswerValue::Yes, ""));
    assert_eq!(merged.answers["item-0"], Inspection::base().answers["item-0"]);
}

#[test]
fn a_first_answer_to_one_item_on_two_devices_keeps_one_whole_answer() {
    let mut devices = TwoDevices::new(&Inspection::base());
    let phone = Answer {
        id: "phone".into(),
        value: AnswerValue::No,
        count: Some(2),
        note: "shelf half empty".into(),
        answered_at: T0 + 1,
    };
    let tablet =
        Answer { id: "tablet".into(), value: AnswerValue::Yes, count: None, note: String::new(), answered_at: T0 + 2 };
    devices.on_phone(|inspection| {
        inspection.answers.insert("facings".into(), phone.clone());
    });
    devices.on_tablet(|inspection| {
        inspection.answers.insert("facings".into(), tablet.clone());
    });
    let merged = devices.sync().answers["facings"].clone();
    assert!(merged == phone || merged == tablet, "the answer is a mix of both devices: {merged:?}");
}

/// A re-answer carries a fresh id, so two devices re-answering one item concurrently keep one
/// device's whole answer, never a field-by-field mix nobody gave.
#[test]
fn re_answering_one_item_on_two_devices_keeps_one_whole_answer() {
    let mut devices = TwoDevices::new(&Inspection::base());
    let before = Inspection::base().answers["item-0"].clone();
    let phone = Answer {
        id: "phone-re-answer".into(),
        value: AnswerValue::No,
        note: "shelf half empty".into(),
        answered_at: T0 + 1,
        ..before.clone()
    };
    let tablet = Answer {
        id: "tablet-re-answer".into(),
        count: Some(before.count.unwrap_or(0) + 7),
        answered_at: T0 + 2,
        ..before.clone()
    };
    devices.on_phone(|inspection| {
        inspection.answers.insert("item-0".into(), phone.clone());
    });
    devices.on_tablet(|inspection| {
        inspection.answers.insert("item-0".into(), tablet.clone());
    });
    let merged = devices.sync().answers["item-0"].clone();
    assert!(merged == phone || merged == tablet, "the answer is a mix of both devices: {merged:?}");
}

#[test]
fn photos_added_on_two_devices_are_all_kept() {
    let mut devices = TwoDevices::new(&Inspection::base());
    let mut rng = StdRng::seed_from_u64(7);
    let shot = |rng: &mut StdRng, n: u32| PhotoRef { sha256: format!("{n:064x}"), ..photo(rng) };
    let (a, b, c) = (shot(&mut rng, 1), shot(&mut rng, 2), shot(&mut rng, 3));
    devices.on_phone(|inspection| {
        inspection.photos.insert(a.sha256.clone(), a.clone());
        inspection.photos.insert(b.sha256.clone(), b.clone());
    });
    devices.on_tablet(|inspection| {
        inspection.photos.insert(c.sha256.clone(), c.clone());
    });
    let merged = devices.sync();
    assert_eq!(merged.photos.values().cloned().collect::<Vec<_>>(), vec![a, b, c]);
}

#[test]
fn a_check_out_on_one_device_keeps_answers_given_on_another() {
    let mut devices = TwoDevices::new(&Inspection::base());
    let out = Visit { at: T0 + 60_000, position: GeoFix { latitude: 52.0, longitude: 4.0, accuracy_m: 8.0 } };
    devices.on_phone(|inspection| {
        inspection.status = InspectionStatus::CheckedOut;
        inspection.check_out = Some(out);
    });
    devices.on_tablet(|inspection| {
        let late = Answer {
            id: "late".into(),
            value: AnswerValue::Yes,
            count: Some(5),
            note: String::new(),
            answered_at: T0 + 1,
        };
        inspection.answers.insert("facings".into(), late);
    });
    let merged = devices.sync();
    assert_eq!((merged.status, merged.check_out), (InspectionStatus::CheckedOut, Some(out)));
    assert_eq!(merged.answers["facings"].count, Some(5));
}

#[test]
fn edits_to_different_products_on_two_hq_sessions_both_survive() {
    let mut devices = TwoDevices::new(&Catalog::base());
    devices.on_phone(|catalog| catalog.products.get_mut("SKU-0").unwrap().base_price_cents = 1111);
    devices.on_tablet(|catalog| catalog.products.get_mut("SKU-1").unwrap().active = false);
    let merged = devices.sync();
    assert_eq!(merged.products["SKU-0"].base_price_cents, 1111);
    assert!(!merged.products["SKU-1"].active);
}

#[test]
fn editing_different_checklist_items_on_two_devices_keeps_both_edits() {
    let mut devices = TwoDevices::new(&Template::base());
    devices.on_phone(|template| template.items.get_mut("facings").unwrap().text = "At least 6 facings".into());
    devices.on_tablet(|template| template.items.get_mut("promo-display").unwrap().requires_photo = true);
    let merged = devices.sync();
    assert_eq!(merged.items["facings"].text, "At least 6 facings");
    assert!(merged.items["promo-display"].requires_photo);
}

/// A move is a change of `position`, so an edit made concurrently to the moved item survives.
#[test]
fn an_item_moved_on_one_device_keeps_an_edit_made_on_another() {
    let mut devices = TwoDevices::new(&Template::base());
    devices.on_phone(|template| template.items.get_mut("facings").unwrap().position = 3);
    devices.on_tablet(|template| template.items.get_mut("facings").unwrap().text = "At least 6 facings".into());
    let merged = devices.sync();
    assert_eq!(merged.item("facings").unwrap().text, "At least 6 facings");
}

/// Two devices reordering the same checklist concurrently must not duplicate an item: the
/// checklist's ids are what answers and scores are keyed by.
#[test]
fn an_item_moved_on_two_devices_appears_once() {
    let mut devices = TwoDevices::new(&Template::base());
    devices.on_phone(|template| template.items.get_mut("facings").unwrap().position = 3);
    devices.on_tablet(|template| template.items.get_mut("facings").unwrap().position = 1);
    let merged = devices.sync();
    let ids: Vec<&String> = merged.items_in_order().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids.iter().filter(|id| id.as_str() == "facings").count(), 1, "{ids:?}");
    assert_eq!(ids.len(), 3);
}

#[test]
fn an_alert_closed_on_one_replica_and_another_raised_on_a_second_are_both_kept() {
    let mut devices = TwoDevices::new(&Inbox::base());
    let mut rng = StdRng::seed_from_u64(9);
    let raised = alert(&mut rng);
    devices.on_phone(|inbox| {
        let alert = inbox.alerts.get_mut("low-stock/SKU-0").unwrap();
        alert.state = AlertState::Closed;
        alert.closed_at = Some(T0 + 9);
    });
    devices.on_tablet(|inbox| {
        inbox.alerts.insert("sales-falling/store-1".into(), raised.clone());
    });
    let merged = devices.sync();
    assert_eq!(merged.alerts["low-stock/SKU-0"].state, AlertState::Closed);
    assert_eq!(merged.alerts["sales-falling/store-1"], raised);
    assert_eq!(merged.open_alerts().count(), 1);
}

#[test]
fn two_devices_of_one_approver_deciding_differently_agree_on_one_verdict() {
    let mut devices = TwoDevices::new(&Decision::base());
    devices.on_phone(|decision| {
        decision.verdict = Verdict::Reject;
        decision.reason = "price below floor".into();
        decision.decided_at = T0 + 1;
    });
    devices.on_tablet(|decision| decision.decided_at = T0 + 2);
    let merged = devices.sync();
    // The tablet only re-confirmed; the phone's rejection and its reason arrive together.
    assert_eq!((merged.verdict, merged.reason.as_str()), (Verdict::Reject, "price below floor"));
}

#[test]
fn stock_levels_for_different_skus_merge_and_one_sku_keeps_an_absolute_value() {
    let mut devices = TwoDevices::new(&Inventory::base());
    devices.on_phone(|inventory| {
        inventory.levels.get_mut("SKU-0").unwrap().on_hand = 80;
        inventory.levels.get_mut("SKU-1").unwrap().on_hand = 7;
    });
    devices.on_tablet(|inventory| {
        inventory.levels.get_mut("SKU-1").unwrap().on_hand = 9;
        inventory.levels.insert("SKU-2".into(), StockLevel { on_hand: 1, reserved: 0, safety: 0 });
    });
    let merged = devices.sync();
    assert_eq!(merged.levels["SKU-0"].on_hand, 80);
    assert!([7, 9].contains(&merged.levels["SKU-1"].on_hand), "{:?}", merged.levels["SKU-1"]);
    assert_eq!(merged.levels["SKU-2"].on_hand, 1);
}
