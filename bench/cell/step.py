"""The harness's training step under TensorFlow: the tutorial's `train_step`, its model's
protocol (bench.protocols), plus what the harness logs.

The simultaneous schedule is exactly the tutorial's update (both networks, one step each, on one
batch and one draw of noise, both gradients from one forward pass). The alternating schedule is
PacGAN's: one discriminator update on the real batch and the generated one, then `g_steps`
generator updates on the same noise (their `feed_dict_z`, fed to each `sess.run`). Packs are
built by bench.cell.packing. A step returns the generator's loss (its last update's), the
discriminator's, and mean D(x) and D(G(z)) as probabilities (of the discriminator's update),
stacked into one tensor so that the loop can end a log window with a single host sync. XLA is
chosen explicitly: `jit_compile=False` when off, because Keras 3's default "auto" turns XLA on
for GPUs.
"""

import tensorflow as tf

from bench import protocols
from bench.cell import models
from bench.cell.packing import StepPlan, generated_input, real_input
from bench.cell.timing import STEP_OUTPUTS  # noqa: F401 - the columns of what a step returns


class TrainStep:
    """A traced training step over fixed models and optimizers; call it with one image batch
    (batch x m images: the batch counts packs)."""

    def __init__(self, generator, discriminator, gen_opt, disc_opt, *, plan: StepPlan,
                 xla: bool, precision: str):
        self.generator = generator
        self.discriminator = discriminator
        self.gen_opt = gen_opt
        self.disc_opt = disc_opt
        self.plan = plan
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
        """One step with the generator's noise given rather than drawn, (m, B, noise_dim) or
        (B, noise_dim) unpacked: a TensorFlow step and a JAX step compared from the same noise
        (tests/test_jax_framework.py). Traced once more."""
        noise = tf.convert_to_tensor(noise)
        return self._fn(images, noise if noise.shape.rank == 3 else noise[None])

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

    def _noise(self):
        shape = self.plan.noise_shape
        if self.plan.noise == protocols.UNIFORM:
            return tf.random.uniform(shape, -1.0, 1.0)
        return tf.random.normal(shape)

    def _step(self, images, noise=None):
        noise = self._noise() if noise is None else noise
        real = real_input(images, self.plan)
        if self.plan.schedule == protocols.SIMULTANEOUS:
            return self._simultaneous(real, noise)
        with tf.GradientTape() as disc_tape:
            real_output = self.discriminator(real, training=True)
            fake_output = self.discriminator(
                generated_input(self.generator, noise, self.plan), training=True)
            disc_loss = models.discriminator_loss(real_output, fake_output)
            disc_target = self.disc_opt.scale_loss(disc_loss) if self.loss_scaled else disc_loss
        self._update(disc_tape.gradient(disc_target, self.discriminator.trainable_variables),
                     self.discriminator, self.disc_opt, self.disc_skipped)
        gen_loss = None
        for _ in range(self.plan.g_steps):  # on the same noise, as PacGAN's feed_dict_z
            with tf.GradientTape() as gen_tape:
                fake = generated_input(self.generator, noise, self.plan)
                gen_loss = models.generator_loss(self.discriminator(fake, training=True))
                gen_target = self.gen_opt.scale_loss(gen_loss) if self.loss_scaled else gen_loss
            self._update(gen_tape.gradient(gen_target, self.generator.trainable_variables),
                         self.generator, self.gen_opt, self.gen_skipped)
        return _outputs(gen_loss, disc_loss, real_output, fake_output)

    def _simultaneous(self, real, noise):
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated = generated_input(self.generator, noise, self.plan)
            real_output = self.discriminator(real, training=True)
            fake_output = self.discriminator(generated, training=True)
            gen_loss = models.generator_loss(fake_output)
            disc_loss = models.discriminator_loss(real_output, fake_output)
            gen_target, disc_target = gen_loss, disc_loss
            if self.loss_scaled:
                gen_target = self.gen_opt.scale_loss(gen_loss)
                disc_target = self.disc_opt.scale_loss(disc_loss)
        # both gradients from the one forward pass, then both updates: the tutorial's order
        gen_grads = gen_tape.gradient(gen_target, self.generator.trainable_variables)
        disc_grads = disc_tape.gradient(disc_target, self.discriminator.trainable_variables)
        self._update(gen_grads, self.generator, self.gen_opt, self.gen_skipped)
        self._update(disc_grads, self.discriminator, self.disc_opt, self.disc_skipped)
        return _outputs(gen_loss, disc_loss, real_output, fake_output)

    def _update(self, grads, network, optimizer, skipped):
        if self.loss_scaled:
            # A LossScaleOptimizer skips an update whose gradients are not finite (and lowers its
            # scale); count each optimizer's skips.
            skipped.assign_add(tf.cast(tf.logical_not(_all_finite(grads)), tf.int64))
        optimizer.apply_gradients(zip(grads, network.trainable_variables))


def _outputs(gen_loss, disc_loss, real_output, fake_output):
    return tf.stack([
        tf.cast(gen_loss, tf.float32),
        tf.cast(disc_loss, tf.float32),
        tf.reduce_mean(tf.sigmoid(tf.cast(real_output, tf.float32))),
        tf.reduce_mean(tf.sigmoid(tf.cast(fake_output, tf.float32))),
    ])


def _all_finite(grads):
    return tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
