"""Drawings of a flow's control graph (Mermaid or Graphviz DOT), from the shared analysis.

Only the points a person thinks about are drawn: steps, what the caller hears (`say`, `play`),
gathers and AI blocks, backend fetches (with an `answered` and a `failed` way out), `if`/`elif`
tests, `call`s and `return`s, and where the call ends. The other statements between them are
folded into the edges, and each edge carries the label of the choice that leads along it (the
keys of a gather branch, `timeout`, `yes`/`no` of an `if`, also when it has no `else`). A
called step is drawn once: each `call` box has an arrow to it, and an arrow `back` to what
follows the call.
"""

from __future__ import annotations

from attrs import frozen

from flowlang.analysis import Edge, Graph, Node, analyze
from flowlang.syntax import nodes
from flowlang.syntax.fmt import render_expr

SHOWN = (
    nodes.Gather, nodes.AiGather, nodes.Assistant, nodes.If, nodes.Fetch, nodes.Record, nodes.Queue,
    nodes.Transfer,
)  # fmt: skip
LABEL_WIDTH = 40


@frozen
class Box:
    """A drawn point: `id` is its graph node, `shape` one of step, ask, fetch, test, call, say,
    end."""

    id: int
    text: str
    shape: str


@frozen
class Arrow:
    source: int
    target: int
    label: str


@frozen
class Drawing:
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_WIDTH else text[: LABEL_WIDTH - 3] + "..."


def _box(n: Node) -> Box | None:
    stmt = n.node
    if n.kind == "test" and isinstance(stmt, nodes.Elif):
        return Box(n.id, _short(f"elif {render_expr(stmt.cond)}"), "test")
    if n.kind == "step":
        return Box(n.id, n.step, "step")
    if n.kind == "handler" and not n.step:
        return Box(n.id, "on hangup", "step")
    if n.kind == "end":
        return Box(n.id, "end", "end")
    if n.kind != "stmt":
        return None
    if isinstance(stmt, nodes.Say):
        return Box(n.id, _short(f'say "{_plain(stmt.text)}"'), "say")
    if isinstance(stmt, nodes.Play):
        return Box(n.id, _short(f'play "{_plain(stmt.source)}"'), "say")
    if isinstance(stmt, nodes.Hangup):
        return Box(n.id, "hangup", "end")
    if isinstance(stmt, nodes.Transfer):
        # A transfer with handlers is a question too: does the other side answer?
        shape = "ask" if stmt.handlers else "end"
        return Box(n.id, _short(f"transfer {stmt.to.text}"), shape)
    if isinstance(stmt, nodes.Record):
        return Box(n.id, "record" + (f" into {stmt.into.value}" if stmt.into else ""), "ask")
    if isinstance(stmt, nodes.Queue):
        return Box(n.id, _short(f"queue {stmt.name.text}"), "ask")
    if isinstance(stmt, nodes.Detect):
        # Where an outbound call waits to hear who answered: its `on machine:`... arrows leave
        # from here, not from whatever came before it.
        return Box(n.id, "detect machine", "ask")
    if isinstance(stmt, nodes.Call):
        return Box(n.id, f"call {stmt.target.value}", "call")
    if isinstance(stmt, nodes.Return):
        return Box(n.id, "return", "end")
    if isinstance(stmt, nodes.TryAgain):
        return Box(n.id, "try again", "call")
    if isinstance(stmt, nodes.Gather):
        says = [p.text.text for p in stmt.prompt if isinstance(p, nodes.Say)]
        return Box(n.id, _short("gather: " + " ".join(says)) if says else "gather", "ask")
    if isinstance(stmt, nodes.AiGather):
        return Box(n.id, "ai_gather", "ask")
    if isinstance(stmt, nodes.Assistant):
        return Box(n.id, "assistant", "ask")
    if isinstance(stmt, nodes.If):
        return Box(n.id, _short(f"if {render_expr(stmt.cond)}"), "test")
    if isinstance(stmt, nodes.Fetch):
        method = stmt.method.text.upper() if stmt.method is not None else "GET"
        return Box(n.id, _short(f"fetch {method} {stmt.url.text}"), "fetch")
    return None


def _plain(text: nodes.Str) -> str:
    """The string as the caller hears it, `{variables}` included: not with the flow's escapes
    (`\\"`, `\\\\`, `{{`), which the drawing's own escaping would show as written."""
    return text.text


def _edge_label(graph: Graph, edge: Edge) -> str:
    if edge.label in ("goto", "call"):
        return ""
    source = graph.nodes[edge.source]
    if not edge.label and source.kind in ("stmt", "test"):
        if isinstance(source.node, nodes.If | nodes.Elif):
            return "no"  # an `if` without `else` goes on when its test fails
    if not edge.label and source.kind == "stmt" and isinstance(source.node, nodes.Detect):
        # The outcomes with no handler of their own go on to the next statement.
        handled = {on.event for on in source.node.handlers}
        return ", ".join(e for e in ("human", "machine", "not_sure") if e not in handled)
    if edge.label == "returns":
        return "back"
    if source.kind == "result" and not edge.label:
        # The outcomes with no handler of their own continue after the block.
        block = source.node
        if isinstance(block, nodes.Fetch):
            return ""  # the fetch's own edges already say `answered` or `failed`
        wanted = ("invalid", "timeout") if isinstance(block, nodes.Gather) else ("valid", "invalid")
        if isinstance(block, nodes.Record):
            wanted = ("saved", "error")
        handled = {on.event for on in getattr(block, "handlers", ())}
        return ", ".join(e for e in wanted if e not in handled)
    return edge.label


