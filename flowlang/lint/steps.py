"""Rules about steps and the shape of the flow (FL1xx): targets, duplicates, dead code, handlers.

A handler written in the wrong block (`on valid` in a gather) is a syntax error (FL009).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.source import LINE_BLOCK
from flowlang.syntax import nodes


def _line(node: nodes.Node) -> int:
    return node.span.line if node.span is not None else 0


def _meant_step(target: str, steps: Iterable[str]) -> list[str]:
    """The step a `goto` or `call` to the unknown `target` probably meant (a typo), if any."""
    return difflib.get_close_matches(target, list(steps), n=1, cutoff=0.6)


@rule("FL101", "unknown-step", Severity.ERROR)
def unknown_step(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that every `goto` and `call` names a step that exists in the flow.

    ## Why is this bad?
    A call that reaches `goto` (or `call`) with an unknown step has nowhere to go: the flow
    cannot run.
    This is usually a typo in the step name.

    ## Example
    ```
    main:
        answer
        goto suport

    support:
        say "Connecting you."
    ```

    ## Use instead
    ```
    main:
        answer
        goto support

    support:
        say "Connecting you."
    ```
    """
    steps = {s.name.value: s for s in reversed(ctx.flow.steps)}
    for goto in ctx.of_type(nodes.Goto, nodes.Call):
        assert isinstance(goto, nodes.Goto | nodes.Call)
        word = "goto" if isinstance(goto, nodes.Goto) else "call"
        target = goto.target.value
        if target in steps:
            continue
        close = _meant_step(target, steps)
        if close:
            fix = f"did you mean `{close[0]}`? (defined at line {_line(steps[close[0]])})"
        elif steps:
            names = ", ".join(f"`{n}`" for n in sorted(steps))
            verb = "go to" if word == "goto" else "call"
            fix = f"add a step `{target}:` or {verb} one of the steps there are: {names}"
        else:
            fix = f"add a step `{target}:`"
        yield Finding(
            goto.target.span or goto.span,
            f"`{word}` target `{target}` is not a step in this flow",
            label="unknown step",
            help=fix,
        )


