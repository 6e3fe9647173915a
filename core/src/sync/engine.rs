//! The device's sync engine: round trips with the relay until both sides are quiet, then the
//! photo queue; a background loop with backoff; status for the app.
//!
//! Documents and photos are separate queues on purpose: a rep's order never waits behind a
//! supervisor's 2 MB of shelf photos on a weak signal. Every step is safe to interrupt: the
//! cursor moves only after the updates it covers are stored, a push leaves the outbox only when
//! the relay acknowledged it, and a photo upload resumes from the bytes the relay holds.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use automerge::ChangeHash;
use automerge::sync::State;

use super::protocol::{self, DocMessage, Push, SyncRequest, SyncResponse};
use super::scope_digest;
use super::transport::{BlobState, Transport, TransportError};
use crate::clock::now_ms;
use crate::id::DocumentId;
use crate::local_store::{LocalStore, Quarantined, Received};

/// Why a sync did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The relay could not be reached or refused the request.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The relay answered something this code cannot read.
    #[error("relay answered an unreadable sync message: {0}")]
    Protocol(#[from] protocol::WireError),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] crate::Error),
}

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Most round trips in one `sync_now` (a safety net; a normal sync needs one or two).
    pub max_rounds: usize,
    /// Most documents pushed per round trip.
    pub pushes_per_round: usize,
    /// Bytes of a photo sent per upload request.
    pub photo_chunk_bytes: usize,
    /// Most sync-message rounds spent repairing one document in one sync.
    pub repair_rounds: usize,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self { max_rounds: 64, pushes_per_round: 200, photo_chunk_bytes: 256 * 1024, repair_rounds: 8 }
    }
}

/// What one `sync_now` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// Photos completed.
    pub photos_uploaded: u32,
    /// Photo bytes sent.
    pub photo_bytes_sent: u64,
}

/// The engine's state for the app's status line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// Documents changed on the device and not yet acknowledged.
    pub pending_changes: u64,
    /// Photos not yet uploaded.
    pub pending_photos: u64,
    /// Photo bytes still to send.
    pub pending_photo_bytes: u64,
    /// Documents the relay refused.
    pub quarantined: u64,
    /// When a sync last completed, ms since the Unix epoch.
    pub last_success_at: Option<i64>,
    /// The last failure, if the last attempt failed.
    pub last_error: Option<String>,
}

/// Progress and events, for an app that wants to show them. Called on the syncing thread.
pub trait SyncListener: Send + Sync {
    /// A round trip completed.
    fn on_round(&self, _report: &SyncReport) {}
    /// The relay refused a document; it is quarantined.
    fn on_rejected(&self, _document: &Quarantined) {}
    /// A sync finished (`Ok`) or failed.
    fn on_finished(&self, _result: Result<&SyncReport, &str>) {}
}

/// Syncs one local store with the relay.
pub struct SyncEngine {
    store: Arc<LocalStore>,
    transport: Arc<dyn Transport>,
    options: SyncOptions,
    listener: Mutex<Option<Arc<dyn SyncListener>>>,
    outcome: Mutex<(Option<i64>, Option<String>)>,
    /// One sync at a time: the background loop and `sync_now` from the app share it.
    running: Mutex<()>,
}

impl SyncEngine {
    /// An engine for `store` talking through `transport`.
    pub fn new(store: Arc<LocalStore>, transport: Arc<dyn Transport>) -> Self {
        Self::with_options(store, transport, SyncOptions::default())
    }

    /// An engine with explicit options.
    pub fn with_options(store: Arc<LocalStore>, transport: Arc<dyn Transport>, options: SyncOptions) -> Self {
        Self {
            store,
            transport,
            options,
            listener: Mutex::new(None),
            outcome: Mutex::new((None, None)),
            running: Mutex::new(()),
        }
    }

