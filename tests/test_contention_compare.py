"""Verdicts on a shared machine, with real processes: four real throughput runs of the same small
JAX cell and `dcgan-bench compare` between them.

- A and B: the same code on this machine as it is: the comparison judges as it always did.
- C: the same code with a CPU hog beside it, a busy process started under `setsid` (its own
  session, so that the kernel's autogroup scheduling cannot shield the cell from it): on two
  cores it takes about half of the cell's; not a regression; compare names the contention and
  exits 0.
- D: a real slowdown and no hogs (the test-only fault `slow=43`: every window sleeps 43% of its
  time, 0.7 times the images/s): still a regression.

The cell's windows last about 0.7 s on the slow class (40 steps of batch 16), 0.2-0.4 s on the
fast one: long enough that a blip of the machine moves one window, not the cell's median, and
that /proc/stat's 10 ms ticks are a few percent of a window.

A baseline that was itself contended (this machine busy with other work) cannot judge D's
slowdown, and a machine whose speed moved between A and B with nothing on its cores that the
kernel could see (another virtual machine on the host) cannot judge "the same code": the test
says so and skips, as a person would be told; it does not fail.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hogs import NEEDS_PROC_STAT, start_hog, tiny_jax_spec

pytest.importorskip("jax", reason="JAX is not installed (the jax extra: pip install -e '.[jax]'; "
                                  "tox -e py installs it)")

pytestmark = [pytest.mark.slow, NEEDS_PROC_STAT]
ROOT = Path(__file__).resolve().parent.parent
SPEC = tiny_jax_spec("contention", steps=360, log_every=40)


def _grid(tmp_path, name, fault=None, timeout=None) -> tuple[Path, float]:
    """A run of the spec, and the seconds it took."""
    spec = tmp_path / "contention.toml"
    spec.write_text(SPEC)
    env = {k: v for k, v in os.environ.items() if k != "DCGAN_BENCH_FAULT"}
    if fault:
        env["DCGAN_BENCH_FAULT"] = fault
    run = tmp_path / "runs" / name
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "bench", "grid", str(spec), "--out", str(run)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return run, time.monotonic() - started


def _compare(tmp_path, a: Path, b: Path) -> tuple[int, dict, str]:
    out = tmp_path / f"cmp-{a.name}-{b.name}"
    proc = subprocess.run([sys.executable, "-m", "bench", "compare", str(a), str(b), "--out",
                           str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return proc.returncode, json.loads((out / "comparison.json").read_text()), proc.stdout


def _contention(result: dict, side: str) -> dict:
    (test,) = result["throughput"]
    return test["contention"][side]


def _raw_median(run: Path) -> float:
    """The median images/s of the run's measured windows, read from steps.jsonl here, not by
    the harness's reader: the machine's own speed for the run."""
    (steps,) = run.glob("throughput_*/steps.jsonl")
    rates = [line["images_per_sec"] for line in map(json.loads, steps.read_text().splitlines())
             if not line["warmup"] and not line["excluded"]]
    return statistics.median(rates)


def test_hogs_make_a_comparison_inconclusive_and_a_real_slowdown_stays_a_regression(tmp_path):
    a, seconds = _grid(tmp_path, "a")
    # the later runs' limit from the first's own time on this machine: a hog takes about half
    # of the cores, the slowed run 1.43 times its windows; ten times leaves room for both
    limit = 10 * seconds
    b, _ = _grid(tmp_path, "b", timeout=limit)
    hog = start_hog()
    try:
        c, _ = _grid(tmp_path, "c", timeout=limit)
    finally:
        hog.kill()
        hog.wait()
    d, _ = _grid(tmp_path, "d", fault="slow=43", timeout=limit)

    code, result, out = _compare(tmp_path, a, c)
    # the hog was measured: every measured window of C had others on its cores
    side = _contention(result, "candidate")
    assert side["contended"] == side["windows"] > 0 and side["share_median"] > 0.3
    (test,) = result["throughput"]
    assert test["verdict"] != "regression" and result["verdict"] != "regression"
    assert code == 0
    assert "contended" in out and "INCONCLUSIVE" in out

    baseline = _contention(result, "baseline")
    if baseline["contended"] > baseline["windows"] - 3:
        pytest.skip(f"this machine was too busy to judge: other processes took "
                    f"{baseline['share_median']:.0%} of the cores in {baseline['contended']} of "
                    f"the baseline's {baseline['windows']} windows")
    # the same code, no hogs: judged as always (no regression), unless the machine itself ran
    # it slower by more than the verdict's threshold (its windows' median), seeing nothing on its
    # cores
    code, result, _ = _compare(tmp_path, a, b)
    (test,) = result["throughput"]
    drift = _raw_median(b) / _raw_median(a)
    if test["verdict"] == "regression" and drift < 1 - test["threshold"]:
        pytest.skip(f"this machine's speed moved: the same code ran at {drift:.2f} times its "
                    f"first run's images/s a minute later with no contention the kernel could "
                    f"see (another machine on the host?): nothing to judge")
    assert result["verdict"] in ("ok", "inconclusive") and code == 0
    assert {t["verdict"] for t in result["throughput"]} <= {"no change", "improvement",
                                                            "inconclusive"}
    # a real slowdown with no contention: still a regression, exit 1
    code, result, _ = _compare(tmp_path, a, d)
    if _contention(result, "candidate")["contended"] > _contention(result, "candidate")[
            "windows"] - 3:
        pytest.skip("this machine was too busy while the slowed run trained: nothing to judge")
    (test,) = result["throughput"]
    assert test["verdict"] == "regression" and code == 1
    # 1 / 1.43 = 0.70 if every window slept its 43%; measured 0.78 with 0.7 s windows (AVX2
    # class, quiet): the windows that slept computed faster than their baseline's. What matters
    # is a real slowdown beyond the threshold, found as one
    assert 0.6 < test["ratio"] < 0.85
