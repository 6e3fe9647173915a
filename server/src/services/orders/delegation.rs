//! Out-of-office delegation: an approver names a delegate and a period; approval steps routed to
//! them while it holds go to the delegate, and the step records on whose behalf the delegate
//! decides ([`ApprovalStep::on_behalf_of`](fieldsync_core::doc::ApprovalStep::on_behalf_of)).
//!
//! - **Who may delegate**: managers and HQ users (reps and supervisors approve nothing).
//! - **To whom**: an enabled user other than themselves, of sufficient role: a manager to a
//!   manager of the same region (who can read its orders) or an HQ user, an HQ user to an HQ
//!   user.
//! - **No loops**: a delegation whose delegate, following the delegations that overlap its period,
//!   leads back to the one delegating is refused, naming the chain.
//! - **Routing** ([`delegate_for`]): at review, a step's approver is replaced by the end of the
//!   chain of delegations holding then (a disabled delegate or the order's own rep stops it).
//!
//! Delegations are kept by the relay beside the documents (`delegations` table, one per user),
//! set from the dashboard's out-of-office page and `PUT /v1/me/out-of-office` (the phone API).

use std::collections::BTreeSet;

use fieldsync_core::Role;
use fieldsync_core::doc::{OrderReview, StepState};
use fieldsync_core::i18n::Message;

use crate::error::{Error, Result};
use crate::messages;
use crate::services::accounts::Caller;
use crate::storage::{Delegation, Storage, User};

/// The longest out-of-office period.
pub const MAX_PERIOD_MS: i64 = 366 * 86_400_000;

fn bad(message: Message) -> Error {
    Error::invalid("invalid-input", message)
}

/// Whether `delegate` (role and region) may decide for `approver`: HQ for anyone who approves, a
/// manager for a manager of the same region (whose orders they can read), nobody else.
pub fn may_decide_for(approver: (Role, Option<&str>), delegate: (Role, Option<&str>)) -> bool {
    match (approver.0, delegate.0) {
        (Role::Manager | Role::Hq, Role::Hq) => true,
        (Role::Manager, Role::Manager) => approver.1.is_some() && approver.1 == delegate.1,
        _ => false,
    }
}

/// Sets `caller`'s out-of-office: steps routed to them from `starts_at` until `ends_at` (ms since
/// the Unix epoch) go to the user named `delegate`. Bad input is refused with a message naming
/// it and changes nothing; the new delegation replaces the caller's previous one.
pub async fn set_out_of_office(
    storage: &dyn Storage,
    caller: &Caller,
    delegate: &str,
    starts_at: i64,
    ends_at: i64,
    now: i64,
) -> Result<Delegation> {
    if !matches!(caller.role, Role::Manager | Role::Hq) {
        return Err(Error::forbidden(Message::new("refusal-delegator-role").part("role", messages::role(caller.role))));
    }
    let delegate = delegate.trim();
    let user = storage
        .find_user_by_username(caller.tenant_id, delegate)
        .await?
        .ok_or_else(|| bad(Message::new("refusal-delegate-unknown").arg("delegate", format!("{delegate:?}"))))?;
    if user.id == caller.user_id {
        return Err(bad(Message::new("refusal-delegate-self").arg("delegate", delegate)));
    }
    if user.disabled_at.is_some() {
        return Err(bad(Message::new("refusal-delegate-disabled").arg("delegate", delegate)));
    }
    if !may_decide_for((caller.role, caller.region.as_deref()), (user.role, user.region.as_deref())) {
        let who = match user.region.as_deref() {
            Some(region) => Message::new("refusal-role-of-region").arg("region", region),
            None => Message::new("refusal-role-alone"),
        };
        let choose = match (caller.role, caller.region.as_deref()) {
            (Role::Manager, Some(region)) => Message::new("refusal-choose-manager-or-hq").arg("region", region),
            _ => Message::new("refusal-choose-hq"),
        };
        let message = Message::new("refusal-delegate-cannot-decide")
            .arg("delegate", delegate)
            .part("who", who.part("role", messages::role(user.role)))
            .part("approver", messages::role(caller.role))
            .part("choose", choose);
        return Err(bad(message));
    }
    if ends_at <= starts_at {
        return Err(bad(Message::new("refusal-away-ends-first").arg("ends", ends_at).arg("starts", starts_at)));
    }
    if ends_at <= now {
        return Err(bad(Message::new("refusal-away-over")));
    }
    if ends_at - starts_at > MAX_PERIOD_MS {
        return Err(bad(Message::new("refusal-away-too-long")));
    }
    let delegation = Delegation { user_id: caller.user_id.clone(), delegate_id: user.id.clone(), starts_at, ends_at };
    let existing = storage.delegations(caller.tenant_id).await?;
    let users = storage.list_users(caller.tenant_id).await?;
    if let Some(chain) = loop_through(&delegation, &existing) {
        let names: Vec<String> = chain.iter().map(|id| username(&users, id)).collect();
        let chain = format!("{} → {}", names.join(" → "), username(&users, &caller.user_id));
        return Err(bad(Message::new("refusal-delegate-loop").arg("delegate", delegate).arg("chain", chain)));
    }
    storage.set_delegation(caller.tenant_id, &delegation, now).await?;
    Ok(delegation)
}

