"""The metric functions on real classifier features, against references and stated bars."""

import evalsets
import numpy as np
import pytest

from bench import schema
from bench.errors import BenchError
from bench.evaluate import metrics, prdc


def _features(name):
    if name in ("mnist_test", "blur3"):
        evalsets.mnist_test()  # skips without the MNIST files
    return evalsets.outputs(name)[1]


def test_tfgan_fid_matches_scipy_reference():
    real = _features("mnist_5k")
    fake = _features("mnist_test")[:5000]
    tfgan_fid = metrics.features_to_fid(real_features=real, fake_features=fake)[schema.FID]
    reference = metrics.stats_to_fid_scipy(*metrics.features_to_stats(real),
                                           *metrics.features_to_stats(fake))
    assert reference > 1.0  # two different sets: a real distance, not round-off
    assert abs(tfgan_fid - reference) / reference < 1e-3


def test_fid_of_a_set_against_itself_is_zero():
    real = _features("mnist_5k")
    result = metrics.features_to_fid(real_features=real, fake_features=real)
    assert 0.0 <= result[schema.FID] < 1e-3
    assert result[schema.RANK_DEFICIENT] is False  # the instrument's features have full rank


def test_identical_images_give_finite_fid_and_rank_deficient():
    real = _features("mnist_5k")
    one_image = np.repeat(evalsets.mnist_5k().images[:1], 300, axis=0)
    _, fake = evalsets.instrument().images_to_logits_and_features(one_image)
    result = metrics.features_to_fid(real_features=real, fake_features=fake)
    assert isinstance(result[schema.FID], float)
    assert np.isfinite(result[schema.FID]) and result[schema.FID] > 0
    assert result[schema.RANK_DEFICIENT] is True


def test_too_few_samples_are_errors():
    real = _features("mnist_5k")
    with pytest.raises(BenchError, match="fewer than the feature dimension"):
        metrics.features_to_fid(real_features=real, fake_features=real[:100])
    with pytest.raises(BenchError, match="KID needs at least 4 samples"):
        metrics.features_to_kid(real_features=real, fake_features=real[:3])


def _unbiased_mmd2(x, y):
    """Unbiased MMD^2 with the cubic polynomial kernel (x.y / d + 1)^3, written out in NumPy."""
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1.0) ** 3  # noqa: E731
    m, n = len(x), len(y)
    kxx, kyy = k(x, x), k(y, y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2.0 * k(x, y).mean())


@pytest.mark.parametrize("n_fake, target", [(128, 1000), (141, 1000), (1000, 1000), (128, 128),
                                             (141, 141), (6, 1000)])
def test_kid_matches_numpy_block_mmd_at_small_n(n_fake, target):
    # 128 <= n <= 141 fake samples against a 10,000-sample reference once gave single-sample
    # blocks, 0/0 and a silent null. Every block must hold 2 or more of each side.
    rng = np.random.default_rng(n_fake)
    real = rng.normal(size=(10000, 16))
    fake = rng.normal(0.2, 1.1, size=(n_fake, 16))
    got = metrics.features_to_kid(real_features=real, fake_features=fake, target_size=target)
    assert np.isfinite(got[schema.KID]) and np.isfinite(got[schema.KID_STD])
    assert got[schema.KID_BLOCK_SIZE_FAKE] >= 2 and got[schema.KID_BLOCK_SIZE_REAL] >= 2
    # The reference: the same fixed permutation and TF-GAN's consecutive near-equal blocks, then
    # the mean and standard error of each block's unbiased MMD^2.
    perm = np.random.default_rng(metrics.KID_PERMUTATION_SEED)
    real, fake = real[perm.permutation(len(real))], fake[perm.permutation(len(fake))]
    blocks = got[schema.KID_BLOCKS]
    estimates = [_unbiased_mmd2(r, f) for r, f in zip(_near_equal_blocks(real, blocks),
                                                      _near_equal_blocks(fake, blocks))]
    assert got[schema.KID] == pytest.approx(np.mean(estimates), rel=1e-9, abs=1e-12)
    assert got[schema.KID_STD] == pytest.approx(np.std(estimates, ddof=1) / np.sqrt(blocks),
                                                rel=1e-9)


def _near_equal_blocks(x, blocks):
    """Consecutive blocks, the smaller ones first (TF-GAN's order)."""
    small, extra = divmod(len(x), blocks)
    sizes = [small] * (blocks - extra) + [small + 1] * extra
    return np.split(x, np.cumsum(sizes)[:-1])


