"""`flowlang graph` output read by the real tools: Graphviz's `dot` and Mermaid's own renderer.

People paste the Mermaid text into GitHub or GitLab Markdown and render the DOT with Graphviz, so
each drawing of the examples and of random flows (with quotes, backslashes, braces, `#`, `;`, `|`,
`<>`, `&`, brackets, accents and emoji in their strings) must be accepted without a warning, and
every box and arrow must show the text the drawing means (`drawing()`), not an escape code.

`dot` and node with tests/mermaid/node_modules come from `bash scripts/test-deps`; these tests
fail, not skip, without them, as CI installs them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from flowlang.analysis import analyze
from flowlang.graph import drawing, to_dot, to_mermaid
from flowlang.includes import merge
from flowlang.source import Source
from flowlang.syntax import nodes
from flowlang.syntax.parser import parse, parse_source
from tests.strategies import flows

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.flow"))
MERMAID = ROOT / "tests" / "mermaid"
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SVG = "{http://www.w3.org/2000/svg}"

Shown = tuple[dict[str, str], Counter[str]]


def _example(path: Path) -> nodes.Flow:
    source = Source(str(path), path.read_text(encoding="utf-8"))
    flow = parse_source(source)
    if flow.includes:
        merged = merge(source, flow)
        assert not merged.diagnostics, merged.diagnostics
        flow = merged.flow
    return flow


def _meant(flow: nodes.Flow) -> Shown:
    """What the drawing means to show: each box's text by node name, and the arrows' labels."""
    d = drawing(analyze(flow).graph)
    boxes = {f"n{b.id}": b.text for b in d.boxes}
    return boxes, Counter(a.label for a in d.arrows if a.label)


# --- Graphviz ------------------------------------------------------------------------------


def _dot() -> str:
    dot = shutil.which("dot")
    assert dot is not None, (
        "Graphviz's `dot` is needed to check `flowlang graph --format dot`: "
        "run `bash scripts/test-deps` (Debian/Ubuntu: apt-get install graphviz)"
    )
    return dot


def _dot_shows(flow: nodes.Flow) -> Shown:
    """What Graphviz draws for the flow's DOT, read back from its SVG."""
    text = to_dot(flow)
    result = subprocess.run(
        [_dot(), "-Tsvg"], input=text.encode(), capture_output=True, timeout=60
    )
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 0 and not stderr, f"dot rejected:\n{text}\n{stderr}"
    svg = ET.fromstring(result.stdout)
    boxes: dict[str, str] = {}
    edges: Counter[str] = Counter()
    for g in svg.iter(f"{SVG}g"):
        texts = "\n".join(t.text or "" for t in g.iter(f"{SVG}text"))
        if g.get("class") == "node":
            boxes[g.findtext(f"{SVG}title") or ""] = texts
        elif g.get("class") == "edge" and texts:
            edges[texts] += 1
    return boxes, edges


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_graphviz_draws_each_example(path: Path) -> None:
    flow = _example(path)
    assert _dot_shows(flow) == _meant(flow)


@PROPERTY
@given(flows())
def test_graphviz_draws_random_flows(flow: nodes.Flow) -> None:
    assert _dot_shows(flow) == _meant(flow)


# --- Mermaid -------------------------------------------------------------------------------


class _Mermaid:
    """tests/mermaid/render.mjs under node: one diagram a line in, what it shows a line out."""

    def __init__(self) -> None:
        node = shutil.which("node")
        assert node is not None, "node is needed to check `flowlang graph`'s Mermaid"
        assert (MERMAID / "node_modules" / "mermaid").is_dir(), (
            "tests/mermaid/node_modules is missing: run `bash scripts/test-deps`"
        )
        self.process = subprocess.Popen(
            [node, "render.mjs"], cwd=MERMAID, text=True, encoding="utf-8",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip

    def shows(self, flow: nodes.Flow) -> Shown:
        text = to_mermaid(flow)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(text) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the Mermaid renderer stopped"
        answer = json.loads(line)
        assert answer["ok"], f"Mermaid rejected:\n{text}\n{answer['error']}"
        assert not answer["logged"], f"Mermaid complained:\n{text}\n{answer['logged']}"
        return answer["nodes"], Counter(answer["edges"])

    def close(self) -> None:
        self.process.communicate(timeout=30)  # closes its stdin, so it ends, and its stdout


@pytest.fixture(scope="module")
def mermaid() -> Iterator[_Mermaid]:
    renderer = _Mermaid()
    yield renderer
    renderer.close()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_mermaid_renders_each_example(path: Path, mermaid: _Mermaid) -> None:
    flow = _example(path)
    assert mermaid.shows(flow) == _meant(flow)


@PROPERTY
@given(flow=flows())
def test_mermaid_renders_random_flows(mermaid: _Mermaid, flow: nodes.Flow) -> None:
    assert mermaid.shows(flow) == _meant(flow)


# --- Both ----------------------------------------------------------------------------------

# Each say is short enough to be drawn whole (labels are cut at 40 characters).
TRICKY = r"""
main:
    say "He said \"hi\" at C:\\new {{x}}"
    say "#quot; #35; a;b |c| %% no comment"
    say "<b>&amp; [x] (y) ü 日 📞"
    say "style:\"x\"; classDef x:#f00;"
    play "`tick` \\n"
    gather:
        say "Press # or *"
        on digits "#":
            hangup
        on digits "*":
            goto main
"""


def test_tricky_text_shows_as_the_caller_hears_it(mermaid: _Mermaid) -> None:
    flow = parse(TRICKY)
    boxes, edges = _meant(flow)
    assert 'say "He said "hi" at C:\\new {x}"' in boxes.values()
    assert edges == Counter({"#": 1, "*": 1, "invalid, timeout": 1})
    assert mermaid.shows(flow) == (boxes, edges)
    assert _dot_shows(flow) == (boxes, edges)
