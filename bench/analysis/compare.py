"""Is the candidate run slower or worse than the baseline? Verdicts between two runs of one spec.

Cells are matched by part and coordinates; a configuration is those without the seed, and its
seeds are pooled.

- Throughput: ratio of medians (candidate / baseline) of the measured windows' images/sec, with a
  percentile bootstrap interval, and a two-sided Mann-Whitney U test on the windows. A regression
  only when both hold: p below `alpha` after Holm's adjustment across configurations, and a
  slowdown beyond the noise margin (`margin`). The same run twice on these machines differs by
  1-4% in median images/sec, and machine drift made a spurious 6% gap, so the default margin is
  10%. Windows of one cell are not independent draws: the interval and the test describe the
  noise within the two runs, and the margin covers what changes between nights.
- Drift: the same test against an older run (the oldest of the last N good nights): a slow slide
  that no single night shows.
- Quality, per configuration across seeds: final FID and classifier score (Mann-Whitney, exact),
  collapse counts (Fisher's exact test). With too few seeds for the exact test ever to reach
  `alpha`, the verdict is `inconclusive` and says how many seeds it needs, never "no change".
- Numerics: with the same TensorFlow and device, a seed repeats its final metrics exactly on
  these machines; any difference is listed per cell as `numerics changed`.

Pure functions of `Run`s (bench.analysis.runs): no files, no TensorFlow.
"""

import pandas as pd

from bench import outcome_rule, schema
from bench.analysis import machines as machine_scope
from bench.analysis.cells import results_to_cells
from bench.analysis.runs import Run
from bench.analysis.stats import (
    collapse_test,
    holm_adjusted,
    min_fisher_per_side,
    min_samples_per_side,
    samples_to_test,
    smallest_exact_rank_p,
    smallest_fisher_p,
)
from bench.errors import BenchError
from bench.schema import (
    VERDICT_DRIFT,
    VERDICT_IMPROVEMENT,
    VERDICT_INCONCLUSIVE,
    VERDICT_NO_CHANGE,
    VERDICT_OK,
    VERDICT_REGRESSION,
)

ALPHA = 0.002
MARGIN = 0.10
DRIFT_NIGHTS = 7

# Final metrics compared across seeds: (column, name, higher is better)
QUALITY_METRICS = ((schema.FINAL_FID, "FID", False),
                   (schema.FINAL_CLASSIFIER_SCORE, "classifier score", True))
# Final metrics a repeated seed must reproduce exactly (same TensorFlow, same device).
REPEATED_METRICS = (schema.FINAL_FID, schema.FINAL_KID, schema.FINAL_CLASSIFIER_SCORE,
                    schema.FINAL_CLASSES_COVERED, schema.FINAL_CONFIDENT_FRACTION,
                    schema.FINAL_OUTCOME)
FAILING = (schema.STATUS_FAILED, schema.STATUS_DIVERGED, schema.STATUS_MISSING)


# ---------------------------------------------------------------- tests to verdicts

def tests_to_verdicts(tests: list[dict], alpha=ALPHA, margin=MARGIN, unit="windows",
                      p_holm=None) -> list[dict]:
    """Each test (bench.analysis.stats.samples_to_test) with `p_holm` and its `verdict` (and
    `why`, when inconclusive).

    A test may say `higher_is_better` (default True: images/sec); the change is then judged on
    the ratio or on its inverse, so a 10% margin means 10% worse either way. `p_holm`: adjusted
    p-values from a larger family; by default Holm's adjustment over `tests`.
    """
    adjusted = holm_adjusted([t["p"] for t in tests]) if p_holm is None else p_holm
    out = []
    for test, p_holm in zip(tests, adjusted):
        verdict = {**test, "p_holm": p_holm}
        better = test["ratio"] if test.get("higher_is_better", True) else 1 / test["ratio"]
        if smallest_exact_rank_p(test["n_baseline"], test["n_candidate"]) >= alpha:
            verdict["verdict"] = VERDICT_INCONCLUSIVE
            verdict["why"] = (f"needs at least {min_samples_per_side(alpha)} {unit} per side "
                              f"for p < {alpha}")
        elif p_holm < alpha and better < 1 - margin:
            verdict["verdict"] = VERDICT_REGRESSION
        elif p_holm < alpha and better > 1 + margin:
            verdict["verdict"] = VERDICT_IMPROVEMENT
        else:
            verdict["verdict"] = VERDICT_NO_CHANGE
        out.append(verdict)
    return out


