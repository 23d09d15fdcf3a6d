"""The report's sections: what each shows, and the sentence it says when its data are absent.

Each builder takes the report's data and an output (`bench.report.Output`: writes figures,
tables and copied samples, returns their relative names) and returns (anchor, heading, blocks)
for bench.report.html.
"""

import re
from pathlib import Path

import pandas as pd

from bench import outcome_rule, schema
from bench.analysis import outcomes
from bench.analysis.cells import constant_coordinates, measurement_groups, ok_cells, value_label
from bench.analysis.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED
from bench.machine import EMULATED
from bench.report import figures, tables
from bench.report.spec_toml import spec_to_toml

BAND = "line: mean across seeds; band: lowest to highest seed"
THROUGHPUT_NAMES = {"group": "device · XLA · precision", "batch_size": "batch size",
                    "median": "images/s median", "p10": "lowest p10", "p90": "highest p90",
                    "compile_seconds": "compile s median", "mfu": "MFU median"}


ENV_NAMES = {schema.FRAMEWORK: "framework", schema.FRAMEWORK_VERSION: "framework version",
             "keras": "Keras", "python": "Python",
             "device": "device", "device_model": "device model", "host_cpu": "host CPU",
             "hostname": "host", "cuda_build": "CUDA build", "cudnn_build": "cuDNN build",
             "harness_commit": "harness commit", "harness_dirty": "dirty", "xla": "XLA"}


def speedup_display(speedup):
    """The speedup table for people: readable names, the interval as one 'low – high' column."""
    shown = speedup.drop(columns=["ci_low", "ci_high"]).rename(columns={
        "batch_size": "batch size", "seeds_off": "seeds off", "seeds_on": "seeds on",
        "median_off": "images/s XLA off", "median_on": "images/s XLA on",
        "speedup": "speedup (on / off)"})
    shown["95% interval"] = [f"{lo:.3f} – {hi:.3f}" if lo == lo else "none (one seed)"
                             for lo, hi in zip(speedup["ci_low"], speedup["ci_high"])]
    return shown


def overview(cells, constant, out):
    counts = tables.status_counts(cells)
    blocks = [("p", f"{len(cells)} cell{'s' if len(cells) != 1 else ''}: "
               + ", ".join(f"{n} {s}" for s, n in counts.items()) + ".")]
    if constant:
        blocks.append(("p", "Common to all cells: " + " · ".join(
            value_label(k, v) for k, v in constant.items()) + "."))
    blocks.append(("p", "Plots and statistics use ok cells only; diverged, failed and skipped "
                   "cells are listed here with their reason."))
    blocks += emulated_warning(cells) + machines_warning(cells)
    table = tables.cell_table(cells)
    shown = _cells_shown(table, constant)
    differing = _differing_columns(shown)
    blocks.append(("table", shown[differing], out.table("cells.csv", table)))
    if len(differing) < len(shown.columns):
        blocks.append(("details", f"every column ({len(shown.columns)}; the table above shows "
                                  f"the {len(differing)} whose values differ between cells)",
                       ("table", shown, None)))
    return "cells", "Cells", blocks


# The cell table's columns that say what a cell is and how it came out; shown first wherever
# their values differ between cells (the rest, and all of them, are behind a toggle).
HEADLINE_COLUMNS = ("run", "part", "framework", "model", "packing", "D width", "program", "device",
                    "precision", "precision ran", "TF32", "xla",
                    "batch size", "seed", "machine", "status", "reason",
                    "images/s median (p10–p90)", "compile s", "FID", "classes covered", "outcome",
                    "warnings")


def _differing_columns(shown) -> list[str]:
    """HEADLINE_COLUMNS whose values differ between cells (a value missing in some cells only is
    not a difference), and always the seed and the status."""
    def differs(column):
        return shown[column].dropna().astype(str).nunique() > 1

    return [c for c in shown.columns if c in HEADLINE_COLUMNS
            and (c in ("seed", "status") or len(shown) < 2 or differs(c))]


