"""`dcgan-bench grid SPEC`: every cell of a grid spec, each in its own process."""


def add(sub):
    p = sub.add_parser("grid", help="run a grid spec: one process per cell")
    p.add_argument("spec", help="a grid spec, e.g. runs/grids/cpu.toml")
    p.add_argument("--out", default=None,
                   help="run directory (default runs/<spec file stem>/<date-time>, with "
                        "runs/<spec file stem>/latest pointing at it)")
    p.add_argument("--resume", action="store_true", help="keep ok cells, rerun the rest")
    p.add_argument("--require-gpu", action="store_true",
                   help="exit 2 before training anything when TensorFlow sees no GPU")


def run(args) -> int:
    from bench.errors import BenchError
    from bench.grid.run import default_run_dir, point_latest, run_grid
    from bench.grid.spec import load_spec

    spec = load_spec(args.spec)
    if args.out:
        return run_grid(spec, args.out, resume=args.resume, require_gpu=args.require_gpu)
    if args.resume:
        raise BenchError("--resume needs --out: the run directory to finish")
    out = default_run_dir(args.spec)
    code = run_grid(spec, out, require_gpu=args.require_gpu)
    if out.exists():
        point_latest(out)
    print(f"run directory: {out}")
    return code
