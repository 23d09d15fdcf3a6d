"""dcgan-bench: a benchmarking and evaluation harness for the reference TensorFlow DCGAN.

Importing `bench` does not import TensorFlow: records, results, reports and comparisons stay
light. Training and evaluation modules import it when they are used.
"""

from bench.errors import BenchError  # noqa: E402


def _version() -> str:
    """The version pyproject.toml says, read once: from the source tree when this package is one
    (a clone run with PYTHONPATH, whatever wheel is installed beside it), else from the installed
    distribution's metadata. One place for the number: records (env.json) and --version agree."""
    import importlib.metadata
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    return importlib.metadata.version("dcgan-bench")


__version__ = _version()

__all__ = ["BenchError", "__version__", "load_results"]


def load_results(paths):
    """One pandas DataFrame, a row per cell, from run or cell directories (see bench.analysis.results)."""
    from bench.analysis.results import load_results as _load

    return _load(paths)
