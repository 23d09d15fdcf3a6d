"""The nightly policy's false alarms per year and its detection delay, by simulation.

    python tests/benchmarks/nightly_simulation.py [--nights 3650] [--night-noise 0.03]
        [--default-noise X] [--rho 0.8] [--step 0.9] [--seed 0]

Simulated nights (tests/nights_sim.py: AR(1) windows, a run level per cell, a level per night)
go through the nightly job's own decision (bench.analysis.verdicts.judge_night): a year's worth
of A/A nights gives the false alarms per year; nights with a step down at a random night give
how many nights it took to find it and whether it was dated to the step. `--default-noise` is
the night noise the policy assumes before a configuration has nights of its own (by default
the shipped bench.analysis.throughput.NIGHT_NOISE).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nights_sim import Noise, false_alarms_per_year, simulate  # noqa: E402

from bench.analysis import throughput  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nights", type=int, default=3650)
    parser.add_argument("--night-noise", type=float, default=0.03)
    parser.add_argument("--default-noise", type=float, default=None)
    parser.add_argument("--rho", type=float, default=0.8)
    parser.add_argument("--step", type=float, default=0.9)
    parser.add_argument("--steps", type=int, default=20, help="simulated step series")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.default_noise is not None:
        throughput.NIGHT_NOISE = args.default_noise
    noise = Noise(night_noise=args.night_noise, rho=args.rho)
    flat = simulate(args.nights, noise, seed=args.seed)
    alarms = [v["night"] for v in flat if v["verdict"] == "regression"]
    print(f"A/A: {len(alarms)} false alarms in {args.nights} nights = "
          f"{false_alarms_per_year(flat):.2f} a year (night noise {args.night_noise:.1%}, "
          f"windows AR(1) rho {args.rho}, default noise {throughput.NIGHT_NOISE:.1%}); nights "
          f"{alarms}")
    rng = np.random.default_rng(args.seed + 1)
    delays, dated = [], 0
    for i in range(args.steps):
        at = int(rng.integers(12, 30))
        verdicts = simulate(at + 10, noise, seed=args.seed + 100 + i, step_at=at, step=args.step)
        found = next((v for v in verdicts if v["verdict"] == "regression"), None)
        if found is None or found["night"] < at:
            continue
        delays.append(found["night"] - at)
        dated += found["since"] == [f"sim/night{at:05d}"]
    print(f"step x{args.step}: found {len(delays)} of {args.steps}, nights after the step "
          f"{delays} (median {np.median(delays) if delays else 'n/a'}), dated to the step "
          f"{dated} of {len(delays)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
