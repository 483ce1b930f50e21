-- Whole-response cache (issue 6, W1): every table a GraphQL query can read bumps the data
-- version, not only those behind aggregates, so a cached response keyed by the version is never
-- served after a write it does not show. The audit log is the exception: it is written on every
-- mutation attempt (refusals too) and is never served from the response cache.
-- Kept in lock-step with ../sqlite/0008_response_cache_versions.sql.
CREATE TRIGGER regions_version AFTER INSERT OR UPDATE OR DELETE ON regions FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER agreements_version AFTER INSERT OR UPDATE OR DELETE ON agreements FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER agreement_parties_version AFTER INSERT OR UPDATE OR DELETE ON agreement_parties FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER organizations_version AFTER INSERT OR UPDATE OR DELETE ON organizations FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER sources_version AFTER INSERT OR UPDATE OR DELETE ON sources FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER metrics_version AFTER INSERT OR UPDATE OR DELETE ON metrics FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER job_fair_hosts_version AFTER INSERT OR UPDATE OR DELETE ON job_fair_hosts FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER plan_indicators_version AFTER INSERT OR UPDATE OR DELETE ON plan_indicators FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER library_categories_version AFTER INSERT OR UPDATE OR DELETE ON library_categories FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
CREATE TRIGGER resources_version AFTER INSERT OR UPDATE OR DELETE ON resources FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();

-- The next grant expiry is read with the version on every cacheable request.
CREATE INDEX library_grants_expiry ON library_grants (expires_at) WHERE revoked_at IS NULL;
