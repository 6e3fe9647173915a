//! Business events: what a document write means to the outside world (an order submitted, its
//! verdict, a step decided, an inspection scored, an alert opened …), derived from the document
//! before and after the write and stored in the write's own transaction (the outbox,
//! [`crate::storage::EventStore`]).
//!
//! [`derive`] is a pure function of the two states, so a write that changes nothing a consumer
//! cares about emits nothing, and the same change derived twice (a retried write) gives the same
//! events. Each event's id is derived from what it is about (its type, subject and what makes it
//! unique: the submission for a verdict, the step for a decision), and storage keeps one event
//! per id, so no event is ever emitted twice. The types and their payloads are documented with a
//! JSON Schema each in `docs/events.md`; payloads carry a version ([`PAYLOAD_VERSION`]).

use fieldsync_core::DocumentId;
use fieldsync_core::doc::{
    AlertState, AnyDoc, DocKind, Inbox, Inspection, InspectionScore, InspectionStatus, Order, OrderReview, OrderStatus,
    ReviewOutcome, Severity, StepState,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::storage::NewEvent;

/// The version of every payload this relay writes. A consumer reads `version` before the payload;
/// a change that removes or renames a field raises it.
pub const PAYLOAD_VERSION: i64 = 1;

/// The kinds of event, as consumers filter on them (`types=` in the pull API, the last tokens of
/// a NATS subject, a webhook subscription's filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A rep submitted an order (once per submission).
    OrderSubmitted,
    /// The relay reviewed a submission: verdict and findings (once per submission).
    OrderReviewed,
    /// An approver decided an approval step.
    OrderStepDecided,
    /// An order's outcome became approved.
    OrderApproved,
    /// An order's outcome became rejected.
    OrderRejected,
    /// An approval step escalated past its deadline.
    OrderEscalated,
    /// A supervisor checked out of an inspection.
    InspectionCheckedOut,
    /// The relay scored an inspection (once per scoring).
    InspectionScored,
    /// The relay's trust verdict on one photo of a scored inspection.
    PhotoReviewed,
    /// An alert opened in a user's inbox (raised, or raised again).
    AlertOpened,
    /// An alert closed because its cause cleared.
    AlertClosed,
    /// A person acknowledged an open alert (for everyone who sees it).
    AlertAcknowledged,
    /// An HQ import wrote data.
    ImportApplied,
}

impl EventType {
    /// Every type, in the order of `docs/events.md`.
    pub const ALL: [EventType; 13] = [
        EventType::OrderSubmitted,
        EventType::OrderReviewed,
        EventType::OrderStepDecided,
        EventType::OrderApproved,
        EventType::OrderRejected,
        EventType::OrderEscalated,
        EventType::InspectionCheckedOut,
        EventType::InspectionScored,
        EventType::PhotoReviewed,
        EventType::AlertOpened,
        EventType::AlertClosed,
        EventType::AlertAcknowledged,
        EventType::ImportApplied,
    ];

    /// The type's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderSubmitted => "order.submitted",
            EventType::OrderReviewed => "order.reviewed",
            EventType::OrderStepDecided => "order.step-decided",
            EventType::OrderApproved => "order.approved",
            EventType::OrderRejected => "order.rejected",
            EventType::OrderEscalated => "order.escalated",
            EventType::InspectionCheckedOut => "inspection.checked-out",
            EventType::InspectionScored => "inspection.scored",
            EventType::PhotoReviewed => "photo.reviewed",
            EventType::AlertOpened => "alert.opened",
            EventType::AlertClosed => "alert.closed",
            EventType::AlertAcknowledged => "alert.acknowledged",
            EventType::ImportApplied => "import.applied",
        }
    }

    /// The type named `name`, if there is one.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event of `event_type` about `subject`, with an id derived from both and `unique` (what
/// tells this event from others of the same type about the same subject).
pub fn event(event_type: EventType, subject: &str, unique: &str, occurred_at: i64, payload: Value) -> NewEvent {
    let mut hash = Sha256::new();
    for part in [event_type.as_str(), subject, unique] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    NewEvent {
        id: format!("ev-{}", hex::encode(&digest[..16])),
        event_type: event_type.as_str().to_owned(),
        subject: subject.to_owned(),
        occurred_at,
        version: PAYLOAD_VERSION,
        payload: payload.to_string(),
    }
}

