"""A whole Ray node lost mid-cell (its raylet killed, as when a machine goes away): the cell is
submitted again, runs on the node that is left, and the grid completes with the loss recorded.

Its own cluster (one runs at a time; see tests/raycluster.py): a head with no CPUs, where the
driver and its progress board live, and two worker nodes of 1 CPU, so each cell lands on a worker
node and has one to move to.
"""

import os
import signal
import time

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (the ray extra: pip install "
                                        "'dcgan-bench[ray]'; tox -e py installs it)")

from pace import pace  # noqa: E402
from raycluster import (  # noqa: E402
    cell_processes,
    cmdline,
    parent_pid,
    started_cluster,
    summary,
    wait_for_training,
)

from bench.grid.ray_launcher import SYSTEM_FAILURES  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]
CELL = "cpu_float32_xla-off_bs32_seed0"
ONE_CELL = """
name = "ray node loss"
data = "mnist-5k"
[axes]
seeds = [0]
batch_sizes = [32]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[budget]
steps = {steps}
log_every = 10
[eval]
final_n = 0
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    one_cpu = ("--num-cpus=1", "--num-gpus=0")
    with started_cluster(tmp_path_factory.mktemp("ray-home"), ("--num-cpus=0", "--num-gpus=0"),
                         one_cpu, one_cpu) as c:
        yield c


def _raylet_of_cell(deadline: float):
    """The raylet (node manager) whose worker runs the cell, once the cell is training: cell
    process -> Ray worker -> raylet."""
    while time.time() < deadline:
        for pid in cell_processes():
            worker = parent_pid(pid)
            raylet = parent_pid(worker)
            if "ray::" in cmdline(worker) and "raylet" in cmdline(raylet) and \
                    wait_for_training(pid, deadline):
                return raylet
        time.sleep(0.5)
    return None


def test_a_lost_node_is_retried_on_another_and_the_grid_completes(cluster, tmp_path):
    spec = tmp_path / "one.toml"
    steps = pace().steps_for(20)  # about 20 s of training here: the node goes well before its end
    spec.write_text(ONE_CELL.format(steps=steps))
    run = tmp_path / "run"
    grid = cluster.grid(spec, run, wait=False)
    raylet = _raylet_of_cell(time.time() + pace().timeout(steps))
    assert raylet, "no cell process under a Ray worker got to training"
    os.kill(raylet, signal.SIGKILL)  # the node goes: its raylet, and with it its workers
    out, _ = grid.communicate(timeout=pace().timeout(steps, cells=3))
    assert grid.returncode == 0, out
    record = summary(run, CELL)
    assert record["status"] == "ok"
    lost, done = record["attempts"]
    assert lost["attempt"] == 1 and done["attempt"] == 2, record["attempts"]
    assert lost["lost"].split(":")[0] in SYSTEM_FAILURES, lost  # what Ray raised, by name
    # It ran to the end on the node that was left, not the one that went away.
    assert done["node"] != lost["node"] and lost["node"] != "?", record["attempts"]
    assert record["placement"]["node_id"][:8] in done["node"]
