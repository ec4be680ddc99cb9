"""Completion offers only what the grammar accepts: a property over cuts of the examples."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.lsp.completion import KEYWORD, suggestions
from flowlang.lsp.document import Document
from flowlang.lsp.grammar import expected
from flowlang.source import Source

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.flow"))
TEXTS = [path.read_text(encoding="utf-8") for path in EXAMPLES]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(TEXTS), st.data())
def test_every_keyword_offered_is_accepted_where_it_is_offered(
    text: str, data: st.DataObject
) -> None:
    lines = text.split("\n")
    line = data.draw(st.integers(1, len(lines)), label="line")
    column = data.draw(st.integers(1, len(lines[line - 1]) + 1), label="column")
    # The text up to the cursor is what the person has typed so far.
    typed = "\n".join([*lines[: line - 1], lines[line - 1][: column - 1]])
    document = Document(Source("cut.flow", typed), select=())
    for s in suggestions(document, line, column, None):
        if s.kind != KEYWORD:
            continue
        before = lines[line - 1][: s.start - 1]
        start = max(n for n in range(1, line + 1) if n == 1 or lines[n - 1][:1] not in " #")
        piece = "\n".join([*lines[start - 1 : line - 1], before + s.insert + " "])
        assert expected(piece) is not None, (s.insert, piece)
