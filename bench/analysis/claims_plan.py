"""How many seeds would decide a claim: `dcgan-bench claims FILE --plan [--power P]`.

For each claim, the fewest seeds with which its own exact decision comes out decided with
probability `power` (default 0.8) if the truth is the assumed one: what the runs given show, or,
without runs, the best case (no collapse, every seed covering, fully separated samples). The
power arithmetic is bench.analysis.power's. Pure: no TensorFlow.
"""

import pandas as pd

from bench.analysis import power as pw
from bench.analysis.claims import JUDGES
from bench.analysis.claims_seeds import collapse_counts, metric_values, select_seeds
from bench.analysis.claims_spec import METRICS
from bench.analysis.stats import (
    alpha_of,
    below,
    decision_p,
    equivalence_tests,
    min_samples_per_side,
    rank_test,
    shifted_rank_tests,
)


def _observed_collapse_rate(claim, cells, side) -> float | None:
    seeds, _ = select_seeds(cells, claim[side], claim["name"], side)
    collapsed, judged, _ = collapse_counts(seeds, claim["not_converged"])
    return collapsed / judged if judged else None


# A share claim's bound and its direction, by the field that gives it (claims_spec's fields)
SHARE_BOUNDS = (("max_rate", True), ("min_rate", False), ("min_share", False))


def _proportion_row(claim, cells, target) -> dict:
    """A share against a bound (a verdict of claims_intervals.share_verdict): at the observed
    share, or without runs at the best case (none when at most, all when at least)."""
    level = claim["level"]
    observed = None
    if cells is not None:
        verdict = JUDGES[claim["kind"]](claim, cells)
        observed = verdict["successes"] / verdict["n"] if verdict["n"] else None
    bound, at_most = next((claim[key], at_most) for key, at_most in SHARE_BOUNDS if key in claim)
    rate = (0.0 if at_most else 1.0) if observed is None else observed
    need = pw.seeds_for_proportion(rate, bound, level, at_most, target)
    note = (f"exact binomial power of the exact two-sided interval (the verdict's) at share "
            f"{rate:.3f}" if need else "never: the share equals the bound")
    if need:
        at = pw.proportion_power(need, rate, bound, level, at_most)
        after = pw.proportion_power(need + 1, rate, bound, level, at_most)
        note += f"; power {at:.2f} with {need}, {after:.2f} with {need + 1} (counts are discrete)"
    if at_most and rate == 0:
        note += (f"; a one-sided {float(level):.0%} bound would need "
                 f"{pw.one_sided_seeds_for_zero(bound, level)}")
    return {"assumed": f"{'observed' if observed is not None else 'best case'} share {rate:.3f}",
            "seeds": need, "note": note}


def _collapse_differs_row(claim, cells, target) -> dict:
    rates = [_observed_collapse_rate(claim, cells, side) for side in ("a", "b")]
    need = pw.seeds_for_fisher(*rates, alpha_of(claim["level"]), target) \
        if None not in rates else None
    return {"assumed": "observed collapse rates " + ", ".join(
        "?" if r is None else f"{r:.3f}" for r in rates), "seeds": need,
        "note": "per side, exact power of Fisher's exact test" if need else
        "never: the observed rates are equal (or unknown)"}


def _rank_decision(claim, alpha):
    """decide(a, b) -> bool: the claim's own rank-test decision comes out decided."""
    kind, margin = claim["kind"], claim.get("margin", 0.0)
    higher = METRICS[claim["metric"]][1] if claim["metric"] in METRICS else True

    def decide(a, b):
        if kind == "no_worse":
            tests = shifted_rank_tests(a, b, margin, higher)
            return any(below(decision_p(tests[k]), alpha) for k in ("holds", "fails"))
        if kind == "equivalent":
            tests = equivalence_tests(a, b, margin)
            inside = all(below(decision_p(tests[k]), alpha) for k in ("upper", "lower"))
            return inside or any(below(decision_p(tests[k]), alpha)
                                 for k in ("below_band", "above_band"))
        return below(decision_p(rank_test(a, b)), alpha)
    return decide


def _rank_row(claim, cells, target) -> dict:
    alpha = alpha_of(claim["level"])
    sides = 2 if claim["kind"] == "differs" else 1
    least = min_samples_per_side(alpha, sides)
    if cells is None:
        return {"assumed": "A and B fully separated", "seeds": least,
                "note": f"per side: the fewest with which the exact test can reach p < "
                        f"{float(alpha):.3g} at all"}
    a, _ = select_seeds(cells, claim["a"], claim["name"], "a", claim["metric"])
    b, _ = select_seeds(cells, claim["b"], claim["name"], "b", claim["metric"])
    va, vb = metric_values(a, claim["metric"]), metric_values(b, claim["metric"])
    need = pw.seeds_for_ranks(va, vb, alpha, _rank_decision(claim, alpha), sides, target)
    return {"assumed": f"seeds like those observed ({len(va)} and {len(vb)})", "seeds": need,
            "note": f"per side; power estimated by drawing seeds from the observed ones "
                    f"({pw.SIMULATIONS} draws; a metric's distribution is not a count's); at "
                    f"least {least} for the exact test to reach p < {float(alpha):.3g}"}


def _no_power_row(claim, cells, target) -> dict:
    return {"assumed": "-", "seeds": "-",
            "note": "a t interval of the mean: its width falls as 1 / sqrt(seeds) from the "
                    "seeds' own spread; no power computation"}


def _differs_row(claim, cells, target) -> dict:
    if claim["metric"] != "collapse_rate":
        return _rank_row(claim, cells, target)
    if cells is None:
        return {"assumed": "no runs: no rates to assume", "seeds": None,
                "note": "give the runs to size it from their observed rates"}
    return _collapse_differs_row(claim, cells, target)


# kind -> row(claim, cells or None, power) -> {assumed, seeds (None: never), note}; one line a
# kind, as in bench.analysis.claims.JUDGES
PLANS = {"collapse_rate": _proportion_row, "coverage": _proportion_row,
         "no_worse": _rank_row, "differs": _differs_row, "equivalent": _rank_row,
         "mean_within": _no_power_row}


def plan(claims: list[dict], cells: pd.DataFrame | None, power: float = pw.POWER) -> list[dict]:
    """For each claim: the seeds that decide it with probability `power` at the assumed truth."""
    out = []
    for claim in claims:
        row = {"claim": claim["name"], "kind": claim["kind"], "level": claim["level"],
               "power": power, **PLANS[claim["kind"]](claim, cells, power)}
        if row["seeds"] is None:
            row["seeds"] = "never"
        out.append(row)
    return out
