//! Who is signed in on a device: tenant, user and role.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A user's role. It decides which documents a device holds and which it may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A field rep: takes orders for their stores.
    Rep,
    /// A supervisor: audits the stores of their region.
    Supervisor,
    /// A manager: approves orders, sees their region.
    Manager,
    /// Head office: sees everything, edits master data.
    Hq,
}

impl Role {
    /// The role's name as written in accounts and tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Supervisor => "supervisor",
            Role::Manager => "manager",
            Role::Hq => "hq",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "rep" => Ok(Role::Rep),
            "supervisor" => Ok(Role::Supervisor),
            "manager" => Ok(Role::Manager),
            "hq" => Ok(Role::Hq),
            other => Err(Error::InvalidInput {
                field: "role",
                reason: format!("unknown role {other:?}: expected rep, supervisor, manager or hq"),
            }),
        }
    }
}

/// The user signed in on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Tenant name.
    pub tenant: String,
    /// User id; it owns the orders and inspections made on this device.
    pub user_id: String,
    /// The user's role.
    pub role: Role,
}
