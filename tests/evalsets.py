"""Image sets and their classifier outputs for the evaluation tests, computed once per session.

Held-out digits are MNIST's official test digits (never seen by the instrument, and not part of
the mnist-5k reference); where the full MNIST files are absent the tests that need them skip.
"""

import functools
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from bench.datasets import images_to_unit_range, load_split

MNIST_DIR = Path(os.environ.get("DCGAN_BENCH_MNIST_DIR",
                                Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))


@functools.cache
def instrument():
    from bench.evaluate.classifier import load_classifier

    return load_classifier("mnist")


@functools.cache
def mnist_5k():
    return load_split("mnist-5k")


def require_mnist_dir() -> Path:
    """The full MNIST IDX files (../shared/data/mnist on development machines and CI).

    The project never requires them, so tests that read them skip where they are absent, naming
    where they looked: the data set is missing, as a network would be.
    """
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"full MNIST is not on this machine and there is no network to download it "
                    f"(no IDX files in {MNIST_DIR}; set DCGAN_BENCH_MNIST_DIR to a directory with "
                    "the four IDX .gz files)")
    return MNIST_DIR


def mnist_test():
    """The 10,000 official test digits."""
    require_mnist_dir()
    return _mnist_test()


@functools.cache
def _mnist_test():
    return load_split("mnist", "test", MNIST_DIR)


def uniform_noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28)).astype(np.float32)


def blurred(images_uint8: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of each image (not across images), float32 in [-1, 1]."""
    x = images_to_unit_range(images_uint8)[..., 0]
    return np.clip(gaussian_filter(x, (0, sigma, sigma)), -1, 1).astype(np.float32)


@functools.cache
def outputs(name: str):
    """(logits, features) of a named set: 'mnist_5k', 'mnist_test', 'noise', 'blur3'."""
    sets = {
        "mnist_5k": lambda: mnist_5k().images,
        "mnist_test": lambda: _mnist_test().images,
        "noise": lambda: uniform_noise(2000),
        "blur3": lambda: blurred(_mnist_test().images[:2000], 3.0),
    }
    return instrument().images_to_logits_and_features(sets[name]())


@functools.cache
def halves():
    """mnist-5k split in two class-balanced halves of 2,500 (even and odd positions within each
    class): a reference set and a held-out set that every fresh clone has."""
    split = mnist_5k()
    order = np.argsort(split.labels, kind="stable")
    return split.images[order[0::2]], split.images[order[1::2]], split.labels[order[1::2]]


@functools.cache
def half_features(name: str):
    """Features of 'reference' (first half), 'held_out' (second half), or 'held_out_blurN'."""
    reference, held_out, _ = halves()
    if name == "reference":
        images = reference
    elif name == "held_out":
        images = held_out
    else:
        images = blurred(held_out, float(name.removeprefix("held_out_blur")))
    return instrument().images_to_logits_and_features(images)[1]
