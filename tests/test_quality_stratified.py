"""The run's one collapse test when configurations judged different numbers of seeds on the two
sides (bench.analysis.quality.collapse_family_test): pooled into one Boschloo test, it compares
two different mixtures of configurations and fires more often than alpha when nothing changed;
stratified by configuration (bench.analysis.quality.stratified_collapse_test) it does not. Both
sizes are computed exactly, by enumerating every outcome of a small case."""

from fractions import Fraction
from itertools import product
from math import comb

import pytest

from bench.analysis import quality, stats

ALPHA = 0.05


def test_the_stratified_p_worked_by_hand():
    # one configuration, 0 of 2 against 2 of 2: hypergeometric 1/6, 4/6, 1/6; two-sided 1/3
    assert quality.stratified_collapse_test([(0, 2, 2, 2)])["p_exact"] == Fraction(1, 3)
    # two such configurations: their sum 0..4 with 1, 8, 18, 8, 1 in 36; the observed 4 and its
    # mirror 0 are the two least likely: 2/36
    test = quality.stratified_collapse_test([(0, 2, 2, 2), (0, 2, 2, 2)])
    assert test["p_exact"] == Fraction(1, 18) and test["worse"]
    assert test["p_min"] == pytest.approx(1 / 18)
    # nothing to tell apart: every seed collapsed on both sides
    assert quality.stratified_collapse_test([(2, 2, 3, 3)])["p_exact"] == 1


def _binomial(k, n, p):
    return comb(n, k) * p ** k * (1 - p) ** (n - k)


def _size(rates, baseline_n, candidate_n, test) -> float:
    """The probability that `test` (counts a configuration -> p) rejects at ALPHA when both
    sides collapse at `rates` per configuration, by enumerating every outcome."""
    size = 0.0
    ranges = [range(n + 1) for n in (*baseline_n, *candidate_n)]
    for counts in product(*ranges):
        k = len(rates)
        base, cand = counts[:k], counts[k:]
        probability = 1.0
        for i, rate in enumerate(rates):
            probability *= _binomial(base[i], baseline_n[i], rate) * \
                _binomial(cand[i], candidate_n[i], rate)
        collapse = {f"c{i}": ((base[i], baseline_n[i]), (cand[i], candidate_n[i]))
                    for i in range(k)}
        if stats.below(stats.decision_p(test(collapse)), ALPHA):
            size += probability
    return size


def _pooled(collapse):
    base = tuple(sum(b[i] for b, _ in collapse.values()) for i in (0, 1))
    cand = tuple(sum(c[i] for _, c in collapse.values()) for i in (0, 1))
    return quality.collapse_row("pooled", base, cand, collapse)


def test_with_unequal_judged_seeds_pooling_is_liberal_and_the_run_stratifies():
    """Two configurations, one collapsing 10% of seeds and one 90%, the same on both sides; the
    baseline judged 1 and 5 of their seeds, the candidate 5 and 1 (its other seeds not
    converged, say): the pooled test rejects far more often than 5%; the run's test, stratified,
    at most 5%."""
    rates, baseline_n, candidate_n = (0.1, 0.9), (1, 5), (5, 1)
    pooled = _size(rates, baseline_n, candidate_n, _pooled)
    assert pooled > 2 * ALPHA
    run = _size(rates, baseline_n, candidate_n, quality.collapse_family_test)
    assert run <= ALPHA
    # and the run's test says which it ran
    test = quality.collapse_family_test({"a": ((0, 1), (0, 5)), "b": ((5, 5), (1, 1))})
    assert test["config"] == "2 quality configurations, stratified"
    assert test["method"].startswith("stratified")


def test_with_equal_judged_seeds_the_run_still_pools():
    """The same seeds judged on both sides: the pooled Boschloo test, which can fire with three
    seeds a side (0 of 3 against 3 of 3: p = 1/32), stays."""
    test = quality.collapse_family_test({"a": ((0, 3), (3, 3)), "b": ((0, 3), (3, 3))})
    assert test["method"] == "boschloo" and test["config"] == "2 quality configurations, pooled"
