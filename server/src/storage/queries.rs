//! The questions lists and figures ask the read model ([`crate::storage::read_model`]), as SQL
//! both backends run unchanged through [`ReadModelStore::select`].
//!
//! Every question starts from a [`Reach`]: which rows of a table the asker may see, as the
//! service layer derived it from the asker's scope (the one access rule). Lists are keyset pages
//! ([`Cursor`]): the next page starts after the last row shown, never with `OFFSET`, so a page
//! deep in a million orders costs what the first one costs. Figures are aggregates computed by
//! the database. Nothing here decodes a document.

use fieldsync_core::doc::AlertTexts;
use serde::{Deserialize, Serialize};

use super::read_model::{Cell, CellKind, ReadModelStore, Select};
use crate::error::{Error, Result};

/// What the questions run on: any storage (the backends are `Send + Sync`).
pub type Store = dyn ReadModelStore + Send + Sync;

/// Which rows of a read-model table the asker may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every row of the tenant.
    All,
    /// Rows whose owner column (the rep of an order, the supervisor of an inspection, the owner
    /// of an alert) is this user.
    Owner(String),
    /// Rows whose region column is this region.
    Region(String),
    /// Rows whose supervisor column is this user (a supervisor's stores).
    Supervisor(String),
    /// None.
    Nothing,
}

/// Where a keyset page starts: after the row with this sort key and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort key of the last row shown (a time or an amount).
    pub key: i64,
    /// The id of the last row shown (and the second id of rows keyed by two).
    pub ids: Vec<String>,
}

impl Cursor {
    /// The cursor as an opaque URL-safe token.
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a token made by [`Cursor::encode`].
    pub fn decode(token: &str) -> Result<Cursor> {
        let invalid = || {
            Error::bad_request(
                "invalid-cursor",
                "the page cursor is not one this relay made; start from the first page",
            )
        };
        if token.len() > 2_048 {
            return Err(invalid());
        }
        let bytes = hex::decode(token).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

/// One page of a list, and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows, in the list's order.
    pub rows: Vec<T>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<Cursor>,
}

/// SQL under construction: text with `?` placeholders and their values in order.
#[derive(Debug, Default)]
struct Sql {
    text: String,
    params: Vec<Cell>,
}

impl Sql {
    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends `text`, whose `?`s take `values` in order.
    fn with(&mut self, text: &str, values: impl IntoIterator<Item = Cell>) -> &mut Self {
        self.text.push_str(text);
        self.params.extend(values);
        self
    }

    fn select(self, columns: Vec<CellKind>) -> Select {
        Select { sql: self.text, params: self.params, columns }
    }
}

fn text(value: &str) -> Cell {
    Cell::text(value)
}

/// `%text%` for `LIKE … ESCAPE '\'`, lower-cased, with `%`, `_` and `\` taken literally.
fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::from("%");
    for c in needle.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The columns of a table a [`Reach`] is tested on; a reach whose column the table lacks reaches
/// no row.
struct ReachColumns {
    owner: &'static str,
    region: Option<&'static str>,
    supervisor: Option<&'static str>,
}

const ORDER_REACH: ReachColumns = ReachColumns { owner: "o.rep", region: Some("o.region"), supervisor: None };
const INSPECTION_REACH: ReachColumns =
    ReachColumns { owner: "i.supervisor", region: Some("i.region"), supervisor: None };
const STORE_REACH: ReachColumns =
    ReachColumns { owner: "s.rep", region: Some("s.region"), supervisor: Some("s.supervisor") };
const ALERT_REACH: ReachColumns = ReachColumns { owner: "al.owner", region: None, supervisor: None };

/// The reach as a condition on `columns`.
fn reach_condition(sql: &mut Sql, reach: &Reach, columns: &ReachColumns) {
    let (column, value) = match reach {
        Reach::All => return,
        Reach::Owner(user) => (Some(columns.owner), user),
        Reach::Region(region) => (columns.region, region),
        Reach::Supervisor(user) => (columns.supervisor, user),
        Reach::Nothing => (None, &String::new()),
    };
    match column {
        Some(column) => sql.with(&format!(" AND {column} = ?"), [text(value)]),
        None => sql.push(" AND 1 = 0"),
    };
}

fn int(cell: &Cell) -> Option<i64> {
    match cell {
        Cell::Int(v) => *v,
        Cell::Real(v) => v.map(|v| v as i64),
        Cell::Text(_) => None,
    }
}

fn real(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Real(v) => *v,
        Cell::Int(v) => v.map(|v| v as f64),
        Cell::Text(_) => None,
    }
}

fn string(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Text(v) => v.clone(),
        _ => None,
    }
}

fn count(cell: &Cell) -> u64 {
    int(cell).and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Orders

/// Which orders a list or a figure covers. Every field narrows; `None` leaves it open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFilter {
    /// Who may see which orders.
    pub reach: Reach,
    /// `draft`, `submitted` (not reviewed yet), `needs-approval`, `approved` or `rejected`.
    pub status: Option<String>,
    /// A store id.
    pub store_id: Option<String>,
    /// A rep's user id.
    pub rep: Option<String>,
    /// A region.
    pub region: Option<String>,
    /// Submitted (or created, for drafts) at or after this time.
    pub from: Option<i64>,
    /// Submitted (or created) before this time.
    pub to: Option<i64>,
    /// A text search: part of the store's name, the rep's username, a SKU or a product name, or
    /// an order number.
    pub text: Option<OrderSearch>,
    /// The user whose approval step the order waits on.
    pub waiting_on: Option<String>,
    /// Only orders that were submitted (any outcome): drafts left out.
    pub submitted: bool,
}

impl OrderFilter {
    /// Every order the reach gives.
    pub fn all(reach: Reach) -> Self {
        Self {
            reach,
            status: None,
            store_id: None,
            rep: None,
            region: None,
            from: None,
            to: None,
            text: None,
            waiting_on: None,
            submitted: false,
        }
    }

    /// The filter as conditions on `o` (an `order_rows` row of tenant `tenant_id`), its text
    /// search as [`Search::of`] resolved it.
    fn condition(&self, sql: &mut Sql, tenant_id: i64, search: &Search) {
        self.condition_on(sql, tenant_id, search, "o.listed_at");
    }

    /// [`OrderFilter::condition`] with the submission time tested as `listed_at`: `o.listed_at`,
    /// or `+o.listed_at` where the question is better answered through another index that holds
    /// the column (the unary plus keeps the database from choosing an index for that test).
    fn condition_on(&self, sql: &mut Sql, tenant_id: i64, search: &Search, listed_at: &str) {
        // A row with only a review's columns (its order not written yet) is not an order; the
        // test is on `listed_at`, which every index holds, so it costs no row lookup.
        sql.push(&format!(" AND {listed_at} IS NOT NULL"));
        reach_condition(sql, &self.reach, &ORDER_REACH);
        if let Some(status) = &self.status {
            sql.with(" AND o.list_status = ?", [text(status)]);
        }
        if self.submitted {
            sql.push(" AND o.list_status <> 'draft'");
        }
        if let Some(store) = &self.store_id {
            sql.with(" AND o.store_id = ?", [text(store)]);
        }
        if let Some(rep) = &self.rep {
            sql.with(" AND o.rep = ?", [text(rep)]);
        }
        if let Some(region) = &self.region {
            sql.with(" AND o.region = ?", [text(region)]);
        }
        if let Some(from) = self.from {
            sql.with(&format!(" AND {listed_at} >= ?"), [Cell::int(from)]);
        }
        if let Some(to) = self.to {
            sql.with(&format!(" AND {listed_at} < ?"), [Cell::int(to)]);
        }
        if let Some(user) = &self.waiting_on {
            sql.with(" AND o.list_status = 'needs-approval' AND o.current_approver = ?", [text(user)]);
        }
        if let Search::Parts(parts) = search {
            parts.condition(sql, tenant_id);
        }
    }
}

/// A text search of orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSearch {
    /// Part of a store's name or code, a rep's username, a SKU or a product name (any case).
    pub text: String,
    /// The order number the text names, when it is shaped like one (the service knows the
    /// shape: `N-000123` for "123"); matched whole.
    pub number: Option<String>,
}

impl OrderSearch {
    /// A search for `text` that names no order number.
    pub fn text(text: &str) -> Self {
        Self { text: text.to_owned(), number: None }
    }
}

/// An order search, resolved before any order is read. Store names, usernames and the catalog
/// are small tables and an order number names one order, so one or two small queries find which
/// of them the text can match; only those parts become conditions on the orders, each in the form
/// the indexes answer best, and a text that matches none of them answers at once instead of
/// scanning every order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Search {
    /// No text to search for.
    Any,
    /// No order can match.
    Never,
    /// The parts that can match.
    Parts(SearchParts),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SearchParts {
    /// The order the text's number names.
    order: Option<String>,
    /// `%text%`, lower-cased, for `LIKE … ESCAPE '\\'`.
    pattern: String,
    stores: bool,
    reps: bool,
    products: Products,
}

/// How many catalog products (by SKU or name) a search text matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Products {
    None,
    /// Up to [`FEW_PRODUCTS`]: their orders are found through the lines' SKU index, once.
    Few,
    /// More: each order's own lines are checked (matches are common, so a page fills fast).
    Many,
}

/// Most products a search matches for their orders to be collected up front.
const FEW_PRODUCTS: i64 = 50;

