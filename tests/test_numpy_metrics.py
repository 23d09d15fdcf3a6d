"""The metrics' NumPy twins (where TensorFlow is not) held to TF-GAN (the reference) within 1e-6,
on real classifier outputs and on constructed sets, and the instrument under Keras' JAX backend
held to its TensorFlow self within 1e-5."""

import subprocess
import sys
from pathlib import Path

import evalsets
import numpy as np
import pytest
import tensorflow as tf

from bench import schema
from bench.evaluate import metrics, numpy_metrics
from bench.evaluate.tfgan import eval_functions

ROOT = Path(__file__).resolve().parent.parent
REL = 1e-6


def _feature_pairs():
    """(name, real, fake) feature sets: digits against digits, noise, a collapsed set (one image
    300 times: a singular covariance) and blurred digits; two constructed Gaussian sets."""
    reference, held_out = evalsets.half_features("reference"), evalsets.half_features("held_out")
    real = evalsets.outputs("mnist_5k")[1]
    one_image = np.repeat(evalsets.mnist_5k().images[:1], 300, axis=0)
    collapsed = evalsets.instrument().images_to_logits_and_features(one_image)[1]
    rng = np.random.default_rng(7)
    return [
        ("digits-halves", reference, held_out),
        ("digits-noise", real, evalsets.outputs("noise")[1]),
        ("digits-collapsed", real, collapsed),
        ("digits-blur4", reference, evalsets.half_features("held_out_blur4")),
        ("gaussians", rng.normal(size=(3000, 128)),
         rng.normal(0.1, 1.3, size=(2000, 128)) @ rng.normal(size=(128, 128)) / 11),
        ("low-rank", rng.normal(size=(1000, 128)),
         rng.normal(size=(500, 20)) @ rng.normal(size=(20, 128))),
    ]


@pytest.fixture(scope="module")
def pairs():
    return _feature_pairs()


def test_numpy_fid_equals_tfgan_and_the_scipy_reference(pairs):
    for name, real, fake in pairs:
        tfgan = float(eval_functions().frechet_classifier_distance_from_activations(
            tf.constant(real), tf.constant(fake)))
        twin = numpy_metrics.fid(real, fake)
        assert twin == pytest.approx(tfgan, rel=REL), name
        assert tfgan > 1e-3, name  # a real distance, not round-off of zero
        if name != "digits-collapsed":  # sqrtm of a singular product: TF-GAN's root differs there
            independent = metrics.stats_to_fid_scipy(*metrics.features_to_stats(real),
                                                     *metrics.features_to_stats(fake))
            assert twin == pytest.approx(independent, rel=1e-4), name
    real = pairs[0][1]
    assert abs(numpy_metrics.fid(real, real)) < 1e-6  # a set against itself


@pytest.mark.parametrize("max_block_size", [1000, 257, 40000])
def test_numpy_kid_equals_tfgan(pairs, max_block_size):
    for name, real, fake in pairs:
        want = eval_functions().kernel_classifier_distance_and_std_from_activations(
            tf.constant(real), tf.constant(fake), max_block_size=max_block_size)
        kid, std = numpy_metrics.kid_and_std(real, fake, max_block_size)
        assert kid == pytest.approx(float(want[0]), rel=REL), name
        if max_block_size >= max(len(real), len(fake)):  # one block: no standard error
            assert np.isnan(std) and np.isnan(float(want[1])), name
        else:
            assert std == pytest.approx(float(want[1]), rel=REL), name


