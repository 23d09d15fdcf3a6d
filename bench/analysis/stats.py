"""Every statistic behind a verdict, pure functions of numbers: no records, no TensorFlow, no report.

The comparison of two runs (bench.analysis.compare), the claims about seeds
(bench.analysis.claims) and the report's tables take their tests, intervals and multiplicity
corrections from here, and only here: this is the one module that calls scipy.stats'
`mannwhitneyu`, `fisher_exact`, `boschloo_exact`, `binomtest` and `bootstrap`.
(bench.analysis.power sizes seed counts from these tests.)

Decisions are exact where the test is. An exact test's p-value is a count over a finite set of
arrangements divided by their number, so it is kept as a Fraction and compared with alpha as
one: SciPy returns an exact 1/20 as 0.049999999999999996, and `p < 0.05` would pass it. A p = alpha
is never significant, whatever the order of the samples. Where a p-value is approximate (the
normal approximation for large tied samples, Boschloo's maximum over a nuisance parameter), it
counts as below alpha only when it is below by more than a relative REL_TOL.

Caveats a reader of the numbers should know:
- Bootstrap intervals resample whatever unit they are given, each side independently. The run
  (a cell) is the unit of repetition for throughput: its log windows are autocorrelated and carry
  the run's own level, so they come in only as a second stage inside each resampled cell. With
  two or three values per side an interval takes only a handful of values: a rough range.
- An exact test with few samples cannot reach small p-values at all (3 seeds against 3 never go
  below 0.1 with a two-sided rank test): the smallest reachable p is computed, and a test that
  cannot reach alpha after the multiplicity correction is `inconclusive`, never "no change".
- Tied values (classes covered, 0..10) make the rank test's exact distribution the permutation
  distribution of the tied ranks: computed by enumeration (scipy's PermutationMethod).
"""

import math
from fractions import Fraction

import numpy as np
from scipy import stats

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95
EXACT_MAX = 200  # samples per side up to which SciPy's exact (untied) distribution is used
PERMUTATION_MAX = 200_000  # arrangements enumerated for the exact test of tied samples
REL_TOL = 1e-9  # an approximate p counts as below alpha only below alpha x (1 - REL_TOL)
MAX_PLAN_SEEDS = 10_000  # where the seed-count searches give up


# ---------------------------------------------------------------- decisions

def as_fraction(value) -> Fraction:
    """A level or alpha as written (0.05 is 1/20, not the binary float nearest it)."""
    return value if isinstance(value, Fraction) else Fraction(str(value))


def alpha_of(level) -> Fraction:
    """1 - level, exactly: 1 - 0.95 is 1/20 here, not 0.050000000000000044."""
    return 1 - as_fraction(level)


def below(p, alpha) -> bool:
    """p < alpha, decided exactly for an exact p (a Fraction), with a relative tolerance for an
    approximate one (a float): a p equal to alpha is never below it."""
    if isinstance(p, Fraction):
        return p < as_fraction(alpha)
    return float(p) < float(alpha) * (1 - REL_TOL)


def _rational(p: float, total: int) -> Fraction | None:
    """The exact p-value behind SciPy's float, when the test's distribution has `total` equally
    likely arrangements: p x total is a whole number up to rounding."""
    count = round(p * total)
    if abs(p * total - count) > 1e-6 * max(1, count):
        return None
    return min(Fraction(count, total), Fraction(1))


def decision_p(test: dict):
    """The p a decision uses: the exact one where there is one."""
    return test["p_exact"] if test.get("p_exact") is not None else test["p"]


# ---------------------------------------------------------------- multiplicity

def holm_adjusted(p_values) -> list:
    """Holm-Bonferroni adjusted p-values, in the input order: step-down, each at most 1. Exact
    p-values (Fractions) stay exact."""
    p = list(p_values)
    order = sorted(range(len(p)), key=lambda i: p[i])
    adjusted, running = [None] * len(p), 0
    for rank, index in enumerate(order):
        running = max(running, (len(p) - rank) * p[index])
        adjusted[index] = min(1, running)
    return adjusted


