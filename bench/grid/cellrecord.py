"""A cell's record as the grid keeps it, whatever launcher ran the cell.

The cell process (bench.grid.worker) writes its own record; what the grid adds around it lives
here, in one place for every launcher: a cell that cannot run on this machine is recorded as
`skipped`, a process that died before finishing its record as `failed` with the tail of its log,
placement and attempts are added to a summary, and results.csv is rewritten after each cell. The
record is read back through bench.rundirs, the one reader of run directories.
"""

import errno
import shutil
import signal
from pathlib import Path

from bench import records, rundirs, schema
from bench.errors import BenchError

LOG_DIR = "logs"  # <run dir>/logs/<cell id>.log: each cell process's stdout and stderr
LOG_TAIL_CHARS = 2000


def log_path(run_dir: Path, cell_id: str) -> Path:
    return Path(run_dir) / LOG_DIR / f"{cell_id}.log"


def skip_reason(cell, gpus: int) -> str | None:
    """Why a cell cannot run where `gpus` GPUs are visible, or None when it can."""
    device = cell.config.device
    if device != "cpu" and gpus == 0:
        return "no GPU visible to TensorFlow on this machine"
    if device.startswith("gpu:") and int(device[4:]) >= gpus:
        return f"{device} asked for; {gpus} GPU(s) visible"
    return None


ATTEMPTS_DIR = "attempts"


def set_aside(cell_dir: Path) -> Path | None:
    """Move an earlier attempt's cell directory to <run>/attempts/<cell>.<n> (n counting from 1),
    so that a rerun starts clean and nothing an earlier process wrote is deleted; where it went,
    or None when there was none."""
    if not cell_dir.exists():
        return None
    attempts = cell_dir.parent / ATTEMPTS_DIR
    attempts.mkdir(exist_ok=True)
    n = 1
    while (attempts / f"{cell_dir.name}.{n}").exists():
        n += 1
    cell_dir.rename(attempts / f"{cell_dir.name}.{n}")
    return attempts / f"{cell_dir.name}.{n}"


def record_skipped(cell, cell_dir: Path, reason: str):
    """A cell that never ran: its config and a `skipped` summary saying why."""
    set_aside(cell_dir)
    records.write_json_record(cell_dir / schema.CONFIG_FILE, cell.config.to_dict())
    records.write_json_record(cell_dir / schema.SUMMARY_FILE,
                              {"status": schema.STATUS_SKIPPED, "reason": reason})


# Under this many bytes free, the run's disk is taken as full: a process that cannot write
# ends in whatever way its libraries fail (an exception, a segmentation fault).
FULL_DISK_BYTES = 1 << 20


# what a process's log says when a write found the disk full (Python's, h5py's, the C library's)
NO_SPACE = ("No space left on device", "[Errno 28]", "ENOSPC")


def full_disk_note(path: Path, log_tail: str = "") -> str | None:
    """"the disk ... is full" where the file system holding `path` is nearly full, or the log
    says a write found it full (the failed file since removed), else None."""
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return None
    if free >= FULL_DISK_BYTES and not any(s in log_tail for s in NO_SPACE):
        return None
    return f"the disk holding {path} is full ({free:,} bytes free now)"


def record_unfinished(cell_dir: Path, how: str, log_tail: str):
    """A cell whose process ended without finishing its record: `failed`, with how, the disk
    where it is full, and the tail of its log. BenchError where the disk is too full to record
    even that: the grid cannot go on."""
    full = full_disk_note(cell_dir, log_tail)
    reason = f"cell process ended with {how} before finishing its record"
    try:
        records.write_json_record(cell_dir / schema.SUMMARY_FILE, {
            "status": schema.STATUS_FAILED,
            "reason": f"{full}: {reason}" if full else reason,
            "log_tail": log_tail})
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise BenchError(f"{full_disk_note(cell_dir) or 'the disk is full'}: the grid stops "
                         f"(the cells finished so far are kept); free some space and run it "
                         f"again with --resume", path=cell_dir) from None


# Signals that stop a process from outside (a person, a job's limit, the out-of-memory killer):
# a cell ended by one was interrupted; one ended by another (SIGSEGV, SIGABRT) failed.
STOPPING_SIGNALS = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP",
                    signal.SIGKILL: "SIGKILL: a person, a job's limit or the kernel's "
                                    "out-of-memory killer"}


def finished_status(cell_dir: Path, how: str, log: Path, code: int | None = None) -> str:
    """The status of a cell whose process has ended: its own; else `interrupted` (recorded here)
    when a stopping signal (`code`, as Popen gives it: minus the signal) ended it, or `failed`
    (recorded here, with `how` it ended and its log's tail)."""
    status = rundirs.cell_status(cell_dir)
    if status not in (None, schema.STATUS_RUNNING):
        return status
    if code is not None and code < 0 and -code in STOPPING_SIGNALS:
        record_interrupted(cell_dir, f"its process was killed ({STOPPING_SIGNALS[-code]})")
        return schema.STATUS_INTERRUPTED
    tail = log.read_text(errors="replace")[-LOG_TAIL_CHARS:] if log.is_file() else ""
    record_unfinished(cell_dir, how, tail)
    return schema.STATUS_FAILED


def record_interrupted(cell_dir: Path, why: str):
    """A cell stopped from outside before it finished: `interrupted`, why, and the last step it
    logged. A cell that had finished, or never started, is left as it is."""
    status = rundirs.cell_status(cell_dir) if cell_dir.is_dir() else schema.STATUS_MISSING
    if status not in (None, schema.STATUS_RUNNING):
        return
    try:
        steps = rundirs.read_lines(cell_dir, schema.STEPS_FILE)
    except BenchError:
        steps = []
    at = f" at step {steps[-1].get('step')}" if steps else " before its first logged step"
    summary = rundirs.read_summary(cell_dir) if status else {}
    summary.pop("schema_version", None)
    records.write_json_record(cell_dir / schema.SUMMARY_FILE, {
        **summary, "status": schema.STATUS_INTERRUPTED,
        "reason": f"interrupted{at}: {why}; --resume trains it again"})


def add_to_summary(cell_dir: Path, **fields):
    """Add fields (placement, attempts, neighbours) to a cell's summary, rewritten atomically."""
    summary = rundirs.read_summary(cell_dir)
    summary.pop("schema_version", None)
    records.write_json_record(cell_dir / schema.SUMMARY_FILE, {**summary, **fields})


def write_results_csv(run_dir: Path):
    """results.csv: one row per cell of the run, as bench.analysis.results reads them."""
    import pandas as pd

    try:
        records.write_text_atomic(Path(run_dir) / schema.RESULTS_FILE,
                                  pd.DataFrame(rundirs.cell_rows([run_dir])).to_csv(index=False))
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise BenchError(f"{full_disk_note(Path(run_dir)) or 'the disk is full'}: the grid "
                         "stops (the cells finished so far are kept); free some space and run "
                         "it again with --resume", path=run_dir) from None
