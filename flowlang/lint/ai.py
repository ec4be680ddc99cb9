"""Rules about `ai_gather` and `assistant` (FL6xx, FL410): fields, reads, keys, the assistant id."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, rule
from flowlang.source import Span
from flowlang.syntax import nodes

FIELD_TYPES = ("string", "integer", "number", "boolean")
DTMF_KEYS = "0123456789*#"


def ai_gathers(ctx: Context) -> Iterator[nodes.AiGather]:
    for stmt in ctx.of_type(nodes.AiGather):
        assert isinstance(stmt, nodes.AiGather)
        yield stmt


@rule("FL601", "unknown-field-type", Severity.ERROR, local=True)
def unknown_field_type(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that every ai_gather `field` has one of the types `string`, `integer`, `number`
    or `boolean`.

    ## Why is this bad?
    The fields become a JSON Schema for the AI agent; an unknown type makes Telnyx reject it.

    ## Example
    ```
    field guests int "How many people are coming"
    ```

    ## Use instead
    ```
    field guests integer "How many people are coming"
    ```
    """
    for stmt in ai_gathers(ctx):
        for f in stmt.fields:
            kind = f.type.value
            if kind in FIELD_TYPES:
                continue
            close = difflib.get_close_matches(kind, FIELD_TYPES, n=1, cutoff=0.5)
            fix = f"did you mean `{close[0]}`?" if close else "use " + ", ".join(FIELD_TYPES)
            yield Finding(
                f.type.span or f.span,
                f"`{kind}` is not a field type",
                label="unknown type",
                help=fix,
            )


