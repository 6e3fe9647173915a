//! Photo bytes by content address, and the upload rules.
//!
//! [`BlobFolder`] keeps each tenant's photos at `ROOT/<tenant_id>/<sha[0..2]>/<sha>`. A resumable
//! upload grows `<sha>.part` beside it; only when its last byte arrives and the whole file
//! verifies (SHA-256 equals the id, size within the limit, a sane image header) is it renamed to
//! `<sha>` and recorded complete. A thumbnail is cached as `<sha>.thumb.jpg`. A part's body is
//! appended as it arrives ([`upload_part`]), so when a phone's connection drops mid-part the
//! bytes that arrived are kept and the phone resumes at the next byte.
//!
//! Every id is checked by [`validate_sha256`] before any path is built, so `../`, encoded dots,
//! uppercase or short ids never reach the disk.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::photo::{self, PhotoLimits};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::services::accounts::Caller;
use crate::storage::{CompletedBlob, Storage};

const LOCK_STRIPES: usize = 64;

/// How long a part's body may stay silent before the relay keeps what arrived and stops
/// waiting: a phone that lost its signal mid-part must not hold the upload's lock for long.
pub const PART_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Checks that `id` is a SHA-256 content address: exactly 64 lowercase hex characters.
pub fn validate_sha256(id: &str) -> Result<()> {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        let shown: String = id.chars().take(80).collect();
        Err(Error::bad_request(
            "invalid-id",
            format!("invalid blob id {shown:?}: expected 64 lowercase hex characters"),
        ))
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether a role may upload photos: supervisors take them; managers and HQ may too. Reps take
/// no photos.
pub fn may_upload(role: Role) -> bool {
    matches!(role, Role::Supervisor | Role::Manager | Role::Hq)
}

/// The content-addressed photo folder; cheap to clone.
#[derive(Clone)]
pub struct BlobFolder {
    root: Arc<PathBuf>,
    // Appends to one upload must not interleave; striped by id so unrelated uploads rarely wait.
    locks: Arc<Vec<Arc<Mutex<()>>>>,
}

impl std::fmt::Debug for BlobFolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobFolder").field("root", &self.root).finish()
    }
}

