//! Texts a person reads, in their language: English and Simplified Chinese.
//!
//! Core never builds a sentence. A finding, a quality verdict or a score reason is a stable
//! **code with arguments** ([`Message`]); the words come from a message catalog ([`Catalog`]) in
//! [Project Fluent](https://projectfluent.org) syntax, one file per language and area
//! (`core/locales/en/core.ftl`, `core/locales/zh-CN/core.ftl`; the relay adds its dashboard's
//! own files to the same mechanism). A message id is the code itself, so an app or an integration
//! can match on the code and a person reads the text.
//!
//! ```
//! use fieldsync_core::i18n::{Language, Message, core_catalog};
//!
//! let low = Message::new("finding-price-below-floor")
//!     .arg("line", 3)
//!     .arg("price", "12.40")
//!     .arg("floor", "13.00")
//!     .arg("source", "tier")
//!     .arg("tier", "B")
//!     .arg("region", "")
//!     .arg("customer", "");
//! assert_eq!(core_catalog().text(Language::English, &low), "line 3: unit price 12.40 below floor 13.00 for tier B");
//! assert_eq!(core_catalog().text(Language::Chinese, &low), "第 3 行：单价 12.40 低于 B 级客户底价 13.00");
//! ```
//!
//! A catalog is checked whole when it is built ([`Catalog::new`] refuses a file that does not
//! parse or repeats an id) and by [`Catalog::gaps`]: every id in every language, with the same
//! arguments. The tests of each catalog fail on a missing translation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use autosurgeon::{Hydrate, Reconcile};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

/// A language FieldSync speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Language {
    /// English (`en`), the default.
    #[default]
    English,
    /// Simplified Chinese (`zh-CN`).
    Chinese,
}

impl Language {
    /// Every language, English first.
    pub const ALL: [Language; 2] = [Language::English, Language::Chinese];

    /// Its BCP 47 tag: `en`, `zh-CN`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }

    /// Its name in itself, for a language picker: `English`, `简体中文`.
    pub fn name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Chinese => "简体中文",
        }
    }

    /// The language of a BCP 47 tag, by its primary language (`en-GB` is English; `zh`, `zh-CN`,
    /// `zh-Hans`, `zh-SG` are Simplified Chinese; `zh-TW` and `zh-Hant` are Chinese too, the
    /// nearest text there is). `None` for a tag of a language FieldSync does not speak or one
    /// that is not a tag.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let tag = tag.trim();
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Language::English),
            "zh" => Some(Language::Chinese),
            _ => None,
        }
    }

    /// The language to answer an HTTP `Accept-Language` header in: the spoken language with the
    /// highest weight (`zh-CN,zh;q=0.9,en;q=0.8` → Chinese), `None` when none is spoken (or the
    /// header is malformed). A weight of 0 means "not this one".
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(u16, Language)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let Some(language) = parts.next().and_then(Language::from_tag) else { continue };
            let weight = parts.find_map(|p| p.trim().strip_prefix("q=")).map_or(Some(1000), parse_weight);
            let Some(weight) = weight else { continue };
            if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, language));
            }
        }
        best.map(|(_, language)| language)
    }

    fn identifier(self) -> LanguageIdentifier {
        // Both tags are valid; the default (und) would only lose plural rules.
        self.tag().parse().unwrap_or_default()
    }
}

/// An `Accept-Language` weight (`0.8`) in thousandths; `None` when it is not one.
fn parse_weight(q: &str) -> Option<u16> {
    let q: f32 = q.trim().parse().ok()?;
    (0.0..=1.0).contains(&q).then(|| (q * 1000.0).round() as u16)
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl std::str::FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        Language::from_tag(tag).ok_or_else(|| UnknownLanguage(tag.to_owned()))
    }
}

/// A language tag FieldSync does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("language {0:?} is not spoken here (use en or zh-CN)")]
pub struct UnknownLanguage(pub String);

/// A text to show, as a stable code and its arguments: what core and the relay store and pass
/// around instead of a sentence. Documents store it as a map (`code`, `args`, `parts`); JSON
/// shows it the same way.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hydrate, Reconcile, Serialize, Deserialize)]
pub struct Message {
    /// The message id in the catalogs (`finding-price-below-floor`).
    pub code: String,
    /// Named arguments, already formatted (`price` → `12.40`). A whole number (`3`, `-2`) is
    /// passed to the catalog as a number, so plural forms can select on it.
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    /// Arguments that are texts themselves (a photo's reason inside an item's reason): rendered
    /// in the same language first, then passed by name like [`Self::args`].
    #[autosurgeon(missing = "Default::default")]
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, Message>,
}

