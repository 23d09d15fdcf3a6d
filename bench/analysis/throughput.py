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

Pure functions of `Run`s: no files, no TensorFlow.
"""

import math

import pandas as pd

from bench import schema
from bench.analysis.cells import stable_label
from bench.analysis.runs import Run
from bench.analysis.stats import runs_ratio_ci, samples_to_test

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


def config_cells(run: Run, cell_ids) -> list[list[float]]:
    """The measured windows' images/s of each cell that has some."""
    return [w for w in (run.window_rates(c) for c in cell_ids) if w]


def throughput_verdicts(baseline: Run, candidate: Run, pairs: pd.DataFrame, margin=MARGIN,
                        noise: dict | None = None) -> list[dict]:
    """One verdict per configuration with ok cells in both runs. `noise`: configuration (its
    stable label, bench.analysis.cells.stable_label) -> (noise, where it was measured), for
    those the history knows better than NIGHT_NOISE."""
    out = []
    ok = pairs[pairs["matched"] & (pairs["status_b"] == schema.STATUS_OK)
               & (pairs["status_c"] == schema.STATUS_OK)]
    for config, group in ok.groupby("config", sort=False):
        base = config_cells(baseline, group["cell_id_b"])
        cand = config_cells(candidate, group["cell_id_c"])
        if not base or not cand:
            continue
        ratio, runs_low, runs_high = runs_ratio_ci(base, cand)
        key = stable_label(group.iloc[0], "_c")
        sigma, source = (noise or {}).get(key, (NIGHT_NOISE, NIGHT_NOISE_SOURCE))
        bar = threshold(sigma, margin)
        low, high = widened_interval(ratio, runs_low, runs_high, sigma)
        windows = samples_to_test([w for c in base for w in c], [w for c in cand for w in c])
        if ratio < 1 - bar and high < 1:
            verdict = schema.VERDICT_REGRESSION
        elif ratio > 1 + bar and low > 1:
            verdict = schema.VERDICT_IMPROVEMENT
        else:
            verdict = schema.VERDICT_NO_CHANGE
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
                    "windows_p": windows["p"],
                    "why": "one run a side: the runs' own bootstrap sees its windows only, so "
                    "the interval is the night noise's" if min(len(base), len(cand)) < 2
                    else None})
    return out