impl BlobFolder {
    /// Opens (creating if needed) the folder at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)
            .map_err(|e| Error::Storage(format!("cannot create blob folder {}: {e}", root.display())))?;
        let locks = (0..LOCK_STRIPES).map(|_| Arc::new(Mutex::new(()))).collect();
        Ok(Self { root: Arc::new(root), locks: Arc::new(locks) })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, tenant_id: i64, sha256: &str) -> Result<PathBuf> {
        validate_sha256(sha256)?;
        Ok(self.root.join(tenant_id.to_string()).join(&sha256[..2]))
    }

    /// Where a complete blob lives.
    pub fn path(&self, tenant_id: i64, sha256: &str) -> Result<PathBuf> {
        Ok(self.dir(tenant_id, sha256)?.join(sha256))
    }

    fn part_path(&self, tenant_id: i64, sha256: &str) -> Result<PathBuf> {
        Ok(self.dir(tenant_id, sha256)?.join(format!("{sha256}.part")))
    }

    fn thumb_path(&self, tenant_id: i64, sha256: &str) -> Result<PathBuf> {
        Ok(self.dir(tenant_id, sha256)?.join(format!("{sha256}.thumb.jpg")))
    }

    /// Serialises writers of one blob (hold the guard across check-then-append).
    pub async fn lock(&self, sha256: &str) -> OwnedMutexGuard<()> {
        let stripe = usize::from_str_radix(sha256.get(..2).unwrap_or("00"), 16).unwrap_or(0) % LOCK_STRIPES;
        let lock = self.locks.get(stripe).cloned().unwrap_or_else(|| Arc::new(Mutex::new(())));
        lock.lock_owned().await
    }

    /// Bytes of a partial upload the folder holds (0 if none).
    pub async fn held(&self, tenant_id: i64, sha256: &str) -> Result<u64> {
        match tokio::fs::metadata(self.part_path(tenant_id, sha256)?).await {
            Ok(meta) => Ok(meta.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Size of a complete blob, if the folder holds it.
    pub async fn size(&self, tenant_id: i64, sha256: &str) -> Result<Option<u64>> {
        match tokio::fs::metadata(self.path(tenant_id, sha256)?).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Appends `bytes` to the partial upload and syncs it to disk; returns the new length. The
    /// caller holds [`BlobFolder::lock`] and has checked the offset.
    pub async fn append_part(&self, tenant_id: i64, sha256: &str, bytes: &[u8]) -> Result<u64> {
        let path = self.part_path(tenant_id, sha256)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(&path).await?;
        file.write_all(bytes).await?;
        file.sync_all().await?;
        Ok(file.metadata().await?.len())
    }

    /// Opens the partial upload for appending (creating it). The caller holds
    /// [`BlobFolder::lock`] and has checked the offset.
    pub async fn open_part(&self, tenant_id: i64, sha256: &str) -> Result<tokio::fs::File> {
        let path = self.part_path(tenant_id, sha256)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        Ok(tokio::fs::OpenOptions::new().create(true).append(true).open(&path).await?)
    }

    /// The whole partial upload.
    pub async fn read_part(&self, tenant_id: i64, sha256: &str) -> Result<Vec<u8>> {
        Ok(tokio::fs::read(self.part_path(tenant_id, sha256)?).await?)
    }

    /// Deletes a partial upload, if any.
    pub async fn discard_part(&self, tenant_id: i64, sha256: &str) -> Result<()> {
        remove_if_exists(&self.part_path(tenant_id, sha256)?).await
    }

    /// Makes the verified partial upload the blob.
    pub async fn commit_part(&self, tenant_id: i64, sha256: &str) -> Result<()> {
        let (part, path) = (self.part_path(tenant_id, sha256)?, self.path(tenant_id, sha256)?);
        tokio::fs::rename(&part, &path).await?;
        sync_dir(&path).await
    }

    /// Stores verified bytes as the blob: written to a temporary file, synced, then renamed, so a
    /// crash never leaves a truncated blob under its id.
    pub async fn store(&self, tenant_id: i64, sha256: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(tenant_id, sha256)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let temp = path.with_file_name(format!("{sha256}.{}.tmp", hex::encode(rand::random::<[u8; 8]>())));
        let written = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            file.write_all(bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&temp, &path).await
        }
        .await;
        if let Err(error) = written {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(error.into());
        }
        sync_dir(&path).await
    }

    /// A complete blob's bytes, if the folder holds it.
    pub async fn read(&self, tenant_id: i64, sha256: &str) -> Result<Option<Vec<u8>>> {
        read_if_exists(&self.path(tenant_id, sha256)?).await
    }

    /// The cached thumbnail, making and caching it (with core's photo module) on first use.
    pub async fn thumbnail(&self, tenant_id: i64, sha256: &str) -> Result<Option<Vec<u8>>> {
        let thumb_path = self.thumb_path(tenant_id, sha256)?;
        if let Some(thumb) = read_if_exists(&thumb_path).await? {
            return Ok(Some(thumb));
        }
        let Some(bytes) = self.read(tenant_id, sha256).await? else { return Ok(None) };
        let thumb = tokio::task::spawn_blocking(move || photo::ingest(&bytes, &PhotoLimits::default()))
            .await
            .map_err(|e| Error::Storage(format!("thumbnail task failed: {e}")))?
            .map_err(|e| Error::Storage(format!("cannot make thumbnail of blob {sha256}: {e}")))?
            .thumbnail_jpeg;
        // The cache is an optimisation: a concurrent request may write the same bytes.
        let temp = thumb_path.with_file_name(format!("{sha256}.{}.thumb.tmp", hex::encode(rand::random::<[u8; 8]>())));
        if tokio::fs::write(&temp, &thumb).await.is_ok() && tokio::fs::rename(&temp, &thumb_path).await.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        Ok(Some(thumb))
    }
}

async fn remove_if_exists(path: &Path) -> Result<()> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match tokio::fs::read(path).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Syncs the directory holding `path`, so a rename survives a crash.
async fn sync_dir(path: &Path) -> Result<()> {
    let Some(dir) = path.parent() else { return Ok(()) };
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir).and_then(|d| d.sync_all()))
        .await
        .map_err(|e| Error::Storage(format!("directory sync task failed: {e}")))??;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Uploads

/// Which bytes a `PUT` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadRange {
    /// No `Content-Range`: the body is the whole photo.
    Whole,
    /// `Content-Range: bytes START-END/TOTAL` (END inclusive).
    Part {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
        /// Size of the whole photo.
        total: u64,
    },
}

