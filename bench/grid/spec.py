"""Grid specs: a TOML file of axes and a per-cell budget, validated, expanded into cells.

A spec has one set of axes, or several parts, each with its own axes and budget, run into one
run directory and rendered in one report (a throughput part of many short cells, a quality part
of fewer cells trained to digits):

    name = "cpu: throughput and quality"             # free text, shown in reports
    data = "mnist-5k"                                # optional: data set, data_dir
    [budget]                                         # optional: defaults for every part
    log_every = 20

    [[parts]]
    name = "throughput"                              # lowercase letters, digits, _
    [parts.axes]
    seeds = [0, 1]
    batch_sizes = [64, 256]
    devices = ["cpu"]                                # cpu, gpu, gpu:N
    xla = [false, true]
    precision = ["float32"]                          # float32, mixed_float16, mixed_bfloat16
    tf32 = [false, true]                             # optional: TensorFloat-32 off/on (GPUs)
    frameworks = [...]                               # optional: names in bench.frameworks
                                                     #   (default: the reference, TensorFlow)
    [parts.budget]
    epochs = 3                                       # or steps = N
    learning_rate = 2e-4                             # optional: Adam's (default 1e-4, the
    adam_beta1 = 0.5                                 #   tutorial's) and its beta_1 (0.9)
    [parts.eval]
    final_n = 0                                      # every, n, final_n

Without `[[parts]]`, `[axes]`, `[budget]` and `[eval]` at the top level describe the one part.
A part's cells are named `<part>_<coordinates>`. A spec is checked whole before anything runs:
every problem is listed in one BenchError.

`emulated` (top level, or per part) says what to do with a cell whose precision this machine
can only emulate (bench.machine.precision_support: mixed_bfloat16 without bfloat16
instructions, mixed_float16 on any CPU, about 9 times slower): "run" (the default; the grid
names such a part before it runs, with the slowdown) or "skip" (the cell is recorded as skipped,
saying why). `GridSpec.select_parts` keeps some parts only (`grid --parts`).
"""

import itertools
import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from bench import frameworks, protocols, records
from bench.config import CellConfig, config_problems
from bench.errors import BenchError

TOP_KEYS = {"name", "data", "data_dir", "axes", "budget", "eval", "parts", "emulated"}
PART_KEYS = {"name", "axes", "budget", "eval", "emulated"}
EMULATED_POLICIES = ("run", "skip")
AXES = {"seeds": "seed", "batch_sizes": "batch_size", "devices": "device", "xla": "xla",
        "precision": "precision", "tf32": "tf32", "frameworks": "framework", "models": "model",
        "packings": "packing_m", "programs": "program"}
# Axes a part may leave out: the cell keeps the configuration's default.
OPTIONAL_AXES = {"tf32": [None], "frameworks": [frameworks.REFERENCE],
                 "models": [protocols.DEFAULT_MODEL], "packings": [1], "programs": ["step"]}
BUDGET = {"steps": "steps", "epochs": "epochs", "log_every": "log_every",
          "warmup_windows": "warmup_windows", "deterministic": "deterministic",
          "seeds_per_process": "seeds_per_process", "packing": "packing",
          "learning_rate": "learning_rate", "adam_beta1": "adam_beta1",
          **{name: name for name in protocols.SETTINGS}}
# Axes whose values are checked together with the budget (the rest are checked one by one).
CROSS_CHECKED_AXES = ("models", "packings", "frameworks", "programs", "precision", "tf32", "xla")
# Axes whose values mean something only beside others' (the study program: under JAX, XLA on):
# checked in their combinations above, not alone.
COMBINED_ONLY_AXES = ("programs",)
EVAL = {"every": "eval_every", "n": "eval_n", "final_n": "final_eval_n",
        "modes_every": "modes_every", "modes_n": "modes_n"}