impl Search {
    async fn of(store: &Store, tenant_id: i64, filter: &OrderFilter) -> Result<Search> {
        let Some(search) = &filter.text else { return Ok(Search::Any) };
        let needle = search.text.trim();
        if needle.is_empty() && search.number.is_none() {
            return Ok(Search::Any);
        }
        let pattern = contains_pattern(needle);
        let (tenant, like) = (Cell::int(tenant_id), text(&pattern));
        let mut sql = Sql::default();
        sql.with(
            "SELECT \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM store_rows s WHERE s.tenant_id = ? AND (LOWER(s.name) LIKE ? ESCAPE '\\' OR LOWER(s.code) LIKE ? ESCAPE '\\')) THEN 1 ELSE 0 END AS BIGINT), \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ? AND LOWER(u.username) LIKE ? ESCAPE '\\') THEN 1 ELSE 0 END AS BIGINT), \
             CAST((SELECT COUNT(*) FROM (SELECT 1 FROM product_rows p WHERE p.tenant_id = ? \
                AND (LOWER(p.sku) LIKE ? ESCAPE '\\' OR LOWER(p.name) LIKE ? ESCAPE '\\') LIMIT ?) AS matched) AS BIGINT)",
            [
                tenant.clone(),
                like.clone(),
                like.clone(),
                tenant.clone(),
                like.clone(),
                tenant,
                like.clone(),
                like,
                Cell::int(FEW_PRODUCTS + 1),
            ],
        );
        let rows = store.select(sql.select(vec![CellKind::Int; 3])).await?;
        let found = |i: usize| rows.first().and_then(|row| int(&row[i])).unwrap_or(0);
        let order = match &search.number {
            None => None,
            Some(number) => {
                let mut sql = Sql::default();
                sql.with(
                    "SELECT o.order_id FROM order_rows o WHERE o.tenant_id = ? AND o.order_number = ?",
                    [Cell::int(tenant_id), text(number)],
                );
                store.select(sql.select(vec![CellKind::Text])).await?.first().and_then(|row| string(&row[0]))
            }
        };
        let parts = SearchParts {
            order,
            pattern,
            stores: found(0) > 0,
            reps: found(1) > 0,
            products: match found(2) {
                0 => Products::None,
                n if n <= FEW_PRODUCTS => Products::Few,
                _ => Products::Many,
            },
        };
        Ok(if parts.order.is_none() && !parts.stores && !parts.reps && parts.products == Products::None {
            Search::Never
        } else {
            Search::Parts(parts)
        })
    }
}

impl SearchParts {
    fn condition(&self, sql: &mut Sql, tenant_id: i64) {
        let (tenant, pattern) = (Cell::int(tenant_id), text(&self.pattern));
        let mut first = true;
        let mut or = |sql: &mut Sql, part: &str, values: Vec<Cell>| {
            sql.push(if first { " AND (" } else { " OR " });
            sql.with(part, values);
            first = false;
        };
        if let Some(order) = &self.order {
            or(sql, "o.order_id = ?", vec![text(order)]);
        }
        // The subqueries name the tenant as a value, not as `o.tenant_id`: uncorrelated, each
        // runs once per query.
        if self.stores {
            or(
                sql,
                "o.store_id IN (SELECT s2.store_id FROM store_rows s2 WHERE s2.tenant_id = ? \
                 AND (LOWER(s2.name) LIKE ? ESCAPE '\\' OR LOWER(s2.code) LIKE ? ESCAPE '\\'))",
                vec![tenant.clone(), pattern.clone(), pattern.clone()],
            );
        }
        if self.reps {
            or(
                sql,
                "o.rep IN (SELECT u2.id FROM users u2 WHERE u2.tenant_id = ? AND LOWER(u2.username) LIKE ? ESCAPE '\\')",
                vec![tenant.clone(), pattern.clone()],
            );
        }
        let products = "SELECT p.sku FROM product_rows p WHERE p.tenant_id = ? \
            AND (LOWER(p.sku) LIKE ? ESCAPE '\\' OR LOWER(p.name) LIKE ? ESCAPE '\\')";
        match self.products {
            Products::None => {}
            // The orders of a few SKUs, from `order_lines_by_sku` alone, collected once.
            Products::Few => or(
                sql,
                &format!(
                    "o.order_id IN (SELECT l.order_id FROM order_lines l WHERE l.tenant_id = ? AND l.sku IN ({products}))"
                ),
                vec![tenant.clone(), tenant, pattern.clone(), pattern],
            ),
            // Per order, its own few lines through `order_lines_by_order`.
            Products::Many => or(
                sql,
                &format!(
                    "EXISTS (SELECT 1 FROM order_lines l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.order_id \
                     AND l.sku IN ({products}))"
                ),
                vec![tenant, pattern.clone(), pattern],
            ),
        }
        if !first {
            sql.push(")");
        }
    }
}

/// How an orders list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderSort {
    /// Newest submission (or creation) first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// Largest total first.
    Largest,
}

impl OrderSort {
    /// The name a URL uses.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderSort::Newest => "newest",
            OrderSort::Oldest => "oldest",
            OrderSort::Largest => "largest",
        }
    }

    /// Every sort, for forms.
    pub const ALL: [OrderSort; 3] = [OrderSort::Newest, OrderSort::Oldest, OrderSort::Largest];

    /// Reads a URL's sort name.
    pub fn parse(name: &str) -> Option<OrderSort> {
        Self::ALL.into_iter().find(|sort| sort.as_str() == name)
    }

    fn key_column(self) -> &'static str {
        match self {
            OrderSort::Newest | OrderSort::Oldest => "o.listed_at",
            OrderSort::Largest => "o.total_cents",
        }
    }

    fn descending(self) -> bool {
        !matches!(self, OrderSort::Oldest)
    }
}

/// One order as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderListRow {
    /// The order's document id.
    pub id: String,
    /// Its readable number, once reviewed.
    pub number: Option<String>,
    /// `draft`, `submitted`, `needs-approval`, `approved` or `rejected`.
    pub status: String,
    /// The rep's user id.
    pub rep: String,
    /// The rep's username.
    pub rep_name: Option<String>,
    /// The store's id.
    pub store_id: String,
    /// The store's name.
    pub store_name: Option<String>,
    /// That store's short code (empty when it has none).
    pub store_code: Option<String>,
    /// The store's region.
    pub region: Option<String>,
    /// Total after line discounts, in cents.
    pub total_cents: i64,
    /// Lines.
    pub line_count: i64,
    /// When it was submitted (or created, for a draft).
    pub at: i64,
    /// When its outcome became final.
    pub decided_at: Option<i64>,
    /// The user whose step it waits on.
    pub waiting_on: Option<String>,
    /// That user's username.
    pub waiting_on_name: Option<String>,
    /// Findings of its review.
    pub finding_count: Option<i64>,
}

const ORDER_COLUMNS: &str = "o.order_id, o.order_number, o.list_status, o.rep, u.username, o.store_id, s.name, o.region, \
     o.total_cents, o.line_count, o.listed_at, o.decided_at, o.current_approver, a.username, o.finding_count, s.code";

fn order_kinds() -> Vec<CellKind> {
    use CellKind::*;
    vec![Text, Text, Text, Text, Text, Text, Text, Text, Int, Int, Int, Int, Text, Text, Int, Text]
}

fn order_row(row: &[Cell]) -> Option<OrderListRow> {
    let needs_approval = string(&row[2]).as_deref() == Some("needs-approval");
    Some(OrderListRow {
        id: string(&row[0])?,
        number: string(&row[1]).filter(|n| !n.is_empty()),
        status: string(&row[2])?,
        rep: string(&row[3]).unwrap_or_default(),
        rep_name: string(&row[4]),
        store_id: string(&row[5]).unwrap_or_default(),
        store_name: string(&row[6]),
        region: string(&row[7]),
        total_cents: int(&row[8]).unwrap_or(0),
        line_count: int(&row[9]).unwrap_or(0),
        at: int(&row[10]).unwrap_or(0),
        decided_at: int(&row[11]),
        waiting_on: string(&row[12]).filter(|_| needs_approval),
        waiting_on_name: string(&row[13]).filter(|_| needs_approval),
        finding_count: int(&row[14]),
        store_code: string(&row[15]),
    })
}

/// A keyset page of orders: `limit` rows after `after`, in `sort` order.
pub async fn list_orders(
    store: &Store,
    tenant_id: i64,
    filter: &OrderFilter,
    sort: OrderSort,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<OrderListRow>> {
    let search = Search::of(store, tenant_id, filter).await?;
    if search == Search::Never {
        return Ok(Page { rows: Vec::new(), next: None });
    }
    let mut sql = Sql::default();
    sql.with(
        &format!(
            "SELECT {ORDER_COLUMNS} FROM order_rows o \
             LEFT JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.rep \
             LEFT JOIN store_rows s ON s.tenant_id = o.tenant_id AND s.store_id = o.store_id \
             LEFT JOIN users a ON a.tenant_id = o.tenant_id AND a.id = o.current_approver \
             WHERE o.tenant_id = ?"
        ),
        [Cell::int(tenant_id)],
    );
    filter.condition(&mut sql, tenant_id, &search);
    let key = sort.key_column();
    let (cmp, dir) = if sort.descending() { ("<", "DESC") } else { (">", "ASC") };
    if let Some(after) = after {
        let id = after.ids.first().cloned().unwrap_or_default();
        sql.with(&format!(" AND ({key}, o.order_id) {cmp} (?, ?)"), [Cell::int(after.key), Cell::text(id)]);
    }
    sql.with(&format!(" ORDER BY {key} {dir}, o.order_id {dir} LIMIT ?"), [Cell::int(i64::from(limit) + 1)]);
    let rows = store.select(sql.select(order_kinds())).await?;
    let mut rows: Vec<OrderListRow> = rows.iter().filter_map(|row| order_row(row)).collect();
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| Cursor {
            key: if sort == OrderSort::Largest { last.total_cents } else { last.at },
            ids: vec![last.id.clone()],
        })
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// One line of an order, as the line export shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLineRow {
    /// The order's document id.
    pub order_id: String,
    /// The product's SKU.
    pub sku: String,
    /// The product's name in the catalog, if it is there.
    pub product_name: Option<String>,
    /// Units ordered.
    pub qty: i64,
    /// Unit price, in cents.
    pub unit_price_cents: i64,
    /// Line total after its discount, in cents.
    pub line_total_cents: i64,
}

