//! Who is asking, and what they may do. Every service method takes a [`Caller`]; the rules
//! live here, in the domain, so no read or write path can skip them.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// What a principal may do.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Reads public data and what is shared with their region.
    Viewer,
    /// Additionally writes data of their own region and the regions below it.
    Editor,
    /// Everything, including the audit log.
    Admin,
}

impl Role {
    /// The text used in tokens and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "VIEWER",
            Self::Editor => "EDITOR",
            Self::Admin => "ADMIN",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_uppercase().as_str() {
            "VIEWER" => Ok(Self::Viewer),
            "EDITOR" => Ok(Self::Editor),
            "ADMIN" => Ok(Self::Admin),
            _ => Err(format!("unknown role {text:?} (expected VIEWER, EDITOR or ADMIN)")),
        }
    }
}

/// An authenticated identity: from a verified token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Subject: who, as the identity provider names them.
    pub sub: String,
    /// What they may do.
    pub role: Role,
    /// The region they act for (a region code); their writes are confined to its subtree.
    pub region: Option<String>,
}

/// The caller of one request: a principal, or anonymous.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Caller {
    principal: Option<Principal>,
}

impl Caller {
    /// An anonymous caller.
    pub fn anonymous() -> Self {
        Self { principal: None }
    }

    /// A caller with a verified identity.
    pub fn authenticated(principal: Principal) -> Self {
        Self { principal: Some(principal) }
    }

    /// The principal, if any.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// The role; `None` when anonymous.
    pub fn role(&self) -> Option<Role> {
        self.principal.as_ref().map(|p| p.role)
    }

    /// Who, for logs and the audit log.
    pub fn describe(&self) -> String {
        self.principal.as_ref().map_or_else(|| "anonymous".to_owned(), |p| p.sub.clone())
    }

    /// Requires the ADMIN role.
    pub fn require_admin(&self, what: &str) -> AppResult<()> {
        match self.role() {
            Some(Role::Admin) => Ok(()),
            Some(_) => Err(AppError::Forbidden(format!("{what} requires the ADMIN role"))),
            None => Err(AppError::Unauthenticated(format!("{what} requires a token with the ADMIN role"))),
        }
    }

    /// Requires a role that may write at all (EDITOR or ADMIN), returning the region an
    /// EDITOR is confined to (`None` for ADMIN: no confinement).
    pub fn writable_root(&self, what: &str) -> AppResult<Option<&str>> {
        match &self.principal {
            None => Err(AppError::Unauthenticated(format!("{what} requires a token with the EDITOR or ADMIN role"))),
            Some(Principal { role: Role::Admin, .. }) => Ok(None),
            Some(Principal { role: Role::Editor, region: Some(region), .. }) => Ok(Some(region)),
            Some(Principal { role: Role::Editor, region: None, .. }) => {
                Err(AppError::Forbidden(format!("{what}: the token names no region this editor acts for")))
            }
            Some(Principal { role: Role::Viewer, .. }) => {
                Err(AppError::Forbidden(format!("{what} requires the EDITOR or ADMIN role")))
            }
        }
    }
}
