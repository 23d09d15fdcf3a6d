"""The run history in SQLite: idempotent, atomic ingest; concurrent ingests lose nothing."""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench.analysis import history
from bench.errors import BenchError

GOLDEN = Path(__file__).parent / "data" / "runs" / "golden"
ROOT = Path(__file__).resolve().parent.parent


def _counts(db):
    con = sqlite3.connect(db)
    try:
        return tuple(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                     for t in ("runs", "cells", "windows"))
    finally:
        con.close()


def test_ingest_is_idempotent_and_keeps_every_cell_and_window(tmp_path):
    db = tmp_path / "h.sqlite"
    run_id, new = history.ingest(GOLDEN, db)
    assert new and run_id == "runs/golden"
    # 11 cells; 8 ok cells x 9 measured windows, and the diverged cell's 6 finite windows
    # before step 140 (its warm-up window is left out, as in every cell)
    counts = _counts(db)
    assert counts[:2] == (1, 11)
    assert counts[2] == 8 * 9 + 6
    assert history.ingest(GOLDEN, db) == (run_id, False)
    assert _counts(db) == counts  # the same run twice changes nothing
    (row,) = history.list_runs(db)
    assert row["spec_name"] == "golden" and row["cells"] == 11


def test_a_newer_history_schema_is_refused(tmp_path):
    db = tmp_path / "h.sqlite"
    history.ingest(GOLDEN, db)
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(BenchError, match="schema_version 99 is newer"):
        history.list_runs(db)


def test_two_processes_ingesting_at_once_lose_and_double_nothing(tmp_path):
    db = tmp_path / "h.sqlite"
    runs = []
    for name in ("a", "b"):
        run = tmp_path / "runs" / name / "night"
        shutil.copytree(GOLDEN, run)
        runs.append(run)
    code = "import sys; from bench.analysis import history; history.ingest(sys.argv[1], sys.argv[2])"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(run), str(db)], cwd=ROOT)
             for run in runs + runs]  # each run twice, four writers at once
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    assert _counts(db) == (2, 22, 2 * (8 * 9 + 6))


def test_history_commands(tmp_path, capsys):
    from bench.cli import main

    db = str(tmp_path / "h.sqlite")
    assert main(["history", "ingest", str(GOLDEN), "--db", db]) == 0
    assert "ingested: runs/golden" in capsys.readouterr().out
    assert main(["history", "ingest", str(GOLDEN), "--db", db]) == 0
    assert "already in the history, unchanged: runs/golden" in capsys.readouterr().out
    assert main(["history", "list", "--db", db]) == 0
    assert "runs/golden\t2025-01-01T00:00:00+00:00\tgolden\t11 cells" in capsys.readouterr().out
    assert main(["history", "ingest", str(tmp_path), "--db", db]) == 2
    assert "not a grid run directory" in capsys.readouterr().err
