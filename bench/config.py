"""The configuration of one training cell: a frozen dataclass validated on construction.

Every resolved field, defaults included, is written to the cell's config.json, so a record says
exactly what ran. Grid specs (bench.grid.spec) expand into these. The data set and precision names
are defined here, once, for the whole harness.
"""

import dataclasses
import re
from dataclasses import dataclass

from bench import frameworks, protocols, schema
from bench.errors import BenchError

# stacked-mnist: three MNIST digits as an image's three channels, 1,000 modes (bench.datasets)
DATASETS = ("mnist-5k", "mnist", "fashion-mnist", "stacked-mnist")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
# How seeds packed in one program are stepped (bench.cell.jax_packed): the device's choice, a
# Python loop over the seeds inside one jit, or jax.vmap over their stacked states.
PACKINGS = ("auto", "loop", "vmap")
# How a cell's steps reach the device: `step`, the tutorial's loop, one dispatch a step and the
# batch built on the host (the default, and what throughput benchmarks time); `study`, a log
# window of steps in one dispatch with the data on the device (bench.cell.jax_study), for seed
# studies. A coordinate: the two are never compared as one configuration.
PROGRAMS = ("step", "study")
# matched whole (fullmatch: `$` would let a trailing newline through into a directory name)
DEVICE_PATTERN = re.compile(r"cpu|gpu|gpu:\d+")
PART_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
# The metrics need at least as many samples as the classifier has features (a covariance of full
# rank). Checked here so a grid fails before training, and by bench.evaluate.score on any image set.
MIN_EVAL_SAMPLES = schema.FEATURE_DIM
DEFAULT_FINAL_EVAL_N = 10_000
STACKED_FINAL_EVAL_N = 26_000  # PacGAN's 26,000 samples for the modes and the KL


