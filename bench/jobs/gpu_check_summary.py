"""The GPU check's summary (bench/jobs/gpu-check.sh): every cell's record read back, the packed
groups set against one seed alone, and the checks the README's GPU pages ask of a JAX cell.

`cell_row` and `read_rows` read the records the check's grids wrote; `report` and `checks_of` are
pure (rows in, text and verdicts out); `write_summary` writes summary.txt and results.json.

What can mislead: a check reads "n/a" where the rows cannot answer it (no cell, or a GPU check in
the CPU dry run), which is not a pass; "x K=1" divides a packed process's rate by the gate's, and
a gate that did not end ok leaves every ratio empty.
"""

import json
import statistics
from pathlib import Path

from bench.frameworks import JAX

# Exit codes of a grid that `timeout` cut (TERM, KILL) or that a SIGINT stopped.
CUT = ("124", "137", "130")
STEADY = 0.8  # p10 / p90 of a cell's windows at or above which its windows count as steady
# what env.json's `gpu` must name on a GPU machine, and what the check shows of it
_GPU_KEYS = ("name", "compute_capability", "driver", "memory_bytes")
_GPU_SHOWN = ("name", "compute_capability", "driver", "cuda_driver", "memory_bytes")


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _lines(path: Path) -> list[dict]:
    """A JSON-lines file's whole lines (one cut by a timeout mid-write is left out)."""
    rows = []
    for line in path.read_text().splitlines() if path.is_file() else ():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def read_phases(work: Path) -> list[list[str]]:
    """The shell's phases.tsv: name, grid exit code (or skipped-gate / skipped-budget), seconds,
    limit, run directory."""
    text = (work / "phases.tsv").read_text() if (work / "phases.tsv").is_file() else ""
    return [line.split("\t") for line in text.splitlines() if line.strip()]


def _logged_windows(cell: Path) -> list[float]:
    """The measured windows a cell logged: a cell cut before its summary still has these."""
    windows = []
    steps = cell / "steps.jsonl"
    for line in steps.read_text().splitlines() if steps.is_file() else ():
        try:
            w = json.loads(line)
        except ValueError:
            continue
        if not w.get("excluded") and w.get("images_per_sec"):
            windows.append(w["images_per_sec"])
    return windows


def cell_row(run: Path, cell: Path) -> dict:
    """One cell's row: its summary, configuration and environment as the checks read them."""
    s, c, e = (_load(cell / f) or {} for f in ("summary.json", "config.json", "env.json"))
    ips = s.get("images_per_sec") or {}
    final = s.get("final") or {}
    # the log the grid names in the record (a packed group's one log, named for its first seed)
    log = run / "logs" / ((s.get("placement") or {}).get("log") or (cell.name + ".log"))
    first = log.read_text(errors="replace").splitlines()[:1] if log.is_file() else []
    packed = s.get("packed") or {}
    windows = _logged_windows(cell)
    return {
        "run": run.name, "cell": cell.name, "status": s.get("status"), "reason": s.get("reason"),
        "batch": c.get("batch_size"), "precision": c.get("precision"), "seed": c.get("seed"),
        "k": packed.get("seeds_per_process", 1),
        # packing = "auto": what its trial chose (bench.cell.jax_packed.measured_packing)
        "packing": (f"auto={packed['packing']}" if packed.get("packing_trial") else
                    packed.get("packing", "alone")),
        "packing_trial": packed.get("packing_trial"),
        "program": c.get("program", "step"), "steps_per_dispatch": s.get("steps_per_dispatch"),
        "steps": s.get("steps"), "compile_s": s.get("compile_seconds"),
        "ips_median": ips.get("median"), "ips_overall": ips.get("overall"),
        "ips_p10": ips.get("p10"), "ips_p90": ips.get("p90"), "windows": ips.get("windows"),
        "process_ips": s.get("packed_images_per_sec_process") or ips.get("overall"),
        "peak_train_bytes": s.get("peak_memory_train_bytes"),
        "peak_first_step_bytes": s.get("peak_memory_first_step_bytes"),
        "peak_train_kind": s.get("peak_memory_train_kind"),
        "train_reset": s.get("peak_memory_train_reset"),
        "process_start_s": s.get("process_start_seconds"), "wall_s": s.get("wall_seconds"),
        "phase_s": s.get("phase_seconds"), "concurrent_cells": s.get("concurrent_cells"),
        "cuda_visible_devices": (s.get("placement") or {}).get("cuda_visible_devices"),
        "final_eval": s.get("final_eval"), "final": s.get("final"),
        "preflight": s.get("preflight"), "warnings": s.get("warnings"),
        "device": e.get("device"), "device_model": e.get("device_model"), "gpu": e.get("gpu"),
        "precision_support": (e.get("precision") or {}).get("support"),
        **{p: e.get(p) for p in (JAX.package, *JAX.versions)},
        "log_first_line": first[0] if first else None,
        "generator_saved": (cell / "generator.weights.h5").is_file(),
        "final_n": final.get("n"), "final_fid": final.get("fid"),
        "final_classes": final.get("classes_covered"), "final_outcome": final.get("outcome"),
        "evaluated_with": final.get("evaluated_with"),
        "measured_windows_logged": len(windows),
        "ips_median_logged": statistics.median(windows) if windows else None,
    }


