//! Imports HQ runs by hand (the dashboard's imports page, `POST /v1/import/{dataset}`): a
//! preview that checks a file and writes nothing, the import itself, and the runs it leaves (who,
//! when, which dataset, how far it got, what came of it). The checks and the writes are those of
//! [`super::check_file`] and [`super::import_file`], which the command line calls too.
//!
//! A run is recorded as `running` when it starts ([`start_as`]). While it is applied
//! ([`apply_started`]), each [`Progress`] report is folded into the run's [`ImportProgress`]
//! ([`fold`]) and a [`ProgressLog`] stores it: a new phase at once, otherwise at most once per
//! [`PROGRESS_WRITE_EVERY`], and at least once per [`HEARTBEAT`], so the row of a live run never
//! goes quiet for long. When the import ends, the row gets its outcome: applied (with what was
//! created, updated and left unchanged), refused (with the bad lines) or failed. A run still
//! `running` whose row was not written for [`INTERRUPTED_AFTER_MS`] was interrupted: its relay
//! stopped ([`RunState::of`]).
//!
//! The relay also keeps the latest progress of the runs it is applying in memory ([`LiveRuns`]):
//! on SQLite a sales or purchases import holds the one writer until it commits, so its row takes
//! no progress meanwhile, and this relay's pages read the progress from memory instead.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldsync_core::i18n::Message;
use tokio::sync::{oneshot, watch};

use super::{Dataset, ImportReport, Pass, Progress, ProgressFn, check_file, import_file};
use crate::error::{Error, ImportRefusal, Result};
use crate::services::Caches;
use crate::services::accounts::Caller;
use crate::storage::{ImportCounts, ImportProgress, ImportRun, ImportRunEnd, NewImportRun, Storage};

/// Runs the history page shows.
pub const HISTORY_LIMIT: u32 = 50;
/// Least time between two stored progress updates of a run in the same phase.
pub const PROGRESS_WRITE_EVERY: Duration = Duration::from_secs(1);
/// Longest time a live run's row goes without being written, even when the import reports
/// nothing (a long write of one batch).
pub const HEARTBEAT: Duration = Duration::from_secs(30);
/// A run still `running` whose row was not written for this long was interrupted (ms).
pub const INTERRUPTED_AFTER_MS: i64 = 2 * 60_000;

/// The outcome of a run being applied.
pub const RUNNING: &str = "running";
/// The outcome of a run that wrote its file.
pub const APPLIED: &str = "applied";
/// The outcome of a run whose file had bad lines: nothing was written.
pub const REFUSED: &str = "refused";
/// The outcome of a run that failed for another reason.
pub const FAILED: &str = "failed";
/// The phase of the first pass over the file: every row checked, nothing written.
pub const CHECKING: &str = "checking";
/// The phase of the second pass: writing.
pub const WRITING: &str = "writing";

/// Longest argument of a refused line's reason kept with the run, in characters.
const MAX_KEPT_REASON: usize = 500;

/// What the caller asks of an import run.
#[derive(Debug, Clone, Copy)]
pub struct RunRequest<'a> {
    /// The dataset the file holds.
    pub dataset: Dataset,
    /// The file, already on disk.
    pub path: &'a Path,
    /// Its name as the person gave it (may be empty).
    pub file_name: &'a str,
}

/// A run recorded as `running`, to be applied with [`apply_started`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartedRun {
    /// Its id.
    pub id: i64,
    /// The tenant it imports into.
    pub tenant_id: i64,
    /// The dataset its file holds.
    pub dataset: Dataset,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Being applied.
    Running,
    /// Recorded as running, but its row went quiet: its relay stopped while it ran.
    Interrupted,
    /// Written.
    Applied,
    /// Refused for bad lines: nothing was written.
    Refused,
    /// Failed for another reason.
    Failed,
}

