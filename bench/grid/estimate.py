"""How long a grid part will take on this machine, said before it runs, and how long it took.

A cell's duration is modelled as

    fixed + (steps - 1) x images a step / images_per_sec + evaluations

- `fixed`: everything but training steps and evaluations: starting the process (the TensorFlow
  import), loading the data, building the models, compiling the step (XLA included), saving, and
  the grid's own bookkeeping.
- `images_per_sec`: the configuration's steady training rate (data set x device x precision x
  XLA x batch size x model, its packing, width and update schedule), counting every image of
  a pack (a packed step reads batch x m images).
- evaluations: each costs fixed_eval + per_sample x n, plus loading the instrument once.

The numbers come from what this machine measured, in this order: cells of the same configuration
already finished in this run (so a quality part after a throughput part uses the throughput
part's rates), then a short calibration of the part's own configurations in one process
(bench.cell.calibrate, run by bench.grid.calibration; its record is kept in the run directory).
Each estimate names its source. Cells run one at a time on the CPU, so a part's estimate is the
sum of its cells'; GPU cells run one per GPU at once.

Nothing here runs TensorFlow: the model is arithmetic on records.
"""

from dataclasses import dataclass, field

import numpy as np

from bench import frameworks, protocols, rundirs, schema
from bench.datasets import SPLIT_SIZES

# What a cell costs beyond what the calibration times: env.json, results.csv, the grid's poll.
BOOKKEEPING_SECONDS = 1.0


def config_key(cfg) -> tuple:
    """What sets a cell's speed, the seed aside: its coordinates, and the model's networks and
    update (packing multiplies the images a step reads; g_steps its generator updates)."""
    return (cfg.data, cfg.device, cfg.precision, cfg.xla, cfg.batch_size, cfg.framework, cfg.tf32,
            cfg.model, cfg.packing_m, cfg.d_width, cfg.schedule, cfg.g_steps,
            getattr(cfg, "program", "step"))


def images_per_step(cfg) -> int:
    """Images a step reads (images/s counts them all): the batch counts packs of packing_m."""
    return cfg.batch_size * getattr(cfg, "packing_m", 1)


def total_steps(cfg) -> int:
    return cfg.total_steps(SPLIT_SIZES[cfg.data]["train"])


def evaluation_sizes(cfg) -> list[int]:
    """Sample counts of every evaluation a cell runs: periodic ones between windows, the final."""
    steps = total_steps(cfg)
    periodic = [cfg.eval_n for s in range(cfg.eval_every, steps, cfg.eval_every)] \
        if cfg.eval_every else []
    return periodic + ([cfg.final_eval_n] if cfg.final_eval_n else [])


@dataclass
class ConfigCost:
    fixed_seconds: float
    images_per_sec: float
    source: str


@dataclass
class EvalCost:
    fixed_seconds: float
    per_sample_seconds: float
    load_seconds: float  # the instrument, once a cell (0 where `fixed` of the config has it)
    source: str

    def seconds(self, sizes: list[int]) -> float:
        if not sizes:
            return 0.0
        return self.load_seconds + sum(self.fixed_seconds + self.per_sample_seconds * n
                                       for n in sizes)


def cell_seconds(cfg, cost: ConfigCost, evals: EvalCost | None) -> float:
    """The modelled duration of one cell (see the module docstring)."""
    train = (total_steps(cfg) - 1) * images_per_step(cfg) / cost.images_per_sec
    sizes = evaluation_sizes(cfg)
    return cost.fixed_seconds + train + (evals.seconds(sizes) if evals and sizes else 0.0)


def measured_cell(cell_dir, grid_seconds: float | None) -> tuple[ConfigCost, list] | None:
    """What a finished ok cell says about its configuration: its cost, and its evaluations as
    (n, seconds). `grid_seconds`: the cell's duration as the grid saw it (launch to record);
    without it (a cell kept by --resume), the process start and the cell's own wall time."""
    summary = rundirs.read_summary(cell_dir)
    phases = summary.get("phase_seconds") or {}
    if summary.get("status") != schema.STATUS_OK or not phases.get("train"):
        return None
    config = rundirs.read_record(cell_dir, schema.CONFIG_FILE)
    batch = config["batch_size"] * (config.get("packing_m") or 1)
    steps = summary["steps"]
    evals = [(e["n"], e["eval_seconds"]) for e in rundirs.read_lines(cell_dir, schema.EVALS_FILE)
             if e.get("eval_seconds")]
    final = summary.get("final") or {}
    if final.get("eval_seconds"):
        evals.append((final[schema.N], final["eval_seconds"]))
    seen = grid_seconds if grid_seconds is not None else \
        (summary.get("process_start_seconds") or 0.0) + summary["wall_seconds"] + \
        BOOKKEEPING_SECONDS
    fixed = seen - phases["train"] - sum(t for _, t in evals)
    rate = (steps - 1) * batch / phases["train"]
    return ConfigCost(fixed, rate, f"measured by {cell_dir.name}"), evals


