"""How many seeds a claim needs: the power of its exact decision at an assumed truth.

The first number of seeds at which a claim *could* be decided at the observed rate is a coin
flip: with 3 of 6 collapsed against "at most 25%", 15 seeds decide it with probability 0.50. Here
a claim's seeds are sized for a stated power (default 0.8): the probability, over the seeds'
random outcomes at the assumed truth, that the claim's own exact decision comes out decided.

- Proportions (collapse_rate, coverage): exactly, from the binomial distribution of the count and
  the exact (Clopper-Pearson) interval the verdict uses.
- Two collapse rates (differs on collapse_rate): exactly, summing the two binomial distributions
  over the tables Fisher's exact test calls significant.
- A metric's rank test (no_worse, differs, equivalent): the exact test's smallest reachable p
  bounds the seeds from below; beyond that the power depends on the metric's distributions, so it
  is estimated by drawing seeds from the observed ones (said so beside the number).

The tests and intervals are bench.analysis.stats'; here they are only counted.
"""

import math

import numpy as np

from bench.analysis import stats

POWER = 0.8
MAX_SEEDS = 400
SIMULATIONS = 400
SIMULATION_SEED = 0


def proportion_power(n: int, rate: float, bound: float, level, upper_is_claim: bool) -> float:
    """P(the exact interval decides the claim the way the truth `rate` says), n seeds."""
    low, high = stats.exact_intervals(n, level)
    pmf = stats.binomial_pmf(n, rate)
    if upper_is_claim:  # "at most bound": holds when high <= bound, fails when low > bound
        decided = high <= bound if rate < bound else low > bound
    else:  # "at least bound": holds when low >= bound, fails when high < bound
        decided = low >= bound if rate > bound else high < bound
    return float(pmf[decided].sum())


LINEAR_SEARCH = 64  # counts searched one by one; beyond, by doubling and halving


def _first(power_of, target: float, start: int = 1) -> int | None:
    """The fewest n (from `start`) with power_of(n) >= target. Power rises with n in saw-teeth
    (the counts are discrete: one more seed can lower it), so small counts are tried one by one;
    past LINEAR_SEARCH the search doubles, then halves (the saw-teeth are small there)."""
    for n in range(start, LINEAR_SEARCH + 1):
        if power_of(n) >= target:
            return n
    lo, hi = LINEAR_SEARCH, LINEAR_SEARCH * 2
    while power_of(hi) < target:
        if hi >= MAX_SEEDS:
            return None
        lo, hi = hi, min(MAX_SEEDS, hi * 2)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if power_of(mid) >= target else (mid, hi)
    return hi


def seeds_for_proportion(rate: float, bound: float, level, upper_is_claim: bool,
                         power: float = POWER) -> int | None:
    """The fewest seeds deciding a proportion claim with probability `power` at `rate`; None at
    the bound (never decided) or beyond MAX_SEEDS."""
    if rate == bound:
        return None
    return _first(lambda n: proportion_power(n, rate, bound, level, upper_is_claim), power)


def fisher_power(n: int, rate_a: float, rate_b: float, alpha) -> float:
    """P(Fisher's exact test of a against b is significant), n seeds a side, exactly."""
    pa, pb = stats.binomial_pmf(n, rate_a), stats.binomial_pmf(n, rate_b)
    return float(sum(pa[a] * pb[b] for a, b in stats.fisher_significant_tables(n, n, alpha)))


def seeds_for_fisher(rate_a: float, rate_b: float, alpha, power: float = POWER) -> int | None:
    """The fewest seeds a side for Fisher's test to find these rates different with
    probability `power`."""
    if rate_a == rate_b:
        return None
    return _first(lambda n: fisher_power(n, rate_a, rate_b, alpha), power, start=2)


def rank_power(a, b, n: int, alpha, decide, seed=SIMULATION_SEED) -> float:
    """The power of a rank-test decision with n seeds a side, estimated by drawing seeds (with
    replacement) from the observed values `a` and `b`; `decide(a, b) -> bool`."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a, float), np.asarray(b, float)
    hits = sum(decide(rng.choice(a, n), rng.choice(b, n)) for _ in range(SIMULATIONS))
    return hits / SIMULATIONS


def seeds_for_ranks(a, b, alpha, decide, sides: int, power: float = POWER) -> int | None:
    """The fewest seeds a side deciding with probability `power`, drawing from the observed
    seeds; from the fewest with which the exact test can reach alpha at all."""
    least = stats.min_samples_per_side(alpha, sides)
    if len(a) < 2 or len(b) < 2:
        return None
    return _first(lambda n: rank_power(a, b, n, alpha, decide), power, start=least)


def one_sided_seeds_for_zero(bound: float, level) -> int:
    """With no event at all, the seeds a one-sided exact bound below `bound` needs: the upper
    bound is 1 - (1 - level)^(1/n)."""
    return math.ceil(math.log(float(stats.alpha_of(level))) / math.log(1 - bound) - 1e-12)