impl RunState {
    /// The state of a stored run at `now` (ms since the Unix epoch).
    pub fn of(run: &ImportRun, now: i64) -> Self {
        match run.outcome.as_str() {
            RUNNING if now.saturating_sub(run.updated_at) > INTERRUPTED_AFTER_MS => RunState::Interrupted,
            RUNNING => RunState::Running,
            APPLIED => RunState::Applied,
            REFUSED => RunState::Refused,
            _ => RunState::Failed,
        }
    }

    /// Whether the run has ended (an interrupted run never goes on).
    pub fn ended(self) -> bool {
        self != RunState::Running
    }

    /// Its name: `running`, `interrupted`, `applied`, `refused`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => RUNNING,
            RunState::Interrupted => "interrupted",
            RunState::Applied => APPLIED,
            RunState::Refused => REFUSED,
            RunState::Failed => FAILED,
        }
    }
}

/// The runs this relay is applying, with their latest progress and when it came (ms since the
/// Unix epoch); cheap to clone, clones share the runs.
#[derive(Debug, Clone, Default)]
pub struct LiveRuns {
    runs: Arc<Mutex<HashMap<i64, (ImportProgress, i64)>>>,
}

impl LiveRuns {
    fn set(&self, id: i64, progress: ImportProgress) {
        self.lock().insert(id, (progress, fieldsync_core::clock::now_ms()));
    }

