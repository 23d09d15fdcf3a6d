"""Grid specs: a TOML file of axes and a per-cell budget, validated, expanded into cells.

    name = "cpu: 2 seeds x 2 batch sizes x XLA on/off"   # free text, shown in reports
    data = "mnist-5k"                                    # optional: data set, data_dir
    [axes]
    seeds = [0, 1]
    batch_sizes = [64, 256]
    devices = ["cpu"]                  # cpu, gpu, gpu:N
    xla = [false, true]
    precision = ["float32"]            # float32, mixed_float16, mixed_bfloat16
    [budget]
    epochs = 4                         # or steps = N
    log_every = 20
    warmup_windows = 1
    deterministic = false
    [eval]
    every = 0                          # steps between periodic evaluations; 0: none
    n = 2000
    final_n = 10000

A spec is checked whole before anything runs: every problem is listed in one BenchError.
"""

import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bench.config import CellConfig, config_problems
from bench.errors import BenchError

TOP_KEYS = {"name", "data", "data_dir", "axes", "budget", "eval"}
AXES = {"seeds": "seed", "batch_sizes": "batch_size", "devices": "device", "xla": "xla",
        "precision": "precision"}
BUDGET = {"steps": "steps", "epochs": "epochs", "log_every": "log_every",
          "warmup_windows": "warmup_windows", "deterministic": "deterministic"}
EVAL = {"every": "eval_every", "n": "eval_n", "final_n": "final_eval_n"}


@dataclass(frozen=True)
class Cell:
    id: str
    config: CellConfig


@dataclass(frozen=True)
class GridSpec:
    name: str
    raw: dict
    path: str
    cells: tuple[Cell, ...]


def cell_id(cfg: CellConfig) -> str:
    """A stable, readable id from the cell's coordinates: cpu_float32_xla-off_bs64_seed0."""
    return (f"{cfg.device.replace(':', '')}_{cfg.precision}_xla-{'on' if cfg.xla else 'off'}"
            f"_bs{cfg.batch_size}_seed{cfg.seed}")


def _table_problems(section: str, table, allowed) -> list[str]:
    if not isinstance(table, dict):
        return [f"[{section}]: expected a table, found {table!r}"]
    return [f"[{section}] {key}: unknown key; expected one of {', '.join(sorted(allowed))}"
            for key in table if key not in allowed]


def spec_problems(raw: dict) -> list[str]:
    p = [f"{k}: unknown top-level key; expected one of {', '.join(sorted(TOP_KEYS))}"
         for k in raw if k not in TOP_KEYS]
    if not isinstance(raw.get("name"), str) or not raw.get("name", "").strip():
        p.append(f"name: expected a non-empty string, found {raw.get('name')!r}")
    axes = raw.get("axes", {})
    p += _table_problems("axes", axes, AXES)
    p += _table_problems("budget", raw.get("budget", {}), BUDGET)
    p += _table_problems("eval", raw.get("eval", {}), EVAL)
    if isinstance(axes, dict):
        for key in AXES:
            values = axes.get(key)
            if values is None:
                p.append(f"[axes] {key}: missing; expected a non-empty list")
            elif not isinstance(values, list) or not values:
                p.append(f"[axes] {key}: expected a non-empty list, found {values!r}")
            elif len(set(map(repr, values))) != len(values):
                p.append(f"[axes] {key}: duplicate values in {values!r}")
    return p


def _base_fields(raw: dict) -> dict:
    fields = {k: raw[k] for k in ("data", "data_dir") if k in raw}
    for section, mapping in (("budget", BUDGET), ("eval", EVAL)):
        table = raw.get(section, {})
        fields.update({mapping[k]: v for k, v in table.items() if k in mapping})
    return fields


def _value_problems(raw: dict) -> list[str]:
    """Problems with the values themselves: each axis value and each budget field, once each."""
    found = []
    base = _base_fields(raw)
    found += config_problems(_Unchecked(**base))
    for key, field in AXES.items():
        values = raw.get("axes", {}).get(key) if isinstance(raw.get("axes"), dict) else None
        for value in values if isinstance(values, list) else []:
            for problem in config_problems(_Unchecked(**{field: value})):
                if problem not in found:
                    found.append(f"[axes] {key}: " + problem.split(": ", 1)[1])
    return found


def expand(raw: dict, path="<spec>") -> GridSpec:
    """Validate a parsed spec and expand its axes; BenchError listing every problem."""
    problems = spec_problems(raw) + _value_problems(raw)
    if problems:
        raise BenchError(f"{len(problems)} problem(s) in the grid spec:\n  - "
                         + "\n  - ".join(problems), path=path)
    axes, base = raw["axes"], _base_fields(raw)
    order = ("devices", "precision", "xla", "batch_sizes", "seeds")
    cells = []
    for values in itertools.product(*(axes[k] for k in order)):
        cfg = CellConfig(**base, **{AXES[k]: v for k, v in zip(order, values)})
        cells.append(Cell(cell_id(cfg), cfg))
    return GridSpec(raw["name"], raw, str(path), tuple(cells))


class _Unchecked:
    """CellConfig's fields without validation, so config_problems can list them all."""

    def __init__(self, **fields):
        defaults = {f: getattr(CellConfig, f) for f in CellConfig.__dataclass_fields__}
        self.__dict__.update({**defaults, **fields})


def load_spec(path) -> GridSpec:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError("grid spec not found", path=path) from None
    except tomllib.TOMLDecodeError as e:
        raise BenchError(f"not valid TOML ({e})", path=path) from None
    return expand(raw, path)
