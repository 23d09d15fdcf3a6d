"""Crafted nights for the comparison tests: copies of the golden grid with their throughput
scaled, their start time set, and final metrics changed where a test asks.

The golden cells' measured windows sit at round medians (tests/data/README.md); scaling every
window's images/sec by `speed` scales each configuration's median by exactly `speed`.
"""

import json
import shutil
from pathlib import Path

GOLDEN = Path(__file__).parent / "data" / "runs" / "golden"


def _rewrite_json(path: Path, change):
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record, indent=2) + "\n")


def craft_night(root: Path, name: str, started: str, speed: float = 1.0,
                final: dict | None = None, machine: dict | None = None) -> Path:
    """A copy of the golden run at root/<name>: windows x `speed`; `final` maps a cell id to
    final-metric changes, e.g. {"cpu_float32_xla-off_bs64_seed0": {"fid": 41.0}}; `machine`
    replaces every cell's machine record (bench.machine.with_fingerprint's)."""
    run = Path(root) / name
    shutil.copytree(GOLDEN, run)
    if machine is not None:
        for env in run.glob("*/env.json"):
            _rewrite_json(env, lambda e: e.update(machine=machine))
    _rewrite_json(run / "manifest.json", lambda m: m.update(started=started))
    for cell in (p for p in run.iterdir() if p.is_dir()):
        steps = cell / "steps.jsonl"
        if steps.is_file():
            lines = [json.loads(line) for line in steps.read_text().splitlines() if line]
            for line in lines:
                if line.get("images_per_sec"):
                    line["images_per_sec"] *= speed
                    line["window_seconds"] /= speed
            steps.write_text("".join(json.dumps(line) + "\n" for line in lines))

        def scale(summary, cell_id=cell.name):
            ips = summary.get("images_per_sec") or {}
            for key in ("median", "p10", "p90", "overall"):
                if ips.get(key) is not None:
                    ips[key] *= speed
            if final and cell_id in final:
                summary["final"].update(final[cell_id])

        if (cell / "summary.json").is_file():
            _rewrite_json(cell / "summary.json", scale)
    return run
