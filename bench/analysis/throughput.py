"""Throughput between two runs, with the run as the unit: is the candidate slower?

A cell's log windows are not independent samples: they are autocorrelated (lag-1 up to 0.91 in a
real cpu.toml run) and share the run's own level, so two seeds of one configuration, same code,
"differ" at p = 4e-4 by a rank test on their windows. Here each cell (a seed's run) is one
observation, its median images/s, and a configuration's throughput is the median over its cells:

- ratio: candidate over baseline, with a 95% interval: the two-stage bootstrap's (cells
  resampled, then each drawn cell's windows: bench.analysis.stats.runs_ratio_ci), widened by the
  night-to-night noise. The bootstrap sees only the two nights at hand: nights of the same code
  differ by more than their cells do, and on simulated A/A nights (3% night noise) its interval
  covered "no change" 56% of the time. Widened in log space, each side's half-width
  sqrt(bootstrap's^2 + (1.96 x noise)^2), it covers at its stated 95% (tests/test_throughput.py,
  by simulation), with one run a side as well;
- verdict: a margin against the night-to-night noise. `regression` when the ratio is below
  1 - threshold and the whole interval below 1; `improvement` the mirror; otherwise `no change`.
  threshold = max(margin, 1 - exp(-NOISE_Z x noise)), noise being the standard deviation of the
  log ratio between two nights of the same code: from the history's own nights of this
  configuration where it has enough of them, else NIGHT_NOISE, measured on real A/A nights here.
  Both are printed beside every verdict.
- The rank test on the pooled windows stays, as a description of the two runs, not a verdict.
- Contention (bench.cell.contention): a window in which other processes and the hypervisor took
  more than CONTENDED_SHARE of the cell's cores measures the machine, not the code. Each cell is
  judged on its uncontended windows; a cell left with fewer than MIN_CLEAN_WINDOWS of them is
  left out, and a configuration with no cell left on either side is `inconclusive` with the
  figures, never a regression or an improvement. Windows of records from before contention was
  measured are all judged, as before, and the verdict says contention was not measured.

Pure functions of `Run`s: no files, no TensorFlow.
"""

import math

import pandas as pd

from bench import schema
from bench.analysis.cells import stable_label
from bench.analysis.runs import Run
from bench.analysis.stats import runs_ratio_ci, samples_to_test
from bench.contention_rule import CONTENDED_SHARE

MARGIN = 0.10
# The standard deviation of log(throughput of night B / night A) between two real nights of the
# same code on one machine: 3.1% over 10 real A/A pairs of runs/grids/nightly-throughput.toml on
# the AVX-512 class (README, "What `compare` decides", with the command). A configuration's own nights in the
# history are pooled with it (bench.analysis.nights).
NIGHT_NOISE = 0.031
NIGHT_NOISE_SOURCE = "measured on real A/A nights of nightly-throughput.toml (README)"
# One-sided z: a night-to-night ratio beyond it by chance about once in 2,000
# configuration-nights at normal noise (the README gives the rate simulated with real noise).
NOISE_Z = 3.3
# The two-sided normal quantile of the interval's level (stats.CONFIDENCE, 95%).
INTERVAL_Z = 1.959964
# The uncontended windows a cell needs to be judged (a median of fewer is one window's noise).
MIN_CLEAN_WINDOWS = 3


def widened_interval(ratio: float, low: float, high: float, noise: float) -> tuple[float, float]:
    """The bootstrap interval (low, high) of `ratio` widened by the night noise: in log space
    each side's half-width becomes sqrt(half-width^2 + (INTERVAL_Z x noise)^2)."""
    night = INTERVAL_Z * noise
    down = math.sqrt(math.log(ratio / low) ** 2 + night ** 2) if low > 0 else math.inf
    up = math.sqrt(math.log(high / ratio) ** 2 + night ** 2)
    return ratio * math.exp(-down), ratio * math.exp(up)


def threshold(noise: float, margin: float = MARGIN) -> float:
    """The slowdown a verdict needs: the margin, or NOISE_Z noises if that is more."""
    return max(margin, 1 - math.exp(-NOISE_Z * noise))


def ratio_verdict(ratio: float, low: float, high: float, bar: float) -> str:
    """`regression` when the ratio is below 1 - bar and its whole interval (low, high) below 1,
    `improvement` the mirror, otherwise `no change`."""
    if ratio < 1 - bar and high < 1:
        return schema.VERDICT_REGRESSION
    if ratio > 1 + bar and low > 1:
        return schema.VERDICT_IMPROVEMENT
    return schema.VERDICT_NO_CHANGE


def config_cells(run: Run, cell_ids) -> list[list[float]]:
    """The measured windows' images/s of each cell that has some."""
    return [w for w in (run.window_rates(c) for c in cell_ids) if w]