/// Parses `bytes START-END/TOTAL`.
pub fn parse_content_range(value: &str) -> Result<UploadRange> {
    let invalid = || {
        Error::bad_request("invalid-range", format!("invalid Content-Range {value:?}: expected bytes START-END/TOTAL"))
    };
    let rest = value.trim().strip_prefix("bytes ").ok_or_else(invalid)?;
    let (range, total) = rest.split_once('/').ok_or_else(invalid)?;
    let (start, end) = range.split_once('-').ok_or_else(invalid)?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| invalid());
    let (start, end, total) = (number(start)?, number(end)?, number(total)?);
    if start > end || end >= total {
        return Err(Error::bad_request(
            "invalid-range",
            format!("invalid Content-Range {value:?}: need START <= END < TOTAL"),
        ));
    }
    Ok(UploadRange::Part { start, end, total })
}

/// What a `PUT` achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The blob was already complete; nothing was written.
    AlreadyComplete {
        /// Its size.
        size: u64,
    },
    /// The last byte arrived and the whole photo verified: stored.
    Stored {
        /// Its size.
        size: u64,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A part was appended; more is expected.
    Partial {
        /// Bytes held now.
        received: u64,
        /// Size of the whole photo.
        total: u64,
    },
    /// The part does not start where the held bytes end; nothing was written.
    WrongOffset {
        /// Bytes the relay holds: where the next part must start.
        held: u64,
        /// Where the refused part started.
        start: u64,
    },
}

/// What an upload needs from the relay.
#[derive(Clone, Copy)]
pub struct UploadContext<'a> {
    /// Metadata storage.
    pub storage: &'a dyn Storage,
    /// The photo folder.
    pub folder: &'a BlobFolder,
    /// Counters.
    pub metrics: &'a Metrics,
    /// Largest photo accepted.
    pub max_bytes: u64,
    /// Most bytes one user's unfinished uploads may declare together.
    pub max_unfinished_bytes: u64,
}

/// Checks the complete bytes of a photo against its id: size, SHA-256 and image header (core's
/// limits refuse pixel bombs). Returns the dimensions.
pub fn verify_photo(sha256: &str, bytes: &[u8], max_bytes: u64) -> Result<(u32, u32)> {
    let size = bytes.len() as u64;
    if size == 0 {
        return Err(Error::bad_request("empty-blob", format!("blob {sha256} is empty")));
    }
    if size > max_bytes {
        return Err(Error::TooLarge { size, limit: max_bytes });
    }
    let actual = sha256_hex(bytes);
    if actual != sha256 {
        return Err(Error::bad_request(
            "hash-mismatch",
            format!("blob {sha256} does not match its bytes: their SHA-256 is {actual}"),
        ));
    }
    let header = photo::read_header(bytes, &PhotoLimits::default())
        .map_err(|e| Error::bad_request("invalid-image", format!("blob {sha256} is not an acceptable image: {e}")))?;
    Ok((header.width, header.height))
}

