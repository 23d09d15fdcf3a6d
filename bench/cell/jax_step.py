"""The training step under Keras 3's JAX backend: the same models, the same updates as
TensorFlow's (bench.cell.step), for every model and schedule of bench.protocols.

The simultaneous schedule (the tutorial's): noise drawn from the step's own key, G(noise) and D on
the real batch and on G(noise) (training mode: BatchNorm batch statistics, Dropout masks), the
generator's and discriminator's losses from bench.cell.models, both gradients from one `jax.vjp`
of a single forward pass. The alternating schedule (PacGAN's): a discriminator update, then
`g_steps` generator updates on the same noise, each from its own forward pass. Packs are built
as bench.cell.packing builds them, the generator called once per noise batch with its batch-norm
state threaded through the calls. Each Adam update by `optimizer.stateless_apply`. Keras'
stateless API keeps every variable in an explicit state (no TensorFlow, no Keras variable touched
while training); `write_back` puts the state into the Keras variables before the generator is
saved or sampled.

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

from bench import protocols
from bench.cell import models
from bench.cell.packing import StepPlan, real_input


def _generate(generator, gen_tv, gen_ntv, noise, m: int):
    """m generator calls in training mode, concatenated on channels (PacGAN's packs), the
    batch-norm state threaded from call to call."""
    import jax.numpy as jnp

    fakes = []
    for i in range(m):
        fake, gen_ntv = generator.stateless_call(gen_tv, gen_ntv, noise[i], training=True)
        fakes.append(fake)
    return (fakes[0] if m == 1 else jnp.concatenate(fakes, axis=-1)), gen_ntv


def _stats(real, fake):
    import jax
    import jax.numpy as jnp

    return jnp.stack([jnp.mean(jax.nn.sigmoid(real.astype(jnp.float32))),
                      jnp.mean(jax.nn.sigmoid(fake.astype(jnp.float32)))])


def losses_and_grads(generator, discriminator, m: int = 1):
    """f(state, real, noise) -> (outputs, grads, new non-trainable states), pure and jittable,
    the simultaneous schedule: outputs are (gen_loss, disc_loss, mean D(real), mean D(fake)) as
    float32."""
    import jax
    import jax.numpy as jnp

    def forward(gen_tv, disc_tv, gen_ntv, disc_ntv, images, noise):
        generated, gen_ntv = _generate(generator, gen_tv, gen_ntv, noise, m)
        real, disc_ntv = discriminator.stateless_call(disc_tv, disc_ntv, images, training=True)
        fake, disc_ntv = discriminator.stateless_call(disc_tv, disc_ntv, generated, training=True)
        gen_loss = models.generator_loss(fake)
        disc_loss = models.discriminator_loss(real, fake)
        return (gen_loss, disc_loss), (gen_ntv, disc_ntv, _stats(real, fake))

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


def alternating_updates(generator, discriminator, m: int = 1):
    """(d_step, g_step), pure and jittable, for the alternating schedule: the discriminator's
    loss, statistics and gradients on the real batch and a generated one; the generator's loss
    and gradients against the discriminator as it now is."""
    import jax

    def d_step(gen_tv, disc_tv, gen_ntv, disc_ntv, images, noise):
        generated, gen_ntv = _generate(generator, gen_tv, gen_ntv, noise, m)

        def loss(d_tv):
            real, ntv = discriminator.stateless_call(d_tv, disc_ntv, images, training=True)
            fake, ntv = discriminator.stateless_call(d_tv, ntv, generated, training=True)
            return models.discriminator_loss(real, fake), (ntv, _stats(real, fake))

        (disc_loss, (disc_ntv, stats)), grads = jax.value_and_grad(loss, has_aux=True)(disc_tv)
        return disc_loss, stats, grads, gen_ntv, disc_ntv

    def g_step(gen_tv, disc_tv, gen_ntv, disc_ntv, noise):
        def loss(g_tv):
            generated, g_ntv = _generate(generator, g_tv, gen_ntv, noise, m)
            fake, d_ntv = discriminator.stateless_call(disc_tv, disc_ntv, generated,
                                                       training=True)
            return models.generator_loss(fake), (g_ntv, d_ntv)

        (gen_loss, (gen_ntv, disc_ntv)), grads = jax.value_and_grad(loss, has_aux=True)(gen_tv)
        return gen_loss, grads, gen_ntv, disc_ntv

    return d_step, g_step


class JaxTrainStep:
    """A jitted (or op-by-op) training step over fixed models and optimizers, its state explicit;
    call it with one image batch, like bench.cell.step.TrainStep. `update(state, images)` is the
    pure step every seed of this configuration shares (bench.cell.jax_packed)."""

    def __init__(self, generator, discriminator, gen_opt, disc_opt, *, plan: StepPlan,
                 xla: bool, seed: int):
        self.generator, self.discriminator = generator, discriminator
        self.gen_opt, self.disc_opt = gen_opt, disc_opt
        gen_opt.build(generator.trainable_variables)
        disc_opt.build(discriminator.trainable_variables)
        self.state = initial_state(generator, discriminator, gen_opt, disc_opt, seed)
        self.update = make_update(generator, discriminator, gen_opt, disc_opt, plan)
        self.xla = xla
        self._fn, self.traces = traced(self.update, xla)

    @property
    def tracing_count(self) -> int | None:
        return self.traces() if self.xla else None

    def __call__(self, images):
        self.state, outputs = self._fn(self.state, images)
        return outputs

    def with_noise(self, images, noise):
        """One step with the generator's noise given rather than drawn, (m, B, noise_dim) or
        (B, noise_dim) unpacked (tests/test_jax_framework.py)."""
        noise = np.asarray(noise)
        noise = noise if noise.ndim == 3 else noise[None]
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


def draw_noise(key, plan: StepPlan):
    """(m, B, noise_dim) noise of the protocol's distribution from `key`."""
    import jax

    if plan.noise == protocols.UNIFORM:
        return jax.random.uniform(key, plan.noise_shape, minval=-1.0, maxval=1.0)
    return jax.random.normal(key, plan.noise_shape)


def make_update(generator, discriminator, gen_opt, disc_opt, plan: StepPlan):
    """state, images[, noise] -> new state, outputs: one training step of one seed, by the plan's
    schedule (noise drawn from the state's key unless given)."""
    import jax
    import jax.numpy as jnp

    m = plan.packing_m
    core = losses_and_grads(generator, discriminator, m)
    d_step, g_step = alternating_updates(generator, discriminator, m)

    def update(state, images, noise=None):
        gen_tv, gen_ntv, disc_tv, disc_ntv, gen_ov, disc_ov, key = state
        key, sub = jax.random.split(key)
        if noise is None:
            noise = draw_noise(sub, plan)
        real = real_input(images, plan)
        if plan.schedule == protocols.SIMULTANEOUS:
            outputs, gen_grads, disc_grads, gen_ntv, disc_ntv = core(
                gen_tv, disc_tv, gen_ntv, disc_ntv, real, noise)
            gen_tv, gen_ov = gen_opt.stateless_apply(gen_ov, gen_grads, gen_tv)
            disc_tv, disc_ov = disc_opt.stateless_apply(disc_ov, disc_grads, disc_tv)
        else:
            disc_loss, stats, disc_grads, gen_ntv, disc_ntv = d_step(
                gen_tv, disc_tv, gen_ntv, disc_ntv, real, noise)
            disc_tv, disc_ov = disc_opt.stateless_apply(disc_ov, disc_grads, disc_tv)
            for _ in range(plan.g_steps):  # on the same noise, as PacGAN's feed_dict_z
                gen_loss, gen_grads, gen_ntv, disc_ntv = g_step(
                    gen_tv, disc_tv, gen_ntv, disc_ntv, noise)
                gen_tv, gen_ov = gen_opt.stateless_apply(gen_ov, gen_grads, gen_tv)
            outputs = jnp.concatenate([jnp.stack([gen_loss, disc_loss]).astype(jnp.float32),
                                       stats])
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
