"""Rules about values written in strings (FL11x): empty texts, phone numbers and voice names."""

from __future__ import annotations

from collections.abc import Iterator

from flowlang.analysis import BUILTIN_VARIABLES
from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.numbers import number_problem
from flowlang.lint.registry import Finding, rule
from flowlang.syntax import nodes


def _blank(value: nodes.Str | None) -> bool:
    return value is not None and not value.interpolations and not value.text.strip()


def _texts(ctx: Context) -> Iterator[tuple[str, nodes.Str, str]]:
    """Every text that Telnyx speaks, plays or dials: (what it is, the string, how to fill it)."""
    for stmt in ctx.statements():
        if isinstance(stmt, nodes.Say):
            yield "`say`", stmt.text, 'write what to say, like `say "Welcome to Acme."`'
        elif isinstance(stmt, nodes.Play) and stmt.media:
            yield "`play media`", stmt.source, "name a media file uploaded to Telnyx"
        elif isinstance(stmt, nodes.Transfer):
            fix = 'write the number to call, like `transfer "+13125550101"`'
            yield "`transfer`", stmt.to, fix
            if stmt.from_ is not None:
                yield "`from`", stmt.from_, "write the number to show, or leave `from` out"
        elif isinstance(stmt, nodes.Gather):
            for p in stmt.prompt:
                if isinstance(p, nodes.Say):
                    yield "`say`", p.text, 'write the question, like `say "Press 1 for sales."`'
            for r in stmt.reprompts:
                yield "`reprompt`", r.text, "write what to say before asking again"
        elif isinstance(stmt, nodes.AiGather) and stmt.greeting is not None:
            yield "`greeting`", stmt.greeting, "write the agent's first words, or leave it out"
        elif isinstance(stmt, nodes.Assistant):
            if stmt.instructions is not None:
                yield "`instructions`", stmt.instructions, "tell the assistant what to do"
            if stmt.greeting is not None:
                yield "`greeting`", stmt.greeting, "write the first words, or leave it out"
            for m in stmt.messages:
                yield "`message`", m.text, "write the message, or remove the line"


