"""The report's tables, pure functions of the cell DataFrame (bench.analysis.cells.load_cells).

Only cells with status "ok" enter the statistics: a diverged, failed or skipped cell's numbers
are incomplete. The cell table lists every cell with its status and reason.
"""

import json

import numpy as np
import pandas as pd

from bench import schema
from bench.analysis import outcomes
from bench.analysis.cells import ok_cells
from bench.analysis.results import peak_memory_mib
from bench.analysis.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, ratio_of_medians_ci
from bench.outcome_rule import OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE, OUTCOME_NOT_CONVERGED

CELL_COLUMNS = {
    "run": "run", "part": "part", schema.FRAMEWORK: "framework", schema.MODEL: "model",
    schema.PACKING_M: "packing", schema.D_WIDTH: "D width", schema.PROGRAM: "program",
    "data": "data", "device": "device",
    "precision": "precision",
    schema.PRECISION_SUPPORT: "precision ran", "tf32": "TF32", "xla": "xla",
    "batch_size": "batch size", "seed": "seed", schema.MACHINE_FINGERPRINT: "machine",
    "status": "status", "reason": "reason",
    "steps": "steps", schema.IMAGES_PER_SEC_MEDIAN: "images/s median",
    schema.IMAGES_PER_SEC_P10: "images/s p10", schema.IMAGES_PER_SEC_P90: "images/s p90",
    schema.IMAGES_PER_SEC_OVERALL: "images/s overall", "first_batch_seconds": "first batch s",
    "compile_seconds": "compile s", "wall_seconds": "wall s", "retraces": "retraces",
    "mfu": "MFU", "mfu_unpadded": "MFU unpadded",
    **{schema.final_column(m.key): m.label for m in schema.metrics_with(schema.TABLE)},
    "best_fid": "best FID", "best_fid_n": "best FID n",
    "best_fid_step": "best FID step", schema.CLASSIFIER_SHA256: "instrument",
    schema.WARNINGS_COUNT: "warnings", schema.WARNINGS: "warning text",
}
OUTCOME_NAMES = {OUTCOME_DIGITS: "digits", OUTCOME_MODE_COLLAPSE: "mode collapse",
                 OUTCOME_NOT_CONVERGED: "not converged",
                 outcomes.NO_OUTCOME: "no outcome (not ok or not evaluated)"}


def _on_off(value) -> str:
    return "on" if value is True or value == 1 else "off" if value is False or value == 0 else "?"


def status_counts(cells: pd.DataFrame) -> dict:
    """Cells per status, in the order of schema.STATUSES, then any other status."""
    counts = cells["status"].fillna(schema.STATUS_MISSING).astype(str).value_counts()
    order = [s for s in schema.STATUSES if s in counts] + sorted(
        s for s in counts.index if s not in schema.STATUSES)
    return {s: int(counts[s]) for s in order}


