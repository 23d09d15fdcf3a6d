"""How fast this machine is right now, measured once a test session: what tests that wait on real
processes, or train cells that must still be running when they act, take their numbers from.

Machines of our kind differ: the AVX2 class trains the DCGAN 6-8 times slower than the AVX-512
class, and a busy machine slower still. A timeout or a step count sized on one machine fails on
another. So the first test that asks trains one tiny real cell in a fresh process, as a grid
does, and every timeout and step count below is a multiple of what it measured.

`busy_reason` says when a machine was too busy while a test ran to judge real timings (the A/A
nightly test): such a test reports that, and does not fail.
"""

import functools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE_STEPS, PROBE_BATCH = 30, 32


@dataclass(frozen=True)
class Pace:
    start_seconds: float  # launch to the first timed window: interpreter, TensorFlow, data, compile
    images_per_sec: float  # the training step at batch PROBE_BATCH, float32, XLA off

    def cell_seconds(self, steps: int, batch_size: int = PROBE_BATCH) -> float:
        """A cell's expected duration here: its start plus its steps at the measured rate
        (larger batches run faster per image; this errs long)."""
        return self.start_seconds + steps * batch_size / self.images_per_sec

    def timeout(self, steps: int = 0, batch_size: int = PROBE_BATCH, cells: int = 1,
                factor: float = 4.0) -> float:
        """A generous bound for `cells` such cells one after another: `factor` times their
        expected duration, and never under a minute (process start-up varies most)."""
        return max(60.0, factor * cells * self.cell_seconds(steps, batch_size))

    def steps_for(self, seconds: float, batch_size: int = PROBE_BATCH, least: int = 20) -> int:
        """Steps that keep a cell training for about `seconds` here (for a test that must act
        while a cell is still running), rounded up to a multiple of 10."""
        steps = max(least, seconds * self.images_per_sec / batch_size)
        return int(math.ceil(steps / 10) * 10)


@functools.cache
def pace() -> Pace:
    """Measured the first time it is asked, then kept for the session."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cell"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "bench", "train", "--steps", str(PROBE_STEPS),
             "--batch-size", str(PROBE_BATCH), "--log-every", "10", "--final-eval-n", "0",
             "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "DCGAN_BENCH_FAULT": ""})
        wall = time.perf_counter() - started
        assert proc.returncode == 0, proc.stderr[-3000:]
        summary = json.loads((out / "summary.json").read_text())
    rate = summary["images_per_sec"]["overall"] or summary["images_per_sec"]["median"]
    training = (PROBE_STEPS - 1) * PROBE_BATCH / rate
    return Pace(start_seconds=max(1.0, wall - training), images_per_sec=rate)


def load_average() -> float:
    return os.getloadavg()[0]


def usable_cores() -> int:
    return len(os.sched_getaffinity(0))


def busy_reason(loads: list[float], window_rates: list[list[float]],
                spread_limit: float) -> str | None:
    """Why real timings taken under these conditions cannot be judged, or None.

    `loads`: the 1-minute load average sampled while the runs trained (a cell uses every usable
    core, so a load well above the cores means other work took turns with it); `window_rates`:
    each run's measured windows' images/s. A run whose windows spread wider (p90 / p10 - 1) than
    `spread_limit` was disturbed within itself.
    """
    import numpy as np

    cores = usable_cores()
    if loads and max(loads) > cores + 1.0:
        return (f"machine too busy to judge: load average up to {max(loads):.1f} on {cores} "
                "usable cores while the runs trained")
    for rates in window_rates:
        if len(rates) >= 3:
            spread = np.percentile(rates, 90) / np.percentile(rates, 10) - 1
            if spread > spread_limit:
                return (f"machine too busy to judge: a run's own windows spread by {spread:.0%} "
                        f"(p90 / p10), more than the {spread_limit:.0%} the verdict allows")
    return None
