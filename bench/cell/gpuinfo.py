"""What a GPU cell ran on, beyond its name: driver, compute capability, how TensorFlow's kernels
reach it, the CUDA libraries actually loaded, TF32 and MIG. And the preflight that says it aloud.

Why each matters:
- TensorFlow 2.21's wheels carry native code (SASS) for sm_60/70/80/89 and PTX for compute_90.
  A GPU whose architecture has no native code (an H100 is 9.0) gets every kernel compiled from
  PTX when the process starts: it needs a driver recent enough for that PTX (else
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION), and the first start's JIT lands in compile_seconds.
- The `gpu` extra installs CUDA and cuDNN wheels newer than the versions TensorFlow was built
  with: the versions that ran are the loaded libraries', not the build's.
- TF32: on Ampere and newer, TensorFlow runs float32 matmuls and convolutions in TensorFloat-32
  by default; a cell labelled float32 is then TF32, and mixed precision's speed-up looks smaller.
- MIG: a MIG slice is a fraction of the GPU; its numbers are the slice's.

On a CPU cell every GPU field is null, and TF32 is "not applicable".
"""

import importlib.metadata
import os
import re
import subprocess
from pathlib import Path

# Shared libraries whose loaded version can change a number, as they appear in /proc/self/maps.
CUDA_LIBRARIES = ("libcudart", "libcublas", "libcublasLt", "libcudnn", "libcufft", "libcusolver",
                  "libnccl", "libnvrtc", "libnvJitLink")
GPU_FIELDS = ("name", "compute_capability", "driver", "built_for", "reached_by", "ptx_jit",
              "loaded_libraries", "mig", "cuda_visible_devices")


def build_archs(build_info: dict) -> list[str]:
    """The architectures TensorFlow's build carries code for: ['sm_60', ..., 'compute_90']."""
    found = build_info.get("cuda_compute_capabilities") or []
    return [str(a) for a in found]


ARCH = re.compile(r"^(sm|compute)_(\d+)(\d)[a-z]?$")


def _arch(name: str):
    """('sm', 8, 9) for 'sm_89'; None for what is not an architecture name."""
    match = ARCH.match(name)
    return (match.group(1), int(match.group(2)), int(match.group(3))) if match else None


def reached_by(compute_capability: tuple[int, int], archs: list[str]) -> tuple[str, bool]:
    """How TensorFlow's kernels reach a GPU of this compute capability: native code for an
    sm_XY of its major version with Y <= its minor (binary compatible within a major version),
    else PTX of a compute_XY not above it, JIT-compiled by the driver. (description, ptx_jit)."""
    major, minor = compute_capability
    parsed = [(a, _arch(a)) for a in archs if _arch(a)]
    native = [a for a, (kind, x, y) in parsed if kind == "sm" and x == major and y <= minor]
    if native:
        return f"native code ({max(native)})", False
    ptx = [(x, y, a) for a, (kind, x, y) in parsed if kind == "compute" and (x, y) <= (major, minor)]
    if ptx:
        return f"PTX JIT from {max(ptx)[2]}: compiled by the driver at start-up", True
    return "no code for this GPU in TensorFlow's build", True


def driver_version() -> str | None:
    text = _read("/proc/driver/nvidia/version")
    match = re.search(r"Kernel Module\s+([\d.]+)", text or "")
    if match:
        return match.group(1)
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else None
    except (OSError, subprocess.SubprocessError):
        return None


def loaded_libraries(maps_text: str | None = None) -> dict:
    """CUDA libraries mapped into this process: file name -> its path, and the version of the
    NVIDIA wheel that ships it where pip installed one."""
    maps = maps_text if maps_text is not None else (_read("/proc/self/maps") or "")
    out = {}
    for line in maps.splitlines():
        path = line.split()[-1] if line.split() else ""
        name = Path(path).name
        if name.startswith(CUDA_LIBRARIES) and ".so" in name and name not in out:
            out[name] = {"path": path, "wheel": _wheel_of(path)}
    return out


