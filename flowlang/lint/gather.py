"""Rules about `gather` (FL3xx): its options against Telnyx's limits, its branches and handlers."""

from __future__ import annotations

from collections.abc import Iterator

from attrs import frozen

from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.lint.telnyx_data import DIGITS_MAX, DIGITS_MIN, MILLIS_MAX
from flowlang.source import Span
from flowlang.syntax import nodes

DTMF_KEYS = "0123456789*#"
DEFAULT_TERMINATOR = "#"
# Telnyx error 90026: `inter_digit_timeout_millis` must be from 1 to 120000.
INTER_DIGIT_MAX_MILLIS = 120_000


def gathers(ctx: Context) -> Iterator[nodes.Gather]:
    for stmt in ctx.of_type(nodes.Gather):
        assert isinstance(stmt, nodes.Gather)
        yield stmt


def literal(value: nodes.Str) -> str | None:
    """The text of a string with no `{...}` in it, None for an interpolated one."""
    return None if value.interpolations else value.text


def terminator_key(gather: nodes.Gather) -> str | None:
    """The key that ends the entry: `#` by default, "" for `terminator none`, None when unknown."""
    if gather.terminator is None:
        return DEFAULT_TERMINATOR
    if isinstance(gather.terminator, nodes.NoKey):
        return ""
    return literal(gather.terminator)


@frozen
class Branch:
    """One value of an `on digits "X", ...` handler."""

    value: str
    str_node: nodes.Str
    handler: nodes.On


def branches(gather: nodes.Gather) -> list[Branch]:
    out: list[Branch] = []
    for on in gather.handlers:
        if on.event != "digits":
            continue
        for v in on.values:
            text = literal(v)
            if text is not None:
                out.append(Branch(text, v, on))
    return out


def has_catch_all(gather: nodes.Gather) -> bool:
    return any(on.event == "digits" and not on.values for on in gather.handlers)


def digit_bounds(gather: nodes.Gather) -> tuple[int, int] | None:
    """The `digits` option as (low, high); None when it is left out."""
    d = gather.digits
    if d is None:
        return None
    if isinstance(d, nodes.Int):
        return d.value, d.value
    return d.low.value, d.high.value


