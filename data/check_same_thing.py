#!/usr/bin/env python3
"""Check data/figures.json for "different things under one code" (docs/aggregation.md §2.3).

Within one report and one figure kind, two figures are the same thing when they have the same
scope, the same code (case statistic: category; organization count: organization_kind + sector;
metric: metric; job fair series: —), the same period (start, end), the same dimensions, the same
unit (metrics: the figure's `unit`, else the catalog unit) and the same `part_of` (both null, or
both subsets of the same total). Two such figures must state the same numbers: then they are one
statement made twice (RESTATEMENT). Different numbers mean different things, which must be told
apart by a dimension or a unit. Single job fairs (no `fairs` number) are events and exempt;
plan indicators are never summed and not checked.

Also checks the form of the two fields: dimension keys from the vocabulary of data/README.md,
values non-empty, no key twice; `basis` only on organization counts, value CREATED; `organizer`
only on job fairs, value joint; `unit` only on metric figures and case statistics, a unit code of data/metrics.json
(or times, cases, couples of §4), and different from the metric's catalog unit; on case
statistics, what received and resolved count where not cases.

Run from the repository root: python3 data/check_same_thing.py  (exit 1 on any violation);
with -v it also lists the restatements (same thing, same numbers), for review.
"""
import json
import sys
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parent
VERBOSE = "-v" in sys.argv[1:]

# The dimension vocabulary (data/README.md, "Dimensions and units").
KEYS = {"subject", "audience", "designation", "level", "court", "item", "plan", "basis", "organizer"}

NUMBERS = {
    "case_statistics": ("received", "resolved", "people_aided", "amount_aided"),
    "organization_counts": ("count",),
    "metrics": ("value",),
    "job_fairs": ("fairs", "employers", "positions_offered", "job_seekers", "intents", "hires"),
}


def code(kind, f):
    if kind == "case_statistics":
        return f["category"]
    if kind == "organization_counts":
        return (f["organization_kind"], f["sector"])
    if kind == "metrics":
        return f["metric"]
    return None


def canon(x):
    return json.dumps(x, ensure_ascii=False, sort_keys=True)


def main():
    figures = json.loads((DATA / "figures.json").read_text(encoding="utf-8"))
    catalog = {m["code"]: m["unit"] for m in json.loads((DATA / "metrics.json").read_text(encoding="utf-8"))}
    # The catalog's unit codes, plus the codes of docs/aggregation.md §4 the catalog has no metric
    # in (the catalog writes people for §4's persons and count for organizations).
    units = set(catalog.values()) | {"times", "cases", "couples"}
    problems = []

    for report in figures:
        key = report["report"]
        groups = defaultdict(list)
        for kind, items in report["figures"].items():
            for f in items:
                fid = f"{key} / {f['id']}"
                dims = f.get("dimensions") or []
                seen = set()
                for d in dims:
                    k, v = d.get("key"), d.get("value")
                    if set(d) != {"key", "value"} or k not in KEYS or not isinstance(v, str) or not v.strip():
                        problems.append(f"{fid}: bad dimension {canon(d)} (keys: {', '.join(sorted(KEYS))})")
                    if k in seen:
                        problems.append(f"{fid}: dimension key {k} given twice")
                    seen.add(k)
                    if k == "basis" and (kind != "organization_counts" or v != "CREATED"):
                        problems.append(f"{fid}: basis is only CREATED, on organization counts")
                    if k == "organizer" and (kind != "job_fairs" or v != "joint"):
                        problems.append(f"{fid}: organizer is only joint, on job fairs")
                if "unit" in f:
                    if kind not in ("metrics", "case_statistics"):
                        problems.append(f"{fid}: unit is only for metric figures and case statistics")
                    elif f["unit"] not in units:
                        problems.append(f"{fid}: unit {f['unit']} is no unit code (metrics.json, §4)")
                    elif kind == "metrics" and f["unit"] == catalog.get(f["metric"]):
                        problems.append(f"{fid}: unit {f['unit']} is the catalog unit of {f['metric']}; omit it")
                if kind not in NUMBERS:
                    continue
                if kind == "job_fairs" and f.get("fairs") is None:
                    continue  # a single fair is an event: exempt
                period = f.get("period") or {}
                if kind == "metrics":
                    unit = f.get("unit") or catalog.get(f["metric"])
                else:
                    unit = f.get("unit") or ("cases" if kind == "case_statistics" else None)
                thing = (
                    kind,
                    canon(f["scope"]),
                    canon(code(kind, f)),
                    period.get("start"),
                    period.get("end"),
                    canon(sorted((d.get("key"), d.get("value")) for d in dims)),
                    unit,
                    f.get("part_of"),
                )
                groups[thing].append(f)

        for thing, items in groups.items():
            values = defaultdict(list)
            for f in items:
                values[canon({n: f.get(n) for n in NUMBERS[thing[0]]})].append(f["id"])
            if VERBOSE and len(values) == 1 and len(items) > 1:
                print(f"{key}: restatement: {'/'.join(f['id'] for f in items)}")
            if len(values) > 1:
                kind, scope, c, start, end, dims, unit, part_of = thing
                problems.append(
                    f"{key}: {kind} {scope} {c} [{start}..{end}] dimensions {dims} unit {unit} "
                    f"part_of {part_of}: different values under one thing: "
                    + "; ".join(f"{'/'.join(ids)} = {v}" for v, ids in values.items())
                )

    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("ok: no different things under one code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
