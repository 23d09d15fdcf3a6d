"""Evaluating a set of images: the classifier's outputs, every metric, the cached reference.

`evaluate_images` is what a training cell and `dcgan-bench score` call. The reference set is the
data set's reference split (`bench.datasets.reference_split_name`: the official 10,000 test images
for `mnist` and `fashion-mnist`, all 5,000 digits of `mnist-5k`); its statistics live in
`bench.evaluate.reference`, cached on disk.

Sample counts are part of the number: FID falls as N grows, so every result carries `n`, and only
results with the same `n` (and the same `classifier_sha256`) compare.

Stacked MNIST (`stacked-mnist`, images (N, 28, 28, 3)): the classifier reads every channel of
every sample; the modes and the reverse KL (bench.evaluate.stacked) count all N samples
(`stacked_n`); the digit metrics (FID, KID, classifier score, classes covered, precision and
recall) read the first STACKED_DIGITS_N channel digits, sample by sample and channels in order,
against the reference of the pool the stacked set is drawn from (`n` is that count). The cap keeps
PRDC's nearest-neighbour pass, quadratic in the samples, at the cost of a plain evaluation.
"""


import numpy as np

from bench import outcome_rule, schema
from bench.config import MIN_EVAL_SAMPLES
from bench.datasets import STACKED, STACKED_CHANNELS, channels, stacked_pool_name
from bench.errors import BenchError
from bench.evaluate import image_sets, metrics, prdc, stacked
from bench.evaluate.classifier import images_to_network_input, load_classifier
from bench.evaluate.reference import instrument_backend, reference_stats

# What `dcgan-bench score` prints: every metric (bench.schema.METRICS) and the class histogram,
# plus provenance and thresholds.
SCORE_KEYS = (*schema.DIGIT_METRICS, schema.CLASS_HISTOGRAM)
# and for stacked-mnist, the Stacked MNIST numbers (bench.evaluate.stacked)
STACKED_SCORE_KEYS = (*schema.STACKED_METRICS, schema.CHANNEL_CLASSES)
PROVENANCE_KEYS = ("dataset", "reference_dataset", "reference_split", "reference_n",
                   "classifier_sha256", "evaluated_with", "thresholds")
# Channel digits of a stacked set that the digit metrics read (the module docstring says why).
STACKED_DIGITS_N = 10_000


def stacked_to_channel_digits(images) -> np.ndarray:
    """Stacked images (N, 28, 28, 3), uint8 or float [-1, 1], as the classifier's input: float32
    (3N, 28, 28, 1), sample by sample, each sample's channels in order."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (28, 28, STACKED_CHANNELS):
        raise BenchError(f"expected stacked images of shape (N, 28, 28, {STACKED_CHANNELS}), "
                         f"found {images.shape}", field="images")
    digits = np.moveaxis(images, 3, 1).reshape(-1, 28, 28)
    return images_to_network_input(digits)


def validate_images(images, *, path=None, image_channels: int = 1) -> np.ndarray:
    """float32 (N, 28, 28, 1) in [-1, 1] from uint8 0..255 or float [-1, 1] images; for three
    channels (stacked-mnist), their 3N channel digits (`stacked_to_channel_digits`).

    uint8 goes through `bench.datasets.images_to_unit_range`, so the uint8 and float encodings of the
    same images give identical inputs and identical numbers.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        pass
    elif np.issubdtype(images.dtype, np.floating):
        if not np.all(np.isfinite(images)):
            bad = int(np.sum(~np.isfinite(images)))
            raise BenchError(f"{bad} values are NaN or Inf", path=path, field="images")
        if images.size and (images.min() < -1.0 or images.max() > 1.0):
            raise BenchError(f"float images must lie in [-1, 1], found values in "
                             f"[{images.min():.4g}, {images.max():.4g}] (store 0..255 as uint8)",
                             path=path, field="images")
    else:
        raise BenchError(f"expected uint8 in 0..255 or float in [-1, 1], found dtype "
                         f"{images.dtype}", path=path, field="images")
    try:
        x = (images_to_network_input(images) if image_channels == 1
             else stacked_to_channel_digits(images))
    except BenchError as e:
        raise BenchError(str(e), path=path) from None
    if len(x) < MIN_EVAL_SAMPLES:
        raise BenchError(f"{len(x)} images is fewer than the metrics need: at least {MIN_EVAL_SAMPLES} "
                         f"(the feature dimension); FID at different n is not comparable",
                         path=path, field="images")
    return x


