"""Simulated nights for the nightly policy: how often it raises a false alarm, and how soon it
finds a step, with window noise and night noise as the machines show them.

A night: `seeds` cells of each of `parts` configurations (one by default; nightly.toml judges
two, NIGHTLY_PARTS: its throughput part's and its quality part's), each some measured windows of
images/s. A cell's log throughput is its configuration's night level (night-to-night
noise, `night_noise` standard deviation, drawn for each configuration on its own: the worse case
for false alerts, since a level shared by both would raise them together), the cell's own run
level (`run_noise`), and its windows as an AR(1) series (autocorrelation `rho`, `window_noise`
standard deviation): windows of one cell are neither independent nor free of the run's level,
which is why the run is the unit.

Each night goes through the same code the nightly job runs (bench.analysis.verdicts.judge_night),
with the history's part played in memory: the last good night is the baseline, the nights since
the reference feed the change-point detector, and last night's open regressions are carried.

An A/B night (`nightly --ab`, `continuous`) is `rounds` pairs of runs judged by
bench.analysis.paired, each night on its own: simulated (`simulated_round`: the round's drift,
drawn as a night level is, shared by both sides) or replayed (`replayed_round`: two real runs
that ran one after the other).
"""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from bench import schema
from bench.analysis.nights import night_throughput
from bench.analysis.paired import paired_verdicts
from bench.analysis.runs import Run
from bench.analysis.verdicts import Thresholds, judge_night, open_map

LEVEL = 400.0  # images/s
# nightly.toml's two throughput configurations: its throughput part (300 steps, log_every 10: 29
# measured windows) and its quality part (8,000 steps, log_every 100: 79)
NIGHTLY_PARTS = (("throughput", 29), ("quality", 79))


@dataclass(frozen=True)
class Noise:
    night_noise: float = 0.03
    run_noise: float = 0.01
    window_noise: float = 0.03
    rho: float = 0.8
    seeds: int = 3
    windows: int = 29
    # the configurations judged, (part, measured windows) each; None: one, the throughput
    # part's `windows` (NIGHTLY_PARTS: what nightly.toml judges)
    parts: tuple | None = None
    # heavy-tailed nights: the night level drawn from Student's t with this many degrees of
    # freedom, scaled to the same standard deviation (None: normal nights)
    tails_df: float | None = None


def ar1(rng, n: int, rho: float, sd: float) -> np.ndarray:
    """A stationary AR(1) series of standard deviation `sd`."""
    out = np.empty(n)
    out[0] = rng.normal(0, sd)
    innovation = sd * np.sqrt(1 - rho * rho)
    for t in range(1, n):
        out[t] = rho * out[t - 1] + rng.normal(0, innovation)
    return out


def night_run(rng, index: int, noise: Noise, slowdown: float = 1.0) -> Run:
    """One simulated night as a `Run` (results rows and windows), its level times `slowdown`."""
    rows, windows = [], {}
    for part, n_windows in noise.parts or (("throughput", noise.windows),):
        if noise.tails_df:
            df = noise.tails_df
            night = rng.standard_t(df) * noise.night_noise * np.sqrt((df - 2) / df)
        else:
            night = rng.normal(0, noise.night_noise)
        for seed in range(noise.seeds):
            cell = f"{part}_cpu_float32_xla-off_bs64_seed{seed}"
            log = night + rng.normal(0, noise.run_noise) + ar1(rng, n_windows, noise.rho,
                                                               noise.window_noise)
            rates = LEVEL * slowdown * np.exp(log)
            # contention not measured (None): simulated nights judge every window, as before
            windows[cell] = [(10 * (i + 2), float(r), None) for i, r in enumerate(rates)]
            rows.append({"cell_id": cell, "status": schema.STATUS_OK, "part": part,
                         "data": "mnist-5k", "device": "cpu", "precision": "float32",
                         "xla": False, "batch_size": 64, "seed": seed, "final_n": None,
                         "classifier_sha256": None, "final_outcome": None,
                         schema.IMAGES_PER_SEC_MEDIAN: float(np.median(rates)),
                         schema.FRAMEWORK_VERSION: "2.21.0", "device_model": "sim",
                         "reason": None})
    info = {"spec_sha256": "sim", "spec_name": "sim", "started": f"night{index:05d}"}
    return Run(f"sim/night{index:05d}", info, pd.DataFrame(rows), windows)


