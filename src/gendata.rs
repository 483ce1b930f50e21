//! `gen-data`: deterministic synthetic data at province or national scale, for benchmarks.
//!
//! Everything generated is marked synthetic: one report of its own (publisher `fulian-graph
//! gen-data`) that every figure, region, organization and library cites, names beginning with
//! 合成 ("synthetic"), keys beginning with `syn-`, and region codes in a range GB/T 2260 does
//! not use (`9PP000` provinces, `9PPMM0` prefectures, `9PPMMC` counties, `…-tNN` townships).
//! The same seed gives the same rows. All rows go in one transaction: a failure leaves nothing.

use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDate};

use crate::domain::figures::CaseCategory;
use crate::domain::libraries::{ResourceKind, Visibility};
use crate::domain::model::{OrganizationKind, RegionLevel};
use crate::store::bulk::Value;
use crate::store::sql::{Sql, Tx};
use crate::store::{Store, StoreResult};

/// How much to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// One province: ~90 counties, ~1,200 townships, 3,000 organizations, ~32,000 case rows.
    Province,
    /// ~34 provinces, 340 prefectures, 3,060 counties, 39,780 townships, 100,000 organizations,
    /// 1.1 million case rows, 50,000 job fairs, 100,000 resources in 500 libraries.
    National,
}

/// The sizes of one scale.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub provinces: u32,
    pub prefectures_per_province: u32,
    pub counties_per_prefecture: u32,
    pub townships_per_county: u32,
    pub organizations: u32,
    pub job_fairs: u32,
    pub libraries: u32,
    pub resources: u32,
    pub alliances: u32,
    pub first_year: i32,
    pub years: i32,
}

impl Scale {
    pub fn shape(self) -> Shape {
        let national = Shape {
            provinces: 34,
            prefectures_per_province: 10,
            counties_per_prefecture: 9,
            townships_per_county: 13,
            organizations: 100_000,
            job_fairs: 50_000,
            libraries: 500,
            resources: 100_000,
            alliances: 10,
            first_year: 2020,
            years: 5,
        };
        match self {
            Self::National => national,
            Self::Province => Shape {
                provinces: 1,
                organizations: 3_000,
                job_fairs: 1_500,
                libraries: 15,
                resources: 3_000,
                alliances: 2,
                ..national
            },
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::National => "national",
        }
    }
}

/// The case categories generated monthly for every county.
pub const CASE_CATEGORIES: [CaseCategory; 6] = [
    CaseCategory::RightsProtection,
    CaseCategory::MarriageFamilyMediation,
    CaseCategory::DomesticViolence,
    CaseCategory::LegalConsultation,
    CaseCategory::Hotline,
    CaseCategory::PetitionVisit,
];

/// What was written.
#[derive(Debug, Default)]
pub struct Generated {
    pub report_key: String,
    pub rows: Vec<(&'static str, u64)>,
}

/// A small deterministic generator (SplitMix64): the same seed, the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Region codes of the synthetic hierarchy.
pub fn province_code(p: u32) -> String {
    format!("9{:02}000", p + 1)
}
pub fn prefecture_code(p: u32, m: u32) -> String {
    format!("9{:02}{:02}0", p + 1, m + 1)
}
pub fn county_code(p: u32, m: u32, c: u32) -> String {
    format!("9{:02}{:02}{}", p + 1, m + 1, c + 1)
}
fn township_code(county: &str, t: u32) -> String {
    format!("{county}-t{:02}", t + 1)
}

/// The key of the synthetic report for a scale and seed.
pub fn report_key(scale: Scale, seed: u64) -> String {
    format!("syn-{}-seed-{seed}", scale.as_str())
}

const EXCERPT: &str = "合成数据（gen-data 生成，非真实统计）";
const WORDS: [&str; 12] = [
    "家政服务",
    "月嫂培训",
    "食用菌种植",
    "法律咨询",
    "心理辅导",
    "手工编织",
    "电商直播",
    "养老护理",
    "家庭教育",
    "巾帼志愿",
    "非遗刺绣",
    "创业指导",
];

/// Writes ids in blocks, to keep memory flat while generating a million rows.
struct Writer<'a> {
    tx: &'a mut Tx,
    table: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Value>>,
    written: u64,
    progress: &'a indicatif::ProgressBar,
}

