"""FLOPs per training image of each model (bench.protocols), derived analytically from its layers.

Counting rule: a multiply-add is 2 FLOPs; only Dense and convolution layers are counted
(batch norm, activations, dropout and the loss add well under 1%). A transposed convolution is
counted by its *input* positions (each input pixel scatters a k x k x C_out patch): that is the
arithmetic a direct implementation does. Cost of a layer:

    forward      F
    weight grad  F   (one more multiply-add per forward multiply-add)
    input grad   F   (skipped where no gradient flows further back: the first layer of a path)

The step, as bench.cell.step runs it, per pack (g: G forward a sample, d: D forward a pack of m
samples; m = 1 without packing):
    simultaneous (the tutorial's): G forward m times; D forward twice (real, fake);
    disc loss: D weight grads on real and fake, D input grads on both except D's first layer;
    gen loss: D input grads on fake down to the image (all D layers), G weight grads, G input
    grads except G's first layer (nothing flows into the noise).
    alternating (PacGAN's): the discriminator's update as above (its own G and D forwards); then
    each of the k generator updates: G forward m times, D forward on the fake, D input grads to
    the image, G weight and input grads (no D weight grads: nothing asks for them).
A step's FLOPs over the real images it reads (batch x m) is `flops_per_image`.

A second count, `unpadded`, skips the taps that land in SAME padding (a 5x5 kernel at a 7x7
map's corner reads 9 real pixels, not 25): the arithmetic a kernel that skips padding would do.
Every pass of a layer (forward, weight grad, input grad) visits the same (position, tap) pairs,
so the step's unpadded count is the same sum with each layer's unpadded forward count.

TensorFlow's profiler, run on the traced step, reports about 1.5x this; the extra is gradient
ops no output or variable update uses, which Grappler prunes before the step runs. Counting only
live ops gives exactly this number (tests/flops_profile.py, tests/test_flops.py). The record holds
the analytic count: the arithmetic the step does, comparable across implementations and devices.
"""

# (kind, positions side, C_in, C_out, kernel, stride, far side) in forward order. The positions
# counted are a conv's outputs and a transposed conv's inputs; the far side is the other end (a
# conv's input, a transposed conv's output). Dense: (kind, 1, n_in, n_out, 1, 1, 1).
GENERATOR_LAYERS = (
    ("dense", 1, 100, 7 * 7 * 256, 1, 1, 1),
    ("conv_transpose", 7, 256, 128, 5, 1, 7),    # 7x7 -> 7x7
    ("conv_transpose", 7, 128, 64, 5, 2, 14),    # 7x7 -> 14x14
    ("conv_transpose", 14, 64, 1, 5, 2, 28),     # 14x14 -> 28x28
)
DISCRIMINATOR_LAYERS = (
    ("conv", 14, 1, 64, 5, 2, 28),      # 28x28 -> 14x14
    ("conv", 7, 64, 128, 5, 2, 14),     # 14x14 -> 7x7
    ("dense", 1, 7 * 7 * 128, 1, 1, 1, 1),
)


def layer_forward_flops(kind: str, size: int, c_in: int, c_out: int, kernel: int,
                        stride: int = 1, far: int = 1, *, unpadded: bool = False) -> int:
    """Forward FLOPs of one layer for one image; `size` is the side of the positions counted.
    `unpadded`: only the taps that land inside the image."""
    if kind == "dense":
        return 2 * c_in * c_out
    # conv: output positions; conv_transpose: input positions (see the module docstring)
    taps = valid_taps_1d(size, far, stride, kernel) if unpadded else size * kernel
    return 2 * taps * taps * c_in * c_out


def valid_taps_1d(near: int, far: int, stride: int, kernel: int) -> int:
    """(position, tap) pairs along one axis that land inside the far side, SAME padding.

    A conv reads input `o * stride + j - before` for output o and tap j; a transposed conv
    writes output `i * stride + j - before` from input i: the same pairs, with `before` the
    padding (or crop) ahead of the first position, TensorFlow's half of the total."""
    before = max((near - 1) * stride + kernel - far, 0) // 2
    return sum(1 for o in range(near) for j in range(kernel)
               if 0 <= o * stride + j - before < far)


def network_forward_flops(layers, *, unpadded: bool = False) -> int:
    return sum(layer_forward_flops(*layer, unpadded=unpadded) for layer in layers)


def layers_for_channels(channels: int) -> tuple:
    """(generator layers, discriminator layers) of the tutorial's networks for images of
    `channels` channels: only the generator's last layer and the discriminator's first change."""
    g_last, d_first = GENERATOR_LAYERS[-1], DISCRIMINATOR_LAYERS[0]
    return ((*GENERATOR_LAYERS[:-1], (*g_last[:3], channels, *g_last[4:])),
            ((*d_first[:2], channels, *d_first[3:]), *DISCRIMINATOR_LAYERS[1:]))