/// The lines of `orders`, by order id and then position. The caller has already scoped the
/// orders (they come from a page of [`list_orders`]).
pub async fn lines_of_orders(store: &Store, tenant_id: i64, orders: &[String]) -> Result<Vec<OrderLineRow>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.with(
        "SELECT l.order_id, l.sku, (SELECT MIN(p.name) FROM product_rows p WHERE p.tenant_id = l.tenant_id AND p.sku = l.sku), \
         l.qty, l.unit_price_cents, l.line_total_cents FROM order_lines l WHERE l.tenant_id = ? AND l.order_id IN (",
        [Cell::int(tenant_id)],
    );
    for (n, order) in orders.iter().enumerate() {
        sql.with(if n == 0 { "?" } else { ", ?" }, [text(order)]);
    }
    sql.push(") ORDER BY l.order_id, l.position, l.line_id");
    use CellKind::*;
    Ok(store
        .select(sql.select(vec![Text, Text, Text, Int, Int, Int]))
        .await?
        .iter()
        .filter_map(|row| {
            Some(OrderLineRow {
                order_id: string(&row[0])?,
                sku: string(&row[1]).unwrap_or_default(),
                product_name: string(&row[2]),
                qty: int(&row[3]).unwrap_or(0),
                unit_price_cents: int(&row[4]).unwrap_or(0),
                line_total_cents: int(&row[5]).unwrap_or(0),
            })
        })
        .collect())
}

/// One order waiting on an approver, as the approvals queue shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingRow {
    /// The order's document id.
    pub id: String,
    /// Its readable number.
    pub number: Option<String>,
    /// The step waiting (index, from 0).
    pub step: i64,
    /// The submission under review (what a decision names).
    pub submission: i64,
    /// The rep's username.
    pub rep_name: Option<String>,
    /// The store's name.
    pub store_name: Option<String>,
    /// That store's short code (empty when it has none).
    pub store_code: Option<String>,
    /// Total after line discounts, in cents.
    pub total_cents: i64,
    /// When it was submitted.
    pub at: i64,
    /// The step's deadline, if it has an SLA.
    pub due_at: Option<i64>,
}

/// Most rows the approvals queue shows: more waiting on one person is a backlog to report, not
/// to scroll.
pub const QUEUE_LIMIT: u32 = 500;

/// The orders in `filter` waiting on `approver`: the earliest deadline first (so the overdue
/// ones lead), steps without a deadline after them, oldest submission first; at most
/// [`QUEUE_LIMIT`].
pub async fn waiting_on(
    store: &Store,
    tenant_id: i64,
    filter: &OrderFilter,
    approver: &str,
) -> Result<Vec<WaitingRow>> {
    let mut sql = Sql::default();
    sql.with(
        "SELECT o.order_id, o.order_number, o.current_step, o.reviewed_submission, u.username, s.name, \
         o.total_cents, o.listed_at, o.current_due_at, s.code FROM order_rows o \
         LEFT JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.rep \
         LEFT JOIN store_rows s ON s.tenant_id = o.tenant_id AND s.store_id = o.store_id \
         WHERE o.tenant_id = ?",
        [Cell::int(tenant_id)],
    );
    // The queue searches no text: the filter's other conditions and the approver.
    let filter = OrderFilter { waiting_on: Some(approver.to_owned()), text: None, ..filter.clone() };
    filter.condition(&mut sql, tenant_id, &Search::Any);
    sql.with(
        " ORDER BY CASE WHEN o.current_due_at IS NULL THEN 1 ELSE 0 END, o.current_due_at, o.listed_at, o.order_id LIMIT ?",
        [Cell::int(i64::from(QUEUE_LIMIT))],
    );
    use CellKind::*;
    let rows = store.select(sql.select(vec![Text, Text, Int, Int, Text, Text, Int, Int, Int, Text])).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(WaitingRow {
                id: string(&row[0])?,
                number: string(&row[1]).filter(|n| !n.is_empty()),
                step: int(&row[2])?,
                submission: int(&row[3]).unwrap_or(0),
                rep_name: string(&row[4]),
                store_name: string(&row[5]),
                total_cents: int(&row[6]).unwrap_or(0),
                at: int(&row[7]).unwrap_or(0),
                due_at: int(&row[8]),
                store_code: string(&row[9]),
            })
        })
        .collect())
}

/// One approval step as the approvals report reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepTiming {
    /// The step's index (from 0).
    pub step: i64,
    /// Who was asked first: the approver it escalated from, else its approver (the delegate,
    /// for a delegated step).
    pub approver: String,
    /// The approver's username.
    pub approver_name: Option<String>,
    /// The rules that asked for it (`id: name (policy vN)`, joined by `; `).
    pub rule: String,
    /// `pending`, `approved` or `rejected`.
    pub state: String,
    /// When it started waiting.
    pub started_at: i64,
    /// When it was decided.
    pub decided_at: Option<i64>,
    /// Its deadline.
    pub due_at: Option<i64>,
    /// When it escalated.
    pub escalated_at: Option<i64>,
}

/// Most steps one approvals report reads.
pub const REPORT_LIMIT: u32 = 500_000;

/// The approval steps of orders in `reach` that started waiting in `[since, until)`, in the
/// order they started; at most [`REPORT_LIMIT`].
pub async fn step_timings(
    store: &Store,
    tenant_id: i64,
    reach: &Reach,
    since: i64,
    until: i64,
) -> Result<Vec<StepTiming>> {
    let mut sql = Sql::default();
    sql.with(
        "SELECT s.step, COALESCE(s.escalated_from, s.approver), a.username, s.rule, s.state, s.started_at, s.decided_at, s.due_at, s.escalated_at \
         FROM order_steps s JOIN order_rows o ON o.tenant_id = s.tenant_id AND o.order_id = s.order_id \
         LEFT JOIN users a ON a.tenant_id = s.tenant_id AND a.id = COALESCE(s.escalated_from, s.approver) \
         WHERE s.tenant_id = ? AND s.started_at >= ? AND s.started_at < ?",
        [Cell::int(tenant_id), Cell::int(since), Cell::int(until)],
    );
    reach_condition(&mut sql, reach, &ORDER_REACH);
    sql.with(" ORDER BY s.started_at, s.order_id, s.step LIMIT ?", [Cell::int(i64::from(REPORT_LIMIT))]);
    use CellKind::*;
    let rows = store.select(sql.select(vec![Int, Text, Text, Text, Text, Int, Int, Int, Int])).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(StepTiming {
                step: int(&row[0])?,
                approver: string(&row[1]).unwrap_or_default(),
                approver_name: string(&row[2]),
                rule: string(&row[3]).unwrap_or_default(),
                state: string(&row[4]).unwrap_or_default(),
                started_at: int(&row[5])?,
                decided_at: int(&row[6]),
                due_at: int(&row[7]),
                escalated_at: int(&row[8]),
            })
        })
        .collect())
}

/// A submitted order as the policy what-if re-routes it: its store's tier, region and customer,
/// and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderToRoute {
    /// The order's id.
    pub order_id: String,
    /// Its store's id.
    pub store_id: String,
    /// The store's region.
    pub region: String,
    /// The store's customer tier.
    pub tier: String,
    /// The store's customer id.
    pub customer_id: String,
    /// When it was submitted.
    pub at: i64,
    /// Its lines: id, SKU, quantity, unit price in cents, discount in basis points, position.
    pub lines: Vec<(String, String, i64, i64, i64, i64)>,
}

/// Every order (not a draft) submitted in `[since, until)`, with its lines, for the policy
/// what-if: one query over `order_rows`, `order_lines` and `store_rows`.
pub async fn orders_to_route(store: &Store, tenant_id: i64, since: i64, until: i64) -> Result<Vec<OrderToRoute>> {
    let mut sql = Sql::default();
    sql.with(
        "SELECT o.order_id, o.store_id, COALESCE(s.region, o.region), s.tier, s.customer_id, o.listed_at, \
         l.line_id, l.sku, l.qty, l.unit_price_cents, l.discount_bp, l.position \
         FROM order_rows o JOIN order_lines l ON l.tenant_id = o.tenant_id AND l.order_id = o.order_id \
         LEFT JOIN store_rows s ON s.tenant_id = o.tenant_id AND s.store_id = o.store_id \
         WHERE o.tenant_id = ? AND o.listed_at >= ? AND o.listed_at < ? AND o.list_status <> 'draft' \
         ORDER BY o.order_id, l.position",
        [Cell::int(tenant_id), Cell::int(since), Cell::int(until)],
    );
    use CellKind::*;
    let rows =
        store.select(sql.select(vec![Text, Text, Text, Text, Text, Int, Text, Text, Int, Int, Int, Int])).await?;
    let mut orders: Vec<OrderToRoute> = Vec::new();
    for row in &rows {
        let Some(order_id) = string(&row[0]) else { continue };
        if orders.last().is_none_or(|last| last.order_id != order_id) {
            orders.push(OrderToRoute {
                order_id,
                store_id: string(&row[1]).unwrap_or_default(),
                region: string(&row[2]).unwrap_or_default(),
                tier: string(&row[3]).unwrap_or_default(),
                customer_id: string(&row[4]).unwrap_or_default(),
                at: int(&row[5]).unwrap_or(0),
                lines: Vec::new(),
            });
        }
        if let Some(order) = orders.last_mut() {
            order.lines.push((
                string(&row[6]).unwrap_or_default(),
                string(&row[7]).unwrap_or_default(),
                int(&row[8]).unwrap_or(0),
                int(&row[9]).unwrap_or(0),
                int(&row[10]).unwrap_or(0),
                int(&row[11]).unwrap_or(0),
            ));
        }
    }
    Ok(orders)
}

/// The tiers and regions of the tenant's stores (for checking a policy's conditions).
pub async fn store_tiers_and_regions(store: &Store, tenant_id: i64) -> Result<(Vec<String>, Vec<String>)> {
    let mut sql = Sql::default();
    sql.with("SELECT DISTINCT tier, region FROM store_rows WHERE tenant_id = ?", [Cell::int(tenant_id)]);
    let rows = store.select(sql.select(vec![CellKind::Text, CellKind::Text])).await?;
    let mut tiers: Vec<String> = rows.iter().filter_map(|r| string(&r[0])).collect();
    let mut regions: Vec<String> = rows.iter().filter_map(|r| string(&r[1])).collect();
    tiers.sort();
    tiers.dedup();
    regions.sort();
    regions.dedup();
    Ok((tiers, regions))
}