def cell_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Every cell: coordinates, status and reason, throughput, compile time, final metrics."""
    table = cells.copy()
    table["xla"] = table["xla"].map(_on_off)
    table[schema.CLASSIFIER_SHA256] = table[schema.CLASSIFIER_SHA256].map(
        lambda h: h[:12] if isinstance(h, str) else None)
    optional = ("part", "tf32", *map(schema.final_column, schema.STACKED_METRICS))
    # coordinates most runs hold at one value: a column only where cells differ in them (one
    # value is said once on the page, bench.report.sections.overview)
    when_varied = ("run", schema.FRAMEWORK, schema.MODEL, schema.PACKING_M, schema.D_WIDTH,
                   schema.PROGRAM)
    columns = [c for c in CELL_COLUMNS if c in table
               and (c not in optional or table[c].notna().any())
               and (c not in when_varied or table[c].astype(str).nunique() > 1)]
    shown = table[columns].rename(columns=CELL_COLUMNS)
    memory = peak_memory_mib(cells)
    at = shown.columns.get_loc("wall s") + 1
    for offset, name in enumerate(memory.columns):
        shown.insert(at + offset, name, memory[name])
    return shown


def xla_speedup(cells: pd.DataFrame, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED):
    """Per data x device x precision x batch size with ok cells both ways: the XLA speedup.

    speedup = median over seeds of XLA-on per-cell median images/s, divided by the same with XLA
    off; above 1 means XLA is faster. ci_low/ci_high: a 95% bootstrap interval (see
    ratio_of_medians_ci), NaN where a side has a single seed.
    """
    ok = ok_cells(cells).dropna(subset=[schema.IMAGES_PER_SEC_MEDIAN])
    rows = []
    # XLA is what is compared; TF32 and the framework only where a cell sets them
    keys = [k for k in schema.CONFIG_COORDINATES if k != "xla" and (
        k not in ("tf32", *schema.COORDINATE_DEFAULTS) or
        (k in ok and (ok[k].notna() & (ok[k] != schema.COORDINATE_DEFAULTS.get(k))).any()))]
    for values, group in ok.groupby(keys, sort=True, dropna=False):
        on = group[group["xla"] == True][schema.IMAGES_PER_SEC_MEDIAN]  # noqa: E712 (object column)
        off = group[group["xla"] == False][schema.IMAGES_PER_SEC_MEDIAN]  # noqa: E712
        if len(on) and len(off):
            ratio, low, high = ratio_of_medians_ci(on, off, resamples, seed)
            if min(len(on), len(off)) < 2:  # one seed: resampling it says nothing
                low = high = float("nan")
            rows.append({**dict(zip(keys, values)), "seeds_off": len(off), "seeds_on": len(on),
                         "median_off": float(np.median(off)), "median_on": float(np.median(on)),
                         "speedup": ratio, "ci_low": low, "ci_high": high})
    columns = keys + ["seeds_off", "seeds_on", "median_off", "median_on", "speedup", "ci_low",
                      "ci_high"]
    return pd.DataFrame(rows, columns=columns)


def throughput(cells: pd.DataFrame) -> pd.DataFrame:
    """Per device x XLA x precision (group) and batch size: median of the cells' median images/s,
    the lowest p10 and highest p90 across seeds, the number of seeds. Cells whose log windows
    differ in length (parts with different log_every) are never pooled: a short window ends in a
    host sync more often, and on an asynchronous device that costs throughput, so each part is
    then its own group."""
    ok = ok_cells(cells).dropna(subset=[schema.IMAGES_PER_SEC_MEDIAN]).copy()
    if "log_every" in ok and ok["log_every"].nunique() > 1:
        ok["group"] = [f"{g} · {part} part ({int(w)}-step windows)" for g, part, w in
                       zip(ok["group"], ok["part"], ok["log_every"])]
    table = ok.groupby(["group", "batch_size"], sort=False).agg(
        median=(schema.IMAGES_PER_SEC_MEDIAN, "median"), p10=(schema.IMAGES_PER_SEC_P10, "min"),
        p90=(schema.IMAGES_PER_SEC_P90, "max"), seeds=(schema.IMAGES_PER_SEC_MEDIAN, "size"),
        compile_seconds=("compile_seconds", "median"),
        **({"mfu": ("mfu", "median")} if "mfu" in ok else {}))
    return table.reset_index()


def seed_outcomes(cells: pd.DataFrame) -> pd.DataFrame:
    """Seeds per outcome and configuration (bench.analysis.outcomes), named for people."""
    return outcomes.seed_outcomes(cells).rename(columns=OUTCOME_NAMES)


def class_histograms(cells: pd.DataFrame) -> pd.DataFrame:
    """Long table: config, seed, class, count, fraction of the final evaluation's samples."""
    rows = []
    for _, cell in ok_cells(cells).iterrows():
        hist = cell[schema.FINAL_CLASS_HISTOGRAM]
        if isinstance(hist, str) and hist:
            counts = json.loads(hist)
            total = sum(counts) or 1
            rows += [{"config": cell["config"], "seed": cell["seed"], "outcome":
                      cell[schema.FINAL_OUTCOME], "class": c, "count": n, "fraction": n / total}
                     for c, n in enumerate(counts)]
    return pd.DataFrame(rows, columns=["config", "seed", "outcome", "class", "count",
                                       "fraction"])


def environment(envs: pd.DataFrame) -> pd.DataFrame:
    """Distinct environments, with the XLA settings run in each and how many cells."""
    if envs.empty:
        return envs
    keys = [c for c in envs.columns if c != "xla"]
    text = envs.copy()
    for k in keys:  # plain strings, "" for missing: groupby would drop rows with a missing key
        text[k] = [("" if v is None or v != v else str(v)) for v in envs[k]]
    table = text.groupby(keys, sort=False, dropna=False).agg(
        xla=("xla", lambda s: ", ".join(sorted({_on_off(x) for x in s}))),
        cells=("xla", "size"))
    return table.reset_index()
