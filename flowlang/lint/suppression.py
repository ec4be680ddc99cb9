"""`# flowlang: ignore[FL101, FL102]` comments: drop the findings with those codes on that line."""

from __future__ import annotations

import re

from flowlang.syntax import nodes

IGNORE_COMMENT = re.compile(r"#\s*flowlang:\s*ignore\[([^\]]*)\]", re.IGNORECASE)


def suppressed_lines(comments: tuple[nodes.Comment, ...]) -> dict[int, frozenset[str]]:
    """Line number -> the codes (or code prefixes) its `# flowlang: ignore[...]` comment names."""
    out: dict[int, frozenset[str]] = {}
    for comment in comments:
        match = IGNORE_COMMENT.search(comment.text)
        if match is None or comment.span is None:
            continue
        codes = frozenset(c.strip().upper() for c in match.group(1).split(",") if c.strip())
        out[comment.span.line] = out.get(comment.span.line, frozenset()) | codes
    return out


def is_suppressed(code: str, line: int | None, table: dict[int, frozenset[str]]) -> bool:
    if line is None:
        return False
    return any(code.startswith(c) for c in table.get(line, ()))
