"""The control-flow graph of a flow, with the linear-time analyses run over it.

Every statement becomes a node; so do the entry of each step, each `if`/`elif`/`else` arm,
each `on` handler and the moment a gather or ai_gather hands back its result (where its `into`
variable gets its value). Edges are fall-through, `goto`, branches and handlers. Nodes with no
successor end the call (`hangup`, `transfer`) or the flow (the end of a step). The top-level
`on hangup:` handler is a separate region, entered when the caller hangs up.

A `call STEP` is two nodes: the call, with a `call` edge to the step's entry, and the moment the
step has returned, reached from the call by a `returns` edge only when the step can return (a
`return`, or its end, is reachable from its entry without leaving the call). No edge leads from
a called step's ends back to its callers: the `returns` edge stands for the whole call, and its
node carries the call's summary: the variables the step assigns on some path (`defs`) and on
every path (`sure`), and whether every way through it waits for the caller or answers the call.
So each call site keeps its own variables, and a loop through a call is as long as the call.

The analyses (reachability, "reachable before `answer`", which variables are assigned on some or
on every path, loops that never wait) are worklist or depth-first passes over this graph: each
costs time linear in its size, so checking a 40,000-line flow takes twice as long as 20,000.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import attrs
from attrs import field, frozen

from flowlang.source import Span
from flowlang.syntax import nodes

BUILTIN_VARIABLES = frozenset({"caller", "called", "digits", "language", "now"})

# Statements that suspend the run until Telnyx answers with a webhook.
WAITING = (
    nodes.Answer,
    nodes.Say,
    nodes.Play,
    nodes.Gather,
    nodes.AiGather,
    nodes.Assistant,
    nodes.Record,
    nodes.Queue,
    nodes.Detect,
    nodes.WaitBeep,
    nodes.Fetch,
)

# Statements that Telnyx refuses on a call that has not been answered.
NEEDS_ANSWER = (
    nodes.Say,
    nodes.Play,
    nodes.Gather,
    nodes.AiGather,
    nodes.Assistant,
    nodes.Record,
    nodes.Queue,
)

# Statements that do not touch the call, so they mean something after the caller hung up
# (LANGUAGE.md 1 and 14): they may stand in `on hangup:` and a recording's handlers. A `fetch`
# there is waited for without the call.
AFTER_HANGUP = (nodes.Set, nodes.Log, nodes.If, nodes.Sms, nodes.Fetch)


@frozen
class Read:
    """A variable read: the dotted `path` (`booking.name`) and where it is written."""

    path: tuple[str, ...]
    span: Span | None

    @property
    def name(self) -> str:
        return self.path[0]


@frozen
class Node:
    """One point of the graph.

    `kind` is `step` (a step's entry), `stmt` (a statement), `arm` (an if/elif/else arm: `node`
    is the If or Elif; else arms have `label` "else"), `test` (an `elif` condition), `handler`
    (an `on` handler), `result` (a gather, ai_gather or fetch has ended: its `into` gets a
    value; a fetch has two, `label` "fetch answered" and "fetch failed") or `end` (the flow ran
    off the end of step `step`), `returned` (a `call` has come back: `node` is the Call).
    `ends` says how the call ends here (`hangup`, `transfer`, `completed`), None when it goes
    on. `sure` is None when `defs` are assigned on every path through the node; a
    `returned` node sets it to the called step's variables assigned on every path. `pauses` and
    `answers` say that every way through a called step waits for the caller / answers the call.
    """

    id: int
    kind: str
    node: nodes.Node | None
    step: str
    label: str = ""
    reads: tuple[Read, ...] = ()
    defs: tuple[str, ...] = ()
    ends: str | None = None
    sure: tuple[str, ...] | None = None
    pauses: bool = False
    answers: bool = False

    @property
    def waits(self) -> bool:
        return self.pauses or (self.kind == "stmt" and isinstance(self.node, WAITING))

    @property
    def span(self) -> Span | None:
        return self.node.span if self.node is not None else None


@frozen
class Edge:
    """From node `source` to node `target`; `label` says when (`"1", "2"`, `timeout`, `goto`...)."""

    source: int
    target: int
    label: str = ""


def expr_reads(expr: nodes.Node | None) -> Iterator[Read]:
    """The variables an expression or string reads (interpolations included), in source order."""
    # A hand-written walk: the generic `nodes.walk` inspects every attrs field and is too slow
    # for the 40,000-line flows the linter must check in about a second.
    stack: list[nodes.Node] = [] if expr is None else [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, nodes.Str):
            for p in e.parts:
                if isinstance(p, nodes.Interp):
                    yield Read(p.path, p.span)
        elif isinstance(e, nodes.Var):
            yield Read(e.path, e.span)
        elif isinstance(e, nodes.BinOp):
            stack += (e.right, e.left)
        elif isinstance(e, nodes.Not):
            stack.append(e.operand)
        elif isinstance(e, nodes.ListExpr):
            stack += reversed(e.items)


def stmt_reads(stmt: nodes.Node) -> Iterator[Read]:
    """The variables a statement reads by itself (not inside its nested blocks or handlers)."""
    if isinstance(stmt, nodes.Say | nodes.Log):
        yield from expr_reads(stmt.text)
    elif isinstance(stmt, nodes.Play):
        yield from expr_reads(stmt.source)
    elif isinstance(stmt, nodes.Transfer | nodes.Sms):
        yield from expr_reads(stmt.to)
        yield from expr_reads(stmt.from_)
        if isinstance(stmt, nodes.Sms):
            yield from expr_reads(stmt.text)
    elif isinstance(stmt, nodes.Queue):
        yield from expr_reads(stmt.name)
        if stmt.music is not None:
            yield from expr_reads(stmt.music.source)
    elif isinstance(stmt, nodes.Set):
        yield from expr_reads(stmt.value)
    elif isinstance(stmt, nodes.If):
        yield from expr_reads(stmt.cond)
    elif isinstance(stmt, nodes.Gather):
        for p in stmt.prompt:
            yield from stmt_reads(p)
        for reprompt in stmt.reprompts:
            yield from expr_reads(reprompt.text)
    elif isinstance(stmt, nodes.AiGather):
        yield from expr_reads(stmt.greeting)
        for f in stmt.fields:
            yield from expr_reads(f.description)
    elif isinstance(stmt, nodes.Assistant):
        yield from expr_reads(stmt.instructions)
        yield from expr_reads(stmt.greeting)
        for m in stmt.messages:
            yield from expr_reads(m.tool_call_id)
            yield from expr_reads(m.text)
    elif isinstance(stmt, nodes.Fetch):
        yield from expr_reads(stmt.url)
        for h in stmt.headers:
            yield from expr_reads(h.name)
            if not h.secret:
                yield from expr_reads(h.value)
        for send in stmt.sends:
            yield from expr_reads(send.value)


def _handler_label(on: nodes.On) -> str:
    if on.values:
        return ", ".join(v.text for v in on.values)
    if on.event == "digits":
        return "other digits"
    return on.event


class _Builder:
    """Lowers a Flow (or one step of it, its node ids from `base` on) into nodes and edges."""

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.gotos: list[tuple[int, nodes.Goto]] = []
        # Each `call`: its node, its `returned` node and the statement.
        self.calls: list[tuple[int, int, nodes.Call]] = []
        self.returns: list[int] = []
        # The gathers whose handlers are being lowered, innermost last: the node of each whose
        # `on digits` handler it is (where a `try again` there leads back to), None for others.
        self.retrying: list[int | None] = []

    def add(self, kind: str, node: nodes.Node | None, step: str, **kw: object) -> int:
        nid = self.base + len(self.nodes)
        self.nodes.append(Node(nid, kind, node, step, **kw))  # type: ignore[arg-type]
        return nid

    def link(self, sources: Iterable[int], target: int, label: str = "") -> None:
        for s in sources:
            self.edges.append(Edge(s, target, label))

    def block(self, stmts: Iterable[nodes.Node], frontier: list[int], step: str) -> list[int]:
        """Lower a statement list entered from `frontier`; returns the nodes that fall out of it."""
        for stmt in stmts:
            frontier = self.stmt(stmt, frontier, step)
        return frontier

    def handlers(
        self, owner: int, ons: Iterable[nodes.On], step: str, label_prefix: str = ""
    ) -> list[int]:
        exits: list[int] = []
        for on in ons:
            h = self.add("handler", on, step, label=f"on {on.event}")
            self.link([owner], h, label_prefix + _handler_label(on))
            exits += self.block(on.body, [h], step)
        return exits

    def stmt(self, stmt: nodes.Node, frontier: list[int], step: str) -> list[int]:
        if isinstance(stmt, nodes.Detect):
            n = self.add("stmt", stmt, step)
            self.link(frontier, n)
            exits = self.handlers(n, stmt.handlers, step)
            if {"human", "machine", "not_sure"} - {on.event for on in stmt.handlers}:
                exits.append(n)
            return exits
        if isinstance(stmt, nodes.Hangup):
            n = self.add("stmt", stmt, step, ends="hangup")
            self.link(frontier, n)
            return []
        if isinstance(stmt, nodes.Transfer):
            ends = None if stmt.handlers else "transfer"
            n = self.add("stmt", stmt, step, reads=tuple(stmt_reads(stmt)), ends=ends)
            self.link(frontier, n)
            if not stmt.handlers:
                return []
            # Handlers run when the new leg never answers; the flow then goes on after the
            # block. (An answered transfer ends the call, which the graph does not need to show.)
            exits = self.handlers(n, stmt.handlers, step)
            if {"no_answer", "busy", "failed"} - {on.event for on in stmt.handlers}:
                exits.append(n)
            return exits
        if isinstance(stmt, nodes.Record):
            n = self.add("stmt", stmt, step)
            self.link(frontier, n)
            defs = (stmt.into.value,) if stmt.into is not None else ()
            result = self.add("result", stmt, step, defs=defs, label="recording ended")
            self.link([n], result)
            exits = self.handlers(result, stmt.handlers, step)
            if {"saved", "error"} - {on.event for on in stmt.handlers}:
                exits.append(result)
            return exits
        if isinstance(stmt, nodes.Queue):
            n = self.add("stmt", stmt, step, reads=tuple(stmt_reads(stmt)))
            self.link(frontier, n)
            return [n, *self.handlers(n, stmt.handlers, step)]
        if isinstance(stmt, nodes.Goto):
            n = self.add("stmt", stmt, step)
            self.link(frontier, n)
            self.gotos.append((n, stmt))
            return []
        if isinstance(stmt, nodes.TryAgain):
            # Back to its gather for the next try (which, after the last, runs `on invalid:`).
            n = self.add("stmt", stmt, step)
            self.link(frontier, n)
            gather = self.retrying[-1] if self.retrying else None
            if gather is not None:
                self.link([n], gather, "try again")
            return []
        if isinstance(stmt, nodes.Call):
            n = self.add("stmt", stmt, step)
            self.link(frontier, n)
            back = self.add("returned", stmt, step, label=f"back from {stmt.target.value}")
            self.calls.append((n, back, stmt))
            return [back]
        if isinstance(stmt, nodes.Return):
            n = self.add("stmt", stmt, step)
            self.link(frontier, n)
            self.returns.append(n)
            return []
        if isinstance(stmt, nodes.Set):
            n = self.add("stmt", stmt, step, reads=tuple(stmt_reads(stmt)), defs=(stmt.name.value,))
            self.link(frontier, n)
            return [n]
        if isinstance(stmt, nodes.If):
            return self.if_(stmt, frontier, step)
        if isinstance(stmt, nodes.Gather):
            return self.gather(stmt, frontier, step)
        if isinstance(stmt, nodes.AiGather):
            return self.ai_gather(stmt, frontier, step)
        if isinstance(stmt, nodes.Fetch):
            return self.fetch(stmt, frontier, step)
        if isinstance(stmt, nodes.Assistant):
            n = self.add("stmt", stmt, step, reads=tuple(stmt_reads(stmt)))
            self.link(frontier, n)
            return [n] + self.handlers(n, stmt.handlers, step, "key ")
        n = self.add("stmt", stmt, step, reads=tuple(stmt_reads(stmt)))
        self.link(frontier, n)
        return [n]

    def if_(self, stmt: nodes.If, frontier: list[int], step: str) -> list[int]:
        test = self.add("stmt", stmt, step, reads=tuple(stmt_reads(stmt)))
        self.link(frontier, test)
        arm = self.add("arm", stmt, step, label="if")
        self.link([test], arm, "yes")
        exits = self.block(stmt.body, [arm], step)
        for elif_ in stmt.elifs:
            nxt = self.add("test", elif_, step, reads=tuple(expr_reads(elif_.cond)), label="elif")
            self.link([test], nxt, "no")
            test = nxt
            arm = self.add("arm", elif_, step, label="elif")
            self.link([test], arm, "yes")
            exits += self.block(elif_.body, [arm], step)
        if stmt.else_ is None:
            return exits + [test]
        arm = self.add("arm", stmt, step, label="else")
        self.link([test], arm, "no")
        return exits + self.block(stmt.else_, [arm], step)

    def gather(self, stmt: nodes.Gather, frontier: list[int], step: str) -> list[int]:
        g = self.add("stmt", stmt, step, reads=tuple(stmt_reads(stmt)))
        self.link(frontier, g)
        defs = (stmt.into.value,) if stmt.into is not None else ()
        result = self.add("result", stmt, step, defs=defs, label="gather ended")
        self.link([g], result)
        exits: list[int] = []
        for on in stmt.handlers:
            self.retrying.append(g if on.event == "digits" else None)
            exits += self.handlers(result, [on], step)
            self.retrying.pop()
        events = {on.event for on in stmt.handlers}
        if not {"invalid", "timeout"} <= events:
            # A try that fails with no handler for its outcome continues after the gather.
            exits.append(result)
        return exits

    def ai_gather(self, stmt: nodes.AiGather, frontier: list[int], step: str) -> list[int]:
        g = self.add("stmt", stmt, step, reads=tuple(stmt_reads(stmt)))
        self.link(frontier, g)
        defs = (stmt.into.value,) if stmt.into is not None else ()
        result = self.add("result", stmt, step, defs=defs, label="ai_gather ended")
        self.link([g], result)
        keys = [on for on in stmt.handlers if on.event == "key"]
        ends = [on for on in stmt.handlers if on.event != "key"]
        exits = self.handlers(result, ends, step)
        if not {"valid", "invalid"} <= {on.event for on in ends}:
            exits.append(result)
        return exits + self.handlers(g, keys, step, "key ")


    def fetch(self, stmt: nodes.Fetch, frontier: list[int], step: str) -> list[int]:
        f = self.add("stmt", stmt, step, reads=tuple(stmt_reads(stmt)))
        self.link(frontier, f)
        defs = (stmt.into.value,) if stmt.into is not None else ()
        answered = self.add("result", stmt, step, defs=defs, label=FETCH_ANSWERED)
        self.link([f], answered, "answered")
        # A failed fetch leaves `into` empty: assigned, but without the answer's fields.
        failed = self.add("result", stmt, step, defs=defs, label=FETCH_FAILED)
        self.link([f], failed, "failed")
        on_error = stmt.on_error
        if on_error is None:
            return [answered, failed]
        h = self.add("handler", on_error, step, label="on error")
        self.link([failed], h, "error")
        return [answered, *self.block(on_error.body, [h], step)]


FETCH_ANSWERED = "fetch answered"
FETCH_FAILED = "fetch failed"


def _summarise_calls(b: _Builder, steps: dict[str, int]) -> dict[str, frozenset[int]]:
    """Give every `call` its `returns` edge (when the step can return) and its summary.

    A called step's region is what its entry reaches without entering another call (a nested
    call is crossed by its own `returns` edge). Calls inside calls make this a fixed point: a
    step can return once the calls on its way can; its summary grows as theirs do. Each round
    costs one pass over the regions, and there are at most as many rounds as called steps.
    """
    exits = {n.id for n in b.nodes if n.kind == "end"} | set(b.returns)
    succ: list[list[int]] = [[] for _ in b.nodes]
    for e in b.edges:
        if e.label != "call":
            succ[e.source].append(e.target)
    back_of = {nid: back for nid, back, _ in b.calls}
    target_of = {nid: call.target.value for nid, _, call in b.calls}
    called = sorted({t for t in target_of.values() if t in steps})
    returning: set[str] = set()
    summary: dict[str, tuple[frozenset[str], frozenset[str], bool, bool]] = {}

    def follow(nid: int) -> list[int]:
        out = list(succ[nid])
        if nid in back_of and target_of[nid] in returning:
            out.append(back_of[nid])
        return out

    changed = True
    while changed:
        changed = False
        for name in called:
            region = _region(steps[name], follow)
            if name not in returning and region & exits:
                returning.add(name)
                changed = True
            new = _step_summary(b, steps[name], region, exits, follow)
            if summary.get(name) != new:
                summary[name] = new
                changed = True
        for _, back, call in b.calls:
            name = call.target.value
            if name in summary:
                may, must, pauses, answers = summary[name]
                b.nodes[back] = attrs.evolve(
                    b.nodes[back],
                    defs=tuple(sorted(may)),
                    sure=tuple(sorted(must)),
                    pauses=pauses,
                    answers=answers,
                )
    for nid, back, call in b.calls:
        if call.target.value in returning:
            b.link([nid], back, "returns")
    return {name: frozenset(_region(steps[name], follow)) for name in called}


def _region(root: int, follow: Callable[[int], list[int]]) -> set[int]:
    seen = {root}
    todo = [root]
    while todo:
        for t in follow(todo.pop()):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def _step_summary(
    b: _Builder,
    root: int,
    region: set[int],
    exits: set[int],
    follow: Callable[[int], list[int]],
) -> tuple[frozenset[str], frozenset[str], bool, bool]:
    """What a call of the step at `root` does on its way back: the variables it assigns on some
    path and on every path, whether every way back waits, and whether every way back answers."""
    may: set[str] = set()
    for nid in region:
        may.update(b.nodes[nid].defs)
    ends = region & exits
    if not ends:
        return frozenset(may), frozenset(may), True, True
    # "On every path": a forward pass to a fixed point over the region, in reverse postorder.
    order: list[int] = []
    seen: set[int] = set()
    stack: list[tuple[int, Iterator[int]]] = [(root, iter(follow(root)))]
    seen.add(root)
    while stack:
        nid, it = stack[-1]
        for t in it:
            if t not in seen:
                seen.add(t)
                stack.append((t, iter(follow(t))))
                break
        else:
            stack.pop()
            order.append(nid)
    order.reverse()
    preds: dict[int, list[int]] = {nid: [] for nid in order}
    for nid in order:
        for t in follow(nid):
            preds[t].append(nid)
    everything = frozenset(may)
    must_in: dict[int, frozenset[str]] = {nid: everything for nid in order}
    must_in[root] = frozenset()

    def out(nid: int) -> frozenset[str]:
        node = b.nodes[nid]
        return must_in[nid] | frozenset(node.sure if node.sure is not None else node.defs)

    changed = True
    while changed:
        changed = False
        for nid in order:
            if nid == root:
                continue
            new = everything
            for p in preds[nid]:
                new = new & out(p)
            if new != must_in[nid]:
                must_in[nid] = new
                changed = True
    must = everything
    for nid in ends:
        must = must & out(nid)

    def always(stop: Callable[[Node], bool]) -> bool:
        # Every way from the entry to an end passes a node that `stop` holds for.
        free = {root} if not stop(b.nodes[root]) else set()
        todo = list(free)
        while todo:
            for t in follow(todo.pop()):
                if t not in free and not stop(b.nodes[t]):
                    free.add(t)
                    todo.append(t)
        return not (free & ends)

    pauses = always(lambda n: n.waits)
    answers = always(lambda n: n.answers or isinstance(n.node, nodes.Answer) and n.kind == "stmt")
    return frozenset(may), must, pauses, answers


@frozen
class Graph:
    """The control-flow graph of one flow, and what the analyses found on it.

    `entry` is the first step's entry node (None for a flow with no step); `hangup_entry` the
    top-level `on hangup:` handler's node (None when the flow has none). `steps` maps each step
    name to its entry node (the first step of that name). `regions` maps each step some `call`
    runs to the nodes that run inside that call (not entering further calls). `succ`/`pred`
    hold edge indexes.
    """

    flow: nodes.Flow = field(repr=False)
    nodes: tuple[Node, ...] = field(repr=False)
    edges: tuple[Edge, ...] = field(repr=False)
    entry: int | None
    hangup_entry: int | None
    steps: dict[str, int] = field(repr=False)
    regions: dict[str, frozenset[int]] = field(repr=False)
    succ: tuple[tuple[int, ...], ...] = field(repr=False)
    pred: tuple[tuple[int, ...], ...] = field(repr=False)
    shape: tuple[object, ...] = field(default=(), repr=False, eq=False)

    def outside_calls(self) -> set[int]:
        """The nodes that run with no `call` active: reached from the start or from `on hangup:`
        without entering a called step (a call is crossed by its `returns` edge)."""
        seen = {r for r in (self.entry, self.hangup_entry) if r is not None}
        todo = list(seen)
        while todo:
            for e in self.succ[todo.pop()]:
                edge = self.edges[e]
                if edge.label != "call" and edge.target not in seen:
                    seen.add(edge.target)
                    todo.append(edge.target)
        return seen

    def successors(self, nid: int) -> Iterator[Edge]:
        for e in self.succ[nid]:
            yield self.edges[e]

    def reachable_from(
        self, roots: Iterable[int | None], stop: frozenset[int] = frozenset()
    ) -> set[int]:
        """Every node reachable from `roots`, not going on past the nodes in `stop`."""
        seen = {r for r in roots if r is not None}
        todo = list(seen)
        while todo:
            nid = todo.pop()
            if nid in stop:
                continue
            for e in self.succ[nid]:
                t = self.edges[e].target
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        return seen


Unit = nodes.Step | nodes.On


@frozen
class Lowered:
    """One step (or the top-level `on hangup:`) lowered on its own: its nodes (`members`, ids
    from `base` on, its entry first), its edges, and its `goto`s, `call`s and `return`s, to be
    linked once every step has its ids. `shape` is what the analyses read of it: all but the
    statements and the spans, so two versions of a step with the same shape (a `say` text
    retyped) give the same results."""

    base: int
    members: tuple[Node, ...]
    edges: tuple[Edge, ...]
    gotos: tuple[tuple[int, nodes.Goto], ...]
    calls: tuple[tuple[int, int, nodes.Call], ...]
    returns: tuple[int, ...]
    shape: tuple[object, ...] = field(eq=False, repr=False)


def lower(unit: Unit, base: int, inputs: tuple[str, ...] = ()) -> Lowered:
    """Lower one step (the first one gets the flow's `inputs`) or the `on hangup:` handler."""
    b = _Builder(base)
    if isinstance(unit, nodes.Step):
        name = unit.name.value
        entry = b.add("step", unit, name, label=name, defs=inputs)
        out = b.block(unit.body, [entry], name)
        if out:
            end = b.add("end", unit, name, label="end of step", ends="completed")
            b.link(out, end)
    else:
        entry = b.add("handler", unit, "", label="on hangup")
        out = b.block(unit.body, [entry], "")
        if out:
            end = b.add("end", unit, "", label="end of on hangup", ends="completed")
            b.link(out, end)
    shape = (
        base,
        tuple(
            (n.kind, type(n.node), n.step, n.label, n.defs, n.ends)
            for n in b.nodes
        ),
        tuple(b.edges),
        tuple((nid, goto.target.value) for nid, goto in b.gotos),
        tuple((nid, back, call.target.value) for nid, back, call in b.calls),
        tuple(b.returns),
    )
    members, edges = tuple(b.nodes), tuple(b.edges)
    return Lowered(base, members, edges, tuple(b.gotos), tuple(b.calls), tuple(b.returns), shape)


Lower = Callable[[Unit, int, tuple[str, ...]], Lowered]


def build(flow: nodes.Flow, lower: Lower = lower) -> Graph:
    """The control-flow graph of `flow` (any flow the parser accepts, even one with lint errors).
    `lower` lowers each step; the language server's remembers the steps an edit left alone."""
    return _linked(flow, *_lowered(flow, lower))


Parts = tuple[list[Lowered], dict[str, int], int | None, tuple[object, ...]]


def _lowered(flow: nodes.Flow, lower: Lower) -> Parts:
    """Each step of `flow`, and its `on hangup:`, lowered; the steps' entries, the handler's,
    and the shape of the whole."""
    parts: list[Lowered] = []
    steps: dict[str, int] = {}
    base = 0
    for step in flow.steps:
        # An outbound call starts with the values of the flow's `input` lines.
        inputs = tuple(i.value for i in flow.inputs) if not base else ()
        part = lower(step, base, inputs)
        steps.setdefault(step.name.value, base)
        parts.append(part)
        base += len(part.members)
    hangup_entry = None
    if flow.on_hangup is not None:
        hangup_entry = base
        parts.append(lower(flow.on_hangup, base, ()))
    return parts, steps, hangup_entry, (flow.outbound, tuple(part.shape for part in parts))


def _linked(
    flow: nodes.Flow,
    parts: list[Lowered],
    steps: dict[str, int],
    hangup_entry: int | None,
    shape: tuple[object, ...],
) -> Graph:
    b = _Builder()
    for part in parts:
        b.nodes += part.members
        b.edges += part.edges
        b.gotos += part.gotos
        b.calls += part.calls
        b.returns += part.returns
    for nid, goto in b.gotos:
        target = steps.get(goto.target.value)
        if target is not None:
            b.link([nid], target, "goto")
    for nid, _, call in b.calls:
        target = steps.get(call.target.value)
        if target is not None:
            b.link([nid], target, "call")
    regions = _summarise_calls(b, steps) if b.calls else {}
    succ: list[list[int]] = [[] for _ in b.nodes]
    pred: list[list[int]] = [[] for _ in b.nodes]
    for i, e in enumerate(b.edges):
        succ[e.source].append(i)
        pred[e.target].append(i)
    return Graph(
        flow=flow,
        nodes=tuple(b.nodes),
        edges=tuple(b.edges),
        entry=0 if flow.steps else None,
        hangup_entry=hangup_entry,
        steps=steps,
        regions=regions,
        succ=tuple(tuple(s) for s in succ),
        pred=tuple(tuple(p) for p in pred),
        shape=shape,
    )


@frozen
class Defined:
    """Which variables are assigned when control reaches a node: `may` on some path from the
    start, `must` on every path. Both are bit sets over `names` (bit i is `names[i]`)."""

    names: tuple[str, ...]
    may: tuple[int, ...] = field(repr=False)
    must: tuple[int, ...] = field(repr=False)
    assigned_anywhere: frozenset[str]
    index: dict[str, int] = field(repr=False, eq=False)

    def bit(self, name: str) -> int:
        i = self.index.get(name)
        return 0 if i is None else 1 << i


def _reverse_postorder(graph: Graph, roots: Iterable[int]) -> list[int]:
    order: list[int] = []
    seen: set[int] = set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack: list[tuple[int, Iterator[int]]] = [(root, iter(graph.succ[root]))]
        while stack:
            nid, it = stack[-1]
            for e in it:
                t = graph.edges[e].target
                if t not in seen:
                    seen.add(t)
                    stack.append((t, iter(graph.succ[t])))
                    break
            else:
                stack.pop()
                order.append(nid)
    order.reverse()
    return order


def defined_variables(graph: Graph) -> Defined:
    """Forward dataflow over the graph: which variables are assigned on some / every path.

    The graph's strongly connected components (its loops) are visited in topological order.
    "On some path" is then exact in one visit: inside a loop every assignment of the loop
    reaches every node of it, so each node gets what enters the loop plus all the loop assigns.
    "On every path" is solved loop by loop, in reverse postorder passes until nothing changes;
    what enters a loop is already final, so a chain of steps that each `goto` back to the one
    before (a "press 9 to go back" menu) takes a few passes, not one per step.
    The `on hangup:` handler can start at any moment: it sees every variable some path of the
    call may have assigned, and none as surely assigned.
    """
    names = sorted({d for n in graph.nodes for d in n.defs})
    index = {name: i for i, name in enumerate(names)}
    gen = [0] * len(graph.nodes)
    sure = [0] * len(graph.nodes)
    for n in graph.nodes:
        for d in n.defs:
            gen[n.id] |= 1 << index[d]
        if n.sure is None:
            sure[n.id] = gen[n.id]
        else:
            for d in n.sure:
                sure[n.id] |= 1 << index[d]
    full = (1 << len(names)) - 1
    may_in = [0] * len(graph.nodes)
    must_in = [full] * len(graph.nodes)

    def solve(root: int, may_root: int) -> list[int]:
        order = _reverse_postorder(graph, [root])
        rank = {nid: i for i, nid in enumerate(order)}
        # Tarjan lists components so that each comes after every component it reaches.
        components = strongly_connected(graph, set(order))
        components.reverse()
        for component in components:
            members = set(component)
            component.sort(key=rank.__getitem__)
            looped = len(component) > 1 or any(
                graph.edges[e].target == component[0] for e in graph.succ[component[0]]
            )
            entering = may_root if root in members else 0
            for nid in component:
                for e in graph.pred[nid]:
                    p = graph.edges[e].source
                    if p in rank and p not in members:
                        entering |= may_in[p] | gen[p]
            inside = 0
            if looped:
                for nid in component:
                    inside |= gen[nid]
            for nid in component:
                may_in[nid] = entering | inside
            _solve_must(graph, component, rank, root, sure, full, must_in)
        return order

    main: list[int] = []
    if graph.entry is not None:
        main = solve(graph.entry, 0)
    if graph.hangup_entry is not None:
        everywhere = 0
        for nid in main:
            everywhere |= may_in[nid] | gen[nid]
        solve(graph.hangup_entry, everywhere)
    reached = set(main)
    if graph.hangup_entry is not None:
        reached |= graph.reachable_from([graph.hangup_entry])
    for nid in range(len(graph.nodes)):
        if nid not in reached:
            # Unreachable code: nothing is known about it, so nothing is reported as
            # "possibly unassigned" there; only names no statement ever assigns are errors.
            may_in[nid] = full
            must_in[nid] = full
    return Defined(
        names=tuple(names),
        may=tuple(may_in),
        must=tuple(must_in),
        assigned_anywhere=frozenset(names),
        index=index,
    )


def _solve_must(
    graph: Graph,
    component: list[int],
    rank: dict[int, int],
    root: int,
    gen: list[int],
    full: int,
    must_in: list[int],
) -> None:
    """"Assigned on every path" for the nodes of one component (in reverse postorder), the
    components before it being final. The root is also entered from the start, with nothing."""
    changed = True
    while changed:
        changed = False
        for nid in component:
            must = 0 if nid == root else full
            for e in graph.pred[nid]:
                p = graph.edges[e].source
                if p in rank:
                    must &= must_in[p] | gen[p]
            if must != must_in[nid]:
                must_in[nid] = must
                changed = True


def before_answer(graph: Graph) -> set[int]:
    """The nodes that some path from the start reaches without passing an `answer`."""
    answers = frozenset(
        n.id
        for n in graph.nodes
        if n.answers or (n.kind == "stmt" and isinstance(n.node, nodes.Answer))
    )
    if graph.entry is None or graph.flow.outbound:
        # The flow of a call it places starts when the callee has answered.
        return set()
    reached = graph.reachable_from([graph.entry], stop=answers)
    # An `answer` node itself is reached unanswered; the nodes after it are not (unless
    # another path reaches them), which `stop` already ensures.
    return reached


def strongly_connected(graph: Graph, members: set[int]) -> list[list[int]]:
    """Tarjan's strongly connected components of the subgraph on `members` (iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in sorted(members):
        if root in index:
            continue
        work: list[tuple[int, Iterator[int]]] = [(root, iter(graph.succ[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            nid, it = work[-1]
            advanced = False
            for e in it:
                t = graph.edges[e].target
                if t not in members:
                    continue
                if t not in index:
                    index[t] = low[t] = counter
                    counter += 1
                    stack.append(t)
                    on_stack.add(t)
                    work.append((t, iter(graph.succ[t])))
                    advanced = True
                    break
                if t in on_stack:
                    low[nid] = min(low[nid], index[t])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[nid])
            if low[nid] == index[nid]:
                component: list[int] = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == nid:
                        break
                out.append(component)
    return out


@frozen
class Loop:
    """A cycle of the graph on which the call never waits. `nodes` are its members; `escapes`
    is False when no edge leaves it, so a run that enters it can never get out."""

    nodes: frozenset[int]
    escapes: bool


def busy_loops(graph: Graph) -> list[Loop]:
    """The cycles that pass no waiting statement (`say`, `play`, gathers, `answer`, ...)."""
    quiet = {n.id for n in graph.nodes if not n.waits}
    loops: list[Loop] = []
    for component in strongly_connected(graph, quiet):
        members = frozenset(component)
        if len(component) == 1:
            nid = component[0]
            if not any(graph.edges[e].target == nid for e in graph.succ[nid]):
                continue
        escapes = any(
            graph.edges[e].target not in members for nid in members for e in graph.succ[nid]
        )
        loops.append(Loop(members, escapes))
    return loops


def _same_shape(previous: Graph, flow: nodes.Flow, parts: list[Lowered]) -> Graph:
    """The graph of `flow`, whose steps were lowered into `parts` of the same shape as those
    of `previous`: its edges and call summaries are those of `previous`."""
    members = [node for part in parts for node in part.members]
    for part in parts:
        for _, back, _ in part.calls:
            summary = previous.nodes[back]
            members[back] = attrs.evolve(
                members[back],
                defs=summary.defs,
                sure=summary.sure,
                pauses=summary.pauses,
                answers=summary.answers,
            )
    return attrs.evolve(previous, flow=flow, nodes=tuple(members))


@frozen
class Analysis:
    """The graph of a flow and the results every consumer (lint, graph, compiler) shares."""

    graph: Graph
    reachable: frozenset[int]
    unanswered: frozenset[int]
    defined: Defined
    loops: tuple[Loop, ...]

    @property
    def reachable_steps(self) -> frozenset[str]:
        return frozenset(
            n.step for n in self.graph.nodes if n.kind == "step" and n.id in self.reachable
        )


def analyze(flow: nodes.Flow, lower: Lower = lower, previous: Analysis | None = None) -> Analysis:
    """Build the graph of `flow` and run every analysis on it.

    `previous` is the analysis of an earlier version of the same file (the language server's):
    when this version's graph has the same shape (an edit changed texts, not the way the call
    can go), every result of it holds here too, and only the graph's nodes are new: they point
    at this version's statements. `lower`: see `build`."""
    parts, steps, hangup_entry, shape = _lowered(flow, lower)
    if previous is not None and previous.graph.shape == shape:
        return attrs.evolve(previous, graph=_same_shape(previous.graph, flow, parts))
    graph = _linked(flow, parts, steps, hangup_entry, shape)
    reachable = graph.reachable_from([graph.entry, graph.hangup_entry])
    return Analysis(
        graph=graph,
        reachable=frozenset(reachable),
        unanswered=frozenset(before_answer(graph)),
        defined=defined_variables(graph),
        loops=tuple(busy_loops(graph)),
    )