@dataclass(frozen=True)
class CellConfig:
    data: str = "mnist-5k"
    data_dir: str | None = None
    seed: int = 0
    batch_size: int | None = None  # None: the model's (its protocol's batch)
    device: str = "cpu"
    xla: bool = False
    precision: str = "float32"
    steps: int | None = None  # exactly one of steps and epochs; steps wins when neither is given
    epochs: int | None = None
    log_every: int = 50
    warmup_windows: int = 1  # log windows after the first call left out of throughput statistics
    deterministic: bool = False
    eval_every: int = 0  # steps between periodic evaluations; 0 turns them off
    eval_n: int = 2000
    # stacked-mnist: the modes and reverse KL alone (no FID/PRDC) every modes_every steps, on
    # modes_n samples (modes.jsonl): when a seed collapses, not only where it ends; 0 turns it off
    modes_every: int = 0
    modes_n: int = 2600
    # samples of the final evaluation, 0 turns it off; None: DEFAULT_FINAL_EVAL_N, or for
    # stacked-mnist STACKED_FINAL_EVAL_N (PacGAN's protocol), resolved on construction
    final_eval_n: int | None = None
    part: str | None = None  # the grid part the cell belongs to: a label, no effect on training
    # TensorFloat-32 for float32 matmuls and convolutions on GPUs that have it (Ampere and newer):
    # None keeps TensorFlow's default (on), said explicitly in env.json; no effect on a CPU
    tf32: bool | None = None
    # the framework it trains under (bench.frameworks: its rules are read from there)
    framework: str = frameworks.REFERENCE
    # this many seeds of one configuration trained together, in one program (one process), where
    # the framework packs seeds; each still gets its own cell directory and complete record
    seeds_per_process: int = 1
    packing: str = "auto"
    program: str = "step"
    # The model and its published protocol (bench.protocols): every setting below left None is
    # the protocol's, resolved on construction, so config.json says what ran.
    model: str = protocols.DEFAULT_MODEL
    packing_m: int = 1  # PacGAN's packing: the discriminator reads m samples at once
    d_width: float | None = None  # unrolled-dcgan's discriminator width (0.25, 0.5, 1)
    noise: str | None = None  # normal or uniform
    noise_dim: int | None = None
    learning_rate: float | None = None  # the generator's Adam (the tutorial: 1e-4 for both)
    d_learning_rate: float | None = None  # the discriminator's
    adam_beta1: float | None = None
    adam_beta2: float | None = None
    adam_epsilon: float | None = None
    schedule: str | None = None  # simultaneous (one forward, both updates) or alternating
    g_steps: int | None = None  # generator updates per discriminator update, alternating
    sample_bn: str | None = None  # batch norm when sampling: moving averages or batch statistics
    data_range: str | None = None  # real images in [-1, 1] (symmetric) or [0, 1] (unit)

    def __post_init__(self):
        for name, value in resolved_settings(self).items():  # frozen: resolved once, here
            object.__setattr__(self, name, value)
        problems = config_problems(self)
        if problems:
            raise BenchError("invalid cell configuration: " + "; ".join(problems))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def total_steps(self, dataset_size: int) -> int:
        """Steps the cell runs: `steps`, or `epochs` full batches over the data set."""
        if self.epochs is not None:
            return self.epochs * (dataset_size // self.batch_size)
        return self.steps if self.steps is not None else 500


def config_from_record(record: dict) -> "CellConfig":
    """The configuration a cell's config.json records (its other keys, such as total_steps,
    left out; settings a record predates take their defaults: the tutorial's)."""
    return CellConfig(**{k: v for k, v in record.items() if k in CellConfig.__dataclass_fields__})


def resolved_settings(cfg) -> dict:
    """The settings `cfg` leaves None, as its model's protocol and its data set give them (a
    model the table lacks resolves nothing: config_problems says so)."""
    proto = protocols.PROTOCOLS.get(cfg.model)
    out = {}
    if cfg.final_eval_n is None:
        out["final_eval_n"] = (proto.final_eval_n if proto and proto.final_eval_n else
                               STACKED_FINAL_EVAL_N if cfg.data == "stacked-mnist" else
                               DEFAULT_FINAL_EVAL_N)
    if proto is None:
        return out
    if cfg.batch_size is None:
        out["batch_size"] = proto.batch_size
    for name in protocols.SETTINGS:
        if getattr(cfg, name) is None:
            out[name] = getattr(proto, name)
    if out.get("d_learning_rate", cfg.d_learning_rate) is None:  # the protocol says: the same
        out["d_learning_rate"] = out.get("learning_rate", cfg.learning_rate)
    return out


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _framework_problems(cfg) -> list[str]:
    """What the configuration asks of its framework that the framework does not do, read from
    its row of bench.frameworks."""
    if cfg.framework not in frameworks.FRAMEWORKS:
        return [f"framework: expected one of {', '.join(frameworks.names())}, found "
                f"{cfg.framework!r}"]
    facts, p = frameworks.framework(cfg.framework), []
    if cfg.precision in PRECISIONS and cfg.precision not in facts.precisions:
        p.append(f"precision: expected one of {', '.join(facts.precisions)} under framework "
                 f"{facts.name} ({facts.precision_gaps}), found {cfg.precision!r}")
    if cfg.tf32 is not None and not facts.tf32:
        p.append(f"tf32: a TensorFlow setting, meaningless under framework {facts.name}; leave "
                 "it out")
    if cfg.program == "study" and not facts.study_program:
        studiers = [f.name for f in frameworks.FRAMEWORKS.values() if f.study_program]
        p.append(f"program: the study program runs under {', '.join(studiers)}, found "
                 f"program = 'study' under framework {facts.name!r}")
    if isinstance(cfg.seeds_per_process, int) and cfg.seeds_per_process > 1 and not facts.packing:
        packers = [f.name for f in frameworks.FRAMEWORKS.values() if f.packing]
        p.append(f"seeds_per_process: more than one seed in one program needs a framework that "
                 f"packs seeds ({', '.join(packers)}), found {cfg.seeds_per_process} under "
                 f"framework {facts.name!r}")
    return p


def _protocol_problems(cfg) -> list[str]:
    """The model and the settings of its protocol (cfg resolved: no None left where the model
    gives a value)."""
    if cfg.model not in protocols.PROTOCOLS:
        return [f"model: expected one of {', '.join(protocols.MODELS)}, found {cfg.model!r}"]
    proto, p = protocols.protocol(cfg.model), []
    choices = {"noise": protocols.NOISES, "schedule": protocols.SCHEDULES,
               "sample_bn": protocols.SAMPLE_BN, "data_range": protocols.DATA_RANGES}
    for name, allowed in choices.items():
        if getattr(cfg, name) not in allowed:
            p.append(f"{name}: expected one of {', '.join(allowed)}, found {getattr(cfg, name)!r}")
    if not isinstance(cfg.packing_m, int) or isinstance(cfg.packing_m, bool) or \
            not 1 <= cfg.packing_m <= protocols.MAX_PACKING:
        p.append(f"packing_m: expected an integer from 1 to {protocols.MAX_PACKING}, found "
                 f"{cfg.packing_m!r}")
    if proto.d_widths and cfg.d_width not in proto.d_widths:
        p.append(f"d_width: expected one of {', '.join(f'{w:g}' for w in proto.d_widths)} for "
                 f"{cfg.model}, found {cfg.d_width!r}")
    elif not proto.d_widths and cfg.d_width is not None:
        p.append(f"d_width: {cfg.model} has one discriminator; leave it out, found "
                 f"{cfg.d_width!r}")
    for name in ("noise_dim", "g_steps"):
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            p.append(f"{name}: expected a positive integer, found {value!r}")
    if cfg.schedule == protocols.SIMULTANEOUS and cfg.g_steps != 1:
        p.append(f"g_steps: the simultaneous schedule updates each network once a step (one "
                 f"forward pass); found g_steps = {cfg.g_steps!r} (ask for schedule = "
                 "\"alternating\")")
    for name, low, high in (("learning_rate", 0, 1), ("d_learning_rate", 0, 1),
                            ("adam_epsilon", 0, 1)):
        value = getattr(cfg, name)
        if not _is_number(value) or not low < value < high:
            p.append(f"{name}: expected a number in ({low}, {high}), found {value!r}")
    for name in ("adam_beta1", "adam_beta2"):
        value = getattr(cfg, name)
        if not _is_number(value) or not 0 <= value < 1:
            p.append(f"{name}: expected a number in [0, 1), found {value!r}")
    return p


class _Resolved:
    """A configuration's fields with its protocol's settings filled in, for validation."""

    def __init__(self, cfg):
        self.__dict__.update({**vars(cfg), **resolved_settings(cfg)})


def config_problems(cfg) -> list[str]:
    """Every problem with a configuration, as 'field: expected X, found Y' strings."""
    cfg = _Resolved(cfg)
    p = []

    def positive_int(name, value, allow_zero=False):
        ok = isinstance(value, int) and not isinstance(value, bool) and (
            value >= 0 if allow_zero else value > 0)
        if not ok:
            p.append(f"{name}: expected a {'non-negative' if allow_zero else 'positive'} "
                     f"integer, found {value!r}")

    if cfg.data not in DATASETS:
        p.append(f"data: expected one of {', '.join(DATASETS)}, found {cfg.data!r}")
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool) or cfg.seed < 0:
        p.append(f"seed: expected a non-negative integer, found {cfg.seed!r}")
    positive_int("batch_size", cfg.batch_size)
    if not isinstance(cfg.device, str) or not DEVICE_PATTERN.fullmatch(cfg.device):
        p.append(f"device: expected cpu, gpu or gpu:N, found {cfg.device!r}")
    if not isinstance(cfg.xla, bool):
        p.append(f"xla: expected true or false, found {cfg.xla!r}")
    if cfg.precision not in PRECISIONS:
        p.append(f"precision: expected one of {', '.join(PRECISIONS)}, found {cfg.precision!r}")
    if cfg.steps is not None and cfg.epochs is not None:
        p.append(f"steps/epochs: give one, found steps={cfg.steps!r} and epochs={cfg.epochs!r}")
    if cfg.steps is not None:
        positive_int("steps", cfg.steps)
    if cfg.epochs is not None:
        positive_int("epochs", cfg.epochs)
    positive_int("log_every", cfg.log_every)
    positive_int("warmup_windows", cfg.warmup_windows, allow_zero=True)
    positive_int("seeds_per_process", cfg.seeds_per_process)
    p += _framework_problems(cfg)
    if cfg.program not in PROGRAMS:
        p.append(f"program: expected one of {', '.join(PROGRAMS)}, found {cfg.program!r}")
    elif cfg.program == "study" and cfg.xla is not True:
        p.append("program: the study program is one compiled scan of a window's steps; it needs "
                 "xla on, found xla = false")
    if cfg.packing not in PACKINGS:
        p.append(f"packing: expected one of {', '.join(PACKINGS)}, found {cfg.packing!r}")
    elif cfg.packing != "auto" and cfg.seeds_per_process == 1:
        p.append(f"packing: says how seeds packed in one program are stepped, and "
                 f"seeds_per_process is 1; found packing = {cfg.packing!r}")
    p += _protocol_problems(cfg)
    if cfg.tf32 is not None and not isinstance(cfg.tf32, bool):
        p.append(f"tf32: expected true or false (or absent: TensorFlow's default), found "
                 f"{cfg.tf32!r}")
    if not isinstance(cfg.deterministic, bool):
        p.append(f"deterministic: expected true or false, found {cfg.deterministic!r}")
    positive_int("eval_every", cfg.eval_every, allow_zero=True)
    positive_int("eval_n", cfg.eval_n)
    if cfg.final_eval_n is not None:  # None: the data set's default
        positive_int("final_eval_n", cfg.final_eval_n, allow_zero=True)
    if cfg.part is not None and (not isinstance(cfg.part, str) or not PART_PATTERN.fullmatch(cfg.part)):
        p.append(f"part: expected a name of lowercase letters, digits and _, found {cfg.part!r}")
    if isinstance(cfg.eval_every, int) and cfg.eval_every > 0 and isinstance(cfg.eval_n, int) \
            and 0 < cfg.eval_n < MIN_EVAL_SAMPLES:
        p.append(f"eval_n: expected at least {MIN_EVAL_SAMPLES} samples (the metrics need as "
                 f"many as the classifier has features), found {cfg.eval_n}")
    positive_int("modes_every", cfg.modes_every, allow_zero=True)
    positive_int("modes_n", cfg.modes_n)
    if isinstance(cfg.modes_every, int) and cfg.modes_every > 0:
        if cfg.data != "stacked-mnist":
            p.append(f"modes_every: the modes are Stacked MNIST's; found data = {cfg.data!r}")
        if isinstance(cfg.log_every, int) and cfg.log_every > 0 and cfg.modes_every % cfg.log_every:
            p.append(f"modes_every: expected a multiple of log_every ({cfg.log_every}), found "
                     f"{cfg.modes_every}")
    if all(isinstance(v, int) and v > 0 for v in (cfg.eval_every, cfg.log_every)) \
            and cfg.eval_every % cfg.log_every:
        # Evaluations run between log windows, so any other interval would silently evaluate
        # less often than asked.
        p.append(f"eval_every: expected a multiple of log_every ({cfg.log_every}), found "
                 f"{cfg.eval_every}")
    if isinstance(cfg.final_eval_n, int) and 0 < cfg.final_eval_n < MIN_EVAL_SAMPLES:
        p.append(f"final_eval_n: expected 0 (off) or at least {MIN_EVAL_SAMPLES} samples, "
                 f"found {cfg.final_eval_n}")
    return p
