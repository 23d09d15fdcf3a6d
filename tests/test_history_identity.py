"""A history that cannot be misfiled (issue 46): a run is known by its content, not its folder's
name; a run still being written is refused; a run ingested half-finished is completed when
ingested again; a manifest without its start time is refused, the field named; a history this
user cannot write is called read-only. Crafted nights (tests/nights.py), real SQLite, and real
processes where the fault is one (a grid's lock held, a user who cannot write)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mounts import read_only_view
from nights import craft_night

from bench import schema
from bench.analysis import history
from bench.analysis.baseline import LAST_GOOD
from bench.analysis.runs import run_dir_to_run
from bench.analysis.verdicts import judge_run
from bench.errors import BenchError

ROOT = Path(__file__).resolve().parent.parent
CELL = "cpu_float32_xla-off_bs64_seed0"


def _ids(db) -> list[str]:
    return sorted(r["id"] for r in history.list_runs(db))


def test_two_runs_of_one_folder_name_are_both_kept_and_judged_apart(tmp_path):
    """Two machines' nights named alike (`nightly/N1`): the second is kept under its name and
    content hash, and its verdict is filed on it, not on the first."""
    db = tmp_path / "h.sqlite"
    first = craft_night(tmp_path / "a" / "nightly", "N1", "2026-12-01T02:00:00+00:00")
    second = craft_night(tmp_path / "b" / "nightly", "N1", "2026-12-02T02:00:00+00:00", 0.5)
    assert history.ingest(first, db) == ("nightly/N1", True)
    second_id, new = history.ingest(second, db)
    assert new and second_id.startswith("nightly/N1+") and len(second_id) == len("nightly/N1+") + 8
    assert history.ingest(second, db) == (second_id, False)  # the same run again: unchanged
    judgement = judge_run(run_dir_to_run(second), LAST_GOOD, db)
    assert judgement.result["candidate"] == second_id and judgement.result["baseline"] == "nightly/N1"
    assert history.run_info(second_id, db)["verdict"] == judgement.result["verdict"]
    assert history.run_info("nightly/N1", db)["verdict"] is None


def test_a_run_is_the_same_run_however_its_path_is_spelled(tmp_path, monkeypatch):
    """Ingested through a relative path (as the nightly job does), found through an absolute
    one (as `compare` is given it): its rows' cell_dir differ, its content does not."""
    db = tmp_path / "h.sqlite"
    run = craft_night(tmp_path / "r" / "nightly", "N1", "2026-12-01T02:00:00+00:00")
    monkeypatch.chdir(tmp_path)
    assert history.ingest(Path("r") / "nightly" / "N1", db) == ("nightly/N1", True)
    assert history.kept_id(run_dir_to_run(run), db) == "nightly/N1"
    assert history.ingest(run, db) == ("nightly/N1", False)


def test_a_run_ingested_half_finished_is_completed_by_the_next_ingest(tmp_path):
    """A cell still running when the run was first ingested, ok when it is ingested again: the
    history keeps the finished run (it was "unchanged" before)."""
    db = tmp_path / "h.sqlite"
    run = craft_night(tmp_path / "r" / "nightly", "N1", "2026-12-01T02:00:00+00:00")
    summary = run / CELL / schema.SUMMARY_FILE
    finished = summary.read_text()
    summary.write_text(json.dumps({**json.loads(finished), "status": "running"}))
    assert history.ingest(run, db) == ("nightly/N1", True)
    # no grid holds the run: the cell that says `running` will never finish, and reads so
    assert history.run_results("nightly/N1", db).set_index("cell_id").loc[CELL, "status"] \
        == "interrupted"
    summary.write_text(finished)
    assert history.ingest(run, db) == ("nightly/N1", True)
    assert _ids(db) == ["nightly/N1"]
    assert history.run_results("nightly/N1", db).set_index("cell_id").loc[CELL, "status"] == "ok"


def test_a_run_whose_grid_holds_its_lock_is_refused(tmp_path):
    """A real process holds the run directory's lock, as a running grid does."""
    run = craft_night(tmp_path / "r" / "nightly", "N1", "2026-12-01T02:00:00+00:00")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom bench.grid.lock import RunDirLock\n"
         "with RunDirLock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(600)\n",
         str(run)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(BenchError, match=rf"still being written \(its grid, pid {holder.pid}"):
            history.ingest(run, tmp_path / "h.sqlite")
    finally:
        holder.kill()
        holder.wait()
    assert history.ingest(run, tmp_path / "h.sqlite") == ("nightly/N1", True)


def test_a_manifest_without_its_start_time_is_refused_naming_the_field(tmp_path):
    run = craft_night(tmp_path / "r" / "nightly", "N1", "2026-12-01T02:00:00+00:00")
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["started"]
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BenchError, match=r"manifest.json: field `started` expected a start time"):
        history.ingest(run, tmp_path / "h.sqlite")
    assert not (tmp_path / "h.sqlite").exists() or _ids(tmp_path / "h.sqlite") == []


def test_a_history_this_user_cannot_write_is_called_read_only(tmp_path):
    """A real read-only directory (bench: the history's file and its journal's directory)."""
    run = craft_night(tmp_path / "r" / "nightly", "N1", "2026-12-01T02:00:00+00:00")
    other = craft_night(tmp_path / "r2" / "nightly", "N2", "2026-12-02T02:00:00+00:00")
    history.ingest(run, tmp_path / "hist" / "h.sqlite")
    with read_only_view(tmp_path / "hist") as hist:
        proc = subprocess.run([sys.executable, "-m", "bench", "history", "ingest", str(other),
                               "--db", str(hist / "h.sqlite")], cwd=ROOT, capture_output=True,
                              text=True)
        assert proc.returncode == 2, proc.stderr
        assert "the history is read-only here" in proc.stderr and "Traceback" not in proc.stderr
        listed = subprocess.run([sys.executable, "-m", "bench", "history", "list", "--db",
                                 str(hist / "h.sqlite")], cwd=ROOT, capture_output=True, text=True)
        assert listed.returncode == 0 and "nightly/N1" in listed.stdout, listed.stderr
