"""Every flow example in the language reference and the tutorial parses and is already formatted."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from flowlang.errors import FlowSyntaxError
from flowlang.syntax.fmt import format_text
from flowlang.syntax.parser import parse

ROOT = Path(__file__).resolve().parent.parent
DOCS = (
    "docs/language.md",
    "docs/tutorial.md",
    "docs/tutorial-open-and-closed.md",
    "docs/tutorial-order.md",
    "docs/tutorial-reuse.md",
    "docs/tutorial-languages.md",
)


def _examples() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for match in re.finditer(r"```flow\n(.*?)```", text, re.S):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{doc}:{line}", match.group(1)))
    return found


EXAMPLES = _examples()


def _as_flow(example: str) -> str:
    """The example as a whole file: as written, as the body of a step, after a step (a top-level
    `on hangup:` shown alone) or before one (settings or `hours` shown alone)."""
    candidates = (
        example,
        "main:\n" + textwrap.indent(example, "    "),
        "main:\n    hangup\n\n" + example,
        example + "\nmain:\n    hangup\n",
    )
    if example.startswith("hours "):
        # `hours` blocks shown alone stand before the steps, where `fmt` puts them.
        candidates = (example + "\nmain:\n    hangup\n",)
    for candidate in candidates:
        try:
            parse(candidate)
        except FlowSyntaxError:
            continue
        return candidate
    raise AssertionError(f"the example does not parse:\n{example}")


@pytest.mark.parametrize(("where", "example"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_doc_example_parses_and_is_in_the_standard_layout(where, example):
    text = _as_flow(example)
    assert format_text(text) == text


def test_the_docs_have_examples():
    assert len(EXAMPLES) >= 15
