import keras
import pytest

from bench.cell import models


def _layer_summary(model):
    return [(type(l).__name__, getattr(l, "filters", None) or getattr(l, "units", None),
             getattr(l, "strides", None), getattr(l, "use_bias", None)) for l in model.layers]


def test_generator_is_the_tutorials():
    g = models.make_generator()
    assert models.count_params(g) == models.GENERATOR_PARAMS == 2_330_944
    assert g.output_shape == (None, 28, 28, 1)
    assert _layer_summary(g) == [
        ("Dense", 12544, None, False), ("BatchNormalization", None, None, None),
        ("LeakyReLU", None, None, None), ("Reshape", None, None, None),
        ("Conv2DTranspose", 128, (1, 1), False), ("BatchNormalization", None, None, None),
        ("LeakyReLU", None, None, None),
        ("Conv2DTranspose", 64, (2, 2), False), ("BatchNormalization", None, None, None),
        ("LeakyReLU", None, None, None),
        ("Conv2DTranspose", 1, (2, 2), False),
    ]
    assert g.layers[-1].activation.__name__ == "tanh"


def test_discriminator_is_the_tutorials():
    d = models.make_discriminator()
    assert models.count_params(d) == models.DISCRIMINATOR_PARAMS == 212_865
    assert d.output_shape == (None, 1)
    kinds = [type(l).__name__ for l in d.layers]
    assert kinds == ["Conv2D", "LeakyReLU", "Dropout", "Conv2D", "LeakyReLU", "Dropout",
                     "Flatten", "Dense"]
    assert [l.rate for l in d.layers if type(l).__name__ == "Dropout"] == [0.3, 0.3]


def test_generator_output_in_tanh_range():
    import numpy as np

    g = models.make_generator()
    out = np.asarray(g(np.random.default_rng(0).standard_normal((4, 100)).astype("float32")))
    assert out.shape == (4, 28, 28, 1)
    assert out.min() >= -1 and out.max() <= 1


@pytest.mark.parametrize("precision, wrapped", [("float32", False), ("mixed_bfloat16", False),
                                                ("mixed_float16", True)])
def test_optimizers_loss_scaled_only_under_float16(precision, wrapped):
    gen, disc = models.make_optimizers(precision)
    for opt in (gen, disc):
        assert isinstance(opt, keras.mixed_precision.LossScaleOptimizer) is wrapped
        inner = opt.inner_optimizer if wrapped else opt
        assert isinstance(inner, keras.optimizers.Adam)
        assert float(inner.learning_rate) == pytest.approx(1e-4)


def test_outputs_stay_float32_under_mixed_policy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        g, d = models.make_generator(), models.make_discriminator()
        assert g.layers[1].compute_dtype == "bfloat16"  # the body runs in bfloat16...
        assert g.layers[-1].compute_dtype == "float32"  # ...the outputs in float32
        assert d.layers[-1].compute_dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_three_channels_change_only_the_image_layers():
    """stacked-mnist: the generator's last layer and the discriminator's first take 3 channels,
    5 x 5 x 64 x 2 = 3,200 more weights each; every other layer is the tutorial's."""
    g, d = models.make_generator(3), models.make_discriminator(3)
    assert g.output_shape == (None, 28, 28, 3) and d.input_shape == (None, 28, 28, 3)
    assert models.count_params(g) == models.GENERATOR_PARAMS + 5 * 5 * 64 * 2 == 2_334_144
    assert models.count_params(d) == models.DISCRIMINATOR_PARAMS + 5 * 5 * 64 * 2 == 216_065
    assert _layer_summary(g)[:-1] == _layer_summary(models.make_generator())[:-1]


def test_the_optimiser_settings_reach_both_adams():
    from bench.config import CellConfig

    cfg = CellConfig(data="stacked-mnist", learning_rate=2e-4, adam_beta1=0.5, seed=3)
    generator, discriminator, gen_opt, disc_opt = models.seeded_models(cfg)
    assert generator.output_shape == (None, 28, 28, 3)
    for opt in (gen_opt, disc_opt):
        assert float(opt.learning_rate) == pytest.approx(2e-4) and opt.beta_1 == 0.5
    default = models.make_optimizers("float32")[0]
    assert float(default.learning_rate) == pytest.approx(1e-4) and default.beta_1 == 0.9