def headline(cells, manifests) -> list[str]:
    """What ran, what varied, and how it came out, in three sentences, before any table (a
    fourth first, for a run still being written)."""
    from bench.runlock import runs_in_progress

    names = list(dict.fromkeys(str(m.get("name")) for m in manifests))
    runs = list(dict.fromkeys(cells["run"].dropna())) if "run" in cells else []
    configs = cells["config"].nunique()
    seeds = cells["seed"].nunique()
    # two runs of one grid: the same seed twice is one seed, trained in each run
    repeated = len(runs) > 1 and cells.duplicated(["config", "seed"]).any()
    ran = (f"Ran {len(cells)} cell{'s' if len(cells) != 1 else ''}"
           + (f" of {', '.join(names)}" if names else "")
           + (f" in {len(runs)} runs ({', '.join(map(str, runs))})" if len(runs) > 1 else "")
           + f": {configs} configuration{'s' if configs != 1 else ''} × {seeds} "
           f"seed{'s' if seeds != 1 else ''}"
           + (", seeds repeated across the runs." if repeated else "."))
    progress = [f"In progress: {run.name} is still being written by its grid ({holder}); "
                "what follows is what its finished cells say."
                for run, holder in runs_in_progress(cells.get("cell_dir", [])).items()]
    constant = set(constant_coordinates(cells))
    varied = [k for k in schema.CONFIG_COORDINATES if k in cells and k not in constant
              and cells[k].astype(str).nunique(dropna=False) > 1]
    named = ("xla", "tf32", "batch_size")  # whose value labels name them already (XLA on, bs 64)
    what = ("Varied: " + "; ".join(
        ("" if k in named else f"{k.replace('_', ' ')} ")
        + ", ".join(value_label(k, v) for v in dict.fromkeys(cells[k].dropna()))
        for k in varied) + ".") if varied else "One configuration."
    counts = tables.status_counts(cells)
    verdict = [", ".join(f"{n} {s}" for s, n in counts.items())]
    ok = cells[cells["status"] == schema.STATUS_OK]
    rates = ok.groupby("config")[schema.IMAGES_PER_SEC_MEDIAN].median().dropna()
    if not rates.empty:
        verdict.append(f"fastest {rates.idxmax()} at {rates.max():,.0f} images/s (median over "
                       "seeds)" if len(rates) > 1 else f"{rates.iloc[0]:,.0f} images/s")
    outcome = ok[schema.FINAL_OUTCOME].dropna()
    if not outcome.empty:
        unit = "cells" if repeated else "seeds"  # a seed of two runs is two outcomes
        verdict.append(", ".join(f"{n} of {len(outcome)} {unit} {tables.OUTCOME_NAMES.get(o, o)}"
                                 for o, n in outcome.value_counts().items()))
    return [*progress, ran, what, "Result: " + "; ".join(verdict) + "."]



def emulated_warning(cells) -> list:
    """Cells whose precision their machine could only emulate (bench.machine): their speed is
    the emulation's, not the precision's."""
    emulated = cells[cells.get(schema.PRECISION_SUPPORT, pd.Series(index=cells.index, dtype=object))
                     == EMULATED]
    if emulated.empty:
        return []
    return [("p", f"{len(emulated)} cell(s) ran a precision their machine can only emulate "
             f"(column \"precision ran\"): {', '.join(emulated['cell_id'][:6])}"
             f"{' ...' if len(emulated) > 6 else ''}. Their images/s is the emulation's, about 9 "
             "times slower than float32, not what the precision gives where the CPU has it.")]


def machines_warning(cells) -> list:
    """Cells from more than one machine (fingerprint): their throughput does not compare."""
    found = cells.get(schema.MACHINE_FINGERPRINT, pd.Series(dtype=object)).dropna().unique()
    if len(found) < 2:
        return []
    return [("p", f"These cells ran on {len(found)} different machines ({', '.join(found)}, "
             "column \"machine\"): throughput compares only between cells of one machine.")]


