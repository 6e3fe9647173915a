//! Which documents a user's devices may hold and which they may write.
//!
//! The rules (see `docs/protocol.md`):
//! - rep: the catalog and templates, their own stores, their region's inventory, their own orders
//!   and the reviews of them, their own inbox;
//! - supervisor: the catalog and templates, their region's stores and inventory, their own
//!   inspections and the scores of them, their own inbox;
//! - manager: everything of their region (stores, inventory, orders, reviews, inspections,
//!   scores), the catalog and templates, decisions they made, their own inbox;
//! - hq: everything in the tenant.
//!
//! The rule table is [`Scope::access`]. It is read twice, on purpose: [`Scope::contains`] in
//! memory (live notifications, single-document checks), and [`Scope::lookups`] for SQL — one
//! index lookup per kind (the manifest, the change feed) or one filter made of them
//! ([`Scope::sql_condition`]: lists, photo visibility). A storage contract test holds the two
//! to the same answers on every backend.

use fieldsync_core::{DocKind, Role};

/// The columns of a document that scope and lists are computed from, kept beside its bytes
/// (storage persists them; the scope reads them, so they are defined here, below storage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocMeta {
    /// Its kind.
    pub kind: DocKind,
    /// The owning or addressed user: an order's rep, an inspection's supervisor, a store's rep,
    /// a review's or score's owner, a decision's approver, an inbox's user.
    pub owner: Option<String>,
    /// The store it is about.
    pub store_id: Option<String>,
    /// The region it belongs to.
    pub region: Option<String>,
    /// The document it is about (a review's order, a score's inspection).
    pub subject_id: Option<String>,
    /// Kind-specific status, for lists.
    pub status: Option<String>,
}

/// How a role reaches the documents of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Every document of the kind in the tenant.
    Any,
    /// Documents whose `owner` is the user.
    Mine,
    /// Documents whose `region` is the user's region.
    Region,
}

/// The reading scope of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The user's role.
    pub role: Role,
    /// The user's id.
    pub user_id: String,
    /// The user's region, when the role has one.
    pub region: Option<String>,
}

impl Scope {
    /// How this user reaches documents of `kind`; `None`: not at all. The one rule table.
    pub fn access(&self, kind: DocKind) -> Option<Access> {
        use DocKind::*;
        match (self.role, kind) {
            (Role::Hq, _) => Some(Access::Any),
            (_, Catalog | Template) => Some(Access::Any),
            (_, Inbox) => Some(Access::Mine),
            (Role::Rep, Store | Order | OrderReview) => Some(Access::Mine),
            (Role::Rep, Inventory) => Some(Access::Region),
            (Role::Supervisor, Store | Inventory) => Some(Access::Region),
            (Role::Supervisor, Inspection | InspectionScore) => Some(Access::Mine),
            (Role::Manager, Decision) => Some(Access::Mine),
            (Role::Manager, Store | Inventory | Order | OrderReview | Inspection | InspectionScore) => {
                Some(Access::Region)
            }
            _ => None,
        }
    }

    /// Whether a document with these columns is in scope.
    pub fn contains(&self, meta: &DocMeta) -> bool {
        match self.access(meta.kind) {
            Some(Access::Any) => true,
            Some(Access::Mine) => meta.owner.as_deref() == Some(self.user_id.as_str()),
            Some(Access::Region) => self.region.is_some() && meta.region == self.region,
            None => false,
        }
    }

    /// The scope as a SQL condition over a `documents` row aliased `d`, with its parameters
    /// (positional `?`, SQLite's dialect). Every backend uses [`Scope::condition`], so the rule
    /// table above is the only one.
    pub fn sql_condition(&self) -> (String, Vec<String>) {
        self.condition(|_| "?".to_owned(), "0")
    }

    /// The same condition in PostgreSQL's dialect: numbered placeholders starting at
    /// `$first_param` (the query's own parameters come before it).
    pub fn pg_condition(&self, first_param: usize) -> (String, Vec<String>) {
        self.condition(|n| format!("${}", first_param + n), "FALSE")
    }

    /// Builds the condition: `placeholder(n)` names the `n`th scope parameter (from 0); `never`
    /// is the dialect's false.
    fn condition(&self, placeholder: impl Fn(usize) -> String, never: &str) -> (String, Vec<String>) {
        let mut parts = Vec::new();
        let mut params = Vec::new();
        for lookup in self.lookups() {
            let kind_is = format!("d.kind = '{}'", lookup.kind.as_str());
            match lookup.column {
                None => parts.push(format!("({kind_is})")),
                Some((column, value)) => {
                    parts.push(format!("({kind_is} AND d.{column} = {})", placeholder(params.len())));
                    params.push(value);
                }
            }
        }
        if parts.is_empty() {
            return (never.to_owned(), params);
        }
        (format!("({})", parts.join(" OR ")), params)
    }

    /// The scope as one index lookup per kind it reaches, in [`DocKind::ALL`] order. Queries
    /// whose cost must follow the scope rather than the tenant (the manifest, the change feed)
    /// run one lookup each: SQLite does not split `kind = a OR kind = b …` into index lookups.
    pub fn lookups(&self) -> Vec<Lookup> {
        DocKind::ALL
            .iter()
            .filter_map(|&kind| {
                let column = match self.access(kind)? {
                    Access::Any => None,
                    Access::Mine => Some(("owner", self.user_id.clone())),
                    // A role that reaches a kind by region reaches none of it without a region.
                    Access::Region => Some(("region", self.region.clone()?)),
                };
                Some(Lookup { kind, column })
            })
            .collect()
    }
}

/// The documents of one kind a scope reaches: all of them, or those whose `owner` or `region`
/// column has a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The kind.
    pub kind: DocKind,
    /// The column (`owner` or `region`) and the value it must have; `None` for every document
    /// of the kind.
    pub column: Option<(&'static str, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_carry_the_same_rules_and_parameters() {
        for role in [Role::Rep, Role::Supervisor, Role::Manager, Role::Hq] {
            let scope = Scope { role, user_id: "u1".into(), region: Some("north".into()) };
            let (sqlite, sqlite_params) = scope.sql_condition();
            let (pg, pg_params) = scope.pg_condition(3);
            assert_eq!(sqlite_params, pg_params);
            let mut numbered = sqlite.clone();
            for n in 0..sqlite_params.len() {
                numbered = numbered.replacen('?', &format!("${}", n + 3), 1);
            }
            assert_eq!(numbered, pg, "{role:?}");
        }
    }
}
