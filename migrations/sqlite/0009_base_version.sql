-- See ../postgres/0009_base_version.sql: the base version, bumped only by writes that change
-- what the uncontested part of a summary reads (SQLite has row triggers, with WHEN); figures of
-- superseded revisions count nowhere and bump nothing.

ALTER TABLE data_version ADD COLUMN base_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER case_statistics_base_insert AFTER INSERT ON case_statistics WHEN NOT NEW.contested AND EXISTS (SELECT 1 FROM reports WHERE id = NEW.report_id AND superseded_by IS NULL) BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER case_statistics_base_update AFTER UPDATE ON case_statistics WHEN (NOT OLD.contested AND EXISTS (SELECT 1 FROM reports WHERE id = OLD.report_id AND superseded_by IS NULL)) OR (NOT NEW.contested AND EXISTS (SELECT 1 FROM reports WHERE id = NEW.report_id AND superseded_by IS NULL)) BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER case_statistics_base_delete AFTER DELETE ON case_statistics WHEN NOT OLD.contested AND EXISTS (SELECT 1 FROM reports WHERE id = OLD.report_id AND superseded_by IS NULL) BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER job_fairs_base_insert AFTER INSERT ON job_fairs WHEN NOT NEW.contested AND EXISTS (SELECT 1 FROM reports WHERE id = NEW.report_id AND superseded_by IS NULL) BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER job_fairs_base_update AFTER UPDATE ON job_fairs WHEN (NOT OLD.contested AND EXISTS (SELECT 1 FROM reports WHERE id = OLD.report_id AND superseded_by IS NULL)) OR (NOT NEW.contested AND EXISTS (SELECT 1 FROM reports WHERE id = NEW.report_id AND superseded_by IS NULL)) BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER job_fairs_base_delete AFTER DELETE ON job_fairs WHEN NOT OLD.contested AND EXISTS (SELECT 1 FROM reports WHERE id = OLD.report_id AND superseded_by IS NULL) BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER reports_base_update AFTER UPDATE ON reports WHEN EXISTS (SELECT 1 FROM case_statistics WHERE report_id = OLD.id AND NOT contested) OR EXISTS (SELECT 1 FROM job_fairs WHERE report_id = OLD.id AND NOT contested) BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER reports_base_delete AFTER DELETE ON reports WHEN EXISTS (SELECT 1 FROM case_statistics WHERE report_id = OLD.id AND NOT contested) OR EXISTS (SELECT 1 FROM job_fairs WHERE report_id = OLD.id AND NOT contested) BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER regions_base_insert AFTER INSERT ON regions BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER regions_base_update AFTER UPDATE ON regions BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER regions_base_delete AFTER DELETE ON regions BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER region_closure_base_insert AFTER INSERT ON region_closure BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER region_closure_base_update AFTER UPDATE ON region_closure BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER region_closure_base_delete AFTER DELETE ON region_closure BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER alliances_base_insert AFTER INSERT ON alliances BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER alliances_base_update AFTER UPDATE ON alliances BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER alliances_base_delete AFTER DELETE ON alliances BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER alliance_members_base_insert AFTER INSERT ON alliance_members BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER alliance_members_base_update AFTER UPDATE ON alliance_members BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;
CREATE TRIGGER alliance_members_base_delete AFTER DELETE ON alliance_members BEGIN UPDATE data_version SET base_version = base_version + 1 WHERE id = 1; END;

CREATE INDEX case_statistics_contested ON case_statistics (region_code, period_start) WHERE contested;
CREATE INDEX job_fairs_contested ON job_fairs (region_code, period_start) WHERE contested;
