"""Evaluating image sets end to end: real, blurred, one-digit and noise sets; NPZ input; the cache."""

import evalsets
import numpy as np
import pytest

from bench import schema
from bench.cell.data import images_to_unit_range
from bench.errors import BenchError
from bench.evaluate import reference
from bench.evaluate.score import SCORE_KEYS, evaluate_images, images_from_npz, score_npz


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("reference-cache")


def _evaluate(images, cache_dir, dataset="mnist-5k"):
    return evaluate_images(images, dataset, cache_dir=cache_dir)


def test_real_digits_score_high_and_fid_rises_strictly_with_blur(cache_dir):
    digits = evalsets.mnist_test().images
    real = _evaluate(digits, cache_dir)
    assert real[schema.N] == 10000 and real["reference_n"] == 5000
    assert real[schema.CLASSIFIER_SCORE] >= 9
    assert real[schema.CLASSES_COVERED] == 10 and real[schema.COLLAPSED] is False
    assert real[schema.CONFIDENT_FRACTION] >= 0.95 and real[schema.RANK_DEFICIENT] is False
    fids = [real[schema.FID]]
    for sigma in (0.5, 1, 2, 3):
        fids.append(_evaluate(evalsets.blurred(digits, sigma), cache_dir)[schema.FID])
    assert all(a < b for a, b in zip(fids, fids[1:])), fids
    assert fids[3] > 10 * fids[0]  # sigma 2: "far above" real digits


def test_one_digit_set_covers_one_class_and_is_collapsed(cache_dir):
    split = evalsets.mnist_5k()
    ones = split.images[split.labels == 1]
    result = _evaluate(ones, cache_dir)
    assert result[schema.CLASSES_COVERED] == 1
    assert result[schema.CLASSIFIER_SCORE] < 2
    assert result[schema.COLLAPSED] is True and result[schema.MAX_CLASS_FRACTION] > 0.95
    assert result[schema.COVERAGE] <= 0.2


def test_uniform_noise_covers_no_class(cache_dir):
    result = _evaluate(evalsets.uniform_noise(1000), cache_dir)
    assert result[schema.CONFIDENT_FRACTION] <= 0.05 and result[schema.CLASSES_COVERED] == 0
    assert result[schema.PRECISION] <= 0.1 and result[schema.COLLAPSED] is True


def test_uint8_and_float_encodings_give_identical_numbers(tmp_path, cache_dir):
    images = evalsets.mnist_5k().images[::5]  # 1,000 digits
    encodings = {
        "uint8.npz": images,
        "float32.npz": images_to_unit_range(images),
        "float64-flat.npz": (images.astype(np.float64) - 127.5) / 127.5,
    }
    results = []
    for name, array in encodings.items():
        np.savez(tmp_path / name, images=array)
        results.append(score_npz(tmp_path / name, "mnist-5k", cache_dir=cache_dir))
    assert results[0] == results[1] == results[2]
    assert set(SCORE_KEYS) <= set(results[0])
    assert results[0]["classifier_sha256"] == evalsets.instrument().sha256


def _digits():
    return evalsets.mnist_5k().images[:200]


BAD_INPUTS = {
    "text file": ("not an NPZ", None),
    "npy file": ("not an NPZ", None),
    "no images key": ("no 'images' array", dict(pictures=_digits)),
    "wrong shape": ("expected shape", dict(images=lambda: np.zeros((200, 32, 32), np.uint8))),
    "three channels": ("expected shape", dict(images=lambda: np.zeros((200, 28, 28, 3), np.uint8))),
    "NaN": ("NaN or Inf", dict(images=lambda: np.where(_digits() > 200, np.nan, 0.0))),
    "Inf": ("NaN or Inf", dict(images=lambda: np.full((200, 28, 28), np.inf))),
    "float 0..255": ("must lie in \\[-1, 1\\]", dict(images=lambda: _digits().astype(np.float32))),
    "int64": ("found dtype int64", dict(images=lambda: _digits().astype(np.int64))),
    "too few": ("fewer than the metrics need", dict(images=lambda: _digits()[:100])),
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input_is_a_clear_error(tmp_path, kind):
    message, arrays = BAD_INPUTS[kind]
    path = tmp_path / "samples.npz"
    if kind == "text file":
        path.write_text("images: 1, 2, 3\n")
    elif kind == "npy file":
        with open(path, "wb") as f:
            np.save(f, _digits())
    else:
        np.savez(path, **{key: make() for key, make in arrays.items()})
    with pytest.raises(BenchError, match=message) as err:
        images_from_npz(path)
    assert str(path) in str(err.value)


def test_a_good_npz_is_accepted(tmp_path):
    np.savez(tmp_path / "ok.npz", images=_digits()[..., None])
    images = images_from_npz(tmp_path / "ok.npz")
    assert images.shape == (200, 28, 28, 1) and images.dtype == np.float32


def test_reference_cache_is_reused_and_recomputed_when_corrupt(tmp_path, monkeypatch):
    instrument = evalsets.instrument()
    loads = []
    real_load_split = reference.load_split
    monkeypatch.setattr(reference, "load_split",
                        lambda *a, **k: loads.append(a) or real_load_split(*a, **k))
    first = reference.reference_stats("mnist-5k", classifier=instrument, cache_dir=tmp_path)
    key = reference.reference_key("mnist-5k", "train", 5000, instrument.sha256)
    path = reference.cache_path(tmp_path, key)
    assert path.is_file() and len(loads) == 1
    reference.reference_stats("mnist-5k", classifier=instrument, cache_dir=tmp_path)
    assert len(loads) == 1  # cached: the data set was not read again

    path.write_bytes(path.read_bytes()[:1000])  # truncated, as a killed copy would leave it
    again = reference.reference_stats("mnist-5k", classifier=instrument, cache_dir=tmp_path)
    assert len(loads) == 2
    np.testing.assert_array_equal(again.features, first.features)
    np.testing.assert_array_equal(again.radii, first.radii)

    # A file under the right name whose stored key differs (another classifier) is not trusted.
    other = reference.reference_key("mnist-5k", "train", 5000, "f" * 64)
    with np.load(path) as f:
        arrays = {name: f[name] for name in ("features", "radii")}
    reference._save(path, other, arrays)
    reference.reference_stats("mnist-5k", classifier=instrument, cache_dir=tmp_path)
    assert len(loads) == 3
    # A different classifier hash names a different file.
    assert reference.cache_path(tmp_path, other) != path
