"""Quality between two runs, across seeds: final FID, classifier score and collapse, as one family.

Per configuration with final evaluations on both sides:
- FID and classifier score: two-sided Mann-Whitney U across seeds, exact (the permutation
  distribution when values tie), with the ratio of medians and its bootstrap interval over seeds
  as the effect;
- collapse (collapsed among seeds with recognisable samples): Boschloo's two-sided exact test,
  with each side's rate, its exact interval and their difference as the effect. Boschloo's rather
  than Fisher's because a nightly part has few seeds: 0 of 3 against 3 of 3 gives p = 1/32 (Fisher
  1/10), so the part can fire at all. One collapse test a run, on the seeds of every quality
  configuration pooled (each configuration's counts in its effect): a collapse test per
  configuration would split alpha between them, and two configurations of 3 seeds (p = 1/32
  at best, above 0.05 / 2) could then never fire. Pooling is valid only where every
  configuration judged as many seeds on both sides: a difference in collapse rates between
  configurations then only makes the pooled count less variable than one binomial (the test
  conservative there). Where the judged seeds differ (one side's seeds not converged), the
  pooled counts compare two different mixtures of configurations and fire when nothing changed
  (42% of the time at alpha 0.05 for rates 10% and 90% over 1 + 5 against 5 + 1 seeds, exactly:
  tests/test_quality_stratified.py), so the test is then stratified by configuration: the exact
  conditional test within each (stratified_collapse_test), never liberal.

The quality tests are their own family, at `alpha` (default 0.05), apart from throughput. Tests
that could never reach significance with the seeds at hand do not inflate the correction
(Tarone's rule: the smallest K such that at most K tests can reach p < alpha / K; those are
tested at alpha / K, and the others are `inconclusive`, saying how many seeds they need). A test
that can reach it and does not is `no change`: no difference found, not a proof of none.

Pure functions of the matched cells: no files, no TensorFlow.
"""

from fractions import Fraction
from math import comb

import pandas as pd

from bench import outcome_rule, schema
from bench.analysis import stats
from bench.schema import (
    VERDICT_IMPROVEMENT,
    VERDICT_INCONCLUSIVE,
    VERDICT_NO_CHANGE,
    VERDICT_REGRESSION,
)

ALPHA = 0.05
# Final metrics compared across seeds: (column, name, higher is better)
METRICS = tuple((schema.final_column(m.key), m.label, m.higher_is_better)
                for m in schema.metrics_with(schema.TESTED))
JUDGED = (outcome_rule.OUTCOME_DIGITS, outcome_rule.OUTCOME_MODE_COLLAPSE)


def _values(group, column, side) -> list[float]:
    return pd.to_numeric(group[f"{column}_{side}"], errors="coerce").dropna().tolist()


def metric_test(config, name, higher_is_better, base, cand) -> dict:
    test = stats.samples_to_test(base, cand)
    _, low, high = stats.ratio_of_medians_ci(cand, base)
    return {"config": config, "metric": name, "higher_is_better": higher_is_better,
            "baseline": ", ".join(f"{v:.4g}" for v in base),
            "candidate": ", ".join(f"{v:.4g}" for v in cand), **test,
            "effect": f"ratio {test['ratio']:.3f} [{low:.3f}, {high:.3f}]",
            "worse": test["ratio"] > 1 if not higher_is_better else test["ratio"] < 1}


def collapse_counts(group, side) -> tuple[int, int]:
    outcome = group[f"{schema.FINAL_OUTCOME}_{side}"]
    judged = outcome[outcome.isin(JUDGED)]
    return int((judged == outcome_rule.OUTCOME_MODE_COLLAPSE).sum()), len(judged)


def collapse_row(config, base, cand, parts: dict | None = None) -> dict:
    """The collapse test of `base` against `cand` ((collapsed, judged) seeds); `parts`, where the
    counts pool several configurations: configuration -> (base counts, candidate counts)."""
    return _with_effect(config, stats.collapse_test(*base, *cand), parts)


def _with_effect(config, test: dict, parts: dict | None) -> dict:
    """A collapse test's row: each side's rate with its exact interval, and each
    configuration's counts where there are several."""
    (kb, nb, lb, hb), (kc, nc, lc, hc) = test["rates"]["baseline"], test["rates"]["candidate"]
    effect = (f"{kc}/{nc} [{lc:.2f}, {hc:.2f}] vs {kb}/{nb} [{lb:.2f}, {hb:.2f}]: "
              f"{test['effect']:+.2f}")
    if parts and len(parts) > 1:
        effect += " (" + "; ".join(f"{c}: {pc[0]}/{pc[1]} vs {pb[0]}/{pb[1]}"
                                   for c, (pb, pc) in parts.items()) + ")"
    return {"config": config, "metric": "collapse rate", **test, "effect": effect}


def _stratified_null(strata) -> tuple[dict, int]:
    """The exact null distribution of the candidate's collapses summed over strata, each stratum's
    margins fixed (its seeds a side, its collapses both sides together): the convolution of one
    hypergeometric distribution a stratum, as exact fractions. (total -> probability, observed
    total)."""
    dist, observed = {0: Fraction(1)}, 0
    for kb, nb, kc, nc in strata:
        m = kb + kc
        observed += kc
        stratum = {x: Fraction(comb(nc, x) * comb(nb, m - x), comb(nb + nc, m))
                   for x in range(max(0, m - nb), min(nc, m) + 1)}
        joined = {}
        for total, p in dist.items():
            for x, q in stratum.items():
                joined[total + x] = joined.get(total + x, 0) + p * q
        dist = joined
    return dist, observed


def _two_sided(dist: dict, observed: int) -> Fraction:
    """Fisher's two-sided p: the probability of every total no likelier than the observed."""
    cut = dist[observed]
    return min(Fraction(1), sum(p for p in dist.values() if p <= cut))


