"""A cell under Keras 3's JAX backend, with no TensorFlow on its path (bench.cell.frameworks).

The same models, windows, phases and record as a TensorFlow cell; what differs:
- devices are JAX's (`cpu`, `gpu`, `gpu:N`), named jax:<platform>:<id> in the record;
- batches come from NumPy: the data set's images scaled as the tutorial does, shuffled each
  epoch by a generator seeded with the cell's seed, full batches only;
- the step is bench.cell.jax_step's (`xla` on: `jax.jit`; off: op by op);
- no TensorBoard events (TensorFlow's summary writer): steps.jsonl holds the same scalars;
- evaluations use the TensorFlow instrument, so they run in a child process
  (`dcgan-bench eval CELL --weights W`) on the generator saved at that point, where TensorFlow is
  importable; where it is not, the record says the final evaluation is pending and
  `dcgan-bench eval CELL --complete` completes it later on a machine with TensorFlow;
- memory: the process's resident set on the CPU; on a GPU, JAX's peak bytes in use (which cannot
  be reset: the training peak then includes start-up, and the record says so).

(Keras' `set_random_seed` also seeds TensorFlow when TensorFlow is installed, and imports it for
that; blocked or absent, it is skipped.)
"""

import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import machine as machine_info
from bench import schema
from bench.errors import BenchError

PENDING = ("pending: TensorFlow (the instrument's framework) is not importable where this cell "
           "trained; `dcgan-bench eval CELL --complete` completes it on a machine with it")


def tensorflow_importable() -> bool:
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def numpy_batches(images: np.ndarray, batch_size: int, seed: int):
    """Endless batches of float32 (B, 28, 28, 1) in [-1, 1]: each epoch the data set in an order
    drawn by a generator seeded with `seed`, full batches only."""
    from bench.datasets import images_to_unit_range

    data = images_to_unit_range(images)
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(data))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield data[order[start:start + batch_size]]


class JaxFramework:
    name = "jax"
    tensorboard = False

    def resolve_device(self, cfg):
        try:
            import jax
        except ImportError:
            raise BenchError("backend jax needs JAX, an optional extra: pip install "
                             "'dcgan-bench[jax]'", field="backend") from None
        import keras

        if keras.backend.backend() != "jax":
            raise BenchError(f"backend jax asked for, but Keras in this process runs on "
                             f"{keras.backend.backend()} (it picks one backend a process, from "
                             "KERAS_BACKEND, when first imported): run the cell in a fresh "
                             "process (dcgan-bench train --backend jax)", field="backend")
        if cfg.device == "cpu":
            return jax.devices("cpu")[0]
        index = 0 if cfg.device == "gpu" else int(cfg.device.split(":", 1)[1])
        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        if index >= len(gpus):
            raise BenchError(f"device {cfg.device!r} asked for, but JAX sees {len(gpus)} GPU(s) "
                             "(is jax installed with CUDA: pip install 'jax[cuda12]'?)",
                             field="device")
        return gpus[index]

    def device_record(self, device) -> dict:
        return {"jax_device": f"jax:{device.platform}:{device.id}"}

    def environment(self, device, cfg) -> dict:
        import jax
        import jaxlib
        import keras
        import scipy

        from bench.cell.envinfo import harness_commit, host_cpu_model

        record = machine_info.host_machine()
        gpu = device.platform == "gpu"
        if gpu:
            record["gpu"] = {"name": device.device_kind}
        machine = machine_info.with_fingerprint(record)
        return {
            "backend": "jax", "python": sys.version.split()[0], "jax": jax.__version__,
            "jaxlib": jaxlib.__version__, "keras": keras.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__, "tensorflow": None,
            "device": f"jax:{device.platform}:{device.id}", "device_model":
                device.device_kind if gpu else host_cpu_model(),
            "host_cpu": host_cpu_model(), "cpu_count": os.cpu_count(),
            "hostname": platform.node(), "platform": platform.platform(),
            "harness": harness_commit(), "machine": machine,
            "precision": {"name": cfg.precision, **machine_info.precision_support(
                cfg.precision, "gpu" if gpu else "cpu", machine)},
            "gpu": {"name": device.device_kind} if gpu else None,
            "tf32": {"setting": "not applicable", "enabled": None,
                     "why": "a TensorFlow setting; JAX's float32 matmul precision is its default"},
            "env_vars": {k: v for k, v in os.environ.items()
                         if k.startswith(("XLA_", "JAX_", "CUDA_VISIBLE", "KERAS_", "DCGAN_BENCH_"))},
        }

    def memory(self, device):
        from bench.cell.devices import MemoryPeaks

        if device.platform != "gpu":
            return MemoryPeaks("/CPU:0")
        peaks = MemoryPeaks("/CPU:0", read=lambda: int(device.memory_stats()["peak_bytes_in_use"]),
                            reset=lambda: None)
        peaks.kind, peaks.train_reset = "gpu_allocator", False
        return peaks

    def build(self, cfg, device):
        import jax
        import keras

        from bench.cell import models
        from bench.cell.jax_step import JaxTrainStep

        keras.utils.set_random_seed(cfg.seed)
        keras.mixed_precision.set_global_policy(cfg.precision)
        with jax.default_device(device):
            generator, discriminator = models.make_generator(), models.make_discriminator()
            gen_opt, disc_opt = models.make_optimizers(cfg.precision)
            step = JaxTrainStep(generator, discriminator, gen_opt, disc_opt,
                                batch_size=cfg.batch_size, xla=cfg.xla, seed=cfg.seed)
        return generator, step

    def batches(self, split, cfg):
        return numpy_batches(split.images, cfg.batch_size, cfg.seed)

    def placement(self, device):
        import jax

        return jax.default_device(device)

    def asynchronous(self, device) -> bool:
        return device.platform == "gpu"

    def evaluations(self, cfg, generator, out_dir, memory, step_fn=None):
        return ChildEvaluations(cfg, generator, out_dir, memory, step_fn)

    def trained(self, step_fn):
        step_fn.write_back()

    def reset(self):
        import keras

        keras.mixed_precision.set_global_policy("float32")


