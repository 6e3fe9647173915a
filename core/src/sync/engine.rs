//! The device's sync engine: round trips with the relay until both sides are quiet, and the
//! photo queue, in two lanes that never wait for each other; background threads with backoff;
//! status per lane for the app.
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
use std::time::{Duration, Instant};

use automerge::ChangeHash;
use automerge::sync::State;

use super::protocol::{self, DocMessage, Push, SyncRequest, SyncResponse};
use super::scope_digest;
use super::transport::{BlobState, Transport, TransportError};
use crate::clock::now_ms;
use crate::id::DocumentId;
use crate::local_store::{LocalStore, PendingPhoto, Quarantined, Received};

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
    /// Most bytes of a photo sent per upload request. Below it the part size follows the
    /// measured throughput ([`SyncOptions::photo_part_time`]).
    pub photo_chunk_bytes: usize,
    /// How long one photo part should take at the measured throughput: short enough that a
    /// cut loses little and progress shows, long enough that round trips do not dominate.
    pub photo_part_time: Duration,
    /// Most sync-message rounds spent repairing one document in one sync.
    pub repair_rounds: usize,
    /// How long one answer of the relay should take at the measured throughput: the relay is
    /// asked to cut its answers there ([`protocol::ANSWER_BUDGET_HEADER`]), so on a slow link a
    /// cut loses one short page and progress shows, and on a fast one pages stay large.
    pub answer_time: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            max_rounds: 64,
            pushes_per_round: 200,
            photo_chunk_bytes: 1024 * 1024,
            photo_part_time: Duration::from_secs(8),
            repair_rounds: 8,
            answer_time: Duration::from_secs(8),
        }
    }
}

/// Size of the first photo part, before any throughput is measured.
pub const FIRST_PART_BYTES: usize = 64 * 1024;
/// Smallest photo part (unless [`SyncOptions::photo_chunk_bytes`] is smaller).
pub const MIN_PART_BYTES: usize = 16 * 1024;
/// Answer budget of the first round trip, before any throughput is measured: 32 s at 16 kbit/s,
/// and on a fast link one round before the pages grow to the relay's largest.
pub const FIRST_ANSWER_BYTES: usize = 64 * 1024;
/// Round trips moving fewer bytes than this measure the link's latency more than its
/// throughput, and do not change the answer budget.
const MEASURED_ROUND_BYTES: usize = 16 * 1024;

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
    /// Photos the relay refused in this sync (set aside).
    pub photos_set_aside: u32,
    /// `HEAD` requests made to learn where to resume (one per photo after a failure).
    pub photo_state_checks: u32,
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
    /// When the documents lane last completed, ms since the Unix epoch.
    pub last_success_at: Option<i64>,
    /// The last failure of the documents lane, else of the photos lane, if its last pass failed.
    pub last_error: Option<String>,
    /// The documents lane.
    pub documents: LaneStatus,
    /// The photos lane.
    pub photos: LaneStatus,
    /// Photos waiting for their retry time after a failure.
    pub photos_waiting_retry: u64,
    /// Photos the relay refused, set aside.
    pub photos_set_aside: Vec<SetAsidePhoto>,
    /// Set once the relay said this device was revoked (or its user disabled) and the engine
    /// erased the local store.
    pub wiped: Option<Wiped>,
}

/// A remote wipe: HQ revoked the device or disabled its user, and the phone erased its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wiped {
    /// What the relay said (`device d1 was revoked`, `user anna is disabled`).
    pub reason: String,
    /// When the local store was erased, ms since the Unix epoch.
    pub at: i64,
}

/// Progress and events, for an app that wants to show them. Called on the syncing thread.
pub trait SyncListener: Send + Sync {
    /// A round trip completed.
    fn on_round(&self, _report: &SyncReport) {}
    /// The relay refused a document; it is quarantined.
    fn on_rejected(&self, _document: &Quarantined) {}
    /// A sync finished (`Ok`) or failed.
    fn on_finished(&self, _result: Result<&SyncReport, &str>) {}
    /// The relay refused a photo; it is set aside and blocks nothing else.
    fn on_photo_set_aside(&self, _photo: &SetAsidePhoto) {}
    /// The relay revoked this device or disabled its user, and the local store was erased.
    fn on_wiped(&self, _wiped: &Wiped) {}
}

