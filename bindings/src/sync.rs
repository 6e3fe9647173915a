//! Syncing with the relay: now, in the background, and the status line.

use std::time::Duration;

use fieldsync_core::local_store::Quarantined;
use fieldsync_core::sync::{
    LaneStatus as CoreLane, SetAsidePhoto as CoreSetAside, SyncReport as CoreReport, SyncStatus as CoreStatus,
};

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
    /// Photos the relay refused (set aside; see `SyncStatus.photos_set_aside`).
    pub photos_set_aside: u32,
    /// Checks of how much of a photo the relay holds (one per photo after a failed upload).
    pub photo_state_checks: u32,
}

/// How one sync lane (documents or photos) is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct LaneStatus {
    /// Whether the lane is working right now.
    pub running: bool,
    /// When the lane last completed a pass in this app session, ms since the Unix epoch.
    pub last_success_at: Option<i64>,
    /// Why the lane's last pass failed, if it did.
    pub last_error: Option<String>,
    /// Passes failed in a row.
    pub failures: u32,
}

/// A photo the relay refused: set aside so it never blocks the others. Show it to the user;
/// `retry_set_aside_photos` puts it back in the queue.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SetAsidePhoto {
    /// The photo's SHA-256.
    pub sha256: String,
    /// The relay's HTTP status.
    pub status: u16,
    /// The relay's code (`hash-mismatch`, `too-large`, `invalid-image`, …).
    pub code: String,
    /// The relay's reason.
    pub reason: String,
    /// When it was set aside, ms since the Unix epoch.
    pub at: i64,
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
    /// Whether the live channel runs (`start_live`).
    pub live: bool,
    /// Documents changed on the phone and not yet acknowledged by the relay.
    pub pending_changes: u64,
    /// Photos not yet uploaded.
    pub pending_photos: u64,
    /// Photo bytes still to send.
    pub pending_photo_bytes: u64,
    /// Documents the relay refused.
    pub quarantined: u64,
    /// When documents last synced completely in this app session, ms since the Unix epoch.
    pub last_success_at: Option<i64>,
    /// Why the last attempt failed (documents first, then photos), if it did.
    pub last_error: Option<String>,
    /// The documents lane: orders, inspections, verdicts.
    pub documents: LaneStatus,
    /// The photos lane.
    pub photos: LaneStatus,
    /// Photos waiting for their own retry time after a failed upload.
    pub photos_waiting_retry: u64,
    /// Photos the relay refused, set aside.
    pub photos_set_aside: Vec<SetAsidePhoto>,
    /// Set when HQ revoked this phone or disabled its user and the phone erased its data
    /// (the sync also failed with `Revoked`): forget the token and the key, show sign-in.
    pub wiped: Option<RemoteWipe>,
}

