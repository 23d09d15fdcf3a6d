"""The one reader of run directories: cell and run records, brought to the current schema on read.

Every stage that reads a record goes through here: the results table (bench.analysis.results),
runs to compare (bench.analysis.runs), the report's per-cell frames, the grid's progress line and
its bookkeeping (`--resume` keeps a cell whose summary says ok). An older record is migrated in
one place, asv-style: `MIGRATIONS[file][n]` turns a schema-n record of that file into schema n+1,
and `migrate` applies them in a loop up to bench.schema.SCHEMA_VERSION, so a schema-1 record
reads the same through every path. A record newer than this harness is a BenchError
(bench.records), never guessed at.

Layout of a run directory: manifest.json, results.csv and one directory per cell (config.json,
env.json, summary.json, steps.jsonl, evals.jsonl, ...); a cell directory alone is also a record.
Nothing here imports TensorFlow or pandas.
"""

import json
from pathlib import Path

from bench import frameworks, outcome_rule, records, schema
from bench.contention_rule import contended_share
from bench.errors import BenchError
from bench.runlock import live_holder


def summary_v1_to_v2(summary: dict) -> dict:
    """A schema-1 summary as schema 2.

    - One peak_memory_bytes, read after the final evaluation: it was the process's peak, so it
      becomes peak_memory_process_bytes; the training peak was never measured.
    - A boolean `collapsed` in the final block: the outcome is recomputed from the mode-coverage
      numbers it was derived from (the same record holds them), by today's rule.
    """
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


def _renamed(record: dict, old: str, new: str) -> dict:
    """`record` with its key `old` called `new`, in place in the key order."""
    return {new if k == old else k: v for k, v in record.items()}


def framework_v2_to_v3(record: dict) -> dict:
    """config.json, env.json and a results row: the framework axis was called `backend`."""
    return _renamed(record, "backend", schema.FRAMEWORK)


def env_v3_to_v4(env: dict) -> dict:
    """env.json: the framework's version in `framework_version`. Schema 3 held it only under the
    framework's own name, among the other packages' versions."""
    name = env.get(schema.FRAMEWORK) or schema.COORDINATE_DEFAULTS[schema.FRAMEWORK]
    return {**env, schema.FRAMEWORK_VERSION: env.get(name)}


def results_row_v3_to_v4(row: dict) -> dict:
    """A results row held the reference framework's version in a column named after it
    (`tensorflow`), null under any other: the framework's version is `framework_version` (another
    framework's row stays null: schema 3 never had it)."""
    return _renamed(row, frameworks.REFERENCE, schema.FRAMEWORK_VERSION)


def _stacked_outcome(numbers: dict, prefix: str = "") -> str | None:
    """Today's Stacked-MNIST outcome of a final block (or a results row's final_ columns), or
    None where its numbers are not all there."""
    keys = (schema.ALL_CHANNELS_CONFIDENT, schema.CHANNEL_CLASSES_MIN, schema.MODES_THRESHOLDED)
    values = [numbers.get(prefix + k) for k in keys]
    if any(v is None or v != v for v in values):  # absent, None or NaN
        return None
    return outcome_rule.stacked_outcome(*values)


def summary_v4_to_v5(summary: dict) -> dict:
    """A stacked-mnist seed's outcome by the three-channel rule: schema 4 read the channels'
    classes by no rule (a channel of one digit could read `digits`)."""
    final = summary.get("final")
    if not isinstance(final, dict) or _stacked_outcome(final) is None:
        return summary
    return {**summary, "final": {**final, schema.OUTCOME: _stacked_outcome(final)}}


def results_row_v4_to_v5(row: dict) -> dict:
    """A results row's final_outcome, as summary_v4_to_v5 recomputes it."""
    outcome = _stacked_outcome(row, "final_")
    return row if outcome is None else {**row, schema.FINAL_OUTCOME: outcome}


def summary_v2_to_v3(summary: dict) -> dict:
    """A summary's placement named the launcher that ran the cell `backend` (local only)."""
    placement = summary.get("placement")
    if not isinstance(placement, dict):
        return summary
    return {**summary, "placement": _renamed(placement, "backend", "launcher")}


