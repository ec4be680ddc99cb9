"""Rules about variables (FL5xx): reading one that no path, or not every path, has assigned,
or a field of a value that has none."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from flowlang.analysis import BUILTIN_VARIABLES, Node, Read
from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.runtime.events import RECORDING_FIELDS, LocalTime
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
    through the flow has assigned them yet. Variables are assigned by `set` and by the `into`
    of a `gather`, `ai_gather`, `fetch` or `record`; `caller`, `called`, `digits`,
    `language` and `now` always exist.

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
                else f"assign it first: `set {r.name} = ...`, or `into {r.name}` on the gather,"
                " fetch or record that gets it"
            )
            if not close and len(r.path) == 1 and not _inside_text(ctx, r):
                # `set greeting = Hello`, `if answer == yes`: a word meant as text.
                fix += f'; or, if you meant the word itself, put it in quotes: `"{r.name}"`'
            message = f"variable `{r.name}` is never assigned"
        else:
            fix = f"assign `{r.name}` before this point on the way here"
            message = f"variable `{r.name}` is not assigned on any path that reaches here"
        yield Finding(r.span, message, label="never assigned here", help=fix)


def _inside_text(ctx: Context, read: Read) -> bool:
    """Whether `read` is a `{name}` inside a string rather than a bare name."""
    span = read.span
    if span is None or span.line > len(ctx.source.lines) or span.column < 2:
        return False
    return ctx.source.line(span.line)[span.column - 2 : span.column - 1] == "{"


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


# The built-in variables that hold text (`now` has fields of its own: FL828).
_TEXT_BUILTINS = frozenset({"caller", "called", "digits", "language"})


def _held(ctx: Context) -> dict[str, str]:
    """For each variable whose every value is known from the flow: `text` (a gather's entry,
    text, a number, a yes/no), `recording` (a `record`'s into) or `record` (a fetch's or an
    ai_gather's into: a record, or empty), also through copies (`set v = pin`). Variables that
    may hold values of two kinds, or an input (or a copy of one) are left out."""
    kinds: dict[str, set[str]] = {name: {"text"} for name in _TEXT_BUILTINS}
    copies: dict[str, set[str]] = {}
    for n in ctx.analysis.graph.nodes:
        if n.kind == "returned":
            continue  # a `call`'s summary repeats the assignments of the step it runs
        for name in n.defs:
            copied = _copied(n)
            if copied is not None:
                copies.setdefault(name, set()).add(copied)
                kinds.setdefault(name, set())
            else:
                kinds.setdefault(name, set()).add(_kind_of(n))
    # A copy holds what its source may hold: spread the kinds until nothing changes (a
    # variable copied from one nobody assigns, an input or `now`, may hold anything).
    changed = True
    while changed:
        changed = False
        for name, sources in copies.items():
            for source in sources:
                more = kinds.get(source, {"?"}) - kinds[name]
                if more:
                    kinds[name] |= more
                    changed = True
    return {name: kind for name, (kind, *more) in
            ((name, sorted(found)) for name, found in kinds.items() if found)
            if not more and kind != "?"}


def _copied(n: Node) -> str | None:
    """The variable `n` copies (`set v = pin`: `pin`), None when it is not such a copy."""
    if isinstance(n.node, nodes.Set) and n.kind != "result":
        value = n.node.value
        if isinstance(value, nodes.Var) and len(value.path) == 1:
            return value.path[0]
    return None


def _kind_of(n: Node) -> str:
    if n.kind == "result" and isinstance(n.node, nodes.Gather):
        return "text"
    if n.kind == "result" and isinstance(n.node, nodes.Record):
        return "recording"
    if n.kind == "result" and isinstance(n.node, (nodes.Fetch, nodes.AiGather)):
        return "record"
    if isinstance(n.node, nodes.Set):
        value = n.node.value
        if isinstance(value, (nodes.Str, nodes.Int, nodes.Bool, nodes.Not, nodes.BinOp,
                              nodes.OpenTest)):
            return "text"
    return "?"


@rule("FL503", "field-of-plain-value", Severity.ERROR)
def field_of_plain_value(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a field is only read (`{name.field}`, or `name.field` in a condition) from a
    value that has fields: a backend's answer (`fetch ... into`), an AI agent's answers
    (`ai_gather ... into`, checked by FL604) or a recording (`record into message`: only
    `message.url` and `message.duration`). What a caller typed, `caller`, `called`, and
    values written in the flow (`set x = "..."`, a number, a condition) are plain values.

    ## Why is this bad?
    A plain value has no fields, so `{digits.count}` or `{caller.area}` is always empty: the
    caller hears a gap in the sentence, and a condition on it never holds.

    ## Example
    ```
    gather digits 4 into pin:
        say "Enter your PIN."
        on digits: say "You entered {pin.digits}."
    ```

    ## Use instead
    ```
    gather digits 4 into pin:
        say "Enter your PIN."
        on digits: say "You entered {pin as digits}."
    ```
    """
    held = _held(ctx)
    for n in ctx.analysis.graph.nodes:
        for r in n.reads:
            kind = held.get(r.name)
            plain, field_ = r.name, r.path[1] if len(r.path) > 1 else ""
            if r.name == "now" and len(r.path) > 2 and r.path[1] in LocalTime.FIELDS:
                # `now.date.year`: the fields of `now` are plain (FL828 checks the field).
                kind, plain, field_ = "text", f"now.{r.path[1]}", r.path[2]
            if not field_ or kind in (None, "record"):
                continue
            if kind == "recording":
                if field_ in RECORDING_FIELDS:
                    continue
                close = difflib.get_close_matches(field_, list(RECORDING_FIELDS), n=1, cutoff=0.5)
                fix = f"did you mean `{r.name}.{close[0]}`? " if close else ""
                yield Finding(
                    r.span,
                    f"`{r.name}` is a recording, which has no field `{field_}`",
                    label="not a field of a recording",
                    help=f"{fix}a recording has `{r.name}.url` (the mp3) and"
                    f" `{r.name}.duration` (whole seconds)",
                )
                continue
            yield Finding(
                r.span,
                f"`{plain}` holds a plain value, which has no field `{field_}`",
                label="always empty",
                help=f"write `{plain}` for the value itself (in text `{{{plain}}}`, or"
                f" `{{{plain} as digits}}` to say it key by key); only a fetch's, an"
                " ai_gather's or a record's `into` has fields",
            )


@rule("FL504", "record-in-speech", Severity.WARNING)
def record_in_speech(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a whole record put into spoken text (a `say`, a prompt, a reprompt or a greeting):
    `{status}` where `status` is the answer of a `fetch`, the answers of an `ai_gather` or a
    recording, rather than one of its fields.

    ## Why is this bad?
    A record cannot be said in a way a caller could follow: it is read out as written, with its
    brackets, quotes and field names (`{"state": "shipped", "eta": "2026-12-03"}`). A list of
    plain values is fine (`A1, B2 and C3`), but a record is not.

    ## Example
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        on error: goto agent
    say "Your order is {status}."
    ```

    ## Use instead
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        on error: goto agent
    say "Your order is {status.state}."
    ```
    """
    held = _held(ctx)
    records = {name for name, kind in held.items() if kind == "record"}
    if not records:
        return
    read: dict[str, str] | None = None
    for text in _heard_texts(ctx):
        for part in text.interpolations:
            if len(part.path) != 1 or part.path[0] not in records:
                continue
            if read is None:
                read = _a_field_of_each(ctx)
            name = part.dotted
            yield Finding(
                part.span,
                f"`{{{part.written}}}` is a whole record (a fetch's or an ai_gather's"
                " answer): the caller hears it read out with its brackets and quotes",
                label="a record in speech",
                help=f"say one of its fields, like `{{{name}.{read.get(name, 'state')}}}`",
            )


def _a_field_of_each(ctx: Context) -> dict[str, str]:
    """A field of each variable to name in a help: an ai_gather's first, else one the flow
    reads."""
    read = {
        n.into.value: n.fields[0].name.value
        for n in ctx.of_type(nodes.AiGather)
        if isinstance(n, nodes.AiGather) and n.into is not None and n.fields
    }
    for _, r in _reads(ctx):
        if len(r.path) > 1:
            read.setdefault(r.name, r.path[1])
    return read


def _heard_texts(ctx: Context) -> Iterator[nodes.Str]:
    """Every text the caller hears: `say` lines (prompts too), reprompts and AI greetings.
    (From the statements the context keeps: walking the whole tree on every edit in the editor
    cost more than all the other rules together.)"""
    for stmt in ctx.statements():
        if isinstance(stmt, nodes.Say):
            yield stmt.text
        elif isinstance(stmt, nodes.Gather):
            yield from (p.text for p in stmt.prompt if isinstance(p, nodes.Say))
            yield from (r.text for r in stmt.reprompts)
        elif isinstance(stmt, nodes.AiGather | nodes.Assistant) and stmt.greeting is not None:
            yield stmt.greeting
