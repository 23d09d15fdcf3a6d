"""One writer a run directory (bench.grid.lock), with real grid processes: a second grid on a run
directory another grid is writing is refused at once, naming the holder, in either order (a new
grid, then `--resume`; a `--resume`, then a new grid); a grid whose holder died takes its lock
over, its cell's process having died with it (kill -9 of the grid alone); and no grid deletes
what an earlier process wrote (an earlier attempt is kept apart)."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hogs import TINY_TF_CELL, tiny_tf_spec
from process_faults import cell_pids

from bench import records, schema
from bench.errors import BenchError
from bench.grid import lock

ROOT = Path(__file__).resolve().parent.parent
FIRST = TINY_TF_CELL  # one cell: what a lock guards is the same


_STARTED: list[subprocess.Popen] = []


def _grid(spec, out, *extra, **popen):
    proc = subprocess.Popen([sys.executable, "-m", "bench", "grid", str(spec), "--out", str(out),
                             *extra], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, **popen)
    _STARTED.append(proc)
    return proc


@pytest.fixture(autouse=True)
def _no_grid_outlives_its_test():
    """A test that fails mid-way leaves no grid training beside the next test."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()


def _wait_for(path: Path, deadline: float):
    while time.time() < deadline and not path.exists():
        time.sleep(0.3)
    assert path.exists(), f"{path} never appeared"


def _wait_for_holder(out: Path, pid: int, deadline: float):
    """Until the grid of process `pid` holds the run directory (it says so in the holder file)."""
    holder = out / lock.HOLDER_FILE
    while time.time() < deadline:
        try:
            if json.loads(holder.read_text())["pid"] == pid:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"grid {pid} never took the lock on {out}")


@pytest.fixture
def spec(tmp_path, machine_pace):
    steps = machine_pace.steps_for(12)  # the cell trains about 12 s here: the refusals land in it
    path = tmp_path / "lock.toml"
    path.write_text(tiny_tf_spec("lock", steps))
    return path, machine_pace.timeout(steps)


@pytest.mark.slow
@pytest.mark.parametrize("first_args, second_args", [((), ("--resume",)), (("--resume",), ())],
                         ids=["new-then-resume", "resume-then-new"])
def test_a_second_grid_is_refused_at_once_naming_the_holder(tmp_path, spec, first_args,
                                                            second_args):
    spec, timeout = spec
    out = tmp_path / "run"
    if "--resume" in first_args:  # a run to resume: its manifest, and no cell finished yet
        started = _grid(spec, out)
        _wait_for(out / FIRST / schema.STEPS_FILE, time.time() + timeout)
        os.killpg(started.pid, signal.SIGKILL)
        started.wait()
    first = _grid(spec, out, *first_args)
    _wait_for_holder(out, first.pid, time.time() + timeout)
    _wait_for(out / FIRST / schema.STEPS_FILE, time.time() + timeout)
    second = _grid(spec, out, *second_args)
    _, err = second.communicate(timeout=timeout)
    assert second.returncode == 2, err
    assert "another grid is writing this run directory" in err
    assert f"pid {first.pid} on" in err  # the holder, named
    assert first.poll() is None  # refused while the first grid still trains its first cell
    out_text, err_first = first.communicate(timeout=timeout)
    assert first.returncode == 0, err_first
    results = pd.read_csv(out / schema.RESULTS_FILE)
    assert list(results["status"]) == ["ok"]  # nothing of the first grid's was lost
    assert records.read_json_record(out / FIRST / schema.SUMMARY_FILE)["status"] == "ok"
    assert not (out / lock.HOLDER_FILE).exists()  # let go at the end


@pytest.mark.slow
def test_a_dead_holders_lock_is_taken_over_and_its_work_kept_apart(tmp_path, spec):
    spec, timeout = spec
    out = tmp_path / "run"
    first = _grid(spec, out)
    _wait_for(out / FIRST / schema.STEPS_FILE, time.time() + timeout)
    assert len(cell_pids(out / FIRST)) == 1
    os.kill(first.pid, signal.SIGKILL)  # the grid alone dies holding the lock: its cell with it
    first.wait()
    deadline = time.time() + timeout  # a dead process's cmdline reads empty, a zombie's too
    while time.time() < deadline and cell_pids(out / FIRST):
        time.sleep(0.1)
    assert not cell_pids(out / FIRST), "the cell outlived its grid"
    killed = (out / FIRST / schema.STEPS_FILE).read_bytes()
    resumed = _grid(spec, out, "--resume")
    _, err = resumed.communicate(timeout=timeout)
    assert resumed.returncode == 0, err
    assert f"took over the run directory's lock from pid {first.pid}" in err
    # the killed attempt was moved aside, not deleted, and the cell trained again
    attempt = out / "attempts" / f"{FIRST}.1"
    assert (attempt / schema.STEPS_FILE).read_bytes() == killed
    assert records.read_json_record(attempt / schema.SUMMARY_FILE)["status"] == "running"
    assert records.read_json_record(out / FIRST / schema.SUMMARY_FILE)["status"] == "ok"


def test_a_held_lock_is_named_as_held_not_as_a_directory_it_cannot_write(tmp_path):
    """filelock 4's Timeout is an OSError too: a live holder must still read as a holder."""
    out = tmp_path / "run"
    out.mkdir()
    (out / lock.HOLDER_FILE).write_text(json.dumps({
        "pid": 4242, "host": "elsewhere", "since": "2026-12-07T06:00:00+00:00",
        "command": "dcgan-bench grid nightly.toml"}))
    with open(out / lock.LOCK_FILE, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another open file: another holder
        with pytest.raises(BenchError) as refused:
            lock.RunDirLock(out).__enter__()
    assert "another grid is writing this run directory: pid 4242 on elsewhere" in str(refused.value)
    assert "cannot write" not in str(refused.value)
