//! [`ReadModelStore`] on SQLite, and the read-model part of a document write.

use async_trait::async_trait;
use fieldsync_core::DocumentId;
use fieldsync_core::sync::protocol::Head;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

use super::SqliteStorage;
use crate::error::Result;
use crate::storage::docs::heads_to_blob;
use crate::storage::read_model::{
    Cell, CellKind, Select, TABLES, TableDump, delete_sql, dump_sql, insert_sql, upsert_sql,
};
use crate::storage::{ReadModelStore, RowChange};

fn numbered(n: usize) -> String {
    format!("?{n}")
}

fn value(cell: &Cell) -> Value {
    match cell {
        Cell::Int(Some(v)) => Value::Integer(*v),
        Cell::Real(Some(v)) => Value::Real(*v),
        Cell::Text(Some(v)) => Value::Text(v.clone()),
        Cell::Int(None) | Cell::Real(None) | Cell::Text(None) => Value::Null,
    }
}

/// Applies a document's read-model changes inside the caller's transaction.
pub(super) fn apply_changes(tx: &Connection, tenant_id: i64, changes: &[RowChange]) -> Result<()> {
    for change in changes {
        match change {
            RowChange::Upsert { table, key, columns } => {
                let args = std::iter::once(Value::Integer(tenant_id))
                    .chain(key.iter().chain(columns).map(|(_, cell)| value(cell)));
                tx.prepare_cached(&upsert_sql(table, key, columns, numbered))?.execute(params_from_iter(args))?;
            }
            RowChange::Replace { table, parent, rows } => {
                tx.prepare_cached(&delete_sql(table, parent.0, numbered))?
                    .execute(params![tenant_id, value(&parent.1)])?;
                for row in rows {
                    let args =
                        std::iter::once(Value::Integer(tenant_id)).chain(row.iter().map(|(_, cell)| value(cell)));
                    tx.prepare_cached(&insert_sql(table, row, numbered))?.execute(params_from_iter(args))?;
                }
            }
        }
    }
    Ok(())
}

#[async_trait]
impl ReadModelStore for SqliteStorage {
    async fn clear_read_model(&self, tenant_id: i64) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for table in TABLES {
                tx.execute(&format!("DELETE FROM {} WHERE tenant_id = ?1", table.name), [tenant_id])?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn apply_read_model(
        &self,
        tenant_id: i64,
        docs: Vec<(DocumentId, Vec<Head>, Vec<RowChange>)>,
    ) -> Result<u64> {
        // The writer connection: serialised with document writes, so the heads checked are the
        // heads at commit.
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut applied = 0;
            for (id, heads, changes) in &docs {
                let stored: Option<Vec<u8>> = tx
                    .prepare_cached("SELECT heads FROM documents WHERE tenant_id = ?1 AND id = ?2")?
                    .query_row(params![tenant_id, id.as_str()], |r| r.get(0))
                    .optional()?;
                if stored.as_deref() == Some(heads_to_blob(heads).as_slice()) {
                    apply_changes(&tx, tenant_id, changes)?;
                    applied += 1;
                }
            }
            tx.commit()?;
            Ok(applied)
        })
        .await
    }

    async fn dump_read_model(&self, tenant_id: i64) -> Result<Vec<TableDump>> {
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let mut dump = Vec::new();
            for table in &TABLES {
                let width = table.key.len() + table.columns.len();
                let rows = tx
                    .prepare(&dump_sql(table, numbered))?
                    .query_map([tenant_id], |r| (0..width).map(|i| r.get::<_, Option<String>>(i)).collect())?
                    .collect::<Result<Vec<Vec<Option<String>>>, _>>()?;
                dump.push((table.name, rows));
            }
            Ok(dump)
        })
        .await
    }

    async fn select(&self, select: Select) -> Result<Vec<Vec<Cell>>> {
        self.read(move |conn| {
            let params: Vec<Value> = select
                .params
                .iter()
                .map(|cell| match cell {
                    Cell::Int(v) => v.map_or(Value::Null, Value::Integer),
                    Cell::Real(v) => v.map_or(Value::Null, Value::Real),
                    Cell::Text(v) => v.clone().map_or(Value::Null, Value::Text),
                })
                .collect();
            let mut statement = conn.prepare_cached(&select.sql)?;
            let rows = statement
                .query_map(params_from_iter(params), |row| {
                    select
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(i, kind)| {
                            Ok(match kind {
                                CellKind::Int => Cell::Int(row.get(i)?),
                                CellKind::Real => Cell::Real(row.get(i)?),
                                CellKind::Text => Cell::Text(row.get(i)?),
                            })
                        })
                        .collect::<rusqlite::Result<Vec<Cell>>>()
                })?
                .collect::<rusqlite::Result<Vec<Vec<Cell>>>>()?;
            Ok(rows)
        })
        .await
    }
}