def manifest_v2_to_v3(manifest: dict) -> dict:
    """The spec kept in a manifest named the framework axis `backend`: today's spec names it
    `frameworks`, so `grid --resume` with the renamed spec finds the same spec."""
    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        return manifest

    def axes_renamed(table):
        if isinstance(table, dict) and isinstance(table.get("axes"), dict):
            return {**table, "axes": _renamed(table["axes"], "backend", "frameworks")}
        return table

    spec = axes_renamed(spec)
    if isinstance(spec.get("parts"), list):
        spec = {**spec, "parts": [axes_renamed(part) for part in spec["parts"]]}
    return {**manifest, "spec": spec}


# Stored row types of the history (bench.analysis.history), not files: a results row
# (cell_to_row) and a night's verdict details. Each carries a schema_version since schema 3.
RESULTS_ROW = "results row"
VERDICT_DETAILS = "verdict details"
# What a stored record without a schema_version is: one from before stored rows carried one.
UNVERSIONED = {RESULTS_ROW: 2, VERDICT_DETAILS: 2}

# file name -> {version n: record of version n -> record of version n + 1}. A file without an
# entry for a version did not change then: only its schema_version moves on.
MIGRATIONS = {
    schema.SUMMARY_FILE: {1: summary_v1_to_v2, 2: summary_v2_to_v3, 4: summary_v4_to_v5},
    schema.CONFIG_FILE: {2: framework_v2_to_v3},
    schema.ENV_FILE: {2: framework_v2_to_v3, 3: env_v3_to_v4},
    schema.MANIFEST_FILE: {2: manifest_v2_to_v3},
    RESULTS_ROW: {2: framework_v2_to_v3, 3: results_row_v3_to_v4, 4: results_row_v4_to_v5},
}


def migrate(file_name: str, record: dict) -> dict:
    """`record`, a whole record of `file_name` (or a stored row type: RESULTS_ROW), brought to
    the current schema version."""
    version = record.get("schema_version", UNVERSIONED.get(file_name, schema.SCHEMA_VERSION))
    steps = MIGRATIONS.get(file_name, {})
    while version < schema.SCHEMA_VERSION:
        if version in steps:
            record = steps[version](record)
        version += 1
        record = {**record, "schema_version": version}
    return record


def read_record(directory, file_name: str) -> dict:
    """One JSON record of a cell or run directory, migrated; BenchError if missing or broken."""
    return migrate(file_name, records.read_json_record(Path(directory) / file_name))


def read_lines(cell_dir, file_name: str) -> list[dict]:
    """The lines of steps.jsonl or evals.jsonl, each migrated; [] when the file is absent."""
    return [migrate(file_name, line) for line in records.read_jsonl(Path(cell_dir) / file_name)]


MISSING_SUMMARY = {"status": schema.STATUS_MISSING,
                   "reason": "no summary.json (the cell never started)"}


def read_summary(cell_dir) -> dict:
    """The cell's summary, migrated; a `missing` status when it has none."""
    if not (Path(cell_dir) / schema.SUMMARY_FILE).is_file():
        return dict(MISSING_SUMMARY)
    return read_record(cell_dir, schema.SUMMARY_FILE)


def cell_status(cell_dir) -> str | None:
    """The status the cell's summary says, or None when it has no readable summary."""
    try:
        return read_record(cell_dir, schema.SUMMARY_FILE).get("status")
    except BenchError:
        return None


def read_manifest(run_dir) -> dict:
    """A grid run's manifest; BenchError when the directory is not a grid run."""
    if not (Path(run_dir) / schema.MANIFEST_FILE).is_file():
        raise BenchError(f"not a grid run directory (no {schema.MANIFEST_FILE})", path=run_dir)
    return read_record(run_dir, schema.MANIFEST_FILE)


def find_cell_dirs(paths) -> list[tuple[Path | None, Path]]:
    """(run directory or None, cell directory) for every cell under the given paths, each cell
    once: runs/<grid>/ holds both <run-id>/ and the `latest` link to it."""
    seen, unique = set(), []
    for run, cell in _cell_dirs(paths):
        if cell.resolve() not in seen:
            seen.add(cell.resolve())
            unique.append((run, cell))
    return unique


