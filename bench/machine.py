"""Which machine a number came from: CPU identity, the instruction sets that set TensorFlow's speed,
the cores a process may use, and a short fingerprint of everything that determines speed.

Machines of one kind differ a lot: an AMD EPYC with AVX-512 and bfloat16 instructions trains the
reference DCGAN at about 900 images/s, one with AVX2 only at about 110, and both call themselves
"AMD EPYC". A throughput number means nothing without the machine it came from, so every cell's
env.json carries `machine` (bench.cell.envinfo) and comparisons of throughput refuse two
different fingerprints (bench.analysis.compare).

The fingerprint hashes only what sets speed: the CPU's vendor, family, model and stepping, the
speed-relevant instruction-set flags, the cores this process may use and any CPU quota, and the
settings that size the thread pools and cap oneDNN (TF_NUM_*, OMP_NUM_THREADS,
ONEDNN_MAX_CPU_ISA, TF_ENABLE_ONEDNN_OPTS); on a GPU, the device too (added by the cell). It is
computed without TensorFlow, so the grid knows it before a cell runs. The clock and the thread
pools' sizes as TensorFlow reports them are recorded beside it but kept out; the load, which
changes by the second, is recorded with each log window (bench.cell.contention).

Also here: whether a precision runs natively on a device (`precision_support`): `mixed_bfloat16`
on a CPU without bfloat16 instructions and `mixed_float16` on any CPU are emulated, 9-10 times
slower than float32. Nothing here imports TensorFlow.
"""

import hashlib
import json
import os
import platform
from pathlib import Path

# Instruction-set flags (as /proc/cpuinfo names them) that change how fast TensorFlow's CPU
# kernels (oneDNN, Eigen) run.
SPEED_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw",
               "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile",
               "amx_bf16", "amx_int8", "amx_fp16")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# oneDNN's ISA caps (ONEDNN_MAX_CPU_ISA) under which it uses no bfloat16 instruction.
ONEDNN_NO_BF16_ISAS = ("SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX512_CORE", "AVX512_CORE_VNNI")
# Environment settings that change TensorFlow's CPU speed; part of the fingerprint.
SPEED_ENV = ("ONEDNN_MAX_CPU_ISA", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS",
             "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "CUDA_VISIBLE_DEVICES")
FINGERPRINT_CHARS = 12
CPUINFO = Path("/proc/cpuinfo")

# Measured on this project's machines (README, "One machine is not every machine"): float32
# against emulated precision at batch 64, the same process and load.
EMULATION_SLOWDOWN = {"mixed_bfloat16": 9.0, "mixed_float16": 9.3}
NATIVE, EMULATED, UNKNOWN = "native", "emulated", "unknown"


def cpuinfo_to_cpu(text: str) -> dict:
    """The first processor of /proc/cpuinfo: vendor, family, model, stepping, model name and the
    speed-relevant flags it has (x86 names; other architectures give what they have)."""
    fields = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break  # the first processor only: all cores of these machines are alike
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    return {"vendor": fields.get("vendor_id") or fields.get("CPU implementer"),
            "family": fields.get("cpu family"), "model": fields.get("model") or
            fields.get("CPU part"), "stepping": fields.get("stepping"),
            "model_name": fields.get("model name"),
            # the clock when read: a virtual machine's nominal one; not part of the fingerprint
            "mhz": _float_or_none(fields.get("cpu MHz")),
            "flags": [f for f in SPEED_FLAGS if f in flags]}


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _read(path) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _own_cgroup(controller: str | None) -> str:
    """This process's cgroup path for a v1 controller ("cpu"), or the v2 path (None)."""
    for line in (_read("/proc/self/cgroup") or "").splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller is None and controllers == "") or controller in controllers.split(","):
            return path.lstrip("/")
    return ""


def cgroup_cpu_quota() -> float | None:
    """CPUs this process's cgroup may use (quota / period), or None when unlimited or unknown.
    Its own cgroup first (a job limited inside a machine), then the root one (a container)."""
    for base in dict.fromkeys([_own_cgroup(None), ""]):
        v2 = _read(Path("/sys/fs/cgroup", base, "cpu.max"))  # "max 100000" or "200000 100000"
        if v2:
            quota, _, period = v2.partition(" ")
            return None if quota == "max" else round(int(quota) / int(period), 3)
    for base in dict.fromkeys([_own_cgroup("cpu"), ""]):
        quota = _read(Path("/sys/fs/cgroup/cpu", base, "cpu.cfs_quota_us"))
        period = _read(Path("/sys/fs/cgroup/cpu", base, "cpu.cfs_period_us"))
        if quota and period and int(quota) > 0:
            return round(int(quota) / int(period), 3)
    return None


def max_clock_mhz() -> float | None:
    khz = _read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    return int(khz) / 1000 if khz and khz.isdigit() else None


def usable_core_ids() -> set[int]:
    """The CPUs this process may run on (its affinity mask)."""
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return set(range(os.cpu_count() or 1))


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask), not the machine's count."""
    return len(usable_core_ids())


def speed_env() -> dict:
    return {k: os.environ[k] for k in SPEED_ENV if k in os.environ}


