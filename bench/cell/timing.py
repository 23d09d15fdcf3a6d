"""Log windows of a training cell: one host sync per window, steps.jsonl, TensorBoard, throughput.

The loop (bench.cell.loop) appends each step's output row without reading it; `sync` reads them
all at once (the host sync); `end_window` checks them for non-finite values and writes one
steps.jsonl line and the same scalars to TensorBoard.

Throughput statistics use measured windows only: the first `warmup_windows` windows are left out
(tracing caches, allocator growth), and so is a final window shorter than half of `log_every`
steps (a handful of steps timed with one sync is noise). Both are logged with the reason they
were left out. `overall` is the images of the measured windows over their total seconds: unlike
the median it weighs every measured step equally.
"""

import numpy as np

from bench import records, schema

# Columns of the output row one training step returns (bench.cell.step, bench.cell.jax_step).
STEP_OUTPUTS = ("gen_loss", "disc_loss", "d_real", "d_fake")


class Diverged(Exception):
    """A non-finite loss: the cell ends as `diverged` at this step."""

    def __init__(self, step, which):
        self.step = step
        super().__init__(f"non-finite {which} at step {step}")


EXCLUDED_WARMUP = "warmup"
EXCLUDED_SHORT_FINAL = "short_final_window"


def windows_to_throughput(images: list[int], seconds: list[float], excluded: dict) -> dict:
    """median, p10, p90 of the measured windows' images/sec, and overall images / seconds.

    None values (and windows=0) when nothing was measured; `windows_excluded` counts the windows
    left out by reason.
    """
    out = {"windows": len(images), "windows_excluded": dict(excluded)}
    if not images:
        return {"median": None, "p10": None, "p90": None, "overall": None, **out}
    per_sec = np.asarray(images, dtype=np.float64) / np.asarray(seconds, dtype=np.float64)
    return {"median": float(np.median(per_sec)), "p10": float(np.percentile(per_sec, 10)),
            "p90": float(np.percentile(per_sec, 90)),
            "overall": float(np.sum(images) / np.sum(seconds)), **out}


