//! Per-request DataLoaders: every cross-entity field batches its lookups through here, so a
//! nested query costs a number of statements bounded by its depth, not by its row count.
//!
//! Loaders read through the domain services, never the store, so they see exactly what the
//! services let the caller see.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};

use crate::domain::Services;
use crate::domain::libraries::Grant;
use crate::domain::model::{Agreement, Alliance, Organization, Region, Report, Source, Subject};
use crate::domain::query::{Page, PageRequest};
use crate::error::AppError;
use crate::store::figure_lists::{JobFairRow, MetricFigureRow, OrganizationCountRow, PlanIndicatorRow};

/// A loader failure, shared by every field that waited on the batch.
#[derive(Clone, Debug)]
pub struct LoadError(pub Arc<AppError>);

impl From<AppError> for LoadError {
    fn from(error: AppError) -> Self {
        Self(Arc::new(error))
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(error: LoadError) -> Self {
        async_graphql::ErrorExtensions::extend(&*error.0)
    }
}

/// Loads for one request.
pub struct Loaders(DataLoader<Batch, HashMapCache>);

/// Runs a request's execution together with its loader batches, on the request's own task.
///
/// DataLoader's default (spawn each batch on the runtime after a 1 ms timer) splits a batch
/// whenever the executor needs longer than the timer to reach every item of a long list, or
/// when the previous batch wakes its waiters from another thread while the executor is already
/// running: a large page then costs more statements than a small one. Here a batch is only
/// started once the executor has polled everything it can, and a finished batch wakes all its
/// waiters before the executor runs again, so the statement count depends on the query's shape
/// alone.
#[derive(Clone, Default)]
pub struct BatchWindow {
    queued: Arc<std::sync::Mutex<Vec<BoxFuture<'static, ()>>>>,
}

impl BatchWindow {
    /// Drives `execution` to completion, running the batches it asks for in between.
    pub async fn run<F: std::future::Future>(&self, execution: F) -> F::Output {
        let mut execution = std::pin::pin!(execution);
        let mut running: FuturesUnordered<BoxFuture<'static, ()>> = FuturesUnordered::new();
        std::future::poll_fn(|cx| {
            loop {
                // The executor yields on its own after a few dozen fields (futures' fairness
                // rule) and wakes itself to go on: that is not the end of a pass.
                let woke_itself = Arc::new(SelfWake { woken: AtomicBool::new(false), task: cx.waker().clone() });
                let waker = Waker::from(woke_itself.clone());
                if let Poll::Ready(output) = execution.as_mut().poll(&mut Context::from_waker(&waker)) {
                    return Poll::Ready(output);
                }
                if woke_itself.woken.load(Ordering::Acquire) {
                    continue;
                }
                // Batches start together, once the ones in flight have finished: keys asked for
                // while a batch runs wait for it, so one level of the query is one batch per
                // loader however the database's answers interleave.
                if running.is_empty() {
                    running.extend(self.queued.lock().expect("batch queue poisoned").drain(..));
                }
                let mut finished = false;
                while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {
                    finished = true;
                }
                // A finished batch has woken its waiters: poll the execution again at once.
                if !finished {
                    return Poll::Pending;
                }
            }
        })
        .await
    }
}

/// A waker that notes whether it was used, then wakes the task.
struct SelfWake {
    woken: AtomicBool,
    task: Waker,
}

impl Wake for SelfWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake_by_ref();
    }
}

