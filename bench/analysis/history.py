"""The run history: every ingested grid run in one SQLite file (no server), and how it is read back.

Its tables and their migrations are bench.analysis.history_schema's.

Which of these runs a night is held to is the baseline policy's (bench.analysis.baseline); this
module keeps runs and verdicts and gives them back.

Older verdicts keep their words (`drift` included); stored rows and verdict details carry their
record schema and are migrated on read (bench.rundirs).
A run is known by its content (its manifest's hash and its whole content's), not its folder's
name: the same run again is left as it is, a different run of the same name is kept apart, the
same run with more of it finished replaces what was kept. Ingest is atomic: one transaction, so a
killed ingest leaves the database as it was. Concurrent writers wait for each other (WAL journal,
a busy timeout) instead of failing. Nothing here imports TensorFlow.
"""

import hashlib
import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from bench import rundirs, runlock, schema
from bench.analysis.history_schema import (
    CELL_COLUMNS,
    HISTORY_SCHEMA_VERSION,
    MIGRATIONS,
    RUN_COLUMNS,
    SCHEMA_SQL,
)
from bench.analysis.runs import Run, run_dir_to_run
from bench.errors import BenchError

HISTORY_ENV = "BENCH_HISTORY"
DEFAULT_DB = Path(schema.RUNS_ROOT) / "history.sqlite"
BUSY_TIMEOUT_MS = 60_000

def default_db() -> Path:
    return Path(os.environ.get(HISTORY_ENV) or DEFAULT_DB)


def _schema_version(con) -> int | None:
    has_meta = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    if not has_meta.fetchone():
        return None
    found = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(found[0]) if found else None


def connect(db) -> sqlite3.Connection:
    """The history database: created, or checked for its schema version and migrated."""
    db = Path(db)
    if db.exists() and not db.is_file():
        raise BenchError("is not a file: expected a SQLite history database", path=db)
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = sqlite3.connect(db, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("BEGIN IMMEDIATE")  # one process creates or migrates; the others wait
        try:
            version = _schema_version(con)
            if version is None:
                for statement in filter(str.strip, SCHEMA_SQL.split(";")):
                    con.execute(statement)
                con.execute("INSERT INTO meta VALUES ('schema_version', ?)",
                            (str(HISTORY_SCHEMA_VERSION),))
            elif version > HISTORY_SCHEMA_VERSION:
                raise BenchError(f"history schema_version {version} is newer than this "
                                 f"dcgan-bench understands ({HISTORY_SCHEMA_VERSION}); upgrade it",
                                 path=db)
            while version is not None and version < HISTORY_SCHEMA_VERSION:
                MIGRATIONS[version](con)
                version += 1
                con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            con.close()
            raise
    except sqlite3.DatabaseError as e:
        if "readonly" in str(e) or not _writable(db):
            raise BenchError(READ_ONLY, path=db) from None
        raise BenchError(f"not a usable SQLite history database ({e})", path=db) from None
    return con


READ_ONLY = ("the history is read-only here (SQLite needs to write the file and, for its journal, "
             "its directory): `history ingest`, `history accept` and the nightly job write it; "
             "`history list`, `history show` and `compare` only read it")


def _writable(db: Path) -> bool:
    return os.access(db.parent, os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


def connect_read_only(db) -> sqlite3.Connection:
    """The history, opened for reading only (SQLite's mode=ro): listing, showing and comparing
    work on a history this user cannot write, and never change it. (An older history is
    migrated first, which needs write access.)"""
    from urllib.parse import quote

    db = Path(db)
    uri = f"file:{quote(str(db.resolve()))}?mode=ro"
    try:
        try:
            con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                  isolation_level=None)
            version = _schema_version(con)
        except sqlite3.OperationalError:
            # A WAL database in a directory this user cannot write: SQLite cannot make the
            # shared-memory file its readers coordinate through. No writer can be here either
            # (one would need that directory), so the file is read as it stands.
            con = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None)
            version = _schema_version(con)
    except sqlite3.DatabaseError as e:
        raise BenchError(f"not a usable SQLite history database ({e})", path=db) from None
    if version is None or version < HISTORY_SCHEMA_VERSION:
        con.close()  # an older history is migrated first, which writes it (connect says so)
        return connect(db)
    if version > HISTORY_SCHEMA_VERSION:
        con.close()
        raise BenchError(f"history schema_version {version} is newer than this dcgan-bench "
                         f"understands ({HISTORY_SCHEMA_VERSION}); upgrade it", path=db)
    return con


def _plain(value):
    """SQLite values: NaN and missing become NULL, booleans and numbers stay numbers."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def _row_json(row: pd.Series) -> str:
    """A results row as stored, with the record schema it was written under (rows are migrated
    on read, as run records are: bench.rundirs)."""
    return json.dumps({"schema_version": schema.SCHEMA_VERSION,
                       **{k: _plain(v) for k, v in row.items()}})


def _stored_row(text: str) -> dict:
    """A stored results row brought to today's schema, without its schema_version."""
    row = rundirs.migrate(rundirs.RESULTS_ROW, json.loads(text))
    return {k: v for k, v in row.items() if k != "schema_version"}


