"""The tutorial's training step under Keras 3's JAX backend: the same models, the same update.

One step: noise drawn from the step's own key, G(noise) and D on the real batch and on G(noise)
(training mode: BatchNorm batch statistics, Dropout masks), the generator's and discriminator's
losses from bench.cell.models, both gradients from one `jax.vjp` of a single forward pass, and
each Adam update by `optimizer.stateless_apply`. Keras' stateless API keeps every variable in an
explicit state (no TensorFlow, no Keras variable touched while training); `write_back` puts the
state into the Keras variables before the generator is saved or sampled.

Pitfalls this handles (each measured when the backend was tried):
- The discriminator's non-trainable state holds Dropout's seed-generator state: the state after
  D(real) must go into D(fake), or both calls reuse one mask.
- `keras.utils.set_random_seed` before the models are built: each seed its own initial weights.
- Identical seeds give different random streams under TensorFlow and JAX: the backends agree in
  distribution; step by step only from injected noise and masks (tests/test_jax_framework.py).
- `xla` means `jax.jit` on or off (off: op by op), as it means `jit_compile` under TensorFlow.
- Several seeds in one program (bench.cell.jax_packed): one jitted function steps every seed's
  `update` over its state; a Python loop over the seeds inside the jit keeps each convolution a
  plain one (jax.vmap turns them into grouped convolutions, which XLA:CPU runs 25-40 times slower
  per seed).
- JAX retraces silently (a new shape or dtype compiles a new program): traces are counted where
  they happen, inside the traced function, so that the loop's retrace warning is real. Op by op
  (`xla` off) nothing is traced and the count is None.
"""

import numpy as np

from bench.cell import models


def losses_and_grads(generator, discriminator):
    """f(state, images, noise) -> (outputs, grads, new non-trainable states), pure and jittable:
    outputs are (gen_loss, disc_loss, mean D(real), mean D(fake)) as float32."""
    import jax
    import jax.numpy as jnp

    def forward(gen_tv, disc_tv, gen_ntv, disc_ntv, images, noise):
        generated, gen_ntv = generator.stateless_call(gen_tv, gen_ntv, noise, training=True)
        real, disc_ntv = discriminator.stateless_call(disc_tv, disc_ntv, images, training=True)
        fake, disc_ntv = discriminator.stateless_call(disc_tv, disc_ntv, generated, training=True)
        gen_loss = models.generator_loss(fake)
        disc_loss = models.discriminator_loss(real, fake)
        stats = jnp.stack([jnp.mean(jax.nn.sigmoid(real.astype(jnp.float32))),
                           jnp.mean(jax.nn.sigmoid(fake.astype(jnp.float32)))])
        return (gen_loss, disc_loss), (gen_ntv, disc_ntv, stats)

    def step(gen_tv, disc_tv, gen_ntv, disc_ntv, images, noise):
        (gen_loss, disc_loss), vjp, (gen_ntv, disc_ntv, stats) = jax.vjp(
            lambda g, d: forward(g, d, gen_ntv, disc_ntv, images, noise), gen_tv, disc_tv,
            has_aux=True)
        one, zero = jnp.ones_like(gen_loss), jnp.zeros_like(disc_loss)
        gen_grads, _ = vjp((one, zero))  # d gen_loss / d generator
        _, disc_grads = vjp((jnp.zeros_like(gen_loss), jnp.ones_like(disc_loss)))
        outputs = jnp.concatenate([jnp.stack([gen_loss, disc_loss]).astype(jnp.float32),
                                   stats])
        return outputs, gen_grads, disc_grads, gen_ntv, disc_ntv

    return step


class JaxTrainStep:
    """A jitted (or op-by-op) training step over fixed models and optimizers, its state explicit;
    call it with one image batch, like bench.cell.step.TrainStep. `update(state, images)` is the
    pure step every seed of this configuration shares (bench.cell.jax_packed)."""

    def __init__(self, generator, discriminator, gen_opt, disc_opt, *, batch_size: int,
                 xla: bool, seed: int):
        self.generator, self.discriminator = generator, discriminator
        self.gen_opt, self.disc_opt = gen_opt, disc_opt
        gen_opt.build(generator.trainable_variables)
        disc_opt.build(discriminator.trainable_variables)
        self.state = initial_state(generator, discriminator, gen_opt, disc_opt, seed)
        self.update = make_update(losses_and_grads(generator, discriminator), gen_opt, disc_opt,
                                  batch_size)
        self.xla = xla
        self._fn, self.traces = traced(self.update, xla)

    @property
    def tracing_count(self) -> int | None:
        return self.traces() if self.xla else None

    def __call__(self, images):
        self.state, outputs = self._fn(self.state, images)
        return outputs

    def with_noise(self, images, noise):
        """One step with the generator's noise given rather than drawn (tests/test_jax_framework.py)."""
        self.state, outputs = self._fn(self.state, images, noise)
        return outputs

    def loss_scales(self) -> dict:
        return {}

    def write_back(self):
        """Put the trained state into the Keras variables (before saving or sampling)."""
        write_back(self.state, self.generator, self.discriminator, self.gen_opt, self.disc_opt)


def traced(fn, xla: bool):
    """(fn jitted when `xla`, else fn itself; a function giving how often it was traced). The
    count is taken inside the function, which runs in Python once a trace."""
    import jax

    if not xla:
        return fn, lambda: None
    count = [0]

    def counted(*args):
        count[0] += 1
        return fn(*args)

    return jax.jit(counted), lambda: count[0]


def initial_state(generator, discriminator, gen_opt, disc_opt, seed: int) -> tuple:
    import jax

    return ([v.value for v in generator.trainable_variables],
            [v.value for v in generator.non_trainable_variables],
            [v.value for v in discriminator.trainable_variables],
            [v.value for v in discriminator.non_trainable_variables],
            [v.value for v in gen_opt.variables], [v.value for v in disc_opt.variables],
            jax.random.PRNGKey(seed))


def make_update(core, gen_opt, disc_opt, batch_size: int):
    """state, images[, noise] -> new state, outputs: one training step of one seed (noise drawn
    from the state's key unless given)."""
    import jax

    def update(state, images, noise=None):
        gen_tv, gen_ntv, disc_tv, disc_ntv, gen_ov, disc_ov, key = state
        key, sub = jax.random.split(key)
        if noise is None:
            noise = jax.random.normal(sub, (batch_size, models.NOISE_DIM))
        outputs, gen_grads, disc_grads, gen_ntv, disc_ntv = core(
            gen_tv, disc_tv, gen_ntv, disc_ntv, images, noise)
        gen_tv, gen_ov = gen_opt.stateless_apply(gen_ov, gen_grads, gen_tv)
        disc_tv, disc_ov = disc_opt.stateless_apply(disc_ov, disc_grads, disc_tv)
        return (gen_tv, gen_ntv, disc_tv, disc_ntv, gen_ov, disc_ov, key), outputs

    return update


def write_back(state, generator, discriminator, gen_opt, disc_opt):
    gen_tv, gen_ntv, disc_tv, disc_ntv, gen_ov, disc_ov, _ = state
    for variables, values in ((generator.trainable_variables, gen_tv),
                              (generator.non_trainable_variables, gen_ntv),
                              (discriminator.trainable_variables, disc_tv),
                              (discriminator.non_trainable_variables, disc_ntv),
                              (gen_opt.variables, gen_ov), (disc_opt.variables, disc_ov)):
        for variable, value in zip(variables, values):
            variable.assign(np.asarray(value))
