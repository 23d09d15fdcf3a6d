"""The run history's SQLite schema and its migrations (bench.analysis.history reads and writes it).

Schema (version 7; `meta.schema_version`):

    runs      one row per run: id (`<grid>/<run directory>`, or `+<8 hex of its content>` where
              another run holds that name), spec name and content hash, start time, harness
              commit and dirty flag, the framework's version (`framework_version`: its first
              cell's; each cell's own is in its row), device model, host, path, the machines its
              cells ran on (fingerprint -> fields, bench.machine), and the hashes of its manifest
              and of its whole content
    cells     one row per cell: coordinates, status, reason, throughput statistics, compile time,
              training peak memory, final metrics with their n, the instrument's hash; and
              the machine fingerprint; `row_json`, the cell's whole results row, so the history
              gives back the very DataFrame `load_results` reads from the run directory
    windows   each measured log window's images/sec (the rank tests need the samples) and its
              contention (the share of the cell's cores others took; NULL: not measured)
    verdicts  a night's verdict: `ok`, `regression` (a new one: found tonight) or `open` (one
              carried from an earlier night, not yet fixed or accepted), against its baseline,
              with the thresholds and every configuration's state (bench.analysis.nights) as JSON
    accepted  runs a person made the new baseline (`history accept`): who, when and why
    meta      schema_version

Migrations run in order when an older database is opened, in the style of the run records'
(bench.rundirs): `MIGRATIONS[n]` brings a schema-n database to n+1 (1 -> 2: `cells.row_json`,
`verdicts`; 2 -> 3: the machine columns, NULL for runs ingested before them; 3 -> 4:
`accepted`; 4 -> 5: `runs.tensorflow`, TensorFlow's version, renamed `framework_version`;
5 -> 6: `windows.contention`, NULL for windows ingested before it; 6 -> 7: the runs' manifest
and content hashes, NULL for runs ingested before them, which are told apart by start time).
"""

import sqlite3

from bench import schema

HISTORY_SCHEMA_VERSION = 7

# The cells table keeps schema 1's coordinates as columns; coordinates added since (tf32) are in
# row_json, the whole results row.
KEY_COLUMNS = ("part", "data", "device", "precision", "xla", "batch_size", "seed")
CELL_COLUMNS = (*KEY_COLUMNS, "status", "reason", schema.IMAGES_PER_SEC_MEDIAN,
                schema.IMAGES_PER_SEC_P10, schema.IMAGES_PER_SEC_P90,
                schema.IMAGES_PER_SEC_OVERALL, "compile_seconds", schema.PEAK_MEMORY_TRAIN_BYTES,
                schema.PEAK_MEMORY_TRAIN_KIND, schema.FINAL_N, schema.FINAL_FID, schema.FINAL_KID,
                schema.FINAL_CLASSIFIER_SCORE, schema.FINAL_CLASSES_COVERED, schema.FINAL_OUTCOME,
                schema.CLASSIFIER_SHA256, schema.MACHINE_FINGERPRINT)
RUN_COLUMNS = ("id", "spec_name", "spec_sha256", "started", "harness_commit", "harness_dirty",
               schema.FRAMEWORK_VERSION, "device_model", "host", "path", "machines_json",
               "manifest_sha256", "content_sha256")

# The current schema, for a new database. An older database is brought here by MIGRATIONS.
SCHEMA_SQL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs ({", ".join(c + " TEXT" for c in RUN_COLUMNS)},
                                 PRIMARY KEY (id));
CREATE TABLE IF NOT EXISTS cells (run_id TEXT NOT NULL REFERENCES runs(id), cell_id TEXT NOT NULL,
                                  {", ".join(CELL_COLUMNS)}, row_json TEXT,
                                  PRIMARY KEY (run_id, cell_id));
CREATE TABLE IF NOT EXISTS windows (run_id TEXT NOT NULL, cell_id TEXT NOT NULL,
                                    step INTEGER NOT NULL, images_per_sec REAL NOT NULL,
                                    contention REAL, PRIMARY KEY (run_id, cell_id, step));
CREATE TABLE IF NOT EXISTS verdicts (run_id TEXT PRIMARY KEY REFERENCES runs(id),
                                     baseline_id TEXT, verdict TEXT NOT NULL,
                                     compared TEXT NOT NULL, details_json TEXT);
CREATE TABLE IF NOT EXISTS accepted (run_id TEXT PRIMARY KEY REFERENCES runs(id),
                                     accepted_at TEXT NOT NULL, by TEXT NOT NULL, why TEXT NOT NULL);
"""


def history_v1_to_v2(con: sqlite3.Connection):
    """Whole results rows (schema-1 rows are read back from their columns), and verdicts."""
    con.execute("ALTER TABLE cells ADD COLUMN row_json TEXT")
    con.execute("CREATE TABLE IF NOT EXISTS verdicts (run_id TEXT PRIMARY KEY REFERENCES runs(id), "
                "baseline_id TEXT, verdict TEXT NOT NULL, compared TEXT NOT NULL, "
                "details_json TEXT)")


def history_v2_to_v3(con: sqlite3.Connection):
    """The machines a run's cells ran on, and each cell's fingerprint (NULL: not recorded)."""
    con.execute("ALTER TABLE runs ADD COLUMN machines_json TEXT")
    con.execute(f"ALTER TABLE cells ADD COLUMN {schema.MACHINE_FINGERPRINT} TEXT")


def history_v3_to_v4(con: sqlite3.Connection):
    """Runs a person accepted as the new baseline."""
    con.execute("CREATE TABLE IF NOT EXISTS accepted (run_id TEXT PRIMARY KEY REFERENCES runs(id), "
                "accepted_at TEXT NOT NULL, by TEXT NOT NULL, why TEXT NOT NULL)")


def history_v4_to_v5(con: sqlite3.Connection):
    """The framework's version in one column, `framework_version`: schema 4's `tensorflow` held
    TensorFlow's, NULL for a JAX run. The values move as they are: a JAX run ingested before
    stays NULL (no schema-4 record holds JAX's version). Needs SQLite 3.25 or newer."""
    con.execute(f"ALTER TABLE runs RENAME COLUMN tensorflow TO {schema.FRAMEWORK_VERSION}")


def history_v5_to_v6(con: sqlite3.Connection):
    """Each window's contention (bench.cell.contention); NULL for the windows already kept:
    they were not measured, and a verdict on them says so."""
    con.execute("ALTER TABLE windows ADD COLUMN contention REAL")


def history_v6_to_v7(con: sqlite3.Connection):
    """A run's identity by content: its manifest's hash and its whole content's (manifest and
    cells); NULL for the runs already kept, which are told apart by their start time."""
    con.execute("ALTER TABLE runs ADD COLUMN manifest_sha256 TEXT")
    con.execute("ALTER TABLE runs ADD COLUMN content_sha256 TEXT")


# version n -> the function that brings a schema-n database to n + 1, inside one transaction
MIGRATIONS = {1: history_v1_to_v2, 2: history_v2_to_v3, 3: history_v3_to_v4, 4: history_v4_to_v5,
              5: history_v5_to_v6, 6: history_v6_to_v7}


