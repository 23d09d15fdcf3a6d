#!/usr/bin/env bash
# bench/jobs/gpu-check.sh: the project's GPU check, for a GPU machine that has JAX (with CUDA) and
# no TensorFlow and cannot reach a package index, in at most 6 minutes. From the project's root:
#
#   bash bench/jobs/gpu-check.sh     with .whl/ (keras, namex, optree, mlxtend, filelock: cp312
#                                    wheels, docs/gpus-and-jax.md says how) brought along;
#                                    results go to $OUT (or ./devcheck-out)
#
# Phases, each a grid of its own, cut by the time left (DEVCHECK_BUDGET_S, default 330 s):
#   0. the carried wheels installed into $SITE (pip --no-index --no-deps --target); nvidia-smi
#      and jax.devices(); TensorFlow absent; an audit of what the JAX cell path imports;
#      runs/grids/gpu-check-jax.toml validated;
#   1. gate: one JAX cell, batch 64 float32, `grid --require-gpu`, its final evaluation of
#      10,000 samples in its own process (the instrument under Keras' JAX backend, the metrics
#      in NumPy); if the cell is not ok, the rest is skipped (DEVCHECK_FORCE=1 runs it anyway);
#   2. batches: batch 64/256 x float32/mixed_bfloat16 in one grid (the gate's cell not again);
#   3. packed seeds: K in $KS, vmap then loop (K = 1 is the gate's cell), each seed evaluated
#      (1,000 samples); the loop at the largest K last: it compiles K copies of the step;
#   4. `dcgan-bench table --csv` over every run, a summary with checks, the records tarred into
#      $OUT: records and logs only, no generator weights (nothing is left to evaluate elsewhere).
#
# Results in $OUT (flat, at most 8 files): devcheck.log, summary.txt (read first), results.json,
# table.csv, env.txt, dmon.txt, runs.tgz.
#
# Knobs (environment): DEVCHECK_MODE=gpu|cpu (cpu: the dry run, devices = ["cpu"], TensorFlow
# blocked in every process), DEVCHECK_BUDGET_S, DEVCHECK_SITE, DEVCHECK_WORK, DEVCHECK_PYTHON,
# DEVCHECK_KS ("8 32"), DEVCHECK_BATCHES ("64 256"), DEVCHECK_PRECISIONS ("float32
# mixed_bfloat16"), DEVCHECK_STEPS / DEVCHECK_LOG_EVERY (gate and batches: 1000 / 100),
# DEVCHECK_PACKED_STEPS / DEVCHECK_PACKED_LOG_EVERY (400 / 50), DEVCHECK_FINAL_N (the gate's
# final evaluation: 10000), DEVCHECK_PACKED_FINAL_N (each packed seed's: 1000), DEVCHECK_FORCE=1,
# DEVCHECK_CAP_SCALE (multiplies each phase's cap; 1 on the GPU), DEVCHECK_PHASES (only these
# phases, by name: gate batches packed<K>_vmap packed<K>_loop).
set -u -o pipefail

T0=$(date +%s)
MODE=${DEVCHECK_MODE:-gpu}
BUDGET=${DEVCHECK_BUDGET_S:-330}
RESERVE=${DEVCHECK_RESERVE_S:-25}  # kept for the table, the summary and the tarballs
SITE=${DEVCHECK_SITE:-/tmp/site}
WORK=${DEVCHECK_WORK:-/tmp/devcheck-work}
PY=${DEVCHECK_PYTHON:-python3}
KS=${DEVCHECK_KS:-"8 32"}
BATCHES=${DEVCHECK_BATCHES:-"64 256"}
PRECISIONS=${DEVCHECK_PRECISIONS:-"float32 mixed_bfloat16"}
STEPS=${DEVCHECK_STEPS:-1000}
LOG_EVERY=${DEVCHECK_LOG_EVERY:-100}
PSTEPS=${DEVCHECK_PACKED_STEPS:-400}
PLOG_EVERY=${DEVCHECK_PACKED_LOG_EVERY:-50}
FINAL_N=${DEVCHECK_FINAL_N:-10000}
PFINAL_N=${DEVCHECK_PACKED_FINAL_N:-1000}
FORCE=${DEVCHECK_FORCE:-0}
CAPX=${DEVCHECK_CAP_SCALE:-1}  # the dry run on a slow CPU multiplies every phase cap
ONLY=${DEVCHECK_PHASES:-}  # e.g. "gate packed32_loop": run only these phases (a follow-up call)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${OUT:-$REPO/devcheck-out}

