//! Orders on the phone: drafts, lines, submission, and lists served from the index.

use std::collections::BTreeMap;

use automerge::{ROOT, ReadDoc};
use rusqlite::types::Value;

use super::LocalStore;
use crate::clock::now_ms;
use crate::doc::{Catalog, DocKind, Order, OrderLine, OrderStatus, Product, RetailStore};
use crate::error::{Error, Result};
use crate::id::DocumentId;

/// A new order: the store, its first lines and notes. Committed in one transaction.
#[derive(Debug, Clone, Default)]
pub struct NewOrder {
    /// The store's document id.
    pub store_id: String,
    /// Initial lines (may be empty).
    pub lines: Vec<LineInput>,
    /// Notes for the back office.
    pub notes: String,
}

/// One order line as the rep enters it.
#[derive(Debug, Clone, PartialEq)]
pub struct LineInput {
    /// Product SKU; must be an active product of the catalog on this device.
    pub sku: String,
    /// Quantity, at least 1.
    pub qty: i64,
    /// Unit price in cents, not negative.
    pub unit_price_cents: i64,
    /// Discount in basis points, 0..=10000.
    pub discount_bp: i64,
}

/// Which orders to list. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Only orders in this state.
    pub status: Option<OrderStatus>,
    /// Only orders for this store.
    pub store_id: Option<String>,
    /// Only orders created at or after this time (ms since the Unix epoch).
    pub created_from: Option<i64>,
    /// Only orders created before this time (ms since the Unix epoch).
    pub created_to: Option<i64>,
    /// At most this many, newest first.
    pub limit: Option<u32>,
}

/// One row of an order list, read from the index without loading the order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSummary {
    /// The order's document id.
    pub id: DocumentId,
    /// Draft or submitted.
    pub status: String,
    /// The store.
    pub store_id: String,
    /// The customer billed.
    pub customer_id: String,
    /// The rep.
    pub owner: String,
    /// Creation time, ms since the Unix epoch.
    pub created_at: i64,
    /// Last edit, ms since the Unix epoch.
    pub updated_at: i64,
    /// Total after discounts, in cents.
    pub total_cents: i64,
    /// Number of lines.
    pub line_count: i64,
}

impl LocalStore {
    /// Creates an order for a store, owned by the signed-in user, with its first lines.
    pub fn create_order(&self, new: NewOrder) -> Result<DocumentId> {
        let identity = self.require_identity()?;
        let store_id: DocumentId = new.store_id.parse()?;
        let store: RetailStore = self.get(&store_id)?;
        let mut lines = BTreeMap::new();
        for (position, input) in new.lines.iter().enumerate() {
            self.validate_line(input)?;
            lines.insert(crate::id::short_id(), to_line(input, position as i64));
        }
        let now = now_ms();
        let order = Order {
            owner: identity.user_id,
            store_id: store_id.to_string(),
            customer_id: store.customer_id,
            status: OrderStatus::Draft,
            lines,
            notes: new.notes,
            created_at: now,
            updated_at: now,
            submitted_at: None,
            submission: 0,
        };
        self.create_doc(&order, |_| Ok(()))
    }

    /// Reads an order.
    pub fn order(&self, id: &DocumentId) -> Result<Order> {
        self.get(id)
    }

    /// Adds a line to a draft order; returns the new line's id.
    pub fn add_line(&self, order_id: &DocumentId, line: LineInput) -> Result<String> {
        self.validate_line(&line)?;
        self.edit_draft(order_id, "add a line", |order| {
            let position = order.lines.values().map(|l| l.position + 1).max().unwrap_or(0);
            let line_id = crate::id::short_id();
            order.lines.insert(line_id.clone(), to_line(&line, position));
            Ok(line_id)
        })
    }

    /// Replaces the product, quantity, price and discount of a line of a draft order.
    pub fn update_line(&self, order_id: &DocumentId, line_id: &str, line: LineInput) -> Result<()> {
        self.validate_line(&line)?;
        self.edit_draft(order_id, "edit a line", |order| {
            let existing = order.lines.get_mut(line_id).ok_or_else(|| unknown_line(order_id, line_id))?;
            *existing = to_line(&line, existing.position);
            Ok(())
        })
    }

    /// Removes a line from a draft order.
    pub fn remove_line(&self, order_id: &DocumentId, line_id: &str) -> Result<()> {
        self.edit_draft(order_id, "remove a line", |order| {
            order.lines.remove(line_id).map(|_| ()).ok_or_else(|| unknown_line(order_id, line_id))
        })
    }

    /// Replaces the notes of a draft order.
    pub fn set_notes(&self, order_id: &DocumentId, notes: &str) -> Result<()> {
        self.edit_draft(order_id, "edit the notes", |order| {
            order.notes = notes.to_owned();
            Ok(())
        })
    }

    /// Submits a draft order for review. It must have at least one line.
    pub fn submit_order(&self, order_id: &DocumentId) -> Result<()> {
        self.edit_draft(order_id, "submit it", |order| {
            if order.lines.is_empty() {
                return Err(Error::InvalidInput { field: "lines", reason: format!("order {order_id} has no lines") });
            }
            order.status = OrderStatus::Submitted;
            order.submitted_at = Some(now_ms());
            order.submission += 1;
            Ok(())
        })
    }

    /// Turns a submitted order back into a draft so it can be edited and resubmitted.
    pub fn reopen_order(&self, order_id: &DocumentId) -> Result<()> {
        self.edit_owned(order_id, |order| {
            if order.status != OrderStatus::Submitted {
                return Err(invalid_state(order_id, order.status, "reopen it"));
            }
            order.status = OrderStatus::Draft;
            Ok(())
        })
    }

