"""A real Ray cluster on the loopback address for the Ray tests: nodes started with `ray start`,
all on this machine, and the grid driven against it as a user would (`dcgan-bench grid
--launcher ray --address ...`).

`ray stop --force` ends every Ray process on the machine, so one cluster runs at a time: each test
module that needs one starts its own in a module-scoped fixture.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from pace import pace
from terminal import ctrl_c_as_in_a_terminal

ROOT = Path(__file__).resolve().parent.parent
RAY = str(Path(sys.executable).parent / "ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A started cluster: its address, and the environment every process talking to it gets."""

    def __init__(self, home: Path):
        # Its own HOME: a ~/.ray/auth_token left by another Ray (`ray.init()` writes one) would
        # otherwise make the nodes refuse each other.
        self.env = {**os.environ, "HOME": str(home), "RAY_USAGE_STATS_ENABLED": "0"}
        self.address = f"127.0.0.1:{_free_port()}"

    def ray(self, *args):
        proc = subprocess.run([RAY, *args], capture_output=True, text=True, env=self.env,
                              timeout=pace().timeout(factor=12))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    def add_node(self, *resources):
        """Start one more node, e.g. add_node("--num-cpus=1", "--num-gpus=0")."""
        self.ray("start", f"--address={self.address}", "--node-ip-address=127.0.0.1",
                 "--disable-usage-stats", *resources)

    def grid(self, spec, out, *extra, wait=True):
        """`dcgan-bench grid SPEC --out OUT --launcher ray --address ADDR EXTRA...`: the finished
        process, or with wait=False the running one (output on its stdout)."""
        cmd = [sys.executable, "-m", "bench", "grid", str(spec), "--out", str(out),
               "--launcher", "ray", "--address", self.address, *extra]
        if not wait:
            return subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True,
                                    preexec_fn=ctrl_c_as_in_a_terminal)  # it may get a Ctrl-C
        return subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=pace().timeout(400, cells=4))


@contextlib.contextmanager
def started_cluster(home: Path, head: tuple, *nodes: tuple):
    """A head with the `head` resources and one node per entry of `nodes`; stopped on exit."""
    cluster = Cluster(home)
    port = cluster.address.split(":")[1]
    try:
        cluster.ray("start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
                    "--disable-usage-stats", "--include-dashboard=false", *head)
        for resources in nodes:
            cluster.add_node(*resources)
        yield cluster
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True,
                       timeout=pace().timeout(factor=8), env=cluster.env)


def summary(run: Path, cell: str) -> dict:
    return json.loads((run / cell / "summary.json").read_text())


def cell_processes() -> list[int]:
    """Pids of running cell processes (bench.grid.worker), whichever launcher started them."""
    out = subprocess.run(["pgrep", "-f", "bench.grid.worker"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[1])


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def cell_dir_of(pid: int) -> Path:
    """The cell directory a cell process (`python -m bench.grid.worker CELL_DIR CONFIG`) writes."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return Path(argv[argv.index(b"bench.grid.worker") + 1].decode())


def wait_for_training(pid: int, deadline: float) -> bool:
    """Whether the cell process got as far as its first log window (past TensorFlow's import,
    into training) before `deadline`; False if it ended first."""
    while time.time() < deadline:
        try:
            if (cell_dir_of(pid) / "steps.jsonl").exists():
                return True
        except (OSError, ValueError):
            return False  # the process is gone
        time.sleep(0.2)
    return False