/// Whether writes of `kind` make events, and so whether [`derive`] needs the state before the
/// write (the earlier state of other kinds need not be read).
pub fn announces(kind: DocKind) -> bool {
    match kind {
        DocKind::Order | DocKind::OrderReview | DocKind::Inspection | DocKind::InspectionScore | DocKind::Inbox => true,
        DocKind::Catalog | DocKind::Store | DocKind::Inventory | DocKind::Template | DocKind::Decision => false,
    }
}

/// The events a write of document `id` makes, from its state `before` (`None` for a new
/// document, or one of another kind) to `after`, both read as their kind. Kinds that mean nothing
/// outside (catalogs, stores, inventories, templates, decisions — a decision's effect is the
/// review's step) make none.
pub fn derive(id: &DocumentId, before: Option<&AnyDoc>, after: &AnyDoc) -> Vec<NewEvent> {
    match (before, after) {
        (Some(AnyDoc::Order(b)), AnyDoc::Order(a)) => order_events(id, Some(b), a),
        (_, AnyDoc::Order(a)) => order_events(id, None, a),
        (Some(AnyDoc::OrderReview(b)), AnyDoc::OrderReview(a)) => review_events(Some(b), a),
        (_, AnyDoc::OrderReview(a)) => review_events(None, a),
        (Some(AnyDoc::Inspection(b)), AnyDoc::Inspection(a)) => inspection_events(id, Some(b), a),
        (_, AnyDoc::Inspection(a)) => inspection_events(id, None, a),
        (Some(AnyDoc::InspectionScore(b)), AnyDoc::InspectionScore(a)) => score_events(Some(b), a),
        (_, AnyDoc::InspectionScore(a)) => score_events(None, a),
        (Some(AnyDoc::Inbox(b)), AnyDoc::Inbox(a)) => inbox_events(Some(b), a),
        (_, AnyDoc::Inbox(a)) => inbox_events(None, a),
        (
            _,
            AnyDoc::Catalog(_) | AnyDoc::Store(_) | AnyDoc::Inventory(_) | AnyDoc::Template(_) | AnyDoc::Decision(_),
        ) => Vec::new(),
    }
}

fn order_events(id: &DocumentId, before: Option<&Order>, after: &Order) -> Vec<NewEvent> {
    let newly_submitted = after.status == OrderStatus::Submitted
        && before.is_none_or(|b| b.status != OrderStatus::Submitted || b.submission != after.submission);
    if !newly_submitted {
        return Vec::new();
    }
    let lines: Vec<Value> = after
        .lines_in_order()
        .into_iter()
        .map(|(line_id, line)| {
            json!({
                "line_id": line_id,
                "sku": line.sku,
                "qty": line.qty,
                "unit_price_cents": line.unit_price_cents,
                "discount_bp": line.discount_bp,
                "line_total_cents": line.total_cents(),
            })
        })
        .collect();
    let order_id = id.to_string();
    let payload = json!({
        "order_id": order_id,
        "submission": after.submission,
        "rep": after.owner,
        "store_id": after.store_id,
        "customer_id": after.customer_id,
        "total_cents": after.total_cents(),
        "lines": lines,
        "notes": after.notes,
        "submitted_at": after.submitted_at,
    });
    let at = after.submitted_at.unwrap_or(after.updated_at);
    vec![event(EventType::OrderSubmitted, &order_id, &after.submission.to_string(), at, payload)]
}

