"""One table style for every command that prints a table (bench.report.terminal): at the default
100 columns no line is longer, nothing is cut (every word and number of every value is there,
whole), and every number shown is the value the command's `--csv` gives."""

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from nights import GOLDEN, craft_night

from bench.cli import main
from bench.report.terminal import BROKEN, frame_text, wrapped

ROOT = GOLDEN.parent.parent.parent.parent
STUDY = ROOT / "tests" / "data" / "runs" / "collapse-study"
CLAIMS = ROOT / "runs" / "claims" / "example.toml"
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w.])")

# the labels and values that rich cut at 100 columns with no mark ("regressio", "bs 3",
# "[0.195, 0.877"), and a column it dropped whole
CROWDED = pd.DataFrame({
    "configuration": ["tensorflow · mnist-5k · dcgan-half · cpu · float32 · XLA off · bs 32",
                      "jax · cpu · float32 · XLA on · bs 32"],
    "ratio [95% interval]": ["0.800 [0.195, 0.877]", "1.000 [0.900, 1.100]"],
    "threshold": ["10.0%", "3.1%"],
    "verdict": ["regression", "inconclusive: contended"],
    "others' share": [0.123, 0.5],
    "cell": ["cpu_float32_xla-off_bs64_seed0_and_a_long_tail", "z" * 45]})


