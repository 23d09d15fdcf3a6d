"""The Ray launcher backend against a real Ray cluster on the loopback address: a head node and
two worker nodes started with `ray start`, all on this machine.

- head: 1 CPU; node 2: 1 CPU; node 3: 2 CPUs and 2 logical GPUs (no real GPU: Ray only counts
  them), which exercises the GPU scheduling path: one cell per GPU at once, each cell process
  seeing only its own GPU index.
- A cell's Ray worker killed mid-cell: the cell is submitted again and the grid completes (a whole
  node lost: tests/test_ray_launcher_node_loss.py).
"""

import os
import signal
import subprocess
import sys
import time

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (the ray extra: pip install "
                                        "'dcgan-bench[ray]'; tox -e py installs it)")

from pace import load_average, pace, usable_cores  # noqa: E402
from raycluster import (  # noqa: E402
    ROOT,
    cell_processes,
    cmdline,
    parent_pid,
    started_cluster,
    summary,
    wait_for_training,
)

from bench.analysis.results import load_results  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]
SMOKE = ROOT / "runs" / "grids" / "smoke.toml"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with started_cluster(tmp_path_factory.mktemp("ray-home"), ("--num-cpus=1", "--num-gpus=0"),
                         ("--num-cpus=1", "--num-gpus=0"),
                         ("--num-cpus=2", "--num-gpus=2")) as c:
        yield c


def test_smoke_grid_on_ray_matches_the_local_backend(cluster, tmp_path):
    local = subprocess.run([sys.executable, "-m", "bench", "grid", str(SMOKE), "--out",
                            str(tmp_path / "local")], cwd=ROOT, capture_output=True, text=True)
    assert local.returncode == 0, local.stdout + local.stderr
    on_ray = cluster.grid(SMOKE, tmp_path / "ray")
    assert on_ray.returncode == 0, on_ray.stdout + on_ray.stderr
    a, b = load_results([tmp_path / "local"]), load_results([tmp_path / "ray"])
    assert list(a.columns) == list(b.columns)
    assert a[["cell_id", "status"]].values.tolist() == b[["cell_id", "status"]].values.tolist()
    for cell in b["cell_id"]:
        cell_dir = tmp_path / "ray" / cell
        # the whole record came back: steps, evaluations, samples, environment, log
        for name in ("config.json", "summary.json", "steps.jsonl", "evals.jsonl", "samples.png",
                     "env.json"):
            assert (cell_dir / name).is_file(), name
        assert (tmp_path / "ray" / "logs" / f"{cell}.log").is_file()
        record = summary(tmp_path / "ray", cell)
        node_id, node = record["placement"]["node_id"], record["placement"]["node"]
        assert len(node_id) == 56 and node != "?"  # Ray's node id and the node's address
        assert record["attempts"] == [{"attempt": 1, "node": f"{node} (node {node_id[:8]})"}]
    assert "running" in on_ray.stderr  # cells running per node, said as they change


