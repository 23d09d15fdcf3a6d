"""Reference statistics of a data set's reference split, cached on disk.

What is cached: the reference features (float64, N x 128) and their k-NN radii on the unit
sphere for PRDC (the 10,000 x 10,000 pass that would otherwise dominate an evaluation's time).
The key is everything the numbers depend on: the data set, split and sample count, a SHA-256 of
the reference images' content, the instrument's SHA-256, architecture and feature layer, the
preprocessing, the Keras backend that ran the instrument with its version (TensorFlow's and JAX's
features agree within 1e-5, not bit for bit) and the PRDC settings; a change of any of them
names a different file, so it recomputes.

The cache is never trusted blindly: each file stores its key, and a file that will not load,
holds another key, or has inconsistent or non-finite arrays is recomputed and rewritten.
Writes go to a temporary file in the same directory and are renamed into place, so a killed
process leaves no half-written cache file behind.

Location: `$DCGAN_BENCH_CACHE`, else `~/.cache/dcgan-bench`.
"""

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.datasets import PREPROCESSING, SPLIT_SIZES, load_split, reference_split_name, split_to_sha256
from bench.evaluate import prdc
from bench.evaluate.classifier import ARCHITECTURE, FEATURE_LAYER
from bench.records import atomic_path

CACHE_ENV = "DCGAN_BENCH_CACHE"
CACHE_VERSION = 3  # 2: mean and covariance dropped; 3: keyed by the Keras backend, not TensorFlow
_ARRAYS = ("features", "radii")


@dataclass(frozen=True)
class ReferenceStats:
    dataset: str
    split: str
    n: int
    features: np.ndarray
    radii: np.ndarray  # distance to the PRDC_K-th neighbour, L2-normalised features


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "dcgan-bench")


def reference_key(dataset: str, split: str, n: int, classifier_sha256: str,
                  data_sha256: str) -> dict:
    """Everything the cached numbers depend on: change any and the file name changes."""
    return {"cache_version": CACHE_VERSION, "dataset": dataset, "split": split, "n": n,
            "data_sha256": data_sha256, "classifier_sha256": classifier_sha256,
            "architecture": ARCHITECTURE, "feature_layer": FEATURE_LAYER,
            "preprocessing": PREPROCESSING, "instrument_backend": instrument_backend(),
            "prdc_k": prdc.PRDC_K, "prdc_geometry": prdc.GEOMETRY}


def instrument_backend() -> str:
    """The Keras backend the instrument runs on here, with its version: "tensorflow 2.21.0"."""
    import importlib

    from bench.imports import keras_backend

    backend = keras_backend()
    return f"{backend} {importlib.import_module(backend).__version__}"


def cache_path(cache_dir, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"reference-{key['dataset']}-{key['split']}-n{key['n']}-{digest}.npz"


def arrays_sha256(arrays: dict) -> str:
    """The statistics' own hash (float64, in _ARRAYS' order): a file whose numbers were changed
    under an unchanged key no longer matches it."""
    digest = hashlib.sha256()
    for name in _ARRAYS:
        digest.update(np.ascontiguousarray(arrays[name], dtype="<f8").tobytes())
    return digest.hexdigest()


def _load(path: Path, key: dict):
    """The cached statistics, or None if absent, unreadable, for another key, inconsistent, or
    not the numbers that were saved (their hash)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            stored = json.loads(str(f["key"]))
            arrays = {name: np.array(f[name], dtype=np.float64) for name in _ARRAYS}
            saved_sha256 = str(f["content_sha256"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError):
        return None  # corrupt, truncated, or from before the content was hashed: recompute
    if saved_sha256 != arrays_sha256(arrays):
        return None
    n, dim = key["n"], arrays["features"].shape[-1]
    shapes_ok = arrays["features"].shape == (n, dim) and arrays["radii"].shape == (n,)
    if stored != key or not shapes_ok or not all(np.all(np.isfinite(a)) for a in arrays.values()):
        return None
    return arrays


def _save(path: Path, key: dict, arrays: dict):
    with atomic_path(path) as tmp:
        np.savez(tmp, key=np.array(json.dumps(key, sort_keys=True)),
                 content_sha256=np.array(arrays_sha256(arrays)), **arrays)


def reference_stats(dataset: str, *, classifier, data_dir=None, cache_dir=None,
                    batch_size: int = 500) -> ReferenceStats:
    """The reference split's statistics through `classifier`, from the cache or computed."""
    split = reference_split_name(dataset)
    n = SPLIT_SIZES[dataset][split]
    # Loaded (and checksummed) every time: the key names the exact images, so a changed file
    # can never be served stale statistics. Reading 10,000 images takes a fraction of a second.
    data = load_split(dataset, split, data_dir)
    key = reference_key(dataset, split, n, classifier.sha256, split_to_sha256(data))
    path = cache_path(cache_dir if cache_dir is not None else default_cache_dir(), key)
    arrays = _load(path, key)
    if arrays is None:
        images = data.images
        assert len(images) == n, f"{dataset}/{split}: {len(images)} images, expected {n}"
        _, features = classifier.images_to_logits_and_features(images, batch_size)
        radii = prdc.sphere_to_knn_radii(prdc.features_to_unit_sphere(features))
        arrays = {"features": features, "radii": radii}
        _save(path, key, arrays)
    return ReferenceStats(dataset, split, n, **arrays)
