"""The run history in SQLite: idempotent, atomic ingest; concurrent ingests lose nothing; older
databases migrated (tests/data/history-v1.sqlite, and a schema-4 one made here)."""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from process_faults import KILL_MID_INGEST

from bench import schema
from bench.analysis import history
from bench.analysis.runs import run_dir_to_run
from bench.cli import main
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


def test_two_processes_ingesting_at_once_lose_and_double_nothing(tmp_path, machine_pace):
    db = tmp_path / "h.sqlite"
    runs = []
    for name in ("a", "b"):
        run = tmp_path / "runs" / name / "night"
        shutil.copytree(GOLDEN, run)
        runs.append(run)
    code = "import sys; from bench.analysis import history; history.ingest(sys.argv[1], sys.argv[2])"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(run), str(db)], cwd=ROOT)
             for run in runs + runs]  # each run twice, four writers at once
    assert [p.wait(timeout=machine_pace.timeout(factor=8)) for p in procs] == [0, 0, 0, 0]
    assert _counts(db) == (2, 22, 2 * (8 * 9 + 6))


def test_history_commands(tmp_path, capsys):
    from bench.cli import main

    db = str(tmp_path / "h.sqlite")
    assert main(["history", "ingest", str(GOLDEN), "--db", db]) == 0
    assert "ingested: runs/golden" in capsys.readouterr().out
    assert main(["history", "ingest", str(GOLDEN), "--db", db]) == 0
    assert "already in the history, unchanged: runs/golden" in capsys.readouterr().out
    assert main(["history", "list", "--db", db]) == 0
    assert re.search(r"runs/golden +2025-01-01T00:00:00\+00:00 +golden +11 ", capsys.readouterr().out)
    assert main(["history", "ingest", str(tmp_path), "--db", db]) == 2
    assert "not a grid run directory" in capsys.readouterr().err


def test_a_killed_ingest_leaves_the_database_as_it_was(tmp_path):
    db = tmp_path / "h.sqlite"
    history.ingest(GOLDEN, db)
    before = _counts(db)
    second = tmp_path / "runs" / "other" / "night"
    shutil.copytree(GOLDEN, second)
    proc = subprocess.run([sys.executable, "-c", KILL_MID_INGEST, str(second), str(db)], cwd=ROOT)
    assert proc.returncode == -9  # killed inside the transaction
    assert _counts(db) == before  # no run, no cell, no window of the killed ingest
    assert [r["id"] for r in history.list_runs(db)] == ["runs/golden"]
    assert history.ingest(second, db) == ("other/night", True)  # and it can be ingested again
    assert _counts(db) == (2, 22, 2 * (8 * 9 + 6))


def test_the_history_gives_back_the_results_dataframe_of_the_run_directory(tmp_path):
    import pandas as pd

    from bench.analysis.results import load_results

    db = tmp_path / "h.sqlite"
    history.ingest(GOLDEN, db)
    pd.testing.assert_frame_equal(history.run_results("runs/golden", db), load_results([GOLDEN]))


def test_a_schema_1_history_is_migrated_and_keeps_its_runs(tmp_path):
    # tests/data/history-v1.sqlite: the golden grid ingested by the schema-1 code (commit 67eeac7)
    db = tmp_path / "h.sqlite"
    shutil.copy(Path(__file__).parent / "data" / "history-v1.sqlite", db)
    (run,) = history.list_runs(db)  # opening it migrates it, through every version since
    con = sqlite3.connect(db)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(history.HISTORY_SCHEMA_VERSION),)
    assert con.execute("SELECT COUNT(*) FROM verdicts").fetchone() == (0,)
    columns = {r[1] for r in con.execute("PRAGMA table_info(cells)")}
    assert {"row_json", "machine_fingerprint"} <= columns  # 1 -> 2 and 2 -> 3
    run_columns = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
    assert "framework_version" in run_columns and "tensorflow" not in run_columns  # 4 -> 5
    con.close()
    assert run["framework_version"] == "2.21.0"  # the fixture's `tensorflow` value, moved
    assert run["machines_json"] is None  # its machine was never recorded
    assert run["id"] == "runs/golden" and run["cells"] == 11 and run["verdict"] is None
    # a schema-1 cell kept its columns only: those come back
    results = history.run_results("runs/golden", db)
    row = results.set_index("cell_id").loc["cpu_float32_xla-off_bs64_seed0"]
    assert row["images_per_sec_median"] == 900.0 and row["final_fid"] == 40.0
    assert len(history.history_to_run("runs/golden", db).windows) == 9
    # new runs go in beside it, with whole rows
    other = tmp_path / "runs" / "other" / "night"
    shutil.copytree(GOLDEN, other)
    history.ingest(other, db)
    assert "steps" in history.run_results("other/night", db)
    assert history.run_results("other/night", db)["machine_fingerprint"].notna().any()


