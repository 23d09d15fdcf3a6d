"""`dcgan-bench history ingest RUN_DIR | list | show ID | accept ID`: the SQLite run history (no
TensorFlow)."""

import getpass

from bench.cli.options import add_table_formats, table_text
from bench.literal import printable

LIST_COLUMNS = {"id": "id", "started": "started", "spec_name": "spec", "cells": "cells",
                "harness_commit": "commit", "verdict": "verdict", "accepted_by": "accepted by"}
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
    add_table_formats(ls)
    show = verbs.add_parser("show", help="one run: where it came from, its verdict, its cells")
    show.add_argument("id", help="a run id, as `history list` prints it")
    show.add_argument("--db", default=None, help="default $BENCH_HISTORY or runs/history.sqlite")
    add_table_formats(show)
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
    return _list(history, args)


def _list(history, args) -> int:
    import pandas as pd

    runs = pd.DataFrame(history.list_runs(args.db), columns=list(LIST_COLUMNS))
    runs["verdict"] = runs["verdict"].fillna("not compared")
    if args.csv or args.json:
        print(table_text(runs, args))
    elif runs.empty:
        print("the history holds no runs yet (dcgan-bench history ingest RUN_DIR)")
    else:
        print(table_text(runs.rename(columns=LIST_COLUMNS), args))
    return 0


def _show(history, args) -> int:
    import json

    from bench import records
    from bench.schema import FRAMEWORK_VERSION

    info = history.run_info(args.id, args.db)
    cells = history.run_results(args.id, args.db)
    if args.csv:
        print(table_text(cells, args))
        return 0
    if args.json:  # the run and its cells, every column
        print(json.dumps(records.jsonable({"run": info, "cells": cells.to_dict(orient="records")}),
                         indent=2, default=str))
        return 0
    for key in ("id", "spec_name", "spec_sha256", "started", "harness_commit", "harness_dirty",
                FRAMEWORK_VERSION, "device_model", "host", "path"):
        print(printable(f"{key}: {info[key]}"))
    print(f"verdict: {info['verdict'] or 'not compared'}"
          + (f" (against {info['baseline_id']})" if info["baseline_id"] else ""))
    print()
    shown = cells if args.wide else \
        cells[[c for c in SHOW_COLUMNS if c in cells]].rename(columns=SHOW_COLUMNS)
    print(table_text(shown, args))
    return 0