def ingest(run_dir, db=None) -> tuple[str, bool]:
    """Put one finished grid run directory into the history; (run id, whether it was new)."""
    return ingest_run(run_dir_to_run(run_dir), db)


def _checked_for_ingest(loaded: Run):
    """BenchError, naming what, for a run the history must not keep: one still being written,
    one with no finished cell, one whose manifest lacks what verdicts need."""
    run, cells, path = loaded.info, loaded.results, loaded.info.get("path")
    holder = runlock.live_holder(Path(path)) if path else None
    if holder:
        raise BenchError(f"this run is still being written (its grid, {holder}, holds the "
                         "lock): ingest it when the grid has ended", path=path)
    if not isinstance(run.get("started"), str) or not run["started"]:
        raise BenchError(f"manifest.json: field `started` expected a start time (the nights are "
                         f"ordered by it), found {run.get('started')!r}", path=path)
    ended = cells["status"].isin((schema.STATUS_OK, schema.STATUS_DIVERGED, schema.STATUS_FAILED))
    if not ended.any():
        counts = ", ".join(f"{n} {status}" for status, n in
                           cells["status"].fillna(schema.STATUS_MISSING).value_counts().items())
        raise BenchError(f"no cell of this run has finished ({counts}): nothing to keep in the "
                         "history; finish it first (dcgan-bench grid SPEC --out RUN --resume)",
                         path=path)


def content_sha256(loaded: Run) -> str:
    """The run's whole content: its manifest's hash and every cell's results row and windows,
    not where it was read from (a row's `cell_dir` is spelled as the reader was given it)."""
    digest = hashlib.sha256((loaded.info.get("manifest_sha256") or "").encode())
    for _, row in loaded.results.sort_values("cell_id").iterrows():
        digest.update(_row_json(row.drop(labels=["cell_dir"], errors="ignore")).encode())
        digest.update(json.dumps(loaded.windows.get(row["cell_id"], [])).encode())
    return digest.hexdigest()


def _stored_id(con, run: dict) -> tuple[str, str]:
    """Where the run goes: (its id, "unchanged" | "more" | "new"). Its folder's name is its id
    unless a different run holds that name (another machine's run of the same time, say): then
    the name and its content's hash. The same run with more of it finished (a grid resumed after
    an ingest) replaces what was kept of it."""
    for run_id in (run["id"], f"{run['id']}+{run['content_sha256'][:8]}"):
        kept = con.execute("SELECT manifest_sha256, content_sha256, started FROM runs "
                           "WHERE id = ?", (run_id,)).fetchone()
        if kept is None:
            return run_id, "new"
        manifest, content, started = kept
        if content == run["content_sha256"] or (content is None and started == run["started"]):
            return run_id, "unchanged"  # (a run kept before contents were hashed: by its time)
        if manifest is not None and manifest == run["manifest_sha256"]:
            return run_id, "more"
    raise BenchError(f"two different runs already hold {run['id']!r} and its content-named id "
                     "in the history", path=run.get("path"))


def ingest_run(loaded: Run, db=None) -> tuple[str, bool]:
    """Put a run read from its directory into the history; (its id there, whether the history
    changed). The id is the folder's `<grid>/<run dir>` unless a different run holds it
    (_stored_id). BenchError for a run still being written, without a finished cell, or whose
    manifest lacks its start time."""
    _checked_for_ingest(loaded)
    cells = loaded.results
    run = {**loaded.info, "content_sha256": content_sha256(loaded)}
    con = connect(db or default_db())
    try:
        con.execute("BEGIN IMMEDIATE")  # one writer at a time; others wait (busy timeout)
        run["id"], how = _stored_id(con, run)
        if how == "unchanged":
            con.execute("ROLLBACK")
            return run["id"], False
        if how == "more":  # its verdict judged cells that are no longer all it has
            for table in ("windows", "cells", "verdicts"):
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", (run["id"],))
            con.execute("DELETE FROM runs WHERE id = ?", (run["id"],))
        # columns named: a migrated table has its added columns last, a new one in schema order
        con.execute(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
                    [run.get(c) for c in RUN_COLUMNS])
        names = ("run_id", "cell_id", *CELL_COLUMNS, "row_json")
        for _, row in cells.iterrows():
            values = [run["id"], row["cell_id"], *(_plain(row.get(c)) for c in CELL_COLUMNS),
                      _row_json(row)]
            con.execute(f"INSERT INTO cells ({', '.join(names)}) "
                        f"VALUES ({', '.join('?' * len(values))})", values)
        con.executemany("INSERT INTO windows (run_id, cell_id, step, images_per_sec, contention)"
                        " VALUES (?, ?, ?, ?, ?)",
                        [(run["id"], cell, step, ips, share)
                         for cell, rows in loaded.windows.items() for step, ips, share in rows])
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return run["id"], True


def _query(db, sql, params=()) -> list[dict]:
    """Rows of a read; a history that does not exist is an error here, never created."""
    db = Path(db or default_db())
    if not db.is_file():
        raise BenchError("no such history database (`dcgan-bench history ingest RUN_DIR` "
                         "creates it)", path=db)
    con = connect_read_only(db)
    try:
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


