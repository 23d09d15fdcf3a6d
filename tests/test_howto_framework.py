"""docs/how-to/add-a-framework.md, done as it says: a toy third framework on a copy of the package.

The toy is Keras on JAX under another name (`toyjax`): a row in bench/frameworks.py and a
runtime module, bench/cell/toyjax_framework.py, the two files the page lists as always touched,
and nothing else. On the copy it validates as a configuration (and its gaps as problems), names
its cells, trains a cell in a process of its own, evaluates it in that process, and reads back
through the results table with its label and version. If any other module still spelled a
framework's name, or chose between frameworks by an if, the toy would fail there.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax", reason="JAX is not installed (the jax extra: pip install -e "
                                  "'.[jax]'; tox -e py installs it)")

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "how-to" / "add-a-framework.md"

# The row the page's table asks for, as the page's example gives it.
ROW = '''
TOYJAX = Framework(
    name="toyjax", label="Toy JAX", keras_backend="jax", extra="jax", package="jax",
    versions=("jaxlib", "keras"), runtime="bench.cell.toyjax_framework:ToyJaxRuntime",
    precisions=("float32",), precision_gaps="the toy trains float32 only",
    keeps_out=_TENSORFLOW_FAMILY, inference="bench.evaluate.inference:jax_forward")
'''
# The runtime module: the JAX runtime, under another name (a wrapper of an existing backend).
RUNTIME = '''"""A toy framework: Keras on JAX under another name (tests/test_howto_framework.py)."""

from bench.cell.jax_framework import JaxRuntime


class ToyJaxRuntime(JaxRuntime):
    """JAX's runtime: its device, step and batches; only the name and the row differ."""
'''


def _files_the_page_lists_as_always_touched() -> list[str]:
    """The page's table rows marked "always"."""
    rows = [line for line in PAGE.read_text().splitlines() if line.startswith("| `")]
    return [re.match(r"\| `([^`]+)`", row).group(1) for row in rows if "| always |" in row]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A copy of the package with the toy framework added as the page says."""
    copy = tmp_path_factory.mktemp("toy")
    shutil.copytree(ROOT / "bench", copy / "bench",
                    ignore=shutil.ignore_patterns("__pycache__", "instruments"))
    # the shipped instrument is data, read where the package is: link it, do not edit it
    (copy / "bench" / "evaluate" / "instruments").symlink_to(
        ROOT / "bench" / "evaluate" / "instruments")
    table = copy / "bench" / "frameworks.py"
    text = table.read_text()
    anchor = "\n# Every framework, the reference first"
    assert anchor in text and "(TENSORFLOW, JAX)" in text
    text = text.replace(anchor, ROW + anchor).replace("(TENSORFLOW, JAX)", "(TENSORFLOW, JAX, TOYJAX)")
    table.write_text(text)
    (copy / "bench" / "cell" / "toyjax_framework.py").write_text(RUNTIME)
    return copy


def _run(copy, *args, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(copy)}
    env.pop("KERAS_BACKEND", None)
    return subprocess.run([sys.executable, *args], cwd=copy, capture_output=True, text=True,
                          env=env, **kwargs)


def test_the_page_lists_the_two_files_the_toy_touches():
    assert _files_the_page_lists_as_always_touched() == [
        "bench/frameworks.py", "bench/cell/<name>_framework.py"]


def test_the_toy_is_a_framework_of_the_copy_and_its_rules_hold(toy):
    code = """
import json
from bench.analysis.cells import value_label
from bench.config import CellConfig
from bench.errors import BenchError
from bench.grid.spec import cell_id
try:
    CellConfig(framework="toyjax", precision="mixed_bfloat16", tf32=True, seeds_per_process=2)
    problems = None
except BenchError as e:
    problems = str(e)
print(json.dumps({"id": cell_id(CellConfig(framework="toyjax")), "problems": problems,
                  "label": value_label("framework", "toyjax")}))
"""
    proc = _run(toy, "-c", code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["id"] == "toyjax_cpu_float32_xla-off_bs64_seed0"
    assert out["label"] == "Toy JAX"
    assert out["problems"] == "; ".join([
        "invalid cell configuration: precision: expected one of float32 under framework toyjax "
        "(the toy trains float32 only), found 'mixed_bfloat16'",
        "tf32: a TensorFlow setting, meaningless under framework toyjax; leave it out",
        "seeds_per_process: more than one seed in one program needs a framework that packs seeds "
        "(jax), found 2 under framework 'toyjax'"])


@pytest.mark.slow
def test_the_toy_trains_a_cell_and_evaluates_it(toy, tmp_path):
    cell = tmp_path / "cell"
    proc = _run(toy, "-m", "bench", "train", "--framework", "toyjax", "--steps", "6",
                "--log-every", "3", "--batch-size", "16", "--final-eval-n", "128",
                "--out", str(cell))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((cell / "summary.json").read_text())
    env = json.loads((cell / "env.json").read_text())
    assert summary["status"] == "ok" and summary["steps"] == 6
    assert summary["final"]["n"] == 128 and "final_eval" not in summary
    # evaluated in its own process, on its backend's forward pass and metric engine
    assert summary["final"]["evaluated_with"]["metrics"] == "numpy"
    assert env["framework"] == "toyjax" and env["device"] == "jax:cpu:0"
    assert env["framework_version"] == env["jax"]
    # nothing of TensorFlow was started in the toy's process: its row keeps it out
    assert "tensorflow" not in env
    # the results table reads it back: its name, its version, its evaluation
    table = _run(toy, "-m", "bench", "table", str(cell), "--csv")
    assert table.returncode == 0, table.stderr[-3000:]
    import csv
    import io

    (row,) = list(csv.DictReader(io.StringIO(table.stdout)))
    assert row["framework"] == "toyjax" and row["framework_version"] == env["jax"]
    assert float(row["final_fid"]) == pytest.approx(summary["final"]["fid"])
