"""How often the throughput verdict's widened interval holds "no change" on A/A pairs of
simulated nights (tests/nights_sim.py) when it is widened by the default night noise
(bench.analysis.throughput.NIGHT_NOISE) rather than by the noise the nights really have. A
benchmark script, not a test:

    python tests/benchmarks/throughput_coverage.py [--pairs 300] [--night-noise 0.03]

tests/test_throughput.py checks the coverage with the noise learned from the nights themselves
(about 95%); this says what a verdict that had to use the default gets.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def coverage(seeds: int, pairs: int, night_noise: float) -> float:
    import numpy as np
    from nights_sim import Noise, night_run

    from bench.analysis import throughput
    from bench.analysis.stats import runs_ratio_ci

    rng = np.random.default_rng(seeds)
    noise = Noise(seeds=seeds, night_noise=night_noise)
    held = 0
    for _ in range(pairs):
        a, b = night_run(rng, 0, noise), night_run(rng, 1, noise)
        cells = [[[rate for _, rate, _ in w] for w in run.windows.values()] for run in (a, b)]
        ratio, low, high = runs_ratio_ci(*cells)
        low, high = throughput.widened_interval(ratio, low, high, throughput.NIGHT_NOISE)
        held += low <= 1 <= high
    return held / pairs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=300)
    p.add_argument("--night-noise", type=float, default=0.03,
                   help="the standard deviation of one night's log level (the ratio of two "
                        "nights has about 1.41 times it, plus the runs' own)")
    args = p.parse_args(argv)
    from bench.analysis.throughput import NIGHT_NOISE

    for seeds in (3, 1):
        print(f"{seeds} seed(s) a side, nights of {args.night_noise:.1%}, widened by the default "
              f"{NIGHT_NOISE:.1%}: held no change in "
              f"{coverage(seeds, args.pairs, args.night_noise):.1%} of {args.pairs} A/A pairs",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
