"""Seeds packed into one program: K seeds of one JAX configuration trained by one jitted function.

The one loop (bench.cell.loop) steps K seeds through this program as it steps one seed through
its own step (bench.cell.runtime.OneSeed). A seed study needs many seeds of one configuration,
and on a GPU this small model at batch 64 leaves most of the chip idle. Measured on an H200
(docs/gpus-and-jax.md): one seed at batch 64 trained at 29,135 images/s, 8 seeds packed by
`vmap` at 34,015 for the process, 1.17 times one seed. Each seed keeps
everything it would have alone: its own initial weights, noise key, batch order, cell directory
and complete record, and the same trajectory (tests/test_jax_framework.py: K = 1 and K = 4 give
the same losses per seed; periodic evaluations of a packed seed equal its evaluations alone).
The program owns the seeds' state: `write_back(k)` puts seed k's into its own Keras variables
before that seed is evaluated, sampled or saved. What the seeds share is the time: a window's
seconds are the program's, so each seed's images/s is its own images over that shared time, and
the record says so (`packed`: the seeds, the per-process images/s).

How the K steps are put in one program is a part's `packing`: a Python loop over the seeds
inside one `jax.jit` keeps every convolution a plain one; `jax.vmap` over stacked states turns
them into grouped convolutions, which cost XLA:CPU 2 to 2.5 times the loop's time (K = 2-8, two
AVX2 cores) and which a GPU's cuDNN may run well or badly (docs/gpus-and-jax.md). No table of
devices can say which wins on the device at hand, so `packing = "auto"` measures
(`measured_packing`) and the record keeps the trial (`packed.packing_trial`).
"""

import math
import time

MEASURED_PACKINGS = ("loop", "vmap")


def measured_packing(build, dispatch, *, rounds: int = 2, min_seconds: float = 0.5,
                     clearly_slower: float = 2.0, clock=time.perf_counter) -> dict:
    """Which of MEASURED_PACKINGS runs a step fastest here: each candidate's program built by
    `build(packing)` and compiled by one untimed `dispatch(program)` (which runs and syncs one
    dispatch and returns the steps it ran), then timed in `rounds` interleaved rounds, so that a
    drift of the machine's load hits every candidate alike; a round is at least two dispatches
    and `min_seconds`, and each candidate's best round counts. A candidate whose round takes
    `clearly_slower` times the best's a step is not timed again (vmap's first round on a CPU).
    The programs are the caller's to drop: the trial's steps advanced their states, not the
    seeds'. `clock`: seconds, monotonic (tests pass a simulated one). Returns {"chosen",
    "step_seconds": {packing: seconds a step}, "rounds", "seconds": the trial's wall time,
    compilations included}."""
    started = clock()
    programs = {}
    for packing in MEASURED_PACKINGS:
        programs[packing] = build(packing)
        dispatch(programs[packing])
    best = {packing: math.inf for packing in programs}
    for r in range(rounds):
        for packing, program in programs.items():
            if r and best[packing] > clearly_slower * min(best.values()):
                continue
            steps, dispatches, t0 = 0, 0, clock()
            while dispatches < 2 or clock() - t0 < min_seconds:
                steps += dispatch(program)
                dispatches += 1
            best[packing] = min(best[packing], (clock() - t0) / steps)
    return {"chosen": min(best, key=best.get), "step_seconds": best, "rounds": rounds,
            "seconds": clock() - started}


class SeedStates:
    """K seeds' states held by one program, stacked on a leading seed axis for `vmap` or kept
    apart for `loop`; each seed's trained state goes back into its own step and Keras variables
    (`write_back`)."""

    def __init__(self, steps, packing: str):
        import jax
        import jax.numpy as jnp

        self.steps, self.packing = steps, packing
        # vmap: one state whose every array has a leading seed axis; seeds never mix (each row
        # of a batch statistic, mask or key is its seed's own)
        self.states = jax.tree.map(lambda *xs: jnp.stack(xs), *[s.state for s in steps]) \
            if packing == "vmap" else [s.state for s in steps]

    def loss_scales(self, k: int) -> dict:
        return self.steps[k].loss_scales()

    def seed_state(self, k: int):
        """Seed k's state, as its own JaxTrainStep holds one."""
        if self.packing == "vmap":
            import jax

            return jax.tree.map(lambda x: x[k], self.states)
        return self.states[k]

    def write_back(self, k: int):
        """Seed k's trained state into its own step, then into that seed's Keras variables."""
        step = self.steps[k]
        step.state = self.seed_state(k)
        step.write_back()


class PackedSteps(SeedStates):
    """K seeds' states stepped by one jitted function (a bench.cell.runtime.Program): call with
    K batches, get (K, 4) outputs. `packing`: a Python loop over the seeds inside the function,
    or jax.vmap over their stacked states. Every seed's step shares one `update` (one
    configuration: the same networks and optimisers, each seed its own state)."""

    steps_per_dispatch = 1

    def __init__(self, steps, xla: bool, packing: str = "loop"):
        import jax
        import jax.numpy as jnp

        from bench.cell.jax_step import traced

        super().__init__(steps, packing)
        update = steps[0].update
        if packing == "vmap":
            vmapped = jax.vmap(update)

            def packed(states, batches):
                return vmapped(states, jnp.stack(batches))
        else:
            def packed(states, batches):
                results = [update(state, images) for state, images in zip(states, batches)]
                return [r[0] for r in results], jnp.stack([r[1] for r in results])

        self._fn, self._traces = traced(packed, xla)

    @property
    def tracing_count(self) -> int | None:
        return self._traces()

    def __call__(self, batches):
        self.states, outputs = self._fn(self.states, batches)
        return outputs

    def optimized_hlo(self, batches) -> str:
        """The step's program for these batches as XLA optimized it for this device (compiled
        again: not for a timed path)."""
        return self._fn.lower(self.states, batches).compile().as_text()


# HLO instructions that launch nothing: they name, assemble or reinterpret buffers
BOOKKEEPING_OPCODES = frozenset({"parameter", "constant", "tuple", "get-tuple-element",
                                 "bitcast"})


def entry_kernels(hlo_text: str) -> dict:
    """The instructions of an optimized HLO module's entry computation by opcode, bookkeeping
    left out: on a GPU each is a kernel launch or a library call (a fusion, a cuDNN or cuBLAS
    custom call, a copy), the host's work a step; on a CPU the same count of the same program."""
    import re

    entry = hlo_text[hlo_text.index("\nENTRY "):]
    entry = entry[:entry.index("\n}")]
    counts = {}
    for opcode in re.findall(r"^\s+(?:ROOT )?%?\S+ = .*? ([a-z][a-z0-9-]*)\(", entry, re.M):
        if opcode not in BOOKKEEPING_OPCODES:
            counts[opcode] = counts.get(opcode, 0) + 1
    return counts
