"""The report's Stacked MNIST section: modes and reverse KL per seed beside published rows.

Shown only for runs with stacked-mnist cells (bench.evaluate.stacked has the measure, bench.published
the published rows).
"""

import pandas as pd

from bench import outcome_rule, schema
from bench.analysis import outcomes
from bench.outcome_rule import MODE_MIN_SAMPLES_PER
from bench.published import PUBLISHED
from bench.report import figures
from bench.report.sections import metric_name


def stacked_section(cells, configs, out):
    """Stacked MNIST's modes and reverse KL per seed beside the published rows; None for runs
    with no stacked-mnist cell."""
    final = outcomes.final_metrics(cells)
    if final.empty or schema.FINAL_MODES not in final:
        return None
    columns = ["config", "seed", schema.FINAL_STACKED_N, schema.FINAL_MODES,
               schema.FINAL_MODES_THRESHOLDED, schema.FINAL_REVERSE_KL, schema.FINAL_OUTCOME]
    table = final.dropna(subset=[schema.FINAL_MODES])[columns]
    published = pd.DataFrame(PUBLISHED, columns=["published row", "modes", "modes SE",
                                                 "reverse KL", "reverse KL SE"])
    return "stacked", "Stacked MNIST: modes and reverse KL", [
        ("p", "Each seed's final samples read by the instrument one channel at a time: modes are "
              "the digit triples with at least one sample, of 1,000, and the reverse KL is "
              "KL(generated triples || uniform), as PacGAN counts them (their Table 2 used "
              "26,000 samples; `stacked n` says how many each seed had, and the mode count "
              "grows with it). The dashed lines are published rows, the shaded bands their "
              "+- one standard error. Their DCGAN is not the tutorial's (another architecture, "
              "2 generator steps a discriminator step, U(-1, 1) noise): the comparison is of the "
              "measure and the spread across seeds, not of one implementation against another."),
        ("figure", out.figure("stacked_modes.png",
                              figures.stacked_modes(final, configs, PUBLISHED)),
         "Stacked MNIST modes and reverse KL per seed"),
        ("p", f"Per seed. `modes thresholded` counts a triple only with one sample in "
              f"{MODE_MIN_SAMPLES_PER:,} or more: the instrument misreads about 0.5% of digits a "
              "channel, which adds modes a collapsed generator never made; the outcome uses this "
              f"count (mode collapse below {outcome_rule.STACKED_COLLAPSE_MODES} of 1,000)."),
        ("table", table.rename(columns=metric_name), out.table("stacked_modes.csv", table)),
        ("table", published, out.table("stacked_published.csv", published)),
    ]
