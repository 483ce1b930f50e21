//! The domain's records and vocabularies, shared by the store (which fills them) and the
//! GraphQL layer (which shows them). Enums carry their GraphQL documentation here, once.

use chrono::NaiveDate;

/// A stored enum text that matched no variant.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} value {value:?}")]
pub struct UnknownVariant {
    /// The enum's name.
    pub kind: &'static str,
    /// The text that did not match.
    pub value: String,
}

/// Declares a vocabulary stored as text: its GraphQL enum, its serde form and its text mapping
/// all come from one list of variants.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Deserialize, serde::Serialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The text stored in the database and used in data files.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::model::UnknownVariant;
            fn from_str(value: &str) -> Result<Self, $crate::domain::model::UnknownVariant> {
                match value {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::domain::model::UnknownVariant { kind: stringify!($name), value: value.to_owned() }),
                }
            }
        }
    };
}

pub(crate) use vocabulary;

vocabulary! {
    /// The administrative level of a region.
    RegionLevel {
        /// Province-level division (省, 自治区, 直辖市, 特别行政区); GB/T 2260 code ending in 0000.
        Province = "PROVINCE",
        /// Prefecture-level division (地级市, 地区, 自治州, 盟); GB/T 2260 code ending in 00.
        Prefecture = "PREFECTURE",
        /// County-level division (区, 县, 县级市, 旗); a six-digit GB/T 2260 code.
        County = "COUNTY",
        /// Township-level division (街道, 镇, 乡); a stable slug under the county code.
        Township = "TOWNSHIP",
        /// Village-level unit (社区, 村).
        Village = "VILLAGE",
        /// A grid of community governance (网格).
        Grid = "GRID",
    }
}

vocabulary! {
    /// What kind of standing cooperation an alliance is.
    AllianceKind {
        /// Regions cooperating as peers, e.g. 通武廊 or 京津冀.
        RegionalCooperation = "REGIONAL_COOPERATION",
        /// One region supporting others (对口帮扶, 支援协作).
        PairingAssistance = "PAIRING_ASSISTANCE",
        /// Any other standing cooperation.
        Other = "OTHER",
    }
}

vocabulary! {
    /// What kind of body an organization is.
    OrganizationKind {
        /// A women's federation (妇联), territorial or sector-based.
        Federation = "FEDERATION",
        /// A women's committee (妇委会) of an enterprise or institution.
        WomensCommittee = "WOMENS_COMMITTEE",
        /// A women's home (妇女之家) or micro-home (妇女微家).
        WomensHome = "WOMENS_HOME",
        /// A service post or station (驿港湾, 巾帼志愿阳光站, mediation room, …).
        ServicePost = "SERVICE_POST",
        /// A studio or workshop (巧娘工作室, 共富工坊, …).
        Studio = "STUDIO",
        /// An association or league (协会, 联盟).
        Association = "ASSOCIATION",
        /// A cooperative (合作社).
        Cooperative = "COOPERATIVE",
        /// A company.
        Enterprise = "ENTERPRISE",
        /// A demonstration or practice base (示范基地, 实践基地).
        DemonstrationBase = "DEMONSTRATION_BASE",
        /// A government department or office.
        GovernmentBody = "GOVERNMENT_BODY",
        /// A Party committee or one of its departments.
        PartyBody = "PARTY_BODY",
        /// A court, procuratorate or public-security body.
        JudicialBody = "JUDICIAL_BODY",
        /// A school, college or training institution.
        School = "SCHOOL",
        /// A foundation or fund.
        Foundation = "FOUNDATION",
        /// Another social organization (trade union, youth league, NGO, …).
        SocialOrganization = "SOCIAL_ORGANIZATION",
        /// A volunteer or service team.
        VolunteerTeam = "VOLUNTEER_TEAM",
        /// None of the above.
        Other = "OTHER",
    }
}

