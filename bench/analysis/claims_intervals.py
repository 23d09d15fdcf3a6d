"""Judges of claims about one configuration's seeds: an interval at the claim's level against a
bound (alpha = 1 - level).

- `collapse_rate` (config, max_rate): the share of seeds whose outcome is `mode_collapse` is at
  most max_rate. Exact two-sided Clopper-Pearson interval at `level` (scipy's binomtest): holds
  when its upper bound is <= max_rate, fails when its lower bound is > max_rate. With min_rate
  instead, the share is at least min_rate: holds when the lower bound is >= min_rate, fails when
  the upper bound is < min_rate. Collapse is counted among seeds with recognisable samples
  (bench.analysis.claims_seeds says how not-converged seeds count).
- `coverage` (config, min_classes, min_share): at least min_classes classes covered in at least
  min_share of the seeds. The same interval on the share of such seeds: holds when its lower
  bound is >= min_share, fails when its upper bound is < min_share.
- `mean_within` (config, metric, low, high): the metric's mean across seeds lies in [low, high]
  (a published interval). Student's t interval of the mean at `level` (it takes the seeds' values
  as roughly normal): holds inside [low, high], fails wholly outside, else inconclusive.

A share's verdict (`share_verdict`) has the shape the report draws and the family correction
reads: successes of n against a bound, with the interval's low and high. Every kind is
`inconclusive` when its seeds cannot decide it, saying why. Pure: no TensorFlow.
"""

import pandas as pd

from bench import schema
from bench.analysis.claims_seeds import (
    collapse_counts,
    metric_values,
    not_converged_note,
    seed_list,
    select_seeds,
)
from bench.analysis.stats import exact_interval, mean_within_tests
from bench.schema import CLAIM_FAILS, CLAIM_HOLDS, CLAIM_INCONCLUSIVE

STRADDLES = "the interval straddles the bound: more seeds (see --plan)"


def share_verdict(claim, seeds: pd.DataFrame, left_out: list, hits: int, n: int, bound: float,
                  statistic: str, *, at_least: bool, counted: str, empty: str,
                  blocked: str | None = None) -> dict:
    """The verdict on a share, `hits` of `n` seeds, against `bound` (at least, or at most): the
    exact two-sided interval at the claim's level. `counted` says what a hit is in the evidence
    ("collapsed"), `empty` why n = 0 decides nothing; `blocked`, why the seeds cannot decide it
    whatever the interval (the interval is still given)."""
    out = {"seeds": seed_list(seeds), "left_out": left_out, "successes": hits, "n": n,
           "bound": bound, "statistic": statistic}
    if n == 0:
        return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": blocked or empty}
    low, high = exact_interval(hits, n, claim["level"])
    out.update(low=low, high=high, evidence=f"{hits}/{n} {counted}; exact {claim['level']:.0%} "
               f"interval [{low:.3f}, {high:.3f}] against at {'least' if at_least else 'most'} "
               f"{bound:g}")
    if blocked:
        return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": blocked}
    if (low >= bound) if at_least else (high <= bound):
        return {**out, "verdict": CLAIM_HOLDS}
    if (high < bound) if at_least else (low > bound):
        return {**out, "verdict": CLAIM_FAILS}
    return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": STRADDLES}


def judge_collapse_rate(claim, cells) -> dict:
    seeds, left_out = select_seeds(cells, claim["config"], claim["name"], "config")
    collapsed, judged, not_converged = collapse_counts(seeds, claim["not_converged"])
    blocked = not_converged_note(not_converged, claim["not_converged"], left_out)
    at_least = "min_rate" in claim
    return share_verdict(claim, seeds, left_out, collapsed, judged,
                         claim["min_rate"] if at_least else claim["max_rate"], "collapse rate",
                         at_least=at_least, counted="collapsed", blocked=blocked,
                         empty="no seed with recognisable samples: nothing to count collapse "
                               "among")


def judge_coverage(claim, cells) -> dict:
    seeds, left_out = select_seeds(cells, claim["config"], claim["name"], "config")
    covered = pd.to_numeric(seeds[schema.FINAL_CLASSES_COVERED], errors="coerce")
    hits = int((covered >= claim["min_classes"]).sum())
    return share_verdict(claim, seeds, left_out, hits, len(seeds), claim["min_share"],
                         f"share of seeds covering >= {claim['min_classes']} classes",
                         at_least=True, counted=f"seeds cover >= {claim['min_classes']} classes",
                         empty="no seed with a final evaluation")


def judge_mean_within(claim, cells) -> dict:
    seeds, left_out = select_seeds(cells, claim["config"], claim["name"], "config",
                                   claim["metric"])
    values = metric_values(seeds, claim["metric"])
    low, high = claim["low"], claim["high"]
    source = f" ({claim['source']})" if claim.get("source") else ""
    out = {"seeds": seed_list(seeds, claim["metric"]), "left_out": left_out,
           "band": [low, high], "statistic": f"mean {claim['metric']}"}
    if len(values) < 2:
        return {**out, "verdict": CLAIM_INCONCLUSIVE,
                "why": f"{len(values)} seed(s) with a value: a mean's interval needs 2 or more"}
    t = mean_within_tests(values, low, high, claim["level"])
    out.update(t, p=t["p_inside"], evidence=f"mean {t['mean']:.4g} over {len(values)} seeds, t "
               f"{claim['level']:.0%} interval [{t['mean_low']:.4g}, {t['mean_high']:.4g}] against "
               f"[{low:g}, {high:g}]{source}; p inside {t['p_inside']:.3g}")
    if low <= t["mean_low"] and t["mean_high"] <= high:
        return {**out, "verdict": CLAIM_HOLDS}
    if t["mean_high"] < low or t["mean_low"] > high:
        return {**out, "verdict": CLAIM_FAILS}
    return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": "the interval straddles the band's end"}