/// A photo the relay refused (a 4xx answer): set aside so it never blocks the others, and
/// reported in [`SyncStatus::photos_set_aside`]. [`SyncEngine::retry_set_aside_photos`] puts it
/// back in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAsidePhoto {
    /// The photo's SHA-256.
    pub sha256: String,
    /// The relay's HTTP status.
    pub status: u16,
    /// The relay's error code (`hash-mismatch`, `too-large`, `invalid-image`, …).
    pub code: String,
    /// The relay's reason.
    pub reason: String,
    /// When it was set aside, ms since the Unix epoch.
    pub at: i64,
}

/// How one lane (documents or photos) is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneStatus {
    /// Whether the lane is working right now.
    pub running: bool,
    /// When the lane last completed a pass, ms since the Unix epoch.
    pub last_success_at: Option<i64>,
    /// Why the lane's last pass failed, if it did.
    pub last_error: Option<String>,
    /// Passes failed in a row.
    pub failures: u32,
}

/// A photo's own retry schedule after a failed upload.
#[derive(Debug, Clone)]
struct PhotoRetry {
    failures: u32,
    next_at: Instant,
}

/// How an upload of one photo ended.
enum PhotoOutcome {
    Uploaded,
    /// The relay refused it; set aside.
    Refused,
    /// A transient failure; `progressed`: the relay acknowledged bytes before it.
    Failed {
        error: TransportError,
        progressed: bool,
    },
}

/// What a pass of the photo lane saw.
#[derive(Debug, Clone, Default)]
struct PhotoPass {
    /// Some photo moved forward (bytes acknowledged, or completed).
    progressed: bool,
    /// The first transient failure.
    error: Option<TransportError>,
}

/// Syncs one local store with the relay, in two independent lanes: documents (small, first,
/// woken by every local change) and photos (in the background, each photo on its own retry
/// schedule). Neither lane ever waits for the other.
pub struct SyncEngine {
    store: Arc<LocalStore>,
    transport: Arc<dyn Transport>,
    options: SyncOptions,
    listener: Mutex<Option<Arc<dyn SyncListener>>>,
    /// One documents pass at a time: the background lane and `sync_documents_now` share it.
    documents_running: Mutex<()>,
    /// One photos pass at a time.
    photos_running: Mutex<()>,
    documents: Mutex<LaneStatus>,
    photos: Mutex<LaneStatus>,
    retries: Mutex<HashMap<String, PhotoRetry>>,
    set_aside: Mutex<Vec<SetAsidePhoto>>,
    /// Photo upload throughput measured so far, bytes per second.
    throughput: Mutex<Option<f64>>,
    /// Sync round-trip throughput measured so far (bytes sent and received per second).
    round_throughput: Mutex<Option<f64>>,
    /// The inspection whose photos go first.
    focus: Mutex<Option<DocumentId>>,
    /// The remote wipe, once it happened.
    wiped: Mutex<Option<Wiped>>,
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
            documents_running: Mutex::new(()),
            photos_running: Mutex::new(()),
            documents: Mutex::new(LaneStatus::default()),
            photos: Mutex::new(LaneStatus::default()),
            retries: Mutex::new(HashMap::new()),
            set_aside: Mutex::new(Vec::new()),
            throughput: Mutex::new(None),
            round_throughput: Mutex::new(None),
            focus: Mutex::new(None),
            wiped: Mutex::new(None),
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

