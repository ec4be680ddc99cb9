"""Rules about data (FL8xx): backend fetches, secrets, and counting with numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from flowlang.analysis import FETCH_FAILED
from flowlang.diagnostics import Severity
from flowlang.lint.call import after_the_hangup
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.program import MAX_FETCH_TIMEOUT_MS
from flowlang.syntax import nodes

# An environment variable's name as shells write it: letters, digits and `_`.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# An HTTP field name: a token (RFC 9110 5.1), ASCII only.
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
# What HTTP forbids in a header's value (RFC 9110 5.5): control characters other than tab.
HEADER_VALUE_CONTROL = frozenset(map(chr, [*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F]))
METHODS = ("GET", "POST")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# Telnyx's keys; a gather that may take `*` or `#` gives text that is not a number.
_DIGIT_KEYS = "0123456789"
_ALL_KEYS = "0123456789*#"
_WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*")


def _fetches(ctx: Context) -> Iterator[nodes.Fetch]:
    for stmt in ctx.of_type(nodes.Fetch):
        assert isinstance(stmt, nodes.Fetch)
        yield stmt


@rule("FL801", "fetch-without-on-error", Severity.WARNING, local=True)
def fetch_without_on_error(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a `fetch` with no `on error:` handler.

    ## Why is this bad?
    Backends fail: they time out, answer with an error page, or are down for maintenance.
    Without `on error:` the flow goes on with the answer empty, and the caller hears a
    sentence with a gap in it ("Your order is .") instead of an apology or a way out.

    ## Example
    ```
    fetch "https://api.acme.com/orders/{order}" into status
    say "Your order is {status.state}."
    ```

    ## Use instead
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        on error:
            say "Sorry, I cannot look that up right now."
            transfer "+13125550100"
    say "Your order is {status.state}."
    ```
    """
    for fetch in _fetches(ctx):
        if fetch.on_error is None:
            yield Finding(
                fetch.span,
                "this fetch has no `on error:`: if the backend fails, the flow goes on without "
                "its answer",
                label="no `on error:`",
                help="end the fetch line with `:` and add an indented `on error:` saying what "
                "the caller hears when the lookup fails",
            )