def _columns_read_down(text: str) -> list[str]:
    """Each column of a rendered table read top to bottom, its slices found from the rule line,
    whitespace dropped and broken words joined: what a reader can recover of its values."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))
    spans = [m.span() for m in re.finditer("─+", lines[rule])]
    return ["".join("".join(line[a:b].split()) for line in lines[rule + 1:]).replace(BROKEN, "")
            for a, b in spans]


def test_a_crowded_frame_fits_100_columns_and_keeps_every_value_whole():
    text = frame_text(CROWDED, 100)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    for token in ("regression", "contended", "[0.195,", "0.877]", "10.0%", "3.1%", "0.12", "0.50",
                  "32", "mnist-5k"):
        # whole, on one line: a word is never split where it has room
        assert any(re.search(rf"(?<!\S){re.escape(token)}(?!\S)", line) for line in lines), token
    # every column (none dropped) holds all its values, in order, nothing cut
    expected = ["".join("".join(v.split()) for v in values)
                for values in (CROWDED[c].map(lambda v: f"{v:.2f}" if isinstance(v, float)
                                              else v) for c in CROWDED)]
    assert _columns_read_down(text) == expected
    assert BROKEN in text  # the 45 z's do not fit any column under 100: broken, and marked so


def test_a_frame_too_wide_for_any_column_layout_is_shown_a_row_at_a_time():
    frame = pd.DataFrame({f"column {i}": [f"value-{i}-of-row-0", 10 ** i] for i in range(9)})
    text = frame_text(frame, 60)
    assert text.startswith("(one row at a time: these 9 columns do not fit 60 characters")
    assert max(len(line) for line in text.splitlines()) <= 60
    assert "column 8: value-8-of-row-0" in text and "column 8: 100000000" in text


@pytest.mark.parametrize("text, width, expected", [
    ("one two three", 7, ["one two", "three"]),
    ("cpu_float32_xla-off_bs64_seed0", 14, ["cpu_float32_", "xla-off_bs64_", "seed0"]),
    ("abcdefghijk", 4, ["abc" + BROKEN, "def" + BROKEN, "ghi" + BROKEN, "jk"]),
    ("a\nb c", 10, ["a", "b c"]),
])
def test_wrapping_breaks_between_words_then_at_break_points_then_with_a_mark(text, width, expected):
    assert wrapped(text, width) == expected


def _numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in NUMBER.findall(text)]


def _csv_numbers(csv_text: str) -> list[float]:
    values = []
    for row in csv.reader(io.StringIO(csv_text)):
        for field in row:
            values += _numbers(field)
    return values


def _assert_shown_numbers_are_the_csvs(text: str, csv_text: str):
    """Every number in the text table is a number of the CSV, at most rounded to the decimals it
    shows: a cut number ("0.87" of 0.877, "3" of 32) is not."""
    known = _csv_numbers(csv_text)
    table = "\n".join(line for line in text.splitlines() if not line.startswith(("==", "##", "Because")))
    for shown in NUMBER.findall(table):
        decimals = len(shown.split(".")[1]) if "." in shown else 0
        value = float(shown.replace(",", ""))
        close = [v for v in known if abs(round(v, decimals) - value) < 10 ** -(decimals + 3)]
        assert close, f"{shown} is in no field of the CSV (rounded to {decimals} decimals)"


def _assert_fits(text: str, width: int = 100):
    long = [line for line in text.splitlines() if len(line) > width]
    assert not long, f"{len(long)} lines over {width} characters: {long[:2]}"


def _printed(capsys, argv, code=0):
    assert main(argv) == code
    return capsys.readouterr().out


def test_table_fits_and_shows_the_csvs_numbers(capsys, tmp_path):
    run = craft_night(tmp_path, "long-reasons", "2026-12-01T00:00:00+00:00")
    cell = run / "cpu_mixed_bfloat16_xla-off_bs64_seed0" / "summary.json"
    summary = json.loads(cell.read_text())
    summary["reason"] = "RuntimeError: " + " ".join(["a long traceback line"] * 12)
    cell.write_text(json.dumps(summary))
    for args in ([str(run)], [str(run), str(GOLDEN)]):
        text = _printed(capsys, ["table", *args])
        _assert_fits(text)
        _assert_shown_numbers_are_the_csvs(text, _printed(capsys, ["table", *args, "--csv"]))
    # two runs: each row says which run it is of (11 cells each, the same ids in both)
    firsts = [line.split()[0] for line in text.splitlines() if line[:1].strip()]
    assert firsts.count("golden") == firsts.count("long-reasons") == 11
    rows = json.loads(_printed(capsys, ["table", str(run), "--json"]))
    assert len(rows) == 11 and rows[0]["cell_id"] == "cpu_float32_xla-off_bs64_seed0"


def test_claims_and_its_plan_fit_and_show_the_csvs_numbers(capsys):
    text = _printed(capsys, ["claims", str(CLAIMS), str(STUDY)], code=1)
    _assert_fits(text)
    assert text.splitlines()[1].split()[:3] == ["claim", "verdict", "evidence"]
    _assert_shown_numbers_are_the_csvs(text, _printed(capsys, ["claims", str(CLAIMS), str(STUDY),
                                                               "--csv"], code=1))
    verdicts = json.loads(_printed(capsys, ["claims", str(CLAIMS), str(STUDY), "--json"], code=1))
    assert [v["verdict"] for v in verdicts[:2]] == ["inconclusive", "fails"]
    plan = _printed(capsys, ["claims", str(CLAIMS), "--plan"])
    _assert_fits(plan)
    _assert_shown_numbers_are_the_csvs(plan, _printed(capsys, ["claims", str(CLAIMS), "--plan",
                                                               "--csv"]))


def test_history_list_and_show_fit_with_headers_and_show_the_csvs_numbers(capsys, tmp_path):
    db = str(tmp_path / "h.sqlite")
    for night, started in (("a", "2026-12-01T00:00:00+00:00"), ("b", "2026-12-02T00:00:00+00:00")):
        _printed(capsys, ["history", "ingest", str(craft_night(tmp_path / night, "nightly",
                                                                started)), "--db", db])
    listed = _printed(capsys, ["history", "list", "--db", db])
    _assert_fits(listed)
    assert listed.splitlines()[0].split()[:5] == ["id", "started", "spec", "cells", "commit"]
    assert "\t" not in listed
    ids = [row["id"] for row in json.loads(_printed(capsys, ["history", "list", "--db", db,
                                                             "--json"]))]
    assert len(ids) == 2 and all(i in listed for i in ids)
    shown = _printed(capsys, ["history", "show", ids[0], "--db", db])
    _assert_fits(shown)
    table = shown[shown.index("\n\n"):]
    _assert_shown_numbers_are_the_csvs(table, _printed(capsys, ["history", "show", ids[0], "--db",
                                                                db, "--csv"]))
    whole = json.loads(_printed(capsys, ["history", "show", ids[0], "--db", db, "--json"]))
    assert whole["run"]["id"] == ids[0] and len(whole["cells"]) == 11


def test_compare_fits_and_shows_the_numbers_of_the_csvs_it_writes(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths as a user types them: the output names them
    base = craft_night(Path("runs"), "a", "2026-12-01T00:00:00+00:00")
    cand = craft_night(Path("runs"), "b", "2026-12-02T00:00:00+00:00", speed=0.8)
    shutil.rmtree(cand / "cpu_float32_xla-off_bs64_seed2")  # a cell missing: the cells table
    out = Path("reports/cmp")
    text = _printed(capsys, ["compare", str(base), str(cand), "--out", str(out)], code=1)
    _assert_fits(text)
    assert "0.800 [0.749, 0.854]" in text and "regression" in text
    _assert_shown_numbers_are_the_csvs(
        text[text.index("== Throughput"):text.index("(--wide")],
        "\n".join(p.read_text() for p in sorted(out.glob("*.csv"))))