const BLOCK: usize = 20_000;

impl<'a> Writer<'a> {
    fn new(
        tx: &'a mut Tx,
        table: &'static str,
        columns: &'static [&'static str],
        progress: &'a indicatif::ProgressBar,
    ) -> Self {
        progress.set_message(table);
        Self { tx, table, columns, rows: Vec::with_capacity(BLOCK), written: 0, progress }
    }

    async fn push(&mut self, row: Vec<Value>) -> StoreResult<()> {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
        if self.rows.len() >= BLOCK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> StoreResult<()> {
        let n = self.tx.bulk_insert(self.table, self.columns, &self.rows).await?;
        self.written += n;
        self.progress.inc(self.rows.len() as u64);
        self.rows.clear();
        Ok(())
    }

    async fn finish(mut self) -> StoreResult<(&'static str, u64)> {
        self.flush().await?;
        if self.columns.first() == Some(&"id") {
            self.tx.sync_id_sequence(self.table).await?;
        }
        tracing::info!(table = self.table, rows = self.written, "generated");
        Ok((self.table, self.written))
    }
}

async fn next_id(tx: &mut Tx, table: &str) -> StoreResult<i64> {
    tx.fetch_count(&Sql::new(format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))).await
}

/// Errors of `gen-data` a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("the database already holds synthetic data {0:?}; generate into a fresh database")]
    AlreadyGenerated(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Generates the whole dataset of `scale` from `seed` into `store`, in one transaction.
pub async fn generate(store: &Store, scale: Scale, seed: u64) -> Result<Generated, GenError> {
    let shape = scale.shape();
    let key = report_key(scale, seed);
    let mut tx = store.begin().await?;
    let exists = {
        let mut sql = Sql::new("");
        let k = sql.arg(key.as_str());
        sql.push(&format!("SELECT COUNT(*) FROM reports WHERE key = {k}"));
        tx.fetch_count(&sql).await?
    };
    if exists > 0 {
        return Err(GenError::AlreadyGenerated(key));
    }
    let counties = shape.provinces * shape.prefectures_per_province * shape.counties_per_prefecture;
    let months = (shape.years * 12) as u64;
    let total = u64::from(shape.provinces)
        + u64::from(shape.provinces * shape.prefectures_per_province)
        + u64::from(counties) * (1 + u64::from(shape.townships_per_county))
        + u64::from(shape.organizations)
        + u64::from(counties) * months * CASE_CATEGORIES.len() as u64
        + u64::from(shape.job_fairs)
        + u64::from(shape.resources);
    let progress = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {percent:>3}% {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut out = Generated { report_key: key.clone(), rows: Vec::new() };

    // The report every synthetic row cites.
    let report_id = {
        let mut sql = Sql::new("");
        let first = NaiveDate::from_ymd_opt(shape.first_year, 1, 1);
        let last = NaiveDate::from_ymd_opt(shape.first_year + shape.years - 1, 12, 31);
        let values = [
            sql.arg(key.as_str()),
            sql.arg(key.as_str()),
            sql.arg(format!("合成基准数据（{} 规模，种子 {seed}）——非真实统计", scale.as_str())),
            sql.arg("fulian-graph gen-data"),
            sql.arg(first),
            sql.arg(last),
        ]
        .join(", ");
        sql.push(&format!(
            "INSERT INTO reports (key, report_key, title, publisher, period_start, period_end) VALUES ({values}) RETURNING id"
        ));
        tx.fetch_count(&sql).await?
    };

    // Regions and their closure.
    let mut county_codes = Vec::with_capacity(counties as usize);
    let mut township_codes = Vec::new();
    {
        let mut regions = Writer::new(&mut tx, "regions", &["code", "name", "level", "parent_code"], &progress);
        let region = |code: &str, name: String, level: RegionLevel, parent: Option<&str>| {
            vec![code.into(), name.into(), level.as_str().into(), parent.into()]
        };
        for p in 0..shape.provinces {
            let pc = province_code(p);
            regions.push(region(&pc, format!("合成省{:02}", p + 1), RegionLevel::Province, None)).await?;
            for m in 0..shape.prefectures_per_province {
                let mc = prefecture_code(p, m);
                let name = format!("合成{:02}省{:02}市", p + 1, m + 1);
                regions.push(region(&mc, name, RegionLevel::Prefecture, Some(&pc))).await?;
                for c in 0..shape.counties_per_prefecture {
                    let cc = county_code(p, m, c);
                    let name = format!("合成{:02}省{:02}市{}县", p + 1, m + 1, c + 1);
                    regions.push(region(&cc, name, RegionLevel::County, Some(&mc))).await?;
                    for t in 0..shape.townships_per_county {
                        let tc = township_code(&cc, t);
                        let name = format!("合成{:02}省{:02}市{}县{:02}镇", p + 1, m + 1, c + 1, t + 1);
                        regions.push(region(&tc, name, RegionLevel::Township, Some(&cc))).await?;
                        township_codes.push(tc);
                    }
                    county_codes.push(cc);
                }
            }
        }
        out.rows.push(regions.finish().await?);
    }
    {
        let progress = indicatif::ProgressBar::hidden();
        let mut closure = Writer::new(&mut tx, "region_closure", &["ancestor", "descendant", "distance"], &progress);
        let pair = |a: &str, d: &str, n: i64| vec![a.into(), d.into(), n.into()];
        for p in 0..shape.provinces {
            let pc = province_code(p);
            closure.push(pair(&pc, &pc, 0)).await?;
            for m in 0..shape.prefectures_per_province {
                let mc = prefecture_code(p, m);
                closure.push(pair(&mc, &mc, 0)).await?;
                closure.push(pair(&pc, &mc, 1)).await?;
                for c in 0..shape.counties_per_prefecture {
                    let cc = county_code(p, m, c);
                    for (a, n) in [(&cc, 0), (&mc, 1), (&pc, 2)] {
                        closure.push(pair(a, &cc, n)).await?;
                    }
                    for t in 0..shape.townships_per_county {
                        let tc = township_code(&cc, t);
                        for (a, n) in [(&tc, 0), (&cc, 1), (&mc, 2), (&pc, 3)] {
                            closure.push(pair(a, &tc, n)).await?;
                        }
                    }
                }
            }
        }
        out.rows.push(closure.finish().await?);
    }
    // Provenance of the provinces (the rest of the hierarchy hangs below them).
    {
        let progress = indicatif::ProgressBar::hidden();
        let mut sources =
            Writer::new(&mut tx, "sources", &["subject_type", "subject_key", "report_id", "excerpt"], &progress);
        for p in 0..shape.provinces {
            sources.push(vec!["REGION".into(), province_code(p).into(), report_id.into(), EXCERPT.into()]).await?;
        }
        out.rows.push(sources.finish().await?);
    }

    // Alliances of neighbouring provinces (or, at province scale, of prefectures).
    let mut alliance_ids = Vec::new();
    let mut alliance_members: Vec<Vec<String>> = Vec::new();
    for a in 0..shape.alliances {
        let members: Vec<String> = if shape.provinces >= 3 {
            (0..3).map(|i| province_code((a * 3 + i) % shape.provinces)).collect()
        } else {
            (0..3).map(|i| prefecture_code(0, (a * 3 + i) % shape.prefectures_per_province)).collect()
        };
        let slug = format!("syn-alliance-{:02}", a + 1);
        let id = crate::store::alliances::upsert(
            &mut tx,
            &slug,
            &format!("合成协作区{:02}", a + 1),
            crate::domain::model::AllianceKind::RegionalCooperation,
            Some(EXCERPT),
        )
        .await?;
        for code in &members {
            crate::store::alliances::add_member(&mut tx, id, code).await?;
        }
        alliance_ids.push(id);
        alliance_members.push(members);
    }

    // Organizations: one federation per county, the rest spread over townships.
    const ORG_KINDS: [OrganizationKind; 5] = [
        OrganizationKind::WomensHome,
        OrganizationKind::ServicePost,
        OrganizationKind::Studio,
        OrganizationKind::Association,
        OrganizationKind::WomensCommittee,
    ];
    let first_org = next_id(&mut tx, "organizations").await?;
    {
        let mut orgs = Writer::new(
            &mut tx,
            "organizations",
            &[
                "id",
                "key",
                "name",
                "kind",
                "region_code",
                "founded_on",
                "founded_precision",
                "member_count",
                "member_count_qualifier",
            ],
            &progress,
        );
        for i in 0..shape.organizations {
            let (region, kind, name) = if (i as usize) < county_codes.len() {
                let code = &county_codes[i as usize];
                (code.clone(), OrganizationKind::Federation, format!("合成{code}妇联"))
            } else {
                let code = rng.pick(&township_codes).clone();
                let kind = *rng.pick(&ORG_KINDS);
                (code, kind, format!("合成{}{}", rng.pick(&WORDS), i + 1))
            };
            let founded = NaiveDate::from_ymd_opt(2000 + rng.below(25) as i32, 1 + rng.below(12) as u32, 1);
            orgs.push(vec![
                (first_org + i64::from(i)).into(),
                format!("syn-org-{}", i + 1).into(),
                name.into(),
                kind.as_str().into(),
                region.into(),
                founded.map(|d| d.format("%Y-%m-%d").to_string()).into(),
                "MONTH".into(),
                (rng.below(200) as i64 + 5).into(),
                "EXACT".into(),
            ])
            .await?;
        }
        out.rows.push(orgs.finish().await?);
    }

    // Case statistics: every county, every month, every category.
    {
        let mut cases = Writer::new(
            &mut tx,
            "case_statistics",
            &[
                "report_id",
                "excerpt",
                "period_start",
                "period_end",
                "region_code",
                "category",
                "received",
                "received_q",
                "resolved",
                "resolved_q",
                "people_aided",
                "people_aided_q",
                "contested",
            ],
            &progress,
        );
        for county in &county_codes {
            for m in 0..months as i32 {
                let start = month_start(shape.first_year, m);
                let end = month_end(start);
                for category in CASE_CATEGORIES {
                    let received = rng.below(60) as i64;
                    let resolved = received - rng.below(received as u64 / 5 + 1) as i64;
                    let aided = rng.below(40) as i64;
                    cases
                        .push(vec![
                            report_id.into(),
                            EXCERPT.into(),
                            start.into(),
                            end.into(),
                            county.as_str().into(),
                            category.as_str().into(),
                            received.into(),
                            "EXACT".into(),
                            resolved.into(),
                            "EXACT".into(),
                            aided.into(),
                            "EXACT".into(),
                            // Settled below, before commit, by recomputing every flag.
                            false.into(),
                        ])
                        .await?;
                }
            }
        }
        out.rows.push(cases.finish().await?);
    }

    // Job fairs: single fairs in counties, some hosted jointly with a second county.
    let first_fair = next_id(&mut tx, "job_fairs").await?;
    let days = (shape.years * 365) as u64;
    let mut hosts = Vec::with_capacity(shape.job_fairs as usize * 5 / 4);
    {
        let mut fairs = Writer::new(
            &mut tx,
            "job_fairs",
            &[
                "id",
                "report_id",
                "excerpt",
                "period_start",
                "period_end",
                "region_code",
                "organizers",
                "is_series",
                "held_on",
                "mode",
                "employers",
                "employers_q",
                "positions_offered",
                "positions_offered_q",
                "job_seekers",
                "job_seekers_q",
                "hires",
                "hires_q",
                "contested",
            ],
            &progress,
        );
        let modes = ["OFFLINE", "ONLINE", "HYBRID"];
        for i in 0..shape.job_fairs {
            let id = first_fair + i64::from(i);
            let county = rng.pick(&county_codes).clone();
            let day = NaiveDate::from_ymd_opt(shape.first_year, 1, 1).unwrap_or_default()
                + Duration::days(rng.below(days) as i64);
            let employers = rng.below(80) as i64 + 5;
            hosts.push((id, county.clone()));
            if rng.below(5) == 0 {
                let partner = rng.pick(&county_codes).clone();
                if partner != county {
                    hosts.push((id, partner));
                }
            }
            fairs
                .push(vec![
                    id.into(),
                    report_id.into(),
                    EXCERPT.into(),
                    day.into(),
                    day.into(),
                    county.into(),
                    "合成妇联".into(),
                    false.into(),
                    day.into(),
                    (*rng.pick(&modes)).into(),
                    employers.into(),
                    "EXACT".into(),
                    (employers * (rng.below(20) as i64 + 3)).into(),
                    "EXACT".into(),
                    (rng.below(2000) as i64 + 50).into(),
                    "EXACT".into(),
                    (rng.below(150) as i64).into(),
                    "EXACT".into(),
                    false.into(),
                ])
                .await?;
        }
        out.rows.push(fairs.finish().await?);
    }
    {
        let progress = indicatif::ProgressBar::hidden();
        let mut host_rows = Writer::new(&mut tx, "job_fair_hosts", &["job_fair_id", "region_code"], &progress);
        for (id, code) in hosts {
            host_rows.push(vec![id.into(), code.into()]).await?;
        }
        out.rows.push(host_rows.finish().await?);
    }

    // Resource libraries, their categories, grants and resources.
    let first_library = next_id(&mut tx, "resource_libraries").await?;
    let first_category = next_id(&mut tx, "library_categories").await?;
    const CATEGORIES: [&str; 4] = ["技能人才", "服务机构", "特色产品", "专家团队"];
    const VISIBILITIES: [Visibility; 3] = [Visibility::Public, Visibility::Partners, Visibility::Private];
    let mut library_regions = Vec::with_capacity(shape.libraries as usize);
    {
        let progress = indicatif::ProgressBar::hidden();
        let mut libraries = Writer::new(
            &mut tx,
            "resource_libraries",
            &[
                "id",
                "key",
                "name",
                "description",
                "owner_region",
                "owner_alliance",
                "visibility",
                "report_id",
                "excerpt",
            ],
            &progress,
        );
        for l in 0..shape.libraries {
            let p = l % shape.provinces;
            let by_alliance = !alliance_ids.is_empty() && l % 10 == 9;
            let (owner_region, owner_alliance, home) = if by_alliance {
                let a = (l / 10) as usize % alliance_ids.len();
                (None, Some(alliance_ids[a]), alliance_members[a][0].clone())
            } else if l % 2 == 0 {
                (Some(province_code(p)), None, province_code(p))
            } else {
                let m = (l / shape.provinces) % shape.prefectures_per_province;
                (Some(prefecture_code(p, m)), None, prefecture_code(p, m))
            };
            library_regions.push(home);
            libraries
                .push(vec![
                    (first_library + i64::from(l)).into(),
                    format!("syn-lib-{:03}", l + 1).into(),
                    format!("合成资源库{:03}", l + 1).into(),
                    "合成数据：人才、机构、产品与专家资源".into(),
                    owner_region.into(),
                    owner_alliance.into(),
                    VISIBILITIES[l as usize % 3].as_str().into(),
                    report_id.into(),
                    EXCERPT.into(),
                ])
                .await?;
        }
        out.rows.push(libraries.finish().await?);
        let mut categories = Writer::new(&mut tx, "library_categories", &["id", "library_id", "name"], &progress);
        for l in 0..shape.libraries {
            for (c, name) in CATEGORIES.iter().enumerate() {
                let id = first_category + i64::from(l) * CATEGORIES.len() as i64 + c as i64;
                categories.push(vec![id.into(), (first_library + i64::from(l)).into(), (*name).into()]).await?;
            }
        }
        out.rows.push(categories.finish().await?);
        let mut grants = Writer::new(
            &mut tx,
            "library_grants",
            &[
                "library_id",
                "grantee_region",
                "grantee_alliance",
                "permission",
                "granted_by",
                "granted_at",
                "expires_at",
                "revoked_at",
                "revoked_by",
            ],
            &progress,
        );
        for l in 0..shape.libraries {
            for g in 0..2u32 {
                let grantee = province_code((l + g + 1) % shape.provinces);
                let permission = if g == 0 { "READ" } else { "CONTRIBUTE" };
                let (expires, revoked) = match l % 7 {
                    5 => (Some("2023-12-31T00:00:00+00:00"), None),
                    6 if g == 1 => (None, Some("2024-06-01T00:00:00+00:00")),
                    _ => (None, None),
                };
                grants
                    .push(vec![
                        (first_library + i64::from(l)).into(),
                        grantee.into(),
                        Value::Null,
                        permission.into(),
                        "gen-data".into(),
                        "2023-01-01T00:00:00+00:00".into(),
                        expires.into(),
                        revoked.into(),
                        revoked.map(|_| "gen-data").into(),
                    ])
                    .await?;
            }
        }
        out.rows.push(grants.finish().await?);
    }
    {
        const KINDS: [ResourceKind; 6] = [
            ResourceKind::Expert,
            ResourceKind::Talent,
            ResourceKind::Enterprise,
            ResourceKind::Cooperative,
            ResourceKind::Product,
            ResourceKind::Service,
        ];
        let mut resources = Writer::new(
            &mut tx,
            "resources",
            &[
                "key",
                "library_id",
                "category_id",
                "kind",
                "name",
                "description",
                "tags",
                "region_code",
                "contact_name",
                "contact_phone",
                "report_id",
                "excerpt",
                "created_by",
                "updated_by",
            ],
            &progress,
        );
        for r in 0..shape.resources {
            let l = r % shape.libraries;
            let c = rng.below(CATEGORIES.len() as u64) as i64;
            let word = *rng.pick(&WORDS);
            let tag = *rng.pick(&WORDS);
            let home = &library_regions[l as usize];
            resources
                .push(vec![
                    format!("syn-res-{}", r + 1).into(),
                    (first_library + i64::from(l)).into(),
                    (first_category + i64::from(l) * CATEGORIES.len() as i64 + c).into(),
                    rng.pick(&KINDS).as_str().into(),
                    format!("合成{word}资源{}", r + 1).into(),
                    format!("合成数据：{word}，{}", CATEGORIES[c as usize]).into(),
                    format!("{word},{tag}").into(),
                    home.as_str().into(),
                    "合成联系人".into(),
                    format!("000-{:08}", r + 1).into(),
                    report_id.into(),
                    EXCERPT.into(),
                    "gen-data".into(),
                    "gen-data".into(),
                ])
                .await?;
        }
        out.rows.push(resources.finish().await?);
    }
    progress.set_message("marking competing figures");
    // The planner needs the new tables' statistics for the set-based passes below.
    tx.execute(&Sql::new("ANALYZE")).await?;
    crate::store::contested::recompute_all(&mut tx).await?;
    progress.set_message("committing");
    tx.commit().await?;
    progress.finish_and_clear();
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "synthetic data committed; analysing tables");
    store
        .analyze(&[
            "regions",
            "region_closure",
            "organizations",
            "case_statistics",
            "job_fairs",
            "job_fair_hosts",
            "resource_libraries",
            "library_categories",
            "library_grants",
            "resources",
        ])
        .await?;
    Ok(out)
}

fn month_start(first_year: i32, offset: i32) -> NaiveDate {
    let y = first_year + offset / 12;
    let m = (offset % 12) as u32 + 1;
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default()
}

fn month_end(start: NaiveDate) -> NaiveDate {
    let (y, m) = if start.month() == 12 { (start.year() + 1, 1) } else { (start.year(), start.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default() - Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_codes_are_region_codes_outside_gb_t_2260() {
        for code in [province_code(0), prefecture_code(33, 9), county_code(33, 9, 8), township_code("934109", 12)] {
            assert!(crate::domain::is_region_code(&code), "{code}");
            assert!(code.starts_with('9'), "{code}");
        }
        assert_eq!(county_code(0, 0, 0), "901011");
        assert_eq!(month_end(month_start(2020, 1)), NaiveDate::from_ymd_opt(2020, 2, 29).unwrap());
    }

    #[test]
    fn same_seed_same_numbers() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        let xs: Vec<u64> = (0..5).map(|_| a.below(1000)).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.below(1000)).collect();
        assert_eq!(xs, ys);
    }
}
