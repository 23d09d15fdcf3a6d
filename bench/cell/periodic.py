"""Evaluations during and at the end of training: evals.jsonl, the final block, the best FID.

GAN quality is not monotone in training, so besides the final evaluation the summary names the
best periodic FID and its step. Every record carries its sample count `n`, the reference split and
the classifier's hash: FIDs with different n are not comparable.

An evaluation is a measurement of the training, not part of it: one that fails (a non-finite
metric, a broken instrument, memory) ends the cell's evaluations, and the summary's
`final_eval` says "failed: <why>"; the training's record, windows and generator are kept and the
cell stays ok. `dcgan-bench eval CELL` can evaluate the saved generator again.
"""

import time
import traceback

from bench import records, schema

FAILED = "failed"


class Evaluations:
    """One seed's evaluations, in this process, under any framework: the program writes the
    seed's state back into its generator, the framework samples it; the instrument (bench.evaluate) scores the
    samples. Where the instrument's files are missing, nothing is evaluated and the summary says
    the evaluations are pending; where an evaluation fails, the summary says why."""

    def __init__(self, cfg, fw, generator, out_dir, memory=None, *, program=None, k=0):
        # program: whose seed k this is (bench.cell.runtime.Program), which holds the state
        # trained so far; None for a generator that is not training (the calibration's)
        self.cfg, self.fw, self.generator = cfg, fw, generator
        self.program, self.k = program, k
        self.path = out_dir / schema.EVALS_FILE
        self.history: list[dict] = []
        self.periodic_seconds = 0.0
        self.memory = memory  # MemoryPeaks: an evaluation's memory is not training memory
        self._classifier = None
        self.failed = None  # why an evaluation failed; none is attempted after it
        wanted = bool(cfg.eval_every or cfg.final_eval_n or cfg.modes_every)
        from bench.evaluate.classifier import missing_reason

        self.pending = missing_reason(cfg.data) if wanted else None
        if wanted and not self.pending:
            # Load the instrument (and TF-GAN, where it computes the metrics) before training:
            # a broken evaluation set-up fails the cell in seconds, before any training is spent.
            from bench.evaluate import metrics
            from bench.evaluate.classifier import load_classifier

            self._classifier = load_classifier(cfg.data)
            if metrics.engine() == metrics.TFGAN:
                from bench.evaluate.tfgan import eval_functions

                eval_functions()

    def _samples(self, n: int, step: int | None):
        from bench.cell import faults

        if self.program is not None:  # the generator's variables take the state trained so far
            self.program.write_back(self.k)
        images = self.fw.generate(self.generator, n, self.cfg)
        if step is not None and step == faults.eval_nan_step():
            images = images * float("nan")
        return images

    def evaluate(self, n: int, step: int | None = None) -> dict:
        """Every metric of n samples of the generator as trained so far, with `eval_seconds`."""
        from bench.evaluate.score import evaluate_images

        t0 = time.perf_counter()
        result = evaluate_images(self._samples(n, step), self.cfg.data,
                                 data_dir=self.cfg.data_dir, classifier=self._classifier)
        result["eval_seconds"] = time.perf_counter() - t0
        return result

    def modes_only(self, n: int, step: int | None = None) -> dict:
        """Stacked MNIST's numbers alone of n samples (bench.evaluate.score's cheap reading),
        with `eval_seconds`."""
        from bench.evaluate.score import stacked_images_to_modes

        t0 = time.perf_counter()
        result = {"n": n, **stacked_images_to_modes(self._samples(n, step), self._classifier)}
        result["eval_seconds"] = time.perf_counter() - t0
        return result

    def _evaluate_or_fail(self, n: int, step: int, which: str, how=None) -> dict | None:
        """The evaluation's result, or None with `failed` set to why (after one failure, None)."""
        if self.pending or self.failed:
            return None
        try:
            return {"step": step, **(how or self.evaluate)(n, step)}
        except Exception as e:  # noqa: BLE001 - any failure of a measurement is recorded, not raised
            self.failed = (f"{FAILED}: the {which} evaluation at step {step} (n = {n}): "
                           f"{type(e).__name__}: {e}")
            # the whole traceback beside the record, for whoever debugs the instrument
            records.write_text_atomic(self.path.with_name("eval-traceback.txt"),
                                      traceback.format_exc())
            return None

    def periodic(self, step: int):
        t0 = time.perf_counter()
        if self.memory:
            self.memory.evaluation_starts()
        result = self._evaluate_or_fail(self.cfg.eval_n, step, "periodic")
        if self.memory:
            self.memory.evaluation_ended()
        self.periodic_seconds += time.perf_counter() - t0
        if result is not None:
            self.history.append(result)
            records.append_jsonl(self.path, result)

    def modes(self, step: int):
        """The cheap Stacked-MNIST reading at `step`, into modes.jsonl (outside every timed
        window, inside the periodic evaluations' time)."""
        t0 = time.perf_counter()
        if self.memory:
            self.memory.evaluation_starts()
        result = self._evaluate_or_fail(self.cfg.modes_n, step, "modes", self.modes_only)
        if self.memory:
            self.memory.evaluation_ended()
        self.periodic_seconds += time.perf_counter() - t0
        if result is not None:
            records.append_jsonl(self.path.with_name(schema.MODES_FILE), result)

    def final(self, step: int) -> dict | None:
        if not self.cfg.final_eval_n:
            return None
        return self._evaluate_or_fail(self.cfg.final_eval_n, step, "final")

    def best(self) -> dict:
        return best_fid_fields(self.history)

    def summary_fields(self) -> dict:
        why = self.pending or self.failed
        return {"final_eval": why} if why else {}


def best_fid_fields(history: list[dict]) -> dict:
    """The summary's best_fid, best_fid_step and best_fid_n among a cell's evaluations."""
    scored = [r for r in history if r.get(schema.FID) is not None]
    if not scored:
        return {"best_fid": None, "best_fid_step": None, "best_fid_n": None}
    best = min(scored, key=lambda r: r[schema.FID])
    return {"best_fid": best[schema.FID], "best_fid_step": best["step"], "best_fid_n": best["n"]}
