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
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local: one process per cell on this machine (default); ray: each cell a "
                        "task on a Ray cluster (pip install 'dcgan-bench[ray]')")
    p.add_argument("--address", default=None,
                   help="--executor ray: the cluster (e.g. 10.0.0.5:6379; default: a local Ray "
                        "instance, or RAY_ADDRESS)")
    p.add_argument("--retries", type=int, default=None,
                   help="--executor ray: times a cell lost with its worker or node is submitted "
                        "again (default 2)")


def run(args) -> int:
    from bench.errors import BenchError
    from bench.grid.run import default_run_dir, point_latest, run_grid
    from bench.grid.spec import load_spec

    spec = load_spec(args.spec)
    if args.executor == "local" and (args.address or args.retries is not None):
        raise BenchError("--address and --retries are for --executor ray")
    if args.retries is not None and args.retries < 0:
        raise BenchError(f"--retries: expected 0 or more, found {args.retries}")
    if args.resume and not args.out:
        raise BenchError("--resume needs --out: the run directory to finish")
    backend = None
    if args.executor == "ray":
        from bench.grid.ray_backend import DEFAULT_RETRIES, RayCells

        backend = RayCells(args.address, DEFAULT_RETRIES if args.retries is None else args.retries)
    if args.out:
        return run_grid(spec, args.out, resume=args.resume, require_gpu=args.require_gpu,
                        backend=backend)
    out = default_run_dir(args.spec)
    code = run_grid(spec, out, require_gpu=args.require_gpu, backend=backend)
    if out.exists():
        point_latest(out)
    print(f"run directory: {out}")
    return code