def _cells_shown(table, constant):
    """The cell table for the page: constant coordinates left out, throughput in one column.
    (cell_table already leaves out a framework that every cell shares: not there to drop.)"""
    shown = table.drop(columns=[tables.CELL_COLUMNS[k] for k in constant
                                if tables.CELL_COLUMNS.get(k) in table])
    ips = [f"{m:.0f} ({lo:.0f}–{hi:.0f})" if m == m and lo == lo and hi == hi else
           (f"{m:.0f}" if m == m else None)
           for m, lo, hi in zip(table["images/s median"], table["images/s p10"],
                                table["images/s p90"])]
    at = shown.columns.get_loc("images/s median")
    shown = shown.drop(columns=["images/s median", "images/s p10", "images/s p90"])
    shown.insert(at, "images/s median (p10–p90)", ips)
    return shown


def _figure(out, name, fig, alt) -> list:
    return [] if fig is None else [("figure", out.figure(name, fig), alt)]


def losses(ok_steps, configs, out):
    if ok_steps.empty:
        return "losses", "Losses", [("p", "No ok cell has a steps.jsonl: no loss curves.")]
    blocks = [("p", f"Generator and discriminator loss per log window, one panel per "
               f"configuration ({BAND}).")]
    blocks += _figure(out, "loss_curves.png", figures.loss_curves(ok_steps, configs),
                      "loss curves")
    fig = figures.discriminator_curves(ok_steps, configs)
    if fig is not None:
        blocks.append(("p", f"Mean discriminator output on real images, D(x), and on generated "
                       f"ones, D(G(z)) ({BAND}). Both near 0.5: the discriminator cannot tell "
                       "them apart; D(G(z)) near 0: it wins easily."))
        blocks += _figure(out, "discriminator.png", fig, "discriminator outputs")
    return "losses", "Losses", blocks


MIXED_FLOAT16_NOTE = (
    "mixed_float16 trains with a dynamic loss scale: each step, each LossScaleOptimizer checks "
    "its gradients for non-finite values and decides the update and the scale with a "
    "conditional on that check, a predicate that crosses to the host each step on a GPU. Its "
    "images/s includes that round trip, which the other precisions do not pay: part of its "
    "speed is the loss scaling's, not float16's.")


def mfu_note(ok) -> list:
    """What MFU means here and where each peak came from (bench.peak)."""
    if "mfu" not in ok or ok["mfu"].dropna().empty:
        return []
    sources = ok.get("peak_source", pd.Series(dtype=object)).dropna().unique()
    blocks = [("p", "MFU (model FLOP utilisation): each cell's analytic FLOPs a training image "
               "(bench/cell/flops.py) times its median images/s, over the device's peak for the "
               "arithmetic it ran; \"MFU unpadded\" (cell table) leaves out the taps that land "
               "in SAME padding. Peaks: " + "; ".join(sources) + ".")]
    over = ok[ok["mfu"] > 1]
    if not over.empty:  # no step beats the silicon: the peak's model of this machine is wrong
        blocks.append(("p", f"{len(over)} cell(s) have MFU above 1 (up to {over['mfu'].max():.2f}):"
                       " faster than the peak allows, so the peak undercounts that machine (its "
                       "cores, clock or FMA pipes as bench/peak.py reads them) or the arithmetic "
                       "ran in a narrower format than its precision says. Read their MFU as "
                       "unknown."))
    return blocks


