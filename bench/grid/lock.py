"""One writer a run directory: a grid (new, `--resume`, or a Ray driver) holds an exclusive lock
on its `--out` for as long as it runs.

The lock is the operating system's (`filelock`: flock on Unix) on `<out>/.grid.lock`, so it is
let go when its holder ends in any way, a kill -9 included: a second grid on a directory whose
holder died takes the lock over; a second grid on a directory whose holder lives is refused at
once (exit 2), naming the holder from `<out>/.grid.lock.json` (pid, host, command, since when),
which the holder writes as soon as it has the lock.
"""

import datetime
import json
import os
import platform
import sys
from pathlib import Path

from bench import records
from bench.errors import BenchError

# The lock's files and who holds it are read by the history too (a run still being written is
# not ingested, a run whose lock is free has no writer): they live in the shared layer.
from bench.runlock import HOLDER_FILE, LOCK_FILE, holder_text

FILES = (LOCK_FILE, HOLDER_FILE)  # what an otherwise empty run directory may hold


def check_out_dir(out_dir: Path):
    """BenchError, before anything is written, for an --out no grid can write: a link to nothing,
    a file, a directory where the lock file goes, a directory this user cannot write."""
    out_dir = Path(out_dir)
    if out_dir.is_symlink() and not out_dir.exists():
        raise BenchError(f"is a link to {os.readlink(out_dir)}, which does not exist; create "
                         "it, or choose another --out", path=out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BenchError("exists and is not a directory; choose another --out", path=out_dir)
    if (out_dir / LOCK_FILE).is_dir():
        raise BenchError(f"{LOCK_FILE} here is a directory, where the grid's lock file goes; "
                         "remove it", path=out_dir)
    existing = next(p for p in (out_dir, *out_dir.absolute().parents) if p.exists())
    if not os.access(existing, os.W_OK):
        raise BenchError(f"cannot be written here ({existing} is read-only for this user); "
                         "choose another --out", path=out_dir)


class RunDirLock:
    """`with RunDirLock(out_dir):` holds the run directory, creating it if needed; BenchError at
    once when another live process holds it. `took_over` names a dead holder replaced."""

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)
        self.took_over = None
        self._lock = None

    def __enter__(self):
        import filelock

        check_out_dir(self.out_dir)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._lock = filelock.FileLock(self.out_dir / LOCK_FILE, timeout=0)
            self._lock.acquire()
        # First: filelock 4's Timeout is a TimeoutError, so an OSError too.
        except filelock.Timeout:
            raise BenchError(f"another grid is writing this run directory: "
                             f"{holder_text(self.out_dir)}; wait for it to end, or choose "
                             "another --out", path=self.out_dir) from None
        except OSError as e:  # a read-only or full file system, a directory not ours
            raise BenchError(f"cannot write the run directory ({e.strerror or e}); choose "
                             "another --out", path=self.out_dir) from None
        if (self.out_dir / HOLDER_FILE).is_file():  # left by a holder that died holding it
            self.took_over = holder_text(self.out_dir)
        records.write_text_atomic(self.out_dir / HOLDER_FILE, json.dumps({
            "pid": os.getpid(), "host": platform.node(),
            "since": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": " ".join(["dcgan-bench", *sys.argv[1:]])[:300]}) + "\n")
        return self

    def __exit__(self, *exc):
        (self.out_dir / HOLDER_FILE).unlink(missing_ok=True)
        self._lock.release()
        return False
