"""Rows other people published, drawn beside ours in reports: the literature's numbers, each
with where it comes from and the model and packing it is a row of (bench.protocols), so that a
report puts each beside the arm that ran the same protocol. Pure data, readable by every stage.

PacGAN (Lin et al. 2018) on Stacked MNIST, modes of 1,000 and the reverse KL, +- a standard error
where the table gives one:
- Table 2 (VEEGAN's setting, `pacgan-dcgan`): 128,000 training images, 50 epochs, batch 64,
  26,000 samples, 10 trials. VEEGAN's DCGAN row is VEEGAN's number reprinted there: the two
  published runs of one setting differ by 3.1 standard errors in modes and 8.7 in KL.
- Table 3 (the unrolled-GAN setting, `unrolled-dcgan`, discriminator a quarter or a half of the
  generator's width): 25,600 samples, 50 trials.
The rows' numbers are as issue 43 quotes the two tables (the repository holds them as images,
stacked_MNIST_experiments/results/Table2.png and Table3.png, which were not read here).
"""

from typing import NamedTuple


class Published(NamedTuple):
    label: str
    model: str
    d_width: float | None
    packing_m: int
    modes: float
    modes_se: float | None
    reverse_kl: float
    reverse_kl_se: float | None
    trials: int
    source: str


TABLE2 = "PacGAN (Lin et al. 2018), Table 2"
TABLE3 = "PacGAN (Lin et al. 2018), Table 3"
PUBLISHED = (
    Published("PacGAN T2: DCGAN", "pacgan-dcgan", None, 1, 78.9, 6.46, 4.50, 0.127, 10, TABLE2),
    Published("PacGAN T2: VEEGAN's DCGAN", "pacgan-dcgan", None, 1, 99.0, None, 3.40, None, 10,
              TABLE2 + ", reprinted from VEEGAN"),
    Published("PacGAN T2: PacDCGAN2", "pacgan-dcgan", None, 2, 1000.0, 0.0, 0.06, 0.003, 10,
              TABLE2),
    Published("PacGAN T2: PacDCGAN3", "pacgan-dcgan", None, 3, 1000.0, None, 0.06, None, 10,
              TABLE2),
    Published("PacGAN T2: PacDCGAN4", "pacgan-dcgan", None, 4, 1000.0, None, 0.07, None, 10,
              TABLE2),
    Published("PacGAN T3 D=1/4: DCGAN", "unrolled-dcgan", 0.25, 1, 78.5, 17.56, 5.21, 0.19, 50,
              TABLE3),
    Published("PacGAN T3 D=1/4: PacDCGAN2", "unrolled-dcgan", 0.25, 2, 484.5, 32.99, 2.61, 0.22,
              50, TABLE3),
    Published("PacGAN T3 D=1/4: PacDCGAN3", "unrolled-dcgan", 0.25, 3, 601.3, None, 2.00, None,
              50, TABLE3),
    Published("PacGAN T3 D=1/4: PacDCGAN4", "unrolled-dcgan", 0.25, 4, 667.4, None, 1.81, None,
              50, TABLE3),
    Published("PacGAN T3 D=1/2: DCGAN", "unrolled-dcgan", 0.5, 1, 487.7, 34.59, 2.24, 0.15, 50,
              TABLE3),
    Published("PacGAN T3 D=1/2: PacDCGAN2", "unrolled-dcgan", 0.5, 2, 840.7, 15.92, 1.00, 0.05,
              50, TABLE3),
)


def rows_for(model, d_width, packing_m) -> list:
    """The published rows of one protocol and packing (a run's arm)."""
    return [row for row in PUBLISHED if (row.model, row.d_width, row.packing_m) ==
            (model, d_width, packing_m)]
