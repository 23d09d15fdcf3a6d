"""Run and cell states that are true when read: a cell whose summary still says `running` in a
run no grid holds is `interrupted` (its grid was killed before it could say so); in a run whose
grid still holds the lock it is `running`, and `table` and `report` say the run is in progress."""

import fcntl
import json
from pathlib import Path

import pytest
from nights import craft_night

from bench import runlock, schema
from bench.analysis.results import load_results
from bench.cli import main

CELL = "cpu_float32_xla-off_bs64_seed1"


@pytest.fixture
def stopped_run(tmp_path):
    """A run whose cell CELL says `running` (its grid was killed before it could say otherwise)."""
    run = craft_night(tmp_path / "runs" / "nightly", "N1", "2026-12-01T02:00:00+00:00")
    summary = run / CELL / schema.SUMMARY_FILE
    summary.write_text(json.dumps({**json.loads(summary.read_text()), "status": "running"}))
    return run


def _held(run: Path, pid=4242):
    """The run's lock taken as a live grid holds it, and its holder file."""
    (run / runlock.HOLDER_FILE).write_text(json.dumps({
        "pid": pid, "host": "here", "since": "2026-12-01T02:00:00+00:00",
        "command": "dcgan-bench grid nightly.toml"}))
    held = open(run / runlock.LOCK_FILE, "w")
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return held


def test_a_running_cell_of_a_run_no_grid_holds_reads_interrupted(stopped_run):
    row = load_results([stopped_run]).set_index("cell_id").loc[CELL]
    assert row["status"] == schema.STATUS_INTERRUPTED
    assert "its grid ended without recording it" in row["reason"] and "--resume" in row["reason"]
    assert runlock.runs_in_progress([stopped_run / CELL]) == {}


def test_a_run_still_being_written_is_in_progress_in_table_and_report(stopped_run, capsys,
                                                                      tmp_path):
    with _held(stopped_run):
        row = load_results([stopped_run]).set_index("cell_id").loc[CELL]
        assert row["status"] == schema.STATUS_RUNNING
        assert runlock.runs_in_progress([stopped_run / CELL]) == {
            stopped_run: "pid 4242 on here since 2026-12-01T02:00:00+00:00 (dcgan-bench grid "
                         "nightly.toml)"}
        assert main(["table", str(stopped_run)]) == 0
        err = capsys.readouterr().err
        assert f"in progress: {stopped_run} is still being written by its grid (pid 4242" in err
        assert main(["report", str(stopped_run), "--out", str(tmp_path / "rep")]) == 0
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "In progress: N1 is still being written by its grid (pid 4242 on here" in page
    # once the grid has let go, the same records read as a stopped run
    assert load_results([stopped_run]).set_index("cell_id").loc[CELL, "status"] == "interrupted"