def read_rows(work: Path, phases: list[list[str]]) -> list[dict]:
    """Every cell under work/runs, the runs in the order their phases ran."""
    order = {p[0]: i for i, p in enumerate(phases)}
    runs = sorted((d for d in (work / "runs").iterdir() if d.is_dir()),
                  key=lambda d: (order.get(d.name, 99), d.name)) if (work / "runs").is_dir() else []
    return [cell_row(run, cell) for run in runs
            for cell in sorted(p for p in run.iterdir() if (p / "summary.json").is_file())]


def _fmt(v, f="{:.0f}") -> str:
    return "-" if v is None else f.format(v)


def _mib(n):
    return n / 2**20 if n is not None else None


def _groups(rows: list[dict]) -> list[tuple]:
    """(K, packing, its rows, those that ended ok) for each packed group and each group of the
    study program (K = 1 too), the step program's first, smallest K first; a study group's
    packing is named `study:<packing>`."""
    groups = {}
    for r in rows:
        if r["k"] > 1 or r["program"] != "step":
            label = r["packing"] if r["program"] == "step" else f"{r['program']}:{r['packing']}"
            groups.setdefault((r["program"] != "step", r["k"], label), []).append(r)
    return [(k, packing, rs, [r for r in rs if r["status"] == "ok"])
            for (_, k, packing), rs in sorted(groups.items())]


def gate_reference(rows: list[dict]) -> dict | None:
    """The gate's cell if it ended ok: K = 1 alone, what packed groups are set against."""
    return next((r for r in rows if r["run"] == "gate" and r["status"] == "ok"), None)


def packed_groups(rows: list[dict]) -> list[dict]:
    """One item a (K, packing) group: its seeds' median images/s, the process's, and both over
    the gate's overall images/s (None where the gate or the group has no ok cell)."""
    ref = gate_reference(rows)
    ref_ips = ref and ref["ips_overall"]
    items = []
    for k, packing, rs, ok in _groups(rows):
        seed_ips = statistics.median([r["ips_overall"] for r in ok]) if ok else None
        proc = ok[0]["process_ips"] if ok else None
        items.append({
            "k": k, "packing": packing, "ok": len(ok), "cells": len(rs),
            "compile_s": ok[0]["compile_s"] if ok else None, "ips_a_seed": seed_ips,
            "ips_process": proc, "process_over_alone": proc / ref_ips if proc and ref_ips else None,
            "seed_over_alone": seed_ips / ref_ips if seed_ips and ref_ips else None,
            "wall_s": ok[0]["wall_s"] if ok else None,
            "status": sorted({r["status"] for r in rs}), "reason": rs[0]["reason"]})
    return items