/// Count and value of the orders a filter covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OrderTotals {
    /// Orders.
    pub count: u64,
    /// Their totals added up, in cents.
    pub total_cents: i64,
}

/// How many orders `filter` covers and what they add up to.
pub async fn order_totals(store: &Store, tenant_id: i64, filter: &OrderFilter) -> Result<OrderTotals> {
    let search = Search::of(store, tenant_id, filter).await?;
    if search == Search::Never {
        return Ok(OrderTotals::default());
    }
    let mut sql = Sql::default();
    sql.with(
        "SELECT COUNT(*), CAST(COALESCE(SUM(o.total_cents), 0) AS BIGINT) FROM order_rows o WHERE o.tenant_id = ?",
        [Cell::int(tenant_id)],
    );
    filter.condition(&mut sql, tenant_id, &search);
    let rows = store.select(sql.select(vec![CellKind::Int, CellKind::Int])).await?;
    Ok(rows
        .first()
        .map(|row| OrderTotals { count: count(&row[0]), total_cents: int(&row[1]).unwrap_or(0) })
        .unwrap_or_default())
}

/// Orders per period: for each `[bounds[i], bounds[i + 1])` the number of orders `filter`
/// covers that were submitted (or created) in it.
pub async fn orders_per_period(
    store: &Store,
    tenant_id: i64,
    filter: &OrderFilter,
    bounds: &[i64],
) -> Result<Vec<u64>> {
    let periods = bounds.len().saturating_sub(1);
    let search = Search::of(store, tenant_id, filter).await?;
    if periods == 0 || search == Search::Never {
        return Ok(vec![0; periods]);
    }
    let mut sql = Sql::default();
    for (i, window) in bounds.windows(2).enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.with(
            &format!(
                "SELECT CAST({i} AS BIGINT), COUNT(*) FROM order_rows o WHERE o.tenant_id = ? AND o.listed_at >= ? AND o.listed_at < ?"
            ),
            [Cell::int(tenant_id), Cell::int(window[0]), Cell::int(window[1])],
        );
        filter.condition(&mut sql, tenant_id, &search);
    }
    let rows = store.select(sql.select(vec![CellKind::Int, CellKind::Int])).await?;
    let mut counts = vec![0; periods];
    for row in rows {
        if let Some(slot) = int(&row[0]).and_then(|i| usize::try_from(i).ok()).and_then(|i| counts.get_mut(i)) {
            *slot = count(&row[1]);
        }
    }
    Ok(counts)
}

/// Upper bounds (exclusive) of the approval-time buckets, in ms; the last bucket has none.
pub const APPROVAL_BOUNDS_MS: [i64; 6] =
    [3_600_000, 4 * 3_600_000, 8 * 3_600_000, 24 * 3_600_000, 48 * 3_600_000, 7 * 24 * 3_600_000];

/// How long approvals took.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApprovalTimes {
    /// Orders decided by an approver.
    pub decided: u64,
    /// The median time from submission to decision, in ms.
    pub median_ms: Option<i64>,
    /// Counts per bucket of [`APPROVAL_BOUNDS_MS`] (one more than the bounds).
    pub buckets: Vec<u64>,
}

/// Times from submission to decision of the orders `filter` covers whose current submission
/// needed an approver and was decided (approved or rejected) at or after `decided_since`. Orders
/// decided by the review alone took no one's time and are left out.
pub async fn approval_times(
    store: &Store,
    tenant_id: i64,
    filter: &OrderFilter,
    decided_since: i64,
) -> Result<ApprovalTimes> {
    // `approval_ms` is set only for such orders (a generated column), so the question is one
    // range of `order_rows_approvals`, a partial index of those orders that also holds what the
    // filters test; a page's window of submission times is tested there too, not used to pick
    // the submissions' index (whose rows would each need a lookup for `approval_ms`).
    let search = Search::of(store, tenant_id, filter).await?;
    if search == Search::Never {
        return Ok(ApprovalTimes { buckets: vec![0; APPROVAL_BOUNDS_MS.len() + 1], ..Default::default() });
    }
    let base = |sql: &mut Sql| {
        sql.with(
            " FROM order_rows o WHERE o.tenant_id = ? AND o.decided_at >= ? AND o.approval_ms IS NOT NULL",
            [Cell::int(tenant_id), Cell::int(decided_since)],
        );
        filter.condition_on(sql, tenant_id, &search, "+o.listed_at");
    };
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*)");
    let mut lower = 0;
    for bound in APPROVAL_BOUNDS_MS {
        sql.with(
            ", CAST(COALESCE(SUM(CASE WHEN o.approval_ms >= ? AND o.approval_ms < ? THEN 1 ELSE 0 END), 0) AS BIGINT)",
            [Cell::int(lower), Cell::int(bound)],
        );
        lower = bound;
    }
    sql.with(", CAST(COALESCE(SUM(CASE WHEN o.approval_ms >= ? THEN 1 ELSE 0 END), 0) AS BIGINT)", [Cell::int(lower)]);
    base(&mut sql);
    let rows = store.select(sql.select(vec![CellKind::Int; APPROVAL_BOUNDS_MS.len() + 2])).await?;
    let Some(row) = rows.first() else { return Ok(ApprovalTimes::default()) };
    let decided = count(&row[0]);
    let buckets = row[1..].iter().map(count).collect();
    if decided == 0 {
        return Ok(ApprovalTimes { decided, median_ms: None, buckets });
    }
    // The middle one or two times, found by the database.
    let mut sql = Sql::default();
    sql.push("SELECT o.approval_ms");
    base(&mut sql);
    let (skip, take) = ((decided - 1) / 2, if decided.is_multiple_of(2) { 2 } else { 1 });
    sql.with(" ORDER BY 1 LIMIT ? OFFSET ?", [Cell::int(take), Cell::int(i64::try_from(skip).unwrap_or(i64::MAX))]);
    let middle: Vec<i64> =
        store.select(sql.select(vec![CellKind::Int])).await?.iter().filter_map(|r| int(&r[0])).collect();
    let median_ms = match middle.as_slice() {
        [one] => Some(*one),
        [a, b] => Some(a.saturating_add(*b) / 2),
        _ => None,
    };
    Ok(ApprovalTimes { decided, median_ms, buckets })
}

/// The newest order time per rep, for the reps given.
pub async fn newest_order_per_rep(
    store: &Store,
    tenant_id: i64,
    reps: &[String],
) -> Result<Vec<(String, Option<i64>)>> {
    let mut out = Vec::with_capacity(reps.len());
    // One index lookup per rep (a max over `order_rows_rep_listed`), in chunks of one query.
    for chunk in reps.chunks(50) {
        let mut sql = Sql::default();
        for (i, rep) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ALL ");
            }
            sql.with(
                "SELECT CAST(? AS TEXT), (SELECT MAX(o.listed_at) FROM order_rows o WHERE o.tenant_id = ? AND o.rep = ?)",
                [text(rep), Cell::int(tenant_id), text(rep)],
            );
        }
        for row in store.select(sql.select(vec![CellKind::Text, CellKind::Int])).await? {
            if let Some(rep) = string(&row[0]) {
                out.push((rep, int(&row[1])));
            }
        }
    }
    Ok(out)
}

/// Units of a product ordered per store: orders `filter` covers that were submitted and not
/// rejected, with a line of `sku`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// The store's id.
    pub store_id: String,
    /// The first such order's time.
    pub first_at: i64,
    /// Units ordered.
    pub units: i64,
    /// Orders.
    pub orders: u64,
}

