//! Subscriptions (over graphql-ws at `/graphql/ws`): reports as they are submitted, on every
//! replica (see `domain::events`).

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::ids::NodeId;
use crate::domain::Services;
use crate::domain::SubmitStatus;
use crate::domain::events::ReportEvent;
use crate::error::AppError;

/// A report that was just submitted: created, or revised with changed content.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "ReportSubmitted")]
pub struct ReportSubmitted {
    /// Global ID of the report revision (fetch it with `node` or `report`).
    pub id: ID,
    /// The report's stable key.
    pub key: String,
    /// The report's title.
    pub title: String,
    /// 1 when created, then 2, 3 … for each revision.
    pub revision: i64,
    /// `CREATED` or `REVISED`.
    pub status: SubmitStatus,
    /// The report's region code, if it has one.
    pub region: Option<String>,
}

impl From<ReportEvent> for ReportSubmitted {
    fn from(e: ReportEvent) -> Self {
        Self {
            id: NodeId::Report(e.report_id).encode(),
            key: e.key,
            title: e.title,
            revision: e.revision,
            status: if e.status == "CREATED" { SubmitStatus::Created } else { SubmitStatus::Revised },
            region: e.region,
        }
    }
}

/// The subscription root.
#[derive(Default)]
pub struct Subscription;

/// Live events, over graphql-ws at `/graphql/ws`.
#[Subscription]
impl Subscription {
    /// Every report submitted from now on (a re-submission that changes nothing is not an
    /// event), optionally only those of a region and the regions below it.
    async fn report_submitted(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only reports of this region or below it.")] region: Option<String>,
    ) -> Result<impl Stream<Item = ReportSubmitted> + use<>> {
        let services = ctx.data::<Services>()?;
        if let Some(code) = &region {
            services.region(code).await.map_err(|e| match e {
                AppError::NotFound(m) => AppError::bad_input("region", m),
                other => other,
            })?;
        }
        let receiver = services.events().subscribe();
        let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) => return Some((event, receiver)),
                    // A subscriber too slow for the channel skips what it missed.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        });
        Ok(events.filter_map(move |event| {
            let wanted = region.as_ref().is_none_or(|r| event.within.contains(r));
            std::future::ready(wanted.then(|| ReportSubmitted::from(event)))
        }))
    }
}