@rule("FL301", "unmatchable-branch", Severity.ERROR, local=True)
def unmatchable_branch(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds `on digits "X"` branches that no caller can ever trigger: the value is shorter or
    longer than the gather's `digits`, uses a key outside its `valid` keys (or one that is not
    a phone key at all), or contains the terminator key (`#` unless `terminator` says otherwise).

    ## Why is this bad?
    Telnyx stops collecting at the terminator and refuses entries of the wrong length or with
    other keys, so the branch never runs and the caller lands in `on invalid` instead. The
    author meant something no caller can reach, so this is an error.

    ## Example
    ```
    gather digits 1:
        say "Press 1 for sales or 10 for support."
        on digits "1": goto sales
        on digits "10": goto support
    ```

    ## Use instead
    ```
    gather digits 1..2:
        say "Press 1 for sales or 10 for support."
        on digits "1": goto sales
        on digits "10": goto support
    ```
    """
    for gather in gathers(ctx):
        bounds = digit_bounds(gather)
        valid = literal(gather.valid) if gather.valid is not None else None
        terminator = terminator_key(gather)
        for b in branches(gather):
            problem = fix = None
            foreign = sorted({k for k in b.value if k not in DTMF_KEYS})
            if not b.value:
                problem, fix = "is empty", "give the keys the caller presses, like \"1\""
            elif foreign:
                keys = ", ".join(f"`{k}`" for k in foreign)
                problem = f"has {keys}, which is not a key on a phone"
                fix = "use only the keys 0-9, * and #"
            elif terminator and terminator in b.value:
                problem = f"contains the terminator key `{terminator}`, which ends the entry"
                fix = (
                    f"drop `{terminator}` from the value, choose another key with "
                    '`terminator "K"`, or write `terminator none` to make it an ordinary key'
                )
            elif valid is not None and any(k not in valid for k in b.value):
                bad = "".join(sorted({k for k in b.value if k not in valid}))
                problem = f'uses `{bad}`, which is not in `valid "{valid}"`'
                fix = f"add `{bad}` to `valid`, or change the branch"
            elif bounds is not None and not bounds[0] <= len(b.value) <= bounds[1]:
                low, high = bounds
                want = f"{low}" if low == high else f"{low} to {high}"
                problem = f"has {len(b.value)} keys but this gather takes {want}"
                fix = "change `digits` so this length fits, or change the branch"
            if problem is not None:
                yield Finding(
                    b.str_node.span or b.handler.span,
                    f'branch "{b.value}" can never match: it {problem}',
                    label="never matches",
                    help=fix,
                )


@rule("FL302", "duplicate-branch", Severity.WARNING, local=True)
def duplicate_branch(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds a value that two `on digits` branches of one gather both take.

    ## Why is this bad?
    The first matching branch wins, so the second one never runs for that value.

    ## Example
    ```
    gather:
        say "Press 1 for sales, 2 for support."
        on digits "1": goto sales
        on digits "2", "1": goto support
    ```

    ## Use instead
    ```
    gather:
        say "Press 1 for sales, 2 for support."
        on digits "1": goto sales
        on digits "2": goto support
    ```
    """
    for gather in gathers(ctx):
        seen: dict[str, Branch] = {}
        for b in branches(gather):
            if b.value in seen:
                first = seen[b.value].str_node.span
                where = f" (first on line {first.line})" if first is not None else ""
                yield Finding(
                    b.str_node.span or b.handler.span,
                    f'"{b.value}" is already taken by an earlier branch{where}',
                    label="never matches here",
                    help="remove this value, or merge the two branches",
                )
            else:
                seen[b.value] = b


