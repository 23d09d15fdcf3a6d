"""Judges of claims that compare two configurations, A and B, seed against seed (alpha = 1 - level).

- `no_worse` (a, b, metric, margin): B's median is not worse than A's by more than `margin`, a
  fraction of A's value (metric: fid, classifier_score, classes_covered, images_per_sec).
  Non-inferiority by a one-sided Mann-Whitney U test of B against A shifted by the margin: holds
  when B is better than the shifted A (p < alpha), fails when B is worse than the shifted A
  (p < alpha the other way).
- `equivalent` (a, b, metric, margin): B within A x (1 +- margin), by two one-sided tests
  (TOST): holds when both are significant, fails when B lies significantly outside the band.
- `differs` (a, b, metric): A and B differ, in collapse rate (Fisher's exact test) or in a final
  metric (two-sided Mann-Whitney U). Holds when p < alpha; fails when the seeds could have shown
  a difference (the smallest reachable p is below alpha) and did not. A `fails` is no proof of
  equality: it says no difference was found with these seeds.

Each verdict has the shape the report draws (`seeds_a`, `seeds_b`, with medians, or `rates` of a
collapse comparison) and names its deciding p in `p` (exact, as a fraction, in `p_exact`) and in
its evidence. A decision at p = alpha is compared as a fraction (bench.analysis.stats), never a
float. Every kind is `inconclusive` when its seeds cannot decide it, saying why. Pure: no
TensorFlow.
"""

import numpy as np
import pandas as pd

from bench import schema
from bench.analysis.claims_seeds import (
    collapse_counts,
    metric_values,
    not_converged_note,
    seed_list,
    select_seeds,
)
from bench.analysis.claims_spec import METRICS
from bench.analysis.stats import (
    alpha_of,
    below,
    decimal,
    decision_p,
    equivalence_tests,
    exact_interval,
    fewest_beside,
    fisher_test,
    min_samples_per_side,
    rank_test,
    shifted_rank_tests,
    smallest_exact_rank_p,
    smallest_fisher_p,
)
from bench.errors import BenchError
from bench.schema import CLAIM_FAILS, CLAIM_HOLDS, CLAIM_INCONCLUSIVE


def _check_same_measurement(claim, a, b):
    """Final metrics of different final_n or instruments do not compare."""
    if claim["metric"] in ("images_per_sec", "collapse_rate"):
        return
    keys = [{(n, h) for n, h in zip(s[schema.FINAL_N], s[schema.CLASSIFIER_SHA256])} for s in (a, b)]
    if len(keys[0] | keys[1]) > 1:
        raise BenchError(f"claim {claim['name']!r}: a and b were evaluated with different final_n "
                         f"or instruments ({sorted(map(str, keys[0] | keys[1]))}): their "
                         f"{claim['metric']} values do not compare")


def _evidence_p(test) -> str:
    exact = test.get("p_exact")
    return f"{exact}" if exact is not None and exact.denominator < 10 ** 7 else f"{test['p']:.3g}"


def _metric_sides(claim, cells):
    a, left_a = select_seeds(cells, claim["a"], claim["name"], "a", claim["metric"])
    b, left_b = select_seeds(cells, claim["b"], claim["name"], "b", claim["metric"])
    _check_same_measurement(claim, a, b)
    out = {"seeds_a": seed_list(a, claim["metric"]), "seeds_b": seed_list(b, claim["metric"]),
           "left_out": left_a + left_b}
    return metric_values(a, claim["metric"]), metric_values(b, claim["metric"]), out


def judge_no_worse(claim, cells) -> dict:
    va, vb, out = _metric_sides(claim, cells)
    higher_is_better = METRICS[claim["metric"]][1]
    margin, alpha = claim["margin"], alpha_of(claim["level"])
    out["statistic"] = f"{claim['metric']}: B against A shifted by the margin"
    if len(va) == 0 or len(vb) == 0:
        return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": "a side has no seed with this metric"}
    tests = shifted_rank_tests(va, vb, margin, higher_is_better)
    holds, fails = tests["holds"], tests["fails"]
    out.update(median_a=float(np.median(va)), median_b=float(np.median(vb)),
               shifted_median_a=float(np.median(tests["shifted"])), p=holds["p"],
               p_exact=holds["p_exact"], p_worse=fails["p"], method=holds["method"],
               n_a=len(va), n_b=len(vb), evidence=(
                   f"median A {np.median(va):.4g} ({len(va)} seeds), B {np.median(vb):.4g} "
                   f"({len(vb)}); one-sided Mann-Whitney U ({holds['method']}) of B against A x "
                   f"{1 - margin if higher_is_better else 1 + margin:g}: p = {_evidence_p(holds)} "
                   f"(not worse), {_evidence_p(fails)} (worse)"))
    if not below(smallest_exact_rank_p(len(va), len(vb), sides=1), alpha):
        return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": _too_few_for_one_sided(len(va), len(vb),
                                                                               alpha)}
    if below(decision_p(holds), alpha):
        return {**out, "verdict": CLAIM_HOLDS}
    if below(decision_p(fails), alpha):
        return {**out, "verdict": CLAIM_FAILS}
    return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": "neither direction is significant: more seeds"}


def _too_few_for_one_sided(n_a: int, n_b: int, alpha) -> str:
    """Why these seeds cannot decide a one-sided test, and what would: the smaller side grown
    beside the larger one as it is, or both sides equal."""
    per_side = f"at least {min_samples_per_side(alpha, sides=1)} seeds per side"
    target = f"for a one-sided p < {float(alpha):.3g}"
    need = fewest_beside(max(n_a, n_b), alpha)
    if n_a == n_b or need is None:
        return f"needs {per_side} {target}"
    small, large = ("B", "A") if n_b < n_a else ("A", "B")
    return (f"with {large}'s {max(n_a, n_b)} seeds, {small} needs at least {need}, or "
            f"{per_side}, {target}")


