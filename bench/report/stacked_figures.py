"""The Stacked MNIST section's figures: each arm's seeds beside the published rows of the same
protocol, and each seed's modes during training (the cheap readings of modes.jsonl)."""

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from bench import schema
from bench.report.figures import OUTCOME_COLORS, SEED_RANGE, style

PANELS = ((schema.FINAL_MODES, "modes of 1,000 (PacGAN's count; higher is better)",
           "published modes", "published modes SE"),
          (schema.FINAL_REVERSE_KL, "reverse KL to uniform, nats (lower is better)",
           "published KL", "published KL SE"))


def stacked_modes(final: pd.DataFrame, configs, arms: pd.DataFrame):
    """Modes (of 1,000) and reverse KL per seed, one row per arm, dots coloured by outcome; the
    published row of the arm's protocol as a black diamond, +- its standard error where the
    table gives one (bench.analysis.arms)."""
    present = [c for c in configs if c in set(final["config"])
               and final.loc[final["config"] == c, schema.FINAL_MODES].notna().any()]
    if not present:
        return None
    data = final[final["config"].isin(present)].assign(outcome=final[schema.FINAL_OUTCOME])
    hue_order = [o for o in OUTCOME_COLORS if o in set(data["outcome"])]
    published = arms.dropna(subset=["published"])
    a, b = style()
    with a, b:
        fig = Figure(figsize=(15, 1.8 + 0.45 * len(present)), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True)
        for i, (ax, (col, title, value, error)) in enumerate(zip(axes, PANELS)):
            sns.stripplot(data=data, x=col, y="config", order=present, hue="outcome",
                          hue_order=hue_order, palette=OUTCOME_COLORS, size=7, jitter=0.15,
                          ax=ax, legend=i == 1)
            for _, row in published[published["config"].isin(present)].iterrows():
                y = present.index(row["config"])
                ax.errorbar(row[value], y, xerr=row[error] if row[error] == row[error] else None,
                            fmt="D", color="black", ms=6, capsize=3, zorder=5,
                            label="published (+- SE)" if y == 0 else None)
            ax.set_xlabel(title)
            ax.set_ylabel(None)
        # outside the panels: inside, it hid seeds wherever they fell
        axes[1].legend(fontsize=7, title="seed outcome; published row", title_fontsize=7,
                       loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def modes_curves(modes: pd.DataFrame, colors: dict):
    """Modes (PacGAN's count) and reverse KL against training steps, one line per arm, a band
    from its lowest to its highest seed, each seed's own line thin beneath; None without
    readings."""
    if modes.empty or not {"step", schema.MODES, schema.REVERSE_KL} <= set(modes.columns):
        return None
    data = modes[modes["status"] == schema.STATUS_OK]
    if data.empty:
        return None
    hue_order = [c for c in colors if c in set(data["config"])]
    a, b = style()
    with a, b:
        fig = Figure(figsize=(14, 4.2), layout="constrained")
        axes = fig.subplots(1, 2)
        for i, (ax, (metric, title)) in enumerate(zip(axes, (
                (schema.MODES, "modes of 1,000"), (schema.REVERSE_KL, "reverse KL, nats")))):
            for (config, _), seed_data in data.groupby(["config", "seed"], sort=False):
                ax.plot(seed_data["step"], seed_data[metric], color=colors[config], lw=0.6,
                        alpha=0.35)
            sns.lineplot(data=data, x="step", y=metric, hue="config", hue_order=hue_order,
                         palette=colors, estimator="median", errorbar=SEED_RANGE, ax=ax,
                         legend=i == 1)
            ax.set_xlabel("training steps")
            ax.set_ylabel(title)
        if axes[1].get_legend():
            axes[1].legend(title="arm: median seed, band lowest to highest", fontsize=7,
                           title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig
