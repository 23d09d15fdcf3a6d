"""Seeds packed into one program: K seeds of one JAX configuration trained by one jitted function.

The one loop (bench.cell.loop) steps K seeds through this program as it steps one seed through
its own step (bench.cell.framework.OneSeed). A seed study needs many seeds of one
configuration, and on a GPU this small model at batch 64 leaves most of the chip idle: K seeds
stepped together may cost little more than one (not yet measured on a GPU:
runs/grids/gpu-check-jax.toml measures it). Each seed keeps
everything it would have alone: its own initial weights, noise key, batch order, cell directory
and complete record, and the same trajectory (tests/test_jax_framework.py: K = 1 and K = 4 give the same
losses per seed). What the seeds share is the time: a window's seconds are the program's, so
each seed's images/s is its own images over that shared time, and the record says so
(`packed`: the seeds, the per-process images/s).

How the K steps are put in one program is chosen per device (AUTO_PACKING) or by a part's
`packing`: a Python loop over the seeds inside one `jax.jit` keeps every convolution a plain one;
`jax.vmap` over stacked states turns them into grouped convolutions, which XLA:CPU runs 25-40
times slower per seed (measured when the backend was tried) and a GPU may run well. The CPU
loops; runs/grids/gpu-check-jax.toml measures both on a GPU.
"""

# How K seeds' steps are put in one program where a part says `packing = "auto"`, per platform;
# a part may name the other to measure it (runs/grids/gpu-check-jax.toml does), and the record
# says which ran (`packed.packing`).
AUTO_PACKING = {"cpu": "loop", "gpu": "loop"}


def packing_for(platform: str, packing: str) -> str:
    """The packing of seeds on `platform` under the configuration's `packing`."""
    return AUTO_PACKING.get(platform, "loop") if packing == "auto" else packing


class PackedSteps:
    """K seeds' states stepped by one jitted function: call with K batches, get (K, 4) outputs.
    `packing`: a Python loop over the seeds inside the function, or jax.vmap over their stacked
    states."""

    def __init__(self, steps, xla: bool, packing: str = "loop"):
        import jax
        import jax.numpy as jnp

        from bench.cell.jax_step import losses_and_grads, make_update

        first = steps[0]
        core = losses_and_grads(first.generator, first.discriminator)
        update = make_update(core, first.gen_opt, first.disc_opt, first.batch_size)
        self.steps, self.packing = steps, packing
        if packing == "vmap":
            # one state whose every array has a leading seed axis; seeds never mix (each row
            # of a batch statistic, mask or key is its seed's own)
            self.states = jax.tree.map(lambda *xs: jnp.stack(xs), *[s.state for s in steps])
            vmapped = jax.vmap(update)

            def packed(states, batches):
                return vmapped(states, jnp.stack(batches))
        else:
            self.states = [s.state for s in steps]

            def packed(states, batches):
                results = [update(state, images) for state, images in zip(states, batches)]
                return [r[0] for r in results], jnp.stack([r[1] for r in results])

        self._fn = jax.jit(packed) if xla else packed
        self.tracing_count = 1

    def __call__(self, batches):
        self.states, outputs = self._fn(self.states, batches)
        return outputs

    def seed_states(self) -> list:
        """Each seed's state, as its own JaxTrainStep holds one."""
        if self.packing == "vmap":
            import jax

            return [jax.tree.map(lambda x, k=k: x[k], self.states) for k in range(len(self.steps))]
        return list(self.states)

    def hand_back(self):
        """Each seed's own step holds its trained state again (the framework then writes it
        into that seed's Keras variables)."""
        for step, state in zip(self.steps, self.seed_states()):
            step.state = state