def _table2_layers(noise_dim, channels, m) -> tuple:
    g = (("dense", 1, noise_dim, 2 * 2 * 512, 1, 1, 1), ("conv_transpose", 2, 512, 256, 5, 2, 4),
         ("conv_transpose", 4, 256, 128, 5, 2, 7), ("conv_transpose", 7, 128, 64, 5, 2, 14),
         ("conv_transpose", 14, 64, channels, 5, 2, 28))
    d = (("conv", 14, channels * m, 64, 5, 2, 28), ("conv", 7, 64, 128, 5, 2, 14),
         ("conv", 4, 128, 256, 5, 2, 7), ("conv", 2, 256, 512, 5, 2, 4),
         ("dense", 1, 2 * 2 * 512, 1, 1, 1, 1))
    return g, d


def _table3_layers(noise_dim, channels, m, d_width) -> tuple:
    g = (("dense", 1, noise_dim, 4 * 4 * 64, 1, 1, 1), ("conv_transpose", 4, 64, 32, 3, 2, 7),
         ("conv_transpose", 7, 32, 16, 3, 2, 14), ("conv_transpose", 14, 16, 8, 3, 2, 28),
         ("conv", 28, 8, channels, 3, 1, 28))
    f0, f1, f2 = (round(f * d_width) for f in (8, 16, 32))
    d = (("conv", 14, channels * m, f0, 3, 2, 28), ("conv", 7, f0, f1, 3, 2, 14),
         ("conv", 4, f1, f2, 3, 2, 7), ("dense", 1, 4 * 4 * f2, 1, 1, 1, 1))
    return g, d


def layers_for(model: str, channels: int, *, noise_dim: int = 100, packing_m: int = 1,
               d_width: float | None = None) -> tuple:
    """(generator layers, discriminator layers) of `model` (bench.protocols), the discriminator
    reading packs of `packing_m` images."""
    if model == "pacgan-dcgan":
        return _table2_layers(noise_dim, channels, packing_m)
    if model == "unrolled-dcgan":
        return _table3_layers(noise_dim, channels, packing_m, d_width)
    g, d = layers_for_channels(channels)
    d_first = d[0]
    return (((*g[0][:2], noise_dim, *g[0][3:]), *g[1:]),
            ((*d_first[:2], channels * packing_m, *d_first[3:]), *d[1:]))


def train_step_flops_per_image(channels: int = 1, *, model: str = "dcgan-tutorial",
                               noise_dim: int = 100, packing_m: int = 1,
                               d_width: float | None = None, schedule: str = "simultaneous",
                               g_steps: int = 1, unpadded: bool = False) -> int:
    """Analytic FLOPs of one training step per real image (module docstring has the
    accounting); `unpadded`: without the taps in SAME padding."""
    generator, discriminator = layers_for(model, channels, noise_dim=noise_dim,
                                          packing_m=packing_m, d_width=d_width)
    m = packing_m
    g = network_forward_flops(generator, unpadded=unpadded)
    g_first = layer_forward_flops(*generator[0], unpadded=unpadded)
    d = network_forward_flops(discriminator, unpadded=unpadded)
    d_first = layer_forward_flops(*discriminator[0], unpadded=unpadded)
    disc_update = m * g + 2 * d + 2 * d + 2 * (d - d_first)
    if schedule == "simultaneous":  # one forward feeds both updates
        per_pack = disc_update + d + m * g + m * (g - g_first)
    else:
        per_pack = disc_update + g_steps * (m * g + d + d + m * g + m * (g - g_first))
    return per_pack // m


def config_step_flops_per_image(cfg, *, unpadded: bool = False) -> int:
    """train_step_flops_per_image for a cell configuration."""
    from bench.datasets import channels

    return train_step_flops_per_image(
        channels(cfg.data), model=cfg.model, noise_dim=cfg.noise_dim, packing_m=cfg.packing_m,
        d_width=cfg.d_width, schedule=cfg.schedule, g_steps=cfg.g_steps, unpadded=unpadded)


def flops_summary(per_image: int, images_per_sec: dict, unpadded: int | None = None) -> dict:
    """flops_per_image (and its unpadded count) and the achieved FLOP/s at the median
    images/sec (None if unmeasured)."""
    median = images_per_sec.get("median") if images_per_sec else None
    return {"flops_per_image": per_image, "flops_per_image_unpadded": unpadded,
            "flops_counting": "analytic",
            "achieved_flops_per_sec": per_image * median if median else None}
