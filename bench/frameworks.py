"""Every fact about the frameworks a cell can train under, in one table (`FRAMEWORKS`).

The configuration's rules (bench.config), the labels of cell ids, estimates, calibrations and
tables, how a process starts (bench.imports), which runtime trains a cell (bench.cell.runtime),
how the instrument runs its forward pass and which engine computes its metrics
(bench.evaluate), and the record's `framework_version` all read this table. Outside it and each
framework's own modules, no module spells a framework's name; adding one is a row here and a
runtime module (docs/how-to/add-a-framework.md).

Nothing here imports a framework: a configuration is validated, and a record labelled, on a
machine that has neither.

What can mislead: a framework's name is not its Keras backend. Two frameworks may share a
backend (a framework is a training program; the backend is what Keras computes with), and Keras
picks one backend a process, when first imported: one framework a process.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Framework:
    """One framework's facts. `name` is what configurations, grid specs, `--framework` and
    records say; it is also a cell id's prefix (the reference's ids have none), so it is made of
    lowercase letters, digits and `-`."""

    name: str
    label: str  # how tables, reports and progress lines name it
    keras_backend: str  # KERAS_BACKEND of its processes: Keras computes with this
    extra: str  # `pip install -e '.[<extra>]'` installs it
    package: str  # the import that is the framework: its presence, and its version in records
    versions: tuple  # packages whose versions env.json records beside the framework's
    runtime: str  # "module:Class" implementing bench.cell.runtime.Runtime
    # precisions it trains (of bench.config.PRECISIONS), and why it trains no other; whether a
    # precision runs natively is the device's (bench.machine.precision_support), for every one
    precisions: tuple
    precision_gaps: str = ""
    tf32: bool = False  # whether TensorFlow's TensorFloat-32 setting means anything under it
    packing: bool = False  # whether K > 1 seeds of one configuration train as one program
    # whether it has the study program (a window of steps a dispatch, bench.cell.jax_study)
    study_program: bool = False
    keeps_out: tuple = ()  # packages made unimportable in its processes (bench.imports)
    env_defaults: dict = field(default_factory=dict)  # set in its processes unless already set
    inference: str = ""  # "module:function": the instrument's forward pass on this backend
    # which implementation computes FID, KID and the classifier score (bench.evaluate.metrics):
    # TF-GAN's where TensorFlow runs, their NumPy twins elsewhere
    metrics_engine: str = "numpy"


# TensorFlow pulls JAX in when it is installed (tensorflow/lite/python/util.py), and Keras its JAX
# side with it, about 5 s a process for nothing; a JAX process keeps TensorFlow out, as on a GPU
# machine without it (bench.imports).
_TENSORFLOW_FAMILY = ("tensorflow", "tensorflow_gan", "tensorflow_probability",
                      "tensorflow_hub", "tf_keras")
_JAX_FAMILY = ("jax", "jaxlib", "flax")

TENSORFLOW = Framework(
    name="tensorflow", label="TensorFlow", keras_backend="tensorflow", extra="tensorflow",
    package="tensorflow", versions=("keras",),
    runtime="bench.cell.tf_framework:TensorFlowRuntime",
    precisions=("float32", "mixed_float16", "mixed_bfloat16"), tf32=True,
    keeps_out=_JAX_FAMILY, env_defaults={"TF_CPP_MIN_LOG_LEVEL": "2"},
    inference="bench.evaluate.inference:tensorflow_forward", metrics_engine="tf-gan")
JAX = Framework(
    name="jax", label="JAX", keras_backend="jax", extra="jax", package="jax",
    versions=("jaxlib", "keras"), runtime="bench.cell.jax_framework:JaxRuntime",
    precisions=("float32", "mixed_bfloat16"),
    precision_gaps="loss-scaled float16 is implemented for TensorFlow only",
    packing=True, study_program=True, keeps_out=_TENSORFLOW_FAMILY,
    inference="bench.evaluate.inference:jax_forward")

# Every framework, the reference first: a record without a framework trained under it, and a
# command that trains nothing (score, eval) runs on the first one installed.
FRAMEWORKS = {f.name: f for f in (TENSORFLOW, JAX)}
REFERENCE = TENSORFLOW.name


def framework(name: str) -> Framework:
    """The facts of framework `name`; KeyError for a name not in the table (bench.config says
    so to users before anything asks)."""
    return FRAMEWORKS[name]


def names() -> tuple:
    return tuple(FRAMEWORKS)


def label(name) -> str:
    """How tables name a framework: its label, or the name as recorded where the table has none
    (a record of a framework this install lacks)."""
    return FRAMEWORKS[name].label if name in FRAMEWORKS else str(name)


def id_prefix(name: str) -> str:
    """What a cell id, a calibration or an estimate puts before the coordinates: nothing for the
    reference (its ids predate the framework axis), else the name."""
    return "" if name == REFERENCE else name


def for_backend(backend: str) -> Framework:
    """The framework a process whose Keras runs on `backend` stands for (the first with that
    backend): which forward pass and metric engine the instrument uses there."""
    for f in FRAMEWORKS.values():
        if f.keras_backend == backend:
            return f
    raise KeyError(f"no framework runs on the Keras backend {backend!r}")
