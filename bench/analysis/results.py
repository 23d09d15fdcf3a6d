"""Run records as one pandas DataFrame: a row per cell, columns named by bench.schema.

Accepts run directories (with a manifest), cell directories (with a config.json), or folders that
hold either; a cell reached twice (runs/<grid>/ holds <run-id>/ and the `latest` link to it) is
one row. Nothing here imports TensorFlow.
"""

import json
from pathlib import Path

import pandas as pd

from bench import records, schema
from bench.analysis import outcome_rule
from bench.errors import BenchError

# Coordinates of a cell, in the order reports and tables show them.
COORDINATES = ("data", "device", "precision", "xla", "batch_size", "seed")


def find_cell_dirs(paths) -> list[tuple[Path | None, Path]]:
    """(run directory or None, cell directory) for every cell under the given paths."""
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise BenchError("no such run or cell directory", path=path)
        if (path / schema.MANIFEST_FILE).is_file():
            manifest = records.read_json_record(path / schema.MANIFEST_FILE)
            found += [(path, path / c["id"]) for c in manifest["cells"]]
        elif (path / schema.CONFIG_FILE).is_file():
            found.append((None, path))
        elif path.is_dir():
            children = sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink())
            found += find_cell_dirs([c for c in children if (c / schema.MANIFEST_FILE).is_file()
                                     or (c / schema.CONFIG_FILE).is_file()])
    return found


# Summary fields copied into the row as they are.
SUMMARY_COLUMNS = ("steps", "first_batch_seconds", "compile_seconds", "wall_seconds",
                   schema.PEAK_MEMORY_TRAIN_BYTES, schema.PEAK_MEMORY_TRAIN_KIND,
                   schema.PEAK_MEMORY_PROCESS_BYTES, schema.PEAK_MEMORY_PROCESS_KIND, "retraces",
                   "flops_per_image", "achieved_flops_per_sec", "best_fid", "best_fid_step",
                   "best_fid_n", "diverged_at_step", "gen_skipped_steps", "disc_skipped_steps")


def cell_to_row(run_dir, cell_dir: Path) -> dict:
    """One flat row: coordinates, status, throughput, compile time, memory, final metrics."""
    row = {"run": run_dir.name if run_dir else None, "cell_id": cell_dir.name,
           "cell_dir": str(cell_dir)}
    if run_dir is not None:
        row["grid_name"] = _grid_name(run_dir)
    config = records.read_json_record(cell_dir / schema.CONFIG_FILE) \
        if (cell_dir / schema.CONFIG_FILE).is_file() else {}
    row.update({k: v for k, v in config.items() if k != "schema_version"})
    summary_path = cell_dir / schema.SUMMARY_FILE
    summary = records.read_json_record(summary_path) if summary_path.is_file() else {
        "status": schema.STATUS_MISSING, "reason": "no summary.json (the cell never started)"}
    summary = summary_v1_to_v2(summary)
    row["status"] = summary.get("status")
    row["reason"] = summary.get("reason")
    for key in SUMMARY_COLUMNS:
        row[key] = summary.get(key)
    warnings = summary.get("warnings") or []
    row[schema.WARNINGS_COUNT] = len(warnings)
    row[schema.WARNINGS] = " | ".join(warnings) or None
    ips = summary.get("images_per_sec") or {}
    for column, stat in schema.IMAGES_PER_SEC_COLUMNS.items():
        row[column] = ips.get(stat)
    excluded = ips.get("windows_excluded")
    row[schema.WINDOWS_EXCLUDED] = json.dumps(excluded, sort_keys=True) if excluded else None
    final = summary.get("final") or {}
    for key in schema.SCALAR_METRICS:
        row[schema.final_column(key)] = final.get(key)
    hist = final.get(schema.CLASS_HISTOGRAM)
    row[schema.FINAL_CLASS_HISTOGRAM] = json.dumps(hist) if hist is not None else None
    row[schema.CLASSIFIER_SHA256] = final.get(schema.CLASSIFIER_SHA256)
    env_path = cell_dir / schema.ENV_FILE
    if env_path.is_file():
        env = records.read_json_record(env_path)
        row.update(tensorflow=env.get("tensorflow"), device_model=env.get("device_model"),
                   host_cpu=env.get("host_cpu"), harness_commit=(env.get("harness") or {}).get("commit"))
    return row


