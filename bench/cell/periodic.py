"""Evaluations during and at the end of training: evals.jsonl, the final block, the best FID.

GAN quality is not monotone in training, so besides the final evaluation the summary names the
best periodic FID and its step. Every record carries its sample count `n`, the reference split and
the classifier's hash: FIDs with different n are not comparable.
"""

import time

from bench import records, schema


class Evaluations:
    """One seed's evaluations, in this process, under any framework: the framework writes the
    step's state back and samples the generator; the instrument (bench.evaluate) scores the
    samples. Where the framework says the instrument cannot run here, nothing is evaluated and
    the summary says the evaluations are pending."""

    def __init__(self, cfg, fw, generator, step, out_dir, memory=None):
        self.cfg, self.fw, self.generator, self.step = cfg, fw, generator, step
        self.path = out_dir / schema.EVALS_FILE
        self.history: list[dict] = []
        self.periodic_seconds = 0.0
        self.memory = memory  # MemoryPeaks: an evaluation's memory is not training memory
        self._classifier = None
        self.pending = fw.instrument_unavailable() if (cfg.eval_every or cfg.final_eval_n) \
            else None
        if (cfg.eval_every or cfg.final_eval_n) and not self.pending:
            # Load the instrument and TF-GAN before training: a broken evaluation set-up fails
            # the cell in seconds, not after its whole training budget.
            from bench.evaluate.classifier import load_classifier
            from bench.evaluate.tfgan import eval_functions

            self._classifier = load_classifier(cfg.data)
            eval_functions()

    def evaluate(self, n: int) -> dict:
        """Every metric of n samples of the generator as trained so far, with `eval_seconds`."""
        from bench.evaluate.score import evaluate_images

        t0 = time.perf_counter()
        if self.step is not None:  # the generator's variables take the state trained so far
            self.fw.write_back(self.step)
        images = self.fw.generate(self.generator, n)
        result = evaluate_images(images, self.cfg.data, data_dir=self.cfg.data_dir,
                                 classifier=self._classifier)
        result["eval_seconds"] = time.perf_counter() - t0
        return result

    def periodic(self, step: int):
        if self.pending:
            return
        t0 = time.perf_counter()
        if self.memory:
            self.memory.evaluation_starts()
        result = {"step": step, **self.evaluate(self.cfg.eval_n)}
        if self.memory:
            self.memory.evaluation_ended()
        self.periodic_seconds += time.perf_counter() - t0
        self.history.append(result)
        records.append_jsonl(self.path, result)

    def final(self, step: int) -> dict | None:
        if not self.cfg.final_eval_n or self.pending:
            return None
        return {"step": step, **self.evaluate(self.cfg.final_eval_n)}

    def best(self) -> dict:
        return best_fid_fields(self.history)

    def summary_fields(self) -> dict:
        return {"final_eval": self.pending} if self.pending else {}


def best_fid_fields(history: list[dict]) -> dict:
    """The summary's best_fid, best_fid_step and best_fid_n among a cell's evaluations."""
    scored = [r for r in history if r.get(schema.FID) is not None]
    if not scored:
        return {"best_fid": None, "best_fid_step": None, "best_fid_n": None}
    best = min(scored, key=lambda r: r[schema.FID])
    return {"best_fid": best[schema.FID], "best_fid_step": best["step"], "best_fid_n": best["n"]}
