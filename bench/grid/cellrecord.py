"""A cell's record as the grid keeps it, whatever launcher ran the cell.

The cell process (bench.grid.worker) writes its own record; what the grid adds around it lives
here, in one place for every launcher: a cell that cannot run on this machine is recorded as
`skipped`, a process that died before finishing its record as `failed` with the tail of its log,
placement and attempts are added to a summary, and results.csv is rewritten after each cell. The
record is read back through bench.rundirs, the one reader of run directories.
"""

from pathlib import Path

from bench import records, rundirs, schema

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


def record_unfinished(cell_dir: Path, how: str, log_tail: str):
    """A cell whose process ended without finishing its record: `failed`, with how and the
    tail of its log."""
    records.write_json_record(cell_dir / schema.SUMMARY_FILE, {
        "status": schema.STATUS_FAILED,
        "reason": f"cell process ended with {how} before finishing its record",
        "log_tail": log_tail})


def finished_status(cell_dir: Path, how: str, log: Path) -> str:
    """The status of a cell whose process has ended: its own, or `failed` (recorded here, with
    `how` it ended and its log's tail) when it never finished its record."""
    status = rundirs.cell_status(cell_dir)
    if status in (None, schema.STATUS_RUNNING):
        tail = log.read_text(errors="replace")[-LOG_TAIL_CHARS:] if log.is_file() else ""
        record_unfinished(cell_dir, how, tail)
        return schema.STATUS_FAILED
    return status


def add_to_summary(cell_dir: Path, **fields):
    """Add fields (placement, attempts, neighbours) to a cell's summary, rewritten atomically."""
    summary = rundirs.read_summary(cell_dir)
    summary.pop("schema_version", None)
    records.write_json_record(cell_dir / schema.SUMMARY_FILE, {**summary, **fields})


def write_results_csv(run_dir: Path):
    """results.csv: one row per cell of the run, as bench.analysis.results reads them."""
    import pandas as pd

    records.write_text_atomic(Path(run_dir) / schema.RESULTS_FILE,
                              pd.DataFrame(rundirs.cell_rows([run_dir])).to_csv(index=False))
