"""Machine identity: what /proc/cpuinfo says, the fingerprint, native or emulated precision.

The two classes of machine this project runs on, as /proc/cpuinfo shows them: an AMD EPYC with
AVX-512 and bfloat16 instructions (Zen 4, family 25 model 17) and one with AVX2 and FMA only
(Zen 2, family 23 model 49). Both call themselves "AMD EPYC".
"""

import json
from pathlib import Path

import pytest

from bench import machine
from bench.grid.emulation import emulation_skip_reason, emulation_warnings
from bench.grid.spec import expand

AVX512 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
stepping\t: 1
cpu MHz\t\t: 2596.148
flags\t\t: fpu sse4_2 avx f16c avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni

processor\t: 1
vendor_id\t: AuthenticAMD
flags\t\t: fpu
"""
AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 23
model\t\t: 49
model name\t: AMD EPYC
stepping\t: 0
flags\t\t: fpu sse4_2 avx f16c avx2 fma
"""


def _machine(cpuinfo, env=None):
    record = machine.host_machine(cpuinfo)
    record.update(arch="x86_64", usable_cores=2, cgroup_cpu_quota=None, env=env or {})
    return machine.with_fingerprint(record)


def test_cpuinfo_gives_identity_and_speed_flags_of_the_first_processor():
    cpu = machine.cpuinfo_to_cpu(AVX512)
    assert (cpu["vendor"], cpu["family"], cpu["model"], cpu["stepping"], cpu["model_name"]) == \
        ("AuthenticAMD", "25", "17", "1", "AMD EPYC")
    assert cpu["flags"] == ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw",
                            "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16"]
    assert machine.cpuinfo_to_cpu(AVX2)["flags"] == ["sse4_2", "avx", "avx2", "fma", "f16c"]


def test_two_classes_of_one_model_name_get_different_fingerprints_saying_why():
    fast, slow = _machine(AVX512), _machine(AVX2)
    assert fast["cpu"]["model_name"] == slow["cpu"]["model_name"] == "AMD EPYC"
    assert fast["fingerprint"] != slow["fingerprint"]
    assert len(fast["fingerprint"]) == machine.FINGERPRINT_CHARS
    assert _machine(AVX512)["fingerprint"] == fast["fingerprint"]  # stable
    diff = machine.fingerprint_difference(fast["fingerprint_fields"], slow["fingerprint_fields"])
    assert "cpu_family: '25' vs '23'" in diff
    assert any(d.startswith("cpu_flags: only the first has avx512_bf16, avx512_vnni, avx512bw")
               for d in diff)
    # what determines speed and is not the CPU: the cores it may use, oneDNN's cap
    capped = _machine(AVX512, {"ONEDNN_MAX_CPU_ISA": "AVX2"})
    assert capped["fingerprint"] != fast["fingerprint"]
    assert machine.fingerprint_difference(fast["fingerprint_fields"],
                                          capped["fingerprint_fields"]) == [
        "env: {} vs {'ONEDNN_MAX_CPU_ISA': 'AVX2'}"]
    assert machine.fingerprint_difference(None, fast["fingerprint_fields"])[0].startswith(
        "machine unknown")


def test_this_host_is_read_without_tensorflow():
    here = machine.with_fingerprint(machine.host_machine())
    assert here["usable_cores"] >= 1 and here["cpu"]["flags"] is not None
    assert set(here["fingerprint_fields"]) >= {"cpu_flags", "usable_cores", "cgroup_cpu_quota"}


