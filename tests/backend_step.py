"""One training step under one Keras backend, from injected weights, noise, batch and dropout
masks: `python tests/backend_step.py BACKEND PRECISION INPUTS.npz OUTPUTS.npz [MODEL M]`.

MODEL (default the tutorial's) is a model of bench.protocols, trained on Stacked MNIST's three
channels by its protocol's schedule, with M images a pack (PacGAN's models have no Dropout).

Keras picks its backend once a process, so tests/test_jax_framework.py runs this twice, once per backend.
The first run (the TensorFlow one) writes INPUTS.npz: the seeded models' initial weights, a
batch of real digits, the noise, and the two Dropout masks; the second reads it. Dropout masks are
injected (a fixed mask in place of each Dropout layer) because identical seeds give different
random streams under TensorFlow and JAX: step by step, the backends agree only from the same
draws. Writes the step's outputs (losses, mean D(real), mean D(fake)) and the updated weights.
"""

import os
import sys
from pathlib import Path

backend, precision, inputs, outputs = sys.argv[1:5]
model, packing_m = (sys.argv[5], int(sys.argv[6])) if len(sys.argv) > 6 else (None, 1)
os.environ["KERAS_BACKEND"] = backend
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from bench.cell import models  # noqa: E402


class FixedDropout(keras.layers.Layer):
    """Dropout with a given mask (1 keeps, 0 drops), scaled as Dropout scales."""

    def __init__(self, mask, rate, **kwargs):
        super().__init__(**kwargs)
        self.mask, self.rate = np.asarray(mask, "float32"), rate

    def call(self, x, training=None):
        if not training:
            return x
        return x * keras.ops.cast(self.mask / (1 - self.rate), x.dtype)


def build(masks):
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(precision)
    generator = models.make_generator()
    plain = models.make_discriminator()
    dropouts = iter(masks)
    layers = [FixedDropout(next(dropouts), layer.rate) if isinstance(layer, keras.layers.Dropout)
              else layer for layer in plain.layers]
    discriminator = keras.Sequential([keras.Input(shape=(28, 28, 1)), *layers])
    return generator, discriminator


def main_protocol():
    """A PacGAN model's step: its networks, optimisers and schedule from its protocol."""
    from bench.cell.packing import StepPlan
    from bench.config import CellConfig

    cfg = CellConfig(model=model, data="stacked-mnist", packing_m=packing_m, batch_size=8,
                     precision=precision)
    plan = StepPlan.from_config(cfg)
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(precision)
    generator, discriminator = models.networks(cfg)
    if not Path(inputs).is_file():
        rng = np.random.default_rng(0)
        np.savez(inputs, batch=rng.uniform(-1, 1, (plan.images_per_step, 28, 28, 3)).astype(
            "float32"), noise=rng.uniform(-1, 1, plan.noise_shape).astype("float32"),
            **{f"g{i}": w for i, w in enumerate(generator.get_weights())},
            **{f"d{i}": w for i, w in enumerate(discriminator.get_weights())})
    given = np.load(inputs)
    generator.set_weights([given[f"g{i}"] for i in range(len(generator.get_weights()))])
    discriminator.set_weights([given[f"d{i}"] for i in range(len(discriminator.get_weights()))])
    gen_opt, disc_opt = models.make_optimizers(
        precision, cfg.learning_rate, cfg.adam_beta1, d_learning_rate=cfg.d_learning_rate,
        beta2=cfg.adam_beta2, epsilon=cfg.adam_epsilon)
    step = _step(generator, discriminator, gen_opt, disc_opt, plan)
    out = np.asarray(step.with_noise(given["batch"], given["noise"]))
    step.write_back()
    np.savez(outputs, outputs=out, g_steps=int(gen_opt.iterations.numpy() if hasattr(
        gen_opt.iterations, "numpy") else gen_opt.iterations), d_steps=int(np.asarray(
            disc_opt.iterations)),
        **{f"g{i}": w for i, w in enumerate(generator.get_weights())},
        **{f"d{i}": w for i, w in enumerate(discriminator.get_weights())})


def _step(generator, discriminator, gen_opt, disc_opt, plan):
    if backend == "jax":
        from bench.cell.jax_step import JaxTrainStep

        return JaxTrainStep(generator, discriminator, gen_opt, disc_opt, plan=plan, xla=True,
                            seed=0)
    from bench.cell.step import TrainStep

    return TrainStep(generator, discriminator, gen_opt, disc_opt, plan=plan, xla=False,
                     precision=precision)


def main():
    if model:
        return main_protocol()
    from bench.cell.packing import StepPlan

    batch_size = 16
    if not Path(inputs).is_file():
        rng = np.random.default_rng(0)
        from bench.datasets import images_to_unit_range, load_split

        digits = images_to_unit_range(load_split("mnist-5k").images[:batch_size])
        masks = [(rng.random((batch_size, 14, 14, 64)) > 0.3).astype("float32"),
                 (rng.random((batch_size, 7, 7, 128)) > 0.3).astype("float32")]
        generator, discriminator = build(masks)
        np.savez(inputs, batch=digits, noise=rng.standard_normal(
            (batch_size, models.NOISE_DIM)).astype("float32"), mask0=masks[0], mask1=masks[1],
            **{f"g{i}": w for i, w in enumerate(generator.get_weights())},
            **{f"d{i}": w for i, w in enumerate(discriminator.get_weights())})
    given = np.load(inputs)
    generator, discriminator = build([given["mask0"], given["mask1"]])
    generator.set_weights([given[f"g{i}"] for i in range(len(generator.get_weights()))])
    discriminator.set_weights([given[f"d{i}"] for i in range(len(discriminator.get_weights()))])
    gen_opt, disc_opt = models.make_optimizers(precision)
    step = _step(generator, discriminator, gen_opt, disc_opt, StepPlan(batch_size))
    out = np.asarray(step.with_noise(given["batch"], given["noise"]))
    step.write_back()
    np.savez(outputs, outputs=out,
             **{f"g{i}": w for i, w in enumerate(generator.get_weights())},
             **{f"d{i}": w for i, w in enumerate(discriminator.get_weights())})


if __name__ == "__main__":
    main()
