"""A device's peak arithmetic rate for the precision a cell ran, and where the number comes from.

Model FLOP utilisation (MFU) is a cell's analytic FLOPs a second (bench.cell.flops) over this
peak. The peak is the datasheet's or the instruction set's, never a measurement: it says how far
the step is from what the silicon could do, and is the same for every run on one device.

- **CPU**: usable cores x clock x FLOPs a cycle a core. FLOPs a cycle come from the vector width
  and the FMA pipes: AVX-512 with two FMA pipes 64 (float32), AVX2 with FMA 32 (two 256-bit
  pipes), AVX without FMA 16, SSE 8. AMD's Zen 4 (family 25 with AVX-512) runs AVX-512 on its two
  256-bit pipes: 32. The clock is the CPU's maximum where Linux says it (cpufreq), else the
  clock /proc/cpuinfo reported when the cell started (a virtual machine's is its nominal one).
  bfloat16 instructions double the float32 rate (avx512_bf16: two products a lane); AMX does
  1,024 bfloat16 multiply-adds a cycle a core. Without them bfloat16 and float16 are computed in
  float32: the float32 peak.
- **GPU**: NVIDIA's datasheet figures, dense (no structured sparsity), for the precision the
  cell's arithmetic ran in: float32 with TF32 on (TensorFlow's default on Ampere and newer, and
  JAX's default precision for float32 convolutions there) at the TF32 tensor-core rate, TF32 off
  at the CUDA-core float32 rate, mixed precisions at the float16/bfloat16 tensor-core rate. A MIG
  slice is given the whole GPU's peak (its MFU is a lower bound), and a GPU not in the table has
  no peak: the record says so rather than guess.
"""

import re

# TFLOP/s, dense, from each GPU's NVIDIA datasheet: float32 (CUDA cores), TF32, float16,
# bfloat16 (tensor cores). None: no tensor cores for that format (computed at the float32 rate).
# Matched in order against the device name: the more specific names first.
GPU_PEAKS_TFLOPS = (
    ("H100 PCIe", {"float32": 51.2, "tf32": 378.0, "float16": 756.0, "bfloat16": 756.0}),
    ("H200", {"float32": 66.9, "tf32": 494.7, "float16": 989.4, "bfloat16": 989.4}),
    ("H100", {"float32": 66.9, "tf32": 494.7, "float16": 989.4, "bfloat16": 989.4}),
    ("A100", {"float32": 19.5, "tf32": 156.0, "float16": 312.0, "bfloat16": 312.0}),
    ("L40S", {"float32": 91.6, "tf32": 183.0, "float16": 362.0, "bfloat16": 362.0}),
    ("A10", {"float32": 31.2, "tf32": 62.5, "float16": 125.0, "bfloat16": 125.0}),
    ("L4", {"float32": 30.3, "tf32": 60.0, "float16": 121.0, "bfloat16": 121.0}),
    ("V100", {"float32": 15.7, "tf32": None, "float16": 125.0, "bfloat16": None}),
    ("T4", {"float32": 8.1, "tf32": None, "float16": 65.0, "bfloat16": None}),
)
AMX_BF16_FLOPS_PER_CYCLE = 2 * 1024


def device_peak(device_kind: str, precision: str, *, machine: dict, gpu: dict | None,
                tf32: dict | None) -> dict:
    """{flops_per_sec, arithmetic, source}: the peak of the device a cell ran on, for the format
    its arithmetic ran in; flops_per_sec None (with the reason in `source`) where unknown."""
    if device_kind == "cpu":
        return cpu_peak(precision, machine)
    return gpu_peak(precision, gpu or {}, tf32 or {})


def cpu_flops_per_cycle(cpu: dict) -> tuple[int | None, str]:
    """float32 FLOPs a cycle a core, and the instruction set they come from (None where no x86
    vector instruction set was read: an ARM core's width is not in its flags)."""
    flags = set(cpu.get("flags") or ())
    zen4 = cpu.get("vendor") == "AuthenticAMD" and str(cpu.get("family")) == "25"
    if "avx512f" in flags:
        return (32, "AVX-512 on two 256-bit FMA pipes (Zen 4)") if zen4 else \
            (64, "AVX-512, two FMA pipes")
    if {"avx2", "fma"} <= flags:
        return 32, "AVX2, two 256-bit FMA pipes"
    if "avx" in flags:
        return 16, "AVX without FMA"
    if "sse4_2" in flags:
        return 8, "SSE"
    return None, "no x86 vector instruction set read"


