"""The models a cell trains: the single source of truth for the networks, their losses and
optimizers. The reference DCGAN of the TensorFlow tutorial is built here; PacGAN's two pairs in
bench.cell.pacgan_models; `networks(cfg)` picks by the configuration's model (bench.protocols).

Generator and discriminator, their losses and optimizers, exactly as the tutorial "Deep
Convolutional Generative Adversarial Network" builds them. Under a Keras mixed-precision policy
the last layer of each network computes in float32 (the Keras mixed-precision guide's rule for
outputs), which changes no parameter count. Written in Keras 3 alone (keras.ops, no TensorFlow
call), so the same definitions run under Keras' TensorFlow and JAX backends.
"""

import functools

import numpy as np

from bench.imports import keras_module

NOISE_DIM = 100
LEARNING_RATE = 1e-4
ADAM_BETA1 = 0.9  # Keras' default, which the tutorial keeps
# Parameter counts of the one-channel networks; three channels (stacked-mnist) add
# 5 x 5 x 64 x 2 = 3,200 weights to the generator's last layer and to the discriminator's first.
GENERATOR_PARAMS = 2_330_944
DISCRIMINATOR_PARAMS = 212_865


def make_generator(channels: int = 1, noise_dim: int = NOISE_DIM):
    """The tutorial's generator (a keras.Sequential); `channels` image channels (1, or 3 for
    stacked-mnist)."""
    keras = keras_module()
    return keras.Sequential([
        keras.Input(shape=(noise_dim,)),
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
    """The tutorial's discriminator for images of `channels` channels (packed: the channels of
    m images)."""
    keras = keras_module()
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
    return keras_module().losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    ops = keras_module().ops
    real_loss = _cross_entropy()(ops.ones_like(real_output), real_output)
    fake_loss = _cross_entropy()(ops.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss


def generator_loss(fake_output):
    return _cross_entropy()(keras_module().ops.ones_like(fake_output), fake_output)


def make_optimizers(precision: str, learning_rate: float = LEARNING_RATE,
                    beta1: float = ADAM_BETA1, *, d_learning_rate: float | None = None,
                    beta2: float = 0.999, epsilon: float = 1e-7):
    """The generator's and the discriminator's Adam (the tutorial's: 1e-4 for both, Keras'
    defaults beta_1 0.9, beta_2 0.999, epsilon 1e-7; `d_learning_rate` None: the generator's);
    under mixed_float16 both wrapped in a dynamic LossScaleOptimizer.

    float16 gradients underflow without loss scaling; the Keras GAN guide's custom loop leaves the
    optimizers unwrapped under mixed_float16 and then fails to converge. bfloat16 has float32's
    exponent range and needs no scaling.
    """
    keras = keras_module()
    gen = keras.optimizers.Adam(learning_rate, beta_1=beta1, beta_2=beta2, epsilon=epsilon)
    disc = keras.optimizers.Adam(learning_rate if d_learning_rate is None else d_learning_rate,
                                 beta_1=beta1, beta_2=beta2, epsilon=epsilon)
    if precision == "mixed_float16":
        gen = keras.mixed_precision.LossScaleOptimizer(gen)
        disc = keras.mixed_precision.LossScaleOptimizer(disc)
    return gen, disc


def networks(cfg) -> tuple:
    """(generator, discriminator) of the configuration's model (bench.protocols) for its data
    set's channels, the discriminator reading `packing_m` images at once; built under the
    current precision policy and random seed."""
    from bench import protocols
    from bench.cell import pacgan_models as pacgan
    from bench.datasets import channels

    c = channels(cfg.data)
    if cfg.model == protocols.PACGAN_DCGAN.model:
        return (pacgan.table2_generator(cfg.noise_dim, c),
                pacgan.table2_discriminator(c, cfg.packing_m))
    if cfg.model == protocols.UNROLLED_DCGAN.model:
        return (pacgan.table3_generator(cfg.noise_dim, c),
                pacgan.table3_discriminator(c, cfg.packing_m, cfg.d_width))
    return make_generator(c, cfg.noise_dim), make_discriminator(c * cfg.packing_m)


def seeded_models(cfg) -> tuple:
    """(generator, discriminator, generator optimizer, discriminator optimizer) for a cell's
    configuration: built after seeding Keras with its seed (each seed its own initial weights),
    under its precision policy, with its model's networks and its optimiser settings; the same
    under any Keras backend (call inside the framework's device scope)."""
    keras = keras_module()
    keras.utils.set_random_seed(cfg.seed)
    keras.mixed_precision.set_global_policy(cfg.precision)
    return (*networks(cfg), *make_optimizers(
        cfg.precision, cfg.learning_rate, cfg.adam_beta1, d_learning_rate=cfg.d_learning_rate,
        beta2=cfg.adam_beta2, epsilon=cfg.adam_epsilon))


def count_params(model) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.weights))
