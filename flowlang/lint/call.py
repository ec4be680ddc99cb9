"""Rules about the call itself (FL2xx): answering it, and what may run once it is over."""

from __future__ import annotations

from collections.abc import Iterator

from flowlang.analysis import AFTER_HANGUP, NEEDS_ANSWER, Graph
from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.lint.telnyx_data import TRANSFER_TIMEOUT_SECS
from flowlang.syntax import nodes

STATEMENT_NAMES = {
    nodes.Answer: "answer",
    nodes.Hangup: "hangup",
    nodes.Say: "say",
    nodes.Play: "play",
    nodes.Transfer: "transfer",
    nodes.Goto: "goto",
    nodes.Call: "call",
    nodes.Return: "return",
    nodes.Gather: "gather",
    nodes.AiGather: "ai_gather",
    nodes.Assistant: "assistant",
    nodes.Record: "record",
    nodes.Queue: "queue",
    nodes.Sms: "sms",
    nodes.Detect: "detect machine",
    nodes.WaitBeep: "wait for beep",
    nodes.TryAgain: "try again",
    nodes.Fetch: "fetch",
}


@rule("FL201", "before-answer", Severity.ERROR)
def before_answer(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds `say`, `play`, `gather`, `ai_gather` and `assistant` statements that some path from
    the start of the call reaches before an `answer`.

    ## Why is this bad?
    An incoming call is parked until it is answered; Telnyx refuses these commands on it
    ("call not answered yet") and the caller hears nothing.

    ## Example
    ```
    main:
        say "Welcome to Acme."
        answer
    ```

    ## Use instead
    ```
    main:
        answer
        say "Welcome to Acme."
    ```
    """
    unanswered = ctx.analysis.unanswered
    for n in ctx.analysis.graph.nodes:
        if n.kind == "stmt" and n.id in unanswered and isinstance(n.node, NEEDS_ANSWER):
            name = STATEMENT_NAMES[type(n.node)]
            yield Finding(
                n.span,
                f"`{name}` can run before the call is answered",
                label="the call may not be answered here",
                help="put `answer` before it, at the start of the first step",
            )


@rule("FL202", "no-answer", Severity.WARNING)
def no_answer(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Warns when a flow has no `answer` statement at all.

    ## Why is this bad?
    An incoming call that is never answered keeps ringing until the caller gives up, unless
    the flow only transfers or hangs up. Most flows should start with `answer`.

    ## Example
    ```
    main:
        transfer "+13125550001"
    ```

    ## Use instead
    ```
    main:
        answer
        transfer "+13125550001"
    ```
    """
    if not ctx.flow.steps or ctx.flow.outbound:
        return
    if any(isinstance(n.node, nodes.Answer) for n in ctx.analysis.graph.nodes):
        return
    first = ctx.flow.steps[0]
    yield Finding(
        first.name.span or first.span,
        "this flow never answers the call",
        label="the call starts here",
        help="add `answer` as the first statement of this step",
    )


@rule("FL203", "call-after-hangup", Severity.ERROR)
def call_after_hangup(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that the top-level `on hangup:` handler only uses statements that do not touch the
    call: `set`, `log`, `if`, `sms` and `fetch` (a `fetch` there is waited for: telling your
    own systems that the call ended is what it is for).

    ## Why is this bad?
    `on hangup:` runs after the caller has hung up: there is no call left to speak to, gather
    from or transfer, and a `goto` would lead back into statements that do.

    ## Example
    ```
    on hangup:
        say "Goodbye."
    ```

    ## Use instead
    ```
    on hangup:
        log "The caller hung up."
    ```
    """
    handler = ctx.flow.on_hangup
    if handler is None:
        return
    for stmt in touching_the_call(handler.body):
        name = STATEMENT_NAMES.get(type(stmt), type(stmt).__name__.lower())
        yield Finding(
            stmt.span,
            f"`{name}` cannot run in `on hangup:`: the call is already over",
            label="the caller has hung up",
            help="only `set`, `log`, `if`, `sms` and `fetch` may be used here",
        )


def after_the_hangup(body: tuple[nodes.Node, ...]) -> Iterator[nodes.Node]:
    """Every statement of `body`, a block that runs where the caller may have hung up, in the
    order written: inside `if` arms and a `fetch`'s handlers too."""
    todo: list[nodes.Node] = list(body)
    while todo:
        stmt = todo.pop(0)
        yield stmt
        if isinstance(stmt, nodes.If):
            todo[:0] = [*stmt.body, *(s for e in stmt.elifs for s in e.body), *(stmt.else_ or ())]
        elif isinstance(stmt, nodes.Fetch):
            todo[:0] = [s for on in stmt.handlers for s in on.body]


def touching_the_call(body: tuple[nodes.Node, ...]) -> Iterator[nodes.Node]:
    """The statements of `body` (a block that runs where the caller may have hung up) that need
    the call to still be up."""
    return (stmt for stmt in after_the_hangup(body) if not isinstance(stmt, AFTER_HANGUP))


@rule("FL204", "transfer-timeout-range", Severity.ERROR, local=True)
def transfer_timeout_range(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a `transfer`'s `timeout` is between 5 seconds and 10 minutes (600 s), the
    range Telnyx accepts for how long the other side may ring.

    ## Why is this bad?
    Telnyx rejects the transfer command with a timeout outside that range, so the caller is
    never connected.

    ## Example
    ```
    transfer "+13125550001" timeout 2s
    ```

    ## Use instead
    ```
    transfer "+13125550001" timeout 20s
    ```
    """
    low, high = TRANSFER_TIMEOUT_SECS
    for stmt in ctx.of_type(nodes.Transfer):
        assert isinstance(stmt, nodes.Transfer)
        t = stmt.timeout
        if t is None:
            continue
        if not low * 1000 <= t.millis <= high * 1000:
            yield Finding(
                t.span or stmt.span,
                f"transfer timeout {t.amount}{t.unit} is outside {low}..{high} seconds",
                label="Telnyx refuses this",
                help=f"use a timeout from {low}s to {high}s (10m)",
            )
        elif t.millis % 1000:
            yield Finding(
                t.span or stmt.span,
                f"transfer timeout {t.amount}{t.unit} is not a whole number of seconds",
                label="Telnyx counts this in seconds",
                help="write it in whole seconds, like `20s`",
            )


@rule("FL114", "answer-again", Severity.ERROR)
def answer_again(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds an `answer` that can run when the call has already been answered: most often a
    `goto` back to the first step, which starts with `answer`.

    ## Why is this bad?
    The call is answered once. A second `answer` is sent to Telnyx all the same, which refuses
    it, and the flow does not do what the `goto` meant (usually: go back to the menu).

    ## Example
    ```
    main:
        answer
        say "Welcome to Acme."
        gather:
            say "Press 1 to hear this again."
            on digits "1": goto main
    ```

    ## Use instead
    ```
    main:
        answer
        say "Welcome to Acme."
        goto menu

    menu:
        gather:
            say "Press 1 to hear this again."
            on digits "1": goto menu
    ```
    """
    graph = ctx.analysis.graph
    reachable = ctx.analysis.reachable
    answers = [n.id for n in graph.nodes if isinstance(n.node, nodes.Answer) and n.id in reachable]
    # Everything that can run once some `answer` has run.
    after = graph.reachable_from([graph.edges[e].target for a in answers for e in graph.succ[a]])
    for nid in answers:
        if nid not in after:
            continue
        node = graph.nodes[nid]
        notes = _gotos_back(graph, node.step, after)
        again = graph.reachable_from([graph.edges[e].target for e in graph.succ[nid]])
        if nid in again:
            fix = (
                f"keep `answer` alone at the start of `{node.step}` and move what should be "
                "repeated into a step of its own, then `goto` that step instead"
            )
        else:
            fix = "remove this `answer`: the call is already answered when it runs"
        yield Finding(
            node.span,
            "`answer` can run again after the call was answered",
            label="answered twice",
            help=fix,
            notes=notes,
        )


def _gotos_back(graph: Graph, step: str, after: set[int]) -> tuple[str, ...]:
    """"`goto main` on line 9 ...": the gotos into `step` that run once the call is answered."""
    entry = graph.steps.get(step)
    if entry is None:
        return ()
    lines = set()
    for e in graph.pred[entry]:
        edge = graph.edges[e]
        span = graph.nodes[edge.source].span
        if edge.label == "goto" and edge.source in after and span is not None:
            lines.add(span.line)
    if not lines:
        return ()
    where = ", ".join(str(line) for line in sorted(lines))
    plural = "s" if len(lines) > 1 else ""
    return (f"`goto {step}` on line{plural} {where} runs after the call was answered",)
