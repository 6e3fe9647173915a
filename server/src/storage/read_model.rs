//! The read model's tables: relational rows derived from documents, for lists and figures.
//!
//! Storage knows these tables only as names and columns. What a document contributes is
//! computed above ([`crate::read_model`]) and handed down as [`RowChange`]s, which both backends
//! apply with the same SQL ([`upsert_sql`], [`delete_sql`], [`insert_sql`]) in the transaction
//! of the document write ([`crate::storage::DocWrite::read_model`]), or in a rebuild
//! ([`ReadModelStore`]).

use async_trait::async_trait;
use fieldsync_core::DocumentId;
use fieldsync_core::sync::protocol::Head;

use crate::error::Result;

/// A value of a read-model column.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// An integer (counts, cents, ms since the Unix epoch).
    Int(Option<i64>),
    /// A real number (scores).
    Real(Option<f64>),
    /// Text (ids, statuses).
    Text(Option<String>),
}

impl Cell {
    /// Text that is always present.
    pub fn text(value: impl Into<String>) -> Cell {
        Cell::Text(Some(value.into()))
    }

    /// An integer that is always present.
    pub fn int(value: i64) -> Cell {
        Cell::Int(Some(value))
    }
}

/// The type of a column a [`Select`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// An integer.
    Int,
    /// A real number.
    Real,
    /// Text.
    Text,
}

/// A read-only query of the read model ([`crate::storage::queries`] builds them): SQL with `?`
/// placeholders (numbered by the PostgreSQL backend), its parameters, and the type of each
/// column it returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// The statement.
    pub sql: String,
    /// Its parameters, in the order of the `?`s.
    pub params: Vec<Cell>,
    /// The type of each returned column.
    pub columns: Vec<CellKind>,
}

/// One column and its value.
pub type Column = (&'static str, Cell);

/// One change a document makes to the read model. Every row also has the tenant's id, which
/// the backends add.
#[derive(Debug, Clone, PartialEq)]
pub enum RowChange {
    /// Inserts the row with this key, or sets `columns` of the existing one, leaving its other
    /// columns alone: the columns one document owns in a row that several documents fill (an
    /// order's row takes its verdict from the order's review).
    Upsert {
        /// The table.
        table: &'static str,
        /// The primary key after `tenant_id`.
        key: Vec<Column>,
        /// The columns the document owns.
        columns: Vec<Column>,
    },
    /// Replaces every row whose `parent` column has this value with `rows` (an order's lines).
    Replace {
        /// The table.
        table: &'static str,
        /// The column and value the replaced rows share.
        parent: Column,
        /// The new rows, every column but `tenant_id`.
        rows: Vec<Vec<Column>>,
    },
}

/// A read-model table: its name, and its columns after `tenant_id` with the key first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// Columns of its primary key after `tenant_id`, in order.
    pub key: &'static [&'static str],
    /// Every other column.
    pub columns: &'static [&'static str],
}

/// One row per order: the order's own columns and its review's.
pub const ORDER_ROWS: Table = Table {
    name: "order_rows",
    key: &["order_id"],
    columns: &[
        "rep",
        "store_id",
        "region",
        "customer_id",
        "status",
        "total_cents",
        "line_count",
        "created_at",
        "updated_at",
        "submitted_at",
        "submission",
        "order_number",
        "outcome",
        "reviewed_submission",
        "reviewed_total_cents",
        "finding_count",
        "reviewed_at",
        "decided_at",
        "current_step",
        "current_approver_role",
        "current_approver",
        "step_count",
        "current_due_at",
    ],
};

/// One row per order line.
pub const ORDER_LINES: Table = Table {
    name: "order_lines",
    key: &["order_id", "line_id"],
    columns: &["sku", "qty", "unit_price_cents", "discount_bp", "line_total_cents", "position"],
};

/// One row per approval step of an order's review.
pub const ORDER_STEPS: Table = Table {
    name: "order_steps",
    key: &["order_id", "step"],
    columns: &[
        "role",
        "approver",
        "rule",
        "state",
        "decided_at",
        "reason",
        "started_at",
        "due_at",
        "reminded_at",
        "escalated_at",
        "escalated_from",
    ],
};

/// One row per inspection: the inspection's own columns and its score's.
pub const INSPECTION_ROWS: Table = Table {
    name: "inspection_rows",
    key: &["inspection_id"],
    columns: &[
        "supervisor",
        "store_id",
        "region",
        "template_id",
        "status",
        "check_in_at",
        "check_out_at",
        "answer_count",
        "photo_count",
        "updated_at",
        "score",
        "scoring_version",
        "photos_pass",
        "photos_review",
        "photos_rejected",
        "scored_at",
        "check_in_latitude",
        "check_in_longitude",
    ],
};

/// One row per alert of a user's inbox.
pub const ALERT_ROWS: Table = Table {
    name: "alert_rows",
    key: &["inbox_id", "alert_id"],
    columns: &["owner", "kind", "title", "store_id", "sku", "state", "raised_at", "closed_at", "detail", "texts"],
};

