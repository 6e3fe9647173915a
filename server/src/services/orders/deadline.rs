//! Deadlines of approval steps (job `approval-deadline`): a step whose policy rule has an SLA
//! gets a reminder in its approver's inbox at a share of the SLA and, at the deadline, escalates
//! ([`fieldsync_core::rules::deadline`] holds the rules, this module the I/O).
//!
//! - **When.** A step's clock starts when it starts waiting: at review for the first step, when
//!   the previous step is approved for the next ([`start_clock`], from the review and from
//!   [`super::apply`]). Its times are written into the review, then two jobs are queued
//!   ([`schedule`]) with `run_after` at the reminder and at the deadline. The jobs are in the
//!   persisted queue: a relay restart loses none.
//! - **Once.** The jobs are keyed by order, submission, step, approver, action and time, so
//!   queuing twice is harmless; on PostgreSQL two relay nodes never lease the same job, and the
//!   handler re-checks the review ([`due`]) before it writes, so a job that runs again (an
//!   expired lease) changes nothing. A step decided, resubmitted or already escalated meanwhile
//!   has nothing due.
//! - **Who.** The reminder goes to the step's approver; the escalation hands the step to its
//!   target and tells them in their inbox: `Hq` is the first HQ user by username (the next one
//!   when HQ's own step is overdue); `NextManagerUp` is HQ above a regional manager, and nobody
//!   above HQ. Without a target the step stays, and the review says so. Disabled users and the
//!   order's rep are never chosen.
//! - **Record.** The review's step keeps the reminder's time and the escalation (who from, who
//!   to, when, why), which the order's page, the queue and the approvals report show.

use std::collections::BTreeMap;

use fieldsync_core::doc::{
    Alert, AlertState, AlertTexts, ApprovalPolicy, EscalationTarget, Inbox, OrderReview, WorkingHours,
};
use fieldsync_core::i18n::Message;
use fieldsync_core::rules::deadline::{
    DeadlineAction, due, fmt_minutes, record_escalation, record_reminder, start_current_step,
};
use fieldsync_core::{DocumentId, Role};
use serde::{Deserialize, Serialize};

use super::review::find_review;
use crate::documents::{self, edit_as_relay};
use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::services::Caches;
use crate::services::alerts::inbox::inbox_id;
use crate::services::catalog::tenant_catalog;
use crate::storage::{NewJob, Storage, User};

/// The job kind.
pub const KIND: &str = "approval-deadline";

/// The inbox alert kind of a reminder.
pub const REMINDER_ALERT: &str = "approval-reminder";

/// The inbox alert kind of an escalation, in the new approver's inbox.
pub const ESCALATION_ALERT: &str = "approval-escalated";

/// What a deadline job carries: which step, for whom, what, planned when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineJob {
    /// The order's id.
    pub order: String,
    /// The submission under review when the job was planned.
    pub submission: u64,
    /// The step's index.
    pub step: usize,
    /// The step's approver when planned.
    pub approver: String,
    /// `remind` or `escalate`.
    pub action: String,
    /// When it was planned to run, ms since the Unix epoch.
    pub at: i64,
}

impl DeadlineJob {
    /// The job's queue key: one per step, approver, action and time.
    pub fn key(&self) -> String {
        format!("{}/{}/{}/{}/{}@{}", self.order, self.submission, self.step, self.approver, self.action, self.at)
    }
}

/// What a deadline job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineDone {
    /// The approver was reminded.
    Reminded {
        /// Who.
        approver: String,
    },
    /// The step went from one approver to another (the same one when nobody is above).
    Escalated {
        /// From whom.
        from: String,
        /// To whom.
        to: String,
    },
    /// Nothing was due any more (decided, resubmitted, already done).
    NothingDue,
}

/// How the tenant counts SLA minutes: `add(from, minutes)`, wall-clock or in working hours.
pub fn minutes_adder(locale: Locale, hours: Option<WorkingHours>) -> impl Fn(i64, i64) -> i64 {
    move |from, minutes| match &hours {
        Some(hours) => locale.add_working_minutes(from, minutes, hours),
        None => from.saturating_add(minutes.saturating_mul(60_000)),
    }
}

/// What starting a step's clock needs from the tenant: its policy's reminder share and working
/// hours, and its time zone.
#[derive(Debug, Clone)]
pub struct ClockSettings {
    /// Reminder share of the SLA, in percent.
    pub reminder_percent: i64,
    /// The tenant's working hours, if it set them.
    pub working_hours: Option<WorkingHours>,
    /// The tenant's time zone.
    pub locale: Locale,
}

