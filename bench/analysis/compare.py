"""Throughput verdicts between two runs: pure functions of measured windows (images/sec).

A configuration regressed only when both hold: the rank test says the candidate's windows differ
(Mann-Whitney U, two-sided, p below `alpha` after Holm's adjustment across configurations) and
the slowdown is beyond the noise margin (ratio of medians below 1 - `margin`). The same run twice
on these machines differs by 1-4% in median images/sec, so the default margin is 10%.
Improvements are reported the same way. Too few windows for the exact test ever to reach
`alpha` is `inconclusive`, never "no change".
"""

import numpy as np
from scipy import stats

from bench.analysis.stats import holm_adjusted, min_samples_per_side, smallest_exact_rank_p

ALPHA = 0.002
MARGIN = 0.10
REGRESSION = "regression"
IMPROVEMENT = "improvement"
NO_CHANGE = "no change"
INCONCLUSIVE = "inconclusive"
EXACT_MAX = 200  # windows per side up to which the exact distribution is computed


def windows_to_test(baseline, candidate) -> dict:
    """Ratio of medians (candidate / baseline) and the two-sided Mann-Whitney p-value."""
    baseline, candidate = np.asarray(baseline, float), np.asarray(candidate, float)
    # Exact p-values where they are valid (no ties) and cheap; SciPy's "auto" would switch to
    # the normal approximation above 8 samples, which overstates p for small separated samples.
    tied = len(np.unique(np.concatenate([baseline, candidate]))) < len(baseline) + len(candidate)
    method = "asymptotic" if tied or max(len(baseline), len(candidate)) > EXACT_MAX else "exact"
    p = stats.mannwhitneyu(candidate, baseline, alternative="two-sided", method=method).pvalue
    return {"ratio": float(np.median(candidate) / np.median(baseline)), "p": float(p),
            "n_baseline": len(baseline), "n_candidate": len(candidate)}


def tests_to_verdicts(tests: list[dict], alpha=ALPHA, margin=MARGIN) -> list[dict]:
    """Each test with `p_holm` and its `verdict` (and why, when inconclusive)."""
    adjusted = holm_adjusted([t["p"] for t in tests])
    out = []
    for test, p_holm in zip(tests, adjusted):
        verdict = {**test, "p_holm": p_holm}
        if smallest_exact_rank_p(test["n_baseline"], test["n_candidate"]) >= alpha:
            verdict["verdict"] = INCONCLUSIVE
            verdict["why"] = (f"needs at least {min_samples_per_side(alpha)} windows per side "
                              f"for p < {alpha}")
        elif p_holm < alpha and test["ratio"] < 1 - margin:
            verdict["verdict"] = REGRESSION
        elif p_holm < alpha and test["ratio"] > 1 + margin:
            verdict["verdict"] = IMPROVEMENT
        else:
            verdict["verdict"] = NO_CHANGE
        out.append(verdict)
    return out