def tarone_family(smallest_ps, alpha) -> tuple[int, list[bool]]:
    """Tarone's rule for discrete tests: the smallest K with at most K tests able to reach
    p < alpha / K; those are tested, Bonferroni-corrected by K, and the others (which could never
    be significant) are left out rather than inflating the correction. (K, which are tested)."""
    for k in range(1, len(smallest_ps) + 1):
        testable = [below(p, as_fraction(alpha) / k) for p in smallest_ps]
        if sum(testable) <= k:
            return k, testable
    return max(1, len(smallest_ps)), [False] * len(smallest_ps)


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


def runs_ratio_ci(baseline_cells, candidate_cells, resamples=BOOTSTRAP_RESAMPLES,
                  seed=BOOTSTRAP_SEED, confidence=CONFIDENCE) -> tuple[float, float, float]:
    """Throughput with the run as the unit: each cell (a list of its windows' images/s) is one
    observation, its median; the ratio is the median of the candidate's cell medians over the
    baseline's. Its interval: a two-stage percentile bootstrap, cells resampled with replacement
    within each side, then each drawn cell's windows resampled and its median taken (SciPy's
    bootstrap resamples one level only, so the two stages are written out here)."""
    rng = np.random.default_rng(seed)

    def medians(cells):
        return np.array([np.median(c) for c in cells])

    def resampled(cells):
        # draws[c, r, j]: cell c's second-stage median for replicate r, position j; a cell
        # picked twice in one replicate gets two independent draws
        m = len(cells)
        draws = np.empty((m, resamples, m))
        for c, cell in enumerate(cells):
            cell = np.asarray(cell, float)
            idx = rng.integers(0, len(cell), (resamples, m, len(cell)))
            draws[c] = np.median(cell[idx], axis=2)
        picks = rng.integers(0, m, (resamples, m))
        chosen = draws[picks, np.arange(resamples)[:, None], np.arange(m)[None, :]]
        return np.median(chosen, axis=1)

    ratio = float(np.median(medians(candidate_cells)) / np.median(medians(baseline_cells)))
    boot = resampled(candidate_cells) / resampled(baseline_cells)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    return ratio, float(low), float(high)


def exact_interval(successes: int, n: int, level) -> tuple[float, float]:
    """The exact two-sided Clopper-Pearson interval of a proportion (scipy's binomtest)."""
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=float(level),
                                                     method="exact")
    return float(ci.low), float(ci.high)


def exact_intervals(n: int, level) -> tuple[np.ndarray, np.ndarray]:
    """(lows, highs): `exact_interval` of every count 0..n of n at once (power computations ask
    for all of them, hundreds of times): the same Clopper-Pearson beta quantiles that scipy's
    binomtest computes one count at a time (tests/test_stats.py holds them equal)."""
    alpha = float(alpha_of(level))
    k = np.arange(n + 1)
    low = np.where(k == 0, 0.0, stats.beta.ppf(alpha / 2, np.maximum(k, 1), n - k + 1))
    high = np.where(k == n, 1.0, stats.beta.ppf(1 - alpha / 2, k + 1, np.maximum(n - k, 1)))
    return low, high


def binomial_pmf(n: int, rate: float) -> np.ndarray:
    """P(k of n) for every k = 0..n at a true share `rate`."""
    return stats.binom.pmf(np.arange(n + 1), n, rate)


def binomial_tail_p(successes: int, n: int, bound: float, alternative: str) -> float:
    """One-sided exact binomial p of `successes` in `n` against a true share `bound`."""
    return float(stats.binomtest(successes, n, bound, alternative=alternative).pvalue)


# ---------------------------------------------------------------- a mean against a published interval

