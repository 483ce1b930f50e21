-- Region.jobFairs pages: the fairs a region holds and those it co-hosts, each in id order, so
-- a page of every region of a list stops after its first rows. Kept in lock-step with
-- ../sqlite/0007_region_fair_pages.sql.
CREATE INDEX job_fairs_region_id ON job_fairs (region_code, id);
CREATE INDEX job_fair_hosts_region_fair ON job_fair_hosts (region_code, job_fair_id);
