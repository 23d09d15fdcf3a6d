"""A run to compare: its identity, its cells as the results DataFrame, its measured windows.

A run comes from a grid run directory or from the history (bench.analysis.history); both give
the same `Run`, so a comparison never asks where its runs came from. Nothing here imports
TensorFlow.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench import records, schema
from bench.analysis.results import COORDINATES, find_cell_dirs, load_results
from bench.errors import BenchError

# What matches a baseline cell with a candidate cell: the part and the coordinates.
CELL_KEY = ("part", *COORDINATES)
CONFIG_KEY = tuple(k for k in CELL_KEY if k != "seed")


@dataclass
class Run:
    id: str
    info: dict  # spec_name, spec_sha256, started, harness_commit, tensorflow, device_model, ...
    results: pd.DataFrame  # load_results' frame: one row per cell
    windows: dict  # cell_id -> measured windows' images/sec, in step order


def run_id_of(run_dir: Path) -> str:
    """`<grid>/<run>`: the run directory's name under its grid's folder (runs/nightly/<time>)."""
    run_dir = Path(run_dir).resolve()
    return f"{run_dir.parent.name}/{run_dir.name}"


def spec_sha256(manifest: dict) -> str:
    """The hash of the spec a run was made from: runs of one spec compare; others are refused."""
    return hashlib.sha256(json.dumps(manifest.get("spec"), sort_keys=True).encode()).hexdigest()


def read_manifest(run_dir: Path) -> dict:
    path = Path(run_dir) / schema.MANIFEST_FILE
    if not path.is_file():
        raise BenchError(f"not a grid run directory (no {schema.MANIFEST_FILE})", path=run_dir)
    return records.read_json_record(path)


def run_dir_to_info(run_dir: Path) -> dict:
    """The history's `runs` row of a run directory."""
    manifest = read_manifest(run_dir)
    envs = [records.read_json_record(c / schema.ENV_FILE) for _, c in find_cell_dirs([run_dir])
            if (c / schema.ENV_FILE).is_file()]
    env = envs[0] if envs else {}
    harness = manifest.get("harness") or {}
    return {"id": run_id_of(run_dir), "spec_name": manifest.get("name"),
            "spec_sha256": spec_sha256(manifest), "started": manifest.get("started"),
            "harness_commit": harness.get("commit"), "harness_dirty": json.dumps(harness.get("dirty")),
            "tensorflow": env.get("tensorflow"), "device_model": env.get("device_model"),
            "host": env.get("hostname"), "path": str(Path(run_dir).resolve())}


def cell_windows(cell_dir: Path) -> list[tuple[int, float]]:
    """(step, images/sec) of each measured log window: no warm-up, no excluded short window."""
    return [(line["step"], line["images_per_sec"])
            for line in records.read_jsonl(Path(cell_dir) / schema.STEPS_FILE)
            if not line.get("excluded") and not line.get("warmup") and line.get("images_per_sec")]


def run_dir_to_run(run_dir) -> Run:
    run_dir = Path(run_dir)
    info = run_dir_to_info(run_dir)
    windows = {cell.name: [ips for _, ips in cell_windows(cell)]
               for _, cell in find_cell_dirs([run_dir])}
    windows = {cell: w for cell, w in windows.items() if w}  # as the history keeps them
    return Run(info["id"], info, load_results([run_dir]), windows)