def _cell_name(cell, index: int, run_dir: Path) -> str:
    """A manifest cell's id, which names its directory in the run: one plain path component."""
    name = cell.get("id") if isinstance(cell, dict) else None
    if not isinstance(name, str) or name in ("", ".", "..") or \
            any(c in name for c in ("/", "\\", "\0")):
        raise BenchError(f"{schema.MANIFEST_FILE}: field cells[{index}].id expected a cell "
                         f"directory's name (one path component), found {name!r}", path=run_dir)
    return name


def _cell_dirs(paths) -> list[tuple[Path | None, Path]]:
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise BenchError("no such run or cell directory", path=path)
        if (path / schema.MANIFEST_FILE).is_file():
            found += [(path, path / _cell_name(c, i, path))
                      for i, c in enumerate(read_manifest(path)["cells"])]
        elif (path / schema.CONFIG_FILE).is_file():
            found.append((None, path))
        elif path.is_dir():
            children = sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink())
            found += _cell_dirs([c for c in children if (c / schema.MANIFEST_FILE).is_file()
                                 or (c / schema.CONFIG_FILE).is_file()])
    return found


def measured_windows(cell_dir) -> list[tuple[int, float, float | None]]:
    """(step, images/sec, contention) of each measured log window: no warm-up, no excluded
    short window. Contention is the share of the cell's cores other processes and the
    hypervisor took in the window (bench.contention_rule.contended_share; None: not measured,
    records from before it was)."""
    return [(line["step"], line["images_per_sec"], contended_share(line))
            for line in read_lines(cell_dir, schema.STEPS_FILE)
            if not line.get("excluded") and not line.get("warmup") and line.get("images_per_sec")]


# Summary fields copied into a results row as they are.
SUMMARY_COLUMNS = ("steps", "first_batch_seconds", "compile_seconds", "wall_seconds",
                   schema.PEAK_MEMORY_TRAIN_BYTES, schema.PEAK_MEMORY_TRAIN_KIND,
                   schema.PEAK_MEMORY_PROCESS_BYTES, schema.PEAK_MEMORY_PROCESS_KIND, "retraces",
                   "flops_per_image", "flops_per_image_unpadded", "achieved_flops_per_sec",
                   "peak_flops_per_sec", "mfu", "mfu_unpadded", "steps_per_dispatch",
                   "best_fid", "best_fid_step",
                   "best_fid_n", "diverged_at_step", "gen_skipped_steps", "disc_skipped_steps",
                   "peak_memory_first_step_bytes", "concurrent_cells")


# What a record that is not what its schema says raises when read as a row: wrong types.
MALFORMED = (BenchError, AttributeError, TypeError, ValueError, KeyError)


def cell_to_row(run_dir, cell_dir: Path, grid_name=None, planned_config=None) -> dict:
    """One flat results row: coordinates, status, throughput, compile time, memory, final
    metrics, the environment's versions. Columns are named by bench.schema.

    A cell whose records cannot be read (not UTF-8, truncated, not a JSON object, fields of the
    wrong type) is a row of status `unreadable` with the reason, and the coordinates its grid's
    manifest planned for it (`planned_config`): it costs only itself."""
    head = {"run": run_dir.name if run_dir else None, "cell_id": cell_dir.name,
            "cell_dir": str(cell_dir)}
    if run_dir is not None:
        head["grid_name"] = grid_name
    try:
        return _cell_to_row(cell_dir, dict(head), planned_config)
    except MALFORMED as e:
        reason = str(e) if isinstance(e, BenchError) else \
            f"a record of the wrong shape ({type(e).__name__}: {e})"
        return {**head, **schema.COORDINATE_DEFAULTS, **(planned_config or {}),
                "status": schema.STATUS_UNREADABLE, "reason": reason}


def readable(row) -> bool:
    """Whether a results row's cell records could be read (its lines may be read too)."""
    return row.get("status") != schema.STATUS_UNREADABLE


