"""One grid cell in its own process: `python -m bench.grid.worker CELL_DIR CONFIG_JSON`, or
seeds packed in one program: `python -m bench.grid.worker --packed CELL_DIR CONFIG_JSON ...`.

TensorFlow's device placement, XLA and determinism settings are process-wide, and an
out-of-memory error or a crash must not take the grid down: each cell gets a fresh interpreter.
The parent passes its launch time in DCGAN_BENCH_LAUNCHED_AT so that the cost of starting the
process (interpreter, TensorFlow import) is recorded as `process_start_seconds`.
"""

import json
import os
import sys
import time

LAUNCHED_ENV = "DCGAN_BENCH_LAUNCHED_AT"


def main(argv=None) -> int:
    argv = argv or sys.argv[1:]
    if argv[0] == "--packed":  # CELL_DIR CONFIG_JSON pairs: seeds trained in one program
        os.environ["KERAS_BACKEND"] = "jax"
        import jax  # noqa: F401

        from bench.cell.jax_packed import main_packed

        return main_packed(argv[1:])
    cell_dir, config_json = argv[:2]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # said first in the cell's log: which GPUs this process was given
    print(f"cell process {os.getpid()}: CUDA_VISIBLE_DEVICES="
          f"{os.environ.get('CUDA_VISIBLE_DEVICES', '(not set)')}", file=sys.stderr, flush=True)
    config = json.loads(config_json)
    # the framework first, so that its import is part of the start measurement, and Keras picks
    # the backend the cell asks for
    if config.get("backend", "tensorflow") == "jax":
        os.environ["KERAS_BACKEND"] = "jax"
        import jax  # noqa: F401
    else:
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import tensorflow  # noqa: F401

    from bench import schema
    from bench.cell.train import run_cell
    from bench.config import CellConfig
    from bench.errors import EXIT_BAD_INPUT, BenchError

    launched = float(os.environ.get(LAUNCHED_ENV, "nan"))
    extra = {"process_start_seconds": time.time() - launched}
    try:
        summary = run_cell(CellConfig(**config), cell_dir, overwrite=True, extra_summary=extra)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0 if summary["status"] == schema.STATUS_OK else 1


if __name__ == "__main__":
    sys.exit(main())
