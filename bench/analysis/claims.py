"""Claims about seeds, judged on run records: each `holds`, `fails` or `inconclusive`.

The claims file and its validation: bench.analysis.claims_spec; the statistics:
bench.analysis.stats; how many seeds would decide a claim: bench.analysis.claims_plan.

Kinds and their statistics (alpha = 1 - level):

- `collapse_rate` (config, max_rate): the share of seeds whose outcome is `mode_collapse` is at
  most max_rate. Exact two-sided Clopper-Pearson interval at `level` (scipy's binomtest): holds
  when its upper bound is <= max_rate, fails when its lower bound is > max_rate. With min_rate
  instead, the share is at least min_rate: holds when the lower bound is >= min_rate, fails when
  the upper bound is < min_rate.
- `coverage` (config, min_classes, min_share): at least min_classes classes covered in at least
  min_share of the seeds. The same interval on the share of such seeds: holds when its lower bound
  is >= min_share, fails when its upper bound is < min_share.
- `no_worse` (a, b, metric, margin): B's median is not worse than A's by more than `margin`, a
  fraction of A's value (metric: fid, classifier_score, classes_covered, images_per_sec).
  Non-inferiority by a one-sided Mann-Whitney U test of B against A shifted by the margin: holds
  when B is better than the shifted A (p < alpha), fails when B is worse than the shifted A
  (p < alpha the other way).
- `differs` (a, b, metric): A and B differ, in collapse rate (Fisher's exact test) or in a final
  metric (two-sided Mann-Whitney U). Holds when p < alpha; fails when the seeds could have shown
  a difference (the smallest reachable p is below alpha) and did not. A `fails` is no proof of
  equality: it says no difference was found with these seeds.
- `mean_within` (config, metric, low, high): the metric's mean across seeds lies in [low, high]
  (a published interval). Student's t interval of the mean at `level` (it takes the seeds' values
  as roughly normal): holds inside [low, high], fails wholly outside, else inconclusive.

Every kind is `inconclusive` when its seeds cannot decide it, saying why. Seeds are the sample:
a cell that failed, diverged or was skipped, or has no final evaluation, is left out with its
reason. Collapse is counted among seeds with recognisable samples (bench.outcome_rule):
a `not_converged` seed says nothing about collapse, and by default makes a collapse claim
inconclusive; `not_converged = "exclude"` leaves such seeds out, `"count_as_collapse"` counts them.
Pure: records in (the labelled cells frame), verdicts out; no TensorFlow.
"""

import numpy as np
import pandas as pd

from bench import schema
from bench.analysis.claims_spec import METRICS, selector_label
from bench.analysis.stats import (
    alpha_of,
    below,
    binomial_tail_p,
    decimal,
    decision_p,
    equivalence_tests,
    exact_interval,
    fewest_beside,
    fisher_test,
    holm_adjusted,
    mean_within_tests,
    min_samples_per_side,
    rank_test,
    shifted_rank_tests,
    smallest_exact_rank_p,
    smallest_fisher_p,
)
from bench.errors import BenchError
from bench.outcome_rule import OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE, OUTCOME_NOT_CONVERGED
from bench.schema import CLAIM_FAILS, CLAIM_HOLDS, CLAIM_INCONCLUSIVE

# ---------------------------------------------------------------- seeds of a configuration

def _matches(cells: pd.DataFrame, selector: dict) -> pd.Series:
    mask = pd.Series(True, index=cells.index)
    for key, value in selector.items():
        column = cells[key] if key in cells else pd.Series(None, index=cells.index)
        if isinstance(value, bool) or key == "xla":
            mask &= column.map(lambda v, want=value: v is not None and not pd.isna(v)
                               and bool(v) == bool(want))
        elif isinstance(value, (int, float)):
            mask &= pd.to_numeric(column, errors="coerce") == value
        else:
            mask &= column.astype(str) == str(value)
    return mask


def select_seeds(cells: pd.DataFrame, selector: dict, claim_name: str, field: str,
                 metric: str | None = None):
    """(seeds with a final evaluation, seeds left out with their reason) of one configuration;
    for images_per_sec, every ok seed (throughput needs no evaluation: a throughput part has
    none). BenchError when no cell matches: a claim about nothing is an error, never a pass."""
    matched = cells[_matches(cells, selector)]
    if matched.empty:
        raise BenchError(f"claim {claim_name!r}: {field} ({selector_label(selector)}) matches no "
                         "cell in the runs given")
    repeated = matched[matched["seed"].duplicated(keep=False)]
    if not repeated.empty:
        # a seed is one sample: two cells of one seed (two parts, two runs) would count it twice
        varying = [k for k in (schema.PART, *schema.CONFIG_COORDINATES)
                   if k in repeated and repeated[k].astype(str).nunique() > 1]
        hint = f" (add {' and '.join(f'{k} = ...' for k in varying)} to say which)" \
            if varying else ""
        raise BenchError(f"claim {claim_name!r}: {field} ({selector_label(selector)}) matches "
                         f"several cells of one seed: {', '.join(sorted(repeated['cell_id']))}"
                         f"{hint}")
    ok = matched["status"] == schema.STATUS_OK
    if metric != "images_per_sec":
        ok &= matched[schema.FINAL_N].notna()
    left_out = [{"seed": _seed(r), "cell": r["cell_id"],
                 "reason": r["status"] if r["status"] != schema.STATUS_OK else
                 "no final evaluation"} for _, r in matched[~ok].iterrows()]
    return matched[ok], left_out


