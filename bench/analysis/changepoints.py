"""Change points in a configuration's throughput night after night: where a slowdown began.

Comparing tonight with last night alone misses a slide of a few percent a night, and compares
every later night with a stale baseline once a night is flagged. Instead, each configuration's
series of nightly throughputs (one number a night: the median over seeds of each cell's median
images/s, on one machine fingerprint) runs through a self-starting one-sided lower CUSUM:

    z_t = (log x_t - median(log x_s, s < t)) / noise      noise: one night's own standard deviation
    S_t = min(0, S_{t-1} + z_t + K)                        an alarm when S_t <= -H

The reference is the median of every earlier night since the series' start (its first night, or
the night a person accepted: `dcgan-bench history accept RUN`), from MIN_REFERENCE nights on: a
median of more nights is steadier, and a recent shift moves it little. When S crosses -H, the
night the slowdown began is dated by likelihood: of the nights since S last stood at 0 (and a few
before), the start whose nights since then fall furthest below the reference, weighed by their
number (sum of z)^2 / count. With K = 1 and H = 3 (in units of the noise), Siegmund's
approximation gives about 2,000 nights between false alarms of the textbook CUSUM (both are
kept as references in tests/test_nights.py); this one is self-starting (its reference is
estimated from the nights themselves) and restarts from a shift below the margin, so its rate is
not the textbook's: the rates the nightly policy achieves are measured by simulation
(tests/benchmarks/nightly_error_table.py; docs/statistics.md, "The error table"), and those are
the ones quoted.

Pure: numbers in, shifts out. Nothing here imports TensorFlow.
"""

import math
from dataclasses import dataclass

import numpy as np

K = 1.0  # the CUSUM's allowance, in noise units: tuned to shifts of about 2 noise units
H = 3.0  # the alarm threshold, in noise units
MIN_REFERENCE = 3  # nights before the first one judged
DATING_LOOKBACK = 3  # nights before S last stood at 0 that may still be the start


@dataclass(frozen=True)
class Shift:
    """A slowdown found in a series: where it began, where it was found, and how large."""

    began: int  # index of the first night of the shift
    found: int  # index of the night the CUSUM crossed the threshold
    ratio: float  # median throughput since `began` over the reference level
    recovered: int | None = None  # index of the first night back near the reference, if any
    # where a chain of shifts began: the first shift below the margin the detector restarted
    # from (find_shifts' `margin`); `ratio` is then the level since `began` over the reference
    # before the chain, the chain's total
    chain_began: int | None = None


def reference_level(log_values: np.ndarray, start: int = 0, before: int | None = None,
                    slow=None) -> float:
    """The level nights are held to: the median of the nights from `start` up to `before`,
    leaving out those marked in `slow` (nights of a shift, or judged slow) while any are left."""
    window = np.asarray(log_values[start:before])
    if slow is not None:
        kept = window[~np.asarray(slow[start:before], dtype=bool)]
        window = kept if len(kept) else window
    return float(np.median(window))


def _dated(z: np.ndarray, first: int, found: int) -> int:
    """The most likely first night of a shift found at `found`, from `first` on: the start that
    maximises (sum of z since it)^2 / nights since it, among starts below the reference."""
    best, start = -1.0, found
    for tau in range(first, found + 1):
        total = float(np.sum(z[tau:found + 1]))
        score = total * total / (found + 1 - tau) if total < 0 else -1.0
        if score > best:
            best, start = score, tau
    return start


def find_shifts(values, noise: float, start: int = 0, k: float = K, h: float = H,
                judged_slow=None, margin: float | None = None) -> list[Shift]:
    """Every slowdown in `values` (a configuration's nightly throughput, oldest first) from index
    `start` on (the accepted baseline's night, or 0); `noise`: one night's standard deviation of
    log throughput. After a shift the reference stays what it was before it: a later night back
    above -K noise units of it, or H units above the shift's level, marks the shift recovered,
    and only then can another begin. The nights of a shift, and those marked in `judged_slow`
    (flagged by the pairwise comparison), stay out of every later reference: slowed nights
    would otherwise pull the level down.

    With `margin`: a shift still open and smaller than the margin does not end the search. The
    detector restarts from the shift's own level (the median of its nights, once MIN_REFERENCE
    of them are in), so that a second step, or a slide going on, is found from there; each
    later shift's ratio is its level over the reference before the chain (`chain_began`), the
    chain's total, which the caller holds to the margin."""
    x = np.log(np.asarray(values, dtype=float))
    if len(x) - start <= MIN_REFERENCE or noise <= 0:
        return []
    slow = np.zeros(len(x), dtype=bool) if judged_slow is None else np.array(judged_slow, dtype=bool)
    shifts: list[Shift] = []
    s, last_zero, t = 0.0, start + MIN_REFERENCE - 1, start + MIN_REFERENCE
    z = np.zeros(len(x))
    chain = None  # (the first shift's began, the reference before it) once restarted
    level_from = None  # a restarted search's reference: the nights from here on
    while t < len(x):
        if level_from is None:
            ref = reference_level(x, start, t, slow)
        elif t - level_from < MIN_REFERENCE:
            t += 1  # a restarted search waits for MIN_REFERENCE nights of its new level
            continue
        else:
            ref = reference_level(x, level_from, t)
        z[t] = (x[t] - ref) / noise
        s = min(0.0, s + z[t] + k)
        if s == 0.0:
            last_zero = t
        if s > -h:
            t += 1
            continue
        earliest = start + MIN_REFERENCE if level_from is None else level_from + MIN_REFERENCE
        began = _dated(z, max(earliest, last_zero + 1 - DATING_LOOKBACK), t)
        # back: within K noise units of the reference, or H units above the shift's own level
        # (a large shift is over when a night leaves its level as clearly as it left the
        # reference, not only when a night comes within one noise unit of the reference)
        back = min(-k, float(np.median(z[began:t + 1])) + h)
        rest = (x[t + 1:] - ref) / noise
        recovered = next((t + 1 + i for i, value in enumerate(rest) if value > back), None)
        base = chain[1] if chain else ref
        ratio = math.exp(float(np.median(x[began:recovered or len(x)])) - base)
        shifts.append(Shift(began, t, ratio, recovered, chain[0] if chain else None))
        slow[began:recovered or len(x)] = True
        if recovered is None:
            if margin is None or ratio <= 1 - margin:
                break
            # open and below the margin: search on from its level, the chain's total kept
            chain = chain or (began, ref)
            level_from, s = began, 0.0
            last_zero, t = max(t, began + MIN_REFERENCE - 1), max(t + 1, began + MIN_REFERENCE)
            continue
        if chain:  # a chained shift undone: back to the level before the chain
            level_from, chain = None, None
        s, last_zero, t = 0.0, recovered, recovered + 1
    return shifts
