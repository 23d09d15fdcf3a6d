import gzip
import struct

import numpy as np
import pytest

from bench import datasets as data
from bench.cell.pipeline import training_dataset
from bench.cli import main
from bench.errors import BenchError


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_idx_dir(path, n=20, corrupt=None):
    """A directory of four IDX .gz files holding n random digits (not MNIST's content)."""
    rng = np.random.default_rng(0)
    path.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        images, labels = data.IDX_FILES[split]
        (path / f"{images}.gz").write_bytes(gzip.compress(_idx_bytes(
            rng.integers(0, 256, (n, 28, 28)))))
        (path / f"{labels}.gz").write_bytes(gzip.compress(_idx_bytes(rng.integers(0, 10, n))))
    return path


def test_mnist_5k_is_500_real_digits_a_class(mnist_5k):
    assert mnist_5k.images.shape == (5000, 28, 28) and mnist_5k.images.dtype == np.uint8
    assert np.bincount(mnist_5k.labels).tolist() == [500] * 10
    # real digits: dark background, bright strokes, about a fifth of pixels lit
    assert mnist_5k.images[:, 0, :].max() == 0
    assert 0.1 < (mnist_5k.images > 128).mean() < 0.3


def test_full_mnist_from_verified_idx_files(mnist_dir, mnist_5k):
    train = data.load_split("mnist", "train", mnist_dir)
    test = data.load_split("mnist", "test", mnist_dir)
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                 974, 1009]
    # mnist-5k is a subset of MNIST's training digits, with the same labels
    index = {img.tobytes(): label for img, label in zip(train.images, train.labels)}
    first = mnist_5k.images[::500]
    assert [index[img.tobytes()] for img in first] == mnist_5k.labels[::500].tolist()


def test_idx_reader_parses_well_formed_bytes():
    a = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    out = data.idx_bytes_to_array(_idx_bytes(a), expected_ndim=3)
    assert out.shape == (2, 28, 28) and (out == a).all()


@pytest.mark.parametrize("damage, message", [
    (lambda raw: b"\x00\x00\x09\x03" + raw[4:], "wrong magic number"),
    (lambda raw: raw[:4] + struct.pack(">I", 21) + raw[8:], "wrong count"),
    (lambda raw: raw[:-10], "wrong count"),
    (lambda raw: raw[:6], "header truncated"),
])
def test_idx_reader_rejects_corrupt_bytes(damage, message):
    raw = _idx_bytes(np.zeros((20, 28, 28)))
    with pytest.raises(BenchError, match=message):
        data.idx_bytes_to_array(damage(raw), path="x", expected_ndim=3)


def test_missing_file_is_named(tmp_path):
    d = _write_idx_dir(tmp_path / "d")
    (d / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(BenchError, match="missing t10k-labels-idx1-ubyte.gz"):
        data.load_split("mnist", "test", d)


def test_truncated_gzip_is_named(tmp_path):
    d = _write_idx_dir(tmp_path / "d")
    f = d / "t10k-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2])
    with pytest.raises(BenchError, match=r"t10k-images-idx3-ubyte.gz: truncated gzip"):
        data.load_split("mnist", "test", d)


def test_checksum_mismatch_on_well_formed_files(tmp_path):
    d = _write_idx_dir(tmp_path / "d")
    with pytest.raises(BenchError, match="checksum mismatch for mnist"):
        data.load_split("mnist", "test", d)


def test_wrong_image_label_count(tmp_path, monkeypatch):
    d = _write_idx_dir(tmp_path / "d")
    labels = d / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(_idx_bytes(np.zeros(19))))
    # make both files 'verified' so that the count check is what fails
    sums = {stem: __import__("hashlib").sha256(gzip.decompress((d / f"{stem}.gz").read_bytes()))
            .hexdigest() for stem in data.IDX_FILES["test"]}
    monkeypatch.setitem(data.IDX_SHA256, "mnist", sums)
    with pytest.raises(BenchError, match="wrong count: 20 images but 19 labels"):
        data.load_split("mnist", "test", d)


def test_keras_cache_checksum_mismatch(tmp_path, monkeypatch):
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=np.zeros((1, 28, 28)))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(BenchError, match="mnist.npz: checksum mismatch"):
        data.load_split("mnist", "train")


def test_no_network_for_download_is_a_clear_error(tmp_path, monkeypatch):
    # An unreachable proxy on loopback makes the real Keras download fail at once, as no network does.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with pytest.raises(BenchError, match="downloading it failed.*--data-dir"):
        data.load_split("mnist", "train")


def test_fashion_mnist_absent_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", tmp_path / "nowhere")
    with pytest.raises(BenchError, match="apt-get install dataset-fashion-mnist"):
        data.load_split("fashion-mnist")


def test_unknown_data_set_lists_choices():
    with pytest.raises(BenchError, match="mnist-5k, mnist, fashion-mnist"):
        data.load_split("cifar10")


def test_cli_bad_data_dir_exits_2_and_writes_nothing(tmp_path, capsys):
    d = _write_idx_dir(tmp_path / "d")
    out = tmp_path / "cell"
    code = main(["train", "--data", "mnist", "--data-dir", str(d), "--steps", "2",
                 "--out", str(out)])
    assert code == 2
    assert "checksum mismatch" in capsys.readouterr().err
    assert not out.exists()


def test_pipeline_batches_are_full_scaled_and_seeded(mnist_5k):
    ds = training_dataset(mnist_5k.images, 64, seed=3)
    a = [b.numpy() for b in ds.take(3)]
    b = [b.numpy() for b in training_dataset(mnist_5k.images, 64, seed=3).take(3)]
    c = next(iter(training_dataset(mnist_5k.images, 64, seed=4))).numpy()
    assert all(x.shape == (64, 28, 28, 1) and x.dtype == np.float32 for x in a)
    assert a[0].min() == -1.0 and a[0].max() == 1.0
    assert all((x == y).all() for x, y in zip(a, b))
    assert not (a[0] == c).all()


def test_pipeline_has_fixed_prefetch_without_autotune(mnist_5k):
    # Autotuning made iterator deletion wait up to 37 s at the end of a cell (see training_dataset).
    ds = training_dataset(mnist_5k.images, 64, seed=0)
    assert ds.options().autotune.enabled is False