@pytest.mark.parametrize("cpuinfo, env, precision, support", [
    (AVX512, {}, "float32", "native"),
    (AVX512, {}, "mixed_bfloat16", "native"),
    (AVX2, {}, "mixed_bfloat16", "emulated"),
    (AVX512, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, "mixed_bfloat16", "emulated"),
    (AVX512, {"TF_ENABLE_ONEDNN_OPTS": "0"}, "mixed_bfloat16", "emulated"),
    (AVX512, {}, "mixed_float16", "emulated"),
    (AVX2, {}, "mixed_float16", "emulated"),
])
def test_precision_is_native_only_where_the_cpu_has_the_instructions(cpuinfo, env, precision,
                                                                      support):
    got = machine.precision_support(precision, "cpu", _machine(cpuinfo, env))
    assert got["support"] == support
    assert (got["slowdown"] > 1) == (support == "emulated")
    assert machine.precision_support(precision, "gpu", _machine(cpuinfo, env))["support"] == \
        ("native" if precision == "float32" else "unknown")


SPEC = {"name": "emulation", "data": "mnist-5k",
        "parts": [{"name": "quality", "axes": {"seeds": [0, 1], "batch_sizes": [64],
                                               "devices": ["cpu"], "xla": [False],
                                               "precision": ["mixed_bfloat16"]},
                   "budget": {"steps": 8000}},
                  {"name": "short", "emulated": "skip",
                   "axes": {"seeds": [0], "batch_sizes": [64], "devices": ["cpu"], "xla": [False],
                            "precision": ["mixed_float16"]}, "budget": {"steps": 50}},
                  {"name": "fp32", "axes": {"seeds": [0], "batch_sizes": [64], "devices": ["cpu"],
                                            "xla": [False], "precision": ["float32"]},
                   "budget": {"steps": 8000}}]}


def test_long_emulated_parts_are_named_before_running_and_skipped_when_asked():
    cells = expand(SPEC).cells
    slow = _machine(AVX2)
    (line,) = emulation_warnings(cells, slow)
    assert line.startswith("warning: part quality: 2 cell(s) run mixed_bfloat16 emulated on "
                           "this machine (this CPU has no bfloat16 instructions")
    assert "about 9 times slower than float32, 8,000 steps a cell" in line
    assert emulation_warnings(cells, _machine(AVX512)) == []  # native there
    # the short fp16 part is under the warning's bar, and skipped by its own rule
    short = [c for c in cells if c.part == "short"]
    assert "the spec says emulated = \"skip\"" in emulation_skip_reason(short[0], slow)
    assert emulation_skip_reason(cells[0], slow) is None  # quality runs (the default)
    assert emulation_skip_reason(short[0], _machine(AVX512)).startswith("mixed_float16 is emulated")


def test_an_unknown_emulated_policy_is_a_spec_error():
    bad = {**SPEC, "emulated": "sometimes"}
    with pytest.raises(Exception, match="emulated: expected one of run, skip, found 'sometimes'"):
        expand(bad)


def test_a_trained_cells_env_records_the_machine(tmp_path):
    """A real (few-step) cell on this host: env.json holds its flags, the fingerprint and
    whether its precision ran natively."""
    from bench.cell.train import run_cell
    from bench.config import CellConfig

    run_cell(CellConfig(steps=3, log_every=1, batch_size=16, final_eval_n=0), tmp_path / "c")
    env = json.loads((tmp_path / "c" / "env.json").read_text())
    record = env["machine"]
    here = machine.with_fingerprint(machine.host_machine())
    assert record["fingerprint"] == here["fingerprint"]
    assert record["cpu"]["flags"] == here["cpu"]["flags"]
    assert record["usable_cores"] == here["usable_cores"]
    assert record["threads"]["intra_op"] >= 0 and record["onednn"]["enabled"] in (True, False)
    assert env["precision"] == {"name": "float32", "support": "native", "why": "float32",
                                "slowdown": 1.0}
    from bench.analysis.results import load_results

    row = load_results([tmp_path / "c"]).iloc[0]
    assert row["machine_fingerprint"] == here["fingerprint"]
    assert row["precision_support"] == "native"


def test_the_golden_records_carry_the_avx512_machine():
    from bench.analysis.runs import run_dir_to_run, run_machines

    golden = Path(__file__).parent / "data" / "runs" / "golden"
    machines = run_machines(run_dir_to_run(golden).info)
    assert list(machines) == [_machine(AVX512)["fingerprint"]]