@rule("FL802", "fetch-result-after-failure", Severity.WARNING)
def fetch_result_after_failure(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a field of a fetch's answer (`status.state`) read where the fetch may have failed:
    after a fetch without `on error:`, after an `on error:` that goes on after the fetch,
    or inside `on error:` itself.

    ## Why is this bad?
    When the fetch fails its `into` variable is empty, so the field reads as nothing: the
    caller hears a gap, and a condition on it quietly goes the other way.

    ## Example
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        on error: say "Sorry, I cannot look that up right now."
    say "Your order is {status.state}."
    ```

    ## Use instead
    Leave the step when the fetch fails, so the fields are read only after an answer:
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        on error:
            say "Sorry, I cannot look that up right now."
            goto menu
    say "Your order is {status.state}."
    ```
    """
    graph = ctx.analysis.graph
    failed: dict[str, list[int]] = {}
    for n in graph.nodes:
        if n.kind == "result" and n.label == FETCH_FAILED and n.defs:
            failed.setdefault(n.defs[0], []).append(n.id)
    gone = _after_the_hangup(ctx)
    for name, sources in failed.items():
        # Another assignment of the variable (an answered fetch, a `set`) ends a failure's reach.
        stop = frozenset(
            n.id for n in graph.nodes if name in n.defs and n.label != FETCH_FAILED
        )
        starts = [e.target for s in sources for e in graph.successors(s)]
        for nid in sorted(graph.reachable_from(starts, stop)):
            if nid in stop:
                continue
            for read in graph.nodes[nid].reads:
                if read.name == name and len(read.path) > 1:
                    dotted = ".".join(read.path)
                    if any(id(graph.nodes[s].node) in gone for s in sources):
                        fix = (
                            "the caller has hung up here, so `on error:` cannot leave: this line "
                            "runs with it empty when the fetch failed (if that is fine, end the "
                            "line with `# flowlang: ignore[FL802]`)"
                        )
                    else:
                        fix = (
                            "give the fetch an `on error:` that leaves (with `goto`, `transfer` "
                            "or `hangup`), so this line runs only after an answer"
                        )
                    yield Finding(
                        read.span,
                        f"`{dotted}` is read where the fetch into `{name}` may have failed",
                        label="empty when the fetch failed",
                        help=fix,
                    )


def _after_the_hangup(ctx: Context) -> set[int]:
    """The `fetch`es that run without the call (in `on hangup:` and a recording's handlers),
    by id(): their `on error:` cannot leave with `goto`, `transfer` or `hangup`."""
    bodies = [ctx.flow.on_hangup.body] if ctx.flow.on_hangup else []
    for record in ctx.of_type(nodes.Record):
        assert isinstance(record, nodes.Record)
        bodies += [on.body for on in record.handlers]
    return {
        id(stmt)
        for body in bodies
        for stmt in after_the_hangup(body)
        if isinstance(stmt, nodes.Fetch)
    }


@rule("FL803", "send-with-get", Severity.ERROR, local=True)
def send_with_get(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds `send` lines in a `fetch` that uses GET (the default method).

    ## Why is this bad?
    A GET request carries no body, so the fields would never reach the backend.

    ## Example
    ```
    fetch "https://api.acme.com/callbacks" into booked:
        send number = caller
    ```

    ## Use instead
    ```
    fetch "https://api.acme.com/callbacks" method "POST" into booked:
        send number = caller
    ```
    """
    for fetch in _fetches(ctx):
        method = fetch.method.text.upper() if fetch.method is not None else "GET"
        if method == "GET" and fetch.sends:
            yield Finding(
                fetch.sends[0].span,
                "`send` needs a POST: this fetch uses GET, which sends no body",
                label="sent with GET",
                help='add `method "POST"` to the fetch line, or put the value in the URL: '
                '"https://.../orders/{order}"',
            )


@rule("FL808", "fetch-method", Severity.ERROR, local=True)
def fetch_method(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a `fetch`'s `method` is `"GET"` (to look something up, the default) or `"POST"`
    (to send fields with `send`). Small letters are read the same (`"post"`).

    ## Why is this bad?
    flowlang makes only these two kinds of request: with another method (`"PUT"`, `"DELETE"`)
    the backend would get a request without the body the flow means to send.

    ## Example
    ```
    fetch "https://api.acme.com/callbacks" method "PUT" into booked:
        send number = caller
    ```

    ## Use instead
    ```
    fetch "https://api.acme.com/callbacks" method "POST" into booked:
        send number = caller
    ```
    """
    for fetch in _fetches(ctx):
        if fetch.method is None or fetch.method.text.upper() in ("GET", "POST"):
            continue
        yield Finding(
            fetch.method.span,
            f'`method "{fetch.method.text}"` is not a method flowlang can send',
            label="not GET or POST",
            help='use `method "POST"` to send fields to your backend, or leave `method` out '
            "to look something up (GET)",
        )


@rule("FL809", "header-name", Severity.ERROR, local=True)
def header_name(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that the name of each `header` of a `fetch` is one HTTP allows: letters, digits
    and `-` (or one of ``!#$%&'*+.^_`|~``), written out, without spaces, accents or `{...}`.

    ## Why is this bad?
    A request with such a header cannot be sent at all: every call that reaches the `fetch`
    would run its `on error:`, and the backend would never hear from the flow.

    ## Example
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        header "Order Number" "{order}"
        on error: goto menu
    ```

    ## Use instead
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        header "Order-Number" "{order}"
        on error: goto menu
    ```
    """
    for fetch in _fetches(ctx):
        for header in fetch.headers:
            name = header.name
            if name.interpolations:
                problem = "a header's name cannot come from a variable"
            elif not HEADER_NAME.fullmatch(name.text):
                problem = f'"{name.text}" cannot be the name of a header'
            else:
                continue
            yield Finding(
                name.span,
                problem,
                label="not a header name",
                help="write the name out with letters, digits and `-` only, like "
                '`header "X-Order-Number" "{order}"`; a value may use `{...}`',
            )


@rule("FL811", "header-value", Severity.ERROR, local=True)
def header_value(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that the value written for each `header` of a `fetch` has no line break (`\\n`)
    or other control character in it.

    ## Why is this bad?
    HTTP cannot carry a header value that spans lines: the request could not be sent, so
    every call that reaches the `fetch` would run its `on error:`, and the backend would never
    hear from the flow.

    ## Example
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        header "X-Note" "Caller: {caller}\\nOrder: {order}"
        on error: goto menu
    ```

    ## Use instead
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        header "X-Note" "Caller: {caller}, Order: {order}"
        on error: goto menu
    ```
    """
    for fetch in _fetches(ctx):
        for header in fetch.headers:
            if header.secret:
                continue
            bad = next(
                (c for part in header.value.parts if isinstance(part, str)
                 for c in part if c in HEADER_VALUE_CONTROL),
                None,
            )
            if bad is None:
                continue
            what = {"\n": "a line break (\\n)", "\r": "a carriage return (\\r)"}.get(
                bad, f"the control character U+{ord(bad):04X}"
            )
            yield Finding(
                header.value.span,
                f"a header's value cannot hold {what}",
                label="not sendable in a header",
                help="keep a header's value on one line: separate parts with `, ` or `; `,"
                " or send them with `method \"POST\"` and `send NAME = ...` lines",
            )


@rule("FL804", "fetch-timeout", Severity.ERROR, local=True)
def fetch_timeout(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a `fetch` whose `timeout` is longer than 10 seconds, or zero.

    ## Why is this bad?
    The caller waits in silence while the request runs. More than 10 seconds of silence
    makes callers hang up, so flowlang never waits longer; a zero timeout always fails.

    ## Example
    ```
    fetch "https://api.acme.com/orders/{order}" into status timeout 30s:
        on error: goto menu
    ```

    ## Use instead
    ```
    fetch "https://api.acme.com/orders/{order}" into status timeout 5s:
        on error: goto menu
    ```
    """
    for fetch in _fetches(ctx):
        timeout = fetch.timeout
        if timeout is None:
            continue
        if timeout.millis > MAX_FETCH_TIMEOUT_MS or timeout.millis == 0:
            yield Finding(
                timeout.span,
                f"a fetch waits at most 10s, not {timeout.amount}{timeout.unit}"
                if timeout.millis
                else "a fetch timeout of zero always fails",
                label="timeout out of range",
                help="write a timeout from 1s to 10s (the default is 5s); the caller hears "
                "silence while the fetch runs",
            )


@rule("FL805", "secret-name", Severity.ERROR, local=True)
def secret_name(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a `header ... secret "NAME"` whose NAME is not the name of an environment variable
    (letters, digits and `_`, not starting with a digit, no `{...}`).

    ## Why is this bad?
    The secret's value is read from the environment of the server under that name. A name
    with spaces, dashes or braces cannot be set in a shell, and usually means the secret
    value itself was pasted into the flow, where everyone who reads the file can see it.

    ## Example
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        header "Authorization" secret "Bearer sk-live-1234"
        on error: goto menu
    ```

    ## Use instead
    Put the value in the environment (`export ACME_TOKEN="Bearer sk-live-1234"`) and name it:
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        header "Authorization" secret "ACME_TOKEN"
        on error: goto menu
    ```
    """
    for fetch in _fetches(ctx):
        for header in fetch.headers:
            if not header.secret:
                continue
            name = header.value
            if name.interpolations or not ENV_NAME.fullmatch(name.text):
                yield Finding(
                    name.span,
                    f'"{name.text}" is not the name of an environment variable',
                    label="not a variable name",
                    help="name the environment variable that holds the secret, like "
                    '`secret "ACME_TOKEN"` (letters, digits and `_`), and set it where '
                    "`flowlang serve` runs",
                )


@rule("FL810", "fetch-url", Severity.ERROR, local=True)
def fetch_url(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a `fetch`'s address is a web address: it starts with `https://` (or
    `http://`) and a host name, and has no spaces.

    ## Why is this bad?
    A request to anything else cannot be made: every call that reaches the `fetch` would run
    its `on error:`, and the backend would never hear from the flow.

    ## Example
    ```
    fetch "api.acme.com/order status/{order}" into status:
        on error: goto menu
    ```

    ## Use instead
    A value put in with `{...}` may hold spaces: flowlang encodes it.
    ```
    fetch "https://api.acme.com/order-status/{order}" into status:
        on error: goto menu
    ```
    """
    for fetch in _fetches(ctx):
        parts = fetch.url.parts
        first = parts[0] if parts and isinstance(parts[0], str) else ""
        written = "".join(p for p in parts if isinstance(p, str))
        scheme, sep, rest = first.partition("://")
        if not sep or scheme.lower() not in ("http", "https") or not rest.split("/")[0]:
            problem = "this address does not start with `https://` and a host name"
            fix = 'write the whole address, like `fetch "https://api.acme.com/orders/{order}"`'
        elif any(c.isspace() for c in written):
            problem = "a web address cannot hold spaces"
            fix = "remove them, or write `%20` where the backend wants a space; a value put in " \
                "with `{...}` may hold spaces: flowlang encodes it"
        else:
            continue
        yield Finding(fetch.url.span, problem, label="not a web address", help=fix)


@rule("FL806", "insecure-fetch-url", Severity.WARNING, local=True)
def insecure_fetch_url(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a `fetch` to an `http://` URL on another machine than this one (`localhost`).

    ## Why is this bad?
    Plain HTTP is readable and changeable on the way: the caller's details, the answer and
    any secret header travel in the clear.

    ## Example
    ```
    fetch "http://api.acme.com/orders/{order}" into status:
        on error: goto menu
    ```

    ## Use instead
    ```
    fetch "https://api.acme.com/orders/{order}" into status:
        on error: goto menu
    ```
    """
    for fetch in _fetches(ctx):
        first = fetch.url.parts[0] if fetch.url.parts else ""
        if not isinstance(first, str) or not first.lower().startswith("http://"):
            continue
        host = urlsplit(first).hostname or ""
        if host not in LOCAL_HOSTS:
            yield Finding(
                fetch.url.span,
                "this fetch uses plain `http://` to another machine",
                label="not encrypted",
                help="use `https://`; plain `http://` is only for a backend on this machine "
                "(`http://localhost:8080/...`)",
            )


@rule("FL807", "not-a-number", Severity.WARNING)
def not_a_number(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds `+`, `-`, `<`, `<=`, `>` and `>=` used with a value that may not be a whole number:
    text that is not digits (`"abc"`, `"{first} {last}"`), or the keys of a gather that
    accepts `*` or `#`. `now.time` and `now.date` are text that compares like the clock: with
    them, it finds a time or date not written their way (`"9:00"` for `"09:00"`).

    ## Why is this bad?
    `+` and `-` count a value that is not a whole number as 0, and `<`, `>`... between a
    number and such a value are false: the flow goes on, but not the way it was meant to.
    Text is not joined with `+`.

    ## Example
    ```
    gather digits 1..3 into count:
        say "How many tickets?"
        on digits:
            if count > 4:
                say "At most four, please."
    ```

    ## Use instead
    ```
    gather digits 1..3 into count valid "0123456789":
        say "How many tickets?"
        on digits:
            if count > 4:
                say "At most four, please."
    ```
    To join text, put the values in one string: `"{first} {last}"`.
    """
    risky = _keys_variables(ctx)
    for n in ctx.analysis.graph.nodes:
        if n.kind not in ("stmt", "test") or n.node is None:
            continue
        for expr in _expressions(n.node, n.kind):
            yield from _numbers_in(expr, risky)


def _keys_variables(ctx: Context) -> dict[str, nodes.Gather]:
    """Variables holding the keys of a gather that may take `*` or `#` (and `digits`)."""
    found: dict[str, nodes.Gather] = {}
    for stmt in ctx.of_type(nodes.Gather):
        assert isinstance(stmt, nodes.Gather)
        if set(_accepted_keys(stmt)) & set("*#"):
            found.setdefault("digits", stmt)
            if stmt.into is not None:
                found.setdefault(stmt.into.value, stmt)
    return found


def _accepted_keys(g: nodes.Gather) -> str:
    terminator = "#"
    if isinstance(g.terminator, nodes.NoKey):
        terminator = ""  # `terminator none`: `#` is a key like any other
    elif g.terminator is not None:
        terminator = g.terminator.text
    if g.valid is not None:
        keys = g.valid.text
    else:
        values = [v for on in g.handlers if on.event == "digits" for v in on.values]
        catch_all = any(on.event == "digits" and not on.values for on in g.handlers)
        literal = values and not catch_all and not any(v.interpolations for v in values)
        keys = "".join(v.text for v in values) if literal else _ALL_KEYS
    return "".join(k for k in keys if k != terminator)


def _expressions(node: nodes.Node, kind: str) -> Iterator[nodes.Node]:
    if kind == "test" and isinstance(node, nodes.Elif):
        yield node.cond
    elif isinstance(node, nodes.If):
        yield node.cond
    elif isinstance(node, nodes.Set):
        yield node.value
    elif isinstance(node, nodes.Fetch):
        for send in node.sends:
            yield send.value


_ORDER = ("<", "<=", ">", ">=")


def _numbers_in(expr: nodes.Node, risky: dict[str, nodes.Gather]) -> Iterator[Finding]:
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, nodes.Not):
            stack.append(e.operand)
        elif isinstance(e, nodes.ListExpr):
            stack.extend(e.items)
        elif isinstance(e, nodes.BinOp):
            stack += (e.right, e.left)
            if e.op in ("+", "-") or e.op in _ORDER:
                yield from _check_sides(e, risky)


# `now.time` and `now.date` are text that sorts like the clock ("09:05" < "14:00"), so they
# compare with a time or a date written the same way.
_CLOCK_TEXT: dict[tuple[str, ...], tuple[re.Pattern[str], str]] = {
    ("now", "time"): (re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"), '"09:00"'),
    ("now", "date"): (re.compile(r"[0-9]{4}-[01][0-9]-[0-3][0-9]"), '"2026-12-24"'),
}


def _check_sides(e: nodes.BinOp, risky: dict[str, nodes.Gather]) -> Iterator[Finding]:
    sides = (e.left, e.right)
    if e.op in _ORDER and all(isinstance(s, nodes.Str) for s in sides):
        return  # two pieces of text compare as text
    if e.op in _ORDER:
        clock = next((s for s in sides if isinstance(s, nodes.Var) and s.path in _CLOCK_TEXT), None)
        other = e.right if clock is e.left else e.left
        if isinstance(clock, nodes.Var) and isinstance(other, nodes.Str):
            shape, example = _CLOCK_TEXT[clock.path]
            if other.interpolations or not shape.fullmatch(other.text):
                what = "time" if clock.path[1] == "time" else "date"
                yield Finding(
                    other.span,
                    f"`{clock.dotted}` is compared as text, so the {what} must be written "
                    "the same way",
                    label=f"not written like `{clock.dotted}`",
                    help=f"write it like {example} (two digits each, 24-hour clock for a time)",
                )
            return
    for side in sides:
        if isinstance(side, nodes.Str) and (side.interpolations or not _WHOLE.fullmatch(side.text)):
            joining = e.op == "+"
            yield Finding(
                side.span,
                f"`{e.op}` with text that is not a whole number"
                + (": `+` adds numbers, it does not join text" if joining else ""),
                label="not a number",
                help='to join text, put the values in one string, like `"{first} {last}"`'
                if joining
                else "compare with a number, like `count > 4`, or with `==` for text",
            )
        elif isinstance(side, nodes.Var) and len(side.path) == 1 and side.path[0] in risky:
            name = side.path[0]
            gather = risky[name]
            where = f" at line {gather.span.line}" if gather.span is not None else ""
            advice = f'give the gather{where} `valid "0123456789"` so that only digits are accepted'
            notes: tuple[str, ...] = ()
            if name == "digits":
                # `digits` is the keys of whichever gather ran last, which may not be the one
                # that takes `*`: name that one, and the way to read the keys of another.
                advice += (
                    "; if it is not the gather you mean, keep yours with `into NAME` and compare "
                    "NAME"
                )
                notes = ("`digits` holds the keys of whichever gather ran last",)
            yield Finding(
                side.span,
                f"`{name}` may hold `*` or `#`, which is not a number, so `{e.op}` "
                "treats it as "
                + ("0" if e.op in ("+", "-") else "never smaller or larger"),
                label="keys, maybe not digits",
                help=advice,
                notes=notes,
            )