def _seed(row):
    return int(row["seed"]) if not pd.isna(row["seed"]) else None


# ---------------------------------------------------------------- judges

def collapse_counts(seeds: pd.DataFrame, policy: str):
    """(collapsed, judged, not-converged seeds) under a not_converged policy."""
    outcome = seeds[schema.FINAL_OUTCOME]
    not_converged = seeds[outcome == OUTCOME_NOT_CONVERGED]
    collapsed = int((outcome == OUTCOME_MODE_COLLAPSE).sum())
    judged = int(outcome.isin([OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE]).sum())
    if policy == "count_as_collapse":
        collapsed += len(not_converged)
        judged += len(not_converged)
    return collapsed, judged, not_converged


def _seed_list(seeds: pd.DataFrame, metric=None) -> list[dict]:
    """Each seed used: its outcome and, for a metric claim, its value."""
    column = METRICS[metric][0] if metric in METRICS else None
    return [{"seed": _seed(r), "outcome": r[schema.FINAL_OUTCOME],
             **({"value": float(r[column])} if column and not pd.isna(r[column]) else {})}
            for _, r in seeds.iterrows()]


def _not_converged_note(not_converged, policy, left_out):
    """Not-converged seeds: listed as left out (exclude) or said to decide nothing (default)."""
    if policy == "exclude":
        left_out += [{"seed": _seed(r), "cell": r["cell_id"], "reason": "not converged (excluded)"}
                     for _, r in not_converged.iterrows()]
    if policy == "inconclusive" and len(not_converged):
        return (f"{len(not_converged)} seed(s) did not converge (samples not yet digits): the "
                "budget was too short to tell collapse apart")
    return None


def judge_collapse_rate(claim, cells) -> dict:
    seeds, left_out = select_seeds(cells, claim["config"], claim["name"], "config")
    collapsed, judged, not_converged = collapse_counts(seeds, claim["not_converged"])
    blocked = _not_converged_note(not_converged, claim["not_converged"], left_out)
    at_least = "min_rate" in claim
    bound = claim["min_rate"] if at_least else claim["max_rate"]
    out = {"seeds": _seed_list(seeds), "left_out": left_out, "successes": collapsed, "n": judged,
           "bound": bound, "statistic": "collapse rate"}
    if judged == 0:
        return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": blocked or "no seed with recognisable "
                "samples: nothing to count collapse among"}
    low, high = exact_interval(collapsed, judged, claim["level"])
    out.update(low=low, high=high, evidence=f"{collapsed}/{judged} collapsed; exact "
               f"{claim['level']:.0%} interval [{low:.3f}, {high:.3f}] against at "
               f"{'least' if at_least else 'most'} {bound:g}")
    if blocked:
        return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": blocked}
    if (low >= bound) if at_least else (high <= bound):
        return {**out, "verdict": CLAIM_HOLDS}
    if (high < bound) if at_least else (low > bound):
        return {**out, "verdict": CLAIM_FAILS}
    return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": "the interval straddles the bound: more seeds "
            "(see --plan)"}


def judge_coverage(claim, cells) -> dict:
    seeds, left_out = select_seeds(cells, claim["config"], claim["name"], "config")
    covered = pd.to_numeric(seeds[schema.FINAL_CLASSES_COVERED], errors="coerce")
    hits, n = int((covered >= claim["min_classes"]).sum()), len(seeds)
    out = {"seeds": _seed_list(seeds), "left_out": left_out, "successes": hits, "n": n,
           "bound": claim["min_share"],
           "statistic": f"share of seeds covering >= {claim['min_classes']} classes"}
    if n == 0:
        return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": "no seed with a final evaluation"}
    low, high = exact_interval(hits, n, claim["level"])
    out.update(low=low, high=high, evidence=f"{hits}/{n} seeds cover >= {claim['min_classes']} "
               f"classes; exact {claim['level']:.0%} interval [{low:.3f}, {high:.3f}] against "
               f"at least {claim['min_share']:g}")
    if low >= claim["min_share"]:
        return {**out, "verdict": CLAIM_HOLDS}
    if high < claim["min_share"]:
        return {**out, "verdict": CLAIM_FAILS}
    return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": "the interval straddles the bound: more seeds "
            "(see --plan)"}