# Keys older specs used, and what they are called now: the framework axis was `backend`.
RENAMED = {"backend": "frameworks"}
# The most cells a spec may expand to, checked from its axes' lengths before anything is
# expanded (a spec of 10^6 seeds took 15 minutes and 536 MB to refuse); overridable.
MAX_CELLS_ENV = "DCGAN_BENCH_MAX_CELLS"
MAX_CELLS = 10_000
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Cell:
    id: str
    config: CellConfig
    emulated: str = "run"  # what to do when this machine can only emulate its precision

    @property
    def part(self) -> str | None:
        return self.config.part


@dataclass(frozen=True)
class GridSpec:
    name: str
    raw: dict
    path: str
    cells: tuple[Cell, ...]

    @property
    def parts(self) -> list[str | None]:
        """The parts of the cells, in spec order (None: a spec without parts)."""
        return list(dict.fromkeys(c.part for c in self.cells))

    def select_parts(self, names) -> "GridSpec":
        """The spec with the cells of the named parts only; BenchError naming the parts there
        are when a name is not one of them."""
        known = [p for p in self.parts if p is not None]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise BenchError(f"--parts: no part {', '.join(map(repr, unknown))} in this spec; "
                             f"its parts: {', '.join(known) or 'none (it has no [[parts]])'}",
                             path=self.path)
        return replace(self, cells=tuple(c for c in self.cells if c.part in names))


def cell_id(cfg: CellConfig) -> str:
    """A stable, readable id from the cell's coordinates: cpu_float32_xla-off_bs64_seed0, with
    its part in front when it has one (quality_cpu_...), TF32 when the spec sets it
    (gpu_float32_tf32-off_xla-on_...), the framework when it is not TensorFlow (jax_cpu_...), the
    model when it is not the tutorial's, with its discriminator's width where it has one
    (unrolled-dcgan-d0.25_...), the packing from 2 (pacgan-dcgan_pac2_...), and the study
    program after the device (jax_gpu_study_...)."""
    tf32 = "" if cfg.tf32 is None else f"_tf32-{'on' if cfg.tf32 else 'off'}"
    width = f"-d{cfg.d_width:g}" if cfg.d_width is not None else ""
    names = [cfg.model + width if cfg.model != protocols.DEFAULT_MODEL else "",
             f"pac{cfg.packing_m}" if cfg.packing_m > 1 else "",
             frameworks.id_prefix(cfg.framework), cfg.device.replace(":", ""),
             "study" if cfg.program == "study" else ""]
    coordinates = ("_".join(n for n in names if n) + f"_{cfg.precision}{tf32}_xla-"
                   f"{'on' if cfg.xla else 'off'}_bs{cfg.batch_size}_seed{cfg.seed}")
    return f"{cfg.part}_{coordinates}" if cfg.part else coordinates


def _table_problems(section: str, table, allowed) -> list[str]:
    if not isinstance(table, dict):
        return [f"[{section}]: expected a table, found {table!r}"]
    return [f"[{section}] {key}: renamed {RENAMED[key]}; rename the key" if key in RENAMED
            and RENAMED[key] in allowed else
            f"[{section}] {key}: unknown key; expected one of {', '.join(sorted(allowed))}"
            for key in table if key not in allowed]


def _axes_problems(where: str, axes) -> list[str]:
    if not isinstance(axes, dict):
        return []
    p = []
    for key in AXES:
        values = axes.get(key)
        if values is None and key in OPTIONAL_AXES:
            continue
        if values is None:
            p.append(f"[{where}] {key}: missing; expected a non-empty list")
        elif not isinstance(values, list) or not values:
            p.append(f"[{where}] {key}: expected a non-empty list, found {values!r}")
        elif len(set(map(repr, values))) != len(values):
            p.append(f"[{where}] {key}: duplicate values in {values!r}")
    return p


def _table(value) -> dict:
    return value if isinstance(value, dict) else {}  # a non-table is reported by spec_problems


