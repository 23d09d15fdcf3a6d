"""One reader of run directories: a schema-1 record reads the same through every path.

The golden grid (schema 2) is rewritten as schema 1 would have written it: every record says
`schema_version: 1`, a summary has one `peak_memory_bytes` (the process's peak, kind
`process_peak_rss`) and a boolean `collapsed` in its final block instead of the `outcome`. Read
through the results table, a run to compare, the history, the report's frames, the grid's
progress line and its bookkeeping, it must give what the schema-2 records give, but for the
training peak, which schema 1 never measured.
"""

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bench import rundirs, schema
from bench.analysis import compare, history
from bench.analysis.cells import load_cells
from bench.analysis.results import load_results
from bench.analysis.runs import run_dir_to_run
from bench.errors import BenchError
from bench.grid.cellrecord import add_to_summary, write_results_csv
from bench.grid.progress import GridProgress
from bench.grid.spec import Cell
from bench.report import data

GOLDEN = Path(__file__).parent / "data" / "runs" / "golden"
# Where schema-1 and schema-2 rows differ by design, or name their own directory.
NOT_COMPARED = ("cell_dir", schema.PEAK_MEMORY_TRAIN_BYTES, schema.PEAK_MEMORY_TRAIN_KIND)


def _to_schema_1(record: dict, name: str) -> dict:
    record = {**record, "schema_version": 1}
    if name != schema.SUMMARY_FILE:
        return record
    for key in (schema.PEAK_MEMORY_TRAIN_BYTES, schema.PEAK_MEMORY_TRAIN_KIND,
                "peak_memory_train_reset"):
        record.pop(key, None)
    if schema.PEAK_MEMORY_PROCESS_BYTES in record:
        record["peak_memory_bytes"] = record.pop(schema.PEAK_MEMORY_PROCESS_BYTES)
        record["peak_memory_kind"] = {"process_rss": "process_peak_rss"}[
            record.pop(schema.PEAK_MEMORY_PROCESS_KIND)]
    final = record.get("final")
    if isinstance(final, dict):
        outcome = final.pop(schema.OUTCOME)
        final["collapsed"] = outcome == "mode_collapse"
    return record


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(schema-2 run, the same run as schema 1), in grid folders named alike."""
    root = tmp_path_factory.mktemp("rundirs")
    new, old = root / "new" / "golden", root / "old" / "golden"
    shutil.copytree(GOLDEN, new)
    shutil.copytree(GOLDEN, old)
    for path in old.rglob("*.json"):
        path.write_text(json.dumps(_to_schema_1(json.loads(path.read_text()), path.name)))
    for path in old.rglob("*.jsonl"):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        path.write_text("".join(json.dumps({**x, "schema_version": 1}) + "\n" for x in lines))
    return new, old


def test_the_schema_1_copy_is_really_schema_1(runs):
    _, old = runs
    summary = json.loads((old / "cpu_float32_xla-on_bs256_seed1" / "summary.json").read_text())
    assert summary["schema_version"] == 1 and summary["final"]["collapsed"] is True
    assert "outcome" not in summary["final"] and "peak_memory_bytes" in summary


def test_migration_chain_brings_a_summary_to_the_current_version(runs):
    _, old = runs
    summary = rundirs.read_summary(old / "cpu_float32_xla-on_bs256_seed1")
    assert summary["schema_version"] == schema.SCHEMA_VERSION
    assert summary["final"][schema.OUTCOME] == "mode_collapse" and "collapsed" not in summary["final"]
    assert summary[schema.PEAK_MEMORY_PROCESS_KIND] == "process_rss"


def test_a_record_newer_than_the_harness_is_refused(tmp_path):
    cell = tmp_path / "cell"
    shutil.copytree(GOLDEN / "cpu_float32_xla-off_bs64_seed0", cell)
    summary = json.loads((cell / "summary.json").read_text())
    (cell / "summary.json").write_text(json.dumps({**summary, "schema_version": 99}))
    with pytest.raises(BenchError, match="schema_version 99 is newer"):
        rundirs.read_summary(cell)


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in NOT_COMPARED if c in frame]).reset_index(drop=True)


def test_results_and_runs_read_schema_1_as_schema_2(runs):
    new, old = runs
    pd.testing.assert_frame_equal(_rows(load_results([old])), _rows(load_results([new])))
    old_run, new_run = run_dir_to_run(old), run_dir_to_run(new)
    pd.testing.assert_frame_equal(_rows(old_run.results), _rows(new_run.results))
    assert old_run.windows == new_run.windows
    assert old_run.info["spec_sha256"] == new_run.info["spec_sha256"]
    assert load_results([old])[schema.PEAK_MEMORY_TRAIN_BYTES].isna().all()
    # the comparison finds every seed repeating its final metrics exactly
    result = compare.compare_runs(new_run, old_run)
    assert result["numerics"]["expected"] and result["numerics"]["changes"] == []


def test_history_keeps_schema_1_runs_as_schema_2(runs, tmp_path):
    new, old = runs
    db = tmp_path / "h.sqlite"
    run_id, _ = history.ingest(old, db)
    pd.testing.assert_frame_equal(_rows(history.run_results(run_id, db)),
                                  _rows(load_results([new])))


def test_report_frames_read_schema_1_as_schema_2(runs):
    new, old = runs
    old_cells, new_cells = load_cells([old]), load_cells([new])
    for load in (data.load_steps, data.load_evals, data.load_envs):
        pd.testing.assert_frame_equal(load(old_cells), load(new_cells))
    assert [m["name"] for m in data.load_manifests(old_cells)] == \
        [m["name"] for m in data.load_manifests(new_cells)]


def test_grid_bookkeeping_reads_schema_1_as_schema_2(runs, tmp_path):
    new, old = runs
    cell_ids = [c["id"] for c in rundirs.read_manifest(new)["cells"]]
    assert [rundirs.cell_status(old / c) for c in cell_ids] == \
        [rundirs.cell_status(new / c) for c in cell_ids]
    figures = []
    for run in (old, new):
        bar = GridProgress([], run, stream=io.StringIO())
        figures.append([bar._cell_figures(Cell(c, None)) for c in cell_ids])
    assert figures[0] == figures[1] and " img/s" in figures[0][0]
    # results.csv of the schema-1 run is the schema-2 run's, but for the columns that differ
    for run in (old, new):
        write_results_csv(run)
    csvs = [pd.read_csv(run / schema.RESULTS_FILE) for run in (old, new)]
    pd.testing.assert_frame_equal(_rows(csvs[0]), _rows(csvs[1]))
    # a summary the grid adds to is rewritten in the current schema, its content migrated
    copy = tmp_path / "cell"
    shutil.copytree(old / cell_ids[0], copy)
    add_to_summary(copy, placement={"node": "here"})
    written = json.loads((copy / schema.SUMMARY_FILE).read_text())
    assert written["schema_version"] == schema.SCHEMA_VERSION and "peak_memory_bytes" not in written
    assert written["placement"] == {"node": "here"}


def _to_schema_2(record: dict, name: str) -> dict:
    """A schema-3 record as schema 2 wrote it: the framework called `backend`, the launcher in a
    summary's placement too, the spec's axis `backend`."""
    record = {**record, "schema_version": 2}
    if name in (schema.CONFIG_FILE, schema.ENV_FILE):
        record = {"backend": "jax", **{k: v for k, v in record.items()
                                       if k not in (schema.FRAMEWORK, schema.FRAMEWORK_VERSION)}}
    if name == schema.SUMMARY_FILE:
        record["placement"] = {"backend": "local", "host": "h"}
    if name == schema.MANIFEST_FILE:  # (the golden spec is an old flat one: given parts here)
        record["spec"] = {"name": "golden", "parts": [
            {"name": "a", "axes": {"seeds": [0], "backend": ["jax"]}}]}
    return record


def test_schema_2_records_name_the_framework_and_the_launcher_as_schema_3(tmp_path):
    old = tmp_path / "golden"
    shutil.copytree(GOLDEN, old)
    for path in old.rglob("*.json"):
        path.write_text(json.dumps(_to_schema_2(json.loads(path.read_text()), path.name)))
    cell = old / "cpu_float32_xla-off_bs64_seed0"
    assert json.loads((cell / "config.json").read_text())["backend"] == "jax"  # really schema 2
    config = rundirs.read_record(cell, schema.CONFIG_FILE)
    assert config[schema.FRAMEWORK] == "jax" and "backend" not in config
    assert rundirs.read_record(cell, schema.ENV_FILE)[schema.FRAMEWORK] == "jax"
    assert rundirs.read_summary(cell)["placement"] == {"launcher": "local", "host": "h"}
    spec = rundirs.read_manifest(old)["spec"]
    assert spec["parts"][0]["axes"] == {"seeds": [0], "frameworks": ["jax"]}
    results = load_results([old])
    assert "backend" not in results and (results[schema.FRAMEWORK] == "jax").all()


def test_history_rows_carry_their_schema_and_old_rows_are_migrated(tmp_path):
    db = tmp_path / "h.sqlite"
    run_id, _ = history.ingest(GOLDEN, db)
    con = history.connect(db)
    stored = con.execute("SELECT rowid, row_json FROM cells").fetchall()
    assert {json.loads(text)["schema_version"] for _, text in stored} == {schema.SCHEMA_VERSION}
    # rows stored before rows carried a version: the framework under its old name
    for rowid, text in stored:
        old = {"backend" if k == schema.FRAMEWORK else k: v for k, v in json.loads(text).items()
               if k != "schema_version"}
        con.execute("UPDATE cells SET row_json = ? WHERE rowid = ?", (json.dumps(old), rowid))
    con.commit()
    con.close()
    rows = history.run_results(run_id, db)
    assert "backend" not in rows and "schema_version" not in rows
    assert (rows[schema.FRAMEWORK] == "tensorflow").all()
    pd.testing.assert_frame_equal(_rows(rows), _rows(load_results([GOLDEN])))


def test_verdict_details_carry_their_schema_and_old_ones_read_the_same(tmp_path):
    db = tmp_path / "h.sqlite"
    run_id, _ = history.ingest(GOLDEN, db)
    opened = {"cpu|float32": {"since": "r1", "found": "r1"}}
    history.record_verdict(run_id, None, schema.VERDICT_REGRESSION, {"open": opened}, db)
    con = history.connect(db)
    stored = json.loads(con.execute("SELECT details_json FROM verdicts").fetchone()[0])
    assert stored["schema_version"] == schema.SCHEMA_VERSION
    night = history.run_info(run_id, db)
    assert history.open_regressions(night) == opened
    # details stored before they carried a version read the same
    con.execute("UPDATE verdicts SET details_json = ?", (json.dumps({"open": opened}),))
    con.commit()
    con.close()
    night = history.run_info(run_id, db)
    assert history.open_regressions(night) == opened
    assert history.verdict_details(night)["schema_version"] == schema.SCHEMA_VERSION


def test_schema_3_records_get_the_frameworks_version_in_one_field():
    """Schema 3 kept a framework's version under its own name only (and a results row
    TensorFlow's as `tensorflow`, null under JAX); schema 4 reads `framework_version`."""
    jax_env = {"schema_version": 3, schema.FRAMEWORK: "jax", "jax": "0.10.2", "keras": "3.15.1"}
    tf_env = {"schema_version": 3, schema.FRAMEWORK: "tensorflow", "tensorflow": "2.21.0"}
    older = {"schema_version": 3, "tensorflow": "2.20.0"}  # before the framework axis: TensorFlow
    assert rundirs.migrate(schema.ENV_FILE, jax_env)[schema.FRAMEWORK_VERSION] == "0.10.2"
    assert rundirs.migrate(schema.ENV_FILE, tf_env)[schema.FRAMEWORK_VERSION] == "2.21.0"
    assert rundirs.migrate(schema.ENV_FILE, older)[schema.FRAMEWORK_VERSION] == "2.20.0"
    row = rundirs.migrate(rundirs.RESULTS_ROW, {"schema_version": 3, "cell_id": "c",
                                                "tensorflow": "2.21.0", "device_model": "d"})
    assert row == {"schema_version": schema.SCHEMA_VERSION, "cell_id": "c",
                   schema.FRAMEWORK_VERSION: "2.21.0",
                   "device_model": "d"}


def test_schema_4_stacked_outcomes_are_read_by_the_three_channel_rule():
    """A schema-4 stacked summary whose third channel drew one digit said `digits` (100 modes,
    the bar); read today, it is a collapse. Records without the channel numbers keep theirs."""
    final = {"outcome": "digits", "modes_thresholded": 100, "channel_classes_min": 1,
             "all_channels_confident": 0.93}
    summary = rundirs.migrate(schema.SUMMARY_FILE, {"schema_version": 4, "final": final})
    assert summary["final"]["outcome"] == "mode_collapse" and summary["schema_version"] == 5
    mnist = {"schema_version": 4, "final": {"outcome": "digits", "classes_covered": 10}}
    assert rundirs.migrate(schema.SUMMARY_FILE, mnist)["final"]["outcome"] == "digits"
    row = rundirs.migrate(rundirs.RESULTS_ROW, {"schema_version": 4, "final_outcome": "digits",
                                                **{f"final_{k}": v for k, v in final.items()
                                                   if k != "outcome"}})
    assert row["final_outcome"] == "mode_collapse"
