"""The nightly policy's published error table, by simulation at the measured night noise.

    python tests/benchmarks/nightly_error_table.py [--years 10] [--series 40] [--seed 0]
        [--night-noise 0.022] [--out table.json] [--replay RUN_DIR ...]

Each night goes through the nightly job's own decision (bench.analysis.verdicts.judge_night;
tests/nights_sim.py: nightly.toml's two throughput configurations, its throughput part's 3 seeds
of 29 AR(1) windows and its quality part's 3 of 79, a run level per cell, a level per
configuration and night),
with normal night levels and with heavy-tailed ones (Student's t, 3 degrees of freedom, the
same standard deviation). Per kind of night:

- false alerts a year: flat series of --years years, the nights whose verdict is `regression`,
  over the nights judged, times 365; with its exact 95% interval (Clopper-Pearson);
- steps of 5, 10, 15 and 30%: --series series each, the step at a random night from 12 to 29,
  then 30 nights; missed when no `regression` comes within those 30 nights; the delay in nights
  from the step to the first `regression` on or after it (0: found on the step's own night),
  median and 90th percentile. A `regression` before the step is a false alert, counted apart.

With --replay (real nights: run directories of `nightly-throughput.toml`, as
tests/benchmarks/nightly_false_alarms.py leaves them), a third row replays them: each night one of
the real nights drawn at random with replacement (tests/nights_sim.replayed_night), with injected
steps scaling its windows; and the real nights once in their recorded order.

The A/B rows (`nightly --ab`, `continuous`: --ab-rounds rounds a night, each night judged on its
own by bench.analysis.paired) follow: simulated rounds whose drift, drawn as a night level is,
hits both sides of the round (normal and heavy-tailed), and with --replay, rounds replayed from
real runs that ran one after the other (tests/nights_sim.replayed_round). Per kind: false alerts
a year over --years years of A/B nights, the nights it left inconclusive, and for each step the
share of --series A/B nights with the step that were not a regression (an A/B finds a step on
its own night or not at all: with `--ab last-good`, a missed night becomes the next baseline).

The quality part's false regressions, computed exactly (quality_false_alerts) for seeds that
collapse at random night to night, follow the table.

The default night noise, 2.2% a night, makes the ratio of two nights about the 3.1% measured on
real A/A nights (docs/statistics.md). Prints a Markdown table; writes the numbers to --out.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nights_sim import (  # noqa: E402
    NIGHTLY_PARTS,
    Noise,
    ab_verdicts,
    night_run,
    replayed_night,
    replayed_round,
    simulate,
    simulated_round,
)

from bench.analysis.stats import exact_interval  # noqa: E402

STEPS = (0.05, 0.10, 0.15, 0.30)
HORIZON = 30  # nights after a step within which it must be found
QUALITY_RATES = (0.1, 0.2, 0.3, 0.5)


def false_alerts(noise: Noise, years: int, seed: int, night=night_run) -> dict:
    verdicts = simulate(365 * years + 1, noise, seed=seed, night=night)
    judged = [v for v in verdicts if v["verdict"] != "first"]
    alerts = sum(v["verdict"] == "regression" for v in judged)
    low, high = exact_interval(alerts, len(judged), 0.95)
    # nights too contended to judge: marked, never a pass and never an alert
    inconclusive = sum(v["verdict"] == "inconclusive" for v in judged)
    return {"nights": len(judged), "alerts": alerts, "per_year": alerts / len(judged) * 365,
            "per_year_95": [low * 365, high * 365], "inconclusive": inconclusive}


def steps(noise: Noise, size: float, series: int, seed: int, night=night_run) -> dict:
    rng = np.random.default_rng(seed)
    delays, missed, early = [], 0, 0
    for i in range(series):
        at = int(rng.integers(12, 30))
        verdicts = simulate(at + HORIZON, noise, seed=seed * 1000 + i, step_at=at,
                            step=1 - size, night=night)
        early += sum(v["verdict"] == "regression" for v in verdicts if v["night"] < at)
        found = next((v["night"] for v in verdicts
                      if v["night"] >= at and v["verdict"] == "regression"), None)
        if found is None:
            missed += 1
        else:
            delays.append(found - at)
    return {"step": size, "series": series, "missed": missed, "missed_share": missed / series,
            "delay_median": float(np.median(delays)) if delays else None,
            "delay_p90": float(np.percentile(delays, 90)) if delays else None,
            "false_alerts_before_the_step": early, "delays": delays}


def ab_row(noise: Noise, pair, rounds: int, years: int, series: int, seed: int) -> dict:
    """An A/B kind's false alerts a year (and inconclusive nights) and its missed steps."""
    flat = ab_verdicts(365 * years, rounds, noise, seed, pair=pair)
    alerts = flat.count("regression")
    low, high = exact_interval(alerts, len(flat), 0.95)
    row = {"nights": len(flat), "alerts": alerts, "per_year": alerts / len(flat) * 365,
           "per_year_95": [low * 365, high * 365], "inconclusive": flat.count("inconclusive"),
           "steps": []}
    for k, size in enumerate(STEPS):
        found = ab_verdicts(series, rounds, noise, seed + 1 + k, step=1 - size, pair=pair)
        missed = series - found.count("regression")
        row["steps"].append({"step": size, "series": series, "missed": missed,
                             "missed_share": missed / series})
    return row


