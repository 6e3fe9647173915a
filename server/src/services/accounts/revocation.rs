//! HQ's remote wipe: revoking a device or disabling a user, as HQ asks for it over HTTP or from
//! the dashboard (the command line's `admin revoke-device` / `disable-user` call the storage
//! through [`super::revoke_device`] and [`super::revoke_user`] directly).
//!
//! Either ends the sessions at once; at its next contact the phone is told `revoked` (a 401 with
//! that code) and erases its local data (`docs/security.md`).

use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::i18n::Message;

use super::{Caller, hq_only};
use crate::error::{Error, Result};
use crate::storage::{Storage, User};

/// `action`: the message id of what was asked (`refusal-action-revoke-device`).
fn require_hq(caller: &Caller, action: &'static str) -> Result<()> {
    if caller.role == Role::Hq { Ok(()) } else { Err(Error::forbidden(hq_only(action, caller.role))) }
}

/// Revokes `device_id` of the caller's tenant and ends its sessions. Revoking the device the
/// caller is using is refused (it would end the request's own session halfway).
pub async fn revoke_device_as(storage: &dyn Storage, caller: &Caller, device_id: &str) -> Result<()> {
    require_hq(caller, "refusal-action-revoke-device")?;
    if device_id == caller.device_id {
        return Err(Error::conflict(Message::new("refusal-own-device").arg("device", device_id)));
    }
    // Another tenant's device is not found, as in every other lookup.
    storage.revoke_device(caller.tenant_id, device_id, now_ms()).await
}

/// Disables `username` of the caller's tenant and ends all their sessions. Disabling oneself is
/// refused: a tenant must not lose its last HQ user by a slip.
pub async fn disable_user_as(storage: &dyn Storage, caller: &Caller, username: &str) -> Result<User> {
    require_hq(caller, "refusal-action-disable-user")?;
    let user = storage
        .find_user_by_username(caller.tenant_id, username)
        .await?
        .ok_or_else(|| Error::not_found(format!("user {username}")))?;
    if user.id == caller.user_id {
        return Err(Error::conflict(Message::new("refusal-own-user").arg("username", username)));
    }
    storage.disable_user(caller.tenant_id, &user.id, now_ms()).await?;
    Ok(user)
}