/// Ends `caller`'s out-of-office; returns whether they had one.
pub async fn clear_out_of_office(storage: &dyn Storage, caller: &Caller) -> Result<bool> {
    storage.clear_delegation(caller.tenant_id, &caller.user_id).await
}

/// `caller`'s delegation, if they set one.
pub async fn out_of_office(storage: &dyn Storage, caller: &Caller) -> Result<Option<Delegation>> {
    Ok(storage.delegations(caller.tenant_id).await?.into_iter().find(|d| d.user_id == caller.user_id))
}

/// The chain from `new`'s user through its delegate and on, following the delegations that
/// overlap its period (the user's own old one aside), if it comes back to the user.
pub fn loop_through(new: &Delegation, existing: &[Delegation]) -> Option<Vec<String>> {
    let mut chain = vec![new.user_id.clone()];
    let mut next = new.delegate_id.clone();
    let mut seen = BTreeSet::new();
    while seen.insert(next.clone()) {
        if next == new.user_id {
            return Some(chain);
        }
        chain.push(next.clone());
        let onward = existing
            .iter()
            .find(|d| d.user_id == next && d.user_id != new.user_id && d.overlaps(new.starts_at, new.ends_at))?;
        next = onward.delegate_id.clone();
    }
    None
}

/// Who decides a step routed to `approver` at `now`: the end of the chain of delegations holding
/// then, and the user it was routed to; `None` when nobody is away. A disabled delegate or the
/// order's `owner` stops the chain where it is.
pub fn delegate_for<'a>(
    approver: &str,
    owner: &str,
    now: i64,
    delegations: &[Delegation],
    users: &'a [User],
) -> Option<&'a User> {
    let mut current = approver.to_owned();
    let mut seen = BTreeSet::from([current.clone()]);
    let mut chosen = None;
    while let Some(d) = delegations.iter().find(|d| d.user_id == current && d.holds_at(now)) {
        let Some(user) = users.iter().find(|u| u.id == d.delegate_id && u.disabled_at.is_none() && u.id != owner)
        else {
            break;
        };
        if !seen.insert(user.id.clone()) {
            break;
        }
        current = user.id.clone();
        chosen = Some(user);
    }
    chosen
}

/// Hands each pending step of `review` whose approver is away at `now` to their delegate
/// ([`delegate_for`]), recording on whose behalf. Two steps that end with the same delegate stay
/// two steps: each is decided on behalf of its own approver.
pub fn route_to_delegates(review: &mut OrderReview, delegations: &[Delegation], users: &[User], now: i64) {
    let owner = review.owner.clone();
    for step in review.steps.iter_mut().filter(|s| s.state == StepState::Pending && s.on_behalf_of.is_none()) {
        if let Some(delegate) = delegate_for(&step.approver, &owner, now, delegations, users) {
            step.on_behalf_of = Some(std::mem::replace(&mut step.approver, delegate.id.clone()));
        }
    }
}

fn username(users: &[User], id: &str) -> String {
    users.iter().find(|u| u.id == id).map_or_else(|| id.to_owned(), |u| u.username.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(user: &str, delegate: &str, starts_at: i64, ends_at: i64) -> Delegation {
        Delegation { user_id: user.into(), delegate_id: delegate.into(), starts_at, ends_at }
    }

    #[test]
    fn a_delegation_back_to_its_user_through_overlapping_ones_is_a_loop_and_a_later_one_is_not() {
        let existing = vec![d("hana", "hugo", 0, 100), d("hugo", "mia", 50, 150), d("otto", "hana", 500, 600)];
        assert_eq!(
            loop_through(&d("mia", "hana", 60, 80), &existing),
            Some(vec!["mia".into(), "hana".into(), "hugo".into()])
        );
        assert_eq!(loop_through(&d("mia", "hana", 200, 300), &existing), None, "hugo's is over by then");
        assert_eq!(loop_through(&d("mia", "otto", 0, 100), &existing), None, "otto's starts later");
        assert_eq!(loop_through(&d("mia", "mia", 0, 10), &[]), Some(vec!["mia".into()]));
    }

    #[test]
    fn managers_delegate_to_managers_of_their_region_or_hq_and_hq_only_to_hq() {
        let (north, south) = ((Role::Manager, Some("north")), (Role::Manager, Some("south")));
        let hq = (Role::Hq, None);
        assert!(may_decide_for(north, (Role::Manager, Some("north"))) && may_decide_for(north, hq));
        assert!(!may_decide_for(north, south), "south's manager cannot read north's orders");
        assert!(may_decide_for(hq, hq) && !may_decide_for(hq, north));
        assert!(
            !may_decide_for(north, (Role::Supervisor, Some("north")))
                && !may_decide_for(north, (Role::Rep, Some("north")))
        );
    }
}
