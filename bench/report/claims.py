"""Claims as people read them: a table, a figure (each seed's outcome as a strip; each interval
against its bound), claims.md and an HTML page; the report's claims section uses the same parts.

Verdicts come from bench.analysis.claims.judge. Nothing here imports TensorFlow.
"""

import json

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench import records
from bench.analysis.claims_spec import selector_label
from bench.report import figures
from bench.report import html as report_html
from bench.report.publish import publish

NO_OUTCOME_COLOR = "#d9d9d9"


def _about(claim) -> str:
    if "config" in claim:
        return selector_label(claim["config"])
    return f"A: {selector_label(claim['a'])} | B: {selector_label(claim['b'])}"


def _seeds_text(verdict) -> str:
    def strip(seeds):
        return " ".join(f"{s['seed']}:{s['outcome']}" for s in seeds)

    if "seeds" in verdict:
        return strip(verdict["seeds"])
    return f"A {strip(verdict['seeds_a'])} | B {strip(verdict['seeds_b'])}"


def claims_table(verdicts: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "claim": v["claim"]["name"], "kind": v["claim"]["kind"], "about": _about(v["claim"]),
        "level": v["claim"]["level"], "verdict": v["verdict"],
        "evidence": v.get("evidence", ""), "why": v.get("why", ""),
        "seeds used (seed:outcome)": _seeds_text(v),
        "left out": "; ".join(f"seed {x['seed']}: {x['reason']}" for x in v["left_out"])}
        for v in verdicts])


def _strip(ax, rows):
    """One mark per seed, coloured by outcome; rows are (label, seeds)."""
    for y, (label, seeds) in enumerate(rows):
        for x, seed in enumerate(seeds):
            color = figures.OUTCOME_COLORS.get(seed["outcome"], NO_OUTCOME_COLOR)
            ax.scatter([x], [y], s=70, marker="s", color=color, edgecolor="white")
        ax.text(-0.8, y, label, ha="right", va="center", fontsize=8)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.set_xlim(-1, max([len(s) for _, s in rows] + [1]))
    ax.set_yticks([])
    ax.set_xticks([])


def _interval(ax, verdict):
    """The exact interval against the claimed bound, or each side's seed values."""
    if "low" in verdict:
        share = verdict["successes"] / verdict["n"]
        ax.errorbar([share], [0], xerr=[[share - verdict["low"]], [verdict["high"] - share]],
                    fmt="o", color="black", capsize=4)
        ax.axvline(verdict["bound"], color="#d62728", ls="--", lw=1)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel(f"{verdict['statistic']} (bound dashed)", fontsize=8)
    elif "rates" in verdict:
        for y, side in ((1, "a"), (0, "b")):
            k, n, low, high = verdict["rates"][side]
            ax.errorbar([k / n], [y], xerr=[[k / n - low], [high - k / n]], fmt="o",
                        color="black", capsize=4)
        ax.set_xlim(-0.02, 1.02)
        ax.set_yticks([0, 1], ["B", "A"])
        ax.set_xlabel("collapse rate of A and B (exact interval)", fontsize=8)
    elif "band" in verdict and "mean" in verdict:
        values = [s["value"] for s in verdict["seeds"] if s.get("value") is not None]
        ax.axvspan(*verdict["band"], color="#d62728", alpha=0.15, lw=0)
        ax.scatter(values, [0] * len(values), color="black", s=12)
        mean = verdict["mean"]
        ax.errorbar([mean], [0.4], xerr=[[mean - verdict["mean_low"]], [verdict["mean_high"] - mean]],
                    fmt="o", color="#0b5cad", capsize=4)
        ax.set_ylim(-0.5, 0.9)
        ax.set_xlabel(f"{verdict['claim']['metric']}: seeds (dots), their mean and t interval "
                      "(blue), the claimed band (shaded)", fontsize=8)
    elif "seeds_a" in verdict and verdict.get("median_a") is not None:
        metric = verdict["claim"]["metric"]
        for y, side in ((1, "a"), (0, "b")):
            values = [s["value"] for s in verdict[f"seeds_{side}"] if s.get("value") is not None]
            ax.scatter(values, [y] * len(values), color="black", s=12)
            ax.scatter([verdict[f"median_{side}"]], [y], marker="|", s=300, color="#0b5cad")
        if verdict["claim"]["kind"] == "no_worse":
            ax.axvline(verdict["shifted_median_a"], color="#d62728", ls="--", lw=1)
        ax.set_yticks([0, 1], ["B", "A"])
        ax.set_xlabel(f"{metric} (median |, A's median shifted by the margin dashed)", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no interval", ha="center", va="center", transform=ax.transAxes)
    if "low" in verdict or ("median_a" not in verdict and "rates" not in verdict):
        ax.set_yticks([])
    ax.set_title(f"{verdict['claim']['name']}: {verdict['verdict']}", fontsize=9, loc="left")


def claims_figure(verdicts: list[dict]):
    if not verdicts:
        return None
    a, b = figures.style()
    with a, b:
        fig = Figure(figsize=(11, 1.5 * len(verdicts) + 0.6), layout="constrained")
        axes = np.atleast_2d(fig.subplots(len(verdicts), 2, width_ratios=[1.2, 1]))
        for (strip_ax, interval_ax), verdict in zip(axes, verdicts):
            rows = ([("seeds", verdict["seeds"])] if "seeds" in verdict else
                    [("A", verdict["seeds_a"]), ("B", verdict["seeds_b"])])
            _strip(strip_ax, rows)
            _interval(interval_ax, verdict)
        handles = [Line2D([], [], marker="s", ls="", color=c, label=o)
                   for o, c in figures.OUTCOME_COLORS.items()]
        axes[0][0].legend(handles=handles, fontsize=7, loc="lower left",
                          bbox_to_anchor=(0, 1.02), ncol=3, frameon=False)
    return fig


def claims_section(verdicts, out, source: str):
    """The report's section: (anchor, heading, blocks)."""
    table = claims_table(verdicts)
    counts = table["verdict"].value_counts().to_dict()
    return ("claims", "Claims", [
        ("p", f"Claims from {source}: " + ", ".join(f"{n} {v}" for v, n in counts.items())
         + ". Proportions use the exact two-sided Clopper-Pearson interval at the claim's level; "
           "no_worse uses a one-sided Mann-Whitney U test of B against A shifted by the margin; "
           "equivalent, two one-sided tests against A x (1 +- margin); differs, Fisher's exact "
           "test (collapse rate) or a two-sided Mann-Whitney U test. Rank tests are exact (the "
           "permutation distribution when values tie), p-values are compared with alpha as "
           "fractions (p = alpha is not significant), and a differs that fails found no "
           "difference, which is not evidence of none."),
        ("figure", out.figure("claims.png", claims_figure(verdicts)),
         "each claim: its seeds' outcomes, and its interval against the claimed bound"),
        ("table", table, out.table("claims.csv", table))])


def write_claims(verdicts, out_dir, source: str):
    """index.html, claims.md and claims.json into `out_dir`."""
    title = f"dcgan-bench claims: {source}"

    def write(out):
        section = claims_section(verdicts, out, source)
        out.text("index.html", report_html.page(title, [], [section]))
        out.text("claims.md", report_html.markdown(
            title, [], [("Claims", claims_table(verdicts), "No claims.")]))
        out.text("claims.json", json.dumps(records.jsonable(verdicts), indent=2, default=str) + "\n")

    publish(out_dir, write)
