"""The Ray launcher: each cell a Ray task on a cluster; records come back to the driver.

A cell's task asks for the cell's resources: one GPU for a GPU cell (Ray sets the task's
CUDA_VISIBLE_DEVICES to its GPU, and the cell process sees only that one); for a CPU cell,
`cpus_per_cell` CPUs (default: those of the smallest node), with TensorFlow's thread pools sized
to them, so two CPU cells on one node never both think they own every core. The task runs the
same worker as the local launcher (bench.grid.worker) in a fresh process, in a temporary directory
on its node, and returns the cell's whole directory and log as one archive; the driver unpacks it
into the run directory. No shared file system is assumed; every node needs dcgan-bench installed
(with the `ray` extra, and the `gpu` extra on GPU nodes).

A task lost to the system (its Ray worker process or its node died) is submitted again, up to
`retries` times, and each lost attempt is recorded in the cell's summary (`attempts`). A cell
that fails by itself (divergence, an exception, a crash of the cell process) comes back as a
record saying so and is not retried.
"""

import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench import schema
from bench.cell.devices import PINNED_ENV
from bench.errors import BenchError
from bench.grid.cellrecord import (
    add_to_summary,
    finished_status,
    log_path,
    record_unfinished,
    set_aside,
)
from bench.grid.worker import LAUNCHED_ENV

RAY_MISSING = ("--launcher ray needs Ray, an optional extra: pip install 'dcgan-bench[ray]' "
               "(on every node of the cluster)")
DEFAULT_RETRIES = 2
# Failures of the system, not of the cell: the task is submitted again.
SYSTEM_FAILURES = ("WorkerCrashedError", "NodeDiedError", "LocalRayletDiedError",
                   "ObjectLostError", "OwnerDiedError", "RaySystemError")


def import_ray():
    try:
        import ray
    except ImportError:
        raise BenchError(RAY_MISSING) from None
    return ray


