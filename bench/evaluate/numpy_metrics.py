"""FID, KID and the classifier score in NumPy (float64): the metrics where TensorFlow is not.

Each function computes what TF-GAN's function of the same role computes, step for step, so the
two agree to round-off (tests hold them within 1e-6 on real and constructed feature sets):
- FID: TF-GAN's `frechet_classifier_distance_from_activations`: unbiased covariances, and
  Tr((C1 C2)^(1/2)) as Tr((A C2 A)^(1/2)) with A = C1^(1/2), each root a symmetric one taken
  by SVD with singular values below 1e-10 left unrooted (so a singular, collapsed set's
  covariance still gives a finite, real number);
- KID: TF-GAN's `kernel_classifier_distance_and_std_from_activations`: the polynomial kernel
  (x.y / d + 1)^3, the block estimator over consecutive near-equal blocks (the smaller blocks
  first), the standard error over blocks with Bessel's correction;
- classifier score: TF-GAN's `classifier_score_from_logits`: exp of the mean KL(p(y|x) || p(y))
  with log p(y|x) from a log-softmax.

Where TensorFlow runs the process, `bench.evaluate.metrics` calls TF-GAN itself (the reference);
a JAX process, which never imports TensorFlow, calls these.
"""

import numpy as np
from scipy import special

SVD_EPS = 1e-10  # TF-GAN's: singular values below it are not square-rooted


def symmetric_sqrt(matrix) -> np.ndarray:
    """The square root of a symmetric positive semi-definite matrix, by SVD (TF-GAN's rule)."""
    u, s, vh = np.linalg.svd(matrix)
    root = np.where(s < SVD_EPS, s, np.sqrt(np.maximum(s, 0.0)))
    return (u * root) @ vh


def unbiased_covariance(features: np.ndarray) -> np.ndarray:
    return np.cov(features, rowvar=False, ddof=1)


def fid(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between the Gaussians fitted to two float64 feature sets."""
    sigma, sigma_w = unbiased_covariance(real), unbiased_covariance(fake)
    root = symmetric_sqrt(sigma)
    sqrt_trace = np.trace(symmetric_sqrt(root @ sigma_w @ root))
    mean_term = float(np.sum((real.mean(axis=0) - fake.mean(axis=0)) ** 2))
    return float(np.trace(sigma + sigma_w) - 2.0 * sqrt_trace + mean_term)


def block_bounds(n: int, blocks: int) -> np.ndarray:
    """Start and end of each of `blocks` consecutive near-equal blocks of n rows, the smaller
    blocks first (TF-GAN's split)."""
    small, extra = divmod(n, blocks)
    sizes = np.array([small] * (blocks - extra) + [small + 1] * extra)
    return np.concatenate([[0], np.cumsum(sizes)])


def kid_and_std(real: np.ndarray, fake: np.ndarray, max_block_size: int) -> tuple[float, float]:
    """KID by the block estimator and its standard error (NaN with one block)."""
    dim = real.shape[1]
    blocks = int(np.ceil(max(len(real), len(fake)) / max_block_size))
    bounds_r, bounds_g = block_bounds(len(real), blocks), block_bounds(len(fake), blocks)

    def kernel(a, b):
        return (a @ b.T / dim + 1.0) ** 3

    def within(k):  # mean of the off-diagonal entries: the unbiased within-set term
        m = len(k)
        return (k.sum() - np.trace(k)) / (m * (m - 1))

    estimates = np.empty(blocks)
    for i in range(blocks):
        r = real[bounds_r[i]:bounds_r[i + 1]]
        g = fake[bounds_g[i]:bounds_g[i + 1]]
        estimates[i] = -2.0 * kernel(r, g).mean() + within(kernel(r, r)) + within(kernel(g, g))
    mean = float(estimates.mean())
    if blocks <= 1:
        return mean, float("nan")
    return mean, float(np.sqrt(estimates.var(ddof=1) / blocks))


def classifier_score(logits: np.ndarray) -> float:
    """exp(E_x[KL(p(y|x) || p(y))]) over every row of float64 logits at once."""
    log_p = special.log_softmax(logits, axis=1)
    p = np.exp(log_p)
    q = p.mean(axis=0)
    return float(np.exp(np.mean(np.sum(p * (log_p - np.log(q)), axis=1))))
