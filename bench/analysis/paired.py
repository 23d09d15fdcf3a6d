"""A/B in one run (`dcgan-bench continuous`): the baseline's and the candidate's throughput cells
run round after round, alternately, and each round is a pair.

Interleaving (asv's `continuous --interleave-rounds`, Chromium's Pinpoint): whatever drifts on the
machine between rounds (other jobs, the clock, the temperature) hits both sides of a round alike,
so the ratio within a round cancels it, where two nights run hours apart cannot. Per
configuration (its stable label, bench.analysis.cells):

- a round's level on each side: the median over its cells of each cell's median images/s, all
  its windows; and the side's contention, the median share of its cores others took
  (bench.contention_rule). Contention that hits both sides of a round alike cancels in the pair
  as any drift does; a round whose two sides differ in contention by more than CONTENDED_SHARE
  (a job that began or ended between them) is left out, and counted;
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

from bench import schema
from bench.analysis.cells import stable_label
from bench.analysis.compare import matched_pairs
from bench.analysis.stats import mean_interval
from bench.analysis.throughput import MARGIN, config_cells, ratio_verdict
from bench.contention_rule import CONTENDED_SHARE

MIN_PAIRS = 3
CONFIDENCE = 0.95


def _side(run, cell_ids) -> tuple[float | None, float]:
    """A side's level (None without windows) and contention (0 where not measured)."""
    cells = config_cells(run, cell_ids)
    shares = [x for c in cell_ids for x in run.window_contention(c) if x is not None]
    return (statistics.median(statistics.median(c) for c in cells) if cells else None,
            statistics.median(shares) if shares else 0.0)


def round_levels(baseline, candidate) -> dict:
    """One round: configuration -> (baseline level, candidate level, baseline contention,
    candidate contention); a level is None where the side has no measured windows."""
    pairs = matched_pairs(baseline, candidate)
    ok = pairs[pairs["matched"] & (pairs["status_b"] == schema.STATUS_OK)
               & (pairs["status_c"] == schema.STATUS_OK)]
    levels = {}
    for _, group in ok.groupby("config", sort=False):
        (b, share_b), (c, share_c) = (_side(run, group[f"cell_id_{s}"])
                                      for run, s in ((baseline, "b"), (candidate, "c")))
        levels[stable_label(group.iloc[0], "_c")] = (b, c, share_b, share_c)
    return levels


def alike(share_b: float, share_c: float) -> bool:
    """Whether a round's two sides shared the machine alike (their pair cancels it)."""
    return abs(share_b - share_c) <= CONTENDED_SHARE


def paired_verdict(levels: list, margin: float = MARGIN) -> dict:
    """The verdict of one configuration from its rounds' (baseline level, candidate level,
    baseline contention, candidate contention); a round given as (b, c) had none measured."""
    rows = [(*row, 0.0, 0.0)[:4] for row in levels]
    pairs = [(b, c) for b, c, sb, sc in rows if b and c and alike(sb, sc)]
    out = {"rounds": len(levels), "pairs": len(pairs), "left_out": len(levels) - len(pairs),
           "margin": margin, "levels": levels}
    if len(pairs) < MIN_PAIRS:
        return {**out, "ratio": None, "ci_low": None, "ci_high": None,
                "verdict": schema.VERDICT_INCONCLUSIVE,
                "why": f"{len(pairs)} round(s) with both sides judged, {MIN_PAIRS} needed "
                       f"({len(levels) - len(pairs)} left out: a side without windows, or "
                       "contended unlike the other)"}
    mean, low, high = mean_interval([math.log(c / b) for b, c in pairs], CONFIDENCE)
    ratio, low, high = math.exp(mean), math.exp(low), math.exp(high)
    return {**out, "ratio": ratio, "ci_low": low, "ci_high": high,
            "verdict": ratio_verdict(ratio, low, high, margin),
            "why": f"{len(levels) - len(pairs)} of {len(levels)} rounds left out (a side "
                   "without windows, or contended unlike the other)"
                   if len(pairs) < len(levels) else None}


def paired_verdicts(rounds: list, margin: float = MARGIN) -> dict:
    """configuration -> its verdict, from `rounds`: (baseline Run, candidate Run) a round."""
    per_round = [round_levels(b, c) for b, c in rounds]
    configs = list(dict.fromkeys(k for levels in per_round for k in levels))
    return {config: paired_verdict([levels.get(config, (None, None, 0.0, 0.0))
                                    for levels in per_round], margin) for config in configs}