def _metric_values(seeds, metric) -> np.ndarray:
    return pd.to_numeric(seeds[METRICS[metric][0]], errors="coerce").dropna().to_numpy(float)


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
    out = {"seeds_a": _seed_list(a, claim["metric"]), "seeds_b": _seed_list(b, claim["metric"]),
           "left_out": left_a + left_b}
    return _metric_values(a, claim["metric"]), _metric_values(b, claim["metric"]), out


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
        out = {"seeds_a": _seed_list(a), "seeds_b": _seed_list(b), "left_out": left_out}
        ca, na, nca = collapse_counts(a, claim["not_converged"])
        cb, nb, ncb = collapse_counts(b, claim["not_converged"])
        blocked = _not_converged_note(pd.concat([nca, ncb]), claim["not_converged"], left_out)
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


def judge_mean_within(claim, cells) -> dict:
    seeds, left_out = select_seeds(cells, claim["config"], claim["name"], "config",
                                   claim["metric"])
    values = _metric_values(seeds, claim["metric"])
    low, high = claim["low"], claim["high"]
    source = f" ({claim['source']})" if claim.get("source") else ""
    out = {"seeds": _seed_list(seeds, claim["metric"]), "left_out": left_out,
           "band": [low, high], "statistic": f"mean {claim['metric']}"}
    if len(values) < 2:
        return {**out, "verdict": CLAIM_INCONCLUSIVE,
                "why": f"{len(values)} seed(s) with a value: a mean's interval needs 2 or more"}
    t = mean_within_tests(values, low, high, claim["level"])
    out.update(t, p=t["p_inside"], evidence=f"mean {t['mean']:.4g} over {len(values)} seeds, t "
               f"{claim['level']:.0%} interval [{t['mean_low']:.4g}, {t['mean_high']:.4g}] against "
               f"[{low:g}, {high:g}]{source}; p inside {t['p_inside']:.3g}")
    if low <= t["mean_low"] and t["mean_high"] <= high:
        return {**out, "verdict": CLAIM_HOLDS}
    if t["mean_high"] < low or t["mean_low"] > high:
        return {**out, "verdict": CLAIM_FAILS}
    return {**out, "verdict": CLAIM_INCONCLUSIVE, "why": "the interval straddles the band's end"}


JUDGES = {"collapse_rate": judge_collapse_rate, "coverage": judge_coverage,
          "no_worse": judge_no_worse, "differs": judge_differs, "equivalent": judge_equivalent,
          "mean_within": judge_mean_within}


def p_holds(verdict: dict) -> float | None:
    """The p-value below which a claim holds at its level, for a family correction: the
    one-sided exact binomial p of the count against the bound, doubled (the verdict's two-sided
    interval), for proportions; the deciding test's p otherwise."""
    kind = verdict["claim"]["kind"]
    if kind in ("collapse_rate", "coverage") and verdict.get("n"):
        at_most = kind == "collapse_rate" and "max_rate" in verdict["claim"]
        alternative = "less" if at_most else "greater"
        return min(1.0, 2 * binomial_tail_p(verdict["successes"], verdict["n"],
                                           verdict["bound"], alternative))
    if verdict.get("p_exact") is not None:
        return verdict["p_exact"]
    return verdict.get("p")


def judge(claims: list[dict], cells: pd.DataFrame, family: bool = False) -> list[dict]:
    """Each claim with its verdict and evidence. With `family`, Holm's correction across the
    file's claims: a claim holds only if its p (p_holds) stays below its alpha after it.
    BenchError for a claim about no cell."""
    verdicts = [{"claim": claim, **JUDGES[claim["kind"]](claim, cells)} for claim in claims]
    if not family:
        return verdicts
    ps = [p_holds(v) for v in verdicts]
    tested = [i for i, p in enumerate(ps) if p is not None]
    adjusted = dict(zip(tested, holm_adjusted([ps[i] for i in tested])))
    for i, verdict in enumerate(verdicts):
        verdict["family"] = f"Holm across {len(tested)} claims"
        if i in adjusted:
            verdict["p_holm"] = adjusted[i]
        if verdict["verdict"] == CLAIM_HOLDS and not below(adjusted.get(i, 1),
                                                           alpha_of(verdict["claim"]["level"])):
            verdict["verdict"] = CLAIM_INCONCLUSIVE
            verdict["why"] = (f"holds alone, not after Holm's correction across the "
                              f"{len(tested)} claims of the file (p {float(adjusted[i]):.3g})")
    return verdicts