impl ClockSettings {
    /// The tenant's settings now (its catalog's policy, its locale).
    pub async fn load(storage: &dyn Storage, caches: &Caches, tenant_id: i64) -> Result<Self> {
        let catalog = tenant_catalog(storage, caches, tenant_id).await?;
        let locale = crate::services::accounts::tenant_locale(storage, tenant_id).await?;
        let policy = catalog.approval_policy.clone().unwrap_or_default();
        Ok(Self::of(&policy, locale))
    }

    /// The settings of `policy` in `locale`.
    pub fn of(policy: &ApprovalPolicy, locale: Locale) -> Self {
        Self { reminder_percent: policy.reminder_percent(), working_hours: policy.working_hours.clone(), locale }
    }
}

/// Starts the clock of the review's current step at `now` if it has an SLA (see
/// [`start_current_step`]); returns whether it started.
pub fn start_clock(review: &mut OrderReview, settings: &ClockSettings, now: i64) -> bool {
    let add = minutes_adder(settings.locale.clone(), settings.working_hours.clone());
    start_current_step(review, now, settings.reminder_percent, add).is_some()
}

/// The jobs the review's current step calls for: its reminder (unless done) and its deadline
/// (unless escalated).
pub fn jobs_for(review: &OrderReview) -> Vec<DeadlineJob> {
    let Some(index) = review.current_step() else { return Vec::new() };
    let Some(step) = review.steps.get(index) else { return Vec::new() };
    let Some(sla) = step.sla.as_ref().filter(|sla| sla.escalation.is_none()) else { return Vec::new() };
    let job = |action: DeadlineAction, at: i64| DeadlineJob {
        order: review.order_id.clone(),
        submission: review.submission,
        step: index,
        approver: step.approver.clone(),
        action: action.as_str().to_owned(),
        at,
    };
    let mut jobs = Vec::new();
    if let (Some(at), None) = (sla.remind_at, sla.reminded_at) {
        jobs.push(job(DeadlineAction::Remind, at));
    }
    if let Some(at) = sla.due_at {
        jobs.push(job(DeadlineAction::Escalate, at));
    }
    jobs
}

