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
//! The same rules exist twice, on purpose: [`Scope::contains`] in memory (live notifications,
//! single-document checks) and a SQL filter in each storage backend (lists and the feed). A test
//! holds the two to the same answers.

use fieldsync_core::{DocKind, Role};

use crate::storage::DocMeta;

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
    /// Whether a document with these columns is in scope.
    pub fn contains(&self, meta: &DocMeta) -> bool {
        let mine = meta.owner.as_deref() == Some(self.user_id.as_str());
        let in_region = self.region.is_some() && meta.region == self.region;
        match (self.role, meta.kind) {
            (Role::Hq, _) => true,
            (_, DocKind::Catalog | DocKind::Template) => true,
            (_, DocKind::Inbox) => mine,
            (Role::Rep, DocKind::Store) => mine,
            (Role::Rep, DocKind::Inventory) => in_region,
            (Role::Rep, DocKind::Order | DocKind::OrderReview) => mine,
            (Role::Supervisor, DocKind::Store | DocKind::Inventory) => in_region,
            (Role::Supervisor, DocKind::Inspection | DocKind::InspectionScore) => mine,
            (Role::Manager, DocKind::Decision) => mine,
            (
                Role::Manager,
                DocKind::Store
                | DocKind::Inventory
                | DocKind::Order
                | DocKind::OrderReview
                | DocKind::Inspection
                | DocKind::InspectionScore,
            ) => in_region,
            _ => false,
        }
    }
}
