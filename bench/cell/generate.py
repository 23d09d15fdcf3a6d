"""Samples from a generator: evaluation sets, the fixed-noise grid, saved weights.

Noise for samples comes from fixed seeds that do not depend on the cell's seed, so two cells'
grids and evaluations are drawn with the same noise and differ only by their generators.
"""

import struct
import zlib

import numpy as np

from bench import records
from bench.cell import models

GRID_NOISE_SEED = 20240101
EVAL_NOISE_SEED = 7
GRID_SIDE = 8


def fixed_noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, models.NOISE_DIM)).astype(np.float32)


def generator_to_images(generator, n: int, *, seed: int = EVAL_NOISE_SEED,
                        batch_size: int = 500) -> np.ndarray:
    """n images, float32 (n, 28, 28, 1) in [-1, 1], in inference mode (batch-norm moving stats)."""
    noise = fixed_noise(n, seed)
    parts = [np.asarray(generator(noise[i:i + batch_size], training=False), dtype=np.float32)
             for i in range(0, n, batch_size)]
    return np.concatenate(parts)


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


def write_samples_png(generator, path):
    records.write_bytes_atomic(
        path, images_to_grid_png(generator_to_images(generator, GRID_SIDE ** 2, seed=GRID_NOISE_SEED)))


def save_generator(generator, path):
    with records.atomic_path(path) as tmp:
        generator.save_weights(tmp)


def load_generator(path, precision: str = "float32", channels: int = 1):
    """The saved generator (of `channels` image channels), built under the precision it trained
    with, so that re-evaluating a mixed-precision cell computes its samples as the cell's final
    evaluation did."""
    from bench.imports import prepare_keras

    prepare_keras()  # `eval` starts no framework: Keras on what is installed, the others kept out
    import keras

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(precision)
    try:
        generator = models.make_generator(channels)
        generator.load_weights(path)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return generator