impl Message {
    /// A message without arguments (yet).
    pub fn new(code: impl Into<String>) -> Self {
        Self { code: code.into(), args: BTreeMap::new(), parts: BTreeMap::new() }
    }

    /// The message with one more argument that is a text itself.
    pub fn part(mut self, name: impl Into<String>, message: Message) -> Self {
        self.parts.insert(name.into(), message);
        self
    }

    /// Its English text in core's catalog: what documents keep beside the code for readers that
    /// predate codes.
    pub fn english(&self) -> String {
        core_catalog().text(Language::English, self)
    }

    /// The names of its arguments and parts, sorted: what its text may use.
    pub fn argument_names(&self) -> BTreeSet<String> {
        self.args.keys().chain(self.parts.keys()).cloned().collect()
    }

    /// The message with one more argument.
    pub fn arg(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.args.insert(name.into(), value.to_string());
        self
    }
}

impl fmt::Display for Message {
    /// Its English text in core's catalog (a message of another catalog shows as its code).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

/// One catalog file: its language, a name for errors, and its Fluent text.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// The language the file is written in.
    pub language: Language,
    /// Its name in errors (`core.ftl`).
    pub name: &'static str,
    /// Its text.
    pub text: &'static str,
}

/// Core's own catalog files: findings, photo quality, score reasons.
pub const CORE_SOURCES: [Source; 2] = [
    Source { language: Language::English, name: "en/core.ftl", text: include_str!("../../locales/en/core.ftl") },
    Source { language: Language::Chinese, name: "zh-CN/core.ftl", text: include_str!("../../locales/zh-CN/core.ftl") },
];

/// A catalog file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The file is not valid Fluent.
    #[error("{file}: not valid Fluent: {reason}")]
    Syntax {
        /// The file.
        file: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// An id appears twice in one language.
    #[error("{file}: message {id} is defined twice")]
    Duplicate {
        /// The file with the second definition.
        file: &'static str,
        /// The id.
        id: String,
    },
}

/// Message texts in every [`Language`], built once from [`Source`] files.
pub struct Catalog {
    bundles: BTreeMap<Language, FluentBundle<FluentResource>>,
    /// Per language, each id and the argument names its text uses.
    arguments: BTreeMap<Language, BTreeMap<String, BTreeSet<String>>>,
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalog").field("arguments", &self.arguments).finish_non_exhaustive()
    }
}

impl Catalog {
    /// A catalog of the given files (several per language are fine: core's and the dashboard's).
    pub fn new(sources: &[Source]) -> Result<Self, CatalogError> {
        let mut catalog = Self::empty();
        for source in sources {
            catalog.add(source)?;
        }
        Ok(catalog)
    }

    /// A catalog without texts: every message reads as its code.
    pub fn empty() -> Self {
        let mut bundles = BTreeMap::new();
        let mut arguments = BTreeMap::new();
        for language in Language::ALL {
            let mut bundle = FluentBundle::new_concurrent(vec![language.identifier()]);
            // The isolation marks Fluent puts around arguments show as boxes in plain text.
            bundle.set_use_isolating(false);
            bundles.insert(language, bundle);
            arguments.insert(language, BTreeMap::new());
        }
        Self { bundles, arguments }
    }

    fn add(&mut self, source: &Source) -> Result<(), CatalogError> {
        let resource = FluentResource::try_new(source.text.to_owned()).map_err(|(_, errors)| CatalogError::Syntax {
            file: source.name,
            reason: format!("{:?}", errors.first()),
        })?;
        let ids = self.arguments.entry(source.language).or_default();
        for entry in resource.entries() {
            if let ast::Entry::Message(message) = entry {
                let mut names = BTreeSet::new();
                if let Some(pattern) = &message.value {
                    collect_variables(pattern, &mut names);
                }
                for attribute in &message.attributes {
                    collect_variables(&attribute.value, &mut names);
                }
                if ids.insert(message.id.name.to_owned(), names).is_some() {
                    return Err(CatalogError::Duplicate { file: source.name, id: message.id.name.to_owned() });
                }
            }
        }
        if let Some(bundle) = self.bundles.get_mut(&source.language) {
            bundle.add_resource(resource).map_err(|errors| CatalogError::Syntax {
                file: source.name,
                reason: format!("{:?}", errors.first()),
            })?;
        }
        Ok(())
    }

    /// The catalog of a build whose files do not parse (the tests fail first): no texts, so every
    /// message reads as its code, and the error is logged.
    pub fn fallback(error: &CatalogError) -> Self {
        tracing::error!(%error, "message catalogs unusable: texts read as their codes");
        Self::empty()
    }

