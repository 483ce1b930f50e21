-- Foundation: reports and their provenance, the region hierarchy, alliances, organizations.
-- Kept in lock-step with ../postgres/0001_foundation.sql (a test compares the versions).

CREATE TABLE regions (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('PROVINCE', 'PREFECTURE', 'COUNTY', 'TOWNSHIP', 'VILLAGE', 'GRID')),
    parent_code  TEXT REFERENCES regions (code),
    created_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX regions_parent ON regions (parent_code, code);
CREATE INDEX regions_level ON regions (level, code);

-- Every (ancestor, descendant) pair including each region with itself at distance 0.
CREATE TABLE region_closure (
    ancestor    TEXT NOT NULL REFERENCES regions (code),
    descendant  TEXT NOT NULL REFERENCES regions (code),
    distance    INTEGER NOT NULL,
    PRIMARY KEY (ancestor, descendant)
);
CREATE INDEX region_closure_descendant ON region_closure (descendant, distance);

CREATE TABLE reports (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    publisher     TEXT,
    published_on  DATE,
    period_start  DATE,
    period_end    DATE,
    period_note   TEXT,
    source_file   TEXT,
    region_code   TEXT REFERENCES regions (code),
    created_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (period_end IS NULL OR period_start IS NULL OR period_end >= period_start)
);

CREATE TABLE alliances (
    id           INTEGER PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('REGIONAL_COOPERATION', 'PAIRING_ASSISTANCE', 'OTHER')),
    description  TEXT,
    created_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE alliance_members (
    alliance_id  INTEGER NOT NULL REFERENCES alliances (id),
    region_code  TEXT NOT NULL REFERENCES regions (code),
    created_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (alliance_id, region_code)
);
CREATE INDEX alliance_members_region ON alliance_members (region_code);

CREATE TABLE agreements (
    id           INTEGER PRIMARY KEY,
    alliance_id  INTEGER NOT NULL REFERENCES alliances (id),
    title        TEXT NOT NULL,
    signed_on    DATE,
    created_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (alliance_id, title)
);

CREATE TABLE agreement_parties (
    agreement_id  INTEGER NOT NULL REFERENCES agreements (id),
    region_code   TEXT NOT NULL REFERENCES regions (code),
    PRIMARY KEY (agreement_id, region_code)
);

CREATE TABLE organizations (
    id                         INTEGER PRIMARY KEY,
    key                        TEXT NOT NULL UNIQUE,
    name                       TEXT NOT NULL,
    short_name                 TEXT,
    kind                       TEXT NOT NULL,
    sector                     TEXT,
    region_code                TEXT REFERENCES regions (code),
    parent_id                  INTEGER REFERENCES organizations (id),
    founded_on                 DATE,
    founded_precision          TEXT CHECK (founded_precision IN ('DAY', 'MONTH', 'YEAR')),
    member_count               INTEGER CHECK (member_count >= 0),
    member_count_qualifier     TEXT CHECK (member_count_qualifier IN ('EXACT', 'AT_LEAST', 'APPROXIMATE')),
    executive_count            INTEGER CHECK (executive_count >= 0),
    executive_count_qualifier  TEXT CHECK (executive_count_qualifier IN ('EXACT', 'AT_LEAST', 'APPROXIMATE')),
    created_at                 TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at                 TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK ((founded_on IS NULL) = (founded_precision IS NULL))
);
CREATE INDEX organizations_region ON organizations (region_code, id);
CREATE INDEX organizations_parent ON organizations (parent_id, id);
CREATE INDEX organizations_kind ON organizations (kind, id);

-- Where a record came from: the report and the verbatim excerpt that names or states it.
CREATE TABLE sources (
    id            INTEGER PRIMARY KEY,
    subject_type  TEXT NOT NULL CHECK (subject_type IN ('REGION', 'ALLIANCE', 'AGREEMENT', 'ORGANIZATION')),
    subject_key   TEXT NOT NULL,
    report_id     INTEGER NOT NULL REFERENCES reports (id),
    excerpt       TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (subject_type, subject_key, report_id, excerpt)
);
CREATE INDEX sources_report ON sources (report_id);