@rule("FL303", "digits-range", Severity.ERROR, local=True)
def digits_range(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks a gather's `digits N` or `digits N..M`: at least 1, at most 128 (Telnyx's limits),
    and the low bound not above the high one.

    ## Why is this bad?
    Telnyx rejects a gather with bounds outside 1..128, and no entry can satisfy a minimum
    above the maximum.

    ## Example
    ```
    gather digits 6..4:
        say "Enter your account number."
    ```

    ## Use instead
    ```
    gather digits 4..6:
        say "Enter your account number."
    ```
    """
    for gather in gathers(ctx):
        bounds = digit_bounds(gather)
        if bounds is None:
            continue
        low, high = bounds
        span = gather.digits.span if gather.digits is not None else gather.span
        if low > high:
            yield Finding(
                span,
                f"`digits {low}..{high}`: the minimum is above the maximum",
                label="no entry fits",
                help=f"write it smallest first: `digits {high}..{low}`",
            )
        for value in sorted({low, high}):
            if not DIGITS_MIN <= value <= DIGITS_MAX:
                yield Finding(
                    span,
                    f"`digits` {value} is outside {DIGITS_MIN}..{DIGITS_MAX}",
                    label="Telnyx refuses this",
                    help=f"a gather takes from {DIGITS_MIN} to {DIGITS_MAX} keys",
                )


def _non_phone_keys(gather: nodes.Gather) -> Iterator[Finding]:
    """`terminator` that is not exactly one phone key; `valid` with anything but phone keys."""
    # The keys are sent as written: a `{...}` in them would reach Telnyx as braces.
    for option, value in (("terminator", gather.terminator), ("valid", gather.valid)):
        if isinstance(value, nodes.Str) and value.interpolations:
            yield Finding(
                value.span or gather.span,
                f"`{option}` is sent as written: a `{{...}}` in it is not filled in",
                label="not phone keys",
                help='write the keys out, like `terminator "#"` or `valid "123"`',
            )
    if isinstance(gather.terminator, nodes.Str):
        text = literal(gather.terminator)
        if text is not None and not (len(text) == 1 and text in DTMF_KEYS):
            yield Finding(
                gather.terminator.span or gather.span,
                f'`terminator "{text}"` is not a single phone key',
                label="not one key",
                help='use one of 0-9, * or #, like `terminator "#"`, or `terminator none` '
                "for no terminator key",
            )
    if gather.valid is not None:
        text = literal(gather.valid)
        if text is None:
            return
        foreign = sorted({k for k in text if k not in DTMF_KEYS})
        if not text or foreign:
            keys = ", ".join(f"`{k}`" for k in foreign)
            which = "which is not a phone key" if len(foreign) == 1 else "which are not phone keys"
            what = "is empty" if not text else f"has {keys}, {which}"
            yield Finding(
                gather.valid.span or gather.span,
                f'`valid "{text}"` {what}',
                label="not phone keys",
                help='list the keys the caller may press, from 0-9, * and #, like `valid "123"`',
            )


@rule("FL304", "terminator-is-valid-key", Severity.ERROR, local=True)
def terminator_is_valid_key(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks a gather's keys: `terminator` names exactly one phone key (`0` to `9`, `*` or `#`)
    or is `terminator none`, `valid` lists only phone keys, and the terminator key (`#` unless
    `terminator` names another, or none) is not also one of the `valid` keys. Both are written
    out: they are sent as written, so a variable (`{...}`) in them is refused.

    ## Why is this bad?
    A caller can only press phone keys: a terminator or valid key that is not one can never be
    pressed, and Telnyx refuses it. A terminator that is also valid always ends the entry, so
    it can never be part of an answer: the flow says one thing and the phone does another.

    ## Example
    ```
    gather terminator "*" valid "0123456789*":
        say "Enter your code, then press star."
    ```

    ## Use instead
    ```
    gather terminator "*" valid "0123456789":
        say "Enter your code, then press star."
    ```
    """
    for gather in gathers(ctx):
        yield from _non_phone_keys(gather)
        if gather.valid is None:
            continue
        valid = literal(gather.valid)
        terminator = terminator_key(gather)
        if valid is None or not terminator or terminator not in valid:
            continue
        which = "" if gather.terminator is not None else " (the default terminator)"
        yield Finding(
            gather.valid.span or gather.span,
            f"`{terminator}`{which} ends the entry, so it cannot also be a valid key",
            label="contains the terminator",
            help=f'remove `{terminator}` from `valid`, pick another key with `terminator "K"`, '
            "or write `terminator none`",
        )