    /// Lists orders from the index, newest first, without loading any order.
    pub fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<OrderSummary>> {
        let mut sql = String::from(
            "SELECT id, status, store_id, subject_id, owner, created_at, updated_at, amount_cents, item_count
             FROM doc_index WHERE kind = 'order'",
        );
        let mut args: Vec<Value> = Vec::new();
        if let Some(status) = filter.status {
            sql.push_str(" AND status = ?");
            args.push(Value::Text(status.as_str().to_owned()));
        }
        if let Some(store) = &filter.store_id {
            sql.push_str(" AND store_id = ?");
            args.push(Value::Text(store.clone()));
        }
        if let Some(from) = filter.created_from {
            sql.push_str(" AND created_at >= ?");
            args.push(Value::Integer(from));
        }
        if let Some(to) = filter.created_to {
            sql.push_str(" AND created_at < ?");
            args.push(Value::Integer(to));
        }
        sql.push_str(" ORDER BY updated_at DESC, id");
        if let Some(limit) = filter.limit {
            sql.push_str(" LIMIT ?");
            args.push(Value::Integer(i64::from(limit)));
        }
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |row| {
            Ok((
                row.get::<_, String>(0)?,
                OrderSummary {
                    id: DocumentId::from_bytes([0; 16]),
                    status: row.get(1)?,
                    store_id: row.get(2)?,
                    customer_id: row.get(3)?,
                    owner: row.get(4)?,
                    created_at: row.get(5)?,
                    updated_at: row.get(6)?,
                    total_cents: row.get(7)?,
                    line_count: row.get(8)?,
                },
            ))
        })?;
        rows.map(|row| {
            let (id, summary) = row?;
            Ok(OrderSummary { id: id.parse()?, ..summary })
        })
        .collect()
    }

    /// Edits an order the signed-in user owns, provided it is a draft.
    fn edit_draft<R>(
        &self,
        order_id: &DocumentId,
        action: &'static str,
        edit: impl FnOnce(&mut Order) -> Result<R>,
    ) -> Result<R> {
        self.edit_owned(order_id, |order| {
            if order.status != OrderStatus::Draft {
                return Err(invalid_state(order_id, order.status, action));
            }
            let result = edit(order)?;
            order.updated_at = now_ms();
            Ok(result)
        })
    }

    fn edit_owned<R>(&self, order_id: &DocumentId, edit: impl FnOnce(&mut Order) -> Result<R>) -> Result<R> {
        let identity = self.require_identity()?;
        self.edit_doc(
            order_id,
            |order: &mut Order| {
                if order.owner != identity.user_id {
                    return Err(Error::NotOwner {
                        kind: DocKind::Order,
                        id: order_id.clone(),
                        owner: order.owner.clone(),
                        user: identity.user_id.clone(),
                    });
                }
                edit(order)
            },
            |_| Ok(()),
        )
    }

    /// Checks a line against its ranges and the catalog on this device, reading only the one
    /// product from the catalog document.
    fn validate_line(&self, line: &LineInput) -> Result<()> {
        let invalid = |field, reason: String| Err(Error::InvalidInput { field, reason });
        if line.qty < 1 || line.qty > 1_000_000 {
            return invalid("qty", format!("quantity {} for {} must be between 1 and 1000000", line.qty, line.sku));
        }
        if !(0..=10_000_000_000).contains(&line.unit_price_cents) {
            return invalid(
                "unit_price_cents",
                format!("unit price {} for {} is out of range", line.unit_price_cents, line.sku),
            );
        }
        if !(0..=10_000).contains(&line.discount_bp) {
            return invalid(
                "discount_bp",
                format!("discount {} bp for {} must be between 0 and 10000", line.discount_bp, line.sku),
            );
        }
        let product = self.product(&line.sku)?;
        if !product.active {
            return invalid("sku", format!("product {} is no longer sold", line.sku));
        }
        Ok(())
    }

    /// One product of the catalog on this device.
    pub fn product(&self, sku: &str) -> Result<Product> {
        let catalog_id = self.catalog_id()?;
        let mut inner = self.lock();
        let doc = inner.load(&catalog_id, DocKind::Catalog)?;
        crate::doc::check_header::<Catalog>(&catalog_id, doc)?;
        let malformed = |reason: String| Error::Malformed { id: catalog_id.clone(), reason };
        let unknown = || Error::InvalidInput { field: "sku", reason: format!("unknown product {sku}") };
        let products = match doc.get(ROOT, "products").map_err(|e| malformed(e.to_string()))? {
            Some((automerge::Value::Object(_), products)) => products,
            _ => return Err(malformed("catalog has no products".to_owned())),
        };
        if doc.get(&products, sku).map_err(|e| malformed(e.to_string()))?.is_none() {
            return Err(unknown());
        }
        autosurgeon::hydrate_prop(doc, &products, sku).map_err(|e| malformed(e.to_string()))
    }
}

fn to_line(input: &LineInput, position: i64) -> OrderLine {
    OrderLine {
        sku: input.sku.clone(),
        qty: input.qty,
        unit_price_cents: input.unit_price_cents,
        discount_bp: input.discount_bp,
        position,
    }
}

fn unknown_line(order_id: &DocumentId, line_id: &str) -> Error {
    Error::InvalidInput { field: "line_id", reason: format!("order {order_id} has no line {line_id}") }
}

fn invalid_state(order_id: &DocumentId, status: OrderStatus, action: &'static str) -> Error {
    Error::InvalidState { kind: DocKind::Order, id: order_id.clone(), state: status.as_str().to_owned(), action }
}
