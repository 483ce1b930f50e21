-- Figures: what reports state, typed where the mission names a type, metric-coded otherwise.
-- Report revisions: a changed re-submission of the same report key is a new revision that
-- supersedes the old one (the old one stays queryable; aggregates read current revisions only).
-- Kept in lock-step with ../postgres/0003_figures.sql.

ALTER TABLE reports ADD COLUMN report_key TEXT;
ALTER TABLE reports ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE reports ADD COLUMN superseded_by INTEGER REFERENCES reports (id);
ALTER TABLE reports ADD COLUMN content_hash TEXT;
UPDATE reports SET report_key = key;
CREATE UNIQUE INDEX reports_revision ON reports (report_key, revision);
CREATE INDEX reports_current ON reports (report_key) WHERE superseded_by IS NULL;

-- The catalog of generic metrics: what each code means, its unit, flow or stock.
CREATE TABLE metrics (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    unit         TEXT NOT NULL,
    nature       TEXT NOT NULL CHECK (nature IN ('FLOW', 'STOCK')),
    description  TEXT,
    created_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Columns every figure has: report, excerpt, period, scope (region or alliance), note.
CREATE TABLE job_fairs (
    id                      INTEGER PRIMARY KEY,
    report_id               INTEGER NOT NULL REFERENCES reports (id),
    excerpt                 TEXT NOT NULL,
    period_start            DATE,
    period_end              DATE,
    period_note             TEXT,
    region_code             TEXT REFERENCES regions (code),
    alliance_id             INTEGER REFERENCES alliances (id),
    organization_id         INTEGER REFERENCES organizations (id),
    note                    TEXT,
    organizers              TEXT,
    is_series               INTEGER NOT NULL DEFAULT 0,
    held_on                 DATE,
    mode                    TEXT CHECK (mode IN ('ONLINE', 'OFFLINE', 'HYBRID')),
    fairs                   INTEGER, fairs_q TEXT,
    employers               INTEGER, employers_q TEXT,
    positions_offered       INTEGER, positions_offered_q TEXT,
    job_seekers             INTEGER, job_seekers_q TEXT,
    intents                 INTEGER, intents_q TEXT,
    hires                   INTEGER, hires_q TEXT,
    created_at              TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (region_code IS NOT NULL OR alliance_id IS NOT NULL OR organization_id IS NOT NULL)
);
CREATE INDEX job_fairs_report ON job_fairs (report_id);
CREATE INDEX job_fairs_region ON job_fairs (region_code, period_start);
CREATE INDEX job_fairs_alliance ON job_fairs (alliance_id, period_start);

CREATE TABLE job_fair_hosts (
    job_fair_id  INTEGER NOT NULL REFERENCES job_fairs (id),
    region_code  TEXT NOT NULL REFERENCES regions (code),
    PRIMARY KEY (job_fair_id, region_code)
);
CREATE INDEX job_fair_hosts_region ON job_fair_hosts (region_code);

CREATE TABLE case_statistics (
    id                INTEGER PRIMARY KEY,
    report_id         INTEGER NOT NULL REFERENCES reports (id),
    excerpt           TEXT NOT NULL,
    period_start      DATE NOT NULL,
    period_end        DATE NOT NULL,
    period_note       TEXT,
    region_code       TEXT NOT NULL REFERENCES regions (code),
    organization_id   INTEGER REFERENCES organizations (id),
    note              TEXT,
    category          TEXT NOT NULL,
    cumulative        INTEGER NOT NULL DEFAULT 0,
    received          INTEGER, received_q TEXT,
    resolved          INTEGER, resolved_q TEXT,
    people_aided      INTEGER, people_aided_q TEXT,
    amount_aided      DOUBLE PRECISION, amount_aided_q TEXT,
    reported_rate     DOUBLE PRECISION,
    created_at        TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (period_end >= period_start)
);
CREATE INDEX case_statistics_report ON case_statistics (report_id);
CREATE INDEX case_statistics_region ON case_statistics (region_code, category, period_start);

CREATE TABLE organization_counts (
    id                 INTEGER PRIMARY KEY,
    report_id          INTEGER NOT NULL REFERENCES reports (id),
    excerpt            TEXT NOT NULL,
    period_start       DATE,
    period_end         DATE,
    period_note        TEXT,
    region_code        TEXT REFERENCES regions (code),
    alliance_id        INTEGER REFERENCES alliances (id),
    organization_id    INTEGER REFERENCES organizations (id),
    note               TEXT,
    organization_kind  TEXT NOT NULL,
    sector             TEXT,
    label              TEXT NOT NULL,
    count              INTEGER NOT NULL, count_q TEXT NOT NULL,
    part_of            INTEGER REFERENCES organization_counts (id),
    created_at         TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX organization_counts_report ON organization_counts (report_id);
CREATE INDEX organization_counts_region ON organization_counts (region_code, organization_kind);

CREATE TABLE plan_indicators (
    id            INTEGER PRIMARY KEY,
    report_id     INTEGER NOT NULL REFERENCES reports (id),
    excerpt       TEXT NOT NULL,
    period_start  DATE,
    period_end    DATE,
    period_note   TEXT,
    region_code   TEXT REFERENCES regions (code),
    alliance_id   INTEGER REFERENCES alliances (id),
    organization_id INTEGER REFERENCES organizations (id),
    note          TEXT,
    plan          TEXT NOT NULL,
    areas         INTEGER,
    total         INTEGER NOT NULL, total_q TEXT NOT NULL,
    met           INTEGER NOT NULL, met_q TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX plan_indicators_report ON plan_indicators (report_id);

CREATE TABLE metric_figures (
    id            INTEGER PRIMARY KEY,
    report_id     INTEGER NOT NULL REFERENCES reports (id),
    excerpt       TEXT NOT NULL,
    period_start  DATE,
    period_end    DATE,
    period_note   TEXT,
    region_code   TEXT REFERENCES regions (code),
    alliance_id   INTEGER REFERENCES alliances (id),
    organization_id INTEGER REFERENCES organizations (id),
    note          TEXT,
    metric        TEXT NOT NULL REFERENCES metrics (code),
    value         DOUBLE PRECISION NOT NULL, value_q TEXT NOT NULL,
    cumulative    INTEGER NOT NULL DEFAULT 0,
    part_of       INTEGER REFERENCES metric_figures (id),
    created_at    TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX metric_figures_report ON metric_figures (report_id);
CREATE INDEX metric_figures_metric ON metric_figures (metric, region_code, period_start);
