//! The relay's layering (`docs/architecture.md`, "The relay's layers"), checked on its source:
//! edges (`http/`, `dashboard/`, `jobs/`, `main.rs`, `bin/`) may import services and
//! foundations; services never import an edge, the shared state or axum; storage imports no
//! service, no caller type, no edge and no axum; foundations import only foundations.
//!
//! A reference is any `crate::module` path in a file, in code or in a doc link (a doc link to a
//! layer above is a dependency too), including the names in a grouped `use crate::{…}`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The foundations: imported by anyone, importing only each other.
const FOUNDATIONS: &[&str] = &["error", "config", "format", "locale", "messages", "scope", "metrics", "clock"];

/// The edges: nothing else may import them.
const EDGES: &[&str] = &["http", "dashboard", "jobs"];

/// A source file of the server crate, by its path under `server/src`.
struct Source {
    path: String,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files
        .into_iter()
        .map(|file| {
            let path = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&file).unwrap();
            Source { path, text }
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The top-level modules a source refers to through `crate::`.
fn crate_references(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        // `fieldsync_server::…` or another crate's `…crate::` is not this crate's path.
        if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// The top-level module a source belongs to: `services/orders/review.rs` is in `services`.
fn module_of(path: &str) -> &str {
    let first = path.split('/').next().unwrap_or(path);
    first.strip_suffix(".rs").unwrap_or(first)
}

fn is_edge(path: &str) -> bool {
    EDGES.contains(&module_of(path)) || path == "main.rs" || path.starts_with("bin/")
}

/// Every `(file, module)` pair where a file of `in_layer` refers to a module `forbidden` names.
fn violations(
    sources: &[Source],
    in_layer: impl Fn(&str) -> bool,
    forbidden: impl Fn(&str, &str) -> bool,
) -> Vec<String> {
    let mut found = Vec::new();
    for source in sources.iter().filter(|s| in_layer(&s.path)) {
        for module in crate_references(&source.text) {
            if forbidden(module_of(&source.path), &module) {
                found.push(format!("{} refers to crate::{module}", source.path));
            }
        }
    }
    found
}

#[test]
fn the_reference_scanner_sees_plain_grouped_and_doc_paths() {
    let text = "use crate::{http, scope::Scope};\n/// See [`crate::jobs::run_queue`].\nuse other_crate::x;";
    let found = crate_references(text);
    assert_eq!(found, ["http", "jobs", "scope"].into_iter().map(String::from).collect());
}

#[test]
fn the_layers_are_where_the_test_looks_for_them() {
    let sources = sources();
    for module in ["services/mod.rs", "services/accounts/mod.rs", "services/orders/mod.rs", "storage/mod.rs"] {
        assert!(sources.iter().any(|s| s.path == module), "{module} is missing: update this test with the layout");
    }
    for foundation in FOUNDATIONS {
        assert!(sources.iter().any(|s| s.path == format!("{foundation}.rs")), "foundation {foundation} is missing");
    }
}

#[test]
fn only_edges_import_edges() {
    let sources = sources();
    let found = violations(&sources, |path| !is_edge(path), |own, module| EDGES.contains(&module) && own != module);
    assert!(
        found.is_empty(),
        "only http/, dashboard/, jobs/, main.rs and bin/ may import an edge:\n{}",
        found.join("\n")
    );
}

#[test]
fn services_import_no_edge_no_shared_state_and_no_axum() {
    let sources = sources();
    let services = |path: &str| path.starts_with("services/");
    let found = violations(&sources, services, |_, module| EDGES.contains(&module) || module == "state");
    assert!(found.is_empty(), "services take what they need, not the edges' state:\n{}", found.join("\n"));
    let axum: Vec<&str> =
        sources.iter().filter(|s| services(&s.path) && s.text.contains("axum::")).map(|s| s.path.as_str()).collect();
    assert!(axum.is_empty(), "axum types belong to edges; a service returns an Error variant: {axum:?}");
}

#[test]
fn storage_knows_no_service_caller_edge_or_axum() {
    let sources = sources();
    let storage = |path: &str| path.starts_with("storage/");
    let above = ["services", "auth", "accounts", "alerts", "state", "sync", "http", "dashboard", "jobs"];
    let found = violations(&sources, storage, |_, module| above.contains(&module));
    assert!(found.is_empty(), "storage returns plain records and imports nothing above it:\n{}", found.join("\n"));
    let axum: Vec<&str> =
        sources.iter().filter(|s| storage(&s.path) && s.text.contains("axum")).map(|s| s.path.as_str()).collect();
    assert!(axum.is_empty(), "storage knows no HTTP: {axum:?}");
}

#[test]
fn foundations_import_only_foundations() {
    let sources = sources();
    let found =
        violations(&sources, |path| FOUNDATIONS.contains(&module_of(path)), |_, module| !FOUNDATIONS.contains(&module));
    assert!(
        found.is_empty(),
        "error, config, format, locale, scope, metrics and clock are below everything:\n{}",
        found.join("\n")
    );
}
