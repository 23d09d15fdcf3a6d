"""Harness against bare loop, from a pytest-benchmark JSON file; exit 1 below the bar.

    python tests/benchmarks/table.py reports/benchmark.json [--min-ratio 0.97]

images/sec = images per round / median round time. Three lines per batch size and XLA setting
(see test_step_vs_bare.py, whose rounds interleave them): the tutorial's loop on the tutorial's
pipeline, the same loop on the harness's pipeline ("bare"), and the harness. The bar compares
like with like: harness / bare (same pipeline) at least 0.97 everywhere. The tutorial line shows
what the pipeline alone is worth; it is not part of the bar.
"""

import argparse
import json
import sys


def rows_from_benchmark_json(doc: dict) -> list[dict]:
    rows = []
    for b in doc["benchmarks"]:
        info = b["extra_info"]
        if info.get("impl") != "harness":
            continue
        bare = info["images_per_round"] / info["bare_median_seconds"]
        tutorial = info["images_per_round"] / info["tutorial_median_seconds"]
        harness = info["images_per_round"] / b["stats"]["median"]
        rows.append({"batch_size": info["batch_size"], "xla": "on" if info["xla"] else "off",
                     "tutorial": tutorial, "bare": bare, "harness": harness,
                     "ratio": harness / bare})
    return sorted(rows, key=lambda r: (r["batch_size"], r["xla"]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("json_file")
    parser.add_argument("--min-ratio", type=float, default=0.97)
    args = parser.parse_args(argv)
    with open(args.json_file) as f:
        doc = json.load(f)
    rows = rows_from_benchmark_json(doc)
    print("| batch | XLA | tutorial loop, tutorial pipeline | bare loop, harness pipeline "
          "| harness | harness / bare (the bar) |")
    print("|---:|:---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['batch_size']} | {r['xla']} | {r['tutorial']:,.0f} | {r['bare']:,.0f} "
              f"| {r['harness']:,.0f} | {r['ratio']:.3f} |")
    print("images/s, median round; the bar compares the harness with the bare loop on the same "
          "(harness) pipeline")
    for b in doc["benchmarks"]:
        if b["extra_info"].get("impl") != "harness":
            s = b["stats"]
            print(f"{b['name']}: median {s['median']:.2f} s, min {s['min']:.2f} s, "
                  f"max {s['max']:.2f} s over {s['rounds']} rounds {b['extra_info']}")
    low = [r for r in rows if r["ratio"] < args.min_ratio]
    if low or not rows:
        print(f"FAIL: harness below {args.min_ratio:.0%} of the bare loop in {len(low)} case(s)"
              if rows else "FAIL: no benchmark pairs found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
