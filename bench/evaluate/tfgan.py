"""The one place that loads TF-GAN's evaluation functions.

Why a loader: `import tensorflow_gan` fails on TensorFlow >= 2.16. The package's top-level
`__init__` imports its estimator helpers, which import `tf.estimator`, and TensorFlow removed
`tf.estimator` in 2.16. The evaluation code itself (`tensorflow_gan/python/eval/`) needs only
TensorFlow, TensorFlow Probability and its sibling `eval_utils`, and works unchanged.

So we register `tensorflow_gan` and `tensorflow_gan.python` in `sys.modules` as *bare* packages:
empty module objects whose `__path__` points at the installed directories (found with
`importlib.util.find_spec`, which locates a package without executing it). Python's import system
then finds `tensorflow_gan.python.eval.classifier_metrics` on those paths without ever running the
two `__init__` files that would pull in the estimator. `tensorflow_gan.python.eval`'s own
`__init__` does run; it imports the evaluation modules and two small helpers (`namedtuples`,
`contrib_utils`), none of which touches the estimator.

If a real, working `tensorflow_gan` is already imported (an older TensorFlow), it is used as is.
Nothing else in the harness imports `tensorflow_gan`: call `eval_functions()` instead.
"""

import functools
import importlib
import importlib.util
import os
import sys
import types
import warnings
from collections.abc import Callable
from typing import NamedTuple

from bench.errors import BenchError

_PACKAGE = "tensorflow_gan"
_BARE = ("tensorflow_gan", "tensorflow_gan.python")
_METRICS_MODULE = "tensorflow_gan.python.eval.classifier_metrics"


class TfganEval(NamedTuple):
    """The three TF-GAN functions the metrics use (all take tensors or arrays, return tensors)."""

    classifier_score_from_logits: Callable
    frechet_classifier_distance_from_activations: Callable
    kernel_classifier_distance_and_std_from_activations: Callable


def _register_bare_package(name: str, parent_path=None):
    """Put an empty package object for `name` into sys.modules, without executing its __init__."""
    if name in sys.modules:
        return sys.modules[name]
    if parent_path is None:
        spec = importlib.util.find_spec(name)  # top level: locates, does not execute
        if spec is None or not spec.submodule_search_locations:
            raise BenchError(f"the {_PACKAGE} package is not installed: "
                             "pip install tensorflow-gan==2.1.0")
        locations = list(spec.submodule_search_locations)
    else:
        # A subpackage's directory, found on the parent's __path__ (find_spec on a dotted name
        # would import the parent the normal way, which is what we avoid).
        locations = [os.path.join(p, name.rsplit(".", 1)[1]) for p in parent_path]
    module = types.ModuleType(name, doc=f"bare package registered by bench.evaluate.tfgan ({__name__})")
    module.__path__ = locations
    module.__package__ = name
    module.__file__ = None
    sys.modules[name] = module
    return module


@functools.lru_cache(maxsize=1)
def eval_functions() -> TfganEval:
    """TF-GAN's classifier score, Fréchet distance and kernel distance (with its std)."""
    parent_path = None
    for name in _BARE:
        parent_path = _register_bare_package(name, parent_path).__path__
    try:
        with warnings.catch_warnings():
            # tensorflow_hub (imported by the module) warns that pkg_resources is deprecated.
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
            metrics = importlib.import_module(_METRICS_MODULE)
    except ImportError as e:
        raise BenchError(f"cannot load {_METRICS_MODULE} ({type(e).__name__}: {e}); "
                         "it needs tensorflow, tensorflow-probability, tensorflow-hub and "
                         "setuptools<81 (for pkg_resources)") from None
    return TfganEval(
        metrics.classifier_score_from_logits,
        metrics.frechet_classifier_distance_from_activations,
        metrics.kernel_classifier_distance_and_std_from_activations,
    )
