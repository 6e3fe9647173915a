//! The approval policy as HQ edits it: a text form of the policy ([`PolicyText`], JSON), its
//! validation ([`check`]: unknown tiers, regions and categories, rules that can never route, an
//! approver role nobody holds), the what-if ([`what_if`]: the last 30 days of orders re-routed
//! under the draft, from the read model), and publishing it as the next version of the catalog's
//! policy ([`publish`]). Orders already routed keep the steps (and the `policy vN` they name)
//! they were routed with: reviews are only rewritten when an order is submitted again.

use std::collections::{BTreeMap, BTreeSet};

use fieldsync_core::doc::{
    ApprovalPolicy, ApprovalRule, ApproverRole, Catalog, EscalationTarget, OrderLine, RetailStore, WorkingHours,
};
use fieldsync_core::i18n::Message;
use fieldsync_core::rules::deadline::{fmt_minutes, parse_minutes};
use fieldsync_core::rules::{self, route, routing_facts};
use fieldsync_core::{DocKind, Role};
use serde::{Deserialize, Serialize};

use crate::documents::edit_as_relay;
use crate::error::{Error, Result};
use crate::messages;
use crate::services::Caches;
use crate::services::accounts::Caller;
use crate::services::catalog::tenant_catalog;
use crate::storage::queries::{self, OrderToRoute};
use crate::storage::{Storage, User};

/// How far back the what-if looks.
pub const WHAT_IF_DAYS: i64 = 30;

/// A policy as HQ writes it (JSON): amounts in cents and basis points, SLAs as `4h`, `90m`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyText {
    /// The reminder, in percent of each SLA (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_percent: Option<i64>,
    /// The working calendar; none: SLAs are wall-clock time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_hours: Option<HoursText>,
    /// Rules by id.
    pub rules: BTreeMap<String, RuleText>,
}

/// Working hours as HQ writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursText {
    /// ISO days, 1 = Monday.
    pub days: Vec<i64>,
    /// `09:00`.
    pub start: String,
    /// `17:00`.
    pub end: String,
}

/// One rule as HQ writes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleText {
    /// Shown to reps and approvers.
    pub name: String,
    /// Store tiers (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<String>,
    /// Regions (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Product categories (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Order total at least this, in cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_total_cents: Option<i64>,
    /// Some line's discount at least this, in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_discount_bp: Option<i64>,
    /// Only above the discount policy's limit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub over_discount_limit: bool,
    /// `manager`, `hq`.
    pub approvers: Vec<String>,
    /// The SLA: `4h`, `90m`, `1h30m`, `2d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond_within: Option<String>,
    /// `hq` or `next-manager-up`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_to: Option<String>,
}

impl PolicyText {
    /// The text form of a policy.
    pub fn of(policy: &ApprovalPolicy) -> Self {
        let hhmm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
        PolicyText {
            reminder_percent: policy.reminder_percent,
            working_hours: policy.working_hours.as_ref().map(|h| HoursText {
                days: h.days.clone(),
                start: hhmm(h.start_minute),
                end: hhmm(h.end_minute),
            }),
            rules: policy
                .rules
                .iter()
                .map(|(id, r)| {
                    let rule = RuleText {
                        name: r.name.clone(),
                        tiers: r.tiers.clone(),
                        regions: r.regions.clone(),
                        categories: r.categories.clone(),
                        min_total_cents: r.min_total_cents,
                        min_discount_bp: r.min_discount_bp,
                        over_discount_limit: r.over_discount_limit,
                        approvers: r.approvers.iter().map(|a| a.as_str().to_owned()).collect(),
                        respond_within: r.respond_within_minutes.map(fmt_minutes),
                        escalate_to: r.escalate_to.map(|e| e.as_str().to_owned()),
                    };
                    (id.clone(), rule)
                })
                .collect(),
        }
    }

