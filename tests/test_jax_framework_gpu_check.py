"""The project's GPU check (bench/jobs/gpu-check.sh, its Python in bench/jobs/gpu_check.py and
gpu_check_summary.py) run to its end in its dry-run mode: on the CPU, TensorFlow blocked in every
process as on the GPU machines, each phase a real grid, every evaluation in its cell's process,
and only records coming back. The Python's parts are tested one by one in tests/test_gpu_check.py."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("jax", reason="JAX is not installed (the jax extra: pip install -e '.[jax]'; "
                                  "tox -e py installs it)")

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "jobs" / "gpu-check.sh"


def test_the_gpu_check_runs_to_its_end_on_the_cpu_without_tensorflow(tmp_path):
    out = tmp_path / "out"
    # the smallest plan that still has every kind of phase: a gate cell, a second batch size,
    # the study program alone and K = 2 by vmap and by loop, and K = 2 of the step program
    # packed by vmap and by loop; budgets from the phases' caps, scaled for a CPU
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DEVCHECK_MODE": "cpu",
           "DEVCHECK_PYTHON": sys.executable, "DEVCHECK_SITE": str(tmp_path / "site"),
           "DEVCHECK_WORK": str(tmp_path / "work"), "OUT": str(out),
           "DEVCHECK_BUDGET_S": "3000", "DEVCHECK_CAP_SCALE": "10", "DEVCHECK_BATCHES": "16 32",
           "DEVCHECK_PRECISIONS": "float32", "DEVCHECK_STEPS": "6", "DEVCHECK_LOG_EVERY": "3",
           "DEVCHECK_PACKED_STEPS": "6", "DEVCHECK_PACKED_LOG_EVERY": "3", "DEVCHECK_KS": "2",
           "DEVCHECK_STUDY_KS": "1 2",
           "DEVCHECK_FINAL_N": "128", "DEVCHECK_PACKED_FINAL_N": "128",
           # the session's JAX compilation cache (tests/conftest.py): phases share programs
           **{k: v for k, v in os.environ.items() if k.startswith("JAX_")}}
    proc = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    phases = {p[0]: p[1] for p in results["phases"]}
    assert phases == {"gate": "0", "batches": "0", "study1": "0", "study2_vmap": "0",
                      "study2_loop": "0", "study2_auto": "0", "packed2_vmap": "0",
                      "packed2_loop": "0"}
    checks = {c["check"]: c["result"] for c in results["checks"]}
    failed = {name: result for name, result in checks.items() if result == "FAIL"}
    assert not failed, failed
    for must in ("the JAX cell path imports no TensorFlow, TF-GAN or seaborn",
                 "every cell ended ok",
                 "packed groups say CUDA_VISIBLE_DEVICES first in their log",
                 "every evaluated cell has its final evaluation in its own record, without "
                 "TensorFlow"):
        assert checks[must] == "PASS", must
    # the audit's verdict names every package a JAX process keeps out (bench.frameworks)
    assert "AUDIT-OK: none of tensorflow, tensorflow_gan" in results["audit"]
    groups = [(g["k"], g["packing"], g["ok"]) for g in results["packed"]]
    # "auto" names what its trial chose, whichever measured faster on this machine
    auto = [g for g in groups if g[1].startswith("study:auto=")]
    assert len(auto) == 1 and auto[0][1] in ("study:auto=loop", "study:auto=vmap")
    assert [g for g in groups if g not in auto] == [
        (2, "loop", 2), (2, "vmap", 2), (1, "study:alone", 1), (2, "study:loop", 2),
        (2, "study:vmap", 2)]
    cells = results["cells"]
    # gate, batch 32, the study program 1 + 3 x 2 (vmap, loop, auto), 2 x 2 packed seeds
    assert len(cells) == 13
    study = [c for c in cells if c["program"] == "study"]
    assert len(study) == 7 and {c["steps_per_dispatch"] for c in study} == {3}
    # the profile of a packed dispatch: one seed's kernels, then K = 2 by each packing
    kernels = {(x["k"], x["packing"]): x["kernels"] for x in results["kernels"]}
    assert list(kernels) == [(1, "loop"), (2, "vmap"), (2, "loop")]
    assert kernels[(2, "loop")] >= 1.8 * kernels[(1, "loop")] > kernels[(2, "vmap")] * 0.9
    evaluated = [c for c in cells if c["run"] != "batches"]
    assert all(c["final_n"] == 128 and c["final_outcome"] for c in evaluated)
    assert all(c["evaluated_with"] == {"instrument": c["evaluated_with"]["instrument"],
                                       "metrics": "numpy"} for c in evaluated)
    # what comes back is records and logs, no generator weights
    with tarfile.open(out / "runs.tgz") as tar:
        names = tar.getnames()
    assert any(n.endswith("summary.json") for n in names)
    assert {"plan.tsv", "phases.tsv", "audit.txt", "specs/packed2_loop.toml"} <= set(names)
    assert not any(n.endswith(".weights.h5") for n in names)
    summary = (out / "summary.txt").read_text()
    assert "final evaluations" in summary and "outcomes: " in summary
