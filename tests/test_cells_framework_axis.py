"""The framework as a coordinate, on crafted records: a run holding TensorFlow and JAX cells of one
configuration is one report, compare never pairs a TensorFlow cell with a JAX one, and claims
select by framework (and refuse to count one seed twice across frameworks).

The JAX cells are copies of the crafted seed study's `base` cells (tests/data/runs/collapse-study)
with `framework = "jax"`: seeds 0-4 of its ten, the first three turned into collapses, so that
selecting by framework changes the numbers a claim reports.
"""

import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from bench import records, schema
from bench.analysis import claims, compare
from bench.analysis.cells import load_cells
from bench.analysis.runs import run_dir_to_run
from bench.errors import BenchError
from bench.outcome_rule import coverage_to_outcome

STUDY = Path(__file__).parent / "data" / "runs" / "collapse-study"
JAX_SEEDS = range(5)
COLLAPSED_JAX_SEEDS = (0, 1, 2)


def _as_jax(tf_dir: Path, jax_dir: Path, collapsed: bool):
    shutil.copytree(tf_dir, jax_dir)
    config = records.read_json_record(jax_dir / schema.CONFIG_FILE)
    config.pop("schema_version", None)
    records.write_json_record(jax_dir / schema.CONFIG_FILE, {**config, "framework": "jax"})
    if collapsed:  # most samples one class: the outcome rule calls it a collapse
        summary = records.read_json_record(jax_dir / schema.SUMMARY_FILE)
        summary.pop("schema_version", None)
        final = {**summary["final"], "classes_covered": 2, "max_class_fraction": 0.9}
        final["outcome"] = coverage_to_outcome(final["confident_fraction"], 2, 0.9)
        assert final["outcome"] == "mode_collapse"
        summary["final"] = final
        records.write_json_record(jax_dir / schema.SUMMARY_FILE, summary)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "mixed"
    shutil.copytree(STUDY, run)
    manifest = records.read_json_record(run / schema.MANIFEST_FILE)
    manifest.pop("schema_version", None)
    for seed in JAX_SEEDS:
        cell_id = f"base_jax_cpu_float32_xla-off_bs64_seed{seed}"
        _as_jax(STUDY / f"base_cpu_float32_xla-off_bs64_seed{seed}", run / cell_id,
                seed in COLLAPSED_JAX_SEEDS)
        config = records.read_json_record(run / cell_id / schema.CONFIG_FILE)
        manifest["cells"].append({"id": cell_id, "config": config})
    records.write_json_record(run / schema.MANIFEST_FILE, manifest)
    from bench.grid.cellrecord import write_results_csv

    write_results_csv(run)
    return run


def _claim(**fields):
    return {"name": "c", "level": 0.95, "not_converged": "inconclusive", **fields}


def test_claims_select_by_framework(mixed):
    cells = load_cells([mixed])
    jax = claims.judge([_claim(kind="collapse_rate", max_rate=0.5,
                               config={"part": "base", "framework": "jax"})], cells)[0]
    tf = claims.judge([_claim(kind="collapse_rate", max_rate=0.5,
                              config={"part": "base", "framework": "tensorflow"})], cells)[0]
    assert (jax["n"], jax["successes"]) == (len(JAX_SEEDS), len(COLLAPSED_JAX_SEEDS))
    assert (tf["n"], tf["successes"]) == (10, 0)
    # the part alone matches seed 0 under both frameworks: one seed is one sample, never two
    with pytest.raises(BenchError, match="several cells of one seed.*framework = "):
        claims.judge([_claim(kind="collapse_rate", max_rate=0.5, config={"part": "base"})], cells)
    # the two frameworks against each other, 0 of 10 collapsed against 3 of 5. Fisher's exact
    # test, by hand: of C(15, 3) = 455 ways to place the 3 collapses, the TensorFlow side holds
    # k of them in C(10, k) C(5, 3 - k): 10, 100, 225, 120 for k = 0..3; only k = 0 is as
    # unlikely as what was seen, so p = 10/455 = 2/91 = 0.022 < 0.05
    differs = claims.judge([_claim(kind="differs", metric="collapse_rate",
                                   a={"part": "base", "framework": "tensorflow"},
                                   b={"part": "base", "framework": "jax"})], cells)[0]
    assert differs["p_exact"] == Fraction(2, 91) and differs["verdict"] == "holds"


def test_compare_never_pairs_a_tensorflow_cell_with_a_jax_one(mixed):
    pairs = compare.matched_pairs(run_dir_to_run(STUDY), run_dir_to_run(mixed))
    jax_rows = pairs[pairs["cell_id"].str.startswith("base_jax_")]
    assert len(jax_rows) == len(JAX_SEEDS)
    assert not jax_rows["matched"].any()  # only in the candidate: no JAX cell in the baseline
    assert (jax_rows["framework_c"] == "jax").all()
    tf_rows = pairs[pairs["cell_id"].str.startswith("base_cpu_")]
    assert tf_rows["matched"].all() and len(tf_rows) == 10
    notes = {row["cell"]: row["note"] for row in compare.cells_not_compared(pairs)}
    assert all(notes[c] == "only in the candidate" for c in jax_rows["cell_id"])


def test_one_report_holds_both_frameworks(mixed, tmp_path):
    from bench.report.render import render_report

    index = render_report([mixed], tmp_path / "report")
    html = index.read_text()
    # the framework is named where it varies (a TensorFlow-only report names neither)
    assert "JAX · float32 · XLA off · bs 64 · base part" in html
    assert "TensorFlow · float32 · XLA off · bs 64 · base part" in html
    counts = load_cells([mixed])["framework"].value_counts().to_dict()
    assert counts == {"tensorflow": 37, "jax": len(JAX_SEEDS)}
