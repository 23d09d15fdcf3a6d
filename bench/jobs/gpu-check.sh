#!/usr/bin/env bash
# bench/jobs/gpu-check.sh: the project's GPU check, for a GPU machine that has JAX (with CUDA) and
# no TensorFlow and cannot reach a package index, in at most 6 minutes. From the project's root:
#
#   bash bench/jobs/gpu-check.sh     with .whl/ (keras, namex, optree, mlxtend, filelock: cp312
#                                    wheels, docs/gpus-and-jax.md says how) brought along;
#                                    results go to $OUT (or ./devcheck-out)
#
# This shell installs the wheels, sets the environment, runs each grid under its time limit and
# tars the records; the rest is Python in the package (bench/jobs/gpu_check.py: the versions, the
# audit, the plan and its specs, the gate's verdict; bench/jobs/gpu_check_summary.py: the summary
# and its checks), under the same lint, layout and tests as the rest.
#
# Phases, each a grid of its own, cut by the time left (DEVCHECK_BUDGET_S, default 330 s):
#   0. the carried wheels installed into $SITE (pip --no-index --no-deps --target); nvidia-smi
#      and jax.devices(); TensorFlow absent; an audit of what the JAX cell path imports;
#      runs/grids/gpu-check-jax.toml validated;
#   1. gate: one JAX cell, batch 64 float32, `grid --require-gpu`, its final evaluation of
#      10,000 samples in its own process (the instrument under Keras' JAX backend, the metrics
#      in NumPy); if the cell is not ok, the rest is skipped (DEVCHECK_FORCE=1 runs it anyway);
#   2. batches: batch 64/256 x float32/mixed_bfloat16 in one grid (the gate's cell not again);
#   3. the study program (a log window's steps in one dispatch, the images on the device):
#      K in $STUDY_KS seeds, vmap then loop for K > 1, each seed evaluated (1,000 samples);
#   4. packed seeds of the step program: K in $KS, vmap then loop (K = 1 is the gate's cell),
#      each seed evaluated; the loop at the largest K last: it compiles K copies of the step;
#   5. `dcgan-bench table --csv` over every run, a summary with checks, the records tarred into
#      $OUT: records and logs only, no generator weights (nothing is left to evaluate elsewhere).
#
# Results in $OUT (flat, at most 8 files): devcheck.log, summary.txt (read first), results.json,
# table.csv, env.txt, dmon.txt, runs.tgz.
#
# Knobs (environment): DEVCHECK_MODE=gpu|cpu (cpu: the dry run, devices = ["cpu"], TensorFlow
# blocked in every process), DEVCHECK_BUDGET_S, DEVCHECK_SITE, DEVCHECK_WORK, DEVCHECK_PYTHON,
# DEVCHECK_FORCE=1, DEVCHECK_CAP_SCALE (multiplies each phase's cap; 1 on the GPU), DEVCHECK_PHASES
# (only these phases, by name: gate batches study1 study<K>_vmap study<K>_loop study<K>_auto
# packed<K>_vmap packed<K>_loop); read by the plan (bench.jobs.gpu_check.Settings): DEVCHECK_KS ("8 32"),
# DEVCHECK_STUDY_KS ("1 8 32"), DEVCHECK_BATCHES ("64 256"),
# DEVCHECK_PRECISIONS ("float32 mixed_bfloat16"), DEVCHECK_STEPS / DEVCHECK_LOG_EVERY (gate and
# batches: 1000 / 100), DEVCHECK_PACKED_STEPS / DEVCHECK_PACKED_LOG_EVERY (400 / 50),
# DEVCHECK_FINAL_N (the gate's final evaluation: 10000), DEVCHECK_PACKED_FINAL_N (each packed
# seed's: 1000).
set -u -o pipefail

