"""Claims about seeds, judged on run records: each `holds`, `fails` or `inconclusive`.

    verdicts = judge(load_claims("runs/claims/example.toml"), load_cells(runs), family=False)

Each claim goes to the judge of its kind (JUDGES), which takes its seeds from
bench.analysis.claims_seeds and its statistics from bench.analysis.stats:

    collapse_rate, coverage, mean_within   an interval against a bound: claims_intervals
    no_worse, equivalent, differs          B against A, rank tests and Fisher: claims_pairwise

With `family`, Holm's correction across the file's claims (p_holds). The claims file and its
validation: bench.analysis.claims_spec; how many seeds would decide a claim:
bench.analysis.claims_plan; adding a kind: docs/how-to/add-a-claim-kind.md. Pure: records in
(the labelled cells frame), verdicts out; no TensorFlow.
"""

import pandas as pd

from bench.analysis.claims_intervals import (
    judge_collapse_rate,
    judge_coverage,
    judge_mean_within,
)
from bench.analysis.claims_pairwise import judge_differs, judge_equivalent, judge_no_worse
from bench.analysis.stats import alpha_of, below, binomial_tail_p, holm_adjusted
from bench.schema import CLAIM_HOLDS, CLAIM_INCONCLUSIVE

# kind -> judge(claim, cells) -> verdict; bench.analysis.claims_spec.KINDS names the same kinds
JUDGES = {"collapse_rate": judge_collapse_rate, "coverage": judge_coverage,
          "no_worse": judge_no_worse, "differs": judge_differs, "equivalent": judge_equivalent,
          "mean_within": judge_mean_within}


def p_holds(verdict: dict) -> float | None:
    """The p-value below which a claim holds at its level, for a family correction: for a share
    (a verdict with `successes` of `n` against a `bound`: claims_intervals.share_verdict), the
    one-sided exact binomial p of the count against the bound, doubled (the verdict's two-sided
    interval); the deciding test's p otherwise. Read from the verdict's shape, not its kind: a
    share is "at most" its bound when the claim gives max_rate, else "at least"."""
    if "successes" in verdict and verdict.get("n"):
        alternative = "less" if "max_rate" in verdict["claim"] else "greater"
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
