"""A run to compare: its identity, its cells as the results DataFrame, its measured windows.

A run comes from a grid run directory or from the history (bench.analysis.history); both give
the same `Run`, so a comparison never asks where its runs came from. A run directory is read once,
through the one reader of run directories (bench.rundirs), and the `Run` is passed along: the
nightly job ingests, compares and reports the same object. Nothing here imports TensorFlow.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench import rundirs, schema
from bench.analysis.results import load_results


@dataclass
class Run:
    id: str
    info: dict  # spec_name, spec_sha256, started, harness_commit, framework_version, ...
    results: pd.DataFrame  # load_results' frame: one row per cell
    # cell_id -> [(step, images/sec, contention)] of its measured windows, in step order;
    # contention: the share of the cell's cores others took (bench.cell.contention), None where
    # it was not measured
    windows: dict

    def window_rates(self, cell_id: str, bound: float | None = None) -> list[float]:
        """The images/sec of a cell's measured windows, in step order ([] if it has none);
        with `bound`, only the windows whose contention was measured at or under it."""
        return [ips for _, ips, share in self.windows.get(cell_id, [])
                if bound is None or (share is not None and share <= bound)]

    def window_contention(self, cell_id: str) -> list[float | None]:
        """Each measured window's contention, in step order."""
        return [share for _, _, share in self.windows.get(cell_id, [])]


def run_id_of(run_dir: Path) -> str:
    """`<grid>/<run>`: the run directory's name under its grid's folder (runs/nightly/<time>)."""
    run_dir = Path(run_dir).resolve()
    return f"{run_dir.parent.name}/{run_dir.name}"


def spec_sha256(manifest: dict) -> str:
    """The hash of the spec a run was made from: runs of one spec compare; others are refused."""
    return hashlib.sha256(json.dumps(manifest.get("spec"), sort_keys=True).encode()).hexdigest()


def run_dir_to_info(run_dir: Path, cell_dirs=None) -> dict:
    """The history's `runs` row of a run directory. Its `framework_version` is its first
    readable cell's (TensorFlow's or JAX's: env.json, migrated on read); a run of several
    frameworks has each cell's in the cell's row."""
    manifest = rundirs.read_manifest(run_dir)
    cell_dirs = rundirs.find_cell_dirs([run_dir]) if cell_dirs is None else cell_dirs
    envs = [env for _, c in cell_dirs if (env := _env_or_none(c)) is not None]
    env = envs[0] if envs else {}
    harness = manifest.get("harness") or {}
    # fingerprint -> the fields it hashes, for every machine the run's cells ran on
    machines = {e["machine"]["fingerprint"]: e["machine"]["fingerprint_fields"]
                for e in envs if (e.get("machine") or {}).get("fingerprint")}
    return {"id": run_id_of(run_dir), "spec_name": manifest.get("name"),
            "spec_sha256": spec_sha256(manifest), "started": manifest.get("started"),
            # what the run is, whatever its folder is called: two runs of one name differ here
            "manifest_sha256": hashlib.sha256(json.dumps(manifest, sort_keys=True,
                                                         default=str).encode()).hexdigest(),
            "harness_commit": harness.get("commit"), "harness_dirty": json.dumps(harness.get("dirty")),
            schema.FRAMEWORK_VERSION: env.get(schema.FRAMEWORK_VERSION),
            "device_model": env.get("device_model"),
            "host": env.get("hostname"), "path": str(Path(run_dir).resolve()),
            "machines_json": json.dumps(machines, sort_keys=True) if machines else None}


def _env_or_none(cell_dir: Path) -> dict | None:
    """A cell's env.json; None when it has none or it cannot be read (that cell is `unreadable`
    in the results, and no other cell is held up by it)."""
    try:
        env = rundirs.read_record(cell_dir, schema.ENV_FILE) if \
            (cell_dir / schema.ENV_FILE).is_file() else None
    except rundirs.MALFORMED:
        return None
    return env if env is not None and isinstance(env.get("machine", {}), dict) else None


def run_machines(info: dict) -> dict:
    """fingerprint -> fields of the machines a run's cells ran on ({} for older records)."""
    return json.loads(info.get("machines_json") or "{}")


def run_dir_to_run(run_dir) -> Run:
    """A grid run directory as a `Run`; BenchError when it is not one."""
    run_dir = Path(run_dir)
    cell_dirs = rundirs.find_cell_dirs([run_dir])
    info = run_dir_to_info(run_dir, cell_dirs)
    results = load_results([run_dir])
    readable = set(results.loc[results["status"] != schema.STATUS_UNREADABLE, "cell_id"])
    windows = {cell.name: rundirs.measured_windows(cell) for _, cell in cell_dirs
               if cell.name in readable}
    windows = {cell: w for cell, w in windows.items() if w}  # as the history keeps them
    return Run(info["id"], info, results, windows)