fn review_events(before: Option<&OrderReview>, after: &OrderReview) -> Vec<NewEvent> {
    // A review is rewritten whole for each submission; the state before only counts when it is
    // of the same submission.
    let before = before.filter(|b| b.submission == after.submission);
    let order_id = after.order_id.as_str();
    let submission = after.submission.to_string();
    let mut events = Vec::new();
    if before.is_none() {
        let findings: Vec<Value> = after
            .findings
            .iter()
            .map(|f| {
                json!({
                    "code": f.code,
                    "line_id": f.line_id,
                    "severity": match f.severity {
                        Severity::Info => "info",
                        Severity::Warning => "warning",
                        Severity::Error => "error",
                    },
                    "text": f.text,
                    "args": f.args,
                })
            })
            .collect();
        let steps: Vec<Value> =
            after.steps.iter().map(|s| json!({"role": s.role, "approver": s.approver, "rule": s.rule})).collect();
        let payload = json!({
            "order_id": order_id,
            "order_number": after.number,
            "submission": after.submission,
            "outcome": after.outcome.as_str(),
            "total_cents": after.total_cents,
            "findings": findings,
            "approval_steps": steps,
            "reviewed_at": after.reviewed_at,
        });
        events.push(event(EventType::OrderReviewed, order_id, &submission, after.reviewed_at, payload));
    }
    for (index, step) in after.steps.iter().enumerate() {
        let was = before.and_then(|b| b.steps.get(index));
        if step.state != StepState::Pending && was.is_none_or(|w| w.state == StepState::Pending) {
            let payload = json!({
                "order_id": order_id,
                "order_number": after.number,
                "submission": after.submission,
                "step": index,
                "role": step.role,
                "approver": step.approver,
                "on_behalf_of": step.on_behalf_of,
                "decision": if step.state == StepState::Approved { "approved" } else { "rejected" },
                "reason": step.reason,
                "decided_at": step.decided_at,
            });
            let at = step.decided_at.unwrap_or(after.reviewed_at);
            let unique = format!("{submission}/{index}");
            events.push(event(EventType::OrderStepDecided, order_id, &unique, at, payload));
        }
        let escalation = step.sla.as_ref().and_then(|sla| sla.escalation.as_ref());
        let was_escalated = was.and_then(|w| w.sla.as_ref()).and_then(|sla| sla.escalation.as_ref());
        if let Some(escalation) = escalation
            && was_escalated != Some(escalation)
        {
            let payload = json!({
                "order_id": order_id,
                "order_number": after.number,
                "submission": after.submission,
                "step": index,
                "from": escalation.from,
                "to": escalation.to,
                "reason": escalation.reason,
                "escalated_at": escalation.at,
            });
            let unique = format!("{submission}/{index}/{}", escalation.at);
            events.push(event(EventType::OrderEscalated, order_id, &unique, escalation.at, payload));
        }
    }
    let final_type = match after.outcome {
        ReviewOutcome::Approved => Some(EventType::OrderApproved),
        ReviewOutcome::Rejected => Some(EventType::OrderRejected),
        ReviewOutcome::NeedsApproval => None,
    };
    if let Some(final_type) = final_type
        && before.is_none_or(|b| b.outcome != after.outcome)
    {
        let payload = json!({
            "order_id": order_id,
            "order_number": after.number,
            "submission": after.submission,
            "rep": after.owner,
            "store_id": after.store_id,
            "total_cents": after.total_cents,
            "approval_steps": after.steps.len(),
            "submitted_at": after.submitted_at,
            "decided_at": after.decided_at.unwrap_or(after.reviewed_at),
        });
        let at = after.decided_at.unwrap_or(after.reviewed_at);
        events.push(event(final_type, order_id, &submission, at, payload));
    }
    events
}

fn inspection_events(id: &DocumentId, before: Option<&Inspection>, after: &Inspection) -> Vec<NewEvent> {
    let checked_out =
        after.status == InspectionStatus::CheckedOut && before.is_none_or(|b| b.status != InspectionStatus::CheckedOut);
    let Some(visit) = after.check_out.as_ref().filter(|_| checked_out) else { return Vec::new() };
    let inspection_id = id.to_string();
    let payload = json!({
        "inspection_id": inspection_id,
        "supervisor": after.owner,
        "store_id": after.store_id,
        "template_id": after.template_id,
        "check_in_at": after.check_in.at,
        "check_out_at": visit.at,
        "answer_count": after.answers.len(),
        "photo_count": after.photos.len(),
    });
    vec![event(EventType::InspectionCheckedOut, &inspection_id, "", visit.at, payload)]
}

fn score_events(before: Option<&InspectionScore>, after: &InspectionScore) -> Vec<NewEvent> {
    if before.is_some_and(|b| b.scored_at == after.scored_at && b.scored_heads == after.scored_heads) {
        return Vec::new();
    }
    let inspection_id = after.inspection_id.as_str();
    let scoring = format!("{}/{}", after.scored_at, after.scored_heads.join(","));
    let payload = json!({
        "inspection_id": inspection_id,
        "supervisor": after.owner,
        "store_id": after.store_id,
        "score": after.score,
        "verdict": after.verdict.as_str(),
        "scoring_version": after.scoring_version,
        "reasons": after.reasons,
        "photo_count": after.photos.len(),
        "scored_at": after.scored_at,
    });
    let mut events = vec![event(EventType::InspectionScored, inspection_id, &scoring, after.scored_at, payload)];
    for photo in &after.photos {
        let same_as_before = before
            .and_then(|b| b.photos.iter().find(|p| p.sha256 == photo.sha256))
            .is_some_and(|p| p.trust == photo.trust && p.reasons == photo.reasons);
        if same_as_before {
            continue;
        }
        let payload = json!({
            "inspection_id": inspection_id,
            "sha256": photo.sha256,
            "trust": photo.trust.as_str(),
            "quality": photo.quality,
            "reasons": photo.reasons,
            "reviewed_at": after.scored_at,
            "reviewed_by": Value::Null,
        });
        let unique = format!("{inspection_id}/{scoring}");
        events.push(event(EventType::PhotoReviewed, &photo.sha256, &unique, after.scored_at, payload));
    }
    events
}