def mean_within_tests(values, low: float, high: float, level) -> dict:
    """A mean across seeds against an interval [low, high] (a published row's): the two-sided
    Student t interval of the mean at `level` (scipy's ttest_1samp), and the one-sided t-tests
    of "mean > low" and "mean < high". The interval lies inside [low, high] exactly when both
    one-sided p are below (1 - level) / 2, so `p_inside` = 2 x the larger is the p that decides
    "inside" at that level."""
    values = np.asarray(values, dtype=float)
    ci = stats.ttest_1samp(values, 0.0).confidence_interval(confidence_level=float(level))
    p_above_low = float(stats.ttest_1samp(values, low, alternative="greater").pvalue)
    p_below_high = float(stats.ttest_1samp(values, high, alternative="less").pvalue)
    return {"mean": float(values.mean()), "mean_low": float(ci.low), "mean_high": float(ci.high),
            "p_above_low": p_above_low, "p_below_high": p_below_high,
            "p_inside": min(1.0, 2 * max(p_above_low, p_below_high))}


def mean_interval(values, level) -> tuple[float, float, float]:
    """The mean of `values` and its two-sided Student t interval at `level` (scipy's
    ttest_1samp): what the paired rounds of `continuous` report of their log ratios."""
    values = np.asarray(values, dtype=float)
    if np.ptp(values) == 0:  # no spread: the interval is the point (scipy would give NaN)
        return (float(values[0]),) * 3
    ci = stats.ttest_1samp(values, 0.0).confidence_interval(confidence_level=float(level))
    return float(values.mean()), float(ci.low), float(ci.high)


# ---------------------------------------------------------------- rank tests

def smallest_exact_rank_p(n_a: int, n_b: int, sides: int = 2) -> Fraction:
    """The smallest p an exact Mann-Whitney test can give with these sample sizes: sides /
    C(n_a + n_b, n_a), when the two samples do not overlap at all (ties only raise it). 3 seeds
    against 3 can never go below 0.1 two-sided."""
    return min(Fraction(1), Fraction(sides, math.comb(n_a + n_b, n_a)))


def min_samples_per_side(alpha, sides: int = 2) -> int:
    """The fewest samples per side (equal sizes) with which an exact rank test can reach
    p < alpha at all."""
    return next(n for n in range(1, MAX_PLAN_SEEDS)
                if below(smallest_exact_rank_p(n, n, sides), alpha))


def fewest_beside(n_fixed: int, alpha, sides: int = 1) -> int | None:
    """With n_fixed samples on one side, the fewest on the other with which the exact test can
    reach p < alpha."""
    return next((n for n in range(1, MAX_PLAN_SEEDS)
                 if below(smallest_exact_rank_p(n_fixed, n, sides), alpha)), None)


