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
