"""`dcgan-bench continuous`'s parts with real processes: two revisions of a clone of this
repository, one of them slower by a real code change (every log window sleeps 43% of its own time:
0.7 times the images/s), trained round after round while a CPU hog (started under `setsid`, so
that autogroup scheduling cannot shield the cells) runs through half of the rounds. The pairs
find the slowdown (through the nightly job's `--ab`, which runs the same rounds after tonight's
grid), and find none between a revision and itself under the same hog.

Each side's run logs three measured windows of 30 steps (about 0.5 s each on the slow class), and
four rounds are the fewest with a hog through half of them and the three pairs a verdict needs
left where a round's sides are unlike.
"""

import os
import subprocess
from pathlib import Path

import pytest
from hogs import start_hog, tiny_jax_spec

pytest.importorskip("jax", reason="JAX is not installed (the jax extra: pip install -e '.[jax]'; "
                                  "tox -e py installs it)")

from bench.analysis.paired import paired_verdicts  # noqa: E402
from bench.analysis.runs import run_dir_to_run  # noqa: E402
from bench.jobs import continuous  # noqa: E402
from bench.jobs.nightly import run_nightly  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
SPEC = tiny_jax_spec("continuous", steps=120, log_every=30)
ROUNDS = 4
SLOW = '''def slowdown_fraction() -> float:
    """A revision slower by its code: every window sleeps 43% of its time."""
    return 0.43
'''


def _repo(tmp_path) -> Path:
    """A clone of this repository's HEAD, and a commit on it that slows every step."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    faults = repo / "bench" / "cell" / "faults.py"
    text = faults.read_text()
    start = text.index("def slowdown_fraction()")
    end = text.index("\n\n\n", start)
    faults.write_text(text[:start] + SLOW.rstrip() + text[end:])
    git = ["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@example"]
    subprocess.run([*git, "commit", "-qam", "slower"], check=True)
    return repo


class HalfWithAHog:
    """on_round: a CPU hog through the first half of the rounds; `stop()` in any case."""

    def __init__(self):
        self.hog = None

    def __call__(self, r):
        if r == 0:
            self.hog = start_hog()
        if r == ROUNDS // 2:
            self.stop()

    def stop(self):
        if self.hog is not None:
            self.hog.kill()
            self.hog = None


def test_continuous_finds_nothing_between_a_revision_and_itself_under_the_same_hog(tmp_path):
    repo = _repo(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    cache = tmp_path / "cache"
    base = continuous.prepare(repo, "HEAD~1", "baseline", cache)
    cand = continuous.prepare(repo, "HEAD~1", "candidate", cache)
    env = {k: v for k, v in os.environ.items() if k != "DCGAN_BENCH_FAULT"}
    hog = HalfWithAHog()
    try:
        rounds = continuous.run_rounds(spec, base, cand, ROUNDS, tmp_path / "same",
                                       continuous.THROUGHPUT_PART, say=lambda _: None, env=env,
                                       on_round=hog)
    finally:
        hog.stop()
    (verdict,) = paired_verdicts([(run_dir_to_run(b), run_dir_to_run(c))
                                  for b, c in rounds]).values()
    assert verdict["verdict"] in ("no change", "inconclusive"), verdict


def test_the_nightly_ab_finds_a_real_slowdown_through_a_hog_in_half_the_rounds(tmp_path,
                                                                              monkeypatch):
    """`nightly --ab HEAD~1` in a checkout whose HEAD is the slower revision: tonight's grid,
    then four A/B rounds with a hog through the first two. The pairs find the slowdown, and the
    night exits 1 on it (its first night: no last good night to judge the rest against, but the
    A/B stands)."""
    repo = _repo(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(continuous.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv("DCGAN_BENCH_FAULT", raising=False)
    lines, hog = [], HalfWithAHog()
    try:
        night = run_nightly(spec, tmp_path / "h.sqlite", tmp_path / "reports",
                            say=lines.append, ab="HEAD~1", ab_rounds=ROUNDS, repo=repo,
                            on_round=hog)
    finally:
        hog.stop()
    (verdict,) = night.ab["verdicts"].values()
    assert night.ab["revisions"]["candidate"]["commit"] == subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
        check=True).stdout.strip()
    assert (tmp_path / night.ab["out"] / continuous.RESULT_FILE).is_file()
    (said,) = [line for line in lines if line.startswith("A/B (no last good night")]
    assert verdict["verdict"].upper() in said and night.judgement.result is None
    assert night.exit_code == (1 if verdict["verdict"] == "regression" else 0)
    if verdict["verdict"] == "inconclusive" and verdict["left_out"] > 1:
        pytest.skip(f"the machine was too busy to judge: {verdict['left_out']} of {ROUNDS} rounds "
                    f"had sides whose contention differed by more than 0.10 ({verdict['why']})")
    assert verdict["verdict"] == "regression", verdict
    assert 0.6 < verdict["ratio"] < 0.85  # 0.70 if each window slept its 43% (see
    # tests/test_contention_compare.py: measured 0.78 there)