/// Handles one `PUT /v1/blobs/{sha256}` (the caller is authenticated, the id is not yet checked).
///
/// Bad input changes nothing: a refused part is not appended, and a last part whose whole file
/// fails verification deletes the partial upload (the client starts again from byte 0).
pub async fn upload(
    ctx: UploadContext<'_>,
    caller: &Caller,
    sha256: &str,
    range: UploadRange,
    body: &[u8],
) -> Result<UploadOutcome> {
    validate_sha256(sha256)?;
    if !may_upload(caller.role) {
        return Err(Error::Forbidden(format!("a {} does not upload photos", caller.role)));
    }
    let tenant_id = caller.tenant_id;
    let _guard = ctx.folder.lock(sha256).await;
    if let Some(size) = complete_size(ctx, tenant_id, sha256).await? {
        return Ok(UploadOutcome::AlreadyComplete { size });
    }
    match range {
        UploadRange::Whole => {
            let (width, height) = match verify_photo(sha256, body, ctx.max_bytes) {
                Ok(dimensions) => dimensions,
                Err(error) => {
                    ctx.metrics.blob_refused();
                    return Err(error);
                }
            };
            ctx.folder.store(tenant_id, sha256, body).await?;
            let size = body.len() as u64;
            finish(ctx, caller, sha256, size, width, height).await?;
            // A stale partial upload of the same photo is no longer needed.
            ctx.folder.discard_part(tenant_id, sha256).await?;
            Ok(UploadOutcome::Stored { size, width, height })
        }
        UploadRange::Part { start, end, total } => {
            drop(_guard);
            let length = body.len() as u64;
            let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::copy_from_slice(body))]);
            upload_part(ctx, caller, sha256, PartRange { start, end, total }, Some(length), body).await
        }
    }
}

/// The bytes a `PUT` with `Content-Range: bytes START-END/TOTAL` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartRange {
    /// First byte.
    pub start: u64,
    /// Last byte, inclusive.
    pub end: u64,
    /// Size of the whole photo.
    pub total: u64,
}

/// Handles one `PUT` of a part, appending its body to the partial upload as it arrives.
///
/// `length` is the body's declared length (`Content-Length`), when known: a body that declares
/// another length than its range is refused before anything is written. A body that ends early
/// because the connection dropped (or stayed silent for [`PART_IDLE_TIMEOUT`]) keeps what
/// arrived: the phone asks `HEAD` where to resume. A body that ends early without a failure, or
/// runs past its range, is bad input and changes nothing.
pub async fn upload_part<S, E>(
    ctx: UploadContext<'_>,
    caller: &Caller,
    sha256: &str,
    range: PartRange,
    length: Option<u64>,
    mut body: S,
) -> Result<UploadOutcome>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let PartRange { start, end, total } = range;
    validate_sha256(sha256)?;
    if !may_upload(caller.role) {
        return Err(Error::Forbidden(format!("a {} does not upload photos", caller.role)));
    }
    let tenant_id = caller.tenant_id;
    let _guard = ctx.folder.lock(sha256).await;
    if let Some(size) = complete_size(ctx, tenant_id, sha256).await? {
        return Ok(UploadOutcome::AlreadyComplete { size });
    }
    if total > ctx.max_bytes {
        return Err(Error::TooLarge { size: total, limit: ctx.max_bytes });
    }
    let declared = end - start + 1;
    let wrong_length = |body: u64| {
        Error::bad_request(
            "invalid-range",
            format!("Content-Range bytes {start}-{end} is {declared} bytes but the body has {body}"),
        )
    };
    if let Some(length) = length.filter(|&length| length != declared) {
        return Err(wrong_length(length));
    }
    let held = ctx.folder.held(tenant_id, sha256).await?;
    if start != held {
        return Ok(UploadOutcome::WrongOffset { held, start });
    }
    let meta = ctx.storage.get_blob(tenant_id, sha256).await?;
    match meta {
        Some(meta) if held > 0 && meta.size != total => {
            return Err(Error::Conflict(format!(
                "upload of blob {sha256} began with a total of {} bytes, not {total}",
                meta.size
            )));
        }
        Some(_) if held > 0 => {}
        _ => {
            check_quota(ctx, caller, sha256, total).await?;
            let (device, user) = (&caller.device_id, &caller.user_id);
            ctx.storage.begin_upload(tenant_id, sha256, total, device, user, now_ms()).await?;
        }
    }
    let mut file = ctx.folder.open_part(tenant_id, sha256).await?;
    let mut written = 0u64;
    let (mut cut, mut overrun) = (false, false);
    loop {
        let chunk = match tokio::time::timeout(PART_IDLE_TIMEOUT, body.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                tracing::info!(sha256, written, %error, "upload part broke off; keeping what arrived");
                cut = true;
                break;
            }
            Err(_) => {
                tracing::info!(sha256, written, "upload part went silent; keeping what arrived");
                cut = true;
                break;
            }
        };
        if chunk.len() as u64 > declared - written {
            overrun = true;
            break;
        }
        file.write_all(&chunk).await?;
        written += chunk.len() as u64;
    }
    file.flush().await?;
    if (written < declared && !cut) || overrun {
        file.set_len(held).await?;
        file.sync_all().await?;
        return Err(if overrun {
            Error::bad_request("invalid-range", format!("the body runs past Content-Range bytes {start}-{end}"))
        } else {
            wrong_length(written)
        });
    }
    file.sync_all().await?;
    drop(file);
    let received = held + written;
    if received < total {
        if written > 0 {
            ctx.storage.advance_upload(tenant_id, sha256, received, now_ms()).await?;
        }
        return Ok(UploadOutcome::Partial { received, total });
    }
    let bytes = ctx.folder.read_part(tenant_id, sha256).await?;
    let (width, height) = match verify_photo(sha256, &bytes, ctx.max_bytes) {
        Ok(dimensions) => dimensions,
        Err(error) => {
            ctx.metrics.blob_refused();
            ctx.folder.discard_part(tenant_id, sha256).await?;
            ctx.storage.discard_upload(tenant_id, sha256).await?;
            return Err(error);
        }
    };
    ctx.folder.commit_part(tenant_id, sha256).await?;
    finish(ctx, caller, sha256, received, width, height).await?;
    Ok(UploadOutcome::Stored { size: received, width, height })
}