SLOW_CELLS = """
name = "ray kill test"
data = "mnist-5k"
[axes]
seeds = [0, 1]
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


def test_a_killed_ray_worker_is_retried_and_the_grid_completes(cluster, tmp_path):
    spec = tmp_path / "kill.toml"
    steps = pace().steps_for(20)  # about 20 s of training here: killed well before its end
    spec.write_text(SLOW_CELLS.format(steps=steps))
    run = tmp_path / "run"
    grid = cluster.grid(spec, run, wait=False)
    deadline = time.time() + pace().timeout(steps, cells=2)
    victims = []
    while time.time() < deadline and not victims:
        for pid in cell_processes():
            # the cell process's parent is the Ray worker running the task: kill that one, once
            # the cell is training (mid-cell)
            parent = parent_pid(pid)
            if "ray::" in cmdline(parent) and wait_for_training(pid, deadline):
                os.kill(parent, signal.SIGKILL)
                victims.append(parent)
                break
        time.sleep(0.5)
    assert victims, "no cell process showed up"
    out, _ = grid.communicate(timeout=pace().timeout(steps, cells=4))
    assert grid.returncode == 0, out
    statuses = {c: summary(run, c)["status"] for c in ("cpu_float32_xla-off_bs32_seed0",
                                                        "cpu_float32_xla-off_bs32_seed1")}
    assert set(statuses.values()) == {"ok"}
    attempts = [summary(run, c)["attempts"] for c in statuses]
    retried = [a for a in attempts if len(a) == 2]
    assert len(retried) == 1, attempts
    assert "WorkerCrashedError" in retried[0][0]["lost"] or "died" in retried[0][0]["lost"]
    assert retried[0][1]["attempt"] == 2


GPU_CELLS = """
name = "ray gpu scheduling"
data = "mnist-5k"
[axes]
seeds = [0, 1]
batch_sizes = [32]
devices = ["gpu"]
xla = [false]
precision = ["float32"]
[budget]
steps = 20
log_every = 10
[eval]
final_n = 0
"""


def test_gpu_cells_get_one_logical_gpu_each(cluster, tmp_path):
    spec = tmp_path / "gpu.toml"
    spec.write_text(GPU_CELLS)
    run = tmp_path / "run"
    cluster.grid(spec, run)
    placements = [summary(run, f"gpu_float32_xla-off_bs32_seed{s}")["placement"] for s in (0, 1)]
    # the cluster's two logical GPUs, one per cell: each cell process saw only its own index
    assert sorted(p["cuda_visible_devices"] for p in placements) == ["0", "1"]
    assert all(len(p["gpu_ids"]) == 1 for p in placements)


def test_without_ray_the_error_names_the_extra(tmp_path):
    blocked = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'ray':\n"
        "            raise ImportError('ray is blocked in this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from bench.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.run([sys.executable, "-c", blocked, "grid", str(SMOKE), "--out",
                           str(tmp_path / "run"), "--launcher", "ray"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "pip install 'dcgan-bench[ray]'" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "run").exists()


RESUME_CELLS = """
name = "ray resume test"
data = "mnist-5k"
[eval]
final_n = 0
""" + "".join(f"""
[[parts]]
name = "{name}"
[parts.axes]
seeds = [0]
batch_sizes = [32]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[parts.budget]
steps = {steps}
log_every = 10
""" for name, steps in (("quick", 30), ("long", "LONG_STEPS")))


def test_an_interrupted_ray_grid_resumes_without_redoing_finished_cells(cluster, tmp_path):
    spec = tmp_path / "resume.toml"
    # the long cell trains about 30 s more than the quick one here: still running when stopped
    long_steps = 30 + pace().steps_for(30)
    spec.write_text(RESUME_CELLS.replace("LONG_STEPS", str(long_steps)))
    run = tmp_path / "run"
    quick, long = "quick_cpu_float32_xla-off_bs32_seed0", "long_cpu_float32_xla-off_bs32_seed0"
    grid = cluster.grid(spec, run, wait=False)
    deadline = time.time() + pace().timeout(30, cells=2)
    loads = []
    while time.time() < deadline and _status(run, quick) in (None, "running"):
        loads.append(load_average())
        time.sleep(0.5)
    if _status(run, quick) in (None, "running") and max(loads) > usable_cores():
        grid.kill()
        grid.communicate()
        pytest.skip(f"machine too busy to judge: load average up to {max(loads):.1f} on "
                    f"{usable_cores()} usable cores, and the quick cell not done in the "
                    f"{pace().timeout(30, cells=2):.0f} s the session's measured pace allows")
    assert summary(run, quick)["status"] == "ok"
    grid.send_signal(signal.SIGINT)  # Ctrl-C on the driver, the long cell still training
    out, _ = grid.communicate(timeout=pace().timeout())
    assert grid.returncode == 130, out
    assert not (run / long / "summary.json").exists()
    kept = (run / quick / "summary.json").stat().st_mtime_ns
    resumed = cluster.grid(spec, run, "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "kept from the earlier run" in resumed.stderr
    assert (run / quick / "summary.json").stat().st_mtime_ns == kept  # not run again
    assert summary(run, long)["status"] == "ok"


def _status(run, cell):
    """A cell's status as its summary says it now; None before it has one (or mid-write)."""
    try:
        return summary(run, cell).get("status")
    except (OSError, ValueError):
        return None
