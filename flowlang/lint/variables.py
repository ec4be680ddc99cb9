"""Rules about variables (FL5xx): read before any path assigns them, or maybe not a number."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from flowlang.analysis import BUILTIN_VARIABLES, Read
from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.gather import entry_keys
from flowlang.lint.registry import Finding, rule
from flowlang.syntax import nodes


def _reads(ctx: Context) -> Iterator[tuple[int, Read]]:
    for n in ctx.analysis.graph.nodes:
        for r in n.reads:
            if r.name not in BUILTIN_VARIABLES:
                yield n.id, r


@rule("FL501", "undefined-variable", Severity.ERROR)
def undefined_variable(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds variables that are read (in a condition, or as `{name}` inside text) where no path
    through the flow has assigned them yet. Variables are assigned by `set`, by a gather's
    `into` and by an ai_gather's `into`; `caller`, `called` and `digits` always exist.

    ## Why is this bad?
    The variable is empty on every call: the caller hears a gap where the value should be,
    and conditions on it never hold. It is usually a typo or a missing `into`.

    ## Example
    ```
    gather digits 6:
        say "Enter your account number."
        on digits: say "Thanks, account {account}."
    ```

    ## Use instead
    ```
    gather digits 6 into account:
        say "Enter your account number."
        on digits: say "Thanks, account {account}."
    ```
    """
    defined = ctx.analysis.defined
    known = sorted(defined.assigned_anywhere | BUILTIN_VARIABLES)
    for nid, r in _reads(ctx):
        bit = defined.bit(r.name)
        if bit and defined.may[nid] & bit:
            continue
        if not bit:
            close = difflib.get_close_matches(r.name, known, n=1, cutoff=0.7)
            if r.name.lower() in ("true", "false") and len(r.path) == 1:
                close = [r.name.lower()]  # `True`, `FALSE`: the booleans are written in lower case
            fix = (
                f"did you mean `{close[0]}`?"
                if close
                else f"assign it first: `set {r.name} = ...`, or `into {r.name}` on a gather"
            )
            message = f"variable `{r.name}` is never assigned"
        else:
            fix = f"assign `{r.name}` before this point on the way here"
            message = f"variable `{r.name}` is not assigned on any path that reaches here"
        yield Finding(r.span, message, label="never assigned here", help=fix)


