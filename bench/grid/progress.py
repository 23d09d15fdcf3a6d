"""Grid progress: a bar with cells done, failed and ETA, and the running cell's step and speed.

On a terminal it draws a tqdm bar; otherwise (CI logs) it prints one line per finished cell and
nothing else, so logs stay readable.
"""

import sys
import time

from bench import rundirs, schema


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
        self.bar = None
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, unit="cell", file=self.stream, dynamic_ncols=True)

    def cell_started(self, cell):
        if self.bar:
            self.bar.set_description(cell.id)

    def cell_done(self, cell, status, resumed=False):
        self.done += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        if self.bar:
            self.bar.update(1)
            self.bar.set_postfix_str(self._counts_text())
            return
        line = f"[{self.done}/{self.total}] {cell.id} {status}"
        if resumed:
            line += " (kept from the earlier run)"
        else:
            line += self._cell_figures(cell)
        print(line, file=self.stream, flush=True)

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
        self.bar.set_postfix_str(" | ".join([self._counts_text()] + parts))

    def nodes(self, running: dict):
        """Cells running per node (cell id -> node), from a cluster backend; said again only
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
        median = (s.get("images_per_sec") or {}).get("median")
        if median:
            out += f" {median:,.0f} img/s"
        if s.get("reason"):
            out += f" ({s['reason'][:200]})"
        return out
