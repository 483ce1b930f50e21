-- What tells apart figures filed under one code (docs/aggregation.md §2.3): dimensions in the
-- report's own words, sorted by key, as JSON text ('' for none); and a metric figure's own
-- unit where it is not the catalog's (§4: figures in different units are never added).
ALTER TABLE case_statistics ADD COLUMN dimensions TEXT NOT NULL DEFAULT '';
ALTER TABLE job_fairs ADD COLUMN dimensions TEXT NOT NULL DEFAULT '';
ALTER TABLE organization_counts ADD COLUMN dimensions TEXT NOT NULL DEFAULT '';
ALTER TABLE metric_figures ADD COLUMN dimensions TEXT NOT NULL DEFAULT '';
ALTER TABLE metric_figures ADD COLUMN unit TEXT;
ALTER TABLE plan_indicators ADD COLUMN dimensions TEXT NOT NULL DEFAULT '';
-- A case statistic's count unit (cases, person_times, times, couples, people …); null: cases.
ALTER TABLE case_statistics ADD COLUMN unit TEXT;
-- The qualifier of a stated rate ("调解率达98%以上": 98 AT_LEAST) and of a plan's number of areas.
ALTER TABLE case_statistics ADD COLUMN reported_rate_q TEXT;
ALTER TABLE plan_indicators ADD COLUMN areas_q TEXT;
