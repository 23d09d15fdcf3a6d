"""`dcgan-bench history ingest RUN_DIR | list`: the SQLite run history (no TensorFlow)."""


def add(sub):
    p = sub.add_parser("history", help="the run history (SQLite): ingest finished runs, list them")
    verbs = p.add_subparsers(dest="verb", required=True)
    i = verbs.add_parser("ingest", help="put a finished grid run into the history (idempotent)")
    i.add_argument("run", help="a grid run directory, e.g. runs/nightly/latest")
    i.add_argument("--db", default=None, help="default $BENCH_HISTORY or runs/history.sqlite")
    ls = verbs.add_parser("list", help="the runs in the history, oldest first")
    ls.add_argument("--db", default=None)


def run(args) -> int:
    from bench.analysis import history

    if args.verb == "ingest":
        run_id, new = history.ingest(args.run, args.db)
        print(f"{'ingested' if new else 'already in the history, unchanged'}: {run_id}")
        return 0
    for row in history.list_runs(args.db):
        print(f"{row['id']}\t{row['started']}\t{row['spec_name']}\t{row['cells']} cells\t"
              f"{row['harness_commit']}")
    return 0