def test_kid_blocks_worked_by_hand():
    # 10,000 against 10,000: ceil(10000 / 1000) = 10 blocks of 1,000.
    assert metrics.kid_blocks(10000, 10000) == {
        "max_block_size": 1000, "kid_blocks": 10, "kid_block_size_real": 1000,
        "kid_block_size_fake": 1000}
    # 128 fakes: the same 10 blocks, 12 or 13 fakes each.
    assert metrics.kid_blocks(10000, 128)["kid_block_size_fake"] == 12
    # Blocks aimed at 128 samples would be ceil(10000 / 128) = 79, leaving some fake blocks one
    # sample (the old NaN); capped at 128 // 2 = 64: ceil(10000 / 64) = 157 per real block,
    # ceil(10000 / 157) = 64 blocks, 156 or 157 real and exactly 2 fake samples each.
    assert metrics.kid_blocks(10000, 128, target_size=128) == {
        "max_block_size": 157, "kid_blocks": 64, "kid_block_size_real": 156,
        "kid_block_size_fake": 2}
    # 6 fakes: 3 blocks of 2; 10,000 / 3 -> blocks of 3,333 or 3,334 real samples.
    assert metrics.kid_blocks(10000, 6) == {
        "max_block_size": 3334, "kid_blocks": 3, "kid_block_size_real": 3333,
        "kid_block_size_fake": 2}


def test_kid_of_real_digits_is_near_zero_and_of_noise_large():
    real = _features("mnist_5k")
    own = metrics.features_to_kid(real_features=real[::2], fake_features=real[1::2])
    noise = metrics.features_to_kid(real_features=real, fake_features=_features("noise"))
    assert abs(own[schema.KID]) < 3 * own[schema.KID_STD]
    assert noise[schema.KID] > 100 * own[schema.KID_STD]


def test_prdc_geometry_bars():
    real = _features("mnist_5k")
    noise = prdc.features_to_prdc(real_features=real, fake_features=_features("noise"))
    assert noise[schema.PRECISION] <= 0.1 and noise[schema.COVERAGE] <= 0.05
    # All 10,000 held-out test digits against the 5,000 reference digits: a final evaluation's N.
    held_out = prdc.features_to_prdc(real_features=real, fake_features=_features("mnist_test"))
    assert held_out[schema.PRECISION] >= 0.85 and held_out[schema.COVERAGE] >= 0.85
    assert held_out[schema.RECALL] >= 0.85 and 0.7 <= held_out[schema.DENSITY] <= 1.3
    labels = evalsets.mnist_test().labels
    ones = prdc.features_to_prdc(real_features=real,
                                 fake_features=_features("mnist_test")[labels == 1])
    assert ones[schema.COVERAGE] <= 0.2
    # Heavily blurred digits land near the origin of the raw feature space, inside the wide
    # balls of ambiguous digits (precision 0.96 there); on the unit sphere they do not.
    blur = prdc.features_to_prdc(real_features=real, fake_features=_features("blur3"))
    assert blur[schema.PRECISION] <= 0.1


def test_prdc_matches_a_brute_force_computation():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(300, 8)), rng.normal(0.3, 1.0, size=(250, 8))
    r = prdc.features_to_unit_sphere(real)
    f = prdc.features_to_unit_sphere(fake)
    d_rr = np.linalg.norm(r[:, None] - r[None], axis=2)
    d_ff = np.linalg.norm(f[:, None] - f[None], axis=2)
    d_rf = np.linalg.norm(r[:, None] - f[None], axis=2)
    r_r, r_f = np.sort(d_rr, axis=1)[:, 5], np.sort(d_ff, axis=1)[:, 5]
    expected = {
        schema.PRECISION: (d_rf < r_r[:, None]).any(axis=0).mean(),
        schema.RECALL: (d_rf < r_f[None, :]).any(axis=1).mean(),
        schema.DENSITY: (d_rf < r_r[:, None]).sum() / (5 * len(f)),
        schema.COVERAGE: (d_rf.min(axis=1) < r_r).mean(),
    }
    got = prdc.features_to_prdc(real_features=real, fake_features=fake)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_mode_coverage_on_hand_made_logits():
    n = 1000
    balanced = np.full((n, 10), -10.0)
    balanced[np.arange(n), np.arange(n) % 10] = 10.0
    result = metrics.logits_to_mode_coverage(balanced)
    assert result[schema.CLASS_HISTOGRAM] == [100] * 10
    assert result[schema.CLASSES_COVERED] == 10 and result[schema.OUTCOME] == "digits"
    assert result[schema.KL_TO_UNIFORM] == pytest.approx(0.0, abs=1e-12)
    one_class = np.zeros((n, 10))
    one_class[:, 3] = 10.0
    result = metrics.logits_to_mode_coverage(one_class)
    assert result[schema.CLASSES_COVERED] == 1 and result[schema.OUTCOME] == "mode_collapse"
    assert result[schema.KL_TO_UNIFORM] == pytest.approx(np.log(10))
    # Garbage: argmax spread evenly, but never confident. It must cover nothing.
    garbage = balanced * 0.01
    result = metrics.logits_to_mode_coverage(garbage)
    assert result[schema.CONFIDENT_FRACTION] == 0.0 and result[schema.CLASSES_COVERED] == 0
    assert result[schema.OUTCOME] == "not_converged"  # no confident sample: not digits at all
    # Six classes, each at 1/6: covered 6 > 5 and max fraction 1/6 < 0.5: digits.
    six = balanced.copy()
    six[:, :] = -10.0
    six[np.arange(n), np.arange(n) % 6] = 10.0
    assert metrics.logits_to_mode_coverage(six)[schema.OUTCOME] == "digits"
    six[:, 0] = 20.0  # now one class takes everything
    assert metrics.logits_to_mode_coverage(six)[schema.OUTCOME] == "mode_collapse"


