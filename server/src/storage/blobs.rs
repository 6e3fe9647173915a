//! Photo metadata: which blobs a tenant holds, and how far each resumable upload got.
//!
//! The bytes are in the blob folder ([`crate::blobs::BlobFolder`]); a row here is the record
//! that an upload began and, once `complete`, that the bytes were verified. Each row names the
//! user who uploaded it: a photo is readable only through documents its uploader (or HQ) wrote
//! ([`crate::storage::DocStore::blob_visible`]), and unfinished uploads count against their
//! user's quota until they complete or expire.

use async_trait::async_trait;

use crate::error::Result;

/// What the relay knows about one photo of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    /// The tenant.
    pub tenant_id: i64,
    /// Content address: lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// Total size in bytes (declared when the upload began, verified when it completed).
    pub size: u64,
    /// Bytes received so far, as last recorded.
    pub received: u64,
    /// Whether all bytes arrived and were verified (hash, size, image header).
    pub complete: bool,
    /// Image width in pixels, once complete.
    pub width: Option<u32>,
    /// Image height in pixels, once complete.
    pub height: Option<u32>,
    /// The device that began the upload.
    pub uploaded_by_device: Option<String>,
    /// The user that began the upload (unknown only for a device deleted before it was recorded).
    pub uploaded_by_user: Option<String>,
    /// When the upload began, ms since the Unix epoch.
    pub created_at: i64,
    /// When bytes last arrived, ms since the Unix epoch: an unfinished upload not advanced for
    /// long is abandoned ([`BlobStore::stale_uploads`]).
    pub updated_at: i64,
}

/// A blob of a tenant, by content address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobKey {
    /// The tenant.
    pub tenant_id: i64,
    /// Content address.
    pub sha256: String,
}

/// Photo metadata.
#[async_trait]
pub trait BlobStore {
    /// The blob's metadata, if an upload of it ever began in the tenant.
    async fn get_blob(&self, tenant_id: i64, sha256: &str) -> Result<Option<BlobMeta>>;

    /// Records that `user_id` (on `device_id`) began an upload of `size` bytes (or began again
    /// from byte 0). An existing complete row is left as it is; an incomplete one is reset to
    /// `size` bytes, 0 received, and to this uploader.
    async fn begin_upload(
        &self,
        tenant_id: i64,
        sha256: &str,
        size: u64,
        device_id: &str,
        user_id: &str,
        now_ms: i64,
    ) -> Result<()>;

    /// Records how many bytes of an incomplete upload the relay holds, at `now_ms`.
    async fn advance_upload(&self, tenant_id: i64, sha256: &str, received: u64, now_ms: i64) -> Result<()>;

    /// The declared sizes of a user's unfinished uploads, summed, leaving out the upload of
    /// `except_sha256` (the one about to begin again).
    async fn unfinished_upload_bytes(&self, tenant_id: i64, user_id: &str, except_sha256: &str) -> Result<u64>;

    /// Unfinished uploads of every tenant that received nothing since `before_ms`, oldest first,
    /// at most `limit`.
    async fn stale_uploads(&self, before_ms: i64, limit: u32) -> Result<Vec<BlobKey>>;

    /// Forgets an unfinished upload if it still received nothing since `before_ms` (an upload
    /// that advanced meanwhile is kept); whether it was forgotten.
    async fn expire_upload(&self, tenant_id: i64, sha256: &str, before_ms: i64) -> Result<bool>;

    /// Marks a blob complete and verified, creating the row if the upload never recorded one (a
    /// whole-file upload).
    async fn complete_blob(&self, tenant_id: i64, sha256: &str, complete: CompletedBlob) -> Result<()>;

    /// Forgets an incomplete upload (after its bytes failed verification). A complete blob is
    /// never removed.
    async fn discard_upload(&self, tenant_id: i64, sha256: &str) -> Result<()>;
}

/// A verified blob, as recorded by [`BlobStore::complete_blob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedBlob {
    /// Size in bytes.
    pub size: u64,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// The device that uploaded it.
    pub device_id: String,
    /// The user that uploaded it.
    pub user_id: String,
    /// Completion time, ms since the Unix epoch.
    pub now_ms: i64,
}