def fit_evaluations(points: list[tuple[int, float]], source: str) -> EvalCost | None:
    """seconds = fixed + per_sample x n, least squares over measured evaluations; one size
    alone gives per_sample = seconds / n."""
    if not points:
        return None
    n = np.array([p[0] for p in points], float)
    t = np.array([p[1] for p in points], float)
    if len(set(n)) == 1:
        return EvalCost(0.0, float(t.mean() / n[0]), 0.0, source)
    per_sample, fixed = np.polyfit(n, t, 1)
    return EvalCost(max(0.0, float(fixed)), max(0.0, float(per_sample)), 0.0, source)


def _contention_note(contention: dict | None) -> str:
    """What a calibration's source says when other processes shared its cores."""
    if not contention or not contention.get("contended_windows"):
        return ""
    return (f"; CONTENDED: other processes took {contention['others_share_median']:.0%} of the "
            "cores, so the progress line follows the rate the cells show, not this one")


def calibrated_costs(record: dict, configs: list) -> tuple[dict, EvalCost | None]:
    """ConfigCost per configuration key, and the evaluation's cost, from a calibration record
    (bench.grid.calibration)."""
    costs = {}
    for cfg, m in zip(configs, record["configs"]):
        start = m.get("process_start_seconds", record.get("process_start_seconds")) or 0.0
        fixed = start + m["data_seconds"] + m["setup_seconds"] + m["compile_seconds"] + \
            m["save_seconds"] + BOOKKEEPING_SECONDS
        costs[config_key(cfg)] = ConfigCost(
            fixed, m["images_per_sec"], f"calibrated here ({m['windows']} windows, "
                                        f"{m['measured_seconds']:.1f} s measured"
                                        f"{_contention_note(m.get('contention'))})")
    e = record.get("evaluation")
    evals = EvalCost(e["fixed_seconds"], e["per_sample_seconds"], e["load_seconds"],
                     "calibrated here") if e else None
    return costs, evals


@dataclass
class PartEstimate:
    part: str | None
    cells: dict  # cell id -> estimated seconds
    sources: dict  # configuration label -> where its numbers came from
    parallel: int = 1
    actual: dict = field(default_factory=dict)  # cell id -> seconds, as cells finish
    actual_seconds: float | None = None  # the whole part, once it has run, calibration included
    calibration_seconds: float = 0.0  # measuring the rates, before the part's first cell
    # the part's total as the progress line revised it when each cell finished (seconds since
    # its first cell, the learned total, bench.grid.progress)
    revisions: list = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(self.cells.values()) / self.parallel

    def to_record(self) -> dict:
        return {"part": self.part, "estimated_seconds": self.seconds + self.calibration_seconds,
                "calibration_seconds": self.calibration_seconds,
                "actual_seconds": self.actual_seconds, "parallel": self.parallel,
                "cells": {c: {"estimated_seconds": s, "actual_seconds": self.actual.get(c)}
                          for c, s in self.cells.items()},
                "sources": self.sources, "revisions": self.revisions}

    def learned_scale(self) -> float | None:
        """How much longer the finished cells took than estimated (their actual over their
        estimated seconds); None before a cell has finished."""
        done = [c for c in self.cells if c in self.actual]
        estimated = sum(self.cells[c] for c in done)
        return sum(self.actual[c] for c in done) / estimated if done and estimated > 0 else None


def config_label(key: tuple) -> str:
    data, device, precision, xla, batch, framework, tf32, model, packing_m, d_width = key[:10]
    prefix = frameworks.id_prefix(framework)
    framework = f"{prefix} " if prefix else ""
    tf32_text = "" if tf32 is None else f" TF32 {'on' if tf32 else 'off'}"
    model_text = "" if model == protocols.DEFAULT_MODEL and packing_m == 1 else \
        protocols.model_label(model, packing_m, d_width) + " "
    program = " study program" if len(key) > 12 and key[12] == "study" else ""
    return (f"{framework}{model_text}{data} {device} {precision}{tf32_text} XLA "
            f"{'on' if xla else 'off'} bs {batch}{program}")


def estimate_part(part, cells, costs: dict, evals: EvalCost | None, parallel=1) -> PartEstimate:
    """The part's estimate from a cost per configuration key (every cell's must be there)."""
    estimates, sources = {}, {}
    for cell in cells:
        key = config_key(cell.config)
        cost = costs[key]
        estimates[cell.id] = cell_seconds(cell.config, cost, evals)
        sources[config_label(key)] = (f"{cost.images_per_sec:,.0f} images/s, "
                                      f"{cost.fixed_seconds:.1f} s fixed a cell: {cost.source}")
    if evals and any(evaluation_sizes(c.config) for c in cells):
        sources["evaluation"] = (f"{evals.fixed_seconds:.2f} s + {evals.per_sample_seconds * 1e3:.2f}"
                                 f" ms a sample: {evals.source}")
    return PartEstimate(part, estimates, sources, parallel)


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