def rank_test(a, b, alternative: str = "two-sided") -> dict:
    """Mann-Whitney U of `a` against `b`: p (float), p_exact (a Fraction, or None when
    approximate) and the method: SciPy's exact distribution without ties; the exact permutation
    distribution of the tied ranks with ties (up to PERMUTATION_MAX arrangements); the normal
    approximation, tie-corrected, beyond either."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    total = math.comb(len(a) + len(b), len(a))
    tied = len(np.unique(np.concatenate([a, b]))) < len(a) + len(b)
    if not tied and max(len(a), len(b)) <= EXACT_MAX:
        method, how = "exact", "exact"
    elif tied and total <= PERMUTATION_MAX and min(len(a), len(b)) >= 2:
        # (one value on a side: SciPy's permutation test refuses it; the normal approximation
        # then, and its smallest p, 2 / (n + 1), decides nothing anyway)
        method, how = "permutation", stats.PermutationMethod(n_resamples=np.inf)
    else:
        method, how = "asymptotic", "asymptotic"
    p = float(stats.mannwhitneyu(a, b, alternative=alternative, method=how).pvalue)
    exact = _rational(p, total) if method != "asymptotic" else None
    return {"p": p, "p_exact": exact, "method": method}


def samples_to_test(baseline, candidate, bootstrap=False) -> dict:
    """Ratio of medians (candidate / baseline), the two-sided Mann-Whitney test (rank_test) and,
    with `bootstrap`, a 95% percentile bootstrap interval of the ratio (each side resampled)."""
    baseline, candidate = np.asarray(baseline, float), np.asarray(candidate, float)
    test = rank_test(candidate, baseline)
    out = {"ratio": float(np.median(candidate) / np.median(baseline)), **test,
           "n_baseline": len(baseline), "n_candidate": len(candidate),
           "p_min": smallest_exact_rank_p(len(baseline), len(candidate)),
           "baseline_median": float(np.median(baseline)),
           "candidate_median": float(np.median(candidate))}
    if bootstrap:
        _, out["ci_low"], out["ci_high"] = ratio_of_medians_ci(candidate, baseline)
    return out


def decimal(value) -> Fraction:
    """A number as its decimal text says it (0.1 is 1/10; Python's repr is the shortest text
    that reads back as the same float), so that data and margins meet exactly."""
    return value if isinstance(value, Fraction) else Fraction(repr(float(value)))


def exact_ranks(b, a) -> tuple[np.ndarray, np.ndarray]:
    """B's and A's values (Fractions) replaced by their places in the exact order of both:
    equal values get the same place, so a B equal to a shifted A is a tie, as it is on paper.
    A rank test depends on the order alone, so it gives the same p on the places."""
    place = {v: i for i, v in enumerate(sorted(set(b) | set(a)))}
    return (np.array([place[v] for v in b], dtype=float),
            np.array([place[v] for v in a], dtype=float))


def shifted_rank_test(b, a, factor, alternative: str) -> dict:
    """rank_test of B against A x factor, the product taken exactly from the decimal text of
    the values and the factor: 12.1 against 11 x 1.1 is a tie (in binary floats 11 x 1.1 is
    12.100000000000001, and a tie would become a strict order and change the exact p)."""
    factor = decimal(factor) if not isinstance(factor, Fraction) else factor
    codes_b, codes_a = exact_ranks([decimal(x) for x in b], [decimal(x) * factor for x in a])
    return rank_test(codes_b, codes_a, alternative)


def shifted_rank_tests(a, b, margin, higher_is_better: bool) -> dict:
    """B against A moved by a margin, one-sided both ways (non-inferiority): A x (1 - margin)
    when higher is better, A x (1 + margin) when lower is, is the worst B may be and still count
    as no worse. `holds`: B better than the shifted A; `fails`: B worse than it. Shifted
    exactly (shifted_rank_test)."""
    m = decimal(margin)
    factor = 1 - m if higher_is_better else 1 + m
    better, worse = ("greater", "less") if higher_is_better else ("less", "greater")
    return {"shifted": np.array([float(decimal(x) * factor) for x in a]),
            "holds": shifted_rank_test(b, a, factor, better),
            "fails": shifted_rank_test(b, a, factor, worse)}


def equivalence_tests(a, b, margin) -> dict:
    """Two one-sided tests (TOST) that B lies within A x (1 +- margin): `upper`, B below A x (1 +
    margin); `lower`, B above A x (1 - margin); equivalent when both are significant. And the
    tests the other way: `below_band`, B below A x (1 - margin); `above_band`, B above A x (1 +
    margin); either significant shows B outside the band. Shifted exactly (shifted_rank_test)."""
    m = decimal(margin)
    return {"upper": shifted_rank_test(b, a, 1 + m, "less"),
            "lower": shifted_rank_test(b, a, 1 - m, "greater"),
            "below_band": shifted_rank_test(b, a, 1 - m, "less"),
            "above_band": shifted_rank_test(b, a, 1 + m, "greater")}


# ---------------------------------------------------------------- counts

def fisher_test(events_a: int, n_a: int, events_b: int, n_b: int,
                alternative: str = "two-sided") -> dict:
    """Fisher's exact test of events_a / n_a against events_b / n_b, its p exact: every table
    with these margins is a count over C(n_a + n_b, events) arrangements."""
    p = float(stats.fisher_exact([[events_a, n_a - events_a], [events_b, n_b - events_b]],
                                 alternative=alternative).pvalue)
    total = math.comb(n_a + n_b, events_a + events_b)
    return {"p": p, "p_exact": _rational(p, total), "method": "fisher"}


def fisher_significant_tables(n_a: int, n_b: int, alpha) -> list[tuple[int, int]]:
    """Every (events_a, events_b) that Fisher's two-sided exact test calls significant at alpha,
    from exact integer counts: given the events' total t, a table's weight is C(n_a, a) C(n_b,
    t - a), and its p is the weight of every table no more likely than it over C(n_a + n_b, t),
    fisher_test's p exactly. For power over many tables at once (bench.analysis.power)."""
    alpha = as_fraction(alpha)
    out = []
    for t in range(n_a + n_b + 1):
        tables = range(max(0, t - n_b), min(n_a, t) + 1)
        weights = {a: math.comb(n_a, a) * math.comb(n_b, t - a) for a in tables}
        total = math.comb(n_a + n_b, t)
        for a, w in weights.items():
            p = Fraction(sum(x for x in weights.values() if x <= w), total)
            if p < alpha:
                out.append((a, t - a))
    return out


