-- Fast dashboards (issue 6). Kept in lock-step with ../sqlite/0006_aggregate_fast_path.sql.
--
-- 1. `contested`: whether a figure has a possible competitor under the aggregation rules
--    (store/aggregates.rs): another figure of the same thing, with an overlapping period, in
--    the same region or one above or below it (for job fairs also an alliance-level fair over
--    the alliance's members). Uncontested figures are always kept, so the aggregates sum them
--    directly and apply the rules only among contested ones. New rows start contested (always
--    correct); the write path clears the flag for rows that have no competitor.
-- 2. `data_version`: a counter bumped by every write that can change an aggregate, which
--    keys the aggregate cache of every replica.

ALTER TABLE case_statistics ADD COLUMN contested BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE job_fairs ADD COLUMN contested BOOLEAN NOT NULL DEFAULT TRUE;

UPDATE case_statistics SET contested = FALSE
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

UPDATE job_fairs SET contested = FALSE
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

CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_version AFTER INSERT OR UPDATE OR DELETE ON reports FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER case_statistics_version AFTER INSERT OR UPDATE OR DELETE ON case_statistics FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER job_fairs_version AFTER INSERT OR UPDATE OR DELETE ON job_fairs FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER organization_counts_version AFTER INSERT OR UPDATE OR DELETE ON organization_counts FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER metric_figures_version AFTER INSERT OR UPDATE OR DELETE ON metric_figures FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER alliance_members_version AFTER INSERT OR UPDATE OR DELETE ON alliance_members FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER alliances_version AFTER INSERT OR UPDATE OR DELETE ON alliances FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER region_closure_version AFTER INSERT OR UPDATE OR DELETE ON region_closure FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER resource_libraries_version AFTER INSERT OR UPDATE OR DELETE ON resource_libraries FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER library_grants_version AFTER INSERT OR UPDATE OR DELETE ON library_grants FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