/// One row per photo an inspection's score judged.
pub const PHOTO_ROWS: Table =
    Table { name: "photo_rows", key: &["inspection_id", "sha256"], columns: &["trust", "quality", "reasons"] };

/// One row per store.
pub const STORE_ROWS: Table = Table {
    name: "store_rows",
    key: &["store_id"],
    columns: &["name", "address", "region", "customer_id", "tier", "rep", "supervisor", "active", "code"],
};

/// One row per product of a catalog.
pub const PRODUCT_ROWS: Table =
    Table { name: "product_rows", key: &["catalog_id", "sku"], columns: &["name", "category", "active"] };

/// Every read-model table.
pub const TABLES: [Table; 8] =
    [ORDER_ROWS, ORDER_LINES, ORDER_STEPS, INSPECTION_ROWS, ALERT_ROWS, PHOTO_ROWS, STORE_ROWS, PRODUCT_ROWS];

/// The rows of one table as text, in key order (for comparing the read model with a rebuild).
pub type TableDump = (&'static str, Vec<Vec<Option<String>>>);

/// The read model's own storage: everything beyond the writes that travel with documents.
#[async_trait]
pub trait ReadModelStore {
    /// Deletes every read-model row of the tenant (the first step of a rebuild).
    async fn clear_read_model(&self, tenant_id: i64) -> Result<()>;

    /// Applies what each document contributes, in one transaction, for the documents whose
    /// stored heads are still the given ones: a document written meanwhile already wrote its
    /// newer rows with its write, which must not be overwritten by older ones. Returns how many
    /// documents were applied.
    async fn apply_read_model(&self, tenant_id: i64, docs: Vec<(DocumentId, Vec<Head>, Vec<RowChange>)>)
    -> Result<u64>;

    /// Every read-model row of the tenant, table by table ([`TABLES`]), each column as text.
    async fn dump_read_model(&self, tenant_id: i64) -> Result<Vec<TableDump>>;

    /// Runs a read-only query on a reading connection: every returned row, each column read as
    /// its [`CellKind`].
    async fn select(&self, select: Select) -> Result<Vec<Vec<Cell>>>;
}

/// `INSERT … ON CONFLICT … DO UPDATE` for an [`RowChange::Upsert`]; the same text on both
/// backends. Parameter 1 is the tenant, the key and the columns follow in order.
pub(crate) fn upsert_sql(table: &str, key: &[Column], columns: &[Column], placeholder: fn(usize) -> String) -> String {
    let names: Vec<&str> = key.iter().chain(columns).map(|(name, _)| *name).collect();
    let values: Vec<String> = (1..=names.len() + 1).map(placeholder).collect();
    let key_names: Vec<&str> = key.iter().map(|(name, _)| *name).collect();
    let set: Vec<String> = columns.iter().map(|(name, _)| format!("{name} = excluded.{name}")).collect();
    let action = if set.is_empty() { "NOTHING".to_owned() } else { format!("UPDATE SET {}", set.join(", ")) };
    format!(
        "INSERT INTO {table} (tenant_id, {}) VALUES ({}) ON CONFLICT (tenant_id, {}) DO {action}",
        names.join(", "),
        values.join(", "),
        key_names.join(", "),
    )
}

/// `DELETE` of the rows a [`RowChange::Replace`] replaces: parameter 1 is the tenant, 2 the
/// parent's value.
pub(crate) fn delete_sql(table: &str, parent: &str, placeholder: fn(usize) -> String) -> String {
    format!("DELETE FROM {table} WHERE tenant_id = {} AND {parent} = {}", placeholder(1), placeholder(2))
}

/// `INSERT` of one row of a [`RowChange::Replace`]: parameter 1 is the tenant, the columns follow.
pub(crate) fn insert_sql(table: &str, columns: &[Column], placeholder: fn(usize) -> String) -> String {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let values: Vec<String> = (1..=names.len() + 1).map(placeholder).collect();
    format!("INSERT INTO {table} (tenant_id, {}) VALUES ({})", names.join(", "), values.join(", "))
}

/// Every column of `table` as text, the tenant's rows in key order: parameter 1 is the tenant.
pub(crate) fn dump_sql(table: &Table, placeholder: fn(usize) -> String) -> String {
    let columns: Vec<String> =
        table.key.iter().chain(table.columns).map(|name| format!("CAST({name} AS TEXT)")).collect();
    format!(
        "SELECT {} FROM {} WHERE tenant_id = {} ORDER BY {}",
        columns.join(", "),
        table.name,
        placeholder(1),
        table.key.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> String {
        format!("${n}")
    }

    #[test]
    fn an_upsert_sets_only_the_columns_its_document_owns() {
        let sql = upsert_sql(
            "order_rows",
            &[("order_id", Cell::text("o"))],
            &[("outcome", Cell::text("approved")), ("decided_at", Cell::int(5))],
            numbered,
        );
        assert_eq!(
            sql,
            "INSERT INTO order_rows (tenant_id, order_id, outcome, decided_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, order_id) DO UPDATE SET outcome = excluded.outcome, decided_at = excluded.decided_at"
        );
    }
}