def smallest_fisher_p(n_a: int, n_b: int) -> Fraction:
    """The smallest two-sided p Fisher's exact test can give for two groups of these sizes:
    every member of one group with the event, none of the other."""
    return decision_p(fisher_test(n_a, n_a, 0, n_b))


def boschloo_test(events_a: int, n_a: int, events_b: int, n_b: int,
                  alternative: str = "two-sided") -> dict:
    """Boschloo's exact unconditional test (more power than Fisher's with few seeds: 3 of 3
    against 0 of 3 gives p = 1/32 two-sided, Fisher 1/10). Its p is a maximum over a nuisance
    parameter, computed numerically: approximate, decided with the relative tolerance."""
    table = [[events_a, events_b], [n_a - events_a, n_b - events_b]]
    p = float(stats.boschloo_exact(table, alternative=alternative).pvalue)
    return {"p": min(1.0, p), "p_exact": None, "method": "boschloo"}


def smallest_boschloo_p(n_a: int, n_b: int) -> float:
    """The smallest two-sided p Boschloo's test can give for groups of these sizes."""
    return boschloo_test(n_a, n_a, 0, n_b)["p"]


def collapse_test(baseline_collapsed: int, baseline_n: int, candidate_collapsed: int,
                  candidate_n: int, level=CONFIDENCE) -> dict:
    """Collapse counts (collapsed / seeds with recognisable samples), Boschloo's two-sided test,
    with each side's rate and exact interval and the difference of rates as the effect."""
    test = boschloo_test(candidate_collapsed, candidate_n, baseline_collapsed, baseline_n)
    rates = {side: (k, n, *exact_interval(k, n, level)) for side, k, n in (
        ("baseline", baseline_collapsed, baseline_n), ("candidate", candidate_collapsed,
                                                       candidate_n))}
    return {"baseline": f"{baseline_collapsed}/{baseline_n} collapsed",
            "candidate": f"{candidate_collapsed}/{candidate_n} collapsed", **test,
            "p_min": smallest_boschloo_p(candidate_n, baseline_n),
            "n_baseline": baseline_n, "n_candidate": candidate_n, "rates": rates,
            "effect": candidate_collapsed / candidate_n - baseline_collapsed / baseline_n,
            "worse": candidate_collapsed / candidate_n > baseline_collapsed / baseline_n}
