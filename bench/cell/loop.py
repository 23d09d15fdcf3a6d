"""The one training loop: K seeds of one configuration stepped as one program (K = 1: a cell),
under any framework (bench.cell.runtime), in log windows, through timing phases, with
evaluations between windows. Every cell kind (TensorFlow, JAX, seeds packed in one JAX program)
and the calibration (bench.cell.calibrate) train through `train`; benchmarks time `run_windows`.

Timing rules (the numbers users compare):
- The first batch is fetched and timed alone as `first_batch_seconds` (it fills the shuffle
  buffer: the whole data set). The first call of the program on it (tracing, XLA compilation when
  on, and that one step) is timed alone as `compile_seconds`. Neither is in a throughput window.
- A log window ends on one host sync of every seed's rows, never per step, so the device queue is
  drained once a window; the clock is read once after it, and the seeds of one program share
  that time. `window_seconds` spans the window's steps up to that sync; logging and evaluation
  between windows fall outside every window and inside `wall_seconds`.
- The first `warmup_windows` windows, and a final window shorter than half of `log_every` steps,
  are logged but left out of the images/sec statistics (bench.cell.timing).
- Each window is logged with what else ran in it (bench.cell.contention: the cell's share of
  its cores, the other processes' and the hypervisor's share of the machine, the load), and the
  summary's `contention` sums up the measured windows.
- Where the time went is `phase_seconds`: setup, compile, train, periodic_eval, save,
  final_eval, teardown (bench.cell.train adds what no phase accounts for); seeds packed with
  `packing = "auto"` add packing_trial, the time their program spent timing each packing.
- The step is traced once; a retrace afterwards (a shape or dtype change) is a summary warning.
  Where nothing is traced (JAX op by op) `retraces` is None: the warning does not apply.
"""

import time

import numpy as np

from bench import schema
from bench.cell import faults
from bench.cell.contention import ContentionProbe