class WindowLog:
    """One seed's log windows: steps.jsonl (and TensorBoard events when `tensorboard`: a cell
    without TensorFlow, the JAX framework's, writes steps.jsonl alone).

    The loop (bench.cell.loop) owns the clock: it appends each step's output row unread, ends a
    window by `sync` (the host sync) on every seed's log, reads the clock once, and hands each
    log the window's seconds (several seeds in one program share them)."""

    def __init__(self, out_dir, cfg, loss_scales, tensorboard=True):
        self.path = out_dir / schema.STEPS_FILE
        # the images a step reads: the batch counts packs of packing_m (bench.cell.packing)
        self.batch_size = cfg.batch_size * cfg.packing_m
        self.warmup_windows = cfg.warmup_windows
        self.min_final_steps = cfg.log_every / 2
        self.loss_scales = loss_scales  # () -> the seed's loss-scale fields, {} without scaling
        self.writer = None
        if tensorboard:
            import tensorflow as tf

            self.writer = tf.summary.create_file_writer(str(out_dir / schema.TENSORBOARD_DIR))
        self.measured_images: list[int] = []
        self.measured_seconds: list[float] = []
        self.measured_contention: list[dict] = []  # bench.cell.contention's fields a window
        self._all_images: list[int] = []  # every window's, excluded ones too
        self._all_seconds: list[float] = []
        self.excluded: dict[str, int] = {}
        self.warnings: list[str] = []
        self.windows_done = 0
        self.images_seen = 0
        self._values: list[np.ndarray] = []  # already-synced rows (the compile step's)
        self._pending = []  # step output rows not yet read
        self._timed: list[np.ndarray] = []  # the window's rows, read by `sync`

    def add_first(self, values):
        """Record the first step's outputs (already synced): it counts for losses, not for time."""
        self._values = [np.asarray(values)]
        self.images_seen += self.batch_size
        self._check_finite(np.asarray(values)[None], first_step=1)

    def append(self, step_output):
        self._pending.append(step_output)

    def sync(self):
        """The host sync: read the window's rows (np.asarray waits for a TensorFlow or a JAX
        array's step to have run)."""
        synced = [np.asarray(t) for t in self._pending]
        # a row a step; a program that runs several steps a dispatch hands them as one block
        self._timed = [row for t in synced for row in (t if t.ndim == 2 else [t])]
        self._pending = []

    def end_window(self, step: int, seconds: float, *, final: bool = False,
                   ahead=None, contention: dict | None = None) -> float:
        """Log and check the window ending at `step`, synced, that took `seconds` (`final`: the
        cell's last window); returns its images/sec. `ahead`: the next step's output, dispatched
        before the sync (bench.cell.loop's overlap), the first row of the next window.
        `contention`: what else ran in the window (bench.cell.contention), logged with it."""
        timed = self._timed
        timed_steps = len(timed)
        per_sec = timed_steps * self.batch_size / seconds if seconds > 0 else float("nan")
        rows = np.stack(self._values + timed)
        first_step = step - len(rows) + 1
        self._values, self._timed = [], []
        if ahead is not None:
            self._pending.append(ahead)
        self.images_seen += timed_steps * self.batch_size
        warmup = self.windows_done < self.warmup_windows
        self.windows_done += 1
        excluded = (EXCLUDED_WARMUP if warmup else EXCLUDED_SHORT_FINAL
                    if final and timed_steps < self.min_final_steps else None)
        if timed_steps:
            self._all_images.append(timed_steps * self.batch_size)
            self._all_seconds.append(seconds)
        if excluded:
            self.excluded[excluded] = self.excluded.get(excluded, 0) + 1
        else:
            self.measured_images.append(timed_steps * self.batch_size)
            self.measured_seconds.append(seconds)
            if contention:  # with its seconds: the rule discounts a short window's clock ticks
                self.measured_contention.append({**contention, "window_seconds": seconds})
        means = dict(zip(STEP_OUTPUTS, np.nanmean(np.where(np.isfinite(rows), rows, np.nan), 0)
                         if np.isfinite(rows).any() else [float("nan")] * len(STEP_OUTPUTS)))
        line = {"step": step, "images_seen": self.images_seen,
                **{k: float(v) for k, v in means.items()},
                "window_seconds": seconds, "images_per_sec": per_sec,
                "timed_steps": timed_steps, "warmup": warmup, "excluded": excluded,
                **(contention or {}), **self.loss_scales()}
        records.append_jsonl(self.path, line)
        self._write_tensorboard(step, line)
        self._check_finite(rows, first_step)
        return per_sec

    def throughput(self) -> dict:
        """The measured windows' statistics. A run too short to have one (every window warm-up
        or a short final one) reports what its windows say, marked `unsteady` and warned about:
        a number to read with care, not nothing."""
        if self.measured_images or not self._all_images:
            return windows_to_throughput(self.measured_images, self.measured_seconds,
                                         self.excluded)
        self.warnings.append(
            f"no measured throughput window: all {len(self._all_images)} were warm-up or a short "
            "final window, so images/s comes from them (compilation caches, a few steps timed "
            "by one sync): not a steady rate; raise --steps or lower --warmup-windows")
        out = windows_to_throughput(self._all_images, self._all_seconds, {})
        return {**out, "windows": 0, "windows_excluded": dict(self.excluded),
                "unsteady": len(self._all_images)}

    def _check_finite(self, rows: np.ndarray, first_step: int):
        bad = ~np.isfinite(rows[:, :2])
        if bad.any():
            index, column = np.argwhere(bad)[0]
            raise Diverged(first_step + int(index), STEP_OUTPUTS[column])

    def _write_tensorboard(self, step, line):
        if self.writer is None:
            return
        import tensorflow as tf

        with self.writer.as_default(step=step):
            for key in (*STEP_OUTPUTS, "images_per_sec", *self.loss_scales()):
                value = line.get(key)
                if value is not None and np.isfinite(value):
                    tf.summary.scalar(key, value)
        self.writer.flush()