/// A product's rollout across stores.
pub async fn rollout(store: &Store, tenant_id: i64, filter: &OrderFilter, sku: &str) -> Result<Vec<Rollout>> {
    let search = Search::of(store, tenant_id, filter).await?;
    if search == Search::Never {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.with(
        "SELECT o.store_id, MIN(o.listed_at), CAST(SUM(l.qty) AS BIGINT), COUNT(DISTINCT o.order_id) \
         FROM order_lines l JOIN order_rows o ON o.tenant_id = l.tenant_id AND o.order_id = l.order_id \
         WHERE l.tenant_id = ? AND l.sku = ? AND l.qty > 0 AND o.list_status IN ('submitted', 'needs-approval', 'approved')",
        [Cell::int(tenant_id), text(sku)],
    );
    filter.condition(&mut sql, tenant_id, &search);
    sql.push(" GROUP BY o.store_id");
    use CellKind::*;
    Ok(store
        .select(sql.select(vec![Text, Int, Int, Int]))
        .await?
        .iter()
        .filter_map(|row| {
            Some(Rollout {
                store_id: string(&row[0])?,
                first_at: int(&row[1]).unwrap_or(0),
                units: int(&row[2]).unwrap_or(0),
                orders: count(&row[3]),
            })
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Inspections

/// Which inspections a list or a figure covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionFilter {
    /// Who may see which inspections.
    pub reach: Reach,
    /// `open` or `checked-out`.
    pub status: Option<String>,
    /// A store id.
    pub store_id: Option<String>,
    /// A supervisor's user id.
    pub supervisor: Option<String>,
    /// A region.
    pub region: Option<String>,
    /// Checked in at or after this time.
    pub from: Option<i64>,
    /// Checked in before this time.
    pub to: Option<i64>,
    /// Part of the store's name or code, or the supervisor's username.
    pub text: Option<String>,
    /// Scored at least this (whole points, 0–100).
    pub score_min: Option<i64>,
    /// Scored below this plus one (whole points: 79 takes 79.9, not 80).
    pub score_max: Option<i64>,
}

impl InspectionFilter {
    /// Every inspection the reach gives.
    pub fn all(reach: Reach) -> Self {
        Self {
            reach,
            status: None,
            store_id: None,
            supervisor: None,
            region: None,
            from: None,
            to: None,
            text: None,
            score_min: None,
            score_max: None,
        }
    }

    /// The filter as conditions on `i` (an `inspection_rows` row of tenant `tenant_id`).
    fn condition(&self, sql: &mut Sql, tenant_id: i64) {
        // A row with only a score's columns is not an inspection (`check_in_at` is in every index).
        sql.push(" AND i.check_in_at IS NOT NULL");
        reach_condition(sql, &self.reach, &INSPECTION_REACH);
        if let Some(status) = &self.status {
            sql.with(" AND i.status = ?", [text(status)]);
        }
        if let Some(store) = &self.store_id {
            sql.with(" AND i.store_id = ?", [text(store)]);
        }
        if let Some(supervisor) = &self.supervisor {
            sql.with(" AND i.supervisor = ?", [text(supervisor)]);
        }
        if let Some(region) = &self.region {
            sql.with(" AND i.region = ?", [text(region)]);
        }
        if let Some(from) = self.from {
            sql.with(" AND i.check_in_at >= ?", [Cell::int(from)]);
        }
        if let Some(to) = self.to {
            sql.with(" AND i.check_in_at < ?", [Cell::int(to)]);
        }
        if let Some(min) = self.score_min {
            sql.with(" AND i.score >= ?", [Cell::Real(Some(min as f64))]);
        }
        if let Some(max) = self.score_max {
            sql.with(" AND i.score < ?", [Cell::Real(Some(max as f64 + 1.0))]);
        }
        if let Some(needle) = self.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let pattern = contains_pattern(needle);
            // Uncorrelated subqueries (the tenant as a value): each runs once per query.
            sql.with(
                " AND (i.store_id IN (SELECT s2.store_id FROM store_rows s2 WHERE s2.tenant_id = ? \
                 AND (LOWER(s2.name) LIKE ? ESCAPE '\\' OR LOWER(s2.code) LIKE ? ESCAPE '\\')) \
                 OR i.supervisor IN (SELECT u2.id FROM users u2 WHERE u2.tenant_id = ? AND LOWER(u2.username) LIKE ? ESCAPE '\\'))",
                [Cell::int(tenant_id), text(&pattern), text(&pattern), Cell::int(tenant_id), text(&pattern)],
            );
        }
    }
}

/// One inspection as a list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectionListRow {
    /// The inspection's document id.
    pub id: String,
    /// `open` or `checked-out`.
    pub status: String,
    /// The supervisor's user id.
    pub supervisor: String,
    /// The supervisor's username.
    pub supervisor_name: Option<String>,
    /// The store's id.
    pub store_id: String,
    /// The store's name.
    pub store_name: Option<String>,
    /// That store's short code (empty when it has none).
    pub store_code: Option<String>,
    /// The store's region.
    pub region: Option<String>,
    /// Check-in time.
    pub check_in_at: i64,
    /// Check-out time.
    pub check_out_at: Option<i64>,
    /// Answers given.
    pub answer_count: i64,
    /// Photos taken.
    pub photo_count: i64,
    /// The score, once scored.
    pub score: Option<f64>,
    /// Photos the score trusted.
    pub photos_pass: Option<i64>,
    /// Photos to look at.
    pub photos_review: Option<i64>,
    /// Photos rejected.
    pub photos_rejected: Option<i64>,
    /// Check-in latitude, as the phone reported it (the edge rounds it for roles that may not
    /// see it exactly).
    #[serde(skip)]
    pub latitude: Option<f64>,
    /// Check-in longitude.
    #[serde(skip)]
    pub longitude: Option<f64>,
}

/// A keyset page of inspections, newest check-in first.
pub async fn list_inspections(
    store: &Store,
    tenant_id: i64,
    filter: &InspectionFilter,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<InspectionListRow>> {
    let mut sql = Sql::default();
    sql.with(
        "SELECT i.inspection_id, i.status, i.supervisor, u.username, i.store_id, s.name, i.region, i.check_in_at, \
         i.check_out_at, i.answer_count, i.photo_count, i.score, i.photos_pass, i.photos_review, i.photos_rejected, \
         i.check_in_latitude, i.check_in_longitude, s.code \
         FROM inspection_rows i \
         LEFT JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.supervisor \
         LEFT JOIN store_rows s ON s.tenant_id = i.tenant_id AND s.store_id = i.store_id \
         WHERE i.tenant_id = ?",
        [Cell::int(tenant_id)],
    );
    filter.condition(&mut sql, tenant_id);
    if let Some(after) = after {
        let id = after.ids.first().cloned().unwrap_or_default();
        sql.with(" AND (i.check_in_at, i.inspection_id) < (?, ?)", [Cell::int(after.key), Cell::text(id)]);
    }
    sql.with(" ORDER BY i.check_in_at DESC, i.inspection_id DESC LIMIT ?", [Cell::int(i64::from(limit) + 1)]);
    use CellKind::*;
    let kinds =
        vec![Text, Text, Text, Text, Text, Text, Text, Int, Int, Int, Int, Real, Int, Int, Int, Real, Real, Text];
    let mut rows: Vec<InspectionListRow> = store
        .select(sql.select(kinds))
        .await?
        .iter()
        .filter_map(|row| {
            Some(InspectionListRow {
                id: string(&row[0])?,
                status: string(&row[1])?,
                supervisor: string(&row[2]).unwrap_or_default(),
                supervisor_name: string(&row[3]),
                store_id: string(&row[4]).unwrap_or_default(),
                store_name: string(&row[5]),
                region: string(&row[6]),
                check_in_at: int(&row[7]).unwrap_or(0),
                check_out_at: int(&row[8]),
                answer_count: int(&row[9]).unwrap_or(0),
                photo_count: int(&row[10]).unwrap_or(0),
                score: real(&row[11]),
                photos_pass: int(&row[12]),
                photos_review: int(&row[13]),
                photos_rejected: int(&row[14]),
                latitude: real(&row[15]),
                longitude: real(&row[16]),
                store_code: string(&row[17]),
            })
        })
        .collect();
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| Cursor { key: last.check_in_at, ids: vec![last.id.clone()] })
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// Width of a score bucket, in points of the 0–100 score.
pub const SCORE_BUCKET: f64 = 10.0;

/// What the inspections a filter covers add up to.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InspectionFigures {
    /// Inspections.
    pub count: u64,
    /// Of them, scored.
    pub scored: u64,
    /// Their average score.
    pub average_score: Option<f64>,
    /// Scored inspections per 10-point bucket: `[0, 10)`, …, `[90, 100]`.
    pub score_buckets: Vec<u64>,
}

/// Counts, the average score and the score distribution of the inspections `filter` covers.
pub async fn inspection_figures(store: &Store, tenant_id: i64, filter: &InspectionFilter) -> Result<InspectionFigures> {
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*), COUNT(i.score), AVG(i.score)");
    for bucket in 0..10 {
        let (low, high) = (f64::from(bucket) * SCORE_BUCKET, f64::from(bucket + 1) * SCORE_BUCKET);
        // Scores outside 0–100 count in the nearest bucket; 100 in the last.
        let condition = match bucket {
            0 => "i.score < ?".to_owned(),
            9 => "i.score >= ?".to_owned(),
            _ => "i.score >= ? AND i.score < ?".to_owned(),
        };
        let values = match bucket {
            0 => vec![Cell::Real(Some(high))],
            9 => vec![Cell::Real(Some(low))],
            _ => vec![Cell::Real(Some(low)), Cell::Real(Some(high))],
        };
        sql.with(&format!(", CAST(COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0) AS BIGINT)"), values);
    }
    sql.with(" FROM inspection_rows i WHERE i.tenant_id = ?", [Cell::int(tenant_id)]);
    filter.condition(&mut sql, tenant_id);
    let mut kinds = vec![CellKind::Int, CellKind::Int, CellKind::Real];
    kinds.extend([CellKind::Int; 10]);
    let rows = store.select(sql.select(kinds)).await?;
    let Some(row) = rows.first() else { return Ok(InspectionFigures::default()) };
    Ok(InspectionFigures {
        count: count(&row[0]),
        scored: count(&row[1]),
        average_score: real(&row[2]),
        score_buckets: row[3..].iter().map(count).collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Stores

/// A store with its visits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreVisitRow {
    /// The store's id.
    pub store_id: String,
    /// Its name.
    pub name: String,
    /// Its short code (empty when it has none).
    pub code: String,
    /// Its region.
    pub region: String,
    /// Its address.
    pub address: String,
    /// Its customer tier.
    pub tier: String,
    /// Its rep's username.
    pub rep_name: Option<String>,
    /// Its supervisor's username.
    pub supervisor_name: Option<String>,
    /// The latest check-in the asker can see.
    pub last_visit_at: Option<i64>,
    /// The score of the latest scored visit.
    pub last_score: Option<f64>,
    /// Check-ins since the period's start.
    pub visits_in_period: u64,
}

/// The active stores `stores` reaches, by region then name, with the visits `visits` reaches:
/// the latest, the latest score, and how many since `since`.
pub async fn store_visits(
    store: &Store,
    tenant_id: i64,
    stores: &Reach,
    visits: &Reach,
    since: i64,
) -> Result<Vec<StoreVisitRow>> {
    let mut inner = Sql::default();
    reach_condition(&mut inner, visits, &INSPECTION_REACH);
    let visit_reach = inner.text;
    let visit_params = inner.params;
    let mut sql = Sql::default();
    sql.push("SELECT s.store_id, s.name, s.region, s.address, s.tier, ru.username, su.username, s.code, ");
    sql.with(
        &format!("(SELECT MAX(i.check_in_at) FROM inspection_rows i WHERE i.tenant_id = s.tenant_id AND i.store_id = s.store_id AND i.check_in_at IS NOT NULL{visit_reach}), "),
        visit_params.clone(),
    );
    sql.with(
        &format!("(SELECT i.score FROM inspection_rows i WHERE i.tenant_id = s.tenant_id AND i.store_id = s.store_id AND i.score IS NOT NULL{visit_reach} ORDER BY i.check_in_at DESC, i.inspection_id DESC LIMIT 1), "),
        visit_params.clone(),
    );
    let mut params = visit_params;
    params.insert(0, Cell::int(since));
    sql.with(
        &format!("(SELECT COUNT(*) FROM inspection_rows i WHERE i.tenant_id = s.tenant_id AND i.store_id = s.store_id AND i.check_in_at >= ?{visit_reach})"),
        params,
    );
    sql.with(
        " FROM store_rows s LEFT JOIN users ru ON ru.tenant_id = s.tenant_id AND ru.id = s.rep \
         LEFT JOIN users su ON su.tenant_id = s.tenant_id AND su.id = s.supervisor \
         WHERE s.tenant_id = ? AND s.active = 1",
        [Cell::int(tenant_id)],
    );
    reach_condition(&mut sql, stores, &STORE_REACH);
    sql.push(" ORDER BY s.region, s.name, s.store_id");
    use CellKind::*;
    Ok(store
        .select(sql.select(vec![Text, Text, Text, Text, Text, Text, Text, Text, Int, Real, Int]))
        .await?
        .iter()
        .filter_map(|row| {
            Some(StoreVisitRow {
                store_id: string(&row[0])?,
                name: string(&row[1]).unwrap_or_default(),
                region: string(&row[2]).unwrap_or_default(),
                address: string(&row[3]).unwrap_or_default(),
                tier: string(&row[4]).unwrap_or_default(),
                rep_name: string(&row[5]),
                supervisor_name: string(&row[6]),
                code: string(&row[7]).unwrap_or_default(),
                last_visit_at: int(&row[8]),
                last_score: real(&row[9]),
                visits_in_period: count(&row[10]),
            })
        })
        .collect())
}

/// A store as a drop-down offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreName {
    /// The store's document id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its short code (empty when it has none).
    pub code: String,
    /// Its region.
    pub region: String,
}

/// Names of the stores `stores` reaches (active or not), by name, then code.
pub async fn store_names(store: &Store, tenant_id: i64, stores: &Reach) -> Result<Vec<StoreName>> {
    let mut sql = Sql::default();
    sql.with(
        "SELECT s.store_id, s.name, s.code, s.region FROM store_rows s WHERE s.tenant_id = ?",
        [Cell::int(tenant_id)],
    );
    reach_condition(&mut sql, stores, &STORE_REACH);
    sql.push(" ORDER BY s.name, s.code, s.region, s.store_id");
    use CellKind::*;
    Ok(store
        .select(sql.select(vec![Text, Text, Text, Text]))
        .await?
        .iter()
        .filter_map(|row| {
            Some(StoreName {
                id: string(&row[0])?,
                name: string(&row[1]).unwrap_or_default(),
                code: string(&row[2]).unwrap_or_default(),
                region: string(&row[3]).unwrap_or_default(),
            })
        })
        .collect())
}

/// A column that names one store in the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKey {
    /// The short code.
    Code,
    /// The customer id.
    CustomerId,
}

/// The tenant's stores whose `key` is `value`, as (id, name) (the read model's copy of the
/// documents).
pub async fn stores_with(store: &Store, tenant_id: i64, key: StoreKey, value: &str) -> Result<Vec<(String, String)>> {
    let column = match key {
        StoreKey::Code => "s.code",
        StoreKey::CustomerId => "s.customer_id",
    };
    let mut sql = Sql::default();
    sql.with(
        &format!(
            "SELECT s.store_id, s.name FROM store_rows s WHERE s.tenant_id = ? AND {column} = ? ORDER BY s.store_id"
        ),
        [Cell::int(tenant_id), text(value)],
    );
    Ok(store
        .select(sql.select(vec![CellKind::Text, CellKind::Text]))
        .await?
        .iter()
        .filter_map(|row| Some((string(&row[0])?, string(&row[1]).unwrap_or_default())))
        .collect())
}

/// Which stores a store list covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFilter {
    /// Which stores the asker may see.
    pub reach: Reach,
    /// Part of the name, code, address or customer id (any case).
    pub text: Option<String>,
    /// A region.
    pub region: Option<String>,
    /// Served (`true`) or closed (`false`) stores only.
    pub active: Option<bool>,
}

