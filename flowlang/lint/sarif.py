"""`flowlang check --format sarif`: a SARIF 2.1.0 log, with rule metadata for code scanning."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from flowlang import __version__
from flowlang.diagnostics import Diagnostic, Severity
from flowlang.lint.registry import FAMILIES, Rule, all_rules
from flowlang.lint.report import Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def _markdown(rule: Rule) -> str:
    return f"# {rule.code} {rule.name}\n\n{rule.doc}\n"


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.description},
        # No `helpUri`: it must be an absolute URI, and the rule pages have no public address;
        # `help` carries the whole page.
        "help": {"text": rule.doc, "markdown": _markdown(rule)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": [FAMILIES[rule.code[:3]]]},
    }


def syntax_descriptor(code: str) -> dict[str, Any]:
    text = "The file is not valid .flow syntax, so it cannot be checked further."
    return {
        "id": code,
        "name": "syntax-error",
        "shortDescription": {"text": text},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": text},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": [FAMILIES["FL0"]]},
    }


def _uri(path: str) -> str:
    return PurePath(path).as_posix()


def _result(d: Diagnostic, index: int) -> dict[str, Any]:
    message = d.message + (f"\nhelp: {d.help}" if d.help else "")
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(d.file)}}
    if d.span is not None:
        location["region"] = {
            "startLine": d.span.line,
            "startColumn": d.span.column,
            "endLine": d.span.end_line,
            "endColumn": d.span.end_column,
        }
    return {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": LEVELS[d.severity],
        "message": {"text": message},
        "locations": [{"physicalLocation": location}],
    }


def render(report: Report) -> str:
    descriptors = [rule_descriptor(r) for r in all_rules()]
    index = {r.code: i for i, r in enumerate(all_rules())}
    for d in report.diagnostics:
        if d.code not in index:
            index[d.code] = len(descriptors)
            descriptors.append(syntax_descriptor(d.code))
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "flowlang",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": descriptors,
                    }
                },
                "artifacts": [
                    {"location": {"uri": _uri(f.source.name)}, "mimeType": "text/plain"}
                    for f in report.files
                ],
                "results": [_result(d, index[d.code]) for d in report.diagnostics],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