mkdir -p "$OUT" "$WORK/specs" "$WORK/runs"
exec > >(tee -a "$OUT/devcheck.log") 2>&1
TEE_PID=$!
export PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2 KERAS_BACKEND=jax DCGAN_BENCH_ESTIMATE=off
export DCGAN_BENCH_CACHE="$WORK/cache" KERAS_HOME="$WORK/keras"
cd "$REPO" || exit 2

elapsed() { echo $(( $(date +%s) - T0 )); }
left() { echo $(( BUDGET - $(date +%s) + T0 )); }
say() { echo "[devcheck +$(elapsed)s] $*"; }
PHASES="$WORK/phases.tsv"
: > "$PHASES"
say "mode=$MODE budget=${BUDGET}s repo=$REPO out=$OUT work=$WORK python=$PY"

# ---------------------------------------------------------------- 0. install and environment
if ls "$REPO"/.whl/*.whl >/dev/null 2>&1; then
    say "installing $(ls "$REPO"/.whl/*.whl | wc -l) carried wheels into $SITE"
    timeout 180 "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" "$REPO"/.whl/*.whl || { say "FATAL: wheel install failed"; exit 3; }
else
    say "no .whl/ here: relying on what is installed"
fi
export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"
if [ "$MODE" != gpu ]; then
    # the dry run imitates the GPU machine: TensorFlow unimportable in every process
    mkdir -p "$WORK/block-tensorflow"
    cat > "$WORK/block-tensorflow/sitecustomize.py" <<'EOF'
import importlib.abc, sys
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tensorflow_gan", "tensorflow_probability"):
            raise ImportError(name + " is blocked: the GPU check's dry run imitates a machine without it")
sys.meta_path.insert(0, _Block())
EOF
    export PYTHONPATH="$WORK/block-tensorflow:$PYTHONPATH"
    say "dry run: TensorFlow blocked in every process ($WORK/block-tensorflow)"
fi

DMON_PID=
{
    echo "== date: $(date -u +%FT%TZ)  host: $(hostname)  nproc: $(nproc)"
    echo "== uname: $(uname -a)"
    if command -v nvidia-smi >/dev/null; then
        echo "== nvidia-smi"; timeout 30 nvidia-smi
        timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,compute_cap \
            --format=csv 2>&1
    else
        echo "== nvidia-smi: not found"
    fi
    echo "== python packages"
    timeout 60 "$PY" - <<'EOF'
import importlib.metadata as md, sys
print("python", sys.version.split()[0], sys.executable)
for name in ("jax", "jaxlib", "jax-cuda13-plugin", "jax-cuda13-pjrt", "jax-cuda12-plugin", "keras",
             "namex", "optree", "mlxtend", "filelock", "numpy", "scipy", "pandas", "h5py", "ml-dtypes",
             "absl-py", "rich", "tqdm", "scikit-learn", "matplotlib", "seaborn", "pillow",
             "tensorboard", "tensorflow", "tensorflow-gan", "tensorflow-hub"):
    try:
        print(f"  {name} {md.version(name)}")
    except md.PackageNotFoundError:
        print(f"  {name} (absent)")
EOF
} > "$WORK/env.txt" 2>&1
if command -v nvidia-smi >/dev/null && [ "$MODE" = gpu ]; then
    nvidia-smi dmon -s um -o T > "$WORK/dmon.txt" 2>&1 &
    DMON_PID=$!
fi
sed -n '1,200p' "$WORK/env.txt"

say "JAX, Keras and the import audit of the JAX cell path"
timeout 150 "$PY" - "$MODE" > "$WORK/audit.txt" 2>&1 <<'EOF'
import importlib.util, os, sys, time
t0 = time.time()
mode = sys.argv[1]
os.environ["KERAS_BACKEND"] = "jax"
try:
    importable = importlib.util.find_spec("tensorflow") is not None
except ImportError as e:  # the dry run's block
    importable = f"no ({e})"
print("tensorflow importable:", importable)
import jax
print("jax", jax.__version__, "default backend:", jax.default_backend())
print("jax.devices():", jax.devices())
for d in jax.devices():
    print("  device", d.id, d.platform, repr(d.device_kind))
if mode == "gpu" and jax.default_backend() != "gpu":
    print("GPU-FAIL: JAX sees no GPU")
import keras
print("keras", keras.__version__, "backend", keras.backend.backend())
# every module a JAX grid cell imports, then the data the cells read
import bench.cli, bench.grid.run, bench.grid.local, bench.grid.worker, bench.grid.spec  # noqa
from bench.cell import jax_framework, jax_packed, jax_step, loop, models, generate, timing, train  # noqa
from bench.evaluate import classifier, metrics, score  # noqa
print("metrics engine here:", metrics.engine())
from bench.cell import flops, gpuinfo, devices  # noqa
from bench import datasets
split = datasets.load_split("mnist-5k", "train", None)
print("mnist-5k:", split.images.shape, split.source)
from bench.grid.spec import load_spec
spec = load_spec("runs/grids/gpu-check-jax.toml")
print("runs/grids/gpu-check-jax.toml:", len(spec.cells), "cells in parts",
      sorted({c.part for c in spec.cells}))
print("packing auto on gpu:", jax_packed.packing_for("gpu", "auto"))
watched = ("tensorflow", "tensorflow_gan", "tensorflow_hub", "tf_keras", "seaborn", "tensorboard",
           "torch", "matplotlib", "pandas", "sklearn", "tqdm", "mlxtend")
print("imported by the JAX cell path:", {m: m in sys.modules for m in watched})
bad = [m for m in ("tensorflow", "tensorflow_gan", "tensorflow_hub", "seaborn") if m in sys.modules]
print("AUDIT-FAIL: imports " + ", ".join(bad) if bad else "AUDIT-OK: no TensorFlow, TF-GAN, seaborn")
print(f"audit took {time.time() - t0:.1f}s")
EOF
echo "audit exit code $?" >> "$WORK/audit.txt"
cat "$WORK/audit.txt"
cat "$WORK/audit.txt" >> "$WORK/env.txt"

# ---------------------------------------------------------------- specs and phases
DEVICE=gpu
REQUIRE=(--require-gpu)
if [ "$MODE" != gpu ]; then DEVICE=cpu; REQUIRE=(); fi

seeds_list() { local k=$1 s="" i; for ((i = 0; i < k; i++)); do s+="${s:+, }$i"; done; echo "$s"; }
toml_list() { local s="" x; for x in "$@"; do s+="${s:+, }$x"; done; echo "$s"; }
toml_strs() { local s="" x; for x in "$@"; do s+="${s:+, }\"$x\""; done; echo "$s"; }

# spec_head FILE TITLE STEPS LOG_EVERY FINAL_N [K PACKING]: a spec's budget and evaluation
spec_head() {
    local file=$1 title=$2 steps=$3 logev=$4 final_n=$5 k=${6:-1} packing=${7:-}
    {
        echo "name = \"devcheck $title: the DCGAN under JAX, $DEVICE\""
        echo "data = \"mnist-5k\""
        echo "[budget]"
        echo "steps = $steps"
        echo "log_every = $logev"
        echo "warmup_windows = 1"
        if [ "$k" -gt 1 ]; then
            echo "seeds_per_process = $k"
            echo "packing = \"$packing\""
        fi
        echo "[eval]"
        echo "final_n = $final_n"
    } > "$file"
}

# spec_part FILE PART SEEDS BATCHES PRECISIONS: one part (its cells: PART_jax_<coordinates>)
spec_part() {
    local file=$1 part=$2 seeds=$3 batches=$4 precisions=$5
    {
        echo "[[parts]]"
        echo "name = \"$part\""
        echo "[parts.axes]"
        echo "seeds = [$seeds]"
        echo "batch_sizes = [$batches]"
        echo "devices = [\"$DEVICE\"]"
        echo "xla = [true]"
        echo "precision = [$precisions]"
        echo "frameworks = [\"jax\"]"
    } >> "$file"
}

# phase NAME MIN_S CAP_S SPEC: one grid, skipped when less than MIN_S is left, cut at CAP_S
# (SIGTERM: the grid keeps its finished cells and writes results.csv), never past the budget.
GATE_OK=1
phase() {
    local name=$1 min=$2 cap=$3 spec=$4 avail limit rc t
    avail=$(( $(left) - RESERVE ))
    if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then
        say "phase $name: not asked for (DEVCHECK_PHASES)"; return 0
    fi
    if [ "$GATE_OK" != 1 ] && [ "$FORCE" != 1 ]; then
        say "phase $name: SKIPPED (the gate failed)"
        printf '%s\tskipped-gate\t0\t0\t%s\n' "$name" "-" >> "$PHASES"; return 0
    fi
    if [ "$avail" -lt "$min" ]; then
        say "phase $name: SKIPPED (${avail}s left, needs ${min}s)"
        printf '%s\tskipped-budget\t0\t0\t%s\n' "$name" "-" >> "$PHASES"; return 0
    fi
    cap=$(( cap * CAPX ))
    limit=$(( avail < cap ? avail : cap ))
    say "phase $name: grid $spec, limit ${limit}s"
    t=$(date +%s)
    timeout -k 15 "$limit" "$PY" -m bench grid "$spec" --out "$WORK/runs/$name" "${REQUIRE[@]}"
    rc=$?
    t=$(( $(date +%s) - t ))
    if [ "$rc" = 124 ] || [ "$rc" = 137 ] || [ "$rc" = 130 ]; then
        say "phase $name: CUT at its limit after ${t}s (exit $rc)"
    else
        say "phase $name: exit $rc after ${t}s"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rc" "$t" "$limit" "$WORK/runs/$name" >> "$PHASES"
    return 0
}

# 1. gate: batch 64 float32, its final evaluation in its own process
set -- $BATCHES; B0=$1; shift; BREST=("$@")
set -- $PRECISIONS; P0=$1
spec_head "$WORK/specs/gate.toml" gate "$STEPS" "$LOG_EVERY" "$FINAL_N"
spec_part "$WORK/specs/gate.toml" gate 0 "$B0" "\"$P0\""
phase gate 45 150 "$WORK/specs/gate.toml"
if awk -F'\t' '$1 == "gate" && $2 ~ /^[0-9]+$/ {f = 1} END {exit !f}' "$PHASES" \
        && ! grep -q '"status": "ok"' "$WORK"/runs/gate/gate_*/summary.json 2>/dev/null; then
    GATE_OK=0
    say "GATE FAILED: the first JAX cell did not end ok; its log and traceback:"
    tail -n 60 "$WORK"/runs/gate/logs/*.log 2>/dev/null
    cat "$WORK"/runs/gate/gate_*/traceback.txt 2>/dev/null | tail -n 40
