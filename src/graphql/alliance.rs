//! Alliances between regions and their agreements.

use async_graphql::{Context, ID, Object, Result};

use super::ids::NodeId;
use super::loaders::{AgreementsOfAlliance, AllianceById, Loaders, MembersOfAlliance, PartiesOfAgreement, SourcesOf};
use super::region::RegionNode;
use super::report::SourceNode;
use super::scalars::Date;
use crate::domain::Services;
use crate::domain::model::{Agreement, Alliance, AllianceKind, Subject, SubjectType};

async fn sources(ctx: &Context<'_>, kind: SubjectType, id: i64) -> Result<Vec<SourceNode>> {
    let list = ctx.data::<Loaders>()?.many(SourcesOf(Subject { kind, key: id.to_string() })).await?;
    Ok(list.into_iter().map(SourceNode).collect())
}

/// The GraphQL `Alliance` object over a domain [`Alliance`].
pub struct AllianceNode(pub Alliance);

/// A standing cooperation between regions, e.g. 通武廊 (Tongzhou–Wuqing–Langfang).
#[Object(name = "Alliance")]
impl AllianceNode {
    /// Global ID of this alliance (for `node`).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Alliance(self.0.id).encode()
    }

    /// Stable short name used to look the alliance up, e.g. `tongwulang`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Name as the reports use it, e.g. `通武廊`.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What kind of cooperation this is.
    async fn kind(&self) -> AllianceKind {
        self.0.kind
    }

    /// A short description.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The member regions, ordered by code.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<RegionNode>> {
        let list = ctx.data::<Loaders>()?.many(MembersOfAlliance(self.0.id)).await?;
        Ok(list.into_iter().map(RegionNode).collect())
    }

    /// Agreements signed within the alliance, by date (undated last).
    async fn agreements(&self, ctx: &Context<'_>) -> Result<Vec<AgreementNode>> {
        let list = ctx.data::<Loaders>()?.many(AgreementsOfAlliance(self.0.id)).await?;
        Ok(list.into_iter().map(AgreementNode).collect())
    }

    /// Report excerpts that name this alliance.
    async fn sources(&self, ctx: &Context<'_>) -> Result<Vec<SourceNode>> {
        sources(ctx, SubjectType::Alliance, self.0.id).await
    }
}

/// The GraphQL `Agreement` object over a domain [`Agreement`].
pub struct AgreementNode(pub Agreement);

/// An agreement signed within an alliance, e.g. 推进通武廊协同发展合作书.
#[Object(name = "Agreement")]
impl AgreementNode {
    /// Global ID of this agreement (for `node`).
    pub(crate) async fn id(&self) -> ID {
        NodeId::Agreement(self.0.id).encode()
    }

    /// Title as the report gives it.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// When it was signed; null when the reports do not say.
    async fn signed_on(&self) -> Option<Date> {
        self.0.signed_on.map(Date)
    }

    /// The alliance it belongs to.
    async fn alliance(&self, ctx: &Context<'_>) -> Result<Option<AllianceNode>> {
        Ok(ctx.data::<Loaders>()?.one(AllianceById(self.0.alliance_id)).await?.map(AllianceNode))
    }

    /// The regions that are parties to it, ordered by code.
    async fn parties(&self, ctx: &Context<'_>) -> Result<Vec<RegionNode>> {
        let list = ctx.data::<Loaders>()?.many(PartiesOfAgreement(self.0.id)).await?;
        Ok(list.into_iter().map(RegionNode).collect())
    }

    /// Report excerpts that name this agreement.
    async fn sources(&self, ctx: &Context<'_>) -> Result<Vec<SourceNode>> {
        sources(ctx, SubjectType::Agreement, self.0.id).await
    }
}

/// Root fields for alliances.
#[derive(Default)]
pub struct AllianceQuery;

/// Root fields for alliances.
#[Object]
impl AllianceQuery {
    /// The alliance with this slug, e.g. `tongwulang`. Errors with `NOT_FOUND` if there is none.
    async fn alliance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The alliance's slug.")] slug: String,
    ) -> Result<Option<AllianceNode>> {
        Ok(Some(AllianceNode(ctx.data::<Services>()?.alliance(&slug).await?)))
    }

    /// Every alliance, ordered by slug.
    async fn alliances(&self, ctx: &Context<'_>) -> Result<Vec<AllianceNode>> {
        Ok(ctx.data::<Services>()?.alliances().await?.into_iter().map(AllianceNode).collect())
    }
}