def _wheel_of(path: str) -> str | None:
    """`nvidia-cudnn-cu12 9.28.0.50` for a library under site-packages/nvidia/cudnn/lib."""
    match = re.search(r"/nvidia/([^/]+)/lib/", path)
    if not match:
        return None
    for suffix in ("-cu12", "-cu13", ""):
        name = f"nvidia-{match.group(1).replace('_', '-')}{suffix}"
        try:
            return f"{name} {importlib.metadata.version(name)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _read(path) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def gpu_record(tf_device: str) -> dict:
    """The GPU fields of env.json: nulls on the CPU."""
    if not tf_device.startswith("/GPU"):
        return {field: None for field in GPU_FIELDS}
    import tensorflow as tf

    index = int(tf_device.rsplit(":", 1)[1])
    details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[index])
    capability = details.get("compute_capability")
    archs = build_archs(dict(tf.sysconfig.get_build_info()))
    how, ptx = reached_by(tuple(capability), archs) if capability else (None, None)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return {"name": details.get("device_name"),
            "compute_capability": ".".join(map(str, capability)) if capability else None,
            "driver": driver_version(), "built_for": archs, "reached_by": how, "ptx_jit": ptx,
            "loaded_libraries": loaded_libraries(), "cuda_visible_devices": visible,
            "mig": bool(visible and "MIG-" in visible)}


def cuda_driver_version(smi_text: str | None = None) -> str | None:
    """The newest CUDA version the driver supports ("13.0"), from nvidia-smi's header (run here
    unless given); None where there is no NVIDIA driver."""
    if smi_text is None:
        try:
            smi_text = subprocess.run(["nvidia-smi"], capture_output=True, text=True,
                                      timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            return None
    match = re.search(r"CUDA Version:\s*([\d.]+)", smi_text or "")
    return match.group(1) if match else None


def jax_install_hint(cuda: str | None = None) -> str:
    """How to install JAX for this machine's CUDA (read here unless given): the driver's CUDA
    major version named."""
    cuda = cuda or cuda_driver_version()
    if cuda is None:
        return "no NVIDIA driver answers here (nvidia-smi): JAX sees no GPU without one"
    major = cuda.split(".")[0]
    return (f"the driver supports CUDA {cuda}: pip install 'jax[cuda{major}]' (or, without a "
            f"package index, the jax-cuda{major}-plugin and jax-cuda{major}-pjrt wheels)")


def jax_gpu_record(device) -> dict:
    """The GPU fields of a JAX cell's env.json: what JAX and the driver say of `device`."""
    capability = getattr(device, "compute_capability", None)
    try:
        memory = int(device.memory_stats()["bytes_limit"])
    except (AttributeError, KeyError, TypeError, RuntimeError):
        memory = None
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return {"name": device.device_kind, "compute_capability": str(capability) if capability else None,
            "driver": driver_version(), "cuda_driver": cuda_driver_version(),
            "memory_bytes": memory, "memory_note": "JAX's allocator limit (bytes_limit)",
            "loaded_libraries": loaded_libraries(), "cuda_visible_devices": visible,
            "mig": bool(visible and "MIG-" in visible)}


def tf32_record(tf_device: str, setting: bool | None) -> dict:
    """TF32 as the cell ran it: the configured setting, and whether TensorFlow had it on."""
    if not tf_device.startswith("/GPU"):
        return {"setting": "not applicable", "enabled": None,
                "why": "TF32 is a GPU number format (Ampere and newer); a CPU computes float32"}
    import tensorflow as tf

    return {"setting": "default" if setting is None else ("on" if setting else "off"),
            "enabled": bool(tf.config.experimental.tensor_float_32_execution_enabled())}


def preflight_warnings(record: dict) -> list[str]:
    """What a person should hear before a GPU cell's numbers are read."""
    out = []
    if record.get("ptx_jit"):
        out.append(f"{record['name']} (compute capability {record['compute_capability']}) is "
                   f"reached through {record['reached_by']}: TensorFlow's build carries "
                   f"{', '.join(record['built_for'])}. The first start compiles every kernel "
                   "(in compile_seconds), and an older driver refuses the PTX "
                   "(CUDA_ERROR_UNSUPPORTED_PTX_VERSION): driver here "
                   f"{record.get('driver') or 'unknown'}")
    if record.get("mig"):
        out.append("a MIG slice: its numbers are the slice's, not the whole GPU's")
    return out
