//! The read model's questions (`storage::queries`) on SQLite and on PostgreSQL: keyset pages
//! visit every row exactly once in order, whatever the sort and however the keys tie; filters,
//! search and reach (who sees which rows) agree with counts made here from the rows written;
//! figures add up. The rows are written the way every document write writes them
//! (`DocWrite::read_model`), from projections built here, so each case is exact.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[macro_use]
mod common;

use fieldsync_core::DocKind;
use fieldsync_core::DocumentId;
use fieldsync_core::Role;
use fieldsync_server::read_model::{OrderLineRow, OrderRow, ProductRow, Projection, ReviewRow, StepRow, StoreRow};
use fieldsync_server::services::orders::number;
use fieldsync_server::storage::queries::{self, Cursor, OrderFilter, OrderListRow, OrderSearch, OrderSort, Reach};
use fieldsync_server::storage::{DocMeta, DocWrite, NewUser, Storage};

/// Writes a document whose only content that matters is what it projects.
async fn write(storage: &dyn Storage, tenant: i64, id: &DocumentId, kind: DocKind, projection: Projection) {
    let meta = DocMeta { kind, owner: None, store_id: None, region: None, subject_id: None, status: None };
    let write = DocWrite {
        id: id.clone(),
        meta,
        expected_heads: Vec::new(),
        snapshot: b"snapshot".to_vec(),
        heads: vec![[7; 32]],
        changes: b"changes".to_vec(),
        origin_device: None,
        new_actors: Vec::new(),
        blobs: Vec::new(),
        job: None,
        read_model: projection.into_row_changes(),
        events: Vec::new(),
    };
    storage.write_doc(tenant, write).await.unwrap();
}

/// What the test wrote about one order.
#[derive(Debug, Clone)]
struct Written {
    id: String,
    rep: String,
    store: String,
    region: &'static str,
    status: &'static str,
    at: i64,
    total: i64,
    number: Option<String>,
    sku: &'static str,
}

const BASE: i64 = 1_780_000_000_000;
const ORDERS: usize = 240;

async fn seed(storage: &dyn Storage) -> (i64, Vec<Written>, [String; 3]) {
    let tenant = storage.create_tenant("acme", "Asia/Shanghai", "CNY", 1).await.unwrap().id;
    let user = |username: &str, role: Role, region: &str| NewUser {
        username: username.into(),
        display_name: String::new(),
        password_hash: "hash".into(),
        role,
        region: Some(region.into()),
    };
    let rep_north = storage.create_user(tenant, user("li.wei", Role::Rep, "north"), 1).await.unwrap().id;
    let rep_south = storage.create_user(tenant, user("chen.jing", Role::Rep, "south"), 1).await.unwrap().id;
    let manager = storage.create_user(tenant, user("wang.fang", Role::Manager, "north"), 1).await.unwrap().id;
    let stores = [("上海 Kiosk Nord", "north", &rep_north), ("Markt 50%_Süd", "south", &rep_south)];
    let mut store_ids = Vec::new();
    for (name, region, rep) in stores {
        let id = DocumentId::random();
        let row = StoreRow {
            store_id: id.to_string(),
            name: name.into(),
            code: String::new(),
            address: "1 Road".into(),
            region: region.into(),
            customer_id: "c".into(),
            tier: "A".into(),
            rep: rep.clone(),
            supervisor: manager.clone(),
            active: true,
        };
        write(storage, tenant, &id, DocKind::Store, Projection::Store(row)).await;
        store_ids.push((id.to_string(), region, rep.clone()));
    }
    // The catalog: a SKU search finds the catalog's products (by SKU or name) on order lines.
    let catalog = DocumentId::random();
    // Sixty more green teas, on no order: "green tea" matches many products, "tea-green" one.
    let product = |sku: String, name: String| ProductRow { sku, name, category: "drinks".into(), active: true };
    let mut products =
        vec![product("TEA-GREEN".into(), "Green tea 500 ml".into()), product("COLA-1L".into(), "Cola 1 l".into())];
    products.extend((0..60).map(|n| product(format!("TEA-G{n}"), format!("Green tea variant {n}"))));
    let projection = Projection::Catalog { catalog_id: catalog.to_string(), products };
    write(storage, tenant, &catalog, DocKind::Catalog, projection).await;
    let mut written = Vec::new();
    for n in 0..ORDERS {
        let (store, region, rep) = store_ids[n % 3 % 2].clone();
        let id = DocumentId::random();
        // Every third order shares its time with the one before: the id breaks the tie.
        let at = BASE + (n as i64 - (n % 3 == 2) as i64) * 3_600_000;
        let draft = n % 10 == 9;
        let total = ((n * 7_919) % 50_000) as i64;
        let row = OrderRow {
            order_id: id.to_string(),
            rep: rep.clone(),
            store_id: store.clone(),
            region: Some(region.to_owned()),
            customer_id: "c".into(),
            status: if draft { "draft" } else { "submitted" }.into(),
            total_cents: total,
            line_count: 1,
            created_at: at,
            updated_at: at,
            submitted_at: (!draft).then_some(at),
            submission: i64::from(!draft),
        };
        let sku = if n % 4 == 0 { "TEA-GREEN" } else { "COLA-1L" };
        let lines = vec![OrderLineRow {
            line_id: "l1".into(),
            sku: sku.into(),
            qty: 1,
            unit_price_cents: total,
            discount_bp: 0,
            line_total_cents: total,
            position: 0,
        }];
        write(storage, tenant, &id, DocKind::Order, Projection::Order { row, lines }).await;
        let (status, number) = if draft {
            ("draft", None)
        } else if n % 10 == 8 {
            ("submitted", None)
        } else {
            let outcome = ["approved", "needs-approval", "rejected"][n % 3];
            let number = format!("N-{:06}", n + 1);
            let step = StepRow {
                step: 0,
                role: "manager".into(),
                approver: manager.clone(),
                rule: "large-order".into(),
                state: if outcome == "needs-approval" { "pending" } else { outcome }.to_owned(),
                decided_at: (outcome != "needs-approval").then_some(at + 2 * 3_600_000),
                reason: String::new(),
                started_at: Some(at + 1),
                due_at: None,
                reminded_at: None,
                escalated_at: None,
                escalated_from: None,
            };
            let review = ReviewRow {
                order_id: id.to_string(),
                number: number.clone(),
                outcome: outcome.into(),
                reviewed_submission: 1,
                reviewed_total_cents: total,
                finding_count: 0,
                reviewed_at: at + 1,
                decided_at: (outcome != "needs-approval").then_some(at + 2 * 3_600_000),
                current_step: (outcome == "needs-approval").then_some(0),
                current_approver_role: (outcome == "needs-approval").then(|| "manager".to_owned()),
                current_approver: (outcome == "needs-approval").then(|| manager.clone()),
                step_count: 1,
                current_due_at: None,
            };
            write(
                storage,
                tenant,
                &DocumentId::random(),
                DocKind::OrderReview,
                Projection::Review { row: review, steps: vec![step] },
            )
            .await;
            (outcome, Some(number))
        };
        written.push(Written { id: id.to_string(), rep, store, region, status, at, total, number, sku });
    }
    (tenant, written, [rep_north, rep_south, manager])
}

