"""What the tests that share the machine on purpose have in common: a CPU hog, started under
`setsid` (its own session, so that the kernel's autogroup scheduling cannot shield the process
under test from it), and the smallest JAX throughput grid those tests train (unrolled-dcgan at a
quarter width, batch 16, XLA on: seconds a cell, not minutes).

Run them at the session's normal priority: a test runner niced below the hogs starves its own
cells.
"""

import os
import subprocess
import sys

import pytest

HOG = "while True: pass"
# what the contention tests read: the kernel's per-CPU counts (Linux)
NEEDS_PROC_STAT = pytest.mark.skipif(not os.path.exists("/proc/stat"),
                                     reason="no /proc/stat: contention is not measured here")


def start_hog() -> subprocess.Popen:
    """A busy process in a session of its own; the caller kills it."""
    return subprocess.Popen([sys.executable, "-c", HOG], start_new_session=True)


def tiny_jax_spec(name: str, steps: int, log_every: int, seeds=(0,)) -> str:
    """A grid spec of one throughput configuration of the tiny JAX model, a cell a seed, one
    warm-up window, no evaluation."""
    return f"""
name = "{name}"
data = "mnist-5k"
[budget]
steps = {steps}
log_every = {log_every}
warmup_windows = 1
d_width = 0.25
[eval]
final_n = 0
[[parts]]
name = "throughput"
[parts.axes]
seeds = {list(seeds)}
batch_sizes = [16]
devices = ["cpu"]
xla = [true]
precision = ["float32"]
frameworks = ["jax"]
models = ["unrolled-dcgan"]
"""


# the one cell tiny_tf_spec trains
TINY_TF_CELL = "cpu_float32_xla-off_bs32_seed0"


def tiny_tf_spec(name: str, steps: int) -> str:
    """A grid spec of one TensorFlow cell (the tutorial's DCGAN, batch 32, CPU, float32), a
    window every 10 steps, no evaluation: the smallest real grid the fault tests run."""
    return f"""
name = "{name}"
data = "mnist-5k"
[axes]
seeds = [0]
batch_sizes = [32]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[budget]
steps = {steps}
log_every = 10
[eval]
final_n = 0
"""
