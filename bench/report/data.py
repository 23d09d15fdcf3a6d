"""The report's per-cell inputs beyond the results table: steps.jsonl, evals.jsonl, modes.jsonl,
env.json and the grid manifests, as long DataFrames labelled like the cells (bench.analysis.cells).
Nothing here imports TensorFlow.
"""

from pathlib import Path

import pandas as pd

from bench import frameworks, rundirs, schema

# What the environment table shows of env.json, after the framework the cell trained under (the
# cell's coordinate, by its label: bench.frameworks). env.json is migrated on read, so a record
# from before `framework_version` (schema 3: TensorFlow's version under `tensorflow`) shows it too.
ENV_KEYS = (schema.FRAMEWORK_VERSION, "keras", "python", "device", "device_model", "host_cpu",
            "hostname", "cuda_build", "cudnn_build")


def _jsonl_frame(cells: pd.DataFrame, file_name: str) -> pd.DataFrame:
    frames = []
    for _, cell in cells[cells["status"] != schema.STATUS_UNREADABLE].iterrows():
        rows = rundirs.read_lines(cell["cell_dir"], file_name)
        if rows:
            frame = pd.DataFrame(rows)
            for col in ("key", "config", "group", "seed", "seed_label", "status", "batch_size"):
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
        if not evals.empty and key in evals and key not in schema.NON_NUMERIC_METRICS:
            evals[key] = pd.to_numeric(evals[key], errors="coerce")
    return evals


def load_modes(cells: pd.DataFrame) -> pd.DataFrame:
    """Every Stacked MNIST reading during training (modes.jsonl), with the cell's labels; empty
    where none was asked for."""
    modes = _jsonl_frame(cells, schema.MODES_FILE)
    for key in ("step", schema.MODES, schema.MODES_THRESHOLDED, schema.REVERSE_KL):
        if not modes.empty and key in modes:
            modes[key] = pd.to_numeric(modes[key], errors="coerce")
    return modes


def load_envs(cells: pd.DataFrame) -> pd.DataFrame:
    """env.json of every cell that has one, with the cell's framework (its label) and XLA
    setting."""
    rows = []
    for _, cell in cells[cells["status"] != schema.STATUS_UNREADABLE].iterrows():
        if (Path(cell["cell_dir"]) / schema.ENV_FILE).is_file():
            env = rundirs.read_record(cell["cell_dir"], schema.ENV_FILE)
            harness = env.get("harness") or {}
            rows.append({schema.FRAMEWORK: frameworks.label(cell[schema.FRAMEWORK]),
                         **{k: env.get(k) for k in ENV_KEYS},
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
                manifests[run_dir] = rundirs.read_manifest(run_dir)
    return list(manifests.values())
