"""Rules about reuse (FL87x): steps run with `call` and the `return`s that leave them."""

from __future__ import annotations

from collections.abc import Iterator

from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.runtime.state import CALL_DEPTH
from flowlang.syntax import nodes


@rule("FL870", "return-without-call", Severity.ERROR)
def return_without_call(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a `return` that can run when no `call` is active: in the first step, in a step
    reached only with `goto` from there, in `on hangup:`, or in a step no `call` runs.

    ## Why is this bad?
    `return` goes back to the `call` that ran the step. With no call to go back to there is
    nowhere to return to: the flow just ends there, which is rarely what was meant.

    ## Example
    ```
    main:
        answer
        gather digits 4 into pin:
            say "Please enter your PIN."
            on digits: return
        say "Goodbye."
    ```

    ## Use instead
    Run the step with `call`, so `return` comes back after it:
    ```
    main:
        answer
        call ask_pin
        say "Goodbye."

    ask_pin:
        gather digits 4 into pin:
            say "Please enter your PIN."
            on digits: return
    ```
    """
    graph = ctx.analysis.graph
    outside = graph.outside_calls()
    inside: set[int] = set()
    for region in graph.regions.values():
        inside |= region
    for n in graph.nodes:
        if n.kind != "stmt" or not isinstance(n.node, nodes.Return):
            continue
        step = n.step
        if n.id in outside:
            where = "in `on hangup:`" if not step else f"in `{step}`"
            yield Finding(
                n.span,
                f"this `return` can run {where} when no `call` is active",
                label="nothing to return to",
                help=f"run `{step}` with `call {step}` instead of `goto`, or end the call here "
                "with `hangup`"
                if step
                else "`on hangup:` is not called: leave out the `return`",
            )
        elif n.id not in inside:
            yield Finding(
                n.span,
                f"this `return` is in `{step}`, which no `call` runs",
                label="nothing to return to",
                help=f"run the step with `call {step}`, or leave out the `return`",
            )


@rule("FL871", "recursive-call", Severity.WARNING)
def recursive_call(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a `call` that runs a step which is already running: the step calls itself, or
    calls a step that calls it back.

    ## Why is this bad?
    Every such `call` waits for the one inside it to return, so each round goes one call
    deeper. After 50 calls inside one another the flow stops with an error and the call is
    hung up. To go back to a menu, use `goto`; to come back to where the call was, `return`.

    ## Example
    ```
    main:
        answer
        call menu

    menu:
        gather:
            say "Press 1 to hear our hours, or 2 to hear this again."
            on digits "1": say "We are open nine to five."
            on digits "2": call menu
    ```

    ## Use instead
    ```
    main:
        answer
        call menu

    menu:
        gather:
            say "Press 1 to hear our hours, or 2 to hear this again."
            on digits "1": say "We are open nine to five."
            on digits "2": goto menu
    ```
    """
    graph = ctx.analysis.graph
    regions = graph.regions
    calls_in: dict[str, set[str]] = {name: set() for name in regions}
    sites: list[tuple[str, nodes.Call]] = []
    for name, region in regions.items():
        for nid in region:
            node = graph.nodes[nid]
            if node.kind == "stmt" and isinstance(node.node, nodes.Call):
                target = node.node.target.value
                if target in regions:
                    calls_in[name].add(target)
                    sites.append((name, node.node))
    reported: set[int] = set()
    for name, call in sites:
        target = call.target.value
        if id(call) in reported or not _reaches(calls_in, target, name):
            continue
        reported.add(id(call))
        again = "itself" if target == name else f"`{target}`, which runs `{name}` again"
        yield Finding(
            call.span,
            f"`{name}` calls {again} before it returns",
            label="one call deeper every time",
            help=f"to start `{target}` over, use `goto {target}`; calls inside one another stop "
            f"the flow after {CALL_DEPTH}",
        )


def _reaches(calls_in: dict[str, set[str]], start: str, goal: str) -> bool:
    seen = {start}
    todo = [start]
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        for nxt in calls_in.get(name, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
