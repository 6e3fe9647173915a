//! [`DocStore`] on PostgreSQL.
//!
//! A write takes the tenant's `feed_positions` row lock to draw its position, checks the stored
//! heads under that lock (so two nodes writing one document cannot both win), and sends `NOTIFY`
//! in the same transaction (so other nodes hear of it exactly when it is committed).

use std::collections::HashMap;

use async_trait::async_trait;
use fieldsync_core::scoring::EarlierPhoto;
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocKind, DocumentId};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{Params, PostgresStorage, notify, to_i64, to_u64};
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::storage::docs::{Dialect, FeedEntry, SendAs, feed_query, heads_from_blob, heads_to_blob, plan_feed};
use crate::storage::read_model::{TABLES, delete_sql};
use crate::storage::{
    Announcement, BLOB_CITED_BY_TAKER, DocHeads, DocMeta, DocStore, DocWrite, FeedPage, StoredDoc, WriteOutcome,
};

/// How the shared queries ([`crate::storage::feed_query`]) are spelled here.
const POSTGRES: Dialect = Dialect { placeholder: numbered, length: "octet_length" };

fn numbered(n: usize) -> String {
    format!("${n}")
}

const DOC_COLUMNS: &str = "d.id, d.kind, d.owner, d.store_id, d.region, d.subject_id, d.status, d.snapshot, d.heads, d.created_seq, d.updated_seq";

fn stored_doc(row: &Row) -> Result<StoredDoc> {
    let (id, meta) = id_and_meta(row)?;
    let heads: Vec<u8> = row.try_get(8)?;
    Ok(StoredDoc {
        id,
        meta,
        snapshot: row.try_get(7)?,
        heads: heads_from_blob(&heads),
        created_seq: to_u64(row.try_get(9)?),
        updated_seq: to_u64(row.try_get(10)?),
    })
}

/// The id and scope columns every document row starts with (`id, kind, owner, store_id, region,
/// subject_id, status`).
fn id_and_meta(row: &Row) -> Result<(DocumentId, DocMeta)> {
    let id: String = row.try_get(0)?;
    let kind: String = row.try_get(1)?;
    let meta = DocMeta {
        kind: kind.parse()?,
        owner: row.try_get(2)?,
        store_id: row.try_get(3)?,
        region: row.try_get(4)?,
        subject_id: row.try_get(5)?,
        status: row.try_get(6)?,
    };
    Ok((id.parse()?, meta))
}

const HEAD_COLUMNS: &str = "d.id, d.kind, d.owner, d.store_id, d.region, d.subject_id, d.status, d.heads";

/// A row of [`HEAD_COLUMNS`].
fn doc_heads(row: &Row) -> Result<DocHeads> {
    let (id, meta) = id_and_meta(row)?;
    let heads: Vec<u8> = row.try_get(7)?;
    Ok(DocHeads { id, meta, heads: heads_from_blob(&heads) })
}

/// The query's own parameters followed by the scope's, numbered after them.
fn with_scope(scope: &Scope, own: Params) -> (String, Params) {
    let (condition, scope_params) = scope.pg_condition(own.len() + 1);
    let mut params = own;
    for value in scope_params {
        params.push(value);
    }
    (condition, params)
}

#[async_trait]
impl DocStore for PostgresStorage {
    fn announcements(&self) -> tokio::sync::broadcast::Receiver<Announcement> {
        self.inner.announcements.subscribe()
    }

    async fn load_doc(&self, tenant_id: i64, id: &DocumentId) -> Result<Option<StoredDoc>> {
        let client = self.client().await?;
        let sql = format!("SELECT {DOC_COLUMNS} FROM documents d WHERE d.tenant_id = $1 AND d.id = $2");
        let statement = client.prepare_cached(&sql).await?;
        client.query_opt(&statement, &[&tenant_id, &id.as_str()]).await?.as_ref().map(stored_doc).transpose()
    }

    async fn write_doc(&self, tenant_id: i64, write: DocWrite) -> Result<WriteOutcome> {
        let outcome = write_doc(self, tenant_id, &write).await?;
        if let WriteOutcome::Stored(seq) = outcome {
            let announcement = Announcement { tenant_id, seq, meta: write.meta, origin_device: write.origin_device };
            // This node's listeners hear at once; the others through NOTIFY. Nobody listening is fine.
            let _ = self.inner.announcements.send(announcement);
        }
        Ok(outcome)
    }

