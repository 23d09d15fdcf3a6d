"""The report's figures: seaborn on matplotlib Figure objects (Agg, no pyplot state).

Each function takes report DataFrames and returns a Figure, or None when it has nothing to draw;
`figure_to_png` turns one into PNG bytes. Curves are means across seeds with a band from the
lowest to the highest seed (`errorbar=("pi", 100)`): with two or three seeds a standard error
would pretend to a precision the data do not have.
"""

import contextlib
import io
import math

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bench import schema
from bench.outcome_rule import OUTCOME_DIGITS, OUTCOME_MODE_COLLAPSE, OUTCOME_NOT_CONVERGED

DPI = 100
SEED_RANGE = ("pi", 100)  # the band: min to max across seeds
MIN_BOX = 5  # seeds a configuration needs for a box plot (fewer: its points alone)
# One colour per seed outcome (bench.outcome_rule), the same in every figure.
OUTCOME_COLORS = {OUTCOME_DIGITS: "#2e7d32", OUTCOME_MODE_COLLAPSE: "#d62728",
                  OUTCOME_NOT_CONVERGED: "#8c8c8c"}


def figure_to_png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)  # Agg explicitly: no display, no pyplot state
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def style():
    return sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.85)


@contextlib.contextmanager
def _single_axes(width, height):
    """A styled one-axes Figure: yields (fig, ax)."""
    a, b = style()
    with a, b:
        fig = Figure(figsize=(width, height), layout="constrained")
        yield fig, fig.subplots()


def palette(configs) -> dict:
    colors = sns.color_palette("tab10" if len(configs) <= 10 else "husl", len(configs))
    return dict(zip(configs, colors))


def _panels(n, width=3.7, height=2.7, max_cols=4, **kw):
    cols = min(max_cols, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False, **kw)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _facet_curves(steps, configs, series: dict, ylabel, ylim=None):
    """One panel per configuration: each series' mean across seeds with a seed-range band."""
    series = {k: v for k, v in series.items() if k in steps.columns}
    if not series or "step" not in steps.columns:
        return None
    data = steps.melt(id_vars=["config", "seed", "step"], value_vars=list(series),
                      var_name="series", value_name="value")
    data["series"] = data["series"].map(series)
    present = [c for c in configs if c in set(data["config"])]
    if not present:
        return None
    a, b = style()
    with a, b:
        # x not shared: a grid's parts train for very different numbers of steps
        fig, axes = _panels(len(present), sharey=True)
        for i, (ax, config) in enumerate(zip(axes, present)):
            sub = data[data["config"] == config]
            sns.lineplot(data=sub, x="step", y="value", hue="series",
                         hue_order=list(series.values()), estimator="mean",
                         errorbar=SEED_RANGE, ax=ax, legend=i == 0)
            seeds = sub["seed"].nunique()
            ax.set_title(f"{config}\n({seeds} seed{'s' if seeds != 1 else ''})", fontsize=9)
            ax.set_ylabel(ylabel)
            if ylim:
                ax.set_ylim(*ylim)
        if axes[0].get_legend():
            axes[0].get_legend().set_title(None)
    return fig


def loss_curves(steps, configs):
    return _facet_curves(steps, configs, {"gen_loss": "generator", "disc_loss": "discriminator"},
                         "loss")


def discriminator_curves(steps, configs):
    return _facet_curves(steps, configs, {"d_real": "D(x)", "d_fake": "D(G(z))"},
                         "mean discriminator output", ylim=(0, 1))


def throughput(table: pd.DataFrame):
    """Median images/s by batch size, one line per group, bars from lowest p10 to highest p90."""
    if table.empty:
        return None
    with _single_axes(6.5, 4) as (fig, ax):
        for (group, sub), color in zip(table.groupby("group", sort=False),
                                       sns.color_palette("tab10", table["group"].nunique())):
            sub = sub.sort_values("batch_size")
            err = [sub["median"] - sub["p10"], sub["p90"] - sub["median"]]
            ax.errorbar(sub["batch_size"], sub["median"], yerr=err, marker="o", capsize=4,
                        color=color, label=group)
        sizes = sorted(table["batch_size"].unique())
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(int(s)) for s in sizes])
        ax.minorticks_off()
        ax.margins(x=0.15)
        ax.set_xlabel("batch size")
        ax.set_ylabel("images / second")
        ax.set_ylim(bottom=0)
        ax.legend(title=None, loc="lower left", fontsize=8)
    return fig


