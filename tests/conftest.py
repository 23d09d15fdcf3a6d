import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

import evalsets  # noqa: E402


@pytest.fixture
def mnist_dir():
    """The verified full MNIST IDX files; see evalsets.require_mnist_dir."""
    return evalsets.require_mnist_dir()


@pytest.fixture(scope="session")
def mnist_5k():
    from bench.data import load_split

    return load_split("mnist-5k")
