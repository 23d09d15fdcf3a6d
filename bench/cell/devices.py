"""Resolving a device string (cpu, gpu, gpu:N) to a TensorFlow device, before anything is written.

A device that is asked for and absent is a `BenchError` (exit code 2): a benchmark that quietly ran
on the CPU when a GPU was asked for would report the wrong machine.
"""

import os

from bench.errors import BenchError

PINNED_ENV = "DCGAN_BENCH_PINNED_GPU"


def visible_gpus():
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def resolve_device(device: str) -> str:
    """The TensorFlow device name for `device`; raises BenchError if it is not on this machine."""
    if device == "cpu":
        _hide_gpus_if_possible()
        return "/CPU:0"
    index = 0 if device == "gpu" else int(device.split(":", 1)[1])
    if os.environ.get(PINNED_ENV):
        # A grid worker pinned to one GPU by CUDA_VISIBLE_DEVICES sees it as its only GPU.
        index = 0
    gpus = visible_gpus()
    if not gpus:
        raise BenchError(f"device {device!r} asked for, but TensorFlow sees no GPU on this "
                         "machine (is the gpu extra installed: pip install 'dcgan-bench[gpu]'? "
                         "is CUDA_VISIBLE_DEVICES set?)", field="device")
    if index >= len(gpus):
        raise BenchError(f"device {device!r} asked for, but TensorFlow sees {len(gpus)} GPU(s): "
                         + ", ".join(f"gpu:{i}" for i in range(len(gpus))), field="device")
    _grow_memory(gpus[index])
    return f"/GPU:{index}"


def _hide_gpus_if_possible():
    # A CPU cell must not place ops on a GPU that happens to be there. Visibility can only be set
    # before the runtime starts; in a process that already started it, tf.device pins placement.
    import tensorflow as tf

    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:
        pass


def _grow_memory(gpu):
    # Without memory growth TensorFlow reserves nearly all GPU memory, and the allocator's peak
    # would report the reservation rather than what the cell needed.
    import tensorflow as tf

    try:
        tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:
        pass


def peak_memory_bytes(tf_device: str) -> tuple[int, str]:
    """The cell's peak memory and what it measures: the GPU allocator's peak, or the process's RSS."""
    if tf_device.startswith("/GPU"):
        import tensorflow as tf

        info = tf.config.experimental.get_memory_info(tf_device.strip("/"))
        return int(info["peak"]), "gpu_allocator_peak"
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024, "process_peak_rss"
