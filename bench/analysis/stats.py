"""Every statistic behind a verdict, pure functions of numbers: no records, no TensorFlow, no report.

The comparison of two runs (bench.analysis.compare), the claims about seeds
(bench.analysis.claims, bench.analysis.claims_plan) and the report's tables take their tests,
intervals and seed-count searches from here, and only here: this is the one module that calls
scipy.stats' `mannwhitneyu`, `fisher_exact`, `binomtest` and `bootstrap`.

Caveats a reader of the numbers should know:
- Bootstrap intervals resample whatever unit they are given, each side independently. Given
  seeds, the seed is the unit of repetition; given log windows, the interval describes the noise
  inside two runs only (windows of one cell are not independent draws). With two or three
  values per side an interval takes only a handful of values: a rough range, not a precise one.
- An exact rank test with few samples cannot reach small p-values at all (3 seeds against 3
  never go below 0.1): `smallest_exact_rank_p` says how small p can get, and the verdicts use it
  to say `inconclusive` instead of "no change".
"""

import math

import numpy as np
from scipy import stats

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95
EXACT_MAX = 200  # samples per side up to which the exact rank distribution is computed
MAX_PLAN_SEEDS = 10_000  # where the seed-count searches give up


def alpha_of(level: float) -> float:
    """1 - level, rounded: 1 - 0.95 is 0.050000000000000044 in floating point, and an exact test's
    p of exactly 0.05 must not pass as below it."""
    return round(1 - level, 12)


# ---------------------------------------------------------------- intervals

def _ratio_of_medians(a, b, axis=-1):
    return np.median(a, axis=axis) / np.median(b, axis=axis)


