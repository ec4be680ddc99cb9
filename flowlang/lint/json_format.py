"""`flowlang check --format json`: a stable, versioned JSON document (schema in docs/check.md)."""

from __future__ import annotations

import json
from typing import Any

from flowlang.diagnostics import Diagnostic
from flowlang.lint.registry import find_rule
from flowlang.lint.report import Report

# Bumped only when a field changes meaning or disappears; new fields may appear in any version.
SCHEMA_VERSION = 1


def rule_name(code: str) -> str:
    """The kebab-case name of rule `code`; `syntax-error` for parser codes (FL0xx)."""
    found = find_rule(code)
    return found.name if found is not None else "syntax-error"


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    span = d.span
    return {
        "file": d.file,
        "code": d.code,
        "rule": rule_name(d.code),
        "severity": d.severity.value,
        "message": d.message,
        "label": d.label,
        "help": d.help,
        "notes": list(d.notes),
        "line": span.line if span else None,
        "column": span.column if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_column if span else None,
    }


def _place(d: Diagnostic) -> tuple[str, int, int]:
    """Sorted by file, then line, then column (as documented), whatever order the files were
    checked in: a file included by a flow is checked with it; a finding about a whole file
    comes first in it."""
    return (d.file, d.span.line if d.span else 0, d.span.column if d.span else 0)


def render(report: Report) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "tool": "flowlang",
        "summary": {
            "files": len(report.files),
            "files_with_findings": report.files_with_findings,
            "errors": report.errors,
            "warnings": report.warnings,
            "unreadable": report.unreadable,
        },
        "diagnostics": [diagnostic_json(d) for d in sorted(report.diagnostics, key=_place)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