def host_machine(cpuinfo_text: str | None = None) -> dict:
    """This host as a machine record, without its fingerprint (see `with_fingerprint`)."""
    text = cpuinfo_text if cpuinfo_text is not None else (_read(CPUINFO) or "")
    cpu = cpuinfo_to_cpu(text)
    if not cpu["model_name"]:
        cpu["model_name"] = platform.processor() or platform.machine()
    return {"arch": platform.machine(), "cpu": cpu, "usable_cores": usable_cores(),
            "cpu_count": os.cpu_count(), "cgroup_cpu_quota": cgroup_cpu_quota(),
            "max_clock_mhz": max_clock_mhz(), "env": speed_env()}


def fingerprint_fields(machine: dict) -> dict:
    """What of a machine record determines speed: the fields the fingerprint hashes."""
    cpu = machine.get("cpu") or {}
    fields = {"arch": machine.get("arch"),
              **{f"cpu_{k}": cpu.get(k) for k in ("vendor", "family", "model", "stepping",
                                                  "model_name", "flags")},
              "usable_cores": machine.get("usable_cores"),
              "cgroup_cpu_quota": machine.get("cgroup_cpu_quota"),
              "env": machine.get("env") or {}}
    if machine.get("gpu"):
        fields["gpu"] = machine["gpu"]
    return fields


def fields_to_fingerprint(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[
        :FINGERPRINT_CHARS]


def with_fingerprint(machine: dict) -> dict:
    """The machine record with `fingerprint` and the `fingerprint_fields` it was made from."""
    fields = fingerprint_fields(machine)
    return {**machine, "fingerprint": fields_to_fingerprint(fields), "fingerprint_fields": fields}


def fingerprint_difference(a: dict | None, b: dict | None) -> list[str]:
    """What differs between two fingerprints' fields, as 'field: a vs b' (flags as added and
    missing); ['machine unknown'] when either side has no record (older records)."""
    if not a or not b:
        return ["machine unknown (a record from before machine fingerprints)"]
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if va == vb:
            continue
        if isinstance(va, list) and isinstance(vb, list):
            only_a, only_b = sorted(set(va) - set(vb)), sorted(set(vb) - set(va))
            out.append(f"{key}: " + "; ".join(filter(None, [
                f"only the first has {', '.join(only_a)}" if only_a else "",
                f"only the second has {', '.join(only_b)}" if only_b else ""])))
        else:
            out.append(f"{key}: {va!r} vs {vb!r}")
    return out


def onednn_bf16_capped(env: dict) -> bool:
    """oneDNN is off, or capped to an instruction set without bfloat16 instructions."""
    return env.get("TF_ENABLE_ONEDNN_OPTS") == "0" or \
        env.get("ONEDNN_MAX_CPU_ISA", "").upper() in ONEDNN_NO_BF16_ISAS


GPU_TENSOR_CORES_FROM = {"mixed_float16": (7, 0), "mixed_bfloat16": (8, 0)}


def gpu_precision_support(precision: str, compute_capability: str | None) -> dict:
    """Whether a GPU of this compute capability ("9.0") has tensor cores for `precision`."""
    if not compute_capability:
        return {"support": UNKNOWN, "why": "the GPU's compute capability was not read",
                "slowdown": None}
    have = tuple(int(x) for x in str(compute_capability).split(".")[:2])
    need = GPU_TENSOR_CORES_FROM[precision]
    if have >= need:
        return {"support": NATIVE, "why": f"compute capability {compute_capability} >= "
                f"{need[0]}.{need[1]}: tensor cores for {precision.removeprefix('mixed_')}",
                "slowdown": 1.0}
    return {"support": EMULATED, "why": f"compute capability {compute_capability} < "
            f"{need[0]}.{need[1]}: no tensor cores for {precision.removeprefix('mixed_')}",
            "slowdown": None}


def precision_support(precision: str, device: str, machine: dict) -> dict:
    """Whether `precision` runs natively on `device` of this machine: {support, why, slowdown}.

    On a CPU: float32 is native; mixed_bfloat16 only with bfloat16 instructions (avx512_bf16 or
    amx_bf16) that oneDNN may use; mixed_float16 is emulated on every CPU. On a GPU, from the
    compute capability the cell read (`machine["gpu"]`): tensor cores for float16 from 7.0 (Volta),
    for bfloat16 from 8.0 (Ampere); `unknown` where no capability was read.
    """
    if precision == "float32":
        return {"support": NATIVE, "why": "float32", "slowdown": 1.0}
    if device != "cpu":
        return gpu_precision_support(precision, (machine.get("gpu") or {}).get("compute_capability"))
    slowdown = EMULATION_SLOWDOWN[precision]
    if precision == "mixed_float16":
        return {"support": EMULATED, "why": "no CPU runs float16 arithmetic natively in "
                "TensorFlow", "slowdown": slowdown}
    flags = set((machine.get("cpu") or {}).get("flags") or ())
    if not flags & set(BF16_FLAGS):
        return {"support": EMULATED, "why": "this CPU has no bfloat16 instructions (no "
                f"{' or '.join(BF16_FLAGS)})", "slowdown": slowdown}
    if onednn_bf16_capped(machine.get("env") or {}):
        return {"support": EMULATED, "why": "oneDNN is off or capped below bfloat16 "
                f"(ONEDNN_MAX_CPU_ISA={(machine.get('env') or {}).get('ONEDNN_MAX_CPU_ISA')})",
                "slowdown": slowdown}
    return {"support": NATIVE, "why": "bfloat16 instructions: " + ", ".join(
        sorted(flags & set(BF16_FLAGS))), "slowdown": 1.0}