def judged_cells(run: Run, cell_ids) -> tuple[list[list[float]], dict]:
    """The windows to judge of each cell (its uncontended ones, or all where contention was
    not measured), and what contention took out: windows, contended, not measured, the cells
    judged and the median of the measured windows' contended share."""
    cells, shares, windows, not_measured, with_windows = [], [], 0, 0, 0
    for cell in cell_ids:
        contention = run.window_contention(cell)
        if not contention:
            continue
        with_windows += 1
        windows += len(contention)
        known = [x for x in contention if x is not None]
        shares += known
        not_measured += len(contention) - len(known)
        if len(known) < len(contention):  # an older record: every window, as before
            cells.append(run.window_rates(cell))
            continue
        clean = run.window_rates(cell, CONTENDED_SHARE)
        if len(clean) >= MIN_CLEAN_WINDOWS:
            cells.append(clean)
    contended = sum(x > CONTENDED_SHARE for x in shares)
    return cells, {"windows": windows, "contended": contended, "not_measured": not_measured,
                   "cells": with_windows, "cells_judged": len(cells),
                   "share_median": float(pd.Series(shares).median()) if shares else None}


def contention_words(side: dict) -> str:
    """One side's contention as a verdict's reader needs it."""
    if not side["windows"]:
        return "no measured windows"
    if side["not_measured"] == side["windows"]:
        return f"{side['windows']} windows, contention not measured"
    text = (f"{side['contended']} of {side['windows']} windows contended, median "
            f"{side['share_median']:.0%} of the cores taken by others")
    if side["cells_judged"] < side["cells"]:
        text += f"; {side['cells_judged']} of {side['cells']} cells judged"
    return text


def throughput_verdicts(baseline: Run, candidate: Run, pairs: pd.DataFrame, margin=MARGIN,
                        noise: dict | None = None) -> list[dict]:
    """One verdict per configuration with ok cells in both runs. `noise`: configuration (its
    stable label, bench.analysis.cells.stable_label) -> (noise, where it was measured), for
    those the history knows better than NIGHT_NOISE."""
    out = []
    ok = pairs[pairs["matched"] & (pairs["status_b"] == schema.STATUS_OK)
               & (pairs["status_c"] == schema.STATUS_OK)]
    for config, group in ok.groupby("config", sort=False):
        base, base_contention = judged_cells(baseline, group["cell_id_b"])
        cand, cand_contention = judged_cells(candidate, group["cell_id_c"])
        key = stable_label(group.iloc[0], "_c")
        contention = {"baseline": base_contention, "candidate": cand_contention,
                      "bound": CONTENDED_SHARE, "min_clean_windows": MIN_CLEAN_WINDOWS}
        if not base or not cand:
            if base_contention["contended"] + cand_contention["contended"]:
                out.append(_contended(config, key, group, contention))
            continue
        ratio, runs_low, runs_high = runs_ratio_ci(base, cand)
        sigma, source = (noise or {}).get(key, (NIGHT_NOISE, NIGHT_NOISE_SOURCE))
        bar = threshold(sigma, margin)
        low, high = widened_interval(ratio, runs_low, runs_high, sigma)
        windows = samples_to_test([w for c in base for w in c], [w for c in cand for w in c])
        verdict = ratio_verdict(ratio, low, high, bar)
        out.append({"config": config, "key": key,
                    "seeds": len(group), "runs": f"{len(base)} / {len(cand)}",
                    "ratio": ratio, "ci_low": low, "ci_high": high,
                    "ci_runs": [runs_low, runs_high], "threshold": bar,
                    "noise": sigma, "noise_source": source, "verdict": verdict,
                    "baseline_median": float(pd.Series([pd.Series(c).median() for c in base])
                                             .median()),
                    "candidate_median": float(pd.Series([pd.Series(c).median() for c in cand])
                                              .median()),
                    "windows": f"{windows['n_baseline']} / {windows['n_candidate']}",
                    "windows_p": windows["p"], "contention": contention,
                    "why": _why(base, cand, contention)})
    return out


def _why(base, cand, contention) -> str | None:
    """What a reader must know beside a judged verdict: one run a side, windows left out as
    contended, contention not measured."""
    notes = []
    if min(len(base), len(cand)) < 2:
        notes.append("one run a side: the runs' own bootstrap sees its windows only, so the "
                     "interval is the night noise's")
    sides = [(name, contention[name]) for name in ("baseline", "candidate")]
    if any(side["contended"] for _, side in sides):
        notes.append("judged on uncontended windows only: " + "; ".join(
            f"{name} {contention_words(side)}" for name, side in sides))
    unmeasured = [name for name, side in sides if side["not_measured"]]
    if unmeasured:
        notes.append(f"contention not measured in the {' and '.join(unmeasured)} (older "
                     "records): every window judged")
    return "; ".join(notes) or None


def _contended(config, key, group, contention) -> dict:
    """A configuration whose windows were too contended on a side to judge: `inconclusive`,
    with the figures."""
    sides = "; ".join(f"{name} {contention_words(contention[name])}"
                      for name in ("baseline", "candidate"))
    return {"config": config, "key": key, "seeds": len(group),
            "runs": f"{contention['baseline']['cells_judged']} / "
                    f"{contention['candidate']['cells_judged']}",
            "ratio": None, "ci_low": None, "ci_high": None, "ci_runs": None, "threshold": None,
            "noise": None, "noise_source": None, "verdict": schema.VERDICT_INCONCLUSIVE,
            "baseline_median": None, "candidate_median": None, "windows": None,
            "windows_p": None, "contention": contention,
            "why": f"contended: other processes took more than {CONTENDED_SHARE:.0%} of the "
                   f"cores in too many windows to judge ({sides}); rerun on a quiet machine"}