def _cell_to_row(cell_dir: Path, row: dict, planned_config=None) -> dict:
    for lines in (schema.STEPS_FILE, schema.EVALS_FILE):
        read_lines(cell_dir, lines)  # a broken log makes the cell unreadable, here, once
    if (cell_dir / schema.CONFIG_FILE).is_file():
        _fields(cell_dir, schema.CONFIG_FILE, read_record(cell_dir, schema.CONFIG_FILE),
                _config_fields, row)
    elif isinstance(planned_config, dict):  # a cell that never started: where its grid planned it
        _fields(cell_dir.parent, schema.MANIFEST_FILE, migrate(schema.CONFIG_FILE, planned_config),
                _config_fields, row)
    _fields(cell_dir, schema.SUMMARY_FILE, read_summary(cell_dir), _summary_fields, row)
    if (cell_dir / schema.ENV_FILE).is_file():
        _fields(cell_dir, schema.ENV_FILE, read_record(cell_dir, schema.ENV_FILE), _env_fields,
                row)
    return row


def _fields(cell_dir: Path, name: str, record: dict, fill, row: dict):
    """fill(record, row); a record whose fields have the wrong types is a BenchError naming it."""
    try:
        fill(record, row)
    except (AttributeError, TypeError, ValueError, KeyError) as e:
        raise BenchError(f"a record of the wrong shape ({type(e).__name__}: {e})",
                         path=cell_dir / name) from None


def _config_fields(config: dict, row: dict):
    row.update({**schema.COORDINATE_DEFAULTS,
                **{k: v for k, v in config.items() if k != "schema_version"}})


def _summary_fields(summary: dict, row: dict):
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
    contention = summary.get("contention") or {}
    for column, key in schema.CONTENTION_COLUMNS.items():
        row[column] = contention.get(key)
    excluded = ips.get("windows_excluded")
    row[schema.WINDOWS_EXCLUDED] = json.dumps(excluded, sort_keys=True) if excluded else None
    final = summary.get("final") or {}
    for key in schema.SCALAR_METRICS:
        row[schema.final_column(key)] = final.get(key)
    hist = final.get(schema.CLASS_HISTOGRAM)
    row[schema.FINAL_CLASS_HISTOGRAM] = json.dumps(hist) if hist is not None else None
    row[schema.CLASSIFIER_SHA256] = final.get(schema.CLASSIFIER_SHA256)


def _env_fields(env: dict, row: dict):
    row[schema.FRAMEWORK_VERSION] = env.get(schema.FRAMEWORK_VERSION)
    row.update(device_model=env.get("device_model"),
               host_cpu=env.get("host_cpu"),
               harness_commit=(env.get("harness") or {}).get("commit"))
    row[schema.MACHINE_FINGERPRINT] = (env.get("machine") or {}).get("fingerprint")
    row[schema.PRECISION_SUPPORT] = (env.get("precision") or {}).get("support")
    row["peak_source"] = (env.get("peak") or {}).get("source")


def cell_rows(paths) -> list[dict]:
    """One results row per cell (each cell once) under run or cell directories; BenchError when
    there is none."""
    paths = list(paths) if isinstance(paths, (list, tuple)) else [paths]
    cells = find_cell_dirs(paths)
    if not cells:
        raise BenchError("no run records found in " + ", ".join(map(str, paths))
                         + f" (expected a run directory with {schema.MANIFEST_FILE} or a cell "
                         f"directory with {schema.CONFIG_FILE})")
    manifests = {run: read_manifest(run) for run in {r for r, _ in cells if r}}
    planned = {(run, c.get("id")): c.get("config") for run, m in manifests.items()
               for c in m.get("cells") or [] if isinstance(c, dict)}
    rows = [cell_to_row(run, cell, manifests[run].get("name") if run else None,
                        planned.get((run, cell.name))) for run, cell in cells]
    # a cell that says `running` in a run no grid holds any more will never finish: its grid
    # was killed outright (kill -9, a machine that stopped) before it could record so
    ended = {run for run in manifests if live_holder(run) is None}
    for (run, _), row in zip(cells, rows):
        if row.get("status") == schema.STATUS_RUNNING and run in ended:
            row.update(status=schema.STATUS_INTERRUPTED,
                       reason="interrupted: its grid ended without recording it (killed, or the "
                              "machine stopped); --resume trains it again")
    return rows
