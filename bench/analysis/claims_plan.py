"""How many seeds would decide a claim: `dcgan-bench claims FILE --plan`.

For each claim, the seeds that would decide it at its level if the truth equals what the runs
given show (or, without runs, the best case: no collapse, every seed covering). The searches
themselves are in bench.analysis.stats. Pure: no TensorFlow.
"""

import pandas as pd

from bench.analysis.claims import JUDGES, collapse_counts, select_seeds
from bench.analysis.stats import (
    alpha_of,
    fisher_seeds,
    min_one_sided_per_side,
    min_samples_per_side,
    one_sided_seeds_for_zero,
    seeds_to_decide_proportion,
)


def _observed_collapse_rate(claim, cells, side) -> float | None:
    seeds, _ = select_seeds(cells, claim[side], claim["name"], side)
    collapsed, judged, _ = collapse_counts(seeds, claim["not_converged"])
    return collapsed / judged if judged else None


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
            need = fisher_seeds(*rates, alpha_of(level)) if None not in rates else None
            row.update(assumed="observed collapse rates " + ", ".join(
                "?" if r is None else f"{r:.3f}" for r in rates), seeds=need,
                note="per side, Fisher's exact test" if need else
                "never: the observed rates are equal (or unknown)")
        elif kind == "no_worse":
            row.update(assumed="B fully better than A shifted by the margin",
                       seeds=min_one_sided_per_side(alpha_of(level)),
                       note="per side: the fewest with which a one-sided exact Mann-Whitney test "
                            f"can reach p < {alpha_of(level):.3g}")
        else:
            row.update(assumed="A and B fully separated",
                       seeds=min_samples_per_side(alpha_of(level)),
                       note="per side: the fewest with which the two-sided exact test can reach "
                            f"p < {alpha_of(level):.3g}")
        if row["seeds"] is None:
            row["seeds"] = "never"
        out.append(row)
    return out