def collapse_verdicts(tests: list[dict], p_holm: list[float], alpha=ALPHA) -> list[dict]:
    """Each collapse-count test (bench.analysis.stats.collapse_test) with its verdict."""
    out = []
    for test, p in zip(tests, p_holm):
        verdict = {**test, "p_holm": p}
        if smallest_fisher_p(test["n_baseline"], test["n_candidate"]) >= alpha:
            verdict["verdict"] = VERDICT_INCONCLUSIVE
            verdict["why"] = (f"needs at least {min_fisher_per_side(alpha)} seeds with digits or "
                              "collapse per side")
        elif p < alpha:
            verdict["verdict"] = VERDICT_REGRESSION if test["worse"] else VERDICT_IMPROVEMENT
        else:
            verdict["verdict"] = VERDICT_NO_CHANGE
        out.append(verdict)
    return out


# ---------------------------------------------------------------- two runs

def check_comparable(baseline: Run, candidate: Run, pairs: pd.DataFrame):
    """BenchError naming every reason the two runs' numbers do not compare (`pairs`: their
    matched_pairs)."""
    problems = []
    if baseline.info.get("spec_sha256") != candidate.info.get("spec_sha256"):
        problems.append(f"different grid specs: baseline {baseline.info.get('spec_name')!r} "
                        f"(spec sha256 {str(baseline.info.get('spec_sha256'))[:12]}), candidate "
                        f"{candidate.info.get('spec_name')!r} "
                        f"({str(candidate.info.get('spec_sha256'))[:12]})")
    instruments = [sorted(set(r.results.get(schema.CLASSIFIER_SHA256, pd.Series()).dropna()))
                   for r in (baseline, candidate)]
    if instruments[0] != instruments[1]:
        problems.append(f"different instruments (classifier sha256): baseline "
                        f"{[h[:12] for h in instruments[0]]}, candidate "
                        f"{[h[:12] for h in instruments[1]]}")
    final_n = pairs.dropna(subset=[f"{schema.FINAL_N}_b", f"{schema.FINAL_N}_c"])
    final_n = final_n[final_n[f"{schema.FINAL_N}_b"] != final_n[f"{schema.FINAL_N}_c"]]
    if not final_n.empty:
        row = final_n.iloc[0]
        problems.append(f"different final_n: {len(final_n)} cell(s), e.g. {row['cell_id_c']}: "
                        f"baseline {int(row[f'{schema.FINAL_N}_b'])}, candidate "
                        f"{int(row[f'{schema.FINAL_N}_c'])}")
    if problems:
        raise BenchError(f"runs {baseline.id} and {candidate.id} do not compare: "
                         + "; ".join(problems))


def _keyed(run: Run, side: str) -> pd.DataFrame:
    frame = run.results.copy()
    for key in schema.CELL_KEY:
        if key not in frame:
            frame[key] = None
    frame["_key"] = [tuple(str(v) for v in row) for row in frame[list(schema.CELL_KEY)].itertuples(
        index=False)]
    frame["_side"] = side
    return frame


def matched_pairs(baseline: Run, candidate: Run) -> pd.DataFrame:
    """One row per cell key in either run: the baseline's columns suffixed _b, the candidate's _c,
    `config` (the configuration label) and `matched` (present in both)."""
    both = pd.concat([_keyed(baseline, "b"), _keyed(candidate, "c")], ignore_index=True)
    labelled = results_to_cells(both.drop(columns=[c for c in ("config",) if c in both]))
    # results_to_cells sorts the cells: carry each label back by key
    config_of = dict(zip(labelled["_key"], labelled["config"]))
    b, c = (both[both["_side"] == s].set_index("_key") for s in ("b", "c"))
    pairs = b.join(c, how="outer", lsuffix="_b", rsuffix="_c")
    pairs["config"] = [config_of[k] for k in pairs.index]
    pairs["matched"] = pairs["cell_id_b"].notna() & pairs["cell_id_c"].notna()
    pairs["cell_id"] = pairs["cell_id_c"].fillna(pairs["cell_id_b"])
    order = list(dict.fromkeys(labelled["_key"]))
    return pairs.loc[order].reset_index(drop=True)


