"""Rules about recordings, transfers, texts, queues, numbers and calling out (FL84x)."""

from __future__ import annotations

from collections.abc import Iterator

from flowlang.diagnostics import Severity
from flowlang.lint.call import STATEMENT_NAMES, touching_the_call
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.syntax import nodes

KEYS = "0123456789*#"
# Telnyx's `record_start` `max_length` is at most 14,400 seconds (4 hours).
RECORD_MAX_SECS = 14_400
# What may stand in a recording's handlers, which may run after the caller hung up
# (LANGUAGE.md 14): what `on hangup:` allows, and `fetch`, which the run waits for there.


@rule("FL840", "call-after-recording", Severity.ERROR, local=True)
def call_after_recording(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that a `record`'s `on saved:` and `on error:` handlers only use statements that do
    not touch the call: `set`, `log`, `if`, `sms` and `fetch` (whose own `on error:` follows
    the same rule).

    ## Why is this bad?
    Most callers end a voicemail by hanging up. The recording arrives after that, so the
    handler runs when there is no call left to speak to, gather from or transfer, and a `goto`
    would lead into statements that need the call. A `fetch` is fine: it talks to your
    backend, not to the caller, so it can post the recording there.

    ## Example
    ```
    record into voicemail:
        on saved: say "Thanks, we got your message."
    ```

    ## Use instead
    ```
    record into voicemail:
        on saved:
            sms "+13125550100" "New voicemail: {voicemail.url}"
            fetch "https://api.example.com/voicemails" method "POST":
                send url = voicemail.url
                on error: log "the backend did not take the voicemail"
    say "Thanks, we got your message."
    ```
    """
    for stmt in ctx.of_type(nodes.Record):
        assert isinstance(stmt, nodes.Record)
        for on in stmt.handlers:
            for inner in touching_the_call(on.body):
                name = STATEMENT_NAMES.get(type(inner), type(inner).__name__.lower())
                yield Finding(
                    inner.span,
                    f"`{name}` cannot run in `on {on.event}:`: the caller may have hung up",
                    label="the call may be over here",
                    help="only `set`, `log`, `if`, `sms` and `fetch` may be used here; put what "
                    "needs the call after the `record` block",
                )


@rule("FL842", "record-options", Severity.ERROR, local=True)
def record_options(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks a `record`'s options: `end_key` is one key (`0`-`9`, `*` or `#`), `max` is at most
    4 hours, and `max` and `silence` are whole seconds, at least one.

    ## Why is this bad?
    Telnyx counts a recording's length and its silence in whole seconds (`0s` would be sent
    as one second) and refuses a recording longer than 4 hours; a caller cannot press an end
    key that is not one key.

    ## Example
    ```
    record max 5h end_key "##"
    ```

    ## Use instead
    ```
    record max 2m end_key "#"
    ```
    """
    for stmt in ctx.of_type(nodes.Record):
        assert isinstance(stmt, nodes.Record)
        key = stmt.end_key
        if key is not None and (len(key.text) != 1 or key.text not in KEYS):
            yield Finding(
                key.span,
                f'end_key "{key.text}" is not one key',
                label="not a key",
                help='use one key of the phone: 0-9, * or #, like end_key "#"',
            )
        for name, duration in (("max", stmt.max), ("silence", stmt.silence)):
            if duration is None:
                continue
            if duration.millis == 0:
                # Compiled, it would be rounded up to 1 s: a one-second recording, or one that
                # stops at the first second of silence, instead of what was written.
                yield Finding(
                    duration.span,
                    f"record {name} {duration.amount}{duration.unit} is no time at all",
                    label="Telnyx counts this in whole seconds, at least 1",
                    help=f"give at least `1s`, or leave `{name}` out for "
                    + ("no limit" if name == "max" else "Telnyx's default"),
                )
            elif duration.millis % 1000:
                yield Finding(
                    duration.span,
                    f"record {name} {duration.amount}{duration.unit} is not a whole number of "
                    "seconds",
                    label="Telnyx counts this in seconds",
                    help="write it in whole seconds, like `5s`",
                )
            elif name == "max" and duration.millis > RECORD_MAX_SECS * 1000:
                yield Finding(
                    duration.span,
                    f"record max {duration.amount}{duration.unit} is over 4 hours",
                    label="Telnyx refuses this",
                    help="a recording is at most 4 hours (`max 240m`)",
                )


@rule("FL843", "queue-max-wait", Severity.WARNING, local=True)
def queue_max_wait(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Warns about a `queue` without `max_wait`, and one whose `max_wait` is zero or not whole
    seconds.

    ## Why is this bad?
    Without `max_wait` a caller nobody answers waits 30 minutes (flowlang's default) before
    the flow goes on; saying how long the wait may be, and what happens then, is part of the
    flow's design.

    ## Example
    ```
    queue "support"
    ```

    ## Use instead
    ```
    queue "support" max_wait 5m:
        on timeout: goto voicemail
    ```
    """
    for stmt in ctx.of_type(nodes.Queue):
        assert isinstance(stmt, nodes.Queue)
        if stmt.max_wait is None:
            yield Finding(
                stmt.span,
                "this queue has no `max_wait`: a caller nobody takes waits 30 minutes",
                label="how long may the caller wait?",
                help="add `max_wait 5m` (or the wait you want) and an `on timeout:` handler",
            )
        elif stmt.max_wait.millis == 0:
            yield Finding(
                stmt.max_wait.span,
                "max_wait 0 lets no caller wait: Telnyx would be asked for one second",
                label="no time at all",
                help="give the wait you want, like `max_wait 5m`, or send the caller on "
                "without queueing",
            )
        elif stmt.max_wait.millis % 1000:
            yield Finding(
                stmt.max_wait.span,
                "max_wait is not a whole number of seconds",
                label="Telnyx counts this in seconds",
                help="write it in whole seconds, like `300s` or `5m`",
            )


@rule("FL844", "answer-outbound", Severity.ERROR)
def answer_outbound(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds `answer` in a flow that calls out (`outbound from "NUMBER"`).

    ## Why is this bad?
    The flow of a call you place starts when the person called picks up: the call is already
    answered, and Telnyx refuses to answer it again, so the call would end in an error.

    ## Example
    ```
    outbound from "+13125550199"

    main:
        answer
        say "Hello, this is Acme."
    ```

    ## Use instead
    ```
    outbound from "+13125550199"

    main:
        say "Hello, this is Acme."
    ```
    """
    if not ctx.flow.outbound:
        return
    for stmt in ctx.of_type(nodes.Answer):
        yield Finding(
            stmt.span,
            "an outbound call is already answered when its flow starts",
            label="not needed",
            help="delete this `answer`: the flow starts when the person called picks up",
        )


@rule("FL845", "outbound-only", Severity.ERROR)
def outbound_only(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds `input` lines, `detect machine` and `wait for beep` in a flow that does not call out
    (it has no `outbound from "NUMBER"` line).

    ## Why is this bad?
    An incoming call has no values given to it and no answering-machine detection: the inputs
    would stay empty, and a detection would be waited for forever.

    ## Example
    ```
    input patient

    main:
        answer
        say "Hello {patient}."
    ```

    ## Use instead
    ```
    outbound from "+13125550199"
    input patient

    main:
        say "Hello {patient}."
    ```
    """
    if ctx.flow.outbound:
        return
    help = 'add `outbound from "+1..."` (the number you call from) at the top, or remove this'
    for name in ctx.flow.inputs:
        yield Finding(
            name.span,
            f"`input {name.value}` is only for a flow that calls out",
            label="no outbound call gives it a value",
            help=help,
        )
    for stmt in ctx.of_type(nodes.Detect, nodes.WaitBeep):
        what = STATEMENT_NAMES[type(stmt)]
        yield Finding(
            stmt.span,
            f"`{what}` is only for a flow that calls out",
            label="an incoming call has no machine detection",
            help=help,
        )
