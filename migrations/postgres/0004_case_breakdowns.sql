-- "Of which" breakdowns of case statistics: a figure may be a subset of another (e.g. 368
-- legal consultations of 430 rights-protection services). Kept in lock-step with sqlite/.
ALTER TABLE case_statistics ADD COLUMN part_of BIGINT REFERENCES case_statistics (id);
