"""Text from records, specs, users and exceptions, shown as the characters it holds.

A cell's reason, a cell id, `history accept --why`: any of them may hold what a terminal or a
Markdown renderer would act on. `printable` is for terminals and logs: control characters (an
ANSI escape can clear the screen or forge a line) are shown as escapes such as `\\x1b`, newlines
and tabs kept. `markdown_text` is for summary.md, read in CI logs and pull-request comments: only
what Markdown would turn into markup (emphasis, code, links, images, raw HTML, mentions,
autolinks, table pipes) is backslash-escaped, so the file reads as plain text where it is not
rendered. Rich markup is not handled here: the terminal tables build `rich.text.Text` objects,
which rich never parses (bench/report/terminal.py).
"""

import re

# C0 and C1 control characters and DEL, but newline and tab
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# what Markdown reads as markup anywhere in a line (GitHub's flavour included: ~ strikethrough,
# @ mentions, & entities); `_` only where it can open or close emphasis (at a word's edge)
_MARKDOWN = re.compile(r"[\\`*\[\]<>|~@&!]|(?<!\w)_|_(?!\w)")


def printable(text) -> str:
    """`text` with its control characters (but newline and tab) shown as escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def markdown_text(text) -> str:
    """`text` as one line of Markdown that renders as the same characters: control characters
    as escapes, newlines as spaces, markup characters backslash-escaped, and `://` broken so no
    address becomes a link."""
    line = printable(text).replace("\r", " ").replace("\n", " ")
    return _MARKDOWN.sub(lambda m: "\\" + m.group(), line).replace("://", ":\\/\\/")
