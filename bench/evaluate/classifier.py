"""The measuring instrument: a small pretrained CNN, shipped with the package, and its loader.

Every number in `bench.evaluate.metrics` is measured through this network, so it must not change between
runs: the weights ship in `bench/evaluate/instruments/` with a model card holding their SHA-256, and
loading refuses a file whose hash differs. Weights load only with `model.load_weights` from an
`.h5` weights file into an architecture built here in code: no pickle, no deserialised model.

The instrument is built in float32 on every layer (`dtype="float32"`), so a global
`mixed_float16` / `mixed_bfloat16` policy set by a training cell cannot change it, and it is only
ever called with `training=False` (dropout off, batch-norm moving statistics), because a network
left in training mode measures different features (FIDs doubled elsewhere).

It runs on the CPU on every machine: on a GPU, TensorFloat-32 matmuls and cuDNN's algorithm
choices would change the features in the third or fourth digit, and numbers from different
machines could no longer be compared. 10,000 images take about a second on two cores.

`mnist-5k` uses the `mnist` instrument; `fashion-mnist` has its own. Training:
`dcgan-bench classifier train` (bench.evaluate.training).
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from bench import schema
from bench.datasets import images_to_unit_range
from bench.errors import BenchError

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
INSTRUMENT_FOR = {"mnist": "mnist", "mnist-5k": "mnist", "fashion-mnist": "fashion-mnist",
                  "stacked-mnist": "mnist"}  # each channel is an MNIST digit
# SHA-256 of each shipped weights file, held in code as well as in its model card: an edited card
# cannot vouch for edited weights. A retrained instrument changes this line in review.
SHIPPED_SHA256 = {
    "mnist": "a2903ca05550a6dc8cb3f956e17c4a93d97fcaa9456ba8bc3f3e34f38344eee3",
    "fashion-mnist": "8b088955c28183516152e418251f872b788dde814f82aa5804ffd09f552624b2",
}
ARCHITECTURE = "bench-cnn-v1"
FEATURE_LAYER = "features"
LOGITS_LAYER = "logits"


def weights_path(instrument: str, directory=None) -> Path:
    return Path(directory or INSTRUMENTS_DIR) / f"{instrument}.weights.h5"


def card_path(instrument: str, directory=None) -> Path:
    return Path(directory or INSTRUMENTS_DIR) / f"{instrument}.card.json"


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_network():
    """The architecture, float32 on every layer; returns the Keras model whose output is logits.

    Two conv blocks (3x3 conv with ReLU, 2x2 max-pool), then the 128-unit Dense layer named
    `features`, a ReLU, and the `logits` layer. About 420,000 parameters, 1.7 MB of weights.

    `features` is the Dense layer's output *before* its ReLU. Measured on a first version that
    took it after the ReLU: 87 of the 128 units were zero on every MNIST test digit, so every
    covariance had rank 41, `rank_deficient` was always true and FID lived in a 41-dimensional
    subspace. The pre-activation features have full rank (128) on real digits.
    """
    from bench.imports import prepare_keras

    prepare_keras()  # one framework a process, the other kept out (bench.imports)
    import keras

    f32 = "float32"  # explicit on every layer: the global dtype policy must not reach in
    inputs = keras.Input(shape=(28, 28, 1), dtype=f32, name="images")
    x = inputs
    # Explicit names: Keras numbers unnamed layers per process (conv2d_3, ...), and the names
    # end up in the weights file, whose hash must not depend on what was built before.
    for block, filters in enumerate((32, 64), start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", dtype=f32,
                                name=f"conv{block}")(x)
        x = keras.layers.MaxPooling2D(2, dtype=f32, name=f"pool{block}")(x)
    x = keras.layers.Flatten(dtype=f32, name="flatten")(x)
    x = keras.layers.Dropout(0.25, dtype=f32, name="dropout1")(x)
    x = keras.layers.Dense(schema.FEATURE_DIM, name=FEATURE_LAYER, dtype=f32)(x)
    x = keras.layers.ReLU(dtype=f32, name="features_relu")(x)
    x = keras.layers.Dropout(0.4, dtype=f32, name="dropout2")(x)
    logits = keras.layers.Dense(schema.NUM_CLASSES, name=LOGITS_LAYER, dtype=f32)(x)
    return keras.Model(inputs, logits, name=ARCHITECTURE)


def images_to_network_input(images) -> np.ndarray:
    """uint8 0..255 or float [-1, 1], (N, 28, 28) or (N, 28, 28, 1) -> float32 (N, 28, 28, 1)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise BenchError(f"expected shape (N, 28, 28) or (N, 28, 28, 1), found {images.shape}",
                         field="images")
    if images.dtype == np.uint8:
        return images_to_unit_range(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise BenchError(f"expected uint8 0..255 or float in [-1, 1], found dtype {images.dtype}",
                         field="images")
    return images.astype(np.float32)[..., None]


class Instrument:
    """A loaded classifier: `.sha256`, `.card`, and `images_to_logits_and_features`."""

    def __init__(self, network, *, sha256: str, card: dict, weights_file: Path):
        import keras

        self.network = network
        self.sha256 = sha256
        self.card = card
        self.weights_file = weights_file
        both = keras.Model(network.inputs,
                           [network.output, network.get_layer(FEATURE_LAYER).output])
        self._forward = _inference_on_cpu(both)

    def images_to_logits_and_features(self, images, batch_size: int = 500):
        """Logits (N, 10) and features (N, 128), both float64, computed in float32 on the CPU."""
        x = images_to_network_input(images)
        if batch_size < 1:
            raise BenchError(f"batch size must be positive, found {batch_size}", field="batch_size")
        logits, features = [], []
        for start in range(0, len(x), batch_size):
            lg, ft = self._forward(x[start:start + batch_size])
            logits.append(lg)
            features.append(ft)
        if not logits:
            raise BenchError("no images to classify", field="images")
        return (np.concatenate(logits).astype(np.float64),
                np.concatenate(features).astype(np.float64))


def _inference_on_cpu(model):
    """x (float32 NumPy) -> the model's outputs as NumPy, with training=False, on the CPU, by the
    forward pass of this process's Keras backend (bench.frameworks' `inference`,
    bench.evaluate.inference)."""
    import importlib

    from bench.frameworks import for_backend
    from bench.imports import keras_backend

    module, function = for_backend(keras_backend()).inference.split(":")
    return getattr(importlib.import_module(module), function)(model)


def _read_card(path: Path) -> dict:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError("model card not found", path=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BenchError(f"broken model card ({e})", path=path) from None
    if not isinstance(card, dict) or not isinstance(card.get("weights_sha256"), str):
        raise BenchError("model card has no weights_sha256", path=path)
    if card.get("architecture") != ARCHITECTURE:
        raise BenchError(f"model card is for architecture {card.get('architecture')!r}, this "
                         f"code builds {ARCHITECTURE!r}", path=path)
    return card


def load_instrument(weights_file, card_file) -> Instrument:
    """An instrument from an explicit weights file and card; the SHA-256 must match the card."""
    weights_file, card_file = Path(weights_file), Path(card_file)
    card = _read_card(card_file)
    try:
        digest = file_sha256(weights_file)
    except FileNotFoundError:
        raise BenchError("classifier weights not found", path=weights_file) from None
    if digest != card["weights_sha256"]:
        raise BenchError(f"SHA-256 mismatch: the file hashes to {digest}, its model card "
                         f"{card_file.name} says {card['weights_sha256']}; refusing tampered or "
                         "mismatched classifier weights", path=weights_file)
    network = build_network()
    try:
        network.load_weights(weights_file)
    except Exception as e:  # h5py/Keras raise many types for a structurally wrong file
        raise BenchError(f"cannot load classifier weights ({type(e).__name__}: {e})",
                         path=weights_file) from None
    return Instrument(network, sha256=digest, card=card, weights_file=weights_file)


_LOADED: dict = {}


def missing_reason(dataset: str) -> str | None:
    """Why the shipped instrument for `dataset` cannot be loaded here because its files are
    missing (a training cell then leaves its evaluations pending), or None."""
    name = INSTRUMENT_FOR.get(dataset)
    if name is None:
        return None  # not a missing file: load_classifier says what is wrong
    absent = [p.name for p in (weights_path(name), card_path(name)) if not p.is_file()]
    if not absent:
        return None
    return (f"pending: the {name} instrument's {' and '.join(absent)} are not installed here "
            f"({INSTRUMENTS_DIR}); `dcgan-bench eval CELL --complete` completes it where they are")


def load_classifier(dataset: str) -> Instrument:
    """The shipped instrument for a data set (`mnist-5k` uses `mnist`), hash-verified."""
    if dataset not in INSTRUMENT_FOR:
        raise BenchError(f"no classifier for data set {dataset!r}; choose one of "
                         f"{', '.join(INSTRUMENT_FOR)}", field="data")
    name = INSTRUMENT_FOR[dataset]
    weights, card = weights_path(name), card_path(name)
    if not weights.exists():
        raise BenchError(f"the shipped {name} classifier is missing from the package "
                         "(reinstall dcgan-bench)", path=weights)
    digest = file_sha256(weights)
    if digest != SHIPPED_SHA256[name]:
        raise BenchError(f"SHA-256 mismatch: the shipped {name} weights hash to {digest}, this "
                         f"dcgan-bench ships {SHIPPED_SHA256[name]}; refusing changed classifier "
                         "weights (reinstall dcgan-bench)", path=weights)
    # Cache by content hash: a file changed on disk is re-verified and reloaded, never reused.
    key = (str(weights), digest, file_sha256(card) if card.exists() else None)
    if key not in _LOADED:
        _LOADED[key] = load_instrument(weights, card)
    return _LOADED[key]


def check_accuracy(dataset: str, data_dir=None, classifier=None, batch_size: int = 500) -> float:
    """Accuracy of the (shipped) instrument on the data set's test split."""
    from bench.datasets import load_split

    classifier = classifier or load_classifier(dataset)
    split = load_split(dataset, "test", data_dir)
    logits, _ = classifier.images_to_logits_and_features(split.images, batch_size)
    return float(np.mean(logits.argmax(axis=1) == split.labels))
