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
from bench.cell import gpuinfo

# Environment variables that can change TensorFlow's numbers or speed. An allow-list: a bare
# "TF_" prefix would also record Terraform's TF_CLI_*/TF_VAR_* settings.
NUMBER_CHANGING_ENV = ("TF_CPP_", "TF_XLA_", "TF_ENABLE_", "TF_GPU_", "TF_FORCE_", "TF_CUDNN_",
                       "TF_DETERMINISTIC", "TF_NUM_", "TF_USE_", "TF_INTRA_", "TF_INTER_",
                       "XLA_", "CUDA_VISIBLE", "NVIDIA_", "OMP_", "DCGAN_BENCH_")


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


def device_model(tf_device: str) -> str:
    import tensorflow as tf

    if tf_device.startswith("/GPU"):
        index = int(tf_device.rsplit(":", 1)[1])
        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[index])
        return details.get("device_name", "unknown GPU")
    return host_cpu_model()


def cell_machine(tf_device: str) -> dict:
    """This host as bench.machine records it, with TensorFlow's thread pools and oneDNN state,
    the GPU (when the cell runs on one) in the fingerprint."""
    import tensorflow as tf

    record = machine_info.host_machine()
    record["threads"] = {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                         "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                         "note": "0: TensorFlow's default, one thread per usable core"}
    record["onednn"] = {"enabled": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0",
                        "max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA")}
    if tf_device.startswith("/GPU"):  # a GPU cell's speed is its GPU's: in the fingerprint
        gpu = gpuinfo.gpu_record(tf_device)
        record["gpu"] = {"name": gpu["name"], "compute_capability": gpu["compute_capability"],
                         "mig": gpu["mig"]}
    return machine_info.with_fingerprint(record)


def environment(tf_device: str, precision: str = "float32", tf32: bool | None = None) -> dict:
    import keras
    import numpy
    import scipy
    import tensorflow as tf

    build = dict(tf.sysconfig.get_build_info())
    machine = cell_machine(tf_device)
    device = "cpu" if tf_device.startswith("/CPU") else "gpu"
    return {
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "cuda_build": build.get("cuda_version"),
        "cudnn_build": build.get("cudnn_version"),
        "is_cuda_build": build.get("is_cuda_build"),
        "device": tf_device,
        "device_model": device_model(tf_device),
        "gpus_visible": len(tf.config.list_physical_devices("GPU")),
        "host_cpu": host_cpu_model(),
        "cpu_count": os.cpu_count(),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "harness_version": bench.__version__,
        "harness": harness_commit(),
        "env_vars": {k: v for k, v in os.environ.items() if k.startswith(NUMBER_CHANGING_ENV)},
        "machine": machine,
        "precision": {"name": precision, **machine_info.precision_support(precision, device,
                                                                          machine)},
        "gpu": gpuinfo.gpu_record(tf_device),
        "tf32": gpuinfo.tf32_record(tf_device, tf32),
    }