def scaled(run: Run, factor: float, index: int, kind: str = "replay") -> Run:
    """`run` as night `index`, its windows and medians times `factor`."""
    results = run.results.copy()
    results[schema.IMAGES_PER_SEC_MEDIAN] = results[schema.IMAGES_PER_SEC_MEDIAN] * factor
    windows = {c: [(step, rate * factor, share) for step, rate, share in w]
               for c, w in run.windows.items()}
    return Run(f"{kind}/night{index:05d}", {**run.info, "started": f"night{index:05d}"},
               results, windows)


def replayed_night(real_runs: list):
    """A night source (for `simulate`) that replays real nights: each night one of `real_runs`
    drawn at random with replacement (the nights taken as exchangeable: a machine's slow drift is
    not replayed), its windows and medians times the slowdown."""
    def night(rng, index: int, noise, slowdown: float = 1.0) -> Run:
        return scaled(real_runs[rng.integers(len(real_runs))], slowdown, index)
    return night


def simulated_round(rng, index: int, noise: Noise, slowdown: float = 1.0) -> tuple[Run, Run]:
    """One A/B round, simulated: (baseline, candidate), each its own run level and windows, and a
    drift drawn as a night level is, shared by both (the sides run one after the other)."""
    still = replace(noise, night_noise=0.0)
    drift = float(np.exp(rng.normal(0, noise.night_noise)))
    return (scaled(night_run(rng, 2 * index, still), drift, 2 * index, "sim"),
            scaled(night_run(rng, 2 * index + 1, still, slowdown), drift, 2 * index + 1, "sim"))


def replayed_round(real_runs: list):
    """A round source that replays real runs: two that ran one after the other (drawn at random
    with replacement among such neighbours), baseline first in even rounds and candidate first
    in odd ones (the A/B's ABBA order), the candidate's windows times the slowdown."""
    def pair(rng, index: int, noise, slowdown: float = 1.0) -> tuple[Run, Run]:
        k = int(rng.integers(len(real_runs) - 1))
        first, second = real_runs[k], real_runs[k + 1]
        base, cand = (first, second) if index % 2 == 0 else (second, first)
        return scaled(base, 1.0, 2 * index), scaled(cand, slowdown, 2 * index + 1)
    return pair


def ab_verdicts(nights: int, rounds: int, noise: Noise, seed: int = 0, step: float = 1.0,
                pair=simulated_round) -> list[str]:
    """The A/B verdicts of `nights` nights of `rounds` rounds, the candidate `step` times as
    fast (one configuration: the first's verdict)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(nights):
        verdicts = paired_verdicts([pair(rng, r, noise, step) for r in range(rounds)])
        out.append(next(iter(verdicts.values()))["verdict"])
    return out


def simulate(nights: int, noise: Noise, seed: int = 0, step_at: int | None = None,
             step: float = 1.0, thresholds: Thresholds | None = None,
             slowed: dict | None = None, night=night_run) -> list[dict]:
    """Verdicts of `nights` simulated nights, the level times `step` from night `step_at` on,
    and night i alone times slowed[i]. `night(rng, index, noise, slowdown)` makes each night's
    Run: simulated (`night_run`) or replayed (`replayed_night`)."""
    rng = np.random.default_rng(seed)
    thresholds = thresholds or Thresholds()
    runs, verdicts, earlier, last_good, previous = [], [], [], None, {}
    for index in range(nights):
        slowdown = step if step_at is not None and index >= step_at else 1.0
        slowdown *= (slowed or {}).get(index, 1.0)
        run = night(rng, index, noise, slowdown)
        if last_good is None:
            verdict = {"verdict": "first", "nights": {}}
        else:
            verdict = judge_night(last_good, run, earlier, previous, thresholds)
            previous = open_map(verdict)
        verdicts.append({"night": index, "verdict": verdict["verdict"],
                         "states": {c: s["state"] for c, s in verdict["nights"].items()},
                         "since": [s.get("since") for s in verdict["nights"].values()],
                         "how": [s.get("how") for s in verdict["nights"].values()]})
        if verdict["verdict"] in ("first", schema.VERDICT_OK):
            last_good = run
        earlier.append((run.id, night_throughput(run.results), set(open_map(verdict))))
        runs.append(run)
    return verdicts


def false_alarms_per_year(verdicts: list[dict]) -> float:
    judged = [v for v in verdicts if v["verdict"] != "first"]
    alarms = sum(v["verdict"] == schema.VERDICT_REGRESSION for v in judged)
    return alarms / len(judged) * 365
