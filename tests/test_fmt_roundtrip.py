"""The formatter against the parser: parse(fmt(x)) == parse(x), fmt is idempotent, comments kept."""

from __future__ import annotations

import collections
import textwrap
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flowlang.errors import FlowSyntaxError
from flowlang.syntax.fmt import format_flow, format_text
from flowlang.syntax.nodes import Flow
from flowlang.syntax.parser import parse
from tests.strategies import flows

ROOT = Path(__file__).resolve().parent.parent
FLOW_FILES = sorted(
    [*(ROOT / "examples").rglob("*.flow"), *(ROOT / "tests" / "fixtures").rglob("*.flow")]
)

PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)


def canonical_settings(flow: Flow) -> Flow:
    """The tree with settings in the formatter's order: their order has no meaning (each is
    looked up by name), and the formatter writes `voice` before `language`."""
    order = {"voice": 0, "language": 1, "timezone": 2}
    ordered = tuple(sorted(flow.settings, key=lambda s: order.get(s.name, 3)))
    return attrs.evolve(flow, settings=ordered)


def comment_texts(flow: Flow) -> collections.Counter[str]:
    return collections.Counter(c.text.rstrip() for c in flow.comments)


# ---------------------------------------------------------------------------------------------
# Random trees


@PROPERTY
@given(flows())
def test_random_trees_parse_back_to_themselves_and_format_stably(flow):
    once = format_flow(flow)
    assert parse(once) == flow
    assert format_text(once) == once


@PROPERTY
@given(flows(runnable=True))
def test_random_runnable_trees_parse_back_to_themselves(flow):
    assert parse(format_flow(flow)) == flow


# ---------------------------------------------------------------------------------------------
# Comments sprinkled over random flows


@st.composite
def commented_texts(draw: st.DrawFn) -> str:
    """A formatted random flow with comments added: on their own lines at any indentation
    (before, between and after items) and at the ends of lines."""
    lines = format_flow(draw(flows(max_steps=3))).splitlines()
    out: list[str] = []
    number = 0
    for line in [*lines, None]:
        for _ in range(draw(st.integers(0, 2))):
            number += 1
            indent = draw(st.sampled_from([0, 2, 4, 8, 12, 16]))
            out.append(" " * indent + f"# own {number}")
        if line is None:
            break
        if line.strip() and draw(st.integers(0, 3)) == 0:
            number += 1
            line += f"  # end {number}"
        out.append(line)
    return "\n".join(out) + "\n"


@PROPERTY
@given(commented_texts())
def test_comments_are_kept_once_in_place_and_the_tree_is_unchanged(text):
    before = parse(text)
    formatted = format_text(text)
    after = parse(formatted)
    assert after == before
    assert comment_texts(after) == comment_texts(before)
    assert format_text(formatted) == formatted
    # Without the source text, comments are placed from their positions alone: exact on
    # formatted text.
    assert format_flow(after) == formatted
    # End-of-line comments stay at the end of their line.
    lines = formatted.splitlines()
    originals = {line.split("  # end ")[1]: line for line in text.splitlines() if "# end " in line}
    for number, original in originals.items():
        code = original.split("  # end ")[0].strip()
        [written] = [line for line in lines if line.endswith(f"# end {number}")]
        written_code = written.split("  # end ")[0].strip()
        # A one-line handler becomes a block when another comment needs the block form: then the
        # comment stays with the handler's statement.
        assert written_code == code or code.endswith(": " + written_code), (original, written)


# ---------------------------------------------------------------------------------------------
# Every flow file of the project


def _parses(path: Path) -> bool:
    try:
        parse(path.read_text(encoding="utf-8"), str(path))
    except FlowSyntaxError:
        return False
    return True


VALID_FILES = [p for p in FLOW_FILES if _parses(p)]


def _ids(paths: list[Path]) -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in paths]


