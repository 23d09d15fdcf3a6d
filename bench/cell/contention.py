"""What else the machine ran while a window was timed: contention, measured per window.

A throughput window's seconds mean something only if the cell had the cores it was given. On a
shared machine (a CI runner, a colleague's job) other processes take CPU time the cell would
have used, and its images/s falls with no change in the code. The kernel counts both sides:

- `cpu_share`: the cell process's CPU time in the window (every thread, `time.process_time`)
  over the window's wall time times the cores it may run on (`os.sched_getaffinity`). Below 1
  either the cell waits (a GPU, I/O, a serial part) or others run on its cores.
- `others_share`: the CPU time every other process used in the window on the cores the cell
  may run on (/proc/stat's busy time of those CPUs, less this process's), over wall time times
  those cores: 0 alone, 0.5 with one busy process beside the cell on 2 cores. Cores the cell
  cannot use do not count, so a cell pinned (`taskset`) to idle cores of a busy machine is not
  contended; an unpinned cell counts the whole machine, which errs towards "contended".
- `steal_share`: time the hypervisor gave those CPUs to other machines (/proc/stat's steal).
- `load_1m`: the one-minute load average at the window's end.

Where the kernel has no /proc/stat (not Linux), `others_share` and `steal_share` are None.
What counts as contended, and a cell's summary of its windows, is bench.contention_rule's (read
by the records' readers and the verdicts too).
"""

import os
import time

from bench.contention_rule import WINDOW_FIELDS
from bench.machine import usable_core_ids

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_jiffies(cpus: set[int]) -> tuple[int, int] | None:
    """(busy, steal) clock ticks since boot of the CPUs `cpus`, from /proc/stat's cpuN lines:
    busy is user, nice, system, irq and softirq (guest time is inside user); idle and iowait
    are not. None where the kernel has no such file or none of those lines."""
    try:
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    busy = steal = seen = 0
    for line in lines:
        fields = line.split()
        if not fields or not fields[0].startswith("cpu") or not fields[0][3:].isdigit() \
                or int(fields[0][3:]) not in cpus:
            continue
        ticks = [int(x) for x in fields[1:]] + [0] * 8
        user, nice, system, _idle, _iowait, irq, softirq, stolen = ticks[:8]
        busy, steal, seen = busy + user + nice + system + irq + softirq, steal + stolen, seen + 1
    return (busy, steal) if seen else None


class ContentionProbe:
    """Reads the clocks at a window's start (`start`) and gives the window's contention fields
    at its end (`window`). `start` again after anything not timed (an evaluation)."""

    def __init__(self):
        self.cores = usable_core_ids()
        self.cores_given = len(self.cores)
        self.start()

    def _read(self):
        return time.perf_counter(), time.process_time(), _cpu_jiffies(self.cores)

    def start(self):
        self._then = self._read()

    def window(self) -> dict:
        """The fields of WINDOW_FIELDS for the time since `start`, and starts the next window."""
        (wall0, cpu0, jiffies0), now = self._then, self._read()
        wall1, cpu1, jiffies1 = now
        self._then = now
        wall, mine = wall1 - wall0, cpu1 - cpu0
        if wall <= 0:
            return dict.fromkeys(WINDOW_FIELDS)
        fields = {"cpu_share": mine / (wall * self.cores_given), "others_share": None,
                  "steal_share": None, "load_1m": os.getloadavg()[0]}
        if jiffies0 and jiffies1:
            machine = wall * self.cores_given
            busy = (jiffies1[0] - jiffies0[0]) / _HZ
            # ticks are counted per CPU at 1/HZ: a short window's figure is that coarse, and
            # the rule judges it less that resolution (bench.contention_rule.tick_resolution)
            fields["others_share"] = max(0.0, busy - mine) / machine
            fields["steal_share"] = (jiffies1[1] - jiffies0[1]) / _HZ / machine
        return fields