    /// Reads the JSON text of a policy; a syntax error names the line and column.
    pub fn parse(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| {
            // The JSON parser's own words (line, column, what it expected) stay as it says them.
            Error::invalid("invalid-input", Message::new("refusal-policy-json").arg("detail", e))
        })
    }

    /// The policy this text describes, numbered `version`, or every problem that makes it
    /// impossible to build (each naming its rule and field).
    pub fn to_policy(&self, version: u64) -> std::result::Result<ApprovalPolicy, Vec<Message>> {
        let mut problems = Vec::new();
        let mut rules = BTreeMap::new();
        for (id, text) in &self.rules {
            let mut approvers = Vec::new();
            for name in &text.approvers {
                match name.as_str() {
                    "manager" => approvers.push(ApproverRole::Manager),
                    "hq" => approvers.push(ApproverRole::Hq),
                    other => problems.push(
                        Message::new("refusal-policy-approver").arg("rule", id).arg("approver", format!("{other:?}")),
                    ),
                }
            }
            let respond_within_minutes = match text.respond_within.as_deref().map(parse_minutes) {
                None => None,
                Some(Ok(minutes)) => Some(minutes),
                Some(Err(error)) => {
                    let message = Message::new("refusal-policy-respond-within").arg("rule", id);
                    problems.push(message.arg("text", format!("{:?}", error.text)));
                    None
                }
            };
            let escalate_to = match text.escalate_to.as_deref() {
                None => None,
                Some("hq") => Some(EscalationTarget::Hq),
                Some("next-manager-up") => Some(EscalationTarget::NextManagerUp),
                Some(other) => {
                    let message = Message::new("refusal-policy-escalate-to").arg("rule", id);
                    problems.push(message.arg("target", format!("{other:?}")));
                    None
                }
            };
            rules.insert(
                id.clone(),
                ApprovalRule {
                    name: text.name.clone(),
                    tiers: text.tiers.clone(),
                    regions: text.regions.clone(),
                    categories: text.categories.clone(),
                    min_total_cents: text.min_total_cents,
                    min_discount_bp: text.min_discount_bp,
                    over_discount_limit: text.over_discount_limit,
                    approvers,
                    respond_within_minutes,
                    escalate_to,
                },
            );
        }
        let working_hours = self.working_hours.as_ref().and_then(|h| {
            let minute = |text: &str, field: &str, problems: &mut Vec<Message>| {
                let parsed = text
                    .split_once(':')
                    .and_then(|(h, m)| Some((h.parse::<i64>().ok()?, m.parse::<i64>().ok()?)))
                    .filter(|(h, m)| (0..=24).contains(h) && (0..60).contains(m) && h * 60 + m <= 1440);
                if parsed.is_none() {
                    let message = Message::new("refusal-policy-time").arg("field", field);
                    problems.push(message.arg("time", format!("{text:?}")));
                }
                parsed.map(|(h, m)| h * 60 + m)
            };
            let (start, end) = (minute(&h.start, "start", &mut problems), minute(&h.end, "end", &mut problems));
            Some(WorkingHours { days: h.days.clone(), start_minute: start?, end_minute: end? })
        });
        if problems.is_empty() {
            Ok(ApprovalPolicy { version, rules, reminder_percent: self.reminder_percent, working_hours })
        } else {
            Err(problems)
        }
    }
}

/// What a check found: errors block publishing, warnings do not. Each is a message (its texts in
/// `server/locales/<tag>/refusals.ftl`), shown in the reader's language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Problems that make the policy wrong.
    pub errors: Vec<Message>,
    /// Things HQ should know (a manager step that falls back to HQ, a rule another covers).
    pub warnings: Vec<Message>,
}

/// What the tenant has, to check a policy against.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Store tiers (and price-list tiers).
    pub tiers: BTreeSet<String>,
    /// Store regions.
    pub regions: BTreeSet<String>,
    /// Product categories.
    pub categories: BTreeSet<String>,
    /// Regions that have an enabled manager.
    pub managed_regions: BTreeSet<String>,
    /// Whether an enabled HQ user exists.
    pub has_hq: bool,
}

impl Known {
    /// What `catalog`, the stores' `tiers` and `regions`, and `users` give.
    pub fn of(catalog: &Catalog, tiers: Vec<String>, regions: Vec<String>, users: &[User]) -> Self {
        let active = || users.iter().filter(|u| u.disabled_at.is_none());
        Known {
            tiers: tiers
                .into_iter()
                .chain(catalog.price_lists.values().map(|l| l.tier.clone()).filter(|t| !t.is_empty()))
                .collect(),
            regions: regions.into_iter().collect(),
            categories: catalog.products.values().map(|p| p.category.clone()).collect(),
            managed_regions: active().filter(|u| u.role == Role::Manager).filter_map(|u| u.region.clone()).collect(),
            has_hq: active().any(|u| u.role == Role::Hq),
        }
    }
}

