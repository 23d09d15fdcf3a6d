"""PacGAN's two Stacked-MNIST pairs (bench.protocols: `pacgan-dcgan`, `unrolled-dcgan`) in Keras 3,
layer for layer as PacGAN's code builds them (github fjxmlzn/PacGAN, stacked_MNIST_experiments:
VEEGAN_experiment/model.py for Table 2, unrolled_GAN_experiment/D=0.25G and D=0.5G/model.py for
Table 3), on the carpedm20 DCGAN ops they import:

- every convolution, transposed convolution and linear layer has a bias; weights are drawn from
  N(0, 0.02) (truncated for convolutions, `conv2d`'s `truncated_normal_initializer`), biases 0;
- batch norm is tf.contrib's with decay 0.9, epsilon 1e-5, a scale and an offset;
- `lrelu` is max(x, leak x): leak 0.2 in Table 2, 0.3 in Table 3;
- PacGAN's transposed convolutions name their output shape (4 -> 7 for 28 x 28 images): Keras'
  `output_padding=0` gives that shape, and under TensorFlow the same op (conv2d_transpose, SAME).

The generator draws one image of the data set's channels; the discriminator reads `packing_m`
images at once, concatenated on channels (bench.cell.packing builds the packs). Parameter counts
are worked by hand in tests/test_pacgan_models.py from that code.
"""

from bench.imports import keras_module

TABLE2_G_FILTERS = (512, 256, 128, 64)  # gf_dim = 64: 8, 4, 2, 1 times it
TABLE2_D_FILTERS = (64, 128, 256, 512)  # df_dim = 64: 1, 2, 4, 8 times it
TABLE3_G_FILTERS = (64, 32, 16, 8)
TABLE3_D_FILTERS = (8, 16, 32)  # times d_width: 2, 4, 8 at a quarter, 4, 8, 16 at a half
BN_MOMENTUM, BN_EPSILON = 0.9, 1e-5


def _init(truncated=False):
    keras = keras_module()
    cls = keras.initializers.TruncatedNormal if truncated else keras.initializers.RandomNormal
    return cls(mean=0.0, stddev=0.02)


def _bn():
    return keras_module().layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON)


def _transposed(filters, kernel, *, to_seven=False):
    # PacGAN names each output shape; only 4 -> 7 differs from Keras' "same" (8): output_padding
    return keras_module().layers.Conv2DTranspose(
        filters, kernel, strides=2, padding="same", output_padding=0 if to_seven else None,
        kernel_initializer=_init())


def _conv(filters, kernel, strides=2, **kwargs):
    return keras_module().layers.Conv2D(filters, kernel, strides=strides, padding="same",
                                  kernel_initializer=_init(truncated=True), **kwargs)


def table2_generator(noise_dim: int, channels: int):
    """Table 2's generator: linear z -> 2 x 2 x 512, BN, ReLU; transposed 5 x 5 convolutions,
    stride 2, to 4 x 4 x 256, 7 x 7 x 128, 14 x 14 x 64 (BN, ReLU each) and 28 x 28 x channels,
    tanh."""
    keras = keras_module()
    first, *rest = TABLE2_G_FILTERS
    layers = [keras.Input(shape=(noise_dim,)),
              keras.layers.Dense(2 * 2 * first, kernel_initializer=_init()),
              keras.layers.Reshape((2, 2, first)), _bn(), keras.layers.ReLU()]
    for i, filters in enumerate(rest):
        layers += [_transposed(filters, 5, to_seven=i == 1), _bn(), keras.layers.ReLU()]
    layers += [_transposed(channels, 5), keras.layers.Activation("tanh", dtype="float32")]
    return keras.Sequential(layers, name="generator")


def table2_discriminator(channels: int, packing_m: int):
    """Table 2's discriminator: 5 x 5 convolutions, stride 2, to 64 (no BN), 128, 256, 512 (BN),
    LeakyReLU 0.2 each, then linear to 1; reading `packing_m` images of `channels` channels."""
    keras = keras_module()
    layers = [keras.Input(shape=(28, 28, channels * packing_m))]
    for i, filters in enumerate(TABLE2_D_FILTERS):
        layers += [_conv(filters, 5)] + ([_bn()] if i else []) + [keras.layers.LeakyReLU(0.2)]
    layers += [keras.layers.Flatten(),
               keras.layers.Dense(1, kernel_initializer=_init(), dtype="float32")]
    return keras.Sequential(layers, name="discriminator")


def table3_generator(noise_dim: int, channels: int):
    """Table 3's generator: linear z -> 4 x 4 x 64, BN, ReLU; transposed 3 x 3 convolutions,
    stride 2, to 7 x 7 x 32, 14 x 14 x 16, 28 x 28 x 8 (BN, ReLU each); a 3 x 3 convolution,
    stride 1, to the channels; tanh."""
    keras = keras_module()
    first, *rest = TABLE3_G_FILTERS
    layers = [keras.Input(shape=(noise_dim,)),
              keras.layers.Dense(4 * 4 * first, kernel_initializer=_init()),
              keras.layers.Reshape((4, 4, first)), _bn(), keras.layers.ReLU()]
    for i, filters in enumerate(rest):
        layers += [_transposed(filters, 3, to_seven=i == 0), _bn(), keras.layers.ReLU()]
    layers += [_conv(channels, 3, strides=1),
               keras.layers.Activation("tanh", dtype="float32")]
    return keras.Sequential(layers, name="generator")


def table3_discriminator(channels: int, packing_m: int, d_width: float):
    """Table 3's discriminator at `d_width` of the full width: 3 x 3 convolutions, stride 2, to
    8, 16, 32 times d_width filters, BN and LeakyReLU 0.3 each, then linear to 1."""
    keras = keras_module()
    layers = [keras.Input(shape=(28, 28, channels * packing_m))]
    for filters in TABLE3_D_FILTERS:
        layers += [_conv(round(filters * d_width), 3), _bn(), keras.layers.LeakyReLU(0.3)]
    layers += [keras.layers.Flatten(),
               keras.layers.Dense(1, kernel_initializer=_init(), dtype="float32")]
    return keras.Sequential(layers, name="discriminator")