vocabulary! {
    /// What an organization is organized around (for federations: territorial or which sector).
    OrganizationSector {
        /// A territorial unit: province, city, district, township, village or community.
        Territorial = "TERRITORIAL",
        /// An industry chain (产业链).
        IndustryChain = "INDUSTRY_CHAIN",
        /// An industry or trade (行业).
        Industry = "INDUSTRY",
        /// An industrial or business park (园区).
        Park = "PARK",
        /// A business district (商圈).
        BusinessDistrict = "BUSINESS_DISTRICT",
        /// A market (市场).
        Market = "MARKET",
        /// An apartment complex, e.g. talent apartments (人才公寓).
        Apartment = "APARTMENT",
        /// Government and Party organs (机关).
        Organ = "ORGAN",
        /// An enterprise.
        Enterprise = "ENTERPRISE",
        /// New forms of employment: couriers, delivery riders, ride-hailing drivers (新业态新就业).
        NewEmployment = "NEW_EMPLOYMENT",
        /// Social organizations (社会组织).
        SocialOrganization = "SOCIAL_ORGANIZATION",
        /// Agriculture and rural life.
        Rural = "RURAL",
        /// Community life and services.
        Community = "COMMUNITY",
    }
}

vocabulary! {
    /// How exact a reported number is, as the report states it.
    Qualifier {
        /// The number as stated, without qualification.
        Exact = "EXACT",
        /// "More than" the number (余, 多, 超过, 以上): a lower bound.
        AtLeast = "AT_LEAST",
        /// "Nearly" or "about" the number (近, 约, 左右).
        Approximate = "APPROXIMATE",
    }
}

vocabulary! {
    /// How much of a date is known.
    DatePrecision {
        /// The exact day is known.
        Day = "DAY",
        /// Only the month is known; the date is the first of that month.
        Month = "MONTH",
        /// Only the year is known; the date is January 1st of that year.
        Year = "YEAR",
    }
}

vocabulary! {
    /// The kind of record a source excerpt is attached to.
    SubjectType {
        /// A region.
        Region = "REGION",
        /// An alliance.
        Alliance = "ALLIANCE",
        /// An alliance's agreement.
        Agreement = "AGREEMENT",
        /// An organization.
        Organization = "ORGANIZATION",
    }
}

/// An administrative division.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<String>,
}

/// A standing cooperation between regions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alliance {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub kind: AllianceKind,
    pub description: Option<String>,
}

/// An agreement signed within an alliance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    pub id: i64,
    pub alliance_id: i64,
    pub title: String,
    pub signed_on: Option<NaiveDate>,
}

/// A number as a report states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportedCount {
    pub value: i64,
    pub qualifier: Qualifier,
}

/// A date known to a given precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartialDate {
    pub date: NaiveDate,
    pub precision: DatePrecision,
}

/// A federation or a body it founds, serves through or works with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: OrganizationKind,
    pub sector: Option<OrganizationSector>,
    pub region_code: Option<String>,
    pub parent_id: Option<i64>,
    pub founded: Option<PartialDate>,
    pub members: Option<ReportedCount>,
    pub executives: Option<ReportedCount>,
}

/// One published or submitted report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub publisher: Option<String>,
    pub published_on: Option<NaiveDate>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period_note: Option<String>,
    pub source_file: Option<String>,
    pub region_code: Option<String>,
    /// 1 for the first submission of a report key, then 2, 3 … for each changed re-submission.
    pub revision: i64,
    /// The revision that replaced this one; `None` for the current revision.
    pub superseded_by: Option<i64>,
}

/// Where a record came from: a report and the excerpt of it that names or states the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub report_id: i64,
    pub excerpt: String,
}

/// What a record's provenance is looked up by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Subject {
    pub kind: SubjectType,
    /// Region code, or the decimal id of an alliance, agreement or organization.
    pub key: String,
}

impl PartialDate {
    /// The first day of the period the precision allows (the date itself for `DAY`).
    pub fn precision_start(self) -> NaiveDate {
        use chrono::Datelike;
        match self.precision {
            DatePrecision::Day => self.date,
            DatePrecision::Month => self.date.with_day(1).unwrap_or(self.date),
            DatePrecision::Year => NaiveDate::from_ymd_opt(self.date.year(), 1, 1).unwrap_or(self.date),
        }
    }
}
