import pytest

from bench.cell import flops, models


def _keras_layer_table(model):
    """(kind, positions side, c_in, c_out, kernel, stride, far side) read off a built Keras
    model."""
    table = []
    for layer in model.layers:
        name = type(layer).__name__
        if name == "Dense":
            table.append(("dense", 1, layer.kernel.shape[0], layer.kernel.shape[1], 1, 1, 1))
        elif name == "Conv2D":
            k, _, c_in, c_out = layer.kernel.shape
            table.append(("conv", layer.output.shape[1], c_in, c_out, k, layer.strides[0],
                          layer.input.shape[1]))
        elif name == "Conv2DTranspose":
            k, _, c_out, c_in = layer.kernel.shape
            table.append(("conv_transpose", layer.input.shape[1], c_in, c_out, k,
                          layer.strides[0], layer.output.shape[1]))
    return tuple(table)


def _taps_inside(layer) -> int:
    """(position, tap) pairs of a Keras convolution that land inside the image, counted by
    running it: one channel in and out, a kernel of ones on an input of ones, so each output
    pixel sums the taps that reached it."""
    import numpy as np

    config = {**layer.get_config(), "filters": 1, "use_bias": False, "activation": None,
              "kernel_initializer": "ones"}
    one = type(layer).from_config(config)
    side = layer.input.shape[1]
    return int(np.asarray(one(np.ones((1, side, side, 1), "float32"))).sum().round())


def test_layer_tables_match_the_models():
    assert _keras_layer_table(models.make_generator()) == flops.GENERATOR_LAYERS
    assert _keras_layer_table(models.make_discriminator()) == flops.DISCRIMINATOR_LAYERS


@pytest.mark.parametrize("model, width", [("dcgan-tutorial", None), ("pacgan-dcgan", None),
                                          ("unrolled-dcgan", 0.5)])
def test_unpadded_taps_are_the_ones_a_convolution_of_ones_reaches(model, width):
    from bench.config import CellConfig

    cfg = CellConfig(model=model, d_width=width, data="stacked-mnist")
    generator, discriminator = models.networks(cfg)
    for network in (generator, discriminator):
        convs = [layer for layer in network.layers if type(layer).__name__.startswith("Conv2D")]
        table = [row for row in _keras_layer_table(network) if row[0] != "dense"]
        assert len(convs) == len(table) >= 2
        for layer, (_, size, _, _, kernel, stride, far) in zip(convs, table):
            assert _taps_inside(layer) == flops.valid_taps_1d(size, far, stride, kernel) ** 2


def test_unpadded_taps_worked_by_hand():
    # 28 -> 14, 5x5, stride 2: one row of padding ahead, two behind; the first output reads
    # 4 pixels, the last 3, the 12 between 5 each
    assert flops.valid_taps_1d(14, 28, 2, 5) == 4 + 3 + 12 * 5
    # 7 -> 7, 5x5, stride 1: two rows of padding each side
    assert flops.valid_taps_1d(7, 7, 1, 5) == 3 + 4 + 5 + 5 + 5 + 4 + 3
    d = flops.DISCRIMINATOR_LAYERS
    assert flops.layer_forward_flops(*d[0], unpadded=True) == 2 * 67 * 67 * 64
    assert flops.network_forward_flops(d, unpadded=True) < flops.network_forward_flops(d)
    assert flops.layer_forward_flops(*d[2], unpadded=True) == flops.layer_forward_flops(*d[2])
    full, unpadded = flops.train_step_flops_per_image(), flops.train_step_flops_per_image(
        unpadded=True)
    assert 0.7 < unpadded / full < 0.95


def test_forward_flops_worked_by_hand():
    # Dense 100x12544; ConvT 7*7*256*128*25; ConvT 7*7*128*64*25; ConvT 14*14*64*1*25; x2 each
    assert flops.network_forward_flops(flops.GENERATOR_LAYERS) == 2 * (
        100 * 12544 + 7 * 7 * 256 * 128 * 25 + 7 * 7 * 128 * 64 * 25 + 14 * 14 * 64 * 25)
    assert flops.network_forward_flops(flops.DISCRIMINATOR_LAYERS) == 2 * (
        14 * 14 * 64 * 25 + 7 * 7 * 64 * 128 * 25 + 6272)