RUNS_SQL = ("SELECT runs.*, (SELECT COUNT(*) FROM cells WHERE run_id = runs.id) AS cells, "
            "verdicts.verdict, verdicts.baseline_id, verdicts.details_json, "
            "accepted.accepted_at, accepted.by AS accepted_by, accepted.why AS accepted_why "
            "FROM runs LEFT JOIN verdicts ON verdicts.run_id = runs.id "
            "LEFT JOIN accepted ON accepted.run_id = runs.id")


def list_runs(db=None) -> list[dict]:
    """Every run, oldest first, with its cell count and its verdict (None: never compared)."""
    return _query(db, RUNS_SQL + " ORDER BY started, id")


def kept_id(loaded: Run, db=None) -> str | None:
    """The id under which the history keeps this very run (by its content; a run kept before
    contents were hashed, by its folder's name and start time), or None."""
    if not Path(db or default_db()).is_file():
        return None
    content = content_sha256(loaded)
    rows = _query(db, "SELECT id FROM runs WHERE content_sha256 = ? OR (content_sha256 IS NULL "
                      "AND id = ? AND started IS ?) ORDER BY id",
                  (content, loaded.id, loaded.info.get("started")))
    return rows[0]["id"] if rows else None


def run_info(run_id: str, db=None) -> dict:
    """One run's row, as list_runs gives it; looked up by id, not by reading every run."""
    found = _query(db, RUNS_SQL + " WHERE runs.id = ?", (run_id,))
    if not found:
        known = ", ".join(r["id"] for r in list_runs(db)[-5:]) or "none"
        raise BenchError(f"no run {run_id!r} in the history (newest: {known})",
                         path=db or default_db())
    return found[0]


def run_results(run_id: str, db=None, info: dict | None = None) -> pd.DataFrame:
    """The run's cells as the DataFrame load_results reads from its run directory."""
    if info is None:
        run_info(run_id, db)  # a clear error for an unknown id
    rows = _query(db, "SELECT * FROM cells WHERE run_id = ? ORDER BY rowid", (run_id,))
    # Schema-1 rows kept only their columns: read back what they have.
    return pd.DataFrame([_stored_row(r["row_json"]) if r["row_json"] else
                         {"cell_id": r["cell_id"], **{c: r[c] for c in CELL_COLUMNS}}
                         for r in rows])


def history_to_run(run_id: str, db=None) -> Run:
    info = run_info(run_id, db)
    windows: dict[str, list[tuple[int, float, float | None]]] = {}
    for r in _query(db, "SELECT cell_id, step, images_per_sec, contention FROM windows "
                        "WHERE run_id = ? ORDER BY cell_id, step", (run_id,)):
        windows.setdefault(r["cell_id"], []).append((r["step"], r["images_per_sec"],
                                                     r["contention"]))
    return Run(run_id, info, run_results(run_id, db, info), windows)


def accept(run_id: str, by: str, why: str, db=None) -> dict:
    """Record that a person made `run_id` the new baseline of its spec and machines (what that
    changes: bench.analysis.baseline), with who, when and why; accepting again replaces the
    record. Its row as list_runs gives it."""
    if not why.strip():
        raise BenchError("--why: say why this run becomes the baseline (it is kept with it)")
    run_info(run_id, db)  # a clear error for an unknown id
    con = connect(db or default_db())
    try:
        con.execute("INSERT OR REPLACE INTO accepted VALUES (?, ?, ?, ?)",
                    (run_id, datetime.now(UTC).isoformat(timespec="seconds"), by, why))
    finally:
        con.close()
    return run_info(run_id, db)


def open_regressions(night: dict) -> dict:
    """Configuration -> the regression a night left open ({since, found}), from its verdict."""
    return verdict_details(night).get("open") or {}


def verdict_details(night: dict) -> dict:
    """A night's verdict details (thresholds, every configuration's state), brought to today's
    schema as run records are (bench.rundirs); {} for a night never compared."""
    if not night.get("details_json"):
        return {}
    return rundirs.migrate(rundirs.VERDICT_DETAILS, json.loads(night["details_json"]))


def record_verdict(run_id: str, baseline_id: str | None, verdict: str, details: dict, db=None):
    """Store (or replace) the verdict of `run_id`'s comparison with `baseline_id`."""
    con = connect(db or default_db())
    try:
        con.execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?)",
                    (run_id, baseline_id, verdict,
                     datetime.now(UTC).isoformat(timespec="seconds"),
                     json.dumps({"schema_version": schema.SCHEMA_VERSION, **details})))
    finally:
        con.close()


def resolve_run(ref: str, db=None) -> Run:
    """A run from a grid run directory, or from the history by id."""
    path = Path(ref)
    if path.is_dir():
        return run_dir_to_run(path)
    db = Path(db or default_db())
    if not db.is_file():
        raise BenchError(f"{ref!r} is not a run directory, and there is no history to look it up "
                         f"in ({db} does not exist; see `dcgan-bench history ingest`)")
    return history_to_run(ref, db)
