//! JSON views of documents for integrations: `GET /v1/docs/{id}` (lists are read from the read
//! model: [`super::lists`]).
//!
//! A document outside the caller's scope, of another tenant, or that does not exist answers the
//! same 404. The document itself is the automerge document hydrated to JSON: maps, lists, text
//! and scalars; bytes as base64, counters and timestamps as numbers. Every answer also names the
//! tenant's `currency` (ISO 4217: amounts are `…_cents`, hundredths of it) and `time_zone` (IANA:
//! times are ms since the Unix epoch, and days are counted in this zone).

use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fieldsync_core::DocumentId;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::openapi::JsonObject;
use crate::services::accounts::Caller;
use crate::state::AppState;
use crate::storage::StoredDoc;

/// Deeper nesting is cut (rendered as null): FieldSync documents are a few levels deep, and
/// admission refuses anything deeper than [`fieldsync_core::doc::limits::MAX_DEPTH`].
const MAX_DEPTH: usize = fieldsync_core::doc::limits::MAX_DEPTH;

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

/// A whole automerge document as JSON, read straight from the document: maps, lists, text and
/// scalars, with nesting below [`MAX_DEPTH`] cut to `null`.
///
/// Never through automerge's own `hydrate`, which recurses once per level: a stored document
/// nested a hundred thousand levels deep (refused at admission since, but possibly stored
/// before) would overflow the reader's stack. Here the recursion stops at [`MAX_DEPTH`].
pub fn automerge_to_json(doc: &Automerge) -> Value {
    object_json(doc, &ROOT, ObjType::Map, 0)
}

fn object_json(doc: &Automerge, obj: &ObjId, kind: ObjType, depth: usize) -> Value {
    let value = |entry: Option<(automerge::Value<'_>, ObjId)>| match entry {
        Some((automerge::Value::Scalar(scalar), _)) => scalar_to_json(&scalar),
        Some((automerge::Value::Object(kind), child)) if depth < MAX_DEPTH => object_json(doc, &child, kind, depth + 1),
        Some((automerge::Value::Object(_), _)) | None => Value::Null,
    };
    match kind {
        ObjType::Map | ObjType::Table => Value::Object(
            doc.keys(obj).map(|key| (key.clone(), value(doc.get(obj, key.as_str()).ok().flatten()))).collect(),
        ),
        ObjType::List => Value::Array((0..doc.length(obj)).map(|i| value(doc.get(obj, i).ok().flatten())).collect()),
        ObjType::Text => Value::String(doc.text(obj).unwrap_or_default()),
    }
}

/// The whole document as JSON.
pub fn document_json(doc: &StoredDoc) -> Result<Value> {
    let loaded = Automerge::load(&doc.snapshot)
        .map_err(|e| Error::CorruptDocument { id: doc.id.clone(), reason: e.to_string() })?;
    Ok(automerge_to_json(&loaded))
}

fn heads_json(doc: &StoredDoc) -> Vec<String> {
    doc.heads.iter().map(hex::encode).collect()
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Storage(format!("document rendering task failed: {e}")))?
}

/// One document the caller may read: `{id, kind, heads, document}`.
#[utoipa::path(
    get, path = "/v1/docs/{id}", tag = "read",
    params(("id" = String, Path, description = "a document id")),
    responses(
        (status = 200, description = "the document as JSON", body = JsonObject),
        (status = 400, description = "invalid document id", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 404, description = "no such document for the caller", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
    let locale = crate::services::accounts::tenant_locale(state.storage.as_ref(), caller.tenant_id).await?;
    let body = blocking(move || {
        Ok(json!({
            "id": doc.id.as_str(),
            "kind": doc.meta.kind.as_str(),
            "heads": heads_json(&doc),
            "document": document_json(&doc)?,
            "currency": locale.currency(),
            "time_zone": locale.time_zone(),
        }))
    })
    .await?;
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use automerge::transaction::Transactable;

    use super::*;

    #[test]
    fn a_document_nested_a_hundred_thousand_levels_renders_cut_at_the_limit_without_overflowing() {
        let mut doc = automerge::AutoCommit::new();
        let mut obj = ROOT;
        for _ in 0..100_000 {
            obj = doc.put_object(&obj, "x", ObjType::Map).unwrap();
        }
        // On a small stack, as a tokio blocking thread has: the old recursive reader overflowed.
        let value = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || automerge_to_json(doc.document()))
            .unwrap()
            .join()
            .unwrap();
        let mut depth = 0;
        let mut cursor = &value;
        while let Some(next) = cursor.get("x") {
            cursor = next;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH + 1);
        assert_eq!(cursor, &Value::Null);
    }

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
        let value = automerge_to_json(&doc);
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
}
