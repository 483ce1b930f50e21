-- Whole-response cache (issue 6, W1): every table a GraphQL query can read bumps the data
-- version (see ../postgres/0008_response_cache_versions.sql). SQLite has row triggers only.
CREATE TRIGGER regions_version_insert AFTER INSERT ON regions BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER regions_version_update AFTER UPDATE ON regions BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER regions_version_delete AFTER DELETE ON regions BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER agreements_version_insert AFTER INSERT ON agreements BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER agreements_version_update AFTER UPDATE ON agreements BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER agreements_version_delete AFTER DELETE ON agreements BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER agreement_parties_version_insert AFTER INSERT ON agreement_parties BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER agreement_parties_version_update AFTER UPDATE ON agreement_parties BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER agreement_parties_version_delete AFTER DELETE ON agreement_parties BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER organizations_version_insert AFTER INSERT ON organizations BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER organizations_version_update AFTER UPDATE ON organizations BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER organizations_version_delete AFTER DELETE ON organizations BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER sources_version_insert AFTER INSERT ON sources BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER sources_version_update AFTER UPDATE ON sources BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER sources_version_delete AFTER DELETE ON sources BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER metrics_version_insert AFTER INSERT ON metrics BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER metrics_version_update AFTER UPDATE ON metrics BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER metrics_version_delete AFTER DELETE ON metrics BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER job_fair_hosts_version_insert AFTER INSERT ON job_fair_hosts BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER job_fair_hosts_version_update AFTER UPDATE ON job_fair_hosts BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER job_fair_hosts_version_delete AFTER DELETE ON job_fair_hosts BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER plan_indicators_version_insert AFTER INSERT ON plan_indicators BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER plan_indicators_version_update AFTER UPDATE ON plan_indicators BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER plan_indicators_version_delete AFTER DELETE ON plan_indicators BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER library_categories_version_insert AFTER INSERT ON library_categories BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER library_categories_version_update AFTER UPDATE ON library_categories BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER library_categories_version_delete AFTER DELETE ON library_categories BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resources_version_insert AFTER INSERT ON resources BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resources_version_update AFTER UPDATE ON resources BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resources_version_delete AFTER DELETE ON resources BEGIN UPDATE data_version SET version = version + 1 WHERE id = 1; END;

-- The next grant expiry is read with the version on every cacheable request.
CREATE INDEX library_grants_expiry ON library_grants (expires_at) WHERE revoked_at IS NULL;
