"""Rules about variables (FL5xx): reading one that no path, or not every path, has assigned."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from flowlang.analysis import BUILTIN_VARIABLES, Read
from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule


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
