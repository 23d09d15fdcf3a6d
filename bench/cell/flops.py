"""FLOPs per training image of the reference DCGAN, derived analytically from its layers.

Counting rule: a multiply-add is 2 FLOPs; only Dense and convolution layers are counted
(batch norm, activations, dropout and the loss add well under 1%). A transposed convolution is
counted by its *input* positions (each input pixel scatters a k x k x C_out patch): that is the
arithmetic a direct implementation does. Cost of a layer:

    forward      F
    weight grad  F   (one more multiply-add per forward multiply-add)
    input grad   F   (skipped where no gradient flows further back: the first layer of a path)

The step, as bench.cell.step runs it, per image:
    G forward once; D forward twice (real, fake);
    disc loss: D weight grads on real and fake, D input grads on both except D's first layer;
    gen loss: D input grads on fake down to the image (all D layers), G weight grads, G input
    grads except G's first layer (nothing flows into the noise).

TensorFlow's profiler, run on the traced step, reports about 1.5x this; the extra is gradient
ops no output or variable update uses, which Grappler prunes before the step runs. Counting only
live ops gives exactly this number (tests/flops_profile.py, tests/test_flops.py). The record holds
the analytic count: the arithmetic the step does, comparable across implementations and devices.
"""

# (kind, input HxW, C_in, C_out, kernel) in forward order; dense as (kind, -, n_in, n_out, -)
GENERATOR_LAYERS = (
    ("dense", 1, 100, 7 * 7 * 256, 1),
    ("conv_transpose", 7, 256, 128, 5),   # stride 1: 7x7 -> 7x7
    ("conv_transpose", 7, 128, 64, 5),    # stride 2: 7x7 -> 14x14
    ("conv_transpose", 14, 64, 1, 5),     # stride 2: 14x14 -> 28x28
)
DISCRIMINATOR_LAYERS = (
    ("conv", 14, 1, 64, 5),      # output 14x14 (stride 2 from 28x28)
    ("conv", 7, 64, 128, 5),     # output 7x7
    ("dense", 1, 7 * 7 * 128, 1, 1),
)


def layer_forward_flops(kind: str, size: int, c_in: int, c_out: int, kernel: int) -> int:
    """Forward FLOPs of one layer for one image; `size` is the side of the positions counted."""
    if kind == "dense":
        return 2 * c_in * c_out
    # conv: output positions; conv_transpose: input positions (see the module docstring)
    return 2 * size * size * c_in * c_out * kernel * kernel


def network_forward_flops(layers) -> int:
    return sum(layer_forward_flops(*layer) for layer in layers)


def layers_for_channels(channels: int) -> tuple:
    """(generator layers, discriminator layers) for images of `channels` channels: only the
    generator's last layer and the discriminator's first change."""
    g_last, d_first = GENERATOR_LAYERS[-1], DISCRIMINATOR_LAYERS[0]
    return ((*GENERATOR_LAYERS[:-1], (*g_last[:3], channels, g_last[4])),
            ((*d_first[:2], channels, *d_first[3:]), *DISCRIMINATOR_LAYERS[1:]))


def train_step_flops_per_image(channels: int = 1) -> int:
    """Analytic FLOPs of one training step per image (module docstring has the accounting)."""
    generator, discriminator = layers_for_channels(channels)
    g = network_forward_flops(generator)
    g_first = layer_forward_flops(*generator[0])
    d = network_forward_flops(discriminator)
    d_first = layer_forward_flops(*discriminator[0])
    forward = g + 2 * d
    disc_backward = 2 * d + 2 * (d - d_first)
    gen_backward = d + g + (g - g_first)
    return forward + disc_backward + gen_backward


def flops_summary(batch_size: int, images_per_sec: dict, channels: int = 1) -> dict:
    """flops_per_image and the achieved FLOP/s at the median images/sec (None if unmeasured)."""
    per_image = train_step_flops_per_image(channels)
    median = images_per_sec.get("median") if images_per_sec else None
    return {"flops_per_image": per_image, "flops_counting": "analytic",
            "achieved_flops_per_sec": per_image * median if median else None}
