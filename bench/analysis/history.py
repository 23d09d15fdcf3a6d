"""The run history: every ingested grid run in one SQLite file (no server), for the nightly job.

    runs      one row per run directory: spec name and content hash, start time, harness
              commit and dirty flag, TensorFlow version, device model, host
    cells     one row per cell: coordinates, status, reason, throughput statistics, compile time,
              training peak memory, final metrics with their n, the instrument's hash
    windows   each measured log window's images/sec (the rank tests need the samples)
    meta      schema_version

Ingest is idempotent (a run already present is left as it is) and atomic: one transaction, so a
killed ingest leaves the database as it was. Concurrent ingests wait for each other (WAL
journal, a busy timeout) instead of failing. Nothing here imports TensorFlow.
"""

import hashlib
import json
import os
import sqlite3
from pathlib import Path

from bench import records, schema
from bench.analysis.results import find_cell_dirs, load_results
from bench.errors import BenchError

HISTORY_ENV = "BENCH_HISTORY"
DEFAULT_DB = Path("runs") / "history.sqlite"
HISTORY_SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 60_000

CELL_COLUMNS = ("part", "data", "device", "precision", "xla", "batch_size", "seed", "status",
                "reason", schema.IMAGES_PER_SEC_MEDIAN, schema.IMAGES_PER_SEC_P10,
                schema.IMAGES_PER_SEC_P90, schema.IMAGES_PER_SEC_OVERALL, "compile_seconds",
                schema.PEAK_MEMORY_TRAIN_BYTES, schema.PEAK_MEMORY_TRAIN_KIND, schema.FINAL_N,
                schema.FINAL_FID, schema.FINAL_KID, schema.FINAL_CLASSIFIER_SCORE,
                schema.FINAL_CLASSES_COVERED, schema.FINAL_OUTCOME, schema.CLASSIFIER_SHA256)
RUN_COLUMNS = ("id", "spec_name", "spec_sha256", "started", "harness_commit", "harness_dirty",
               "tensorflow", "device_model", "host", "path")

SCHEMA_SQL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs ({", ".join(c + " TEXT" for c in RUN_COLUMNS)},
                                 PRIMARY KEY (id));
CREATE TABLE IF NOT EXISTS cells (run_id TEXT NOT NULL REFERENCES runs(id), cell_id TEXT NOT NULL,
                                  {", ".join(CELL_COLUMNS)}, PRIMARY KEY (run_id, cell_id));
CREATE TABLE IF NOT EXISTS windows (run_id TEXT NOT NULL, cell_id TEXT NOT NULL,
                                    step INTEGER NOT NULL, images_per_sec REAL NOT NULL,
                                    PRIMARY KEY (run_id, cell_id, step));
"""


def default_db() -> Path:
    return Path(os.environ.get(HISTORY_ENV) or DEFAULT_DB)


def connect(db) -> sqlite3.Connection:
    """The history database, created or checked for its schema version."""
    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = sqlite3.connect(db, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(SCHEMA_SQL)  # IF NOT EXISTS: safe when two processes race
        con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                    (str(HISTORY_SCHEMA_VERSION),))
        found = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if int(found[0]) > HISTORY_SCHEMA_VERSION:
            con.close()
            raise BenchError(f"history schema_version {found[0]} is newer than this dcgan-bench "
                             f"understands ({HISTORY_SCHEMA_VERSION}); upgrade it", path=db)
    except sqlite3.DatabaseError as e:
        raise BenchError(f"not a usable SQLite history database ({e})", path=db) from None
    return con


def _run_row(run_dir: Path, manifest: dict, envs: list[dict]) -> dict:
    env = envs[0] if envs else {}
    spec_text = json.dumps(manifest.get("spec"), sort_keys=True)
    harness = manifest.get("harness") or {}
    return {"id": f"{run_dir.resolve().parent.name}/{run_dir.resolve().name}",
            "spec_name": manifest.get("name"),
            "spec_sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
            "started": manifest.get("started"), "harness_commit": harness.get("commit"),
            "harness_dirty": json.dumps(harness.get("dirty")), "tensorflow": env.get("tensorflow"),
            "device_model": env.get("device_model"), "host": env.get("hostname"),
            "path": str(run_dir.resolve())}


def _plain(value):
    """SQLite values: NaN and missing become NULL, booleans and numbers stay numbers."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def ingest(run_dir, db=None) -> tuple[str, bool]:
    """Put one finished grid run into the history; returns (run id, whether it was new)."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / schema.MANIFEST_FILE
    if not manifest_path.is_file():
        raise BenchError(f"not a grid run directory (no {schema.MANIFEST_FILE})", path=run_dir)
    manifest = records.read_json_record(manifest_path)
    cells = load_results([run_dir])
    envs = [records.read_json_record(c / schema.ENV_FILE) for _, c in find_cell_dirs([run_dir])
            if (c / schema.ENV_FILE).is_file()]
    run = _run_row(run_dir, manifest, envs)
    windows = []
    for _, cell_dir in find_cell_dirs([run_dir]):
        for line in records.read_jsonl(cell_dir / schema.STEPS_FILE):
            if not line.get("excluded") and not line.get("warmup") and line.get("images_per_sec"):
                windows.append((run["id"], cell_dir.name, line["step"], line["images_per_sec"]))
    con = connect(db or default_db())
    try:
        con.execute("BEGIN IMMEDIATE")  # one writer at a time; others wait (busy timeout)
        if con.execute("SELECT 1 FROM runs WHERE id = ?", (run["id"],)).fetchone():
            con.execute("ROLLBACK")
            return run["id"], False
        con.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
                    [run[c] for c in RUN_COLUMNS])
        for _, row in cells.iterrows():
            values = [run["id"], row["cell_id"]] + [_plain(row.get(c)) for c in CELL_COLUMNS]
            con.execute(f"INSERT INTO cells VALUES ({', '.join('?' * len(values))})", values)
        con.executemany("INSERT INTO windows VALUES (?, ?, ?, ?)", windows)
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return run["id"], True


def list_runs(db=None) -> list[dict]:
    con = connect(db or default_db())
    try:
        rows = con.execute("SELECT id, spec_name, started, harness_commit, "
                           "(SELECT COUNT(*) FROM cells WHERE run_id = runs.id) FROM runs "
                           "ORDER BY started, id").fetchall()
    finally:
        con.close()
    return [dict(zip(("id", "spec_name", "started", "harness_commit", "cells"), r)) for r in rows]