def _undo_6_to_7(con):
    con.execute("ALTER TABLE runs DROP COLUMN manifest_sha256")
    con.execute("ALTER TABLE runs DROP COLUMN content_sha256")


def _as_schema_4(db, versions: dict):
    """Turn a history written by today's code back into schema 4 by hand: the version column
    called `tensorflow` again, holding `versions` (run id -> value, None for a JAX run)."""
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE runs RENAME COLUMN framework_version TO tensorflow")
    con.executemany("UPDATE runs SET tensorflow = ? WHERE id = ?",
                    [(value, run_id) for run_id, value in versions.items()])
    con.execute("ALTER TABLE windows DROP COLUMN contention")  # 5 -> 6's, undone too
    _undo_6_to_7(con)
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.commit()
    con.close()


def test_a_schema_4_history_moves_tensorflow_into_framework_version(tmp_path):
    db = tmp_path / "h.sqlite"
    history.ingest(GOLDEN, db)
    other = tmp_path / "runs" / "jax" / "night"
    shutil.copytree(GOLDEN, other)
    history.ingest(other, db)
    _as_schema_4(db, {"runs/golden": "2.20.0", "jax/night": None})
    con = sqlite3.connect(db)
    assert "tensorflow" in {r[1] for r in con.execute("PRAGMA table_info(runs)")}
    con.close()
    runs = {r["id"]: r for r in history.list_runs(db)}  # opening it migrates it
    assert runs["runs/golden"]["framework_version"] == "2.20.0"
    assert runs["jax/night"]["framework_version"] is None  # schema 4 never held JAX's
    assert "tensorflow" not in runs["runs/golden"]
    con = sqlite3.connect(db)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("7",)
    con.close()
    assert history.HISTORY_SCHEMA_VERSION == 7
    # the migrated history takes new runs, into the renamed column
    third = tmp_path / "runs" / "third" / "night"
    shutil.copytree(GOLDEN, third)
    history.ingest(third, db)
    assert history.run_info("third/night", db)["framework_version"] == "2.21.0"


def _with_contention(run: Path, cell: str, shares: list) -> None:
    """Write a measured contention into each measured window of one cell's steps.jsonl, as a
    cell of today's records has it (bench.cell.contention)."""
    path = run / cell / "steps.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    measured = [line for line in lines if not line.get("excluded") and not line.get("warmup")]
    for line, share in zip(measured, shares):
        line.update(others_share=share, steal_share=0.0, cpu_share=1 - share, load_1m=1.0)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_a_schema_5_history_keeps_its_windows_and_learns_their_contention(tmp_path):
    """5 -> 6: windows kept before have no contention (NULL: not measured); runs ingested after
    keep each window's, and give it back as the run directory does."""
    db = tmp_path / "h.sqlite"
    history.ingest(GOLDEN, db)
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE windows DROP COLUMN contention")
    _undo_6_to_7(con)
    con.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    old = history.history_to_run("runs/golden", db)  # opening it migrates it
    assert {share for rows in old.windows.values() for _, _, share in rows} == {None}
    con = sqlite3.connect(db)
    assert "contention" in {r[1] for r in con.execute("PRAGMA table_info(windows)")}
    con.close()
    new = tmp_path / "runs" / "busy" / "night"
    shutil.copytree(GOLDEN, new)
    cell = "cpu_float32_xla-off_bs64_seed0"
    _with_contention(new, cell, [0.0, 0.5, 0.02])
    history.ingest(new, db)
    kept = history.history_to_run("busy/night", db)
    # each window as the rule judges it: the reading less two 10 ms ticks a core of its seconds
    seconds = [line["window_seconds"] for line in map(json.loads, (new / cell / "steps.jsonl")
               .read_text().splitlines()) if not line.get("excluded") and not line.get("warmup")]
    assert kept.window_contention(cell)[:3] == pytest.approx(
        [max(0.0, share - 0.02 / s) for share, s in zip([0.0, 0.5, 0.02], seconds)])
    assert kept.window_contention(cell)[1] > 0.4  # the golden windows are long enough to see it
    assert kept.windows == run_dir_to_run(new).windows