def throughput(cells, out):
    ok = ok_cells(cells)
    table = tables.throughput(cells)
    if table.empty:
        return "throughput", "Throughput and XLA", [
            ("p", "No ok cell has throughput numbers: nothing to compare.")]
    blocks = [("p", "Training throughput by batch size, one line per device × XLA × precision: "
               "the median over seeds of each cell's median images/s (warm-up windows left out); "
               "bars from the lowest p10 to the highest p90 window across seeds."),
              ("figure", out.figure("throughput.png", figures.throughput(table)), "throughput"),
              ("table", table.rename(columns=THROUGHPUT_NAMES),
               out.table("throughput.csv", table))]
    blocks += mfu_note(ok)
    if (ok["precision"] == "mixed_float16").any():
        blocks.append(("p", MIXED_FLOAT16_NOTE))
    speedup = tables.xla_speedup(cells)
    blocks.append(("p", f"XLA speedup: median images/s with XLA on over median with XLA off "
                   f"(medians over seeds of the per-cell medians; above 1: XLA is faster). "
                   f"95% interval: percentile bootstrap, {BOOTSTRAP_RESAMPLES:,} resamples "
                   f"of seeds, each side independently, numpy default_rng("
                   f"{BOOTSTRAP_SEED}). With 2-3 seeds the interval is a rough range."))
    if speedup.empty:
        blocks.append(("p", "No device × batch size has ok cells both with and without XLA: "
                       "no speedup to show."))
    else:
        blocks.append(("table", speedup_display(speedup), out.table("xla_speedup.csv", speedup)))
    fig = figures.compile_time(ok)
    if fig is not None:
        blocks += [("p", "Compile time: seconds of the first training step (tracing, and XLA "
                    "compilation when on), median bar with seeds as dots."),
                   ("figure", out.figure("compile_time.png", fig), "compile time")]
    return "throughput", "Throughput and XLA", blocks


def quality(cells, evals, configs, colors, out):
    final = outcomes.final_metrics(cells)
    blocks = measurement_group_warning(cells) + not_converged_warning(cells)
    if final.empty:
        blocks.append(("p", "No ok cell has a final evaluation (final_eval_n = 0, or no cell "
                       "finished): no final FID, classifier score or KID."))
    else:
        blocks += [("p", "Final FID, classifier score and KID across seeds, per configuration "
                    "(box: quartiles; dots: seeds, coloured by outcome). FID is biased by the "
                    "sample size n: compare only numbers with the same n."),
                   ("figure", out.figure("final_metrics.png",
                                         figures.final_metrics(final, configs)), "final metrics"),
                   ("table", final.rename(columns=metric_name), out.table("final_metrics.csv", final))]
    fig = figures.training_curves(evals, colors)
    if fig is None:
        blocks.append(("p", "No configuration has periodic evaluations at two steps or more "
                       "from an ok cell (eval_every = 0, a run shorter than it, or none "
                       "finished): no curves over training."))
    else:
        blocks += [("p", "The periodic evaluations over training: FID, classes covered and the "
                    "share of samples the instrument is sure of, against steps (top) and images "
                    f"seen (bottom); {BAND}. Quality is not monotone in training."),
                   ("figure", out.figure("training_curves.png", fig), "training curves")]
    return "quality", "Sample quality", blocks


def metric_name(column: str) -> str:
    return column.removeprefix(schema.final_column("")).replace("_", " ")


def measurement_group_warning(cells) -> list:
    """A sentence when the cells' quality numbers come from different instruments or sample
    counts: those are separate configurations in every table and figure, and never compared."""
    groups = measurement_groups(cells)
    if len(groups) < 2:
        return []
    listed = "; ".join(f"n = {n}, instrument {h[:12]}" for n, h in groups)
    return [("p", f"These cells were evaluated in {len(groups)} different ways ({listed}). FID, "
                  "KID and the other quality numbers depend on the sample count and the "
                  "instrument, so each way is shown as its own configuration and never compared "
                  "with another.")]


OUTCOME_RULE = (
    f"Seed outcomes, from each seed's final evaluation: not converged when fewer than "
    f"{outcome_rule.OUTCOME_MIN_CONFIDENT:.0%} of its samples are digits the instrument is sure "
    f"of (the samples are not digits at all); otherwise mode collapse when at most "
    f"{outcome_rule.MODE_COLLAPSE_MAX_CLASSES} of the 10 classes are covered or one class has at "
    f"least {outcome_rule.MODE_COLLAPSE_MAX_FRACTION:.0%} of the samples; otherwise digits. A seed "
    "that did not converge says nothing about collapse.")


