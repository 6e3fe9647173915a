//! Read access to the documents the phone receives but does not write: catalog, stores,
//! templates, inventory, inbox, and the relay's verdicts on this device's work.

use rusqlite::OptionalExtension;

use super::LocalStore;
use crate::doc::{
    Catalog, DocKind, DocumentModel, Inbox, InspectionScore, Inventory, OrderReview, RetailStore, Template,
};
use crate::error::{Error, Result};
use crate::id::DocumentId;

impl LocalStore {
    /// The id of the tenant's catalog on this device.
    pub fn catalog_id(&self) -> Result<DocumentId> {
        self.single_of_kind(DocKind::Catalog)?
            .ok_or(Error::NotFound { kind: Some(DocKind::Catalog), id: "of this tenant (sync first)".to_owned() })
    }

    /// The tenant's catalog.
    pub fn catalog(&self) -> Result<Catalog> {
        self.get(&self.catalog_id()?)
    }

    /// Every store on this device, with its id, sorted by name.
    pub fn stores(&self) -> Result<Vec<(DocumentId, RetailStore)>> {
        let mut stores = self.all_of::<RetailStore>()?;
        stores.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        Ok(stores)
    }

    /// Every checklist template on this device, with its id.
    pub fn templates(&self) -> Result<Vec<(DocumentId, Template)>> {
        self.all_of::<Template>()
    }

    /// Every inventory document on this device (the warehouses of the user's region).
    pub fn inventories(&self) -> Result<Vec<(DocumentId, Inventory)>> {
        self.all_of::<Inventory>()
    }

    /// The signed-in user's inbox, once the relay has sent it.
    pub fn inbox(&self) -> Result<Option<Inbox>> {
        self.single_of_kind(DocKind::Inbox)?.map(|id| self.get(&id)).transpose()
    }

    /// The relay's review of an order, once it has arrived.
    pub fn order_review(&self, order_id: &DocumentId) -> Result<Option<(DocumentId, OrderReview)>> {
        self.about(DocKind::OrderReview, order_id)
    }

    /// The relay's score report of an inspection, once it has arrived.
    pub fn inspection_score(&self, inspection_id: &DocumentId) -> Result<Option<(DocumentId, InspectionScore)>> {
        self.about(DocKind::InspectionScore, inspection_id)
    }

    fn about<T: DocumentModel>(&self, kind: DocKind, subject: &DocumentId) -> Result<Option<(DocumentId, T)>> {
        let id: Option<String> = {
            let inner = self.lock();
            inner
                .conn
                .prepare_cached(
                    "SELECT id FROM doc_index WHERE kind = ?1 AND subject_id = ?2 ORDER BY updated_at DESC LIMIT 1",
                )?
                .query_row([kind.as_str(), subject.as_str()], |row| row.get(0))
                .optional()?
        };
        let Some(id) = id else { return Ok(None) };
        let id: DocumentId = id.parse()?;
        let value = self.get(&id)?;
        Ok(Some((id, value)))
    }

    fn single_of_kind(&self, kind: DocKind) -> Result<Option<DocumentId>> {
        let inner = self.lock();
        let id: Option<String> = inner
            .conn
            .prepare_cached("SELECT id FROM doc_index WHERE kind = ?1 ORDER BY id LIMIT 1")?
            .query_row([kind.as_str()], |row| row.get(0))
            .optional()?;
        id.map(|id| id.parse()).transpose()
    }

    fn all_of<T: DocumentModel>(&self) -> Result<Vec<(DocumentId, T)>> {
        self.ids_of_kind(T::KIND)?
            .into_iter()
            .map(|id| {
                let value = self.get(&id)?;
                Ok((id, value))
            })
            .collect()
    }
}