def compile_time(ok: pd.DataFrame):
    """Seconds of the first call (trace + compile) per batch size and group; dots are seeds."""
    data = ok.dropna(subset=["compile_seconds"])
    if data.empty:
        return None
    with _single_axes(6.5, 3.6) as (fig, ax):
        order = sorted(data["batch_size"].unique())
        hue_order = list(dict.fromkeys(data["group"]))
        sns.barplot(data=data, x="batch_size", y="compile_seconds", hue="group", order=order,
                    hue_order=hue_order, estimator="median", errorbar=None, alpha=0.8, ax=ax)
        sns.stripplot(data=data, x="batch_size", y="compile_seconds", hue="group", order=order,
                      hue_order=hue_order, dodge=True, palette="dark:black", size=4, legend=False,
                      ax=ax)
        ax.set_xlabel("batch size")
        ax.set_ylabel("compile seconds (median bar, seeds as dots)")
        ax.legend(title=None, fontsize=8)
    return fig


def final_metrics(final: pd.DataFrame, configs):
    """FID, classifier score and KID across seeds per configuration; dots coloured by outcome."""
    present = [c for c in configs if c in set(final["config"])]
    if not present:
        return None
    metrics = [(schema.final_column(m.key),
                f"{m.label} ({'higher' if m.higher_is_better else 'lower'} is better)")
               for m in schema.metrics_with(schema.FIGURE)]
    data = final.assign(outcome=final[schema.FINAL_OUTCOME])
    # A metric no cell has (records without KID) gets no panel: seaborn cannot box nothing.
    metrics = [(col, title) for col, title in metrics if data[col].notna().any()]
    hue_order = [o for o in OUTCOME_COLORS if o in set(data["outcome"])]
    a, b = style()
    with a, b:
        fig = Figure(figsize=(13 * len(metrics) / 3, 1.2 + 0.45 * len(present)),
                     layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(metrics), sharey=True))
        last = len(metrics) - 1
        # a box of 2 or 4 seeds draws quartiles that are not there: points alone below MIN_BOX
        boxed = data[data.groupby("config")["config"].transform("size") >= MIN_BOX]
        for i, (ax, (col, title)) in enumerate(zip(axes, metrics)):
            if boxed[col].notna().any():
                sns.boxplot(data=boxed, x=col, y="config", order=present, color="#dfe8f3",
                            showfliers=False, ax=ax)
            sns.stripplot(data=data, x=col, y="config", order=present, hue="outcome",
                          hue_order=hue_order, palette=OUTCOME_COLORS, size=6, ax=ax,
                          legend=i == last)
            ax.set_xlabel(title)
            ax.set_ylabel(None)
            ax.ticklabel_format(axis="x", useOffset=False)  # 1.00008 reads better than 1e-6+...
            ax.xaxis.set_major_locator(MaxNLocator(4))  # long labels (8.125) must not overlap
        if axes[last].get_legend():  # beside the panels: inside, it hides a seed's point
            axes[last].legend(title="outcome", fontsize=8, loc="upper left",
                              bbox_to_anchor=(1.01, 1))
    return fig


def class_heatmaps(hist: pd.DataFrame, configs):
    """Share of the final samples per class, seed x class, one panel per configuration."""
    present = [c for c in configs if c in set(hist["config"])]
    if not present:
        return None
    vmax = max(0.2, float(hist["fraction"].max()))
    most_seeds = max(hist[hist["config"] == c]["seed"].nunique() for c in present)
    a, b = style()
    with a, b:
        fig, axes = _panels(len(present), width=3.9, height=0.9 + 0.42 * most_seeds)
        for ax, config in zip(axes, present):
            sub = hist[hist["config"] == config]
            grid = sub.pivot_table(index="seed", columns="class", values="fraction")
            outcome = sub.groupby("seed")["outcome"].first().to_dict()
            sns.heatmap(grid * 100, ax=ax, vmin=0, vmax=vmax * 100, cmap="rocket_r", annot=True,
                        fmt=".0f", cbar=False, annot_kws={"fontsize": 7}, linewidths=0.5)
            ax.set_yticklabels([f"seed {int(s)}: {outcome[s] or '?'}" for s in grid.index],
                               rotation=0, fontsize=8)
            for label, s in zip(ax.get_yticklabels(), grid.index):
                label.set_color(OUTCOME_COLORS.get(outcome[s], "#4c4c4c"))
            ax.set_title(config, fontsize=9)
            ax.set_xlabel("class (cells: % of samples)")
            ax.set_ylabel(None)
    return fig


