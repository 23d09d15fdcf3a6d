"""The tf.data pipeline that feeds training: seeded shuffle, full batches, fixed prefetch.

The data sets themselves come from bench.datasets; this is only how a cell streams them.
"""

import numpy as np

from bench.datasets import images_to_unit_range
from bench.errors import BenchError

PREFETCH_BATCHES = 2


def training_dataset(images: np.ndarray, batch_size: int, seed: int):
    """Endless tf.data pipeline: seeded shuffle each epoch, full batches only, prefetch.

    Prefetch depth is fixed and tf.data's autotuning is off: with autotuning on, deleting the
    iterator at the end of a cell waited for tf.data's background threads for up to 37 s here
    (seen in py-spy: ~RootDataset::Iterator blocked in UnboundedThreadPool), time a cell's
    record would have counted. A step takes tens of milliseconds; two ready batches are plenty.
    """
    import tensorflow as tf

    if batch_size > len(images):
        raise BenchError(f"batch size {batch_size} is larger than the data set "
                         f"({len(images)} images)", field="batch_size")
    ds = tf.data.Dataset.from_tensor_slices(images_to_unit_range(images))
    ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).repeat()
    options = tf.data.Options()
    options.autotune.enabled = False
    ds = ds.batch(batch_size, drop_remainder=True).prefetch(PREFETCH_BATCHES)
    return ds.with_options(options)
