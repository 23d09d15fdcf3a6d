"""`dcgan-bench grid SPEC`: every cell of a grid spec, each in its own process."""


def add(sub):
    from bench.grid.launchers import LAUNCHERS

    p = sub.add_parser("grid", help="run a grid spec: one process per cell")
    p.add_argument("spec", help="a grid spec, e.g. runs/grids/cpu.toml")
    p.add_argument("--out", default=None,
                   help="run directory (default runs/<spec file stem>/<date-time>, with "
                        "runs/<spec file stem>/latest pointing at it)")
    p.add_argument("--resume", action="store_true", help="keep ok cells, rerun the rest")
    p.add_argument("--parts", default=None, metavar="NAME[,NAME]",
                   help="run only these parts of the spec (e.g. --parts throughput)")
    p.add_argument("--require-gpu", action="store_true",
                   help="exit 2 before training anything when no GPU is visible (to TensorFlow, "
                        "or to JAX where TensorFlow is absent)")
    p.add_argument("--launcher", choices=LAUNCHERS, default="local",
                   help="local: one process per cell on this machine (default); ray: each cell a "
                        "task on a Ray cluster (pip install 'dcgan-bench[ray]')")
    p.add_argument("--address", default=None,
                   help="--launcher ray: the cluster (e.g. 10.0.0.5:6379; default: a local Ray "
                        "instance, or RAY_ADDRESS)")
    p.add_argument("--retries", type=int, default=None,
                   help="--launcher ray: times a cell lost with its worker or node is submitted "
                        "again (default 2)")


def run(args) -> int:
    from bench.grid.launchers import make_launcher
    from bench.grid.run import run_grid
    from bench.grid.spec import load_spec

    spec = load_spec(args.spec)
    if args.parts:
        spec = spec.select_parts([n.strip() for n in args.parts.split(",") if n.strip()])
    launcher = make_launcher(args.launcher, address=args.address, retries=args.retries)
    grid = run_grid(spec, args.out, resume=args.resume, require_gpu=args.require_gpu,
                    launcher=launcher)
    if args.out is None:
        print(f"run directory: {grid.run_dir}")
    return grid.exit_code
