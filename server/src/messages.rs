//! The relay's message catalog: core's texts (findings, photo quality, score reasons) and the
//! relay's own — the dashboard, alert texts, the inspection report — in every language FieldSync
//! speaks. One mechanism for all of them: [`fieldsync_core::i18n`].
//!
//! The files live in `server/locales/<tag>/<area>.ftl`; a text is added to every language at
//! once (the tests fail on a missing translation).

use std::sync::OnceLock;

use fieldsync_core::i18n::{CORE_SOURCES, Catalog, Language, Source};

/// The relay's own catalog files, per area and language.
const RELAY_SOURCES: [Source; 6] = [
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

    #[test]
    fn the_relay_catalog_holds_cores_texts_too() {
        assert!(catalog().has(Language::Chinese, "finding-price-below-floor"));
        assert_eq!(catalog().label(Language::Chinese, "nav-overview"), "概览");
    }
}
