"""Samples from a generator: evaluation sets, the fixed-noise grid, saved weights.

Noise for samples comes from fixed seeds that do not depend on the cell's seed, so two cells'
grids and evaluations are drawn with the same noise and differ only by their generators. A
model's protocol (bench.protocols) says how it is sampled: its noise's distribution and size,
batch norm's moving averages (the tutorial, PacGAN's Table 2: `train=False`) or each batch's
statistics (PacGAN's Table 3, whose sampler runs in training mode, batches of its batch size:
n is drawn in whole batches and cut, as their `log_metrics` does), and the range its images
come in (Table 2's generator learns [0, 1]: mapped to [-1, 1], the range the instrument and the
samples grid read).
"""

import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from bench import protocols, records
from bench.cell import models
from bench.errors import BenchError

GRID_NOISE_SEED = 20240101
EVAL_NOISE_SEED = 7
GRID_SIDE = 8


@dataclass(frozen=True)
class SamplePlan:
    """How a model is sampled (the module docstring); the default is the tutorial's."""

    noise: str = protocols.NORMAL
    noise_dim: int = models.NOISE_DIM
    sample_bn: str = protocols.MOVING
    data_range: str = protocols.SYMMETRIC
    batch_size: int = 500  # in batch-statistics mode, the batch the statistics are taken over

    @classmethod
    def from_config(cls, cfg) -> "SamplePlan":
        batch = cfg.batch_size if cfg.sample_bn == protocols.BATCH else cls.batch_size
        return cls(cfg.noise, cfg.noise_dim, cfg.sample_bn, cfg.data_range, batch)


def fixed_noise(n: int, seed: int, plan: SamplePlan = SamplePlan()) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if plan.noise == protocols.UNIFORM:
        return rng.uniform(-1.0, 1.0, (n, plan.noise_dim)).astype(np.float32)
    return rng.standard_normal((n, plan.noise_dim)).astype(np.float32)


def generator_to_images(generator, n: int, *, seed: int = EVAL_NOISE_SEED,
                        plan: SamplePlan = SamplePlan()) -> np.ndarray:
    """n images, float32 (n, 28, 28, C) in [-1, 1], sampled as the plan says."""
    batch = plan.batch_size
    training = plan.sample_bn == protocols.BATCH
    noise = fixed_noise(math.ceil(n / batch) * batch if training else n, seed, plan)
    kept = [np.asarray(w) for w in generator.non_trainable_weights] if training else None
    parts = [np.asarray(generator(noise[i:i + batch], training=training), dtype=np.float32)
             for i in range(0, len(noise), batch)]
    if training:  # batch norm's moving averages moved while sampling: not the training's
        for weight, value in zip(generator.non_trainable_weights, kept):
            weight.assign(value)
    images = np.concatenate(parts)[:n]
    return images * 2.0 - 1.0 if plan.data_range == protocols.UNIT else images


def grey_to_png(pixels: np.ndarray) -> bytes:
    """An 8-bit image as PNG bytes, greyscale (H, W) or RGB (H, W, 3): signature, IHDR, one zlib
    IDAT, IEND (the PNG specification's minimum), so that a cell writes its samples under any
    Keras backend."""
    height, width = pixels.shape[:2]
    colour_type = 2 if pixels.ndim == 3 else 0  # PNG's truecolour and greyscale

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + row.tobytes() for row in np.ascontiguousarray(pixels, np.uint8))
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)  # no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def images_to_grid_png(images: np.ndarray, side: int = GRID_SIDE, pad: int = 2) -> bytes:
    """A side x side grid of [-1, 1] images as PNG bytes, a 2-pixel gutter: grey for one
    channel, RGB for three (a stacked-mnist sample's digits as red, green and blue)."""
    images = np.asarray(images[: side * side])
    images = images.reshape(-1, 28, 28) if images.ndim == 3 or images.shape[-1] == 1 else images
    cell = 28 + pad
    canvas = np.full((side * cell + pad, side * cell + pad, *images.shape[3:]), 255,
                     dtype=np.uint8)
    pixels = np.clip((images + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    for i, img in enumerate(pixels):
        r, c = divmod(i, side)
        canvas[pad + r * cell: pad + r * cell + 28, pad + c * cell: pad + c * cell + 28] = img
    return grey_to_png(canvas)


def write_samples_png(generator, path, plan: SamplePlan = SamplePlan()):
    records.write_bytes_atomic(path, images_to_grid_png(
        generator_to_images(generator, GRID_SIDE ** 2, seed=GRID_NOISE_SEED, plan=plan)))


def save_generator(generator, path):
    with records.atomic_path(path) as tmp:
        generator.save_weights(tmp)


def load_generator(path, cfg=None):
    """The saved generator of the cell configuration `cfg` (its model, channels and noise size;
    default the tutorial's on MNIST), built under the precision it trained with, so that
    re-evaluating a mixed-precision cell computes its samples as the cell's final evaluation
    did."""
    from bench.config import CellConfig

    cfg = cfg or CellConfig()
    from bench.imports import prepare_keras

    prepare_keras()  # `eval` starts no framework: Keras on what is installed, the others kept out
    import keras

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(cfg.precision)
    try:
        generator = models.networks(cfg)[0]
        try:
            generator.load_weights(path)
        except (OSError, ValueError, KeyError, TypeError) as e:  # h5py's and Keras' refusals
            raise BenchError(f"unreadable generator weights ({type(e).__name__}: "
                             f"{str(e)[:300]}): a truncated file, or one saved by another model "
                             f"than the cell's ({cfg.model})", path=path) from None
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return generator