def _die_with_parent():
    """In the cell process: receive SIGKILL when the Ray worker that started it dies, so a lost
    task never leaves a cell training on alone."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


CELL_TMP_PREFIX = "dcgan-bench-cell-"


def _cell_tmp_dir() -> Path:
    """A fresh temporary directory for one cell on this node, named after the Ray worker's pid
    (dcgan-bench-cell-<pid>-<random>).

    A task whose worker or node was lost never removed its directory (weights, samples, event
    files), so each new one first removes those whose worker is dead: a node that loses tasks
    does not fill its disk.
    """
    for old in Path(tempfile.gettempdir()).glob(f"{CELL_TMP_PREFIX}*-*"):
        owner = old.name[len(CELL_TMP_PREFIX):].split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{CELL_TMP_PREFIX}{os.getpid()}-"))


def _pack(directory: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(directory, arcname=".")
    return buf.getvalue()


def unpack_cell_archive(archive: bytes, run_dir: Path, cell_id: str) -> list[str]:
    """Unpack a node's archive of one cell into the run directory: only that cell's directory
    and its log (a node's archive, however made, can overwrite neither the manifest nor another
    cell's record); the names of the members left out, which the cell's record then names."""
    log = log_path(Path("."), cell_id).as_posix()
    allowed = {".", cell_id, log.rsplit("/", 1)[0], log}
    kept, refused = [], []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name[2:] if member.name.startswith("./") else member.name
            if name in allowed or name.startswith(f"{cell_id}/"):
                kept.append(member)
            else:
                refused.append(member.name)
        # filter="data": no absolute paths, no `..`, no links out of the run, no devices
        tar.extractall(run_dir, members=kept, filter="data")
    return refused


def run_cell_on_node(cell_id: str, config_json: str, cpus, board=None) -> dict:
    """The Ray task: one cell in a fresh process on this node; its directory and log, packed."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    if board is not None:
        board.started.remote(cell_id, node)
    tmp = _cell_tmp_dir()
    try:
        env = {**os.environ, LAUNCHED_ENV: repr(time.time())}
        gpu_ids = [str(g) for g in ray.get_gpu_ids()]
        if gpu_ids:
            env.update(CUDA_VISIBLE_DEVICES=",".join(gpu_ids), **{PINNED_ENV: "1"})
        if cpus:
            # A cell's thread pools sized to the CPUs its task holds, GPU cells included: this
            # model's GPU steps take milliseconds and are host-bound, and several cells each
            # sizing its pools to every core would take turns on them.
            env.update(TF_NUM_INTRAOP_THREADS=str(int(cpus)), TF_NUM_INTEROP_THREADS="1",
                       OMP_NUM_THREADS=str(int(cpus)))
        log_path(tmp, cell_id).parent.mkdir()
        with open(log_path(tmp, cell_id), "w") as log:
            code = subprocess.Popen(
                [sys.executable, "-m", "bench.grid.worker", str(tmp / cell_id), config_json],
                stdout=log, stderr=subprocess.STDOUT, env=env,
                preexec_fn=_die_with_parent).wait()
        placement = {"launcher": "ray", "node_id": node, "gpu_ids": gpu_ids, "cpus": cpus,
                     "cuda_visible_devices": env.get("CUDA_VISIBLE_DEVICES"),
                     "task_pid": os.getpid()}
        return {"archive": _pack(tmp), "exit_code": code, "placement": placement}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class ProgressBoard:
    """A Ray actor the tasks tell where they run, for the driver's running-per-node line."""

    def __init__(self):
        self.running = {}

    def started(self, cell_id, node):
        self.running[cell_id] = node

    def finished(self, cell_id):
        self.running.pop(cell_id, None)

    def nodes(self) -> dict:
        return dict(self.running)


class RayCells:
    """Runs cells as Ray tasks (a bench.grid.launchers.Launcher); `run` returns when every cell has
    a record in the run directory."""

    def __init__(self, address=None, retries=DEFAULT_RETRIES, cpus_per_cell=None):
        self.ray = import_ray()  # a missing extra is reported before anything else happens
        self.address, self.retries, self.cpus_per_cell = address, retries, cpus_per_cell
        self.board = None

    def _connect(self):
        """Join the cluster (once): the smallest node's CPUs, the progress board, node names.
        Deferred to the first use, so a grid refused for bad input never starts Ray."""
        if self.board is not None:
            return
        if not self.ray.is_initialized():
            self.ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                          configure_logging=False)
        # A node with no CPUs (a head kept free of work, say) runs no cell: not the smallest node.
        node_cpus = [int(n["Resources"].get("CPU", 0)) for n in self.ray.nodes() if n.get("Alive")]
        if not any(node_cpus):
            raise BenchError("the Ray cluster has no node with CPUs, so no cell can run on it")
        self.cpus_per_cell = self.cpus_per_cell or min(c for c in node_cpus if c > 0)
        # a GPU cell's share of its node's CPUs: the CPUs of the GPU nodes over their GPUs
        shares = [int(n["Resources"].get("CPU", 0)) // int(n["Resources"]["GPU"])
                  for n in self.ray.nodes() if n.get("Alive") and n["Resources"].get("GPU")]
        self.gpu_cell_cpus = max(1, min(shares)) if shares else 1
        self.concurrent: dict[str, int] = {}  # cell id -> the most cells on its node at once
        self.failures = tuple(getattr(self.ray.exceptions, name) for name in SYSTEM_FAILURES
                              if hasattr(self.ray.exceptions, name))
        # The board lives on the driver's own node: the loss of a worker node must not take the
        # progress line (and with it the driver) down.
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = NodeAffinitySchedulingStrategy(self.ray.get_runtime_context().get_node_id(),
                                              soft=False)
        # node id -> the address it was started with (several nodes may share one machine)
        self.addresses = {n["NodeID"]: n["NodeManagerAddress"] for n in self.ray.nodes()}
        self.board = self.ray.remote(num_cpus=0)(ProgressBoard).options(
            scheduling_strategy=here).remote()

    def _node(self, node_id) -> str:
        if node_id not in self.addresses:
            self.addresses.update({n["NodeID"]: n["NodeManagerAddress"] for n in self.ray.nodes()})
        return f"{self.addresses.get(node_id, '?')} (node {node_id[:8]})"

    def gpus(self) -> int:
        """Logical GPUs in the whole cluster: what GPU cells may ask for."""
        self._connect()
        return int(self.ray.cluster_resources().get("GPU", 0))

    def parallel(self, cells) -> None:
        """The cluster places cells on its nodes: no estimate from here."""
        return None

    def _submit(self, cell):
        gpu = cell.config.device != "cpu"
        task = self.ray.remote(run_cell_on_node).options(
            num_cpus=self.gpu_cell_cpus if gpu else self.cpus_per_cell, num_gpus=1 if gpu else 0,
            max_retries=0,
            name=f"dcgan-bench:{cell.id}")
        return task.remote(cell.id, json.dumps(cell.config.to_dict()),
                           self.gpu_cell_cpus if gpu else self.cpus_per_cell, self.board)

    def refusal(self, cells) -> str | None:
        packed = [c.id for c in cells if c.config.seeds_per_process > 1]
        if packed:
            return (f"seeds_per_process > 1 ({len(packed)} cells, {packed[0]} the first): seeds "
                    "packed in one program run on the local launcher only; run them without "
                    "--launcher ray, or with seeds_per_process = 1")
        return None

    def run(self, cells, run_dir: Path, bar, finished):
        self._connect()
        attempts = {cell.id: [] for cell in cells}
        pending = {self._submit(cell): cell for cell in cells}
        for cell in cells:
            bar.cell_started(cell)
        try:
            while pending:
                done, _ = self.ray.wait(list(pending), num_returns=1, timeout=1.0)
                running = self.ray.get(self.board.nodes.remote())
                per_node = {}
                for node in running.values():
                    per_node[node] = per_node.get(node, 0) + 1
                for cell_id, node in running.items():
                    self.concurrent[cell_id] = max(self.concurrent.get(cell_id, 1), per_node[node])
                bar.nodes({cell: self._node(node) for cell, node in running.items()})
                for ref in done:
                    cell = pending.pop(ref)
                    self.board.finished.remote(cell.id)
                    try:
                        result = self.ray.get(ref)
                    except self.failures as e:
                        node = running.get(cell.id)  # where it was last seen running, if at all
                        attempts[cell.id].append({"attempt": len(attempts[cell.id]) + 1,
                                                  "node": self._node(node) if node else "?",
                                                  "lost": f"{type(e).__name__}: {str(e)[:500]}"})
                        if len(attempts[cell.id]) <= self.retries:
                            pending[self._submit(cell)] = cell
                            continue
                        result = None
                    finished(cell, functools.partial(self._record, cell, run_dir, result,
                                                       attempts[cell.id]))
        finally:
            for ref in pending:
                self.ray.cancel(ref, force=True)

    def _record(self, cell, run_dir: Path, result, attempts) -> str:
        """Unpack a task's cell directory and log into the run directory; the cell's status."""
        cell_dir = run_dir / cell.id
        set_aside(cell_dir)  # an earlier attempt, kept apart
        if result is None:
            record_unfinished(cell_dir, f"lost {len(attempts)} times on the cluster "
                                        f"(retries: {self.retries})", "")
            add_to_summary(cell_dir, attempts=attempts)
            return schema.STATUS_FAILED
        refused = unpack_cell_archive(result["archive"], run_dir, cell.id)
        status = finished_status(cell_dir, f"exit code {result['exit_code']}",
                                 log_path(run_dir, cell.id), result["exit_code"])
        if refused:  # a cell whose node sent more than its own is not trusted as ok
            add_to_summary(cell_dir, status=schema.STATUS_FAILED,
                           reason=f"its node's archive held files outside the cell, not "
                                  f"unpacked: {', '.join(refused[:5])}")
            status = schema.STATUS_FAILED
        placement = {**result["placement"],
                     "node": self.addresses.get(result["placement"]["node_id"], "?")}
        add_to_summary(cell_dir, placement=placement,
                       concurrent_cells=self.concurrent.get(cell.id, 1),
                       attempts=attempts + [{"attempt": len(attempts) + 1,
                                             "node": self._node(placement["node_id"])}])
        return status