@rule("FL102", "duplicate-step", Severity.ERROR)
def duplicate_step(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that no two steps have the same name.

    ## Why is this bad?
    A `goto` to that name can only reach one of them (the first), so the second step's
    statements never run, whatever you meant.

    ## Example
    ```
    menu:
        say "Press 1 for sales."

    menu:
        say "Press 2 for support."
    ```

    ## Use instead
    Give each step its own name:
    ```
    menu:
        say "Press 1 for sales."

    support_menu:
        say "Press 2 for support."
    ```
    """
    first: dict[str, nodes.Step] = {}
    for step in ctx.flow.steps:
        name = step.name.value
        if name in first:
            yield Finding(
                step.name.span or step.span,
                f"step `{name}` is defined twice (first at line {_line(first[name])})",
                label="second definition",
                help=f"rename this step, or merge it into the first `{name}`",
            )
        else:
            first[name] = step


@rule("FL103", "unreachable-step", Severity.WARNING)
def unreachable_step(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds steps that no call can ever reach: no `goto` or `call` leads to them from the first
    step.
    The steps of an included file are not reported: a shared file offers steps that each flow
    uses some of. Nor is a step that a misspelt `goto` or `call` probably meant: FL101 reports
    that mistake once, naming the step.

    ## Why is this bad?
    A step nobody reaches is dead weight, and usually means a missing `goto` or a misspelt one.

    ## Example
    ```
    main:
        answer
        say "Hello."
        hangup

    goodbye:
        say "Goodbye."
    ```

    ## Use instead
    ```
    main:
        answer
        say "Hello."
        goto goodbye

    goodbye:
        say "Goodbye."
    ```
    """
    reached = ctx.analysis.reachable
    graph = ctx.analysis.graph
    # A step a misspelt `goto` meant is reported once, by FL101, which names it.
    names = {s.name.value for s in ctx.flow.steps}
    meant = {
        step
        for jump in ctx.of_type(nodes.Goto, nodes.Call)
        if isinstance(jump, nodes.Goto | nodes.Call) and jump.target.value not in names
        for step in _meant_step(jump.target.value, names)
    }
    for nid in graph.steps.values():
        if nid in reached or graph.nodes[nid].step in meant:
            continue
        node = graph.nodes[nid]
        step = node.node
        assert isinstance(step, nodes.Step)
        if step.span is not None and step.span.line > LINE_BLOCK:
            # A step of an included file: a shared file offers steps each flow uses a few of.
            continue
        yield Finding(
            step.name.span or step.span,
            f"step `{node.step}` is never reached",
            label="no path leads here",
            help=f"add `goto {node.step}` or `call {node.step}` where the call should come "
            "here, or delete the step",
        )


def _ends_block(stmt: nodes.Node) -> str | None:
    if isinstance(stmt, nodes.Hangup):
        return "hangup"
    if isinstance(stmt, nodes.Transfer) and not stmt.handlers:
        return "transfer"
    if isinstance(stmt, nodes.Goto):
        return "goto"
    if isinstance(stmt, nodes.Return):
        return "return"
    if isinstance(stmt, nodes.TryAgain):
        return "try again"
    return None


@rule("FL104", "unreachable-statement", Severity.WARNING, local=True)
def unreachable_statement(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds statements written after a `hangup`, `transfer`, `goto`, `return` or `try again` in
    the same block.

    ## Why is this bad?
    `hangup` and `transfer` end the flow, `goto` jumps away, `return` goes back to the `call`
    and `try again` back to its gather, so the lines after them never run. The author probably
    expected them to.

    ## Example
    ```
    main:
        answer
        transfer "+13125550001"
        say "Thanks for calling."
    ```

    ## Use instead
    ```
    main:
        answer
        say "Thanks for calling."
        transfer "+13125550001"
    ```
    """
    for _, body in ctx.blocks():
        for before, after in zip(body, body[1:], strict=False):
            ender = _ends_block(before)
            if ender is not None:
                yield Finding(
                    after.span,
                    f"this statement never runs: `{ender}` on line {_line(before)} comes first",
                    label="never runs",
                    help=f"move it before the `{ender}`, or delete it",
                )
                break


def _outcomes(on: nodes.On) -> list[str]:
    """The outcomes a handler claims: `timeout`, `digits` (the catch-all), `key 0`...
    Branch values (`on digits "1"`) are checked by FL302 instead."""
    if on.event == "key":
        return [f"key {v.text}" for v in on.values]
    if on.event == "digits" and on.values:
        return []
    return [on.event]


@rule("FL105", "no-steps", Severity.ERROR)
def no_steps(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a flow has a step to start at, with the steps of the files it includes. A file
    that only holds opening hours (or only includes others) has none of its own: that is fine
    for a file other flows include, and this is reported when it is checked or run by itself.

    ## Why is this bad?
    A call starts at the first step. With no step, there is nothing to run: the call would end
    with an error as soon as it arrives.

    ## Example
    ```
    hours office:
        mon-fri 9:00-17:00
    ```

    ## Use instead
    Check and run the flow that includes this file, or give it a first step:
    ```
    hours office:
        mon-fri 9:00-17:00

    main:
        answer
        if open office:
            say "We are open."
        hangup
    ```
    """
    if ctx.flow.steps:
        return
    first = ctx.flow.hours[0].name.span if ctx.flow.hours else None
    yield Finding(
        first,
        "this flow has no steps",
        help="a call starts at the first step: a name followed by `:` and indented lines. If "
        "this file holds opening hours for other flows, check the flows that include it",
    )


@rule("FL106", "duplicate-handler", Severity.ERROR, local=True)
def duplicate_handler(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a block has at most one handler for each outcome: one `on timeout`, one
    `on invalid`, one catch-all `on digits:`, one `on valid`, one `on key` per key.

    ## Why is this bad?
    Only the first handler runs; the second is dead code that looks alive.

    ## Example
    ```
    gather:
        say "Press 1."
        on digits "1": goto sales
        on timeout: say "Are you there?"
        on timeout: hangup
    ```

    ## Use instead
    ```
    gather:
        say "Press 1."
        on digits "1": goto sales
        on timeout:
            say "Are you there?"
            hangup
    ```
    """
    for stmt in ctx.of_type(nodes.Gather, nodes.AiGather, nodes.Assistant):
        assert isinstance(stmt, nodes.Gather | nodes.AiGather | nodes.Assistant)
        seen: dict[str, nodes.On] = {}
        for on in stmt.handlers:
            for key in _outcomes(on):
                if key in seen:
                    yield Finding(
                        on.span,
                        f"a second `on {key}` handler in this block "
                        f"(the first is on line {_line(seen[key])})",
                        label="never runs",
                        help="merge the two handlers into one",
                    )
                else:
                    seen[key] = on