def report(rows: list[dict], phases: list[list[str]], mode: str, budget: int,
           elapsed: int) -> list[str]:
    """summary.txt's lines before its checks: phases, single cells, packed groups, evaluations."""
    lines = [f"devcheck summary: mode {mode}, {len(rows)} cells, {elapsed}s of a {budget}s budget", "",
             "phases (name, grid exit code, seconds, limit):"]
    lines += ["  " + "  ".join(p[:4]) for p in phases]
    lines += ["", "single cells (one seed a process):",
              f"  {'cell':52} {'status':8} {'compile_s':>9} {'img/s med':>10} {'overall':>10} "
              f"{'p10':>9} {'p90':>9} {'peak MiB':>9} {'start_s':>7} {'wall_s':>7}"]
    for r in (r for r in rows if r["k"] == 1):
        # a cell the phase's limit cut has no summary numbers, but its logged windows
        cut = r["status"] != "ok" and r["ips_median_logged"]
        lines.append(f"  {r['cell'][:52]:52} {r['status'] or '-':8} {_fmt(r['compile_s'], '{:.1f}'):>9} "
                     f"{_fmt(r['ips_median']):>10} {_fmt(r['ips_overall']):>10} {_fmt(r['ips_p10']):>9} "
                     f"{_fmt(r['ips_p90']):>9} {_fmt(_mib(r['peak_train_bytes'])):>9} "
                     f"{_fmt(r['process_start_s'], '{:.1f}'):>7} {_fmt(r['wall_s'], '{:.1f}'):>7}"
                     + (f"  (cut: {r['measured_windows_logged']} measured window(s) logged, "
                        f"median {r['ips_median_logged']:.0f} img/s)" if cut else ""))
    ref = gate_reference(rows)
    ref_ips = ref and ref["ips_overall"]
    lines += ["", f"packed seeds and the study program, the gate's batch and precision (K = 1 alone: "
              f"{_fmt(ref_ips)} images/s):",
              f"  {'K':>3} {'packing':11} {'ok':>5} {'compile_s':>9} {'img/s a seed':>12} "
              f"{'process':>10} {'x K=1':>6} {'seed/K=1':>8} {'peak MiB':>9} {'wall_s':>7}"]
    if ref_ips:
        lines.append(f"  {1:>3} {'alone':11} {'1/1':>5} {_fmt(ref['compile_s'], '{:.1f}'):>9} "
                     f"{_fmt(ref_ips):>12} {_fmt(ref_ips):>10} {1.0:>6.2f} {1.0:>8.2f} "
                     f"{_fmt(_mib(ref['peak_train_bytes'])):>9} {_fmt(ref['wall_s'], '{:.1f}'):>7}")
    for g, (_, _, rs, ok) in zip(packed_groups(rows), _groups(rows)):
        first = rs[0]
        failed = "" if ok else f"  {g['status']} {(g['reason'] or '')[:80]}" + (
            f" (cut after {first['measured_windows_logged']} measured window(s): "
            f"{first['ips_median_logged']:.0f} img/s a seed)" if first["ips_median_logged"] else "")
        lines.append(f"  {g['k']:>3} {g['packing']:11} {g['ok']:>2}/{g['cells']:<2} "
                     f"{_fmt(g['compile_s'], '{:.1f}'):>9} {_fmt(g['ips_a_seed']):>12} "
                     f"{_fmt(g['ips_process']):>10} {_fmt(g['process_over_alone'], '{:.2f}'):>6} "
                     f"{_fmt(g['seed_over_alone'], '{:.2f}'):>8} "
                     f"{_fmt(_mib(ok[0]['peak_train_bytes']) if ok else None):>9} "
                     f"{_fmt(g['wall_s'], '{:.1f}'):>7}" + failed)
    lines += ["", "final evaluations (in each cell's own process; FID at its n):"]
    for r in (r for r in rows if r["final_n"]):
        lines.append(f"  {r['cell'][:52]:52} n={r['final_n']:<6} FID {_fmt(r['final_fid'], '{:.1f}'):>8} "
                     f"classes {_fmt(r['final_classes'], '{}'):>2}  {r['final_outcome']}")
    outcomes = {}
    for r in (r for r in rows if r["final_outcome"]):
        outcomes[r["final_outcome"]] = outcomes.get(r["final_outcome"], 0) + 1
    lines.append("  outcomes: " + (", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none"))
    for p in phases:
        if p[1].startswith("skipped") or p[1] in CUT:
            lines.append(f"  phase {p[0]}: {'cut at its limit' if p[1] in CUT else p[1]}")
    return lines