    /// Syncs documents until both sides are quiet, then uploads every pending photo, ignoring
    /// their retry schedules (the user asked). A photo failure is reported after the documents
    /// are done and never stops the other photos; a photo the relay refuses is set aside
    /// ([`SyncStatus::photos_set_aside`]), not reported as a failure.
    pub fn sync_now(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let documents = self.documents_pass(&mut report);
        let photos = match &documents {
            Err(SyncError::Transport(TransportError::Unauthenticated(_) | TransportError::Revoked(_))) => Ok(()),
            _ => self.photos_pass(&mut report, false, None).map(|_| ()),
        };
        let result = documents.and(photos);
        self.finished(&result, &report);
        result.map(|()| report)
    }

    /// Syncs documents only, until both sides are quiet: never waits for a photo.
    pub fn sync_documents_now(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let result = self.documents_pass(&mut report);
        self.finished(&result, &report);
        result.map(|()| report)
    }

    /// Uploads every pending photo now, ignoring their retry schedules; photos set aside stay
    /// aside. Never waits for the documents lane.
    pub fn upload_photos_now(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        self.photos_pass(&mut report, false, None)?;
        Ok(report)
    }

    /// Puts the photos the relay refused back in the queue (after the app fixed what it could,
    /// or to try again with a newer relay).
    pub fn retry_set_aside_photos(&self) {
        lock(&self.set_aside).clear();
    }

    /// Uploads the photos of `inspection` before the others (the inspection the supervisor is
    /// finishing). The background lane also follows the inspection last edited on the device.
    pub fn focus_inspection(&self, inspection: Option<DocumentId>) {
        *lock(&self.focus) = inspection;
    }

    fn finished(&self, result: &Result<(), SyncError>, report: &SyncReport) {
        if let Some(listener) = lock(&self.listener).clone() {
            match result {
                Ok(()) => listener.on_finished(Ok(report)),
                Err(error) => listener.on_finished(Err(&error.to_string())),
            }
        }
    }

    /// Pending work and how each lane is doing.
    pub fn status(&self) -> Result<SyncStatus, SyncError> {
        let (pending_photos, pending_photo_bytes) = self.store.pending_photos()?;
        let documents = lock(&self.documents).clone();
        let photos = lock(&self.photos).clone();
        let now = Instant::now();
        let photos_waiting_retry = lock(&self.retries).values().filter(|r| r.next_at > now).count() as u64;
        Ok(SyncStatus {
            pending_changes: self.store.pending_documents()?.len() as u64,
            pending_photos,
            pending_photo_bytes,
            quarantined: self.store.quarantined()?.len() as u64,
            last_success_at: documents.last_success_at,
            last_error: documents.last_error.clone().or_else(|| photos.last_error.clone()),
            documents,
            photos,
            photos_waiting_retry,
            photos_set_aside: lock(&self.set_aside).clone(),
            wiped: lock(&self.wiped).clone(),
        })
    }

    /// The remote wipe, if the relay revoked this device.
    pub fn wiped(&self) -> Option<Wiped> {
        lock(&self.wiped).clone()
    }

    /// Erases the local store when the relay said the device is revoked or its user disabled.
    ///
    /// Nothing more is pushed first: the relay accepts nothing from a revoked device (its token
    /// is refused before any document is read), and a phone in the wrong hands must not be
    /// able to talk its way into the tenant's data. What the phone held unsynced is lost; HQ
    /// sees how much on the devices page before revoking (docs/security.md).
    fn wipe_if_revoked<T>(&self, result: &Result<T, SyncError>) {
        let Err(SyncError::Transport(TransportError::Revoked(reason))) = result else { return };
        if let Err(error) = self.store.wipe() {
            // The next contact answers `revoked` again and retries the wipe.
            tracing::error!(%error, "remote wipe failed");
            return;
        }
        lock(&self.retries).clear();
        lock(&self.set_aside).clear();
        *lock(&self.focus) = None;
        let wiped = Wiped { reason: reason.clone(), at: now_ms() };
        *lock(&self.wiped) = Some(wiped.clone());
        if let Some(listener) = lock(&self.listener).clone() {
            listener.on_wiped(&wiped);
        }
    }

    fn documents_pass(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let _one_at_a_time = lock(&self.documents_running);
        lock(&self.documents).running = true;
        let result = self.sync_documents(report);
        record(&self.documents, &result);
        self.wipe_if_revoked(&result);
        result
    }