T0=$(date +%s)
MODE=${DEVCHECK_MODE:-gpu}
BUDGET=${DEVCHECK_BUDGET_S:-330}
RESERVE=${DEVCHECK_RESERVE_S:-25}  # kept for the table, the summary and the tarballs
SITE=${DEVCHECK_SITE:-/tmp/site}
WORK=${DEVCHECK_WORK:-/tmp/devcheck-work}
PY=${DEVCHECK_PYTHON:-python3}
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
CHECK=("$PY" -m bench.jobs.gpu_check)

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
    "${CHECK[@]}" block "$WORK/block-tensorflow" || { say "FATAL: no TensorFlow block"; exit 3; }
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
    timeout 60 "${CHECK[@]}" env
} > "$WORK/env.txt" 2>&1
if command -v nvidia-smi >/dev/null && [ "$MODE" = gpu ]; then
    nvidia-smi dmon -s um -o T > "$WORK/dmon.txt" 2>&1 &
    DMON_PID=$!
fi
sed -n '1,200p' "$WORK/env.txt"

say "JAX, Keras and the import audit of the JAX cell path"
timeout 150 "${CHECK[@]}" audit "$MODE" > "$WORK/audit.txt" 2>&1
echo "audit exit code $?" >> "$WORK/audit.txt"
cat "$WORK/audit.txt"
cat "$WORK/audit.txt" >> "$WORK/env.txt"

# ---------------------------------------------------------------- 1-3. the phases
REQUIRE=(--require-gpu)
if [ "$MODE" != gpu ]; then REQUIRE=(); fi
"${CHECK[@]}" plan "$WORK" "$MODE" || { say "FATAL: no plan (a DEVCHECK_ knob?)"; exit 3; }

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

# the plan on file descriptor 3: a grid reads the script's stdin, not the plan
while IFS=$'\t' read -r -u 3 name min cap spec; do
    phase "$name" "$min" "$cap" "$spec"
    # a gate that ran and did not end ok skips the rest; the verdict prints the cell's log
    if [ "$name" = gate ] && ! "${CHECK[@]}" gate "$WORK"; then GATE_OK=0; fi
done 3< "$WORK/plan.tsv"

# ---------------------------------------------------------------- 3b. the packed step's kernels
# (the profile of a packed dispatch: its optimized HLO's kernels for K = 1, 8, 32 by vmap and by
# loop) with what is left of the budget, after every timed phase
avail=$(( $(left) - RESERVE ))
if [ -n "$ONLY" ] && [[ " $ONLY " != *" kernels "* ]]; then
    say "kernels: not asked for (DEVCHECK_PHASES)"
elif [ "$avail" -lt 30 ]; then
    say "kernels: SKIPPED (${avail}s left, needs 30s)"
else
    say "kernels: the packed step's kernels a dispatch, limit ${avail}s"
    timeout -k 10 "$avail" "${CHECK[@]}" kernels "$WORK" "$MODE" || say "kernels: exit $?"
fi

# ---------------------------------------------------------------- 4. table, summary, tarballs
[ -n "$DMON_PID" ] && kill "$DMON_PID" 2>/dev/null
say "table and summary"
RUNS=()
for d in "$WORK"/runs/*/; do [ -f "$d/manifest.json" ] && RUNS+=("${d%/}"); done
if [ ${#RUNS[@]} -gt 0 ]; then
    timeout 60 "$PY" -m bench table "${RUNS[@]}" --csv > "$OUT/table.csv" 2> "$WORK/table.err"
    echo "table exit code $? ($(wc -l < "$OUT/table.csv") lines)"; tail -n 5 "$WORK/table.err"
fi
timeout 60 "${CHECK[@]}" summary "$WORK" "$OUT" "$MODE" "$BUDGET" "$(elapsed)" \
    || say "the summary failed (exit $?)"
cp "$WORK/env.txt" "$OUT/env.txt"
[ -f "$WORK/dmon.txt" ] && cp "$WORK/dmon.txt" "$OUT/dmon.txt"
[ -f "$WORK/kernels.jsonl" ] && cp "$WORK/kernels.jsonl" "$OUT/kernels.jsonl"
tar -C "$WORK" --exclude='*.weights.h5' -czf "$OUT/runs.tgz" runs specs plan.tsv phases.tsv audit.txt \
    2>/dev/null
ls -la "$OUT"
say "done in $(elapsed)s"
exec 1>&- 2>&-
wait "$TEE_PID" 2>/dev/null
exit 0
