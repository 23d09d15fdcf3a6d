"""The ETA learns, with real processes: a grid of three small JAX cells whose calibration runs
beside two CPU hogs (started under `setsid`, so that autogroup scheduling cannot shield the
calibration), hogs that stop as the first cell begins. The calibration's estimate is the busy
machine's; the part's total as revised after the first cell (estimates.json's `revisions`) is
within 25% of the time the cells took, and the calibration's source line says CONTENDED.

A machine so busy that the cells themselves ran contended has nothing to learn from: the test
says so and skips.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hogs import NEEDS_PROC_STAT, start_hog, tiny_jax_spec

pytest.importorskip("jax", reason="JAX is not installed (the jax extra: pip install -e '.[jax]'; "
                                  "tox -e py installs it)")

pytestmark = [pytest.mark.slow, NEEDS_PROC_STAT]
ROOT = Path(__file__).resolve().parent.parent
SPEC = tiny_jax_spec("eta", steps=120, log_every=30, seeds=(0, 1, 2))
HOGS = 2


def _summaries(run: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(run.glob("throughput_*/summary.json"))]


def test_an_estimate_calibrated_under_hogs_learns_the_quiet_machines_rate(tmp_path):
    spec = tmp_path / "eta.toml"
    spec.write_text(SPEC)
    run = tmp_path / "run"
    # as a user runs it: calibration on, and no compilation cache (the suite's would make the
    # later cells faster than the calibration for a reason that is not the hogs)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DCGAN_BENCH_", "JAX_COMPILATION_CACHE", "JAX_PERSISTENT_CACHE"))}
    hogs = [start_hog() for _ in range(HOGS)]
    grid = subprocess.Popen([sys.executable, "-m", "bench", "grid", str(spec), "--out", str(run)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        # the hogs stop as the first cell's directory appears (the calibration is done)
        while grid.poll() is None and not any(run.glob("throughput_*")):
            time.sleep(0.1)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    out, _ = grid.communicate()
    assert grid.returncode == 0, out[-3000:]

    (part,) = json.loads((run / "estimates.json").read_text())["parts"]
    (source,) = part["sources"].values()
    assert "CONTENDED" in source, source  # the calibration knew it measured a busy machine
    contended = [s["contention"]["contended_windows"] for s in _summaries(run)]
    if any(contended):
        pytest.skip(f"this machine was busy while the cells ran ({contended} contended windows "
                    f"a cell): no quiet rate to learn")
    cells_took = part["revisions"][-1]["after_seconds"]
    first = part["revisions"][0]  # after the first of three cells
    assert first["learned"]
    assert abs(first["total_seconds"] / cells_took - 1) < 0.25, (first, cells_took)
    # and the hogs did mislead the calibration: its own estimate was further off than that
    estimated = sum(c["estimated_seconds"] for c in part["cells"].values()) / part["parallel"]
    assert estimated / cells_took - 1 > 0.25, (part, cells_took)
