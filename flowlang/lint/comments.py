"""Rules about `# flowlang:` comments (FL111): an ignore comment must name a rule."""

from __future__ import annotations

from collections.abc import Iterator

from flowlang.diagnostics import Severity
from flowlang.lint.context import Context
from flowlang.lint.registry import Finding, all_rules, rule
from flowlang.lint.suppression import IGNORE_COMMENT
from flowlang.source import Span


@rule("FL111", "unknown-rule-code", Severity.WARNING)
def unknown_rule_code(ctx: Context) -> Iterator[Finding]:
    """## What it does
    Finds codes in `# flowlang: ignore[...]` comments that name no rule: a mistyped code, a
    rule that does not exist, or a syntax error code (syntax errors cannot be ignored). A code
    prefix such as `FL3` (every gather rule) is fine when some rule starts with it.

    ## Why is this bad?
    The comment silences nothing: the finding it was meant for is still reported, or the
    comment hides a mistake in the code that is only found when the rule's finding comes back.

    ## Example
    ```
    main:
        answer
        say "Hi"  # flowlang: ignore[FL999]
    ```

    ## Use instead
    ```
    main:
        answer
        say "Hi"  # flowlang: ignore[FL403]
    ```
    """
    codes = [r.code for r in all_rules()]
    for comment in ctx.flow.comments:
        match = IGNORE_COMMENT.search(comment.text)
        if match is None or comment.span is None:
            continue
        offset = match.start(1)
        for written in match.group(1).split(","):
            code = written.strip()
            at = offset + len(written) - len(written.lstrip())
            offset += len(written) + 1
            if not code or any(c.startswith(code.upper()) for c in codes):
                continue
            syntax = code.upper().startswith("FL0")
            yield Finding(
                Span.point(comment.span.line, comment.span.column + at, len(code)),
                f"`{code}` is not a rule flowlang can ignore",
                label="no such rule",
                help=(
                    "syntax errors cannot be ignored: fix the line instead"
                    if syntax
                    else "check the code with `flowlang rule CODE`; the rules are listed in "
                    "docs/rules/README.md"
                ),
            )