def throughput_tests(baseline: Run, candidate: Run, pairs: pd.DataFrame, alpha, margin) -> list:
    tests = []
    ok = pairs[pairs["matched"] & (pairs["status_b"] == schema.STATUS_OK)
               & (pairs["status_c"] == schema.STATUS_OK)]
    for config, group in ok.groupby("config", sort=False):
        base = [w for cell in group["cell_id_b"] for w in baseline.window_rates(cell)]
        cand = [w for cell in group["cell_id_c"] for w in candidate.window_rates(cell)]
        if base and cand:
            tests.append({"config": config, "seeds": len(group),
                          **samples_to_test(base, cand, bootstrap=True)})
    return tests_to_verdicts(tests, alpha, margin) if tests else []


def _final_values(group, column, side) -> list[float]:
    values = pd.to_numeric(group[f"{column}_{side}"], errors="coerce")
    return values.dropna().tolist()


def quality_verdicts(pairs: pd.DataFrame, alpha) -> list[dict]:
    """FID and classifier score across seeds (Mann-Whitney) and collapse counts (Fisher), one
    Holm family; only configurations whose cells have a final evaluation on both sides."""
    evaluated = pairs[pairs["matched"] & (pairs["status_b"] == schema.STATUS_OK)
                      & (pairs["status_c"] == schema.STATUS_OK)
                      & pairs[f"{schema.FINAL_N}_b"].notna() & pairs[f"{schema.FINAL_N}_c"].notna()]
    rank_tests, fisher_tests = [], []
    for config, group in evaluated.groupby("config", sort=False):
        for column, name, higher_is_better in QUALITY_METRICS:
            base, cand = _final_values(group, column, "b"), _final_values(group, column, "c")
            if base and cand:
                rank_tests.append({"config": config, "metric": name,
                                   "higher_is_better": higher_is_better,
                                   "baseline": ", ".join(f"{v:.4g}" for v in base),
                                   "candidate": ", ".join(f"{v:.4g}" for v in cand),
                                   **samples_to_test(base, cand)})
        outcomes = {s: group[f"{schema.FINAL_OUTCOME}_{s}"] for s in ("b", "c")}
        judged = {s: o[o.isin([outcome_rule.OUTCOME_DIGITS, outcome_rule.OUTCOME_MODE_COLLAPSE])]
                  for s, o in outcomes.items()}
        if len(judged["b"]) and len(judged["c"]):
            collapsed = {s: int((j == outcome_rule.OUTCOME_MODE_COLLAPSE).sum())
                         for s, j in judged.items()}
            fisher_tests.append({"config": config, "metric": "collapse count",
                                 **collapse_test(collapsed["b"], len(judged["b"]),
                                                 collapsed["c"], len(judged["c"]))})
    # One Holm family for every quality test; no margin: any significant change counts.
    p_holm = holm_adjusted([t["p"] for t in rank_tests + fisher_tests])
    return (tests_to_verdicts(rank_tests, alpha, 0.0, "seeds", p_holm[:len(rank_tests)])
            + collapse_verdicts(fisher_tests, p_holm[len(rank_tests):], alpha))


def numerics(baseline: Run, candidate: Run, pairs: pd.DataFrame, same_machine=True) -> dict:
    """Whether each seed repeated its final metrics, where it is expected to (same TensorFlow,
    device and machine): `expected`, `why`, and `changes` (cell, metric, baseline, candidate)."""
    both_ok = pairs[pairs["matched"] & (pairs["status_b"] == schema.STATUS_OK)
                    & (pairs["status_c"] == schema.STATUS_OK)
                    & pairs[f"{schema.FINAL_N}_b"].notna() & pairs[f"{schema.FINAL_N}_c"].notna()]
    environments = {side: sorted({(str(t), str(d)) for t, d in zip(
        both_ok.get(f"tensorflow_{side}", []), both_ok.get(f"device_model_{side}", []))})
        for side in ("b", "c")}
    if both_ok.empty:
        return {"expected": False, "why": "no cell has a final evaluation in both runs",
                "changes": [], "cells": 0}
    if environments["b"] != environments["c"]:
        return {"expected": False, "changes": [], "cells": len(both_ok),
                "why": f"TensorFlow and device differ (baseline {environments['b']}, candidate "
                       f"{environments['c']}): final metrics are not expected to repeat"}
    if not same_machine:
        return {"expected": False, "changes": [], "cells": len(both_ok),
                "why": "the machines differ (another instruction set rounds differently): final "
                       "metrics are not expected to repeat"}
    changes = []
    for _, row in both_ok.iterrows():
        for column in REPEATED_METRICS:
            b, c = row.get(f"{column}_b"), row.get(f"{column}_c")
            if not (pd.isna(b) and pd.isna(c)) and b != c:
                changes.append({"cell": row["cell_id"], "metric": column, "baseline": b,
                                "candidate": c})
    return {"expected": True, "changes": changes, "cells": len(both_ok),
            "why": "same TensorFlow and device: each seed is expected to repeat its final "
                   "metrics exactly"}