class FixedWindows:
    """A cell's windows: one ending at every multiple of `log_every`, and one at the last step."""

    def __init__(self, total: int, log_every: int):
        self.total, self.log_every = total, log_every

    def next_window(self, start: int, last_seconds: float | None):
        """(last step, whether it is the cell's last window) of the window starting at `start`;
        None when training is over."""
        if start > self.total:
            return None
        end = min(self.total, -(-start // self.log_every) * self.log_every)
        return end, end == self.total


class Phases:
    """Seconds spent in each named phase; `end(name)` closes the phase running since the last."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._clock = time.perf_counter()

    def end(self, name: str):
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._clock
        self._clock = now


def run_windows(program, feeds, logs, plan, *, seeds=(0,), evals=(), eval_every=0,
                modes_every=0, on_window=None, nan_step=None, overlap=False, start=2,
                total=None) -> int:
    """Step `program` on one batch of each feed a step, from `start`, in the windows `plan`
    gives, each ended by one host sync of every log; returns the last step run.

    Periodic evaluations (each of `evals`, every `eval_every` steps, and Stacked MNIST's cheap
    modes every `modes_every`) run between windows, outside any timed window. `overlap`
    (asynchronous devices: GPUs): at a window's end the next step is dispatched before the
    window's host sync, so the device has work queued while the host reads
    the window's values and logs them. Without it, each sync drains the queue and the device
    idles while the next step is dispatched, a bubble of about one step's host time per window:
    5-20% low at small batches with 5-step windows. On the CPU steps run as they are dispatched,
    and a step dispatched ahead would run inside the window it does not belong to, so the CPU
    does not.

    A program that runs several steps a dispatch (the study program: `steps_per_dispatch`) gets
    a window's steps in as few dispatches as that allows, never one ahead.
    """
    slowdown = faults.slowdown_fraction()  # test-only; 0 in every normal run
    per_dispatch = getattr(program, "steps_per_dispatch", 1)
    overlap = overlap and per_dispatch == 1

    def batches_for(step):
        for seed in seeds:
            faults.check_crash(step, seed)
        return [next(feed) for feed in feeds]

    def dispatch(step):
        batches = batches_for(step)
        if step == nan_step:
            batches = [b * float("nan") for b in batches]  # real batches made all NaN
        outputs = program(batches)
        return [outputs[k] for k in range(len(logs))]

    def dispatch_windows(first, end):
        for begin in range(first, end + 1, per_dispatch):
            steps = range(begin, min(end, begin + per_dispatch - 1) + 1)
            outputs = program.run_window([batches_for(s) for s in steps],
                                         [float("nan") if s == nan_step else 1.0 for s in steps])
            for k, log in enumerate(logs):
                log.append(outputs[k, :len(steps)])

    ahead, last, seconds = None, start - 1, None
    probe = ContentionProbe()  # what else ran in each window (bench.cell.contention)
    window_start = time.perf_counter()
    while (window := plan.next_window(last + 1, seconds)) is not None:
        end, final = window
        if per_dispatch > 1:
            dispatch_windows(last + 1, end)
        else:
            for step in range(last + 1, end + 1):
                if step != ahead:
                    for log, row in zip(logs, dispatch(step)):
                        log.append(row)
        evaluate = bool(evals and eval_every and end % eval_every == 0 and not final)
        read_modes = bool(evals and modes_every and end % modes_every == 0 and not final)
        ahead = end + 1 if overlap and not final and not (evaluate or read_modes) else None
        ahead_rows = dispatch(ahead) if ahead else [None] * len(logs)
        for log in logs:
            log.sync()
        synced = time.perf_counter()
        seconds = synced - window_start
        if slowdown:
            time.sleep(seconds * slowdown)
            synced = time.perf_counter()
            seconds = synced - window_start
        contention = probe.window()  # and the next window's clocks start here
        per_sec = [log.end_window(end, seconds, final=final, ahead=row,  # raises Diverged
                                  contention=contention)
                   for log, row in zip(logs, ahead_rows)]
        if on_window:
            on_window(end, total, per_sec[0])
        if evaluate:
            for ev in evals:
                ev.periodic(end)
        if read_modes:
            for ev in evals:
                ev.modes(end)
        last = end
        if not ahead:  # evaluations ran since the sync: the next window starts now
            probe.start()
        window_start = synced if ahead else time.perf_counter()
    return last


def train(fw, cfgs, split, device, out_dirs, memory, plan, on_window=None) -> list[dict]:
    """Train the seeds `cfgs` (one configuration) as one program under runtime `fw`
    (bench.cell.runtime) on `device` into `out_dirs`, through the windows of `plan`; each seed's
    summary fields. Raises Diverged on a non-finite loss; any other exception is the caller's to
    record."""
    from bench.cell.generate import SamplePlan, write_samples_png
    from bench.cell.periodic import Evaluations
    from bench.cell.timing import WindowLog

    cfg, phases = cfgs[0], Phases()
    built = [fw.build(c, device) for c in cfgs]  # each seed: its seed, its initial weights
    phases.end("setup")
    program = fw.program([b.step for b in built], cfg, device, split)
    # packing = "auto" timed each packing here first (bench.cell.jax_packed.measured_packing)
    trial = getattr(program, "packing_trial", None)
    phases.end("packing_trial" if trial else "setup")
    seeds = range(len(cfgs))
    logs = [WindowLog(out_dirs[k], cfgs[k], lambda k=k: program.loss_scales(k),
                      tensorboard=fw.tensorboard) for k in seeds]
    evals = [Evaluations(cfgs[k], fw, built[k][0], out_dirs[k], memory, program=program, k=k)
             for k in seeds]
    phases.end("setup")
    memory.training_started()
    with device.placement():
        feeds = [fw.batches(split, c) for c in cfgs]
        t0 = time.perf_counter()
        first_batches = [next(feed) for feed in feeds]  # fills the shuffle buffer: the data set
        first_batch_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = [np.asarray(row) for row in program(first_batches)]  # the sync ends the compile
        compile_seconds = time.perf_counter() - t0
        for log, row in zip(logs, first):
            log.add_first(row)
        memory.first_step_ended()
        traces_after_compile = program.tracing_count
        phases.end("compile")
        total = getattr(plan, "total", None)
        last = run_windows(program, feeds, logs, plan, seeds=[c.seed for c in cfgs],
                           evals=evals, eval_every=cfg.eval_every,
                           modes_every=cfg.modes_every, on_window=on_window,
                           nan_step=faults.nan_batch_step(), overlap=device.asynchronous,
                           total=total)
        memory.training_ended()
        for k in seeds:
            program.write_back(k)  # each seed's models hold its trained state from here on
        phases.end("train")
        for b, out_dir in zip(built, out_dirs):
            write_samples_png(b.generator, out_dir / schema.SAMPLES_FILE,
                              SamplePlan.from_config(cfg))
            fw.save_generator(b.generator, out_dir / schema.GENERATOR_FILE)
        phases.end("save")
        finals = [ev.final(last) for ev in evals]
        phases.end("final_eval")
        del feeds  # stops an input pipeline's background threads, inside a measured phase
        phases.end("teardown")
    periodic = sum(ev.periodic_seconds for ev in evals)
    phases.seconds["periodic_eval"] = periodic
    phases.seconds["train"] -= periodic
    retraces = None if traces_after_compile is None else \
        program.tracing_count - traces_after_compile
    packed = {"seeds_per_process": len(cfgs), "cells": [d.name for d in out_dirs],
              "packing": program.packing, "packing_trial": trial} if len(cfgs) > 1 else None
    params = trainable_params(built[0])  # one configuration: the same networks every seed
    results = [{**_seed_result(cfgs, log, ev, final, last, first_batch_seconds, compile_seconds,
                               phases.seconds, retraces, program.loss_scales(k), packed),
                "steps_per_dispatch": program.steps_per_dispatch,
                "trainable_params": params}
               for k, log, ev, final in zip(seeds, logs, evals, finals)]
    for result in results:  # what the program knows of itself on this device (jax_study's)
        result["warnings"] = result["warnings"] + list(getattr(program, "warnings", ()))
    return results


def trainable_params(built) -> dict:
    """Each network's trainable parameters (batch norm's moving averages are not)."""
    return {name: int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
            for name, model in (("generator", built.generator),
                                ("discriminator", built.discriminator))}


def _seed_result(cfgs, log, ev, final, steps, first_batch_seconds, compile_seconds, phases,
                 retraces, loss_scales, packed) -> dict:
    from bench import contention_rule as contention
    from bench.cell.flops import config_step_flops_per_image, flops_summary

    throughput = log.throughput()
    warnings = log.warnings + ([f"step retraced {retraces} time(s) during measured windows: "
                                "throughput includes tracing"] if retraces else [])
    result = {
        "contention": contention.summary_of(log.measured_contention),
        "steps": steps, "first_batch_seconds": first_batch_seconds,
        "compile_seconds": compile_seconds, "images_per_sec": throughput, "retraces": retraces,
        "warnings": warnings, "final": final, **ev.best(), "phase_seconds": dict(phases),
        **loss_scales, **ev.summary_fields()}
    if packed:
        overall = throughput.get("overall")
        result["warnings"] = warnings + [
            f"trained in one program with {len(cfgs)} seeds: images/s is this seed's images "
            "over the time the seeds shared"]
        result["packed"] = packed
        result["packed_images_per_sec_process"] = overall * len(cfgs) if overall else None
    result.update(flops_summary(config_step_flops_per_image(cfgs[0]), throughput,
                                config_step_flops_per_image(cfgs[0], unpadded=True)))
    return result
