//! The audit log, for ADMINs.

use async_graphql::{Context, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::connection::{AuditEntryConnection, wants_total};
use super::ids;
use crate::domain::access::{Caller, Role};
use crate::domain::audit::{AuditEntry, AuditFilter, Outcome};
use crate::domain::query::PageRequest;
use crate::domain::{Services, page_size};

/// The GraphQL `AuditEntry` object over a domain [`AuditEntry`].
pub struct AuditEntryNode(pub AuditEntry);

/// One recorded mutation attempt: who, when, which operation on what, and how it ended.
#[Object(name = "AuditEntry")]
impl AuditEntryNode {
    /// When the attempt was made (UTC, RFC 3339).
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// Who: the token's subject, or `anonymous`.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// The actor's role; null when anonymous.
    async fn actor_role(&self) -> Option<Role> {
        self.0.actor_role
    }

    /// The region the actor acts for, from the token.
    async fn actor_region(&self) -> Option<&str> {
        self.0.actor_region.as_deref()
    }

    /// The mutation, e.g. `createOrganization`.
    async fn operation(&self) -> &str {
        &self.0.operation
    }

    /// What it was applied to, e.g. `organization id=12 key=fed-110112`.
    async fn target(&self) -> Option<&str> {
        self.0.target.as_deref()
    }

    /// How it ended.
    async fn outcome(&self) -> Outcome {
        self.0.outcome
    }

    /// The error code when it did not succeed.
    async fn error_code(&self) -> Option<&str> {
        self.0.error_code.as_deref()
    }

    /// The error message when it did not succeed.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
}

/// Which audit entries to list.
#[derive(InputObject, Default)]
#[graphql(name = "AuditLogFilter")]
pub struct AuditLogFilterInput {
    /// Only entries of this actor (token subject, or `anonymous`).
    pub actor: Option<String>,
    /// Only entries of this operation, e.g. `createOrganization`.
    pub operation: Option<String>,
    /// Only entries with this outcome.
    pub outcome: Option<Outcome>,
}

/// Root fields for the audit log.
#[derive(Default)]
pub struct AuditQuery;

/// Root fields for the audit log.
#[Object]
impl AuditQuery {
    /// Every mutation attempt, newest first, refusals included. Requires the ADMIN role.
    #[graphql(complexity = "crate::graphql::page_cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which entries to list; all when omitted.")] filter: Option<AuditLogFilterInput>,
        #[graphql(desc = "Page size, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
    ) -> Result<AuditEntryConnection> {
        // Written on every mutation attempt without a data-version bump: never cached.
        if let Ok(uncacheable) = ctx.data::<crate::http::response_cache::Uncacheable>() {
            uncacheable.mark();
        }
        let services = ctx.data::<Services>()?;
        let caller = ctx.data::<Caller>()?;
        let page = PageRequest { first: page_size(first, "first")?, after: ids::after::<i64>(after.as_deref())? };
        let f = filter.unwrap_or_default();
        let filter = AuditFilter { actor: f.actor, operation: f.operation, outcome: f.outcome };
        let total = if wants_total(ctx) { services.count_audit_log(caller, &filter).await? } else { 0 };
        let items = services.audit_log(caller, &filter, &page).await?;
        Ok(AuditEntryConnection::new(items, page.after.is_some(), total, |e: &AuditEntry| e.id, AuditEntryNode))
    }
}
