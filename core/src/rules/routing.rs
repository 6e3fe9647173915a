//! Approval routing: which roles must approve an order, in which order.
//!
//! Every rule of the tenant's [`ApprovalPolicy`] whose conditions all hold contributes its
//! approver roles. The steps are one per role, managers before HQ (the usual escalation: the
//! regional manager, then HQ finance), each naming every rule that asked for it. An order that
//! validation found out of policy (a [`Severity::Warning`](crate::doc::Severity)) but that no rule
//! routes still gets a manager step ([`OUT_OF_POLICY_RULE`]): an out-of-policy order is never
//! approved automatically. An order that no rule routes and that is inside policy is approved
//! automatically.

use std::collections::{BTreeMap, BTreeSet};

use crate::doc::{ApprovalPolicy, ApprovalRule, ApproverRole, EscalationTarget};

/// The rule named by the step added for an out-of-policy order that no policy rule routes.
pub const OUT_OF_POLICY_RULE: &str = "out-of-policy: outside the discount policy";

/// What routing looks at, taken from the store and the priced order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoutingFacts {
    /// The store's customer tier.
    pub tier: String,
    /// The store's region.
    pub region: String,
    /// The categories of the order's lines.
    pub categories: BTreeSet<String>,
    /// The order total, in cents.
    pub total_cents: i64,
    /// The largest line discount, in basis points.
    pub max_discount_bp: i64,
    /// Whether some line's discount is above the discount policy's limit.
    pub over_discount_limit: bool,
    /// Whether validation found the order out of policy (any warning).
    pub out_of_policy: bool,
}

/// One approval step before its approver is named: the role, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedStep {
    /// The role that approves.
    pub role: ApproverRole,
    /// The rules that asked for it (`id: name (policy vN)`, joined by `; `).
    pub rule: String,
    /// The tightest SLA among those rules, in minutes, with where that rule escalates.
    pub deadline: Option<(i64, Option<EscalationTarget>)>,
}

/// Whether every condition of `rule` that is set holds for `facts`.
pub fn rule_matches(rule: &ApprovalRule, facts: &RoutingFacts) -> bool {
    let listed = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
    listed(&rule.tiers, &facts.tier)
        && listed(&rule.regions, &facts.region)
        && (rule.categories.is_empty() || rule.categories.iter().any(|c| facts.categories.contains(c)))
        && rule.min_total_cents.is_none_or(|min| facts.total_cents >= min)
        && rule.min_discount_bp.is_none_or(|min| facts.max_discount_bp >= min)
        && (!rule.over_discount_limit || facts.over_discount_limit)
}