/// Checks `policy` against what the tenant has (see the module docs).
pub fn check(policy: &ApprovalPolicy, known: &Known) -> Check {
    let mut found = Check::default();
    if let Some(p) = policy.reminder_percent.filter(|p| !(1..=99).contains(p)) {
        found.errors.push(Message::new("refusal-policy-reminder").arg("percent", p));
    }
    if let Some(h) = &policy.working_hours {
        if let Some(day) = h.days.iter().find(|d| !(1..=7).contains(*d)) {
            found.errors.push(Message::new("refusal-policy-day").arg("day", day));
        }
        if h.days.is_empty() || h.start_minute >= h.end_minute {
            found.errors.push(Message::new("refusal-policy-no-working-time"));
        }
    }
    for (id, rule) in &policy.rules {
        let valid_id = !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_id {
            found.errors.push(Message::new("refusal-policy-rule-id").arg("rule", format!("{id:?}")));
        }
        if rule.name.trim().is_empty() {
            found.errors.push(Message::new("refusal-policy-no-name").arg("rule", id));
        }
        for (field, values, known_values) in [
            ("refusal-policy-unknown-tier", &rule.tiers, &known.tiers),
            ("refusal-policy-unknown-region", &rule.regions, &known.regions),
            ("refusal-policy-unknown-category", &rule.categories, &known.categories),
        ] {
            for value in values.iter().filter(|v| !known_values.contains(*v)) {
                found.errors.push(Message::new(field).arg("rule", id).arg("value", format!("{value:?}")));
            }
        }
        if rule.approvers.is_empty() {
            found.errors.push(Message::new("refusal-policy-no-approvers").arg("rule", id));
        }
        if rule.min_discount_bp.is_some_and(|bp| bp > 10_000) || rule.min_total_cents.is_some_and(|c| c < 0) {
            found.errors.push(Message::new("refusal-policy-unreachable").arg("rule", id));
        }
        if rule.escalate_to.is_some() && rule.respond_within_minutes.is_none() {
            found.warnings.push(Message::new("refusal-policy-never-escalates").arg("rule", id));
        }
        if rule.approvers.contains(&ApproverRole::Hq) && !known.has_hq {
            found.errors.push(Message::new("refusal-policy-no-hq").arg("rule", id));
        }
        if rule.approvers.contains(&ApproverRole::Manager) {
            let covered: Vec<&String> = if rule.regions.is_empty() {
                known.regions.iter().collect()
            } else {
                rule.regions.iter().filter(|r| known.regions.contains(*r)).collect()
            };
            let unmanaged: Vec<&str> =
                covered.iter().filter(|r| !known.managed_regions.contains(**r)).map(|r| r.as_str()).collect();
            if !unmanaged.is_empty() && !known.has_hq {
                let message = Message::new("refusal-policy-no-manager-no-hq").arg("rule", id);
                found.errors.push(message.arg("regions", unmanaged.join(", ")));
            } else if !unmanaged.is_empty() {
                let message = Message::new("refusal-policy-no-manager").arg("rule", id);
                found.warnings.push(message.arg("regions", unmanaged.join(", ")));
            }
        }
        let covering = policy
            .rules
            .iter()
            .find(|(other, by)| *other != id && covers(by, rule) && (!covers(rule, by) || *other < id));
        if let Some((other, _)) = covering {
            found.warnings.push(Message::new("refusal-policy-covered").arg("rule", id).arg("other", other));
        }
    }
    found
}

/// Whether `a` matches every order `b` matches, asks at least `b`'s approvers and is as fast.
fn covers(a: &ApprovalRule, b: &ApprovalRule) -> bool {
    let list = |a: &[String], b: &[String]| a.is_empty() || (!b.is_empty() && b.iter().all(|v| a.contains(v)));
    list(&a.tiers, &b.tiers)
        && list(&a.regions, &b.regions)
        && list(&a.categories, &b.categories)
        && a.min_total_cents.is_none_or(|min| b.min_total_cents.is_some_and(|m| m >= min))
        && a.min_discount_bp.is_none_or(|min| b.min_discount_bp.is_some_and(|m| m >= min))
        && (!a.over_discount_limit || b.over_discount_limit)
        && b.approvers.iter().all(|r| a.approvers.contains(r))
        && match (a.respond_within_minutes, b.respond_within_minutes) {
            (_, None) => true,
            (Some(x), Some(y)) => x <= y,
            (None, Some(_)) => false,
        }
}

