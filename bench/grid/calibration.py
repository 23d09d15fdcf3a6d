"""The rates a part's estimate rests on: from this run's finished cells, or a calibration process.

`plan_part` gathers, for every configuration of a part, a cost measured on this machine
(bench.grid.estimate): first from cells of that configuration already finished in this run, then,
for the rest, from a calibration process (`python -m bench.grid.calibration`) that runs
bench.cell.calibrate on them, one a framework (Keras runs one backend a process). The
calibration's record stays in the run directory (calibration/<part>[-<framework>].json, the
records of the short cells it trained beside it in <part>[-<framework>]-cells/, its log in
logs/), so an estimate can be traced to what it measured.

Set DCGAN_BENCH_ESTIMATE=off to skip the calibration (the test suite does, for its many tiny
grids); the grid then says that it has no estimate rather than guess.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import records, rundirs, schema
from bench.frameworks import id_prefix
from bench.grid import estimate
from bench.grid.cellrecord import LOG_TAIL_CHARS, log_path
from bench.grid.worker import LAUNCHED_ENV

ESTIMATE_ENV = "DCGAN_BENCH_ESTIMATE"
CALIBRATION_DIR = "calibration"


class NoEstimate(Exception):
    """Why a part has no estimate (said instead of one)."""


def estimates_enabled() -> bool:
    return os.environ.get(ESTIMATE_ENV, "on").lower() not in ("off", "0", "false", "no")


def _run_calibrations(run_dir: Path, part, configs, eval_config) -> tuple[list, dict]:
    """Calibrate `configs` (and the evaluation, when `eval_config`): one process a framework,
    since Keras runs one backend a process. (the configurations in the order measured, the
    calibration record merged: "configs" in that order, "evaluation")."""
    names = sorted({c.framework for c in configs}
                   | ({eval_config.framework} if eval_config else set()))
    ordered, merged = [], {"configs": []}
    for framework in names:
        mine = [c for c in configs if c.framework == framework]
        evaluate = eval_config if eval_config and eval_config.framework == framework else None
        prefix = id_prefix(framework)
        name = (part or "grid") + (f"-{prefix}" if prefix else "")
        record = _run_calibration(run_dir, name, mine, evaluate, framework)
        ordered += mine
        # each configuration with its own process's start: a JAX process starts another way
        merged["configs"] += [{"process_start_seconds": record.get("process_start_seconds"), **m}
                              for m in record["configs"]]
        if record.get("evaluation"):
            merged["evaluation"] = record["evaluation"]
    return ordered, merged


def _run_calibration(run_dir: Path, name, configs, eval_config, framework) -> dict:
    out = Path(run_dir) / CALIBRATION_DIR / f"{name}.json"
    log = log_path(run_dir, f"calibration-{name}")
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, LAUNCHED_ENV: repr(time.time())}
    args = [sys.executable, "-m", "bench.grid.calibration", framework, str(out),
            json.dumps([c.to_dict() for c in configs]),
            json.dumps(eval_config.to_dict() if eval_config else None)]
    with open(log, "w") as f:
        code = subprocess.run(args, stdout=f, stderr=subprocess.STDOUT, env=env).returncode
    if code != 0 or not out.is_file():
        tail = log.read_text(errors="replace")[-LOG_TAIL_CHARS:].strip().splitlines()
        raise NoEstimate(f"the calibration failed (exit code {code}; {log}): "
                         f"{tail[-1] if tail else 'no output'}")
    return records.read_json_record(out)


def plan_part(run_dir: Path, part, cells, grid_seconds: dict, parallel: int = 1):
    """The part's estimate (bench.grid.estimate.PartEstimate); NoEstimate saying why when there
    is none. `grid_seconds`: cell id -> duration the grid saw, for cells finished in this run."""
    if any(c.config.seeds_per_process > 1 for c in cells):
        raise NoEstimate("seeds packed in one program share its time, and nothing here yet "
                         "says how that time grows with their number")
    costs, eval_points, eval_sources = {}, [], []
    for cell_dir in sorted(p for p in Path(run_dir).iterdir() if (p / schema.SUMMARY_FILE).is_file()):
        measured = estimate.measured_cell(cell_dir, grid_seconds.get(cell_dir.name))
        if measured is None:
            continue
        cost, evals = measured
        key = estimate.config_key(_config(cell_dir))
        costs.setdefault(key, cost)  # the first (in name order) measured cell of a configuration
        eval_points += evals
        eval_sources += [cell_dir.name] if evals else []
    evals = estimate.fit_evaluations(eval_points, "measured by " + ", ".join(eval_sources[:3])
                                     + (" ..." if len(eval_sources) > 3 else ""))
    missing = list({estimate.config_key(c.config): c.config for c in cells
                    if estimate.config_key(c.config) not in costs}.values())
    wants_evals = evals is None and any(estimate.evaluation_sizes(c.config) for c in cells)
    if missing or wants_evals:
        if not estimates_enabled():
            raise NoEstimate(f"no rate measured yet on this machine for "
                             f"{len(missing)} configuration(s), and {ESTIMATE_ENV}=off "
                             "skips the calibration")
        eval_config = next(c.config for c in cells if estimate.evaluation_sizes(c.config)) \
            if wants_evals else None
        measured, record = _run_calibrations(run_dir, part, missing, eval_config)
        calibrated, calibrated_evals = estimate.calibrated_costs(record, measured)
        costs.update(calibrated)
        evals = evals or calibrated_evals
    return estimate.estimate_part(part, cells, costs, evals, parallel)


def _config(cell_dir: Path):
    from bench.config import CellConfig

    fields = set(CellConfig.__dataclass_fields__)
    config = rundirs.read_record(cell_dir, schema.CONFIG_FILE)
    return CellConfig(**{k: v for k, v in config.items() if k in fields})


def main(argv=None) -> int:
    """The calibration process: FRAMEWORK OUT_JSON CONFIGS_JSON EVAL_CONFIG_JSON (or null); the
    calibration cells' records are kept beside OUT_JSON, in OUT_JSON's stem + "-cells"."""
    framework, out, configs_json, eval_json = (argv or sys.argv[1:])[:4]
    from bench.imports import start_framework

    start_framework(framework)  # its import is part of the process start it measures
    from bench.cell.calibrate import calibrate
    from bench.config import CellConfig

    started = time.time() - float(os.environ.get(LAUNCHED_ENV, "nan"))
    eval_config = json.loads(eval_json)
    out = Path(out)
    record = calibrate([CellConfig(**c) for c in json.loads(configs_json)],
                       CellConfig(**eval_config) if eval_config else None,
                       cells_dir=out.with_name(out.name.removesuffix(".json") + "-cells"))
    records.write_json_record(out, {"process_start_seconds": started, **record})
    return 0


if __name__ == "__main__":
    sys.exit(main())