def _parts(raw: dict) -> list[dict]:
    """The spec's parts as {name, axes, budget, eval, emulated}; the top-level tables are one
    part."""
    if "parts" not in raw:
        return [{"name": None, "axes": _table(raw.get("axes")), "budget": _table(raw.get("budget")),
                 "eval": _table(raw.get("eval")), "emulated": raw.get("emulated", "run")}]
    parts = raw["parts"] if isinstance(raw["parts"], list) else []
    return [{"name": part.get("name"), "axes": _table(part.get("axes")),
             "budget": {**_table(raw.get("budget")), **_table(part.get("budget"))},
             "eval": {**_table(raw.get("eval")), **_table(part.get("eval"))},
             "emulated": part.get("emulated", raw.get("emulated", "run"))}
            for part in parts if isinstance(part, dict)]


def spec_problems(raw: dict) -> list[str]:
    p = [f"{k}: unknown top-level key; expected one of {', '.join(sorted(TOP_KEYS))}"
         for k in raw if k not in TOP_KEYS]
    for where, table in [("emulated", raw)] + [(f"[parts.{x.get('name')}] emulated", x) for x in (
            raw["parts"] if isinstance(raw.get("parts"), list) else []) if isinstance(x, dict)]:
        if "emulated" in table and table["emulated"] not in EMULATED_POLICIES:
            p.append(f"{where}: expected one of {', '.join(EMULATED_POLICIES)}, found "
                     f"{table['emulated']!r}")
    if not isinstance(raw.get("name"), str) or not raw.get("name", "").strip() or \
            CONTROL.search(raw["name"]):
        p.append(f"name: expected a non-empty string without control characters (newlines, "
                 f"tabs), found {raw.get('name')!r}")
    p += _table_problems("budget", raw.get("budget", {}), BUDGET)
    p += _table_problems("eval", raw.get("eval", {}), EVAL)
    if "parts" in raw:
        if "axes" in raw:
            p.append("axes: give [axes] inside each [[parts]], not at the top level")
        parts = raw["parts"]
        if not isinstance(parts, list) or not parts or not all(isinstance(x, dict) for x in parts):
            return p + [f"parts: expected one or more [[parts]] tables, found {parts!r}"]
        names = [part.get("name") for part in parts]
        for i, part in enumerate(parts):
            where = f"parts.{part.get('name') or i}"
            p += [f"[{where}] {key}: unknown key; expected one of {', '.join(sorted(PART_KEYS))}"
                  for key in part if key not in PART_KEYS]
            if not isinstance(part.get("name"), str):
                p.append(f"[{where}] name: expected a string, found {part.get('name')!r}")
            elif names.count(part["name"]) > 1:
                p.append(f"[{where}] name: {part['name']!r} names more than one part")
            p += _table_problems(f"{where}.axes", part.get("axes", {}), AXES)
            p += _table_problems(f"{where}.budget", part.get("budget", {}), BUDGET)
            p += _table_problems(f"{where}.eval", part.get("eval", {}), EVAL)
            p += _axes_problems(f"{where}.axes", part.get("axes", {}))
    else:
        p += _table_problems("axes", raw.get("axes", {}), AXES)
        p += _axes_problems("axes", raw.get("axes", {}))
    return p


def _base_fields(raw: dict, part: dict) -> dict:
    fields = {k: raw[k] for k in ("data", "data_dir") if k in raw}
    for section, mapping in (("budget", BUDGET), ("eval", EVAL)):
        fields.update({mapping[k]: v for k, v in part[section].items() if k in mapping})
    if part["name"] is not None:
        fields["part"] = part["name"]
    return fields


