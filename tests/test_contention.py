"""Contention measured per window (bench.cell.contention), against the kernel's own account of
real processes: CPU hogs this test starts under `setsid` (their own session, so the kernel's
autogroup scheduling cannot shield this process from them), their CPU time read from
/proc/<pid>/stat, not from the probe."""

import os
import subprocess
import sys
import time

import pytest

from bench.cell.contention import ContentionProbe
from bench.contention_rule import CONTENDED_SHARE, contended_share, is_contended, summary_of, tick_resolution

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/stat"),
                                reason="no /proc/stat: the kernel does not count the machine's "
                                       "CPU time there (not Linux)")
HOG = "while True: pass"


def _cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time, as the kernel counts it (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _spin(seconds: float):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_a_window_of_one_busy_thread_is_that_threads_share_of_the_cores_given():
    probe = ContentionProbe()
    _spin(0.5)
    fields = probe.window()
    # one thread busy for the whole window: at most one core of those given, whatever else runs
    assert 0 < fields["cpu_share"] * probe.cores_given <= 1.05
    assert fields["load_1m"] == pytest.approx(os.getloadavg()[0], abs=1.0)
    assert fields["others_share"] >= 0 and fields["steal_share"] >= 0


def test_hogs_beside_an_idle_window_are_the_others_share_the_kernel_counts():
    """A hog pinned to each core this process may use, and a window in which this process
    sleeps: the other processes' share of those cores is at least what the hogs' own counters
    say they ran, and the window is contended."""
    cores = sorted(os.sched_getaffinity(0))
    cpus = len(cores)
    hogs = [subprocess.Popen([sys.executable, "-c", f"import os; os.sched_setaffinity(0, {{{c}}})"
                              f"\n{HOG}"], start_new_session=True) for c in cores]
    try:
        time.sleep(0.3)  # the hogs started and running
        before = sum(_cpu_seconds(h.pid) for h in hogs)
        probe = ContentionProbe()
        t0 = time.perf_counter()
        time.sleep(1.0)
        fields = probe.window()
        wall = time.perf_counter() - t0
        hogs_share = (sum(_cpu_seconds(h.pid) for h in hogs) - before) / (wall * cpus)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    assert hogs_share > 0.3  # they ran (a machine this busy elsewhere is not ours to judge)
    # the probe counts every process but this one: the hogs and anything else running. Each
    # CPU's ticks of 1/HZ, cut at each end of the window, set the tolerance: a tick a CPU an end
    tick = 2 / (os.sysconf("SC_CLK_TCK") * wall)
    assert fields["others_share"] >= hogs_share - tick
    assert fields["others_share"] <= 1.0 + tick
    assert fields["cpu_share"] < 0.05  # this process slept
    assert is_contended(fields) is True


def test_a_hog_on_a_core_the_cell_may_not_use_is_not_contention():
    """A cell pinned to one core, a hog pinned to another: the cell's core is not shared."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("one core: no other core to put the hog on")
    hog = subprocess.Popen([sys.executable, "-c", f"import os; os.sched_setaffinity(0, "
                            f"{{{cores[1]}}})\n{HOG}"], start_new_session=True)
    try:
        os.sched_setaffinity(0, {cores[0]})
        time.sleep(0.3)
        before = _cpu_seconds(hog.pid)
        probe = ContentionProbe()
        _spin(1.0)
        fields = probe.window()
        hog_ran = _cpu_seconds(hog.pid) - before
    finally:
        os.sched_setaffinity(0, set(cores))
        hog.kill()
        hog.wait()
    assert hog_ran > 0.3  # the hog did run, on its own core
    assert probe.cores_given == 1
    # the cell's core alone: what this process and the others ran there fills it at most once
    # (whatever else this machine runs beside the test); the hog's core counted too would
    # add its second of CPU over the one core's second
    tick = 2 / os.sysconf("SC_CLK_TCK")
    assert fields["others_share"] + fields["cpu_share"] <= 1 + tick


def test_the_bound_and_the_summary_of_a_cells_windows():
    quiet = {"cpu_share": 0.98, "others_share": 0.02, "steal_share": 0.0, "load_1m": 2.1}
    busy = {"cpu_share": 0.55, "others_share": 0.45, "steal_share": 0.01, "load_1m": 4.0}
    at_bound = {**quiet, "others_share": CONTENDED_SHARE, "steal_share": 0.0}
    just_over = {**quiet, "others_share": CONTENDED_SHARE - 0.01, "steal_share": 0.02}
    assert (is_contended(quiet), is_contended(busy)) == (False, True)
    assert (is_contended(at_bound), is_contended(just_over)) == (False, True)  # steal counts
    assert is_contended({"cpu_share": 0.9, "others_share": None}) is None
    s = summary_of([quiet, busy, quiet])
    assert (s["windows"], s["contended_windows"], s["bound"]) == (3, 1, CONTENDED_SHARE)
    assert s["others_share_median"] == pytest.approx(0.02)
    assert s["others_share_max"] == pytest.approx(0.45)
    assert s["cpu_share_median"] == pytest.approx(0.98)
    unmeasured = summary_of([{"cpu_share": 0.9, "others_share": None, "steal_share": None,
                              "load_1m": 1.0}])
    assert unmeasured["contended_windows"] is None and unmeasured["others_share_max"] is None


def test_a_short_windows_clock_ticks_are_not_read_as_contention():
    """/proc/stat's 10 ms ticks, two a core a window, discounted: by hand, 2 / (100 x 0.07) =
    0.286 of the cores in a 70 ms window, 0.02 in a 1 s one."""
    short = {"cpu_share": 0.86, "others_share": 0.128, "steal_share": 0.0, "window_seconds": 0.07}
    hog = {**short, "others_share": 0.5}
    long = {**short, "others_share": 0.125, "window_seconds": 1.0}
    assert tick_resolution(0.07) == pytest.approx(0.2857, abs=1e-4)
    # a quiet machine's two ticks of kernel threads in 70 ms: none surely taken
    assert (contended_share(short), is_contended(short)) == (0.0, False)
    assert contended_share(hog) == pytest.approx(0.5 - 0.2857, abs=1e-4)
    assert is_contended(hog) is True  # a busy process beside the cell still shows
    assert contended_share(long) == pytest.approx(0.105) and is_contended(long) is True
    assert is_contended({**long, "others_share": 0.12}) is False  # 0.10: at the bound
    s = summary_of([short, long])
    assert (s["contended_windows"], s["tick_resolution_max"]) == (1, pytest.approx(0.2857,
                                                                                   abs=1e-4))
