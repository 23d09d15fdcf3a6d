"""Grid progress: one display, one ETA, and a summary at the end.

On a terminal it is one rich progress bar: cells done of all, the counts by status, the running
part's ETA (from its estimate, bench.grid.estimate) and the running cell's step and speed. In a log
(not a terminal) it prints one line per finished cell, and a line every HEARTBEAT_SECONDS while
cells run, so a CI log shows the grid is alive and how far it is. Either way, before a part it
says how long the part should take on this machine (its calibration included) and where that
comes from; after it, how long it took against that; at the end, how long the grid took, its
counts, and every cell that did not end ok with its reason. The time each cell took, as the grid
saw it (launch to record), is kept in `durations`: later estimates use it.

The ETA learns: it starts from the part's estimate (a calibration, or cells of an earlier part),
then, as cells finish, scales the cells not begun by how much longer the finished ones took than
estimated, and takes a running cell's time left from its own steps.jsonl (its steps left at the
seconds a step its windows show). It says which it is: "(estimated)" or "(rate so far)". A
calibration measured on a busy machine that has since become quiet is thus left behind after the
first window.
"""

import sys
import time

from bench import rundirs, schema
from bench.grid.estimate import PartEstimate, duration_text
from bench.literal import printable

HEARTBEAT_SECONDS = 30.0


