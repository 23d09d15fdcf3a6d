"""The frameworks a cell can train under, chosen in one function (`make_framework`), and how a
process starts one (`start_framework`). The interface they share is bench.cell.framework's.

Keras 3 picks its backend once a process, from KERAS_BACKEND, when it is first imported:
`start_framework` sets it (and imports the framework, so that its import is part of a process's
measured start) before anything imports keras.
"""

import os

from bench.cell.framework import JAX, TENSORFLOW, Framework
from bench.config import FRAMEWORKS
from bench.errors import BenchError


def start_framework(name: str):
    """Make this process's Keras run on framework `name`, and import it: call before keras is
    first imported (a cell or calibration process, `dcgan-bench train`)."""
    os.environ["KERAS_BACKEND"] = name  # Keras' backend names are the frameworks' names
    if name == JAX:
        from bench.imports import keep_tensorflow_out

        keep_tensorflow_out()  # as on a GPU machine without it; the metrics run in NumPy here
        try:
            import jax  # noqa: F401
        except ImportError:
            pass  # said as a BenchError when the cell resolves its device
    else:
        from bench.imports import keep_jax_out

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        keep_jax_out()  # TensorFlow would import JAX, and Keras its JAX side, for nothing
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            pass  # said as a BenchError when the cell resolves its device


def make_framework(name: str) -> Framework:
    """The framework called `name` (a configuration's `framework`)."""
    if name == TENSORFLOW:
        from bench.cell.tf_framework import TensorFlowFramework

        return TensorFlowFramework()
    if name == JAX:
        from bench.cell.jax_framework import JaxFramework

        return JaxFramework()
    raise BenchError(f"expected one of {', '.join(FRAMEWORKS)}, found {name!r}", field="framework")
