"""The GPU paths, tested on the CPU with fakes of the one TensorFlow call each involves.

No GPU with TensorFlow is at hand: each path that would crash or mislead on first contact with one
is driven here with its TensorFlow call replaced (two visible GPUs, an asynchronous device, an
allocator whose peak spikes while cuDNN autotunes), and the grid's GPU scheduling with the
test-only fault `gpus=N`, under which the cells themselves find no GPU and fail, saying so.
"""

import os
import subprocess
import sys
import types
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from bench import records, schema
from bench.cell import devices, gpuinfo
from bench.config import CellConfig
from bench.errors import BenchError
from bench.grid import local

ROOT = Path(__file__).resolve().parent.parent
FakeGPU = namedtuple("FakeGPU", "name device_type")
TF_2_21_ARCHS = ["sm_60", "sm_70", "sm_80", "sm_89", "compute_90"]


# ---------------------------------------------------------------- 1. two or more GPUs visible

def test_memory_growth_is_the_same_for_every_visible_gpu(monkeypatch):
    import tensorflow as tf

    gpus = [FakeGPU("/physical_device:GPU:0", "GPU"), FakeGPU("/physical_device:GPU:1", "GPU")]
    growth = {}
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: list(gpus))
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth",
                        lambda gpu, on: growth.__setitem__(gpu.name, on))
    monkeypatch.delenv(devices.PINNED_ENV, raising=False)
    assert devices.resolve_device("gpu:1") == "/GPU:1"
    # TensorFlow starts its context only if every visible GPU has the same setting
    assert growth == {gpu.name: True for gpu in gpus}


def test_a_refused_gpu_set_up_ends_the_cell_as_failed(tmp_path, monkeypatch):
    from bench.cell import devices, train

    class Refused:
        def __init__(self, *args, **kwargs):
            raise ValueError("Memory growth cannot differ between GPU devices")

    monkeypatch.setattr(devices, "MemoryPeaks", Refused)  # as TensorFlow refuses on a GPU
    summary = train.run_cell(CellConfig(steps=2, final_eval_n=0), tmp_path / "c")
    assert summary["status"] == "failed" and "Memory growth cannot differ" in summary["reason"]
    on_disk = records.read_json_record(tmp_path / "c" / schema.SUMMARY_FILE)
    assert on_disk["status"] == "failed"  # never left saying running


# ---------------------------------------------------------------- 2. the user's CUDA_VISIBLE_DEVICES

@pytest.mark.parametrize("visible, expected", [
    (None, ["0", "1"]),
    ("4,5", ["4", "5"]),
    ("GPU-8f6f0c1e-aaaa-bbbb-cccc-0123456789ab, MIG-1c2d3e4f-0000-1111-2222-333344445555",
     ["GPU-8f6f0c1e-aaaa-bbbb-cccc-0123456789ab", "MIG-1c2d3e4f-0000-1111-2222-333344445555"]),
])
def test_each_cell_gets_the_parents_own_gpu_entry(monkeypatch, visible, expected):
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert [local.child_gpu(slot) for slot in (0, 1)] == expected
    if visible is not None:
        with pytest.raises(BenchError, match="CUDA_VISIBLE_DEVICES lists 2 device"):
            local.child_gpu(2)


GPU_GRID = """
name = "two gpu cells"
data = "mnist-5k"
[axes]
seeds = [0, 1]
batch_sizes = [32]
devices = ["gpu"]
xla = [false]
precision = ["float32"]
[budget]
steps = 10
log_every = 5
[eval]
final_n = 0
"""