@pytest.mark.parametrize("path", VALID_FILES, ids=_ids(VALID_FILES))
def test_flow_files_keep_their_tree_comments_and_layout(path):
    text = path.read_text(encoding="utf-8")
    original = parse(text, str(path))
    formatted = format_text(text, str(path))
    again = parse(formatted, str(path))
    assert again == canonical_settings(original)
    assert comment_texts(again) == comment_texts(original)
    assert format_text(formatted, str(path)) == formatted


def test_there_are_flow_files_to_check():
    assert len(VALID_FILES) >= 5


# ---------------------------------------------------------------------------------------------
# Comment placement, case by case


def fmt(text: str) -> str:
    return format_text(textwrap.dedent(text).lstrip("\n"))


def test_comments_in_every_position_golden(golden):
    text = """\
    # The file's header comment
    language "en-US"   # the language
    voice "V"

    # about main
    main:   # where calls start
      answer
      # before the if
      if caller == "+1555":  # a known caller
        say "Hi"
        # end of the if arm
      # before elif
      elif digits in ["1", "2"]:
        say "Hello"
      # before else
      else:   # otherwise
        # first in else
        say "Who?"
      # last in main, after the if

    # about the menu
    menu:
      gather tries 3:   # the menu
        # the prompt
        say "Press 1."
        reprompt "Again."  # reprompt
        # before the first handler
        on digits "1": goto main   # one line
        on digits "2":  # two
          goto menu
        on timeout:
          hangup
          # end of the timeout handler
        # end of the gather
      hangup
    # trailing comment of menu, at column 0
    # end of file
    """
    golden("fmt/comments.flow", fmt(text))


def test_messy_layout_golden(golden):
    text = """\
    language "en-US"
    voice "Telnyx.KokoroTTS.af"
    main:
      gather timeout 5s digits 1:   # the main menu
         on digits "1":
            goto sales
         on timeout:
            say "Bye."
            hangup
    on hangup:
            log  "gone"
    sales:
      transfer   "+13125550001"   timeout 20s   from "+1555"
      set x = ((a and b) or (not (c)))
    """
    golden("fmt/messy.flow", fmt(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'main:\n    say "a"\n    # about b\n    say "b"\n',
            'main:\n    say "a"\n    # about b\n    say "b"\n',
        ),
        (
            'main:\n    say "a"\n    # trailing\n\nnext:\n    hangup\n',
            'main:\n    say "a"\n    # trailing\n\nnext:\n    hangup\n',
        ),
        (
            'main:\n    say "a"\n# about next\nnext:\n    hangup\n',
            'main:\n    say "a"\n\n# about next\nnext:\n    hangup\n',
        ),
        (
            'main:\n    gather:\n        on digits "1":\n            hangup  # bye\n',
            'main:\n    gather:\n        on digits "1": hangup  # bye\n',
        ),
        (
            'main:\n    gather:\n        on digits "1":\n            # why\n            hangup\n',
            'main:\n    gather:\n        on digits "1":\n            # why\n            hangup\n',
        ),
        (
            "main:\n    if true:\n        hangup\n    else:  # no\n        answer\n",
            "main:\n    if true:\n        hangup\n    else:  # no\n        answer\n",
        ),
        (
            "main:\n    if true:\n        hangup\n\n    else:\n\n        # no\n        answer\n",
            "main:\n    if true:\n        hangup\n    else:\n        # no\n        answer\n",
        ),
        (
            "main:\n    hangup\n\n\n# the end\n",
            "main:\n    hangup\n\n# the end\n",
        ),
    ],
    ids=[
        "before-a-statement",
        "end-of-step",
        "before-a-step",
        "end-of-line-keeps-one-line-handler",
        "own-line-comment-keeps-block-handler",
        "end-of-line-on-else",
        "first-in-else-with-blank-lines",
        "end-of-file",
    ],
)
def test_comment_stays_where_it_stands(text, expected):
    assert format_text(text) == expected