@rule("FL110", "empty-text", Severity.ERROR, local=True)
def empty_text(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds texts that are empty or only spaces where Telnyx needs something: what a `say` (or a
    gather's prompt, or a `reprompt`) speaks, a `play media` name, a `transfer` number and its
    `from`, an ai_gather's or assistant's `greeting`, `instructions` and `message` lines.

    ## Why is this bad?
    Telnyx refuses a command with an empty text or number, so the call stops there; an empty
    `say` or `greeting` would at best be a silence the caller does not understand.

    ## Example
    ```
    main:
        answer
        say ""
        transfer ""
    ```

    ## Use instead
    ```
    main:
        answer
        say "Connecting you to sales."
        transfer "+13125550101"
    ```
    """
    for what, value, fix in _texts(ctx):
        if _blank(value):
            yield Finding(
                value.span,
                f"this {what} is empty",
                label="empty",
                help=fix,
            )


def _numbers(ctx: Context) -> Iterator[tuple[str, nodes.Str]]:
    for setting in ctx.flow.settings:
        if setting.name in ("sms_from", "outbound"):
            yield ("`outbound from`" if setting.name == "outbound" else "`sms_from`"), setting.value
    for stmt in ctx.of_type(nodes.Transfer, nodes.Sms):
        assert isinstance(stmt, nodes.Transfer | nodes.Sms)
        yield ("`transfer`" if isinstance(stmt, nodes.Transfer) else "`sms`"), stmt.to
        if stmt.from_ is not None:
            yield "`from`", stmt.from_


@rule("FL112", "phone-number", Severity.ERROR)
def phone_number(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks every phone number written in a flow (`transfer "..."`, `sms "..."`, their
    `from "..."`, and the `sms_from` and `outbound from` settings): it must be in
    international E.164 form (`+`, the country code, the number, no spaces) or a SIP address
    (`sip:user@example.com`). A number that is one variable (`"{agent}"`) is checked through
    the `set` lines that give it its values, when all of them are written in the flow; numbers
    known only on the call, like `"{caller}"` or a gather's entry, are not checked.

    ## Why is this bad?
    Telnyx dials only these forms. `"312-555-0101"` looks fine to a person, passes every
    test, and fails on the first real call.

    ## Example
    ```
    main:
        answer
        transfer "312-555-0101"
    ```

    ## Use instead
    ```
    main:
        answer
        transfer "+13125550101"
    ```
    """
    reported: set[int] = set()
    for what, value in _numbers(ctx):
        if _blank(value):
            continue
        if value.interpolations:
            # `transfer "{agent}"` with every `agent` written in the flow: check those.
            for name, text in _written_values(ctx, value):
                found = number_problem(text.text)
                if found is None or id(text) in reported:
                    continue
                reported.add(id(text))
                used = f" at line {value.span.line}" if value.span is not None else ""
                yield Finding(
                    text.span,
                    f'`{name}` is the number of {what}{used}, and "{text.text}" {found.problem}',
                    label="Telnyx cannot dial this",
                    help=found.fix,
                )
            continue
        found = number_problem(value.text)
        if found is not None:
            yield Finding(
                value.span,
                f'{what} number "{value.text}" {found.problem}',
                label="Telnyx cannot dial this",
                help=found.fix,
            )


def _written_values(ctx: Context, value: nodes.Str) -> list[tuple[str, nodes.Str]]:
    """For a number written as one variable (`"{agent}"`), the texts `set` gives it: none
    unless every value it can hold is written in the flow (not a gather's, a fetch's, an
    input's or another variable's)."""
    (part,) = value.parts if len(value.parts) == 1 else (None,)
    if not isinstance(part, nodes.Interp) or len(part.path) != 1 or part.format is not None:
        return []
    name = part.path[0]
    if name in BUILTIN_VARIABLES:
        return []
    written: list[tuple[str, nodes.Str]] = []
    # Every place the analysis knows to assign it (a `call`'s summary only repeats the `set`
    # lines of the step it runs).
    for n in ctx.analysis.graph.nodes:
        if name not in n.defs or n.kind == "returned":
            continue
        given = n.node.value if isinstance(n.node, nodes.Set) else None
        if not isinstance(given, nodes.Str) or given.interpolations:
            return []  # known only on the call: a gather's, a fetch's, an input's...
        written.append((name, given))
    return written


# The voice providers Telnyx documents, each with the number of dot-separated parts its names
# may have (the provider alone picks its default voice).
PROVIDERS = {
    "Telnyx": (1, 3),
    "AWS": (1, 3),
    "Azure": (1, 2),
    "ElevenLabs": (1, 2, 3),
}
_FORMS = {
    "Telnyx": "`Telnyx.<model>.<voice>`, like `Telnyx.KokoroTTS.af`",
    "AWS": "`AWS.Polly.<voice>`, like `AWS.Polly.Joanna-Neural`",
    "Azure": "`Azure.<voice>`, like `Azure.en-US-AvaNeural`",
    "ElevenLabs": "`ElevenLabs.<model>.<voice>` or `ElevenLabs.<voice>`",
}
_EXAMPLES = "like `Telnyx.KokoroTTS.af`, `AWS.Polly.Joanna-Neural` or `Azure.en-US-AvaNeural`"


def voice_problem(name: str) -> tuple[str, str] | None:
    """None when `name` has the form Telnyx documents for voices; else (problem, fix)."""
    parts = name.split(".")
    if any(not p or p != p.strip() or " " in p for p in parts):
        return "has empty parts or spaces", f"write `Provider.Model.Voice`, {_EXAMPLES}"
    if name.lower() in ("male", "female"):
        return (
            "only works with Telnyx's basic service level, which flowlang does not use",
            f"name a voice, {_EXAMPLES}",
        )
    provider = parts[0]
    proper = next((p for p in PROVIDERS if p.lower() == provider.lower()), None)
    if proper is not None and proper != provider:
        fixed = ".".join([proper, *parts[1:]])
        return f"writes the provider `{provider}` with the wrong capitals", f"write `{fixed}`"
    if proper is None:
        if len(parts) == 3:
            return None  # a provider Telnyx added after these notes: the shape is right
        if provider == "Polly":
            return "is missing its provider", f"write `AWS.{name}`"
        return "is not of the form `Provider.Model.Voice`", f"name a voice {_EXAMPLES}"
    if len(parts) not in PROVIDERS[proper]:
        return f"is not a {proper} voice name", f"{proper} voices are written {_FORMS[proper]}"
    if proper == "AWS" and len(parts) == 3 and parts[1] != "Polly":
        return "is not an AWS voice name", f"AWS voices are written {_FORMS['AWS']}"
    return None


def _voices(ctx: Context) -> Iterator[nodes.Str]:
    setting = ctx.flow.setting("voice")
    if setting is not None:
        yield setting
    for stmt in ctx.statements():
        if isinstance(stmt, nodes.Say | nodes.Gather | nodes.AiGather | nodes.Assistant):
            if stmt.voice is not None:
                yield stmt.voice
        if isinstance(stmt, nodes.Gather):
            for p in stmt.prompt:
                if isinstance(p, nodes.Say) and p.voice is not None:
                    yield p.voice


@rule("FL113", "voice-name", Severity.ERROR)
def voice_name(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that every `voice "..."` has the form Telnyx uses: `Provider.Model.Voice`
    (`Telnyx.KokoroTTS.af`, `AWS.Polly.Joanna-Neural`), or the short forms Telnyx documents
    (`Azure.en-US-AvaNeural`, `ElevenLabs.<voice>`, or a provider alone for its default
    voice). The old `male` and `female` only work with a service level flowlang does not use.

    ## Why is this bad?
    Telnyx refuses to speak with a voice it cannot read, and the call goes silent at the first
    `say`. Simulations and tests cannot notice: only a real call does.

    ## Example
    ```
    voice "Joanna"
    ```

    ## Use instead
    ```
    voice "AWS.Polly.Joanna-Neural"
    ```
    """
    for value in _voices(ctx):
        if value.interpolations or _blank(value):
            continue
        found = voice_problem(value.text)
        if found is not None:
            problem, fix = found
            yield Finding(
                value.span,
                f'voice "{value.text}" {problem}',
                label="not a Telnyx voice",
                help=fix,
            )