    async fn actor_devices(&self, tenant_id: i64, actors: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, String)>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("SELECT actor, device_id FROM actors WHERE tenant_id = $1 AND actor = ANY($2)")
            .await?;
        let rows = client.query(&statement, &[&tenant_id, &actors]).await?;
        let found: HashMap<Vec<u8>, String> =
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_>>()?;
        // In the order asked, like SQLite's one-by-one lookups.
        Ok(actors.into_iter().filter_map(|a| found.get(&a).cloned().map(|d| (a, d))).collect())
    }

    async fn feed(&self, tenant_id: i64, scope: &Scope, cursor: u64, device: &str, budget: usize) -> Result<FeedPage> {
        let mut client = self.client().await?;
        // One snapshot: the page and the position it reaches agree. Positions commit in order
        // (the feed row lock), so a snapshot always holds a prefix of the feed.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let last_seq = feed_position(&tx, tenant_id).await?;
        let Some((sql, values)) = feed_query(scope, &POSTGRES) else {
            return Ok(FeedPage { cursor: last_seq, ..FeedPage::default() });
        };
        let mut params = Params::default();
        params.push(tenant_id).push(to_i64(cursor));
        for value in values {
            params.push(value);
        }
        let statement = tx.prepare_cached(&sql).await?;
        let rows = tx.query(&statement, &params.refs()).await?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            entries.push(FeedEntry {
                seq: to_u64(r.try_get(0)?),
                doc: r.try_get(1)?,
                origin: r.try_get(2)?,
                len: usize::try_from(r.try_get::<_, i32>(3)?).unwrap_or(0),
                created_seq: to_u64(r.try_get(4)?),
                creator: r.try_get(5)?,
                snapshot_len: usize::try_from(r.try_get::<_, i32>(6)?).unwrap_or(0),
            });
        }
        let plan = plan_feed(entries, cursor, device, budget);

        // Fetch the bytes in two queries, not one per document.
        let whole_ids = plan.whole_docs();
        let seqs: Vec<i64> = plan.change_seqs().into_iter().map(to_i64).collect();
        let mut snapshots: HashMap<String, Vec<u8>> = if whole_ids.is_empty() {
            HashMap::new()
        } else {
            let statement =
                tx.prepare_cached("SELECT id, snapshot FROM documents WHERE tenant_id = $1 AND id = ANY($2)").await?;
            let rows = tx.query(&statement, &[&tenant_id, &whole_ids]).await?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_>>()?
        };
        let changes: HashMap<u64, Vec<u8>> = if seqs.is_empty() {
            HashMap::new()
        } else {
            let statement =
                tx.prepare_cached("SELECT seq, changes FROM change_log WHERE tenant_id = $1 AND seq = ANY($2)").await?;
            let rows = tx.query(&statement, &[&tenant_id, &seqs]).await?;
            rows.iter().map(|r| Ok((to_u64(r.try_get(0)?), r.try_get(1)?))).collect::<Result<_>>()?
        };
        tx.commit().await?;

        plan.into_page(last_seq, |doc, send| match send {
            SendAs::Whole => snapshots.remove(doc).ok_or_else(|| missing(doc)),
            SendAs::Changes(seqs) => {
                let mut all = Vec::new();
                for seq in seqs {
                    all.extend_from_slice(changes.get(seq).ok_or_else(|| missing(doc))?);
                }
                Ok(all)
            }
        })
    }

    async fn manifest(
        &self,
        tenant_id: i64,
        scope: &Scope,
        excluded: &[DocumentId],
    ) -> Result<Vec<(DocumentId, Vec<Head>)>> {
        let excluded: std::collections::HashSet<&str> = excluded.iter().map(|id| id.as_str()).collect();
        let mut own = Params::default();
        own.push(tenant_id);
        let (condition, params) = with_scope(scope, own);
        let sql = format!("SELECT d.id, d.heads FROM documents d WHERE d.tenant_id = $1 AND {condition}");
        let client = self.client().await?;
        let statement = client.prepare_cached(&sql).await?;
        let rows = client.query(&statement, &params.refs()).await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get(0)?;
            if excluded.contains(id.as_str()) {
                continue;
            }
            entries.push((id.parse()?, heads_from_blob(&row.try_get::<_, Vec<u8>>(1)?)));
        }
        Ok(entries)
    }

    async fn feed_position(&self, tenant_id: i64) -> Result<u64> {
        let client = self.client().await?;
        feed_position(&client, tenant_id).await
    }

    async fn list_docs(&self, tenant_id: i64, scope: &Scope, kind: DocKind, limit: u32) -> Result<Vec<StoredDoc>> {
        let mut own = Params::default();
        own.push(tenant_id).push(kind.as_str().to_owned()).push(i64::from(limit));
        let (condition, params) = with_scope(scope, own);
        let sql = format!(
            "SELECT {DOC_COLUMNS} FROM documents d WHERE d.tenant_id = $1 AND d.kind = $2 AND {condition}
             ORDER BY d.updated_seq DESC LIMIT $3"
        );
        let client = self.client().await?;
        let statement = client.prepare_cached(&sql).await?;
        let rows = client.query(&statement, &params.refs()).await?;
        rows.iter().map(stored_doc).collect()
    }

    async fn list_doc_heads(&self, tenant_id: i64, scope: &Scope, kind: DocKind, limit: u32) -> Result<Vec<DocHeads>> {
        let mut own = Params::default();
        own.push(tenant_id).push(kind.as_str().to_owned()).push(i64::from(limit));
        let (condition, params) = with_scope(scope, own);
        let sql = format!(
            "SELECT {HEAD_COLUMNS} FROM documents d WHERE d.tenant_id = $1 AND d.kind = $2 AND {condition}
             ORDER BY d.updated_seq DESC LIMIT $3"
        );
        let client = self.client().await?;
        let statement = client.prepare_cached(&sql).await?;
        let rows = client.query(&statement, &params.refs()).await?;
        rows.iter().map(doc_heads).collect()
    }

    async fn doc_heads(&self, tenant_id: i64, id: &DocumentId) -> Result<Option<DocHeads>> {
        let client = self.client().await?;
        let sql = format!("SELECT {HEAD_COLUMNS} FROM documents d WHERE d.tenant_id = $1 AND d.id = $2");
        let statement = client.prepare_cached(&sql).await?;
        client.query_opt(&statement, &[&tenant_id, &id.as_str()]).await?.as_ref().map(doc_heads).transpose()
    }

    async fn blob_visible(&self, tenant_id: i64, scope: &Scope, sha256: &str) -> Result<bool> {
        let mut own = Params::default();
        own.push(tenant_id).push(sha256.to_owned());
        let (condition, params) = with_scope(scope, own);
        let sql = format!(
            "SELECT 1 FROM doc_blobs b JOIN documents d ON d.tenant_id = b.tenant_id AND d.id = b.doc_id
             JOIN blobs p ON p.tenant_id = b.tenant_id AND p.sha256 = b.sha256
             WHERE b.tenant_id = $1 AND b.sha256 = $2 AND {condition} AND {BLOB_CITED_BY_TAKER} LIMIT 1"
        );
        let client = self.client().await?;
        let statement = client.prepare_cached(&sql).await?;
        Ok(client.query_opt(&statement, &params.refs()).await?.is_some())
    }

    async fn inspections_with_photo(&self, tenant_id: i64, sha256: &str) -> Result<Vec<DocumentId>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT d.id FROM doc_blobs b JOIN documents d ON d.tenant_id = b.tenant_id AND d.id = b.doc_id
                 WHERE b.tenant_id = $1 AND b.sha256 = $2 AND d.kind = 'inspection' AND d.status = 'checked-out'
                 ORDER BY d.id",
            )
            .await?;
        let rows = client.query(&statement, &[&tenant_id, &sha256]).await?;
        rows.iter().map(|r| Ok(r.try_get::<_, String>(0)?.parse()?)).collect()
    }

    async fn photo_hashes(&self, tenant_id: i64, except_inspection: &DocumentId) -> Result<Vec<EarlierPhoto>> {
        let client = self.client().await?;
        // `COLLATE "C"`: byte order, as SQLite sorts text.
        let statement = client
            .prepare_cached(
                "SELECT sha256, phash, inspection_id, store_id, captured_at FROM photo_hashes
                 WHERE tenant_id = $1 AND inspection_id != $2
                 ORDER BY captured_at, inspection_id COLLATE \"C\", sha256 COLLATE \"C\"",
            )
            .await?;
        let rows = client.query(&statement, &[&tenant_id, &except_inspection.as_str()]).await?;
        rows.iter()
            .map(|r| {
                Ok(EarlierPhoto {
                    sha256: r.try_get(0)?,
                    phash: r.try_get(1)?,
                    inspection_id: r.try_get(2)?,
                    store_id: r.try_get(3)?,
                    captured_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    async fn record_photo_hashes(
        &self,
        tenant_id: i64,
        inspection_id: &DocumentId,
        photos: Vec<EarlierPhoto>,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "DELETE FROM photo_hashes WHERE tenant_id = $1 AND inspection_id = $2",
            &[&tenant_id, &inspection_id.as_str()],
        )
        .await?;
        let insert = tx
            .prepare_cached(
                "INSERT INTO photo_hashes (tenant_id, inspection_id, sha256, phash, store_id, captured_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant_id, inspection_id, sha256) DO UPDATE
                 SET phash = excluded.phash, store_id = excluded.store_id, captured_at = excluded.captured_at",
            )
            .await?;
        for photo in &photos {
            tx.execute(
                &insert,
                &[
                    &tenant_id,
                    &inspection_id.as_str(),
                    &photo.sha256,
                    &photo.phash,
                    &photo.store_id,
                    &photo.captured_at,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn doc_ids_after(&self, tenant_id: i64, after: Option<&DocumentId>, limit: u32) -> Result<Vec<DocumentId>> {
        let client = self.client().await?;
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        // `COLLATE "C"`: byte order, as SQLite sorts text, so both page alike.
        let statement = client
            .prepare_cached(
                r#"SELECT id FROM documents WHERE tenant_id = $1 AND id COLLATE "C" > $2
                   ORDER BY id COLLATE "C" LIMIT $3"#,
            )
            .await?;
        let rows = client.query(&statement, &[&tenant_id, &after, &i64::from(limit)]).await?;
        rows.iter().map(|r| Ok(r.try_get::<_, String>(0)?.parse()?)).collect()
    }

    async fn quarantine_doc(&self, tenant_id: i64, id: &DocumentId, reason: &str, now_ms: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let moved = tx
            .execute(
                "INSERT INTO quarantined_documents (tenant_id, id, kind, owner, snapshot, reason, quarantined_at)
                 SELECT tenant_id, id, kind, owner, snapshot, $3, $4 FROM documents WHERE tenant_id = $1 AND id = $2
                 ON CONFLICT (tenant_id, id) DO UPDATE
                 SET kind = excluded.kind, owner = excluded.owner, snapshot = excluded.snapshot,
                     reason = excluded.reason, quarantined_at = excluded.quarantined_at",
                &[&tenant_id, &id.as_str(), &reason, &now_ms],
            )
            .await?;
        for sql in [
            "DELETE FROM documents WHERE tenant_id = $1 AND id = $2",
            "DELETE FROM change_log WHERE tenant_id = $1 AND doc_id = $2",
            "DELETE FROM doc_blobs WHERE tenant_id = $1 AND doc_id = $2",
        ] {
            tx.execute(sql, &[&tenant_id, &id.as_str()]).await?;
        }
        // The read-model rows the document is the parent of leave with it.
        for table in TABLES {
            tx.execute(&delete_sql(table.name, table.key[0], numbered), &[&tenant_id, &id.as_str()]).await?;
        }
        tx.commit().await?;
        Ok(moved > 0)
    }
}

fn missing(doc: &str) -> Error {
    Error::Storage(format!("document {doc} vanished while its feed page was read"))
}

async fn feed_position(client: &impl deadpool_postgres::GenericClient, tenant_id: i64) -> Result<u64> {
    let statement = client.prepare_cached("SELECT last_seq FROM feed_positions WHERE tenant_id = $1").await?;
    let row = client.query_opt(&statement, &[&tenant_id]).await?;
    Ok(match row {
        Some(row) => to_u64(row.try_get(0)?),
        None => 0,
    })
}

async fn write_doc(storage: &PostgresStorage, tenant_id: i64, write: &DocWrite) -> Result<WriteOutcome> {
    let mut client = storage.client().await?;
    let tx = client.transaction().await?;
    let id = write.id.as_str();
    // Drawing the position locks the tenant's feed row until commit: writes of a tenant are
    // serialised across nodes (as SQLite's single writer serialises them), and commit in feed
    // order. A conflict rolls the position back with the transaction.
    let next = tx
        .prepare_cached(
            "INSERT INTO feed_positions (tenant_id, last_seq) VALUES ($1, 1)
             ON CONFLICT (tenant_id) DO UPDATE SET last_seq = feed_positions.last_seq + 1
             RETURNING last_seq",
        )
        .await?;
    let seq_db: i64 = tx.query_one(&next, &[&tenant_id]).await?.try_get(0)?;
    let current = tx.prepare_cached("SELECT heads FROM documents WHERE tenant_id = $1 AND id = $2").await?;
    let current: Option<Vec<u8>> =
        tx.query_opt(&current, &[&tenant_id, &id]).await?.map(|r| r.try_get(0)).transpose()?;
    let matches = match &current {
        Some(heads) => !write.expected_heads.is_empty() && *heads == heads_to_blob(&write.expected_heads),
        None => write.expected_heads.is_empty(),
    };
    if !matches {
        tx.rollback().await?;
        return Ok(WriteOutcome::Conflict);
    }
    let m = &write.meta;
    let now = fieldsync_core::clock::now_ms();
    let upsert = tx
        .prepare_cached(
            "INSERT INTO documents (tenant_id, id, kind, owner, store_id, region, subject_id, status, snapshot, heads,
                                    created_seq, updated_seq, creator_device, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)
             ON CONFLICT (tenant_id, id) DO UPDATE SET kind = excluded.kind, owner = excluded.owner,
                 store_id = excluded.store_id, region = excluded.region, subject_id = excluded.subject_id,
                 status = excluded.status, snapshot = excluded.snapshot, heads = excluded.heads,
                 updated_seq = excluded.updated_seq, updated_at = excluded.updated_at",
        )
        .await?;
    let heads = heads_to_blob(&write.heads);
    let values: [&(dyn ToSql + Sync); 13] = [
        &tenant_id,
        &id,
        &m.kind.as_str(),
        &m.owner,
        &m.store_id,
        &m.region,
        &m.subject_id,
        &m.status,
        &write.snapshot,
        &heads,
        &seq_db,
        &write.origin_device,
        &now,
    ];
    tx.execute(&upsert, &values).await?;
    let log = tx
        .prepare_cached(
            "INSERT INTO change_log (tenant_id, seq, doc_id, origin_device, changes) VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    tx.execute(&log, &[&tenant_id, &seq_db, &id, &write.origin_device, &write.changes]).await?;
    if let Some(device) = &write.origin_device
        && !write.new_actors.is_empty()
    {
        let bound = tx.prepare_cached("SELECT device_id FROM actors WHERE tenant_id = $1 AND actor = $2").await?;
        let bind = tx.prepare_cached("INSERT INTO actors (tenant_id, actor, device_id) VALUES ($1, $2, $3)").await?;
        for actor in &write.new_actors {
            let owner: Option<String> =
                tx.query_opt(&bound, &[&tenant_id, actor]).await?.map(|r| r.try_get(0)).transpose()?;
            match owner {
                None => {
                    tx.execute(&bind, &[&tenant_id, actor, device]).await?;
                }
                Some(owner) if owner == *device => {}
                Some(_) => {
                    return Err(Error::Forbidden(format!("actor {} belongs to another device", hex::encode(actor))));
                }
            }
        }
    }
    tx.execute("DELETE FROM doc_blobs WHERE tenant_id = $1 AND doc_id = $2", &[&tenant_id, &id]).await?;
    if !write.blobs.is_empty() {
        let link = tx
            .prepare_cached(
                "INSERT INTO doc_blobs (tenant_id, doc_id, sha256) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .await?;
        for sha in &write.blobs {
            tx.execute(&link, &[&tenant_id, &id, sha]).await?;
        }
    }
    if let Some(job) = &write.job {
        // The write's work is queued with it, so a stored change never misses its job.
        let enqueue = tx
            .prepare_cached(
                "INSERT INTO jobs (tenant_id, kind, key, payload, run_after, created_at)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (tenant_id, kind, key) DO NOTHING",
            )
            .await?;
        tx.execute(&enqueue, &[&tenant_id, &job.kind, &job.key, &job.payload, &job.run_after]).await?;
    }
    super::read_model::apply_changes(&tx, tenant_id, &write.read_model).await?;
    super::events::insert_events(&tx, tenant_id, &write.events, now).await?;
    let seq = to_u64(seq_db);
    let payload = notify::payload(&storage.inner.node, tenant_id, seq, &write.meta, write.origin_device.as_deref());
    tx.execute("SELECT pg_notify($1, $2)", &[&notify::CHANNEL, &payload]).await?;
    tx.commit().await?;
    Ok(WriteOutcome::Stored(seq))
}