fn inbox_events(before: Option<&Inbox>, after: &Inbox) -> Vec<NewEvent> {
    let mut events = Vec::new();
    for (key, alert) in &after.alerts {
        let was = before.and_then(|b| b.alerts.get(key));
        let (event_type, at) = match alert.state {
            AlertState::Open if was.is_none_or(|w| w.state != AlertState::Open || w.raised_at != alert.raised_at) => {
                (EventType::AlertOpened, alert.raised_at)
            }
            AlertState::Closed if was.is_some_and(|w| w.state == AlertState::Open) => {
                (EventType::AlertClosed, alert.closed_at.unwrap_or(alert.raised_at))
            }
            _ => continue,
        };
        let payload = json!({
            "alert": key,
            "recipient": after.owner,
            "kind": alert.kind,
            "title": alert.title,
            "detail": alert.detail,
            "texts": alert.texts,
            "store_id": alert.store_id,
            "sku": alert.sku,
            "raised_at": alert.raised_at,
            "closed_at": alert.closed_at,
        });
        let unique = format!("{}/{}", after.owner, alert.raised_at);
        events.push(event(event_type, key, &unique, at, payload));
    }
    events
}

/// The event of a person's decision on a photo the scorer put at review: `trust` is what the
/// decision makes of it (`pass` when accepted, `rejected` when not), `reviewed_by` who decided.
/// The score the decision changes emits its own events as any scoring does.
pub fn photo_reviewed_by_person(
    inspection_id: &str,
    sha256: &str,
    accepted: bool,
    reason: &str,
    reviewer: &str,
    at: i64,
) -> NewEvent {
    let trust = if accepted { "pass" } else { "rejected" };
    let payload = json!({
        "inspection_id": inspection_id,
        "sha256": sha256,
        "trust": trust,
        "quality": Value::Null,
        "reasons": [reason],
        "reviewed_at": at,
        "reviewed_by": reviewer,
    });
    let unique = format!("{inspection_id}/person/{reviewer}/{at}");
    event(EventType::PhotoReviewed, sha256, &unique, at, payload)
}

/// The event of a person acknowledging the open alert `key` (its cause key), with their note.
pub fn alert_acknowledged(key: &str, actor: &str, note: &str, at: i64) -> NewEvent {
    let payload = json!({
        "alert": key,
        "acknowledged_by": actor,
        "note": note,
        "acknowledged_at": at,
    });
    event(EventType::AlertAcknowledged, key, &format!("{actor}/{at}"), at, payload)
}

