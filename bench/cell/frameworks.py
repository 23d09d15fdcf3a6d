"""The framework a cell trains under: TensorFlow (the reference) or JAX, behind one interface.

bench.cell.train runs the same cell under either: the same models (bench.cell.models), data, log
windows, timing phases, memory and record. What differs is here: how a device is named and
found, what the environment record holds, how the step is built, how batches are fed, how the
step is placed, whether TensorBoard events are written, and how evaluations run. Keras 3 picks
its backend once a process, from KERAS_BACKEND, before it is imported: a cell process sets it
(`select_backend`) before anything imports keras.
"""

import os

TENSORFLOW, JAX = "tensorflow", "jax"
BACKENDS = (TENSORFLOW, JAX)


def select_backend(backend: str):
    """Make Keras run on `backend` in this process: call before keras is first imported."""
    os.environ["KERAS_BACKEND"] = backend


class TensorFlowFramework:
    name = TENSORFLOW
    tensorboard = True

    def resolve_device(self, cfg) -> str:
        from bench.cell.devices import apply_tf32, resolve_device

        device = resolve_device(cfg.device)
        apply_tf32(cfg.tf32)
        return device

    def environment(self, device, cfg) -> dict:
        from bench.cell.envinfo import environment

        return environment(device, cfg.precision, cfg.tf32)

    def memory(self, device):
        from bench.cell.devices import MemoryPeaks

        return MemoryPeaks(device)

    def build(self, cfg, device):
        return build_tensorflow_cell(cfg, device)

    def batches(self, split, cfg):
        from bench.cell.pipeline import training_dataset

        return iter(training_dataset(split.images, cfg.batch_size, cfg.seed))

    def device_record(self, device) -> dict:
        return {"tf_device": device}

    def placement(self, device):
        import tensorflow as tf

        return tf.device(device)

    def asynchronous(self, device) -> bool:
        return device.startswith("/GPU")

    def evaluations(self, cfg, generator, out_dir, memory, step_fn=None):
        from bench.cell.periodic import Evaluations

        return Evaluations(cfg, generator, out_dir, memory)

    def trained(self, step_fn):
        """Training is over: the models hold their final state already."""

    def reset(self):
        import keras

        keras.mixed_precision.set_global_policy("float32")


def framework(cfg):
    """The framework of a cell's configuration."""
    if cfg.backend == JAX:
        from bench.cell.jax_cell import JaxFramework

        return JaxFramework()
    return TensorFlowFramework()


def build_tensorflow_cell(cfg, tf_device: str):
    """The cell's generator and its traced training step (seeded, under its precision)."""
    import keras
    import tensorflow as tf

    from bench.cell import models
    from bench.cell.step import TrainStep

    keras.utils.set_random_seed(cfg.seed)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy(cfg.precision)
    with tf.device(tf_device):
        generator, discriminator = models.make_generator(), models.make_discriminator()
        gen_opt, disc_opt = models.make_optimizers(cfg.precision)
        step = TrainStep(generator, discriminator, gen_opt, disc_opt, batch_size=cfg.batch_size,
                         xla=cfg.xla, precision=cfg.precision)
    return generator, step
