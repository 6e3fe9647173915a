//! A tenant's settings as HQ changes them on the dashboard: its time zone, its currency and the
//! default language of its people (a user's own choice wins; without either the browser's
//! `Accept-Language` decides). The command line's `admin set-tenant` changes the same values
//! through [`super::set_tenant_locale`] and [`super::set_tenant_language`].

use fieldsync_core::i18n::Language;

use super::{Caller, parse_language};
use crate::error::{Error, Result};
use crate::locale::Locale;
use crate::storage::Storage;

/// A tenant's settings as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSettings {
    /// The tenant's name, typed at login.
    pub name: String,
    /// IANA time zone in which its days are counted.
    pub time_zone: String,
    /// ISO 4217 code of its amounts' currency.
    pub currency: String,
    /// The default language of its people; `None`: each browser's.
    pub language: Option<Language>,
}

/// The settings HQ asks for, as typed: every value is checked before anything is written.
#[derive(Debug, Clone, Copy)]
pub struct SettingsChange<'a> {
    /// IANA time zone (`Asia/Shanghai`).
    pub time_zone: &'a str,
    /// ISO 4217 code (`CNY`, any case).
    pub currency: &'a str,
    /// A language tag (`zh-CN`), or empty for "each browser's".
    pub language: &'a str,
}

/// The caller's tenant's settings (HQ only).
pub async fn tenant_settings_as(storage: &dyn Storage, caller: &Caller) -> Result<TenantSettings> {
    caller.require_hq_person("refusal-action-see-settings")?;
    settings(storage, caller).await
}

/// Changes the caller's tenant's settings (HQ only). The time zone, currency and language are all
/// checked first, so a bad value changes nothing; returns the settings as stored now.
pub async fn set_tenant_settings_as(
    storage: &dyn Storage,
    caller: &Caller,
    change: SettingsChange<'_>,
) -> Result<TenantSettings> {
    caller.require_hq_person("refusal-action-change-settings")?;
    let locale = Locale::new(change.time_zone, change.currency)?;
    let language = match change.language.trim() {
        "" => None,
        tag => Some(parse_language(tag)?),
    };
    storage.set_tenant_locale(caller.tenant_id, locale.time_zone(), locale.currency()).await?;
    storage.set_tenant_language(caller.tenant_id, language.map(Language::tag)).await?;
    settings(storage, caller).await
}

async fn settings(storage: &dyn Storage, caller: &Caller) -> Result<TenantSettings> {
    let tenant = storage
        .find_tenant_by_id(caller.tenant_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("tenant {}", caller.tenant_id)))?;
    let stored = storage.language_settings(caller.tenant_id, &caller.user_id).await?;
    Ok(TenantSettings {
        name: tenant.name,
        time_zone: tenant.time_zone,
        currency: tenant.currency,
        language: stored.tenant.as_deref().and_then(Language::from_tag),
    })
}
