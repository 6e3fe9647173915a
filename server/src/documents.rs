//! The relay's own document writes: master data it seeds or imports, and the documents only it
//! may write (reviews, scores, inventory, inboxes).

use fieldsync_core::{DocumentId, DocumentModel};

use crate::error::{Error, Result};
use crate::storage::Storage;

/// Creates a document written by the relay; returns its id.
pub async fn create_as_relay<T: DocumentModel + Sync>(storage: &dyn Storage, tenant_id: i64, value: &T) -> Result<DocumentId> {
    let _ = (storage, tenant_id, value);
    Err(Error::Storage("relay writes are being built".into()))
}

/// Edits a document as the relay, retrying when a concurrent write moved it; returns `edit`'s result.
pub async fn edit_as_relay<T, R, F>(storage: &dyn Storage, tenant_id: i64, id: &DocumentId, edit: F) -> Result<R>
where
    T: DocumentModel + Send + Sync,
    R: Send,
    F: Fn(&mut T) -> Result<R> + Send + Sync,
{
    let _ = (storage, tenant_id, id, edit);
    Err(Error::Storage("relay writes are being built".into()))
}

/// Reads a document of the tenant.
pub async fn read<T: DocumentModel>(storage: &dyn Storage, tenant_id: i64, id: &DocumentId) -> Result<T> {
    let _ = (storage, tenant_id, id);
    Err(Error::Storage("relay reads are being built".into()))
}