def cells_not_compared(pairs: pd.DataFrame) -> list[dict]:
    """Every cell missing from one run or not ok in either, with what it means; none dropped."""
    out = []
    for _, row in pairs.iterrows():
        b = row["status_b"] if isinstance(row["status_b"], str) else None
        c = row["status_c"] if isinstance(row["status_c"], str) else None
        if b == c == schema.STATUS_OK:
            continue
        if b is None or c is None:
            note = "only in the candidate" if b is None else "only in the baseline"
        elif b == schema.STATUS_OK and c in FAILING:
            note = "newly failing"
        elif c == schema.STATUS_OK and b in FAILING:
            note = "fixed"
        else:
            note = "not ok in both" if b != schema.STATUS_OK and c != schema.STATUS_OK else \
                "not run in one"
        out.append({"cell": row["cell_id"], "baseline": b or "absent",
                    "candidate": c or "absent", "note": note,
                    "reason": row.get("reason_c") if isinstance(row.get("reason_c"), str)
                    else row.get("reason_b") if isinstance(row.get("reason_b"), str) else None})
    return out


def compare_runs(baseline: Run, candidate: Run, *, drift_base: Run | None = None,
                 alpha=ALPHA, margin=MARGIN, scope=machine_scope.SAME_MACHINE) -> dict:
    """The whole comparison: per-part verdicts, the cells not compared, and one `verdict`
    (`regression`, `drift` or `ok`) with its `reasons`. BenchError when the runs do not compare,
    runs from different machines included unless `scope` is ACROSS_MACHINES (throughput compared
    anyway, and said) or QUALITY_ONLY (throughput left out)."""
    pairs = matched_pairs(baseline, candidate)
    check_comparable(baseline, candidate, pairs)
    machines = machine_scope.machine_check(baseline, candidate, pairs)
    if not machines["same"] and scope == machine_scope.SAME_MACHINE:
        machine_scope.refuse_across_machines(baseline, candidate, machines)
    with_throughput = scope != machine_scope.QUALITY_ONLY
    result = {"baseline": baseline.id, "candidate": candidate.id,
              "alpha": alpha, "margin": margin, "scope": scope, "machines": machines,
              "throughput": throughput_tests(baseline, candidate, pairs, alpha, margin)
              if with_throughput else [],
              "drift_base": None, "drift": [],
              "quality": quality_verdicts(pairs, alpha),
              "numerics": numerics(baseline, candidate, pairs, machines["same"]),
              "cells_not_compared": cells_not_compared(pairs)}
    if with_throughput and drift_base is not None and \
            drift_base.id not in (baseline.id, candidate.id):
        drift_pairs = matched_pairs(drift_base, candidate)
        check_comparable(drift_base, candidate, drift_pairs)
        drift_machines = machine_scope.machine_check(drift_base, candidate, drift_pairs)
        if not drift_machines["same"] and scope == machine_scope.SAME_MACHINE:
            machine_scope.refuse_across_machines(drift_base, candidate, drift_machines)
        result["drift_base"] = drift_base.id
        result["drift"] = throughput_tests(drift_base, candidate, drift_pairs, alpha, margin)
    result["verdict"], result["reasons"] = overall_verdict(result)
    return result


def overall_verdict(result: dict) -> tuple[str, list[str]]:
    reasons = [f"throughput {t['config']}: {t['ratio']:.3f}x, p(Holm) {t['p_holm']:.2g}"
               for t in result["throughput"] if t["verdict"] == VERDICT_REGRESSION]
    reasons += [f"{t['metric']} {t['config']}: worse, p(Holm) {t['p_holm']:.2g}"
                for t in result["quality"] if t["verdict"] == VERDICT_REGRESSION]
    reasons += [f"cell {c['cell']} newly failing ({c['candidate']})"
                for c in result["cells_not_compared"] if c["note"] == "newly failing"]
    if reasons:
        return VERDICT_REGRESSION, reasons
    drift = [f"throughput {t['config']}: {t['ratio']:.3f}x against {result['drift_base']}, "
             f"p(Holm) {t['p_holm']:.2g}" for t in result["drift"]
             if t["verdict"] == VERDICT_REGRESSION]
    if drift:
        return VERDICT_DRIFT, drift
    return VERDICT_OK, []
