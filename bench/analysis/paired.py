"""A/B in one run (`dcgan-bench continuous`): the baseline's and the candidate's throughput cells
run round after round, alternately, and each round is a pair.

Interleaving (asv's `continuous --interleave-rounds`, Chromium's Pinpoint): whatever drifts on the
machine between rounds (other jobs, the clock, the temperature) hits both sides of a round alike,
so the ratio within a round cancels it, where two nights run hours apart cannot. Per
configuration (its stable label, bench.analysis.cells):

- a round's level on each side: the median over its cells of each cell's median images/s over its
  uncontended windows (bench.analysis.throughput.judged_cells, the rule nights are judged by); a
  round in which a side has no such cell is left out, and counted;
- the pairs' log ratios d = log(candidate / baseline); the ratio is exp(mean d) with Student's t
  interval over the pairs at 95% (the pairs, not the windows, are the unit: windows of one run
  share its level);
- verdict: `regression` when the ratio is below 1 - margin and the interval's upper end below 1,
  `improvement` the mirror, `no change` otherwise; `inconclusive` with fewer than MIN_PAIRS pairs
  left (a t interval of one or two pairs says nothing), with why.

Pure: runs in, verdicts out; nothing here imports TensorFlow.
"""

import math
import statistics

from scipy import stats as scipy_stats

from bench import schema
from bench.analysis.cells import stable_label
from bench.analysis.compare import matched_pairs
from bench.analysis.throughput import MARGIN, judged_cells

MIN_PAIRS = 3
CONFIDENCE = 0.95


def round_levels(baseline, candidate) -> dict:
    """One round: configuration -> (baseline level, candidate level), None on a side whose cells
    were all too contended (or had no windows)."""
    pairs = matched_pairs(baseline, candidate)
    ok = pairs[pairs["matched"] & (pairs["status_b"] == schema.STATUS_OK)
               & (pairs["status_c"] == schema.STATUS_OK)]
    levels = {}
    for _, group in ok.groupby("config", sort=False):
        key = stable_label(group.iloc[0], "_c")
        sides = [judged_cells(run, group[f"cell_id_{s}"])[0]
                 for run, s in ((baseline, "b"), (candidate, "c"))]
        levels[key] = tuple(statistics.median(statistics.median(c) for c in cells)
                            if cells else None for cells in sides)
    return levels


def paired_verdict(levels: list, margin: float = MARGIN) -> dict:
    """The verdict of one configuration from its rounds' (baseline, candidate) levels."""
    pairs = [(b, c) for b, c in levels if b and c]
    out = {"rounds": len(levels), "pairs": len(pairs), "left_out": len(levels) - len(pairs),
           "margin": margin, "levels": levels}
    if len(pairs) < MIN_PAIRS:
        return {**out, "ratio": None, "ci_low": None, "ci_high": None,
                "verdict": schema.VERDICT_INCONCLUSIVE,
                "why": f"{len(pairs)} round(s) with both sides judged, {MIN_PAIRS} needed "
                       f"({len(levels) - len(pairs)} left out as contended)"}
    logs = [math.log(c / b) for b, c in pairs]
    mean = statistics.fmean(logs)
    half = scipy_stats.t.ppf(0.5 + CONFIDENCE / 2, len(logs) - 1) * \
        statistics.stdev(logs) / math.sqrt(len(logs))
    ratio, low, high = math.exp(mean), math.exp(mean - half), math.exp(mean + half)
    if ratio < 1 - margin and high < 1:
        verdict = schema.VERDICT_REGRESSION
    elif ratio > 1 + margin and low > 1:
        verdict = schema.VERDICT_IMPROVEMENT
    else:
        verdict = schema.VERDICT_NO_CHANGE
    return {**out, "ratio": ratio, "ci_low": low, "ci_high": high, "verdict": verdict,
            "why": f"{len(levels) - len(pairs)} of {len(levels)} rounds left out as contended"
                   if len(pairs) < len(levels) else None}


def paired_verdicts(rounds: list, margin: float = MARGIN) -> dict:
    """configuration -> its verdict, from `rounds`: (baseline Run, candidate Run) a round."""
    per_round = [round_levels(b, c) for b, c in rounds]
    configs = list(dict.fromkeys(k for levels in per_round for k in levels))
    return {config: paired_verdict([levels.get(config, (None, None)) for levels in per_round],
                                   margin) for config in configs}
