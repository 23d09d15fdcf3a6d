"""What a process imports: one framework a process, the other kept out.

TensorFlow imports JAX when it is installed (`tensorflow/lite/python/util.py`: `from jax import
jit`, inside a try), and Keras then sets up its JAX side too: about 5 s of a `dcgan-bench score`
process on the fast class, for nothing, since a TensorFlow process never uses JAX. Where both
are installed (the `jax` extra, `tox -e py`), a process about to start TensorFlow calls
`keep_jax_out()` first: importing JAX then raises ImportError, which TensorFlow's own import
expects. One that already imported Keras or JAX is left as it is.

The mirror: a process that runs JAX calls `keep_tensorflow_out()`, so that it runs as it would on
a GPU machine that has no TensorFlow (Keras' `set_random_seed` would otherwise import TensorFlow to
seed it, 5-10 s), and its evaluation uses the instrument's NumPy metrics (bench.evaluate.metrics).
"""

import importlib.abc
import importlib.util
import os
import sys

KEPT_OUT = ("jax", "jaxlib", "flax")
TENSORFLOW_PACKAGES = ("tensorflow", "tensorflow_gan", "tensorflow_probability", "tensorflow_hub",
                       "tf_keras")


class _KeepOut(importlib.abc.MetaPathFinder):
    def __init__(self, packages=KEPT_OUT, process="TensorFlow"):
        self.packages, self.process = packages, process

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.packages:
            raise ImportError(f"{name} is kept out of this {self.process} process (bench.imports)")
        return None


def keep_jax_out():
    """Make JAX unimportable in this process, before TensorFlow starts; a no-op where Keras or
    JAX is already imported, Keras is set to run on JAX, or TensorFlow is not installed."""
    if any(m in sys.modules for m in ("keras", *KEPT_OUT)) or \
            os.environ.get("KERAS_BACKEND") == "jax" or \
            any(isinstance(f, _KeepOut) for f in sys.meta_path):
        return
    if not _importable("tensorflow"):
        return  # JAX alone here: it is what this process will use
    sys.meta_path.insert(0, _KeepOut())


def keep_tensorflow_out():
    """Make TensorFlow and its companions unimportable in this process, which runs JAX; a no-op
    where TensorFlow is already imported."""
    if "tensorflow" in sys.modules or \
            any(isinstance(f, _KeepOut) and f.packages == TENSORFLOW_PACKAGES for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _KeepOut(TENSORFLOW_PACKAGES, "JAX"))


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def prepare_keras():
    """Before Keras is first imported by a command that is not a training cell (`score`, `eval`,
    a report's figures): Keras on TensorFlow where TensorFlow is installed (JAX kept out), on JAX
    where only JAX is (a JAX-only install: Keras' own default, TensorFlow, is not there), or
    on what KERAS_BACKEND says. A no-op once Keras is imported."""
    if "keras" in sys.modules:
        return
    backend = os.environ.get("KERAS_BACKEND")
    if backend is None and not _importable("tensorflow"):
        if not _importable("jax"):
            from bench.errors import BenchError

            raise BenchError("the instrument and the models run on Keras with TensorFlow or "
                             "JAX, and neither is installed: pip install -e '.[tensorflow]' "
                             "(or '.[jax]')")
        backend = os.environ["KERAS_BACKEND"] = "jax"
    if backend in ("tensorflow", "jax") and not _importable(backend):
        from bench.errors import BenchError

        raise BenchError(f"KERAS_BACKEND={backend}, but {backend} is not installed here: pip "
                         f"install -e '.[{backend}]', or unset KERAS_BACKEND")
    if backend == "jax":
        keep_tensorflow_out()
    else:
        keep_jax_out()


def keras_backend() -> str:
    """The backend Keras runs on in this process ("tensorflow" or "jax"), Keras imported."""
    prepare_keras()
    import keras

    return keras.backend.backend()