    /// Sets (or clears) the listener.
    pub fn set_listener(&self, listener: Option<Arc<dyn SyncListener>>) {
        *lock(&self.listener) = listener;
    }

    /// The local store this engine syncs.
    pub fn store(&self) -> &Arc<LocalStore> {
        &self.store
    }

    /// Syncs documents until both sides are quiet, then uploads pending photos. Documents never
    /// wait for photos: a photo failure is reported after the documents are done.
    pub fn sync_now(&self) -> Result<SyncReport, SyncError> {
        let _one_at_a_time = lock(&self.running);
        let mut report = SyncReport::default();
        let result = self.sync_documents(&mut report).and_then(|()| self.upload_photos(&mut report));
        let listener = lock(&self.listener).clone();
        let mut outcome = lock(&self.outcome);
        match &result {
            Ok(()) => {
                *outcome = (Some(now_ms()), None);
                drop(outcome);
                if let Some(listener) = listener {
                    listener.on_finished(Ok(&report));
                }
            }
            Err(error) => {
                outcome.1 = Some(error.to_string());
                drop(outcome);
                if let Some(listener) = listener {
                    listener.on_finished(Err(&error.to_string()));
                }
            }
        }
        result.map(|()| report)
    }

    /// Pending work and the last outcome.
    pub fn status(&self) -> Result<SyncStatus, SyncError> {
        let (pending_photos, pending_photo_bytes) = self.store.pending_photos()?;
        let (last_success_at, last_error) = lock(&self.outcome).clone();
        Ok(SyncStatus {
            pending_changes: self.store.pending_documents()?.len() as u64,
            pending_photos,
            pending_photo_bytes,
            quarantined: self.store.quarantined()?.len() as u64,
            last_success_at,
            last_error,
        })
    }