    fn remove(&self, id: i64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (ImportProgress, i64)>> {
        self.runs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether this relay is applying the run `id` now.
    fn is_live(&self, id: i64) -> bool {
        self.lock().contains_key(&id)
    }

    /// The state of `run` at `now`: running while this relay applies it, else as its row says.
    pub fn state_of(&self, run: &ImportRun, now: i64) -> RunState {
        match RunState::of(run, now) {
            RunState::Interrupted if self.is_live(run.id) => RunState::Running,
            state => state,
        }
    }

    /// `run` with the progress this relay holds for it, when that is newer than its row's.
    fn overlay(&self, mut run: ImportRun) -> ImportRun {
        if run.outcome == RUNNING
            && let Some((progress, at)) = self.lock().get(&run.id).cloned()
            && at >= run.updated_at
        {
            run.progress = progress;
            run.updated_at = at;
        }
        run
    }
}

/// Checks a file for the caller's tenant (HQ only) and writes nothing: the rows it holds, or an
/// [`Error::InvalidImport`] naming the bad lines.
pub async fn preview_as(
    storage: &dyn Storage,
    caches: &Caches,
    caller: &Caller,
    request: RunRequest<'_>,
) -> Result<ImportReport> {
    caller.require_hq_person("refusal-action-import-data")?;
    check_file(storage, caches, caller.tenant_id, request.dataset, request.path).await
}

/// Imports a file into the caller's tenant (HQ only) and records the run from its start to its
/// outcome: [`start_as`], then [`apply_started`].
pub async fn apply_as(
    storage: &dyn Storage,
    caches: &Caches,
    live: &LiveRuns,
    caller: &Caller,
    request: RunRequest<'_>,
) -> Result<ImportReport> {
    let run = start_as(storage, caller, request).await?;
    apply_started(storage, caches, live, run, request.path).await
}

/// Records a run of `request` by the caller (HQ only) as `running`, before anything is read.
pub async fn start_as(storage: &dyn Storage, caller: &Caller, request: RunRequest<'_>) -> Result<StartedRun> {
    caller.require_hq_person("refusal-action-import-data")?;
    let run = NewImportRun {
        actor: caller.username.clone(),
        dataset: request.dataset.to_string(),
        file_name: request.file_name.chars().take(200).collect(),
        at: fieldsync_core::clock::now_ms(),
    };
    let id = storage.start_import_run(caller.tenant_id, run).await?;
    Ok(StartedRun { id, tenant_id: caller.tenant_id, dataset: request.dataset })
}

/// Applies the file at `path` for a started run: the same checks and writes as
/// [`import_file`], all or nothing, with the run's progress stored as it comes and its outcome
/// when it ends. A failure to record the outcome is logged; the import's own outcome is returned.
pub async fn apply_started(
    storage: &dyn Storage,
    caches: &Caches,
    live: &LiveRuns,
    run: StartedRun,
    path: &Path,
) -> Result<ImportReport> {
    let shown = LiveRun::follow(live, run.id);
    let (sender, updates) = watch::channel(ImportProgress::default());
    let reported = shown.live.clone();
    let sink: ProgressFn = Arc::new(move |report| {
        let mut latest = None;
        sender.send_modify(|progress| {
            fold(progress, report);
            latest = Some(progress.clone());
        });
        if let Some(progress) = latest {
            reported.set(run.id, progress);
        }
    });
    let (finished, ended) = oneshot::channel();
    let import = async move {
        let outcome = import_file(storage, caches, run.tenant_id, run.dataset, path, sink).await;
        let _ = finished.send(());
        outcome
    };
    let mut log = ProgressLog::new(run, Instant::now());
    let (outcome, ()) = tokio::join!(import, log.follow(storage, updates, ended));
    let end = ending(&outcome, log.latest().clone());
    match storage.finish_import_run(run.tenant_id, run.id, end).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(run = run.id, "the import run had ended already"),
        Err(error) => tracing::error!(run = run.id, %error, "cannot record the import run's outcome"),
    }
    drop(shown);
    outcome
}

/// Removes a run from [`LiveRuns`] when its import is over, however it ends.
struct LiveRun {
    live: LiveRuns,
    id: i64,
}

impl LiveRun {
    fn follow(live: &LiveRuns, id: i64) -> Self {
        live.set(id, ImportProgress::default());
        Self { live: live.clone(), id }
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        self.live.remove(self.id);
    }
}

/// Folds one [`Progress`] report into a run's progress.
pub fn fold(progress: &mut ImportProgress, report: Progress) {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let bytes = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    match report {
        Progress::Read { pass, bytes: read, total } => {
            progress.phase = match pass {
                Pass::Validate => CHECKING,
                Pass::Write => WRITING,
            }
            .to_owned();
            progress.bytes_read = bytes(read);
            progress.bytes_total = bytes(total);
        }
        Progress::Validated(rows) => {
            if progress.phase.is_empty() {
                progress.phase = CHECKING.to_owned();
            }
            progress.rows_checked = count(rows);
        }
        Progress::Written { done, total } => {
            progress.phase = WRITING.to_owned();
            progress.written = count(done);
            progress.write_total = count(total);
        }
    }
}

/// Stores a running run's progress, throttled: the first report of a phase at once, later ones
/// at most once per [`PROGRESS_WRITE_EVERY`] (what a report left unsaved is stored when that time
/// has passed: [`ProgressLog::tick`]), and the row is written at least once per [`HEARTBEAT`].
/// Times are passed in, so the throttle can be followed step by step.
#[derive(Debug)]
pub struct ProgressLog {
    run: StartedRun,
    latest: ImportProgress,
    stored_phase: String,
    stored_at: Instant,
    unsaved: bool,
}

impl ProgressLog {
    /// The log of a run whose row was written (started) at `now`.
    pub fn new(run: StartedRun, now: Instant) -> Self {
        Self { run, latest: ImportProgress::default(), stored_phase: String::new(), stored_at: now, unsaved: false }
    }

    /// The latest progress reported.
    pub fn latest(&self) -> &ImportProgress {
        &self.latest
    }

    /// Takes the progress after a report at `now`, and stores it if it starts a phase or the
    /// last write is [`PROGRESS_WRITE_EVERY`] old. Whether it was stored.
    pub async fn report(&mut self, storage: &dyn Storage, progress: ImportProgress, now: Instant) -> Result<bool> {
        self.latest = progress;
        self.unsaved = true;
        if self.latest.phase != self.stored_phase || now.duration_since(self.stored_at) >= PROGRESS_WRITE_EVERY {
            return self.store(storage, now).await.map(|()| true);
        }
        Ok(false)
    }

