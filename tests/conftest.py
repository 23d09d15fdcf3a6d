import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
MNIST_DIR = Path(os.environ.get("DCGAN_BENCH_MNIST_DIR", SHARED_MNIST))


@pytest.fixture
def mnist_dir():
    """The verified full MNIST IDX files (../shared/data/mnist on development machines and CI)."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"full MNIST IDX files not found in {MNIST_DIR} "
                    "(set DCGAN_BENCH_MNIST_DIR to a directory with the four .gz files)")
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist_5k():
    from bench.data import load_split

    return load_split("mnist-5k")
