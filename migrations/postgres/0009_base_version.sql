-- Dashboards under writes (issue 6, W2 while W5 writes): the uncontested part of a summary is
-- kept per `base_version`, a second counter that only writes changing what that part reads
-- bump: uncontested figures (inserted, changed, deleted, or their flag turned either way),
-- reports that have uncontested figures (their revision status), and the scope tables
-- (regions, closure, alliances and their members). Figures of superseded revisions count
-- nowhere, so changes to them bump nothing (a report turning current again would, through
-- the reports trigger). Writes of contested figures only — a
-- correction restating figures that compete anyway — leave it, so a summary after them
-- re-runs the rules over the few contested figures and reuses the rest.
-- Kept in lock-step with ../sqlite/0009_base_version.sql.

ALTER TABLE data_version ADD COLUMN base_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_base_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_version SET base_version = base_version + 1 WHERE id = 1;
    RETURN NULL;
END $$;

-- Statement triggers over the transition tables: one check per statement, however many rows
-- (a bulk recompute of the flags is one statement). Each check is its own IF, so an INSERT
-- never plans a query over the old rows it does not have (nor a DELETE over new ones).
CREATE FUNCTION bump_base_if_uncontested_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM old_rows o JOIN reports r ON r.id = o.report_id WHERE NOT o.contested AND r.superseded_by IS NULL) THEN
            UPDATE data_version SET base_version = base_version + 1 WHERE id = 1;
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM new_rows n JOIN reports r ON r.id = n.report_id WHERE NOT n.contested AND r.superseded_by IS NULL) THEN
            UPDATE data_version SET base_version = base_version + 1 WHERE id = 1;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER case_statistics_base_insert AFTER INSERT ON case_statistics REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_base_if_uncontested_changed();
CREATE TRIGGER case_statistics_base_update AFTER UPDATE ON case_statistics REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_base_if_uncontested_changed();
CREATE TRIGGER case_statistics_base_delete AFTER DELETE ON case_statistics REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_base_if_uncontested_changed();
CREATE TRIGGER job_fairs_base_insert AFTER INSERT ON job_fairs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_base_if_uncontested_changed();
CREATE TRIGGER job_fairs_base_update AFTER UPDATE ON job_fairs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_base_if_uncontested_changed();
CREATE TRIGGER job_fairs_base_delete AFTER DELETE ON job_fairs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_base_if_uncontested_changed();

-- A report's revision status decides whether its figures count.
CREATE FUNCTION bump_base_if_report_has_uncontested() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM case_statistics WHERE report_id = OLD.id AND NOT contested)
       OR EXISTS (SELECT 1 FROM job_fairs WHERE report_id = OLD.id AND NOT contested) THEN
        UPDATE data_version SET base_version = base_version + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reports_base AFTER UPDATE OR DELETE ON reports FOR EACH ROW EXECUTE FUNCTION bump_base_if_report_has_uncontested();

CREATE TRIGGER regions_base AFTER INSERT OR UPDATE OR DELETE ON regions FOR EACH STATEMENT EXECUTE FUNCTION bump_base_version();
CREATE TRIGGER region_closure_base AFTER INSERT OR UPDATE OR DELETE ON region_closure FOR EACH STATEMENT EXECUTE FUNCTION bump_base_version();
CREATE TRIGGER alliances_base AFTER INSERT OR UPDATE OR DELETE ON alliances FOR EACH STATEMENT EXECUTE FUNCTION bump_base_version();
CREATE TRIGGER alliance_members_base AFTER INSERT OR UPDATE OR DELETE ON alliance_members FOR EACH STATEMENT EXECUTE FUNCTION bump_base_version();

-- The contested part reads only contested figures.
CREATE INDEX case_statistics_contested ON case_statistics (region_code, period_start) WHERE contested;
CREATE INDEX job_fairs_contested ON job_fairs (region_code, period_start) WHERE contested;
