"""Seeds packed into one program: K seeds of one JAX configuration trained by one jitted function.

A seed study needs many seeds of one configuration, and on a GPU this small model at batch 64
leaves most of the chip idle: K seeds stepped together may cost little more than one (not yet
measured on a GPU: runs/grids/gpu-check-jax.toml measures it). Each seed keeps
everything it would have alone: its own initial weights, noise key, batch order, cell directory
and complete record, and the same trajectory (tests/test_jax.py: K = 1 and K = 4 give the same
losses per seed). What the seeds share is the time: a window's seconds are the program's, so
each seed's images/s is its own images over that shared time, and the record says so
(`packed`: the seeds, the per-process images/s).

How the K steps are put in one program is chosen per device (AUTO_PACKING) or by a part's
`packing`: a Python loop over the seeds inside one `jax.jit` keeps every convolution a plain one;
`jax.vmap` over stacked states turns them into grouped convolutions, which XLA:CPU runs 25-40
times slower per seed (measured when the backend was tried) and a GPU may run well. The CPU
loops; runs/grids/gpu-check-jax.toml measures both on a GPU.
"""

import sys
import time
import traceback
from pathlib import Path

import numpy as np

from bench import records, schema
from bench.cell.jax_cell import JaxFramework, numpy_batches
from bench.cell.timing import Diverged, WindowLog

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

    def write_back(self):
        for step, state in zip(self.steps, self.seed_states()):
            step.state = state
            step.write_back()


def run_packed_cells(cfgs, out_dirs, extra_summary=None) -> list[dict]:
    """Train the K cells `cfgs` (one configuration, K seeds) in one program into `out_dirs`;
    their summaries. BenchError (bad input) before anything is written."""
    from bench.cell.train import prepare_cell_dir
    from bench.datasets import load_split

    fw = JaxFramework()
    device = fw.resolve_device(cfgs[0])
    packing = packing_for(device.platform, cfgs[0].packing)
    split = load_split(cfgs[0].data, "train", cfgs[0].data_dir)
    total = cfgs[0].total_steps(len(split.images))
    out_dirs = [Path(d) for d in out_dirs]
    ids = [d.name for d in out_dirs]
    summaries = []
    for cfg, out_dir in zip(cfgs, out_dirs):
        prepare_cell_dir(out_dir, overwrite=True)
        records.write_json_record(out_dir / schema.CONFIG_FILE, {
            **cfg.to_dict(), "total_steps": total, **fw.device_record(device),
            "data_source": split.source, "data_size": len(split.images)})
        records.write_json_record(out_dir / schema.ENV_FILE, fw.environment(device, cfg))
        summary = {"status": schema.STATUS_RUNNING, "reason": None, "steps_planned": total,
                   "packed": {"seeds_per_process": len(cfgs), "cells": ids,
                              "packing": packing},
                   **(extra_summary or {})}
        records.write_json_record(out_dir / schema.SUMMARY_FILE, summary)
        summaries.append(summary)
    started = time.perf_counter()
    memory = fw.memory(device)
    try:
        results = _train_packed(cfgs, fw, split, total, device, out_dirs, memory, packing)
        for summary, result in zip(summaries, results):
            summary.update(result, status=schema.STATUS_OK)
    except Diverged as e:
        for summary in summaries:
            summary.update(status=schema.STATUS_DIVERGED, reason=f"{e} (one of the packed "
                           "seeds: they train as one program)", diverged_at_step=e.step)
    except Exception as e:  # noqa: BLE001 - a failure inside the program is every seed's result
        for out_dir, summary in zip(out_dirs, summaries):
            records.write_text_atomic(out_dir / schema.TRACEBACK_FILE, traceback.format_exc())
            summary.update(status=schema.STATUS_FAILED, reason=f"{type(e).__name__}: {e}")
    finally:
        fw.reset()
    memory_fields = memory.finish()
    for out_dir, summary in zip(out_dirs, summaries):
        summary["wall_seconds"] = time.perf_counter() - started
        summary.update(memory_fields)
        records.write_json_record(out_dir / schema.SUMMARY_FILE, summary)
    return summaries


def _train_packed(cfgs, fw, split, total, device, out_dirs, memory, packing) -> list[dict]:
    from bench.cell.generate import save_generator, write_samples_png

    cfg = cfgs[0]
    phases, clock = {}, time.perf_counter()

    def phase(name):
        nonlocal clock
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - clock
        clock = now

    built = [fw.build(c, device) for c in cfgs]  # each seed: its seed, its initial weights
    steps = [step for _, step in built]
    packed = PackedSteps(steps, cfg.xla, packing)
    logs = [WindowLog(out_dir, c, step, tensorboard=False)
            for out_dir, c, step in zip(out_dirs, cfgs, steps)]
    evals = [fw.evaluations(c, generator, out_dir, memory, step)
             for c, (generator, step), out_dir in zip(cfgs, built, out_dirs)]
    phase("setup")
    memory.training_started()
    with fw.placement(device):
        feeds = [numpy_batches(split.images, c.batch_size, c.seed) for c in cfgs]
        t0 = time.perf_counter()
        first = np.asarray(packed([next(f) for f in feeds]))  # the compile, and its sync
        compile_seconds = time.perf_counter() - t0
        memory.first_step_ended()
        for log, row in zip(logs, first):
            log.add_first(row)
        phase("compile")
        window_start = time.perf_counter()
        for step in range(2, total + 1):
            outputs = packed([next(f) for f in feeds])
            for k, log in enumerate(logs):
                log.append(outputs[k])
            if step % cfg.log_every == 0 or step == total:
                np.asarray(outputs)  # the one host sync of the window, for every seed
                seconds = time.perf_counter() - window_start
                for log in logs:
                    log.end_window(step, final=step == total, shared_seconds=seconds)
                window_start = time.perf_counter()
        memory.training_ended()
        packed.write_back()
        phase("train")
        for (generator, _), out_dir in zip(built, out_dirs):
            write_samples_png(generator, out_dir / schema.SAMPLES_FILE)
            save_generator(generator, out_dir / schema.GENERATOR_FILE)
        phase("save")
        finals = [e.final(total) for e in evals]
        phase("final_eval")
    results = []
    for log, ev, final in zip(logs, evals, finals):
        throughput = log.throughput()
        overall = throughput.get("overall")
        results.append({
            "steps": total, "first_batch_seconds": None, "compile_seconds": compile_seconds,
            "images_per_sec": throughput, "retraces": 0, "warnings": log.warnings + [
                f"trained in one program with {len(cfgs)} seeds: images/s is this seed's "
                "images over the time the seeds shared"],
            "final": final, **ev.best(), "phase_seconds": dict(phases),
            "packed_images_per_sec_process": overall * len(cfgs) if overall else None,
            **ev.summary_fields()})
    return results


def main_packed(argv) -> int:
    """The cell process of a packed group: CELL_DIR CONFIG_JSON pairs (bench.grid.worker)."""
    import json

    from bench.config import CellConfig
    from bench.errors import EXIT_BAD_INPUT, BenchError

    pairs = list(zip(argv[0::2], argv[1::2]))
    cfgs = [CellConfig(**json.loads(c)) for _, c in pairs]
    try:
        summaries = run_packed_cells(cfgs, [d for d, _ in pairs])
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0 if all(s["status"] == schema.STATUS_OK for s in summaries) else 1
