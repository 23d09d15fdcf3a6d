"""A node's archive of one cell is confined to that cell (issue 46): whatever else it holds (the
run's manifest, another cell's record) is not unpacked over the run, and the names left out are
returned for the cell's record. Real tar archives; no cluster needed."""

import io
import tarfile

from bench.grid.ray_launcher import unpack_cell_archive


def _archive(files: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_only_the_cells_directory_and_log_are_unpacked(tmp_path):
    run = tmp_path / "run"
    (run / "other").mkdir(parents=True)
    (run / "manifest.json").write_text("the run's manifest")
    (run / "other" / "summary.json").write_text("another cell's record")
    refused = unpack_cell_archive(_archive({
        "./cell/summary.json": "this cell's record",
        "./logs/cell.log": "this cell's log",
        "./manifest.json": "forged",
        "./other/summary.json": "forged",
        "./logs/other.log": "forged",
    }), run, "cell")
    assert sorted(refused) == ["./logs/other.log", "./manifest.json", "./other/summary.json"]
    assert (run / "cell" / "summary.json").read_text() == "this cell's record"
    assert (run / "logs" / "cell.log").read_text() == "this cell's log"
    assert (run / "manifest.json").read_text() == "the run's manifest"
    assert (run / "other" / "summary.json").read_text() == "another cell's record"
    assert not (run / "logs" / "other.log").exists()