def _value_problems(raw: dict) -> list[str]:
    """Problems with the values themselves: each axis value and each budget field, once each."""
    found = []
    for part in _parts(raw):
        where = f"parts.{part['name']}" if part["name"] is not None else None
        # the budget with each framework setting of the part: some budgets hold under one
        # framework only (seeds_per_process), some precisions under one framework only
        axes = {**OPTIONAL_AXES, **part["axes"]}
        settings = [axes.get(k) if isinstance(axes.get(k), list) else [None]
                    for k in CROSS_CHECKED_AXES]
        for values in itertools.product(*settings):
            chosen = {AXES[k]: v for k, v in zip(CROSS_CHECKED_AXES, values) if v is not None}
            for problem in config_problems(_Unchecked(**_base_fields(raw, part), **chosen)):
                line = f"[{where}] {problem}" if where else problem
                if line not in found:
                    found.append(line)
        for key, field in AXES.items():
            if key in COMBINED_ONLY_AXES:
                continue
            values = part["axes"].get(key)
            for value in values if isinstance(values, list) else []:
                for problem in config_problems(_Unchecked(**{field: value})):
                    line = f"[{where + '.' if where else ''}axes] {key}: " + problem.split(": ", 1)[1]
                    if line not in found:
                        found.append(line)
    return found


def _data_problems(raw: dict) -> list[str]:
    """The data set is here, and every batch fits in it: said before anything starts."""
    from bench.datasets import availability_problems, size_problems

    data = raw.get("data", CellConfig.data)
    found = availability_problems(data, raw.get("data_dir")) if isinstance(data, str) else []
    for part in _parts(raw):
        where = f"[parts.{part['name']}.axes] " if part["name"] is not None else "[axes] "
        sizes = part["axes"].get("batch_sizes")
        found += [where + p for p in size_problems(data, sizes if isinstance(sizes, list) else [])]
    return found


def max_cells() -> int:
    value = os.environ.get(MAX_CELLS_ENV, str(MAX_CELLS))
    if not value.isdigit() or int(value) < 1:
        raise BenchError(f"{MAX_CELLS_ENV}: expected a whole number of cells, 1 or more, found "
                         f"{value!r}")
    return int(value)


def _size_problem(raw: dict) -> str | None:
    """The spec's cell count against max_cells(), from its axes' lengths alone."""
    count = sum(math.prod(len(axes[k]) if isinstance(axes.get(k), list) else 1 for k in AXES)
                for axes in (part["axes"] for part in _parts(raw)))
    bound = max_cells()
    if count <= bound:
        return None
    return (f"the axes expand to {count:,} cells; at most {bound:,} are expanded "
            f"({MAX_CELLS_ENV} raises the bound)")


def expand(raw: dict, path="<spec>") -> GridSpec:
    """Validate a parsed spec and expand its parts' axes; BenchError listing every problem."""
    too_many = _size_problem(raw) if isinstance(raw, dict) else None
    if too_many:  # before any value is checked: each would be checked once
        raise BenchError(f"1 problem(s) in the grid spec:\n  - {too_many}", path=path)
    problems = spec_problems(raw) + _value_problems(raw)
    problems += [p for p in _data_problems(raw) if p not in problems]
    if problems:
        raise BenchError(f"{len(problems)} problem(s) in the grid spec:\n  - "
                         + "\n  - ".join(problems), path=path)
    order = ("models", "packings", "frameworks", "programs", "devices", "precision", "tf32",
             "xla", "batch_sizes", "seeds")
    cells = []
    for part in _parts(raw):
        base = _base_fields(raw, part)
        axes = {**OPTIONAL_AXES, **part["axes"]}
        for values in itertools.product(*(axes[k] for k in order)):
            cfg = CellConfig(**base, **{AXES[k]: v for k, v in zip(order, values)})
            cells.append(Cell(cell_id(cfg), cfg, part["emulated"]))
    return GridSpec(raw["name"], raw, str(path), tuple(cells))


class _Unchecked:
    """CellConfig's fields without validation, so config_problems can list them all."""

    def __init__(self, **fields):
        defaults = {f: getattr(CellConfig, f) for f in CellConfig.__dataclass_fields__}
        self.__dict__.update({**defaults, **fields})


def load_spec(path) -> GridSpec:
    path = Path(path)
    return expand(records.read_toml(path, "grid spec"), path)
