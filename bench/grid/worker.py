"""The cell process: `python -m bench.grid.worker CELL_DIR CONFIG_JSON [CELL_DIR CONFIG_JSON ...]`:
one cell, or K seeds of one configuration packed in one program (bench.cell.train.run_cells).

A framework's device placement, XLA and determinism settings are process-wide, and an
out-of-memory error or a crash must not take the grid down: each cell (or packed group) gets a
fresh interpreter. The parent passes its launch time in DCGAN_BENCH_LAUNCHED_AT so that the cost
of starting the process (interpreter, framework import) is recorded as `process_start_seconds`.
"""

import json
import os
import sys
import time

LAUNCHED_ENV = "DCGAN_BENCH_LAUNCHED_AT"


def main(argv=None) -> int:
    argv = argv or sys.argv[1:]
    pairs = list(zip(argv[0::2], argv[1::2]))
    # said first in the cell's log: which GPUs this process was given
    print(f"cell process {os.getpid()}: CUDA_VISIBLE_DEVICES="
          f"{os.environ.get('CUDA_VISIBLE_DEVICES', '(not set)')}", file=sys.stderr, flush=True)
    configs = [json.loads(c) for _, c in pairs]
    from bench.frameworks import REFERENCE
    from bench.imports import start_framework

    # the framework first, so that its import is part of the start measurement, and Keras picks
    # the backend the cells ask for
    start_framework(configs[0].get("framework", REFERENCE))
    from bench import schema
    from bench.cell.train import run_cells
    from bench.config import CellConfig
    from bench.errors import EXIT_BAD_INPUT, BenchError

    launched = float(os.environ.get(LAUNCHED_ENV, "nan"))
    extra = {"process_start_seconds": time.time() - launched}
    try:
        summaries = run_cells([CellConfig(**c) for c in configs], [d for d, _ in pairs],
                              extra_summary=extra)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0 if all(s["status"] == schema.STATUS_OK for s in summaries) else 1


if __name__ == "__main__":
    sys.exit(main())
