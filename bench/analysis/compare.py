"""Is the candidate run slower or worse than the baseline? Verdicts between two runs of one spec.

Cells are matched by part and coordinates; a configuration is those without the seed, and its
seeds are its repeats.

- Throughput (bench.analysis.throughput): the run is the unit; the ratio of the configurations'
  medians of cell medians with a two-stage bootstrap interval, judged against a margin that is at
  least the night-to-night noise measured on real A/A nights.
- Quality (bench.analysis.quality): final FID, classifier score and collapse across seeds, their
  own family at alpha 0.05, decided exactly, with effect sizes and intervals beside every p.
- Numerics: with the same framework version, device and machine, a seed repeats its final metrics
  exactly on these machines; any difference is listed per cell as `numerics changed`.
- Cells missing from one run or not ok in either are listed, never dropped; a cell ok in the
  baseline and failing in the candidate is a regression.

A slide over many nights, and a regression carried from night to night, are the history's
business (bench.analysis.nights): this module compares two runs. Pure functions of `Run`s
(bench.analysis.runs): no files, no TensorFlow.
"""

import math

import pandas as pd

from bench import schema
from bench.analysis import machines as machine_scope
from bench.analysis.cells import results_to_cells
from bench.analysis.quality import ALPHA, quality_verdicts
from bench.analysis.runs import Run
from bench.analysis.throughput import MARGIN, throughput_verdicts
from bench.errors import BenchError
from bench.schema import VERDICT_INCONCLUSIVE, VERDICT_OK, VERDICT_REGRESSION

# Final metrics a repeated seed must reproduce exactly (same framework version, same device).
REPEATED_METRICS = tuple(schema.final_column(m.key) for m in schema.metrics_with(schema.REPEATED))
FAILING = (schema.STATUS_FAILED, schema.STATUS_DIVERGED, schema.STATUS_INTERRUPTED,
           schema.STATUS_MISSING, schema.STATUS_UNREADABLE)


# ---------------------------------------------------------------- two runs

def check_comparable(baseline: Run, candidate: Run, pairs: pd.DataFrame):
    """BenchError naming every reason the two runs' numbers do not compare (`pairs`: their
    matched_pairs)."""
    problems = []
    if baseline.info.get("spec_sha256") != candidate.info.get("spec_sha256"):
        problems.append(f"different grid specs: baseline {baseline.info.get('spec_name')!r} "
                        f"(spec sha256 {str(baseline.info.get('spec_sha256'))[:12]}), candidate "
                        f"{candidate.info.get('spec_name')!r} "
                        f"({str(candidate.info.get('spec_sha256'))[:12]})")
    instruments = [sorted(set(r.results.get(schema.CLASSIFIER_SHA256, pd.Series()).dropna()))
                   for r in (baseline, candidate)]
    if instruments[0] != instruments[1]:
        problems.append(f"different instruments (classifier sha256): baseline "
                        f"{[h[:12] for h in instruments[0]]}, candidate "
                        f"{[h[:12] for h in instruments[1]]}")
    final_n = pairs.dropna(subset=[f"{schema.FINAL_N}_b", f"{schema.FINAL_N}_c"])
    final_n = final_n[final_n[f"{schema.FINAL_N}_b"] != final_n[f"{schema.FINAL_N}_c"]]
    if not final_n.empty:
        row = final_n.iloc[0]
        problems.append(f"different final_n: {len(final_n)} cell(s), e.g. {row['cell_id_c']}: "
                        f"baseline {int(row[f'{schema.FINAL_N}_b'])}, candidate "
                        f"{int(row[f'{schema.FINAL_N}_c'])}")
    if problems:
        raise BenchError(f"runs {baseline.id} and {candidate.id} do not compare: "
                         + "; ".join(problems))


