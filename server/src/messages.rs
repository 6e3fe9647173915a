//! The relay's message catalog: core's texts (findings, photo quality, score reasons) and the
//! relay's own — the dashboard, alert texts, the inspection report, refusals (`refusal-…`, what
//! [`crate::error::Error::Refused`] says) — in every language FieldSync speaks. One mechanism
//! for all of them: [`fieldsync_core::i18n`].
//!
//! The files live in `server/locales/<tag>/<area>.ftl`; a text is added to every language at
//! once (the tests fail on a missing translation).

use std::sync::OnceLock;

use fieldsync_core::Role;
use fieldsync_core::i18n::{CORE_SOURCES, Catalog, Language, Message, Source};

/// The relay's own catalog files, per area and language.
const RELAY_SOURCES: [Source; 8] = [
    Source { language: Language::English, name: "en/dashboard.ftl", text: include_str!("../locales/en/dashboard.ftl") },
    Source {
        language: Language::Chinese,
        name: "zh-CN/dashboard.ftl",
        text: include_str!("../locales/zh-CN/dashboard.ftl"),
    },
    Source { language: Language::English, name: "en/alerts.ftl", text: include_str!("../locales/en/alerts.ftl") },
    Source { language: Language::Chinese, name: "zh-CN/alerts.ftl", text: include_str!("../locales/zh-CN/alerts.ftl") },
    Source { language: Language::English, name: "en/report.ftl", text: include_str!("../locales/en/report.ftl") },
    Source { language: Language::Chinese, name: "zh-CN/report.ftl", text: include_str!("../locales/zh-CN/report.ftl") },
    Source { language: Language::English, name: "en/refusals.ftl", text: include_str!("../locales/en/refusals.ftl") },
    Source {
        language: Language::Chinese,
        name: "zh-CN/refusals.ftl",
        text: include_str!("../locales/zh-CN/refusals.ftl"),
    },
];

/// Core's and the relay's catalog files.
fn sources() -> Vec<Source> {
    CORE_SOURCES.iter().chain(RELAY_SOURCES.iter()).copied().collect()
}

/// Core's and the relay's texts, built on first use.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    // Compiled in and checked by the tests below.
    CATALOG.get_or_init(|| Catalog::new(&sources()).unwrap_or_else(|error| Catalog::fallback(&error)))
}

/// Messages as one, in order: `a; b; c` in English, `a；b；c` in Chinese (`refusal-list`). An
/// empty list is an empty text.
pub fn list(messages: Vec<Message>) -> Message {
    messages
        .into_iter()
        .rev()
        .reduce(|rest, first| Message::new("refusal-list").part("first", first).part("rest", rest))
        .unwrap_or_default()
}

/// A role's name as a message, to pass as a part: `rep` in English, `业务员` in Chinese.
pub fn role(role: Role) -> Message {
    Message::new(match role {
        Role::Hq => "role-hq",
        Role::Manager => "role-manager",
        Role::Supervisor => "role-supervisor",
        Role::Rep => "role-rep",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_files_load_each_id_defined_once_per_language() {
        // A file that does not parse, or an id two files define, would leave every text a code.
        if let Err(error) = Catalog::new(&sources()) {
            panic!("the relay's catalog does not load: {error}");
        }
    }

    #[test]
    fn every_relay_message_has_a_text_in_every_language_with_the_same_arguments() {
        let gaps = catalog().gaps();
        assert!(gaps.is_empty(), "relay catalog gaps:\n{}", gaps.join("\n"));
    }

    /// Every `"refusal-…"` literal in the relay's source (tests included: they name ids too) is an
    /// id with a text in every language, so no refusal ever reads as its bare id.
    #[test]
    fn every_refusal_id_the_server_source_uses_has_a_text_in_every_language() {
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        let mut missing = Vec::new();
        let mut used = std::collections::BTreeSet::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap_or_default();
                for (at, _) in source.match_indices("\"refusal-") {
                    let id: String = source[at + 1..].chars().take_while(|c| *c != '"').collect();
                    // A prefix being matched on (`"refusal-"`), not an id.
                    if id.ends_with('-')
                        || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    {
                        continue;
                    }
                    for language in Language::ALL {
                        if !catalog().has(language, &id) {
                            missing.push(format!("{}: {id} has no {language} text", path.display()));
                        }
                    }
                    used.insert(id);
                }
            }
        }
        assert!(used.len() > 100, "only {} refusal ids found: is the scan broken?", used.len());
        assert!(missing.is_empty(), "{}", missing.join("\n"));
        // And the catalog holds no refusal the source no longer uses (a renamed id leaves no
        // stale text to translate).
        let stale: Vec<&str> =
            catalog().ids(Language::English).filter(|id| id.starts_with("refusal-") && !used.contains(*id)).collect();
        assert!(stale.is_empty(), "refusal texts no source uses: {stale:?}");
    }

    #[test]
    fn the_relay_catalog_holds_cores_texts_too() {
        assert!(catalog().has(Language::Chinese, "finding-price-below-floor"));
        assert_eq!(catalog().label(Language::Chinese, "nav-overview"), "概览");
    }
}