/// A remote wipe: the relay said this phone was revoked or its user disabled, and the phone
/// erased its database, photos and upload queues.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RemoteWipe {
    /// What the relay said (`device … was revoked`, `user … is disabled`).
    pub reason: String,
    /// When the data was erased, ms since the Unix epoch.
    pub at: i64,
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
    /// Syncs now: documents until both sides are quiet, then every pending photo (ignoring
    /// their retry times). Blocks until done; the listener hears each round trip and the
    /// outcome. A photo the relay refuses is set aside, not a failure. Needs a session (`login`).
    pub fn sync_now(&self) -> Result<SyncReport, FieldSyncError> {
        let engine = self.engine()?;
        Ok((&engine.sync_now()?).into())
    }

    /// Syncs documents only (orders, check-ins, verdicts), never waiting for a photo: the call
    /// for a short background window (iOS `BGAppRefreshTask`, a WorkManager job with little
    /// time) and for "send it now" after a rep saves an order. Needs a session.
    pub fn sync_documents_now(&self) -> Result<SyncReport, FieldSyncError> {
        let engine = self.engine()?;
        Ok((&engine.sync_documents_now()?).into())
    }

    /// Uploads pending photos now (ignoring their retry times), never holding the documents
    /// lane: the call for a long background window on an unmetered network (iOS
    /// `BGProcessingTask`, a WorkManager job with a network constraint). Needs a session.
    pub fn upload_photos_now(&self) -> Result<SyncReport, FieldSyncError> {
        let engine = self.engine()?;
        Ok((&engine.upload_photos_now()?).into())
    }

    /// Puts the photos the relay refused back in the queue.
    pub fn retry_set_aside_photos(&self) -> Result<(), FieldSyncError> {
        self.engine()?.retry_set_aside_photos();
        Ok(())
    }

    /// Uploads the photos of this inspection first (the one the supervisor is finishing). The
    /// background sync already follows the inspection edited last; `None` goes back to that.
    pub fn focus_inspection(&self, inspection_id: Option<String>) -> Result<(), FieldSyncError> {
        let id = inspection_id.as_deref().map(crate::phone::document_id).transpose()?;
        self.engine()?.focus_inspection(id);
        Ok(())
    }

    /// Wakes the background sync now (the app came to the foreground, the network came back).
    /// Does nothing if none runs.
    pub fn wake_sync(&self) {
        if let Some(background) = lock(&self.background).as_ref() {
            background.wake();
        }
    }

    /// Opens the live channel to the relay: each notice that something in the user's scope
    /// changed (a verdict, an approval) syncs documents at once, so verdicts arrive in seconds
    /// instead of at the next interval. It reconnects by itself with backoff. Call it while the
    /// app is in the foreground, `stop_live` when it leaves. Works with or without the
    /// background sync (without it, each notice runs a documents sync on the live thread).
    /// Replaces a live channel already open. Needs a session.
    pub fn start_live(&self) -> Result<(), FieldSyncError> {
        let (base_url, token) = self.relay()?;
        let engine = self.engine()?;
        let background = std::sync::Arc::downgrade(&self.background);
        let trust = lock(&self.trust).clone();
        let watch = fieldsync_core::sync::watch_and_sync_with(&trust, engine, &base_url, &token, move || {
            let slot = background.upgrade();
            let running = slot.as_ref().map(|slot| lock(slot));
            running.as_ref().and_then(|r| r.as_ref()).map(|r| r.wake_documents()).is_some()
        });
        let previous = lock(&self.live).replace(watch);
        drop(previous);
        Ok(())
    }

    /// Closes the live channel (the app left the foreground). Does nothing if none is open.
    pub fn stop_live(&self) {
        let running = lock(&self.live).take();
        drop(running);
    }

    /// What is waiting to sync and how the last attempt went. Works signed out too.
    pub fn sync_status(&self) -> Result<SyncStatus, FieldSyncError> {
        let background = lock(&self.background).is_some();
        let live = lock(&self.live).is_some();
        match self.engine() {
            Ok(engine) => Ok(SyncStatus { connected: true, background, live, ..engine.status()?.into() }),
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

    /// Starts syncing in the background on FieldSync's own threads, in two lanes that never
    /// wait for each other: documents now, then every `interval_seconds`, right away after each
    /// local change (even while backing off after failures); photos in a queue of their own,
    /// each failed photo retried on its own schedule. Replaces a background sync already
    /// running. Needs a session (`login`).
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
            photos_set_aside: r.photos_set_aside,
            photo_state_checks: r.photo_state_checks,
        }
    }
}

impl From<CoreLane> for LaneStatus {
    fn from(l: CoreLane) -> Self {
        LaneStatus {
            running: l.running,
            last_success_at: l.last_success_at,
            last_error: l.last_error,
            failures: l.failures,
        }
    }
}

impl From<CoreSetAside> for SetAsidePhoto {
    fn from(p: CoreSetAside) -> Self {
        SetAsidePhoto { sha256: p.sha256, status: p.status, code: p.code, reason: p.reason, at: p.at }
    }
}

impl From<CoreStatus> for SyncStatus {
    fn from(s: CoreStatus) -> Self {
        SyncStatus {
            connected: false,
            background: false,
            live: false,
            pending_changes: s.pending_changes,
            pending_photos: s.pending_photos,
            pending_photo_bytes: s.pending_photo_bytes,
            quarantined: s.quarantined,
            last_success_at: s.last_success_at,
            last_error: s.last_error,
            documents: s.documents.into(),
            photos: s.photos.into(),
            photos_waiting_retry: s.photos_waiting_retry,
            photos_set_aside: s.photos_set_aside.into_iter().map(SetAsidePhoto::from).collect(),
            wiped: s.wiped.map(|w| RemoteWipe { reason: w.reason, at: w.at }),
        }
    }
}

impl From<&Quarantined> for QuarantinedDocument {
    fn from(q: &Quarantined) -> Self {
        QuarantinedDocument { document_id: q.id.to_string(), code: q.code.clone(), reason: q.reason.clone(), at: q.at }
    }
}