@rule("FL502", "possibly-undefined-variable", Severity.WARNING)
def possibly_undefined_variable(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds variables read where some paths have assigned them and others have not: for example
    a variable set in one branch of an `if` and read after it, or set by a gather's `into`
    and read in the `on hangup:` handler (the caller may hang up before the gather).

    ## Why is this bad?
    On the paths that skip the assignment the value is empty, so the caller hears a gap
    or a condition goes the wrong way on some calls only, which is hard to notice in tests.

    ## Example
    ```
    main:
        answer
        if caller == "+13125550100":
            set name = "boss"
        say "Hello {name}."
    ```

    ## Use instead
    ```
    main:
        answer
        set name = "there"
        if caller == "+13125550100":
            set name = "boss"
        say "Hello {name}."
    ```
    """
    defined = ctx.analysis.defined
    for nid, r in _reads(ctx):
        bit = defined.bit(r.name)
        if bit and defined.may[nid] & bit and not defined.must[nid] & bit:
            yield Finding(
                r.span,
                f"variable `{r.name}` may not be assigned here: some paths skip its assignment",
                label="not assigned on every path",
                help=f"give `{r.name}` a value on every path before this, e.g. "
                f'`set {r.name} = ""` early on',
            )


ORDERING = frozenset({"<", "<=", ">", ">="})


def _orderings(stmt: nodes.Node | None) -> Iterator[nodes.BinOp]:
    """The `<`, `<=`, `>`, `>=` comparisons in a condition or a `set` (not in nested blocks)."""
    if isinstance(stmt, nodes.If | nodes.Elif):
        todo: list[nodes.Node] = [stmt.cond]
    elif isinstance(stmt, nodes.Set):
        todo = [stmt.value]
    else:
        return
    while todo:
        e = todo.pop()
        if isinstance(e, nodes.BinOp):
            if e.op in ORDERING:
                yield e
            todo += (e.right, e.left)
        elif isinstance(e, nodes.Not):
            todo.append(e.operand)
        elif isinstance(e, nodes.ListExpr):
            todo += e.items


def _numeric_branch(on: nodes.On) -> bool:
    return on.event == "digits" and bool(on.values) and all(
        not v.interpolations and v.text.isdigit() for v in on.values
    )


def _entries(ctx: Context) -> tuple[dict[str, dict[int, nodes.Gather]], dict[str, set[int]]]:
    """For each name holding a gather's entry (`digits`, an `into` variable): the gathers whose
    entry may be more than digits (by result node), and every node that gives the name a value
    (a gather's result, a `set`, an `on digits "1"` branch, which holds only digits)."""
    graph = ctx.analysis.graph
    loose: dict[str, dict[int, nodes.Gather]] = {}
    definers: dict[str, set[int]] = {}
    for n in graph.nodes:
        names = list(n.defs)
        if n.kind == "result" and isinstance(n.node, nodes.Gather):
            names.append("digits")
            keys = entry_keys(n.node)
            if keys is not None and not keys.isdigit():
                for name in names:
                    loose.setdefault(name, {})[n.id] = n.node
            for e in graph.succ[n.id]:
                handler = graph.nodes[graph.edges[e].target]
                if isinstance(handler.node, nodes.On) and _numeric_branch(handler.node):
                    for name in names:
                        definers.setdefault(name, set()).add(handler.id)
        for name in names:
            definers.setdefault(name, set()).add(n.id)
    return loose, definers


@rule("FL510", "compare-non-number", Severity.WARNING)
def compare_non_number(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Warns about `<`, `<=`, `>` or `>=` on the keys a caller pressed (`digits`, or a gather's
    `into` variable) when the gather lets the caller press `*` or `#`: its `valid` keys include
    them, or it names no `valid` keys at all.

    ## Why is this bad?
    `*` is not a number, and a comparison between a number and text that is not one is false
    (both `digits > 2` and `digits <= 2` are): the call quietly takes a path the author did
    not plan for. `flowlang fuzz` finds such calls; this rule finds them before any call.

    ## Example
    ```
    gather digits 1..2 into tickets:
        say "How many tickets?"
        on digits:
            if tickets > 8:
                goto group_sales
            goto book
    ```

    ## Use instead
    ```
    gather digits 1..2 valid "0123456789" into tickets:
        say "How many tickets?"
        on digits:
            if tickets > 8:
                goto group_sales
            goto book
    ```
    """
    graph = ctx.analysis.graph
    loose, definers = _entries(ctx)
    seen: set[int] = set()
    for name, sources in loose.items():
        stop = definers.get(name, set())
        # Which loose gather's entry reaches each node first (a multi-source search).
        origin: dict[int, int] = {}
        todo: list[int] = []
        for source in sources:
            for e in graph.succ[source]:
                target = graph.edges[e].target
                if target not in origin:
                    origin[target] = source
                    todo.append(target)
        while todo:
            nid = todo.pop()
            if nid in stop:
                continue
            for e in graph.succ[nid]:
                target = graph.edges[e].target
                if target not in origin:
                    origin[target] = origin[nid]
                    todo.append(target)
        for nid, source in origin.items():
            node = graph.nodes[nid]
            if node.kind not in ("stmt", "test"):
                continue
            for op in _orderings(node.node):
                sides = (op.left, op.right)
                if id(op) in seen or not any(
                    isinstance(s, nodes.Var) and s.path == (name,) for s in sides
                ):
                    continue
                seen.add(id(op))
                gather = sources[source]
                keys = entry_keys(gather) or ""
                pressed = " or ".join(f"`{k}`" for k in keys if not k.isdigit())
                line = f" on line {gather.span.line}" if gather.span is not None else ""
                yield Finding(
                    op.span,
                    f"`{name}` may hold {pressed}, which is not a number: this comparison is "
                    "then false",
                    label="may compare text with a number",
                    help=f'give the gather{line} `valid "0123456789"`, or check for '
                    f'{pressed} first with `==`',
                )
