"""Resolving a device string (cpu, gpu, gpu:N) to a TensorFlow device, before anything is written.

A device that is asked for and absent is a `BenchError` (exit code 2): a benchmark that quietly ran
on the CPU when a GPU was asked for would report the wrong machine.
"""

import os
from pathlib import Path

from bench import schema
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
    grow_memory(gpus)
    return f"/GPU:{index}"


def apply_tf32(setting: bool | None):
    """TF32 on or off for float32 matmuls and convolutions (GPUs from Ampere on); None leaves
    TensorFlow's default (on), which env.json then records as the default."""
    if setting is None:
        return
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(setting)


def _hide_gpus_if_possible():
    # A CPU cell must not place ops on a GPU that happens to be there. Visibility can only be set
    # before the runtime starts; in a process that already started it, tf.device pins placement.
    import tensorflow as tf

    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:
        pass


def grow_memory(gpus):
    """Memory growth on, for every visible GPU alike.

    Without memory growth TensorFlow reserves nearly all GPU memory, and the allocator's peak
    would report the reservation rather than what the cell needed. It must be the same for every
    visible GPU: set on the chosen one only, TensorFlow raises "Memory growth cannot differ
    between GPU devices" when its context starts (two GPUs visible: `--device gpu:1`, or
    CUDA_VISIBLE_DEVICES=0,1)."""
    import tensorflow as tf

    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass  # the runtime already started (a second cell in one process): its setting stands


GPU_ALLOCATOR = "gpu_allocator"
PROCESS_RSS = "process_rss"


class MemoryPeaks:
    """Peak memory of a cell: while training (`train`) and over the whole process (`process`).

    What is measured (`kind`): on a GPU, TensorFlow's allocator peak on that GPU; on the CPU, the
    process's resident set (VmHWM in /proc/self/status). The counter is reset once the models
    are built, and again after the first step: that step's peak (tracing, XLA compilation, and
    on a GPU mostly cuDNN's and XLA's autotuning scratch) is kept apart as `first_step`, so the
    training peak is what the training steps hold. It is folded and reset around each
    evaluation, so sample generation, the classifier and a reference-cache build never count as
    training memory. The process peak is the largest value seen over the whole cell, resets
    included. Where the CPU counter cannot be reset (not Linux), the training peak includes what
    came before and `train_reset` says so. `read` and `reset` replace the counter (tests).
    """

    def __init__(self, tf_device: str, read=None, reset=None):
        self.gpu = tf_device.strip("/") if tf_device.startswith("/GPU") else None
        self.kind = GPU_ALLOCATOR if self.gpu else PROCESS_RSS
        if read is not None:
            self._read, self._reset = read, reset
        self.train = 0
        self.first_step = None
        self.ended = False
        self.process = self._read()
        self.train_reset = True

    def _read(self) -> int:
        if self.gpu:
            import tensorflow as tf

            return int(tf.config.experimental.get_memory_info(self.gpu)["peak"])
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024

    def _reset(self):
        if self.gpu:
            import tensorflow as tf

            tf.config.experimental.reset_memory_stats(self.gpu)
            return
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            self.train_reset = False

    def _fold(self, into_train: bool):
        peak = self._read()
        self.process = max(self.process, peak)
        if into_train:
            self.train = max(self.train, peak)
        self._reset()

    def training_started(self):
        self._fold(into_train=False)

    def first_step_ended(self):
        """Keep the first step's peak apart from training's (see the class docstring)."""
        peak = self._read()
        self.process = max(self.process, peak)
        self.first_step = peak
        self._reset()

    def evaluation_starts(self):
        self._fold(into_train=True)

    def evaluation_ended(self):
        self._fold(into_train=False)

    def training_ended(self):
        self._fold(into_train=True)
        self.ended = True

    def finish(self) -> dict:
        """The summary fields; call once, at the end of the cell."""
        self.process = max(self.process, self._read())
        # A cell that never finished training (diverged, failed) has no training peak.
        return {schema.PEAK_MEMORY_TRAIN_BYTES: self.train if self.ended else None,
                schema.PEAK_MEMORY_TRAIN_KIND: self.kind,
                "peak_memory_first_step_bytes": self.first_step,
                "peak_memory_train_reset": self.train_reset,
                schema.PEAK_MEMORY_PROCESS_BYTES: self.process,
                schema.PEAK_MEMORY_PROCESS_KIND: self.kind}
