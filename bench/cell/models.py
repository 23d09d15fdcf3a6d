"""The reference DCGAN of the TensorFlow tutorial: the single source of truth for the model.

Generator and discriminator, their losses and optimizers, exactly as the tutorial "Deep
Convolutional Generative Adversarial Network" builds them. Under a Keras mixed-precision policy
the last layer of each network computes in float32 (the Keras mixed-precision guide's rule for
outputs), which changes no parameter count. Written in Keras 3 alone (keras.ops, no TensorFlow
call), so the same definitions run under Keras' TensorFlow and JAX backends.
"""

import functools

import numpy as np

NOISE_DIM = 100
LEARNING_RATE = 1e-4
ADAM_BETA1 = 0.9  # Keras' default, which the tutorial keeps
# Parameter counts of the one-channel networks; three channels (stacked-mnist) add
# 5 x 5 x 64 x 2 = 3,200 weights to the generator's last layer and to the discriminator's first.
GENERATOR_PARAMS = 2_330_944
DISCRIMINATOR_PARAMS = 212_865


def _keras():
    """Keras, imported on first use, not at this module's import: a cell process has chosen its
    framework already (bench.imports.start_framework); a command such as `eval` has not, and
    Keras then runs on what is installed (bench.imports.prepare_keras). Importing this module
    changes nothing in the process."""
    from bench.imports import prepare_keras

    prepare_keras()
    import keras

    return keras


def make_generator(channels: int = 1):
    """The tutorial's generator (a keras.Sequential); `channels` image channels (1, or 3 for
    stacked-mnist)."""
    keras = _keras()
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
        keras.layers.Conv2DTranspose(channels, 5, strides=2, padding="same", use_bias=False,
                                     activation="tanh", dtype="float32"),
    ], name="generator")


def make_discriminator(channels: int = 1):
    """The tutorial's discriminator for images of `channels` channels."""
    keras = _keras()
    return keras.Sequential([
        keras.Input(shape=(28, 28, channels)),
        keras.layers.Conv2D(64, 5, strides=2, padding="same"),
        keras.layers.LeakyReLU(),
        keras.layers.Dropout(0.3),
        keras.layers.Conv2D(128, 5, strides=2, padding="same"),
        keras.layers.LeakyReLU(),
        keras.layers.Dropout(0.3),
        keras.layers.Flatten(),
        keras.layers.Dense(1, dtype="float32"),
    ], name="discriminator")


@functools.cache
def _cross_entropy():
    return _keras().losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    ops = _keras().ops
    real_loss = _cross_entropy()(ops.ones_like(real_output), real_output)
    fake_loss = _cross_entropy()(ops.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss


def generator_loss(fake_output):
    return _cross_entropy()(_keras().ops.ones_like(fake_output), fake_output)


def make_optimizers(precision: str, learning_rate: float = LEARNING_RATE,
                    beta1: float = ADAM_BETA1):
    """Two Adam(learning_rate, beta_1) optimizers (the tutorial's: 1e-4 and Keras' default 0.9);
    under mixed_float16 both wrapped in a dynamic LossScaleOptimizer.

    float16 gradients underflow without loss scaling; the Keras GAN guide's custom loop leaves the
    optimizers unwrapped under mixed_float16 and then fails to converge. bfloat16 has float32's
    exponent range and needs no scaling.
    """
    keras = _keras()
    gen = keras.optimizers.Adam(learning_rate, beta_1=beta1)
    disc = keras.optimizers.Adam(learning_rate, beta_1=beta1)
    if precision == "mixed_float16":
        gen = keras.mixed_precision.LossScaleOptimizer(gen)
        disc = keras.mixed_precision.LossScaleOptimizer(disc)
    return gen, disc


def seeded_models(cfg) -> tuple:
    """(generator, discriminator, generator optimizer, discriminator optimizer) for a cell's
    configuration: built after seeding Keras with its seed (each seed its own initial weights),
    under its precision policy, for its data set's channels, with its optimiser settings; the
    same under any Keras backend (call inside the framework's device scope)."""
    from bench.datasets import channels

    keras = _keras()
    keras.utils.set_random_seed(cfg.seed)
    keras.mixed_precision.set_global_policy(cfg.precision)
    return (make_generator(channels(cfg.data)), make_discriminator(channels(cfg.data)),
            *make_optimizers(cfg.precision, cfg.learning_rate, cfg.adam_beta1))


def count_params(model) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.weights))
