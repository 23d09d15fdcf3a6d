"""What the tests and tests/benchmarks/nightly_faults.py share to fault real processes: a
program that ingests a run and is killed with -9 inside its transaction, and the processes
training a cell."""

from pathlib import Path

# sys.argv: the run directory, the history
KILL_MID_INGEST = """
import os, signal, sys
from bench.analysis import history

real_connect = history.connect


def connect(db):
    # Test-only fault: the process is killed (SIGKILL: no cleanup, no rollback) when the ingest
    # starts writing windows, after its run and cell rows are in the open transaction.
    con = real_connect(db)
    con.set_trace_callback(lambda sql: sql.startswith("INSERT INTO windows")
                           and os.kill(os.getpid(), signal.SIGKILL))
    return con


history.connect = connect
history.ingest(sys.argv[1], sys.argv[2])
"""


def cell_pids(cell_dir: Path) -> list[int]:
    """The processes training `cell_dir` (bench.grid.worker with it on their command line, as
    the grid named it: relative to its working directory, or not). The whole path is compared,
    so a cell of another run with the same names (a test that failed and left its grid) is not
    counted."""
    wanted = Path(cell_dir).resolve()
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = (proc / "cwd").resolve()
        except OSError:
            continue
        if b"bench.grid.worker" in argv and any(
                (cwd / a.decode(errors="replace")).resolve() == wanted for a in argv if a):
            pids.append(int(proc.name))
    return pids
