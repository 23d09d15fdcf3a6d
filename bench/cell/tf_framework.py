"""TensorFlow, the reference framework's runtime (bench.cell.runtime): tf.data batches, a traced
step, TensorFlow's devices, TensorBoard events.

Devices are TensorFlow's (`/CPU:0`, `/GPU:N`, resolved by bench.cell.devices); batches come from
the tf.data pipeline (bench.cell.pipeline); the step is bench.cell.step's `tf.function`, traced
once (XLA when the cell asks), training the Keras variables themselves; the environment names
TensorFlow's build (CUDA, cuDNN), its thread pools and oneDNN state, and the GPU's full record
(bench.cell.gpuinfo).
"""

import os

from bench.cell.runtime import Built, Runtime
from bench.errors import BenchError


class TensorFlowDevice:
    """A TensorFlow device name and what it says (bench.cell.runtime.Device)."""

    def __init__(self, name: str):
        self.description = name
        self.asynchronous = name.startswith("/GPU")

    def placement(self):
        import tensorflow as tf

        return tf.device(self.description)

    def memory(self):
        from bench.cell.devices import MemoryPeaks

        return MemoryPeaks(self.description)


class TensorFlowRuntime(Runtime):
    tensorboard = True

    def device(self, cfg) -> TensorFlowDevice:
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            raise BenchError(f"framework {self.name} needs TensorFlow, an optional extra since "
                             "0.3 (a JAX-only machine installs without it): pip install -e "
                             f"'.[{self.facts.extra}]'", field="framework") from None
        from bench.cell.devices import apply_tf32, resolve_device

        device = TensorFlowDevice(resolve_device(cfg.device))
        apply_tf32(cfg.tf32)
        return device

    def describe(self, device, cfg) -> dict:
        import keras
        import tensorflow as tf

        from bench.cell import gpuinfo
        from bench.cell.envinfo import host_cpu_model

        build = dict(tf.sysconfig.get_build_info())
        gpu = gpuinfo.gpu_record(device.description)  # nulls on the CPU
        machine = {
            "threads": {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                        "note": "0: TensorFlow's default, one thread per usable core"},
            "onednn": {"enabled": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0",
                       "max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA")}}
        if device.asynchronous:  # a GPU cell's speed is its GPU's: in the fingerprint
            machine["gpu"] = {k: gpu[k] for k in ("name", "compute_capability", "mig")}
        return {
            "versions": {self.facts.package: tf.__version__, "keras": keras.__version__,
                         "cuda_build": build.get("cuda_version"),
                         "cudnn_build": build.get("cudnn_version"),
                         "is_cuda_build": build.get("is_cuda_build")},
            "device_model": gpu["name"] if device.asynchronous else host_cpu_model(),
            "gpus_visible": self.gpus_visible(),
            "gpu": gpu, "tf32": gpuinfo.tf32_record(device.description, cfg.tf32),
            "machine": machine}

    def gpus_visible(self) -> int:
        import tensorflow as tf

        return len(tf.config.list_physical_devices("GPU"))

    def build(self, cfg, device):
        import tensorflow as tf

        from bench.cell import models
        from bench.cell.packing import StepPlan
        from bench.cell.step import TrainStep

        if cfg.deterministic:
            tf.config.experimental.enable_op_determinism()
        with device.placement():
            generator, discriminator, gen_opt, disc_opt = models.seeded_models(cfg)
            step = TrainStep(generator, discriminator, gen_opt, disc_opt,
                             plan=StepPlan.from_config(cfg), xla=cfg.xla,
                             precision=cfg.precision)
        return Built(generator, discriminator, step)

    def batches(self, split, cfg):
        from bench.cell.pipeline import training_dataset

        # the batch counts packs: a step reads batch x m images (bench.cell.packing)
        return iter(training_dataset(split.images, cfg.batch_size * cfg.packing_m, cfg.seed))
