"""Measure the nightly comparison on real runs: its false-alarm rate and its detection rate.

    python tests/benchmarks/nightly_false_alarms.py --out /tmp/nightly-measure [--pairs 10]
        [--slow-trials 5] [--slow 20] [--spec runs/grids/nightly-throughput.toml]

Runs the spec back to back as a nightly job would, each night ingested and judged with
`last-good` (pairwise, change points, open regressions): normal nights N00..N<pairs>, and after
each of the first `slow-trials` normal nights one night with the test-only fault `slow=<slow>`
(every log window sleeps that percent of its time; bench/cell/faults.py). Order: N00 N01 S01 N02
S02 ... so each slowed night is judged against the normal night just before it, and the normal
night after it finds the regression fixed.

A false alarm: a normal night whose verdict is `regression` (a new one). A detection: a slowed
night flagged `regression`. The night noise: the standard deviation of log(night / night
before) over consecutive normal nights, per configuration (the number NIGHT_NOISE in
bench/analysis/throughput.py holds). Prints one line a night and the counts; writes
measure.json. Run it on an idle machine: anything else running slows some windows and is
measured as such. Runs already finished in --out are kept (the script can be restarted).
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bench.analysis import history, nights
from bench.analysis.runs import run_id_of
from bench.cli import main as bench_main


def night_names(pairs: int, slow_trials: int) -> list[str]:
    names = ["N00"]
    for i in range(1, pairs + 1):
        names.append(f"N{i:02d}")
        if i <= slow_trials:
            names.append(f"S{i:02d}")
    return names


def run_night(spec: str, run_dir: Path, slow: int | None):
    if (run_dir / "results.csv").is_file():
        return
    env = dict(os.environ)
    env.pop("DCGAN_BENCH_FAULT", None)
    if slow:
        env["DCGAN_BENCH_FAULT"] = f"slow={slow}"
    log = run_dir.parent.parent / "logs" / f"{run_dir.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        subprocess.run([sys.executable, "-m", "bench", "grid", spec, "--out", str(run_dir)],
                       stdout=f, stderr=subprocess.STDOUT, env=env, check=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--spec", default="runs/grids/nightly-throughput.toml")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--slow-trials", type=int, default=5)
    parser.add_argument("--slow", type=int, default=20)
    args = parser.parse_args(argv)
    db = args.out / "history.sqlite"
    measured = []
    for name in night_names(args.pairs, args.slow_trials):
        run_dir = args.out / "nightly" / name
        run_night(args.spec, run_dir, args.slow if name.startswith("S") else None)
        history.ingest(run_dir, db)
        compare_dir = args.out / "compare" / name
        with open(args.out / "logs" / f"{name}.compare.txt", "w") as f, \
                contextlib.redirect_stdout(f):
            code = bench_main(["compare", "last-good", str(run_dir), "--db", str(db),
                               "--out", str(compare_dir)])
        result_path = compare_dir / "comparison.json"
        result = json.loads(result_path.read_text()) if result_path.is_file() else None
        night = {"night": name, "slowed": name.startswith("S"), "exit": code,
                 "verdict": result["verdict"] if result else "first night",
                 "baseline": result["baseline"] if result else None,
                 # None: a configuration too contended to judge (inconclusive)
                 "ratios": [t["ratio"] and round(t["ratio"], 4) for t in result["throughput"]]
                 if result else [],
                 "thresholds": [t["threshold"] and round(t["threshold"], 4)
                                for t in result["throughput"]] if result else [],
                 "states": {c: s["state"] for c, s in result.get("nights", {}).items()}
                 if result else {},
                 "level": nights.night_throughput(history.run_results(run_id_of(run_dir), db))}
        measured.append(night)
        print(f"== {name}: {night['verdict']} against {night['baseline']}; ratio "
              f"{night['ratios']}, threshold {night['thresholds']}, states {night['states']}",
              flush=True)
    normal = [n for n in measured if not n["slowed"] and n["baseline"]]
    slowed = [n for n in measured if n["slowed"]]
    false_alarms = [n["night"] for n in normal if n["verdict"] == "regression"]
    caught = [n["night"] for n in slowed if n["verdict"] == "regression"]
    plain = [n for n in measured if not n["slowed"]]
    noise = {config: float(np.std(np.diff(np.log([n["level"][config] for n in plain])), ddof=1))
             for config in plain[0]["level"]}
    summary = {"spec": args.spec, "slow_percent": args.slow, "nights": measured,
               "normal_comparisons": len(normal), "false_alarms": false_alarms,
               "slowed_nights": len(slowed), "caught": caught, "night_noise": noise}
    (args.out / "measure.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"false alarms: {len(false_alarms)} of {len(normal)} normal nights {false_alarms}")
    print(f"slowdowns caught: {len(caught)} of {len(slowed)} slowed nights")
    print(f"night noise (sd of log ratio of consecutive normal nights): {noise}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
