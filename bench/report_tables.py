"""The report's tables, pure functions of the cell DataFrame (bench.report_data.load_cells).

Only cells with status "ok" enter the statistics: a diverged, failed or skipped cell's numbers
are incomplete. The cell table lists every cell with its status and reason.
"""

import json

import numpy as np
import pandas as pd

from bench import schema

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95

CELL_COLUMNS = {
    "data": "data", "device": "device", "precision": "precision", "xla": "xla",
    "batch_size": "batch size", "seed": "seed", "status": "status", "reason": "reason",
    "steps": "steps", "images_per_sec_median": "images/s median",
    "images_per_sec_p10": "images/s p10", "images_per_sec_p90": "images/s p90",
    "compile_seconds": "compile s", "wall_seconds": "wall s", "peak_memory_mib": "peak memory MiB",
    "final_n": "final n", "final_fid": "FID", "final_kid": "KID",
    "final_classifier_score": "classifier score", "final_classes_covered": "classes covered",
    "final_coverage": "coverage", "final_collapsed": "collapsed",
}


def _on_off(value) -> str:
    return "on" if value is True or value == 1 else "off" if value is False or value == 0 else "?"


def ok_cells(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[cells["status"] == schema.STATUS_OK]


def status_counts(cells: pd.DataFrame) -> dict:
    """Cells per status, in the order of schema.STATUSES, then any other status."""
    counts = cells["status"].fillna("missing").astype(str).value_counts()
    order = [s for s in schema.STATUSES if s in counts] + sorted(
        s for s in counts.index if s not in schema.STATUSES)
    return {s: int(counts[s]) for s in order}


def cell_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Every cell: coordinates, status and reason, throughput, compile time, final metrics."""
    table = cells.copy()
    table["peak_memory_mib"] = pd.to_numeric(table["peak_memory_bytes"], errors="coerce") / 2**20
    table["xla"] = table["xla"].map(_on_off)
    return table[list(CELL_COLUMNS)].rename(columns=CELL_COLUMNS)


def ratio_of_medians_ci(on, off, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED,
                        confidence=CONFIDENCE):
    """median(on) / median(off) and a percentile bootstrap interval from resampling seeds.

    Each side's seeds are resampled with replacement, independently (a seed's XLA-on and XLA-off
    cells are different runs, not pairs). With two or three seeds per side the interval can take
    only a handful of values: a rough range, not a precise one.
    """
    on, off = np.asarray(on, float), np.asarray(off, float)
    rng = np.random.default_rng(seed)
    boot_on = np.median(on[rng.integers(0, len(on), (resamples, len(on)))], axis=1)
    boot_off = np.median(off[rng.integers(0, len(off), (resamples, len(off)))], axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(boot_on / boot_off, [tail, 100 - tail])
    return float(np.median(on) / np.median(off)), float(low), float(high)


def xla_speedup(cells: pd.DataFrame, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED):
    """Per data x device x precision x batch size with ok cells both ways: the XLA speedup.

    speedup = median over seeds of XLA-on per-cell median images/s, divided by the same with XLA
    off; above 1 means XLA is faster. ci_low/ci_high: a 95% bootstrap interval (see
    ratio_of_medians_ci), NaN where a side has a single seed.
    """
    ok = ok_cells(cells).dropna(subset=["images_per_sec_median"])
    rows = []
    keys = ["data", "device", "precision", "batch_size"]
    for values, group in ok.groupby(keys, sort=True, dropna=False):
        on = group[group["xla"] == True]["images_per_sec_median"]  # noqa: E712 (object column)
        off = group[group["xla"] == False]["images_per_sec_median"]  # noqa: E712
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
    the lowest p10 and highest p90 across seeds, the number of seeds."""
    ok = ok_cells(cells).dropna(subset=["images_per_sec_median"])
    table = ok.groupby(["group", "batch_size"], sort=False).agg(
        median=("images_per_sec_median", "median"), p10=("images_per_sec_p10", "min"),
        p90=("images_per_sec_p90", "max"), seeds=("images_per_sec_median", "size"),
        compile_seconds=("compile_seconds", "median"))
    return table.reset_index()


def final_metrics(cells: pd.DataFrame) -> pd.DataFrame:
    """The final evaluation of every ok cell that has one."""
    cols = ["config", "seed", "final_n", "final_fid", "final_kid", "final_classifier_score",
            "final_classes_covered", "final_max_class_fraction", "final_confident_fraction",
            "final_precision",
            "final_recall", "final_density", "final_coverage", "final_collapsed"]
    return ok_cells(cells).dropna(subset=["final_fid"])[cols].reset_index(drop=True)


def collapsed_seeds(cells: pd.DataFrame) -> pd.DataFrame:
    """Ok cells whose final evaluation says collapsed (few classes covered or one dominates).

    Untrained garbage covers no class and so counts as collapsed too; a low confident share
    (samples the classifier is sure of) tells garbage from a generator stuck on a few digits.
    """
    final = final_metrics(cells)
    collapsed = final[final["final_collapsed"] == True]  # noqa: E712 (object column)
    return collapsed[["config", "seed", "final_classes_covered", "final_max_class_fraction",
                      "final_confident_fraction", "final_fid"]].rename(columns={
        "final_classes_covered": "classes covered", "final_max_class_fraction":
        "largest class share", "final_confident_fraction": "confident share",
        "final_fid": "FID"}).reset_index(drop=True)


def class_histograms(cells: pd.DataFrame) -> pd.DataFrame:
    """Long table: config, seed, class, count, fraction of the final evaluation's samples."""
    rows = []
    for _, cell in ok_cells(cells).iterrows():
        hist = cell[f"final_{schema.CLASS_HISTOGRAM}"]
        if isinstance(hist, str) and hist:
            counts = json.loads(hist)
            total = sum(counts) or 1
            rows += [{"config": cell["config"], "seed": cell["seed"], "collapsed":
                      cell["final_collapsed"], "class": c, "count": n, "fraction": n / total}
                     for c, n in enumerate(counts)]
    return pd.DataFrame(rows, columns=["config", "seed", "collapsed", "class", "count",
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