impl StoreFilter {
    fn condition(&self, sql: &mut Sql) {
        reach_condition(sql, &self.reach, &STORE_REACH);
        if let Some(region) = &self.region {
            sql.with(" AND s.region = ?", [text(region)]);
        }
        if let Some(active) = self.active {
            sql.with(" AND s.active = ?", [Cell::int(i64::from(active))]);
        }
        if let Some(needle) = &self.text {
            let pattern = contains_pattern(needle);
            sql.with(
                " AND (LOWER(s.name) LIKE ? ESCAPE '\\' OR LOWER(s.code) LIKE ? ESCAPE '\\' \
                 OR LOWER(COALESCE(s.address, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(s.customer_id, '')) LIKE ? ESCAPE '\\')",
                [text(&pattern), text(&pattern), text(&pattern), text(&pattern)],
            );
        }
    }
}

/// One store as the store list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreListRow {
    /// The store's document id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its short code (empty when it has none).
    pub code: String,
    /// Its address.
    pub address: String,
    /// Its region.
    pub region: String,
    /// Its customer tier.
    pub tier: String,
    /// The customer it bills to.
    pub customer_id: String,
    /// Its rep's username.
    pub rep_name: Option<String>,
    /// Its supervisor's username.
    pub supervisor_name: Option<String>,
    /// Whether it is served.
    pub active: bool,
}

const STORE_ORDER: &str = "s.name, s.code, s.store_id";

/// A keyset page of stores, by name, then code, then id.
pub async fn list_stores(
    store: &Store,
    tenant_id: i64,
    filter: &StoreFilter,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<StoreListRow>> {
    let mut sql = Sql::default();
    sql.with(
        "SELECT s.store_id, s.name, s.code, s.address, s.region, s.tier, s.customer_id, ru.username, su.username, s.active \
         FROM store_rows s LEFT JOIN users ru ON ru.tenant_id = s.tenant_id AND ru.id = s.rep \
         LEFT JOIN users su ON su.tenant_id = s.tenant_id AND su.id = s.supervisor \
         WHERE s.tenant_id = ?",
        [Cell::int(tenant_id)],
    );
    filter.condition(&mut sql);
    if let Some(after) = after {
        let id = |i: usize| Cell::text(after.ids.get(i).cloned().unwrap_or_default());
        sql.with(&format!(" AND ({STORE_ORDER}) > (?, ?, ?)"), [id(0), id(1), id(2)]);
    }
    sql.with(&format!(" ORDER BY {STORE_ORDER} LIMIT ?"), [Cell::int(i64::from(limit) + 1)]);
    use CellKind::*;
    let mut rows: Vec<StoreListRow> = store
        .select(sql.select(vec![Text, Text, Text, Text, Text, Text, Text, Text, Text, Int]))
        .await?
        .iter()
        .filter_map(|row| {
            Some(StoreListRow {
                id: string(&row[0])?,
                name: string(&row[1]).unwrap_or_default(),
                code: string(&row[2]).unwrap_or_default(),
                address: string(&row[3]).unwrap_or_default(),
                region: string(&row[4]).unwrap_or_default(),
                tier: string(&row[5]).unwrap_or_default(),
                customer_id: string(&row[6]).unwrap_or_default(),
                rep_name: string(&row[7]),
                supervisor_name: string(&row[8]),
                active: int(&row[9]).unwrap_or(0) != 0,
            })
        })
        .collect();
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| Cursor { key: 0, ids: vec![last.name.clone(), last.code.clone(), last.id.clone()] })
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// How many stores a filter covers.
pub async fn count_stores(store: &Store, tenant_id: i64, filter: &StoreFilter) -> Result<u64> {
    let mut sql = Sql::default();
    sql.with("SELECT COUNT(*) FROM store_rows s WHERE s.tenant_id = ?", [Cell::int(tenant_id)]);
    filter.condition(&mut sql);
    Ok(store.select(sql.select(vec![CellKind::Int])).await?.first().map_or(0, |row| count(&row[0])))
}

// ---------------------------------------------------------------------------------------------
// Alerts

/// Which alerts a list covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFilter {
    /// Whose alerts the asker may see.
    pub reach: Reach,
    /// `open` or `closed`.
    pub state: Option<String>,
    /// What raised them (`low-stock`, …).
    pub kind: Option<String>,
    /// A store id.
    pub store_id: Option<String>,
    /// Raised at or after this time.
    pub from: Option<i64>,
    /// Raised before this time.
    pub to: Option<i64>,
}

impl AlertFilter {
    /// Every alert the reach gives.
    pub fn all(reach: Reach) -> Self {
        Self { reach, state: None, kind: None, store_id: None, from: None, to: None }
    }

    fn condition(&self, sql: &mut Sql) {
        reach_condition(sql, &self.reach, &ALERT_REACH);
        if let Some(state) = &self.state {
            sql.with(" AND al.state = ?", [text(state)]);
        }
        if let Some(kind) = &self.kind {
            sql.with(" AND al.kind = ?", [text(kind)]);
        }
        if let Some(store) = &self.store_id {
            sql.with(" AND al.store_id = ?", [text(store)]);
        }
        if let Some(from) = self.from {
            sql.with(" AND al.raised_at >= ?", [Cell::int(from)]);
        }
        if let Some(to) = self.to {
            sql.with(" AND al.raised_at < ?", [Cell::int(to)]);
        }
    }
}