@rule("FL602", "duplicate-field", Severity.ERROR, local=True)
def duplicate_field(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that no two fields of one ai_gather have the same name.

    ## Why is this bad?
    The AI agent gets one answer per name, so one of the two descriptions is lost.

    ## Example
    ```
    field name string "The caller's first name"
    field name string "The caller's last name"
    ```

    ## Use instead
    ```
    field first_name string "The caller's first name"
    field last_name string "The caller's last name"
    ```
    """
    for stmt in ai_gathers(ctx):
        seen: dict[str, nodes.Field] = {}
        for f in stmt.fields:
            name = f.name.value
            if name in seen:
                first = seen[name].span
                where = f" (first on line {first.line})" if first is not None else ""
                yield Finding(
                    f.name.span or f.span,
                    f"field `{name}` is declared twice{where}",
                    label="duplicate",
                    help="give each field its own name",
                )
            else:
                seen[name] = f


@rule("FL603", "no-fields", Severity.ERROR, local=True)
def no_fields(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that an ai_gather declares at least one `field`.

    ## Why is this bad?
    The AI agent is asked to collect nothing: it has no way to know what to ask for, and
    the result is always empty.

    ## Example
    ```
    ai_gather into booking:
        greeting "Hi! I can book a table for you."
    ```

    ## Use instead
    ```
    ai_gather into booking:
        greeting "Hi! I can book a table for you."
        field name string "The caller's full name"
    ```
    """
    for stmt in ai_gathers(ctx):
        if not stmt.fields:
            span = stmt.span
            yield Finding(
                None if span is None else Span.point(span.line, span.column, len("ai_gather")),
                "this ai_gather has no `field` lines: there is nothing to collect",
                label="no fields",
                help='add a line like `field name string "The caller\'s full name"`',
            )


@rule("FL604", "undeclared-field", Severity.ERROR)
def undeclared_field(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that `{result.field}` (or `result.field` in a condition) names a field that the
    ai_gather filling `result` declares.

    ## Why is this bad?
    The AI agent only collects the declared fields, so any other name is always empty.

    ## Example
    ```
    ai_gather into booking:
        field name string "The caller's full name"
        on valid: say "Thanks {booking.nme}."
    ```

    ## Use instead
    ```
    ai_gather into booking:
        field name string "The caller's full name"
        on valid: say "Thanks {booking.name}."
    ```
    """
    fields: dict[str, set[str]] = {}
    for stmt in ai_gathers(ctx):
        if stmt.into is not None:
            fields.setdefault(stmt.into.value, set()).update(f.name.value for f in stmt.fields)
    other = {
        d
        for n in ctx.analysis.graph.nodes
        if not isinstance(n.node, nodes.AiGather)
        for d in n.defs
    }
    for n in ctx.analysis.graph.nodes:
        for r in n.reads:
            if len(r.path) < 2 or r.name not in fields or r.name in other:
                continue
            declared = fields[r.name]
            if r.path[1] in declared:
                continue
            close = difflib.get_close_matches(r.path[1], sorted(declared), n=1, cutoff=0.6)
            listed = ", ".join(f"`{f}`" for f in sorted(declared)) or "none"
            fix = f"did you mean `{r.name}.{close[0]}`?" if close else f"the fields are: {listed}"
            yield Finding(
                r.span,
                f"`{r.name}` has no field `{r.path[1]}`",
                label="not declared",
                help=fix,
            )


@rule("FL605", "invalid-key", Severity.ERROR, local=True)
def invalid_key(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that `on key "K":` in an ai_gather or assistant names exactly one phone key:
    `0` to `9`, `*` or `#`.

    ## Why is this bad?
    A caller can only press phone keys, one at a time: any other value never triggers.

    ## Example
    ```
    on key "operator":
        transfer "+13125550003"
    ```

    ## Use instead
    ```
    on key "0":
        transfer "+13125550003"
    ```
    """
    for stmt in ctx.of_type(nodes.AiGather, nodes.Assistant):
        assert isinstance(stmt, nodes.AiGather | nodes.Assistant)
        for on in stmt.handlers:
            if on.event != "key":
                continue
            if not on.values:
                yield Finding(
                    on.span,
                    "`on key` needs the key it waits for",
                    label="no key",
                    help='write the key, like `on key "0":`',
                )
            for v in on.values:
                text = v.text
                if len(text) == 1 and text in DTMF_KEYS and not v.interpolations:
                    continue
                yield Finding(
                    v.span or on.span,
                    f'"{text}" is not a single phone key',
                    label="never pressed",
                    help="use one of 0-9, * or #",
                )


@rule("FL410", "assistant-without-id", Severity.ERROR, local=True)
def assistant_without_id(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Checks that every `assistant` names the stored Telnyx AI assistant it starts, with
    `assistant id "..."`, and that a `message tool` line's tool call id is not empty.

    ## Why is this bad?
    Telnyx refuses to start an assistant without the id of one stored in your account, so the
    call would go wrong at that point. `instructions`, `greeting` and `voice` in the block only
    change the stored assistant for this call. The id is on the Telnyx portal's AI Assistants
    page, or in the answer of `GET /ai/assistants`.

    ## Example
    ```
    assistant:
        instructions "You are the Acme receptionist."
    ```

    ## Use instead
    ```
    assistant id "assistant-6f1e2b7c":
        instructions "You are the Acme receptionist."
    ```
    """
    for stmt in ctx.of_type(nodes.Assistant):
        assert isinstance(stmt, nodes.Assistant)
        if stmt.id is None:
            yield Finding(
                stmt.keyword_span,
                "`assistant` needs the id of a stored Telnyx AI assistant",
                label="no `id`",
                help=nodes.ASSISTANT_ID_HINT,
            )
        elif not stmt.id.text.strip():
            # Blank is empty too: Telnyx knows no assistant by the id " ".
            yield Finding(
                stmt.id.span,
                "`assistant id` is empty",
                label="no id in the quotes",
                help=nodes.ASSISTANT_ID_HINT,
            )
        for message in stmt.messages:
            if message.tool_call_id is not None and not message.tool_call_id.parts:
                yield Finding(
                    message.tool_call_id.span,
                    "the tool call id of `message tool` is empty",
                    label="no id in the quotes",
                    help="Telnyx requires the id of the tool call this message answers: "
                    '`message tool "call_123" "the result"`',
                )
