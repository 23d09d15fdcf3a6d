import atexit
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# JAX compiles each program anew in every process (15-35 s for the tutorial step on 2 cores, and a
# jit a layer while Keras builds a model), and the suite trains the same few programs in dozens of
# cell processes. JAX's persistent compilation cache (the CPU's too), shared by this session's
# processes, compiles each once. A cell's compile_seconds is then a cache load where it is not the
# first: tests check that it is counted apart from training, never how long it is. A user's runs
# do not set it: there compile time is a figure the harness reports.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _jax_cache = tempfile.mkdtemp(prefix="dcgan-bench-tests-jax-cache-")
    atexit.register(shutil.rmtree, _jax_cache, ignore_errors=True)
    os.environ.update({"JAX_COMPILATION_CACHE_DIR": _jax_cache,
                       "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                       "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"})

import evalsets  # noqa: E402
import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` need a GPU visible to TensorFlow; elsewhere they are skipped, saying so."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_tests:
        return
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        skip = pytest.mark.skip(reason="needs a GPU visible to TensorFlow; this machine has none")
        for item in gpu_tests:
            item.add_marker(skip)


@pytest.fixture
def mnist_dir():
    """The verified full MNIST IDX files; see evalsets.require_mnist_dir."""
    return evalsets.require_mnist_dir()


@pytest.fixture(scope="session")
def mnist_5k():
    from bench.datasets import load_split

    return load_split("mnist-5k")


# Grids estimate each part's duration from a short calibration on the machine (bench.grid.
# calibration). The suite's many tiny grids would spend more time calibrating than training, so
# it is off here; tests/test_estimate.py turns it on for the grids that test it.
os.environ.setdefault("DCGAN_BENCH_ESTIMATE", "off")


@pytest.fixture(scope="session")
def machine_pace():
    """This machine's pace, measured once (tests/pace.py): the base of every timeout and of the
    step counts of cells a test must act on while they run."""
    from pace import pace

    return pace()
