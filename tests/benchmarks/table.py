"""Harness against bare loop, from a pytest-benchmark JSON file; exit 1 below the bar.

    python tests/benchmarks/table.py reports/benchmark.json [--min-ratio 0.97]

images/sec = images per round / median round time. The bar (issue 10): the harness reaches at
least 97% of the bare loop's images/sec at every batch size and XLA setting.
"""

import argparse
import json
import sys


def rows_from_benchmark_json(doc: dict) -> list[dict]:
    by_case = {}
    for b in doc["benchmarks"]:
        info = b["extra_info"]
        if info.get("impl") not in ("bare", "harness"):
            continue
        key = (info["batch_size"], info["xla"])
        by_case.setdefault(key, {})[info["impl"]] = info["images_per_round"] / b["stats"]["median"]
    rows = []
    for (bs, xla), impls in sorted(by_case.items()):
        if {"bare", "harness"} <= set(impls):
            rows.append({"batch_size": bs, "xla": "on" if xla else "off", "bare": impls["bare"],
                         "harness": impls["harness"], "ratio": impls["harness"] / impls["bare"]})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("json_file")
    parser.add_argument("--min-ratio", type=float, default=0.97)
    args = parser.parse_args(argv)
    with open(args.json_file) as f:
        doc = json.load(f)
    rows = rows_from_benchmark_json(doc)
    print("| batch | XLA | bare loop images/s | harness images/s | harness/bare |")
    print("|---:|:---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['batch_size']} | {r['xla']} | {r['bare']:,.0f} | {r['harness']:,.0f} "
              f"| {r['ratio']:.3f} |")
    for b in doc["benchmarks"]:
        if b["extra_info"].get("impl") not in ("bare", "harness"):
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
