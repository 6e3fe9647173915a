//! HQ's user administration: enable a disabled user, change a user's role, region and display
//! name, and the HQ-caller forms of creating a user and resetting a password that the dashboard's
//! users page calls. The command line (`admin create-user`, `reset-password`, `enable-user`,
//! `set-user`) calls the same functions by tenant name, so both go through one set of checks.

use fieldsync_core::Role;
use fieldsync_core::i18n::Message;

use super::{
    Caller, NewAccount, create_user, reset_password, tenant_named, user_named, validate_display_name,
    validate_role_region,
};
use crate::config::PasswordCost;
use crate::error::{Error, Result};
use crate::storage::{Storage, User, UserChange};

/// Enables `username` of `tenant` again; they sign in anew (their old sessions stay revoked).
pub async fn enable_user(storage: &dyn Storage, tenant: &str, username: &str) -> Result<User> {
    let tenant = tenant_named(storage, tenant).await?;
    let user = user_named(storage, &tenant, username).await?;
    storage.enable_user(tenant.id, &user.id).await?;
    Ok(user)
}

/// What [`update_user`] sets.
#[derive(Debug, Clone, Copy)]
pub struct UserUpdate<'a> {
    /// The new role.
    pub role: Role,
    /// The new region (required for rep, supervisor and manager; refused for HQ).
    pub region: Option<&'a str>,
    /// The new display name (empty: the username is shown).
    pub display_name: &'a str,
}

/// Sets the role, region and display name of `username` of `tenant`, checked together as at
/// creation. A role or region change takes effect at the user's next request (sessions read
/// them from the user).
pub async fn update_user(storage: &dyn Storage, tenant: &str, username: &str, update: UserUpdate<'_>) -> Result<User> {
    validate_role_region(update.role, update.region)?;
    validate_display_name(update.display_name)?;
    let tenant = tenant_named(storage, tenant).await?;
    let user = user_named(storage, &tenant, username).await?;
    let change = UserChange {
        role: update.role,
        region: update.region.map(str::to_owned),
        display_name: update.display_name.trim().to_owned(),
    };
    storage.update_user(tenant.id, &user.id, change).await?;
    Ok(user)
}

/// Creates a user in the caller's tenant (HQ only); `account.tenant` is ignored.
pub async fn create_user_as(
    storage: &dyn Storage,
    cost: PasswordCost,
    caller: &Caller,
    account: NewAccount<'_>,
) -> Result<User> {
    caller.require_hq_person("refusal-action-create-user")?;
    create_user(storage, cost, NewAccount { tenant: &caller.tenant, ..account }).await
}

/// Sets a new password for `username` of the caller's tenant (HQ only).
pub async fn reset_password_as(
    storage: &dyn Storage,
    cost: PasswordCost,
    caller: &Caller,
    username: &str,
    password: &str,
) -> Result<()> {
    caller.require_hq_person("refusal-action-reset-password")?;
    reset_password(storage, cost, &caller.tenant, username, password).await
}

/// Enables `username` of the caller's tenant again (HQ only).
pub async fn enable_user_as(storage: &dyn Storage, caller: &Caller, username: &str) -> Result<User> {
    caller.require_hq_person("refusal-action-enable-user")?;
    enable_user(storage, &caller.tenant, username).await
}

/// Changes the role, region and display name of `username` of the caller's tenant (HQ only).
/// HQ cannot change its own role or region from here: a tenant must not lose its last HQ user
/// by a slip.
pub async fn update_user_as(
    storage: &dyn Storage,
    caller: &Caller,
    username: &str,
    update: UserUpdate<'_>,
) -> Result<User> {
    caller.require_hq_person("refusal-action-change-user")?;
    if username == caller.username && (update.role != caller.role || update.region != caller.region.as_deref()) {
        return Err(Error::conflict(Message::new("refusal-self-change").arg("username", username)));
    }
    update_user(storage, &caller.tenant, username, update).await
}
