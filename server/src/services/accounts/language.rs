//! The language a person reads the dashboard in (issue #19): their own setting, else their
//! tenant's default, else what their browser asks for (`Accept-Language`), else English. The
//! choice is resolved once per request; the texts come from [`crate::messages::catalog`].

use fieldsync_core::i18n::{Language, Message};

use super::{Caller, tenant_named};
use crate::error::{Error, Result};
use crate::storage::{LanguageSettings, Storage, Tenant};

/// A language tag a person or an admin typed, as a [`Language`]: `en`, `zh-CN` (and the tags of
/// the same languages, `en-GB`, `zh`, `zh-Hans`). Anything else is refused naming the value and
/// the languages there are.
pub fn parse_language(tag: &str) -> Result<Language> {
    tag.parse::<Language>()
        .map_err(|_| Error::invalid("invalid-input", Message::new("refusal-language-not-spoken").arg("tag", tag)))
}

/// The language that applies, in order: the user's setting, the tenant's default, the browser's
/// `Accept-Language`, English. A stored tag this relay does not speak (written by a newer
/// relay) is passed over rather than failing the page.
pub fn resolve_language(settings: &LanguageSettings, accept_language: Option<&str>) -> Language {
    let stored = |tag: &Option<String>| tag.as_deref().and_then(Language::from_tag);
    stored(&settings.user)
        .or_else(|| stored(&settings.tenant))
        .or_else(|| accept_language.and_then(Language::from_accept_language))
        .unwrap_or_default()
}

/// The language of the caller's pages ([`resolve_language`] on their stored settings).
pub async fn viewer_language(
    storage: &dyn Storage,
    caller: &Caller,
    accept_language: Option<&str>,
) -> Result<Language> {
    let settings = storage.language_settings(caller.tenant_id, &caller.user_id).await?;
    Ok(resolve_language(&settings, accept_language))
}

/// Sets the caller's own language from a tag ([`parse_language`]); a bad tag changes nothing.
pub async fn set_own_language(storage: &dyn Storage, caller: &Caller, tag: &str) -> Result<Language> {
    let language = parse_language(tag)?;
    storage.set_user_language(caller.tenant_id, &caller.user_id, Some(language.tag())).await?;
    Ok(language)
}

/// Sets a tenant's default language (the `admin set-tenant --language` command); a bad tag
/// changes nothing. Returns the tenant and the language now stored.
pub async fn set_tenant_language(storage: &dyn Storage, name: &str, tag: &str) -> Result<(Tenant, Language)> {
    let language = parse_language(tag)?;
    let tenant = tenant_named(storage, name).await?;
    storage.set_tenant_language(tenant.id, Some(language.tag())).await?;
    Ok((tenant, language))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;

    fn settings(user: Option<&str>, tenant: Option<&str>) -> LanguageSettings {
        LanguageSettings { user: user.map(str::to_owned), tenant: tenant.map(str::to_owned) }
    }

    #[test]
    fn the_users_setting_wins_then_the_tenants_then_accept_language_then_english() {
        let chinese_browser = Some("zh-CN,zh;q=0.9,en;q=0.8");
        let english_browser = Some("en-GB,en;q=0.9");
        assert_eq!(resolve_language(&settings(Some("en"), Some("zh-CN")), chinese_browser), Language::English);
        assert_eq!(resolve_language(&settings(Some("zh-CN"), Some("en")), english_browser), Language::Chinese);
        assert_eq!(resolve_language(&settings(None, Some("zh-CN")), english_browser), Language::Chinese);
        assert_eq!(resolve_language(&settings(None, Some("en")), chinese_browser), Language::English);
        assert_eq!(resolve_language(&settings(None, None), chinese_browser), Language::Chinese);
        assert_eq!(resolve_language(&settings(None, None), Some("fr, de;q=0.5")), Language::English);
        assert_eq!(resolve_language(&settings(None, None), None), Language::English);
        // A tag this relay does not speak is passed over, not an error.
        assert_eq!(resolve_language(&settings(Some("tlh"), None), chinese_browser), Language::Chinese);
    }

    #[test]
    fn a_language_tag_that_is_not_spoken_is_refused_naming_it() {
        assert_eq!(parse_language("zh-CN").ok(), Some(Language::Chinese));
        assert_eq!(parse_language("zh").ok(), Some(Language::Chinese));
        assert_eq!(parse_language(" en ").ok(), Some(Language::English));
        for bad in ["fr", "", "<script>"] {
            let error = parse_language(bad).expect_err(bad).to_string();
            assert!(error.contains("is not spoken here (use en or zh-CN)"), "{bad}: {error}");
        }
    }
}
