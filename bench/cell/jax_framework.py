"""JAX through Keras 3, the JAX framework's runtime (bench.cell.runtime): the same models and
update, no TensorFlow needed to train.

What differs from TensorFlow:
- devices are JAX's (`cpu`, `gpu`, `gpu:N`), named jax:<platform>:<id> in the record;
- batches come from NumPy: the data set's images scaled as the tutorial does, shuffled each
  epoch by a generator seeded with the cell's seed, full batches only;
- the step is bench.cell.jax_step's (`xla` on: `jax.jit`; off: op by op), its state explicit, so
  it is written back into the Keras variables before the generator is saved or sampled; K seeds
  of one configuration can be stepped as one program (bench.cell.jax_packed);
- no TensorBoard events (TensorFlow's summary writer): steps.jsonl holds the same scalars;
- evaluations run in this process with TensorFlow kept out (bench.imports): the instrument under
  Keras' JAX backend, FID, KID and the classifier score by their NumPy twins of TF-GAN's
  functions (bench.evaluate.metrics);
- memory: the process's resident set on the CPU; on a GPU, JAX's peak bytes in use (which cannot
  be reset: the training peak then includes start-up, and the record says so).

(Keras' `set_random_seed` also seeds TensorFlow when TensorFlow is importable, and imports it
for that; kept out, it is skipped.)
"""

import numpy as np

from bench.cell.runtime import Built, Runtime
from bench.errors import BenchError

# the steps a window of the study program's packing trial (JaxRuntime._packing_trial)
TRIAL_WINDOW = 2


def numpy_batch_indices(n: int, batch_size: int, seed: int):
    """Endless index batches into a data set of `n` images: each epoch an order drawn by a
    generator seeded with `seed`, full batches only (the study program gathers on the device
    what numpy_batches gathers here)."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


def numpy_batches(images: np.ndarray, batch_size: int, seed: int):
    """Endless batches of float32 (B, 28, 28, 1) in [-1, 1], in numpy_batch_indices' order."""
    from bench.datasets import images_to_unit_range

    data = images_to_unit_range(images)
    for indices in numpy_batch_indices(len(data), batch_size, seed):
        yield data[indices]


class JaxDevice:
    """A JAX device and what it says (bench.cell.runtime.Device)."""

    def __init__(self, device):
        self.jax_device = device
        self.description = f"jax:{device.platform}:{device.id}"
        self.asynchronous = device.platform == "gpu"

    def placement(self):
        import jax

        return jax.default_device(self.jax_device)

    def memory(self):
        from bench.cell.devices import GPU_ALLOCATOR, MemoryPeaks

        if not self.asynchronous:
            return MemoryPeaks("/CPU:0")
        device = self.jax_device
        peaks = MemoryPeaks("/CPU:0", read=lambda: int(device.memory_stats()["peak_bytes_in_use"]),
                            reset=lambda: None)
        peaks.kind, peaks.train_reset = GPU_ALLOCATOR, False
        return peaks


class JaxRuntime(Runtime):
    def device(self, cfg) -> JaxDevice:
        try:
            import jax
        except ImportError:
            raise BenchError(f"framework {self.name} needs JAX, an optional extra: pip install "
                             f"-e '.[{self.facts.extra}]'", field="framework") from None
        import keras

        if keras.backend.backend() != self.facts.keras_backend:
            raise BenchError(f"framework {self.name} asked for, but Keras in this process runs "
                             f"on {keras.backend.backend()} (it picks one backend a process, "
                             "from KERAS_BACKEND, when first imported): run the cell in a fresh "
                             f"process (dcgan-bench train --framework {self.name})",
                             field="framework")
        if cfg.device == "cpu":
            return JaxDevice(jax.devices("cpu")[0])
        index = 0 if cfg.device == "gpu" else int(cfg.device.split(":", 1)[1])
        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        if index >= len(gpus):
            from bench.cell.gpuinfo import jax_install_hint

            raise BenchError(f"device {cfg.device!r} asked for, but JAX sees {len(gpus)} GPU(s); "
                             f"{jax_install_hint()}", field="device")
        return JaxDevice(gpus[index])

    def describe(self, device, cfg) -> dict:
        import jax
        import jaxlib
        import keras

        from bench.cell.envinfo import host_cpu_model
        from bench.cell.gpuinfo import jax_gpu_record

        gpu = jax_gpu_record(device.jax_device) if device.asynchronous else None
        return {
            "versions": {self.facts.package: jax.__version__, "jaxlib": jaxlib.__version__,
                         "keras": keras.__version__},
            "device_model": device.jax_device.device_kind if gpu else host_cpu_model(),
            "gpus_visible": self.gpus_visible(), "gpu": gpu,
            # a GPU cell's speed is its GPU's: in the fingerprint, as TensorFlow's cells put it
            "machine": {"gpu": {k: gpu[k] for k in ("name", "compute_capability", "mig")}}
            if gpu else {},
            "tf32": {"setting": "not applicable", "enabled": None,
                     "why": "a TensorFlow setting; JAX's float32 matmul precision is its default"}}

    def gpus_visible(self) -> int:
        import jax

        try:
            return len(jax.devices("gpu"))
        except RuntimeError:  # no GPU backend in this JAX install
            return 0

    def build(self, cfg, device):
        from bench.cell import models
        from bench.cell.jax_step import JaxTrainStep
        from bench.cell.packing import StepPlan

        with device.placement():
            generator, discriminator, gen_opt, disc_opt = models.seeded_models(cfg)
            step = JaxTrainStep(generator, discriminator, gen_opt, disc_opt,
                                plan=StepPlan.from_config(cfg), xla=cfg.xla, seed=cfg.seed)
        return Built(generator, discriminator, step)

    def program(self, steps, cfg, device, split=None):
        trial = None
        if len(steps) > 1 and cfg.packing == "auto":
            trial = self._packing_trial(steps, cfg, split)
        packing = trial["chosen"] if trial else "loop" if cfg.packing == "auto" else cfg.packing
        program = self._program(steps, cfg, device, split, packing, cfg.log_every)
        program.packing_trial = trial
        return program

    def _program(self, steps, cfg, device, split, packing, window):
        from bench.cell.jax_packed import PackedSteps

        if cfg.program == "study":
            from bench.cell.jax_study import StudyProgram
            from bench.datasets import images_to_unit_range

            return StudyProgram(steps, images_to_unit_range(split.images), window=window,
                                packing=packing)
        if len(steps) == 1:
            return super().program(steps, cfg, device)
        return PackedSteps(steps, cfg.xla, packing)

    def _packing_trial(self, steps, cfg, split) -> dict:
        """`packing = "auto"`: each packing of these seeds timed here (bench.cell.jax_packed.
        measured_packing) on one real batch, every seed stepping it; a study program's trial
        runs windows of TRIAL_WINDOW steps, the same per-step work in a shorter compile."""
        from bench.cell.jax_packed import measured_packing

        batch = next(self.batches(split, cfg))
        window = min(TRIAL_WINDOW, cfg.log_every)

        def dispatch(program) -> int:
            if cfg.program == "study":
                np.asarray(program.run_window([[batch] * len(steps)] * window))
                return window
            np.asarray(program([batch] * len(steps)))
            return 1

        return measured_packing(
            lambda packing: self._program(steps, cfg, None, split, packing, window), dispatch)

    def batches(self, split, cfg):
        if cfg.program == "study":  # the program holds the images; the loop draws the order
            return numpy_batch_indices(len(split.images), cfg.batch_size * cfg.packing_m,
                                       cfg.seed)
        return numpy_batches(split.images, cfg.batch_size * cfg.packing_m, cfg.seed)
