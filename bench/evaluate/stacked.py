"""Stacked MNIST's numbers: modes covered of 1,000 and the reverse KL to uniform, read by the
shipped MNIST classifier one channel at a time.

The definitions are PacGAN's (Lin et al. 2018, code fjxmlzn/PacGAN, `log_metrics` in
stacked_MNIST_experiments/VEEGAN_experiment/model.py), so our numbers compare with their Table 2:
- each channel of a sample is read by the classifier's argmax (`dect0 = self.evaluate(...
  samples[:, :, :, 0] ...)`, and so for channels 1 and 2; `evaluate` returns `numpy.argmax(output,
  axis=1)`);
- a sample's mode is its triple of digits (`zip(dect0, dect1, dect2)`, counted in a dict);
- modes covered: triples with at least one sample (`num_mode = len(map.keys())`);
- reverse KL: KL(p_gen || uniform over 1,000) in nats, empty modes contributing 0 (`KLD` sums
  `_p * log(_p / _q)` over `_p != 0`, q = 1 / 1000).
Where ours differs: the mode is indexed 100 a + 10 b + c (the same set of triples, as an
integer); the classifier is ours (bench.evaluate.classifier), not their Keras MNIST CNN; and the
samples come from N(0, 1) noise (the tutorial's) where theirs are U(-1, 1) (PacGAN's generator).

PacGAN's count is the one compared with their table. Beside it, a thresholded count,
`modes_thresholded`: triples with at least one sample in MODE_MIN_SAMPLES_PER (1 in 2,600: 10 of
26,000, 38% of a uniform mode's share). Why: the classifier misreads about 0.5% of real digits a
channel, so 1.5% of samples have a wrong triple, and from a collapsed generator those land on
modes it never made. Measured on real digits, unfiltered (tests/benchmarks/stacked_instrument.py,
26,000 samples drawn uniformly from k triples): k = 10 read as 77 modes (mnist-5k's digits) and
107 (MNIST's test digits), k = 100 as 309 and 357; the thresholded count read 16 and 15, then 100
and 100; at k = 1,000 both read 1,000. The seed's outcome (bench.outcome_rule) uses the
thresholded count, so that misread digits do not turn a collapse into diversity.

And two numbers that say whether the modes are real digits: per channel, the classes covered by
the rule of bench.evaluate.metrics (confident samples, a quarter of a fair share), and its least
over the channels; and the share of samples confident (top-class probability at least
CONFIDENCE_THRESHOLD) in all three channels.
"""

import math

import numpy as np
from scipy import special

from bench import schema
from bench.datasets import NUM_MODES, STACKED_CHANNELS
from bench.errors import BenchError
from bench.evaluate.metrics import CONFIDENCE_THRESHOLD, COVERAGE_SHARE
from bench.outcome_rule import MODE_MIN_SAMPLES_PER

# Weights that turn a sample's channel digits (a, b, c) into its mode 100 a + 10 b + c: the
# labels of bench.datasets.digits_to_stacked.
MODE_WEIGHTS = 10 ** np.arange(STACKED_CHANNELS - 1, -1, -1)
def thresholds() -> dict:
    return {"stacked_mode_min_samples_per": MODE_MIN_SAMPLES_PER}


def min_samples_of_a_mode(n: int) -> int:
    """Samples a mode needs, of n, to count in `modes_thresholded` (at least 1)."""
    return max(1, math.ceil(n / MODE_MIN_SAMPLES_PER))


def channel_digits_to_modes(digits) -> np.ndarray:
    """Modes 0..999 of samples whose channels read as `digits`, int (N, 3)."""
    return np.asarray(digits, dtype=np.int64) @ MODE_WEIGHTS


def _checked_logits(logits) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 3 or logits.shape[1:] != (STACKED_CHANNELS, schema.NUM_CLASSES):
        raise BenchError(f"expected logits of shape (N, {STACKED_CHANNELS}, "
                         f"{schema.NUM_CLASSES}), found {logits.shape}", field="logits")
    return logits


def channel_logits_to_modes(logits) -> np.ndarray:
    """Each sample's mode as the classifier reads it: the argmax of each channel's logits
    (N, 3, 10), as a triple's index 0..999."""
    return channel_digits_to_modes(_checked_logits(logits).argmax(axis=2))


def modes_to_reverse_kl(modes) -> float:
    """KL(p || uniform over 1,000) of the modes' empirical distribution p, in nats."""
    counts = np.bincount(np.asarray(modes, dtype=np.int64), minlength=NUM_MODES)
    p = counts[counts > 0] / counts.sum()
    return float(np.sum(p * np.log(p * NUM_MODES)))


def channel_logits_to_stacked(logits) -> dict:
    """PacGAN's modes and reverse KL, the thresholded mode count, and the channels' classes and
    confidence, from the classifier's logits of each sample's channels, shape (N, 3, 10)."""
    logits = _checked_logits(logits)
    n = len(logits)
    probs = special.softmax(logits, axis=2)
    digits = probs.argmax(axis=2)
    modes = channel_logits_to_modes(logits)
    confident = probs.max(axis=2) >= CONFIDENCE_THRESHOLD
    channel_classes = []
    for c in range(STACKED_CHANNELS):
        histogram = np.bincount(digits[confident[:, c], c], minlength=schema.NUM_CLASSES)
        channel_classes.append(int(np.sum(histogram >= COVERAGE_SHARE * n / schema.NUM_CLASSES)))
    counts = np.bincount(modes, minlength=NUM_MODES)
    return {
        schema.STACKED_N: n,
        schema.MODES: int(np.sum(counts > 0)),
        schema.MODES_THRESHOLDED: int(np.sum(counts >= min_samples_of_a_mode(n))),
        schema.REVERSE_KL: modes_to_reverse_kl(modes),
        schema.CHANNEL_CLASSES: channel_classes,
        schema.CHANNEL_CLASSES_MIN: min(channel_classes),
        schema.ALL_CHANNELS_CONFIDENT: float(confident.all(axis=1).mean()),
    }
