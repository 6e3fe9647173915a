//! `template`: an inspection checklist, written only by HQ.
//!
//! Items are a list with a stable `id` key, so reordering and editing merge per item.

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct TemplateItem {
    /// Stable item id.
    #[key]
    pub id: String,
    /// The question the supervisor answers.
    pub text: String,
    /// Weight in the audit score.
    pub weight: f64,
    /// Whether a usable photo is required for the item to score.
    pub requires_photo: bool,
}

/// An inspection checklist template.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Template {
    /// Display name.
    pub name: String,
    /// Bumped by HQ on each published change.
    pub version: u64,
    /// The checklist.
    pub items: Vec<TemplateItem>,
}

impl Template {
    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<&TemplateItem> {
        self.items.iter().find(|item| item.id == id)
    }
}

impl DocumentModel for Template {
    const KIND: DocKind = DocKind::Template;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            subject_id: Some(self.name.clone()),
            item_count: i64::try_from(self.items.len()).ok(),
            ..IndexFields::default()
        }
    }
}