/// What the draft would have done to the last [`WHAT_IF_DAYS`] days of orders, beside what the
/// current policy does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WhatIf {
    /// Orders re-routed.
    pub orders: u64,
    /// Orders per route under the draft (`automatic`, `rejected`, `manager`, `manager → hq`, …).
    pub routes: BTreeMap<String, u64>,
    /// Orders per route under the current policy.
    pub current_routes: BTreeMap<String, u64>,
    /// Approved automatically under the draft.
    pub automatic: u64,
    /// Approved automatically under the current policy.
    pub current_automatic: u64,
    /// Orders whose route changes.
    pub changed: u64,
    /// Steps per approver (username): (current, draft).
    pub load: BTreeMap<String, (u64, u64)>,
}

/// The approvers who would decide: the manager of each region (first by username) and HQ.
#[derive(Debug, Clone, Default)]
pub struct Approvers {
    managers: BTreeMap<String, String>,
    hq: Option<String>,
}

impl Approvers {
    /// From the tenant's users, as the review chooses them.
    pub fn of(users: &[User]) -> Self {
        let mut active: Vec<&User> = users.iter().filter(|u| u.disabled_at.is_none()).collect();
        active.sort_by(|a, b| a.username.cmp(&b.username));
        let mut managers = BTreeMap::new();
        for u in active.iter().filter(|u| u.role == Role::Manager) {
            if let Some(region) = &u.region {
                managers.entry(region.clone()).or_insert_with(|| u.username.clone());
            }
        }
        Approvers { managers, hq: active.iter().find(|u| u.role == Role::Hq).map(|u| u.username.clone()) }
    }

    fn of_role(&self, role: ApproverRole, region: &str) -> String {
        let hq = || self.hq.clone().unwrap_or_else(|| "(nobody)".to_owned());
        match role {
            ApproverRole::Manager => self.managers.get(region).cloned().unwrap_or_else(hq),
            ApproverRole::Hq => hq(),
        }
    }
}

/// Re-routes `orders` under `draft` and under `catalog`'s current policy (pure; see [`WhatIf`]).
/// Prices, promotions and discount limits are the catalog's, at each order's time.
pub fn re_route(catalog: &Catalog, draft: &ApprovalPolicy, orders: &[OrderToRoute], approvers: &Approvers) -> WhatIf {
    let mut unrouted = catalog.clone();
    unrouted.approval_policy = None;
    let mut result = WhatIf::default();
    for order in orders {
        let store = RetailStore {
            name: String::new(),
            code: String::new(),
            address: String::new(),
            customer_id: order.customer_id.clone(),
            region: order.region.clone(),
            tier: order.tier.clone(),
            latitude: 0.0,
            longitude: 0.0,
            geofence_m: 0.0,
            rep: String::new(),
            supervisor: String::new(),
            active: true,
        };
        let lines: Vec<(String, OrderLine)> = order
            .lines
            .iter()
            .map(|(id, sku, qty, price, discount, position)| {
                let line = OrderLine {
                    sku: sku.clone(),
                    qty: *qty,
                    unit_price_cents: *price,
                    discount_bp: *discount,
                    position: *position,
                };
                (id.clone(), line)
            })
            .collect();
        let assessment = rules::assess(&unrouted, &order.store_id, &store, &lines, None, order.at);
        let label = |policy: Option<&ApprovalPolicy>| -> (String, Vec<String>) {
            if assessment.has_errors() {
                return ("rejected".to_owned(), Vec::new());
            }
            let steps = route(policy, &routing_facts(&store, &assessment));
            if steps.is_empty() {
                return ("automatic".to_owned(), Vec::new());
            }
            let roles: Vec<&str> = steps.iter().map(|s| s.role.as_str()).collect();
            let who = steps.iter().map(|s| approvers.of_role(s.role, &order.region)).collect();
            (roles.join(" → "), who)
        };
        let (now_route, now_who) = label(catalog.approval_policy.as_ref());
        let (draft_route, draft_who) = label(Some(draft));
        result.orders += 1;
        result.automatic += u64::from(draft_route == "automatic");
        result.current_automatic += u64::from(now_route == "automatic");
        result.changed += u64::from(now_route != draft_route);
        for who in now_who {
            result.load.entry(who).or_default().0 += 1;
        }
        for who in draft_who {
            result.load.entry(who).or_default().1 += 1;
        }
        *result.current_routes.entry(now_route).or_default() += 1;
        *result.routes.entry(draft_route).or_default() += 1;
    }
    result
}