def _open_labels(n: Node) -> tuple[str, str] | None:
    """The labels of a test on opening hours (`if open office`): `open`/`closed` for yes/no."""
    stmt = n.node
    cond = stmt.cond if isinstance(stmt, (nodes.If, nodes.Elif)) else None
    if n.kind not in ("stmt", "test") or cond is None:
        return None
    if isinstance(cond, nodes.OpenTest):
        return "open", "closed"
    if isinstance(cond, nodes.Not) and isinstance(cond.operand, nodes.OpenTest):
        return "closed", "open"
    return None


def _relabel(graph: Graph, source: int, label: str) -> str:
    # An `open` test branches on the clock: its arrows say `open` and `closed`, not yes and no.
    labels = _open_labels(graph.nodes[source])
    if labels is None:
        return label
    return labels[0] if label == "yes" else labels[1]


def drawing(graph: Graph) -> Drawing:
    """The boxes and arrows of `graph`, with the undrawn statements folded into the arrows."""
    boxes: dict[int, Box] = {}
    for n in graph.nodes:
        box = _box(n)
        if box is not None:
            boxes[n.id] = box
    arrows: list[Arrow] = []
    seen_arrows: set[tuple[int, int, str]] = set()
    for source in boxes:
        todo = [(e.target, _edge_label(graph, e)) for e in graph.successors(source)]
        visited: set[tuple[int, str]] = set()
        while todo:
            nid, label = todo.pop(0)
            if nid in boxes:
                key = (source, nid, label)
                if key not in seen_arrows:
                    seen_arrows.add(key)
                    arrows.append(Arrow(source, nid, _relabel(graph, source, label)))
                continue
            if (nid, label) in visited:
                continue
            visited.add((nid, label))
            for e in graph.successors(nid):
                todo.append((e.target, label or _edge_label(graph, e)))
    return Drawing(tuple(boxes.values()), tuple(arrows))


# Characters Mermaid would not show as themselves inside a quoted label, as its entity codes:
# `"` ends the label, `<` `>` `&` are HTML, `\n` is a line break, a backtick first makes a Markdown
# label, and `#` starts an entity code (`#quot;` in a say would show a quote). (Mermaid writes its
# codes as `ﬂ°...¶ß` while drawing, so those two pairs cannot be shown at all.)
MERMAID_CODES = {c: f"#{ord(c)};" for c in "#&<>\\`"} | {'"': "#quot;"}


def _mermaid_text(text: str) -> str:
    escaped = "".join(MERMAID_CODES.get(c, c) for c in text)
    if "style" in text or "classDef" in text:
        # Mermaid cuts the last `;` off a line that reads like a `style` line (`style x:#f00;`),
        # the end of an entity code here: no colon, no match.
        escaped = escaped.replace(":", "#58;")
    return escaped


MERMAID_SHAPES = {
    "step": ('(["', '"])'),
    "ask": ('{{"', '"}}'),
    "fetch": ('[/"', '"/]'),
    "test": ('{"', '"}'),
    "call": ('[["', '"]]'),
    "say": ('["', '"]'),
    "end": ('>"', '"]'),
}


def to_mermaid(flow: nodes.Flow) -> str:
    """A Mermaid `flowchart TD` of the flow."""
    d = drawing(analyze(flow).graph)
    lines = ["flowchart TD"]
    for b in d.boxes:
        left, right = MERMAID_SHAPES[b.shape]
        lines.append(f"    n{b.id}{left}{_mermaid_text(b.text)}{right}")
    for a in d.arrows:
        if a.label:
            lines.append(f'    n{a.source} -->|"{_mermaid_text(a.label)}"| n{a.target}')
        else:
            lines.append(f"    n{a.source} --> n{a.target}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    # Graphviz reads `&amp;`, `&#35;`... in any label as the character (`AT&amp;T` showed AT&T).
    return text.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')


DOT_SHAPES = {
    "step": "box, style=rounded",
    "ask": "hexagon",
    "fetch": "parallelogram",
    "test": "diamond",
    "call": "box, peripheries=2",
    "say": 'note, fontsize=11, color="#888888"',
    # Sized to their few words, not drawn as circles around them, which grew with the text
    # (`transfer +13125550001`) until the ends were the biggest things in the picture.
    "end": 'octagon, style=filled, fillcolor="#eeeeee", fontsize=11, margin="0.04,0.02"',
}


def to_dot(flow: nodes.Flow) -> str:
    """A Graphviz `digraph` of the flow."""
    d = drawing(analyze(flow).graph)
    lines = [
        "digraph flow {",
        "    rankdir=TB;",
        '    node [fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=11];',
    ]
    for b in d.boxes:
        lines.append(f'    n{b.id} [label="{_dot_text(b.text)}", shape={DOT_SHAPES[b.shape]}];')
    for a in d.arrows:
        label = f' [label="{_dot_text(a.label)}"]' if a.label else ""
        lines.append(f"    n{a.source} -> n{a.target}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"
