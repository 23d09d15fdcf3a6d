"""Text from records, specs and users is shown as the characters it holds: in the terminal
tables (rich markup and ANSI escapes in a cell's reason), in summary.md (Markdown markup) and in
the commands that print them (issue 46: `[/x]` crashed `compare`, `table --wide` and the nightly
job; `[tf 2.21]` vanished; an escape in a failed cell's reason reached the terminal raw)."""

import pandas as pd
from test_report import copy_golden

from bench.cli import main as bench_main
from bench.literal import markdown_text, printable
from bench.report.terminal import frame_text

HOSTILE = "[tf 2.21] [/x] [bold]not bold[/bold] \x1b[2J\x1b[1A forged \x07"


def test_terminal_tables_show_markup_and_escapes_as_text():
    text = frame_text(pd.DataFrame({"cell [/x]": ["a"], "reason": [HOSTILE]}), 10_000)
    assert "cell [/x]" in text
    assert "[tf 2.21] [/x] [bold]not bold[/bold] \\x1b[2J\\x1b[1A forged \\x07" in text
    assert "\x1b" not in text and "\x07" not in text


def test_printable_keeps_newlines_and_tabs_and_shows_other_controls():
    assert printable("a\tb\nc\x00d\x9be\x7f") == "a\tb\nc\\x00d\\x9be\\x7f"


def test_markdown_text_escapes_only_what_markdown_reads_as_markup():
    """Worked by hand: links, images, code, emphasis at a word's edge, raw HTML, mentions,
    entities, strikethrough, pipes and autolinks escaped; `cpu_float32_seed0` and plain words
    left as they are, so the line reads the same in a CI log."""
    assert markdown_text("![i](x) [a](http://e.org) `c` *b* _u_ cpu_float32_seed0 <b> @team "
                         "&amp; ~s~ a|b\nnext") == (
        "\\!\\[i\\](x) \\[a\\](http:\\/\\/e.org) \\`c\\` \\*b\\* \\_u\\_ cpu_float32_seed0 "
        "\\<b\\> \\@team \\&amp; \\~s\\~ a\\|b next")


def test_table_wide_prints_a_hostile_reason_literally(tmp_path, capsys):
    run = copy_golden(tmp_path, failed_reason=HOSTILE)
    assert bench_main(["table", str(run), "--wide"]) == 0
    out = capsys.readouterr().out
    assert "[tf 2.21] [/x] [bold]not bold[/bold] \\x1b[2J" in out and "\x1b" not in out


def test_compare_prints_a_hostile_reason_literally_and_writes_its_pages(tmp_path, capsys):
    """A failed cell's reason reaches `compare`'s "cells not compared" table and its whys."""
    baseline = copy_golden(tmp_path / "a")
    candidate = copy_golden(tmp_path / "b", failed_reason=HOSTILE)
    out = tmp_path / "cmp"
    assert bench_main(["compare", str(baseline), str(candidate), "--out", str(out)]) in (0, 1)
    printed = capsys.readouterr().out
    assert "[/x] [bold]not bold[/bold] \\x1b[2J" in printed and "\x1b" not in printed
    summary = (out / "summary.md").read_text()
    # renders as the printed text: the escape's backslash escaped too
    assert r"\[/x\] \[bold\]not bold\[/bold\] \\x1b\[2J" in summary