def test_numpy_kid_is_the_mean_of_hand_written_block_mmds():
    # 7 real and 5 fake samples in 2 blocks: real rows 0-2 | 3-6, fake rows 0-1 | 2-4 (the
    # smaller blocks first), each block's unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3 written
    # out sum by sum
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(7, 3)), rng.normal(1.0, 1.0, size=(5, 3))

    def mmd2(x, y):
        k = lambda a, b: (np.dot(a, b) / 3 + 1) ** 3  # noqa: E731
        xx = sum(k(a, b) for i, a in enumerate(x) for j, b in enumerate(x) if i != j)
        yy = sum(k(a, b) for i, a in enumerate(y) for j, b in enumerate(y) if i != j)
        xy = sum(k(a, b) for a in x for b in y)
        return (xx / (len(x) * (len(x) - 1)) + yy / (len(y) * (len(y) - 1))
                - 2 * xy / (len(x) * len(y)))

    blocks = [mmd2(real[:3], fake[:2]), mmd2(real[3:], fake[2:])]
    kid, std = numpy_metrics.kid_and_std(real, fake, max_block_size=4)
    assert kid == pytest.approx(np.mean(blocks), rel=1e-12)
    assert std == pytest.approx(abs(blocks[0] - blocks[1]) / 2, rel=1e-12)  # sd/sqrt(2), 2 blocks


def test_numpy_classifier_score_equals_tfgan():
    rng = np.random.default_rng(0)
    sets = {
        "digits": evalsets.outputs("mnist_5k")[0],
        "noise": evalsets.outputs("noise")[0],
        "one-class": np.tile([[30.0] + [0.0] * 9], (500, 1)),
        "uniform": np.zeros((500, 10)),
        "random": rng.normal(0, 5, size=(1000, 10)),
    }
    for name, logits in sets.items():
        tfgan = float(eval_functions().classifier_score_from_logits(tf.constant(logits)))
        assert numpy_metrics.classifier_score(logits) == pytest.approx(tfgan, rel=REL), name
    # known values: one class for all samples, or the uniform distribution, score 1; ten
    # equally frequent, certain classes score 10
    assert numpy_metrics.classifier_score(sets["uniform"]) == pytest.approx(1.0, abs=1e-12)
    certain = np.repeat(np.eye(10) * 60.0, 50, axis=0)
    assert numpy_metrics.classifier_score(certain) == pytest.approx(10.0, rel=1e-9)


# The instrument in a process whose Keras runs on JAX, TensorFlow unimportable: its logits and
# features of the first 2,000 mnist-5k digits and 500 noise images, saved for this process.
JAX_INSTRUMENT = """
import importlib.abc, os, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ImportError(name + " is blocked in this test")
sys.meta_path.insert(0, Block())
import numpy as np
sys.path.insert(0, "tests")
import evalsets
from bench.evaluate import metrics
images = np.concatenate([evalsets.mnist_5k().images[:2000].astype(np.float32) / 127.5 - 1,
                         evalsets.uniform_noise(500)])
logits, features = evalsets.instrument().images_to_logits_and_features(images)
assert metrics.engine() == "numpy" and "tensorflow" not in sys.modules
np.savez(sys.argv[1], logits=logits, features=features)
"""


def test_the_instrument_under_jax_gives_tensorflows_logits_and_features(tmp_path):
    pytest.importorskip("jax", reason="JAX is not installed (the jax extra)")
    out = tmp_path / "jax.npz"
    proc = subprocess.run([sys.executable, "-c", JAX_INSTRUMENT, str(out)], cwd=ROOT,
                          capture_output=True, text=True, env={"KERAS_BACKEND": "jax",
                                                               **_env()})
    assert proc.returncode == 0, proc.stderr[-3000:]
    images = np.concatenate([evalsets.mnist_5k().images[:2000].astype(np.float32) / 127.5 - 1,
                             evalsets.uniform_noise(500)])
    logits, features = evalsets.instrument().images_to_logits_and_features(images)
    got = np.load(out)
    assert got["features"].shape == (2500, schema.FEATURE_DIM)
    np.testing.assert_allclose(got["logits"], logits, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got["features"], features, rtol=1e-5, atol=1e-5)
    assert np.array_equal(got["logits"].argmax(axis=1), logits.argmax(axis=1))


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