fn hq_only(caller: &Caller) -> Result<()> {
    if caller.role == Role::Hq {
        Ok(())
    } else {
        Err(Error::forbidden(Message::new("refusal-policy-hq-only").part("role", messages::role(caller.role))))
    }
}

/// The tenant's current policy (an empty one at version 0 when none is set).
pub async fn current(storage: &dyn Storage, caches: &Caches, tenant_id: i64) -> Result<ApprovalPolicy> {
    Ok(tenant_catalog(storage, caches, tenant_id).await?.approval_policy.clone().unwrap_or_default())
}

/// A draft checked against the tenant, with its what-if at `now`: the draft as a policy (the
/// next version) and the check; the what-if when the draft builds.
pub async fn preview(
    storage: &dyn Storage,
    caches: &Caches,
    caller: &Caller,
    draft: &PolicyText,
    now: i64,
) -> Result<(Check, Option<WhatIf>)> {
    hq_only(caller)?;
    let catalog = tenant_catalog(storage, caches, caller.tenant_id).await?;
    let version = catalog.approval_policy.as_ref().map_or(0, |p| p.version) + 1;
    let policy = match draft.to_policy(version) {
        Ok(policy) => policy,
        Err(errors) => return Ok((Check { errors, warnings: Vec::new() }, None)),
    };
    let (tiers, regions) = queries::store_tiers_and_regions(storage, caller.tenant_id).await?;
    let users = storage.list_users(caller.tenant_id).await?;
    let found = check(&policy, &Known::of(&catalog, tiers, regions, &users));
    let since = now.saturating_sub(WHAT_IF_DAYS * 86_400_000);
    let orders = queries::orders_to_route(storage, caller.tenant_id, since, now).await?;
    Ok((found, Some(re_route(&catalog, &policy, &orders, &Approvers::of(&users)))))
}

