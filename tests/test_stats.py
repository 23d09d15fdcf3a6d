"""The statistics that turn numbers into verdicts, against hand-worked values."""

import pytest
from scipy import stats

from bench.analysis.stats import holm_adjusted, min_samples_per_side, smallest_exact_rank_p


def test_holm_adjustment_worked_by_hand():
    # sorted 0.01, 0.02, 0.04 -> 3 x 0.01 = 0.03, max(0.03, 2 x 0.02) = 0.04, max(0.04, 1 x 0.04)
    assert holm_adjusted([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm_adjusted([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm_adjusted([]) == []


def test_three_seeds_against_three_never_reach_p_below_0_1():
    # C(6, 3) = 20 orderings; the most extreme two of them: p = 2 / 20 = 0.1
    assert smallest_exact_rank_p(3, 3) == pytest.approx(0.1)
    exact = stats.mannwhitneyu([1, 2, 3], [4, 5, 6], alternative="two-sided", method="exact")
    assert exact.pvalue == pytest.approx(smallest_exact_rank_p(3, 3))
    # p < 0.002 needs 2 / C(2n, n) < 0.002: C(12, 6) = 924 gives 0.00216, C(14, 7) = 3432 0.00058
    assert min_samples_per_side(0.002) == 7
    assert min_samples_per_side(0.05) == 4  # C(8, 4) = 70: 0.029


def test_throughput_verdicts_worked_by_hand():
    from bench.analysis import compare, stats

    baseline = [100.0 + i for i in range(10)]          # median 104.5
    slower = [80.0 + i for i in range(10)]             # median 84.5: ratio 0.8086
    same = [98.5 + i for i in range(10)]               # median 103.0: ratio 0.9856, overlapping
    tests = [stats.samples_to_test(baseline, slower), stats.samples_to_test(baseline, same)]
    # fully separated samples of 10 and 10: exact two-sided p = 2 / C(20, 10) = 1.0825e-5
    assert tests[0]["p"] == pytest.approx(2 / 184756, rel=1e-6)
    assert tests[0]["ratio"] == pytest.approx(84.5 / 104.5)
    verdicts = compare.tests_to_verdicts(tests)
    assert verdicts[0]["p_holm"] == pytest.approx(2 * 2 / 184756, rel=1e-6)  # 2 comparisons
    assert [v["verdict"] for v in verdicts] == ["regression", "no change"]
    # 5% slower and fully separated: significant, but inside the 10% noise margin
    (five,) = compare.tests_to_verdicts([stats.samples_to_test(
        [100.0 + 0.1 * i for i in range(10)], [95.0 + 0.1 * i for i in range(10)])])
    assert five["p_holm"] < 0.002 and five["verdict"] == "no change"
    # three windows a side can never reach p < 0.002
    (few,) = compare.tests_to_verdicts([stats.samples_to_test([1, 2, 3], [7, 8, 9])])
    assert few["verdict"] == "inconclusive" and "at least 7 windows per side" in few["why"]