def cpu_clock_mhz(machine: dict) -> tuple[float | None, str]:
    if machine.get("max_clock_mhz"):
        return float(machine["max_clock_mhz"]), "cpufreq's maximum"
    mhz = (machine.get("cpu") or {}).get("mhz")
    return (float(mhz), "/proc/cpuinfo's, when the cell started") if mhz else \
        (None, "no clock known")


def cores_for_peak(machine: dict) -> float:
    """The cores a process may use, capped by a CPU quota."""
    cores = machine.get("usable_cores") or machine.get("cpu_count") or 1
    quota = machine.get("cgroup_cpu_quota")
    return min(cores, quota) if quota else cores


def cpu_peak(precision: str, machine: dict) -> dict:
    cpu = machine.get("cpu") or {}
    per_cycle, isa = cpu_flops_per_cycle(cpu)
    clock, clock_from = cpu_clock_mhz(machine)
    flags = set(cpu.get("flags") or ())
    arithmetic = "float32"
    if precision == "mixed_bfloat16" and "amx_bf16" in flags:
        per_cycle, isa, arithmetic = AMX_BF16_FLOPS_PER_CYCLE, "AMX bfloat16", "bfloat16"
    elif precision == "mixed_bfloat16" and "avx512_bf16" in flags and per_cycle:
        per_cycle, isa, arithmetic = 2 * per_cycle, f"{isa}, avx512_bf16 (2x)", "bfloat16"
    cores = cores_for_peak(machine)
    if clock is None or per_cycle is None:
        return {"flops_per_sec": None, "arithmetic": arithmetic,
                "source": f"CPU: {isa}; {clock_from}" if per_cycle is None else
                f"CPU: {isa}, but {clock_from}"}
    return {"flops_per_sec": cores * clock * 1e6 * per_cycle, "arithmetic": arithmetic,
            "source": f"CPU: {cores:g} cores x {clock:.0f} MHz ({clock_from}) x "
                      f"{per_cycle} FLOPs a cycle ({isa})"}


def gpu_arithmetic(precision: str, tf32: dict) -> str:
    """The format a GPU cell's convolutions ran in."""
    if precision != "float32":
        return precision.removeprefix("mixed_")
    if tf32.get("enabled") is None:  # JAX: float32 convolutions at default precision use TF32
        return "tf32"
    return "tf32" if tf32["enabled"] else "float32"


def gpu_peak(precision: str, gpu: dict, tf32: dict) -> dict:
    name = gpu.get("name") or ""
    arithmetic = gpu_arithmetic(precision, tf32)
    for key, peaks in GPU_PEAKS_TFLOPS:
        if re.search(rf"\b{re.escape(key)}\b", name):
            tflops = peaks[arithmetic] if peaks[arithmetic] is not None else peaks["float32"]
            used = arithmetic if peaks[arithmetic] is not None else "float32"
            mig = " (a MIG slice: the whole GPU's peak)" if gpu.get("mig") else ""
            return {"flops_per_sec": tflops * 1e12, "arithmetic": used,
                    "source": f"GPU: {key} datasheet, {used} dense, {tflops:g} TFLOP/s{mig}"}
    return {"flops_per_sec": None, "arithmetic": arithmetic,
            "source": f"GPU: no datasheet peak here for {name or 'an unnamed GPU'}"}


def utilisation(achieved_flops_per_sec: float | None, peak: dict | None) -> float | None:
    """Achieved over peak FLOPs a second (None where either is unknown)."""
    top = (peak or {}).get("flops_per_sec")
    return achieved_flops_per_sec / top if achieved_flops_per_sec and top else None


def utilisation_fields(summary: dict, peak: dict | None) -> dict:
    """A cell summary's MFU, on the full and on the unpadded count of FLOPs."""
    achieved = summary.get("achieved_flops_per_sec")
    full, unpadded = summary.get("flops_per_image"), summary.get("flops_per_image_unpadded")
    mfu = utilisation(achieved, peak)
    return {"peak_flops_per_sec": (peak or {}).get("flops_per_sec"),
            "mfu": mfu, "mfu_unpadded": mfu * unpadded / full if mfu and unpadded else None}

