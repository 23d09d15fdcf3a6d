"""Grid progress: a bar with cells done, failed and ETA, and the running cell's step and speed.

On a terminal it draws a tqdm bar; otherwise (CI logs) it prints one line per finished cell and
a line before and after each part, so logs stay readable. Before a part it says how long the part
should take on this machine and where that estimate comes from (bench.grid.estimate); after it,
how long it took against the estimate. The time each cell took, as the grid saw it (launch to
record), is kept in `durations`: later estimates use it.
"""

import sys
import time

from bench import rundirs, schema
from bench.grid.estimate import PartEstimate, duration_text


class GridProgress:
    def __init__(self, cells, out_dir, stream=None):
        self.out_dir = out_dir
        self.stream = stream or sys.stderr
        self.total = len(cells)
        self.counts = {}
        self.done = 0
        self.tty = self.stream.isatty()
        self._last_poll = 0.0
        self._nodes_text = None
        self.started: dict[str, float] = {}
        self.durations: dict[str, float] = {}  # cell id -> seconds, launch to record
        self.plan: PartEstimate | None = None  # the running part's estimate
        self.bar = None
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, unit="cell", file=self.stream, dynamic_ncols=True)

    def say(self, line: str):
        """A line for the person running the grid (above the bar on a terminal)."""
        if self.bar:
            self.bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def part_started(self, part, cells, plan):
        """Say the part's estimate (a PartEstimate), or why it has none (a sentence)."""
        self.plan = plan if isinstance(plan, PartEstimate) else None
        name = f"part {part}" if part else "grid"
        head = f"{name}: {len(cells)} cell{'s' if len(cells) != 1 else ''} to run"
        if self.plan is None:
            self.say(f"{head}; {plan}")
            return
        self.say(f"{head}, estimated {duration_text(self.plan.seconds)} on this machine"
                 + (f" ({self.plan.parallel} at once)" if self.plan.parallel > 1 else ""))
        for config, source in self.plan.sources.items():
            self.say(f"  {config}: {source}")

    def part_finished(self, part, seconds: float):
        """Say how long the part took, against its estimate."""
        if self.plan is None:
            return
        self.plan.actual_seconds = seconds
        error = seconds / self.plan.seconds - 1 if self.plan.seconds else float("nan")
        self.say(f"{'part ' + part if part else 'grid'}: took {duration_text(seconds)}, "
                 f"estimated {duration_text(self.plan.seconds)} ({error:+.0%})")

    def cell_started(self, cell):
        self.started[cell.id] = time.time()
        if self.bar:
            self.bar.set_description(cell.id)

    def cell_done(self, cell, status, resumed=False):
        self.done += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        if cell.id in self.started:
            self.durations[cell.id] = time.time() - self.started[cell.id]
            if self.plan is not None and cell.id in self.plan.cells:
                self.plan.actual[cell.id] = self.durations[cell.id]
        if self.bar:
            self.bar.update(1)
            self.bar.set_postfix_str(" | ".join(filter(None, [self._counts_text(),
                                                              self._eta_text()])))
            return
        line = f"[{self.done}/{self.total}] {cell.id} {status}"
        if resumed:
            line += " (kept from the earlier run)"
        else:
            line += self._cell_figures(cell)
        print(line, file=self.stream, flush=True)

    def _eta_text(self) -> str | None:
        """The running part's time left by its estimate: cells not done, less the running
        cells' elapsed time."""
        if self.plan is None:
            return None
        left = sum(s for c, s in self.plan.cells.items() if c not in self.plan.actual)
        running = sum(time.time() - self.started[c] for c in self.plan.cells
                      if c in self.started and c not in self.plan.actual)
        return f"part ETA ~{duration_text(max(0.0, left - running) / self.plan.parallel)}"

    def poll(self, running):
        """Refresh the running cell's step and images/sec from its steps.jsonl (terminal only)."""
        if not self.bar or not running or time.time() - self._last_poll < 1.0:
            return
        self._last_poll = time.time()
        parts = []
        for p in running:
            lines = rundirs.read_lines(p.cell_dir, schema.STEPS_FILE)
            if lines:
                parts.append(f"{p.cell.id} step {lines[-1]['step']} "
                             f"{lines[-1]['images_per_sec'] or 0:,.0f} img/s")
        self.bar.set_postfix_str(" | ".join(filter(None, [self._counts_text(), self._eta_text()]
                                                   + parts)))

    def nodes(self, running: dict):
        """Cells running per node (cell id -> node), from a cluster launcher; said again only
        when it changes."""
        per_node = {}
        for node in running.values():
            per_node[node] = per_node.get(node, 0) + 1
        text = ", ".join(f"{node}: {n} running" for node, n in sorted(per_node.items()))
        if text == self._nodes_text:
            return
        self._nodes_text = text
        if self.bar:
            self.bar.set_postfix_str(" | ".join(filter(None, [self._counts_text(), text])))
        elif text:
            print(f"nodes: {text}", file=self.stream, flush=True)

    def close(self):
        if self.bar:
            self.bar.close()
        elif self.total:
            print(f"grid finished: {self._counts_text()}", file=self.stream, flush=True)

    def _counts_text(self):
        return " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))

    def _cell_figures(self, cell):
        try:
            s = rundirs.read_record(self.out_dir / cell.id, schema.SUMMARY_FILE)
        except Exception:  # noqa: BLE001 - progress must never stop a grid
            return ""
        out = f" {s.get('wall_seconds') or 0:.1f} s"
        if self.plan is not None and cell.id in self.plan.cells:
            out += f" (took {self.durations.get(cell.id, 0):.1f} s, estimated " \
                   f"{self.plan.cells[cell.id]:.1f} s)"
        median = (s.get("images_per_sec") or {}).get("median")
        if median:
            out += f" {median:,.0f} img/s"
        if s.get("reason"):
            out += f" ({s['reason'][:200]})"
        return out
