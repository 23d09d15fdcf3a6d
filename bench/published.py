"""Rows other people published, drawn beside ours in reports: the literature's numbers, each
with where it comes from. Pure data, readable by every stage.
"""

# Published Stacked MNIST rows, drawn beside ours in the report: (row, modes, its standard error,
# reverse KL, its standard error); None where the table gives no error. PacGAN (Lin et al. 2018),
# Table 2: 128,000 training images, 50 epochs, batch 64, 26,000 samples, 10 trials, +- a standard
# error. VEEGAN's DCGAN row is VEEGAN's number reprinted there: the two published runs of one
# setting differ by 3.1 standard errors in modes and 8.7 in KL.
PUBLISHED = (
    ("PacGAN T2: DCGAN", 78.9, 6.46, 4.50, 0.127),
    ("PacGAN T2: VEEGAN's DCGAN", 99.0, None, 3.40, None),
    ("PacGAN T2: PacDCGAN2", 1000.0, None, 0.06, None),
)
