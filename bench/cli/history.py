"""`dcgan-bench history ingest RUN_DIR | list | show ID | accept ID`: the SQLite run history (no
TensorFlow)."""

import getpass

from bench.literal import printable

SHOW_COLUMNS = {"cell_id": "cell", "status": "status", "images_per_sec_median": "images/s",
                "compile_seconds": "compile s", "final_n": "final n", "final_fid": "FID",
                "final_classifier_score": "score", "final_outcome": "outcome"}


def add(sub):
    p = sub.add_parser("history", help="the run history (SQLite): ingest finished runs, list, show")
    verbs = p.add_subparsers(dest="verb", required=True)
    i = verbs.add_parser("ingest", help="put a finished grid run into the history (idempotent)")
    i.add_argument("run", help="a grid run directory, e.g. runs/nightly/latest")
    i.add_argument("--db", default=None, help="default $BENCH_HISTORY or runs/history.sqlite")
    ls = verbs.add_parser("list", help="the runs in the history, oldest first, with verdicts")
    ls.add_argument("--db", default=None, help="default $BENCH_HISTORY or runs/history.sqlite")
    show = verbs.add_parser("show", help="one run: where it came from, its verdict, its cells")
    show.add_argument("id", help="a run id, as `history list` prints it")
    show.add_argument("--db", default=None, help="default $BENCH_HISTORY or runs/history.sqlite")
    acc = verbs.add_parser("accept", help="make a run the new baseline of its spec and machine: "
                                          "its level is the reference from now on, and the "
                                          "regressions open before it are closed")
    acc.add_argument("id", help="a run id, as `history list` prints it")
    acc.add_argument("--why", required=True, help="why this run is the new baseline (recorded)")
    acc.add_argument("--by", default=None, help="who accepts it (default: the user name)")
    acc.add_argument("--db", default=None, help="default $BENCH_HISTORY or runs/history.sqlite")


def run(args) -> int:
    from bench.analysis import history

    if args.verb == "ingest":
        run_id, new = history.ingest(args.run, args.db)
        print(f"{'ingested' if new else 'already in the history, unchanged'}: {run_id}")
        return 0
    if args.verb == "show":
        return _show(history, args)
    if args.verb == "accept":
        run = history.accept(args.id, args.by or getpass.getuser(), args.why, args.db)
        print(printable(f"accepted: {run['id']} is the baseline of {run['spec_name']!r} on its "
                        f"machine from now on ({run['accepted_by']}, {run['accepted_at']}: "
                        f"{run['accepted_why']})"))
        return 0
    for row in history.list_runs(args.db):
        accepted = f"\taccepted by {row['accepted_by']}" if row["accepted_at"] else ""
        print(printable(f"{row['id']}\t{row['started']}\t{row['spec_name']}\t{row['cells']} "
                        f"cells\t{row['harness_commit']}\t{row['verdict'] or 'not compared'}"
                        f"{accepted}"))
    return 0


def _show(history, args) -> int:
    import pandas as pd

    from bench.schema import FRAMEWORK_VERSION

    info = history.run_info(args.id, args.db)
    for key in ("id", "spec_name", "spec_sha256", "started", "harness_commit", "harness_dirty",
                FRAMEWORK_VERSION, "device_model", "host", "path"):
        print(printable(f"{key}: {info[key]}"))
    print(f"verdict: {info['verdict'] or 'not compared'}"
          + (f" (against {info['baseline_id']})" if info["baseline_id"] else ""))
    cells = history.run_results(args.id, args.db)
    shown = cells[[c for c in SHOW_COLUMNS if c in cells]].rename(columns=SHOW_COLUMNS)
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(printable(shown.to_string(index=False, na_rep="")))
    return 0