/// Publishes `draft` as the next version of the tenant's policy, unless its check finds an
/// error (400 naming them all). Returns the version published. Orders already routed keep
/// theirs; the next review routes with this one.
pub async fn publish(storage: &dyn Storage, caches: &Caches, caller: &Caller, draft: &PolicyText) -> Result<u64> {
    hq_only(caller)?;
    let catalog = tenant_catalog(storage, caches, caller.tenant_id).await?;
    let version = catalog.approval_policy.as_ref().map_or(0, |p| p.version) + 1;
    let not_published = |errors: Vec<Message>| {
        Error::invalid(
            "invalid-input",
            Message::new("refusal-policy-not-published").part("errors", messages::list(errors)),
        )
    };
    let policy = draft.to_policy(version).map_err(not_published)?;
    let (tiers, regions) = queries::store_tiers_and_regions(storage, caller.tenant_id).await?;
    let users = storage.list_users(caller.tenant_id).await?;
    let found = check(&policy, &Known::of(&catalog, tiers, regions, &users));
    if !found.errors.is_empty() {
        return Err(not_published(found.errors));
    }
    let catalog_ids = storage
        .list_docs(caller.tenant_id, &caller.scope(), DocKind::Catalog, 2)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect::<Vec<_>>();
    let [catalog_id] = catalog_ids.as_slice() else {
        return Err(Error::conflict(Message::new("refusal-policy-catalogs").arg("count", catalog_ids.len())));
    };
    edit_as_relay(storage, caller.tenant_id, catalog_id, |catalog: &mut Catalog| {
        // Numbered from what is stored now: an edit that raced this one still gets a new number.
        let stored = catalog.approval_policy.as_ref().map_or(0, |p| p.version);
        catalog.approval_policy = Some(ApprovalPolicy { version: stored.max(version - 1) + 1, ..policy.clone() });
        Ok(())
    })
    .await?;
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(f: impl FnOnce(&mut ApprovalRule)) -> ApprovalRule {
        let mut rule = ApprovalRule { name: "r".into(), approvers: vec![ApproverRole::Manager], ..Default::default() };
        f(&mut rule);
        rule
    }

    fn known(has_hq: bool) -> Known {
        let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<String>>();
        Known {
            tiers: set(&["A", "B"]),
            regions: set(&["north", "south"]),
            categories: set(&["beverages"]),
            managed_regions: set(&["north"]),
            has_hq,
        }
    }

    #[test]
    fn a_check_names_unknown_values_unreachable_rules_and_roles_nobody_holds() {
        let policy = ApprovalPolicy {
            version: 2,
            rules: BTreeMap::from([
                ("big".to_owned(), rule(|r| r.min_total_cents = Some(40_000))),
                ("bigger".to_owned(), rule(|r| r.min_total_cents = Some(90_000))),
                (
                    "odd".to_owned(),
                    rule(|r| {
                        r.tiers = vec!["Z".into()];
                        r.regions = vec!["west".into()];
                        r.categories = vec!["toys".into()];
                        r.approvers = vec![ApproverRole::Hq];
                    }),
                ),
                ("nobody".to_owned(), rule(|r| r.approvers.clear())),
                ("never".to_owned(), rule(|r| r.min_discount_bp = Some(12_000))),
            ]),
            reminder_percent: Some(120),
            working_hours: None,
        };
        let english = |list: &[Message]| -> Vec<String> {
            list.iter().map(|m| messages::catalog().text(fieldsync_core::i18n::Language::English, m)).collect()
        };
        let found = check(&policy, &known(false));
        let (errors, warnings) = (english(&found.errors), english(&found.warnings));
        for expected in [
            "reminder_percent 120 is outside 1 to 99",
            "rule odd: unknown tier \"Z\"",
            "rule odd: unknown region \"west\"",
            "rule odd: unknown category \"toys\"",
            "rule odd: approver hq: nobody holds the hq role",
            "rule nobody: no approvers, so it never routes an order",
            "rule never: unreachable: no order has a discount above 100% or a negative total",
            "rule big: approver manager: no manager for region south and nobody holds the hq role",
        ] {
            assert!(errors.iter().any(|e| e == expected), "{expected}: {errors:?}");
        }
        assert!(warnings.iter().any(|w| w.starts_with("rule bigger: unreachable in effect: rule big")), "{warnings:?}");
        let with_hq = english(&check(&policy, &known(true)).warnings);
        assert!(with_hq.iter().any(|w| w == "rule big: no manager for region south: hq decides there"), "{with_hq:?}");
    }

    #[test]
    fn a_policy_survives_its_text_form_and_bad_text_is_refused_by_rule_and_field() {
        let policy = ApprovalPolicy {
            version: 3,
            rules: BTreeMap::from([(
                "big".to_owned(),
                rule(|r| {
                    r.respond_within_minutes = Some(90);
                    r.escalate_to = Some(EscalationTarget::NextManagerUp);
                }),
            )]),
            reminder_percent: Some(25),
            working_hours: Some(WorkingHours { days: vec![1, 2, 3, 4, 5], start_minute: 540, end_minute: 1020 }),
        };
        let text = PolicyText::of(&policy);
        assert_eq!(text.rules["big"].respond_within.as_deref(), Some("1h30m"));
        assert_eq!(text.to_policy(3), Ok(policy));
        let mut bad = text.clone();
        if let Some(rule) = bad.rules.get_mut("big") {
            rule.respond_within = Some("soon".into());
            rule.escalate_to = Some("ceo".into());
        }
        let errors = bad.to_policy(4).err().unwrap_or_default();
        assert_eq!(errors.len(), 2, "{errors:?}");
        let first = messages::catalog().text(fieldsync_core::i18n::Language::English, &errors[0]);
        assert!(first.starts_with("rule big: respond_within: invalid duration \"soon\""), "{first}");
        assert!(PolicyText::parse("{\"rules\": {}, \"extra\": 1}").is_err(), "unknown fields are refused");
    }
}
