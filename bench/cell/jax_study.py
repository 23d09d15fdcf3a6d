"""The study program: K seeds (K >= 1) of one JAX configuration, a whole log window of steps run
by one dispatch.

The step-at-a-time loop (bench.cell.loop with bench.cell.jax_step or jax_packed) dispatches one
jitted step per training step and builds each batch in NumPy on the host: on a GPU the host's
work, not the device's, sets the pace (about 2.2 ms a step on an H200 for a few tenths of a
millisecond of device work, issue 44). Here the training images go to the device once, the
batches are gathered there from index arrays, and a window's steps run inside one `lax.scan`.

The trajectory is the step-at-a-time loop's: the same batches (the indices come from
`numpy_batch_indices`, the order `numpy_batches` draws), the same noise (each step splits the
seed's key as `update` does) and the same update, so the losses agree to float tolerance
(tests/test_jax_study.py). Windows shorter than the compiled length (the first, and a last short
one) run under a `lax.cond` that skips the steps past the window's end, so one program serves
every window and nothing is traced twice.

Packing of K seeds, as in bench.cell.jax_packed: `loop` (a Python loop over the seeds inside the
scanned step: plain convolutions) or `vmap` (stacked states: grouped convolutions).
"""

import numpy as np

from bench.cell.jax_packed import SeedStates

# Why the study program loses on a CPU (docs/gpus-and-jax.md, "The study program"): in the
# optimized HLO of the tutorial's step written out 4 times, 76 of the 84 convolutions have the
# layout XLA:CPU's fast convolution takes (b01f_01io->b01f); inside the scan's while loop only 7
# of the step's 21 do (7 keep b01f_01oi->b01f, 7 f01b_i01o->01bf or ->01fb), as jax-ml/jax#12868
# reports for convolutions in a loop body.
CPU_WARNING = ("the study program on a CPU: XLA:CPU runs most of the step's convolutions inside "
               "the scanned loop without its fast convolution (jax-ml/jax#12868), about ten "
               "times slower than the step program here (docs/gpus-and-jax.md)")


class StudyProgram(SeedStates):
    """K seeds' steps in windows of up to `window` steps, one dispatch a window (a
    bench.cell.runtime.Program). Called with K index batches it runs one step (the compile
    step); `run_window` runs a window's steps."""

    def __init__(self, steps, images: np.ndarray, *, window: int, packing: str = "loop"):
        import jax
        import jax.numpy as jnp
        from jax import lax

        from bench.cell.jax_step import traced

        super().__init__(steps, packing)
        update, k = steps[0].update, len(steps)
        self.steps_per_dispatch = window
        self._data = jax.device_put(np.asarray(images, np.float32))
        platforms = {d.platform for d in self._data.devices()}
        self.warnings = [CPU_WARNING] if platforms == {"cpu"} else []
        data = self._data
        if packing == "vmap":
            vmapped = jax.vmap(update)

            def advance(states, indices, scale):
                return vmapped(states, data[indices] * scale)
        else:
            def advance(states, indices, scale):
                results = [update(state, data[i] * scale) for state, i in zip(states, indices)]
                return [r[0] for r in results], jnp.stack([r[1] for r in results])

        def run(states, indices, scales, n):
            """`indices` (window, K, batch), `scales` (window,): the steps before `n` run."""
            def body(states, xs):
                i, step_indices, scale = xs
                return lax.cond(i < n, lambda s: advance(s, step_indices, scale),
                                lambda s: (s, jnp.zeros((k, 4), jnp.float32)), states)

            states, outputs = lax.scan(body, states, (jnp.arange(window), indices, scales))
            return states, jnp.swapaxes(outputs, 0, 1)  # (K, window, 4)

        self._fn, self._traces = traced(run, True)

    @property
    def tracing_count(self) -> int:
        return self._traces()

    def __call__(self, batches):
        """One step on K index batches: (K, 4) outputs."""
        return self.run_window([batches])[:, 0]

    def run_window(self, step_batches, scales=None):
        """The window's steps, `step_batches[w][k]` the indices of step w for seed k, in one
        dispatch; (K, window, 4) outputs of which the first len(step_batches) are the steps'.
        `scales[w]` multiplies step w's images (1; NaN makes a batch of NaN, bench.faults)."""
        n = len(step_batches)
        if not 0 < n <= self.steps_per_dispatch:
            raise ValueError(f"a window of 1 to {self.steps_per_dispatch} steps, found {n}")
        indices = np.zeros((self.steps_per_dispatch, len(self.steps),
                            len(step_batches[0][0])), np.int32)
        indices[:n] = np.asarray(step_batches, np.int32)
        scale = np.ones(self.steps_per_dispatch, np.float32)
        if scales is not None:
            scale[:n] = scales
        self.states, outputs = self._fn(self.states, indices, scale, np.int32(n))
        return outputs
