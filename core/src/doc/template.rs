//! `template`: an inspection checklist, written only by HQ.
//!
//! Items are a map keyed by item id with a `position` for display order, not a list: a list
//! records a move as a delete and an insert, so an item moved on one device and edited on another
//! would lose the edit, and moved on two devices would appear twice. With a map, a move is a
//! last-writer-wins change of `position`, and edits to other fields of the item survive it.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};
use crate::scoring::TrustThresholds;

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct TemplateItem {
    /// The question the supervisor answers.
    pub text: String,
    /// Weight in the audit score.
    pub weight: f64,
    /// Whether a usable photo is required for the item to score.
    pub requires_photo: bool,
    /// Display order: items are shown sorted by it (ties by id).
    pub position: i64,
}

/// An inspection checklist template.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Template {
    /// Display name.
    pub name: String,
    /// Bumped by HQ on each published change.
    pub version: u64,
    /// The checklist, by item id.
    pub items: BTreeMap<String, TemplateItem>,
    /// Evidence-trust thresholds for inspections with this checklist; `None` (and documents
    /// written before the field existed) means [`TrustThresholds::default`].
    #[autosurgeon(missing = "Default::default")]
    pub trust: Option<TrustThresholds>,
}

impl Template {
    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<&TemplateItem> {
        self.items.get(id)
    }

    /// The items in display order, with their ids.
    pub fn items_in_order(&self) -> Vec<(&String, &TemplateItem)> {
        let mut items: Vec<_> = self.items.iter().collect();
        items.sort_by_key(|(id, item)| (item.position, (*id).clone()));
        items
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT};

    use super::*;
    use crate::doc;
    use crate::id::DocumentId;

    #[test]
    fn a_template_written_before_trust_thresholds_existed_still_reads() {
        let id = DocumentId::random();
        let template = Template { name: "Shelf".into(), version: 1, items: BTreeMap::new(), trust: None };
        let mut am = doc::create(&id, ActorId::random(), &template).unwrap();
        am.transact(|tx| tx.delete(ROOT, "trust")).unwrap();
        assert_eq!(doc::read::<Template>(&id, &am).unwrap(), template);
    }
}
