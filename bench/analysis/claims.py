"""Claims about seeds: a TOML file of statements, each judged `holds`, `fails` or `inconclusive`.

    level = 0.95                                   # optional: the default confidence level

    [[claims]]
    name = "bs64-rarely-collapses"
    kind = "collapse_rate"                         # collapse_rate, coverage, no_worse, differs
    config = { batch_size = 64, xla = false }      # part, data, device, precision, xla, batch_size
    max_rate = 0.1
    not_converged = "inconclusive"                 # or "exclude", "count_as_collapse"

Kinds and their statistics (alpha = 1 - level):

- `collapse_rate` (config, max_rate): the share of seeds whose outcome is `mode_collapse` is at
  most max_rate. Exact two-sided Clopper-Pearson interval at `level` (scipy's binomtest): holds
  when its upper bound is <= max_rate, fails when its lower bound is > max_rate.
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

Every kind is `inconclusive` when its seeds cannot decide it, saying why. Seeds are the sample:
a cell that failed, diverged or was skipped, or has no final evaluation, is left out with its
reason. Collapse is counted among seeds with recognisable samples (bench.analysis.outcome_rule):
a `not_converged` seed says nothing about collapse, and by default makes a collapse claim
inconclusive; `not_converged = "exclude"` leaves such seeds out, `"count_as_collapse"` counts them.
Pure: records in (the labelled cells frame), verdicts out; no TensorFlow.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from bench import records, schema
from bench.analysis.outcome_rule import OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE, OUTCOME_NOT_CONVERGED
from bench.analysis.stats import smallest_exact_rank_p
from bench.errors import BenchError

HOLDS, FAILS, INCONCLUSIVE = "holds", "fails", "inconclusive"
KINDS = ("collapse_rate", "coverage", "no_worse", "differs")
SELECTOR_KEYS = ("part", "data", "device", "precision", "xla", "batch_size")
NOT_CONVERGED_POLICIES = ("inconclusive", "exclude", "count_as_collapse")
# metric name in a claim -> (results column, higher is better)
METRICS = {"fid": (schema.FINAL_FID, False), "classifier_score": (schema.FINAL_CLASSIFIER_SCORE, True),
           "classes_covered": (schema.FINAL_CLASSES_COVERED, True),
           "images_per_sec": (schema.IMAGES_PER_SEC_MEDIAN, True)}
DIFFERS_METRICS = ("collapse_rate", *METRICS)
COMMON = {"name", "kind", "level"}
FIELDS = {"collapse_rate": {"config", "max_rate", "not_converged"},
          "coverage": {"config", "min_classes", "min_share"},
          "no_worse": {"a", "b", "metric", "margin"},
          "differs": {"a", "b", "metric", "not_converged"}}
REQUIRED = {"collapse_rate": {"config", "max_rate"}, "coverage": {"config", "min_classes", "min_share"},
            "no_worse": {"a", "b", "metric", "margin"}, "differs": {"a", "b", "metric"}}
DEFAULT_LEVEL = 0.95
MAX_PLAN_SEEDS = 10_000


def alpha_of(level: float) -> float:
    """1 - level, rounded: 1 - 0.95 is 0.050000000000000044 in floating point, and an exact test's
    p of exactly 0.05 must not pass as below it."""
    return round(1 - level, 12)


# ---------------------------------------------------------------- the claims file

def _selector_problems(where: str, selector) -> list[str]:
    if not isinstance(selector, dict) or not selector:
        return [f"{where}: expected a table of coordinates ({', '.join(SELECTOR_KEYS)}), found "
                f"{selector!r}"]
    return [f"{where}.{k}: unknown coordinate (expected one of {', '.join(SELECTOR_KEYS)}; seeds "
            "are the sample, not a coordinate)" for k in selector if k not in SELECTOR_KEYS]


def _fraction_problem(where, value, low_open=False) -> list[str]:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
        (0 < value < 1 if low_open else 0 <= value <= 1)
    bounds = "between 0 and 1 (exclusive)" if low_open else "between 0 and 1"
    return [] if ok else [f"{where}: expected a number {bounds}, found {value!r}"]


def claim_problems(claim, index: int) -> list[str]:
    """Every problem of one claim, each naming the claim and the field."""
    if not isinstance(claim, dict):
        return [f"claims[{index}]: expected a table, found {claim!r}"]
    where = f"claim {claim.get('name', f'#{index + 1}')!r}"
    problems = []
    if not isinstance(claim.get("name"), str) or not claim.get("name"):
        problems.append(f"{where}: name: expected a non-empty string")
    kind = claim.get("kind")
    if kind not in KINDS:
        return problems + [f"{where}: kind: expected one of {', '.join(KINDS)}, found {kind!r}"]
    problems += [f"{where}: {k}: unknown field for kind {kind} (expected "
                 f"{', '.join(sorted(COMMON | FIELDS[kind]))})"
                 for k in claim if k not in COMMON | FIELDS[kind]]
    problems += [f"{where}: {k}: required for kind {kind}" for k in sorted(REQUIRED[kind])
                 if k not in claim]
    if "level" in claim:  # the file's default level is checked once, by load_claims
        problems += _fraction_problem(f"{where}: level", claim["level"], True)
    for key in ("config", "a", "b"):
        if key in claim:
            problems += _selector_problems(f"{where}: {key}", claim[key])
    if "max_rate" in claim:
        problems += _fraction_problem(f"{where}: max_rate", claim["max_rate"])
    if "min_share" in claim:
        problems += _fraction_problem(f"{where}: min_share", claim["min_share"])
    if "min_classes" in claim and claim["min_classes"] not in range(1, schema.NUM_CLASSES + 1):
        problems.append(f"{where}: min_classes: expected an integer from 1 to "
                        f"{schema.NUM_CLASSES}, found {claim['min_classes']!r}")
    if "margin" in claim:
        problems += _fraction_problem(f"{where}: margin", claim["margin"])
    metrics = DIFFERS_METRICS if kind == "differs" else tuple(METRICS)
    if "metric" in claim and claim["metric"] not in metrics:
        problems.append(f"{where}: metric: expected one of {', '.join(metrics)}, found "
                        f"{claim['metric']!r}")
    if claim.get("not_converged", "inconclusive") not in NOT_CONVERGED_POLICIES:
        problems.append(f"{where}: not_converged: expected one of "
                        f"{', '.join(NOT_CONVERGED_POLICIES)}, found {claim['not_converged']!r}")
    return problems


def load_claims(path) -> list[dict]:
    """The claims of a TOML file, validated whole: BenchError listing every problem."""
    path = Path(path)
    data = records.read_toml(path, "claims file")
    problems = [f"{k}: unknown top-level key (expected level, claims)" for k in data
                if k not in ("level", "claims")]
    default_level = data.get("level", DEFAULT_LEVEL)
    problems += _fraction_problem("level", default_level, True)
    claims = data.get("claims")
    if not isinstance(claims, list) or not claims:
        problems.append("claims: expected at least one [[claims]] table")
        claims = []
    for i, claim in enumerate(claims):
        problems += claim_problems(claim, i)
    names = [c.get("name") for c in claims if isinstance(c, dict)]
    problems += [f"claim {n!r}: name: used more than once" for n in sorted(
        {n for n in names if names.count(n) > 1 and isinstance(n, str)})]
    if problems:
        raise BenchError(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems), path=path)
    return [{"level": default_level, "not_converged": "inconclusive", **c} for c in claims]


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


def selector_label(selector: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in selector.items())


def select_seeds(cells: pd.DataFrame, selector: dict, claim_name: str, field: str):
    """(seeds with a final evaluation, seeds left out with their reason) of one configuration.
    BenchError when no cell matches: a claim about nothing is an error, never a pass."""
    matched = cells[_matches(cells, selector)]
    if matched.empty:
        raise BenchError(f"claim {claim_name!r}: {field} ({selector_label(selector)}) matches no "
                         "cell in the runs given")
    repeated = matched[matched["seed"].duplicated(keep=False)]
    if not repeated.empty:
        # a seed is one sample: two cells of one seed (two parts, two runs) would count it twice
        hint = " (add part = ... to say which part)" if matched["part"].dropna().nunique() > 1 \
            else ""
        raise BenchError(f"claim {claim_name!r}: {field} ({selector_label(selector)}) matches "
                         f"several cells of one seed: {', '.join(sorted(repeated['cell_id']))}"
                         f"{hint}")
    ok = (matched["status"] == schema.STATUS_OK) & matched[schema.FINAL_N].notna()
    left_out = [{"seed": _seed(r), "cell": r["cell_id"],
                 "reason": r["status"] if r["status"] != schema.STATUS_OK else
                 "no final evaluation"} for _, r in matched[~ok].iterrows()]
    return matched[ok], left_out


def _seed(row):
    return int(row["seed"]) if not pd.isna(row["seed"]) else None


# ---------------------------------------------------------------- statistics

def exact_interval(successes: int, n: int, level: float) -> tuple[float, float]:
    """The exact two-sided Clopper-Pearson interval of a proportion (scipy's binomtest)."""
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def _collapse_counts(seeds: pd.DataFrame, policy: str):
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
    collapsed, judged, not_converged = _collapse_counts(seeds, claim["not_converged"])
    blocked = _not_converged_note(not_converged, claim["not_converged"], left_out)
    out = {"seeds": _seed_list(seeds), "left_out": left_out, "successes": collapsed, "n": judged,
           "bound": claim["max_rate"], "statistic": "collapse rate"}
    if judged == 0:
        return {**out, "verdict": INCONCLUSIVE, "why": blocked or "no seed with recognisable "
                "samples: nothing to count collapse among"}
    low, high = exact_interval(collapsed, judged, claim["level"])
    out.update(low=low, high=high, evidence=f"{collapsed}/{judged} collapsed; exact "
               f"{claim['level']:.0%} interval [{low:.3f}, {high:.3f}] against at most "
               f"{claim['max_rate']:g}")
    if blocked:
        return {**out, "verdict": INCONCLUSIVE, "why": blocked}
    if high <= claim["max_rate"]:
        return {**out, "verdict": HOLDS}
    if low > claim["max_rate"]:
        return {**out, "verdict": FAILS}
    return {**out, "verdict": INCONCLUSIVE, "why": "the interval straddles the bound: more seeds "
            "(see --plan)"}


def judge_coverage(claim, cells) -> dict:
    seeds, left_out = select_seeds(cells, claim["config"], claim["name"], "config")
    covered = pd.to_numeric(seeds[schema.FINAL_CLASSES_COVERED], errors="coerce")
    hits, n = int((covered >= claim["min_classes"]).sum()), len(seeds)
    out = {"seeds": _seed_list(seeds), "left_out": left_out, "successes": hits, "n": n,
           "bound": claim["min_share"],
           "statistic": f"share of seeds covering >= {claim['min_classes']} classes"}
    if n == 0:
        return {**out, "verdict": INCONCLUSIVE, "why": "no seed with a final evaluation"}
    low, high = exact_interval(hits, n, claim["level"])
    out.update(low=low, high=high, evidence=f"{hits}/{n} seeds cover >= {claim['min_classes']} "
               f"classes; exact {claim['level']:.0%} interval [{low:.3f}, {high:.3f}] against "
               f"at least {claim['min_share']:g}")
    if low >= claim["min_share"]:
        return {**out, "verdict": HOLDS}
    if high < claim["min_share"]:
        return {**out, "verdict": FAILS}
    return {**out, "verdict": INCONCLUSIVE, "why": "the interval straddles the bound: more seeds "
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


def judge_no_worse(claim, cells) -> dict:
    a, left_a = select_seeds(cells, claim["a"], claim["name"], "a")
    b, left_b = select_seeds(cells, claim["b"], claim["name"], "b")
    _check_same_measurement(claim, a, b)
    va, vb = _metric_values(a, claim["metric"]), _metric_values(b, claim["metric"])
    higher_is_better = METRICS[claim["metric"]][1]
    margin, alpha = claim["margin"], alpha_of(claim["level"])
    out = {"seeds_a": _seed_list(a, claim["metric"]), "seeds_b": _seed_list(b, claim["metric"]),
           "left_out": left_a + left_b,
           "statistic": f"{claim['metric']}: B against A shifted by the margin"}
    if len(va) == 0 or len(vb) == 0:
        return {**out, "verdict": INCONCLUSIVE, "why": "a side has no seed with this metric"}
    # The margin moves A to the worst value B may have and still count as no worse.
    shifted = va * (1 - margin) if higher_is_better else va * (1 + margin)
    better, worse = ("greater", "less") if higher_is_better else ("less", "greater")
    p_holds = float(stats.mannwhitneyu(vb, shifted, alternative=better, method="exact").pvalue)
    p_fails = float(stats.mannwhitneyu(vb, shifted, alternative=worse, method="exact").pvalue)
    out.update(median_a=float(np.median(va)), median_b=float(np.median(vb)),
               shifted_median_a=float(np.median(shifted)), p=p_holds,
               p_worse=p_fails, n_a=len(va), n_b=len(vb), evidence=(
                   f"median A {np.median(va):.4g} ({len(va)} seeds), B {np.median(vb):.4g} "
                   f"({len(vb)}); one-sided Mann-Whitney U of B against A x "
                   f"{1 - margin if higher_is_better else 1 + margin:g}: p = {p_holds:.3g} "
                   f"(not worse), {p_fails:.3g} (worse)"))
    if smallest_exact_rank_p(len(va), len(vb)) / 2 >= alpha:
        return {**out, "verdict": INCONCLUSIVE, "why": _too_few_for_one_sided(len(va), len(vb),
                                                                               alpha)}
    if p_holds < alpha:
        return {**out, "verdict": HOLDS}
    if p_fails < alpha:
        return {**out, "verdict": FAILS}
    return {**out, "verdict": INCONCLUSIVE, "why": "neither direction is significant: more seeds"}


def _min_one_sided(alpha) -> int:
    return next(n for n in range(1, MAX_PLAN_SEEDS) if 1 / math.comb(2 * n, n) < alpha)


def _fewest_beside(n_fixed: int, alpha) -> int | None:
    """With n_fixed seeds on one side, the fewest on the other with which a one-sided exact
    Mann-Whitney test can reach p < alpha (its smallest p is 1 / C(n_fixed + n, n))."""
    return next((n for n in range(1, MAX_PLAN_SEEDS) if 1 / math.comb(n_fixed + n, n) < alpha),
                None)


def _too_few_for_one_sided(n_a: int, n_b: int, alpha) -> str:
    """Why these seeds cannot decide a one-sided test, and what would: the smaller side grown
    beside the larger one as it is, or both sides equal."""
    per_side = f"at least {_min_one_sided(alpha)} seeds per side"
    target = f"for a one-sided p < {alpha:.3g}"
    need = _fewest_beside(max(n_a, n_b), alpha)
    if n_a == n_b or need is None:
        return f"needs {per_side} {target}"
    small, large = ("B", "A") if n_b < n_a else ("A", "B")
    return (f"with {large}'s {max(n_a, n_b)} seeds, {small} needs at least {need}, or "
            f"{per_side}, {target}")


def judge_differs(claim, cells) -> dict:
    a, left_a = select_seeds(cells, claim["a"], claim["name"], "a")
    b, left_b = select_seeds(cells, claim["b"], claim["name"], "b")
    alpha = alpha_of(claim["level"])
    left_out = left_a + left_b
    out = {"seeds_a": _seed_list(a, claim["metric"]), "seeds_b": _seed_list(b, claim["metric"]),
           "left_out": left_out}
    if claim["metric"] == "collapse_rate":
        ca, na, nca = _collapse_counts(a, claim["not_converged"])
        cb, nb, ncb = _collapse_counts(b, claim["not_converged"])
        blocked = _not_converged_note(pd.concat([nca, ncb]), claim["not_converged"], left_out)
        out["statistic"] = "collapse rate, Fisher's exact test"
        if na == 0 or nb == 0:
            return {**out, "verdict": INCONCLUSIVE,
                    "why": blocked or "a side has no seed with recognisable samples"}
        p = float(stats.fisher_exact([[ca, na - ca], [cb, nb - cb]]).pvalue)
        smallest = float(stats.fisher_exact([[na, 0], [0, nb]]).pvalue)
        out.update(p=p, evidence=f"A {ca}/{na} collapsed, B {cb}/{nb}; Fisher's exact test "
                   f"p = {p:.3g}", rates={"a": (ca, na, *exact_interval(ca, na, claim["level"])),
                                          "b": (cb, nb, *exact_interval(cb, nb, claim["level"]))})
        if blocked:
            return {**out, "verdict": INCONCLUSIVE, "why": blocked}
    else:
        _check_same_measurement(claim, a, b)
        va, vb = _metric_values(a, claim["metric"]), _metric_values(b, claim["metric"])
        out["statistic"] = f"{claim['metric']}, two-sided Mann-Whitney U"
        if len(va) == 0 or len(vb) == 0:
            return {**out, "verdict": INCONCLUSIVE, "why": "a side has no seed with this metric"}
        p = float(stats.mannwhitneyu(va, vb, alternative="two-sided", method="exact").pvalue)
        smallest = smallest_exact_rank_p(len(va), len(vb))
        out.update(p=p, median_a=float(np.median(va)), median_b=float(np.median(vb)),
                   evidence=f"median A {np.median(va):.4g} ({len(va)} seeds), B "
                            f"{np.median(vb):.4g} ({len(vb)}); two-sided Mann-Whitney U "
                            f"p = {p:.3g}")
    if smallest >= alpha:
        return {**out, "verdict": INCONCLUSIVE,
                "why": f"these seeds cannot reach p < {alpha:.3g} (smallest possible p "
                       f"{smallest:.3g}): more seeds (see --plan)"}
    return {**out, "verdict": HOLDS if p < alpha else FAILS}


JUDGES = {"collapse_rate": judge_collapse_rate, "coverage": judge_coverage,
          "no_worse": judge_no_worse, "differs": judge_differs}


def judge(claims: list[dict], cells: pd.DataFrame) -> list[dict]:
    """Each claim with its verdict and evidence. BenchError for a claim about no cell."""
    return [{"claim": claim, **JUDGES[claim["kind"]](claim, cells)} for claim in claims]


# ---------------------------------------------------------------- planning

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


def _observed_collapse_rate(claim, cells, side) -> float | None:
    seeds, _ = select_seeds(cells, claim[side], claim["name"], side)
    collapsed, judged, _ = _collapse_counts(seeds, claim["not_converged"])
    return collapsed / judged if judged else None


def _fisher_seeds(rate_a: float, rate_b: float, alpha: float, limit=1000) -> int | None:
    """The fewest seeds per side for which these true collapse rates give Fisher's p < alpha."""
    if rate_a == rate_b:
        return None
    for n in range(2, limit):
        a, b = round(rate_a * n), round(rate_b * n)
        if stats.fisher_exact([[a, n - a], [b, n - b]]).pvalue < alpha:
            return n
    return None


def plan(claims: list[dict], cells: pd.DataFrame | None) -> list[dict]:
    """For each claim: seeds that would decide it at its level if the truth equals what was
    observed (or, without runs, the best case: no collapse, every seed covering)."""
    out = []
    for claim in claims:
        level, kind = claim["level"], claim["kind"]
        row = {"claim": claim["name"], "kind": kind, "level": level}
        if kind in ("collapse_rate", "coverage"):
            observed = None
            if cells is not None:
                verdict = JUDGES[kind](claim, cells)
                observed = verdict["successes"] / verdict["n"] if verdict["n"] else None
            best = 0.0 if kind == "collapse_rate" else 1.0
            rate = best if observed is None else observed
            bound = claim["max_rate"] if kind == "collapse_rate" else claim["min_share"]
            need = seeds_to_decide_proportion(rate, bound, level, kind == "collapse_rate")
            row.update(assumed=f"{'observed' if observed is not None else 'best case'} share "
                               f"{rate:.3f}", seeds=need,
                       note="exact two-sided interval (the verdicts use it)" if need else
                       "never: the share equals the bound")
            if kind == "collapse_rate" and rate == 0:
                row["note"] += (f"; a one-sided {level:.0%} bound would need "
                                f"{one_sided_seeds_for_zero(bound, level)}")
        elif kind == "differs" and claim["metric"] == "collapse_rate" and cells is not None:
            rates = [_observed_collapse_rate(claim, cells, side) for side in ("a", "b")]
            need = _fisher_seeds(*rates, alpha_of(level)) if None not in rates else None
            row.update(assumed="observed collapse rates " + ", ".join(
                "?" if r is None else f"{r:.3f}" for r in rates), seeds=need,
                note="per side, Fisher's exact test" if need else
                "never: the observed rates are equal (or unknown)")
        elif kind == "no_worse":
            row.update(assumed="B fully better than A shifted by the margin",
                       seeds=_min_one_sided(alpha_of(level)),
                       note="per side: the fewest with which a one-sided exact Mann-Whitney test "
                            f"can reach p < {alpha_of(level):.3g}")
        else:
            row.update(assumed="A and B fully separated", seeds=next(
                n for n in range(1, MAX_PLAN_SEEDS)
                if smallest_exact_rank_p(n, n) < alpha_of(level)),
                note="per side: the fewest with which the two-sided exact test can reach "
                     f"p < {alpha_of(level):.3g}")
        if row["seeds"] is None:
            row["seeds"] = "never"
        out.append(row)
    return out