def test_step_flops_and_achieved_rate():
    g, d = 103_488_000, 20_710_144
    expected = (g + 2 * d) + (2 * d + 2 * (d - 627_200)) + (d + g + g - 2_508_800)
    assert flops.train_step_flops_per_image() == expected
    s = flops.flops_summary(expected, {"median": 100.0})
    assert s["achieved_flops_per_sec"] == expected * 100.0
    assert flops.flops_summary(expected, {"median": None})["achieved_flops_per_sec"] is None


def test_analytic_count_matches_tensorflows_count_of_live_ops():
    from flops_profile import traced_step_flops

    from bench.cell.runtime import make_runtime
    from bench.config import CellConfig

    cfg = CellConfig(batch_size=16)
    runtime = make_runtime(cfg.framework)
    step = runtime.build(cfg, runtime.device(cfg)).step
    counted = traced_step_flops(step, 16)
    analytic = flops.train_step_flops_per_image()
    assert counted["live_dense_and_conv"] == analytic
    # the profiler's whole-graph count includes dead gradient ops: about 1.5x
    assert 1.45 < counted["profiler_all_ops"] / analytic < 1.55
    assert counted["dead_by_type"]["Conv2DBackpropFilter"] > 0


def test_three_channel_layer_tables_match_the_models():
    generator, discriminator = flops.layers_for_channels(3)
    assert _keras_layer_table(models.make_generator(3)) == generator
    assert _keras_layer_table(models.make_discriminator(3)) == discriminator
    # the last transposed convolution and the first convolution each do 3 times the work:
    # 2 x 14 x 14 x 64 x 25 FLOPs a channel, forward, in each network
    one_channel = 2 * 14 * 14 * 64 * 25
    assert flops.network_forward_flops(generator) - flops.network_forward_flops(
        flops.GENERATOR_LAYERS) == 2 * one_channel


@pytest.mark.parametrize("model, width, m", [("pacgan-dcgan", None, 1), ("pacgan-dcgan", None, 3),
                                              ("unrolled-dcgan", 0.25, 2),
                                              ("unrolled-dcgan", 0.5, 1)])
def test_every_models_layer_tables_match_its_networks(model, width, m):
    """The FLOPs follow the model: each PacGAN pair's tables are its Keras networks' layers."""
    from bench.config import CellConfig

    cfg = CellConfig(model=model, d_width=width, packing_m=m, data="stacked-mnist")
    generator, discriminator = models.networks(cfg)
    tables = flops.layers_for(model, 3, noise_dim=cfg.noise_dim, packing_m=m, d_width=width)
    assert (_keras_layer_table(generator), _keras_layer_table(discriminator)) == tables


def test_the_alternating_schedule_and_packing_in_the_step_count():
    """Worked from the tables: per pack, the discriminator's update (m G forwards, 2 D forwards,
    their gradients) and k generator updates (m G forwards, a D forward, D input grads, G weight
    and input grads), over the m real images of a pack."""
    g_layers, d_layers = flops.layers_for("unrolled-dcgan", 3, noise_dim=256, packing_m=2,
                                          d_width=0.5)
    g, d = flops.network_forward_flops(g_layers), flops.network_forward_flops(d_layers)
    g1, d1 = flops.layer_forward_flops(*g_layers[0]), flops.layer_forward_flops(*d_layers[0])
    per_pack = (2 * g + 2 * d + 2 * d + 2 * (d - d1)) + 3 * (2 * g + 2 * d + 2 * g + 2 * (g - g1))
    assert flops.train_step_flops_per_image(
        3, model="unrolled-dcgan", noise_dim=256, packing_m=2, d_width=0.5,
        schedule="alternating", g_steps=3) == per_pack // 2
