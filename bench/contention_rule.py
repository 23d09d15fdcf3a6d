"""The contention rule: when a log window measured the machine rather than the code.

A window's contention fields are measured by the cell (bench.cell.contention: the cell's share
of its cores, the other processes' and the hypervisor's share of them, the load); this module
says, once, what they mean for every reader: the summary, the results rows, `table`, and the
throughput verdicts (bench.analysis.throughput; docs/statistics.md).
"""

# A window is contended when the other processes' CPU plus steal took more than this share of
# the cores the cell may run on: one busy process beside a cell on a 2-core machine takes 0.5; the
# harness's own bookkeeping threads and an idle desktop stay under 0.05.
CONTENDED_SHARE = 0.10
WINDOW_FIELDS = ("cpu_share", "others_share", "steal_share", "load_1m")
# /proc/stat counts each CPU's time in clock ticks of 1/USER_HZ (100 a second on Linux, whatever
# the kernel's own tick rate): a window's reading can be off by a tick a CPU at each of its ends.
# In a 70 ms window on two cores that is 29% of the machine, and a quiet machine's kernel threads
# read as 13% there (measured: up to 1.5 ticks a core in windows under 0.3 s). A window is judged
# on what the others surely took: the reading less TICK_ERROR ticks a core of the window.
TICKS_PER_SECOND = 100
TICK_ERROR = 2


def tick_resolution(window_seconds: float | None) -> float:
    """The share of a window's cores that TICK_ERROR clock ticks a core make up (0 where the
    window's seconds are not known)."""
    return TICK_ERROR / (TICKS_PER_SECOND * window_seconds) if window_seconds else 0.0


def contended_share(fields: dict) -> float | None:
    """The share of a window's cores that others surely took: other processes' CPU and steal,
    less the clock ticks' resolution over the window's `window_seconds`, at least 0 (None: not
    measured)."""
    if fields.get("others_share") is None:
        return None
    taken = fields["others_share"] + (fields.get("steal_share") or 0.0)
    return max(0.0, taken - tick_resolution(fields.get("window_seconds")))


def is_contended(fields: dict) -> bool | None:
    """Whether a window's contended share passed CONTENDED_SHARE (None: not measured)."""
    share = contended_share(fields)
    return None if share is None else share > CONTENDED_SHARE


def summary_of(windows: list[dict]) -> dict:
    """A cell's measured windows' contention: medians and maxima, the windows contended and the
    bound, for summary.json."""
    import numpy as np

    def stat(key, fn):
        values = [w[key] for w in windows if w.get(key) is not None]
        return float(fn(values)) if values else None

    judged = [c for c in (is_contended(w) for w in windows) if c is not None]
    seconds = [w["window_seconds"] for w in windows if w.get("window_seconds")]
    return {"windows": len(windows), "contended_windows": sum(judged) if judged else None,
            "bound": CONTENDED_SHARE,
            "tick_resolution_max": tick_resolution(min(seconds)) if seconds else None,
            **{f"{key}_median": stat(key, np.median) for key in WINDOW_FIELDS},
            "others_share_max": stat("others_share", max),
            "steal_share_max": stat("steal_share", max)}
