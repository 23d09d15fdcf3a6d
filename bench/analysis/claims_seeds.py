"""The sample a claim is judged on: the seeds of a configuration, and those left out with why.

Seeds are the sample: a cell that failed, diverged or was skipped, or has no final evaluation, is
left out with its reason (for images_per_sec, every ok seed counts: throughput needs no
evaluation). Collapse is counted among seeds with recognisable samples (bench.outcome_rule): a
`not_converged` seed says nothing about collapse, and by default makes a collapse claim
inconclusive; `not_converged = "exclude"` leaves such seeds out, `"count_as_collapse"` counts
them. Every judge (bench.analysis.claims_intervals, bench.analysis.claims_pairwise) and the
planner (bench.analysis.claims_plan) take their seeds from here. Pure: the labelled cells frame
in; no TensorFlow.
"""

import numpy as np
import pandas as pd

from bench import schema
from bench.analysis.claims_spec import METRICS, selector_label
from bench.errors import BenchError
from bench.outcome_rule import OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE, OUTCOME_NOT_CONVERGED


def _matches(cells: pd.DataFrame, selector: dict) -> pd.Series:
    mask = pd.Series(True, index=cells.index)
    for key, value in selector.items():
        column = cells[key] if key in cells else pd.Series(None, index=cells.index)
        if isinstance(value, bool) or key == "xla":
            mask &= column.map(lambda v, want=value: v is not None and not pd.isna(v)
                               and bool(v) == bool(want))
        elif isinstance(value, (int, float)):
            mask &= pd.to_numeric(column, errors="coerce") == value
        else:
            mask &= column.astype(str) == str(value)
    return mask


def select_seeds(cells: pd.DataFrame, selector: dict, claim_name: str, field: str,
                 metric: str | None = None):
    """(seeds with a final evaluation, seeds left out with their reason) of one configuration;
    for images_per_sec, every ok seed (throughput needs no evaluation: a throughput part has
    none). BenchError when no cell matches: a claim about nothing is an error, never a pass."""
    matched = cells[_matches(cells, selector)]
    if matched.empty:
        raise BenchError(f"claim {claim_name!r}: {field} ({selector_label(selector)}) matches no "
                         "cell in the runs given")
    repeated = matched[matched["seed"].duplicated(keep=False)]
    if not repeated.empty:
        # a seed is one sample: two cells of one seed (two parts, two runs) would count it twice
        varying = [k for k in (schema.PART, *schema.CONFIG_COORDINATES)
                   if k in repeated and repeated[k].astype(str).nunique() > 1]
        runs = repeated.get("run", pd.Series(dtype=object)).dropna().astype(str)
        if runs.nunique() > 1:  # the same grid given twice: name the runs, not just the cells
            names = sorted(f"{r}/{c}" for r, c in zip(runs, repeated.loc[runs.index, "cell_id"]))
            hint = (f" (the runs {', '.join(sorted(runs.unique()))} hold the same seeds: judge "
                    "one run at a time, or give the seeds of each run different numbers)")
        else:
            names = sorted(repeated["cell_id"])
            hint = f" (add {' and '.join(f'{k} = ...' for k in varying)} to say which)" \
                if varying else ""
        raise BenchError(f"claim {claim_name!r}: {field} ({selector_label(selector)}) matches "
                         f"several cells of one seed: {', '.join(names)}{hint}")
    ok = matched["status"] == schema.STATUS_OK
    if metric != "images_per_sec":
        ok &= matched[schema.FINAL_N].notna()
    left_out = [{"seed": seed_of(r), "cell": r["cell_id"],
                 "reason": r["status"] if r["status"] != schema.STATUS_OK else
                 "no final evaluation"} for _, r in matched[~ok].iterrows()]
    return matched[ok], left_out


def seed_of(row):
    return int(row["seed"]) if not pd.isna(row["seed"]) else None


def seed_list(seeds: pd.DataFrame, metric=None) -> list[dict]:
    """Each seed used: its outcome and, for a metric claim, its value (what the report draws)."""
    column = METRICS[metric][0] if metric in METRICS else None
    return [{"seed": seed_of(r), "outcome": r[schema.FINAL_OUTCOME],
             **({"value": float(r[column])} if column and not pd.isna(r[column]) else {})}
            for _, r in seeds.iterrows()]


def metric_values(seeds, metric) -> np.ndarray:
    """The seeds' values of a claim's metric, those without one dropped."""
    return pd.to_numeric(seeds[METRICS[metric][0]], errors="coerce").dropna().to_numpy(float)


def collapse_counts(seeds: pd.DataFrame, policy: str):
    """(collapsed, judged, not-converged seeds) under a not_converged policy."""
    outcome = seeds[schema.FINAL_OUTCOME]
    not_converged = seeds[outcome == OUTCOME_NOT_CONVERGED]
    collapsed = int((outcome == OUTCOME_MODE_COLLAPSE).sum())
    judged = int(outcome.isin([OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE]).sum())
    if policy == "count_as_collapse":
        collapsed += len(not_converged)
    if policy in ("count_as_collapse", "count_as_not_collapsed"):
        judged += len(not_converged)
    return collapsed, judged, not_converged


def not_converged_note(not_converged, policy, left_out) -> str | None:
    """Not-converged seeds: listed as left out (exclude, appended to `left_out`) or said to
    decide nothing (the default policy: the note is why the claim is inconclusive)."""
    if policy == "exclude":
        left_out += [{"seed": seed_of(r), "cell": r["cell_id"],
                      "reason": "not converged (excluded)"} for _, r in not_converged.iterrows()]
    if policy == "inconclusive" and len(not_converged):
        return (f"{len(not_converged)} seed(s) did not converge (samples not yet digits): the "
                "budget was too short to tell collapse apart")
    return None