def judge_equivalent(claim, cells) -> dict:
    """A and B the same within +- margin (a fraction of A): two one-sided tests (TOST); the band
    is A x (1 +- margin) taken exactly (bench.analysis.stats.shifted_rank_test). The evidence
    names every p, and `p` is the one that decided the verdict."""
    va, vb, out = _metric_sides(claim, cells)
    margin, alpha = claim["margin"], alpha_of(claim["level"])
    out["statistic"] = f"{claim['metric']}: B within A x (1 +- {margin:g}), two one-sided tests"
    if len(va) == 0 or len(vb) == 0:
        return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": "a side has no seed with this metric"}
    tests = equivalence_tests(va, vb, margin)
    tost = (tests["upper"], tests["lower"])
    outside = min((tests["below_band"], tests["above_band"]), key=decision_p)
    low, high = f"{1 - decimal(margin)}", f"{1 + decimal(margin)}"
    out.update(median_a=float(np.median(va)), median_b=float(np.median(vb)),
               n_a=len(va), n_b=len(vb), evidence=(
                   f"median A {np.median(va):.4g} ({len(va)} seeds), B {np.median(vb):.4g} "
                   f"({len(vb)}); inside the band: B below A x {high} p = "
                   f"{_evidence_p(tests['upper'])}, B above A x {low} p = "
                   f"{_evidence_p(tests['lower'])}; outside it: B below A x {low} p = "
                   f"{_evidence_p(tests['below_band'])}, B above A x {high} p = "
                   f"{_evidence_p(tests['above_band'])}"))

    def decided_by(test):
        return {"p": test["p"], "p_exact": test["p_exact"], "method": test["method"]}

    if not below(smallest_exact_rank_p(len(va), len(vb), sides=1), alpha):
        return {**out, **decided_by(max(tost, key=decision_p)), "verdict": CLAIM_INCONCLUSIVE,
                "why": _too_few_for_one_sided(len(va), len(vb), alpha)}
    if all(below(decision_p(t), alpha) for t in tost):
        return {**out, **decided_by(max(tost, key=decision_p)), "verdict": CLAIM_HOLDS}
    if below(decision_p(outside), alpha):
        return {**out, **decided_by(outside), "verdict": CLAIM_FAILS,
                "why": f"B lies outside the band, significantly (p = {_evidence_p(outside)})"}
    return {**out, **decided_by(max(tost, key=decision_p)), "verdict": CLAIM_INCONCLUSIVE,
            "why": "neither inside nor outside the band is significant: more seeds (see --plan)"}


def judge_differs(claim, cells) -> dict:
    alpha = alpha_of(claim["level"])
    if claim["metric"] == "collapse_rate":
        a, left_a = select_seeds(cells, claim["a"], claim["name"], "a")
        b, left_b = select_seeds(cells, claim["b"], claim["name"], "b")
        left_out = left_a + left_b
        out = {"seeds_a": seed_list(a), "seeds_b": seed_list(b), "left_out": left_out}
        ca, na, nca = collapse_counts(a, claim["not_converged"])
        cb, nb, ncb = collapse_counts(b, claim["not_converged"])
        blocked = not_converged_note(pd.concat([nca, ncb]), claim["not_converged"], left_out)
        out["statistic"] = "collapse rate, Fisher's exact test"
        if na == 0 or nb == 0:
            return {**out, "verdict": CLAIM_INCONCLUSIVE,
                    "why": blocked or "a side has no seed with recognisable samples"}
        test, smallest = fisher_test(ca, na, cb, nb), smallest_fisher_p(na, nb)
        out.update(p=test["p"], p_exact=test["p_exact"], method="fisher", evidence=(
            f"A {ca}/{na} collapsed, B {cb}/{nb}; Fisher's exact test p = {_evidence_p(test)}"),
            rates={"a": (ca, na, *exact_interval(ca, na, claim["level"])),
                   "b": (cb, nb, *exact_interval(cb, nb, claim["level"]))})
        if blocked:
            return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": blocked}
    else:
        va, vb, out = _metric_sides(claim, cells)
        out["statistic"] = f"{claim['metric']}, two-sided Mann-Whitney U"
        if len(va) == 0 or len(vb) == 0:
            return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": "a side has no seed with this metric"}
        test, smallest = rank_test(va, vb), smallest_exact_rank_p(len(va), len(vb))
        out.update(p=test["p"], p_exact=test["p_exact"], method=test["method"],
                   median_a=float(np.median(va)), median_b=float(np.median(vb)),
                   evidence=f"median A {np.median(va):.4g} ({len(va)} seeds), B "
                            f"{np.median(vb):.4g} ({len(vb)}); two-sided Mann-Whitney U "
                            f"({test['method']}) p = {_evidence_p(test)}")
    if not below(smallest, alpha):
        return {**out, "verdict": CLAIM_INCONCLUSIVE,
                "why": f"these seeds cannot reach p < {float(alpha):.3g} (smallest possible p "
                       f"{float(smallest):.3g}): more seeds (see --plan)"}
    if below(decision_p(test), alpha):
        return {**out, "verdict": CLAIM_HOLDS}
    return {**out, "verdict": CLAIM_FAILS, "why": "no difference found with these seeds: not "
            "evidence that there is none (an `equivalent` claim tests that)"}