impl Loaders {
    /// Fresh loaders (and a fresh cache) for one request, with the window that runs its batches.
    pub fn new(services: Services) -> (Self, BatchWindow) {
        let window = BatchWindow::default();
        let queue = window.queued.clone();
        let spawner = move |batch: BoxFuture<'static, ()>| {
            queue.lock().expect("batch queue poisoned").push(batch);
        };
        let loader = DataLoader::with_cache(Batch { services }, spawner, HashMapCache::default())
            .delay(std::time::Duration::ZERO);
        (Self(loader), window)
    }

    /// Loads one value; `None` if the key matches nothing.
    pub async fn one<K, V>(&self, key: K) -> Result<Option<V>, LoadError>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        Batch: Loader<K, Value = V, Error = LoadError>,
        V: Send + Sync + Clone + 'static,
    {
        self.0.load_one(key).await
    }

    /// Loads several values in one batch; keys that match nothing are absent.
    pub async fn each<K, V>(&self, keys: impl IntoIterator<Item = K>) -> Result<HashMap<K, V>, LoadError>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        Batch: Loader<K, Value = V, Error = LoadError>,
        V: Send + Sync + Clone + 'static,
    {
        self.0.load_many(keys).await
    }

    /// Loads a list value; empty if the key matches nothing.
    pub async fn many<K, V>(&self, key: K) -> Result<Vec<V>, LoadError>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        Batch: Loader<K, Value = Vec<V>, Error = LoadError>,
        V: Send + Sync + Clone + 'static,
    {
        Ok(self.0.load_one(key).await?.unwrap_or_default())
    }
}

/// The batch functions behind [`Loaders`].
pub struct Batch {
    services: Services,
}

/// A region by code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegionByCode(pub String);
/// The direct children of a region.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChildrenOfRegion(pub String);
/// The ancestors of a region, nearest first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AncestorsOfRegion(pub String);
/// The alliances a region belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AlliancesOfRegion(pub String);
/// An alliance by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllianceById(pub i64);
/// The member regions of an alliance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MembersOfAlliance(pub i64);
/// The agreements of an alliance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AgreementsOfAlliance(pub i64);
/// An agreement by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AgreementById(pub i64);
/// The party regions of an agreement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PartiesOfAgreement(pub i64);
/// An organization by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrganizationById(pub i64);
/// The child organizations of an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChildrenOfOrganization(pub i64);
/// A report by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReportById(pub i64);
/// The organization counts of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrganizationCountsOf(pub i64);
/// The plan indicators of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PlanIndicatorsOf(pub i64);
/// The metric figures of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MetricFiguresOf(pub i64);
/// The categories of a library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CategoriesOf(pub i64);
/// The sharing grants of a library.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GrantsOf(pub i64);
/// A page of the job fairs a region holds or co-hosts: (region, first, after, with total).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JobFairsOfRegion {
    pub region: String,
    pub first: usize,
    pub after: Option<i64>,
    pub with_total: bool,
}
/// The sources of a record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourcesOf(pub Subject);