/// One alert as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertListRow {
    /// The inbox that holds it.
    pub inbox_id: String,
    /// Its id in the inbox.
    pub alert_id: String,
    /// The user it is for.
    pub owner: String,
    /// That user's username.
    pub owner_name: Option<String>,
    /// What raised it.
    pub kind: String,
    /// Its title.
    pub title: String,
    /// What it says in full.
    pub detail: String,
    /// Title and detail as codes with arguments (`None` for alerts raised before alerts had
    /// codes): `services::alerts::text` renders them in the reader's language.
    pub texts: Option<AlertTexts>,
    /// The store it is about.
    pub store_id: Option<String>,
    /// That store's name.
    pub store_name: Option<String>,
    /// That store's short code (empty when it has none).
    pub store_code: Option<String>,
    /// The product it is about.
    pub sku: Option<String>,
    /// That product's name.
    pub product_name: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// When it was raised.
    pub raised_at: i64,
    /// When it was closed.
    pub closed_at: Option<i64>,
}

/// An alert's stored texts (JSON); `None` when absent or unreadable, which reads as English.
fn alert_texts(cell: &Cell) -> Option<AlertTexts> {
    serde_json::from_str(&string(cell)?).ok()
}

/// A keyset page of alerts, newest first.
pub async fn list_alerts(
    store: &Store,
    tenant_id: i64,
    filter: &AlertFilter,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<AlertListRow>> {
    let mut sql = Sql::default();
    sql.with(
        "SELECT al.inbox_id, al.alert_id, al.owner, u.username, al.kind, al.title, al.detail, al.store_id, s.name, al.sku, \
         (SELECT MIN(p.name) FROM product_rows p WHERE p.tenant_id = al.tenant_id AND p.sku = al.sku), al.state, al.raised_at, al.closed_at, s.code, \
         al.texts \
         FROM alert_rows al \
         LEFT JOIN users u ON u.tenant_id = al.tenant_id AND u.id = al.owner \
         LEFT JOIN store_rows s ON s.tenant_id = al.tenant_id AND s.store_id = al.store_id \
         WHERE al.tenant_id = ?",
        [Cell::int(tenant_id)],
    );
    filter.condition(&mut sql);
    if let Some(after) = after {
        let inbox = after.ids.first().cloned().unwrap_or_default();
        let alert = after.ids.get(1).cloned().unwrap_or_default();
        sql.with(
            " AND (al.raised_at, al.inbox_id, al.alert_id) < (?, ?, ?)",
            [Cell::int(after.key), Cell::text(inbox), Cell::text(alert)],
        );
    }
    sql.with(
        " ORDER BY al.raised_at DESC, al.inbox_id DESC, al.alert_id DESC LIMIT ?",
        [Cell::int(i64::from(limit) + 1)],
    );
    use CellKind::*;
    let kinds = vec![Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Text, Int, Int, Text, Text];
    let mut rows: Vec<AlertListRow> = store
        .select(sql.select(kinds))
        .await?
        .iter()
        .filter_map(|row| {
            Some(AlertListRow {
                inbox_id: string(&row[0])?,
                alert_id: string(&row[1])?,
                owner: string(&row[2]).unwrap_or_default(),
                owner_name: string(&row[3]),
                kind: string(&row[4]).unwrap_or_default(),
                title: string(&row[5]).unwrap_or_default(),
                detail: string(&row[6]).unwrap_or_default(),
                texts: alert_texts(&row[15]),
                store_id: string(&row[7]),
                store_name: string(&row[8]),
                sku: string(&row[9]),
                product_name: string(&row[10]),
                state: string(&row[11]).unwrap_or_default(),
                raised_at: int(&row[12]).unwrap_or(0),
                closed_at: int(&row[13]),
                store_code: string(&row[14]),
            })
        })
        .collect();
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| Cursor { key: last.raised_at, ids: vec![last.inbox_id.clone(), last.alert_id.clone()] })
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// How many alerts `filter` covers.
pub async fn count_alerts(store: &Store, tenant_id: i64, filter: &AlertFilter) -> Result<u64> {
    let mut sql = Sql::default();
    sql.with("SELECT COUNT(*) FROM alert_rows al WHERE al.tenant_id = ?", [Cell::int(tenant_id)]);
    filter.condition(&mut sql);
    let rows = store.select(sql.select(vec![CellKind::Int])).await?;
    Ok(rows.first().map_or(0, |row| count(&row[0])))
}

/// Which alert causes a list covers: one row per cause key, however many inboxes hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCauseFilter {
    /// Whose inboxes the asker may see; a user also reaches the alerts assigned to them.
    pub reach: Reach,
    /// `open` (open in some inbox) or `closed` (closed in every inbox).
    pub state: Option<String>,
    /// `Some(false)`: leave out the causes snoozed at [`AlertCauseFilter::now`]; `Some(true)`:
    /// only those.
    pub snoozed: Option<bool>,
    /// What raised them (`low-stock`, …).
    pub kind: Option<String>,
    /// A store id.
    pub store_id: Option<String>,
    /// Raised at or after this time.
    pub from: Option<i64>,
    /// Raised before this time.
    pub to: Option<i64>,
    /// Part of the title, the store's name or code, or the product's name or SKU.
    pub text: Option<String>,
    /// One cause key.
    pub key: Option<String>,
    /// The time snoozes are compared with.
    pub now: i64,
}

impl AlertCauseFilter {
    /// Every open cause the reach gives, snoozed or not.
    pub fn open(reach: Reach, now: i64) -> Self {
        Self {
            reach,
            state: Some("open".to_owned()),
            snoozed: None,
            kind: None,
            store_id: None,
            from: None,
            to: None,
            text: None,
            key: None,
            now,
        }
    }

    /// The grouped rows as a parenthesized subquery (one row per cause key, with its sort columns
    /// and its triage), filtered; the caller names it `c`.
    fn grouped(&self, sql: &mut Sql, tenant_id: i64) {
        sql.with(
            "(SELECT g.alert_id, g.kind, g.title, g.detail, g.store_id, s.name AS store_name, s.code AS store_code, g.sku, \
             (SELECT MIN(p.name) FROM product_rows p WHERE p.tenant_id = ? AND p.sku = g.sku) AS product_name, \
             g.state, g.raised_at, g.closed_at, g.recipients, g.texts, \
             t.acknowledged_by, t.acknowledged_at, t.acknowledged_note, t.snoozed_until, t.snoozed_by, t.assignee \
             FROM (SELECT al.alert_id, MIN(al.kind) AS kind, MIN(al.title) AS title, MIN(al.detail) AS detail, \
             MIN(al.store_id) AS store_id, MIN(al.sku) AS sku, MAX(al.state) AS state, MAX(al.raised_at) AS raised_at, \
             MAX(al.closed_at) AS closed_at, COUNT(*) AS recipients, MIN(al.texts) AS texts \
             FROM alert_rows al WHERE al.tenant_id = ?",
            [Cell::int(tenant_id), Cell::int(tenant_id)],
        );
        match &self.reach {
            Reach::All => {}
            Reach::Owner(user) => {
                sql.with(
                    " AND (al.owner = ? OR EXISTS (SELECT 1 FROM alert_triage a WHERE a.tenant_id = al.tenant_id \
                     AND a.alert_key = al.alert_id AND a.assignee = ?))",
                    [text(user), text(user)],
                );
            }
            Reach::Region(_) | Reach::Supervisor(_) | Reach::Nothing => {
                sql.push(" AND 1 = 0");
            }
        }
        if let Some(key) = &self.key {
            sql.with(" AND al.alert_id = ?", [text(key)]);
        }
        // A cause is open while any inbox holds it open: its open rows alone say so, and only
        // they need grouping.
        if self.state.as_deref() == Some("open") {
            sql.push(" AND al.state = 'open'");
        }
        if let Some(kind) = &self.kind {
            sql.with(" AND al.kind = ?", [text(kind)]);
        }
        if let Some(store) = &self.store_id {
            sql.with(" AND al.store_id = ?", [text(store)]);
        }
        sql.push(" GROUP BY al.alert_id) g");
        sql.with(
            " LEFT JOIN store_rows s ON s.tenant_id = ? AND s.store_id = g.store_id \
             LEFT JOIN alert_triage t ON t.tenant_id = ? AND t.alert_key = g.alert_id",
            [Cell::int(tenant_id), Cell::int(tenant_id)],
        );
        sql.push(" WHERE 1 = 1");
        // The state of a cause is open while any inbox holds it open ('open' > 'closed').
        if let Some(state) = &self.state {
            sql.with(" AND g.state = ?", [text(state)]);
        }
        if let Some(from) = self.from {
            sql.with(" AND g.raised_at >= ?", [Cell::int(from)]);
        }
        if let Some(to) = self.to {
            sql.with(" AND g.raised_at < ?", [Cell::int(to)]);
        }
        match self.snoozed {
            Some(false) => sql.with(" AND (t.snoozed_until IS NULL OR t.snoozed_until <= ?)", [Cell::int(self.now)]),
            Some(true) => sql.with(" AND t.snoozed_until > ?", [Cell::int(self.now)]),
            None => sql,
        };
        if let Some(needle) = &self.text {
            let pattern = contains_pattern(needle);
            sql.with(
                " AND (LOWER(g.title) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(s.name, '')) LIKE ? ESCAPE '\\' \
                 OR LOWER(COALESCE(s.code, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(g.sku, '')) LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM product_rows p \
                 WHERE p.tenant_id = ? AND p.sku = g.sku AND LOWER(p.name) LIKE ? ESCAPE '\\'))",
                [text(&pattern), text(&pattern), text(&pattern), text(&pattern), Cell::int(tenant_id), text(&pattern)],
            );
        }
        sql.push(")");
    }
}

