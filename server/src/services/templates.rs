//! HQ's checklist templates from the admin pages: list, create and edit a `template` document
//! (written by the relay's own actor, as the seed writes them). Every value is checked before
//! anything is written, and a bad one writes nothing: a name of 1 to [`MAX_NAME_CHARS`]
//! characters, 1 to [`MAX_ITEMS`] items, each a question of 1 to [`MAX_TEXT_CHARS`] characters
//! with a weight above 0 and at most [`MAX_WEIGHT`]. An edit keeps the id of every item whose
//! question is unchanged (inspections answer items by id) and bumps the version when anything
//! changed.

use std::collections::BTreeMap;

use fieldsync_core::doc::{self, Template, TemplateItem};
use fieldsync_core::i18n::Message;
use fieldsync_core::{DocKind, DocumentId};

use super::accounts::Caller;
use crate::documents;
use crate::error::{Error, Result};
use crate::storage::Storage;

/// Longest template name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most items a template may have.
pub const MAX_ITEMS: usize = 100;
/// Longest question, in characters.
pub const MAX_TEXT_CHARS: usize = 300;
/// Largest weight of one item.
pub const MAX_WEIGHT: f64 = 100.0;
/// Most templates the list shows.
const MAX_TEMPLATES: u32 = 500;

fn invalid(message: Message) -> Error {
    Error::invalid("invalid-input", message)
}

/// One checklist item as HQ enters it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemForm {
    /// The question.
    pub text: String,
    /// Its weight in the score.
    pub weight: f64,
    /// Whether it needs a photo.
    pub requires_photo: bool,
}

/// A template as HQ enters it: the name and the items in display order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateForm {
    /// Display name.
    pub name: String,
    /// The items, in display order.
    pub items: Vec<ItemForm>,
}

fn checked(form: &TemplateForm) -> Result<(String, Vec<ItemForm>)> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        let message = Message::new("refusal-template-name").arg("name", format!("{name:?}"));
        return Err(invalid(message.arg("max", MAX_NAME_CHARS)));
    }
    if form.items.is_empty() || form.items.len() > MAX_ITEMS {
        let message = Message::new("refusal-template-items").arg("max", MAX_ITEMS);
        return Err(invalid(message.arg("count", form.items.len())));
    }
    let mut items = Vec::with_capacity(form.items.len());
    for (n, item) in form.items.iter().enumerate() {
        let text = item.text.trim();
        if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS || text.chars().any(char::is_control) {
            let message = Message::new("refusal-template-question").arg("text", format!("{text:?}"));
            return Err(invalid(message.arg("item", n + 1).arg("max", MAX_TEXT_CHARS)));
        }
        if !item.weight.is_finite() || item.weight <= 0.0 || item.weight > MAX_WEIGHT {
            let message = Message::new("refusal-template-weight").arg("weight", item.weight);
            return Err(invalid(message.arg("item", n + 1).arg("max", MAX_WEIGHT)));
        }
        if items.iter().any(|i: &ItemForm| i.text == text) {
            let message = Message::new("refusal-template-repeated").arg("item", n + 1);
            return Err(invalid(message.arg("text", format!("{text:?}"))));
        }
        items.push(ItemForm { text: text.to_owned(), ..item.clone() });
    }
    Ok((name.to_owned(), items))
}

/// The items of `form` keyed by id: an item whose question `old` already has keeps that id, a new
/// one gets the next free `item-NN`.
fn keyed(items: Vec<ItemForm>, old: Option<&Template>) -> BTreeMap<String, TemplateItem> {
    let mut keyed = BTreeMap::new();
    let mut next = old.map_or(0, |t| t.items.len());
    for (position, item) in items.into_iter().enumerate() {
        let reused = old.and_then(|t| t.items.iter().find(|(_, i)| i.text == item.text).map(|(id, _)| id.clone()));
        let id = reused.unwrap_or_else(|| {
            loop {
                next += 1;
                let candidate = format!("item-{next:02}");
                if old.is_none_or(|t| !t.items.contains_key(&candidate)) && !keyed.contains_key(&candidate) {
                    break candidate;
                }
            }
        });
        let value = TemplateItem {
            text: item.text,
            weight: item.weight,
            requires_photo: item.requires_photo,
            position: i64::try_from(position).unwrap_or(i64::MAX),
        };
        keyed.insert(id, value);
    }
    keyed
}

