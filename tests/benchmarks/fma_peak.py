"""The CPU's float32 peak as measured and as bench.peak computes it, and the main job's floor:

    python tests/benchmarks/fma_peak.py [--n 2048] [--repeats 10] [--images 512000]

Measured: the best of `--repeats` float32 matrix products of n x n (NumPy's BLAS on every core
this process may use; 2 n^3 FLOPs each), the rate a dense kernel reaches when nothing but
multiply-adds is asked of it. Computed: bench.peak.cpu_peak from /proc/cpuinfo (usable cores x
clock x FLOPs a cycle of the vector width and FMA pipes). The floor: the quality cell's
`--images` training images (8,000 steps at batch 64) at the tutorial's analytic FLOPs an image,
on the full and the unpadded count, at the measured rate: no implementation of this step on this
CPU can train them faster.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from bench.cell.flops import train_step_flops_per_image  # noqa: E402
from bench.machine import host_machine  # noqa: E402
from bench.peak import cpu_peak  # noqa: E402


def measured_gemm_flops(n: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    a @ b  # the BLAS threads start
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--images", type=int, default=512_000)
    args = p.parse_args(argv)
    machine = host_machine()
    computed = cpu_peak("float32", machine)
    measured = measured_gemm_flops(args.n, args.repeats)
    full, unpadded = train_step_flops_per_image(), train_step_flops_per_image(unpadded=True)
    result = {
        "cpu": machine["cpu"]["model_name"], "flags": machine["cpu"]["flags"],
        "usable_cores": machine["usable_cores"], "measured_gemm_flops_per_sec": measured,
        "computed_peak_flops_per_sec": computed["flops_per_sec"],
        "computed_peak_source": computed["source"],
        "measured_over_computed": measured / computed["flops_per_sec"]
        if computed["flops_per_sec"] else None,
        "quality_cell_images": args.images,
        "floor_seconds_full_count": args.images * full / measured,
        "floor_seconds_unpadded": args.images * unpadded / measured,
        "images_per_sec_at_measured_peak": measured / full,
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