async fn finish(
    ctx: UploadContext<'_>,
    caller: &Caller,
    sha256: &str,
    size: u64,
    width: u32,
    height: u32,
) -> Result<()> {
    let blob = CompletedBlob {
        size,
        width,
        height,
        device_id: caller.device_id.clone(),
        user_id: caller.user_id.clone(),
        now_ms: now_ms(),
    };
    ctx.storage.complete_blob(caller.tenant_id, sha256, blob).await?;
    ctx.metrics.blob_stored(size);
    tracing::info!(tenant = caller.tenant_id, sha256, size, device = %caller.device_id, "photo stored");
    Ok(())
}

/// Refuses to begin an upload of `total` bytes when the caller's other unfinished uploads
/// already declare so much that both together exceed [`UploadContext::max_unfinished_bytes`].
/// Whole-photo uploads keep no partial state and are not counted.
async fn check_quota(ctx: UploadContext<'_>, caller: &Caller, sha256: &str, total: u64) -> Result<()> {
    let unfinished = ctx.storage.unfinished_upload_bytes(caller.tenant_id, &caller.user_id, sha256).await?;
    let limit = ctx.max_unfinished_bytes;
    if unfinished.saturating_add(total) > limit {
        ctx.metrics.blob_refused();
        tracing::info!(tenant = caller.tenant_id, user = %caller.user_id, unfinished, total, "upload quota reached");
        return Err(Error::UploadQuota { unfinished, requested: total, limit });
    }
    Ok(())
}

/// How many abandoned uploads one pass of [`expire_abandoned_uploads`] looks at per query.
const EXPIRY_BATCH: u32 = 500;

/// Deletes every unfinished upload (its part in the folder and its record) that received nothing
/// since `before_ms`; how many. An upload that advances meanwhile is kept: its record is deleted
/// only if it is still stale, under the blob's lock, and only then is its part removed.
pub async fn expire_abandoned_uploads(storage: &dyn Storage, folder: &BlobFolder, before_ms: i64) -> Result<usize> {
    let mut expired = 0;
    loop {
        let stale = storage.stale_uploads(before_ms, EXPIRY_BATCH).await?;
        let batch = stale.len();
        let mut kept = 0;
        for key in stale {
            let _guard = folder.lock(&key.sha256).await;
            if storage.expire_upload(key.tenant_id, &key.sha256, before_ms).await? {
                folder.discard_part(key.tenant_id, &key.sha256).await?;
                tracing::info!(tenant = key.tenant_id, sha256 = %key.sha256, "abandoned upload expired");
                expired += 1;
            } else {
                kept += 1;
            }
        }
        // A short batch was the last; a batch of uploads that all advanced meanwhile would come
        // back unchanged, so stop rather than loop.
        if batch < EXPIRY_BATCH as usize || kept == batch {
            return Ok(expired);
        }
    }
}

