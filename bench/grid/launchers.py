"""Launchers: what runs a grid's cells, behind one small interface, chosen in one function.

A launcher runs cells and says when each has ended; the run directory's bookkeeping around them
(manifest, skipped cells, results.csv, interrupts) is bench.grid.run's, and the records it adds
are bench.grid.cellrecord's, so every launcher leaves the same run directory. Two launchers:

    local   one process per cell on this machine (bench.grid.local)
    ray     each cell a task on a Ray cluster (bench.grid.ray_launcher; the `ray` extra)

A third (Slurm, say) is one class with the methods of `Launcher` and one branch in
`make_launcher`.
"""

from pathlib import Path
from typing import Protocol

from bench.errors import BenchError

LAUNCHERS = ("local", "ray")


class Launcher(Protocol):
    def gpus(self) -> int:
        """GPUs the launcher can give cells: the count `gpu` and `gpu:N` cells are checked
        against. Asked only when the grid has GPU cells or needs a GPU."""

    def refusal(self, cells) -> str | None:
        """Why this launcher cannot run these cells (said before anything is written), or None."""

    def parallel(self, cells) -> int | None:
        """How many of these cells run at once, for a part's estimate (bench.grid.estimate);
        None when the launcher cannot say (a cluster places them)."""

    def run(self, cells, run_dir: Path, bar, finished) -> None:
        """Run `cells` into `run_dir` and return when every one has ended.

        `bar` (bench.grid.progress.GridProgress) is told as cells start (`cell_started`) and may
        be polled with the running cells. As each cell ends, call `finished(cell, record)`, where
        `record()` completes the cell's record in `run_dir` and returns its status; the grid
        calls it with interrupts held. On KeyboardInterrupt the launcher stops what it runs.
        """


def make_launcher(launcher: str = "local", *, address=None, retries=None) -> Launcher:
    """The launcher for `--launcher`; BenchError for an unknown one or options it does not take."""
    if launcher not in LAUNCHERS:
        raise BenchError(f"expected one of {', '.join(LAUNCHERS)}, found {launcher!r}",
                         field="launcher")
    if retries is not None and retries < 0:
        raise BenchError(f"--retries: expected 0 or more, found {retries}")
    if launcher == "local":
        if address or retries is not None:
            raise BenchError("--address and --retries are for --launcher ray")
        from bench.grid.local import LocalProcesses

        return LocalProcesses()
    from bench.grid.ray_launcher import DEFAULT_RETRIES, RayCells

    return RayCells(address, DEFAULT_RETRIES if retries is None else retries)
