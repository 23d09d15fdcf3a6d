"""dcgan-bench: a benchmarking and evaluation harness for the reference TensorFlow DCGAN.

Importing `bench` does not import TensorFlow: records, results, reports and comparisons stay
light. Training and evaluation modules import it when they are used.
"""

__version__ = "0.2.0"

from bench.errors import BenchError  # noqa: E402

__all__ = ["BenchError", "__version__", "load_results"]


def load_results(paths):
    """One pandas DataFrame, a row per cell, from run or cell directories (see bench.analysis.results)."""
    from bench.analysis.results import load_results as _load

    return _load(paths)
