-- "Of which" subsets and their totals are decided by the rules (docs/aggregation.md §5.5: a
-- subset counts only where its total is not in the cell), so both go through them: marked
-- contested, as store::contested now marks them on every write.
UPDATE case_statistics SET contested = TRUE
WHERE NOT contested AND (part_of IS NOT NULL OR id IN (SELECT part_of FROM case_statistics WHERE part_of IS NOT NULL));
