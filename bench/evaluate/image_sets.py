"""Image sets as `dcgan-bench score` reads them: an array of an NPZ file (`images`, or any key
named), or a folder of PNG or JPEG files, one image each (what torch-fidelity and clean-fid users
hand over). Both are bounded before they are read (max_images: a header that claims 10^12 images,
a small compressed file that expands to gigabytes, a folder of a million files), and every refusal
names the file and what was expected.

A folder's images are read in file-name order, as 8-bit grey (or RGB, for stacked-mnist), at the
instrument's 28 x 28: an image of another size is refused, not resized, since resizing changes
every metric.
"""

import os
from pathlib import Path

import numpy as np

from bench.errors import BenchError

MAX_IMAGES_ENV = "DCGAN_BENCH_MAX_IMAGES"
MAX_IMAGES = 200_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SIDE = 28
DEFAULT_KEY = "images"


def max_images() -> int:
    """The most images a set may hold (DCGAN_BENCH_MAX_IMAGES, else MAX_IMAGES)."""
    value = os.environ.get(MAX_IMAGES_ENV)
    if value is None:
        return MAX_IMAGES
    try:
        bound = int(value)
    except ValueError:
        bound = 0
    if bound < 1:
        raise BenchError(f"{MAX_IMAGES_ENV}: expected a whole number of images, 1 or more, "
                         f"found {value!r}")
    return bound


def read_image_set(path, key: str | None = None, image_channels: int = 1,
                   progress=None) -> tuple[np.ndarray, dict]:
    """(the images, what was read: kind, path, key or files, count). `progress(done, total)` is
    called as a folder's files are read."""
    path = Path(path)
    if path.is_dir():
        if key is not None:
            raise BenchError("--key names an array of an NPZ file; this is a folder of images",
                             path=path)
        images, files = folder_to_images(path, image_channels, progress)
        return images, {"kind": "folder", "path": str(path), "count": len(images),
                        "first": files[0].name, "last": files[-1].name}
    images, key = npz_to_images(path, key)
    return images, {"kind": "npz", "path": str(path), "key": key, "count": len(images)}


def _stored_shape(archive, name: str) -> tuple[tuple, np.dtype]:
    """The shape and dtype an NPZ member's header declares, read without reading the array."""
    with archive.zip.open(f"{name}.npy") as f:
        version = np.lib.format.read_magic(f)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read(f)
    return shape, dtype


def _chosen_key(files: list[str], key: str | None, path) -> str:
    """The array to read: the one named; else `images`; else the archive's only array."""
    if key is not None:
        if key not in files:
            raise BenchError(f"no array {key!r} (--key); the file holds {sorted(files)}",
                             path=path, field=key)
        return key
    if DEFAULT_KEY in files:
        return DEFAULT_KEY
    if len(files) == 1:
        return files[0]
    raise BenchError(f"no {DEFAULT_KEY!r} array, and {len(files)} others "
                     f"({sorted(files)}): name the one to score with --key", path=path)


def npz_to_images(path, key: str | None = None) -> tuple[np.ndarray, str]:
    """(an NPZ file's image array as stored, its key); a BenchError naming the file and the key
    when it cannot be read, or when it holds more than max_images() images."""
    import zipfile

    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise BenchError("no such file or folder", path=path) from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise BenchError(f"not an NPZ file ({e})", path=path) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise BenchError("not an NPZ file (a single .npy array?); save with "
                         "numpy.savez(path, images=...)", path=path)
    with archive:
        key = _chosen_key(archive.files, key, path)
        try:
            shape, dtype = _stored_shape(archive, key)
            bound = max_images()
            if shape and shape[0] > bound:
                raise BenchError(f"the array declares {shape[0]:,} images ({dtype}, shape "
                                 f"{shape}); at most {bound:,} are read ({MAX_IMAGES_ENV} "
                                 "raises the bound)", path=path, field=key)
            images = archive[key]
        except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as e:
            raise BenchError(f"unreadable array ({e})", path=path, field=key) from None
    return images, key


def folder_to_images(folder: Path, image_channels: int = 1,
                     progress=None) -> tuple[np.ndarray, list[Path]]:
    """(N, 28, 28) uint8 grey images (N, 28, 28, 3 for image_channels 3) of a folder's PNG and
    JPEG files, in file-name order, with the files."""
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                   and p.is_file())
    if not files:
        others = sum(1 for _ in folder.iterdir())
        raise BenchError(f"no PNG or JPEG files here ({others} other entries); score takes an "
                         "NPZ file or a folder of images", path=folder)
    bound = max_images()
    if len(files) > bound:
        raise BenchError(f"{len(files):,} images; at most {bound:,} are read ({MAX_IMAGES_ENV} "
                         "raises the bound)", path=folder)
    mode = "L" if image_channels == 1 else "RGB"
    shape = (len(files), SIDE, SIDE) + ((image_channels,) if image_channels > 1 else ())
    images = np.empty(shape, np.uint8)
    for i, file in enumerate(files):
        try:
            with Image.open(file) as image:
                if image.size != (SIDE, SIDE):
                    raise BenchError(f"an image of {image.size[0]} x {image.size[1]} pixels; "
                                     f"expected {SIDE} x {SIDE} (the instrument's input: "
                                     "resizing would change every metric)", path=file)
                images[i] = np.asarray(image.convert(mode), np.uint8)
        except (UnidentifiedImageError, OSError) as e:
            raise BenchError(f"not a readable image ({e})", path=file) from None
        if progress is not None:
            progress(i + 1, len(files))
    return images, files
