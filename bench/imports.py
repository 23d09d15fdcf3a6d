"""What a process imports: JAX kept out of a process that runs TensorFlow.

TensorFlow imports JAX when it is installed (`tensorflow/lite/python/util.py`: `from jax import
jit`, inside a try), and Keras then sets up its JAX side too: about 5 s of a `dcgan-bench score`
process on the fast class, for nothing, since a TensorFlow process never uses JAX. Where both
are installed (the `jax` extra, `tox -e py`), a process about to start TensorFlow calls
`keep_jax_out()` first: importing JAX then raises ImportError, which TensorFlow's own import
expects. A process that runs JAX (`start_framework("jax")`) never calls it, and one that already
imported Keras or JAX is left as it is.
"""

import importlib.abc
import importlib.util
import os
import sys

KEPT_OUT = ("jax", "jaxlib", "flax")


class _KeepOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in KEPT_OUT:
            raise ImportError(f"{name} is kept out of this TensorFlow process (bench.imports)")
        return None


def keep_jax_out():
    """Make JAX unimportable in this process, before TensorFlow starts; a no-op where Keras or
    JAX is already imported, Keras is set to run on JAX, or TensorFlow is not installed."""
    if any(m in sys.modules for m in ("keras", *KEPT_OUT)) or \
            os.environ.get("KERAS_BACKEND") == "jax" or \
            any(isinstance(f, _KeepOut) for f in sys.meta_path):
        return
    try:
        if importlib.util.find_spec("tensorflow") is None:
            return  # JAX alone here: it is what this process will use
    except (ImportError, ValueError):
        return
    sys.meta_path.insert(0, _KeepOut())
