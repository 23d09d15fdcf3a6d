"""The numbers: pure functions, NumPy arrays in, floats and dicts out.

Inputs are the classifier's outputs: `logits` (N, 10) and penultimate `features` (N, 128). FID,
KID and the classifier score go through TF-GAN's own functions (loaded by `bench.evaluate.tfgan`)
in a process whose Keras runs on TensorFlow, and through their NumPy float64 twins
(`bench.evaluate.numpy_metrics`, equal within 1e-6) in one that runs on JAX, where TensorFlow is
kept out or absent: `engine()` says which, and every result records it. An independent
NumPy/SciPy FID (`stats_to_fid_scipy`) is kept as the reference the tests hold both to.
Precision, recall, density and coverage live in `bench.evaluate.prdc`.

Caveats a reader of the numbers needs:
- FID is biased: its expected value falls as N grows, even for two samples of one distribution.
  Compare FIDs only at the same `n` (every result records it).
- KID is unbiased (TF-GAN's block estimator); `kid_std` is the standard error across blocks.
- The classifier score is computed over all N samples at once. Averaging it over small batches,
  as TF-GAN's MNIST example does, gives lower values (p(y) of a batch of 32 is not uniform).
"""

import math

import numpy as np
from scipy import linalg, special

from bench import outcome_rule, schema
from bench.errors import BenchError
from bench.evaluate import numpy_metrics, prdc

# A sample is "confident" when the classifier gives its top class at least this probability.
# The shipped MNIST instrument is this sure of 98.4% of MNIST's test digits and of no uniform
# noise image (it was trained to answer noise with the uniform distribution).
CONFIDENCE_THRESHOLD = 0.9
# A class is covered when its confident samples reach this share of its fair share (N / 10):
# 0.25 means at least 2.5% of all samples are confident members of that class. Counting only
# confident samples keeps garbage, which the classifier spreads with low confidence, from
# covering classes.
COVERAGE_SHARE = 0.25
# KID's target block ("subset") size, in samples of the larger set: TF-GAN's block estimator is
# unbiased at any block size; kid_blocks() shrinks the block count so every block holds at least
# 2 samples of each side.
KID_SUBSET_SIZE = 1000
# Blocks are formed in order; a fixed permutation makes the estimate independent of input order
# (mnist-5k is sorted by class, which the block estimator would turn into a large variance).
KID_PERMUTATION_SEED = 0
# Classifier score over all N logits: one split (recorded with the value).
CLASSIFIER_SCORE_SPLITS = 1


TFGAN, NUMPY = "tf-gan", "numpy"


def engine() -> str:
    """Which implementation computes FID, KID and the classifier score in this process (TFGAN or
    NUMPY): the one the framework of this process's Keras backend names (bench.frameworks): TF-GAN
    where Keras runs on TensorFlow, NumPy where it runs on JAX (no TensorFlow to start)."""
    from bench.frameworks import for_backend
    from bench.imports import keras_backend

    return for_backend(keras_backend()).metrics_engine


def thresholds() -> dict:
    """Every threshold and setting behind the numbers, to be stored with each result."""
    return {
        "confidence_threshold": CONFIDENCE_THRESHOLD,
        "coverage_share": COVERAGE_SHARE,
        **outcome_rule.thresholds(),
        "kid_subset_size": KID_SUBSET_SIZE,
        "classifier_score_splits": CLASSIFIER_SCORE_SPLITS,
        **prdc.thresholds(),
    }


def _as_2d_float64(array, name: str) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2:
        raise BenchError(f"expected a 2-D array (samples, dimensions), found shape {array.shape}",
                         field=name)
    if not np.all(np.isfinite(array)):
        raise BenchError("contains NaN or Inf", field=name)
    return array


def check_enough_samples(features, name: str = "features") -> np.ndarray:
    """float64 features; a BenchError when there are fewer samples than feature dimensions."""
    features = _as_2d_float64(features, name)
    n, dim = features.shape
    if n < dim:
        raise BenchError(f"{n} samples is fewer than the feature dimension {dim}: the covariance "
                         f"would be meaningless; use at least {dim} samples", field=name)
    return features


def features_to_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (ddof=1, as TF-GAN uses), both float64."""
    features = check_enough_samples(features)
    return features.mean(axis=0), np.cov(features, rowvar=False, ddof=1)


def cov_to_rank_deficient(cov) -> bool:
    """True when the covariance is singular (rank < dim), as a collapsed set's is."""
    return bool(np.linalg.matrix_rank(cov, hermitian=True) < cov.shape[0])


def stats_to_fid_scipy(mean1, cov1, mean2, cov2) -> float:
    """Reference FID with scipy.linalg.sqrtm: |m1-m2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)).

    Kept independent of TF-GAN so tests can hold TF-GAN to it. For singular covariances sqrtm
    can return a small imaginary part from round-off; it is dropped, as pytorch-fid does.
    """
    covmean = linalg.sqrtm(np.asarray(cov1) @ np.asarray(cov2))
    covmean = np.real(covmean)
    diff = np.asarray(mean1) - np.asarray(mean2)
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(covmean))


