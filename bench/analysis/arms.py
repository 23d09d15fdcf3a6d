"""Stacked MNIST arms side by side: per configuration (a model, its packing and width, its
settings), the seeds' collapse rate with its exact interval, their modes and reverse KL, and the
published rows of the same protocol (bench.published).

The collapse rate counts `mode_collapse` among the seeds with an outcome. Stacked MNIST's rule
reads diversity first (bench.outcome_rule): a seed that did not converge spreads over 100
triples or more and has not collapsed, though it draws no digits yet; the table counts those
seeds apart too, so that a rate of seeds without digits is never read as one of digits (a claims
file states its own policy: bench.analysis.claims_spec). The interval is the exact
(Clopper-Pearson) one of bench.analysis.stats. Mean +- standard error is the published tables'
form; with few seeds, read the seeds themselves.
"""

import math

import numpy as np
import pandas as pd

from bench import schema
from bench.analysis import stats
from bench.analysis.outcomes import cell_outcomes
from bench.outcome_rule import OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE, OUTCOME_NOT_CONVERGED
from bench.published import rows_for

ARM_COLUMNS = ["config", "seeds", "judged", OUTCOME_NOT_CONVERGED, "collapsed",
               "collapse rate", "rate low", "rate high", "modes mean", "modes SE", "KL mean",
               "KL SE", "published", "published modes", "published modes SE", "published KL",
               "published KL SE"]


def _mean_se(values) -> tuple:
    values = np.asarray([v for v in values if v == v], dtype=float)  # NaN left out
    if not len(values):
        return None, None
    se = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else None
    return float(values.mean()), se


def _width(value):
    return None if value is None or value != value else float(value)


def stacked_arms(cells: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per configuration with a Stacked MNIST final evaluation (ARM_COLUMNS); a
    configuration whose protocol PacGAN published gets one row per published row."""
    if schema.FINAL_MODES not in cells:
        return pd.DataFrame(columns=ARM_COLUMNS)
    outcome = cell_outcomes(cells)
    rows = []
    for config, group in cells.groupby("config", sort=False):
        stacked = group[group[schema.FINAL_MODES].notna()]
        if stacked.empty:
            continue
        seen = outcome[stacked.index]
        judged = int(seen.isin([OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE,
                                OUTCOME_NOT_CONVERGED]).sum())
        collapsed = int((seen == OUTCOME_MODE_COLLAPSE).sum())
        low, high = stats.exact_interval(collapsed, judged, level) if judged else (None, None)
        modes = _mean_se(stacked[schema.FINAL_MODES])
        kl = _mean_se(stacked[schema.FINAL_REVERSE_KL])
        first = stacked.iloc[0]
        arm = {"config": config, "seeds": len(stacked), "judged": judged,
               OUTCOME_NOT_CONVERGED: int((seen == OUTCOME_NOT_CONVERGED).sum()),
               "collapsed": collapsed,
               "collapse rate": collapsed / judged if judged else None,
               "rate low": low, "rate high": high, "modes mean": modes[0], "modes SE": modes[1],
               "KL mean": kl[0], "KL SE": kl[1]}
        published = rows_for(first.get(schema.MODEL), _width(first.get(schema.D_WIDTH)),
                             int(first.get(schema.PACKING_M) or 1))
        for row in published or [None]:
            rows.append({**arm, **({"published": row.label, "published modes": row.modes,
                                    "published modes SE": row.modes_se,
                                    "published KL": row.reverse_kl,
                                    "published KL SE": row.reverse_kl_se} if row else {})})
    return pd.DataFrame(rows, columns=ARM_COLUMNS)
