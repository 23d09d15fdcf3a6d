"""Training the instrument, reproducibly, and writing its weights and model card.

Reproducible means: the same seed, data and TensorFlow build give the same weights file, byte
for byte (a test trains twice on mnist-5k and compares SHA-256). Three things make it so:
`keras.utils.set_random_seed` (Python, NumPy, TensorFlow and Keras' seed generators),
`tf.config.experimental.enable_op_determinism()` (deterministic kernels; switched off again
afterwards where TensorFlow allows, since some ops a training cell uses have no deterministic
kernel), and augmentation and shuffling drawn in NumPy from a generator seeded per epoch.

Augmentation is random shifts of up to +-2 pixels (zero padding): the small CNN reaches about
99.1% on MNIST's test set without it and above 99.3% with it.

Outlier exposure (Hendrycks et al. 2019): each epoch also shows one synthetic non-digit per eight
digits, with the uniform distribution over classes as its target. Why: a plain CNN trained on
digits alone called 100% of uniform-noise images an "8" with probability >= 0.9 (measured), so
garbage from a failed generator would have "covered" a class. The synthetic garbage is uniform
noise, salt noise, thresholded smooth blobs and clipped Gaussian noise; pixel-shuffled real
digits, which it does not include, then got 0% confident predictions, and test accuracy did not
drop. The model card records it.
"""

import json
import platform
import time
from pathlib import Path

import numpy as np

from bench import schema
from bench.datasets import images_to_unit_range, load_split
from bench.errors import BenchError
from bench.evaluate import classifier as clf
from bench.records import atomic_path, write_text_atomic

GARBAGE_EVERY = 8  # one synthetic non-digit per this many digits