/// The caller's tenant's templates with their ids, by name (HQ only). Templates are a few
/// master-data documents with no read-model table; the list reads them whole, as the stores page
/// reads the catalog.
pub async fn list_as(storage: &dyn Storage, caller: &Caller) -> Result<Vec<(DocumentId, Template)>> {
    caller.require_hq_person("refusal-action-manage-templates")?;
    let mut templates = Vec::new();
    for stored in storage.list_docs(caller.tenant_id, &caller.scope(), DocKind::Template, MAX_TEMPLATES).await? {
        let template: Template = doc::read(&stored.id, &documents::load(&stored)?)?;
        templates.push((stored.id, template));
    }
    templates.sort_by(|a, b| a.1.name.cmp(&b.1.name).then_with(|| a.0.as_str().cmp(b.0.as_str())));
    Ok(templates)
}

/// Template `id` of a tenant; another kind of document with that id is not found either.
async fn read_template(storage: &dyn Storage, tenant_id: i64, id: &DocumentId) -> Result<Template> {
    documents::read(storage, tenant_id, id).await.map_err(|error| match error {
        Error::Core(fieldsync_core::Error::WrongKind { .. }) => Error::not_found(format!("template {id}")),
        other => other,
    })
}

/// Template `id` of the caller's tenant (HQ only).
pub async fn template_as(storage: &dyn Storage, caller: &Caller, id: &DocumentId) -> Result<Template> {
    caller.require_hq_person("refusal-action-manage-templates")?;
    read_template(storage, caller.tenant_id, id).await
}

/// Creates a template in the caller's tenant (HQ only), version 1.
pub async fn create_template_as(storage: &dyn Storage, caller: &Caller, form: &TemplateForm) -> Result<DocumentId> {
    caller.require_hq_person("refusal-action-manage-templates")?;
    let (name, items) = checked(form)?;
    let template = Template { name, version: 1, items: keyed(items, None), trust: None };
    documents::create_as_relay(storage, caller.tenant_id, &template).await
}

/// Replaces the name and items of template `id` (HQ only); the version goes up when anything
/// changed. Whether anything changed.
pub async fn edit_template_as(
    storage: &dyn Storage,
    caller: &Caller,
    id: &DocumentId,
    form: &TemplateForm,
) -> Result<bool> {
    caller.require_hq_person("refusal-action-manage-templates")?;
    let (name, items) = checked(form)?;
    read_template(storage, caller.tenant_id, id).await?;
    documents::edit_as_relay(storage, caller.tenant_id, id, |template: &mut Template| {
        let updated = Template {
            name: name.clone(),
            version: template.version,
            items: keyed(items.clone(), Some(template)),
            trust: template.trust,
        };
        if updated == *template {
            return Ok(false);
        }
        *template = Template { version: template.version + 1, ..updated };
        Ok(true)
    })
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn item(text: &str) -> ItemForm {
        ItemForm { text: text.into(), weight: 1.0, requires_photo: false }
    }

    #[test]
    fn an_edit_keeps_the_ids_of_unchanged_questions_and_numbers_new_ones_after_the_rest() {
        let first = keyed(vec![item("Shelf full?"), item("Prices shown?")], None);
        assert_eq!(first.keys().collect::<Vec<_>>(), ["item-01", "item-02"]);
        let old = Template { name: "Shelf".into(), version: 1, items: first, trust: None };
        let second = keyed(vec![item("Prices shown?"), item("Floor clean?")], Some(&old));
        assert_eq!(second["item-02"].text, "Prices shown?");
        assert_eq!(second["item-02"].position, 0);
        assert_eq!(second["item-03"].text, "Floor clean?");
        assert!(!second.contains_key("item-01"));
    }

    #[test]
    fn a_template_needs_a_name_items_and_sensible_weights() {
        let form = |name: &str, items: Vec<ItemForm>| TemplateForm { name: name.into(), items };
        assert!(checked(&form("Shelf", vec![item("Full?")])).is_ok());
        for (bad, expected) in [
            (form("", vec![item("Full?")]), "invalid template name"),
            (form("Shelf", vec![]), "1 to 100 items"),
            (form("Shelf", vec![ItemForm { weight: 0.0, ..item("Full?") }]), "invalid weight 0 of item 1"),
            (form("Shelf", vec![item("Full?"), item("Full?")]), "item 2 repeats"),
        ] {
            let error = checked(&bad).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
