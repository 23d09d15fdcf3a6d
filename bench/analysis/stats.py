"""Statistics over seeds, pure functions of numbers: no records, no TensorFlow, no report.

Bootstrap intervals resample seeds: a seed is the unit of repetition (its windows are not
independent of each other). With two or three seeds per side an interval can take only a handful
of values: a rough range, not a precise one.
"""

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95


def ratio_of_medians_ci(on, off, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED,
                        confidence=CONFIDENCE):
    """median(on) / median(off) and a percentile bootstrap interval from resampling seeds.

    Each side's seeds are resampled with replacement, independently (a seed's XLA-on and XLA-off
    cells are different runs, not pairs).
    """
    on, off = np.asarray(on, float), np.asarray(off, float)
    rng = np.random.default_rng(seed)
    boot_on = np.median(on[rng.integers(0, len(on), (resamples, len(on)))], axis=1)
    boot_off = np.median(off[rng.integers(0, len(off), (resamples, len(off)))], axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(boot_on / boot_off, [tail, 100 - tail])
    return float(np.median(on) / np.median(off)), float(low), float(high)


def holm_adjusted(p_values) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order: step-down, each at most 1.

    Comparing several configurations at once, a verdict uses the adjusted value against the
    significance level, so the family-wise false-alarm rate stays at that level.
    """
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, (m - rank) * p[index])
        adjusted[index] = min(1.0, running)
    return adjusted.tolist()


def smallest_exact_rank_p(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value an exact Mann-Whitney test can give with these sample sizes:
    2 / C(n_a + n_b, n_a), when the two samples do not overlap at all. Below the significance
    level, and no verdict is possible: 3 seeds against 3 can never go below 0.1."""
    from math import comb

    return min(1.0, 2.0 / comb(n_a + n_b, n_a))


def min_samples_per_side(alpha: float) -> int:
    """The fewest samples per side (equal sizes) with which an exact two-sided rank test can
    reach p < alpha at all."""
    n = 1
    while smallest_exact_rank_p(n, n) >= alpha:
        n += 1
    return n