class GridProgress:
    def __init__(self, cells, out_dir, stream=None):
        self.out_dir = out_dir
        self.stream = stream or sys.stderr
        self.total = len(cells)
        self.counts: dict[str, int] = {}
        self.done = 0
        self.tty = self.stream.isatty()
        self.begun = time.time()
        self._last_poll = self._last_heartbeat = 0.0
        self._nodes_text = None
        self._running_text = ""
        self._pace: dict[str, tuple[int, float]] = {}  # running cell -> (steps left, s a step)
        self.started: dict[str, float] = {}
        self.durations: dict[str, float] = {}  # cell id -> seconds, launch to record
        self.plan: PartEstimate | None = None  # the running part's estimate
        self.not_ok: list[str] = []  # "cell status (reason)" of every cell not ended ok
        self.progress = self._task = None
        if self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(TextColumn("grid"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[status]}", markup=False),
                                     console=Console(file=self.stream), transient=False)
            self._task = self.progress.add_task("grid", total=self.total, status="")
            self.progress.start()

    def say(self, line: str):
        """A line for the person running the grid (above the bar on a terminal)."""
        line = printable(line)  # a cell's reason may hold terminal escapes
        if self.progress:
            self.progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.stream, flush=True)

    def part_started(self, part, cells, plan, calibration_seconds: float = 0.0):
        """Say the part's estimate (a PartEstimate), or why it has none (a sentence);
        `calibration_seconds`: what measuring the estimate's rates took, counted in the part."""
        self.plan = plan if isinstance(plan, PartEstimate) else None
        if self.plan is not None:
            self.plan.calibration_seconds = calibration_seconds
        name = f"part {part}" if part else "grid"
        head = f"{name}: {len(cells)} cell{'s' if len(cells) != 1 else ''} to run"
        calibrated = f" after {duration_text(calibration_seconds)} of calibration" \
            if calibration_seconds >= 1 else ""
        if self.plan is None:
            self.say(f"{head}; {plan}")
            return
        self.say(f"{head}, estimated {duration_text(self.plan.seconds)} more{calibrated} on this "
                 "machine" + (f" ({self.plan.parallel} at once)" if self.plan.parallel > 1 else ""))
        for config, source in self.plan.sources.items():
            self.say(f"  {config}: {source}")

    def part_finished(self, part, seconds: float):
        """Say how long the part took (its calibration included), against its estimate."""
        if self.plan is None:
            return
        self.plan.actual_seconds = seconds
        estimated = self.plan.seconds + self.plan.calibration_seconds
        error = seconds / estimated - 1 if estimated else float("nan")
        self.say(f"{'part ' + part if part else 'grid'}: took {duration_text(seconds)}, "
                 f"estimated {duration_text(estimated)} ({error:+.0%})")

    def cell_started(self, cell):
        self.started[cell.id] = time.time()

    def cell_done(self, cell, status, resumed=False):
        self.done += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        self._pace.pop(cell.id, None)
        if cell.id in self.started:
            self.durations[cell.id] = time.time() - self.started[cell.id]
            if self.plan is not None and cell.id in self.plan.cells:
                self.plan.actual[cell.id] = self.durations[cell.id]
                self._revise()
        figures = "" if resumed else self._cell_figures(cell)
        if status not in (schema.STATUS_OK, schema.STATUS_SKIPPED):
            self.not_ok.append(f"{cell.id} {status}{figures}")
        if self.progress:
            self.progress.update(self._task, completed=self.done, status=self._status_text())
            if status not in (schema.STATUS_OK, schema.STATUS_SKIPPED):  # said, not only counted
                self.say(f"{cell.id} {status}{figures}")
            return
        line = f"[{self.done}/{self.total}] {cell.id} {status}"
        line += " (kept from the earlier run)" if resumed else figures
        print(line, file=self.stream, flush=True)

    def seconds_left(self, now: float | None = None) -> tuple[float, bool] | None:
        """The running part's seconds left, and whether they come from the rate so far (False:
        from the estimate alone); None without an estimate. Cells not begun: their estimates
        times the finished cells' actual over estimated seconds. A running cell: its steps left
        at its windows' seconds a step once it has logged one, else its estimate (scaled) less
        the time it has run."""
        if self.plan is None:
            return None
        now = time.time() if now is None else now
        scale = self.plan.learned_scale()
        learned = scale is not None
        scale = scale or 1.0
        left = 0.0
        for c, estimated in self.plan.cells.items():
            if c in self.plan.actual:
                continue
            if c not in self.started:
                left += estimated * scale
            elif c in self._pace:
                steps, per_step = self._pace[c]
                left += steps * per_step
                learned = True
            else:
                left += max(0.0, estimated * scale - (now - self.started[c]))
        return left / self.plan.parallel, learned

    def eta_text(self) -> str | None:
        """The one ETA, and where it comes from."""
        left = self.seconds_left()
        if left is None:
            return None
        seconds, learned = left
        return f"ETA ~{duration_text(seconds)} ({'rate so far' if learned else 'estimated'})"

    def _revise(self):
        """Keep the part's total as the ETA now sees it (PartEstimate.revisions)."""
        first = min((self.started[c] for c in self.plan.cells if c in self.started), default=None)
        if first is None:
            return
        now = time.time()
        seconds, learned = self.seconds_left(now)
        self.plan.revisions.append({"after_seconds": now - first,
                                    "total_seconds": now - first + seconds,
                                    "learned": learned})

    def poll(self, running):
        """The running cells' step and images/sec from their steps.jsonl: on the bar, or in a
        heartbeat line every HEARTBEAT_SECONDS in a log."""
        now = time.time()
        if not running or now - self._last_poll < 1.0:
            return
        self._last_poll = now
        parts = []
        for p in running:
            try:
                lines = rundirs.read_lines(p.cell_dir, schema.STEPS_FILE)
            except Exception:  # noqa: BLE001 - progress must never stop a grid
                lines = []
            if lines:
                parts.append(f"{p.cell.id} step {lines[-1]['step']} "
                             f"{lines[-1]['images_per_sec'] or 0:,.0f} img/s")
                self._pace_of(p.cell, lines)
            else:
                parts.append(f"{p.cell.id} starting")
        self._running_text = " | ".join(parts)
        self._refresh(now)

    def _pace_of(self, cell, lines):
        """A running cell's steps left and seconds a step, from its logged windows (their
        seconds only: evaluations between windows are not steps)."""
        from bench.grid.estimate import total_steps

        try:
            steps = sum(line.get("timed_steps") or 0 for line in lines)
            seconds = sum(line.get("window_seconds") or 0.0 for line in lines)
            total = total_steps(cell.config)
        except Exception:  # noqa: BLE001 - progress must never stop a grid
            return
        if steps > 0 and seconds > 0:
            self._pace[cell.id] = (max(0, total - lines[-1]["step"]), seconds / steps)

    def nodes(self, running: dict):
        """Cells running per node (cell id -> node), from a cluster launcher."""
        per_node = {}
        for node in running.values():
            per_node[node] = per_node.get(node, 0) + 1
        text = ", ".join(f"{node}: {n} running" for node, n in sorted(per_node.items()))
        if text != self._nodes_text and not self.progress and text:
            print(f"nodes: {text}", file=self.stream, flush=True)
        self._nodes_text = text
        self._running_text = text
        self._refresh(time.time())

    def _refresh(self, now: float):
        if self.progress:
            self.progress.update(self._task, status=self._status_text())
        elif now - self._last_heartbeat >= HEARTBEAT_SECONDS and self._running_text:
            self._last_heartbeat = now
            print(f"running for {duration_text(now - self.begun)}: {self.done}/{self.total} cells "
                  "done; " + self._status_text(), file=self.stream, flush=True)

    def _status_text(self) -> str:
        return " | ".join(filter(None, [self._counts_text(), self.eta_text(),
                                        self._running_text]))

    def close(self, interrupted=False):
        """End the display; say how the grid ended (unless interrupted: the grid says that)."""
        if self.progress:
            self.progress.stop()
        if not self.counts or interrupted:
            return
        self.say(f"grid finished in {duration_text(time.time() - self.begun)}: "
                 f"{self._counts_text()} ({self.out_dir})")
        for line in self.not_ok:
            self.say(f"  {line}")

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
