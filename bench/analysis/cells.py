"""The results DataFrame made ready for comparison: configuration labels, numbers, one order.

A *configuration* is a cell's coordinates without the seed (data x device x precision x XLA x
batch size); the seeds of one configuration are its repeats. Labels name only the coordinates
that vary among the cells at hand, so panel titles and table rows stay short.
"""

import numpy as np
import pandas as pd

from bench import frameworks, protocols, schema
from bench.analysis.results import load_results
from bench.schema import CONFIG_COORDINATES, COORDINATES, PART

# Throughput and compile-time plots draw one line per device x XLA x precision.
GROUP_KEYS = ("device", "xla", "precision")
NUMERIC_COLUMNS = ("seed", "batch_size", "steps", "first_batch_seconds", "compile_seconds",
                   "wall_seconds", schema.PEAK_MEMORY_TRAIN_BYTES, schema.PEAK_MEMORY_PROCESS_BYTES,
                   "retraces", "flops_per_image", "flops_per_image_unpadded",
                   "achieved_flops_per_sec", "peak_flops_per_sec", "mfu", "mfu_unpadded",
                   "best_fid",
                   "best_fid_step", "best_fid_n", schema.WARNINGS_COUNT,
                   *schema.IMAGES_PER_SEC_COLUMNS, *schema.CONTENTION_COLUMNS)
# Numbers from different instruments or sample counts do not compare: when the cells at hand
# differ in either, it becomes part of the configuration label.
MEASUREMENT_KEYS = (schema.FINAL_N, schema.CLASSIFIER_SHA256)
# A grid's parts (bench.grid.spec) train the same coordinates to different budgets: a part is part
# of the configuration whenever the cells at hand come from more than one (schema.PART).


def stable_label(row, suffix: str = "") -> str:
    """A configuration's name that does not depend on which cells are at hand (labels from
    `results_to_cells` name only what varies): part · data · device · precision · XLA · batch,
    TF32 where set. `suffix`: the columns' suffix in a frame of matched pairs (_b, _c)."""
    def shown(key):
        value = row.get(f"{key}{suffix}")
        return not _missing(value) and value != schema.COORDINATE_DEFAULTS.get(key)

    keys = [k for k in (PART, *CONFIG_COORDINATES) if shown(k)]
    return " · ".join(value_label(k, row.get(f"{k}{suffix}")) for k in keys)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def value_label(key, value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "?"
    if key == "xla":
        return "XLA on" if bool(value) else "XLA off"
    if key == "tf32":
        return "TF32 on" if bool(value) else "TF32 off"
    if key == schema.FRAMEWORK:
        return frameworks.label(value)
    if key == schema.MODEL:
        return protocols.model_label(value)
    if key == schema.PACKING_M:
        return f"packed {int(value)}"
    if key == schema.D_WIDTH:
        return f"D width {float(value):g}"
    if key == schema.PROGRAM:
        return f"{value} program"
    if key == "batch_size":
        return f"bs {int(value)}"
    if key == PART:
        return f"{value} part"
    if key == schema.FINAL_N:
        return f"final n {int(value)}"
    if key == schema.CLASSIFIER_SHA256:
        return f"instrument {str(value)[:8]}"
    return str(value)


def _labels(frame: pd.DataFrame, keys, extra=()) -> pd.Series:
    """Labels from the coordinates that vary (all of `keys` if none does), then the `extra` keys
    that vary among cells that have a value for them."""
    varying = [k for k in keys if frame[k].astype(str).nunique(dropna=False) > 1]
    varying += [k for k in extra if frame[k].dropna().astype(str).nunique() > 1]
    # one configuration: name it in full, leaving out what no cell has (TF32 on a CPU)
    varying = varying or [k for k in keys if frame[k].notna().any()]
    return frame.apply(lambda r: " · ".join(value_label(k, r[k]) for k in varying), axis=1)


def measurement_groups(cells: pd.DataFrame) -> list[tuple]:
    """The distinct (final n, instrument hash) pairs among evaluated cells; more than one means
    the quality numbers fall into groups that must not be compared with each other."""
    evaluated = cells.dropna(subset=[schema.FINAL_N])
    return sorted({(int(n), str(h)) for n, h in zip(evaluated[schema.FINAL_N],
                                                     evaluated[schema.CLASSIFIER_SHA256])})


def _sort_key(value):
    """Orders configurations: numbers numerically, missing values last."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return (2, 0, "")
    if isinstance(value, (bool, np.bool_)):
        return (0, int(value), "")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (0, float(value), "")
    return (1, 0, str(value))


def ok_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells whose numbers are complete: a diverged, failed or skipped cell's are not."""
    return cells[cells["status"] == schema.STATUS_OK]


def load_cells(paths) -> pd.DataFrame:
    """The results DataFrame plus `config`, `group` and `key` columns, in configuration order.

    Raises BenchError (from the loader) when the paths hold no run records.
    """
    return results_to_cells(load_results(list(paths) if isinstance(paths, (list, tuple)) else [paths]))


def results_to_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """load_cells' frame from a results frame (from run directories or the history)."""
    cells = cells.copy()
    for key in (PART, *COORDINATES):
        if key not in cells:
            cells[key] = None
    for key, default in schema.COORDINATE_DEFAULTS.items():
        cells[key] = cells[key].where(cells[key].notna(), default)
    # A column that is None in every cell (all failed, say) comes back as objects: make every
    # number a float, NaN where missing, so the tables and plots can rely on numeric columns.
    for col in NUMERIC_COLUMNS + tuple(schema.final_column(k) for k in schema.SCALAR_METRICS
                                       if k not in schema.NON_NUMERIC_METRICS):
        cells[col] = pd.to_numeric(cells[col], errors="coerce") if col in cells else np.nan
    order = sorted(range(len(cells)), key=lambda i: [
        _sort_key(cells.iloc[i][k]) for k in (PART, *COORDINATES)] + [str(cells.iloc[i]["cell_id"])])
    cells = cells.iloc[order].reset_index(drop=True)
    for key in (PART, *MEASUREMENT_KEYS):
        if key not in cells:
            cells[key] = None
    cells["config"] = _labels(cells, CONFIG_COORDINATES, extra=(PART, *MEASUREMENT_KEYS))
    cells["group"] = _labels(cells, GROUP_KEYS)
    cells["key"] = [f"{i:02d}" for i in range(len(cells))]
    cells["seed_label"] = cells["seed"].map(lambda s: "seed ?" if pd.isna(s) else f"seed {int(s)}")
    cells[schema.FINAL_OUTCOME] = cells[schema.FINAL_OUTCOME].map(
        lambda v: v if isinstance(v, str) else None)
    return cells


def config_order(cells: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(cells["config"]))


def constant_coordinates(cells: pd.DataFrame) -> dict:
    """Coordinates shared by every cell (left out of the labels, said once on the page)."""
    return {k: cells[k].iloc[0] for k in CONFIG_COORDINATES
            if cells[k].astype(str).nunique(dropna=False) == 1 and not _missing(cells[k].iloc[0])
            and cells[k].iloc[0] != schema.COORDINATE_DEFAULTS.get(k)}
