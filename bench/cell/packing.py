"""What a training step needs of its model's protocol (bench.protocols), the same under every
framework: the step's plan, and PacGAN's packs, in keras.ops.

Packing (PacGAN, Lin et al. 2018): the discriminator reads m samples at once, concatenated on
channels, all real or all generated. A step reads batch x m real images, in the order the data
pipeline shuffled them, and packs each run of m into one input (pack b holds images b m ..
b m + m - 1); it draws m noise batches and concatenates the m generated batches on channels (pack
b holds sample b of each). Channel j C + c of a pack is image j's channel c, the layout of
PacGAN's `tf.concat(self.G_sep, 3)` and of its packed real data (`X_stacked[..., j * 3 + k]`).
The generator is called once per noise batch, as PacGAN's code calls it, so batch norm's
statistics are taken over each batch of the batch size (one call on all m batches would take
them over m times as many).
"""

from dataclasses import dataclass

from bench import protocols


@dataclass(frozen=True)
class StepPlan:
    """A step's protocol: batch (packs), m, the noise, the update schedule, the real range."""

    batch_size: int
    packing_m: int = 1
    noise: str = protocols.NORMAL
    noise_dim: int = 100
    schedule: str = protocols.SIMULTANEOUS
    g_steps: int = 1
    data_range: str = protocols.SYMMETRIC

    @classmethod
    def from_config(cls, cfg) -> "StepPlan":
        return cls(cfg.batch_size, cfg.packing_m, cfg.noise, cfg.noise_dim, cfg.schedule,
                   cfg.g_steps, cfg.data_range)

    @property
    def images_per_step(self) -> int:
        """Real images a step reads: the batch counts packs."""
        return self.batch_size * self.packing_m

    @property
    def noise_shape(self) -> tuple:
        return (self.packing_m, self.batch_size, self.noise_dim)


def pack(images, m: int):
    """(B m, H, W, C) images -> (B, H, W, m C) packs of m consecutive images."""
    from bench.imports import keras_module

    ops = keras_module().ops
    if m == 1:
        return images
    n, h, w, c = images.shape
    packs = ops.reshape(images, (n // m, m, h, w, c))
    return ops.reshape(ops.transpose(packs, (0, 2, 3, 1, 4)), (n // m, h, w, m * c))


def real_input(images, plan: StepPlan):
    """The discriminator's real input: the pipeline's [-1, 1] images in the protocol's range
    (PacGAN's Table 2 divides by 255: [0, 1]), packed."""
    if plan.data_range == protocols.UNIT:
        images = (images + 1.0) / 2.0
    return pack(images, plan.packing_m)


def generated_input(generator, noise, plan: StepPlan, call=None):
    """The discriminator's generated input: one generator call per noise batch (m of them),
    concatenated on channels. `call(generator, z)` runs the generator (default: in training
    mode); JAX's stateless step passes its own."""
    from bench.imports import keras_module

    call = call or (lambda g, z: g(z, training=True))
    fakes = [call(generator, noise[i]) for i in range(plan.packing_m)]
    return fakes[0] if len(fakes) == 1 else keras_module().ops.concatenate(fakes, axis=-1)
