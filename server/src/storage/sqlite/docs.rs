//! [`DocStore`] on SQLite (being built).

use async_trait::async_trait;
use fieldsync_core::sync::protocol::Head;
use fieldsync_core::{DocKind, DocumentId};

use super::SqliteStorage;
use crate::error::{Error, Result};
use crate::scope::Scope;
use crate::storage::{DocStore, DocWrite, FeedPage, StoredDoc, WriteOutcome};

fn building() -> Error {
    Error::Storage("document storage is being built".into())
}

#[async_trait]
impl DocStore for SqliteStorage {
    async fn load_doc(&self, _tenant_id: i64, _id: &DocumentId) -> Result<Option<StoredDoc>> {
        Err(building())
    }
    async fn write_doc(&self, _tenant_id: i64, _write: DocWrite) -> Result<WriteOutcome> {
        Err(building())
    }
    async fn actor_devices(&self, _tenant_id: i64, _actors: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, String)>> {
        Err(building())
    }
    async fn feed(&self, _t: i64, _s: &Scope, _c: u64, _d: &str, _b: usize) -> Result<FeedPage> {
        Err(building())
    }
    async fn manifest(&self, _t: i64, _s: &Scope, _e: &[DocumentId]) -> Result<Vec<(DocumentId, Vec<Head>)>> {
        Err(building())
    }
    async fn feed_position(&self, _tenant_id: i64) -> Result<u64> {
        Err(building())
    }
    async fn list_docs(&self, _t: i64, _s: &Scope, _k: DocKind, _l: u32) -> Result<Vec<StoredDoc>> {
        Err(building())
    }
    async fn blob_visible(&self, _t: i64, _s: &Scope, _sha256: &str) -> Result<bool> {
        Err(building())
    }
}