def _check(name: str, ok, detail: str = "") -> dict:
    return {"check": name, "result": {True: "PASS", False: "FAIL", None: "n/a"}[ok], "detail": detail}


def checks_of(rows: list[dict], phases: list[list[str]], audit: str, mode: str) -> list[dict]:
    """README "First run on a GPU" / "The JAX backend", as far as a JAX cell can answer them: one
    {check, result (PASS, FAIL or n/a), detail} each. The GPU's own checks only in mode "gpu"."""
    gpu = mode == "gpu"

    def said(prefix, otherwise):  # the audit's line that starts so
        return next((x for x in audit.splitlines() if x.startswith(prefix)), otherwise)

    found = [_check("the JAX cell path imports no TensorFlow, TF-GAN or seaborn", "AUDIT-OK" in audit,
                    said("AUDIT-", "the audit did not finish"))]
    if gpu:
        found.append(_check("JAX sees a GPU (audit process)",
                            "GPU-FAIL" not in audit and "jax.devices()" in audit,
                            said("jax.devices()", "no answer")))
        gate = next((p for p in phases if p[0] == "gate"), None)
        # exit 2 is the grid refusing --require-gpu (JAX sees no GPU, or TensorFlow is asked for)
        found.append(_check("grid --require-gpu accepted (JAX asked, TensorFlow absent)",
                            gate is not None and gate[1] != "2", f"gate grid exit code {gate and gate[1]}"))
        found.append(_check("every cell on jax:gpu",
                            all((r["device"] or "").startswith(f"{JAX.name}:gpu") for r in rows)
                            if rows else None, ", ".join(sorted({str(r["device"]) for r in rows}))))
    done = [r for r in rows if r["status"] == "ok"]
    found.append(_check("every cell ended ok", bool(rows) and len(done) == len(rows),
                        ", ".join(f"{r['cell']}: {r['status']} {(r['reason'] or '')[:100]}" for r in rows
                                  if r["status"] != "ok")[:1500]))
    singles = [r for r in rows if r["k"] == 1]
    packed = [r for r in rows if r["k"] > 1]
    first = [r for r in rows if r["log_first_line"] and "CUDA_VISIBLE_DEVICES=" in r["log_first_line"]]
    found.append(_check("single cells say CUDA_VISIBLE_DEVICES first in their log",
                        all(r in first for r in singles) if singles else None,
                        f"{sum(r in first for r in singles)}/{len(singles)}"))
    found.append(_check("packed groups say CUDA_VISIBLE_DEVICES first in their log",
                        all(r in first for r in packed) if packed else None,
                        f"{sum(r in first for r in packed)}/{len(packed)} "
                        "(README: each GPU cell says so first)"))
    # the gate and packed seeds evaluate at the end of training; the batches phase does not
    evaluated = [r for r in rows if (r["run"] == "gate" or r["k"] > 1) and r["status"] == "ok"]
    found.append(_check(
        "every evaluated cell has its final evaluation in its own record, without TensorFlow",
        all(r["final_n"] and r["final_outcome"] and not r["final_eval"]
            and (r["evaluated_with"] or {}).get("metrics") == "numpy" for r in evaluated)
        if any(r["run"] == "gate" or r["k"] > 1 for r in rows) else None,
        "; ".join(f"{r['cell']}: n={r['final_n']} outcome={r['final_outcome']} "
                  f"final_eval={str(r['final_eval'])[:80]!r}" for r in evaluated
                  if not r["final_outcome"] or r["final_eval"])[:1500]))
    found.append(_check("memory: first step kept apart from training",
                        all(r["peak_first_step_bytes"] is not None and r["peak_train_bytes"] is not None
                            for r in done) if rows else None,
                        "; ".join(sorted({f"{r['peak_train_kind']} train_reset={r['train_reset']}"
                                          for r in done}))))
    if gpu:
        found.append(_check("env.json names the GPU, its compute capability, driver and memory",
                            all(all((r["gpu"] or {}).get(k) for k in _GPU_KEYS) for r in rows)
                            if rows else None,
                            ", ".join(sorted({json.dumps({k: (r["gpu"] or {}).get(k) for k in _GPU_SHOWN})
                                              for r in rows}))[:400]))
        found.append(_check("bfloat16 support read from the compute capability (not unknown)",
                            all(r["precision_support"] != "unknown" for r in rows) if rows else None,
                            ", ".join(sorted({f"{r['precision']}: {r['precision_support']}" for r in rows}))))
    found.append(_check("concurrent_cells: 1 alone, K packed",
                        all(r["concurrent_cells"] == r["k"] for r in done) if rows else None,
                        ", ".join(sorted({f"K={r['k']}: {r['concurrent_cells']}" for r in done}))))
    # three records to read, not to judge: what a reader of summary.txt wants beside the verdicts
    found.append(_check("compile_seconds: the first cell against the later ones", None,
                        ", ".join(f"{r['cell']}={r['compile_s']:.1f}s" for r in singles
                                  if r["compile_s"] is not None)))
    found.append(_check("preflight warnings (TensorFlow's build; none expected under JAX)", None,
                        ", ".join(sorted({json.dumps(r["preflight"]) for r in singles}))))
    found.append(_check("precision support recorded", None,
                        ", ".join(sorted({f"{r['precision']}: {r['precision_support']}" for r in rows}))))
    spread = [(r["cell"], r["ips_p10"] / r["ips_p90"]) for r in singles if r["ips_p10"] and r["ips_p90"]]
    found.append(_check(f"windows steady (p10/p90 of a cell's windows >= {STEADY})",
                        all(x >= STEADY for _, x in spread) if spread else None,
                        ", ".join(f"{c}: {x:.2f}" for c, x in spread)))
    return found