    /// Stores what the reports left unsaved once [`PROGRESS_WRITE_EVERY`] has passed since the
    /// last write, or writes the row again once [`HEARTBEAT`] has. Whether it wrote.
    pub async fn tick(&mut self, storage: &dyn Storage, now: Instant) -> Result<bool> {
        if self.next_due(now).is_zero() {
            return self.store(storage, now).await.map(|()| true);
        }
        Ok(false)
    }

    /// How long after `now` [`ProgressLog::tick`] has something to write.
    pub fn next_due(&self, now: Instant) -> Duration {
        let wait = if self.unsaved { PROGRESS_WRITE_EVERY } else { HEARTBEAT };
        (self.stored_at + wait).saturating_duration_since(now)
    }

    async fn store(&mut self, storage: &dyn Storage, now: Instant) -> Result<()> {
        // A failed write waits its turn like a stored one: what it left unsaved is tried again
        // a second later, never once per report.
        self.stored_at = now;
        let at = fieldsync_core::clock::now_ms();
        storage.update_import_run(self.run.tenant_id, self.run.id, self.latest.clone(), at).await?;
        self.stored_phase.clone_from(&self.latest.phase);
        self.unsaved = false;
        Ok(())
    }

    /// Follows the reports coming through `updates` until `ended` (or until the reports stop),
    /// storing them as [`ProgressLog::report`] and [`ProgressLog::tick`] say; a failed write is
    /// logged and the next one tried. [`ProgressLog::latest`] is then the last report's progress,
    /// for the run's end.
    async fn follow(
        &mut self,
        storage: &dyn Storage,
        mut updates: watch::Receiver<ImportProgress>,
        mut ended: oneshot::Receiver<()>,
    ) {
        loop {
            let wait = self.next_due(Instant::now());
            let stored = tokio::select! {
                biased;
                _ = &mut ended => break,
                changed = updates.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let progress = updates.borrow_and_update().clone();
                    self.report(storage, progress, Instant::now()).await
                }
                () = tokio::time::sleep(wait) => self.tick(storage, Instant::now()).await,
            };
            if let Err(error) = stored {
                tracing::warn!(run = self.run.id, %error, "cannot store the import run's progress");
            }
        }
        // The reports that came with the end: the channel holds them all, folded.
        self.latest = updates.borrow().clone();
    }
}

/// How a run ended, from its import's outcome and its last progress.
fn ending(outcome: &Result<ImportReport>, mut progress: ImportProgress) -> ImportRunEnd {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let at = fieldsync_core::clock::now_ms();
    let (outcome, rows, detail, counts, refusal) = match outcome {
        Ok(report) => {
            // Every row was checked before anything was written.
            progress.rows_checked = count(report.rows);
            let counts = ImportCounts {
                created: count(report.created),
                updated: count(report.updated),
                unchanged: count(report.unchanged),
            };
            (APPLIED, count(report.rows), report.to_string(), Some(counts), None)
        }
        Err(Error::InvalidImport(refusal)) => {
            let lines = refusal.lines.iter().map(|(line, reason)| (*line, bounded(reason))).collect();
            let kept = ImportRefusal { count: refusal.count, lines };
            (REFUSED, 0, refusal.to_string(), None, Some(kept))
        }
        Err(error) => (FAILED, 0, format!("import failed: {}", summary(error)), None, None),
    };
    ImportRunEnd {
        outcome: outcome.to_owned(),
        rows,
        detail: detail.chars().take(2_000).collect(),
        progress,
        counts,
        refusal,
        at,
    }
}

/// A refused line's message as a run keeps it: every argument at most [`MAX_KEPT_REASON`]
/// characters (a bad cell's value is quoted in its reason, and a cell can be long).
fn bounded(message: &Message) -> Message {
    Message {
        code: message.code.clone(),
        args: message
            .args
            .iter()
            .map(|(name, value)| (name.clone(), value.chars().take(MAX_KEPT_REASON).collect()))
            .collect(),
        parts: message.parts.iter().map(|(name, part)| (name.clone(), bounded(part))).collect(),
    }
}

