"""The reference DCGAN of the TensorFlow tutorial: the single source of truth for the model.

Generator and discriminator, their losses and optimizers, exactly as the tutorial "Deep
Convolutional Generative Adversarial Network" builds them. Under a Keras mixed-precision policy
the last layer of each network computes in float32 (the Keras mixed-precision guide's rule for
outputs), which changes no parameter count. Written in Keras 3 alone (keras.ops, no TensorFlow
call), so the same definitions run under Keras' TensorFlow and JAX backends.
"""

import numpy as np

from bench.imports import prepare_keras

# A cell process has chosen its framework already (bench.cell.frameworks.start_framework); a
# command such as `eval` has not: Keras then runs on what is installed, the other kept out.
prepare_keras()
import keras  # noqa: E402

NOISE_DIM = 100
LEARNING_RATE = 1e-4
GENERATOR_PARAMS = 2_330_944
DISCRIMINATOR_PARAMS = 212_865


def make_generator() -> keras.Sequential:
    return keras.Sequential([
        keras.Input(shape=(NOISE_DIM,)),
        keras.layers.Dense(7 * 7 * 256, use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.LeakyReLU(),
        keras.layers.Reshape((7, 7, 256)),
        keras.layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.LeakyReLU(),
        keras.layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.LeakyReLU(),
        keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                                     activation="tanh", dtype="float32"),
    ], name="generator")


def make_discriminator() -> keras.Sequential:
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(64, 5, strides=2, padding="same"),
        keras.layers.LeakyReLU(),
        keras.layers.Dropout(0.3),
        keras.layers.Conv2D(128, 5, strides=2, padding="same"),
        keras.layers.LeakyReLU(),
        keras.layers.Dropout(0.3),
        keras.layers.Flatten(),
        keras.layers.Dense(1, dtype="float32"),
    ], name="discriminator")


_cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    real_loss = _cross_entropy(keras.ops.ones_like(real_output), real_output)
    fake_loss = _cross_entropy(keras.ops.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss


def generator_loss(fake_output):
    return _cross_entropy(keras.ops.ones_like(fake_output), fake_output)


def make_optimizers(precision: str, learning_rate: float = LEARNING_RATE):
    """Two Adam(1e-4) optimizers; under mixed_float16 both wrapped in a dynamic LossScaleOptimizer.

    float16 gradients underflow without loss scaling; the Keras GAN guide's custom loop leaves the
    optimizers unwrapped under mixed_float16 and then fails to converge. bfloat16 has float32's
    exponent range and needs no scaling.
    """
    gen = keras.optimizers.Adam(learning_rate)
    disc = keras.optimizers.Adam(learning_rate)
    if precision == "mixed_float16":
        gen = keras.mixed_precision.LossScaleOptimizer(gen)
        disc = keras.mixed_precision.LossScaleOptimizer(disc)
    return gen, disc


def seeded_models(seed: int, precision: str) -> tuple:
    """(generator, discriminator, generator optimizer, discriminator optimizer), built after
    seeding Keras with `seed` (each seed its own initial weights) under the precision policy
    `precision`; the same under any Keras backend (call inside the framework's device scope)."""
    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_global_policy(precision)
    return (make_generator(), make_discriminator(), *make_optimizers(precision))


def count_params(model) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.weights))