/// Queues the deadline jobs of the review's current step ([`jobs_for`]); queuing again is
/// harmless. Returns how many were new.
pub async fn schedule(storage: &dyn Storage, tenant_id: i64, review: &OrderReview) -> Result<usize> {
    let mut queued = 0;
    for job in jobs_for(review) {
        let payload = serde_json::to_string(&job)
            .map_err(|e| Error::Storage(format!("cannot encode the deadline job of order {}: {e}", job.order)))?;
        if storage.enqueue_job(tenant_id, KIND, &job.key(), &payload, job.at).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// [`schedule`] for several reviews, in one write (a batch of reviews).
pub async fn schedule_all<'a>(
    storage: &dyn Storage,
    tenant_id: i64,
    reviews: impl IntoIterator<Item = &'a OrderReview>,
) -> Result<usize> {
    let mut jobs = Vec::new();
    for job in reviews.into_iter().flat_map(jobs_for) {
        let payload = serde_json::to_string(&job)
            .map_err(|e| Error::Storage(format!("cannot encode the deadline job of order {}: {e}", job.order)))?;
        jobs.push(NewJob { kind: KIND.to_owned(), key: job.key(), payload, run_after: job.at });
    }
    storage.enqueue_jobs(tenant_id, &jobs).await
}

/// Runs a deadline job (payload [`DeadlineJob`]) at `now`: reminds or escalates if it is still
/// due, else does nothing.
pub async fn run(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    payload: &str,
    now: i64,
) -> Result<DeadlineDone> {
    let job: DeadlineJob = serde_json::from_str(payload)
        .map_err(|e| Error::bad_request("invalid-job", format!("unreadable approval-deadline payload: {e}")))?;
    let action = DeadlineAction::parse(&job.action).ok_or_else(|| {
        Error::bad_request(
            "invalid-job",
            format!("unknown deadline action {:?}: expected remind or escalate", job.action),
        )
    })?;
    let found = find_review(storage, tenant_id, &job.order).await?;
    let Some(stored) = &found.stored else { return Ok(DeadlineDone::NothingDue) };
    let review: OrderReview = fieldsync_core::doc::read(&found.id, &documents::load(stored)?)?;
    let still_due =
        review.submission == job.submission && due(&review, job.step, &job.approver, action, job.at).is_some();
    if !still_due {
        return Ok(DeadlineDone::NothingDue);
    }
    let locale = crate::services::accounts::tenant_locale(storage, tenant_id).await?;
    match action {
        DeadlineAction::Remind => remind(storage, tenant_id, &found.id, &job, &locale, now).await,
        DeadlineAction::Escalate => escalate(storage, caches, tenant_id, &found.id, &job, &locale, now).await,
    }
}

async fn remind(
    storage: &dyn Storage,
    tenant_id: i64,
    review_id: &DocumentId,
    job: &DeadlineJob,
    locale: &Locale,
    now: i64,
) -> Result<DeadlineDone> {
    let updated = edit_as_relay(storage, tenant_id, review_id, |review: &mut OrderReview| {
        if review.submission != job.submission
            || due(review, job.step, &job.approver, DeadlineAction::Remind, job.at).is_none()
        {
            return Ok(None);
        }
        record_reminder(review, job.step, now);
        Ok(Some(review.clone()))
    })
    .await?;
    let Some(review) = updated else { return Ok(DeadlineDone::NothingDue) };
    let due_at = review.steps.get(job.step).and_then(|s| s.sla.as_ref()).and_then(|s| s.due_at).unwrap_or(now);
    let title = Message::new("alert-approval-reminder-title").arg("order", order_label(&review));
    let detail = Message::new("alert-approval-reminder-detail")
        .arg("step", fieldsync_core::rules::approval::display_step(job.step as u64))
        .arg("due", locale.datetime(due_at))
        .arg("left", fmt_minutes(((due_at - now) / 60_000).max(0)));
    let alert = Alert {
        kind: REMINDER_ALERT.to_owned(),
        title: title.english(),
        detail: detail.english(),
        texts: Some(AlertTexts { title, detail }),
        store_id: Some(review.store_id.clone()),
        sku: None,
        state: AlertState::Open,
        raised_at: now,
        closed_at: None,
    };
    notify(storage, tenant_id, &job.approver, &alert_key(job, DeadlineAction::Remind), alert).await?;
    Ok(DeadlineDone::Reminded { approver: job.approver.clone() })
}

async fn escalate(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    review_id: &DocumentId,
    job: &DeadlineJob,
    locale: &Locale,
    now: i64,
) -> Result<DeadlineDone> {
    let users = storage.list_users(tenant_id).await?;
    let settings = ClockSettings::load(storage, caches, tenant_id).await?;
    let updated = edit_as_relay(storage, tenant_id, review_id, |review: &mut OrderReview| {
        if review.submission != job.submission {
            return Ok(None);
        }
        let Some(sla) = due(review, job.step, &job.approver, DeadlineAction::Escalate, job.at).cloned() else {
            return Ok(None);
        };
        let from = job.approver.clone();
        let target = sla.escalate_to.and_then(|t| escalation_target(t, &from, &review.owner, &users));
        let within = fmt_minutes(sla.respond_within_minutes);
        let due_at = locale.datetime(sla.due_at.unwrap_or(now));
        let name = |id: &str| users.iter().find(|u| u.id == id).map_or(id.to_owned(), |u| u.username.clone());
        let (to, role, reason) = match (sla.escalate_to, target) {
            (Some(how), Some(user)) => (
                user.id.clone(),
                user.role.as_str().to_owned(),
                format!(
                    "not decided within {within} (due {due_at}): escalated from {} to {} ({})",
                    name(&from),
                    user.username,
                    how.as_str()
                ),
            ),
            (Some(how), None) => (
                from.clone(),
                review.steps[job.step].role.clone(),
                format!(
                    "not decided within {within} (due {due_at}): nobody to escalate to ({}); stays with {}",
                    how.as_str(),
                    name(&from)
                ),
            ),
            (None, _) => (
                from.clone(),
                review.steps[job.step].role.clone(),
                format!(
                    "not decided within {within} (due {due_at}): the rule names no escalation; stays with {}",
                    name(&from)
                ),
            ),
        };
        record_escalation(review, job.step, &to, &role, now, reason);
        // The new approver gets a clock of their own (a step handed over is not overdue for them
        // at once): the deadline and the reminder move, the escalation stays recorded.
        if to != from
            && let Some(sla) = review.steps.get_mut(job.step).and_then(|s| s.sla.as_mut())
        {
            let add = minutes_adder(settings.locale.clone(), settings.working_hours.clone());
            sla.due_at = Some(add(now, sla.respond_within_minutes.max(1)));
        }
        Ok(Some((review.clone(), from, to)))
    })
    .await?;
    let Some((review, from, to)) = updated else { return Ok(DeadlineDone::NothingDue) };
    let reason = review
        .steps
        .get(job.step)
        .and_then(|s| s.sla.as_ref())
        .and_then(|s| s.escalation.as_ref())
        .map(|e| e.reason.clone())
        .unwrap_or_default();
    if to != from {
        let title = Message::new("alert-approval-escalated-title").arg("order", order_label(&review));
        // The escalation's reason is written in English by the approval rules (`Escalation::reason`).
        let detail = Message::new("alert-approval-escalated-detail").arg("reason", reason);
        let alert = Alert {
            kind: ESCALATION_ALERT.to_owned(),
            title: title.english(),
            detail: detail.english(),
            texts: Some(AlertTexts { title, detail }),
            store_id: Some(review.store_id.clone()),
            sku: None,
            state: AlertState::Open,
            raised_at: now,
            closed_at: None,
        };
        notify(storage, tenant_id, &to, &alert_key(job, DeadlineAction::Escalate), alert).await?;
        close_approval_alerts(storage, tenant_id, &from, &job.order, now).await?;
    }
    Ok(DeadlineDone::Escalated { from, to })
}

/// Who an overdue step of `from` goes to (see the module's doc); never `from`, the order's
/// `owner` or a disabled user.
pub fn escalation_target<'a>(target: EscalationTarget, from: &str, owner: &str, users: &'a [User]) -> Option<&'a User> {
    let mut hq: Vec<&User> =
        users.iter().filter(|u| u.role == Role::Hq && u.disabled_at.is_none() && u.id != owner).collect();
    hq.sort_by(|a, b| a.username.cmp(&b.username));
    let from_is_hq = users.iter().any(|u| u.id == from && u.role == Role::Hq);
    match target {
        EscalationTarget::NextManagerUp if from_is_hq => None,
        EscalationTarget::Hq | EscalationTarget::NextManagerUp => hq.into_iter().find(|u| u.id != from),
    }
}