def features_to_fid(*, real_features, fake_features) -> dict:
    """FID on float64 activations (by TF-GAN, or its NumPy twin: `engine`), and whether the fake
    covariance is singular.

    TF-GAN takes matrix square roots by SVD with tiny singular values left unrooted, so a
    singular covariance (a collapsed set) still gives a finite, real FID; `rank_deficient` says
    the number rests on a degenerate Gaussian.
    """
    real = check_enough_samples(real_features, "real_features")
    fake = check_enough_samples(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise BenchError(f"feature dimensions differ: real {real.shape[1]}, fake {fake.shape[1]}")
    if engine() == NUMPY:
        fid = numpy_metrics.fid(real, fake)
    else:
        import tensorflow as tf

        from bench.evaluate.tfgan import eval_functions

        fid = float(eval_functions().frechet_classifier_distance_from_activations(
            tf.constant(real), tf.constant(fake)))
    if not np.isfinite(fid):  # never report a NaN as a distance
        raise BenchError(f"FID is not finite ({fid}); the features are degenerate", field="fid")
    _, cov = features_to_stats(fake)
    # Round-off can push the FID of a set against itself a hair below zero.
    return {schema.FID: max(fid, 0.0), schema.RANK_DEFICIENT: cov_to_rank_deficient(cov)}


def kid_blocks(n_real: int, n_fake: int, target_size: int = KID_SUBSET_SIZE) -> dict:
    """How the KID block estimator splits n_real and n_fake samples: block count and sizes.

    TF-GAN forms ceil(max(n_real, n_fake) / max_block_size) blocks and splits each set into that
    many consecutive, near-equal blocks. A block needs at least 2 samples of each side (its
    unbiased within-set term divides by m (m - 1)), so blocks aim at `target_size` samples of the
    larger set and are capped at min(n_real, n_fake) // 2 in number. Returns the max_block_size
    to pass to TF-GAN and what it yields: `kid_blocks`, and the smallest block of each side
    (`kid_block_size_real`, `kid_block_size_fake`).
    """
    if min(n_real, n_fake) < 4:
        raise BenchError(f"KID needs at least 4 samples of each side (2 blocks of 2), found "
                         f"{n_real} real and {n_fake} fake", field="kid")
    larger = max(n_real, n_fake)
    wanted = min(max(2, math.ceil(larger / target_size)), min(n_real, n_fake) // 2)
    max_block_size = math.ceil(larger / wanted)
    blocks = math.ceil(larger / max_block_size)  # what TF-GAN computes; never more than wanted
    return {"max_block_size": max_block_size, "kid_blocks": blocks,
            "kid_block_size_real": n_real // blocks, "kid_block_size_fake": n_fake // blocks}


def features_to_kid(*, real_features, fake_features, target_size=KID_SUBSET_SIZE) -> dict:
    """KID and its standard error by TF-GAN's block estimator (or its NumPy twin: `engine`),
    with the blocks it used.

    Each set is permuted with a fixed seed first: the estimator's blocks are consecutive, and a
    set sorted by class (mnist-5k is) would otherwise give every block a different class mix.
    """
    real = _as_2d_float64(real_features, "real_features")
    fake = _as_2d_float64(fake_features, "fake_features")
    blocks = kid_blocks(len(real), len(fake), target_size)
    rng = np.random.default_rng(KID_PERMUTATION_SEED)
    real = real[rng.permutation(len(real))]
    fake = fake[rng.permutation(len(fake))]
    max_block_size = blocks.pop("max_block_size")
    if engine() == NUMPY:
        kid, std = numpy_metrics.kid_and_std(real, fake, max_block_size)
    else:
        import tensorflow as tf

        from bench.evaluate.tfgan import eval_functions

        kid, std = eval_functions().kernel_classifier_distance_and_std_from_activations(
            tf.constant(real), tf.constant(fake), max_block_size=max_block_size)
    return {schema.KID: float(kid), schema.KID_STD: float(std), **blocks}


def logits_to_classifier_score(logits) -> float:
    """exp(E[KL(p(y|x) || p(y))]) over all N samples at once, in float64, by TF-GAN (or its
    NumPy twin: `engine`)."""
    logits = _as_2d_float64(logits, "logits")
    if engine() == NUMPY:
        return numpy_metrics.classifier_score(logits)
    import tensorflow as tf

    from bench.evaluate.tfgan import eval_functions

    return float(eval_functions().classifier_score_from_logits(tf.constant(logits)))


def logits_to_mode_coverage(logits) -> dict:
    """Class histogram and the mode-coverage numbers; thresholds are the module constants.

    - class_histogram: samples per class by argmax (all samples, confident or not);
    - confident_fraction: share with top-class probability >= CONFIDENCE_THRESHOLD;
    - classes_covered: classes whose *confident* samples number at least COVERAGE_SHARE * N / 10;
    - kl_to_uniform: KL(histogram share || uniform), 0 for balanced classes, log 10 for one class;
    - max_class_fraction: the largest class's share of all samples;
    - outcome: digits, mode_collapse or not_converged (bench.outcome_rule).
    """
    logits = _as_2d_float64(logits, "logits")
    n, num_classes = logits.shape
    probs = special.softmax(logits, axis=1)
    top = probs.argmax(axis=1)
    confident = probs.max(axis=1) >= CONFIDENCE_THRESHOLD
    histogram = np.bincount(top, minlength=num_classes)
    confident_histogram = np.bincount(top[confident], minlength=num_classes)
    covered = int(np.sum(confident_histogram >= COVERAGE_SHARE * n / num_classes))
    share = histogram / n
    nonzero = share > 0  # 0 log 0 = 0
    kl = float(np.sum(share[nonzero] * np.log(share[nonzero] * num_classes)))
    max_fraction = float(share.max())
    return {
        schema.CLASS_HISTOGRAM: [int(c) for c in histogram],
        schema.CONFIDENT_FRACTION: float(confident.mean()),
        schema.CLASSES_COVERED: covered,
        schema.KL_TO_UNIFORM: kl,
        schema.MAX_CLASS_FRACTION: max_fraction,
        schema.OUTCOME: outcome_rule.coverage_to_outcome(float(confident.mean()), covered,
                                                         max_fraction),
    }