def test_cuda_visible_devices_4_5_reach_the_cell_processes(tmp_path):
    """Two fake GPUs (the `gpus=2` fault) under CUDA_VISIBLE_DEVICES=4,5: the two cells run at
    once, one on each of the user's GPUs, never on 0 and 1. (They then find no real GPU and
    fail; their records say where they were put.)"""
    spec = tmp_path / "gpu.toml"
    spec.write_text(GPU_GRID)
    out = tmp_path / "run"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "4,5", "DCGAN_BENCH_FAULT": "gpus=2"}
    r = subprocess.run([sys.executable, "-m", "bench", "grid", str(spec), "--out", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 1, r.stderr[-2000:]
    summaries = [records.read_json_record(out / f"gpu_float32_xla-off_bs32_seed{s}" /
                                          schema.SUMMARY_FILE) for s in (0, 1)]
    given = sorted(s["placement"]["cuda_visible_devices"] for s in summaries)
    assert given == ["4", "5"]
    for summary in summaries:
        device = summary["placement"]["cuda_visible_devices"]
        assert f"CUDA_VISIBLE_DEVICES={device}" in summary["log_tail"]
        assert summary["status"] == "failed" and "sees no GPU" in summary["log_tail"]
        assert summary["concurrent_cells"] == 2  # one per GPU, at once: said in the record


# ---------------------------------------------------------------- 4, 5, 6. preflight, TF32, env

@pytest.mark.parametrize("capability, native, description", [
    ((8, 0), True, "native code (sm_80)"),
    ((8, 6), True, "native code (sm_80)"),  # binary compatible within major version 8
    ((8, 9), True, "native code (sm_89)"),
    ((7, 5), True, "native code (sm_70)"),
    ((9, 0), False, "PTX JIT from compute_90: compiled by the driver at start-up"),  # H100
    ((10, 0), False, "PTX JIT from compute_90: compiled by the driver at start-up"),
])
def test_how_tensorflow_reaches_each_gpu(capability, native, description):
    how, ptx = gpuinfo.reached_by(capability, TF_2_21_ARCHS)
    assert how == description and ptx == (not native)


def test_the_preflight_says_an_h100_is_reached_through_ptx():
    record = {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "driver": "535.104",
              "built_for": TF_2_21_ARCHS, "reached_by": "PTX JIT from compute_90: compiled by the "
              "driver at start-up", "ptx_jit": True, "mig": False}
    (warning,) = gpuinfo.preflight_warnings(record)
    assert "compute capability 9.0" in warning and "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" in warning
    assert "driver here 535.104" in warning
    assert gpuinfo.preflight_warnings({**record, "ptx_jit": False}) == []


def test_loaded_cuda_libraries_are_read_from_the_process_maps():
    maps = ("7f00-7f01 r-xp 0 08:01 1 /venv/lib/python3.11/site-packages/nvidia/cudnn/lib/"
            "libcudnn.so.9\n"
            "7f02-7f03 r-xp 0 08:01 2 /usr/lib/x86_64-linux-gnu/libcudart.so.12.5.82\n"
            "7f04-7f05 r-xp 0 08:01 3 /usr/lib/libc.so.6\n")
    found = gpuinfo.loaded_libraries(maps)
    assert sorted(found) == ["libcudart.so.12.5.82", "libcudnn.so.9"]
    assert found["libcudart.so.12.5.82"]["wheel"] is None  # a system library, not a wheel


def test_on_the_cpu_the_gpu_fields_are_null_and_tf32_not_applicable():
    assert gpuinfo.gpu_record("/CPU:0") == {field: None for field in gpuinfo.GPU_FIELDS}
    assert gpuinfo.tf32_record("/CPU:0", None)["setting"] == "not applicable"
    assert gpuinfo.tf32_record("/CPU:0", True)["setting"] == "not applicable"


def test_a_tf32_axis_expands_and_validates():
    from bench.grid.spec import expand

    spec = expand({"name": "tf32", "axes": {"seeds": [0], "batch_sizes": [64], "devices": ["gpu"],
                                            "xla": [False], "precision": ["float32"],
                                            "tf32": [False, True]}, "budget": {"steps": 5}})
    assert [c.id for c in spec.cells] == ["gpu_float32_tf32-off_xla-off_bs64_seed0",
                                          "gpu_float32_tf32-on_xla-off_bs64_seed0"]
    assert [c.config.tf32 for c in spec.cells] == [False, True]
    without = expand({"name": "no tf32", "axes": {"seeds": [0], "batch_sizes": [64],
                                                  "devices": ["cpu"], "xla": [False],
                                                  "precision": ["float32"]}})
    assert without.cells[0].config.tf32 is None and without.cells[0].id == \
        "cpu_float32_xla-off_bs64_seed0"
    with pytest.raises(BenchError, match="tf32: expected true or false"):
        expand({"name": "bad", "axes": {"seeds": [0], "batch_sizes": [64], "devices": ["gpu"],
                                        "xla": [False], "precision": ["float32"],
                                        "tf32": ["maybe"]}})


# ---------------------------------------------------------------- 7. training peak memory

def test_an_autotuning_spike_in_the_first_step_stays_out_of_the_training_peak():
    """The allocator's peak, as a GPU would show it: 100 MB after building, a 5 GB spike in the
    first step while cuDNN and XLA try algorithms, 800 MB while training."""
    # reads: built, training starts, first step ends, training ends, the cell ends
    script = iter([100, 120, 5000, 800, 800])
    memory = devices.MemoryPeaks("/GPU:0", read=lambda: next(script), reset=lambda: None)
    memory.training_started()
    memory.first_step_ended()
    memory.training_ended()
    result = memory.finish()
    assert result[schema.PEAK_MEMORY_TRAIN_BYTES] == 800
    assert result["peak_memory_first_step_bytes"] == 5000
    assert result[schema.PEAK_MEMORY_PROCESS_BYTES] == 5000


# ---------------------------------------------------------------- 8. short windows, async device

class VirtualClock:
    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class FakeAsyncStep:
    """A step that returns at once after `host` seconds of dispatch; the device runs steps one
    after another, `device` seconds each; reading a step's output (np.asarray) waits for it."""

    tracing_count = 1

    def __init__(self, clock, host, device):
        self.clock, self.host, self.device, self.free = clock, host, device, 0.0

    def __call__(self, batch):
        self.clock.now += self.host
        self.free = max(self.clock.now, self.free) + self.device
        done, clock = self.free, self.clock

        class Output:
            def __array__(self, dtype=None, copy=None):
                clock.now = max(clock.now, done)
                return np.array([0.7, 1.3, 0.5, 0.4])
        return Output()

    def loss_scales(self):
        return {}


@pytest.mark.parametrize("log_every", [5, 50])
def test_throughput_on_an_asynchronous_device_is_its_queue_rate(tmp_path, monkeypatch, log_every):
    from bench.cell import loop, timing
    from bench.cell.runtime import OneSeed

    clock = VirtualClock()
    monkeypatch.setattr(loop, "time", types.SimpleNamespace(perf_counter=clock.perf_counter,
                                                            sleep=clock.sleep))
    cfg = CellConfig(batch_size=64, log_every=log_every, steps=2000, final_eval_n=0)
    rates = {}
    for overlap in (True, False):
        # a small-batch GPU step: 2 ms on the device, 0.4 ms of host dispatch
        step = FakeAsyncStep(clock, host=0.0004, device=0.002)
        out = tmp_path / f"{log_every}-{overlap}"
        out.mkdir()
        log = timing.WindowLog(out, cfg, step.loss_scales)
        log.add_first(np.array([0.7, 1.3, 0.5, 0.4]))
        loop.run_windows(OneSeed(step), [iter(range(10 ** 6))], [log],
                         loop.FixedWindows(2000, log_every), overlap=overlap)
        rates[overlap] = log.throughput()["median"]
    true_rate = 64 / 0.002
    assert rates[True] == pytest.approx(true_rate, rel=0.02)
    # without the overlap each window drains the queue: one dispatch (0.4 ms) unoverlapped a
    # window, 0.4 / (5 x 2) = 4% low at 5-step windows, 0.4% at 50
    assert rates[False] == pytest.approx(true_rate / (1 + 0.0004 / (log_every * 0.002)),
                                         rel=0.002)


# ---------------------------------------------------------------- a JAX cell's GPU facts

@pytest.mark.parametrize("precision, capability, support", [
    ("mixed_bfloat16", "9.0", "native"),  # H100, H200
    ("mixed_bfloat16", "8.0", "native"),  # A100
    ("mixed_bfloat16", "7.5", "emulated"),  # T4: float16 tensor cores, no bfloat16 ones
    ("mixed_float16", "7.5", "native"),
    ("mixed_float16", "6.1", "emulated"),  # Pascal
    ("mixed_bfloat16", None, "unknown"),
    ("float32", None, "native"),
])
def test_a_gpus_precision_support_is_read_from_its_compute_capability(precision, capability,
                                                                      support):
    from bench import machine

    found = machine.precision_support(precision, "gpu", {"gpu": {"compute_capability": capability}})
    assert found["support"] == support
    if support != "unknown" and precision != "float32":
        assert capability in found["why"]


NVIDIA_SMI_HEADER = """
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 580.82.07              Driver Version: 580.82.07      CUDA Version: 13.0     |
+-----------------------------------------+------------------------+----------------------+
"""


def test_a_jax_gpu_record_and_the_install_hint_name_what_the_machine_has(monkeypatch):
    assert gpuinfo.cuda_driver_version(NVIDIA_SMI_HEADER) == "13.0"
    assert gpuinfo.cuda_driver_version("no header") is None
    hint = gpuinfo.jax_install_hint("13.0")
    assert "jax[cuda13]" in hint and "cuda12" not in hint
    assert "jax[cuda12]" in gpuinfo.jax_install_hint("12.4")
    # what a JAX CUDA device answers (jaxlib's Device: device_kind, compute_capability,
    # memory_stats); a driverless machine here, so the driver fields are None
    device = types.SimpleNamespace(device_kind="NVIDIA H200", compute_capability="9.0",
                                   memory_stats=lambda: {"bytes_limit": 150 * 2**30})
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    record = gpuinfo.jax_gpu_record(device)
    assert record["name"] == "NVIDIA H200" and record["compute_capability"] == "9.0"
    assert record["memory_bytes"] == 150 * 2**30 and record["cuda_visible_devices"] == "3"
    assert record["mig"] is False
