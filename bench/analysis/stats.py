"""Statistics over seeds, pure functions of numbers: no records, no TensorFlow, no report.

Bootstrap intervals resample seeds: a seed is the unit of repetition (its windows are not
independent of each other). With two or three seeds per side an interval can take only a handful
of values: a rough range, not a precise one.
"""

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95


def ratio_of_medians_ci(on, off, resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED,
                        confidence=CONFIDENCE):
    """median(on) / median(off) and a percentile bootstrap interval from resampling seeds.

    Each side's seeds are resampled with replacement, independently (a seed's XLA-on and XLA-off
    cells are different runs, not pairs).
    """
    on, off = np.asarray(on, float), np.asarray(off, float)
    rng = np.random.default_rng(seed)
    boot_on = np.median(on[rng.integers(0, len(on), (resamples, len(on)))], axis=1)
    boot_off = np.median(off[rng.integers(0, len(off), (resamples, len(off)))], axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(boot_on / boot_off, [tail, 100 - tail])
    return float(np.median(on) / np.median(off)), float(low), float(high)
