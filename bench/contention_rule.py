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


def contended_share(fields: dict) -> float | None:
    """The share of a window's cores that others took: other processes' CPU and steal (None:
    not measured)."""
    if fields.get("others_share") is None:
        return None
    return fields["others_share"] + (fields.get("steal_share") or 0.0)


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
    return {"windows": len(windows), "contended_windows": sum(judged) if judged else None,
            "bound": CONTENDED_SHARE,
            **{f"{key}_median": stat(key, np.median) for key in WINDOW_FIELDS},
            "others_share_max": stat("others_share", max),
            "steal_share_max": stat("steal_share", max)}
