"""Seed outcomes across configurations: how many seeds made digits, collapsed, did not converge.

Works on the labelled cell DataFrame (bench.analysis.cells.load_cells). Only ok cells with a
final evaluation have an outcome: a diverged, failed or skipped cell has no final samples to judge,
and is counted apart. The rule itself lives in bench.outcome_rule.
"""

import pandas as pd

from bench import schema
from bench.analysis.cells import ok_cells
from bench.outcome_rule import OUTCOME_DIGITS, OUTCOME_NOT_CONVERGED, OUTCOMES

# the seed's final numbers, its outcome (the verdict they lead to) last
FINAL_COLUMNS = (*(schema.final_column(m.key) for m in schema.metrics_with(schema.SEED_SUMMARY)
                   if m.key != schema.OUTCOME), schema.FINAL_OUTCOME)
NO_OUTCOME = "no_outcome"  # the cell did not finish ok with a final evaluation


def final_metrics(cells: pd.DataFrame) -> pd.DataFrame:
    """The final evaluation of every ok cell that has one: config, seed and FINAL_COLUMNS (the
    Stacked MNIST columns only when a cell has them)."""
    final = ok_cells(cells).dropna(subset=[schema.FINAL_FID])
    stacked = {schema.final_column(k) for k in schema.STACKED_METRICS}
    cols = ["config", "seed", *(c for c in FINAL_COLUMNS
                                if c not in stacked or (c in final and final[c].notna().any()))]
    return final[cols].reset_index(drop=True)


def cell_outcomes(cells: pd.DataFrame) -> pd.Series:
    """Each cell's outcome, NO_OUTCOME where it has none (not ok, or no final evaluation)."""
    ok = (cells["status"] == schema.STATUS_OK) & cells[schema.FINAL_OUTCOME].notna()
    return cells[schema.FINAL_OUTCOME].where(ok, NO_OUTCOME)


def seed_outcomes(cells: pd.DataFrame) -> pd.DataFrame:
    """Per configuration: steps trained, seeds per outcome, and seeds with no outcome."""
    outcome = cell_outcomes(cells)
    rows = []
    for config, group in cells.groupby("config", sort=False):
        counts = outcome[group.index].value_counts()
        steps = group["steps"].dropna()
        rows.append({"config": config, "steps": int(steps.max()) if len(steps) else None,
                     "seeds": len(group),
                     **{o: int(counts.get(o, 0)) for o in (*OUTCOMES, NO_OUTCOME)}})
    return pd.DataFrame(rows, columns=["config", "steps", "seeds", *OUTCOMES, NO_OUTCOME])


def configs_without_digits(cells: pd.DataFrame) -> pd.DataFrame:
    """Configurations with evaluated seeds none of which made digits, and how many of those seeds
    did not converge: a quality section over them shows an untrained generator, not a finding."""
    table = seed_outcomes(cells)
    evaluated = table[list(OUTCOMES)].sum(axis=1)
    return table[(evaluated > 0) & (table[OUTCOME_DIGITS] == 0)
                 & (table[OUTCOME_NOT_CONVERGED] > 0)].reset_index(drop=True)


# Steps the reference DCGAN needed before its seeds' samples were recognisable digits, measured on
# mnist-5k on the CPU (README, "How long the DCGAN takes to draw digits", with the commands).
MEASURED_STEPS_TO_DIGITS = {64: 8000}


def steps_to_digits_sentence(cells: pd.DataFrame, config: str) -> str:
    """What the measured curve says about how long the configuration's batch size needs."""
    sizes = sorted({int(b) for b in cells.loc[cells["config"] == config, "batch_size"].dropna()})
    known = [f"about {MEASURED_STEPS_TO_DIGITS[b]:,} steps at batch {b}" for b in sizes
             if b in MEASURED_STEPS_TO_DIGITS]
    if known:
        return "The measured curve needs " + " and ".join(known) + "."
    reference = ", ".join(f"about {s:,} steps at batch {b}"
                          for b, s in sorted(MEASURED_STEPS_TO_DIGITS.items()))
    return (f"The measured curve has no point at batch {', '.join(map(str, sizes))}; it needs "
            f"{reference}.")
