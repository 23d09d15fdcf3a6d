"""Launcher backends: what runs a grid's cells, behind one small interface, chosen in one function.

A backend runs cells and says when each has ended; the run directory's bookkeeping around them
(manifest, skipped cells, results.csv, interrupts) is bench.grid.run's, and the records it adds
are bench.grid.cellrecord's, so every backend leaves the same run directory. Two backends:

    local   one process per cell on this machine (bench.grid.local)
    ray     each cell a task on a Ray cluster (bench.grid.ray_backend; the `ray` extra)

A third (Slurm, say) is one class with the methods of `Backend` and one branch in
`make_backend`.
"""

from pathlib import Path
from typing import Protocol

from bench.errors import BenchError

EXECUTORS = ("local", "ray")


class Backend(Protocol):
    def gpus(self) -> int:
        """GPUs the backend can give cells: the count `gpu` and `gpu:N` cells are checked
        against. Asked only when the grid has GPU cells or needs a GPU."""

    def refusal(self, cells) -> str | None:
        """Why this backend cannot run these cells (said before anything is written), or None."""

    def parallel(self, cells) -> int | None:
        """How many of these cells run at once, for a part's estimate (bench.grid.estimate);
        None when the backend cannot say (a cluster places them)."""

    def run(self, cells, run_dir: Path, bar, finished) -> None:
        """Run `cells` into `run_dir` and return when every one has ended.

        `bar` (bench.grid.progress.GridProgress) is told as cells start (`cell_started`) and may
        be polled with the running cells. As each cell ends, call `finished(cell, record)`, where
        `record()` completes the cell's record in `run_dir` and returns its status; the grid
        calls it with interrupts held. On KeyboardInterrupt the backend stops what it runs.
        """


def make_backend(executor: str = "local", *, address=None, retries=None) -> Backend:
    """The backend for `--executor`; BenchError for an unknown one or options it does not take."""
    if executor not in EXECUTORS:
        raise BenchError(f"expected one of {', '.join(EXECUTORS)}, found {executor!r}",
                         field="executor")
    if retries is not None and retries < 0:
        raise BenchError(f"--retries: expected 0 or more, found {retries}")
    if executor == "local":
        if address or retries is not None:
            raise BenchError("--address and --retries are for --executor ray")
        from bench.grid.local import LocalProcesses

        return LocalProcesses()
    from bench.grid.ray_backend import DEFAULT_RETRIES, RayCells

    return RayCells(address, DEFAULT_RETRIES if retries is None else retries)
