"""`dcgan-bench report RUNS... --out DIR`: the HTML + Markdown report (no TensorFlow)."""


def add(sub):
    p = sub.add_parser("report", help="render an HTML + Markdown report of run directories")
    p.add_argument("runs", nargs="+", help="run or cell directories")
    p.add_argument("--out", required=True, help="report directory, e.g. reports/NAME")
    p.add_argument("--claims", default=None,
                   help="a claims file (runs/claims/*.toml): adds a Claims section")


def run(args) -> int:
    from bench.report.render import render_report

    index = render_report(args.runs, args.out, claims_file=args.claims)
    print(f"report: {index}")
    return 0
