"""The models a cell can train, each with the protocol it was published with: one table
(`PROTOCOLS`), read by the configuration (its defaults, resolved into config.json), the cell's
networks and step (bench.cell.models, bench.cell.pacgan_models), the FLOPs count, the samples and
the report.

- `dcgan-tutorial`: TensorFlow's DCGAN tutorial, the harness's reference.
- `pacgan-dcgan`: PacGAN's Table 2 pair (Lin et al. 2018; github fjxmlzn/PacGAN,
  stacked_MNIST_experiments/VEEGAN_experiment/model.py and config.py): the carpedm20 DCGAN,
  z ~ U(-1, 1) of 100, Adam 2e-4 with beta_1 0.5 for both networks, batch 64, each iteration one
  discriminator update then two generator updates on the same noise, real images scaled to
  [0, 1] (`X_stacked/255.`; the generator's tanh learns that range), sampled with batch norm's
  moving averages (`train=False`), 26,000 samples evaluated.
- `unrolled-dcgan`: PacGAN's Table 3 pair (unrolled_GAN_experiment/D=0.25G and D=0.5G): a small
  generator, a discriminator a quarter or a half as wide (`d_width`), z ~ N(0, 1) of 256, Adam
  with the discriminator at 2e-4 and the generator at 1e-4, beta_1 0.5, beta_2 0.99, batch 128,
  one discriminator update then one generator update on the same noise, real images in [-1, 1],
  sampled in training mode (batch statistics of each batch of 128, as their sampler never passes
  `train=False`), 25,600 samples evaluated.

Packing (PacGAN): the discriminator reads `packing_m` samples at once, concatenated on channels,
all real or all generated, each generated one from its own noise; the batch counts packs, so a
step reads batch x m real images and draws batch x m noise vectors. Any model packs.

What can mislead: a protocol is the published code's, quirks included (Table 2's real images in
[0, 1] against a tanh generator; Table 3's sampling in training mode); the record says which ran,
and the samples are mapped to [-1, 1] before the instrument reads them. Nothing here imports a
framework.
"""

from dataclasses import dataclass

SIMULTANEOUS, ALTERNATING = "simultaneous", "alternating"
SCHEDULES = (SIMULTANEOUS, ALTERNATING)
NORMAL, UNIFORM = "normal", "uniform"
NOISES = (NORMAL, UNIFORM)
MOVING, BATCH = "moving", "batch"  # batch norm at sampling: moving averages, or batch statistics
SAMPLE_BN = (MOVING, BATCH)
SYMMETRIC, UNIT = "symmetric", "unit"  # real images in [-1, 1] or [0, 1]
DATA_RANGES = (SYMMETRIC, UNIT)
MAX_PACKING = 4  # PacGAN's Tables 2 and 3 pack up to 4


@dataclass(frozen=True)
class Protocol:
    """A model and the settings it is trained with by default; a configuration may override
    each setting (the record holds what ran)."""

    model: str
    label: str
    noise: str
    noise_dim: int
    learning_rate: float  # the generator's Adam
    d_learning_rate: float | None  # the discriminator's; None: the generator's
    adam_beta1: float
    adam_beta2: float
    adam_epsilon: float  # Keras' default 1e-7 for the tutorial; TF 1's 1e-8 in PacGAN's code
    schedule: str
    g_steps: int  # generator updates per discriminator update (alternating)
    batch_size: int
    final_eval_n: int | None  # None: the data set's default
    sample_bn: str
    data_range: str
    d_width: float | None = None  # the discriminator's width, a share of the generator's
    d_widths: tuple = ()  # the widths the model is defined for


TUTORIAL = Protocol(
    model="dcgan-tutorial", label="DCGAN (tutorial)", noise=NORMAL, noise_dim=100,
    learning_rate=1e-4, d_learning_rate=None, adam_beta1=0.9, adam_beta2=0.999,
    adam_epsilon=1e-7, schedule=SIMULTANEOUS, g_steps=1, batch_size=64, final_eval_n=None, sample_bn=MOVING,
    data_range=SYMMETRIC)
PACGAN_DCGAN = Protocol(
    model="pacgan-dcgan", label="DCGAN (PacGAN Table 2)", noise=UNIFORM, noise_dim=100,
    learning_rate=2e-4, d_learning_rate=None, adam_beta1=0.5, adam_beta2=0.999,
    adam_epsilon=1e-8, schedule=ALTERNATING, g_steps=2, batch_size=64, final_eval_n=26_000, sample_bn=MOVING,
    data_range=UNIT)
UNROLLED_DCGAN = Protocol(
    model="unrolled-dcgan", label="DCGAN (PacGAN Table 3)", noise=NORMAL, noise_dim=256,
    learning_rate=1e-4, d_learning_rate=2e-4, adam_beta1=0.5, adam_beta2=0.99,
    adam_epsilon=1e-8, schedule=ALTERNATING, g_steps=1, batch_size=128, final_eval_n=25_600, sample_bn=BATCH,
    data_range=SYMMETRIC, d_width=0.25, d_widths=(0.25, 0.5, 1.0))

PROTOCOLS = {p.model: p for p in (TUTORIAL, PACGAN_DCGAN, UNROLLED_DCGAN)}
MODELS = tuple(PROTOCOLS)
DEFAULT_MODEL = TUTORIAL.model
# The settings a protocol gives and a configuration may override (None there: the protocol's).
SETTINGS = ("noise", "noise_dim", "learning_rate", "d_learning_rate", "adam_beta1", "adam_beta2",
            "adam_epsilon", "schedule", "g_steps", "sample_bn", "data_range", "d_width")


def protocol(model: str) -> Protocol:
    return PROTOCOLS[model]


def model_label(model, packing_m=1, d_width=None) -> str:
    """How tables and reports name a model: PacGAN's names for packed ones (PacDCGAN2)."""
    base = PROTOCOLS[model].label if model in PROTOCOLS else str(model)
    width = f", D {d_width:g}" if d_width is not None else ""
    return f"{base}{width}" + (f", packed {packing_m}" if packing_m and packing_m > 1 else "")
