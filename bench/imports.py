"""What a process imports: one framework a process, the others kept out, all read from the table
of framework facts (bench.frameworks).

Keras 3 picks its backend once a process, from KERAS_BACKEND, when it is first imported. A cell,
calibration or `dcgan-bench train` process calls `start_framework(name)` before anything imports
Keras: it sets the framework's backend and environment, keeps out what the table says (TensorFlow
imports JAX when it is installed, `tensorflow/lite/python/util.py`, and Keras then sets up its
JAX side too: about 5 s a process for nothing; a JAX process keeps TensorFlow out, so that it runs
as on a GPU machine without TensorFlow and evaluates with the NumPy metrics), and imports the
framework, so that its import is part of the process start the harness measures.

A command that trains nothing (`score`, `eval`, a calibration's evaluation) calls
`prepare_keras()` instead, when it first needs Keras: the framework KERAS_BACKEND names, else the
first of the table installed here. Nothing happens at import of this module.
"""

import importlib
import importlib.abc
import importlib.util
import os
import sys

from bench import frameworks


class _KeepOut(importlib.abc.MetaPathFinder):
    def __init__(self, packages, process):
        self.packages, self.process = tuple(packages), process

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.packages:
            raise ImportError(f"{name} is kept out of this {self.process} process (bench.imports)")
        return None


def keep_out(facts: frameworks.Framework):
    """Make the packages `facts` keeps out unimportable in this process, before its framework
    starts; a no-op where Keras or one of them is already imported (a process that started
    otherwise stays as it is), or where they are already kept out."""
    if "keras" in sys.modules or any(m in sys.modules for m in facts.keeps_out) or \
            any(isinstance(f, _KeepOut) and f.packages == facts.keeps_out for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _KeepOut(facts.keeps_out, facts.label))


def start_framework(name: str):
    """Make this process's Keras run on framework `name`, keep out what it keeps out, and import
    it: call before keras is first imported. A framework not installed is left for the runtime to
    report (a BenchError naming the extra, before anything is written)."""
    facts = frameworks.framework(name)
    os.environ["KERAS_BACKEND"] = facts.keras_backend
    for key, value in facts.env_defaults.items():
        os.environ.setdefault(key, value)
    keep_out(facts)
    try:
        importlib.import_module(facts.package)
    except ImportError:
        pass


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def prepare_keras():
    """Before Keras is first imported by a command that is not a training cell (`score`, `eval`,
    a report's figures): Keras on the framework KERAS_BACKEND names, or on the first framework of
    the table installed here (the reference, then JAX: a JAX-only install runs on JAX), the
    others kept out. A no-op once Keras is imported."""
    if "keras" in sys.modules:
        return
    backend = os.environ.get("KERAS_BACKEND")
    if backend is None:
        installed = [f for f in frameworks.FRAMEWORKS.values() if _importable(f.package)]
        if not installed:
            from bench.errors import BenchError

            raise BenchError("the instrument and the models run on Keras with one of "
                             f"{', '.join(f.label for f in frameworks.FRAMEWORKS.values())}, and "
                             "none is installed: pip install -e '.[" +
                             frameworks.FRAMEWORKS[frameworks.REFERENCE].extra + "]'")
        facts = installed[0]
    else:
        try:
            facts = frameworks.for_backend(backend)
        except KeyError:
            return  # a Keras backend no framework of ours runs on: Keras says what it makes of it
        if not _importable(facts.package):
            from bench.errors import BenchError

            raise BenchError(f"KERAS_BACKEND={backend}, but {facts.package} is not installed "
                             f"here: pip install -e '.[{facts.extra}]', or unset KERAS_BACKEND")
    os.environ["KERAS_BACKEND"] = facts.keras_backend
    keep_out(facts)


def keras_module():
    """Keras, imported on first use (prepared as `prepare_keras` says where no framework started
    it): the models' modules call this rather than import Keras at their own import, which would
    fix the process's backend before a cell chooses it."""
    prepare_keras()
    import keras

    return keras


def keras_backend() -> str:
    """The backend Keras runs on in this process, Keras imported."""
    return keras_module().backend.backend()
