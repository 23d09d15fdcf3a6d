"""The nightly path on real runs: three short grids trained back to back on the CPU, put into a
history and compared with `last-good`, as `tox -e nightly` does.

An A/A pair (the same spec twice) must be `ok`; a run slowed by the test-only fault `slow=20`
(every log window sleeps 20% of its own time: images/sec falls to 1/1.2 = 0.83 of normal) must be
a `regression`. Each run is one cell of 12 measured windows; the verdict takes the run as the unit
(bench/analysis/throughput.py): a ratio beyond the threshold with its whole interval on one side.
The false-alarm and detection rates over many pairs are measured by
tests/benchmarks/nightly_false_alarms.py, not here.

Judging real timings needs a machine that was not busy with other work while the nights ran: when
a verdict is not the expected one and the machine was busy (tests/pace.py, `busy_reason`), the
test says so and is skipped, rather than failing on someone else's load.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pace import busy_reason, load_average

from bench import rundirs
from bench.analysis import history
from bench.analysis.compare import MARGIN
from bench.cli import main

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
SPEC = """
name = "nightly test: 1 seed, batch 64, 130 steps"
data = "mnist-5k"
[axes]
seeds = [0]
batch_sizes = [64]
devices = ["cpu"]
xla = [false]
precision = ["float32"]
[budget]
steps = 130
log_every = 10
[eval]
final_n = 0
"""


@pytest.fixture(scope="module")
def nights(tmp_path_factory, machine_pace):
    root = tmp_path_factory.mktemp("nightly")
    spec = root / "nightly-test.toml"
    spec.write_text(SPEC)
    db = root / "history.sqlite"
    runs, loads = {}, {}
    for name, fault in (("a", None), ("b", None), ("slowed", "slow=20")):
        env = {k: v for k, v in os.environ.items() if k != "DCGAN_BENCH_FAULT"}
        if fault:
            env["DCGAN_BENCH_FAULT"] = fault
        run = root / "nightly" / name
        proc = subprocess.Popen([sys.executable, "-m", "bench", "grid", str(spec), "--out",
                                 str(run)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        loads[name], out = [load_average()], None
        while out is None:  # the load while the night trains, every second
            try:
                out, _ = proc.communicate(timeout=1.0)
            except subprocess.TimeoutExpired:
                loads[name].append(load_average())
                assert len(loads[name]) < machine_pace.timeout(130, 64), "the night never ended"
        assert proc.returncode == 0, out
        history.ingest(run, db)
        runs[name] = run
    return root, db, runs, loads


def _busy(runs, loads, *names) -> str | None:
    """Why these nights' timings cannot be judged, or None (tests/pace.py)."""
    rates = [[ips for _, ips, _ in rundirs.measured_windows(cell)] for name in names
             for _, cell in rundirs.find_cell_dirs([runs[name]])]
    return busy_reason([x for name in names for x in loads[name]], rates, MARGIN)


def _nightly_compare(root, db, run, capsys):
    out = root / f"compare-{run.name}"
    code = main(["compare", "last-good", str(run), "--db", str(db), "--out", str(out)])
    capsys.readouterr()
    return code, json.loads((out / "comparison.json").read_text())


def test_a_real_a_a_pair_is_no_regression(nights, capsys):
    root, db, runs, loads = nights
    code, result = _nightly_compare(root, db, runs["b"], capsys)
    if result["verdict"] != "ok" and _busy(runs, loads, "a", "b"):
        pytest.skip(_busy(runs, loads, "a", "b"))
    assert code == 0 and result["verdict"] == "ok", result["throughput"]
    (test,) = result["throughput"]
    assert test["runs"] == "1 / 1" and test["windows"] == "12 / 12"
    # no regression, against the threshold the verdict used (at least compare's 10% margin); a
    # faster candidate (10.9% once, on a loaded machine) is not a regression, and not a failure
    assert test["threshold"] >= 0.10
    assert test["ratio"] > 1 - test["threshold"] or test["ci_high"] >= 1


def test_a_real_run_slowed_20_percent_is_flagged(nights, capsys):
    root, db, runs, loads = nights
    code, result = _nightly_compare(root, db, runs["slowed"], capsys)
    if result["verdict"] != "regression" and _busy(runs, loads, "b", "slowed"):
        pytest.skip(_busy(runs, loads, "b", "slowed"))
    assert code == 1 and result["verdict"] == "regression"
    (test,) = result["throughput"]
    assert result["baseline"] == "nightly/b" and test["verdict"] == "regression"
    assert test["ratio"] < 1 - test["threshold"] and test["ci_high"] < 1


def test_the_nightly_job_runs_each_stage_once_and_judges_the_second_night(tmp_path, monkeypatch):
    """bench.jobs.nightly on two real nights: the first has no baseline, the second is compared
    with it; each night is ingested, its verdict recorded, and its pages written."""
    from bench.jobs.nightly import run_nightly

    monkeypatch.chdir(tmp_path)  # runs/<stem>/<time> and the pages land here
    spec = tmp_path / "tonight.toml"
    spec.write_text(SPEC.replace("steps = 130", "steps = 30"))
    db, said = tmp_path / "history.sqlite", []
    first = run_nightly(spec, db, tmp_path / "reports", say=said.append)
    assert first.exit_code == 0 and first.judgement.result is None
    assert any("is the first, and the baseline of the next" in line for line in said)
    second = run_nightly(spec, db, tmp_path / "reports", say=said.append)
    assert second.judgement.result is not None and second.judgement.result["verdict"] in (
        "ok", "regression")
    assert second.exit_code == (1 if second.judgement.bad else 0)
    runs = history.list_runs(db)
    assert [r["path"] for r in runs] == [str(first.run_dir.resolve()), str(second.run_dir.resolve())]
    assert runs[0]["verdict"] is None and runs[1]["verdict"] == second.judgement.result["verdict"]
    assert (tmp_path / "runs" / "tonight" / "latest").resolve() == second.run_dir.resolve()
    for page in ("tonight", "tonight-compare", "trend"):
        assert (tmp_path / "reports" / page / "index.html").is_file()


def test_a_bad_spec_stops_the_nightly_job_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "bad.toml"
    spec.write_text(SPEC.replace('precision = ["float32"]', 'precision = ["float8"]'))
    assert main(["nightly", str(spec), "--db", str(tmp_path / "h.sqlite")]) == 2
    assert not (tmp_path / "runs").exists() and not (tmp_path / "h.sqlite").exists()