def ratio_of_medians_ci(a, b, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED,
                        confidence=CONFIDENCE) -> tuple[float, float, float]:
    """median(a) / median(b) and its percentile bootstrap interval, each side resampled with
    replacement on its own (a seed's XLA-on and XLA-off cells, say, are different runs, not
    pairs). Seeded: the same inputs give the same interval. NaN bounds when a side has a single
    value."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ratio = float(_ratio_of_medians(a, b))
    if min(len(a), len(b)) < 2:
        return ratio, math.nan, math.nan  # one value: resampling it says nothing
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return ratio, ratio, ratio  # nothing to resample: every resample gives the ratio
    ci = stats.bootstrap((a, b), _ratio_of_medians, vectorized=True, n_resamples=resamples,
                         confidence_level=confidence, method="percentile",
                         rng=np.random.default_rng(seed)).confidence_interval
    return ratio, float(ci.low), float(ci.high)


def exact_interval(successes: int, n: int, level: float) -> tuple[float, float]:
    """The exact two-sided Clopper-Pearson interval of a proportion (scipy's binomtest)."""
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


# ---------------------------------------------------------------- rank tests

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
    return min(1.0, 2.0 / math.comb(n_a + n_b, n_a))


def min_samples_per_side(alpha: float) -> int:
    """The fewest samples per side (equal sizes) with which an exact two-sided rank test can
    reach p < alpha at all."""
    n = 1
    while smallest_exact_rank_p(n, n) >= alpha:
        n += 1
    return n


def min_one_sided_per_side(alpha: float) -> int:
    """The fewest samples per side (equal sizes) with which a one-sided exact rank test can reach
    p < alpha: its smallest p is 1 / C(2n, n)."""
    return next(n for n in range(1, MAX_PLAN_SEEDS) if 1 / math.comb(2 * n, n) < alpha)


def fewest_beside(n_fixed: int, alpha: float) -> int | None:
    """With n_fixed samples on one side, the fewest on the other with which a one-sided exact
    Mann-Whitney test can reach p < alpha (its smallest p is 1 / C(n_fixed + n, n))."""
    return next((n for n in range(1, MAX_PLAN_SEEDS) if 1 / math.comb(n_fixed + n, n) < alpha),
                None)


def _rank_method(a, b) -> str:
    # Exact p-values where they are valid (no ties) and cheap; SciPy's "auto" would switch to
    # the normal approximation above 8 samples, which overstates p for small separated samples.
    tied = len(np.unique(np.concatenate([a, b]))) < len(a) + len(b)
    return "asymptotic" if tied or max(len(a), len(b)) > EXACT_MAX else "exact"


def samples_to_test(baseline, candidate, bootstrap=False) -> dict:
    """Ratio of medians (candidate / baseline), the two-sided Mann-Whitney p-value and, with
    `bootstrap`, a 95% percentile bootstrap interval of the ratio (each side resampled)."""
    baseline, candidate = np.asarray(baseline, float), np.asarray(candidate, float)
    p = stats.mannwhitneyu(candidate, baseline, alternative="two-sided",
                           method=_rank_method(baseline, candidate)).pvalue
    out = {"ratio": float(np.median(candidate) / np.median(baseline)), "p": float(p),
           "n_baseline": len(baseline), "n_candidate": len(candidate),
           "baseline_median": float(np.median(baseline)),
           "candidate_median": float(np.median(candidate))}
    if bootstrap:
        _, out["ci_low"], out["ci_high"] = ratio_of_medians_ci(candidate, baseline)
    return out


def two_sided_rank_p(a, b) -> float:
    """The exact two-sided Mann-Whitney U p-value of A against B."""
    return float(stats.mannwhitneyu(a, b, alternative="two-sided", method="exact").pvalue)


def shifted_rank_tests(a, b, margin: float, higher_is_better: bool) -> dict:
    """Non-inferiority of B against A by a margin: A moved to the worst value B may have and
    still count as no worse (A x (1 - margin) when higher is better, A x (1 + margin) when
    lower is), then one-sided exact Mann-Whitney tests of B against the shifted A both ways.
    `p_holds`: B better than the shifted A; `p_fails`: B worse than it."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    shifted = a * (1 - margin) if higher_is_better else a * (1 + margin)
    better, worse = ("greater", "less") if higher_is_better else ("less", "greater")
    return {"shifted": shifted,
            "p_holds": float(stats.mannwhitneyu(b, shifted, alternative=better,
                                                method="exact").pvalue),
            "p_fails": float(stats.mannwhitneyu(b, shifted, alternative=worse,
                                                method="exact").pvalue)}


# ---------------------------------------------------------------- counts

def fisher_p(events_a: int, n_a: int, events_b: int, n_b: int) -> float:
    """Two-sided Fisher's exact test of events_a / n_a against events_b / n_b."""
    return float(stats.fisher_exact([[events_a, n_a - events_a],
                                     [events_b, n_b - events_b]]).pvalue)


def smallest_fisher_p(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value Fisher's exact test can give for two groups of these sizes:
    every member of one group with the event, none of the other."""
    return fisher_p(n_a, n_a, 0, n_b)


def min_fisher_per_side(alpha: float) -> int:
    """The fewest per side (equal sizes) with which Fisher's exact test can reach p < alpha."""
    return next(n for n in range(1, MAX_PLAN_SEEDS) if smallest_fisher_p(n, n) < alpha)


def collapse_test(baseline_collapsed: int, baseline_n: int, candidate_collapsed: int,
                  candidate_n: int) -> dict:
    """Fisher's exact test on collapse counts (collapsed / seeds with recognisable samples)."""
    return {"baseline": f"{baseline_collapsed}/{baseline_n} collapsed",
            "candidate": f"{candidate_collapsed}/{candidate_n} collapsed",
            "p": fisher_p(candidate_collapsed, candidate_n, baseline_collapsed, baseline_n),
            "n_baseline": baseline_n, "n_candidate": candidate_n,
            "worse": candidate_collapsed / candidate_n > baseline_collapsed / baseline_n}


# ---------------------------------------------------------------- seeds a decision needs

def seeds_to_decide_proportion(rate: float, bound: float, level: float,
                               upper_is_claim: bool) -> int | None:
    """The fewest seeds for which a true share `rate` decides a claim against `bound` with the
    exact two-sided interval: rate*n successes (rounded) put the interval wholly on one side.
    None when no number of seeds under MAX_PLAN_SEEDS does (rate at the bound)."""
    for n in range(1, MAX_PLAN_SEEDS):
        low, high = exact_interval(round(rate * n), n, level)
        if upper_is_claim and (high <= bound or low > bound):
            return n
        if not upper_is_claim and (low >= bound or high < bound):
            return n
    return None


def one_sided_seeds_for_zero(bound: float, level: float) -> int:
    """With no event at all, the seeds a one-sided exact bound below `bound` needs: the upper
    bound is 1 - (1 - level)^(1/n)."""
    return math.ceil(math.log(1 - level) / math.log(1 - bound) - 1e-12)


def fisher_seeds(rate_a: float, rate_b: float, alpha: float, limit=1000) -> int | None:
    """The fewest seeds per side for which these true rates give Fisher's p < alpha."""
    if rate_a == rate_b:
        return None
    for n in range(2, limit):
        a, b = round(rate_a * n), round(rate_b * n)
        if fisher_p(a, n, b, n) < alpha:
            return n
    return None
