"""The statistics that turn numbers into verdicts, against hand-worked values.

Exact p-values are counts over arrangements: C(n + m, n) for a rank test, C(N, events) for Fisher.
Each case below gives the count worked by hand, so a test is wrong if the library or our use of it
is, and a decision at p = alpha must come out "not significant" in every order of the samples.
"""

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from scipy import stats

from bench.analysis import stats as bench_stats


def test_holm_adjustment_worked_by_hand_and_exact_for_fractions():
    # sorted 0.01, 0.02, 0.04 -> 3 x 0.01 = 0.03, max(0.03, 2 x 0.02) = 0.04, max(0.04, 1 x 0.04)
    assert bench_stats.holm_adjusted([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert bench_stats.holm_adjusted([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert bench_stats.holm_adjusted([]) == []
    assert bench_stats.holm_adjusted([Fraction(1, 40), Fraction(1, 30)]) == [Fraction(1, 20),
                                                                            Fraction(1, 20)]


def test_a_p_equal_to_alpha_is_never_significant():
    assert bench_stats.alpha_of(0.95) == Fraction(1, 20)  # not 0.050000000000000044
    assert bench_stats.alpha_of(0.9) == Fraction(1, 10)
    assert not bench_stats.below(Fraction(1, 20), 0.05)
    assert bench_stats.below(Fraction(1, 21), 0.05)
    # SciPy's float for an exact 1/20 is 0.049999999999999996: a float decision would pass it
    assert 0.049999999999999996 < 0.05
    assert not bench_stats.below(0.049999999999999996, 0.05)  # within the relative tolerance
    assert bench_stats.below(0.0499, 0.05)


def test_fisher_at_exactly_one_twentieth_in_both_orders():
    # 2 of 4 against 0 of 12: the 2 events among 16 fall into A's 4 as a = 0, 1, 2 in
    # C(4, a) C(12, 2 - a) = 66, 48, 6 of C(16, 2) = 120 ways; no table is less likely than the
    # observed one (6), so p = 6 / 120 = 1/20 exactly
    ab, ba = bench_stats.fisher_test(2, 4, 0, 12), bench_stats.fisher_test(0, 12, 2, 4)
    assert ab["p_exact"] == ba["p_exact"] == Fraction(6, comb(16, 2)) == Fraction(1, 20)
    assert ab["p"] != ba["p"]  # SciPy's floats differ with the order; the decisions must not
    assert not bench_stats.below(ab["p_exact"], 0.05) and not bench_stats.below(ba["p_exact"], 0.05)


def test_exact_rank_test_keeps_the_count():
    # fully separated 3 against 3, two-sided: 2 of C(6, 3) = 20 arrangements
    test = bench_stats.rank_test([1, 2, 3], [4, 5, 6])
    assert test["method"] == "exact" and test["p_exact"] == Fraction(2, 20)
    assert bench_stats.smallest_exact_rank_p(3, 3) == Fraction(1, 10)
    assert bench_stats.smallest_exact_rank_p(3, 3, sides=1) == Fraction(1, 20)
    # p < 0.002 needs 2 / C(2n, n) < 0.002: C(12, 6) = 924 gives 0.00216, C(14, 7) = 3432 0.00058
    assert bench_stats.min_samples_per_side(0.002) == 7
    assert bench_stats.min_samples_per_side(0.05) == 4  # C(8, 4) = 70: 2/70 = 0.029
    # one-sided, 3 a side reach 1 / C(6, 3) = 1/20, which is not below 0.05: 4 a side (1/70)
    assert bench_stats.min_samples_per_side(0.05, sides=1) == 4


@pytest.mark.parametrize("a, b, count, total", [
    # classes covered, heavily tied: the exact permutation distribution of the tied ranks
    ([8, 10, 10, 10, 10, 10], [5, 5, 8, 8, 8, 10], 50, comb(12, 6)),     # 25/462 = 0.054
    ([9, 10, 10, 10, 10, 10, 10], [5, 5, 8, 8, 10, 10], 72, comb(13, 6)),  # 6/143 = 0.042
])
def test_tied_samples_use_the_exact_permutation_distribution(a, b, count, total):
    test = bench_stats.rank_test(a, b)
    assert test["method"] == "permutation"
    assert test["p_exact"] == Fraction(count, total)
    # SciPy's method="exact" assumes no ties and gets both wrong, in both directions
    untied = stats.mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue
    assert abs(untied - count / total) > 0.01


def test_tarone_leaves_out_tests_that_cannot_reach_alpha():
    # two rank tests of 3 seeds a side (smallest p 1/10) and one Boschloo test (smallest 1/32):
    # K = 1 tests only the one that can reach p < 0.05 / 1
    k, testable = bench_stats.tarone_family([Fraction(1, 10), Fraction(1, 10), 1 / 32], 0.05)
    assert (k, testable) == (1, [False, False, True])
    # four tests that can each reach 5.8e-4 (7 seeds a side): K = 4, alpha 0.0125 each
    k, testable = bench_stats.tarone_family([Fraction(2, comb(14, 7))] * 4, 0.05)
    assert (k, testable) == (4, [True] * 4)


def test_boschloo_lets_three_seeds_a_side_fire():
    # 3 of 3 against 0 of 3: Boschloo's p = (1/2)^6 x 2 = 1/32 two-sided; Fisher's 1/10
    assert bench_stats.boschloo_test(3, 3, 0, 3)["p"] == pytest.approx(1 / 32, rel=1e-6)
    assert bench_stats.fisher_test(3, 3, 0, 3)["p_exact"] == Fraction(1, 10)
    collapse = bench_stats.collapse_test(0, 3, 3, 3)
    assert collapse["worse"] and collapse["effect"] == 1.0


def test_fisher_significant_tables_match_the_test_table_by_table():
    for n in (3, 4, 7, 10):
        fast = set(bench_stats.fisher_significant_tables(n, n, 0.05))
        slow = {(a, b) for a in range(n + 1) for b in range(n + 1)
                if bench_stats.below(bench_stats.decision_p(bench_stats.fisher_test(a, n, b, n)),
                                     0.05)}
        assert fast == slow


def test_the_run_is_the_unit_of_throughput():
    base = [[100.0, 101.0, 99.0], [110.0, 111.0, 109.0]]  # two cells; medians 100, 110
    slower = [[80.0, 81.0, 79.0], [88.0, 89.0, 87.0]]  # medians 80, 88
    ratio, low, high = bench_stats.runs_ratio_ci(base, slower)
    assert ratio == pytest.approx(84 / 105)
    # cells resampled: the ratio's extremes are 80/110 and 88/100, windows add a little
    assert 79 / 111 <= low <= ratio <= high <= 89 / 99
    assert bench_stats.runs_ratio_ci(base, slower) == (ratio, low, high)  # seeded
    # one cell a side: only its windows vary, the interval is narrow
    one = bench_stats.runs_ratio_ci([base[0]], [slower[0]])
    assert one[0] == pytest.approx(0.8) and one[2] - one[1] < 0.05


def test_windows_rank_test_worked_by_hand():
    baseline = [100.0 + i for i in range(10)]          # median 104.5
    slower = [80.0 + i for i in range(10)]             # median 84.5: ratio 0.8086
    test = bench_stats.samples_to_test(baseline, slower)
    # fully separated samples of 10 and 10: exact two-sided p = 2 / C(20, 10) = 1.0825e-5
    assert test["p_exact"] == Fraction(2, comb(20, 10))
    assert test["ratio"] == pytest.approx(84.5 / 104.5)
    assert np.isfinite(test["p"])


@pytest.mark.parametrize("n", [1, 2, 7, 20, 64])
def test_every_counts_interval_at_once_is_the_one_by_one_interval(n):
    lows, highs = bench_stats.exact_intervals(n, 0.95)
    for k in range(n + 1):
        assert (lows[k], highs[k]) == pytest.approx(bench_stats.exact_interval(k, n, 0.95), abs=1e-12)


def test_the_mean_interval_is_students_t_by_hand():
    # values 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.302653: half-width 4.302653 / sqrt(3)
    mean, low, high = bench_stats.mean_interval([1.0, 2.0, 3.0], 0.95)
    assert mean == 2.0
    assert (low, high) == pytest.approx((2 - 2.484138, 2 + 2.484138), abs=1e-6)
    assert bench_stats.mean_interval([0.5, 0.5, 0.5], 0.95) == (0.5, 0.5, 0.5)
