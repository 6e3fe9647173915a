//! JSON views of documents for integrations and the dashboard: `GET /v1/docs/{id}`,
//! `GET /v1/orders`, `GET /v1/inspections`.
//!
//! A document outside the caller's scope, of another tenant, or that does not exist answers the
//! same 404. The document itself is the automerge document hydrated to JSON: maps, lists, text
//! and scalars; bytes as base64, counters and timestamps as numbers.

use automerge::hydrate;
use automerge::{Automerge, ScalarValue};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fieldsync_core::{DocKind, DocumentId};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::storage::StoredDoc;

/// Default number of documents in a list.
pub const DEFAULT_LIMIT: u32 = 100;
/// Most documents in one list.
pub const MAX_LIMIT: u32 = 1000;
/// Deeper nesting is cut (rendered as null): FieldSync documents are a few levels deep.
const MAX_DEPTH: usize = 64;

/// An automerge scalar as JSON.
pub fn scalar_to_json(value: &ScalarValue) -> Value {
    match value {
        ScalarValue::Bytes(bytes) => Value::String(STANDARD.encode(bytes)),
        ScalarValue::Str(text) => Value::String(text.to_string()),
        ScalarValue::Int(n) | ScalarValue::Timestamp(n) => json!(n),
        ScalarValue::Uint(n) => json!(n),
        ScalarValue::F64(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        ScalarValue::Counter(counter) => json!(i64::from(counter)),
        ScalarValue::Boolean(b) => Value::Bool(*b),
        ScalarValue::Unknown { .. } | ScalarValue::Null => Value::Null,
    }
}

/// A hydrated automerge value as JSON.
pub fn hydrated_to_json(value: &hydrate::Value) -> Value {
    to_json(value, 0)
}

fn to_json(value: &hydrate::Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    match value {
        hydrate::Value::Scalar(scalar) => scalar_to_json(scalar),
        hydrate::Value::Map(map) => {
            Value::Object(map.iter().map(|(key, entry)| (key.clone(), to_json(&entry.value, depth + 1))).collect())
        }
        hydrate::Value::List(list) => Value::Array(list.iter().map(|entry| to_json(&entry.value, depth + 1)).collect()),
        hydrate::Value::Text(text) => Value::String(text.to_string()),
    }
}

/// The whole document as JSON.
pub fn document_json(doc: &StoredDoc) -> Result<Value> {
    let loaded = Automerge::load(&doc.snapshot)
        .map_err(|e| Error::CorruptDocument { id: doc.id.clone(), reason: e.to_string() })?;
    Ok(hydrated_to_json(&loaded.hydrate(None)))
}

fn heads_json(doc: &StoredDoc) -> Vec<String> {
    doc.heads.iter().map(hex::encode).collect()
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Storage(format!("document rendering task failed: {e}")))?
}

/// One document the caller may read: `{id, kind, heads, document}`.
pub async fn get_doc(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(text) = path
        .map_err(|e| Error::bad_request("invalid-id", format!("invalid document id in the path: {}", e.body_text())))?;
    let id: DocumentId =
        text.parse().map_err(|e: fieldsync_core::Error| Error::bad_request("invalid-id", e.to_string()))?;
    let not_found = || Error::not_found(format!("document {id}"));
    let doc = state.storage.load_doc(caller.tenant_id, &id).await?.ok_or_else(not_found)?;
    if !caller.scope().contains(&doc.meta) {
        return Err(not_found().into());
    }
    let body = blocking(move || {
        Ok(json!({
            "id": doc.id.as_str(),
            "kind": doc.meta.kind.as_str(),
            "heads": heads_json(&doc),
            "document": document_json(&doc)?,
        }))
    })
    .await?;
    Ok(Json(body))
}

fn parse_limit(query: Option<&str>) -> Result<u32> {
    let mut limit = DEFAULT_LIMIT;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "limit" {
            limit = match value.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(Error::bad_request(
                        "invalid-input",
                        format!("invalid limit {value:?}: expected a number from 1 to {MAX_LIMIT}"),
                    ));
                }
            };
        }
    }
    Ok(limit)
}

async fn list(state: AppState, caller: Caller, kind: DocKind, query: Option<String>) -> Result<Json<Value>, ApiError> {
    let limit = parse_limit(query.as_deref())?;
    let docs = state.storage.list_docs(caller.tenant_id, &caller.scope(), kind, limit).await?;
    let items = blocking(move || {
        docs.iter()
            // The storage filter already applied the scope; this keeps a backend bug from leaking.
            .filter(|doc| caller.scope().contains(&doc.meta))
            .map(|doc| {
                Ok(json!({
                    "id": doc.id.as_str(),
                    "kind": doc.meta.kind.as_str(),
                    "status": doc.meta.status,
                    "store": doc.meta.store_id,
                    "owner": doc.meta.owner,
                    "region": doc.meta.region,
                    "heads": heads_json(doc),
                    "document": document_json(doc)?,
                }))
            })
            .collect::<Result<Vec<_>>>()
    })
    .await?;
    Ok(Json(json!({ "items": items, "limit": limit })))
}

/// Orders in the caller's scope, newest first (`?limit=`, default 100, at most 1000).
pub async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    list(state, caller, DocKind::Order, query).await
}

/// Inspections in the caller's scope, newest first (`?limit=`, default 100, at most 1000).
pub async fn list_inspections(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    list(state, caller, DocKind::Inspection, query).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT};

    use super::*;

    #[test]
    fn a_document_hydrates_to_plain_json() {
        let mut doc = Automerge::new();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "kind", "order")?;
            tx.put(ROOT, "schema", ScalarValue::Uint(1))?;
            tx.put(ROOT, "count", ScalarValue::counter(5))?;
            tx.put(ROOT, "at", ScalarValue::Timestamp(1_700_000_000_000))?;
            tx.put(ROOT, "raw", ScalarValue::Bytes(vec![1, 2, 3]))?;
            tx.put(ROOT, "price", 1.5)?;
            tx.put(ROOT, "nothing", ScalarValue::Null)?;
            let lines = tx.put_object(ROOT, "lines", ObjType::List)?;
            let line = tx.insert_object(&lines, 0, ObjType::Map)?;
            tx.put(&line, "sku", "BEV-001")?;
            let notes = tx.put_object(ROOT, "notes", ObjType::Text)?;
            tx.splice_text(&notes, 0, 0, "ring twice")?;
            Ok(())
        })
        .unwrap();
        let value = hydrated_to_json(&doc.hydrate(None));
        assert_eq!(
            value,
            json!({
                "kind": "order",
                "schema": 1,
                "count": 5,
                "at": 1_700_000_000_000_i64,
                "raw": "AQID",
                "price": 1.5,
                "nothing": null,
                "lines": [{ "sku": "BEV-001" }],
                "notes": "ring twice",
            })
        );
    }

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(parse_limit(None).unwrap(), 100);
        assert_eq!(parse_limit(Some("limit=7")).unwrap(), 7);
        for bad in ["limit=0", "limit=1001", "limit=x", "limit=-1", "limit="] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