def test_a_schema_6_history_knows_its_runs_by_their_start_time(tmp_path):
    """6 -> 7: runs kept before have no content hash; the same run ingested again is unchanged
    (same folder name, same start time), and a different run of the same name is kept apart."""
    db = tmp_path / "h.sqlite"
    history.ingest(GOLDEN, db)
    con = sqlite3.connect(db)
    _undo_6_to_7(con)
    con.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    assert history.ingest(GOLDEN, db) == ("runs/golden", False)  # migrated, and unchanged
    other = tmp_path / "runs" / "golden"
    shutil.copytree(GOLDEN, other)
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "started": "2026-12-07T00:00Z"}))
    other_id, new = history.ingest(other, db)
    assert new and other_id.startswith("runs/golden+")


def _jax_run(root: Path) -> Path:
    """The golden grid as JAX would have recorded it in schema 3: each env.json names its
    framework and holds JAX's version under the framework's name, and no TensorFlow version."""
    run = root / "runs" / "jaxgrid" / "night"
    shutil.copytree(GOLDEN, run)
    for path in run.glob("*/env.json"):
        env = {k: v for k, v in json.loads(path.read_text()).items()
               if k not in ("tensorflow", schema.FRAMEWORK_VERSION)}
        env.update(schema_version=3, framework="jax", jax="0.10.2", jaxlib="0.10.2")
        path.write_text(json.dumps(env, indent=2) + "\n")
    for path in run.glob("*/config.json"):
        path.write_text(json.dumps({**json.loads(path.read_text()), "framework": "jax"}))
    return run


def test_a_jax_run_carries_jaxs_version(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    run_id, _ = history.ingest(_jax_run(tmp_path), db)
    assert history.run_info(run_id, db)[schema.FRAMEWORK_VERSION] == "0.10.2"
    results = history.run_results(run_id, db)
    ok = results[results["status"] == "ok"]
    assert set(ok[schema.FRAMEWORK]) == {"jax"} and set(ok[schema.FRAMEWORK_VERSION]) == {"0.10.2"}
    assert main(["history", "show", run_id, "--db", str(db)]) == 0
    assert "framework_version: 0.10.2" in capsys.readouterr().out


def test_history_show(tmp_path, capsys):
    from bench.cli import main

    db = str(tmp_path / "h.sqlite")
    history.ingest(GOLDEN, db)
    assert main(["history", "show", "runs/golden", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "spec_name: golden" in out and "verdict: not compared" in out
    assert "framework_version: 2.21.0" in out
    assert "cpu_float32_xla-off_bs64_seed0 ok 900 1.20 1,000 40.0 8.20 digits" in " ".join(
        out.split())
    assert main(["history", "show", "runs/nope", "--db", db]) == 2
    assert "no run 'runs/nope' in the history (newest: runs/golden)" in capsys.readouterr().err
    assert main(["history", "list", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "none.sqlite: no such history database" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()  # a read never creates one


def _make_read_only(paths) -> list:
    """Make files and directories unwritable, even by root (chattr +i on ext4), else by
    permissions; the undo functions, or None where neither can be done here."""
    import shutil
    import stat

    undo = []
    if os.geteuid() == 0:
        if not shutil.which("chattr"):
            return None
        for path in paths:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
                for u in undo:
                    u()
                return None
            undo.append(lambda p=path: subprocess.run(["chattr", "-i", str(p)], check=True))
        return undo
    for path in paths:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        undo.append(lambda p=path, m=mode: p.chmod(m))
    return undo


@pytest.mark.parametrize("what", ["file", "file and directory"])
def test_reading_commands_read_a_history_they_cannot_write(tmp_path, capsys, what):
    history_dir = tmp_path / "h"
    history_dir.mkdir()
    db = history_dir / "history.sqlite"
    assert main(["history", "ingest", str(GOLDEN), "--db", str(db)]) == 0
    run_id = history.list_runs(db)[0]["id"]
    capsys.readouterr()
    before = sorted(p.name for p in history_dir.iterdir())
    undo = _make_read_only([db] if what == "file" else [db, history_dir])
    if undo is None:
        pytest.skip("this file system cannot make a file read-only for root (no chattr +i)")
    try:
        assert main(["history", "list", "--db", str(db)]) == 0
        assert run_id in capsys.readouterr().out
        assert main(["history", "show", run_id, "--db", str(db)]) == 0
        assert "cpu_float32_xla-off_bs64_seed0" in capsys.readouterr().out
    finally:
        for u in undo:
            u()
    if what == "file and directory":
        assert sorted(p.name for p in history_dir.iterdir()) == before  # nothing written