/// Every row of a filter, following `next` with pages of `limit`.
async fn every_page(
    storage: &dyn Storage,
    tenant: i64,
    filter: &OrderFilter,
    sort: OrderSort,
    limit: u32,
) -> Vec<OrderListRow> {
    let mut rows = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = queries::list_orders(storage, tenant, filter, sort, after.as_ref(), limit).await.unwrap();
        assert!(page.rows.len() <= limit as usize);
        rows.extend(page.rows);
        match page.next {
            Some(next) => after = Some(Cursor::decode(&next.encode()).unwrap()),
            None => return rows,
        }
    }
}

async fn keyset_pages_filters_and_reach_agree_with_the_rows_written(storage: &dyn Storage) {
    let (tenant, written, [rep_north, _rep_south, manager]) = seed(storage).await;
    let hq = OrderFilter::all(Reach::All);

    // Newest first, pages of 7: every order once, in (time, id) order, ties broken by id.
    let rows = every_page(storage, tenant, &hq, OrderSort::Newest, 7).await;
    let mut expected: Vec<(i64, String)> = written.iter().map(|w| (w.at, w.id.clone())).collect();
    expected.sort();
    expected.reverse();
    assert_eq!(rows.iter().map(|r| (r.at, r.id.clone())).collect::<Vec<_>>(), expected);
    // Oldest first and largest first visit every order once too.
    let oldest = every_page(storage, tenant, &hq, OrderSort::Oldest, 11).await;
    expected.reverse();
    assert_eq!(oldest.iter().map(|r| (r.at, r.id.clone())).collect::<Vec<_>>(), expected);
    let largest = every_page(storage, tenant, &hq, OrderSort::Largest, 13).await;
    assert_eq!(largest.len(), ORDERS);
    assert!(largest.windows(2).all(|w| (w[0].total_cents, &w[0].id) > (w[1].total_cents, &w[1].id)));

    // Statuses, names and numbers as written.
    for row in &rows {
        let w = written.iter().find(|w| w.id == row.id).unwrap();
        assert_eq!((row.status.as_str(), row.number.clone(), row.total_cents), (w.status, w.number.clone(), w.total));
        assert_eq!((&row.rep, &row.store_id), (&w.rep, &w.store));
        assert!(row.store_name.is_some() && row.rep_name.is_some());
        assert_eq!(row.waiting_on_name.is_some(), w.status == "needs-approval");
    }

    // Totals of each status equal the rows written with it.
    for status in ["draft", "submitted", "needs-approval", "approved", "rejected"] {
        let mut filter = hq.clone();
        filter.status = Some(status.into());
        let totals = queries::order_totals(storage, tenant, &filter).await.unwrap();
        let mine: Vec<&Written> = written.iter().filter(|w| w.status == status).collect();
        assert_eq!(totals.count, mine.len() as u64, "{status}");
        assert_eq!(totals.total_cents, mine.iter().map(|w| w.total).sum::<i64>(), "{status}");
        assert_eq!(every_page(storage, tenant, &filter, OrderSort::Newest, 9).await.len(), mine.len(), "{status}");
    }

    // Reach: a manager sees their region, a rep their own orders, a supervisor's reach none.
    let north = written.iter().filter(|w| w.region == "north").count();
    let in_reach = |reach: Reach| OrderFilter::all(reach);
    assert_eq!(
        every_page(storage, tenant, &in_reach(Reach::Region("north".into())), OrderSort::Newest, 50).await.len(),
        north
    );
    let own = every_page(storage, tenant, &in_reach(Reach::Owner(rep_north.clone())), OrderSort::Newest, 50).await;
    assert_eq!(own.len(), written.iter().filter(|w| w.rep == rep_north).count());
    assert!(!own.is_empty() && own.iter().all(|r| r.rep == rep_north));
    assert!(every_page(storage, tenant, &in_reach(Reach::Nothing), OrderSort::Newest, 50).await.is_empty());

    // One store.
    let mut one_store = hq.clone();
    one_store.store_id = Some(written[0].store.clone());
    let at_store = written.iter().filter(|w| w.store == written[0].store).count();
    assert_eq!(every_page(storage, tenant, &one_store, OrderSort::Largest, 17).await.len(), at_store);

    // Waiting on the manager: the orders that need approval.
    let mut waiting = hq.clone();
    waiting.waiting_on = Some(manager.clone());
    let needs = written.iter().filter(|w| w.status == "needs-approval").count() as u64;
    assert_eq!(queries::order_totals(storage, tenant, &waiting).await.unwrap().count, needs);

    // Search: a store's name (Chinese included), a number, a rep, a SKU; `%` and `_` literally.
    let search = |text: &str| {
        let mut filter = hq.clone();
        filter.text = Some(OrderSearch { text: text.to_owned(), number: number::named_in(text) });
        filter
    };
    let count =
        |filter: OrderFilter| async move { queries::order_totals(storage, tenant, &filter).await.unwrap().count };
    assert_eq!(count(search("上海")).await, north as u64);
    assert_eq!(count(search("kiosk NORD")).await, north as u64);
    assert_eq!(count(search("50%_s")).await, (ORDERS - north) as u64);
    assert_eq!(count(search("%")).await, (ORDERS - north) as u64, "% is a character, not a wildcard");
    // An order number, whole, with or without its prefix and zeros.
    let first = written.iter().filter_map(|w| w.number.clone()).min().expect("a numbered order");
    for text in [first.to_lowercase(), format!("N-{}", first.trim_start_matches("N-").trim_start_matches('0'))] {
        let mut found = every_page(storage, tenant, &search(&text), OrderSort::Newest, 50).await;
        assert_eq!(found.len(), 1, "{text}");
        assert_eq!(found.pop().and_then(|r| r.number), Some(first.clone()));
    }
    // A text nothing can match answers empty at once, lists and figures alike.
    assert_eq!(count(search("no such thing")).await, 0);
    assert!(every_page(storage, tenant, &search("no such thing"), OrderSort::Newest, 50).await.is_empty());
    assert_eq!(queries::approval_times(storage, tenant, &search("no such thing"), 0).await.unwrap().decided, 0);
    assert_eq!(count(search("li.wei")).await, north as u64);
    let tea = written.iter().filter(|w| w.sku == "TEA-GREEN").count() as u64;
    assert_eq!(count(search("tea-green")).await, tea);
    assert_eq!(count(search("GREEN TEA")).await, tea, "a product's name finds its SKU's orders");
    assert_eq!(count(search("tea 500")).await, tea, "one product's name");

    // A date range and the per-period counts.
    let mut range = hq.clone();
    (range.from, range.to) = (Some(BASE + 24 * 3_600_000), Some(BASE + 48 * 3_600_000));
    let in_range = written.iter().filter(|w| w.at >= BASE + 24 * 3_600_000 && w.at < BASE + 48 * 3_600_000).count();
    assert_eq!(count(range).await, in_range as u64);
    let bounds: Vec<i64> = (0..=10).map(|d| BASE + d * 24 * 3_600_000).collect();
    let per_day = queries::orders_per_period(storage, tenant, &hq, &bounds).await.unwrap();
    assert_eq!(per_day.len(), 10);
    assert_eq!(per_day.iter().sum::<u64>(), ORDERS as u64, "240 hourly orders fall in ten days");

    // Approval times: every order an approver decided took 2 h from submission.
    let times = queries::approval_times(storage, tenant, &hq, 0).await.unwrap();
    let decided = written.iter().filter(|w| matches!(w.status, "approved" | "rejected")).count() as u64;
    assert_eq!((times.decided, times.median_ms), (decided, Some(2 * 3_600_000)));
    assert_eq!(times.buckets, [0, decided, 0, 0, 0, 0, 0], "all in 1–4 h");
    // Decided since a time after every decision: none.
    assert_eq!(queries::approval_times(storage, tenant, &hq, BASE + 365 * 86_400_000).await.unwrap().decided, 0);
}
on_both_backends!(keyset_pages_filters_and_reach_agree_with_the_rows_written);
