"""A report publishes only what the run made (issue 46): a manifest that names a cell by a path
out of the run is refused, naming the field; a samples.png or a cell directory that is a link out
of the run is not copied into the pages."""

import json
import os

import pytest
from test_report import copy_golden

from bench.cli import main as bench_main
from bench.errors import BenchError
from bench.report.render import render_report

CELL = "cpu_float32_xla-off_bs64_seed0"
SECRET = b"not the run's: a private key, say\n"


def _published(out) -> bytes:
    return b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())


@pytest.mark.parametrize("cell_id", ["/etc", "../elsewhere", "a/b", ".."])
def test_a_cell_named_by_a_path_out_of_the_run_is_refused_naming_the_field(tmp_path, cell_id,
                                                                           capsys):
    run = copy_golden(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["cells"][0]["id"] = cell_id
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BenchError, match=r"field cells\[0\]\.id expected a cell directory's name"):
        render_report([run], tmp_path / "report")
    assert bench_main(["report", str(run), "--out", str(tmp_path / "report")]) == 2
    assert not (tmp_path / "report").exists()


def test_a_samples_link_out_of_the_run_publishes_nothing_of_what_it_points_at(tmp_path):
    run = copy_golden(tmp_path)
    secret = tmp_path / "secret.png"
    secret.write_bytes(SECRET)
    samples = run / CELL / "samples.png"
    samples.unlink()
    samples.symlink_to(secret)
    out = render_report([run], tmp_path / "report").parent
    assert SECRET not in _published(out)
    assert len(list((out / "samples").glob("*.png"))) == 7  # the golden grid's 8, less the link


def test_a_cell_directory_that_is_a_link_out_of_the_run_publishes_nothing_of_it(tmp_path):
    run = copy_golden(tmp_path)
    outside = tmp_path / "outside-cell"
    os.rename(run / CELL, outside)
    (outside / "samples.png").write_bytes(SECRET)
    (run / CELL).symlink_to(outside)
    out = render_report([run], tmp_path / "report").parent
    assert SECRET not in _published(out)