fi

# 2. the other batch sizes and precisions, in one grid (the gate's configuration not again)
spec_head "$WORK/specs/batches.toml" batches "$STEPS" "$LOG_EVERY" 0
NPARTS=0
if [ ${#BREST[@]} -gt 0 ]; then
    spec_part "$WORK/specs/batches.toml" batches "0" "$(toml_list "${BREST[@]}")" "\"$P0\""
    NPARTS=$((NPARTS + 1))
fi
set -- $PRECISIONS; shift
if [ $# -gt 0 ]; then
    spec_part "$WORK/specs/batches.toml" batches_lowp "0" "$(toml_list $BATCHES)" "$(toml_strs "$@")"
    NPARTS=$((NPARTS + 1))
fi
[ "$NPARTS" -gt 0 ] && phase batches 60 300 "$WORK/specs/batches.toml"

# 3. packed seeds: vmap at every K, the loop at every K, the largest loop last
KMAX=0
for k in $KS; do [ "$k" -gt "$KMAX" ] && KMAX=$k; done
for packing in vmap loop; do
    for k in $KS; do
        [ "$k" -le 1 ] && continue
        [ "$packing" = loop ] && [ "$k" = "$KMAX" ] && continue
        spec_head "$WORK/specs/packed${k}_$packing.toml" "packed${k}_$packing" \
            "$PSTEPS" "$PLOG_EVERY" "$PFINAL_N" "$k" "$packing"
        spec_part "$WORK/specs/packed${k}_$packing.toml" "packed${k}_$packing" \
            "$(seeds_list "$k")" "$B0" "\"$P0\""
        phase "packed${k}_$packing" 40 $(( 60 + 4 * k )) "$WORK/specs/packed${k}_$packing.toml"
    done
done
if [ "$KMAX" -gt 1 ]; then
    spec_head "$WORK/specs/packed${KMAX}_loop.toml" "packed${KMAX}_loop" \
        "$PSTEPS" "$PLOG_EVERY" "$PFINAL_N" "$KMAX" loop
    spec_part "$WORK/specs/packed${KMAX}_loop.toml" "packed${KMAX}_loop" \
        "$(seeds_list "$KMAX")" "$B0" "\"$P0\""
    phase "packed${KMAX}_loop" 60 100000 "$WORK/specs/packed${KMAX}_loop.toml"
fi

# ---------------------------------------------------------------- the summary (Python)
cat > "$WORK/summary.py" <<'EOF'
"""devcheck's summary: every cell's record, the packed groups against K = 1, the README checks."""
import json, statistics, sys
from pathlib import Path

work, out, mode, budget, elapsed = Path(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:6]
lines, rows, checks = [], [], []


def load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def check(name, ok, detail=""):
    word = {True: "PASS", False: "FAIL", None: "n/a "}[ok]
    checks.append({"check": name, "result": word.strip(), "detail": detail})


phases = [l.split("\t") for l in (work / "phases.tsv").read_text().splitlines() if l.strip()]
order = {p[0]: i for i, p in enumerate(phases)}
for run in sorted((work / "runs").iterdir(), key=lambda d: (order.get(d.name, 99), d.name)):
    for cell in sorted(p for p in run.iterdir() if (p / "summary.json").is_file()):
        s, c, e = (load(cell / f) or {} for f in ("summary.json", "config.json", "env.json"))
        ips = s.get("images_per_sec") or {}
        # the log the grid names in the record (a packed group's one log, named for its first seed)
        log = run / "logs" / ((s.get("placement") or {}).get("log") or (cell.name + ".log"))
        first = log.read_text(errors="replace").splitlines()[:1] if log.is_file() else []
        packed = s.get("packed") or {}
        windows = []
        if (cell / "steps.jsonl").is_file():
            for l in (cell / "steps.jsonl").read_text().splitlines():
                try:
                    w = json.loads(l)
                except ValueError:
                    continue
                if not w.get("excluded") and w.get("images_per_sec"):
                    windows.append(w["images_per_sec"])
        rows.append({
            "run": run.name, "cell": cell.name, "status": s.get("status"), "reason": s.get("reason"),
            "batch": c.get("batch_size"), "precision": c.get("precision"), "seed": c.get("seed"),
            "k": packed.get("seeds_per_process", 1), "packing": packed.get("packing", "alone"),
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
            "jax": e.get("jax"), "keras": e.get("keras"),
            "log_first_line": first[0] if first else None,
            "generator_saved": (cell / "generator.weights.h5").is_file(),
            "final_n": (s.get("final") or {}).get("n"),
            "final_fid": (s.get("final") or {}).get("fid"),
            "final_classes": (s.get("final") or {}).get("classes_covered"),
            "final_outcome": (s.get("final") or {}).get("outcome"),
            "evaluated_with": (s.get("final") or {}).get("evaluated_with"),
            "measured_windows_logged": len(windows),
            "ips_median_logged": statistics.median(windows) if windows else None,
        })

fmt = lambda v, f="{:.0f}": "-" if v is None else f.format(v)
lines.append(f"devcheck summary: mode {mode}, {len(rows)} cells, {elapsed}s of a {budget}s budget")
lines.append("")
lines.append("phases (name, grid exit code, seconds, limit):")
for p in phases:
    lines.append("  " + "  ".join(p[:4]))
lines.append("")
lines.append("single cells (one seed a process):")
lines.append(f"  {'cell':52} {'status':8} {'compile_s':>9} {'img/s med':>10} {'overall':>10} "
             f"{'p10':>9} {'p90':>9} {'peak MiB':>9} {'start_s':>7} {'wall_s':>7}")
for r in rows:
    if r["k"] == 1:
        lines.append(f"  {r['cell'][:52]:52} {r['status'] or '-':8} {fmt(r['compile_s'], '{:.1f}'):>9} "
                     f"{fmt(r['ips_median']):>10} {fmt(r['ips_overall']):>10} {fmt(r['ips_p10']):>9} "
                     f"{fmt(r['ips_p90']):>9} "
                     f"{fmt(r['peak_train_bytes'] and r['peak_train_bytes'] / 2**20):>9} "
                     f"{fmt(r['process_start_s'], '{:.1f}'):>7} {fmt(r['wall_s'], '{:.1f}'):>7}"
                     + (f"  (cut: {r['measured_windows_logged']} measured window(s) logged, "
                        f"median {r['ips_median_logged']:.0f} img/s)"
                        if r["status"] != "ok" and r["ips_median_logged"] else ""))
ref = next((r for r in rows if r["run"] == "gate" and r["status"] == "ok"), None)
ref_ips = ref and ref["ips_overall"]
groups = {}
for r in rows:
    if r["k"] > 1:
        groups.setdefault((r["k"], r["packing"]), []).append(r)
lines.append("")
lines.append(f"packed seeds, the gate's batch and precision (K = 1 alone: {fmt(ref_ips)} images/s):")
lines.append(f"  {'K':>3} {'packing':8} {'ok':>5} {'compile_s':>9} {'img/s a seed':>12} "
             f"{'process':>10} {'x K=1':>6} {'seed/K=1':>8} {'peak MiB':>9} {'wall_s':>7}")
if ref_ips:
    lines.append(f"  {1:>3} {'alone':8} {'1/1':>5} {fmt(ref['compile_s'], '{:.1f}'):>9} "
                 f"{fmt(ref_ips):>12} {fmt(ref_ips):>10} {1.0:>6.2f} {1.0:>8.2f} "
                 f"{fmt(ref['peak_train_bytes'] and ref['peak_train_bytes'] / 2**20):>9} "
                 f"{fmt(ref['wall_s'], '{:.1f}'):>7}")
packed_summary = []
for (k, packing), rs in sorted(groups.items()):
    ok = [r for r in rs if r["status"] == "ok"]
    seed_ips = statistics.median([r["ips_overall"] for r in ok]) if ok else None
    proc = ok[0]["process_ips"] if ok else None
    item = {"k": k, "packing": packing, "ok": len(ok), "cells": len(rs),
            "compile_s": ok[0]["compile_s"] if ok else None, "ips_a_seed": seed_ips,
            "ips_process": proc, "process_over_alone": proc / ref_ips if proc and ref_ips else None,
            "seed_over_alone": seed_ips / ref_ips if seed_ips and ref_ips else None,
            "wall_s": ok[0]["wall_s"] if ok else None,
            "status": sorted({r["status"] for r in rs}), "reason": rs[0]["reason"]}
    packed_summary.append(item)
    lines.append(f"  {k:>3} {packing:8} {len(ok):>2}/{len(rs):<2} {fmt(item['compile_s'], '{:.1f}'):>9} "
                 f"{fmt(seed_ips):>12} {fmt(proc):>10} {fmt(item['process_over_alone'], '{:.2f}'):>6} "
                 f"{fmt(item['seed_over_alone'], '{:.2f}'):>8} "
                 f"{fmt(ok and ok[0]['peak_train_bytes'] and ok[0]['peak_train_bytes'] / 2**20):>9} "
                 f"{fmt(item['wall_s'], '{:.1f}'):>7}"
                 + ("" if ok else f"  {item['status']} {(item['reason'] or '')[:80]}"
                    + (f" (cut after {rs[0]['measured_windows_logged']} measured window(s): "
                       f"{rs[0]['ips_median_logged']:.0f} img/s a seed)" if rs[0]["ips_median_logged"] else "")))
lines.append("")
lines.append("final evaluations (in each cell's own process; FID at its n):")
for r in rows:
    if r["final_n"]:
        lines.append(f"  {r['cell'][:52]:52} n={r['final_n']:<6} FID {fmt(r['final_fid'], '{:.1f}'):>8} "
                     f"classes {fmt(r['final_classes'], '{}'):>2}  {r['final_outcome']}")
outcomes = {}
for r in rows:
    if r["final_outcome"]:
        outcomes[r["final_outcome"]] = outcomes.get(r["final_outcome"], 0) + 1
lines.append("  outcomes: " + (", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none"))
ran = [p for p in phases if not p[1].startswith("skipped")]
for p in phases:
    if p[1].startswith("skipped") or p[1] in ("124", "137", "130"):
        lines.append(f"  phase {p[0]}: {'cut at its limit' if p[1] in ('124', '137', '130') else p[1]}")

# README "First run on a GPU" / "The JAX backend", as far as a JAX cell can answer them
audit = (work / "audit.txt").read_text(errors="replace") if (work / "audit.txt").is_file() else ""
check("the JAX cell path imports no TensorFlow, TF-GAN or seaborn", "AUDIT-OK" in audit,
      next((l for l in audit.splitlines() if l.startswith("AUDIT-")), "the audit did not finish"))
if mode == "gpu":
    check("JAX sees a GPU (audit process)", "GPU-FAIL" not in audit and "jax.devices()" in audit,
          next((l for l in audit.splitlines() if l.startswith("jax.devices()")), "no answer"))
if mode == "gpu":
    gate = next((p for p in phases if p[0] == "gate"), None)
    check("grid --require-gpu accepted (JAX asked, TensorFlow absent)",
          gate is not None and gate[1] not in ("2",), f"gate grid exit code {gate and gate[1]}")
    check("every cell on jax:gpu", all((r["device"] or "").startswith("jax:gpu") for r in rows)
          if rows else None, ", ".join(sorted({str(r['device']) for r in rows})))
check("every cell ended ok", all(r["status"] == "ok" for r in rows) if rows else False,
      ", ".join(f"{r['cell']}: {r['status']} {(r['reason'] or '')[:100]}" for r in rows
                if r["status"] != "ok")[:1500])
singles = [r for r in rows if r["k"] == 1]
said = [r for r in rows if r["log_first_line"] and "CUDA_VISIBLE_DEVICES=" in r["log_first_line"]]
check("single cells say CUDA_VISIBLE_DEVICES first in their log",
      all(r in said for r in singles) if singles else None, f"{sum(r in said for r in singles)}/{len(singles)}")
packed_rows = [r for r in rows if r["k"] > 1]
check("packed groups say CUDA_VISIBLE_DEVICES first in their log",
      all(r in said for r in packed_rows) if packed_rows else None,
      f"{sum(r in said for r in packed_rows)}/{len(packed_rows)} (README: each GPU cell says so first)")
gate_rows = [r for r in rows if r["run"] == "gate"]
evaluated = [r for r in rows if r["run"] == "gate" or r["k"] > 1]
check("every evaluated cell has its final evaluation in its own record, without TensorFlow",
      all(r["final_n"] and r["final_outcome"] and not r["final_eval"]
          and (r["evaluated_with"] or {}).get("metrics") == "numpy"
          for r in evaluated if r["status"] == "ok") if evaluated else None,
      "; ".join(f"{r['cell']}: n={r['final_n']} outcome={r['final_outcome']} "
                f"final_eval={str(r['final_eval'])[:80]!r}" for r in evaluated
                if r["status"] == "ok" and (not r["final_outcome"] or r["final_eval"]))[:1500])
check("memory: first step kept apart from training", all(
    r["peak_first_step_bytes"] is not None and r["peak_train_bytes"] is not None
    for r in rows if r["status"] == "ok") if rows else None,
    "; ".join(sorted({f"{r['peak_train_kind']} train_reset={r['train_reset']}" for r in rows
                      if r["status"] == "ok"})))
if mode == "gpu":
    check("env.json names the GPU, its compute capability, driver and memory",
          all(all((r["gpu"] or {}).get(k) for k in ("name", "compute_capability", "driver",
                                                    "memory_bytes")) for r in rows) if rows else None,
          ", ".join(sorted({json.dumps({k: (r["gpu"] or {}).get(k) for k in (
              "name", "compute_capability", "driver", "cuda_driver", "memory_bytes")})
              for r in rows}))[:400])
    check("bfloat16 support read from the compute capability (not unknown)",
          all(r["precision_support"] != "unknown" for r in rows) if rows else None,
          ", ".join(sorted({f"{r['precision']}: {r['precision_support']}" for r in rows})))
check("concurrent_cells: 1 alone, K packed", all(
    r["concurrent_cells"] == r["k"] for r in rows if r["status"] == "ok") if rows else None,
    ", ".join(sorted({f"K={r['k']}: {r['concurrent_cells']}" for r in rows if r["status"] == "ok"})))
comp = [(r["cell"], r["compile_s"]) for r in singles if r["compile_s"] is not None]
check("compile_seconds: the first cell against the later ones", None,
      ", ".join(f"{c}={s:.1f}s" for c, s in comp))
check("preflight warnings (TensorFlow's build; none expected under JAX)", None,
      ", ".join(sorted({json.dumps(r["preflight"]) for r in singles})))
check("precision support recorded", None,
      ", ".join(sorted({f"{r['precision']}: {r['precision_support']}" for r in rows})))
spread = [(r["cell"], r["ips_p10"] / r["ips_p90"]) for r in singles if r["ips_p10"] and r["ips_p90"]]
check("windows steady (p10/p90 of a cell's windows >= 0.8)", all(x >= 0.8 for _, x in spread)
      if spread else None, ", ".join(f"{c}: {x:.2f}" for c, x in spread))
lines.append("")
lines.append("checks (README 'First run on a GPU' and 'The JAX backend', JAX side):")
for c in checks:
    lines.append(f"  {c['result']:4} {c['check']}" + (f": {c['detail']}" if c["detail"] else ""))
text = "\n".join(lines) + "\n"
(Path(out) / "summary.txt").write_text(text)
(Path(out) / "results.json").write_text(json.dumps(
    {"mode": mode, "budget_s": int(budget), "elapsed_s": int(elapsed), "phases": phases,
     "cells": rows, "packed": packed_summary, "checks": checks, "audit": audit}, indent=1, default=str))
print(text)
EOF

# ---------------------------------------------------------------- 4. table, summary, tarballs
[ -n "$DMON_PID" ] && kill "$DMON_PID" 2>/dev/null
say "table and summary"
RUNS=()
for d in "$WORK"/runs/*/; do [ -f "$d/manifest.json" ] && RUNS+=("${d%/}"); done
if [ ${#RUNS[@]} -gt 0 ]; then
    timeout 60 "$PY" -m bench table "${RUNS[@]}" --csv > "$OUT/table.csv" 2> "$WORK/table.err"
    echo "table exit code $? ($(wc -l < "$OUT/table.csv") lines)"; tail -n 5 "$WORK/table.err"
fi
timeout 60 "$PY" "$WORK/summary.py" "$WORK" "$OUT" "$MODE" "$BUDGET" "$(elapsed)" \
    || say "the summary script failed (exit $?)"
cp "$WORK/env.txt" "$OUT/env.txt"
[ -f "$WORK/dmon.txt" ] && cp "$WORK/dmon.txt" "$OUT/dmon.txt"
tar -C "$WORK" --exclude='*.weights.h5' -czf "$OUT/runs.tgz" runs specs phases.tsv audit.txt 2>/dev/null
ls -la "$OUT"
say "done in $(elapsed)s"
exec 1>&- 2>&-
wait "$TEE_PID" 2>/dev/null
exit 0