class ChildEvaluations:
    """bench.cell.periodic.Evaluations' interface, each evaluation by the TensorFlow instrument
    in a child process on the generator as it is at that point."""

    def __init__(self, cfg, generator, out_dir, memory, step_fn):
        self.cfg, self.generator, self.out_dir = cfg, generator, Path(out_dir)
        self.memory, self.step_fn = memory, step_fn
        self.history: list[dict] = []
        self.periodic_seconds = 0.0
        self.available = tensorflow_importable()
        self.pending = False

    def _evaluate(self, n: int) -> dict | None:
        from bench.cell.generate import save_generator

        if not self.available:
            self.pending = True
            return None
        t0 = time.perf_counter()
        if self.step_fn is not None:
            self.step_fn.write_back()
        with tempfile.TemporaryDirectory(dir=self.out_dir, prefix=".eval-") as tmp:
            weights, out = Path(tmp) / "generator.weights.h5", Path(tmp) / "result.json"
            save_generator(self.generator, weights)
            env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
            proc = subprocess.run([sys.executable, "-m", "bench", "eval", str(self.out_dir),
                                   "--n", str(n), "--weights", str(weights), "--out", str(out)],
                                  capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                raise RuntimeError(f"the evaluation's child process failed: {proc.stderr[-1500:]}")
            result = json.loads(out.read_text())
        result.pop("schema_version", None)
        result.pop("cell", None)
        result["eval_seconds"] = time.perf_counter() - t0
        return result

    def periodic(self, step: int):
        from bench import records

        t0 = time.perf_counter()
        result = self._evaluate(self.cfg.eval_n)
        self.periodic_seconds += time.perf_counter() - t0
        if result is not None:
            result = {"step": step, **result}
            self.history.append(result)
            records.append_jsonl(self.out_dir / schema.EVALS_FILE, result)

    def final(self, step: int) -> dict | None:
        if not self.cfg.final_eval_n:
            return None
        result = self._evaluate(self.cfg.final_eval_n)
        return None if result is None else {"step": step, **result}

    def best(self) -> dict:
        from bench.cell.periodic import best_fid_fields

        return best_fid_fields(self.history)

    def summary_fields(self) -> dict:
        return {"final_eval": PENDING} if self.pending else {}