def not_converged_warning(cells) -> list:
    """A sentence per configuration whose evaluated seeds include no digits: its quality plots
    show an untrained generator, and must not read as a finding about the configuration."""
    blocks = []
    for row in outcomes.configs_without_digits(cells).itertuples(index=False):
        evaluated = row.digits + row.mode_collapse + row.not_converged
        blocks.append(("p", f"No seed of configuration {row.config} reached recognisable digits "
                       f"in {row.steps:,} steps ({row.not_converged} of {evaluated} evaluated "
                       f"seeds did not converge). {outcomes.steps_to_digits_sentence(cells, row.config)}"
                       " Its quality numbers describe an undertrained generator."))
    return blocks


def coverage(cells, configs, out):
    hist = tables.class_histograms(cells)
    if hist.empty:
        return "coverage", "Mode coverage", [
            ("p", "No ok cell has a final class histogram: mode coverage is unknown.")]
    seeds = tables.seed_outcomes(cells)
    blocks = [("p", "Share of the final samples the classifier puts in each class, seed × "
               "class, one panel per configuration (10% each is balanced); each seed is labelled "
               "with its outcome."),
              ("figure", out.figure("class_histograms.png",
                                    figures.class_heatmaps(hist, configs)), "class histograms"),
              ("p", OUTCOME_RULE),
              ("table", seeds, out.table("seed_outcomes.csv", seeds))]
    out.table("class_histograms.csv", hist)
    return "coverage", "Seed outcomes and mode coverage", blocks


def prdc(cells, colors, out):
    final = outcomes.final_metrics(cells)
    fig = figures.prdc(final, colors) if not final.empty else None
    if fig is None:
        return "prdc", "Precision, recall, density, coverage", [
            ("p", "No final evaluation with precision and recall.")]
    return "prdc", "Precision, recall, density, coverage", [
        ("p", "Precision against recall and density against coverage of the final samples, "
              "one dot per seed (numbers in the final metrics table)."),
        ("figure", out.figure("prdc.png", fig), "precision recall density coverage")]


def _safe_name(text) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text))[:80]


def samples(cells, configs, out):
    groups, found = [], 0
    for config in configs:
        items = []
        for _, cell in cells[cells["config"] == config].iterrows():
            src_path = Path(cell["cell_dir"]) / schema.SAMPLES_FILE
            # only the run's own regular files: a cell directory or samples.png that is a link
            # out of the run publishes nothing
            src = out.copy(src_path, f"samples/{cell['key']}-{_safe_name(cell['cell_id'])}.png",
                           within=Path(cell["cell_dir"]).parent) if src_path.is_file() else None
            found += src is not None
            items.append((src, cell["seed_label"], cell["status"] or schema.STATUS_MISSING))
        groups.append((config, items))
    if not found:
        return "samples", "Samples", [("p", "No cell has a samples.png.")]
    return "samples", "Samples", [
        ("p", "The fixed-noise 8x8 sample grid of each cell at the end of training (the same "
              "noise for every cell, so seeds and settings are comparable)."),
        ("samples", groups)]


def environment(envs, manifests, out):
    blocks = []
    env = tables.environment(envs)
    if env.empty:
        blocks.append(("p", "No cell has an env.json (skipped or never started)."))
    else:
        blocks.append(("table", env.rename(columns=ENV_NAMES), out.table("environment.csv", env)))
    if not manifests:
        blocks.append(("p", "Cells given as cell directories, without a grid manifest: no grid "
                       "spec to show."))
    for m in manifests:
        harness = m.get("harness") or {}
        blocks.append(("p", f"Grid {m.get('name')!s}: started {m.get('started')}, spec "
                       f"{m.get('spec_path')}, harness commit {harness.get('commit')}"
                       + (" (dirty)" if harness.get("dirty") else "") + "."))
        blocks.append(("pre", spec_to_toml(m.get("spec") or {})))
    return "environment", "Environment and grid spec", blocks
