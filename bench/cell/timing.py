"""Log windows of a training cell: one host sync per window, steps.jsonl, TensorBoard, throughput.

The loop appends each step's output tensor without reading it; `end_window` reads them all at
once (the host sync), checks them for non-finite values, writes one steps.jsonl line and the same
scalars to TensorBoard. Throughput statistics use the windows after the warm-up only.
"""

import time

import numpy as np

from bench import records, schema
from bench.cell.step import STEP_OUTPUTS


class Diverged(Exception):
    """A non-finite loss: the cell ends as `diverged` at this step."""

    def __init__(self, step, which):
        self.step = step
        super().__init__(f"non-finite {which} at step {step}")


def percentiles_to_throughput(per_sec: list[float]) -> dict:
    """median, p10, p90 of window images/sec; None values with windows=0 when nothing was measured."""
    if not per_sec:
        return {"median": None, "p10": None, "p90": None, "windows": 0}
    a = np.asarray(per_sec, dtype=np.float64)
    return {"median": float(np.median(a)), "p10": float(np.percentile(a, 10)),
            "p90": float(np.percentile(a, 90)), "windows": len(a)}


class WindowLog:
    def __init__(self, out_dir, cfg, step_fn):
        import tensorflow as tf

        self.path = out_dir / schema.STEPS_FILE
        self.batch_size = cfg.batch_size
        self.warmup_windows = cfg.warmup_windows
        self.step_fn = step_fn
        self.writer = tf.summary.create_file_writer(str(out_dir / schema.TENSORBOARD_DIR))
        self.measured: list[float] = []
        self.warnings: list[str] = []
        self.windows_done = 0
        self.images_seen = 0
        self._values: list[np.ndarray] = []  # already-synced rows (the compile step's)
        self._pending = []  # step output tensors not yet read
        self._first_pending_step = 1
        self._start = None

    def add_first(self, values):
        """Record the first step's outputs (already synced): it counts for losses, not for time."""
        self._values = [np.asarray(values)]
        self.images_seen += self.batch_size
        self._check_finite(np.asarray(values)[None], first_step=1)
        self._first_pending_step = 2

    def start_window(self):
        self._start = time.perf_counter()

    def append(self, step_output):
        self._pending.append(step_output)

    def end_window(self, step: int) -> tuple[float, float]:
        """Sync, log and check the window ending at `step`; returns (seconds, images/sec)."""
        timed = [t.numpy() for t in self._pending]  # the host sync: waits for the last step
        seconds = time.perf_counter() - self._start
        timed_steps = len(timed)
        per_sec = timed_steps * self.batch_size / seconds if seconds > 0 else float("nan")
        rows = np.stack(self._values + timed)
        first_step = step - len(rows) + 1
        self._values, self._pending = [], []
        self.images_seen += timed_steps * self.batch_size
        warmup = self.windows_done < self.warmup_windows
        self.windows_done += 1
        if not warmup:
            self.measured.append(per_sec)
        means = dict(zip(STEP_OUTPUTS, np.nanmean(np.where(np.isfinite(rows), rows, np.nan), 0)
                         if np.isfinite(rows).any() else [float("nan")] * len(STEP_OUTPUTS)))
        line = {"step": step, "images_seen": self.images_seen,
                **{k: float(v) for k, v in means.items()},
                "window_seconds": seconds, "images_per_sec": per_sec,
                "timed_steps": timed_steps, "warmup": warmup, **self.step_fn.loss_scales()}
        records.append_jsonl(self.path, line)
        self._write_tensorboard(step, line)
        self._check_finite(rows, first_step)
        return seconds, per_sec

    def throughput(self) -> dict:
        if not self.measured:
            self.warnings.append("no measured throughput window: all windows were warm-up "
                                 "(raise steps or lower warmup_windows)")
        return percentiles_to_throughput(self.measured)

    def _check_finite(self, rows: np.ndarray, first_step: int):
        bad = ~np.isfinite(rows[:, :2])
        if bad.any():
            index, column = np.argwhere(bad)[0]
            raise Diverged(first_step + int(index), STEP_OUTPUTS[column])

    def _write_tensorboard(self, step, line):
        import tensorflow as tf

        with self.writer.as_default(step=step):
            for key in (*STEP_OUTPUTS, "images_per_sec", *self.step_fn.loss_scales()):
                value = line.get(key)
                if value is not None and np.isfinite(value):
                    tf.summary.scalar(key, value)
        self.writer.flush()
