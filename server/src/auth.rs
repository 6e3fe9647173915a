//! Who is calling: the bearer token of a request resolved to tenant, user, role and device.

use fieldsync_core::Role;

use crate::scope::Scope;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The tenant's numeric id.
    pub tenant_id: i64,
    /// The tenant's name.
    pub tenant: String,
    /// The user's id.
    pub user_id: String,
    /// The user's login name.
    pub username: String,
    /// The user's role.
    pub role: Role,
    /// The user's region, if any.
    pub region: Option<String>,
    /// The device the token was issued to.
    pub device_id: String,
}

impl Caller {
    /// What this caller may read.
    pub fn scope(&self) -> Scope {
        Scope { role: self.role, user_id: self.user_id.clone(), region: self.region.clone() }
    }
}