    /// The text of `message` in `language`. A message missing there reads in English; one missing
    /// in English too reads as its code (never a panic: an old app may meet a newer code).
    pub fn text(&self, language: Language, message: &Message) -> String {
        let rendered;
        let args = if message.parts.is_empty() {
            &message.args
        } else {
            let mut args = message.args.clone();
            for (name, part) in &message.parts {
                args.insert(name.clone(), self.text(language, part));
            }
            rendered = args;
            &rendered
        };
        self.format(language, &message.code, args)
            .or_else(|| self.format(Language::English, &message.code, args))
            .unwrap_or_else(|| message.code.clone())
    }

    /// The argument names the text of `id` uses in `language`; `None` when it has no text there.
    pub fn arguments(&self, language: Language, id: &str) -> Option<&BTreeSet<String>> {
        self.arguments.get(&language)?.get(id)
    }

    /// What is wrong with `declared` (message ids and the arguments core passes with each) against
    /// this catalog: an id without a text in a language, or a text that uses other arguments
    /// than those passed. Empty when every declared message reads in every language.
    pub fn undeclared_gaps(&self, declared: &[(&str, &[&str])]) -> Vec<String> {
        let mut gaps = Vec::new();
        for (id, names) in declared {
            let names: BTreeSet<String> = names.iter().map(|n| (*n).to_owned()).collect();
            for language in Language::ALL {
                match self.arguments(language, id) {
                    None => gaps.push(format!("{id}: no {language} text")),
                    Some(used) if *used != names => {
                        gaps.push(format!("{id}: {language} text uses {used:?}, core passes {names:?}"))
                    }
                    Some(_) => {}
                }
            }
        }
        gaps
    }

    /// The text of an id without arguments (a dashboard label).
    pub fn label(&self, language: Language, id: &str) -> String {
        self.text(language, &Message::new(id))
    }

    /// Whether `language` has a text for `id`.
    pub fn has(&self, language: Language, id: &str) -> bool {
        self.arguments.get(&language).is_some_and(|ids| ids.contains_key(id))
    }

    /// Every id of `language`, sorted.
    pub fn ids(&self, language: Language) -> impl Iterator<Item = &str> {
        self.arguments.get(&language).into_iter().flat_map(|ids| ids.keys().map(String::as_str))
    }

    /// What keeps the catalog from being complete: an id some language lacks, or an id whose
    /// texts use different arguments in two languages. Empty when every language says everything.
    pub fn gaps(&self) -> Vec<String> {
        let all: BTreeSet<&str> = Language::ALL.iter().flat_map(|l| self.ids(*l)).collect();
        let mut gaps = Vec::new();
        for id in all {
            let english = self.arguments[&Language::English].get(id);
            for language in Language::ALL {
                match self.arguments[&language].get(id) {
                    None => gaps.push(format!("{id}: no {language} text")),
                    Some(names) if english.is_some_and(|e| e != names) => {
                        gaps.push(format!("{id}: {language} uses {names:?}, en uses {english:?}"))
                    }
                    Some(_) => {}
                }
            }
        }
        gaps
    }

    fn format(&self, language: Language, id: &str, args: &BTreeMap<String, String>) -> Option<String> {
        let bundle = self.bundles.get(&language)?;
        let pattern = bundle.get_message(id)?.value()?;
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(name.as_str(), argument(value));
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(%id, %language, ?errors, "message formatted with errors");
        }
        Some(text.into_owned())
    }
}

/// A whole number goes to Fluent as a number (for plural selection), anything else as text, so
/// `12.40` keeps its zero.
fn argument(value: &str) -> FluentValue<'_> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    // A leading zero (`007`, a hash prefix) is an identifier, not a number: it keeps its zeros.
    let leading_zero = digits.len() > 1 && digits.starts_with('0');
    if !digits.is_empty()
        && !leading_zero
        && digits.len() <= 15
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(number) = value.parse::<i64>()
    {
        return FluentValue::from(number);
    }
    FluentValue::from(value)
}

fn collect_variables(pattern: &ast::Pattern<&str>, names: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            collect_in_expression(expression, names);
        }
    }
}

fn collect_in_expression(expression: &ast::Expression<&str>, names: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            collect_in_inline(selector, names);
            for variant in variants {
                collect_variables(&variant.value, names);
            }
        }
        ast::Expression::Inline(inline) => collect_in_inline(inline, names),
    }
}

fn collect_in_inline(inline: &ast::InlineExpression<&str>, names: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            names.insert(id.name.to_owned());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                collect_in_inline(argument, names);
            }
            for named in &arguments.named {
                collect_in_inline(&named.value, names);
            }
        }
        ast::InlineExpression::Placeable { expression } => collect_in_expression(expression, names),
        _ => {}
    }
}

