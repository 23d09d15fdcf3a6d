"""Evaluations during and at the end of training: evals.jsonl, the final block, the best FID.

GAN quality is not monotone in training, so besides the final evaluation the summary names the
best periodic FID and its step. Every record carries its sample count `n`, the reference split and
the classifier's hash: FIDs with different n are not comparable.
"""

import time

from bench import records, schema


class Evaluations:
    def __init__(self, cfg, generator, out_dir, memory=None):
        self.cfg = cfg
        self.generator = generator
        self.path = out_dir / schema.EVALS_FILE
        self.history: list[dict] = []
        self.periodic_seconds = 0.0
        self.memory = memory  # MemoryPeaks: an evaluation's memory is not training memory
        self._classifier = None
        if cfg.eval_every or cfg.final_eval_n:
            # Load the instrument and TF-GAN before training: a broken evaluation set-up fails
            # the cell in seconds, not after its whole training budget.
            from bench.evaluate.classifier import load_classifier
            from bench.evaluate.tfgan import eval_functions

            self._classifier = load_classifier(cfg.data)
            eval_functions()

    def _evaluate(self, n: int) -> dict:
        from bench.cell.generate import generator_to_images
        from bench.evaluate.score import evaluate_images

        t0 = time.perf_counter()
        images = generator_to_images(self.generator, n)
        result = evaluate_images(images, self.cfg.data, data_dir=self.cfg.data_dir,
                                 classifier=self._classifier)
        result["eval_seconds"] = time.perf_counter() - t0
        return result

    def periodic(self, step: int):
        t0 = time.perf_counter()
        if self.memory:
            self.memory.evaluation_starts()
        result = {"step": step, **self._evaluate(self.cfg.eval_n)}
        if self.memory:
            self.memory.evaluation_ended()
        self.periodic_seconds += time.perf_counter() - t0
        self.history.append(result)
        records.append_jsonl(self.path, result)

    def final(self, step: int) -> dict | None:
        if not self.cfg.final_eval_n:
            return None
        return {"step": step, **self._evaluate(self.cfg.final_eval_n)}

    def best(self) -> dict:
        return best_fid_fields(self.history)


def best_fid_fields(history: list[dict]) -> dict:
    """The summary's best_fid, best_fid_step and best_fid_n among a cell's evaluations."""
    scored = [r for r in history if r.get(schema.FID) is not None]
    if not scored:
        return {"best_fid": None, "best_fid_step": None, "best_fid_n": None}
    best = min(scored, key=lambda r: r[schema.FID])
    return {"best_fid": best[schema.FID], "best_fid_step": best["step"], "best_fid_n": best["n"]}