    /// One pass over the photo queue: every photo not set aside and (with `due_only`) whose
    /// retry time has come. Returns what moved; an error only for what stops the lane (the
    /// local store, or a session the relay no longer knows).
    fn photos_pass(
        &self,
        report: &mut SyncReport,
        due_only: bool,
        stop: Option<&AtomicBool>,
    ) -> Result<PhotoPass, SyncError> {
        let _one_at_a_time = lock(&self.photos_running);
        lock(&self.photos).running = true;
        let result = self.upload_photos(report, due_only, stop);
        self.wipe_if_revoked(&result);
        let lane_result = match &result {
            Ok(PhotoPass { error: Some(error), .. }) => Err(SyncError::Transport(error.clone())),
            Ok(_) => Ok(()),
            Err(error) => Err(SyncError::Transport(TransportError::Unreachable(error.to_string()))),
        };
        record(&self.photos, &lane_result);
        match result {
            Ok(pass) => match &pass.error {
                // A pass that leaves photos to retry is a failure for `sync_now`.
                Some(error) if !due_only => Err(SyncError::Transport(error.clone())),
                _ => Ok(pass),
            },
            Err(error) => Err(error),
        }
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
            let sent = bytes.len();
            report.bytes_sent += sent as u64;
            let started = Instant::now();
            let answer = self.transport.round_trip(bytes, self.answer_budget())?;
            update_rate(&self.round_throughput, sent + answer.len(), MEASURED_ROUND_BYTES, started.elapsed());
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

    /// The photo queue, the focused inspection's photos first, each group in capture order.
    fn photo_queue(&self) -> Result<Vec<PendingPhoto>, SyncError> {
        let mut queue = self.store.pending_photo_uploads()?;
        let focus = lock(&self.focus).clone();
        if let Some(id) = focus
            && let Ok(inspection) = self.store.inspection(&id)
        {
            let first: HashSet<String> = inspection.photos.values().map(|p| p.sha256.clone()).collect();
            // A stable sort keeps the queue order inside each group.
            queue.sort_by_key(|photo| !first.contains(&photo.sha256));
        }
        Ok(queue)
    }

    fn upload_photos(
        &self,
        report: &mut SyncReport,
        due_only: bool,
        stop: Option<&AtomicBool>,
    ) -> Result<PhotoPass, SyncError> {
        let mut pass = PhotoPass::default();
        let aside: HashSet<String> = lock(&self.set_aside).iter().map(|p| p.sha256.clone()).collect();
        for photo in self.photo_queue()? {
            if stop.is_some_and(|stop| stop.load(Ordering::SeqCst)) {
                break;
            }
            if aside.contains(&photo.sha256) {
                continue;
            }
            let retry = lock(&self.retries).get(&photo.sha256).cloned();
            if due_only && retry.as_ref().is_some_and(|r| r.next_at > Instant::now()) {
                continue;
            }
            match self.upload_photo(&photo, retry.is_some(), report)? {
                PhotoOutcome::Uploaded => {
                    lock(&self.retries).remove(&photo.sha256);
                    pass.progressed = true;
                }
                PhotoOutcome::Refused => {
                    lock(&self.retries).remove(&photo.sha256);
                    report.photos_set_aside += 1;
                }
                PhotoOutcome::Failed { error, progressed } => {
                    pass.progressed |= progressed;
                    // Progress resets the photo's backoff: it failed once, not n times.
                    let failures = if progressed { 1 } else { retry.map_or(1, |r| r.failures.saturating_add(1)) };
                    let next_at = Instant::now() + backoff(failures, Duration::from_secs(1));
                    lock(&self.retries).insert(photo.sha256.clone(), PhotoRetry { failures, next_at });
                    tracing::info!(sha256 = %photo.sha256, failures, %error, "photo upload failed; retrying later");
                    let stop = matches!(error, TransportError::Unauthenticated(_) | TransportError::Revoked(_));
                    // A link that moved nothing is down for the next photo too: end the pass
                    // rather than wait out a timeout per photo. A relay error is the photo's own.
                    let link_down = !progressed && matches!(error, TransportError::Unreachable(_));
                    if stop {
                        return Err(SyncError::Transport(error));
                    }
                    pass.error.get_or_insert(error);
                    if link_down {
                        break;
                    }
                }
            }
        }
        Ok(pass)
    }

    /// Uploads one photo. After an earlier failure it first asks the relay how many bytes it
    /// holds (one `HEAD`); otherwise it starts where the relay last acknowledged. A failure after
    /// acknowledged progress is retried at once (a cut costs what was in flight, not a backoff).
    fn upload_photo(
        &self,
        photo: &PendingPhoto,
        failed_before: bool,
        report: &mut SyncReport,
    ) -> Result<PhotoOutcome, SyncError> {
        let bytes = self.store.photo_bytes(&photo.sha256)?;
        let total = bytes.len() as u64;
        let mut ask = failed_before;
        let mut offset = photo.uploaded_bytes.min(total);
        let mut progressed = false;
        let mut stalled = 0;
        let mut immediate_retries = 0;
        loop {
            let attempt = (|| -> Result<BlobState, TransportError> {
                if ask {
                    ask = false;
                    report.photo_state_checks += 1;
                    match self.transport.blob_state(&photo.sha256)? {
                        BlobState::Complete => return Ok(BlobState::Complete),
                        BlobState::Partial(held) => offset = held.min(total),
                    }
                }
                if offset >= total {
                    // The relay holds every byte but not the photo: it threw a failed upload away.
                    offset = 0;
                }
                let end = (offset + self.part_bytes() as u64).min(total);
                let chunk = &bytes[offset as usize..end as usize];
                report.photo_bytes_sent += chunk.len() as u64;
                let started = Instant::now();
                let state = self.transport.upload_blob(&photo.sha256, offset, total, chunk)?;
                self.measured(chunk.len(), started.elapsed());
                Ok(state)
            })();
            match attempt {
                Ok(BlobState::Complete) => {
                    self.store.photo_progress(&photo.sha256, total)?;
                    report.photos_uploaded += 1;
                    return Ok(PhotoOutcome::Uploaded);
                }
                Ok(BlobState::Partial(held)) => {
                    let held = held.min(total);
                    if held > offset {
                        progressed = true;
                        stalled = 0;
                    } else {
                        // Each request either completes the photo or moves the relay's offset
                        // forward; a relay that does neither is not retried forever.
                        stalled += 1;
                        if stalled > 3 {
                            let error = TransportError::Unreachable(format!(
                                "the relay keeps photo {} at byte {held} of {total}",
                                photo.sha256
                            ));
                            return Ok(PhotoOutcome::Failed { error, progressed });
                        }
                    }
                    offset = held;
                    self.store.photo_progress(&photo.sha256, offset)?;
                }
                Err(TransportError::Refused { status, code, reason }) => {
                    tracing::warn!(sha256 = %photo.sha256, status, %code, %reason, "relay refused a photo; set aside");
                    let refused = SetAsidePhoto { sha256: photo.sha256.clone(), status, code, reason, at: now_ms() };
                    lock(&self.set_aside).push(refused.clone());
                    if let Some(listener) = lock(&self.listener).clone() {
                        listener.on_photo_set_aside(&refused);
                    }
                    return Ok(PhotoOutcome::Refused);
                }
                Err(error) => {
                    if progressed && error.is_transient() && immediate_retries < 3 {
                        immediate_retries += 1;
                        progressed = false;
                        ask = true;
                        continue;
                    }
                    return Ok(PhotoOutcome::Failed { error, progressed: progressed || immediate_retries > 0 });
                }
            }
        }
    }

    /// Bytes of the next photo part: what the measured throughput moves in
    /// [`SyncOptions::photo_part_time`], within [`MIN_PART_BYTES`] and
    /// [`SyncOptions::photo_chunk_bytes`].
    fn part_bytes(&self) -> usize {
        let most = self.options.photo_chunk_bytes.max(1);
        let least = MIN_PART_BYTES.min(most);
        match *lock(&self.throughput) {
            None => FIRST_PART_BYTES.clamp(least, most),
            Some(rate) => ((rate * self.options.photo_part_time.as_secs_f64()) as usize).clamp(least, most),
        }
    }

    fn measured(&self, bytes: usize, elapsed: Duration) {
        update_rate(&self.throughput, bytes, 1024, elapsed);
    }

    /// Bytes of updates the relay should answer with: what the measured round-trip throughput
    /// moves in [`SyncOptions::answer_time`], within the relay's bounds
    /// ([`protocol::MIN_ANSWER_BUDGET`], [`protocol::MAX_ANSWER_BUDGET`]).
    pub fn answer_budget(&self) -> usize {
        match *lock(&self.round_throughput) {
            None => FIRST_ANSWER_BYTES,
            Some(rate) => ((rate * self.options.answer_time.as_secs_f64()) as usize)
                .clamp(protocol::MIN_ANSWER_BUDGET, protocol::MAX_ANSWER_BUDGET),
        }
    }

    /// Starts the background lanes: the documents lane syncs now, then every `interval`, at
    /// once after every local change and every [`BackgroundSync::wake`], backing off after
    /// failures (a local change still wakes it); the photos lane uploads the queue, each photo
    /// on its own retry schedule, and never holds the documents lane. Dropping the handle stops
    /// both.
    pub fn start_background(self: &Arc<Self>, interval: Duration) -> BackgroundSync {
        let stop = Arc::new(AtomicBool::new(false));
        let (wake_documents, documents_wakes) = channel();
        let (wake_photos, photos_wakes) = channel();
        let mut threads = Vec::new();
        let (engine, stopping, local_changes) = (Arc::clone(self), Arc::clone(&stop), self.store.subscribe(&[]));
        let photos = wake_photos.clone();
        threads.extend(
            std::thread::Builder::new()
                .name("fieldsync-documents".to_owned())
                .spawn(move || documents_lane(&engine, interval, &documents_wakes, &local_changes, &photos, &stopping))
                .ok(),
        );
        let (engine, stopping, local_changes) = (Arc::clone(self), Arc::clone(&stop), self.store.subscribe(&[]));
        threads.extend(
            std::thread::Builder::new()
                .name("fieldsync-photos".to_owned())
                .spawn(move || photos_lane(&engine, interval, &photos_wakes, &local_changes, &stopping))
                .ok(),
        );
        BackgroundSync { wake_documents, wake_photos, stop, threads }
    }

    /// When the next photo retry falls due, if any photo waits for one.
    fn next_photo_retry(&self) -> Option<Instant> {
        lock(&self.retries).values().map(|r| r.next_at).min()
    }
}

/// Records a pass's outcome in a lane's status.
fn record(lane: &Mutex<LaneStatus>, result: &Result<(), SyncError>) {
    let mut lane = lock(lane);
    lane.running = false;
    match result {
        Ok(()) => {
            lane.last_success_at = Some(now_ms());
            lane.last_error = None;
            lane.failures = 0;
        }
        Err(error) => {
            lane.last_error = Some(error.to_string());
            lane.failures = lane.failures.saturating_add(1);
        }
    }
}

/// Waits up to `wait` for a wake-up, a local change (when `on_local_change`) or the stop flag.
/// Returns false when the handle is gone.
fn wait_for(
    wait: Duration,
    wakes: &Receiver<()>,
    local_changes: &Receiver<crate::local_store::DocChange>,
    stop: &AtomicBool,
    mut on_local_change: impl FnMut(&crate::local_store::DocChange) -> bool,
) -> bool {
    // Short slices, so a local change or a wake-up starts the next pass quickly.
    let slice = Duration::from_millis(50);
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        match wakes.recv_timeout(slice.min(deadline.saturating_duration_since(Instant::now()))) {
            Ok(()) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let mut woken = false;
        for change in local_changes.try_iter() {
            if change.origin == crate::local_store::ChangeOrigin::Local {
                woken |= on_local_change(&change);
            }
        }
        if woken {
            return true;
        }
    }
    true
}

fn documents_lane(
    engine: &SyncEngine,
    interval: Duration,
    wakes: &Receiver<()>,
    local_changes: &Receiver<crate::local_store::DocChange>,
    photos: &Sender<()>,
    stop: &AtomicBool,
) {
    let mut failures: u32 = 0;
    while !stop.load(Ordering::SeqCst) {
        // Changes made before this pass are in it.
        while local_changes.try_recv().is_ok() {}
        let wait = match engine.sync_documents_now() {
            Ok(_) => {
                if failures > 0 {
                    // The link is back: the photos waiting for it need not wait out their backoff.
                    let _ = photos.send(());
                }
                failures = 0;
                interval
            }
            // The phone was wiped: there is nothing left to sync and no session to sync with.
            Err(_) if engine.wiped().is_some() => return,
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::info!(%error, failures, "documents sync failed; backing off");
                backoff(failures, interval)
            }
        };
        // A local change always wakes the lane, even while it backs off: the user just did
        // something they expect to leave the phone.
        if !wait_for(wait, wakes, local_changes, stop, |_| true) {
            return;
        }
    }
}

