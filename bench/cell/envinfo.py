"""The environment a number was measured in: library builds, device model, host, harness commit,
and the machine (bench.machine: CPU identity, instruction sets, usable cores, fingerprint).

A throughput or FID that moved with a library upgrade or a different machine must be traceable to
it, so env.json records every version and every machine property that can change the numbers, and
whether the cell's precision ran natively or emulated on its device.
"""

import os
import platform
import subprocess
import sys
from pathlib import Path

import bench
from bench import machine as machine_info
from bench import schema
from bench.peak import device_peak

# Environment variables that can change a framework's numbers or speed. An allow-list: a bare
# "TF_" prefix would also record Terraform's TF_CLI_*/TF_VAR_* settings.
NUMBER_CHANGING_ENV = ("TF_CPP_", "TF_XLA_", "TF_ENABLE_", "TF_GPU_", "TF_FORCE_", "TF_CUDNN_",
                       "TF_DETERMINISTIC", "TF_NUM_", "TF_USE_", "TF_INTRA_", "TF_INTER_",
                       "XLA_", "JAX_", "KERAS_", "ONEDNN_", "CUDA_VISIBLE", "NVIDIA_", "OMP_",
                       "DCGAN_BENCH_")


def harness_commit() -> dict:
    """The git commit of the harness source tree, and whether it had uncommitted changes."""
    root = Path(bench.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "bench"],
                                    capture_output=True, text=True, timeout=10).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": os.environ.get("DCGAN_BENCH_COMMIT", "unknown"), "dirty": None}


def host_cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(fw, device, cfg) -> dict:
    """env.json of a cell on `device` under runtime `fw` (bench.cell.runtime), the one builder
    for every framework: the framework describes its versions, device model and GPU; the host,
    harness, machine fingerprint and precision support are said the same way for all."""
    import numpy
    import scipy

    facts = fw.describe(device, cfg)
    machine = machine_info.with_fingerprint({**machine_info.host_machine(), **facts["machine"]})
    kind = "cpu" if facts["gpu"] is None or facts["gpu"].get("name") is None else "gpu"
    return {
        schema.FRAMEWORK: fw.name,
        schema.FRAMEWORK_VERSION: facts["versions"][fw.facts.package],
        "python": sys.version.split()[0],
        **facts["versions"],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "device": device.description,
        "device_model": facts["device_model"],
        "gpus_visible": facts["gpus_visible"],
        "host_cpu": host_cpu_model(),
        "cpu_count": os.cpu_count(),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "harness_version": bench.__version__,
        "harness": harness_commit(),
        "env_vars": {k: v for k, v in os.environ.items() if k.startswith(NUMBER_CHANGING_ENV)},
        "machine": machine,
        "precision": {"name": cfg.precision,
                      **machine_info.precision_support(cfg.precision, kind, machine)},
        "gpu": facts["gpu"],
        "tf32": facts["tf32"],
        "peak": device_peak(kind, cfg.precision, machine=machine, gpu=facts["gpu"],
                            tf32=facts["tf32"]),
    }
