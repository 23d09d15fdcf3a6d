"""The progress line's ETA (bench.grid.progress): from the part's estimate until cells and
windows finish, then from the rate they show, and saying which. Worked by hand: a part of four
cells estimated at 100 s each (a calibration on a busy machine), whose cells take 50 s."""

import io
import json
from dataclasses import dataclass

from bench import config, schema
from bench.grid.estimate import PartEstimate, total_steps
from bench.grid.progress import GridProgress


@dataclass
class FakeCell:
    id: str
    config: config.CellConfig


@dataclass
class Running:
    cell: FakeCell
    cell_dir: object


def _part(tmp_path):
    cfg = config.CellConfig(steps=100, log_every=10)
    cells = [FakeCell(f"c{i}", cfg) for i in range(4)]
    plan = PartEstimate(None, {c.id: 100.0 for c in cells}, {"cfg": "calibrated under load"})
    bar = GridProgress(cells, tmp_path, stream=io.StringIO())
    bar.plan = plan
    return bar, cells


def _log(cell_dir, steps_and_seconds):
    cell_dir.mkdir(parents=True, exist_ok=True)
    lines = [{"schema_version": schema.SCHEMA_VERSION, "step": step, "timed_steps": 10,
              "window_seconds": seconds,
              "images_per_sec": 640 / seconds} for step, seconds in steps_and_seconds]
    (cell_dir / schema.STEPS_FILE).write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_the_eta_starts_from_the_estimate_and_follows_the_cells_rate(tmp_path, monkeypatch):
    bar, cells = _part(tmp_path)
    clock = [1000.0]
    monkeypatch.setattr("bench.grid.progress.time.time", lambda: clock[0])
    assert bar.eta_text() == "ETA ~6 min 40 s (estimated)"  # 4 x 100 s, nothing run yet
    bar.cell_started(cells[0])
    clock[0] += 10
    assert bar.seconds_left() == (390.0, False)  # its estimate less the 10 s it has run
    # its first three windows: 30 steps at 0.4 s a step, 70 steps left
    _log(tmp_path / "c0", [(10, 4.0), (20, 4.0), (30, 4.0)])
    bar.poll([Running(cells[0], tmp_path / "c0")])
    assert total_steps(cells[0].config) == 100
    assert bar.seconds_left() == (70 * 0.4 + 300.0, True)
    assert bar.eta_text().endswith("(rate so far)")
    clock[0] += 40
    bar.cell_done(cells[0], schema.STATUS_OK, resumed=True)  # 50 s, estimated 100 s
    # the cells not begun: their estimates at the finished cell's pace, half
    assert bar.seconds_left() == (150.0, True)
    (revision,) = bar.plan.revisions
    assert revision == {"after_seconds": 50.0, "total_seconds": 200.0, "learned": True}
    assert bar.plan.to_record()["revisions"] == [revision]


def test_a_part_without_an_estimate_has_no_eta(tmp_path):
    bar, _ = _part(tmp_path)
    bar.plan = None
    assert bar.eta_text() is None and bar.seconds_left() is None
