"""How long a refusal the arguments decide takes, from the command to its one line (exit 2): the
bar is 2 s on the fast machine class, and none may start TensorFlow (whose start-up alone takes
10-30 s). Each is a fresh process, as a user runs it.

    tox -e benchmark -- -k refusals

Under `tox -e py` (--benchmark-disable) each runs once and is checked, untimed.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CELL = ROOT / "tests" / "data" / "runs" / "golden" / "cpu_float32_xla-off_bs64_seed0"


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("refusals")
    occupied = root / "occupied"
    occupied.mkdir()
    (occupied / "a-users-file").write_text("kept")
    (root / "not.npz").write_text("not an archive")
    return root


# (arguments, what the one line says); {root} is the fixture's directory
REFUSALS = {
    "train-out-occupied": (("train", "--out", "{root}/occupied"), "exists and is not empty"),
    "train-bad-batch": (("train", "--batch-size", "6000", "--out", "{root}/c"),
                        "batch_size: expected at most 5000"),
    "eval-no-cell": (("eval", "{root}/nowhere"), "{root}/nowhere"),
    "eval-n-zero": (("eval", str(CELL), "--n", "0"), "--n"),
    "score-no-file": (("score", "{root}/nowhere.npz"), "nowhere.npz"),
    "score-not-npz": (("score", "{root}/not.npz"), "not.npz"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals(benchmark, places, case):
    argv, said = REFUSALS[case]
    argv = [a.format(root=places) for a in argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def refused():
        return subprocess.run([sys.executable, "-m", "bench", *argv], cwd=ROOT, env=env,
                              capture_output=True, text=True)

    proc = benchmark.pedantic(refused, rounds=3, iterations=1)  # once, untimed, when disabled
    assert proc.returncode == 2, proc.stderr[-800:]
    assert said.format(root=places) in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "tensorflow" not in proc.stderr.lower()
    assert (places / "occupied" / "a-users-file").read_text() == "kept"