fn keyed<K: Hash + Eq, V>(values: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, V> {
    values.into_iter().map(|v| (key(&v), v)).collect()
}

fn grouped<K: Hash + Eq, V>(pairs: impl IntoIterator<Item = (K, V)>) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

/// Implements `Loader<$key>` by calling a batch service that takes the unwrapped keys.
macro_rules! batch {
    ($key:ident: $inner:ty => $value:ty, |$services:ident, $keys:ident| $body:expr) => {
        impl Loader<$key> for Batch {
            type Value = $value;
            type Error = LoadError;
            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, LoadError> {
                let $services = &self.services;
                let $keys: Vec<$inner> = keys.iter().map(|k| k.0.clone()).collect();
                Ok($body)
            }
        }
    };
}

batch!(RegionByCode: String => Region, |s, keys| {
    keyed(s.regions_by_codes(&keys).await?, |r| RegionByCode(r.code.clone()))
});
batch!(ChildrenOfRegion: String => Vec<Region>, |s, keys| {
    grouped(s.region_children(&keys).await?.into_iter().map(|r| (ChildrenOfRegion(r.parent_code.clone().unwrap_or_default()), r)))
});
batch!(AncestorsOfRegion: String => Vec<Region>, |s, keys| {
    grouped(s.region_ancestors(&keys).await?.into_iter().map(|(code, r)| (AncestorsOfRegion(code), r)))
});
batch!(AlliancesOfRegion: String => Vec<Alliance>, |s, keys| {
    grouped(s.region_alliances(&keys).await?.into_iter().map(|(code, a)| (AlliancesOfRegion(code), a)))
});
batch!(AllianceById: i64 => Alliance, |s, keys| {
    keyed(s.alliances_by_ids(&keys).await?, |a| AllianceById(a.id))
});
batch!(MembersOfAlliance: i64 => Vec<Region>, |s, keys| {
    grouped(s.alliance_members(&keys).await?.into_iter().map(|(id, r)| (MembersOfAlliance(id), r)))
});
batch!(AgreementsOfAlliance: i64 => Vec<Agreement>, |s, keys| {
    grouped(s.alliance_agreements(&keys).await?.into_iter().map(|a| (AgreementsOfAlliance(a.alliance_id), a)))
});
batch!(AgreementById: i64 => Agreement, |s, keys| {
    keyed(s.agreements_by_ids(&keys).await?, |a| AgreementById(a.id))
});
batch!(PartiesOfAgreement: i64 => Vec<Region>, |s, keys| {
    grouped(s.agreement_parties(&keys).await?.into_iter().map(|(id, r)| (PartiesOfAgreement(id), r)))
});
batch!(OrganizationById: i64 => Organization, |s, keys| {
    keyed(s.organizations_by_ids(&keys).await?, |o| OrganizationById(o.id))
});
batch!(ChildrenOfOrganization: i64 => Vec<Organization>, |s, keys| {
    grouped(s.organization_children(&keys).await?.into_iter().map(|o| (ChildrenOfOrganization(o.parent_id.unwrap_or_default()), o)))
});
batch!(ReportById: i64 => Report, |s, keys| {
    keyed(s.reports_by_ids(&keys).await?, |r| ReportById(r.id))
});
batch!(SourcesOf: Subject => Vec<Source>, |s, keys| {
    grouped(s.sources(&keys).await?.into_iter().map(|(subject, source)| (SourcesOf(subject), source)))
});
batch!(OrganizationCountsOf: i64 => Vec<OrganizationCountRow>, |s, keys| {
    grouped(s.organization_counts_of(&keys).await?.into_iter().map(|r| (OrganizationCountsOf(r.report_id), r)))
});
batch!(PlanIndicatorsOf: i64 => Vec<PlanIndicatorRow>, |s, keys| {
    grouped(s.plan_indicators_of(&keys).await?.into_iter().map(|r| (PlanIndicatorsOf(r.report_id), r)))
});
batch!(MetricFiguresOf: i64 => Vec<MetricFigureRow>, |s, keys| {
    grouped(s.metric_figures_of(&keys).await?.into_iter().map(|r| (MetricFiguresOf(r.report_id), r)))
});
batch!(CategoriesOf: i64 => Vec<(i64, Option<i64>, String)>, |s, keys| {
    grouped(s.categories_of(&keys).await?.into_iter().map(|(id, library, parent, name)| (CategoriesOf(library), (id, parent, name))))
});
batch!(GrantsOf: i64 => Vec<Grant>, |s, keys| {
    grouped(s.grants_of(&keys).await?.into_iter().map(|g| (GrantsOf(g.library_id), g)))
});

impl Loader<JobFairsOfRegion> for Batch {
    type Value = (Page<JobFairRow>, i64);
    type Error = LoadError;
    async fn load(&self, keys: &[JobFairsOfRegion]) -> Result<HashMap<JobFairsOfRegion, Self::Value>, LoadError> {
        // Keys of one query level share their page arguments: one statement per distinct page.
        let mut pages: HashMap<(usize, Option<i64>, bool), Vec<String>> = HashMap::new();
        for k in keys {
            pages.entry((k.first, k.after, k.with_total)).or_default().push(k.region.clone());
        }
        let mut out = HashMap::new();
        for ((first, after, with_total), regions) in pages {
            let page = PageRequest { first, after };
            let (rows, totals) = self.services.job_fairs_of_regions(&regions, &page, with_total).await?;
            let mut rows = grouped(rows);
            let totals: HashMap<String, i64> = totals.into_iter().collect();
            for region in regions {
                let items = rows.remove(&region).unwrap_or_default();
                let total = totals.get(&region).copied().unwrap_or(0);
                out.insert(
                    JobFairsOfRegion { region: region.clone(), first, after, with_total },
                    (Page::from_overfetch(items, first), total),
                );
            }
        }
        Ok(out)
    }
}