def stratified_collapse_test(strata, level=stats.CONFIDENCE) -> dict:
    """Collapse across configurations when their seeds differ between the sides: `strata` as
    (baseline collapsed, baseline judged, candidate collapsed, candidate judged) a
    configuration. The exact conditional test of a common rate within each configuration (the
    candidate's collapses summed over configurations, each one's margins fixed: a stratified
    Fisher test), two-sided, its p an exact fraction. Pooling the counts into one Boschloo test
    compares different mixtures of configurations when the judged seeds differ per side, and is
    liberal there (tests/test_quality_stratified.py works the size out exactly); conditioning
    within each configuration is never liberal."""
    dist, observed = _stratified_null(strata)
    p = _two_sided(dist, observed)
    # the smallest p these seeds allow: every candidate seed collapsed and no baseline one, or
    # the mirror, each configuration's margins set so
    extremes = [_two_sided(*_stratified_null([(0, nb, nc, nc) for _, nb, _, nc in strata])),
                _two_sided(*_stratified_null([(nb, nb, 0, nc) for _, nb, _, nc in strata]))]
    kb, nb = sum(s[0] for s in strata), sum(s[1] for s in strata)
    kc, nc = sum(s[2] for s in strata), sum(s[3] for s in strata)
    rates = {side: (k, n, *stats.exact_interval(k, n, level)) for side, k, n in (
        ("baseline", kb, nb), ("candidate", kc, nc))}
    # the direction by the configurations' own rates: the candidate's collapses against what
    # the null expects of them, not a pooled rate over different mixtures
    expected = sum(Fraction((s[0] + s[2]) * s[3], s[1] + s[3]) for s in strata)
    return {"baseline": f"{kb}/{nb} collapsed", "candidate": f"{kc}/{nc} collapsed",
            "p": float(p), "p_exact": p, "method": "stratified exact (Fisher, by configuration)",
            "p_min": float(min(extremes)), "n_baseline": nb, "n_candidate": nc, "rates": rates,
            "effect": kc / nc - kb / nb, "worse": kc > expected}


def collapse_family_test(collapse: dict) -> dict:
    """The run's one collapse test over its quality configurations (configuration -> (baseline
    counts, candidate counts)): pooled into one Boschloo test where every configuration judged
    as many seeds on both sides, else stratified by configuration (stratified_collapse_test):
    with unequal judged seeds the pooled counts compare different mixtures of configurations,
    and the pooled test is liberal there."""
    base = tuple(sum(b[i] for b, _ in collapse.values()) for i in (0, 1))
    cand = tuple(sum(c[i] for _, c in collapse.values()) for i in (0, 1))
    if len(collapse) == 1:
        return collapse_row(next(iter(collapse)), base, cand)
    if all(b[1] == c[1] for b, c in collapse.values()):
        return collapse_row(f"{len(collapse)} quality configurations, pooled", base, cand,
                            collapse)
    test = stratified_collapse_test([(*b, *c) for b, c in collapse.values()])
    return _with_effect(f"{len(collapse)} quality configurations, stratified", test, collapse)


def seeds_needed(test: dict, alpha) -> int:
    """Seeds a side with which this kind of test could reach p < alpha."""
    if test["method"] == "boschloo":
        return next(n for n in range(1, 200) if stats.below(stats.smallest_boschloo_p(n, n), alpha))
    if test["method"].startswith("stratified"):  # at least Fisher's n against n: 2 / C(2n, n)
        return next(n for n in range(1, 200) if stats.below(Fraction(2, comb(2 * n, n)), alpha))
    return stats.min_samples_per_side(alpha)


def judge_family(tests: list[dict], alpha) -> list[dict]:
    """Each test with its verdict, under Tarone's rule and Bonferroni's correction by K."""
    k, testable = stats.tarone_family([t["p_min"] for t in tests], alpha)
    level = stats.as_fraction(alpha) / k
    out = []
    for test, can in zip(tests, testable):
        verdict = {**test, "family": k, "alpha_each": float(level)}
        if not can:
            verdict["verdict"] = VERDICT_INCONCLUSIVE
            verdict["why"] = (f"cannot reach p < {float(level):.3g} (alpha {alpha} / {k} tests) "
                              f"with {test['n_baseline']} and {test['n_candidate']} seeds: needs "
                              f"{seeds_needed(test, level)} a side")
        elif stats.below(stats.decision_p(test), level):
            verdict["verdict"] = VERDICT_REGRESSION if test["worse"] else VERDICT_IMPROVEMENT
        else:
            verdict["verdict"] = VERDICT_NO_CHANGE
        out.append(verdict)
    return out


def quality_verdicts(pairs: pd.DataFrame, alpha=ALPHA) -> list[dict]:
    """Every quality test of the configurations evaluated on both sides, judged as one family."""
    evaluated = pairs[pairs["matched"] & (pairs["status_b"] == schema.STATUS_OK)
                      & (pairs["status_c"] == schema.STATUS_OK)
                      & pairs[f"{schema.FINAL_N}_b"].notna() & pairs[f"{schema.FINAL_N}_c"].notna()]
    tests, collapse = [], {}
    for config, group in evaluated.groupby("config", sort=False):
        for column, name, higher_is_better in METRICS:
            base, cand = _values(group, column, "b"), _values(group, column, "c")
            if base and cand:
                tests.append(metric_test(config, name, higher_is_better, base, cand))
        base, cand = collapse_counts(group, "b"), collapse_counts(group, "c")
        if base[1] and cand[1]:
            collapse[config] = (base, cand)
    if collapse:  # one test a run, on every quality configuration's seeds
        tests.append(collapse_family_test(collapse))
    return judge_family(tests, alpha) if tests else []