def write_summary(work: Path, out: Path, mode: str, budget: int, elapsed: int) -> str:
    """summary.txt and results.json into `out`, from the records under `work`; the text back."""
    phases = read_phases(work)
    rows = read_rows(work, phases)
    audit = (work / "audit.txt").read_text(errors="replace") if (work / "audit.txt").is_file() else ""
    checks = checks_of(rows, phases, audit, mode)
    lines = report(rows, phases, mode, budget, elapsed)
    kernels = _lines(work / "kernels.jsonl")
    if kernels:
        one = next((x["kernels"] for x in kernels if x["k"] == 1), None)
        lines += ["", "kernels a dispatch of the packed step (its optimized HLO's entry computation):"]
        lines += [f"  K={x['k']:<3} {x['packing']:5} {x['kernels']:6}"
                  + (f"  {x['kernels'] / one:5.2f} x K=1" if one else "") for x in kernels]
    lines += ["", "checks (README 'First run on a GPU' and 'The JAX backend', JAX side):"]
    lines += [f"  {c['result']:4} {c['check']}" + (f": {c['detail']}" if c["detail"] else "")
              for c in checks]
    text = "\n".join(lines) + "\n"
    (out / "summary.txt").write_text(text)
    (out / "results.json").write_text(json.dumps(
        {"mode": mode, "budget_s": budget, "elapsed_s": elapsed, "phases": phases, "cells": rows,
         "packed": packed_groups(rows), "checks": checks, "audit": audit, "kernels": kernels},
        indent=1, default=str))
    return text