    fn sync_documents(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let mut repairing: HashMap<DocumentId, (State, usize)> = HashMap::new();
        let mut want: Vec<DocumentId> = Vec::new();
        for _ in 0..self.options.max_rounds {
            let quarantined: HashSet<DocumentId> = self.store.quarantined()?.into_iter().map(|q| q.id).collect();
            let outbox: Vec<DocumentId> =
                self.store.pending_documents()?.into_iter().filter(|id| !quarantined.contains(id)).collect();
            let mut pushed_heads: HashMap<DocumentId, Vec<ChangeHash>> = HashMap::new();
            let mut pushes = Vec::new();
            for id in outbox.iter().take(self.options.pushes_per_round) {
                let (changes, heads) = self.store.push_payload(id)?;
                pushed_heads.insert(id.clone(), heads);
                pushes.push(Push { doc: id.clone(), changes });
            }
            let mut sync = Vec::new();
            repairing.retain(|id, (state, rounds)| {
                if *rounds >= self.options.repair_rounds {
                    tracing::warn!(doc = %id, "gave up repairing this sync");
                    return false;
                }
                *rounds += 1;
                match self.store.generate_sync_message(id, state) {
                    Ok(Some(message)) => {
                        sync.push(DocMessage { doc: id.clone(), message });
                        true
                    }
                    Ok(None) => false,
                    Err(error) => {
                        tracing::warn!(doc = %id, %error, "cannot repair document");
                        false
                    }
                }
            });
            let mut excluded: HashSet<DocumentId> = outbox.iter().cloned().collect();
            excluded.extend(quarantined.iter().cloned());
            excluded.extend(repairing.keys().cloned());
            let held = self.store.held_heads(&excluded)?;
            let request = SyncRequest {
                cursor: self.store.sync_cursor()?,
                digest: scope_digest(held.iter().map(|(id, heads)| (id, heads.as_slice()))),
                excluded: excluded.iter().cloned().collect(),
                pushes,
                // The rest of a long list (a restored phone's whole scope) goes in later rounds.
                want: want.drain(..want.len().min(protocol::MAX_DOCS_PER_REQUEST)).collect(),
                sync,
            };
            let bytes = protocol::encode(&request);
            report.bytes_sent += bytes.len() as u64;
            let answer = self.transport.round_trip(bytes)?;
            report.bytes_received += answer.len() as u64;
            report.rounds += 1;
            let response: SyncResponse = protocol::decode(&answer)?;
            let more_to_do = self.apply(response, &pushed_heads, &held, &mut repairing, &mut want, report)?;
            if let Some(listener) = lock(&self.listener).clone() {
                listener.on_round(report);
            }
            let outbox_left = self.store.pending_documents()?.iter().any(|id| !quarantined.contains(id));
            if !more_to_do && !outbox_left && repairing.is_empty() && want.is_empty() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Applies one response; returns whether it calls for another round trip.
    fn apply(
        &self,
        response: SyncResponse,
        pushed_heads: &HashMap<DocumentId, Vec<ChangeHash>>,
        held: &[(DocumentId, Vec<protocol::Head>)],
        repairing: &mut HashMap<DocumentId, (State, usize)>,
        want: &mut Vec<DocumentId>,
        report: &mut SyncReport,
    ) -> Result<bool, SyncError> {
        let mut more = response.more || !response.updates.is_empty();
        let updates: Vec<(DocumentId, &[u8])> =
            response.updates.iter().map(|u| (u.doc.clone(), u.changes.as_slice())).collect();
        for ((id, _), outcome) in updates.iter().zip(self.store.receive_from_relay(&updates)?) {
            match outcome {
                Received::Applied | Received::Unchanged => report.received += 1,
                // Changes to a document this device never received (a restored backup): ask for
                // the whole document.
                Received::Missing => {
                    tracing::info!(doc = %id, "update builds on a document this device lacks; asking for it");
                    want.push(id.clone());
                    more = true;
                }
                // One broken document must not stop the others: repair it with sync messages.
                Received::Broken(error) => {
                    tracing::warn!(doc = %id, %error, "update from the relay did not apply");
                    repairing.entry(id.clone()).or_insert_with(|| (State::new(), 0));
                }
            }
        }
        for id in &response.accepted {
            if let Some(heads) = pushed_heads.get(id) {
                self.store.mark_pushed(id, heads)?;
                report.accepted += 1;
            }
        }
        for rejection in &response.rejected {
            self.store.quarantine(&rejection.doc, &rejection.code, &rejection.reason)?;
            repairing.remove(&rejection.doc);
            report.rejected += 1;
            let quarantined = Quarantined {
                id: rejection.doc.clone(),
                code: rejection.code.clone(),
                reason: rejection.reason.clone(),
                at: now_ms(),
            };
            if let Some(listener) = lock(&self.listener).clone() {
                listener.on_rejected(&quarantined);
            }
        }
        for id in &response.resync {
            repairing.entry(id.clone()).or_insert_with(|| (State::new(), 0));
            more = true;
        }
        for message in &response.sync {
            let (state, _) = repairing.entry(message.doc.clone()).or_insert_with(|| (State::new(), 0));
            self.store.receive_sync_message(&message.doc, state, &message.message)?;
            more = true;
        }
        for id in &response.purge {
            self.store.purge(id)?;
            report.purged += 1;
        }
        if let Some(manifest) = &response.manifest {
            let local: HashMap<&DocumentId, &Vec<protocol::Head>> = held.iter().map(|(id, h)| (id, h)).collect();
            let relay: HashSet<&DocumentId> = manifest.iter().map(|entry| &entry.doc).collect();
            for entry in manifest {
                match local.get(&entry.doc) {
                    None => want.push(entry.doc.clone()),
                    Some(heads) if !same_heads(heads, &entry.heads) => {
                        repairing.entry(entry.doc.clone()).or_insert_with(|| (State::new(), 0));
                    }
                    Some(_) => {}
                }
            }
            for (id, _) in held {
                if !relay.contains(id) {
                    self.store.purge(id)?;
                    report.purged += 1;
                }
            }
            more = more || !want.is_empty() || !repairing.is_empty();
        }
        self.store.set_sync_cursor(response.cursor)?;
        Ok(more)
    }

    fn upload_photos(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        for photo in self.store.pending_photo_uploads()? {
            let bytes = self.store.photo_bytes(&photo.sha256)?;
            let total = bytes.len() as u64;
            let mut state = self.transport.blob_state(&photo.sha256)?;
            // Each request either completes the photo or moves the relay's offset forward; a
            // relay that does neither is not retried forever.
            for _ in 0..(bytes.len() / self.options.photo_chunk_bytes.max(1) + 4) {
                let offset = match state {
                    BlobState::Complete => break,
                    BlobState::Partial(held) => held.min(total),
                };
                self.store.photo_progress(&photo.sha256, offset)?;
                let end = (offset as usize + self.options.photo_chunk_bytes).min(bytes.len());
                let chunk = &bytes[offset as usize..end];
                report.photo_bytes_sent += chunk.len() as u64;
                state = self.transport.upload_blob(&photo.sha256, offset, total, chunk)?;
            }
            if state == BlobState::Complete {
                self.store.photo_progress(&photo.sha256, total)?;
                report.photos_uploaded += 1;
            }
        }
        Ok(())
    }

    /// Starts a background thread that syncs now, then every `interval`, right away when
    /// [`BackgroundSync::wake`] is called or a local change is committed, and backs off with
    /// jitter after failures. Dropping the handle stops it.
    pub fn start_background(self: &Arc<Self>, interval: Duration) -> BackgroundSync {
        let (wake, wakes) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let local_changes = self.store.subscribe(&[]);
        let engine = Arc::clone(self);
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("fieldsync-sync".to_owned())
            .spawn(move || background_loop(&engine, interval, &wakes, &local_changes, &stopping))
            .ok();
        BackgroundSync { wake, stop, thread }
    }
}

fn background_loop(
    engine: &SyncEngine,
    interval: Duration,
    wakes: &Receiver<()>,
    local_changes: &Receiver<crate::local_store::DocChange>,
    stop: &AtomicBool,
) {
    let mut failures: u32 = 0;
    while !stop.load(Ordering::SeqCst) {
        let wait = match engine.sync_now() {
            Ok(_) => {
                failures = 0;
                interval
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::info!(%error, failures, "sync failed; backing off");
                backoff(failures, interval)
            }
        };
        // Sleep in short slices so a local change or a wake-up starts the next sync quickly.
        let mut waited = Duration::ZERO;
        let slice = Duration::from_millis(50);
        while waited < wait && !stop.load(Ordering::SeqCst) {
            match wakes.recv_timeout(slice) {
                Ok(()) => break,
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => waited += slice,
            }
            if local_changes.try_iter().any(|c| c.origin == crate::local_store::ChangeOrigin::Local) && failures == 0 {
                break;
            }
        }
    }
}

/// Exponential backoff from one second to five minutes (capped by nothing shorter than
/// `interval`), with up to 50 % random jitter so that a fleet of phones does not return at once.
pub fn backoff(failures: u32, interval: Duration) -> Duration {
    let base = Duration::from_secs(1).saturating_mul(1u32 << failures.min(9).saturating_sub(1));
    let capped = base.min(Duration::from_secs(300)).max(interval.min(Duration::from_secs(1)));
    let jitter = capped.mul_f64(rand::random::<f64>() * 0.5);
    capped + jitter
}

/// A running background sync. Dropping it stops the thread (after its current sync).
pub struct BackgroundSync {
    wake: Sender<()>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundSync {
    /// Starts a sync now (for example when the live channel says something changed).
    pub fn wake(&self) {
        let _ = self.wake.send(());
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for BackgroundSync {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn same_heads(a: &[protocol::Head], b: &[protocol::Head]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