@rule(
    "FL305", "initial-timeout-with-prompt", Severity.ERROR, local=True
)
def initial_timeout_with_prompt(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Flags `initial_timeout` on a gather that has a prompt (`say` or `play` lines).

    ## Why is this bad?
    Only Telnyx's plain `gather` command (no prompt) has an initial timeout; a gather with a
    prompt is sent as `gather_using_speak` or `gather_using_audio`, which have none, so the
    option would silently do nothing.

    ## Example
    ```
    gather initial_timeout 3s:
        say "Enter your PIN."
    ```

    ## Use instead
    ```
    gather timeout 3s:
        say "Enter your PIN."
    ```
    """
    for gather in gathers(ctx):
        if gather.initial_timeout is not None and gather.prompt:
            yield Finding(
                gather.initial_timeout.span or gather.span,
                "`initial_timeout` has no effect on a gather with a prompt",
                label="ignored",
                help="use `timeout` (counted from the end of the prompt) instead",
            )


@rule("FL306", "tries-below-one", Severity.ERROR, local=True)
def tries_below_one(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a gather's `tries` is at least 1.

    ## Why is this bad?
    With no try the caller is never asked anything.

    ## Example
    ```
    gather tries 0:
        say "Press 1."
    ```

    ## Use instead
    ```
    gather tries 1:
        say "Press 1."
    ```
    """
    for gather in gathers(ctx):
        if gather.tries is not None and gather.tries.value < 1:
            yield Finding(
                gather.tries.span or gather.span,
                f"`tries {gather.tries.value}`: a gather needs at least one try",
                label="never asks",
                help="use `tries 1` or more (3 when left out)",
            )


def _timeouts(ctx: Context) -> Iterator[tuple[str, nodes.Duration, int, str, nodes.Node]]:
    # In the order the statements are written (whether shown the whole flow or one step).
    for stmt in ctx.of_type(nodes.Gather, nodes.AiGather):
        if isinstance(stmt, nodes.AiGather):
            if stmt.timeout is not None:
                yield "timeout", stmt.timeout, MILLIS_MAX, "ai_gather", stmt
            continue
        assert isinstance(stmt, nodes.Gather)
        for name, limit in (
            ("timeout", MILLIS_MAX),
            ("inter_digit_timeout", INTER_DIGIT_MAX_MILLIS),
            ("initial_timeout", MILLIS_MAX),
        ):
            value = getattr(stmt, name)
            if value is not None:
                yield name, value, limit, "gather", stmt


def _shown(millis: int) -> str:
    if millis >= 86_400_000:
        return f"about {millis // 86_400_000} days"
    if millis % 60_000 == 0:
        return f"{millis // 60_000}m"
    if millis % 1000 == 0:
        return f"{millis // 1000}s"
    return f"{millis}ms"


@rule("FL307", "timeout-range", Severity.ERROR, local=True)
def timeout_range(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks gather and ai_gather timeouts against what Telnyx accepts: every timeout must be
    above zero, `inter_digit_timeout` at most 2 minutes, and the others at most about 24 days
    (the largest number of milliseconds Telnyx's fields can hold).

    ## Why is this bad?
    Telnyx rejects the whole command when a timeout is out of range, and the caller hears
    nothing.

    ## Example
    ```
    gather inter_digit_timeout 5m:
        say "Enter your account number."
    ```

    ## Use instead
    ```
    gather inter_digit_timeout 10s:
        say "Enter your account number."
    ```
    """
    for name, value, limit, block, owner in _timeouts(ctx):
        if 1 <= value.millis <= limit:
            continue
        yield Finding(
            value.span or owner.span,
            f"{block} `{name}` {value.amount}{value.unit} is outside what Telnyx accepts "
            f"(1ms to {_shown(limit)})",
            label="Telnyx refuses this",
            help=f"set `{name}` above zero and at most {_shown(limit)}",
        )


@rule("FL308", "missing-fallback", Severity.WARNING, local=True)
def missing_fallback(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Warns when a gather has handlers but no `on timeout:` or no `on invalid:`.

    ## Why is this bad?
    When every try times out or is invalid and there is no handler for it, the flow
    silently continues after the gather, as if the caller had chosen something. Say what
    happens instead.

    ## Example
    ```
    gather:
        say "Press 1 for sales."
        on digits "1": goto sales
    say "Goodbye."
    ```

    ## Use instead
    ```
    gather:
        say "Press 1 for sales."
        on digits "1": goto sales
        on invalid: say "That is not an option."
        on timeout: say "We did not hear anything."
    say "Goodbye."
    ```
    """
    for gather in gathers(ctx):
        if not gather.handlers:
            continue
        events = {on.event for on in gather.handlers}
        missing = [e for e in ("timeout", "invalid") if e not in events]
        if not missing:
            continue
        what = " and ".join(f"`on {e}:`" for e in missing)
        yield Finding(
            _header(gather),
            f"this gather has no {what}: after the last failed try the flow just goes on",
            label="no fallback",
            help=f"add {what} to say what happens then",
        )


def _header(stmt: nodes.Node) -> Span | None:
    """The `gather` keyword of a gather: a short span, not the whole block."""
    span = stmt.span
    if span is None:
        return None
    return Span.point(span.line, span.column, len("gather"))


@rule("FL309", "gather-without-handlers", Severity.WARNING, local=True)
def gather_without_handlers(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Warns about a gather that has no `on` handlers at all.

    ## Why is this bad?
    An entry is taken only by an `on digits` handler: without one, whatever the caller
    presses counts as invalid, and they are asked again until the tries run out. Then the flow
    goes on the same way whatever happened, so the answer was collected for nothing.

    ## Example
    ```
    gather digits 4 into pin:
        say "Enter your PIN."
    ```

    ## Use instead
    ```
    gather digits 4 into pin:
        say "Enter your PIN."
        on digits: goto check_pin
        on timeout: hangup
    ```
    """
    for gather in gathers(ctx):
        if not gather.handlers:
            yield Finding(
                _header(gather),
                "this gather has no handlers: every entry counts as invalid and is asked again",
                label="no handlers",
                help=_take_any_entry(gather) + ", and `on timeout:` / `on invalid:`",
            )


@rule("FL310", "gather-without-digits", Severity.WARNING, local=True)
def gather_without_digits(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Warns about a gather whose handlers include no `on digits`: only `on invalid:` or
    `on timeout:`.

    ## Why is this bad?
    An entry is taken only by an `on digits` handler (LANGUAGE.md 3: no match and no
    catch-all counts as invalid). Without one, a caller who types their PIN correctly is told
    it is wrong, asked again until the tries run out, and sent to `on invalid:`.

    ## Example
    ```
    gather digits 4 into pin:
        say "Enter your PIN."
        on timeout: hangup
    ```

    ## Use instead
    ```
    gather digits 4 into pin:
        say "Enter your PIN."
        on digits: goto check_pin
        on timeout: hangup
    ```
    """
    for gather in gathers(ctx):
        if gather.handlers and not any(on.event == "digits" for on in gather.handlers):
            yield Finding(
                _header(gather),
                "this gather has no `on digits` handler: every entry counts as invalid",
                label="takes no entry",
                help=_take_any_entry(gather),
            )


def _take_any_entry(gather: nodes.Gather) -> str:
    """The help that says how a gather takes an entry."""
    into = f" (it goes into `{gather.into.value}`)" if gather.into is not None else ""
    return f"add `on digits:` to take any entry{into}, or `on digits \"1\":` branches"


@rule("FL311", "try-again-outside-digits", Severity.ERROR)
def try_again_outside_digits(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds `try again` anywhere but inside a gather's `on digits` handler (directly, or in an
    `if` or another block within it).

    ## Why is this bad?
    `try again` refuses the entry a gather's `on digits` handler took, and has that gather ask
    again. Anywhere else there is no entry to refuse: in `on invalid:` or `on timeout:` the
    tries are already used up, and a step reached with `goto` or `call` is not part of the
    handler.

    ## Example
    ```
    gather digits 4 into pin:
        say "Enter your PIN."
        on digits: goto check_pin
        on invalid: try again
    ```

    ## Use instead
    ```
    gather digits 4 into pin:
        say "Enter your PIN."
        reprompt invalid "That PIN is not right."
        on digits:
            if pin != "4321":
                try again
            goto account
        on invalid: hangup
    ```
    """
    places: list[tuple[nodes.Node, str | None]] = [(step, None) for step in ctx.flow.steps]
    if ctx.flow.on_hangup is not None:
        places.append((ctx.flow.on_hangup, None))
    while places:
        node, handler = places.pop()
        if isinstance(node, nodes.TryAgain) and handler != "digits":
            where = {
                None: "outside any gather",
                "invalid": "in `on invalid:`, where the tries are used up",
                "timeout": "in `on timeout:`, where the tries are used up",
            }.get(handler, f"in `on {handler}:`")
            yield Finding(
                node.span,
                f"`try again` {where}: it only refuses the entry of a gather's `on digits`",
                label="no entry to refuse here",
                help="put `try again` inside the `on digits` handler of the gather that "
                "should ask again (in an `if` that finds the entry wrong)",
            )
        for child in node.children():
            inner = handler
            if isinstance(node, nodes.Gather) and isinstance(child, nodes.On):
                inner = child.event
            places.append((child, inner))