fn order_label(review: &OrderReview) -> String {
    if review.number.is_empty() { review.order_id.clone() } else { review.number.clone() }
}

/// The inbox key of a deadline alert: `approval:{order}:{submission}:{step}:{action}`, so that a
/// decision can close every alert of its order.
fn alert_key(job: &DeadlineJob, action: DeadlineAction) -> String {
    format!("approval:{}:{}:{}:{}", job.order, job.submission, job.step, action.as_str())
}

/// Puts `alert` under `key` in `owner`'s inbox, creating the inbox when it is their first.
async fn notify(storage: &dyn Storage, tenant_id: i64, owner: &str, key: &str, alert: Alert) -> Result<()> {
    let id = inbox_id(owner);
    if storage.load_doc(tenant_id, &id).await?.is_none() {
        let fresh = Inbox { owner: owner.to_owned(), alerts: BTreeMap::from([(key.to_owned(), alert.clone())]) };
        match documents::create_as_relay_with_id(storage, tenant_id, &id, &fresh).await {
            Ok(()) => return Ok(()),
            // Another relay node created it meanwhile: add to what it wrote.
            Err(Error::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
    }
    edit_as_relay(storage, tenant_id, &id, |inbox: &mut Inbox| {
        inbox.alerts.insert(key.to_owned(), alert.clone());
        Ok(())
    })
    .await
}

/// Closes the open deadline alerts of `order_id` in `owner`'s inbox (the step was decided or
/// went to someone else).
pub async fn close_approval_alerts(
    storage: &dyn Storage,
    tenant_id: i64,
    owner: &str,
    order_id: &str,
    now: i64,
) -> Result<()> {
    let id = inbox_id(owner);
    if storage.load_doc(tenant_id, &id).await?.is_none() {
        return Ok(());
    }
    let prefix = format!("approval:{order_id}:");
    edit_as_relay(storage, tenant_id, &id, |inbox: &mut Inbox| {
        for (_, alert) in inbox.alerts.iter_mut().filter(|(key, _)| key.starts_with(&prefix)) {
            if alert.state == AlertState::Open {
                alert.state = AlertState::Closed;
                alert.closed_at = Some(now);
            }
        }
        Ok(())
    })
    .await
}