/// The approval steps an order needs; empty: approved automatically.
pub fn route(policy: Option<&ApprovalPolicy>, facts: &RoutingFacts) -> Vec<RoutedStep> {
    type Deadline = Option<(i64, Option<EscalationTarget>)>;
    let mut reasons: BTreeMap<ApproverRole, (Vec<String>, Deadline)> = BTreeMap::new();
    if let Some(policy) = policy {
        for (id, rule) in policy.rules.iter().filter(|(_, rule)| rule_matches(rule, facts)) {
            for role in &rule.approvers {
                let why = format!("{id}: {} (policy v{})", rule.name, policy.version);
                let (list, deadline) = reasons.entry(*role).or_default();
                if !list.contains(&why) {
                    list.push(why);
                }
                if let Some(minutes) = rule.respond_within_minutes.filter(|m| *m > 0)
                    && deadline.is_none_or(|(tightest, _)| minutes < tightest)
                {
                    *deadline = Some((minutes, rule.escalate_to));
                }
            }
        }
    }
    if reasons.is_empty() && facts.out_of_policy {
        reasons.insert(ApproverRole::Manager, (vec![OUT_OF_POLICY_RULE.to_owned()], None));
    }
    // BTreeMap order is the enum order: managers, then HQ.
    reasons.into_iter().map(|(role, (rules, deadline))| RoutedStep { role, rule: rules.join("; "), deadline }).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]
    use super::*;

    fn facts() -> RoutingFacts {
        RoutingFacts {
            tier: "B".into(),
            region: "north".into(),
            categories: BTreeSet::from(["beverages".to_owned(), "dairy".to_owned()]),
            total_cents: 40_000,
            max_discount_bp: 500,
            over_discount_limit: false,
            out_of_policy: false,
        }
    }

    fn rule(f: impl FnOnce(&mut ApprovalRule)) -> ApprovalRule {
        let mut rule = ApprovalRule { name: "r".into(), approvers: vec![ApproverRole::Manager], ..Default::default() };
        f(&mut rule);
        rule
    }

    #[test]
    fn each_condition_restricts_only_when_set() {
        let cases: Vec<(&str, ApprovalRule, bool)> = vec![
            ("no conditions: every order", rule(|_| {}), true),
            ("tier listed", rule(|r| r.tiers = vec!["A".into(), "B".into()]), true),
            ("tier not listed", rule(|r| r.tiers = vec!["A".into()]), false),
            ("region listed", rule(|r| r.regions = vec!["north".into()]), true),
            ("region not listed", rule(|r| r.regions = vec!["south".into()]), false),
            ("a line in the category", rule(|r| r.categories = vec!["dairy".into(), "frozen".into()]), true),
            ("no line in the category", rule(|r| r.categories = vec!["frozen".into()]), false),
            ("total at the minimum", rule(|r| r.min_total_cents = Some(40_000)), true),
            ("total below the minimum", rule(|r| r.min_total_cents = Some(40_001)), false),
            ("discount at the minimum", rule(|r| r.min_discount_bp = Some(500)), true),
            ("discount below the minimum", rule(|r| r.min_discount_bp = Some(501)), false),
            ("over-limit rule, inside the limit", rule(|r| r.over_discount_limit = true), false),
            (
                "all conditions hold",
                rule(|r| {
                    r.tiers = vec!["B".into()];
                    r.regions = vec!["north".into()];
                    r.categories = vec!["beverages".into()];
                    r.min_total_cents = Some(10_000);
                    r.min_discount_bp = Some(100);
                }),
                true,
            ),
            (
                "one condition fails",
                rule(|r| {
                    r.tiers = vec!["B".into()];
                    r.min_total_cents = Some(90_000);
                }),
                false,
            ),
        ];
        for (case, rule, expected) in cases {
            assert_eq!(rule_matches(&rule, &facts()), expected, "{case}");
        }
        let over = RoutingFacts { over_discount_limit: true, ..facts() };
        assert!(rule_matches(&rule(|r| r.over_discount_limit = true), &over));
    }

    #[test]
    fn steps_are_one_per_role_managers_first_naming_their_rules() {
        let policy = ApprovalPolicy {
            version: 3,
            rules: BTreeMap::from([
                (
                    "big".to_owned(),
                    rule(|r| {
                        r.name = "big order".into();
                        r.min_total_cents = Some(30_000);
                        r.approvers = vec![ApproverRole::Hq, ApproverRole::Manager];
                    }),
                ),
                (
                    "dairy".to_owned(),
                    rule(|r| {
                        r.name = "fresh goods".into();
                        r.categories = vec!["dairy".into()];
                    }),
                ),
                (
                    "huge".to_owned(),
                    rule(|r| {
                        r.name = "huge order".into();
                        r.min_total_cents = Some(1_000_000);
                        r.approvers = vec![ApproverRole::Hq];
                    }),
                ),
            ]),
            ..ApprovalPolicy::default()
        };
        let steps = route(Some(&policy), &facts());
        assert_eq!(
            steps,
            vec![
                RoutedStep {
                    role: ApproverRole::Manager,
                    rule: "big: big order (policy v3); dairy: fresh goods (policy v3)".into(),
                    deadline: None,
                },
                RoutedStep { role: ApproverRole::Hq, rule: "big: big order (policy v3)".into(), deadline: None },
            ]
        );
    }

    #[test]
    fn a_step_takes_the_tightest_sla_of_its_rules_with_that_rules_escalation() {
        let policy = ApprovalPolicy {
            version: 2,
            rules: BTreeMap::from([
                (
                    "slow".to_owned(),
                    rule(|r| {
                        r.respond_within_minutes = Some(480);
                        r.escalate_to = Some(EscalationTarget::NextManagerUp);
                    }),
                ),
                (
                    "fast".to_owned(),
                    rule(|r| {
                        r.respond_within_minutes = Some(240);
                        r.escalate_to = Some(EscalationTarget::Hq);
                    }),
                ),
                ("none".to_owned(), rule(|r| r.approvers = vec![ApproverRole::Hq])),
            ]),
            ..ApprovalPolicy::default()
        };
        let steps = route(Some(&policy), &facts());
        assert_eq!(steps[0].deadline, Some((240, Some(EscalationTarget::Hq))));
        assert_eq!(steps[1].deadline, None, "the HQ step's only rule has no SLA");
    }

    #[test]
    fn inside_policy_is_automatic_and_out_of_policy_never_is() {
        let hq_only = ApprovalPolicy {
            version: 1,
            rules: BTreeMap::from([(
                "deep".to_owned(),
                rule(|r| {
                    r.name = "deep discount".into();
                    r.over_discount_limit = true;
                    r.approvers = vec![ApproverRole::Hq];
                }),
            )]),
            ..ApprovalPolicy::default()
        };
        let out = RoutingFacts { over_discount_limit: true, out_of_policy: true, ..facts() };
        // (case, policy, facts, expected roles)
        let cases: Vec<(&str, Option<&ApprovalPolicy>, RoutingFacts, Vec<ApproverRole>)> = vec![
            ("no policy, inside policy", None, facts(), vec![]),
            ("no policy, out of policy", None, out.clone(), vec![ApproverRole::Manager]),
            ("rule routes the out-of-policy order", Some(&hq_only), out.clone(), vec![ApproverRole::Hq]),
            ("policy with no matching rule, inside", Some(&hq_only), facts(), vec![]),
            (
                "policy with no matching rule, out of policy",
                Some(&hq_only),
                RoutingFacts { out_of_policy: true, ..facts() },
                vec![ApproverRole::Manager],
            ),
        ];
        for (case, policy, facts, expected) in cases {
            let roles: Vec<ApproverRole> = route(policy, &facts).into_iter().map(|s| s.role).collect();
            assert_eq!(roles, expected, "{case}");
        }
        assert_eq!(route(None, &out)[0].rule, OUT_OF_POLICY_RULE);
    }
}
