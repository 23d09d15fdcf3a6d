"""A run directory's lock, as its readers ask about it: the grid holding a run (bench.grid.lock
takes it) writes `.grid.lock` (the operating system's lock, let go however the holder ends) and
`.grid.lock.json` (who holds it). A run whose lock is held is still being written: its running
cells are running, and the history refuses it; one whose lock is free has no writer, and a cell
of it that still says `running` was interrupted.
"""

import json
from pathlib import Path

from bench import schema

LOCK_FILE = ".grid.lock"
HOLDER_FILE = ".grid.lock.json"


def holder_text(out_dir: Path) -> str:
    """Who holds (or last held) the lock, as a person reads it."""
    try:
        holder = json.loads((Path(out_dir) / HOLDER_FILE).read_text(encoding="utf-8"))
        return (f"pid {holder['pid']} on {holder['host']} since {holder['since']} "
                f"({holder['command']})")
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not said who it is yet"


def runs_in_progress(cell_dirs) -> dict[Path, str]:
    """Each run directory among the cells' parents that a live grid is still writing, with who
    holds it (holder_text): its numbers are those of the cells finished so far."""
    runs = dict.fromkeys(Path(c).parent for c in cell_dirs if isinstance(c, (str, Path)))
    held = {run: live_holder(run) for run in runs if (run / schema.MANIFEST_FILE).is_file()}
    return {run: holder for run, holder in held.items() if holder}


def live_holder(out_dir: Path) -> str | None:
    """Who is writing the run directory now (holder_text), or None where no live process holds
    its lock. The lock is tried, never waited for, and let go at once."""
    import filelock

    if not (Path(out_dir) / LOCK_FILE).is_file():
        return None
    probe = filelock.FileLock(Path(out_dir) / LOCK_FILE, timeout=0)
    try:
        probe.acquire()
    except filelock.Timeout:
        return holder_text(out_dir)
    except OSError:  # a directory this user cannot write: no grid of theirs is writing it
        return None
    probe.release()
    return None
