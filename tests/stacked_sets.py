"""Stacked sets with a known answer, for the tests and tests/benchmarks/stacked_instrument.py."""

import numpy as np

from bench import schema
from bench.datasets import NUM_MODES
from bench.evaluate.score import stacked_to_channel_digits

N = 26_000  # PacGAN's number of samples


def constructed_set(digits_by_class, k: int, seed: int, n: int = N):
    """n stacked images, uint8 (n, 28, 28, 3), drawn uniformly from k triples chosen at random:
    (images, the triples chosen, each sample's true mode). Channel c of a sample is a digit drawn
    from `digits_by_class[d]`, d the triple's c-th digit (its mode 100 a + 10 b + c)."""
    rng = np.random.default_rng(seed)
    triples = rng.choice(NUM_MODES, size=k, replace=False)
    true_modes = triples[rng.integers(0, k, size=n)]
    channel_digits = np.stack([true_modes // 100, true_modes // 10 % 10, true_modes % 10], axis=1)
    images = np.empty((n, 28, 28, 3), np.uint8)
    for c in range(3):
        for d in range(10):
            rows = np.flatnonzero(channel_digits[:, c] == d)
            pool = digits_by_class[d]
            images[rows, :, :, c] = pool[rng.integers(0, len(pool), size=len(rows))]
    return images, triples, true_modes


def read_by_instrument(instrument, images) -> np.ndarray:
    """The instrument's logits of each stacked sample's channels, (N, 3, 10), read as a trained
    generator's samples are (bench.evaluate.score.stacked_to_channel_digits)."""
    logits, _ = instrument.images_to_logits_and_features(stacked_to_channel_digits(images))
    return logits.reshape(-1, 3, schema.NUM_CLASSES)


def triples_set(digits_by_class, triples, n: int, seed: int):
    """n stacked images, uint8 (n, 28, 28, 3), each a triple of `triples` (their modes,
    100 a + 10 b + c) taken in turn, each channel a digit of its class drawn from
    `digits_by_class`: every triple has n / len(triples) samples, give or take one."""
    rng = np.random.default_rng(seed)
    modes = np.asarray(triples)[np.arange(n) % len(triples)]
    images = np.empty((n, 28, 28, 3), np.uint8)
    for c, digit in enumerate((modes // 100, modes // 10 % 10, modes % 10)):
        for d in range(10):
            rows = np.flatnonzero(digit == d)
            pool = digits_by_class[d]
            images[rows, :, :, c] = pool[rng.integers(0, len(pool), size=len(rows))]
    return images