def _digits_1500(source):
    if source == "mnist_test":
        return evalsets.mnist_test().images[:1500]  # skips without the full MNIST files
    return evalsets.halves()[1][:1500]


@pytest.mark.parametrize("source", ["mnist_5k_held_out_half", "mnist_test"])
def test_metrics_do_not_depend_on_batch_size(tmp_path, source):
    from bench.evaluate.score import evaluate_images

    images = np.concatenate([_digits_1500(source),
                             (evalsets.uniform_noise(500) * 127.5 + 127.5).astype(np.uint8)])
    results = [evaluate_images(images, "mnist-5k", cache_dir=tmp_path / str(bs), batch_size=bs)
               for bs in (100, 1000)]
    for key in schema.DIGIT_METRICS:
        if key in schema.NON_NUMERIC_METRICS:
            assert results[0][key] == results[1][key], key
            continue
        a, b = float(results[0][key]), float(results[1][key])
        assert abs(a - b) <= 1e-4 * max(abs(a), abs(b), 1e-12), key


# The same properties on mnist-5k alone, split into a reference half and a held-out half, so that
# every fresh clone runs them (the full-MNIST versions above are extra checks where it is present).

def test_tfgan_fid_matches_scipy_on_mnist_5k_halves():
    real = evalsets.half_features("reference")
    for fake_name in ("held_out", "held_out_blur1"):
        fake = evalsets.half_features(fake_name)
        tfgan_fid = metrics.features_to_fid(real_features=real, fake_features=fake)[schema.FID]
        scipy_fid = metrics.stats_to_fid_scipy(*metrics.features_to_stats(real),
                                               *metrics.features_to_stats(fake))
        assert scipy_fid > 1.0  # different images: a real distance, not round-off
        assert tfgan_fid == pytest.approx(scipy_fid, rel=1e-6)


def test_fid_rises_strictly_with_blur_on_mnist_5k_halves():
    real = evalsets.half_features("reference")
    fids = [metrics.features_to_fid(real_features=real, fake_features=evalsets.half_features(
        name))[schema.FID] for name in ("held_out", "held_out_blur0.5", "held_out_blur1",
                                         "held_out_blur2", "held_out_blur3")]
    assert all(a < b for a, b in zip(fids, fids[1:])), fids
    assert fids[0] < 20 and fids[3] > 10 * fids[0]


def test_prdc_bars_on_mnist_5k_halves():
    real = evalsets.half_features("reference")
    held_out = prdc.features_to_prdc(real_features=real,
                                     fake_features=evalsets.half_features("held_out"))
    assert held_out[schema.PRECISION] >= 0.85 and held_out[schema.RECALL] >= 0.85
    assert held_out[schema.COVERAGE] >= 0.85 and 0.7 <= held_out[schema.DENSITY] <= 1.3
    _, _, labels = evalsets.halves()
    ones = prdc.features_to_prdc(real_features=real,
                                 fake_features=evalsets.half_features("held_out")[labels == 1])
    assert ones[schema.COVERAGE] <= 0.2 and ones[schema.PRECISION] >= 0.85
    blur = prdc.features_to_prdc(real_features=real,
                                 fake_features=evalsets.half_features("held_out_blur3"))
    assert blur[schema.PRECISION] <= 0.1
    noise = prdc.features_to_prdc(real_features=real, fake_features=_features("noise"))
    assert noise[schema.PRECISION] <= 0.1 and noise[schema.COVERAGE] <= 0.05