/// The event of an import that wrote something.
pub fn import_applied(dataset: &str, rows: u64, created: u64, updated: u64, unchanged: u64, at: i64) -> NewEvent {
    let payload = json!({
        "dataset": dataset,
        "rows": rows,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "applied_at": at,
    });
    // Every import that writes is its own event: the time is what sets it apart.
    let unique = format!("{at}/{rows}/{created}/{updated}");
    event(EventType::ImportApplied, dataset, &unique, at, payload)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use fieldsync_core::doc::{Alert, ApprovalStep, DocumentModel, OrderLine};

    use super::*;

    fn saved<T: DocumentModel>(value: &T) -> AnyDoc {
        value.clone().into()
    }

    fn types(events: &[NewEvent]) -> Vec<&str> {
        events.iter().map(|e| e.event_type.as_str()).collect()
    }

    fn order(status: OrderStatus, submission: u64) -> Order {
        Order {
            owner: "rep-1".into(),
            store_id: "store-1".into(),
            customer_id: "customer-1".into(),
            status,
            lines: BTreeMap::from([(
                "a".to_owned(),
                OrderLine { sku: "SKU-1".into(), qty: 2, unit_price_cents: 500, discount_bp: 0, position: 0 },
            )]),
            notes: String::new(),
            created_at: 10,
            updated_at: 20,
            submitted_at: (status == OrderStatus::Submitted).then_some(30),
            submission,
        }
    }

    fn review(outcome: ReviewOutcome, steps: Vec<StepState>) -> OrderReview {
        OrderReview {
            order_id: "order-1".into(),
            number: "N-000001".into(),
            owner: "rep-1".into(),
            store_id: "store-1".into(),
            submission: 1,
            reviewed_heads: Vec::new(),
            outcome,
            findings: Vec::new(),
            steps: steps
                .into_iter()
                .map(|state| ApprovalStep {
                    role: "manager".into(),
                    approver: "manager-1".into(),
                    rule: "large-order".into(),
                    state,
                    decided_at: (state != StepState::Pending).then_some(50),
                    reason: String::new(),
                    sla: None,
                    on_behalf_of: None,
                })
                .collect(),
            total_cents: 1_000,
            submitted_at: Some(30),
            reviewed_at: 40,
            decided_at: (outcome != ReviewOutcome::NeedsApproval).then_some(50),
        }
    }

    #[test]
    fn an_order_emits_submitted_once_per_submission_and_nothing_for_draft_edits() {
        let id = DocumentId::random();
        let draft = saved(&order(OrderStatus::Draft, 0));
        assert!(derive(&id, None, &draft).is_empty());
        let submitted = saved(&order(OrderStatus::Submitted, 1));
        let first = derive(&id, Some(&draft), &submitted);
        assert_eq!(types(&first), ["order.submitted"]);
        assert!(derive(&id, Some(&submitted), &submitted).is_empty(), "a re-store emits nothing");
        let again = saved(&order(OrderStatus::Submitted, 2));
        let second = derive(&id, Some(&submitted), &again);
        assert_eq!(types(&second), ["order.submitted"]);
        assert_ne!(first[0].id, second[0].id, "each submission is its own event");
        assert_eq!(derive(&id, Some(&draft), &submitted)[0].id, first[0].id, "ids are stable");
    }

    #[test]
    fn a_review_emits_its_verdict_once_then_each_decided_step_and_the_final_outcome() {
        let id = DocumentId::random();
        let waiting = saved(&review(ReviewOutcome::NeedsApproval, vec![StepState::Pending, StepState::Pending]));
        assert_eq!(types(&derive(&id, None, &waiting)), ["order.reviewed"]);
        assert!(derive(&id, Some(&waiting), &waiting).is_empty());
        let one = saved(&review(ReviewOutcome::NeedsApproval, vec![StepState::Approved, StepState::Pending]));
        assert_eq!(types(&derive(&id, Some(&waiting), &one)), ["order.step-decided"]);
        let done = saved(&review(ReviewOutcome::Approved, vec![StepState::Approved, StepState::Approved]));
        let events = derive(&id, Some(&one), &done);
        assert_eq!(types(&events), ["order.step-decided", "order.approved"]);
        let payload: Value = serde_json::from_str(&events[1].payload).unwrap();
        assert_eq!(
            (payload["order_number"].as_str(), payload["total_cents"].as_i64()),
            (Some("N-000001"), Some(1_000))
        );
    }

    #[test]
    fn an_order_approved_by_the_review_alone_emits_reviewed_and_approved() {
        let id = DocumentId::random();
        let approved = saved(&review(ReviewOutcome::Approved, Vec::new()));
        assert_eq!(types(&derive(&id, None, &approved)), ["order.reviewed", "order.approved"]);
    }

    #[test]
    fn an_alert_emits_opened_and_closed_on_its_transitions_only() {
        let id = DocumentId::random();
        let alert = |state, closed_at| Alert {
            kind: "low-stock".into(),
            title: "t".into(),
            detail: "d".into(),
            texts: None,
            store_id: None,
            sku: Some("SKU-1".into()),
            state,
            raised_at: 5,
            closed_at,
        };
        let inbox =
            |alert: Alert| Inbox { owner: "hq-1".into(), alerts: BTreeMap::from([("low-stock:SKU-1".into(), alert)]) };
        let open = saved(&inbox(alert(AlertState::Open, None)));
        assert_eq!(types(&derive(&id, None, &open)), ["alert.opened"]);
        assert!(derive(&id, Some(&open), &open).is_empty());
        let closed = saved(&inbox(alert(AlertState::Closed, Some(9))));
        assert_eq!(types(&derive(&id, Some(&open), &closed)), ["alert.closed"]);
        assert!(derive(&id, Some(&closed), &closed).is_empty());
    }

    #[test]
    fn every_type_parses_from_its_name_and_is_documented() {
        let docs = include_str!("../../docs/events.md");
        for event_type in EventType::ALL {
            assert_eq!(EventType::parse(event_type.as_str()), Some(event_type));
            assert!(docs.contains(&format!("### `{event_type}`")), "docs/events.md documents {event_type}");
        }
        assert_eq!(EventType::parse("order.shipped"), None);
    }
}