fn photos_lane(
    engine: &SyncEngine,
    interval: Duration,
    wakes: &Receiver<()>,
    local_changes: &Receiver<crate::local_store::DocChange>,
    stop: &AtomicBool,
) {
    let mut link_failures: u32 = 0;
    while !stop.load(Ordering::SeqCst) {
        let mut report = SyncReport::default();
        let wait = match engine.photos_pass(&mut report, true, Some(stop)) {
            Ok(pass) if pass.error.is_some() && !pass.progressed => {
                link_failures = link_failures.saturating_add(1);
                backoff(link_failures, Duration::from_secs(1))
            }
            Ok(_) => {
                link_failures = 0;
                match engine.next_photo_retry() {
                    Some(at) => at.saturating_duration_since(Instant::now()).min(interval),
                    None if report.photos_uploaded > 0 => Duration::ZERO,
                    None => interval,
                }
            }
            Err(_) if engine.wiped().is_some() => return,
            Err(error) => {
                link_failures = link_failures.saturating_add(1);
                tracing::info!(%error, "photo lane stopped; backing off");
                backoff(link_failures, interval)
            }
        };
        // A new photo (its inspection changed on the device) wakes the lane; the inspection
        // edited last is the one the supervisor is finishing: its photos go first.
        let woken = wait_for(wait, wakes, local_changes, stop, |change| {
            if change.kind == crate::DocKind::Inspection {
                engine.focus_inspection(Some(change.id.clone()));
                true
            } else {
                false
            }
        });
        if !woken {
            return;
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

/// The running background lanes. Dropping it stops them (after their current pass).
pub struct BackgroundSync {
    wake_documents: Sender<()>,
    wake_photos: Sender<()>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl BackgroundSync {
    /// Starts both lanes now (the app came to the foreground, the network came back).
    pub fn wake(&self) {
        let _ = self.wake_documents.send(());
        let _ = self.wake_photos.send(());
    }

    /// Starts the documents lane now (a live notice: something in scope changed).
    pub fn wake_documents(&self) {
        let _ = self.wake_documents.send(());
    }

    /// Stops the lanes and waits for them.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for BackgroundSync {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Folds a transfer of `bytes` in `elapsed` into a throughput estimate, unless it moved fewer
/// than `least` bytes (then it measured latency, not throughput).
fn update_rate(estimate: &Mutex<Option<f64>>, bytes: usize, least: usize, elapsed: Duration) {
    if bytes < least {
        return;
    }
    let rate = bytes as f64 / elapsed.as_secs_f64().max(0.001);
    let mut estimate = lock(estimate);
    // A moving average: one lucky or unlucky transfer does not swing the size.
    *estimate = Some(estimate.map_or(rate, |old| old * 0.7 + rate * 0.3));
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