def evaluate_images(images, dataset: str, *, data_dir=None, classifier=None, cache_dir=None,
                    batch_size: int = 500, path=None) -> dict:
    """Every metric of an image set against the data set's reference split.

    `images`: uint8 0..255 or float [-1, 1], shape (N, 28, 28) or (N, 28, 28, 1); for
    stacked-mnist (N, 28, 28, 3). `classifier` defaults to the shipped instrument for the data set.
    Returns the schema's metric keys (stacked-mnist's too, for it) plus `rank_deficient`,
    `reference_dataset`, `reference_split`, `reference_n`, `classifier_sha256`, `evaluated_with`
    (the instrument's Keras backend and the metrics' engine) and `thresholds`.
    """
    x = validate_images(images, path=path, image_channels=channels(dataset))  # path: for errors
    classifier = classifier or load_classifier(dataset)
    reference_dataset = stacked_pool_name(data_dir) if dataset == STACKED else dataset
    ref = reference_stats(reference_dataset, classifier=classifier, data_dir=data_dir,
                          cache_dir=cache_dir, batch_size=batch_size)
    logits, features = classifier.images_to_logits_and_features(x, batch_size)
    stacked_result = {}
    if dataset == STACKED:
        stacked_result = stacked.channel_logits_to_stacked(
            logits.reshape(-1, STACKED_CHANNELS, schema.NUM_CLASSES))
        logits, features = logits[:STACKED_DIGITS_N], features[:STACKED_DIGITS_N]
    n = len(logits)
    result = {schema.N: n}
    result.update(metrics.features_to_fid(real_features=ref.features, fake_features=features))
    result.update(metrics.features_to_kid(real_features=ref.features, fake_features=features))
    result[schema.CLASSIFIER_SCORE] = metrics.logits_to_classifier_score(logits)
    result.update(metrics.logits_to_mode_coverage(logits))
    result.update(prdc.features_to_prdc(real_features=ref.features, fake_features=features,
                                        real_radii=ref.radii))
    if stacked_result:
        result.update(stacked_result)
        result[schema.OUTCOME] = outcome_rule.stacked_outcome(
            result[schema.ALL_CHANNELS_CONFIDENT], result[schema.CHANNEL_CLASSES_MIN],
            result[schema.MODES_THRESHOLDED])
    _check_finite(result)
    result.update({
        "dataset": dataset,
        "reference_dataset": reference_dataset,
        "reference_split": ref.split,
        "reference_n": ref.n,
        "classifier_sha256": classifier.sha256,
        # not part of what makes two results comparable: the two engines agree within 1e-6
        "evaluated_with": {"instrument": instrument_backend(), "metrics": metrics.engine()},
        "thresholds": {**metrics.thresholds(),
                       **(stacked.thresholds() if dataset == STACKED else {})},
    })
    return result


def stacked_images_to_modes(images, classifier) -> dict:
    """The Stacked MNIST numbers alone (bench.evaluate.stacked: modes, thresholded modes, reverse
    KL, each channel's classes, the share confident in all channels) and the outcome they give,
    of stacked images: the cheap evaluation a cell makes during training (no reference set, no
    FID, KID or PRDC; n samples cost 3 n classifier passes)."""
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.floating) and not np.isfinite(images).all():
        raise BenchError("the samples hold NaN or Inf: nothing to read", field="images")
    logits, _ = classifier.images_to_logits_and_features(stacked_to_channel_digits(images))
    result = stacked.channel_logits_to_stacked(
        logits.reshape(-1, STACKED_CHANNELS, schema.NUM_CLASSES))
    result[schema.OUTCOME] = outcome_rule.stacked_outcome(
        result[schema.ALL_CHANNELS_CONFIDENT], result[schema.CHANNEL_CLASSES_MIN],
        result[schema.MODES_THRESHOLDED])
    return result


def _check_finite(result: dict):
    """A metric that is NaN or Inf is an error with its reason, never a silent null in a record."""
    bad = {k: v for k, v in result.items()
           if isinstance(v, float) and not np.isfinite(v)}
    if bad:
        raise BenchError(f"non-finite metrics {bad} for n = {result[schema.N]}: the estimator "
                         "is undefined on these samples; nothing was recorded", field="metrics")


def score_npz(path, dataset: str = "mnist-5k", data_dir=None, *, cache_dir=None,
              key: str | None = None, progress=None) -> dict:
    """`dcgan-bench score`: every metric of an image set (SCORE_KEYS, and STACKED_SCORE_KEYS
    for stacked-mnist), plus provenance and `images`, what was read. `path`: an NPZ (its array
    `key`, bench.evaluate.image_sets) or a folder of PNG or JPEG files."""
    images, source = image_sets.read_image_set(path, key, channels(dataset), progress)
    return score_image_set(images, source, dataset, data_dir, cache_dir=cache_dir)


def score_image_set(images, source: dict, dataset: str = "mnist-5k", data_dir=None, *,
                    cache_dir=None) -> dict:
    """score_npz's numbers of images already read (bench.evaluate.image_sets), `source` saying
    what was read."""
    result = evaluate_images(images, dataset, data_dir=data_dir, cache_dir=cache_dir,
                             path=source["path"])
    keys = SCORE_KEYS + (STACKED_SCORE_KEYS if dataset == STACKED else ()) + PROVENANCE_KEYS
    return {"images": source, **{k: result[k] for k in keys}}
