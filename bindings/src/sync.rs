//! Syncing with the relay: now, in the background, and the status line.

use std::time::Duration;

use fieldsync_core::local_store::Quarantined;
use fieldsync_core::sync::{SyncReport as CoreReport, SyncStatus as CoreStatus};

use crate::error::FieldSyncError;
use crate::phone::{FieldSyncPhone, lock};

/// What one sync did (or, in `on_sync_progress`, has done so far).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Round trips made.
    pub rounds: u32,
    /// Documents the relay accepted.
    pub accepted: u32,
    /// Documents the relay refused (now quarantined).
    pub rejected: u32,
    /// Documents updated from the relay.
    pub received: u32,
    /// Documents deleted because they left the user's scope.
    pub purged: u32,
    /// Bytes of sync requests sent.
    pub bytes_sent: u64,
    /// Bytes of sync responses received.
    pub bytes_received: u64,
    /// Photos whose upload completed.
    pub photos_uploaded: u32,
    /// Photo bytes sent.
    pub photo_bytes_sent: u64,
}

/// How a sync ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncOutcome {
    /// Both sides are quiet and the photo queue is done.
    Completed {
        /// What the sync did.
        report: SyncReport,
    },
    /// The sync stopped; everything not acknowledged stays queued on the phone.
    Failed {
        /// Why, e.g. `relay unreachable: …`.
        reason: String,
    },
}

/// The sync status line: what is waiting and how the last attempt went.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// Whether there is a session to sync with (`login` or `resume_session` was called).
    pub connected: bool,
    /// Whether the background sync runs.
    pub background: bool,
    /// Documents changed on the phone and not yet acknowledged by the relay.
    pub pending_changes: u64,
    /// Photos not yet uploaded.
    pub pending_photos: u64,
    /// Photo bytes still to send.
    pub pending_photo_bytes: u64,
    /// Documents the relay refused.
    pub quarantined: u64,
    /// When a sync last completed in this app session, ms since the Unix epoch.
    pub last_success_at: Option<i64>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

/// A document the relay refused, kept aside on the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QuarantinedDocument {
    /// The document's id.
    pub document_id: String,
    /// The relay's code (`forbidden`, `invalid`, `actor-taken`).
    pub code: String,
    /// The relay's reason.
    pub reason: String,
    /// When it was refused, ms since the Unix epoch.
    pub at: i64,
}

#[uniffi::export]
impl FieldSyncPhone {
    /// Syncs now: documents until both sides are quiet, then photos. Blocks until done; the
    /// listener hears each round trip and the outcome. Needs a session (`login`).
    pub fn sync_now(&self) -> Result<SyncReport, FieldSyncError> {
        let engine = self.engine()?;
        Ok((&engine.sync_now()?).into())
    }

    /// What is waiting to sync and how the last attempt went. Works signed out too.
    pub fn sync_status(&self) -> Result<SyncStatus, FieldSyncError> {
        let background = lock(&self.background).is_some();
        match self.engine() {
            Ok(engine) => Ok(SyncStatus { connected: true, background, ..engine.status()?.into() }),
            Err(_) => {
                // Without an engine there is no last outcome; the queues are in the store.
                let (pending_photos, pending_photo_bytes) = self.store.pending_photos()?;
                Ok(SyncStatus {
                    pending_changes: self.store.pending_documents()?.len() as u64,
                    pending_photos,
                    pending_photo_bytes,
                    quarantined: self.store.quarantined()?.len() as u64,
                    ..SyncStatus::default()
                })
            }
        }
    }

    /// Starts syncing in the background on FieldSync's own thread: now, then every
    /// `interval_seconds`, right away after each local change, with backoff after failures.
    /// Replaces a background sync already running. Needs a session (`login`).
    pub fn start_background_sync(&self, interval_seconds: u32) -> Result<(), FieldSyncError> {
        let engine = self.engine()?;
        let started = engine.start_background(Duration::from_secs(u64::from(interval_seconds.max(1))));
        let previous = lock(&self.background).replace(started);
        // Dropping stops and joins the old thread: done outside the lock.
        drop(previous);
        Ok(())
    }

    /// Stops the background sync (after its current sync) and waits for it. Does nothing if none runs.
    pub fn stop_background_sync(&self) {
        let running = lock(&self.background).take();
        drop(running);
    }

    /// Documents the relay refused, with its reasons.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedDocument>, FieldSyncError> {
        Ok(self.store.quarantined()?.iter().map(QuarantinedDocument::from).collect())
    }
}

impl From<&CoreReport> for SyncReport {
    fn from(r: &CoreReport) -> Self {
        SyncReport {
            rounds: r.rounds,
            accepted: r.accepted,
            rejected: r.rejected,
            received: r.received,
            purged: r.purged,
            bytes_sent: r.bytes_sent,
            bytes_received: r.bytes_received,
            photos_uploaded: r.photos_uploaded,
            photo_bytes_sent: r.photo_bytes_sent,
        }
    }
}

impl From<CoreStatus> for SyncStatus {
    fn from(s: CoreStatus) -> Self {
        SyncStatus {
            connected: false,
            background: false,
            pending_changes: s.pending_changes,
            pending_photos: s.pending_photos,
            pending_photo_bytes: s.pending_photo_bytes,
            quarantined: s.quarantined,
            last_success_at: s.last_success_at,
            last_error: s.last_error,
        }
    }
}

impl From<&Quarantined> for QuarantinedDocument {
    fn from(q: &Quarantined) -> Self {
        QuarantinedDocument { document_id: q.id.to_string(), code: q.code.clone(), reason: q.reason.clone(), at: q.at }
    }
}