/// One alert cause as the alerts page shows it, with what people did about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertCauseRow {
    /// The cause key (`low-stock:{warehouse}/{region}:{sku}`, …): the alert's id.
    pub key: String,
    /// What raised it.
    pub kind: String,
    /// Its title.
    pub title: String,
    /// What it says in full.
    pub detail: String,
    /// Title and detail as codes with arguments (`None` for alerts raised before alerts had
    /// codes): `services::alerts::text` renders them in the reader's language. Not in the JSON,
    /// which keeps the English texts.
    #[serde(skip)]
    pub texts: Option<AlertTexts>,
    /// The store it is about.
    pub store_id: Option<String>,
    /// That store's name.
    pub store_name: Option<String>,
    /// That store's short code (empty when it has none).
    pub store_code: Option<String>,
    /// The product it is about.
    pub sku: Option<String>,
    /// That product's name.
    pub product_name: Option<String>,
    /// `open` while any inbox holds it open, else `closed`.
    pub state: String,
    /// When it was (last) raised.
    pub raised_at: i64,
    /// When it was closed, if it is.
    pub closed_at: Option<i64>,
    /// How many people's inboxes hold it.
    pub recipients: u64,
    /// Who acknowledged it (user id).
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<i64>,
    /// Their note.
    pub acknowledged_note: Option<String>,
    /// Snoozed until this time.
    pub snoozed_until: Option<i64>,
    /// Who snoozed it (user id).
    pub snoozed_by: Option<String>,
    /// Whom it was reassigned to (user id).
    pub assignee: Option<String>,
}

const CAUSE_ORDER: &str = "c.kind, COALESCE(c.store_name, ''), COALESCE(c.product_name, c.sku, ''), c.alert_id";

/// A keyset page of alert causes, grouped: by kind, then store name, then product, then key.
pub async fn list_alert_causes(
    store: &Store,
    tenant_id: i64,
    filter: &AlertCauseFilter,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<AlertCauseRow>> {
    Ok(select_alert_causes(store, tenant_id, filter, after, limit, false).await?.0)
}

/// A keyset page of alert causes ([`list_alert_causes`]) and how many causes `filter` covers on
/// every page, from one grouping of the alert rows: grouping is most of the cost, and a page
/// that counts them apart groups them twice.
pub async fn list_alert_causes_counted(
    store: &Store,
    tenant_id: i64,
    filter: &AlertCauseFilter,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<(Page<AlertCauseRow>, u64)> {
    let (page, total) = select_alert_causes(store, tenant_id, filter, after, limit, true).await?;
    Ok((page, total.unwrap_or(0)))
}

async fn select_alert_causes(
    store: &Store,
    tenant_id: i64,
    filter: &AlertCauseFilter,
    after: Option<&Cursor>,
    limit: u32,
    counted: bool,
) -> Result<(Page<AlertCauseRow>, Option<u64>)> {
    const COLUMNS: &str = "SELECT c.alert_id, c.kind, c.title, c.detail, c.store_id, c.store_name, c.sku, \
         c.product_name, c.state, c.raised_at, c.closed_at, c.recipients, c.acknowledged_by, c.acknowledged_at, \
         c.acknowledged_note, c.snoozed_until, c.snoozed_by, c.assignee, c.store_code, c.texts";
    use CellKind::*;
    let mut kinds = vec![
        Text, Text, Text, Text, Text, Text, Text, Text, Text, Int, Int, Int, Text, Int, Text, Int, Text, Text, Text,
        Text,
    ];
    let mut sql = Sql::default();
    if counted {
        // Grouped once, read twice: the page and the count (both backends honour MATERIALIZED).
        sql.push("WITH c AS MATERIALIZED ");
        filter.grouped(&mut sql, tenant_id);
        sql.push(&format!(" {COLUMNS}, (SELECT COUNT(*) FROM c) FROM c"));
        kinds.push(Int);
    } else {
        sql.push(&format!("{COLUMNS} FROM "));
        filter.grouped(&mut sql, tenant_id);
        sql.push(" c");
    }
    if let Some(after) = after {
        let id = |i: usize| Cell::text(after.ids.get(i).cloned().unwrap_or_default());
        sql.with(&format!(" WHERE ({CAUSE_ORDER}) > (?, ?, ?, ?)"), [id(0), id(1), id(2), id(3)]);
    }
    sql.with(&format!(" ORDER BY {CAUSE_ORDER} LIMIT ?"), [Cell::int(i64::from(limit) + 1)]);
    let selected = store.select(sql.select(kinds)).await?;
    let total = if counted {
        match selected.first() {
            Some(row) => Some(count(&row[20])),
            // An empty page (or one past the end) still needs the count.
            None => Some(count_alert_causes(store, tenant_id, filter).await?),
        }
    } else {
        None
    };
    let mut rows: Vec<AlertCauseRow> = selected
        .iter()
        .filter_map(|row| {
            Some(AlertCauseRow {
                key: string(&row[0])?,
                kind: string(&row[1]).unwrap_or_default(),
                title: string(&row[2]).unwrap_or_default(),
                detail: string(&row[3]).unwrap_or_default(),
                texts: alert_texts(&row[19]),
                store_id: string(&row[4]),
                store_name: string(&row[5]),
                sku: string(&row[6]),
                product_name: string(&row[7]),
                state: string(&row[8]).unwrap_or_default(),
                raised_at: int(&row[9]).unwrap_or(0),
                closed_at: int(&row[10]),
                recipients: count(&row[11]),
                acknowledged_by: string(&row[12]),
                acknowledged_at: int(&row[13]),
                acknowledged_note: string(&row[14]),
                snoozed_until: int(&row[15]),
                snoozed_by: string(&row[16]),
                assignee: string(&row[17]),
                store_code: string(&row[18]),
            })
        })
        .collect();
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| Cursor {
            key: 0,
            ids: vec![
                last.kind.clone(),
                last.store_name.clone().unwrap_or_default(),
                last.product_name.clone().or_else(|| last.sku.clone()).unwrap_or_default(),
                last.key.clone(),
            ],
        })
    } else {
        None
    };
    Ok((Page { rows, next }, total))
}

/// How many alert causes `filter` covers.
pub async fn count_alert_causes(store: &Store, tenant_id: i64, filter: &AlertCauseFilter) -> Result<u64> {
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*) FROM ");
    filter.grouped(&mut sql, tenant_id);
    sql.push(" c");
    let rows = store.select(sql.select(vec![CellKind::Int])).await?;
    Ok(rows.first().map_or(0, |row| count(&row[0])))
}

/// The user ids whose inboxes hold each of `keys` open, by key.
pub async fn alert_recipients(store: &Store, tenant_id: i64, keys: &[String]) -> Result<Vec<(String, String)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.with(
        "SELECT al.alert_id, al.owner FROM alert_rows al WHERE al.tenant_id = ? AND al.state = 'open' AND al.alert_id IN (",
        [Cell::int(tenant_id)],
    );
    for (i, key) in keys.iter().enumerate() {
        sql.with(if i == 0 { "?" } else { ", ?" }, [text(key)]);
    }
    sql.push(") ORDER BY al.alert_id, al.owner");
    let rows = store.select(sql.select(vec![CellKind::Text, CellKind::Text])).await?;
    Ok(rows.iter().filter_map(|row| Some((string(&row[0])?, string(&row[1])?))).collect())
}

/// One recorded triage action, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertActionRow {
    /// The cause key.
    pub key: String,
    /// `acknowledge`, `snooze` or `reassign`.
    pub action: String,
    /// Who (user id).
    pub actor: String,
    /// When.
    pub at: i64,
    /// An acknowledgement's note.
    pub note: Option<String>,
    /// A snooze's end.
    pub snoozed_until: Option<i64>,
    /// A reassignment's new owner (user id).
    pub assignee: Option<String>,
}

/// The triage history of `keys`, oldest first.
pub async fn alert_actions(store: &Store, tenant_id: i64, keys: &[String]) -> Result<Vec<AlertActionRow>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.with(
        "SELECT alert_key, action, actor, at, note, snoozed_until, assignee FROM alert_actions \
         WHERE tenant_id = ? AND alert_key IN (",
        [Cell::int(tenant_id)],
    );
    for (i, key) in keys.iter().enumerate() {
        sql.with(if i == 0 { "?" } else { ", ?" }, [text(key)]);
    }
    sql.push(") ORDER BY at, id");
    use CellKind::*;
    let rows = store.select(sql.select(vec![Text, Text, Text, Int, Text, Int, Text])).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(AlertActionRow {
                key: string(&row[0])?,
                action: string(&row[1])?,
                actor: string(&row[2]).unwrap_or_default(),
                at: int(&row[3]).unwrap_or(0),
                note: string(&row[4]),
                snoozed_until: int(&row[5]),
                assignee: string(&row[6]),
            })
        })
        .collect())
}

/// Inboxes holding alerts closed before `before`, which retention prunes.
pub async fn inboxes_with_alerts_closed_before(store: &Store, tenant_id: i64, before: i64) -> Result<Vec<String>> {
    let mut sql = Sql::default();
    sql.with(
        "SELECT DISTINCT al.inbox_id FROM alert_rows al WHERE al.tenant_id = ? AND al.state = 'closed' AND al.closed_at < ?",
        [Cell::int(tenant_id), Cell::int(before)],
    );
    let rows = store.select(sql.select(vec![CellKind::Text])).await?;
    Ok(rows.iter().filter_map(|row| string(&row[0])).collect())
}

/// The inboxes that hold `key` open.
pub async fn inboxes_holding_open(store: &Store, tenant_id: i64, key: &str) -> Result<Vec<String>> {
    let mut sql = Sql::default();
    sql.with(
        "SELECT al.inbox_id FROM alert_rows al WHERE al.tenant_id = ? AND al.alert_id = ? AND al.state = 'open'",
        [Cell::int(tenant_id), text(key)],
    );
    let rows = store.select(sql.select(vec![CellKind::Text])).await?;
    Ok(rows.iter().filter_map(|row| string(&row[0])).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cursor_survives_its_token_and_a_forged_token_is_refused() {
        let cursor = Cursor { key: 1_700_000_000_000, ids: vec!["inbox-1".into(), "a/b~c".into()] };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for forged in ["zz", "abc", "7b7d", &"0".repeat(4_000)] {
            assert!(Cursor::decode(forged).is_err(), "{forged}");
        }
    }

    #[test]
    fn search_text_is_matched_literally_and_without_case() {
        assert_eq!(contains_pattern(" 50%_Off\\ "), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern("上海"), "%上海%");
    }
}