def prdc(final: pd.DataFrame, colors: dict):
    """Precision vs recall and density vs coverage; one dot per seed, coloured by configuration."""
    data = final.dropna(subset=[schema.FINAL_PRECISION, schema.FINAL_RECALL])
    if data.empty:
        return None
    a, b = style()
    with a, b:
        fig = Figure(figsize=(11, 4.2), layout="constrained")
        axes = fig.subplots(1, 2)
        hue_order = [c for c in colors if c in set(data["config"])]
        for ax, (x, y), legend in zip(axes, [(schema.FINAL_RECALL, schema.FINAL_PRECISION),
                                             (schema.FINAL_COVERAGE, schema.FINAL_DENSITY)], [False, True]):
            sns.scatterplot(data=data, x=x, y=y, hue="config", hue_order=hue_order,
                            palette=colors, s=60, ax=ax, legend=legend)
            ax.set_xlabel(x.removeprefix(schema.final_column("")))
            ax.set_ylabel(y.removeprefix(schema.final_column("")))
        # A little room around [0, 1], so that dots at 0 (untrained samples) stay visible.
        axes[0].set_xlim(-0.03, 1.03)
        axes[0].set_ylim(-0.03, 1.03)
        axes[1].set_xlim(-0.03, 1.03)
        axes[1].set_ylim(-0.03, max(1.03, float(data[schema.FINAL_DENSITY].max()) * 1.05))
        if axes[1].get_legend():
            axes[1].legend(title=None, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


CURVE_METRICS = (("fid", "FID (lower is better)"), ("classes_covered", "classes covered"),
                 ("confident_fraction", "confident share"))
CURVE_LIMITS = {"classes_covered": (0, schema.NUM_CLASSES + 0.5), "confident_fraction": (0, 1)}


def training_curves(evals: pd.DataFrame, colors: dict):
    """FID, classes covered and confident share of the periodic evaluations, against training
    steps (top row) and images seen (bottom row); one line per configuration, band over seeds."""
    if evals.empty or not {"step", "fid", "batch_size"} <= set(evals.columns):
        return None
    data = evals[evals["status"] == schema.STATUS_OK].dropna(subset=["fid"]).copy()
    # a curve needs two points: configurations evaluated at one step only are left out
    data = data[data.groupby("config")["step"].transform("nunique") >= 2]
    if data.empty:
        return None
    data["images"] = data["step"] * data["batch_size"]
    hue_order = [c for c in colors if c in set(data["config"])]
    a, b = style()
    with a, b:
        fig = Figure(figsize=(14, 7), layout="constrained")
        axes = fig.subplots(2, 3)
        for row, x in enumerate(("step", "images")):
            for col, (metric, title) in enumerate(CURVE_METRICS):
                ax = axes[row, col]
                sns.lineplot(data=data, x=x, y=metric, hue="config", hue_order=hue_order,
                             palette=colors, estimator="mean", errorbar=SEED_RANGE, marker="o",
                             markersize=3, ax=ax, legend=row == 0 and col == 2)
                ax.set_xlabel("training steps" if x == "step" else "images seen")
                ax.set_ylabel(title)
                # what the axis can hold, not the data's span: all-zero classes would draw an
                # axis from -0.04 to 0.04
                ax.set_ylim(*CURVE_LIMITS.get(metric, (0, None)))
        legend = axes[0, 2].get_legend()
        if legend:
            axes[0, 2].legend(title=None, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig
