//! Submitting reports: one at a time (`submitReport`) or a whole file at once (imports), with
//! the same validation, authorization and revision rules, every attempt audited.

use std::collections::HashMap;

use super::access::Caller;
use super::audit::Audit;
use super::model::Report;
use super::submission::{Known, ReportSubmission, fingerprint};
use super::{Services, SubmitOutcome, SubmitStatus};
use crate::error::{AppError, AppResult, Problem};
use crate::store::sql::Tx;
use crate::store::{self, StoreError};

/// Whether a submission failed only because a concurrent one wrote the same report revision.
fn is_revision_race(error: &AppError) -> bool {
    let AppError::Internal(cause) = error else { return false };
    matches!(
        cause.downcast_ref::<StoreError>(),
        Some(StoreError::Constraint { constraint, message })
            if constraint.starts_with("reports") || message.contains("reports.")
    )
}

/// A submission that passed every check, with what writing it needs.
struct Prepared<'a> {
    submission: &'a ReportSubmission,
    refs: store::figures::Refs,
    fingerprint: String,
    /// The current revision of the report key, if any: (id, revision).
    current: Option<(i64, i64)>,
    /// The content equals the current revision's: nothing to write.
    unchanged: bool,
}

/// Why an import wrote nothing: the report (index in the file) where it failed, if one.
#[derive(Debug)]
pub struct ImportFailure {
    pub report: Option<usize>,
    pub error: AppError,
}

/// A report's region for messages.
fn region_text(code: Option<&str>) -> String {
    code.map_or_else(|| "no region".to_owned(), |c| format!("region {c}"))
}

/// A revision keeps the report's region: revising is not a way to move another region's
/// report, and a report moved by mistake is submitted again under a new key.
fn moved(existing: &Report, submission: &ReportSubmission, path: &str) -> Option<Problem> {
    (existing.region_code != submission.region).then(|| {
        Problem::new(
            format!("{path}.region"),
            format!(
                "report {:?} is about {}; a revision cannot move it to {} (submit it under a new key instead)",
                submission.key,
                region_text(existing.region_code.as_deref()),
                region_text(submission.region.as_deref()),
            ),
        )
    })
}

impl Services {
    /// Looks up what a submission refers to (regions, alliances, organizations, metrics).
    async fn lookup_references(&self, submission: &ReportSubmission) -> AppResult<(Known, store::figures::Refs)> {
        let refs = submission.references();
        let regions = store::regions::by_codes(self.store(), &refs.regions).await?;
        let store_refs = store::figures::refs(self.store(), &refs.alliances, &refs.organizations).await?;
        let known = Known {
            regions: regions.into_iter().map(|r| r.code).collect(),
            alliances: store_refs.alliances.keys().cloned().collect(),
            metrics: store::figures::known_metrics(self.store(), &refs.metrics).await?.into_iter().collect(),
            organizations: store_refs
                .organizations
                .iter()
                .map(|(k, (_, region))| (k.clone(), region.clone()))
                .collect(),
        };
        Ok((known, store_refs))
    }

    /// Every problem with a submission, without writing anything (for imports' dry run): its
    /// content, and a revision that would move the report to another region.
    pub async fn check_submission(&self, submission: &ReportSubmission, path: &str) -> AppResult<Vec<Problem>> {
        let (known, _) = self.lookup_references(submission).await?;
        let mut problems = submission.problems(&known, path);
        if problems.is_empty()
            && let Some((id, _, _)) = store::figures::current_revision(self.store(), &submission.key).await?
        {
            problems.extend(moved(&self.report(id).await?, submission, path));
        }
        Ok(problems)
    }

    /// Checks that an EDITOR confined to `root` may write a report whose region and figures
    /// count towards `regions` and `alliances` (id, slug): every region within the subtree,
    /// every alliance one the editor's region takes part in; a report with none of them is
    /// written only by an ADMIN.
    async fn check_report_writable(
        &self,
        root: &str,
        regions: &[String],
        alliances: &[(i64, String)],
        what: &str,
    ) -> AppResult<()> {
        for region in regions {
            self.check_region_writable(Some(root), Some(region), what).await?;
        }
        if regions.is_empty() && alliances.is_empty() {
            return Err(AppError::Forbidden(format!(
                "{what}: a report without a region can only be written by an ADMIN"
            )));
        }
        for (id, slug) in alliances {
            let members = store::alliances::members_of(self.store(), &[*id]).await?;
            let mut partner = false;
            for (_, member) in &members {
                partner |= store::regions::is_within(self.store(), root, &member.code).await?;
            }
            if !partner {
                return Err(AppError::Forbidden(format!("{what}: region {root} takes no part in alliance {slug}")));
            }
        }
        Ok(())
    }

    /// Validates and authorizes a submission (for an EDITOR confined to `root`), and finds the
    /// revision it would supersede. A revision may only be submitted by who may write the
    /// report as it stands (its region and its figures' scopes), and keeps its region.
    async fn prepare_submission<'a>(
        &self,
        root: Option<&str>,
        submission: &'a ReportSubmission,
        path: &str,
    ) -> AppResult<Prepared<'a>> {
        let (known, refs) = self.lookup_references(submission).await?;
        let problems = submission.problems(&known, path);
        if !problems.is_empty() {
            return Err(AppError::BadUserInput(problems));
        }
        if let Some(root) = root {
            let (regions, slugs) = submission.scopes(&known);
            let alliances: Vec<(i64, String)> =
                slugs.into_iter().filter_map(|s| refs.alliances.get(&s).map(|id| (*id, s))).collect();
            self.check_report_writable(root, &regions, &alliances, "submitReport").await?;
        }
        let print = fingerprint(submission);
        let current = store::figures::current_revision(self.store(), &submission.key).await?;
        let Some((id, revision, hash)) = current else {
            return Ok(Prepared { submission, refs, fingerprint: print, current: None, unchanged: false });
        };
        let existing = self.report(id).await?;
        if let Some(root) = root {
            let (mut regions, ids) = store::figures::scopes_of_report(self.store(), id).await?;
            regions.extend(existing.region_code.clone());
            regions.sort();
            regions.dedup();
            let alliances: Vec<(i64, String)> =
                self.alliances_by_ids(&ids).await?.into_iter().map(|a| (a.id, a.slug)).collect();
            let what = format!(
                "submitReport: report {:?} (revision {revision}) is not this editor's to revise",
                submission.key
            );
            self.check_report_writable(root, &regions, &alliances, &what).await?;
        }
        if let Some(problem) = moved(&existing, submission, path) {
            return Err(AppError::BadUserInput(vec![problem]));
        }
        let unchanged = hash.as_deref() == Some(print.as_str());
        Ok(Prepared { submission, refs, fingerprint: print, current: Some((id, revision)), unchanged })
    }

    /// Writes a prepared submission as a new revision in `tx`; returns its id and revision.
    async fn write_submission(&self, tx: &mut Tx, prepared: &Prepared<'_>) -> AppResult<(i64, i64)> {
        let revision = prepared.current.map_or(1, |(_, revision)| revision + 1);
        let submission = prepared.submission;
        let id = store::figures::insert_report(tx, submission, revision, &prepared.fingerprint).await?;
        if let Some((old, _)) = prepared.current {
            store::figures::supersede(tx, old, id).await?;
        }
        store::figures::insert_figures(tx, id, &submission.figures, &prepared.refs).await?;
        Ok((id, revision))
    }

    /// Submits a report with its figures, validated as a whole and written all or nothing.
    /// The same submission again changes nothing; a changed one becomes a new revision that
    /// supersedes the current one. EDITORs submit only for their region subtree (and for
    /// alliances their region takes part in), and revise only reports they may write.
    pub async fn submit_report(&self, caller: &Caller, submission: &ReportSubmission) -> AppResult<SubmitOutcome> {
        let mut audit = Audit::start(caller, "submitReport", format!("report key={}", submission.key));
        // Two submissions of one report key at once both read the same current revision; the
        // database lets one write it and refuses the other, which then starts over from the
        // revision that won (and may find the content unchanged). Each lost race means another
        // submission landed, so the bound only matters past 16 writers of one report at once.
        let mut attempts = 0;
        let result = loop {
            let result = self.submit_report_audited(caller, submission, &mut audit).await;
            match &result {
                Err(error) if attempts < 16 && is_revision_race(error) => attempts += 1,
                _ => break result,
            }
        };
        audit.finish(self.store(), result).await
    }

    async fn submit_report_audited(
        &self,
        caller: &Caller,
        submission: &ReportSubmission,
        audit: &mut Audit,
    ) -> AppResult<SubmitOutcome> {
        let root = caller.writable_root("submitReport")?;
        let prepared = self.prepare_submission(root, submission, "input").await?;
        if let (true, Some((id, revision))) = (prepared.unchanged, prepared.current) {
            audit.target(format!("report id={id} key={} revision={revision} (unchanged)", submission.key));
            return Ok(SubmitOutcome { report: self.report(id).await?, status: SubmitStatus::Unchanged });
        }
        let mut tx = self.store().begin().await?;
        let (id, revision) = self.write_submission(&mut tx, &prepared).await?;
        audit.target(format!("report id={id} key={} revision={revision}", submission.key));
        audit.commit(tx).await?;
        let status = if revision == 1 { SubmitStatus::Created } else { SubmitStatus::Revised };
        let report = self.report(id).await?;
        self.announce(&report, status).await;
        Ok(SubmitOutcome { report, status })
    }

    /// Submits the reports of one file in one transaction: all are written, or none (the
    /// failure names the report). Each report is checked and audited as by `submitReport`;
    /// a report key may appear only once.
    pub async fn import_reports(
        &self,
        caller: &Caller,
        submissions: &[ReportSubmission],
    ) -> Result<Vec<SubmitOutcome>, ImportFailure> {
        let mut audits: Vec<Audit> = submissions
            .iter()
            .map(|s| Audit::start(caller, "submitReport", format!("report key={} (import)", s.key)))
            .collect();
        let result = self.import_audited(caller, submissions, &mut audits).await;
        let failure = match result {
            Ok(outcomes) => {
                for audit in audits {
                    // Written ones were recorded with their transaction; unchanged ones here.
                    audit.finish(self.store(), Ok(())).await.map_err(|error| ImportFailure { report: None, error })?;
                }
                return Ok(outcomes);
            }
            Err(failure) => failure,
        };
        let stopped_at = failure.report.and_then(|i| submissions.get(i)).map(|s| s.key.clone());
        let why = match &stopped_at {
            Some(key) => {
                format!("not written: the import failed at report {key:?}, and a file is imported whole or not at all")
            }
            None => "not written: the import failed, and a file is imported whole or not at all".to_owned(),
        };
        let others = AppError::bad_input("file", why);
        for (i, audit) in audits.into_iter().enumerate() {
            let error = if Some(i) == failure.report { &failure.error } else { &others };
            audit.record_failure(self.store(), error).await;
        }
        Err(failure)
    }

    async fn import_audited(
        &self,
        caller: &Caller,
        submissions: &[ReportSubmission],
        audits: &mut [Audit],
    ) -> Result<Vec<SubmitOutcome>, ImportFailure> {
        let at = |i: usize| move |error: AppError| ImportFailure { report: Some(i), error };
        let whole = |error: StoreError| ImportFailure { report: None, error: error.into() };
        let root = caller.writable_root("submitReport").map_err(|error| ImportFailure { report: None, error })?;
        // Everything is read first: the transaction then only writes (on SQLite it holds the
        // write lock, and an in-memory database its only connection).
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut prepared = Vec::with_capacity(submissions.len());
        for (i, submission) in submissions.iter().enumerate() {
            if let Some(first) = seen.insert(&submission.key, i) {
                let message = format!(
                    "report {:?} is also report {} of this import; give each key once",
                    submission.key,
                    first + 1
                );
                return Err(at(i)(AppError::bad_input("input.key", message)));
            }
            prepared.push(self.prepare_submission(root, submission, "input").await.map_err(at(i))?);
        }
        let mut tx = self.store().begin().await.map_err(whole)?;
        let mut written = Vec::new();
        for (i, p) in prepared.iter().enumerate() {
            if p.unchanged {
                continue;
            }
            let race = |error: AppError| match is_revision_race(&error) {
                true => AppError::Conflict(format!(
                    "another submission of report {:?} was written at the same time; nothing was imported, import the file again",
                    p.submission.key
                )),
                false => error,
            };
            let (id, revision) = self.write_submission(&mut tx, p).await.map_err(race).map_err(at(i))?;
            audits[i].target(format!("report id={id} key={} revision={revision} (import)", p.submission.key));
            audits[i].record_in(&mut tx).await.map_err(at(i))?;
            written.push((i, id, revision));
        }
        tx.commit().await.map_err(whole)?;
        let mut outcomes = Vec::with_capacity(submissions.len());
        for (i, p) in prepared.iter().enumerate() {
            let outcome = match written.iter().find(|(w, _, _)| *w == i) {
                Some((_, id, revision)) => {
                    audits[i].recorded();
                    let status = if *revision == 1 { SubmitStatus::Created } else { SubmitStatus::Revised };
                    let report = self.report(*id).await.map_err(at(i))?;
                    self.announce(&report, status).await;
                    SubmitOutcome { report, status }
                }
                None => {
                    let Some((id, _)) = p.current else { continue };
                    SubmitOutcome { report: self.report(id).await.map_err(at(i))?, status: SubmitStatus::Unchanged }
                }
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Tells subscribers here and (PostgreSQL) on every replica that a report was submitted.
    /// After the commit: a failure here is logged, never undoes the submission.
    async fn announce(&self, report: &Report, status: SubmitStatus) {
        let within = match &report.region_code {
            Some(code) => match store::regions::ancestors_of(self.store(), std::slice::from_ref(code)).await {
                Ok(list) => std::iter::once(code.clone()).chain(list.into_iter().map(|(_, r)| r.code)).collect(),
                Err(error) => {
                    tracing::warn!(%error, "cannot read the report's region lineage for its event");
                    vec![code.clone()]
                }
            },
            None => Vec::new(),
        };
        let event = super::events::ReportEvent {
            origin: self.events().origin(),
            report_id: report.id,
            key: report.key.clone(),
            title: report.title.clone(),
            revision: report.revision,
            status: if status == SubmitStatus::Created { "CREATED" } else { "REVISED" }.to_owned(),
            region: report.region_code.clone(),
            within,
        };
        self.events().publish(event.clone());
        if let Err(error) = store::events::notify(self.store(), &event).await {
            tracing::warn!(%error, "cannot notify other replicas of a submitted report");
        }
    }
}
