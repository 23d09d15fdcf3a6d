"""The report's inputs: the results DataFrame with configuration labels, and the per-cell records
(steps.jsonl, evals.jsonl, env.json, manifests) as long DataFrames.

A *configuration* is a cell's coordinates without the seed (data x device x precision x XLA x
batch size); the seeds of one configuration are its repeats. Labels name only the coordinates
that vary in the report, so panel titles stay short. Nothing here imports TensorFlow.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from bench import records, schema
from bench.results import COORDINATES, load_results

CONFIG_KEYS = tuple(k for k in COORDINATES if k != "seed")
# Throughput and compile-time plots draw one line per device x XLA x precision.
GROUP_KEYS = ("device", "xla", "precision")
NUMERIC_COLUMNS = ("seed", "batch_size", "steps", "compile_seconds", "wall_seconds",
                   "peak_memory_bytes", "retraces", "flops_per_image", "achieved_flops_per_sec",
                   "best_fid", "best_fid_step", "images_per_sec_median", "images_per_sec_p10",
                   "images_per_sec_p90")
ENV_KEYS = ("tensorflow", "keras", "python", "device", "device_model", "host_cpu", "hostname",
            "cuda_build", "cudnn_build")


def value_label(key, value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "?"
    if key == "xla":
        return "XLA on" if bool(value) else "XLA off"
    if key == "batch_size":
        return f"bs {int(value)}"
    return str(value)


def _labels(frame: pd.DataFrame, keys) -> pd.Series:
    varying = [k for k in keys if frame[k].astype(str).nunique(dropna=False) > 1] or list(keys)
    return frame.apply(lambda r: " · ".join(value_label(k, r[k]) for k in varying), axis=1)


def _sort_key(value):
    """Orders configurations: numbers numerically, missing values last."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return (2, 0, "")
    if isinstance(value, (bool, np.bool_)):
        return (0, int(value), "")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (0, float(value), "")
    return (1, 0, str(value))


def load_cells(paths) -> pd.DataFrame:
    """The results DataFrame plus `config`, `group` and `key` columns, in configuration order.

    Raises BenchError (from the loader) when the paths hold no run records.
    """
    cells = load_results(list(paths) if isinstance(paths, (list, tuple)) else [paths])
    # A cell reached twice (runs/<grid>/ holds <run-id>/ and the `latest` link to it) is one cell.
    resolved = cells["cell_dir"].map(lambda p: str(Path(p).resolve()))
    cells = cells[~resolved.duplicated()].reset_index(drop=True)
    for key in COORDINATES:
        if key not in cells:
            cells[key] = None
    # A column that is None in every cell (all failed, say) comes back as objects: make every
    # number a float, NaN where missing, so the tables and plots can rely on numeric columns.
    for col in NUMERIC_COLUMNS + tuple(f"final_{k}" for k in schema.SCALAR_METRICS
                                       if k != schema.COLLAPSED):
        cells[col] = pd.to_numeric(cells[col], errors="coerce") if col in cells else np.nan
    order = sorted(range(len(cells)), key=lambda i: [
        _sort_key(cells.iloc[i][k]) for k in COORDINATES] + [str(cells.iloc[i]["cell_id"])])
    cells = cells.iloc[order].reset_index(drop=True)
    cells["config"] = _labels(cells, CONFIG_KEYS)
    cells["group"] = _labels(cells, GROUP_KEYS)
    cells["key"] = [f"{i:02d}" for i in range(len(cells))]
    cells["seed_label"] = cells["seed"].map(lambda s: "seed ?" if pd.isna(s) else f"seed {int(s)}")
    cells["final_collapsed"] = cells["final_collapsed"].map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else bool(v))
    return cells


def config_order(cells: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(cells["config"]))


def constant_coordinates(cells: pd.DataFrame) -> dict:
    """Coordinates shared by every cell (left out of the labels, said once on the page)."""
    return {k: cells[k].iloc[0] for k in CONFIG_KEYS
            if cells[k].astype(str).nunique(dropna=False) == 1}


def _jsonl_frame(cells: pd.DataFrame, file_name: str) -> pd.DataFrame:
    frames = []
    for _, cell in cells.iterrows():
        rows = records.read_jsonl(Path(cell["cell_dir"]) / file_name)
        if rows:
            frame = pd.DataFrame(rows)
            for col in ("key", "config", "group", "seed", "seed_label", "status"):
                frame[col] = cell[col]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_steps(cells: pd.DataFrame) -> pd.DataFrame:
    """Every log window of every cell (steps.jsonl), with the cell's labels; empty if none."""
    steps = _jsonl_frame(cells, schema.STEPS_FILE)
    for key in schema.STEP_KEYS:
        if not steps.empty and key in steps:
            steps[key] = pd.to_numeric(steps[key], errors="coerce")
    return steps


def load_evals(cells: pd.DataFrame) -> pd.DataFrame:
    """Every periodic evaluation of every cell (evals.jsonl); empty if evaluation was off."""
    evals = _jsonl_frame(cells, schema.EVALS_FILE)
    for key in ("step",) + schema.SCALAR_METRICS:
        if not evals.empty and key in evals and key != schema.COLLAPSED:
            evals[key] = pd.to_numeric(evals[key], errors="coerce")
    return evals


def load_envs(cells: pd.DataFrame) -> pd.DataFrame:
    """env.json of every cell that has one, with the cell's XLA setting."""
    rows = []
    for _, cell in cells.iterrows():
        path = Path(cell["cell_dir"]) / schema.ENV_FILE
        if path.is_file():
            env = records.read_json_record(path)
            harness = env.get("harness") or {}
            rows.append({**{k: env.get(k) for k in ENV_KEYS},
                         "harness_commit": harness.get("commit"),
                         "harness_dirty": {True: "yes", False: "no"}.get(harness.get("dirty")),
                         "xla": cell["xla"]})
    return pd.DataFrame(rows)


def load_manifests(cells: pd.DataFrame) -> list[dict]:
    """The manifest of every grid the cells belong to (cells given alone have none)."""
    manifests = {}
    for _, cell in cells.iterrows():
        if cell["run"] is not None and not pd.isna(cell["run"]):
            run_dir = Path(cell["cell_dir"]).parent
            if run_dir not in manifests and (run_dir / schema.MANIFEST_FILE).is_file():
                manifests[run_dir] = records.read_json_record(run_dir / schema.MANIFEST_FILE)
    return list(manifests.values())
