# Stacked MNIST's first seeds on a GPU machine with JAX and no TensorFlow, in one call of about
# 9 minutes: the project's GPU check cut to its gate and 8 packed seeds (bench/jobs/gpu-check.sh),
# then the first 8 seeds of runs/grids/stacked-pacgan.toml packed in one program (vmap), trained
# as many steps as the time left allows (sized from the packed seeds' measured images/s, at most
# the protocol's 100,000), each seed's final evaluation on 26,000 samples. From the project's
# root, with .whl/ carried (docs/gpus-and-jax.md says which wheels):
#
#   bash tests/benchmarks/stacked_gpu_first_seeds.sh      (results in $OUT, or ./devcheck-out)
#
# Knobs: DEV_BUDGET (545 s in all), CHECK_BUDGET (150 s), EVAL_RESERVE (200 s kept for the
# evaluations and start-up).
set -u
OUT=${OUT:-$PWD/devcheck-out}; mkdir -p "$OUT"
T0=$(date +%s); DEADLINE=$((T0 + ${DEV_BUDGET:-545}))
left() { echo $((DEADLINE - $(date +%s))); }
exec > >(tee -a "$OUT/devrun.log") 2>&1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 3
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 KERAS_BACKEND=jax DCGAN_BENCH_ESTIMATE=off TF_CPP_MIN_LOG_LEVEL=2
echo "== gpu-check, $(left) s left"
OUT=/tmp/chk DEVCHECK_BUDGET_S=${CHECK_BUDGET:-150} DEVCHECK_PHASES="gate packed8_vmap" timeout $(( ${CHECK_BUDGET:-150} + 40 )) bash bench/jobs/gpu-check.sh > /dev/null 2>&1
cp /tmp/chk/summary.txt "$OUT/check-summary.txt" 2>/dev/null; tar czf "$OUT/check.tgz" -C /tmp chk 2>/dev/null
cat /tmp/chk/summary.txt 2>/dev/null | head -60
IPS=$(python3 - <<'PY'
import glob, json
rates = {}
for f in glob.glob("/tmp/devcheck-work/runs/**/summary.json", recursive=True):
    s = json.load(open(f)); ips = (s.get("images_per_sec") or {}).get("median")
    k = (s.get("packed") or {}).get("seeds_per_process", 1)
    if ips and s.get("status") == "ok":
        rates.setdefault(k, []).append(ips)
print(int(sorted(rates[8])[len(rates[8]) // 2]) if 8 in rates else int(min(rates.get(1, [400])) / 4))
PY
)
TRAIN_S=$(( $(left) - ${EVAL_RESERVE:-200} ))
STEPS=$(python3 -c "print(min(100000, max(500, int($TRAIN_S * $IPS / 64 / 500) * 500)))")
echo "== stacked: per-seed packed images/s $IPS, $TRAIN_S s to train: $STEPS steps; $(left) s left"
python3 - "$STEPS" <<'PY'
import sys, tomllib
spec = tomllib.load(open("runs/grids/stacked-pacgan.toml", "rb"))
steps = int(sys.argv[1])
out = f'''name = "stacked-pacgan, first 8 seeds, {steps} steps (device run)"
data = "stacked-mnist"
[axes]
seeds = [0, 1, 2, 3, 4, 5, 6, 7]
batch_sizes = [64]
devices = ["gpu"]
xla = [true]
precision = ["float32"]
frameworks = ["jax"]
[budget]
steps = {steps}
log_every = {min(500, steps)}
learning_rate = {spec["budget"]["learning_rate"]}
adam_beta1 = {spec["budget"]["adam_beta1"]}
seeds_per_process = 8
packing = "vmap"
[eval]
final_n = {spec["eval"]["final_n"]}
'''
open("/tmp/stk.toml", "w").write(out)
PY
timeout $(( $(left) - 15 )) python3 -m bench grid /tmp/stk.toml --require-gpu --out /tmp/stkrun 2>&1 | grep -v "^[IEW]0000" | tail -25
python3 - <<'PY' | tee "$OUT/stacked-summary.txt"
import glob, json, math
rows = []
for f in sorted(glob.glob("/tmp/stkrun/*/summary.json")):
    s = json.load(open(f)); fin = s.get("final") or {}
    rows.append((f.split("/")[-2], s.get("status"), s.get("steps"), (s.get("images_per_sec") or {}).get("median"),
                 fin.get("stacked_n"), fin.get("modes"), fin.get("modes_thresholded"), fin.get("reverse_kl"),
                 fin.get("channel_classes"), fin.get("all_channels_confident"), fin.get("fid"), fin.get("outcome"), s.get("wall_seconds")))
for r in rows: print(*r, sep=" | ")
for i, name in ((5, "modes"), (7, "reverse_kl")):
    v = [r[i] for r in rows if r[i] is not None]
    if len(v) > 1:
        m = sum(v) / len(v); sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))
        print(f"{name}: n={len(v)} mean {m:.4g} sd {sd:.4g} se {sd / math.sqrt(len(v)):.4g} min {min(v):.4g} max {max(v):.4g}")
PY
tar czf "$OUT/stacked-run.tgz" --exclude='*.weights.h5' -C /tmp stkrun stk.toml 2>/dev/null
nvidia-smi --query-gpu=name,driver_version,memory.used --format=csv > "$OUT/gpu.txt" 2>&1
echo "== done, $(left) s left"
