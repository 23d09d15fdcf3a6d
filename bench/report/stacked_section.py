"""The report's Stacked MNIST section: each arm's seeds (a model, its packing and width) beside the
published rows of the same protocol, each arm's collapse rate with its exact interval, and the
modes during training.

Shown only for runs with stacked-mnist cells (bench.evaluate.stacked has the measure,
bench.analysis.arms the arms, bench.published the published rows).
"""

import pandas as pd

from bench import outcome_rule, schema
from bench.analysis import outcomes
from bench.analysis.arms import stacked_arms
from bench.outcome_rule import MODE_MIN_SAMPLES_PER
from bench.published import PUBLISHED
from bench.report import stacked_figures
from bench.report.figures import palette
from bench.report.sections import metric_name

LEVEL = 0.95


def stacked_section(cells, configs, out, modes: pd.DataFrame | None = None):
    """The section; None for runs with no stacked-mnist cell. `modes`: the readings during
    training (bench.report.data.load_modes), drawn as curves where there are any."""
    final = outcomes.final_metrics(cells)
    if final.empty or schema.FINAL_MODES not in final:
        return None
    columns = ["config", "seed", schema.FINAL_STACKED_N, schema.FINAL_MODES,
               schema.FINAL_MODES_THRESHOLDED, schema.FINAL_REVERSE_KL, schema.FINAL_OUTCOME]
    table = final.dropna(subset=[schema.FINAL_MODES])[columns]
    arms = stacked_arms(cells, LEVEL)
    published = pd.DataFrame([row._asdict() for row in PUBLISHED]).rename(columns={
        "label": "published row", "modes_se": "modes SE", "reverse_kl": "reverse KL",
        "reverse_kl_se": "reverse KL SE", "d_width": "D width", "packing_m": "packing"})
    parts = [
        ("p", "Each seed's final samples read by the instrument one channel at a time: modes are "
              "the digit triples with at least one sample, of 1,000, and the reverse KL is "
              "KL(generated triples || uniform), as PacGAN counts them (their Table 2 used "
              "26,000 samples, Table 3 25,600; `stacked n` says how many each seed had, and the "
              "mode count grows with it). A black diamond is the published row of the arm's "
              "protocol and packing (bench/published.py), +- its standard error where the table "
              "gives one; an arm of the tutorial's DCGAN has none (another architecture and "
              "update: the comparison there is of the measure and the spread across seeds)."),
        ("figure", out.figure("stacked_modes.png",
                              stacked_figures.stacked_modes(final, configs, arms)),
         "Stacked MNIST modes and reverse KL per seed, beside the published rows"),
        ("p", f"Per arm: its collapse rate among its seeds with an outcome, with its exact "
              f"{LEVEL:.0%} (Clopper-Pearson) interval. The rule reads diversity first: a seed "
              f"that did not converge ({outcome_rule.OUTCOME_NOT_CONVERGED}, counted apart too) "
              "spread over 100 triples or more and did not collapse, though it draws no digits "
              "yet. Modes and KL as mean +- standard error across seeds, the published tables' "
              "form, beside the published row of the same protocol."),
        ("table", arms, out.table("stacked_arms.csv", arms)),
    ]
    curves = stacked_figures.modes_curves(modes, palette(configs)) \
        if modes is not None and not modes.empty else None
    if curves is not None:
        parts += [("p", "During training: each seed's modes and reverse KL from its cheap "
                        "readings (modes.jsonl: no FID, a few thousand samples), so a study "
                        "shows when a seed collapses, not only where it ends."),
                  ("figure", out.figure("stacked_modes_curves.png", curves),
                   "Stacked MNIST modes during training")]
    parts += [
        ("p", f"Per seed. `modes thresholded` counts a triple only with one sample in "
              f"{MODE_MIN_SAMPLES_PER:,} or more: the instrument misreads about 0.5% of digits a "
              "channel, which adds modes a collapsed generator never made; the outcome uses this "
              f"count (mode collapse below {outcome_rule.STACKED_COLLAPSE_MODES} of 1,000, or a "
              f"channel of {outcome_rule.MODE_COLLAPSE_MAX_CLASSES} classes or fewer: "
              "bench/outcome_rule.py)."),
        ("table", table.rename(columns=metric_name), out.table("stacked_modes.csv", table)),
        ("table", published, out.table("stacked_published.csv", published)),
    ]
    return "stacked", "Stacked MNIST: modes, collapse and the published rows", parts
