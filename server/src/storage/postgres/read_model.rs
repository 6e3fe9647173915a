//! [`ReadModelStore`] on PostgreSQL, and the read-model part of a document write.

use async_trait::async_trait;
use fieldsync_core::DocumentId;
use fieldsync_core::sync::protocol::Head;

use super::{Params, PostgresStorage};
use crate::error::Result;
use crate::storage::docs::heads_to_blob;
use crate::storage::read_model::{
    Cell, CellKind, Select, TABLES, TableDump, delete_sql, dump_sql, insert_sql, upsert_sql,
};
use crate::storage::{ReadModelStore, RowChange};

fn numbered(n: usize) -> String {
    format!("${n}")
}

fn push(params: &mut Params, cell: &Cell) {
    match cell {
        Cell::Int(v) => params.push(*v),
        Cell::Real(v) => params.push(*v),
        Cell::Text(v) => params.push(v.clone()),
    };
}

/// Applies a document's read-model changes inside the caller's transaction.
pub(super) async fn apply_changes(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant_id: i64,
    changes: &[RowChange],
) -> Result<()> {
    for change in changes {
        match change {
            RowChange::Upsert { table, key, columns } => {
                let mut params = Params::default();
                params.push(tenant_id);
                for (_, cell) in key.iter().chain(columns) {
                    push(&mut params, cell);
                }
                let statement = tx.prepare_cached(&upsert_sql(table, key, columns, numbered)).await?;
                tx.execute(&statement, &params.refs()).await?;
            }
            RowChange::Replace { table, parent, rows } => {
                let mut params = Params::default();
                params.push(tenant_id);
                push(&mut params, &parent.1);
                let statement = tx.prepare_cached(&delete_sql(table, parent.0, numbered)).await?;
                tx.execute(&statement, &params.refs()).await?;
                for row in rows {
                    let mut params = Params::default();
                    params.push(tenant_id);
                    for (_, cell) in row {
                        push(&mut params, cell);
                    }
                    let statement = tx.prepare_cached(&insert_sql(table, row, numbered)).await?;
                    tx.execute(&statement, &params.refs()).await?;
                }
            }
        }
    }
    Ok(())
}

/// Locks the tenant's feed row, as every document write does first: read-model work under it is
/// serialised with the tenant's writes, in the same lock order (no deadlock).
async fn lock_tenant_writes(tx: &deadpool_postgres::Transaction<'_>, tenant_id: i64) -> Result<()> {
    tx.execute("SELECT last_seq FROM feed_positions WHERE tenant_id = $1 FOR UPDATE", &[&tenant_id]).await?;
    Ok(())
}

#[async_trait]
impl ReadModelStore for PostgresStorage {
    async fn clear_read_model(&self, tenant_id: i64) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_tenant_writes(&tx, tenant_id).await?;
        for table in TABLES {
            tx.execute(&format!("DELETE FROM {} WHERE tenant_id = $1", table.name), &[&tenant_id]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn apply_read_model(
        &self,
        tenant_id: i64,
        docs: Vec<(DocumentId, Vec<Head>, Vec<RowChange>)>,
    ) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_tenant_writes(&tx, tenant_id).await?;
        let current = tx.prepare_cached("SELECT heads FROM documents WHERE tenant_id = $1 AND id = $2").await?;
        let mut applied = 0;
        for (id, heads, changes) in &docs {
            let stored: Option<Vec<u8>> =
                tx.query_opt(&current, &[&tenant_id, &id.as_str()]).await?.map(|r| r.try_get(0)).transpose()?;
            if stored.as_deref() == Some(heads_to_blob(heads).as_slice()) {
                apply_changes(&tx, tenant_id, changes).await?;
                applied += 1;
            }
        }
        tx.commit().await?;
        Ok(applied)
    }

    async fn dump_read_model(&self, tenant_id: i64) -> Result<Vec<TableDump>> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let mut dump = Vec::new();
        for table in &TABLES {
            let width = table.key.len() + table.columns.len();
            let rows = tx.query(&dump_sql(table, numbered), &[&tenant_id]).await?;
            let rows = rows
                .iter()
                .map(|r| (0..width).map(|i| r.try_get::<_, Option<String>>(i)).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()?;
            dump.push((table.name, rows));
        }
        tx.commit().await?;
        Ok(dump)
    }

    async fn select(&self, select: Select) -> Result<Vec<Vec<Cell>>> {
        let client = self.client().await?;
        let mut params = Params::default();
        for cell in &select.params {
            push(&mut params, cell);
        }
        let statement = client.prepare_cached(&numbered_placeholders(&select.sql)).await?;
        let rows = client.query(&statement, &params.refs()).await?;
        rows.iter()
            .map(|row| {
                select
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, kind)| {
                        Ok(match kind {
                            CellKind::Int => Cell::Int(row.try_get(i)?),
                            CellKind::Real => Cell::Real(row.try_get(i)?),
                            CellKind::Text => Cell::Text(row.try_get(i)?),
                        })
                    })
                    .collect::<Result<Vec<Cell>>>()
            })
            .collect()
    }
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`, …, in order (the queries put no `?` in literals).
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}
