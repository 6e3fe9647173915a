//! The dashboard's words in the viewer's language: every label, heading and message of a page is
//! an id in `server/locales/<tag>/dashboard.ftl`, looked up in the relay's one catalog
//! ([`crate::messages::catalog`]). Pages write `t!(lang, "orders-title")`, or with arguments
//! `t!(lang, "overview-kpi-approvals", waiting = n)`; the ids are grouped by page (`orders-…`).
//!
//! Texts made elsewhere (a finding, an alert's title, a score reason) reach a page through the
//! seam functions below, one call per place they are shown, so that they can follow the viewer's
//! language once those areas pass codes and arguments.
//!
//! Refusals are one of them: a service refuses with a message (`Error::Refused`, its texts in
//! `server/locales/<tag>/refusals.ftl`), and every page shows a refusal through [`refusal`] (a
//! bad import's lines through [`import_line`]), the error page too (`DashError`), so a Chinese
//! viewer reads why in Chinese while the API keeps its English sentence.

use fieldsync_core::Role;
use fieldsync_core::doc::AlertTexts;
use fieldsync_core::i18n::{Language, Message};

use crate::error::{Error, RefusalKind};
use crate::messages::catalog;

/// The text of `id` (with arguments: `name = value`, …) in a language: `t!(lang, "nav-orders")`.
macro_rules! t {
    ($language:expr, $id:literal) => {
        $crate::messages::catalog().label($language, $id)
    };
    ($language:expr, $id:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::messages::catalog().text(
            $language,
            &fieldsync_core::i18n::Message::new($id)$(.arg(stringify!($name), $value))+,
        )
    };
}
pub(crate) use t;

/// The text of a message made elsewhere (core's findings and reasons, once they are codes).
pub fn message(language: Language, message: &Message) -> String {
    catalog().text(language, message)
}

/// What a refusal a person can act on says, in `language`, to show on the page's form: the
/// message of a converted refusal ([`Error::Refused`]) in that language, the English reason of
/// one not converted yet ([`Error::BadRequest`], [`Error::Conflict`]). `None` for anything else:
/// a forbidden action or a failure, which is the error page's ([`crate::dashboard::DashError`]).
pub fn refusal(language: Language, error: &Error) -> Option<String> {
    match error {
        Error::Refused(refusal) if refusal.kind != RefusalKind::Forbidden => Some(refusal.text(language)),
        Error::BadRequest { reason, .. } | Error::Conflict(reason) => Some(reason.clone()),
        _ => None,
    }
}

/// Any error as a line of a page (one order of a bulk approval, an error page): a converted
/// refusal of any kind in `language`, anything else as the relay wrote it.
pub fn error(language: Language, error: &Error) -> String {
    match error {
        Error::Refused(refusal) => refusal.text(language),
        other => other.to_string(),
    }
}

/// A refused import line's reason in `language`, without the `line N: ` its message starts with
/// (the page shows the line in its own column).
pub fn import_line(language: Language, message: &Message) -> String {
    match message.parts.get("reason") {
        Some(reason) if message.code == "refusal-import-line" => catalog().text(language, reason),
        _ => catalog().text(language, message),
    }
}

/// A role's name: `HQ`, `区域经理`.
pub fn role(language: Language, role: Role) -> String {
    match role {
        Role::Hq => t!(language, "role-hq"),
        Role::Manager => t!(language, "role-manager"),
        Role::Supervisor => t!(language, "role-supervisor"),
        Role::Rep => t!(language, "role-rep"),
    }
}

/// An order status (`needs-approval`, as the read model stores it) in words; an unknown status
/// reads as itself.
pub fn order_status(language: Language, status: &str) -> String {
    let id = format!("status-{status}");
    if catalog().has(language, &id) { catalog().label(language, &id) } else { status.to_owned() }
}

/// An inspection status (`open`, `checked-out`) in words; an unknown one reads as itself.
pub fn inspection_status(language: Language, status: &str) -> String {
    let id = format!("inspection-status-{status}");
    if catalog().has(language, &id) { catalog().label(language, &id) } else { status.to_owned() }
}

/// A photo's trust verdict (`pass`, `review`, `rejected`) in words.
pub fn trust(language: Language, verdict: &str) -> String {
    let id = format!("trust-{verdict}");
    if catalog().has(language, &id) { catalog().label(language, &id) } else { verdict.to_owned() }
}

/// An alert's title and detail in `language`, from its stored code and arguments when it has
/// them (alerts written before they did read as their stored English).
pub fn alert(language: Language, title: &str, detail: &str, texts: Option<&AlertTexts>) -> (String, String) {
    crate::services::alerts::text(title, detail, texts, language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_arguments_read_in_the_language_asked_for() {
        assert_eq!(t!(Language::Chinese, "nav-orders"), "订单");
        assert_eq!(t!(Language::English, "nav-orders"), "Orders");
        assert_eq!(role(Language::Chinese, Role::Manager), "区域经理");
        assert_eq!(order_status(Language::Chinese, "needs-approval"), "待审批");
        assert_eq!(order_status(Language::Chinese, "from-the-future"), "from-the-future");
    }

    #[test]
    fn counted_words_and_selects_read_in_both_languages() {
        let done = |language| {
            t!(
                language,
                "imports-done",
                rows = 3,
                dataset = "stores",
                created = 2,
                counted = "documents",
                updated = 1,
                unchanged = 0
            )
        };
        assert_eq!(done(Language::English), "imported 3 stores row(s): 2 document(s) created, 1 updated, 0 unchanged.");
        assert_eq!(done(Language::Chinese), "已导入 stores 3 行：新建 2 条记录，更新 1，未变 0。");
        assert_eq!(t!(Language::English, "store-admin-count", count = 1), "1 store");
        assert_eq!(t!(Language::English, "store-admin-count", count = 12), "12 stores");
        assert_eq!(t!(Language::Chinese, "store-admin-count", count = 12), "共 12 家门店");
    }

    /// Every literal id passed to `t!` in the dashboard's source names an id the catalog has in every
    /// language, so no page ever shows a bare id.
    #[test]
    fn every_id_the_dashboard_source_uses_has_a_text_in_every_language() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root.join("format.rs")];
        let mut dirs = vec![root.join("dashboard")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut missing = Vec::new();
        let mut used = 0;
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap_or_default();
            for (at, _) in source.match_indices("t!(") {
                // `t!(`, not the end of `format!(` or `assert!(`.
                if source[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &source[at..];
                let Some(open) = rest.find('"') else { continue };
                // Only a literal id as the second argument, not the macro's definition.
                let before = &rest[..open];
                if before.contains(')') || before.contains('$') || !before.trim_end().ends_with(',') {
                    continue;
                }
                let id: String = rest[open + 1..].chars().take_while(|c| *c != '"').collect();
                used += 1;
                for language in Language::ALL {
                    if !catalog().has(language, &id) {
                        missing.push(format!("{}: {id} has no {language} text", file.display()));
                    }
                }
            }
        }
        assert!(used > 100, "only {used} ids found: is the scan broken?");
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
