//! Resource libraries shared between partner regions: who may see a library, see the contact
//! details of people in it, contribute to it, or manage it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::access::{Caller, Role};
use super::model::ReportedCount;

crate::domain::model::vocabulary! {
    /// Who may see a library besides its owner and grantees.
    Visibility {
        /// Only the owner and explicit grantees.
        Private = "PRIVATE",
        /// Also every region in an alliance the owner belongs to.
        Partners = "PARTNERS",
        /// Everyone, including anonymous readers.
        Public = "PUBLIC",
    }
}

crate::domain::model::vocabulary! {
    /// What a sharing grant allows.
    Permission {
        /// Read the library, contact details included.
        Read = "READ",
        /// Also add, update and remove resources (editors of the grantee region).
        Contribute = "CONTRIBUTE",
    }
}

crate::domain::model::vocabulary! {
    /// What kind of resource an entry is.
    ResourceKind {
        /// An expert (family education, law, psychology …).
        Expert = "EXPERT",
        /// A talented person or group (运河丽人, lecturers, volunteers).
        Talent = "TALENT",
        /// A company.
        Enterprise = "ENTERPRISE",
        /// A cooperative (合作社).
        Cooperative = "COOPERATIVE",
        /// A product.
        Product = "PRODUCT",
        /// A service (hotline, mediation, counselling, childcare …).
        Service = "SERVICE",
        /// A venue or base.
        Venue = "VENUE",
        /// A course or training programme.
        Course = "COURSE",
        /// A policy (subsidy, loan scheme …).
        Policy = "POLICY",
        /// A project or programme.
        Project = "PROJECT",
        /// Anything else.
        Other = "OTHER",
    }
}

/// Who owns a library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    Region(String),
    Alliance(i64),
}

/// A resource library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Library {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub owner: Owner,
    pub curator_id: Option<i64>,
    pub visibility: Visibility,
    /// A size the reports state ("90余类"), with its unit; not a count of stored entries.
    pub reported_size: Option<(ReportedCount, String)>,
    pub report_id: Option<i64>,
    pub excerpt: Option<String>,
}

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grantee {
    Region(String),
    Alliance(i64),
}

/// A sharing grant of a library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub id: i64,
    pub library_id: i64,
    pub grantee: Grantee,
    pub permission: Permission,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

impl Grant {
    /// Whether the grant works now: not revoked, not expired.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// A person's contact details.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub id: i64,
    pub key: String,
    pub library_id: Option<i64>,
    pub category_id: Option<i64>,
    pub kind: ResourceKind,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub region_code: Option<String>,
    pub provider_id: Option<i64>,
    pub contact: Contact,
    pub report_id: Option<i64>,
    pub excerpt: Option<String>,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a caller may do with one library.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// See the library and its resources.
    pub read: bool,
    /// See contact details of people in it.
    pub contacts: bool,
    /// Add, update and remove resources.
    pub contribute: bool,
    /// Update the library, its categories and its grants.
    pub manage: bool,
}

/// Where the caller stands: their region with everything above it, and their alliances.
#[derive(Clone, Debug, Default)]
pub struct Standing {
    /// The caller's region and its ancestors.
    pub regions: HashSet<String>,
    /// Alliances with a member among `regions`.
    pub alliances: HashSet<i64>,
}

/// Decides access to each library, given the caller's standing, each region-owner's alliances,
/// the regions whose editors write the library (`stewards`) and the libraries' grants.
pub fn access(
    caller: &Caller,
    standing: &Standing,
    library: &Library,
    owner_alliances: &HashSet<i64>,
    stewards: &HashSet<String>,
    grants: &[Grant],
    now: DateTime<Utc>,
) -> Access {
    let role = caller.role();
    if role == Some(Role::Admin) {
        return Access { read: true, contacts: true, contribute: true, manage: true };
    }
    let editor = role == Some(Role::Editor);
    let owner = match &library.owner {
        Owner::Region(code) => standing.regions.contains(code),
        Owner::Alliance(id) => standing.alliances.contains(id),
    };
    let partner = match &library.owner {
        Owner::Region(_) => owner_alliances.intersection(&standing.alliances).next().is_some(),
        Owner::Alliance(id) => standing.alliances.contains(id),
    };
    let granted = grants
        .iter()
        .filter(|g| g.library_id == library.id && g.is_active(now))
        .filter(|g| match &g.grantee {
            Grantee::Region(code) => standing.regions.contains(code),
            Grantee::Alliance(id) => standing.alliances.contains(id),
        })
        .map(|g| g.permission)
        .max();
    // Writes are confined to the editor's subtree: the owner region (or an alliance member)
    // must lie at or below the editor's region. `owner` looks the other way (the caller at or
    // below the owner): enough to read, never to write.
    let steward = editor && caller.principal().and_then(|p| p.region.as_ref()).is_some_and(|r| stewards.contains(r));
    let read = library.visibility == Visibility::Public
        || owner
        || steward
        || (library.visibility == Visibility::Partners && partner)
        || granted.is_some();
    Access {
        read,
        contacts: steward || granted.is_some(),
        contribute: steward || editor && granted == Some(Permission::Contribute),
        manage: steward,
    }
}

/// Access for every library, by id.
pub type AccessMap = HashMap<i64, Access>;