def quality_false_alerts(rate: float, seeds: int = 3, alpha: float = 0.05) -> float:
    """False quality regressions a year of the nightly quality part, where each night's seeds
    collapse at random, each with probability `rate` (training that does not repeat itself night
    after night: a GPU without determinism), exactly: over every count of collapsed seeds on
    each side, the family the nightly job judges (bench.analysis.quality: the final FID and
    classifier score tests, whose `seeds` against `seeds` cannot reach alpha, and the collapse
    test) with its verdict. On a machine where the seeds repeat themselves (nightly.toml's CPU
    float32 cells), the same code gives the same outcomes: none, by construction."""
    from math import comb

    from bench.analysis.quality import collapse_row, judge_family, metric_test

    def chance(k):
        return comb(seeds, k) * rate ** k * (1 - rate) ** (seeds - k)

    same = [1.0 + i for i in range(seeds)]  # the metric tests' values: no difference
    per_night = 0.0
    for base in range(seeds + 1):
        for cand in range(seeds + 1):
            tests = [metric_test("quality", "FID", False, same, same),
                     metric_test("quality", "classifier score", True, same, same),
                     collapse_row("quality", (base, seeds), (cand, seeds))]
            if any(t["verdict"] == "regression" for t in judge_family(tests, alpha)):
                per_night += chance(base) * chance(cand)
    return per_night * 365


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--series", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--night-noise", type=float, default=0.022)
    parser.add_argument("--out", default=None)
    parser.add_argument("--replay", nargs="*", default=[], help="run directories of real nights")
    parser.add_argument("--only-replay", action="store_true", help="skip the simulated rows")
    parser.add_argument("--ab-rounds", type=int, default=6, help="rounds of an A/B night")
    parser.add_argument("--only-ab", action="store_true",
                        help="only the A/B rows (simulated, and replayed with --replay)")
    args = parser.parse_args(argv)
    t0 = time.time()
    kinds = {} if args.only_replay or args.only_ab else {
        "normal nights": (Noise(night_noise=args.night_noise, parts=NIGHTLY_PARTS), night_run),
        "heavy-tailed nights (t, 3 df)": (Noise(night_noise=args.night_noise, tails_df=3,
                                                parts=NIGHTLY_PARTS), night_run)}
    ab_kinds = {} if args.only_replay else {
        "A/B, simulated drift": (Noise(night_noise=args.night_noise), simulated_round),
        "A/B, heavy-tailed drift (t, 3 df)": (Noise(night_noise=args.night_noise, tails_df=3),
                                              simulated_round)}
    recorded = None
    if args.replay:
        from bench.analysis.runs import run_dir_to_run

        real = [run_dir_to_run(Path(d)) for d in sorted(args.replay)]
        if not args.only_ab:
            kinds[f"replayed real nights ({len(real)})"] = (Noise(), replayed_night(real))
        ab_kinds[f"A/B, rounds replayed from real runs ({len(real)})"] = (Noise(),
                                                                        replayed_round(real))
        # the real nights once, in the order they ran: night i is real[i]
        in_order = simulate(len(real), Noise(), night=lambda rng, i, noise, s=1.0: real[i])
        recorded = {"nights": len(real) - 1,
                    "alerts": sum(v["verdict"] == "regression" for v in in_order),
                    "verdicts": [v["verdict"] for v in in_order]}
        # and as one A/B in the order they ran: runs 0 and 1 the first round, 2 and 3 the
        # second, ... (ABBA: the baseline first in even rounds)
        from bench.analysis.paired import paired_verdicts

        rounds = [(real[k], real[k + 1]) if (k // 2) % 2 == 0 else (real[k + 1], real[k])
                  for k in range(0, len(real) - 1, 2)]
        recorded["ab_in_order"] = {c: {k: v[k] for k in ("verdict", "ratio", "ci_low",
                                                          "ci_high", "pairs", "rounds")}
                                   for c, v in paired_verdicts(rounds).items()}
        print(f"recorded order: {recorded}", file=sys.stderr, flush=True)
    table = {}
    for name, (noise, night) in kinds.items():
        row = {"false_alerts": false_alerts(noise, args.years, args.seed, night)}
        row["steps"] = [steps(noise, size, args.series, args.seed + 1 + k, night)
                        for k, size in enumerate(STEPS)]
        table[name] = row
        print(f"{name}: done after {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    print("| nights | false alerts a year [95%] | inconclusive | " + " | ".join(
        f"{int(s * 100)}% step: missed, delay median / p90" for s in STEPS) + " |")
    print("|---|---|---|" + "---|" * len(STEPS))
    for name, row in table.items():
        fa = row["false_alerts"]
        cells = [f"{fa['per_year']:.2f} [{fa['per_year_95'][0]:.2f}, {fa['per_year_95'][1]:.2f}] "
                 f"({fa['alerts']} in {fa['nights']})",
                 f"{fa['inconclusive']} ({fa['inconclusive'] / fa['nights']:.1%})"]
        for st in row["steps"]:
            delay = "-" if st["delay_median"] is None else \
                f"{st['delay_median']:g} / {st['delay_p90']:g}"
            cells.append(f"{st['missed']}/{st['series']} ({st['missed_share']:.0%}), {delay}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    ab_table = {}
    for name, (noise, pair) in ab_kinds.items():
        ab_table[name] = ab_row(noise, pair, args.ab_rounds, args.years, args.series, args.seed)
        print(f"{name}: done after {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    if ab_table:
        print(f"\n| A/B nights, {args.ab_rounds} rounds | false alerts a year [95%] | "
              "inconclusive | " + " | ".join(f"{int(s * 100)}% step: missed" for s in STEPS)
              + " |")
        print("|---|---|---|" + "---|" * len(STEPS))
    for name, row in ab_table.items():
        cells = [f"{row['per_year']:.2f} [{row['per_year_95'][0]:.2f}, "
                 f"{row['per_year_95'][1]:.2f}] ({row['alerts']} in {row['nights']})",
                 f"{row['inconclusive']} ({row['inconclusive'] / row['nights']:.1%})"]
        cells += [f"{st['missed']}/{st['series']} ({st['missed_share']:.0%})"
                  for st in row["steps"]]
        print(f"| {name} | " + " | ".join(cells) + " |")
    quality = {rate: quality_false_alerts(rate) for rate in QUALITY_RATES}
    print("\nquality part, seeds that do not repeat night to night, false regressions a year: "
          + ", ".join(f"collapse rate {r:.0%}: {q:.2f}" for r, q in quality.items())
          + "; seeds that repeat (CPU float32): 0")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "table": table,
                                              "ab_table": ab_table,
                                              "quality_false_alerts": quality,
                                              "recorded_order": recorded,
                                              "seconds": time.time() - t0}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