/// What a failed run's history says: the reason of an error the person can act on, never an
/// internal one (those are in the relay's log).
fn summary(error: &Error) -> String {
    match error {
        Error::BadRequest { reason, .. } | Error::Conflict(reason) => reason.clone(),
        Error::Refused(refusal) => refusal.to_string(),
        Error::NotFound { .. } | Error::TooLarge { .. } => error.to_string(),
        _ => "internal error; the relay log has the details".to_owned(),
    }
}

/// The latest runs of the caller's tenant, newest first, running ones too (HQ only).
pub async fn history_as(storage: &dyn Storage, caller: &Caller) -> Result<Vec<ImportRun>> {
    caller.require_hq_person("refusal-action-see-import-history")?;
    storage.import_runs(caller.tenant_id, HISTORY_LIMIT).await
}

/// One run of the caller's tenant (HQ only), with the latest progress this relay holds for it;
/// a run of another tenant is not found, like one that does not exist.
pub async fn run_as(storage: &dyn Storage, live: &LiveRuns, caller: &Caller, id: i64) -> Result<ImportRun> {
    caller.require_hq_person("refusal-action-see-import-run")?;
    let run =
        storage.import_run(caller.tenant_id, id).await?.ok_or_else(|| Error::not_found(format!("import run {id}")))?;
    Ok(live.overlay(run))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(outcome: &str, updated_at: i64) -> ImportRun {
        ImportRun {
            id: 7,
            actor: "hana".into(),
            dataset: "sales".into(),
            file_name: String::new(),
            rows: 0,
            outcome: outcome.into(),
            detail: String::new(),
            at: 0,
            updated_at,
            progress: ImportProgress::default(),
            counts: None,
            refusal: None,
        }
    }

    #[test]
    fn a_running_run_whose_row_went_quiet_for_two_minutes_was_interrupted_unless_this_relay_runs_it() {
        let now = 10 * 60_000;
        assert_eq!(RunState::of(&run(RUNNING, now - 5_000), now), RunState::Running);
        assert_eq!(RunState::of(&run(RUNNING, now - INTERRUPTED_AFTER_MS), now), RunState::Running);
        assert_eq!(RunState::of(&run(RUNNING, now - INTERRUPTED_AFTER_MS - 1), now), RunState::Interrupted);
        assert_eq!(RunState::of(&run(APPLIED, 0), now), RunState::Applied);
        assert_eq!(RunState::of(&run(REFUSED, 0), now), RunState::Refused);
        assert_eq!(RunState::of(&run(FAILED, 0), now), RunState::Failed);
        assert!(RunState::Interrupted.ended() && !RunState::Running.ended());
        let live = LiveRuns::default();
        let shown = LiveRun::follow(&live, 7);
        assert_eq!(live.state_of(&run(RUNNING, 0), now), RunState::Running);
        drop(shown);
        assert_eq!(live.state_of(&run(RUNNING, 0), now), RunState::Interrupted);
    }

    #[test]
    fn reports_fold_into_the_phase_bytes_rows_and_items_written() {
        let mut progress = ImportProgress::default();
        fold(&mut progress, Progress::Validated(10_000));
        assert_eq!((progress.phase.as_str(), progress.rows_checked), (CHECKING, 10_000));
        fold(&mut progress, Progress::Read { pass: Pass::Validate, bytes: 3_000_000, total: 8_000_000 });
        assert_eq!((progress.bytes_read, progress.bytes_total), (3_000_000, 8_000_000));
        fold(&mut progress, Progress::Read { pass: Pass::Write, bytes: 1_000_000, total: 8_000_000 });
        assert_eq!((progress.phase.as_str(), progress.bytes_read), (WRITING, 1_000_000));
        fold(&mut progress, Progress::Written { done: 40, total: 120 });
        assert_eq!((progress.written, progress.write_total, progress.rows_checked), (40, 120, 10_000));
        fold(&mut progress, Progress::Validated(20_000));
        assert_eq!(progress.phase, WRITING, "a late count does not take the phase back");
    }
}
