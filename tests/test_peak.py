"""Device peaks (bench.peak) worked by hand from the instruction sets, clocks and datasheets."""

import pytest

from bench import peak
from bench.machine import cpuinfo_to_cpu

ZEN3_AVX2 = ("vendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\n"
             "cpu MHz\t\t: 2445.412\nflags\t\t: fpu sse4_2 avx avx2 fma f16c\n")
ZEN4_AVX512 = ("vendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\ncpu MHz\t\t: 2450.000\n"
               "flags\t\t: avx avx2 fma avx512f avx512_bf16\n")
INTEL_AMX = ("vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\ncpu MHz\t\t: 2700.000\n"
             "flags\t\t: avx avx2 fma avx512f avx512_bf16 amx_tile amx_bf16\n")


def machine(cpuinfo, cores=2, quota=None, max_mhz=None):
    return {"cpu": cpuinfo_to_cpu(cpuinfo), "usable_cores": cores, "cgroup_cpu_quota": quota,
            "max_clock_mhz": max_mhz}


def test_cpu_peaks_from_vector_width_fma_pipes_and_clock():
    # AVX2 with FMA: 8 float32 lanes x 2 FLOPs a multiply-add x 2 pipes = 32 a cycle a core
    avx2 = peak.cpu_peak("float32", machine(ZEN3_AVX2))
    assert avx2["flops_per_sec"] == pytest.approx(2 * 2445.412e6 * 32)
    assert "2 cores x 2445 MHz" in avx2["source"] and avx2["arithmetic"] == "float32"
    # Zen 4 runs AVX-512 on its two 256-bit pipes: no more than AVX2's rate a cycle
    assert peak.cpu_peak("float32", machine(ZEN4_AVX512))["flops_per_sec"] == pytest.approx(
        2 * 2450e6 * 32)
    # Intel's two 512-bit pipes: 64; the maximum clock wins over the one /proc/cpuinfo read
    intel = peak.cpu_peak("float32", machine(INTEL_AMX, max_mhz=3800.0))
    assert intel["flops_per_sec"] == pytest.approx(2 * 3800e6 * 64)
    assert "3800 MHz (cpufreq's maximum)" in intel["source"]
    # a CPU quota of 1.5 cores caps the cores
    assert peak.cpu_peak("float32", machine(ZEN3_AVX2, quota=1.5))["flops_per_sec"] == \
        pytest.approx(1.5 * 2445.412e6 * 32)


def test_cpu_bfloat16_peaks_follow_the_instructions_that_run_it():
    # avx512_bf16: two products a float32 lane; AMX: 1,024 multiply-adds a cycle a core
    zen4 = peak.cpu_peak("mixed_bfloat16", machine(ZEN4_AVX512))
    assert zen4["flops_per_sec"] == pytest.approx(2 * 2450e6 * 64) and zen4["arithmetic"] == \
        "bfloat16"
    assert peak.cpu_peak("mixed_bfloat16", machine(INTEL_AMX))["flops_per_sec"] == \
        pytest.approx(2 * 2700e6 * 2048)
    # emulated (no bfloat16 instructions): the arithmetic is float32's
    emulated = peak.cpu_peak("mixed_bfloat16", machine(ZEN3_AVX2))
    assert emulated["arithmetic"] == "float32"
    assert emulated["flops_per_sec"] == pytest.approx(2 * 2445.412e6 * 32)


def test_a_cpu_without_x86_vector_flags_has_no_peak():
    arm = "CPU implementer\t: 0x41\nCPU part\t: 0xd0c\ncpu MHz\t\t: 3000.000\nFeatures\t: fp asimd sve\n"
    got = peak.cpu_peak("float32", machine(arm))
    assert got["flops_per_sec"] is None and "no x86 vector instruction set" in got["source"]


def test_no_clock_is_no_peak_and_says_why():
    no_clock = ZEN3_AVX2.replace("cpu MHz\t\t: 2445.412\n", "")
    got = peak.cpu_peak("float32", machine(no_clock))
    assert got["flops_per_sec"] is None and "no clock known" in got["source"]
    assert peak.utilisation(1e9, got) is None


@pytest.mark.parametrize("name, precision, tf32, tflops, arithmetic", [
    ("NVIDIA H200", "float32", {"enabled": True}, 494.7, "tf32"),
    ("NVIDIA H200", "float32", {"enabled": False}, 66.9, "float32"),
    ("NVIDIA H200", "float32", {"enabled": None}, 494.7, "tf32"),  # JAX's default precision
    ("NVIDIA H100 PCIe", "mixed_bfloat16", {"enabled": True}, 756.0, "bfloat16"),
    ("NVIDIA H100 80GB HBM3", "mixed_float16", {"enabled": True}, 989.4, "float16"),
    ("NVIDIA A100-SXM4-80GB", "float32", {"enabled": True}, 156.0, "tf32"),
    ("Tesla V100-SXM2-16GB", "mixed_bfloat16", {"enabled": False}, 15.7, "float32"),
    ("NVIDIA L4", "float32", {"enabled": True}, 60.0, "tf32"),
])
def test_gpu_peaks_are_the_datasheets_for_the_arithmetic_that_ran(name, precision, tf32, tflops,
                                                                  arithmetic):
    got = peak.device_peak("gpu", precision, machine={}, gpu={"name": name}, tf32=tf32)
    assert got["flops_per_sec"] == pytest.approx(tflops * 1e12)
    assert got["arithmetic"] == arithmetic


def test_an_unknown_gpu_has_no_peak_and_a_mig_slice_says_its_peak_is_the_whole_gpus():
    unknown = peak.gpu_peak("float32", {"name": "NVIDIA GeForce GTX 1080"}, {"enabled": False})
    assert unknown["flops_per_sec"] is None and "GTX 1080" in unknown["source"]
    mig = peak.gpu_peak("float32", {"name": "NVIDIA A100-SXM4-40GB", "mig": True}, {"enabled": True})
    assert "MIG" in mig["source"]


def test_utilisation_on_both_counts_of_flops():
    summary = {"achieved_flops_per_sec": 50e9, "flops_per_image": 400, "flops_per_image_unpadded": 300}
    got = peak.utilisation_fields(summary, {"flops_per_sec": 200e9})
    assert got == {"peak_flops_per_sec": 200e9, "mfu": 0.25, "mfu_unpadded": pytest.approx(0.1875)}
    assert peak.utilisation_fields(summary, None)["mfu"] is None
