"""Rules about loops (FL7xx): cycles of `goto` on which the call never waits for anything."""

from __future__ import annotations

from collections.abc import Iterator

from flowlang.analysis import Loop
from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.source import Span
from flowlang.syntax import nodes


def _goto_in(ctx: Context, loop: Loop) -> nodes.Goto | nodes.Call | None:
    """The `goto` (or `call`) that closes the loop: one inside it that jumps back up to a step
    inside it (the first in source order), else any inside it to a step inside it."""
    graph = ctx.analysis.graph
    candidates: list[tuple[bool, Span, nodes.Goto | nodes.Call]] = []
    for nid in loop.nodes:
        node = graph.nodes[nid].node
        if graph.nodes[nid].kind != "stmt":
            continue
        if not isinstance(node, nodes.Goto | nodes.Call) or node.span is None:
            continue
        for e in graph.successors(nid):
            target = graph.nodes[e.target]
            if e.label in ("goto", "call") and e.target in loop.nodes and target.span is not None:
                candidates.append((target.span.line > node.span.line, node.span, node))
    return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None


def _report(ctx: Context, loop: Loop) -> Finding:
    goto = _goto_in(ctx, loop)
    steps = sorted({ctx.analysis.graph.nodes[n].step for n in loop.nodes})
    names = ", ".join(f"`{s}`" for s in steps)
    where = goto.span if goto is not None else None
    if loop.escapes:
        return Finding(
            where,
            f"this loop through {names} can run round without waiting for the caller",
            label="loops back without a `say`, `play` or gather",
            help="make sure every way round the loop says, plays or gathers something, "
            "or leaves it",
            notes=("a flow that runs 1,000 statements without waiting is stopped and hung up",),
        )
    return Finding(
        where,
        f"this loop through {names} never waits and nothing can leave it",
        label="endless loop",
        help="add a `say`, `play` or gather to the loop, and a way out of it "
        "(a `hangup`, `transfer` or `goto` elsewhere)",
        notes=("the run is stopped after 1,000 statements and the call is hung up",),
    )


@rule("FL701", "busy-loop", Severity.WARNING)
def busy_loop(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds loops (a `goto` back to an earlier step) on which some way round never waits for
    the caller: no `say`, `play`, `gather`, `ai_gather` or `assistant` on it, but some way
    out of it exists.

    ## Why is this bad?
    Each round runs instantly; if the way out is never taken, the flow spins until it is
    stopped after 1,000 statements and the call is hung up.

    ## Example
    ```
    wait_for_agent:
        if agent_free == true:
            transfer "+13125550001"
        goto wait_for_agent
    ```

    ## Use instead
    Play something on every round, so the loop waits while the caller listens:
    ```
    wait_for_agent:
        if agent_free == true:
            transfer "+13125550001"
        play "https://example.com/hold-music.mp3"
        goto wait_for_agent
    ```
    """
    for loop in ctx.analysis.loops:
        if loop.escapes:
            yield _report(ctx, loop)


@rule("FL702", "endless-loop", Severity.ERROR)
def endless_loop(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds loops that never wait for the caller and that nothing can leave.

    ## Why is this bad?
    A call that enters the loop spins until the run is stopped after 1,000 statements and
    the call is hung up: the caller hears silence, then nothing.

    ## Example
    ```
    main:
        answer
        goto again

    again:
        log "waiting"
        goto again
    ```

    ## Use instead
    ```
    main:
        answer
        goto again

    again:
        gather:
            say "Press 1 to hear this again."
            on digits "1": goto again
        hangup
    ```
    """
    for loop in ctx.analysis.loops:
        if not loop.escapes:
            yield _report(ctx, loop)