/// Expires abandoned uploads ([`expire_abandoned_uploads`], older than
/// [`crate::config::Config::unfinished_upload_ttl`]) at start and then every hour (or every ttl,
/// if shorter), until [`crate::state::AppState::shutdown`]. With several relay nodes each does
/// it; the deletes are idempotent.
pub async fn run_upload_expiry(state: crate::state::AppState) {
    let ttl = state.config.unfinished_upload_ttl;
    let period = ttl.clamp(std::time::Duration::from_secs(1), std::time::Duration::from_secs(60 * 60));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = state.shutdown.wait() => return,
            _ = ticks.tick() => {
                let before = now_ms().saturating_sub(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
                if let Err(error) = expire_abandoned_uploads(state.storage.as_ref(), &state.blobs, before).await {
                    tracing::error!(%error, "cannot expire abandoned uploads");
                }
            }
        }
    }
}

/// The size of a blob that is recorded complete and present in the folder.
pub async fn complete_size(ctx: UploadContext<'_>, tenant_id: i64, sha256: &str) -> Result<Option<u64>> {
    match ctx.storage.get_blob(tenant_id, sha256).await? {
        Some(meta) if meta.complete => ctx.folder.size(tenant_id, sha256).await,
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_64_lowercase_hex_characters_are_blob_ids() {
        assert!(validate_sha256(&sha256_hex(b"x")).is_ok());
        let upper = sha256_hex(b"x").to_uppercase();
        let traversal = format!("../../{}", &sha256_hex(b"x")[6..]);
        let encoded = format!("%2e%2e%2f{}", &sha256_hex(b"x")[9..]);
        for bad in [
            "",
            "abc",
            upper.as_str(),
            traversal.as_str(),
            encoded.as_str(),
            &"a".repeat(63),
            &"a".repeat(65),
            &format!("{}/", "a".repeat(63)),
            &format!("{}\0", "a".repeat(63)),
            &"g".repeat(64),
        ] {
            match validate_sha256(bad) {
                Err(Error::BadRequest { code: "invalid-id", .. }) => {}
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn paths_are_built_only_from_valid_ids() {
        let dir = tempfile::tempdir().unwrap();
        let folder = BlobFolder::open(dir.path()).unwrap();
        let sha = sha256_hex(b"photo");
        let path = folder.path(7, &sha).unwrap();
        assert_eq!(path, dir.path().join("7").join(&sha[..2]).join(&sha));
        assert!(folder.path(7, "../../etc/passwd").is_err());
    }

    #[test]
    fn content_ranges_parse_and_nonsense_is_refused() {
        assert_eq!(parse_content_range("bytes 0-99/200").unwrap(), UploadRange::Part { start: 0, end: 99, total: 200 });
        for bad in ["bytes 10-5/20", "bytes 0-20/20", "0-1/2", "bytes */20", "bytes a-b/c", "bytes 0-1"] {
            assert!(parse_content_range(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn parts_append_and_a_discarded_part_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let folder = BlobFolder::open(dir.path()).unwrap();
        let sha = sha256_hex(b"hello world");
        assert_eq!(folder.held(1, &sha).await.unwrap(), 0);
        assert_eq!(folder.append_part(1, &sha, b"hello ").await.unwrap(), 6);
        assert_eq!(folder.append_part(1, &sha, b"world").await.unwrap(), 11);
        assert_eq!(folder.read_part(1, &sha).await.unwrap(), b"hello world");
        folder.commit_part(1, &sha).await.unwrap();
        assert_eq!(folder.read(1, &sha).await.unwrap().unwrap(), b"hello world");
        assert_eq!(folder.held(1, &sha).await.unwrap(), 0);
        assert!(folder.read(2, &sha).await.unwrap().is_none(), "another tenant holds nothing");
        folder.append_part(1, &sha, b"x").await.unwrap();
        folder.discard_part(1, &sha).await.unwrap();
        assert_eq!(folder.held(1, &sha).await.unwrap(), 0);
    }
}
