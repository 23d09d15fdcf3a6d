"""Seed outcomes: what each seed's final evaluation says about its generator.

Works on the labelled cell DataFrame (bench.analysis.cells.load_cells). Only ok cells with a
final evaluation enter: a diverged, failed or skipped cell has no final samples to judge.
"""

import pandas as pd

from bench import schema
from bench.analysis.cells import ok_cells

FINAL_COLUMNS = (schema.FINAL_N, schema.FINAL_FID, schema.FINAL_KID,
                 schema.FINAL_CLASSIFIER_SCORE, schema.FINAL_CLASSES_COVERED,
                 schema.FINAL_MAX_CLASS_FRACTION, schema.FINAL_CONFIDENT_FRACTION,
                 schema.FINAL_PRECISION, schema.FINAL_RECALL, schema.FINAL_DENSITY,
                 schema.FINAL_COVERAGE, schema.FINAL_COLLAPSED)


def final_metrics(cells: pd.DataFrame) -> pd.DataFrame:
    """The final evaluation of every ok cell that has one: config, seed and FINAL_COLUMNS."""
    cols = ["config", "seed", *FINAL_COLUMNS]
    return ok_cells(cells).dropna(subset=[schema.FINAL_FID])[cols].reset_index(drop=True)


def collapsed_seeds(cells: pd.DataFrame) -> pd.DataFrame:
    """Ok cells whose final evaluation says collapsed (few classes covered or one dominates).

    Untrained garbage covers no class and so counts as collapsed too; a low confident share
    (samples the classifier is sure of) tells garbage from a generator stuck on a few digits.
    """
    final = final_metrics(cells)
    collapsed = final[final[schema.FINAL_COLLAPSED] == True]  # noqa: E712 (object column)
    return collapsed[["config", "seed", schema.FINAL_CLASSES_COVERED,
                      schema.FINAL_MAX_CLASS_FRACTION, schema.FINAL_CONFIDENT_FRACTION,
                      schema.FINAL_FID]].reset_index(drop=True)