def _grid_name(run_dir: Path):
    return records.read_json_record(run_dir / schema.MANIFEST_FILE).get("name")


def _unique(cells):
    """Each cell once: runs/<grid>/ holds both <run-id>/ and the `latest` link to it."""
    seen, out = set(), []
    for run, cell in cells:
        key = cell.resolve()
        if key not in seen:
            seen.add(key)
            out.append((run, cell))
    return out


MEMORY_KIND_NAMES = {"gpu_allocator": "GPU allocator", "process_rss": "process RSS"}


def peak_memory_mib(results: pd.DataFrame) -> pd.DataFrame:
    """Peak memory in MiB for tables people read: one column per scope (training, process) and
    kind (GPU allocator, process RSS) present, so two kinds never share a column."""
    out = pd.DataFrame(index=results.index)
    for scope, size_col, kind_col in (("train", schema.PEAK_MEMORY_TRAIN_BYTES,
                                       schema.PEAK_MEMORY_TRAIN_KIND),
                                      ("process", schema.PEAK_MEMORY_PROCESS_BYTES,
                                       schema.PEAK_MEMORY_PROCESS_KIND)):
        if size_col not in results:
            continue
        mib = pd.to_numeric(results[size_col], errors="coerce") / schema.BYTES_PER_MIB
        for kind in sorted(results[kind_col].dropna().unique()):
            name = f"{scope} peak MiB ({MEMORY_KIND_NAMES.get(kind, kind)})"
            out[name] = mib.where(results[kind_col] == kind)
    return out


def summary_v1_to_v2(summary: dict) -> dict:
    """Schema 1 summaries, read as schema 2.

    - One peak_memory_bytes, read after the final evaluation: it was the process's peak, so it
      becomes peak_memory_process_bytes; the training peak was never measured.
    - A boolean `collapsed` in the final block: the outcome is recomputed from the mode-coverage
      numbers it was derived from (the same record holds them), by today's rule.
    """
    if summary.get("schema_version", schema.SCHEMA_VERSION) >= 2:
        return summary
    kinds = {"process_peak_rss": "process_rss", "gpu_allocator_peak": "gpu_allocator"}
    migrated = {k: v for k, v in summary.items() if k not in ("peak_memory_bytes", "peak_memory_kind")}
    if "peak_memory_bytes" in summary:
        migrated[schema.PEAK_MEMORY_PROCESS_BYTES] = summary["peak_memory_bytes"]
        migrated[schema.PEAK_MEMORY_PROCESS_KIND] = kinds.get(summary.get("peak_memory_kind"),
                                                              summary.get("peak_memory_kind"))
    final = summary.get("final")
    if isinstance(final, dict) and schema.OUTCOME not in final and \
            final.get(schema.CONFIDENT_FRACTION) is not None:
        migrated["final"] = {k: v for k, v in final.items() if k != "collapsed"}
        migrated["final"][schema.OUTCOME] = outcome_rule.coverage_to_outcome(
            final[schema.CONFIDENT_FRACTION], final[schema.CLASSES_COVERED],
            final[schema.MAX_CLASS_FRACTION])
    return migrated


def load_results(paths) -> pd.DataFrame:
    """One row per cell (each cell once) from run or cell directories; BenchError if none."""
    cells = _unique(find_cell_dirs(paths if isinstance(paths, (list, tuple)) else [paths]))
    if not cells:
        raise BenchError("no run records found in " + ", ".join(map(str, paths if isinstance(
            paths, (list, tuple)) else [paths])) + " (expected a run directory with "
            f"{schema.MANIFEST_FILE} or a cell directory with {schema.CONFIG_FILE})")
    return pd.DataFrame([cell_to_row(run, cell) for run, cell in cells])
