"""Test-only fault injection, read from the environment in this one place.

`DCGAN_BENCH_FAULT` holds comma-separated faults:
- `nan@STEP`: the real batch fed at training step STEP is replaced by NaNs, so the losses go
  non-finite through the real computation and divergence detection is exercised end to end.
- `eval-nan@STEP`: the samples of the evaluation at step STEP are NaN (an evaluation that fails
  after its training is done: the record must keep the training).
- `crash@STEP`: the cell raises an exception at step STEP (a crash inside a cell).
- `crash-if-seed=N`: the cell raises at its first step when its seed is N (one bad grid cell).
- `die-if-seed=N`: the cell's process exits at once, without a word, when its seed is N (as the
  kernel's out-of-memory killer ends a process).
- `slow=P`: every log window sleeps P% of its own measured time before it ends, inside the timed
  region: steps take (1 + P/100) times as long, images/sec falls to 1 / (1 + P/100) of normal
  (`slow=20`: about 17% slower). The nightly comparison's detection rate is measured with it.
- `gpus=N`: the grid counts N GPUs without asking TensorFlow (its GPU scheduling, and what each
  cell process is given as CUDA_VISIBLE_DEVICES, tested on a machine without a GPU; the cells
  themselves then find no GPU and fail, saying so).
Nothing in a normal run sets it; a cell records the variable in env.json when it is set.
"""

import os

ENV_VAR = "DCGAN_BENCH_FAULT"


class InjectedFault(RuntimeError):
    pass


def _faults() -> list[tuple[str, int]]:
    spec = os.environ.get(ENV_VAR, "").strip()
    out = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "@" in part:
            kind, step = part.split("@", 1)
        else:
            kind, step = part.split("=", 1)
        out.append((kind, int(step)))
    return out


def nan_batch_step() -> int | None:
    return next((s for k, s in _faults() if k == "nan"), None)


def eval_nan_step() -> int | None:
    return next((s for k, s in _faults() if k == "eval-nan"), None)


def slowdown_fraction() -> float:
    """The `slow=P` fault as a fraction (0.2 for P = 20); 0 when not set."""
    return next((s / 100 for k, s in _faults() if k == "slow"), 0.0)


def fake_gpu_count() -> int | None:
    """The `gpus=N` fault: the GPU count the grid should believe; None when not set."""
    return next((n for k, n in _faults() if k == "gpus"), None)


def check_crash(step: int, seed: int):
    for kind, value in _faults():
        if (kind == "crash" and value == step) or (kind == "crash-if-seed" and value == seed):
            raise InjectedFault(f"injected fault {kind} ({ENV_VAR}) at step {step}")
        if kind == "die-if-seed" and value == seed:
            os._exit(137)
