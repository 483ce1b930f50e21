-- Per-unit statements ("每年…3000吨", "年均发放助学金30万元"; docs/aggregation.md §2.4): the
-- calendar unit a value is stated for (YEAR, QUARTER, MONTH) and how it holds for each unit
-- (EACH, AVERAGE). Summaries count such a figure once per unit of its period.
ALTER TABLE case_statistics ADD COLUMN per TEXT;
ALTER TABLE case_statistics ADD COLUMN spread TEXT;
ALTER TABLE metric_figures ADD COLUMN per TEXT;
ALTER TABLE metric_figures ADD COLUMN spread TEXT;
