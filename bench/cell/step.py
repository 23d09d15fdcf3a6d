"""The harness's training step: the tutorial's `train_step`, plus what the harness logs.

It computes exactly the tutorial's update (both networks, one step each, on one batch and one
draw of noise) and also returns mean D(x) and D(G(z)) as probabilities, stacked into one tensor so
that the loop can end a log window with a single host sync. XLA is chosen explicitly:
`jit_compile=False` when off, because Keras 3's default "auto" turns XLA on for GPUs.
"""

import tensorflow as tf

from bench.cell import models
from bench.cell.timing import STEP_OUTPUTS  # noqa: F401 - the columns of what a step returns


class TrainStep:
    """A traced training step over fixed models and optimizers; call it with one image batch."""

    def __init__(self, generator, discriminator, gen_opt, disc_opt, *, batch_size: int,
                 xla: bool, precision: str):
        self.generator = generator
        self.discriminator = discriminator
        self.gen_opt = gen_opt
        self.disc_opt = disc_opt
        self.batch_size = batch_size
        self.loss_scaled = precision == "mixed_float16"
        # Built before tracing: an unbuilt LossScaleOptimizer bakes its initial scale into the graph
        # as a constant, and the dynamic scale would never take effect.
        gen_opt.build(generator.trainable_variables)
        disc_opt.build(discriminator.trainable_variables)
        # Each LossScaleOptimizer skips on its own when its gradients are not finite: one count
        # per optimizer.
        self.gen_skipped = tf.Variable(0, dtype=tf.int64, trainable=False, name="gen_skipped")
        self.disc_skipped = tf.Variable(0, dtype=tf.int64, trainable=False, name="disc_skipped")
        self._fn = tf.function(self._step, jit_compile=bool(xla))

    def __call__(self, images):
        return self._fn(images)

    def with_noise(self, images, noise):
        """One step with the generator's noise given rather than drawn: a TensorFlow step and a
        JAX step compared from the same noise (tests/test_jax_framework.py). Traced once more."""
        return self._fn(images, tf.convert_to_tensor(noise))

    def concrete_function(self, batch_size: int):
        """The step traced for one batch shape: its graph, for inspection (tests count its FLOPs)."""
        return self._fn.get_concrete_function(tf.TensorSpec([batch_size, 28, 28, 1], tf.float32))

    @property
    def tracing_count(self) -> int:
        return self._fn.experimental_get_tracing_count()

    def loss_scales(self) -> dict:
        """Current loss scales of both optimizers and how many updates each skipped."""
        if not self.loss_scaled:
            return {}
        return {"gen_loss_scale": float(self.gen_opt.dynamic_scale.numpy()),
                "disc_loss_scale": float(self.disc_opt.dynamic_scale.numpy()),
                "gen_skipped_steps": int(self.gen_skipped.numpy()),
                "disc_skipped_steps": int(self.disc_skipped.numpy())}

    def write_back(self):
        """Nothing to do: the step trains the Keras variables themselves."""

    def _step(self, images, noise=None):
        if noise is None:
            noise = tf.random.normal([self.batch_size, models.NOISE_DIM])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated = self.generator(noise, training=True)
            real_output = self.discriminator(images, training=True)
            fake_output = self.discriminator(generated, training=True)
            gen_loss = models.generator_loss(fake_output)
            disc_loss = models.discriminator_loss(real_output, fake_output)
            gen_target, disc_target = gen_loss, disc_loss
            if self.loss_scaled:
                gen_target = self.gen_opt.scale_loss(gen_loss)
                disc_target = self.disc_opt.scale_loss(disc_loss)
        gen_grads = gen_tape.gradient(gen_target, self.generator.trainable_variables)
        disc_grads = disc_tape.gradient(disc_target, self.discriminator.trainable_variables)
        if self.loss_scaled:
            # A LossScaleOptimizer skips an update whose gradients are not finite (and lowers its
            # scale); count each optimizer's skips.
            self.gen_skipped.assign_add(tf.cast(tf.logical_not(_all_finite(gen_grads)), tf.int64))
            self.disc_skipped.assign_add(tf.cast(tf.logical_not(_all_finite(disc_grads)), tf.int64))
        self.gen_opt.apply_gradients(zip(gen_grads, self.generator.trainable_variables))
        self.disc_opt.apply_gradients(zip(disc_grads, self.discriminator.trainable_variables))
        return tf.stack([
            tf.cast(gen_loss, tf.float32),
            tf.cast(disc_loss, tf.float32),
            tf.reduce_mean(tf.sigmoid(tf.cast(real_output, tf.float32))),
            tf.reduce_mean(tf.sigmoid(tf.cast(fake_output, tf.float32))),
        ])


def _all_finite(grads):
    return tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
