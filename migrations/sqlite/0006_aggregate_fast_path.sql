-- Fast dashboards (issue 6). Kept in lock-step with ../postgres/0006_aggregate_fast_path.sql.
--
-- 1. `contested`: whether a figure has a possible competitor under the aggregation rules
--    (store/aggregates.rs): another figure of the same thing, with an overlapping period, in
--    the same region or one above or below it (for job fairs also an alliance-level fair over
--    the alliance's members). Uncontested figures are always kept, so the aggregates sum them
--    directly and apply the rules only among contested ones. New rows start contested (always
--    correct); the write path clears the flag for rows that have no competitor.
-- 2. `data_version`: a counter bumped by every write that can change an aggregate, which
--    keys the aggregate cache of every replica.

ALTER TABLE case_statistics ADD COLUMN contested INTEGER NOT NULL DEFAULT 1;
ALTER TABLE job_fairs ADD COLUMN contested INTEGER NOT NULL DEFAULT 1;

UPDATE case_statistics SET contested = 0
WHERE NOT EXISTS (
        SELECT 1 FROM region_closure rc JOIN case_statistics g ON g.region_code = rc.ancestor
        WHERE rc.descendant = case_statistics.region_code AND g.id <> case_statistics.id
          AND g.category = case_statistics.category
          AND g.period_start <= case_statistics.period_end AND case_statistics.period_start <= g.period_end)
  AND NOT EXISTS (
        SELECT 1 FROM region_closure rc JOIN case_statistics g ON g.region_code = rc.descendant
        WHERE rc.ancestor = case_statistics.region_code AND g.id <> case_statistics.id
          AND g.category = case_statistics.category
          AND g.period_start <= case_statistics.period_end AND case_statistics.period_start <= g.period_end);

UPDATE job_fairs SET contested = 0
WHERE region_code IS NOT NULL AND alliance_id IS NULL
  AND NOT EXISTS (
        SELECT 1 FROM region_closure rc JOIN job_fairs g ON g.region_code = rc.ancestor
        WHERE rc.descendant = job_fairs.region_code AND g.id <> job_fairs.id
          AND COALESCE(g.period_start, g.period_end) <= COALESCE(job_fairs.period_end, job_fairs.period_start)
          AND COALESCE(job_fairs.period_start, job_fairs.period_end) <= COALESCE(g.period_end, g.period_start))
  AND NOT EXISTS (
        SELECT 1 FROM region_closure rc JOIN job_fairs g ON g.region_code = rc.descendant
        WHERE rc.ancestor = job_fairs.region_code AND g.id <> job_fairs.id
          AND COALESCE(g.period_start, g.period_end) <= COALESCE(job_fairs.period_end, job_fairs.period_start)
          AND COALESCE(job_fairs.period_start, job_fairs.period_end) <= COALESCE(g.period_end, g.period_start))
  AND NOT EXISTS (
        SELECT 1 FROM job_fairs g JOIN alliance_members am ON am.alliance_id = g.alliance_id
        JOIN region_closure rc ON rc.ancestor = am.region_code
        WHERE rc.descendant = job_fairs.region_code AND g.id <> job_fairs.id
          AND COALESCE(g.period_start, g.period_end) <= COALESCE(job_fairs.period_end, job_fairs.period_start)
          AND COALESCE(job_fairs.period_start, job_fairs.period_end) <= COALESCE(g.period_end, g.period_start));

-- Dashboards select a region subtree and a window: the period index serves both.
CREATE INDEX case_statistics_region_period ON case_statistics (region_code, period_start);

CREATE TABLE data_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);

-- Every write that can change an aggregate bumps the version (SQLite has row triggers only).
CREATE TRIGGER reports_version_insert AFTER INSERT ON reports BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER reports_version_update AFTER UPDATE ON reports BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER reports_version_delete AFTER DELETE ON reports BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER case_statistics_version_insert AFTER INSERT ON case_statistics BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER case_statistics_version_update AFTER UPDATE ON case_statistics BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER case_statistics_version_delete AFTER DELETE ON case_statistics BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER job_fairs_version_insert AFTER INSERT ON job_fairs BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER job_fairs_version_update AFTER UPDATE ON job_fairs BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER job_fairs_version_delete AFTER DELETE ON job_fairs BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER organization_counts_version_insert AFTER INSERT ON organization_counts BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER organization_counts_version_update AFTER UPDATE ON organization_counts BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER organization_counts_version_delete AFTER DELETE ON organization_counts BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER metric_figures_version_insert AFTER INSERT ON metric_figures BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER metric_figures_version_update AFTER UPDATE ON metric_figures BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER metric_figures_version_delete AFTER DELETE ON metric_figures BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER alliance_members_version_insert AFTER INSERT ON alliance_members BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER alliance_members_version_update AFTER UPDATE ON alliance_members BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER alliance_members_version_delete AFTER DELETE ON alliance_members BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER alliances_version_insert AFTER INSERT ON alliances BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER alliances_version_update AFTER UPDATE ON alliances BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER alliances_version_delete AFTER DELETE ON alliances BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER region_closure_version_insert AFTER INSERT ON region_closure BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER region_closure_version_update AFTER UPDATE ON region_closure BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER region_closure_version_delete AFTER DELETE ON region_closure BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resource_libraries_version_insert AFTER INSERT ON resource_libraries BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resource_libraries_version_update AFTER UPDATE ON resource_libraries BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resource_libraries_version_delete AFTER DELETE ON resource_libraries BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER library_grants_version_insert AFTER INSERT ON library_grants BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER library_grants_version_update AFTER UPDATE ON library_grants BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER library_grants_version_delete AFTER DELETE ON library_grants BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