def _key_text(value) -> str:
    """A coordinate as text that does not depend on its column's dtype: a run with one cell
    missing has its whole seed column read as float (0.0), the other run's as int (0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "None"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _keyed(run: Run, side: str) -> pd.DataFrame:
    frame = run.results.copy()
    for key in schema.CELL_KEY:
        if key not in frame:
            frame[key] = None
    for key, default in schema.COORDINATE_DEFAULTS.items():
        frame[key] = frame[key].where(frame[key].notna(), default)
    frame["_key"] = [tuple(_key_text(v) for v in row)
                     for row in frame[list(schema.CELL_KEY)].itertuples(index=False)]
    frame["_side"] = side
    return frame


def matched_pairs(baseline: Run, candidate: Run) -> pd.DataFrame:
    """One row per cell key in either run: the baseline's columns suffixed _b, the candidate's _c,
    `config` (the configuration label) and `matched` (present in both)."""
    both = pd.concat([_keyed(baseline, "b"), _keyed(candidate, "c")], ignore_index=True)
    labelled = results_to_cells(both.drop(columns=[c for c in ("config",) if c in both]))
    # results_to_cells sorts the cells: carry each label back by key
    config_of = dict(zip(labelled["_key"], labelled["config"]))
    b, c = (both[both["_side"] == s].set_index("_key") for s in ("b", "c"))
    pairs = b.join(c, how="outer", lsuffix="_b", rsuffix="_c")
    pairs["config"] = [config_of[k] for k in pairs.index]
    pairs["matched"] = pairs["cell_id_b"].notna() & pairs["cell_id_c"].notna()
    pairs["cell_id"] = pairs["cell_id_c"].fillna(pairs["cell_id_b"])
    order = list(dict.fromkeys(labelled["_key"]))
    return pairs.loc[order].reset_index(drop=True)


def numerics(baseline: Run, candidate: Run, pairs: pd.DataFrame, same_machine=True) -> dict:
    """Whether each seed repeated its final metrics, where it is expected to (same framework
    version, device and machine; the framework itself is a coordinate of the pairing):
    `expected`, `why`, and `changes` (cell, metric, baseline, candidate)."""
    both_ok = pairs[pairs["matched"] & (pairs["status_b"] == schema.STATUS_OK)
                    & (pairs["status_c"] == schema.STATUS_OK)
                    & pairs[f"{schema.FINAL_N}_b"].notna() & pairs[f"{schema.FINAL_N}_c"].notna()]
    environments = {side: sorted({(str(t), str(d)) for t, d in zip(
        both_ok.get(f"{schema.FRAMEWORK_VERSION}_{side}", []),
        both_ok.get(f"device_model_{side}", []))}) for side in ("b", "c")}
    if both_ok.empty:
        return {"expected": False, "why": "no cell has a final evaluation in both runs",
                "changes": [], "cells": 0}
    if environments["b"] != environments["c"]:
        return {"expected": False, "changes": [], "cells": len(both_ok),
                "why": f"the framework's version or the device differs (baseline "
                       f"{environments['b']}, candidate {environments['c']}): final metrics are "
                       "not expected to repeat"}
    if not same_machine:
        return {"expected": False, "changes": [], "cells": len(both_ok),
                "why": "the machines differ (another instruction set rounds differently): final "
                       "metrics are not expected to repeat"}
    changes = []
    for _, row in both_ok.iterrows():
        for column in REPEATED_METRICS:
            b, c = row.get(f"{column}_b"), row.get(f"{column}_c")
            if not (pd.isna(b) and pd.isna(c)) and b != c:
                changes.append({"cell": row["cell_id"], "metric": column, "baseline": b,
                                "candidate": c})
    return {"expected": True, "changes": changes, "cells": len(both_ok),
            "why": "same framework version and device: each seed is expected to repeat its final "
                   "metrics exactly"}


def cells_not_compared(pairs: pd.DataFrame) -> list[dict]:
    """Every cell missing from one run or not ok in either, with what it means; none dropped."""
    out = []
    for _, row in pairs.iterrows():
        b = row["status_b"] if isinstance(row["status_b"], str) else None
        c = row["status_c"] if isinstance(row["status_c"], str) else None
        if b == c == schema.STATUS_OK:
            continue
        if b is None or c is None:
            note = "only in the candidate" if b is None else "only in the baseline"
        elif b == schema.STATUS_OK and c in FAILING:
            note = "newly failing"
        elif c == schema.STATUS_OK and b in FAILING:
            note = "fixed"
        else:
            note = "not ok in both" if b != schema.STATUS_OK and c != schema.STATUS_OK else \
                "not run in one"
        out.append({"cell": row["cell_id"], "baseline": b or "absent",
                    "candidate": c or "absent", "note": note,
                    "reason": row.get("reason_c") if isinstance(row.get("reason_c"), str)
                    else row.get("reason_b") if isinstance(row.get("reason_b"), str) else None})
    return out


def compare_runs(baseline: Run, candidate: Run, *, alpha=ALPHA, margin=MARGIN, noise=None,
                 scope=machine_scope.SAME_MACHINE) -> dict:
    """The whole comparison: throughput and quality verdicts, numerics, the cells not compared,
    and one `verdict` (`regression` or `ok`) with its `reasons`. `alpha`: the quality family's
    level; `margin`: throughput's least slowdown; `noise`: configuration -> (night noise, its
    source), from the history. BenchError when the runs do not compare, runs from different
    machines included unless `scope` is ACROSS_MACHINES (throughput compared anyway, and said)
    or QUALITY_ONLY (throughput left out)."""
    pairs = matched_pairs(baseline, candidate)
    check_comparable(baseline, candidate, pairs)
    machines = machine_scope.machine_check(baseline, candidate, pairs)
    if not machines["same"] and scope == machine_scope.SAME_MACHINE:
        machine_scope.refuse_across_machines(baseline, candidate, machines)
    result = {"baseline": baseline.id, "candidate": candidate.id, "alpha": alpha,
              "margin": margin, "scope": scope, "machines": machines,
              "throughput": throughput_verdicts(baseline, candidate, pairs, margin, noise)
              if scope != machine_scope.QUALITY_ONLY else [],
              "quality": quality_verdicts(pairs, alpha),
              "numerics": numerics(baseline, candidate, pairs, machines["same"]),
              "cells_not_compared": cells_not_compared(pairs)}
    result["verdict"], result["reasons"] = overall_verdict(result)
    return result


def overall_verdict(result: dict) -> tuple[str, list[str]]:
    reasons = [f"throughput {t['config']}: {t['ratio']:.3f}x [{t['ci_low']:.3f}, "
               f"{t['ci_high']:.3f}], beyond the {t['threshold']:.0%} threshold"
               for t in result["throughput"] if t["verdict"] == VERDICT_REGRESSION]
    reasons += [f"{t['metric']} {t['config']}: worse, p {t['p']:.2g} < {t['alpha_each']:.2g}"
                f" ({t['effect']})" for t in result["quality"]
                if t["verdict"] == VERDICT_REGRESSION]
    reasons += [f"cell {c['cell']} newly failing ({c['candidate']})"
                for c in result["cells_not_compared"] if c["note"] == "newly failing"]
    if reasons:
        return VERDICT_REGRESSION, reasons
    # nothing found, but a throughput test that could not be judged is said, not passed
    contended = [f"throughput {t['config']}: inconclusive ({t['why']})"
                 for t in result["throughput"] if t["verdict"] == VERDICT_INCONCLUSIVE]
    return (VERDICT_INCONCLUSIVE, contended) if contended else (VERDICT_OK, [])