def shift_images(images: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Each (28, 28) image shifted by its own random (dy, dx) in [-max_shift, max_shift]."""
    if max_shift == 0:
        return images
    m = max_shift
    padded = np.pad(images, ((0, 0), (m, m), (m, m)))
    shifts = rng.integers(-m, m + 1, size=(len(images), 2))
    out = np.empty_like(images)
    for dy in range(-m, m + 1):  # grouped by shift: 25 slices instead of 60,000
        for dx in range(-m, m + 1):
            idx = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
            out[idx] = padded[idx, m - dy:m - dy + 28, m - dx:m - dx + 28]
    return out


def synthetic_garbage(rng: np.random.Generator, n: int) -> np.ndarray:
    """n non-digit images, float32 (n, 28, 28, 1) in [-1, 1], four kinds in equal shares."""
    from scipy.ndimage import gaussian_filter

    kinds = np.array_split(np.arange(n), 4)
    out = np.empty((n, 28, 28), np.float32)
    lo, hi = rng.uniform(-1, 0, (len(kinds[0]), 1, 1)), rng.uniform(0, 1, (len(kinds[0]), 1, 1))
    out[kinds[0]] = lo + (hi - lo) * rng.random((len(kinds[0]), 28, 28))  # uniform noise
    density = rng.uniform(0.03, 0.5, (len(kinds[1]), 1, 1))  # salt noise on black
    out[kinds[1]] = np.where(rng.random((len(kinds[1]), 28, 28)) < density, 1.0, -1.0)
    sigma = rng.choice([1.0, 2.0, 3.0])  # one scale per call keeps it a single filter pass
    blobs = gaussian_filter(rng.standard_normal((len(kinds[2]), 28, 28)), (0, sigma, sigma))
    flat = np.sort(blobs.reshape(len(blobs), -1), axis=1)  # per-image threshold: a quantile
    rank = (rng.uniform(0.5, 0.95, len(blobs)) * (flat.shape[1] - 1)).astype(int)
    level = flat[np.arange(len(blobs)), rank]
    out[kinds[2]] = np.where(blobs > level[:, None, None], 1.0, -1.0)
    k = len(kinds[3])  # clipped Gaussian noise, random brightness and contrast
    mean, std = rng.uniform(-1, 0.5, (k, 1, 1)), rng.uniform(0.1, 1, (k, 1, 1))
    out[kinds[3]] = np.clip(rng.normal(mean, std, (k, 28, 28)), -1, 1)
    return out[..., None]


def _set_op_determinism(on: bool) -> bool:
    """Switch TensorFlow's op determinism; returns the previous state (False if unknown)."""
    import tensorflow as tf

    try:  # only enable_* is public; the rest lives in tensorflow.python.framework.config
        from tensorflow.python.framework import config as tf_config

        was_on = tf_config.is_op_determinism_enabled()
        if not on:
            tf_config.disable_op_determinism()
            return was_on
    except (ImportError, AttributeError):
        was_on = False
    if on:
        tf.config.experimental.enable_op_determinism()
    return was_on


def _save_weights_atomic(network, path: Path):
    """Model weights only: a compiled model's save_weights would add the optimizer's state."""
    bare = clf.build_network()  # uncompiled twin
    bare.set_weights(network.get_weights())
    with atomic_path(path) as tmp:
        bare.save_weights(tmp)


def _fit(train, *, epochs, batch_size, seed, learning_rate, max_shift, log):
    """The training loop: shifted digits plus synthetic garbage, reshuffled each epoch."""
    import keras

    network = clf.build_network()
    n_digits = len(train.images)
    n_garbage = n_digits // GARBAGE_EVERY
    steps_per_epoch = (n_digits + n_garbage) // batch_size
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, epochs * steps_per_epoch)
    network.compile(optimizer=keras.optimizers.Adam(schedule),
                    loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    started = time.perf_counter()
    for epoch in range(epochs):
        rng = np.random.default_rng([seed, epoch])
        x = np.concatenate([images_to_unit_range(shift_images(train.images, rng, max_shift)),
                            synthetic_garbage(rng, n_garbage)])
        y = np.concatenate([np.eye(schema.NUM_CLASSES, dtype=np.float32)[train.labels],
                            np.full((n_garbage, schema.NUM_CLASSES), 1 / schema.NUM_CLASSES, np.float32)])
        order = rng.permutation(len(x))[:steps_per_epoch * batch_size]
        hist = network.fit(x[order], y[order], batch_size=batch_size, epochs=1,
                           shuffle=False, verbose=0)
        log(f"epoch {epoch + 1}/{epochs}: loss {hist.history['loss'][-1]:.4f}, "
            f"{time.perf_counter() - started:.0f} s")
    return network, time.perf_counter() - started


def train_classifier(dataset: str, data_dir, out_dir, *, seed: int = 0, epochs: int = 12,
                     batch_size: int = 128, learning_rate: float = 1e-3, max_shift: int = 2,
                     command: str = "", log=print) -> dict:
    """Train the instrument on the train split, write `<name>.weights.h5` and `<name>.card.json`.

    `name` is the instrument name (`mnist` for `mnist` and `mnist-5k`). Returns the card. The
    card's test accuracy is on the data set's test split (for mnist-5k, which has no test split,
    on its own training digits: only the reproducibility test trains on it).
    """
    import keras
    import tensorflow as tf

    if epochs < 1 or batch_size < 1:
        raise BenchError(f"epochs and batch size must be positive, found {epochs}, {batch_size}")
    name = clf.INSTRUMENT_FOR.get(dataset)
    if name is None:
        raise BenchError(f"unknown data set {dataset!r}; choose one of "
                         f"{', '.join(clf.INSTRUMENT_FOR)}", field="data")
    train = load_split(dataset, "train", data_dir)
    test = load_split(dataset, "test", data_dir)

    keras.utils.set_random_seed(seed)
    was_deterministic = _set_op_determinism(True)
    try:
        network, seconds = _fit(train, epochs=epochs, batch_size=batch_size, seed=seed,
                                learning_rate=learning_rate, max_shift=max_shift, log=log)
    finally:
        if not was_deterministic:
            _set_op_determinism(False)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = clf.weights_path(name, out_dir)
    _save_weights_atomic(network, weights)
    digest = clf.file_sha256(weights)
    instrument = clf.Instrument(network, sha256=digest, card={}, weights_file=weights)
    logits, _ = instrument.images_to_logits_and_features(test.images)
    accuracy = float(np.mean(logits.argmax(axis=1) == test.labels))
    log(f"test accuracy {accuracy:.4f} on {len(test.images)} images")
    card = {
        "instrument": name,
        "architecture": clf.ARCHITECTURE,
        "feature_layer": clf.FEATURE_LAYER,
        "feature_dim": schema.FEATURE_DIM,
        "logits_layer": clf.LOGITS_LAYER,
        "dataset": dataset,
        "data_source": train.source,
        "train_split": {"name": "train", "n": int(len(train.images))},
        "test_split": {"name": "test", "n": int(len(test.images)),
                       "held_out": dataset != "mnist-5k"},
        "test_accuracy": accuracy,
        "epochs": epochs,
        "seed": seed,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "optimizer": "Adam, cosine decay to 0",
        "augmentation": f"random shifts of up to {max_shift} px" if max_shift else "none",
        "outlier_exposure": f"one synthetic noise image per {GARBAGE_EVERY} training images, "
                            "uniform target",
        "training_seconds": round(seconds, 1),
        "training_command": command,
        "weights_file": weights.name,
        "weights_sha256": digest,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "python_version": platform.python_version(),
    }
    card_file = clf.card_path(name, out_dir)
    write_text_atomic(card_file, json.dumps(card, indent=2) + "\n")
    return card