/// The English texts of messages, kept in documents beside the messages for readers that predate
/// codes.
pub fn english_texts(messages: &[Message]) -> Vec<String> {
    messages.iter().map(Message::english).collect()
}

/// Core's catalog ([`CORE_SOURCES`]), built on first use.
pub fn core_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    // The files are compiled in and checked by this module's tests, so this cannot fail in a build
    // that passed them.
    CATALOG.get_or_init(|| Catalog::new(&CORE_SOURCES).unwrap_or_else(|error| Catalog::fallback(&error)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn cores_catalog_files_load_each_id_defined_once_per_language() {
        // A file that does not parse would leave every text a code, with no gap to see.
        if let Err(error) = Catalog::new(&CORE_SOURCES) {
            panic!("core's catalog does not load: {error}");
        }
    }

    #[test]
    fn every_core_message_has_a_text_in_every_language_with_the_same_arguments() {
        let gaps = core_catalog().gaps();
        assert!(gaps.is_empty(), "core catalog gaps:\n{}", gaps.join("\n"));
    }

    /// Every message core can emit, with the arguments it passes: findings (`finding-<code>`),
    /// photo quality, score reasons.
    fn declared() -> Vec<(String, Vec<&'static str>)> {
        let findings = crate::rules::code::ALL.iter().map(|(code, args)| (format!("finding-{code}"), args.to_vec()));
        let quality = crate::photo::quality::MESSAGES.iter().map(|(id, args)| ((*id).to_owned(), args.to_vec()));
        let reasons = crate::scoring::MESSAGES.iter().map(|(id, args)| ((*id).to_owned(), args.to_vec()));
        let alerts = crate::doc::ALERT_MESSAGES.iter().map(|(id, args)| ((*id).to_owned(), args.to_vec()));
        findings.chain(quality).chain(reasons).chain(alerts).collect()
    }

    #[test]
    fn every_message_core_emits_reads_in_every_language_with_the_arguments_core_passes() {
        let declared = declared();
        let table: Vec<(&str, &[&str])> = declared.iter().map(|(id, args)| (id.as_str(), args.as_slice())).collect();
        let gaps = core_catalog().undeclared_gaps(&table);
        assert!(gaps.is_empty(), "core messages without a text:\n{}", gaps.join("\n"));
        // And the catalogs hold nothing core does not emit (a renamed code leaves no stale text).
        let ids: BTreeSet<&str> = table.iter().map(|(id, _)| *id).collect();
        let stale: Vec<&str> = core_catalog().ids(Language::English).filter(|id| !ids.contains(id)).collect();
        assert!(stale.is_empty(), "texts for no message core emits: {stale:?}");
        assert_eq!(ids.len(), table.len(), "a message is declared twice");
    }

    /// Every `"quality-…"` or `"reason-…"` literal outside tests in core's sources: a message
    /// id core may emit.
    fn ids_in_the_sources(dir: &std::path::Path, found: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                ids_in_the_sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for literal in code.split('"').skip(1).step_by(2) {
                    let is_id = |prefix: &str| {
                        literal.strip_prefix(prefix).is_some_and(|rest| {
                            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                        })
                    };
                    if is_id("quality-") || is_id("reason-") {
                        found.insert(literal.to_owned());
                    }
                }
            }
        }
    }

    #[test]
    fn every_message_id_in_cores_code_is_declared_so_its_texts_are_checked() {
        let mut found = BTreeSet::new();
        ids_in_the_sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(found.len() > 50, "the scan found too few ids: {found:?}");
        let declared: BTreeSet<String> = declared().into_iter().map(|(id, _)| id).collect();
        let undeclared: Vec<&String> = found.iter().filter(|id| !declared.contains(*id)).collect();
        assert!(undeclared.is_empty(), "message ids used in core but not declared in a MESSAGES table: {undeclared:?}");
    }

    #[test]
    fn a_declared_message_without_a_text_or_with_other_arguments_is_a_gap() {
        let sources = [
            Source { language: Language::English, name: "en", text: "a = A { $n }\nb = B\n" },
            Source { language: Language::Chinese, name: "zh", text: "a = 甲 { $n }\n" },
        ];
        let catalog = Catalog::new(&sources).expect("parses");
        let gaps = catalog.undeclared_gaps(&[("a", &["n", "m"]), ("b", &[])]);
        assert_eq!(gaps.len(), 3, "{gaps:?}");
        assert!(gaps[0].starts_with("a: en text uses"), "{gaps:?}");
        assert_eq!(gaps[2], "b: no zh-CN text");
    }

    #[test]
    fn a_part_reads_in_the_language_of_the_whole_and_identifiers_keep_their_zeros() {
        let retake = Message::new("quality-retake").part(
            "problems",
            Message::new("quality-list")
                .part("first", Message::new("quality-problem-blurry"))
                .part("rest", Message::new("quality-problem-too-dark")),
        );
        assert_eq!(core_catalog().text(Language::English, &retake), "blurry, too dark: retake");
        assert_eq!(core_catalog().text(Language::Chinese, &retake), "模糊、过暗：请重拍");
        let photo = Message::new("reason-photo-not-counted")
            .arg("photo", "00c0ffee")
            .part("why", Message::new("reason-not-usable"));
        assert_eq!(core_catalog().text(Language::Chinese, &photo), "照片 00c0ffee：不可用");
    }

    #[test]
    fn a_finding_reads_in_chinese_as_a_rep_would_say_it() {
        let low = Message::new("finding-price-below-floor")
            .arg("line", 3)
            .arg("price", "12.40")
            .arg("floor", "13.00")
            .arg("source", "tier")
            .arg("tier", "B")
            .arg("region", "")
            .arg("customer", "");
        assert_eq!(core_catalog().text(Language::Chinese, &low), "第 3 行：单价 12.40 低于 B 级客户底价 13.00");
    }

    #[test]
    fn a_missing_translation_or_a_different_argument_is_a_gap() {
        let sources = [
            Source { language: Language::English, name: "en", text: "a = A { $n }\nb = B\n" },
            Source { language: Language::Chinese, name: "zh", text: "a = 甲 { $m }\n" },
        ];
        let catalog = Catalog::new(&sources).expect("parses");
        let gaps = catalog.gaps();
        assert_eq!(gaps.len(), 2, "{gaps:?}");
        assert!(gaps[0].starts_with("a: zh-CN uses"), "{gaps:?}");
        assert_eq!(gaps[1], "b: no zh-CN text");
        // Missing in Chinese: English; missing everywhere: the code.
        assert_eq!(catalog.text(Language::Chinese, &Message::new("b")), "B");
        assert_eq!(catalog.text(Language::Chinese, &Message::new("nope")), "nope");
    }

    #[test]
    fn a_bad_file_or_a_repeated_id_is_refused_naming_the_file() {
        let bad = [Source { language: Language::English, name: "bad.ftl", text: "a = {\n" }];
        assert!(matches!(Catalog::new(&bad), Err(CatalogError::Syntax { file: "bad.ftl", .. })));
        let twice = [Source { language: Language::English, name: "twice.ftl", text: "a = A\na = B\n" }];
        let error = Catalog::new(&twice).expect_err("a repeated id");
        assert_eq!(error.to_string(), "twice.ftl: message a is defined twice");
    }

    #[test]
    fn plural_forms_select_on_whole_numbers_and_decimals_keep_their_zeros() {
        let sources = [Source {
            language: Language::English,
            name: "en",
            text: "photos = { $n ->\n    [one] one photo\n   *[other] { $n } photos\n}\nprice = costs { $p }\n",
        }];
        let catalog = Catalog::new(&sources).expect("parses");
        assert_eq!(catalog.text(Language::English, &Message::new("photos").arg("n", 1)), "one photo");
        assert_eq!(catalog.text(Language::English, &Message::new("photos").arg("n", 3)), "3 photos");
        assert_eq!(catalog.text(Language::English, &Message::new("price").arg("p", "12.40")), "costs 12.40");
    }

    #[test]
    fn languages_come_from_tags_and_accept_language_headers() {
        assert_eq!(Language::from_tag("zh-Hans-CN"), Some(Language::Chinese));
        assert_eq!(Language::from_tag("en_GB"), Some(Language::English));
        assert_eq!(Language::from_tag("fr"), None);
        assert_eq!(
            "de".parse::<Language>().unwrap_err().to_string(),
            "language \"de\" is not spoken here (use en or zh-CN)"
        );
        assert_eq!(Language::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), Some(Language::Chinese));
        assert_eq!(Language::from_accept_language("fr-FR, en;q=0.5, zh;q=0.7"), Some(Language::Chinese));
        assert_eq!(Language::from_accept_language("zh;q=0, en;q=0.1"), Some(Language::English));
        assert_eq!(Language::from_accept_language("fr, de;q=0.5"), None);
        assert_eq!(Language::from_accept_language("en;q=abc"), None);
        assert_eq!(Language::from_accept_language(""), None);
    }
}
